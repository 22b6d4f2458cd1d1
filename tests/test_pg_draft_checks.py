"""Draft-check counters and integration tokens on a real PostgreSQL server."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from monitor.guidance.draft_counts import ALL_DRAFTS, count
from monitor.store import Store
from monitor.store.api_tokens import add_token, live_token, revoke_token
from monitor.store.schema import DraftCheckCountRow
from tests.pg_support import pg_store  # noqa: F401 (fixture)

pytestmark = pytest.mark.postgres


def test_concurrent_checks_count_exactly(pg_store: Store) -> None:  # noqa: F811
    threads, each = 4, 20
    start = threading.Barrier(threads)
    at = datetime(2026, 3, 4, tzinfo=UTC)

    def work() -> None:
        start.wait()
        for _ in range(each):
            count(pg_store, ["pii"], at)

    ts = [threading.Thread(target=work) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    with pg_store.session() as s:
        got = {(r.week, r.category): r.drafts for r in s.scalars(select(DraftCheckCountRow))}
    assert got == {("2026-03-02", ALL_DRAFTS): threads * each,
                   ("2026-03-02", "pii"): threads * each}


def test_tokens_live_and_revoked(pg_store: Store) -> None:  # noqa: F811
    with pg_store.session() as s:
        _, token = add_token(s, "publisher")
    with pg_store.session() as s:
        assert live_token(s, token) is not None
        revoke_token(s, "publisher")
    with pg_store.session() as s:
        assert live_token(s, token) is None
