"""The store on SQLite and PostgreSQL: migrations create exactly the ORM schema, queries and
the audit chain behave; SQLite runs in WAL mode; PostgreSQL keeps one chain under writers."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select, text
from typer.testing import CliRunner

from monitor.cli import app
from monitor.domain import Finding, Flag, Post
from monitor.store import Store, audit, repo
from monitor.store.schema import AccountRow, AuditEventRow, Base, PersonRow, PostRow

runner = CliRunner()


def test_migrations_match_the_models(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert store.current_revisions() == store.head_revisions()


def test_sqlite_store_is_wal(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    Store(f"sqlite:///{db}").dispose()
    mode = sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_upgrade_twice_is_harmless(store: Store) -> None:
    store.upgrade()
    assert store.current_revisions() == store.head_revisions()


def _person(store: Store, email: str, manager: int | None = None) -> int:
    with store.session() as s:
        p = PersonRow(email=email, team="T", timezone="UTC", manager_id=manager)
        s.add(p)
        s.flush()
        return p.id


def test_only_consented_accounts_are_listed(store: Store) -> None:
    pid = _person(store, "a@example.com")
    with store.session() as s:
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
    with store.session() as s:
        handles = [a.handle for a in repo.consented_accounts(s)]
    assert handles == ["a.bsky.social"]


def test_nobody_connects_someone_elses_account(store: Store) -> None:
    a = _person(store, "a@example.com")
    b = _person(store, "b@example.com")
    with store.session() as s:
        pa, pb = s.get(PersonRow, a), s.get(PersonRow, b)
        assert pa and pb
        repo.add_account_with_consent(s, pa, "x", "alice", "1", "h", None, actor="t")
        try:
            repo.add_account_with_consent(s, pb, "x", "alice", "1", "h", None, actor="t")
        except Exception as exc:  # NotFoundError
            assert "already connected" in str(exc)
        else:
            raise AssertionError("second owner was accepted")


def test_post_upsert_detects_edits_and_never_duplicates(store: Store) -> None:
    with store.session() as s:
        assert repo.upsert_post(s, Post("1", "hello", "x"), None).status == "new"
        assert repo.upsert_post(s, Post("1", "hello", "x"), None).status == "unchanged"
        assert repo.upsert_post(s, Post("1", "hello!", "x"), None).status == "edited"
        assert repo.upsert_post(s, Post("1", "hello", "bluesky"), None).status == "new"


def test_team_members_follow_the_management_chain(store: Store) -> None:
    boss = _person(store, "boss@example.com")
    mid = _person(store, "mid@example.com", boss)
    leaf = _person(store, "leaf@example.com", mid)
    other = _person(store, "other@example.com")
    with store.session() as s:
        assert repo.team_member_ids(s, boss) == {mid, leaf}
        assert repo.team_member_ids(s, mid) == {leaf}
        assert other not in repo.team_member_ids(s, boss)


def test_flag_and_status_changes_are_chained_in_the_audit_log(store: Store) -> None:
    post = Post("p1", "my key AKIAZ4QW7PL2XR5NB3TD", "x")
    finding = Finding("credentials", "rule:test", "critical", 0.99, [(7, 27)], "rotate it")
    with store.session() as s:
        prow = repo.upsert_post(s, post, None).row
        flag = repo.record_flag(s, Flag(post, [finding]), prow, None, None)
        repo.set_flag_status(s, flag, "resolved", "tester", resolution="self_resolved")
    with store.session() as s:
        rows = s.scalars(select(AuditEventRow).order_by(AuditEventRow.id)).all()
        assert [r.action for r in rows] == ["flag.created", "flag.status"]
        assert rows[1].prev_hash == rows[0].hash
        assert all(r.hash == audit.entry_hash(r) for r in rows)
        # Audit entries never carry the post's text.
        assert all("AKIA" not in str(r.details) for r in rows)


def test_db_upgrade_creates_exactly_the_models_and_twice_is_harmless(
    store_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\nurl = "{store_url}"\n', encoding="utf-8")
    store = Store(store_url, auto_upgrade=False)
    try:
        assert inspect(store.engine).get_table_names() == []  # nothing happens implicitly
        first = runner.invoke(app, ["db", "upgrade", "--config", str(config)])
        assert first.exit_code == 0, first.output
        assert "upgraded" in first.output
        assert store.current_revisions() == store.head_revisions()
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
        second = runner.invoke(app, ["db", "upgrade", "--config", str(config)])
        assert second.exit_code == 0, second.output
        assert "already up to date" in second.output
        store.upgrade()
        assert store.current_revisions() == store.head_revisions()
    finally:
        store.dispose()


def test_concurrent_appends_form_one_unbroken_chain(store: Store) -> None:
    threads, appends = 4, 25
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(appends):
                # Each append is its own transaction on its own pooled connection.
                with store.session() as s:
                    audit.record(s, f"worker-{n}", "test.append", "thing", i,
                                 {"worker": n, "i": i, "text": "naïve \u2028 ✓"})
        except BaseException as exc:  # surfaced below, not lost in the thread
            errors.append(exc)

    pool = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []
    with store.session() as s:
        report = audit.verify(s)
        assert report.ok, [str(p) for p in report.problems]
        assert report.entries == threads * appends
        prevs = s.scalars(select(AuditEventRow.prev_hash)).all()
        assert len(set(prevs)) == len(prevs)  # no fork: nobody chained onto the same entry
        assert s.scalar(select(func.count()).where(AuditEventRow.prev_hash == audit.GENESIS)) == 1


def test_chain_verifies_after_reload(store: Store) -> None:
    # Timestamps and JSON come back from the database in its own types; the hash must not care.
    with store.session() as s:
        for i in range(3):
            audit.record(s, "tester", "note", "thing", i,
                         {"n": i, "ratio": 0.1 * i, "nested": {"b": [1, 2], "a": None}})
        # Text PostgreSQL cannot keep as given (U+0000) still hashes as stored.
        audit.record(s, "slack:U1\x00", "note", "thing", "x\x00y", {"raw": "a\x00b"})
    with store.session() as s:
        rows = s.scalars(select(AuditEventRow).order_by(AuditEventRow.id)).all()
        assert all(r.at.tzinfo is not None for r in rows)
        assert all(r.hash == audit.entry_hash(r) for r in rows)
        assert audit.verify(s).ok


def test_posts_with_nul_characters_are_stored(store: Store) -> None:
    # PostgreSQL text cannot hold U+0000; a post carrying one must still be stored once.
    post = Post("nul-1", "before\x00after", "bluesky", author="a\x00b")
    with store.session() as s:
        assert repo.upsert_post(s, post, None).status == "new"
    with store.session() as s:
        assert repo.upsert_post(s, post, None).status == "unchanged"
        row = s.scalars(select(PostRow)).one()
        assert row.text is not None and row.text.startswith("before") and row.text.endswith("after")
        assert len(row.text) == len(post.text)  # spans into the text keep their offsets
        assert row.content_hash == repo.text_hash(post.text)


def test_long_post_ids_urls_and_authors_are_stored(store: Store) -> None:
    # SQLite ignores VARCHAR lengths; PostgreSQL enforces them. Feeds and replays carry long ones.
    long_id = "https://example.org/feed/" + "x" * 700
    post = Post(long_id, "hello", "rss", author="A" * 600, url="https://example.org/" + "y" * 3000)
    with store.session() as s:
        assert repo.upsert_post(s, post, None).status == "new"
    with store.session() as s:
        assert repo.upsert_post(s, post, None).status == "unchanged"
        row = s.scalars(select(PostRow)).one()
        assert row.post_id == long_id and row.url == post.url and row.author == post.author


def test_data_migrations_vouch_for_imported_accounts_only(store_url: str) -> None:
    # 0004 vouches for accounts an operator imported and leaves Slack-connected ones unproven.
    store = Store(store_url, auto_upgrade=False)
    try:
        store.upgrade("0002_compliance")
        store.upgrade("0003_posts_text")
        with store.engine.begin() as conn:
            conn.execute(text("INSERT INTO people (id, email, timezone, created_at, updated_at) "
                              "VALUES (1, 'a@example.com', 'UTC', CURRENT_TIMESTAMP, "
                              "CURRENT_TIMESTAMP)"))
            for i, ref in ((1, "HR-7"), (2, "slack:UALICE"), (3, None)):
                conn.execute(text("INSERT INTO accounts (id, owner_id, platform, handle, "
                                  "created_at) VALUES (:i, 1, 'bluesky', :h, CURRENT_TIMESTAMP)"),
                             {"i": i, "h": f"h{i}.bsky.social"})
                conn.execute(text("INSERT INTO consents (account_id, policy_version, "
                                  "notice_hash, reference, given_at) "
                                  "VALUES (:a, '1', 'h', :r, CURRENT_TIMESTAMP)"),
                             {"a": i, "r": ref})
        store.upgrade()
        assert store.current_revisions() == store.head_revisions()
        with store.session() as s:
            rows = {a.handle: (a.verification_method, a.verified_at is not None)
                    for a in s.scalars(select(AccountRow))}
        assert rows == {"h1.bsky.social": ("hr_import", True),
                        "h2.bsky.social": (None, False),
                        "h3.bsky.social": ("hr_import", True)}
    finally:
        store.dispose()
