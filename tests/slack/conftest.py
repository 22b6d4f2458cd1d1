"""Fixtures for the Slack tests: a fake Slack Web API, a small org chart, and flags."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt import BoltRequest, BoltResponse
from slack_sdk.signature import SignatureVerifier

from monitor.config import Settings, settings_from_dict
from monitor.domain import Finding, Flag, Post
from monitor.guidance.planner import plan_nudges
from monitor.slack.app import SocialGuideApp
from monitor.slack.client import web_client
from monitor.slack.notifier import SlackNotifier
from monitor.store import Store, audit, repo
from monitor.store.schema import AccountRow, PersonRow
from tests.fakes.slack_api import FakeSlack, FakeSlackServer

SIGNING_SECRET = "test-signing-secret"
# 10:00 UTC on a Monday: outside the default quiet hours (19:00-08:00) in UTC.
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def slack_server() -> Iterator[FakeSlackServer]:
    """The fake Slack Web API, started once for the session."""
    with FakeSlackServer() as server:
        yield server


@pytest.fixture
def fake_slack(slack_server: FakeSlackServer) -> FakeSlackServer:
    """The fake Slack with an empty workspace of four users (nothing kept from other tests)."""
    slack_server.reset()
    slack_server.fake.add_user("UALICE", "alice@example.com")
    slack_server.fake.add_user("UBOB", "bob@example.com")
    slack_server.fake.add_user("UMARA", "mara@example.com")
    slack_server.fake.add_user("UOTHER", "otto@example.com")
    return slack_server


@pytest.fixture
def slack_settings(tmp_db_url: str, fake_slack: FakeSlackServer,
                   monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("SG_TEST_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.setenv("SG_TEST_SIGNING", SIGNING_SECRET)
    return settings_from_dict({
        "store": {"url": tmp_db_url},
        "slack": {"enabled": True, "base_url": fake_slack.base_url, "mode": "http",
                  "bot_token_env": "SG_TEST_BOT_TOKEN", "signing_secret_env": "SG_TEST_SIGNING",
                  "compliance_channel": "CCOMPLIANCE", "security_channel": "CSECURITY",
                  "timeout_seconds": 1.0, "rate_limit_max_wait_seconds": 2.0},
        "guidance": {"grace_hours": 24, "weekly_budget": 3},
    }, source="test")


@dataclass
class Org:
    alice: int  # employee, reports to mara
    bob: int  # employee, reports to mara
    mara: int  # manager
    otto: int  # another manager, not of alice's team
    alice_account: int


@pytest.fixture
def org(fresh_store: Store) -> Org:
    with fresh_store.session() as s:
        mara = PersonRow(email="mara@example.com", name="Mara Manager", team="Platform")
        otto = PersonRow(email="otto@example.com", name="Otto Other", team="Sales")
        s.add_all([mara, otto])
        s.flush()
        alice = PersonRow(email="alice@example.com", name="Alice Author", manager_id=mara.id,
                          team="Platform")
        bob = PersonRow(email="bob@example.com", name="Bob Builder", manager_id=mara.id,
                        team="Platform")
        s.add_all([alice, bob])
        s.flush()
        acc, _ = repo.add_account_with_consent(s, alice, "bluesky", "alice.bsky.social",
                                               "2026.1", "0" * 64, "test", "test")
        return Org(alice.id, bob.id, mara.id, otto.id, acc.id)


_post_seq = iter(range(1, 10_000))


def make_flag(store: Store, settings: Settings, person_id: int, now: datetime,
              category: str = "pii", text: str | None = None,
              post_id: str | None = None) -> int:
    """Record a flag for one of ``person_id``'s posts and plan its nudges, as a cycle would."""
    text = text or "call my colleague Jane on +1 415 555 0100 about the launch"
    with store.session() as s:
        person = s.get(PersonRow, person_id)
        assert person is not None
        account = s.query(AccountRow).filter_by(owner_id=person_id).first()
        post = Post(id=post_id or f"p{next(_post_seq)}", text=text, platform="bluesky",
                    author="alice.bsky.social", created_at=now)
        stored = repo.upsert_post(s, post, account.id if account else None)
        finding = Finding(category=category, source=f"rule:{category}.test", severity="high",
                          score=0.95, spans=[(len(text) - 30, len(text) - 11)],
                          guidance="Maybe leave the number out.", policy_section="4.2")
        finding2 = Finding(category=category, source=f"rule:{category}.other", severity="medium",
                           score=0.7, spans=[(0, 4)], guidance="")
        row = repo.record_flag(s, Flag(post=post, findings=[finding, finding2]), stored.row,
                               account, person)
        row.created_at = now  # the test's clock, not the wall clock
        audit.record(s, "test", "flag.test_clock", "flag", row.id, {})  # the chain follows it
        plan_nudges(s, row, person, settings, now)
        return row.id


def notifier_for(settings: Settings) -> SlackNotifier:
    return SlackNotifier(web_client(settings), settings)


def sg_app(settings: Settings, store: Store, now: list[datetime]) -> SocialGuideApp:
    """The Bolt app against the fake Slack, with a clock the test moves."""
    return SocialGuideApp(settings, store, web_client(settings), SIGNING_SECRET,
                          clock=lambda: now[0])


def signed(body: str, content_type: str, *, secret: str = SIGNING_SECRET,
           timestamp: int | None = None) -> dict[str, str]:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    sig = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"content-type": content_type, "x-slack-request-timestamp": ts,
            "x-slack-signature": sig}


def dispatch_form(app: SocialGuideApp, fields: dict[str, str], **kw: Any) -> BoltResponse:
    body = urlencode(fields)
    return app.app.dispatch(BoltRequest(
        body=body, headers=signed(body, "application/x-www-form-urlencoded", **kw)))


def dispatch_payload(app: SocialGuideApp, payload: dict[str, Any]) -> BoltResponse:
    """An interactivity request (button or view submission), signed like Slack signs it."""
    return dispatch_form(app, {"payload": json.dumps(payload)})


def command(app: SocialGuideApp, user: str, text: str, **kw: Any) -> BoltResponse:
    return dispatch_form(app, {
        "command": "/socialguide", "text": text, "user_id": user, "team_id": "T1",
        "channel_id": "D" + user, "trigger_id": "trig.1", "response_url": "",
        "token": "legacy", "api_app_id": "A1",
    }, **kw)


def button(app: SocialGuideApp, user: str, action_id: str, value: str,
           message: dict[str, Any] | None = None, channel: str | None = None) -> BoltResponse:
    payload: dict[str, Any] = {
        "type": "block_actions", "user": {"id": user}, "team": {"id": "T1"},
        "api_app_id": "A1", "trigger_id": "trig.2", "token": "legacy",
        "actions": [{"action_id": action_id, "value": value, "block_id": "b",
                     "type": "button", "action_ts": "1"}],
    }
    if message is not None:
        payload["message"] = message
        payload["channel"] = {"id": channel}
        payload["container"] = {"type": "message", "message_ts": message["ts"],
                                "channel_id": channel}
    else:
        payload["container"] = {"type": "view", "view_id": "V1"}
        payload["view"] = {"id": "V1", "type": "home"}
    return dispatch_payload(app, payload)


def submit_view(app: SocialGuideApp, user: str, view: dict[str, Any],
                values: dict[str, Any]) -> BoltResponse:
    return dispatch_payload(app, {
        "type": "view_submission", "user": {"id": user}, "team": {"id": "T1"},
        "api_app_id": "A1", "trigger_id": "trig.3", "token": "legacy",
        "view": {**view, "id": "V9", "state": {"values": values}},
    })


def fake_of(server: FakeSlackServer) -> FakeSlack:
    return server.fake
