"""Flag-log paging on a million flags: first and deep keyset pages, filters, search, export.

Run: ``python -m bench.bench_web`` (``BENCH_WEB_FLAGS`` sets the size, default 1,000,000).
"""

from __future__ import annotations

import os
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from monitor.compliance import queries
from monitor.compliance.users import Viewer
from monitor.domain import CATEGORIES, SEVERITY_ORDER
from monitor.store import Store
from monitor.store.schema import FlagRow

STATUSES = ("open", "acknowledged", "resolved", "dismissed", "escalated")
TEAMS = [f"Team {i}" for i in range(40)]
RULES = [f"rule:bench.r{i}" for i in range(30)]
WORDS = "launch quarterly numbers password customer roadmap secret falcon great team".split()


def _fill(path: Path, n: int) -> None:
    """Bulk-insert people, posts, flags and findings straight through sqlite3 (fast)."""
    rnd = random.Random(7)
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA journal_mode=WAL")
    people = 2000
    con.executemany(
        "INSERT INTO people (id, email, name, manager_id, team, timezone, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, 'UTC', '2026-01-01 00:00:00.000000',"
        " '2026-01-01 00:00:00.000000')",
        [(i, f"p{i}@example.com", f"P {i}", None if i <= 40 else (i % 40) + 1,
          TEAMS[i % 40], ) for i in range(1, people + 1)],
    )
    start = datetime(2025, 1, 1, tzinfo=UTC)
    step = timedelta(seconds=400 * 86400 / n)
    batch = 50_000
    for lo in range(1, n + 1, batch):
        flags, findings = [], []
        for i in range(lo, min(lo + batch, n + 1)):
            at = (start + step * i).strftime("%Y-%m-%d %H:%M:%S.%f")
            pid = rnd.randint(1, people)
            cat = CATEGORIES[rnd.randrange(len(CATEGORIES))]
            words = " ".join(rnd.choice(WORDS) for _ in range(8))
            if rnd.random() < 0.0005:
                words += " zanzibar"
            flags.append((i, pid, rnd.choice(("bluesky", "x", "reddit", "mastodon")),
                          TEAMS[pid % 40], cat, f'["{cat}"]', rnd.choice(SEVERITY_ORDER), 0.9,
                          rnd.choice(STATUSES), words, 0, at, at))
            findings.append((i, cat, rnd.choice(RULES), "high", 0.9, "[[0, 4]]", "", 0, "[]"))
        con.executemany(
            "INSERT INTO flags (id, person_id, platform, team, category, categories, severity,"
            " score, status, excerpt, legal_hold, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", flags)
        con.executemany(
            "INSERT INTO findings (flag_id, category, source, severity, score, spans, guidance,"
            " shadow, explanation) VALUES (?,?,?,?,?,?,?,?,?)", findings)
        con.commit()
    con.execute("ANALYZE")
    con.commit()
    con.close()


def _time(fn, repeat: int = 5) -> float:
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs) * 1000


def main() -> None:
    n = int(os.environ.get("BENCH_WEB_FLAGS", "1000000"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        store = Store(f"sqlite:///{path}")
        t = time.perf_counter()
        _fill(path, n)
        print(f"flag log bench: {n:,} flags + {n:,} findings inserted in "
              f"{time.perf_counter() - t:.1f} s (SQLite)")
        boss = Viewer(1, "bench", "compliance", None)
        manager = Viewer(2, "m", "manager", 1)
        q0 = queries.FlagQuery()
        with store.session() as s:
            deep_row = s.execute(
                select(FlagRow.created_at, FlagRow.id)
                .order_by(FlagRow.created_at.desc(), FlagRow.id.desc()).offset(n // 2).limit(1)
            ).one()
            deep = queries.encode_cursor(deep_row.created_at, deep_row.id)

            def page(viewer=boss, query=q0, after=None):
                return lambda: queries.flag_page(s, viewer, query, after=after, limit=50)

            def offset_page():
                s.execute(select(FlagRow).order_by(FlagRow.created_at.desc(), FlagRow.id.desc())
                          .offset(n // 2).limit(50)).all()

            cases = [
                ("first page", page()),
                (f"keyset page at row {n // 2:,}", page(after=deep)),
                (f"OFFSET page at row {n // 2:,} (for comparison)", offset_page),
                ("category=pii", page(query=queries.FlagQuery(category="pii"))),
                ("category=pii, deep", page(query=queries.FlagQuery(category="pii"), after=deep)),
                ("status=escalated & severity=critical",
                 page(query=queries.FlagQuery(status="escalated", severity="critical"))),
                ("team=Team 7", page(query=queries.FlagQuery(team="Team 7"))),
                ("rule=rule:bench.r3", page(query=queries.FlagQuery(rule="rule:bench.r3"))),
                ("date range (one week in March)",
                 page(query=queries.FlagQuery(since=datetime(2025, 3, 1).date(),
                                              until=datetime(2025, 3, 7).date()))),
                ("manager scope (org subtree)", page(viewer=manager)),
                ("search q=zanzibar (rare, LIKE scan)",
                 page(query=queries.FlagQuery(q="zanzibar"))),
            ]
            results = {}
            for name, fn in cases:
                results[name] = _time(fn, repeat=3 if "OFFSET" in name or "q=" in name else 7)
                print(f"  {name:48s} {results[name]:9.1f} ms")
            first = results["first page"]
            keyset = results[f"keyset page at row {n // 2:,}"]
            off = results[f"OFFSET page at row {n // 2:,} (for comparison)"]
            print(f"  deep keyset / first page: {keyset / first:.2f}x; "
                  f"OFFSET / keyset at the same depth: {off / keyset:.0f}x")
            t = time.perf_counter()
            rows = sum(1 for _ in queries.iter_flags(s, boss, queries.FlagQuery(category="pii")))
            dt = time.perf_counter() - t
            print(f"  export walk category=pii: {rows:,} rows in {dt:.1f} s "
                  f"({rows / dt:,.0f} rows/s)")
        store.dispose()


if __name__ == "__main__":
    main()
