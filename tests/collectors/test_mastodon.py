"""Mastodon through the real Mastodon.py client against fake instances."""

from __future__ import annotations

from tests.collectors.conftest import World
from tests.collectors.helpers import LEAK, account, cursor, flags, post_count, posts
from tests.fakes.mastodon_api import FakeMastodon


def test_mastodon_account_uses_its_own_instance_and_text_is_plain(world: World) -> None:
    home = world.fakes["mastodon"]
    with FakeMastodon() as other:
        other.add_post("erin", "Hello & welcome\n\nsecond <para>")
        home.add_post("erin", "not this one")
        aid = world.consent("mastodon", f"erin@{other.netloc}")
        report = world.cycle()
        assert not report.skipped, report.skipped
        [p] = posts(world.store, "mastodon")
        assert p.text == "Hello & welcome\n\nsecond <para>"
        assert home.requests == [] and len(other.requests) == 2  # lookup + statuses
        assert account(world.store, aid).platform_user_id == other.ids["erin"]
        other.clear_requests()
        world.cycle()
        assert [r.path for r in other.requests] == [f"/api/v1/accounts/{other.ids['erin']}/statuses"]
        assert post_count(world.store, "mastodon") == 1


def test_mastodon_edit_reanalysed_and_delete_noticed(world: World) -> None:
    fm = world.fakes["mastodon"]
    a = fm.add_post("dave", "harmless")
    b = fm.add_post("dave", f"key {LEAK}")
    fm.add_post("dave", "third")
    world.consent("mastodon", "dave")
    world.cycle()
    fm.edit_post("dave", a.id, f"harmless? {LEAK}")
    fm.delete_post("dave", b.id)
    report = world.cycle()
    assert report.posts_edited == 1 and report.posts_deleted == 1
    by_resolution = sorted((f.status, f.resolution or "") for f in flags(world.store, "mastodon"))
    assert by_resolution == [("open", ""), ("resolved", "removed_by_author")]


def test_mastodon_catches_up_over_link_pages(world: World) -> None:
    fm = world.fakes["mastodon"]
    fm.add_post("dave", "first")
    aid = world.consent("mastodon", "dave")
    settings = world.settings(mastodon={"max_posts_per_account": 3})
    world.cycle(settings)
    for i in range(5):
        fm.add_post("dave", f"new {i}")
    fm.clear_requests()
    report = world.cycle(settings)
    assert report.posts_new == 5
    assert len(fm.requests) == 2 and "max_id" in fm.requests[1].query
    # Every page asks for the author's own posts only, at the configured page size.
    assert [(r.query.get("exclude_reblogs"), r.query.get("limit")) for r in fm.requests] == [
        ("1", "3"), ("1", "3")]
    assert cursor(world.store, aid).since_id == fm.posts["dave"][0].id


def test_mastodon_429_closes_that_instance_for_the_cycle(world: World) -> None:
    fm = world.fakes["mastodon"]
    fm.add_post("dave", "hello")
    aid = world.consent("mastodon", "dave")
    fm.fail("429", account="dave")
    report = world.cycle()
    assert "rate limited (429)" in report.skipped["mastodon/dave"]
    # The reset comes from the instance's X-RateLimit-Reset header (five minutes ahead).
    nxt = cursor(world.store, aid).next_attempt_at
    assert nxt is not None and report.skipped["mastodon/dave"].count("retry after 20") == 1


def test_mastodon_500_and_unknown_account_do_not_stop_the_others(world: World) -> None:
    fm = world.fakes["mastodon"]
    for name in ("fay", "gus"):
        fm.add_post(name, "hello")
        world.consent("mastodon", name)
    world.consent("mastodon", "nobody")
    fm.fail("500", account="fay")
    report = world.cycle()
    assert "server error (503)" in report.skipped["mastodon/fay"]
    assert "no such Mastodon account" in report.skipped["mastodon/nobody"]
    assert "no such Mastodon account" in (account(world.store, 3).last_error or "")
    assert post_count(world.store, "mastodon") == 1  # gus still collected
