"""The database locked by another writer, or its connection dropped, in the middle of a cycle."""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

import pytest
from sqlalchemy import create_engine, event, select, text

from monitor.collectors.registry import build_collectors
from monitor.domain import utcnow
from monitor.errors import StoreError
from monitor.jobs.scheduler import Jobs
from monitor.metrics import JOB_FAILURES
from monitor.slack.notifier import build_notifier
from monitor.store import Store
from monitor.store.schema import CursorRow
from tests.faults.harness import FaultWorld, assert_invariants, stored_posts

pytestmark = pytest.mark.slow


class Locker:
    """Another process's writer: holds SQLite's write lock from the first fetch on."""

    def __init__(self, path: str):
        self.path = path
        self.held = threading.Event()
        self.release = threading.Event()
        self._thread: threading.Thread | None = None

    def hold(self, seconds: float | None = None) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, args=(seconds,), daemon=True)
        self._thread.start()
        self.held.wait(5)

    def _run(self, seconds: float | None) -> None:
        conn = sqlite3.connect(self.path, timeout=5, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        self.held.set()
        self.release.wait(seconds)
        conn.execute("COMMIT")
        conn.close()

    def stop(self) -> None:
        self.release.set()
        if self._thread is not None:
            self._thread.join(5)


def _db_path(store: Store) -> str:
    return store.url.removeprefix("sqlite:///")


def test_a_write_lock_held_by_another_writer_is_waited_out(
        world: FaultWorld, caplog: pytest.LogCaptureFixture) -> None:
    world.populate(accounts=3, posts=2)
    store = Store(world.store.url, busy_timeout=0.3)
    locker = Locker(_db_path(store))
    world.fakes["bluesky"].on_request = lambda _seen: locker.hold(seconds=2.0)
    try:
        report = world.cycle(store=store)
    finally:
        locker.stop()
        store.dispose()
    assert locker.held.is_set()
    assert sum(report.errors.values()) == 0 and report.posts_new == 18
    assert any("database is locked" in r.message and "retrying" in r.message
               for r in caplog.records)
    world.drain()
    assert_invariants(world)


def test_a_lock_that_outlasts_the_retries_fails_the_job_not_the_daemon(
        world: FaultWorld, caplog: pytest.LogCaptureFixture) -> None:
    world.populate(accounts=3, posts=2)
    settings = world.settings()
    store = Store(world.store.url, busy_timeout=0.3)
    jobs = Jobs(store, settings, world.pipeline(settings), build_collectors(settings),
                build_notifier(settings))
    locker = Locker(_db_path(store))
    world.fakes["bluesky"].on_request = lambda _seen: locker.hold()
    before = JOB_FAILURES.labels("collect:bluesky")._value.get()
    try:
        assert jobs.collect("bluesky") is None  # logged and counted, nothing raised
    finally:
        locker.stop()
    assert JOB_FAILURES.labels("collect:bluesky")._value.get() == before + 1
    failed = [r for r in caplog.records if r.getMessage() == "job failed"]
    assert failed and isinstance(failed[0].exc_info[1], StoreError)  # type: ignore[index]
    assert "database is locked" in str(failed[0].exc_info[1])  # type: ignore[index]
    # Nothing of the batch was half-written: no post, no cursor moved.
    assert stored_posts(store)["bluesky"] == 0
    with store.session() as s:
        assert all(c.last_uri is None for c in s.scalars(select(CursorRow)))
    # The lock is gone: the same daemon's next run collects all of it at once.
    world.fakes["bluesky"].on_request = None
    report = jobs.collect("bluesky")
    assert report is not None and report.errors["bluesky"] == 0
    assert report.posts_new == 6
    for platform in ("mastodon", "rss"):
        assert jobs.collect(platform) is not None
    store.dispose()
    world.drain()
    assert_invariants(world)


def _drop_on_first_post_insert(store: Store, drop: Any) -> list[str]:
    """Cut the connection under the first INSERT INTO posts; return what was dropped."""
    dropped: list[str] = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def cut(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not dropped and statement.lstrip().upper().startswith("INSERT INTO POSTS"):
            dropped.append(statement.split("(")[0])
            drop(conn.connection.dbapi_connection)

    return dropped


def test_sqlite_connection_dropped_mid_cycle_loses_nothing(
        world: FaultWorld, caplog: pytest.LogCaptureFixture) -> None:
    world.populate(accounts=3, posts=2)
    dropped = _drop_on_first_post_insert(world.store, lambda dbapi: dbapi.close())
    report = world.cycle()
    assert dropped
    assert sum(report.errors.values()) == 0 and report.posts_new == 18
    assert any("retrying" in r.message for r in caplog.records)
    world.drain()
    assert_invariants(world)


@pytest.mark.postgres
def test_postgresql_connection_dropped_mid_cycle_loses_nothing(
        pg_world: FaultWorld, caplog: pytest.LogCaptureFixture) -> None:
    world = pg_world
    world.populate(accounts=3, posts=2)
    admin = create_engine(world.store.url, isolation_level="AUTOCOMMIT")

    def terminate(dbapi: Any) -> None:
        with admin.connect() as c:
            c.execute(text("SELECT pg_terminate_backend(:pid)"),
                      {"pid": dbapi.info.backend_pid})

    dropped = _drop_on_first_post_insert(world.store, terminate)
    try:
        report = world.cycle()
    finally:
        admin.dispose()
    assert dropped
    assert sum(report.errors.values()) == 0 and report.posts_new == 18
    assert any("retrying" in r.message for r in caplog.records)
    world.drain(utcnow())
    assert_invariants(world)
