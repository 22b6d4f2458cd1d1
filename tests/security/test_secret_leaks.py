"""A leaked secret is contained, not spread: planted credentials go through a whole cycle
(collection, flag log, Slack nudges to author, manager and security channel, weekly digest,
dashboard pages, exports, logs) and appear in clear nowhere; compliance alone can reveal one,
with a reason, audited.
"""

from __future__ import annotations

import base64
import json
import logging
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.collectors.replay import ReplayCollector
from monitor.config import Settings, settings_from_dict
from monitor.guidance.digest import send_digests
from monitor.guidance.outbox import deliver_due
from monitor.jobs.cycle import run_cycle
from monitor.pipeline.factory import build_pipeline
from monitor.slack.client import web_client
from monitor.slack.notifier import SlackNotifier
from monitor.store import Store, repo
from monitor.store.schema import AuditEventRow, FindingRow, FlagRow, PersonRow
from tests import factories as fx
from tests.fakes.slack_api import FakeSlackServer
from tests.slack.conftest import MONDAY_10
from tests.web_support import client, csrf_of, sign_in

HANDLE = "alice.bsky.social"
PRIVATE_KEY_BODY = ("MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVT"
                    "LwZ9yK4tHs7QpNc2WvE8bX3mRf")
# (post text, the parts of it that must never be seen in clear again)
PLANTED: list[tuple[str, list[str]]] = [
    ("oops, pushed AKIAQ3EGRT5KW7JXN2PB to the public repo", ["Q3EGRT5KW7JX"]),
    ("use 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 for the deploy job",
     ["pm08hsE8JNpjJOQGa2rb19FlY01x"]),
    ("alerts go to https://hooks.slack.com/services/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",
     ["kX9vR2mTq7LpZ4wN8sYb", "B05RZ8NPQ/kX9v"]),
    ("the wifi password is Kettle-Moon-4471 for the offsite", ["Kettle-Moon-4471"]),
    ("DATABASE_URL=postgres://billing:Vx9q2LmR7tKz@db.prod.northwind-corp.net:5432/billing",
     ["Vx9q2LmR7tKz"]),
    ("decode me: " + base64.b64encode(b"STRIPE_SECRET=sk_live_51Hq8ZrX2kW7mLp4Hs8BnQ9").decode(),
     ["sk_live_51Hq8ZrX2kW7mLp4Hs8BnQ9", "51Hq8ZrX2kW7mLp4Hs8BnQ9",
      base64.b64encode(b"STRIPE_SECRET=sk_live_51Hq8ZrX2kW7mLp4Hs8BnQ9").decode()[4:-4]]),
    ("here: -----BEGIN RSA PRIVATE KEY-----\n" + PRIVATE_KEY_BODY, [PRIVATE_KEY_BODY[4:-4]]),
    ("read it out: AKIAUJZD E8GXD6NC F10E", ["E8GXD6NC", "UJZDE8GX"]),
]
NEEDLES = [n for _, ns in PLANTED for n in ns]


@pytest.fixture
def fake_slack():
    with FakeSlackServer() as server:
        server.fake.add_user("UALICE", "alice@example.com")
        server.fake.add_user("UMARA", "mara@example.com")
        yield server


def _settings(db_url: str, slack: FakeSlackServer, *, mask: bool = True) -> Settings:
    return settings_from_dict({
        "store": {"url": db_url, "mask_credentials": mask},
        "model": {"enabled": False},
        "slack": {"enabled": True, "base_url": slack.base_url, "mode": "http",
                  "bot_token_env": "SG_TEST_BOT_TOKEN", "signing_secret_env": "SG_TEST_SIGNING",
                  "compliance_channel": "CCOMPLIANCE", "security_channel": "CSECURITY",
                  "timeout_seconds": 1.0, "rate_limit_max_wait_seconds": 2.0},
        "guidance": {"grace_hours": 1, "weekly_budget": 50,
                     "raw_text_in_digests": ["credentials"]},
    }, source="test")


def _cycle(tmp_path: Path, store: Store, settings: Settings) -> None:
    """People, a consented account, the planted posts, one cycle and every delivery."""
    with store.session() as s:
        mara = fx.person(s, "mara@example.com", team="Platform", name="Mara Manager")
        alice = fx.person(s, "alice@example.com", manager=mara, team="Platform",
                          name="Alice Author")
        repo.add_account_with_consent(s, alice, "bluesky", HANDLE, "2026.1", "0" * 64,
                                      "test", "test")
        fx.user(s, "cora", "compliance")
        fx.user(s, "mia", "manager", mara)
    path = tmp_path / "posts.jsonl"
    path.write_text("".join(
        json.dumps({"id": f"p{i}", "platform": "bluesky", "account": HANDLE, "text": text,
                    "created_at": MONDAY_10.isoformat()}) + "\n"
        for i, (text, _) in enumerate(PLANTED)), encoding="utf-8")
    run_cycle(store, settings, build_pipeline(settings), {"bluesky": ReplayCollector(path)},
              now=MONDAY_10)
    notifier = SlackNotifier(web_client(settings), settings)
    deliver_due(store, notifier, settings, MONDAY_10)
    later = MONDAY_10 + timedelta(hours=3)
    deliver_due(store, notifier, settings, later)
    send_digests(store, settings, later, force=True)
    deliver_due(store, notifier, settings, later + timedelta(minutes=1))


def _pages(settings: Settings, store: Store) -> tuple[list[str], list[int]]:
    c = sign_in(client(settings, store), "cora")
    with store.session() as s:
        ids = list(s.scalars(select(FlagRow.id).order_by(FlagRow.id)))
    pages = [c.get("/flags").text, c.get("/reports").text]
    pages += [c.get(f"/flags/{i}").text for i in ids]
    for fmt in ("csv", "json"):
        r = c.get(f"/export/flags.{fmt}")
        assert r.status_code == 200
        pages.append(r.text)
    return pages, ids


def _database(db_url: str) -> str:
    conn = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


def _leaks(haystacks: dict[str, str]) -> list[tuple[str, str]]:
    return [(where, n) for where, text in haystacks.items() for n in NEEDLES if n in text]


def test_planted_secrets_appear_in_no_message_page_export_log_or_stored_text(
    tmp_path: Path, tmp_db_url: str, fake_slack: FakeSlackServer,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("SG_TEST_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.setenv("SG_TEST_SIGNING", "test-signing-secret")
    monkeypatch.setenv("SOCIALGUIDE_SECRET_KEY", "a-long-random-sealing-key-for-the-test")
    caplog.set_level(logging.DEBUG)
    settings = _settings(tmp_db_url, fake_slack)
    store = Store(settings.store.url)
    _cycle(tmp_path, store, settings)

    with store.session() as s:
        flagged = s.scalars(select(FlagRow)).all()
        assert len(flagged) == len(PLANTED)
        assert all("credentials" in (f.categories or []) for f in flagged)
        findings = s.scalars(select(FindingRow).where(FindingRow.category == "credentials")).all()
        assert all(f.masked and f.fingerprint and f.sealed for f in findings)
    calls = fake_slack.fake.calls
    roles = {c.params.get("channel") for c in calls if c.method == "chat.postMessage"}
    assert {"DUALICE", "DUMARA", "CSECURITY"} <= roles, roles  # author, manager, security, digest
    assert "AKIA…N2PB" in json.dumps([c.params for c in calls], ensure_ascii=False)

    pages, ids = _pages(settings, store)
    haystacks = {
        "slack": json.dumps([c.params for c in calls], ensure_ascii=False),
        "pages": "\n".join(pages),
        "logs": caplog.text,
        "database": _database(tmp_db_url),
    }
    assert _leaks(haystacks) == []
    assert "AKIA" in haystacks["pages"] and "•" in haystacks["pages"]

    # Compliance reveals one credential, with a reason; the reveal is audited, a manager cannot.
    cora = sign_in(client(settings, store), "cora")
    first = ids[0]
    token = csrf_of(cora, f"/flags/{first}")
    shown = cora.post(f"/flags/{first}/reveal-secret",
                      data={"reason": "rotating the key with IT", "csrf_token": token})
    assert shown.status_code == 200 and "AKIAQ3EGRT5KW7JXN2PB" in shown.text
    too_short = cora.post(f"/flags/{first}/reveal-secret", data={"reason": "x", "csrf_token": token})
    assert too_short.status_code == 400 and "AKIAQ3EGRT5KW7JXN2PB" not in too_short.text
    mia = sign_in(client(settings, store), "mia")
    refused = mia.post(f"/flags/{first}/reveal-secret",
                       data={"reason": "just curious", "csrf_token": csrf_of(mia, "/flags")})
    assert refused.status_code == 404 and "AKIAQ3EGRT5KW7JXN2PB" not in refused.text
    with store.session() as s:
        events = s.scalars(select(AuditEventRow).where(
            AuditEventRow.action == "flag.reveal_secret")).all()
        assert [e.details["reason"] for e in events] == ["rotating the key with IT"]
        assert s.get(PersonRow, 1) is not None
    # Still nowhere in clear at rest after the reveal (the audit names findings, not values).
    assert _leaks({"database": _database(tmp_db_url)}) == []
    store.dispose()


def test_clear_at_rest_when_configured_but_still_masked_on_pages_and_messages(
    tmp_path: Path, tmp_db_url: str, fake_slack: FakeSlackServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SG_TEST_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.setenv("SG_TEST_SIGNING", "test-signing-secret")
    monkeypatch.delenv("SOCIALGUIDE_SECRET_KEY", raising=False)
    settings = _settings(tmp_db_url, fake_slack, mask=False)
    store = Store(settings.store.url)
    _cycle(tmp_path, store, settings)
    pages, ids = _pages(settings, store)
    assert _leaks({"slack": json.dumps([c.params for c in fake_slack.fake.calls]),
                   "pages": "\n".join(pages)}) == []
    # The post text is kept in clear (the switch), so compliance's reveal reads it from there.
    assert "Q3EGRT5KW7JX" in _database(tmp_db_url)
    cora = sign_in(client(settings, store), "cora")
    token = csrf_of(cora, f"/flags/{ids[0]}")
    shown = cora.post(f"/flags/{ids[0]}/reveal-secret",
                      data={"reason": "rotating the key with IT", "csrf_token": token})
    assert "AKIAQ3EGRT5KW7JXN2PB" in shown.text
    store.dispose()


def test_an_edit_that_keeps_the_same_key_is_not_a_second_nudge(
    tmp_path: Path, tmp_db_url: str, fake_slack: FakeSlackServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """'Already told' compares the credentials' keyed fingerprints, not their text."""
    from monitor.store.schema import NudgeRow

    monkeypatch.setenv("SG_TEST_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.setenv("SG_TEST_SIGNING", "test-signing-secret")
    settings = _settings(tmp_db_url, fake_slack)
    store = Store(settings.store.url)
    with store.session() as s:
        alice = fx.person(s, "alice@example.com", team="Platform", name="Alice Author")
        repo.add_account_with_consent(s, alice, "bluesky", HANDLE, "2026.1", "0" * 64,
                                      "test", "test")
    path = tmp_path / "posts.jsonl"
    versions = ["deploy key AKIAQ3EGRT5KW7JXN2PB oops",
                "deploy key AKIAQ3EGRT5KW7JXN2PB oops (edited: typo)",
                "deploy key AKIAZ7HD2LQ4MX9CVB3N now, rotated the old one"]
    pipeline = build_pipeline(settings)
    told = []
    for text in versions:
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"id": "p1", "platform": "bluesky", "account": HANDLE,
                                 "text": text}) + "\n")
        run_cycle(store, settings, pipeline, {"bluesky": ReplayCollector(path)}, now=MONDAY_10)
        deliver_due(store, SlackNotifier(web_client(settings), settings), settings, MONDAY_10)
        with store.session() as s:
            told.append(len(s.scalars(select(NudgeRow).where(NudgeRow.role == "author")).all()))
    assert told == [1, 1, 2]
    store.dispose()
