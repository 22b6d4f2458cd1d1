"""Tamper evidence: the hash chain, flag rows against their recorded state, and `log verify`."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from monitor.cli import app
from monitor.compliance.review import review
from monitor.compliance.users import Viewer
from monitor.store.audit import latest_head, record, verify
from monitor.store.schema import FlagRow
from tests import factories as fx

runner = CliRunner()
REVIEWER = Viewer(user_id=1, username="cora", role="compliance", person_id=None)


@pytest.fixture
def config_file(tmp_path: Path, tmp_db_url: str) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(f'[store]\nurl = "{tmp_db_url}"\n', encoding="utf-8")
    return p


@pytest.fixture
def populated(fresh_store):
    with fresh_store.session() as s:
        p = fx.person(s, "a@example.com")
        ids = [fx.flag(s, p, f"text {i}").id for i in range(3)]
        for i in range(5):
            record(s, "tester", "note", "thing", i, {"n": i})
        review(s, REVIEWER, [ids[0]], "resolve", "handled")
    return fresh_store, ids


def _raw(store, sql: str, **params) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(sql), params)


def _verify_cli(config_file: Path, *extra: str):
    return runner.invoke(app, ["log", "verify", "--config", str(config_file), *extra])


def test_untouched_log_verifies(populated, config_file):
    store, _ = populated
    with store.session() as s:
        rep = verify(s)
    assert rep.ok and rep.entries == 9 and rep.flags_checked == 3
    r = _verify_cli(config_file)
    assert r.exit_code == 0, r.output
    assert "ok: 9 entries" in r.output


def test_edited_entry_is_named(populated, config_file):
    store, _ = populated
    _raw(store, "UPDATE audit_events SET details = :d WHERE id = 5", d='{"n": 99}')
    r = _verify_cli(config_file)
    assert r.exit_code == 1
    assert "first broken: audit entry 5:" in r.output
    assert "content does not match its hash" in r.output


def test_deleted_entry_names_the_one_after_it(populated, config_file):
    store, _ = populated
    _raw(store, "DELETE FROM audit_events WHERE id = 4")
    r = _verify_cli(config_file)
    assert r.exit_code == 1
    assert "first broken: audit entry 5:" in r.output and "does not link" in r.output


def test_rehashed_entry_still_breaks_the_next_link(populated, config_file):
    store, _ = populated
    # An attacker who recomputes the edited row's own hash still breaks the link after it.
    with store.session() as s:
        from monitor.store.audit import entry_hash
        from monitor.store.schema import AuditEventRow

        row = s.get(AuditEventRow, 6)
        row.actor = "someone-else"
        row.hash = entry_hash(row)
    r = _verify_cli(config_file)
    assert r.exit_code == 1 and "audit entry 7:" in r.output


def test_flag_row_changed_directly_in_sqlite_is_named(populated, config_file):
    store, ids = populated
    _raw(store, "UPDATE flags SET status = 'dismissed' WHERE id = :i", i=ids[1])
    r = _verify_cli(config_file)
    assert r.exit_code == 1
    assert f"first broken: flag {ids[1]}:" in r.output
    assert "changed without an audit entry" in r.output


def test_legal_hold_removed_directly_is_named(populated):
    store, ids = populated
    with store.session() as s:
        f = s.get(FlagRow, ids[2])
        f.legal_hold = True
        record(s, "cora", "flag.legal_hold", "flag", f.id, {"reason": "case"})
    _raw(store, "UPDATE flags SET legal_hold = 0 WHERE id = :i", i=ids[2])
    with store.session() as s:
        rep = verify(s)
    assert not rep.ok and rep.first_broken.kind == "flag" and rep.first_broken.id == ids[2]


def test_a_view_after_tampering_does_not_bless_the_row(populated):
    store, ids = populated
    _raw(store, "UPDATE flags SET severity = 'low' WHERE id = :i", i=ids[1])
    with store.session() as s:
        record(s, "audrey", "flag.view", "flag", ids[1], {})
        rep = verify(s)
    assert not rep.ok and rep.first_broken.id == ids[1]


def test_truncated_tail_is_caught_with_a_saved_head(populated, config_file):
    store, _ = populated
    with store.session() as s:
        record(s, "cli", "report.export", None, None, {})
    r = runner.invoke(app, ["log", "head", "--config", str(config_file)])
    assert r.exit_code == 0
    saved = r.stdout.strip()
    with store.session() as s:
        assert saved == latest_head(s).as_text()
    assert _verify_cli(config_file, "--head", saved).exit_code == 0
    _raw(store, "DELETE FROM audit_events WHERE id = (SELECT max(id) FROM audit_events)")
    assert _verify_cli(config_file).exit_code == 0  # invisible without the saved head
    r = _verify_cli(config_file, "--head", saved)
    assert r.exit_code == 1 and "chain head" in r.output


def test_audit_entries_never_hold_post_text(populated):
    store, _ = populated
    with store.engine.connect() as conn:
        details = [r[0] for r in conn.execute(text("SELECT details FROM audit_events"))]
    assert details and not any("text 1" in d for d in details)


def test_users_add_reads_password_from_env_not_argv(populated, config_file, monkeypatch):
    monkeypatch.setenv("SG_NEW_PASSWORD", "a long enough secret")
    r = runner.invoke(app, ["users", "add", "cora", "--role", "compliance",
                            "--password-env", "SG_NEW_PASSWORD", "--config", str(config_file)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["users", "add", "eve", "--role", "employee",
                            "--password-env", "SG_NEW_PASSWORD", "--config", str(config_file)])
    assert r.exit_code == 1 and "--person" in r.output
    r = runner.invoke(app, ["users", "add", "pat", "--role", "employee", "--person",
                            "a@example.com", "--config", str(config_file)],
                      input="another long secret\nanother long secret\n")
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["users", "add", "x", "--role", "root",
                            "--password-env", "SG_NEW_PASSWORD", "--config", str(config_file)])
    assert r.exit_code == 1 and "unknown role" in r.output
