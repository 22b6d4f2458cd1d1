"""Reddit through the real praw client (app-only) against the fake Reddit API."""

from __future__ import annotations

from tests.collectors.conftest import World
from tests.collectors.helpers import LEAK, account, cursor, flags, post_count, posts


def test_reddit_reads_submissions_and_comments_in_one_request(world: World) -> None:
    fr = world.fakes["reddit"]
    fr.add_post("bob", "A title\n\nthe body")
    fr.add_post("bob", "a comment here", kind="t1")
    world.consent("reddit", "bob")
    report = world.cycle()
    assert report.posts_new == 2 and not report.skipped
    texts = sorted(p.text or "" for p in posts(world.store, "reddit"))
    assert texts == ["A title\n\nthe body", "a comment here"]
    listing = [r for r in fr.requests if r.path.startswith("/user/")]
    assert len(listing) == 1 and listing[0].query["raw_json"] == "1"
    fr.clear_requests()
    world.cycle()
    assert [r.path for r in fr.requests] == ["/user/bob/overview"]  # token reused
    assert post_count(world.store, "reddit") == 2


def test_reddit_deleted_post_resolves_its_flag_as_removed_by_author(world: World) -> None:
    fr = world.fakes["reddit"]
    leak = fr.add_post("bob", f"oops\n\nmy token {LEAK}")
    fr.add_post("bob", "harmless")
    world.consent("reddit", "bob")
    world.cycle()
    [flag] = flags(world.store, "reddit")
    assert flag.status == "open"
    fr.delete_post("bob", leak.id)
    report = world.cycle()
    assert report.posts_deleted == 1
    [flag] = flags(world.store, "reddit")
    assert (flag.status, flag.resolution) == ("resolved", "removed_by_author")


def test_reddit_edit_is_reanalysed(world: World) -> None:
    fr = world.fakes["reddit"]
    p = fr.add_post("bob", "fine\n\nnothing here")
    world.consent("reddit", "bob")
    world.cycle()
    assert flags(world.store, "reddit") == []
    fr.edit_post("bob", p.id, f"fine\n\nkey {LEAK}")
    report = world.cycle()
    assert report.posts_edited == 1
    assert [f.category for f in flags(world.store, "reddit")] == ["credentials"]


def test_reddit_429_and_unknown_user(world: World) -> None:
    fr = world.fakes["reddit"]
    fr.add_post("bob", "hello")
    bob = world.consent("reddit", "bob")
    ghost = world.consent("reddit", "ghost")
    fr.fail("429", account="bob")
    report = world.cycle()
    assert "rate limited (429)" in report.skipped["reddit/bob"]
    assert cursor(world.store, bob).next_attempt_at is not None
    # The 429 closes the platform for this cycle (app-wide limit), or ghost answered 404.
    assert "reddit/ghost" in report.skipped
    assert account(world.store, ghost).last_collected_at is None
