"""The dashboard's Check a draft page: signed-in users only, CSRF, the same answer as the API."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from monitor.config import Settings
from monitor.guidance.draft_check import DraftChecker
from monitor.store import Store
from monitor.store.schema import AuditEventRow, DraftCheckCountRow
from tests.check_support import AWS_KEY, check_settings, exploding_pipeline
from tests.web_support import build_world, client, csrf_of, sign_in


@pytest.fixture
def env(tmp_db_url: str) -> Iterator[tuple[Settings, Store]]:
    settings = check_settings(tmp_db_url, check={"max_chars": 500})
    store = Store(settings.store.url)
    build_world(store)
    yield settings, store
    store.dispose()


def _post(c: TestClient, text: str, **extra: str) -> object:
    return c.post("/check", data={"text": text, "csrf_token": csrf_of(c, "/check"), **extra})


def test_anonymous_visitors_go_to_sign_in(env: tuple[Settings, Store]) -> None:
    c = client(*env)
    r = c.get("/check")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fcheck"


@pytest.mark.parametrize("user", ["eve", "mia", "cora", "audrey"])
def test_every_role_can_check_and_sees_the_same_answer_as_the_api(
    env: tuple[Settings, Store], user: str,
) -> None:
    c = sign_in(client(*env), user)
    page = c.get("/check")
    assert page.status_code == 200 and 'href="/check"' in page.text
    assert "keeps nothing of this draft" in page.text
    r = _post(c, f"my key {AWS_KEY}\r\nand call Jane on +1 415 555 0100", platform="bluesky")
    assert r.status_code == 200
    assert "2 things worth a second look before you post." in r.text
    assert "what looks like a password, key or token" in r.text
    assert "SMP §4.2 Credentials" in r.text and "SMP §4.3 Personal data of others" in r.text
    assert "<mark>AKIA…F10E</mark>" in r.text  # the advice's excerpt, masked
    assert "Take the key out" in r.text and "[key removed]" in r.text
    # Only the author's own textarea holds the key; the highlighted copy is masked.
    marked = re.search(r'<blockquote class="post" id="draft-marked">(.*?)</blockquote>',
                       r.text, re.S)
    assert marked and AWS_KEY not in marked.group(1) and "AKIA" in marked.group(1)
    assert re.search(r'<option value="bluesky" selected>', r.text)


def test_the_form_needs_its_csrf_token(env: tuple[Settings, Store]) -> None:
    c = sign_in(client(*env), "eve")
    r = c.post("/check", data={"text": "hello"})
    assert r.status_code == 403 and "security token" in r.text


def test_empty_and_oversize_drafts_say_what_is_wrong(env: tuple[Settings, Store]) -> None:
    c = sign_in(client(*env), "eve")
    r = _post(c, "   ")
    assert r.status_code == 400 and "The draft is empty" in r.text
    r = _post(c, "x" * 501)
    assert r.status_code == 400 and "501 characters long; the limit is 500" in r.text
    assert "x" * 501 in r.text  # handed back to edit, not lost
    r = _post(c, "a clean and friendly draft")
    assert r.status_code == 200 and "Nothing in the policy stands against this draft." in r.text


def test_checking_writes_no_audit_entry_only_the_counter(env: tuple[Settings, Store]) -> None:
    settings, store = env
    c = sign_in(client(settings, store), "eve")
    with store.session() as s:
        before = s.scalar(select(func.count()).select_from(AuditEventRow))
    assert _post(c, f"key {AWS_KEY}").status_code == 200
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEventRow)) == before
        assert {(r.category, r.drafts) for r in s.scalars(select(DraftCheckCountRow))} == {
            ("*", 1), ("credentials", 1)}


def test_a_failing_check_shows_a_reference(env: tuple[Settings, Store]) -> None:
    settings, store = env
    broken = DraftChecker(settings, exploding_pipeline)
    c = sign_in(client(settings, store, checker=broken), "eve")
    r = _post(c, "walrus-teapot-0042")
    assert r.status_code == 500 and "The check failed (reference " in r.text


def test_a_huge_form_is_refused_before_it_is_parsed(env: tuple[Settings, Store]) -> None:
    c = sign_in(client(*env), "eve")
    r = _post(c, "y" * 20_000)  # 20,000 bytes: over 500 * 9 + 8,192
    assert r.status_code == 400 and "too long; the limit is 500 characters" in r.text
    assert "y" * 20_000 not in r.text


def test_the_reports_page_shows_drafts_checked(env: tuple[Settings, Store]) -> None:
    settings, store = env
    eve = sign_in(client(settings, store), "eve")
    assert _post(eve, f"key {AWS_KEY}").status_code == 200
    assert _post(eve, "a friendly hello").status_code == 200
    cora = sign_in(client(settings, store), "cora")
    r = cora.get("/reports")
    assert r.status_code == 200
    assert re.search(r'id="drafts-checked">2 drafts checked in this window', r.text)
    assert re.search(r"<td>2</td><td>credentials 1</td>", r.text)
    assert "is not known" in r.text
