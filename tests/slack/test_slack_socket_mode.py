"""Socket Mode for real: Bolt's adapter and slack_sdk's built-in WebSocket client connect to a
fake Socket Mode server, receive envelopes, acknowledge them and call the fake Web API."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest

from monitor.config import Settings
from monitor.errors import ConfigError
from monitor.slack.app import serve
from monitor.store import Store
from tests.fakes.slack_api import FakeSlackServer
from tests.fakes.slack_socket import FakeSocketMode
from tests.slack.conftest import Org

APP_TOKEN = "xapp-1-A1-fake-app-level-token-0123456789"
WAIT = 10.0  # seconds; a bound for each step, not an expectation of speed


@pytest.fixture
def socket_settings(slack_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("SG_TEST_APP_TOKEN", APP_TOKEN)
    slack_settings.slack.mode = "socket"
    slack_settings.slack.app_token_env = "SG_TEST_APP_TOKEN"
    return slack_settings


@pytest.fixture
def running(socket_settings: Settings, fresh_store: Store,
            fake_slack: FakeSlackServer) -> Iterator[FakeSocketMode]:
    """``serve`` in Socket Mode on a thread, stopped (and joined) at the end of the test."""
    with FakeSocketMode() as sock:
        fake_slack.fake.socket_url = sock.url
        stop = threading.Event()
        failed: list[BaseException] = []

        def run() -> None:
            try:
                serve(socket_settings, fresh_store, stop)
            except BaseException as exc:  # surfaced below
                failed.append(exc)

        t = threading.Thread(target=run, name="socket-mode-app", daemon=True)
        t.start()
        try:
            sock.wait_connected(WAIT)
            yield sock
        finally:
            stop.set()
            t.join(WAIT)
        assert not t.is_alive(), "serve() did not stop"
        assert failed == []


def _command(user: str, text: str) -> dict[str, str]:
    return {"command": "/socialguide", "text": text, "user_id": user, "team_id": "T1",
            "channel_id": "D" + user, "trigger_id": "trig.sock", "response_url": "",
            "token": "legacy", "api_app_id": "A1"}


def test_socket_mode_connects_acks_envelopes_and_calls_the_web_api(
    running: FakeSocketMode, fake_slack: FakeSlackServer, org: Org,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    sock = running
    fake = fake_slack.fake
    # The WebSocket URL came from apps.connections.open, asked with the app-level token.
    (opened,) = fake.calls_to("apps.connections.open")
    assert opened.authorization == f"Bearer {APP_TOKEN}"
    assert sock.paths == ["/link/?ticket=fake-ticket&app_id=A1"]

    # A slash command: acknowledged with the answer as the envelope's response payload.
    env = sock.send("slash_commands", _command("UALICE", "status"))
    ack = sock.wait_ack(env, WAIT)
    assert "bluesky alice.bsky.social" in ack["payload"]["text"]
    assert "Open flags on your posts: 0" in ack["payload"]["text"]

    # "connect" opens the consent notice through the Web API (views.open).
    env = sock.send("slash_commands", _command("UBOB", "connect bluesky bob.bsky.social"))
    sock.wait_ack(env, WAIT)
    (view,) = [c for c in fake.calls_to("views.open") if c.params.get("trigger_id")
               == "trig.sock"]
    assert "bob.bsky.social" in str(view.params["view"])

    # A button in a DM (interactivity): acked at once, answered with an ephemeral message.
    env = sock.send("interactive", {
        "type": "block_actions", "user": {"id": "UALICE"}, "team": {"id": "T1"},
        "api_app_id": "A1", "trigger_id": "trig.btn", "token": "legacy",
        "container": {"type": "message", "message_ts": "1700000000.000001",
                      "channel_id": "DUALICE"},
        "channel": {"id": "DUALICE"}, "message": {"ts": "1700000000.000001", "blocks": []},
        "actions": [{"action_id": "sg_verify", "value": str(org.alice_account),
                     "block_id": f"verify:{org.alice_account}", "type": "button",
                     "action_ts": "1"}],
    }, accepts_response_payload=False)
    ack = sock.wait_ack(env, WAIT)
    assert ack == {"envelope_id": env}
    # The Web API calls happen after the ack, on the listener's thread.
    for _ in range(200):
        if fake.calls_to("chat.postEphemeral") and fake.calls_to("views.publish"):
            break
        threading.Event().wait(0.05)
    (eph,) = fake.calls_to("chat.postEphemeral")
    assert eph.params["user"] == "UALICE" and eph.params["channel"] == "DUALICE"
    assert "already verified" in eph.params["text"]
    assert sock.unexpected == []
    # Tokens never reach the logs, not even the library's debug lines.
    assert APP_TOKEN not in caplog.text and "xoxb-test-token" not in caplog.text


def test_socket_mode_without_the_app_token_is_a_clear_config_error(
    socket_settings: Settings, fresh_store: Store, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SG_TEST_APP_TOKEN")
    with pytest.raises(ConfigError, match="SG_TEST_APP_TOKEN"):
        serve(socket_settings, fresh_store, threading.Event())
