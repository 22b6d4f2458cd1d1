"""``socialguide users add|list|disable|enable|reset-password`` and what they mean for sign-in."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import Settings
from monitor.store import Store
from monitor.store.schema import AuditEventRow, UserRow
from tests import factories as fx
from tests.web_support import build_world, client, csrf_of, sign_in

NEW_PASSWORD = "a much longer new password"


@pytest.fixture
def cfg(tmp_path: Path, settings: Settings, fresh_store: Store) -> Path:
    build_world(fresh_store)
    path = tmp_path / "config.toml"
    path.write_text(f'[store]\nurl = "{settings.store.url}"\n')
    return path


def _try_sign_in(settings: Settings, store: Store, username: str, password: str) -> int:
    c = client(settings, store)
    r = c.post("/login", data={"username": username, "password": password,
                               "csrf_token": csrf_of(c), "next": "/flags"})
    return r.status_code


def test_list_shows_roles_people_and_state(cfg: Path) -> None:
    res = CliRunner().invoke(app, ["users", "list", "-c", str(cfg)], env={"COLUMNS": "80"})
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0].split() == ["id", "username", "role", "person", "sign-in", "state"]
    mia = next(line.split() for line in lines if " mia " in f" {line} ")
    assert mia[1:6] == ["mia", "manager", "mia@example.com", "password", "active"]
    assert all(len(line) <= 80 for line in lines)
    assert "store: sqlite:///" in res.stderr


def test_disabled_user_cannot_sign_in_until_enabled(cfg: Path, settings: Settings,
                                                    fresh_store: Store) -> None:
    signed_in = sign_in(client(settings, fresh_store), "cora")
    assert signed_in.get("/flags").status_code == 200
    runner = CliRunner()
    res = runner.invoke(app, ["users", "disable", "cora", "-c", str(cfg)])
    assert res.exit_code == 0, res.output
    assert "user cora disabled" in res.stderr
    assert _try_sign_in(settings, fresh_store, "cora", fx.PASSWORD) == 401
    # A session opened before the disable ends at its next request.
    assert signed_in.get("/flags").status_code == 303
    listing = runner.invoke(app, ["users", "list", "-c", str(cfg)], env={"COLUMNS": "120"})
    assert "disabled" in next(line for line in listing.stdout.splitlines() if " cora " in line)
    again = runner.invoke(app, ["users", "disable", "cora", "-c", str(cfg)])
    assert again.exit_code == 0 and "already disabled" in again.stderr
    res = runner.invoke(app, ["users", "enable", "cora", "-c", str(cfg)])
    assert res.exit_code == 0 and "user cora enabled" in res.stderr
    assert _try_sign_in(settings, fresh_store, "cora", fx.PASSWORD) == 303
    with fresh_store.session() as s:
        actions = [a for (a,) in s.execute(select(AuditEventRow.action)
                                           .where(AuditEventRow.subject_type == "user"))]
    assert "user.disabled" in actions and "user.enabled" in actions


def test_reset_password_replaces_the_old_one(cfg: Path, settings: Settings,
                                             fresh_store: Store,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SG_NEW_PW", NEW_PASSWORD)
    res = CliRunner().invoke(app, ["users", "reset-password", "eve", "--password-env",
                                   "SG_NEW_PW", "-c", str(cfg)])
    assert res.exit_code == 0, res.output
    assert NEW_PASSWORD not in res.output
    assert _try_sign_in(settings, fresh_store, "eve", fx.PASSWORD) == 401
    assert _try_sign_in(settings, fresh_store, "eve", NEW_PASSWORD) == 303
    # Prompted, typed twice.
    res = CliRunner().invoke(app, ["users", "reset-password", "eve", "-c", str(cfg)],
                             input="another long password\nanother long password\n")
    assert res.exit_code == 0, res.output
    assert _try_sign_in(settings, fresh_store, "eve", "another long password") == 303
    short = CliRunner().invoke(app, ["users", "reset-password", "eve", "-c", str(cfg)],
                               input="short\nshort\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.stderr


def test_unknown_user_is_refused_before_the_prompt(cfg: Path) -> None:
    for verb in ("disable", "enable", "reset-password"):
        res = CliRunner().invoke(app, ["users", verb, "ghost", "-c", str(cfg)])
        assert res.exit_code == 1
        assert "no user 'ghost'" in res.stderr
        assert "Password" not in res.output


@pytest.mark.parametrize(("args", "message"), [
    (["boss", "--role", "boss"], "unknown role 'boss'"),
    (["pat", "--role", "employee"], "a employee must be linked to a person"),
    (["pat", "--role", "employee", "--person", "nobody@example.com"],
     "no person with email nobody@example.com"),
    (["cora", "--role", "compliance"], "user 'cora' already exists"),
])
def test_add_refuses_before_asking_for_the_password(cfg: Path, args: list[str],
                                                    message: str) -> None:
    # No input at all: had it prompted, the prompt would have aborted instead.
    res = CliRunner().invoke(app, ["users", "add", *args, "-c", str(cfg)])
    assert res.exit_code == 1
    assert message in res.stderr
    assert "Password" not in res.output


def test_add_then_sign_in(cfg: Path, settings: Settings, fresh_store: Store) -> None:
    res = CliRunner().invoke(app, ["users", "add", "erin@example.com", "--role", "manager",
                                   "--person", "mia@example.com", "-c", str(cfg)],
                             input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert res.exit_code == 0, res.output
    with fresh_store.session() as s:
        user = s.scalar(select(UserRow).where(UserRow.username == "erin@example.com"))
        assert user is not None and user.role == "manager"
    assert _try_sign_in(settings, fresh_store, "erin@example.com", NEW_PASSWORD) == 303
