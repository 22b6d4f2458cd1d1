"""The collection cycle: consent only, isolation, backoff and row leases across workers."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text, update

from monitor.accounts.csv_import import apply_accounts, check_accounts, read_accounts_csv
from monitor.accounts.people import apply_people, check_managers, read_people_csv
from monitor.collectors.base import Collector, FetchResult
from monitor.collectors.registry import build_collectors
from monitor.config import Settings, settings_from_dict
from monitor.demo import demo_settings
from monitor.domain import AccountRef, utcnow
from monitor.guidance.outbox import deliver_due
from monitor.jobs.cycle import run_cycle
from monitor.jobs.report import CycleReport
from monitor.pipeline.factory import build_pipeline
from monitor.resources import demo_dir
from monitor.store import Store, audit, leases, repo
from monitor.store.schema import (
    AccountRow,
    ConsentRow,
    CursorRow,
    FlagRow,
    NudgeRow,
    PersonRow,
    PostRow,
)
from tests.collectors.conftest import World, world  # noqa: F401 (fixture)
from tests.collectors.helpers import post_count
from tests.pg import pg_database, pg_url  # noqa: F401 (fixtures)
from tests.pg_support import wait_until_blocked

NOW = datetime(2026, 11, 9, 12, 0, tzinfo=UTC)


def test_only_accounts_with_active_consent_are_ever_requested(world: World) -> None:  # noqa: F811
    fb = world.fakes["bluesky"]
    for h in ("yes.bsky.social", "never.bsky.social", "withdrawn.bsky.social"):
        fb.add_post(h, f"post by {h}")
    world.consent("bluesky", "yes.bsky.social")
    gone = world.consent("bluesky", "withdrawn.bsky.social")
    owner = world.person()
    with world.store.session() as s:
        s.add(AccountRow(owner_id=owner.id, platform="bluesky", handle="never.bsky.social"))
        s.execute(update(ConsentRow).where(ConsentRow.account_id == gone)
                  .values(withdrawn_at=utcnow()))
    world.cycle()
    world.cycle()
    asked = {r.account for r in fb.requests}
    assert asked == {"yes.bsky.social"}
    assert post_count(world.store, "bluesky") == 1


def test_a_failing_account_does_not_stop_the_others(world: World) -> None:  # noqa: F811
    fb = world.fakes["bluesky"]
    names = [f"u{i}.bsky.social" for i in range(6)]
    for h in names:
        fb.add_post(h, f"hello from {h}")
        world.consent("bluesky", h)
    fb.fail("500", account=names[2])
    report = world.cycle()
    assert list(report.skipped) == [f"bluesky/{names[2]}"]
    assert report.errors["bluesky"] == 1
    assert post_count(world.store, "bluesky") == 5


def test_backing_off_and_leased_accounts_are_skipped_with_the_reason(world: World) -> None:  # noqa: F811
    fb = world.fakes["bluesky"]
    ids = {}
    for h in ("a.bsky.social", "b.bsky.social", "c.bsky.social"):
        fb.add_post(h, "hello")
        ids[h] = world.consent("bluesky", h)
    leases.ensure_cursors(world.store, ids.values())
    later = utcnow() + timedelta(hours=1)
    with world.store.session() as s:
        s.execute(update(CursorRow).where(CursorRow.account_id == ids["a.bsky.social"])
                  .values(next_attempt_at=later, failures=3))
        s.execute(update(CursorRow).where(CursorRow.account_id == ids["b.bsky.social"])
                  .values(lease_owner="worker-2", lease_until=later))
    report = world.cycle()
    assert "backing off" in report.skipped["bluesky/a.bsky.social"]
    assert "another worker (worker-2)" in report.skipped["bluesky/b.bsky.social"]
    assert {r.account for r in fb.requests} == {"c.bsky.social"}


def _race(store: Store, ids: list[int]) -> list[list[int]]:
    """Two workers claim the same accounts at the same moment."""
    got: list[list[int]] = [[], []]
    barrier = threading.Barrier(2)

    def run(i: int) -> None:
        barrier.wait()
        got[i] = leases.claim(store, ids, f"w{i}", utcnow(), 600).claimed

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return got


def _accounts(store: Store, n: int) -> list[int]:
    with store.session() as s:
        owner = PersonRow(email="o@example.com", name="o")
        s.add(owner)
        s.flush()
        out = []
        for i in range(n):
            acc, _ = repo.add_account_with_consent(s, owner, "rss", f"feed{i}", "1", "0" * 64,
                                                   None, "test")
            out.append(acc.id)
    leases.ensure_cursors(store, out)
    return out


def test_two_workers_never_claim_the_same_account(store: Store) -> None:
    ids = _accounts(store, 1200)
    leases.ensure_cursors(store, ids)  # a second worker's insert race is harmless
    a, b = _race(store, ids)
    assert not set(a) & set(b)
    assert sorted(a + b) == sorted(ids)
    # Released leases can be claimed again; held ones cannot.
    with store.session() as s:
        leases.release(s, a, "w0")
    again = leases.claim(store, ids, "w2", utcnow(), 600)
    assert sorted(again.claimed) == sorted(a)
    assert set(again.leased_elsewhere) == set(b)


def test_a_later_version_in_the_same_fetch_wins(tmp_path, settings) -> None:  # type: ignore[no-untyped-def]
    """A replayed history that carries an edit stores the edited text, once."""
    import json

    from sqlalchemy import select as _select

    from monitor.collectors.replay import ReplayCollector
    from monitor.jobs.cycle import run_cycle as _run
    from monitor.pipeline.factory import build_pipeline
    from monitor.store import Store as _Store
    from monitor.store import repo as _repo
    from monitor.store.schema import PersonRow as _Person
    from monitor.store.schema import PostRow as _PostRow

    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [
        {"id": "p1", "platform": "bluesky", "account": "a.bsky.social", "text": "first draft"},
        {"id": "p1", "platform": "bluesky", "account": "a.bsky.social", "text": "final text"},
    ]) + "\n")
    store = _Store(settings.store.url)
    with store.session() as s:
        owner = _Person(email="a@example.com", timezone="UTC")
        s.add(owner)
        s.flush()
        _repo.add_account_with_consent(s, owner, "bluesky", "a.bsky.social", "1", "h", "r",
                                       actor="t")
    _run(store, settings, build_pipeline(settings), {"bluesky": ReplayCollector(path)})
    with store.session() as s:
        texts = s.scalars(_select(_PostRow.text)).all()
    assert texts == ["final text"]


class Exploding:
    """A detector that fails on posts carrying a marker, as a pipeline bug would."""

    name = "exploding"

    def __init__(self, marker: str):
        self.marker = marker
        self.seen: list[str] = []

    def detect(self, posts):  # type: ignore[no-untyped-def]
        self.seen.extend(p.id for p in posts)
        if any(self.marker in p.text for p in posts):
            raise RecursionError("maximum recursion depth exceeded")
        return [[] for _ in posts]


def test_a_post_that_fails_analysis_costs_only_its_own_result(
        world: World, caplog) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from sqlalchemy import select

    from monitor.collectors.registry import build_collectors
    from monitor.jobs.cycle import run_cycle
    from monitor.pipeline.factory import build_pipeline
    from monitor.store.schema import FlagRow, PostRow
    from tests.collectors.helpers import LEAK, cursor

    fb = world.fakes["bluesky"]
    fb.add_post("a.bsky.social", f"key {LEAK}")
    bad = fb.add_post("a.bsky.social", f"deep {'[' * 50} trap {LEAK}")
    fb.add_post("a.bsky.social", "a quiet day")
    fb.add_post("b.bsky.social", f"other key {LEAK}")
    aid = world.consent("bluesky", "a.bsky.social")
    world.consent("bluesky", "b.bsky.social")
    settings = world.settings()
    base = build_pipeline(settings)
    boom = Exploding("trap")
    pipeline = replace(base, detectors=[*base.detectors, boom])
    collectors = build_collectors(settings)
    report = run_cycle(world.store, settings, pipeline, collectors, platforms=["bluesky"])
    # The batch and the account survive; only the bad post misses its analysis.
    assert report.errors["bluesky"] == 0 and report.skipped == {}
    assert report.posts_new == 4
    assert report.flags["credentials"] == 2
    bad_id = fb.uri("a.bsky.social", bad.id)  # the post id Bluesky gives: its URI
    key = f"bluesky/{bad_id}"
    assert list(report.posts_unanalysed) == [key]
    assert report.posts_unanalysed[key].startswith("account a.bsky.social: ")
    assert "RecursionError" in report.posts_unanalysed[key]
    assert LEAK not in report.posts_unanalysed[key]
    assert any(f"post {key} of account a.bsky.social not analysed" in r.message
               for r in caplog.records)
    with world.store.session() as s:
        errors = dict(s.execute(select(PostRow.post_id, PostRow.analysis_error)).all())
        flagged = set(s.scalars(select(PostRow.post_id).join(FlagRow,
                                                             FlagRow.post_id == PostRow.id)))
    assert errors[bad_id] is not None and "RecursionError" in errors[bad_id]
    assert [e for pid, e in errors.items() if pid != bad_id] == [None, None, None]
    assert bad_id not in flagged and len(flagged) == 2
    # The cursor moved past it, and it is not analysed again on the next cycle.
    assert cursor(world.store, aid).last_uri is not None
    boom.seen.clear()
    fb.add_post("a.bsky.social", "new one")
    again = run_cycle(world.store, settings, pipeline, collectors, platforms=["bluesky"])
    assert again.posts_unanalysed == {} and again.posts_new == 1
    assert bad_id not in boom.seen and len(boom.seen) == 1


def _dead_pid() -> int:
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_lease_whose_holder_process_is_gone_is_taken_over_at_once(store: Store) -> None:
    import os
    import socket

    fresh_store = store
    ids = _accounts(fresh_store, 4)
    me = leases.process_identity()
    host, ns, _, _ = me.split("|")
    parent = leases._identity(os.getppid())
    later = utcnow() + timedelta(minutes=30)
    holders = {
        ids[0]: f"{host}|{ns}|{_dead_pid()}|12345",  # killed: no such process any more
        ids[1]: parent,  # alive on this host: its lease stands
        ids[2]: f"elsewhere.example|{ns}|1|1",  # another host: only expiry frees it
        ids[3]: f"{host}|pid:[1]|{_dead_pid()}|1",  # another container's PID namespace
    }
    assert socket.gethostname() == host
    with fresh_store.session() as s:
        for aid, holder in holders.items():
            s.execute(update(CursorRow).where(CursorRow.account_id == aid)
                      .values(lease_owner="old", lease_until=later, lease_process=holder))
    got = leases.claim(fresh_store, ids, "new", utcnow())
    assert got.claimed == [ids[0]]
    assert got.taken_over == {ids[0]: holders[ids[0]]}
    assert set(got.leased_elsewhere) == {ids[1], ids[2], ids[3]}
    assert leases.holder_is_gone(holders[ids[0]]) and not leases.holder_is_gone(me)
    assert not leases.holder_is_gone(parent) and not leases.holder_is_gone("garbage")


def test_a_lease_lapses_without_its_heartbeat_and_lasts_with_it(fresh_store: Store) -> None:
    import time

    ids = _accounts(fresh_store, 2)
    short = 1.2  # beats every 0.3 s: a loaded machine still keeps up
    first = leases.claim(fresh_store, ids[:1], "w-a", utcnow(), lease_seconds=short)
    assert first.claimed == ids[:1]
    time.sleep(short + 0.2)
    # No heartbeat: once expired, another worker (even in this very process) may claim it.
    assert leases.claim(fresh_store, ids[:1], "w-b", utcnow()).claimed == ids[:1]
    with leases.Heartbeat(fresh_store, "w-c", lease_seconds=short) as beat:
        assert leases.claim(fresh_store, ids[1:], "w-c", utcnow(),
                            lease_seconds=short).claimed == ids[1:]
        time.sleep(short * 2.5)
        assert leases.claim(fresh_store, ids[1:], "w-d", utcnow()).claimed == []
    assert beat.beats >= 3 and beat.failures == 0
    time.sleep(short + 0.2)
    assert leases.claim(fresh_store, ids[1:], "w-d", utcnow()).claimed == ids[1:]


def test_two_workers_running_the_same_cycle_duplicate_nothing(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    def settings_for(worker: str):  # type: ignore[no-untyped-def]
        return demo_settings(tmp_path, {"store": {"url": store_url},
                                        "scheduler": {"worker_id": worker}})

    base = settings_for("setup")
    people = read_people_csv(demo_dir() / "people.csv")
    rows, errors = read_accounts_csv(demo_dir() / "accounts.csv")
    with store.session() as s:
        check_managers(s, people, "people.csv")
        apply_people(s, people, actor="test")
    with store.session() as s:
        ready = check_accounts(s, rows, errors, "accounts.csv")
        apply_accounts(s, ready, base, actor="test")
    assert not errors
    workers = ["w1", "w2"]
    pipelines = {w: build_pipeline(settings_for(w)) for w in workers}
    start = threading.Barrier(len(workers))
    reports: dict[str, object] = {}
    failures: list[BaseException] = []
    sent: list[int] = []
    lock = threading.Lock()

    class Recording:
        def send(self, nudge: NudgeRow, recipient: PersonRow | None) -> str:
            with lock:
                sent.append(nudge.id)
            return f"test:{nudge.id}"

    def worker(name: str) -> None:
        own = Store(store_url, auto_upgrade=False)
        try:
            settings = settings_for(name)
            start.wait()
            reports[name] = run_cycle(own, settings, pipelines[name],
                                      build_collectors(settings), now=NOW)
            start.wait()
            deliver_due(own, Recording(), settings, now=NOW)
        except BaseException as exc:
            failures.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=worker, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [type(e).__name__ for e in failures] == []
    cycles = [reports[w] for w in workers]
    # Every account was collected (by one of them at a time; see the stale cursor test).
    assert sum(c.accounts for c in cycles) >= 11  # type: ignore[attr-defined]
    assert sorted(sent) == sorted(set(sent)) and sent
    with store.session() as s:
        assert s.scalar(select(func.count(PostRow.id))) == 45
        live = s.scalars(select(FlagRow.post_id).where(FlagRow.status != "resolved")).all()
        assert len(live) == len(set(live))  # at most one live flag per post
        keys = s.scalars(select(NudgeRow.idempotency_key)).all()
        assert len(keys) == len(set(keys))
        assert s.scalar(select(func.count(NudgeRow.id)).where(NudgeRow.status == "sent")) \
            == len(sent)
        assert audit.verify(s).ok


class _PausingCollector:
    """A replay collector that runs ``during`` while it holds its first account's lease."""

    def __init__(self, inner: Collector, during: Callable[[], None]):
        self.inner, self.during, self.platform = inner, during, inner.platform
        self._once = threading.Lock()

    def fetch(self, account: AccountRef) -> FetchResult:
        if self._once.acquire(blocking=False):
            self.during()
        return self.inner.fetch(account)


@pytest.mark.postgres
def test_a_worker_that_claims_after_another_reads_from_the_new_cursor(
    pg_database: str, tmp_path: Path  # noqa: F811
) -> None:
    replay = tmp_path / "posts.jsonl"
    replay.write_text("".join(json.dumps(
        {"id": f"x-{i}", "platform": "bluesky", "account": "x.bsky.social", "text": f"hello {i}"}
    ) + "\n" for i in range(3)), encoding="utf-8")

    def settings_for(worker: str) -> Settings:
        return settings_from_dict({
            "store": {"url": pg_database}, "scheduler": {"worker_id": worker},
            "model": {"enabled": False},
            "platforms": {"replay": {"enabled": True, "path": str(replay)}},
        }, source="test")

    pg_store = Store(pg_database, auto_upgrade=True)
    try:
        _claim_after_another(pg_store, settings_for)
    finally:
        pg_store.dispose()


def _claim_after_another(pg_store: Store, settings_for: Callable[[str], Settings]) -> None:
    with pg_store.session() as s:
        owner = PersonRow(email="o@example.com")
        s.add(owner)
        s.flush()
        repo.add_account_with_consent(s, owner, "bluesky", "x.bsky.social", "1", "h", None,
                                      actor="test")
    a_settings, b_settings = settings_for("A"), settings_for("B")
    pipeline = build_pipeline(a_settings)
    b_report: list[CycleReport] = []
    blocker: list[Any] = []

    def start_b_while_a_holds_the_lease() -> None:
        # A new account whose cursor row another transaction is inserting: B lists both
        # accounts (x's cursor as it is now), then waits in ensure_cursors until we let go.
        with pg_store.session() as s:
            owner = repo.require_person(s, "o@example.com")
            y, _ = repo.add_account_with_consent(s, owner, "bluesky", "y.bsky.social", "1", "h",
                                                 None, actor="test")
            y_id = y.id
        conn = pg_store.engine.connect()
        conn.execute(text("INSERT INTO cursors (account_id, failures, updated_at) "
                          "VALUES (:id, 0, now())"), {"id": y_id})
        blocker.append(conn)
        t = threading.Thread(target=lambda: b_report.append(run_cycle(
            pg_store, b_settings, pipeline, build_collectors(b_settings), now=NOW)))
        t.start()
        blocker.append(t)
        wait_until_blocked(pg_store)

    a = run_cycle(pg_store, a_settings, pipeline,
                  {"bluesky": _PausingCollector(build_collectors(a_settings)["bluesky"],
                                                start_b_while_a_holds_the_lease)}, now=NOW)
    conn, thread = blocker
    conn.rollback()  # A has finished and released x; let B go on
    conn.close()
    thread.join()
    assert a.posts_read == 3
    (b,) = b_report
    assert b.errors == {}
    assert b.posts_read == 0, "B read x's posts again from the cursor it listed before A"
