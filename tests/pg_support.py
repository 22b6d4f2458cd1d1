"""Helpers for the PostgreSQL-only tests: a migrated PostgreSQL store, and a wait for a
transaction that blocks on a lock (read from pg_stat_activity, which SQLite has not)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from monitor.store import Store


@pytest.fixture
def pg_store(pg_database: str) -> Iterator[Store]:
    """A migrated, empty store in its own PostgreSQL database."""
    store = Store(pg_database, auto_upgrade=True)
    assert store.dialect == "postgresql"
    yield store
    store.dispose()


def wait_until_blocked(store: Store, sessions: int = 1) -> None:
    """Return once ``sessions`` other connections of this database wait on a lock (no sleeping)."""
    polls = 0
    with store.engine.connect() as conn:
        while conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )).scalar_one() < sessions:
            conn.rollback()
            polls += 1
            # A guard, not a timing assertion: the other side died before it could wait.
            assert polls < 200_000, "the other transaction never waited for a lock"
