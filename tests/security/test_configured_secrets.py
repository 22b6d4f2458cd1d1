"""Every secret the configuration names (by environment variable) stays out of every output.

The variable names come from the settings themselves, so a secret added to the config later is
scanned for without touching this test. A whole run goes through with each one set to a
distinctive value: a collection cycle, Slack deliveries and a digest, a signed slash command,
the dashboard's pages and exports, and the operator's commands. Then the logs (as the
project's redacting handler writes them, and every record before redaction), the command
output, the pages, the messages Slack received and the database are searched for the values.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from monitor.cli import app as cli
from monitor.config import Settings, settings_from_dict
from monitor.logs import configure_logging
from monitor.slack.app import SocialGuideApp
from monitor.slack.client import web_client
from monitor.store import Store
from tests.fakes.slack_api import FakeSlackServer
from tests.security.test_secret_leaks import _cycle, _database, _pages
from tests.slack.conftest import command


def secret_env_names(section: BaseModel) -> set[str]:
    """Every ``*_env`` setting in the config tree: the names of secret-holding variables."""
    out: set[str] = set()
    for name in type(section).model_fields:
        value = getattr(section, name)
        if isinstance(value, BaseModel):
            out |= secret_env_names(value)
        elif isinstance(value, dict):
            out |= {n for v in value.values() if isinstance(v, BaseModel)
                    for n in secret_env_names(v)}
        elif name.endswith("_env") and isinstance(value, str) and value:
            out.add(value)
    return out


def test_the_config_names_every_known_secret_variable():
    names = secret_env_names(settings_from_dict({}, source="test"))
    assert {"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "X_BEARER_TOKEN",
            "REDDIT_CLIENT_SECRET", "SOCIALGUIDE_SECRET_KEY", "SOCIALGUIDE_WEB_SECRET",
            "SOCIALGUIDE_OIDC_CLIENT_SECRET"} <= names


@pytest.fixture
def fake_slack():
    with FakeSlackServer() as server:
        server.fake.add_user("UALICE", "alice@example.com")
        server.fake.add_user("UMARA", "mara@example.com")
        yield server


def _settings(url: str, slack: FakeSlackServer) -> Settings:
    # The variable names stay the defaults: what an operator's deployment reads.
    return settings_from_dict({
        "store": {"url": url},
        "model": {"enabled": False},
        "slack": {"enabled": True, "base_url": slack.base_url, "mode": "http",
                  "compliance_channel": "CCOMPLIANCE", "security_channel": "CSECURITY",
                  "timeout_seconds": 1.0, "rate_limit_max_wait_seconds": 2.0},
        "guidance": {"grace_hours": 1, "weekly_budget": 50},
    }, source="test")


def _values(names: set[str]) -> dict[str, str]:
    out = {}
    for name in sorted(names):
        prefix = {"SLACK_BOT_TOKEN": "xoxb-", "SLACK_APP_TOKEN": "xapp-"}.get(name, "")
        out[name] = f"{prefix}{secrets.token_hex(16)}"
    return out


def test_no_configured_secret_appears_in_any_log_output_page_message_or_table(
    tmp_path: Path, fake_slack: FakeSlackServer, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"sqlite:///{tmp_path / 'sg.db'}"
    settings = _settings(url, fake_slack)
    values = _values(secret_env_names(settings))
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    configure_logging("DEBUG")  # the project's own handler, writing to (captured) stderr
    caplog.set_level(logging.DEBUG)
    store = Store(url)
    outputs: dict[str, str] = {}
    try:
        _cycle(tmp_path, store, settings)
        slack_app = SocialGuideApp(settings, store, web_client(settings),
                                   values["SLACK_SIGNING_SECRET"])
        resp = command(slack_app, "UALICE", "status", secret=values["SLACK_SIGNING_SECRET"])
        assert resp.status == 200
        forged = command(slack_app, "UALICE", "status", secret="not-the-secret")
        assert forged.status == 401
        outputs["slack answer"] = str(resp.body)
        pages, _ = _pages(settings, store)
        outputs["pages"] = "\n".join(pages)
        config = tmp_path / "config.toml"
        config.write_text(f'[store]\nurl = "{url}"\n[model]\nenabled = false\n',
                          encoding="utf-8")
        runner = CliRunner()
        for args in (["config", "check", str(config)], ["log", "verify"], ["log", "head"],
                     ["report", "--since", "30d"], ["accounts", "list"],
                     ["slack", "outbox", "--status", "sent"], ["tokens", "list"]):
            extra = [] if args[0] == "config" else ["--config", str(config)]
            r = runner.invoke(cli, [*args, *extra])
            outputs[" ".join(args)] = r.output + (str(r.exception) if r.exception else "")
    finally:
        store.dispose()
        logging.getLogger("monitor").handlers.clear()
    outputs["log output"] = capsys.readouterr().err
    outputs["log records"] = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records
        if r.name.startswith("monitor"))
    outputs["slack messages"] = "\n".join(str(c.params) for c in fake_slack.fake.calls)
    outputs["database"] = _database(url)
    leaks = [(where, name) for where, text in outputs.items()
             for name, value in values.items() if value in text]
    assert not leaks, f"configured secrets found in outputs: {leaks}"
    # The run really happened: messages went out, pages and commands answered.
    assert fake_slack.fake.calls and "ok:" in outputs["log verify"]
    assert any(c.authorization == f"Bearer {values['SLACK_BOT_TOKEN']}"
               for c in fake_slack.fake.calls), "the bot token was not the one used"
