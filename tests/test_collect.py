"""The collection cycle: consent only, isolation, backoff and row leases across workers."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import update

from monitor.collectors import leases
from monitor.store import Store, repo
from monitor.store.schema import AccountRow, ConsentRow, CursorRow, PersonRow, utcnow
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

    from monitor.collect import run_cycle as _run
    from monitor.collectors.replay import ReplayCollector
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
