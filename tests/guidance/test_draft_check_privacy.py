"""Nothing of a checked draft is kept: not in any table, the database file, a log line or a metric.

Drafts carrying distinctive text go through every entry point - the API, the dashboard page,
the Slack command, modal and shortcut, and a check that fails in the pipeline - with the
default pipeline (rules and classifier) and every logger at DEBUG. Then the text is looked
for everywhere something could have been written.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from prometheus_client import generate_latest
from sqlalchemy import inspect, select, text

from monitor.config import settings_from_dict
from monitor.guidance.draft_check import DraftChecker, checker_for
from monitor.metrics import REGISTRY
from monitor.slack.app import http_api
from monitor.slack.client import web_client
from monitor.store import Store
from monitor.store.api_tokens import add_token
from monitor.store.schema import AuditEventRow, DraftCheckCountRow
from monitor.web import create_app
from tests.check_support import AWS_KEY, exploding_pipeline, serving
from tests.fakes.slack_api import FakeSlackServer
from tests.slack.conftest import SIGNING_SECRET, signed
from tests.web_support import build_world, csrf_of

CANARY = "zqcanary8c41e7"
PHONE = "+1 415 555 0173"
DRAFTS = [
    f"{CANARY} new key {AWS_KEY} for the staging box",
    f"{CANARY}-two call Jane Roe on {PHONE} tonight, you absolute idiot",
    f"{CANARY}-three lovely weather for a walk",
]
NEEDLES = [CANARY, AWS_KEY, PHONE, "Jane Roe", "absolute idiot", "staging box"]


def _slack(base: str, fields: dict[str, str]) -> httpx.Response:
    body = urlencode(fields)
    return httpx.post(f"{base}/slack/events", content=body, timeout=60,
                      headers=signed(body, "application/x-www-form-urlencoded"))


def _all_rows(store: Store) -> str:
    """Every value of every row of every table, as text."""
    out = []
    with store.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                out.append(f"{table}: " + " | ".join(str(v) for v in row))
    return "\n".join(out)


def _db_bytes(db: Path) -> bytes:
    """The database file and its WAL, raw: free pages keep deleted text too."""
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


@pytest.mark.slow
def test_checked_drafts_leave_no_trace_but_the_weekly_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    db = tmp_path / "sg.db"
    settings = settings_from_dict({"store": {"url": f"sqlite:///{db}"},
                                  "slack": {"enabled": True, "mode": "http",
                                            "bot_token_env": "SG_TEST_BOT_TOKEN",
                                            "signing_secret_env": "SG_TEST_SIGNING"}})
    monkeypatch.setenv("SG_TEST_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.setenv("SG_TEST_SIGNING", SIGNING_SECRET)
    store = Store(settings.store.url)
    build_world(store)
    with store.session() as s:
        _, token = add_token(s, "publisher")
        audit_before = len(s.scalars(select(AuditEventRow)).all())
    checker_for(settings).pipeline()  # the default pipeline: rules and classifier
    caplog.set_level(logging.DEBUG)
    # Every logger at DEBUG, SQL statements with their parameters too - except the two that
    # monitor.slack.client pins at INFO on purpose, because their DEBUG lines quote bodies.
    for name in ("monitor", "uvicorn", "uvicorn.error", "uvicorn.access", "fastapi",
                 "sqlalchemy.engine"):
        caplog.set_level(logging.DEBUG, logger=name)

    answered: list[Any] = []
    with serving(create_app(settings, store), log_level="debug") as web:
        for draft in DRAFTS:  # the API
            r = httpx.post(f"{web}/api/v1/check", json={"text": draft, "platform": "x"},
                           headers={"Authorization": f"Bearer {token}"}, timeout=60)
            assert r.status_code == 200, r.text
            answered.append(r.json())
        with httpx.Client(base_url=web, timeout=60) as browser:  # the page, signed in
            tok = csrf_of(browser, "/login")
            browser.post("/login", data={"username": "eve", "password": "correct horse battery",
                                         "csrf_token": tok, "next": "/check"})
            for draft in DRAFTS:
                page = browser.post("/check", data={"text": draft,
                                                    "csrf_token": csrf_of(browser, "/check")})
                assert page.status_code == 200
                assert "second look" in page.text or "Nothing in the policy" in page.text

    with FakeSlackServer() as fake:  # Slack: command, modal, shortcut
        settings.slack.base_url = fake.base_url
        from monitor.slack.app import SocialGuideApp

        sg = SocialGuideApp(settings, store, web_client(settings), SIGNING_SECRET)
        with serving(http_api(sg), log_level="debug") as slack:
            for draft in DRAFTS:
                r = _slack(slack, {"command": "/socialguide", "text": f"check {draft}",
                                   "user_id": "UEVE", "team_id": "T1", "channel_id": "DUEVE",
                                   "trigger_id": "t1", "response_url": "", "api_app_id": "A1"})
                assert r.status_code == 200
                r = _slack(slack, {"payload": json.dumps({
                    "type": "view_submission", "user": {"id": "UEVE"}, "team": {"id": "T1"},
                    "api_app_id": "A1", "trigger_id": "t2", "view": {
                        "id": "V1", "type": "modal", "callback_id": "sg_check", "state": {
                            "values": {"sg_check_text": {"draft": {"value": draft}}}}}})})
                assert r.status_code == 200 and "update" in r.text
                r = _slack(slack, {"payload": json.dumps({
                    "type": "message_action", "callback_id": "sg_check_message",
                    "trigger_id": "t3", "user": {"id": "UEVE"}, "team": {"id": "T1"},
                    "api_app_id": "A1", "channel": {"id": "DUEVE"}, "response_url": "",
                    "message": {"user": "UEVE", "ts": "1.2", "text": draft}})})
                assert r.status_code == 200
            deadline = time.monotonic() + 30
            while len(fake.fake.calls_to("views.open")) < len(DRAFTS):
                assert time.monotonic() < deadline, "the shortcut never answered"
                time.sleep(0.05)

    broken = DraftChecker(settings, exploding_pipeline)  # and a check that fails
    with serving(create_app(settings, store, checker=broken), log_level="debug") as web:
        r = httpx.post(f"{web}/api/v1/check", json={"text": DRAFTS[0]},
                       headers={"Authorization": f"Bearer {token}"}, timeout=60)
        assert r.status_code == 500

    # The answers did reach the person who asked...
    assert answered[0]["findings"][0]["category"] == "credentials"
    assert any(f["category"] == "pii" for f in answered[1]["findings"])
    assert answered[2]["flagged"] is False
    # ...and nothing else did.
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    rows = _all_rows(store)
    raw = _db_bytes(db)
    metrics = generate_latest(REGISTRY).decode()
    assert caplog.records, "the logs were not captured"
    for needle in NEEDLES:
        assert needle not in rows, f"{needle!r} is in a table"
        assert needle.encode() not in raw, f"{needle!r} is in the database file"
        assert needle not in logged, f"{needle!r} is in a log line"
        assert needle not in metrics, f"{needle!r} is in the metrics"
    # What is kept: the weekly counters (categories, no person) and no audit entries.
    with store.session() as s:
        counts = {c.category: c.drafts for c in s.scalars(select(DraftCheckCountRow))}
        assert len(s.scalars(select(AuditEventRow)).all()) == audit_before + 1  # the sign-in
    assert counts["*"] == 5 * len(DRAFTS)
    assert counts["credentials"] == 5 and counts["pii"] == 5
    labels = {line.split('category="')[1].split('"')[0] for line in metrics.splitlines()
              if line.startswith("socialguide_draft_checks_total{")}
    assert labels and labels <= {"none", "credentials", "pii", "offensive", "hate",
                                 "confidential", "financial", "disparagement", "company_voice"}
    store.dispose()
