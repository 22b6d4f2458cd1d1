"""Tamper evidence: the hash chain, flag rows against their recorded state, and `log verify`."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from monitor.cli import app
from monitor.compliance.review import review
from monitor.compliance.users import Viewer
from monitor.store import Store
from monitor.store.audit import latest_head, record, verify
from monitor.store.schema import FlagRow, PostRow
from tests import factories as fx
from tests.web_support import build_world

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


# --- every field that decides what a flag says and who may see it -------------------------


def _first_problem(store) -> str:
    with store.session() as s:
        rep = verify(s)
    assert not rep.ok, "the tampering went unnoticed"
    return str(rep.first_broken)


@pytest.fixture
def other_person(populated):
    store, _ = populated
    with store.session() as s:
        return fx.person(s, "b@example.com", team="Ops").id


def test_a_flag_moved_to_another_person_is_named(populated, other_person, config_file):
    store, ids = populated
    _raw(store, "UPDATE flags SET person_id = :p WHERE id = :i", p=other_person, i=ids[1])
    r = _verify_cli(config_file)
    assert r.exit_code == 1
    assert f"first broken: flag {ids[1]}:" in r.output
    assert "who it is about (person, account or team) changed" in r.output


def test_a_flag_moved_to_another_team_or_account_is_named(populated):
    store, ids = populated
    _raw(store, "UPDATE flags SET team = 'Ops' WHERE id = :i", i=ids[1])
    assert "who it is about" in _first_problem(store)
    _raw(store, "UPDATE flags SET team = 'Sales', account_id = NULL WHERE id = :i", i=ids[1])
    assert "who it is about" in _first_problem(store)


@pytest.mark.parametrize(("sql", "says"), [
    ("UPDATE flags SET excerpt = 'all fine here' WHERE id = :i", "its excerpt was rewritten"),
    ("UPDATE posts SET text = 'all fine here' WHERE id = (SELECT post_id FROM flags "
     "WHERE id = :i)", "its post's text was rewritten"),
    ("UPDATE findings SET evidence = 'nothing' WHERE flag_id = :i",
     "its findings' evidence was rewritten"),
    ("DELETE FROM findings WHERE flag_id = :i", "its findings were deleted, added or changed"),
    ("UPDATE findings SET guidance = 'ignore it' WHERE flag_id = :i", "its findings were"),
    ("UPDATE findings SET source = 'rule:other' WHERE flag_id = :i", "its findings were"),
    ("UPDATE findings SET spans = '[[0, 1]]' WHERE flag_id = :i", "its findings were"),
    ("INSERT INTO findings (flag_id, category, source, severity, score, spans, guidance, "
     "shadow, explanation) VALUES (:i, 'pii', 'rule:x', 'low', 0.5, '[]', '', 0, '[]')",
     "its findings were"),
    ("UPDATE flags SET category = 'pii', categories = '[\"pii\"]' WHERE id = :i",
     "its category, severity, review state, post or dates changed"),
    ("UPDATE flags SET created_at = '2001-01-01 00:00:00.000000' WHERE id = :i",
     "its category, severity, review state, post or dates changed"),
    ("UPDATE flags SET excerpt = NULL WHERE id = :i",
     "its excerpt was removed outside retention or an opt-out"),
    ("UPDATE posts SET text = NULL, erased_at = '2026-01-01 00:00:00' WHERE id = "
     "(SELECT post_id FROM flags WHERE id = :i)",
     "its post's text was removed outside retention or an opt-out"),
])
def test_each_tamper_is_named(populated, sql, says):
    store, ids = populated
    _raw(store, sql, i=ids[2])
    problem = _first_problem(store)
    assert problem.startswith(f"flag {ids[2]}: row differs from its last recorded state")
    assert says in problem


def test_log_verify_names_a_changed_flag_and_a_truncated_tail(
    store: Store, store_config: Path
) -> None:
    # On both backends, through the CLI, over the dashboard's world.
    w = build_world(store)
    r = runner.invoke(app, ["log", "head", "--config", str(store_config)])
    assert r.exit_code == 0, r.output
    saved = r.stdout.strip()
    r = runner.invoke(app, ["log", "verify", "--config", str(store_config), "--head", saved])
    assert r.exit_code == 0, r.output
    assert "ok: 3 entries, 3 flags checked" in r.output
    with store.engine.begin() as conn:  # a row changed behind the log's back
        conn.execute(text("UPDATE flags SET status = 'dismissed' WHERE id = :id"),
                     {"id": w.flags["eve"]})
    r = runner.invoke(app, ["log", "verify", "--config", str(store_config)])
    assert r.exit_code == 1
    assert f"flag {w.flags['eve']}" in r.output
    with store.engine.begin() as conn:  # and the newest entry removed
        conn.execute(text("UPDATE flags SET status = 'open' WHERE id = :id"),
                     {"id": w.flags["eve"]})
        conn.execute(text("DELETE FROM audit_events WHERE id = (SELECT max(id) FROM audit_events)"))
    r = runner.invoke(app, ["log", "verify", "--config", str(store_config), "--head", saved])
    assert r.exit_code == 1 and "chain head" in r.output


def test_a_deleted_flag_is_named(populated):
    store, ids = populated
    _raw(store, "DELETE FROM findings WHERE flag_id = :i", i=ids[0])
    _raw(store, "DELETE FROM flags WHERE id = :i", i=ids[0])
    assert "row is gone" in _first_problem(store)


def test_retention_and_opt_out_erase_text_and_the_log_still_verifies(fresh_store, tmp_db_url):
    from monitor.accounts.erasure import erase_account
    from monitor.compliance.retention import purge
    from monitor.config import settings_from_dict

    with fresh_store.session() as s:
        p = fx.person(s, "a@example.com")
        old = fx.flag(s, p, "call 555-0100 now", category="pii", created_at=fx.days_ago(400))
        kept = fx.flag(s, p, "still here", category="pii")
        gone = fx.flag(s, p, "my account goes")
        ids, account = (old.id, kept.id), gone.account_id
    purge(fresh_store, settings_from_dict({"store": {"url": tmp_db_url}}))
    with fresh_store.session() as s:
        erase_account(s, account, "alice")
    with fresh_store.session() as s:
        assert s.get(FlagRow, ids[0]).excerpt is None
        rep = verify(s)
    assert rep.ok, rep.first_broken
    # An erasure entry covers the text it erased, not text erased after it.
    _raw(fresh_store, "UPDATE flags SET excerpt = NULL, erased_at = '2026-01-01 00:00:00' "
         "WHERE id = :i", i=ids[1])
    with fresh_store.session() as s:
        record(s, "cora", "flag.legal_hold", "flag", ids[0], {"reason": "noise"})
    assert "removed outside retention" in _first_problem(fresh_store)


def test_an_edited_post_re_records_its_flags(fresh_store):
    from monitor.domain import Post
    from monitor.store import repo

    with fresh_store.session() as s:
        p = fx.person(s, "a@example.com")
        f = fx.flag(s, p, "first version")
        post = s.get(PostRow, f.post_id)
        edited = Post(id=post.post_id, text="second version", platform=post.platform)
        assert repo.upsert_post(s, edited, post.account_id).status == "edited"
    with fresh_store.session() as s:
        rep = verify(s)
    assert rep.ok, rep.first_broken


def test_migration_0007_rechains_an_old_log_and_says_so(store_url: str):
    """A log written before 0007 (first-format states) is re-chained; tampering stays named."""
    _rechains_an_old_log(store_url)


def _rechains_an_old_log(url: str) -> None:
    from sqlalchemy import select as sql_select

    from monitor.store import Store
    from monitor.store.audit import flag_state_hash
    from monitor.store.schema import AuditEventRow

    store = Store(url, auto_upgrade=False)
    store.upgrade("0006_draft_checks")
    ids = []
    with store.engine.begin() as conn:
        conn.execute(text("INSERT INTO people (id, email, timezone, created_at, updated_at) "
                          "VALUES (1, 'a@example.com', 'UTC', '2026-01-01', '2026-01-01'), "
                          "(2, 'b@example.com', 'UTC', '2026-01-01', '2026-01-01')"))
        for i in (1, 2, 3):
            conn.execute(text(
                "INSERT INTO posts (id, platform, post_id, text, collected_at) "
                "VALUES (:i, 'bluesky', :p, :t, '2026-01-01 00:00:00')"),
                {"i": i, "p": f"p{i}", "t": f"post {i}"})
            conn.execute(text(
                "INSERT INTO flags (id, post_id, person_id, platform, category, categories, "
                "severity, score, status, excerpt, legal_hold, created_at, updated_at) VALUES "
                "(:i, :i, 1, 'bluesky', 'pii', '[\"pii\"]', 'high', 0.9, 'open', :e, false, "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"), {"i": i, "e": f"post {i}"})
            ids.append(i)
    with store.session() as s:
        for fid in ids:
            row = s.execute(sql_select(FlagRow.__table__.c[tuple(
                ["id", "status", "resolution", "reason", "legal_hold", "category",
                 "severity"])]).where(FlagRow.__table__.c.id == fid)).one()
            record(s, "pipeline", "flag.created", "flag", fid,
                   {"flag_state": flag_state_hash(row)})
    _raw(store, "UPDATE flags SET status = 'dismissed' WHERE id = 3")  # tampered before
    store.upgrade()
    with store.session() as s:
        rechained = s.scalars(sql_select(AuditEventRow)
                              .where(AuditEventRow.action == "audit.rechained")).one()
        per_flag = s.scalars(sql_select(AuditEventRow.subject_id)
                             .where(AuditEventRow.action == "flag.rechained")).all()
        rep = verify(s)
    assert rechained.details["revision"] == "0007_chain_all_fields"
    assert rechained.details["flags"] == 2 and rechained.details["not_rechained"] == [3]
    assert rechained.details["verified_before"] is False
    assert rechained.details["first_problem_before"].startswith("flag 3:")
    assert sorted(per_flag) == ["1", "2"]
    assert [p.id for p in rep.problems] == [3]  # the re-chaining did not bless it
    # A re-chained flag is now checked on every field: moving it to another person is named.
    _raw(store, "UPDATE flags SET person_id = 2 WHERE id = 1")
    with store.session() as s:
        problems = verify(s).problems
    assert any(p.id == 1 and "who it is about" in p.message for p in problems), problems
    store.dispose()


def test_a_real_cycle_with_edits_and_masked_credentials_verifies(tmp_path: Path, tmp_db_url):
    """Edits re-analysed, credentials masked in the stored post, flags superseded: all chained."""
    import json

    from monitor.collectors.replay import ReplayCollector
    from monitor.config import settings_from_dict
    from monitor.jobs.cycle import run_cycle
    from monitor.pipeline.factory import build_pipeline
    from monitor.store import Store, repo
    from monitor.store.schema import AuditEventRow

    settings = settings_from_dict({"store": {"url": tmp_db_url}, "model": {"enabled": False}},
                                  source="test")
    store = Store(tmp_db_url)
    with store.session() as s:
        alice = fx.person(s, "alice@example.com")
        repo.add_account_with_consent(s, alice, "bluesky", "alice.bsky.social", "2026.1",
                                      "0" * 64, "test", "test")
    path = tmp_path / "posts.jsonl"
    pipeline = build_pipeline(settings)
    for text_ in ("the wifi password is Kettle-Moon-4471 for the offsite",
                  "the wifi password is Kettle-Moon-4471; my key AKIAQ3EGRT5KW7JXN2PB oops",
                  "all fine now, sorry"):
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"id": "p1", "platform": "bluesky",
                                 "account": "alice.bsky.social", "text": text_}) + "\n")
        run_cycle(store, settings, pipeline, {"bluesky": ReplayCollector(path)})
        with store.session() as s:
            rep = verify(s)
        assert rep.ok, rep.first_broken
    with store.session() as s:
        post = s.scalars(select(PostRow)).one()
        assert "AKIAQ3EGRT5KW7JXN2PB" not in (post.text or "")
        actions = s.scalars(select(AuditEventRow.action)).all()
    assert rep.flags_checked == 2 and "flag.post_changed" in actions, actions
    store.dispose()
