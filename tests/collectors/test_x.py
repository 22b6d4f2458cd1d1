"""X through the real tweepy client against the fake X API."""

from __future__ import annotations

from tests.collectors.conftest import World
from tests.collectors.helpers import LEAK, account, cursor, flags, post_count, posts


def test_x_collects_then_costs_one_request_per_account(world: World) -> None:
    fx = world.fakes["x"]
    for i in range(3):
        fx.add_post("alice", f"post {i}")
    aid = world.consent("x", "alice")
    first = world.cycle()
    assert first.posts_new == 3 and not first.skipped
    assert account(world.store, aid).platform_user_id == fx.user_ids["alice"]  # type: ignore[attr-defined]
    fx.clear_requests()
    second = world.cycle()
    assert second.posts_new == 0 and post_count(world.store, "x") == 3
    seen = fx.requests
    assert len(seen) == 1, [r.path for r in seen]  # no second user lookup: the id is cached
    assert seen[0].query["since_id"] == cursor(world.store, aid).since_id
    assert seen[0].query["exclude"] == "retweets,replies"


def test_x_edit_is_reanalysed_under_the_original_id(world: World) -> None:
    fx = world.fakes["x"]
    original = fx.add_post("alice", "shipping today")
    world.consent("x", "alice")
    world.cycle()
    fx.edit_post("alice", original.id, f"shipping today, token {LEAK}")
    report = world.cycle()
    assert report.posts_edited == 1 and report.posts_new == 0
    stored = posts(world.store, "x")
    assert [p.post_id for p in stored] == [original.id]
    text = stored[0].text or ""
    assert text.startswith("shipping today, token AKIA") and LEAK not in text  # masked at rest
    assert flags(world.store, "x")[0].category == "credentials"


def test_x_unknown_user_is_a_clear_account_error(world: World) -> None:
    world.fakes["x"].add_post("alice", "hello")
    good = world.consent("x", "alice")
    bad = world.consent("x", "nobody_here")
    report = world.cycle()
    assert "no such X user @nobody_here" in report.skipped["x/nobody_here"]
    assert "no such X user" in (account(world.store, bad).last_error or "")
    assert account(world.store, good).last_error is None
    assert post_count(world.store, "x") == 1


def test_x_429_stops_the_platform_until_the_reset(world: World) -> None:
    fx = world.fakes["x"]
    fx.add_post("alice", "hello")
    aid = world.consent("x", "alice")
    fx.fail("429", account="alice")
    report = world.cycle()
    assert "rate limited (429)" in report.skipped["x/alice"]
    cur = cursor(world.store, aid)
    assert cur.failures == 1 and cur.next_attempt_at is not None
    fx.clear_requests()
    again = world.cycle()
    assert "backing off" in again.skipped["x/alice"]
    assert fx.requests == []


def test_x_read_budget_caps_spending_per_cycle(world: World) -> None:
    fx = world.fakes["x"]
    for name in ("a1", "a2", "a3"):
        for i in range(5):
            fx.add_post(name, f"{name} post {i}")
        world.consent("x", name)
    settings = world.settings(x={"max_reads_per_cycle": 12, "max_posts_per_account": 5})
    report = world.cycle(settings)
    # Each account costs one lookup and five reads: only two fit under 12.
    assert report.billed_reads["x"] <= 12
    spent = [k for k, v in report.skipped.items() if "read budget" in v]
    assert len(spent) == 1
    assert post_count(world.store, "x") == 10


def test_x_without_credentials_is_skipped_with_the_reason(world: World, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("X_BEARER_TOKEN")
    world.fakes["x"].add_post("alice", "hello")
    world.consent("x", "alice")
    report = world.cycle()
    assert "X_BEARER_TOKEN is not set" in report.platforms_skipped["x"]
    assert world.fakes["x"].requests == []
