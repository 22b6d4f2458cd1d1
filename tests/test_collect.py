"""The collection cycle: consent only, isolation, backoff and row leases across workers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import update

from monitor.domain import utcnow
from monitor.store import Store, leases, repo
from monitor.store.schema import AccountRow, ConsentRow, CursorRow, PersonRow
from tests.collectors.conftest import World, world  # noqa: F401 (fixture)
from tests.collectors.helpers import post_count
from tests.pg import pg_database, pg_url  # noqa: F401 (fixtures)


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


def test_two_workers_never_claim_the_same_account_sqlite(fresh_store: Store) -> None:
    ids = _accounts(fresh_store, 1200)
    a, b = _race(fresh_store, ids)
    assert not set(a) & set(b)
    assert sorted(a + b) == sorted(ids)


def test_two_workers_never_claim_the_same_account_postgresql(pg_database: str) -> None:  # noqa: F811
    store = Store(pg_database, auto_upgrade=True)
    try:
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
    finally:
        store.dispose()


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


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def either_store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """A migrated store on SQLite, then on PostgreSQL."""
    if request.param == "sqlite":
        yield request.getfixturevalue("fresh_store")
        return
    store = Store(request.getfixturevalue("pg_database"), auto_upgrade=True)
    yield store
    store.dispose()


def test_a_lease_whose_holder_process_is_gone_is_taken_over_at_once(
        either_store: Store) -> None:
    import os
    import socket

    fresh_store = either_store
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
