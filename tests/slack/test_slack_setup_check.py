"""``socialguide slack check`` against the fake Slack Web API: what it asks, what it reports."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.slack.setup_check import manifest_scopes
from monitor.store import Store
from monitor.store.schema import PersonRow
from tests.fakes.slack_api import FakeSlackServer

BOT = "xoxb-check-bot-token-value"
APP = "xapp-check-app-token-value"


@pytest.fixture
def ready(fake_slack: FakeSlackServer, fresh_store: Store, tmp_path: Path, tmp_db_url: str,
          monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace where everything is right: scopes, channels, people with ids or e-mails."""
    fake = fake_slack.fake
    fake.scopes = sorted(manifest_scopes())
    fake.socket_url = "ws://127.0.0.1:1/socket"
    fake.channels = {"CCOMP": {"name": "compliance", "is_member": True},
                     "CSEC": {"name": "security", "is_member": True}}
    with fresh_store.session() as s:
        s.add_all([PersonRow(email="alice@example.com", slack_id="UALICE"),
                   PersonRow(email="bob@example.com")])  # reachable by e-mail
    monkeypatch.setenv("SG_CHECK_BOT", BOT)
    monkeypatch.setenv("SG_CHECK_APP", APP)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[store]\nurl = "{tmp_db_url}"\n[slack]\nenabled = true\n'
                   f'base_url = "{fake_slack.base_url}"\nbot_token_env = "SG_CHECK_BOT"\n'
                   'app_token_env = "SG_CHECK_APP"\ncompliance_channel = "CCOMP"\n'
                   'security_channel = "CSEC"\ntimeout_seconds = 2\n')
    return cfg


def _check(cfg: Path) -> tuple[int, list[str], str]:
    res = CliRunner().invoke(app, ["slack", "check", "-c", str(cfg)], env={"COLUMNS": "200"})
    assert "Traceback" not in res.output
    assert BOT not in res.output and APP not in res.output
    return res.exit_code, res.stdout.splitlines(), res.stderr


def test_a_ready_workspace_passes_and_every_check_was_asked(ready: Path,
                                                           fake_slack: FakeSlackServer) -> None:
    code, lines, err = _check(ready)
    assert code == 0, "\n".join(lines) + err
    assert all(line.startswith("ok") for line in lines), lines
    assert "slack check: ready" in err
    assert any("bot user UBOT in workspace T1" in line for line in lines)
    assert any("people: 2 of 2 reachable: 1 by Slack id, 1 by e-mail" in line for line in lines)
    fake = fake_slack.fake
    assert [c.authorization for c in fake.calls_to("auth.test")] == [f"Bearer {BOT}"]
    assert [c.authorization for c in fake.calls_to("apps.connections.open")] == [f"Bearer {APP}"]
    assert sorted(c.params["channel"] for c in fake.calls_to("conversations.info")) == [
        "CCOMP", "CSEC"]
    assert fake.calls_to("users.list")
    assert fake.posted() == []  # a check posts nothing


def test_each_problem_is_one_named_line(ready: Path, fake_slack: FakeSlackServer,
                                        fresh_store: Store) -> None:
    fake = fake_slack.fake
    fake.scopes = sorted(manifest_scopes() - {"im:history", "users:read.email"})
    fake.channels["CSEC"]["is_member"] = False
    del fake.channels["CCOMP"]
    fake.add_user("UGONE", "gone@example.com", deleted=True)
    with fresh_store.session() as s:
        s.add_all([PersonRow(email="nobody@example.com"),
                   PersonRow(email="gone@example.com", slack_id="UGONE"),
                   PersonRow(email="typo@example.com", slack_id="UNOTHERE")])
    code, lines, err = _check(ready)
    assert code == 1
    fails = [line for line in lines if line.startswith("fail")]
    text = "\n".join(fails)
    assert "scopes: missing im:history, users:read.email" in text
    assert "[slack] compliance_channel CCOMP: Slack says channel_not_found" in text
    assert "the bot is not in #security (CSEC): /invite @socialguide" in text
    assert "nobody@example.com: no Slack id and no Slack user with this e-mail" in text
    assert "gone@example.com: Slack user UGONE is deactivated" in text
    assert "typo@example.com: slack_id UNOTHERE is not a member" in text
    assert len(fails) == 6
    assert "slack check: 6 problem(s)" in err


def test_a_revoked_token_stops_at_auth(ready: Path, fake_slack: FakeSlackServer) -> None:
    fake_slack.fake.revoked = True
    code, lines, _err = _check(ready)
    assert code == 1
    assert lines == ["fail  bot token (auth.test): Slack says token_revoked: the token was "
                     "revoked: reinstall the app and copy the new token"]
    assert fake_slack.fake.calls_to("users.list") == []


def test_missing_app_token_and_unreachable_api(ready: Path, monkeypatch: pytest.MonkeyPatch,
                                               ) -> None:
    monkeypatch.delenv("SG_CHECK_APP")
    code, lines, _err = _check(ready)
    assert code == 1
    assert any(line.startswith("fail  app token (Socket Mode): environment variable "
                               "SG_CHECK_APP is not set") for line in lines)
    text = ready.read_text()
    start = text.index('base_url = "') + len('base_url = "')
    end = text.index('"', start)
    ready.write_text(text[:start] + "http://127.0.0.1:9/api/" + text[end:])
    code, lines, _err = _check(ready)
    assert code == 1
    assert len(lines) == 1 and lines[0].startswith(
        "fail  bot token (auth.test): cannot reach the Slack API")


def test_without_a_bot_token_it_still_names_people_without_a_slack_id(
        ready: Path, monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlackServer) -> None:
    monkeypatch.delenv("SG_CHECK_BOT")
    code, lines, _err = _check(ready)
    assert code == 1
    assert lines[0] == "fail  bot token: environment variable SG_CHECK_BOT (Slack bot token) is not set"
    assert any("bob@example.com: no Slack id" in line for line in lines), lines
    assert not any("alice@example.com" in line for line in lines)
    assert any("people: 2 imported, 1 with a Slack id" in line for line in lines), lines
    assert fake_slack.fake.calls_to("auth.test") == []
