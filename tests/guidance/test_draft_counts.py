"""Draft-check counters, on SQLite and PostgreSQL: concurrent checks count exactly."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import select

from monitor.guidance.draft_counts import ALL_DRAFTS, count
from monitor.store import Store
from monitor.store.schema import DraftCheckCountRow


def test_concurrent_checks_count_exactly(store: Store) -> None:
    threads, each = 4, 20
    start = threading.Barrier(threads)
    at = datetime(2026, 3, 4, tzinfo=UTC)

    def work() -> None:
        start.wait()
        for _ in range(each):
            count(store, ["pii"], at)

    ts = [threading.Thread(target=work) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    with store.session() as s:
        got = {(r.week, r.category): r.drafts for r in s.scalars(select(DraftCheckCountRow))}
    assert got == {("2026-03-02", ALL_DRAFTS): threads * each,
                   ("2026-03-02", "pii"): threads * each}
