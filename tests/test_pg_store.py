"""The store on a real PostgreSQL server: migrations, the audit chain under concurrent writers."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select, text
from typer.testing import CliRunner

from monitor.cli import app
from monitor.domain import Post
from monitor.store import Store, audit, repo
from monitor.store.schema import AccountRow, AuditEventRow, Base, PostRow
from tests.pg_support import pg_config, pg_store  # noqa: F401 (fixtures)

runner = CliRunner()

pytestmark = pytest.mark.postgres


def test_db_upgrade_creates_exactly_the_models_and_twice_is_harmless(
    pg_database: str, pg_config: Path  # noqa: F811
) -> None:
    store = Store(pg_database, auto_upgrade=False)
    try:
        assert store.dialect == "postgresql"
        assert inspect(store.engine).get_table_names() == []  # nothing happens implicitly
        first = runner.invoke(app, ["db", "upgrade", "--config", str(pg_config)])
        assert first.exit_code == 0, first.output
        assert "upgraded" in first.output
        assert store.current_revisions() == store.head_revisions()
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
        second = runner.invoke(app, ["db", "upgrade", "--config", str(pg_config)])
        assert second.exit_code == 0, second.output
        assert "already up to date" in second.output
        store.upgrade()
        assert store.current_revisions() == store.head_revisions()
    finally:
        store.dispose()


def test_concurrent_appends_form_one_unbroken_chain(pg_store: Store) -> None:  # noqa: F811
    threads, appends = 4, 25
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(appends):
                # Each append is its own transaction on its own pooled connection.
                with pg_store.session() as s:
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
    with pg_store.session() as s:
        report = audit.verify(s)
        assert report.ok, [str(p) for p in report.problems]
        assert report.entries == threads * appends
        prevs = s.scalars(select(AuditEventRow.prev_hash)).all()
        assert len(set(prevs)) == len(prevs)  # no fork: nobody chained onto the same entry
        assert s.scalar(select(func.count()).where(AuditEventRow.prev_hash == audit.GENESIS)) == 1


def test_chain_verifies_after_reload_from_postgresql(pg_store: Store) -> None:  # noqa: F811
    # Timestamps and JSON come back from PostgreSQL in its own types; the hash must not care.
    with pg_store.session() as s:
        for i in range(3):
            audit.record(s, "tester", "note", "thing", i,
                         {"n": i, "ratio": 0.1 * i, "nested": {"b": [1, 2], "a": None}})
        # Text PostgreSQL cannot keep as given (U+0000) still hashes as stored.
        audit.record(s, "slack:U1\x00", "note", "thing", "x\x00y", {"raw": "a\x00b"})
    with pg_store.session() as s:
        rows = s.scalars(select(AuditEventRow).order_by(AuditEventRow.id)).all()
        assert all(r.at.tzinfo is not None for r in rows)
        assert all(r.hash == audit.entry_hash(r) for r in rows)
        assert audit.verify(s).ok


def test_posts_with_nul_characters_are_stored(pg_store: Store) -> None:  # noqa: F811
    # PostgreSQL text cannot hold U+0000; a post carrying one must still be stored once.
    post = Post("nul-1", "before\x00after", "bluesky", author="a\x00b")
    with pg_store.session() as s:
        assert repo.upsert_post(s, post, None).status == "new"
    with pg_store.session() as s:
        assert repo.upsert_post(s, post, None).status == "unchanged"
        row = s.scalars(select(PostRow)).one()
        assert row.text is not None and row.text.startswith("before") and row.text.endswith("after")
        assert len(row.text) == len(post.text)  # spans into the text keep their offsets
        assert row.content_hash == repo.text_hash(post.text)


def test_long_post_ids_urls_and_authors_are_stored(pg_store: Store) -> None:  # noqa: F811
    # SQLite ignores VARCHAR lengths; PostgreSQL enforces them. Feeds and replays carry long ones.
    long_id = "https://example.org/feed/" + "x" * 700
    post = Post(long_id, "hello", "rss", author="A" * 600, url="https://example.org/" + "y" * 3000)
    with pg_store.session() as s:
        assert repo.upsert_post(s, post, None).status == "new"
    with pg_store.session() as s:
        assert repo.upsert_post(s, post, None).status == "unchanged"
        row = s.scalars(select(PostRow)).one()
        assert row.post_id == long_id and row.url == post.url and row.author == post.author


def test_data_migrations_run_on_postgresql(pg_database: str) -> None:
    # 0004 vouches for accounts an operator imported and leaves Slack-connected ones unproven.
    store = Store(pg_database, auto_upgrade=False)
    try:
        store.upgrade("0002_compliance")
        store.upgrade("0003_posts_text")
        with store.engine.begin() as conn:
            conn.execute(text("INSERT INTO people (id, email, timezone, created_at, updated_at) "
                              "VALUES (1, 'a@example.com', 'UTC', now(), now())"))
            for i, ref in ((1, "HR-7"), (2, "slack:UALICE"), (3, None)):
                conn.execute(text("INSERT INTO accounts (id, owner_id, platform, handle, "
                                  "created_at) VALUES (:i, 1, 'bluesky', :h, now())"),
                             {"i": i, "h": f"h{i}.bsky.social"})
                conn.execute(text("INSERT INTO consents (account_id, policy_version, "
                                  "notice_hash, reference, given_at) "
                                  "VALUES (:a, '1', 'h', :r, now())"), {"a": i, "r": ref})
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
