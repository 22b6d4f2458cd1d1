"""The `slack` CLI group, the manifest's scopes, and HTTP mode over a real ASGI stack."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlencode

import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from monitor.cli import app as cli
from monitor.config import Settings
from monitor.slack.app import http_api
from monitor.store import Store
from monitor.store.schema import NudgeRow
from tests.fakes.slack_api import FakeSlackServer
from tests.slack.conftest import MONDAY_10, Org, make_flag, sg_app, signed

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_manifest_asks_only_for_documented_scopes() -> None:
    result = runner.invoke(cli, ["slack", "manifest"])
    assert result.exit_code == 0
    manifest = yaml.safe_load(result.stdout)
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    assert set(scopes) == {"commands", "chat:write", "im:write", "im:history",
                           "channels:history", "groups:history", "users:read",
                           "users:read.email"}
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["features"]["slash_commands"][0]["command"] == "/socialguide"
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Slack app"):]
    for scope in scopes:
        assert re.search(rf"`{re.escape(scope)}`", section), scope


def _config(tmp_path: Path, db_url: str, fake: FakeSlackServer) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(f'''
[store]
url = "{db_url}"
[slack]
enabled = true
base_url = "{fake.base_url}"
bot_token_env = "SG_TEST_BOT_TOKEN"
timeout_seconds = 1.0
[guidance.quiet_hours]
# `slack deliver` runs on the wall clock: no quiet hours, so the test passes at any hour.
start = "00:00"
end = "00:00"
''')
    return p


def test_deliver_outbox_and_requeue(
    tmp_path: Path, tmp_db_url: str, fresh_store: Store, slack_settings: Settings,
    fake_slack: FakeSlackServer, org: Org,
) -> None:
    cfg = _config(tmp_path, tmp_db_url, fake_slack)
    make_flag(fresh_store, slack_settings, org.alice, MONDAY_10)
    with fresh_store.session() as s:
        author = s.query(NudgeRow).filter_by(role="author").one()
        author.status, author.last_error, author.attempts = "dead", "users_not_found", 6
        nid = author.id
    out = runner.invoke(cli, ["slack", "outbox", "--config", str(cfg)])
    assert out.exit_code == 0 and f"#{nid}" in out.stdout and "users_not_found" in out.stdout
    assert runner.invoke(cli, ["slack", "requeue", "999", "--config", str(cfg)]).exit_code == 1
    assert runner.invoke(cli, ["slack", "requeue", str(nid), "--config", str(cfg)]).exit_code == 0
    with fresh_store.session() as s:
        row = s.get(NudgeRow, nid)
        assert row.status == "pending" and row.attempts == 0
    result = runner.invoke(cli, ["slack", "deliver", "--config", str(cfg)])
    assert result.exit_code == 0, result.output
    assert len(fake_slack.fake.posted("DUALICE")) == 1


def test_deliver_reports_a_paused_channel(
    tmp_path: Path, tmp_db_url: str, fresh_store: Store, slack_settings: Settings,
    fake_slack: FakeSlackServer, org: Org,
) -> None:
    cfg = _config(tmp_path, tmp_db_url, fake_slack)
    make_flag(fresh_store, slack_settings, org.alice, MONDAY_10)
    fake_slack.fake.fail("*", error="invalid_auth")
    result = runner.invoke(cli, ["slack", "deliver", "--config", str(cfg)])
    assert result.exit_code == 1 and "invalid_auth" in result.output
    assert "xoxb" not in result.output


def test_http_mode_checks_signatures_end_to_end(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org,
) -> None:
    client = TestClient(http_api(sg_app(slack_settings, fresh_store, [MONDAY_10])))
    body = urlencode({"command": "/socialguide", "text": "status", "user_id": "UALICE",
                      "team_id": "T1", "trigger_id": "t", "api_app_id": "A1"})
    forged = signed(body, "application/x-www-form-urlencoded", secret="wrong")
    assert client.post("/slack/events", content=body, headers=forged).status_code == 401
    good = signed(body, "application/x-www-form-urlencoded")
    resp = client.post("/slack/events", content=body, headers=good)
    assert resp.status_code == 200 and "alice.bsky.social" in resp.text
