"""Store: migrations create exactly the ORM schema; SQLite runs in WAL mode; queries behave."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from monitor.domain import Finding, Flag, Post
from monitor.store import Store, audit, repo
from monitor.store.schema import AuditEventRow, Base, PersonRow


def test_migrations_match_the_models(fresh_store: Store) -> None:
    with fresh_store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert fresh_store.current_revisions() == fresh_store.head_revisions()


def test_sqlite_store_is_wal(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    Store(f"sqlite:///{db}").dispose()
    mode = sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_upgrade_twice_is_harmless(fresh_store: Store) -> None:
    fresh_store.upgrade()
    assert fresh_store.current_revisions() == fresh_store.head_revisions()


def _person(store: Store, email: str, manager: int | None = None) -> int:
    with store.session() as s:
        p = PersonRow(email=email, team="T", timezone="UTC", manager_id=manager)
        s.add(p)
        s.flush()
        return p.id


def test_only_consented_accounts_are_listed(fresh_store: Store) -> None:
    pid = _person(fresh_store, "a@example.com")
    with fresh_store.session() as s:
        owner = s.get(PersonRow, pid)
        assert owner is not None
        acc, created = repo.add_account_with_consent(
            s, owner, "bluesky", "a.bsky.social", "1", "h", "ref", actor="t")
        assert created
        acc2, _ = repo.add_account_with_consent(
            s, owner, "bluesky", "b.bsky.social", "1", "h", "ref", actor="t")
        consent = repo.active_consent(s, acc2.id)
        assert consent is not None
        consent.withdrawn_at = consent.given_at
    with fresh_store.session() as s:
        handles = [a.handle for a in repo.consented_accounts(s)]
    assert handles == ["a.bsky.social"]


def test_nobody_connects_someone_elses_account(fresh_store: Store) -> None:
    a = _person(fresh_store, "a@example.com")
    b = _person(fresh_store, "b@example.com")
    with fresh_store.session() as s:
        pa, pb = s.get(PersonRow, a), s.get(PersonRow, b)
        assert pa and pb
        repo.add_account_with_consent(s, pa, "x", "alice", "1", "h", None, actor="t")
        try:
            repo.add_account_with_consent(s, pb, "x", "alice", "1", "h", None, actor="t")
        except Exception as exc:  # NotFoundError
            assert "already connected" in str(exc)
        else:
            raise AssertionError("second owner was accepted")


def test_post_upsert_detects_edits_and_never_duplicates(fresh_store: Store) -> None:
    with fresh_store.session() as s:
        assert repo.upsert_post(s, Post("1", "hello", "x"), None).status == "new"
        assert repo.upsert_post(s, Post("1", "hello", "x"), None).status == "unchanged"
        assert repo.upsert_post(s, Post("1", "hello!", "x"), None).status == "edited"
        assert repo.upsert_post(s, Post("1", "hello", "bluesky"), None).status == "new"


def test_team_members_follow_the_management_chain(fresh_store: Store) -> None:
    boss = _person(fresh_store, "boss@example.com")
    mid = _person(fresh_store, "mid@example.com", boss)
    leaf = _person(fresh_store, "leaf@example.com", mid)
    other = _person(fresh_store, "other@example.com")
    with fresh_store.session() as s:
        assert repo.team_member_ids(s, boss) == {mid, leaf}
        assert repo.team_member_ids(s, mid) == {leaf}
        assert other not in repo.team_member_ids(s, boss)


def test_flag_and_status_changes_are_chained_in_the_audit_log(fresh_store: Store) -> None:
    post = Post("p1", "my key AKIAZ4QW7PL2XR5NB3TD", "x")
    finding = Finding("credentials", "rule:test", "critical", 0.99, [(7, 27)], "rotate it")
    with fresh_store.session() as s:
        prow = repo.upsert_post(s, post, None).row
        flag = repo.record_flag(s, Flag(post, [finding]), prow, None, None)
        repo.set_flag_status(s, flag, "resolved", "tester", resolution="self_resolved")
    with fresh_store.session() as s:
        rows = s.scalars(select(AuditEventRow).order_by(AuditEventRow.id)).all()
        assert [r.action for r in rows] == ["flag.created", "flag.status"]
        assert rows[1].prev_hash == rows[0].hash
        assert all(r.hash == audit.entry_hash(r) for r in rows)
        # Audit entries never carry the post's text.
        assert all("AKIA" not in str(r.details) for r in rows)
