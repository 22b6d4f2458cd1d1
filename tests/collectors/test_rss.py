"""RSS/Atom through our httpx fetch and feedparser against a fake blog host."""

from __future__ import annotations

from monitor.collectors.rss import entry_id
from tests.collectors.conftest import World
from tests.collectors.helpers import post_count, posts
from tests.fakes.rss_feed import FakeFeeds


def test_rss_conditional_get_and_normalised_ids(world: World) -> None:
    ff = world.fakes["rss"]
    ff.add_post("blog.xml", "first post")
    ff.add_post("blog.xml", "second post")
    world.consent("rss", "feeds/blog.xml")
    report = world.cycle()
    assert report.posts_new == 2
    ids = [p.post_id for p in posts(world.store, "rss")]
    # feedparser resolved the bare <guid> against the feed URL; the id keeps only the guid.
    assert all(ff.base_url not in i for i in ids)
    assert sorted(i.split(":", 1)[1] for i in ids) == sorted(p.id for p in ff.posts["blog.xml"])
    ff.clear_requests()
    again = world.cycle()
    assert again.posts_read == 0
    [req] = ff.requests
    assert req.headers.get("if-none-match") and req.headers.get("if-modified-since")
    ff.add_post("blog.xml", "third post")
    assert world.cycle().posts_new == 1
    assert post_count(world.store, "rss") == 3


def test_atom_feed_and_absolute_feed_url(world: World) -> None:
    ff = world.fakes["rss"]
    ff.add_post("news.atom", "atom <b>entry</b>")
    world.consent("rss", f"{ff.base_url}/feeds/news.atom")
    report = world.cycle()
    assert report.posts_new == 1, report.skipped
    [p] = posts(world.store, "rss")
    assert "atom <b>entry</b>" in (p.text or "") or "atom entry" in (p.text or "")


def test_rss_malformed_missing_and_rate_limited(world: World) -> None:
    ff = world.fakes["rss"]
    for name in ("a.xml", "c.xml"):
        ff.add_post(name, f"post on {name}")
        world.consent("rss", f"feeds/{name}")
    world.consent("rss", "feeds/missing.xml")
    ff.fail("malformed", account="a.xml")
    # A 429 pauses its own host for the cycle, so the rate-limited feed lives elsewhere:
    # the outcome for the other feeds must not depend on which fetch finishes first.
    with FakeFeeds() as other:
        other.add_post("b.xml", "post on b.xml")
        other.fail("429", account="b.xml")
        b_feed = f"{other.base_url}/feeds/b.xml"
        world.consent("rss", b_feed)
        report = world.cycle()
    assert "malformed payload skipped" in report.skipped["rss/feeds/a.xml"]
    assert "rate limited (429)" in report.skipped[f"rss/{b_feed}"]
    assert "no feed at this address (404)" in report.skipped["rss/feeds/missing.xml"]
    assert post_count(world.store, "rss") == 1


def test_entry_id_is_stable_across_feeds() -> None:
    e = {"id": "http://h/feeds/abc-1", "link": "http://h/posts/1.html"}
    assert entry_id(e, "http://h/feeds/x.xml").endswith(":abc-1")
    assert entry_id(e, "http://h/feeds/x.xml") != entry_id({"id": "abc-1"}, "http://h/feeds/y.xml")
