"""Checking a draft in Slack with real slack-bolt and slack-sdk against the fake Slack.

HTTP mode goes over real HTTP (Bolt's Starlette adapter under uvicorn on 127.0.0.1, signed
requests); Socket Mode over a real WebSocket (tests/fakes/slack_socket.py). The slash command,
the Home tab's modal and the message shortcut each answer inside the acknowledgement when
the check is quick, and acknowledge first then answer when it is slow.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import select

from monitor.config import Settings
from monitor.domain import Finding, Post
from monitor.guidance.draft_check import DraftChecker, checker_for
from monitor.pipeline.core import Pipeline
from monitor.pipeline.factory import rule_detectors
from monitor.slack.app import SocialGuideApp, http_api, serve
from monitor.slack.check import CHECK_BLOCK, CHECK_OPEN, CHECK_SHORTCUT, CHECK_VIEW, slack_to_plain
from monitor.store import Store
from monitor.store.schema import DraftCheckCountRow, PersonRow
from tests.check_support import AWS_KEY, exploding_pipeline, serving
from tests.fakes.slack_api import FakeSlackServer
from tests.fakes.slack_socket import FakeSocketMode
from tests.slack.conftest import MONDAY_10, sg_app, signed

WAIT = 10.0
KEY_DRAFT = f"shipping tonight, deploy key {AWS_KEY} for the demo"


class SlowDetector:
    """The rules, after a pause: a check that misses the acknowledgement budget."""

    name = "slow"

    def __init__(self, settings: Settings, delay: float):
        self.inner = rule_detectors(settings)[0]
        self.delay = delay

    def detect(self, posts: Sequence[Post]) -> list[list[Finding]]:
        time.sleep(self.delay)
        return self.inner.detect(posts)


@pytest.fixture
def settings(slack_settings: Settings) -> Settings:
    slack_settings.model.enabled = False  # rules only: the rules engine is built once
    checker_for(slack_settings).pipeline()  # as `slack serve` warms it up at start
    return slack_settings


def _use_checker(monkeypatch: pytest.MonkeyPatch, make: Callable[[Settings], DraftChecker]
                 ) -> None:
    monkeypatch.setattr("monitor.slack.check.checker_for", make)


@pytest.fixture
def slow(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Settings:
    """Checks take 0.6 s; Slack may wait only 0.1 s for them."""
    settings.check.slack_answer_within_seconds = 0.1
    _use_checker(monkeypatch, lambda s: DraftChecker(s, lambda s2: Pipeline(
        detectors=[SlowDetector(s2, 0.6)])))
    return settings


@pytest.fixture
def http(settings: Settings, fresh_store: Store) -> Iterator[tuple[str, SocialGuideApp]]:
    """HTTP mode: ``POST /slack/events`` served by uvicorn on 127.0.0.1."""
    sg = sg_app(settings, fresh_store, [MONDAY_10])
    with serving(http_api(sg)) as base:
        yield base, sg


def _post(base: str, fields: dict[str, str]) -> tuple[httpx.Response, float]:
    body = urlencode(fields)
    started = time.monotonic()
    r = httpx.post(f"{base}/slack/events", content=body,
                   headers=signed(body, "application/x-www-form-urlencoded"), timeout=30)
    return r, time.monotonic() - started


def _command(user: str, text: str, response_url: str = "") -> dict[str, str]:
    return {"command": "/socialguide", "text": text, "user_id": user, "team_id": "T1",
            "channel_id": "C" + user, "trigger_id": "trig.cmd", "response_url": response_url,
            "token": "legacy", "api_app_id": "A1"}


def _payload(payload: dict[str, Any]) -> dict[str, str]:
    return {"payload": json.dumps(payload)}


def _shortcut(user: str, author: str, text: str) -> dict[str, Any]:
    return {"type": "message_action", "callback_id": CHECK_SHORTCUT, "trigger_id": "trig.sc",
            "user": {"id": user}, "team": {"id": "T1"}, "api_app_id": "A1", "token": "legacy",
            "channel": {"id": "D" + user}, "response_url": "",
            "message": {"type": "message", "user": author, "ts": "1700000000.000100",
                        "text": text}, "message_ts": "1700000000.000100"}


def _submission(text: str, view_id: str = "V42") -> dict[str, Any]:
    return {"type": "view_submission", "user": {"id": "UNEW"}, "team": {"id": "T1"},
            "api_app_id": "A1", "trigger_id": "trig.sub", "token": "legacy",
            "view": {"id": view_id, "type": "modal", "callback_id": CHECK_VIEW,
                     "state": {"values": {CHECK_BLOCK: {"draft": {"type": "plain_text_input",
                                                                  "value": text}}}}}}


def _wait_for(cond: Callable[[], Any], timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = cond()
        if got:
            return got
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


def _text(blocks: list[dict[str, Any]]) -> str:
    out = []
    for b in blocks:
        if "text" in b and isinstance(b["text"], dict):
            out.append(b["text"]["text"])
        for e in b.get("elements") or []:
            if isinstance(e, dict) and "text" in e:
                out.append(e["text"] if isinstance(e["text"], str) else e["text"]["text"])
    return "\n".join(out)


# --- the slash command ------------------------------------------------------------------------


def test_check_command_answers_privately_inside_the_acknowledgement(
    http: tuple[str, SocialGuideApp], fake_slack: FakeSlackServer, fresh_store: Store,
) -> None:
    base, _ = http
    # UNEW is in no directory and has no consent: checking a draft needs neither.
    r, took = _post(base, _command("UNEW", f"check {KEY_DRAFT}"))
    assert r.status_code == 200 and took < 3.0
    body = r.json()
    assert body["response_type"] == "ephemeral"
    shown = _text(body["blocks"])
    assert "1 thing worth a second look before you post." in shown
    assert "what looks like a password, key or token" in shown
    assert "SMP §4.2 Credentials" in shown and "AKIA…F10E" in shown
    assert "[key removed]" in shown and "|Training>" in shown
    assert "Only you see this answer" in shown
    assert AWS_KEY not in r.text
    # Nothing posted anywhere (Bolt's authorization asks auth.test): the ack is the answer.
    assert {c.method for c in fake_slack.fake.calls} <= {"auth.test"}
    with fresh_store.session() as s:
        assert s.scalars(select(PersonRow).where(PersonRow.slack_id == "UNEW")).all() == []
        assert {(c.category, c.drafts) for c in s.scalars(select(DraftCheckCountRow))} == {
            ("*", 1), ("credentials", 1)}

    r, _ = _post(base, _command("UNEW", "check Lovely sunset at the lake tonight"))
    assert "Nothing in the policy stands against this draft." in _text(r.json()["blocks"])
    r, _ = _post(base, _command("UNEW", "check"))
    assert "Type the draft after the command" in r.json()["text"]
    r, _ = _post(base, _command("UNEW", "help"))
    assert "/socialguide check <draft>" in r.text  # the main listener still answers


def test_slack_formatting_is_undone_before_checking(
    http: tuple[str, SocialGuideApp],
) -> None:
    assert slack_to_plain("mail <mailto:jane@example.com|jane@example.com> &amp; "
                          "<https://x.example/a|x.example/a> &lt;3 <!here>") == \
        "mail jane@example.com & x.example/a <3 @here"
    base, _ = http
    r, _ = _post(base, _command("UNEW", "check Jane Doe lives at 12 Elm Street, mail <mailto:jane.doe@gmail.com|"
                                        "jane.doe@gmail.com> for details"))
    assert "someone else's personal details" in _text(r.json()["blocks"])


def test_slow_check_acks_first_then_answers_through_the_response_url(
    slow: Settings, http: tuple[str, SocialGuideApp], fake_slack: FakeSlackServer,
) -> None:
    base, _ = http
    hook = fake_slack.base_url.replace("/api/", "/hooks/T1/B1/resp-1")
    r, took = _post(base, _command("UNEW", f"check {KEY_DRAFT}", response_url=hook))
    assert r.status_code == 200 and took < 3.0
    assert "Checking your draft" in r.json()["text"]
    assert fake_slack.fake.calls_to("resp-1") == []
    (call,) = _wait_for(lambda: fake_slack.fake.calls_to("resp-1"))
    assert call.params["response_type"] == "ephemeral"
    assert call.params["replace_original"] is False
    assert "AKIA…F10E" in _text(call.params["blocks"])
    assert AWS_KEY not in json.dumps(call.params)


def test_slow_check_without_a_response_url_posts_an_ephemeral_message(
    slow: Settings, http: tuple[str, SocialGuideApp], fake_slack: FakeSlackServer,
) -> None:
    base, _ = http
    r, _ = _post(base, _command("UNEW", f"check {KEY_DRAFT}"))
    assert "Checking your draft" in r.json()["text"]
    (call,) = _wait_for(lambda: fake_slack.fake.calls_to("chat.postEphemeral"))
    assert call.params["user"] == "UNEW" and call.params["channel"] == "CUNEW"
    assert "AKIA…F10E" in json.dumps(call.params, ensure_ascii=False)


def test_oversize_and_failing_checks_answer_with_a_reason(
    settings: Settings, http: tuple[str, SocialGuideApp], monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, _ = http
    r, _ = _post(base, _command("UNEW", "check " + "x" * 40_001))
    assert "the draft is 40,001 characters long; the limit is 40,000" in r.json()["text"]
    _use_checker(monkeypatch, lambda s: DraftChecker(s, exploding_pipeline))
    sg2 = sg_app(settings, http[1].store, [MONDAY_10])
    with serving(http_api(sg2)) as base2:
        r, _ = _post(base2, _command("UNEW", "check narwhal-piano-31 draft"))
    assert "the check failed (reference " in r.json()["text"]


# --- App Home and the modal -----------------------------------------------------------------


def test_home_button_opens_the_modal_and_a_submission_is_answered_in_place(
    http: tuple[str, SocialGuideApp], fake_slack: FakeSlackServer, fresh_store: Store,
) -> None:
    base, sg = http
    with fresh_store.session() as s:
        s.add(PersonRow(email="new@example.com", slack_id="UNEW"))
    sg.publish_home("UNEW")
    home = fake_slack.fake.views[-1]["view"]
    first = home["blocks"][0]
    assert first["elements"][0]["action_id"] == CHECK_OPEN
    assert first["elements"][0]["text"]["text"] == "Check a draft"

    r, _ = _post(base, _payload({
        "type": "block_actions", "user": {"id": "UNEW"}, "team": {"id": "T1"},
        "api_app_id": "A1", "trigger_id": "trig.home", "token": "legacy",
        "container": {"type": "view", "view_id": "VHOME"}, "view": {"id": "VHOME",
                                                                    "type": "home"},
        "actions": [{"action_id": CHECK_OPEN, "value": "open", "block_id": "sg_check_home",
                     "type": "button", "action_ts": "1"}]}))
    assert r.status_code == 200
    (opened,) = fake_slack.fake.calls_to("views.open")
    modal = json.loads(opened.params["view"]) if isinstance(opened.params["view"], str) \
        else opened.params["view"]
    assert opened.params["trigger_id"] == "trig.home"
    assert modal["callback_id"] == CHECK_VIEW and modal["blocks"][0]["block_id"] == CHECK_BLOCK

    r, took = _post(base, _payload(_submission(KEY_DRAFT)))
    assert r.status_code == 200 and took < 3.0
    body = r.json()
    assert body["response_action"] == "update"
    shown = _text(body["view"]["blocks"])
    assert "AKIA…F10E" in shown and "[key removed]" in shown
    # The draft stays in the box to edit and check again (Slack holds it, not us).
    assert body["view"]["blocks"][0]["element"]["initial_value"] == KEY_DRAFT
    assert body["view"]["submit"]["text"] == "Check again"

    r, _ = _post(base, _payload(_submission("   ")))
    assert r.json() == {"response_action": "errors",
                        "errors": {CHECK_BLOCK: "Type or paste a draft first."}}


def test_slow_modal_check_shows_checking_then_updates_the_view(
    slow: Settings, http: tuple[str, SocialGuideApp], fake_slack: FakeSlackServer,
) -> None:
    base, _ = http
    r, took = _post(base, _payload(_submission(KEY_DRAFT, view_id="V77")))
    assert took < 3.0 and r.json()["response_action"] == "update"
    assert "Checking…" in _text(r.json()["view"]["blocks"])
    (update,) = _wait_for(lambda: fake_slack.fake.calls_to("views.update"))
    assert update.params["view_id"] == "V77"
    view = update.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert "AKIA…F10E" in _text(view["blocks"])


# --- the message shortcut -------------------------------------------------------------------


def test_shortcut_checks_the_users_own_message_in_a_private_modal(
    http: tuple[str, SocialGuideApp], fake_slack: FakeSlackServer,
) -> None:
    base, _ = http
    r, took = _post(base, _payload(_shortcut("UNEW", "UNEW", KEY_DRAFT)))
    assert r.status_code == 200 and took < 3.0
    (opened,) = fake_slack.fake.calls_to("views.open")
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert opened.params["trigger_id"] == "trig.sc"
    assert "AKIA…F10E" in _text(view["blocks"])
    assert AWS_KEY not in _text(view["blocks"][1:])

    # Someone else's message is not checked: this is for one's own drafts.
    _post(base, _payload(_shortcut("UNEW", "UALICE", KEY_DRAFT)))
    opened = fake_slack.fake.calls_to("views.open")[-1]
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert "only messages you wrote yourself" in _text(view["blocks"])
    assert "AKIA" not in json.dumps(view)


def test_slow_shortcut_opens_checking_then_updates(
    slow: Settings, http: tuple[str, SocialGuideApp], fake_slack: FakeSlackServer,
) -> None:
    base, _ = http
    r, took = _post(base, _payload(_shortcut("UNEW", "UNEW", KEY_DRAFT)))
    assert r.status_code == 200 and took < 3.0
    (update,) = _wait_for(lambda: fake_slack.fake.calls_to("views.update"))
    (opened,) = fake_slack.fake.calls_to("views.open")
    assert "Checking…" in json.dumps(opened.params["view"], ensure_ascii=False)
    assert update.params["view_id"] == "V1"  # the id views.open gave back
    assert "AKIA…F10E" in json.dumps(update.params["view"], ensure_ascii=False)


# --- Socket Mode ----------------------------------------------------------------------------


APP_TOKEN = "xapp-1-A1-fake-app-level-token-0123456789"


@pytest.fixture
def socket(settings: Settings, fresh_store: Store, fake_slack: FakeSlackServer,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSocketMode]:
    monkeypatch.setenv("SG_TEST_APP_TOKEN", APP_TOKEN)
    settings.slack.mode = "socket"
    settings.slack.app_token_env = "SG_TEST_APP_TOKEN"
    with FakeSocketMode() as sock:
        fake_slack.fake.socket_url = sock.url
        stop = threading.Event()
        t = threading.Thread(target=serve, args=(settings, fresh_store, stop), daemon=True)
        t.start()
        try:
            sock.wait_connected(WAIT)
            yield sock
        finally:
            stop.set()
            t.join(WAIT)


def test_socket_mode_command_modal_and_shortcut(
    socket: FakeSocketMode, fake_slack: FakeSlackServer,
) -> None:
    env = socket.send("slash_commands", _command("UNEW", f"check {KEY_DRAFT}"))
    ack = socket.wait_ack(env, WAIT)
    assert ack["payload"]["response_type"] == "ephemeral"
    assert "AKIA…F10E" in _text(ack["payload"]["blocks"])

    env = socket.send("interactive", _submission(KEY_DRAFT))
    ack = socket.wait_ack(env, WAIT)
    assert ack["payload"]["response_action"] == "update"
    assert "[key removed]" in _text(ack["payload"]["view"]["blocks"])

    env = socket.send("interactive", _shortcut("UNEW", "UNEW", "call Jane on +1 415 555 0100"),
                      accepts_response_payload=False)
    assert socket.wait_ack(env, WAIT) == {"envelope_id": env}
    (opened,) = _wait_for(lambda: fake_slack.fake.calls_to("views.open"))
    assert "someone else's personal details" in json.dumps(opened.params["view"],
                                                           ensure_ascii=False)
    assert socket.unexpected == []


def test_the_consent_notice_says_what_a_draft_check_keeps(settings: Settings) -> None:
    from monitor.accounts.notice import build_notice

    notice = build_notice(settings, "bluesky", "alice.bsky.social")
    assert "needs no connected account: nothing about the draft is kept - no text and no " \
           "name - only a count per category per week." in notice
