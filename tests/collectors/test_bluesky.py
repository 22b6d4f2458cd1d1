"""Bluesky through the real atproto client against the fake AppView."""

from __future__ import annotations

import logging

import pytest

from tests.collectors.conftest import World
from tests.collectors.helpers import LEAK, cursor, flags, post_count


def test_bluesky_pages_back_to_the_last_stored_uri(world: World) -> None:
    fb = world.fakes["bluesky"]
    for i in range(3):
        fb.add_post("carol.bsky.social", f"old {i}")
    aid = world.consent("bluesky", "carol.bsky.social")
    world.cycle(world.settings(bluesky={"max_posts_per_account": 5}))
    assert cursor(world.store, aid).last_uri == fb.uri("carol.bsky.social", fb.posts["carol.bsky.social"][0].id)  # type: ignore[attr-defined]
    for i in range(7):
        fb.add_post("carol.bsky.social", f"new {i}")
    fb.clear_requests()
    report = world.cycle(world.settings(bluesky={"max_posts_per_account": 5}))
    # 7 new posts at 5 per page: two pages, stopping at the last stored post.
    assert len(fb.requests) == 2 and fb.requests[1].query["cursor"] == "5"
    assert report.posts_new == 7
    fb.clear_requests()
    world.cycle()
    assert len(fb.requests) == 1
    assert post_count(world.store, "bluesky") == 3 + report.posts_new


def test_bluesky_deleted_post_is_noticed(world: World) -> None:
    fb = world.fakes["bluesky"]
    fb.add_post("carol.bsky.social", "first")
    leak = fb.add_post("carol.bsky.social", f"token {LEAK}")
    fb.add_post("carol.bsky.social", "third")
    world.consent("bluesky", "carol.bsky.social")
    world.cycle()
    fb.delete_post("carol.bsky.social", leak.id)
    report = world.cycle()
    assert report.posts_deleted == 1
    [flag] = flags(world.store, "bluesky")
    assert flag.resolution == "removed_by_author"


def test_bluesky_malformed_payload_is_logged_and_skipped(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    fb = world.fakes["bluesky"]
    fb.add_post("carol.bsky.social", "hello")
    fb.add_post("dan.bsky.social", "hi")
    world.consent("bluesky", "carol.bsky.social")
    world.consent("bluesky", "dan.bsky.social")
    fb.fail("malformed", account="carol.bsky.social")
    with caplog.at_level(logging.WARNING, logger="monitor"):
        report = world.cycle()
    assert "malformed payload skipped" in report.skipped["bluesky/carol.bsky.social"]
    assert report.posts_new == 1  # dan's post is not lost
    rec = [r for r in caplog.records if getattr(r, "account", None) == "carol.bsky.social"]
    assert rec and rec[0].platform == "bluesky"  # type: ignore[attr-defined]


def test_bluesky_timeout_and_unknown_handle(world: World) -> None:
    fb = world.fakes["bluesky"]
    fb.slow_seconds = 1.5
    fb.add_post("carol.bsky.social", "hello")
    world.consent("bluesky", "carol.bsky.social")
    world.consent("bluesky", "nobody.bsky.social")
    fb.fail("timeout", account="carol.bsky.social")
    report = world.cycle()
    assert "timed out after 0.5s" in report.skipped["bluesky/carol.bsky.social"]
    assert "no such Bluesky account" in report.skipped["bluesky/nobody.bsky.social"]


def test_bluesky_429_carries_the_reset_time(world: World) -> None:
    fb = world.fakes["bluesky"]
    fb.add_post("carol.bsky.social", "hello")
    aid = world.consent("bluesky", "carol.bsky.social")
    fb.fail("429")
    report = world.cycle()
    assert "rate limited" in report.skipped["bluesky/carol.bsky.social"]
    nxt = cursor(world.store, aid).next_attempt_at
    assert nxt is not None
