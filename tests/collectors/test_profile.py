"""Profile reading for ownership codes: each real client library against its fake server."""

from __future__ import annotations

import pytest

from monitor.collectors.registry import profile_text
from monitor.errors import CollectorError
from tests.collectors.conftest import World, world  # noqa: F401 (fixture)
from tests.fakes.bluesky_api import FakeBluesky
from tests.fakes.mastodon_api import FakeMastodon
from tests.fakes.reddit_api import FakeReddit
from tests.fakes.x_api import FakeX

CODE = "sg-k7m2q9xa"


def test_each_platform_serves_its_public_profile_text(world: World) -> None:  # noqa: F811
    f = world.fakes
    bsky, masto, xx, rd = (f["bluesky"], f["mastodon"], f["x"], f["reddit"])
    assert isinstance(bsky, FakeBluesky) and isinstance(masto, FakeMastodon)
    assert isinstance(xx, FakeX) and isinstance(rd, FakeReddit)
    for fake, handle in ((bsky, "ana.bsky.social"), (masto, "ana"), (xx, "ana_x"),
                         (rd, "ana_r")):
        fake.add_post(handle, "hello")
    bsky.bios["ana.bsky.social"] = f"Engineer. {CODE}"
    masto.bios["ana"] = f"<p>Engineer &amp; <a href='https://x.example'>blog</a> {CODE}</p>"
    xx.bios["ana_x"] = f"views my own {CODE}"
    rd.bios["ana_r"] = f"about me {CODE}"
    f["rss"].add_post("ana.xml", f"Verifying my blog: {CODE}")
    settings = world.settings()

    assert profile_text(settings, "bluesky", "ana.bsky.social") == f"ana.bsky.social\nEngineer. {CODE}"
    text = profile_text(settings, "mastodon", "ana")
    assert text == f"Engineer & blog {CODE}"  # the note is HTML: stripped
    assert profile_text(settings, "x", "@ana_x") == f"views my own {CODE}"
    assert profile_text(settings, "reddit", "u/ana_r") == f"about me {CODE}"
    assert CODE in profile_text(settings, "rss", "feeds/ana.xml")

    # The real endpoints were asked, as documented by each platform.
    assert [r.path for r in bsky.requests] == ["/xrpc/app.bsky.actor.getProfile"]
    assert [r.path for r in masto.requests] == ["/api/v1/accounts/lookup"]
    (lookup,) = xx.requests
    assert lookup.path == "/2/users/by/username/ana_x"
    assert "description" in lookup.query["user.fields"].split(",")
    assert [r.path for r in rd.requests if r.method == "GET"] == ["/user/ana_r/about/"]


def test_a_profile_without_a_code_reads_as_its_text(world: World) -> None:  # noqa: F811
    bsky = world.fakes["bluesky"]
    bsky.add_post("bo.bsky.social", "hi")
    assert profile_text(world.settings(), "bluesky", "bo.bsky.social") == "bo.bsky.social"


@pytest.mark.parametrize(("platform", "handle", "says"), [
    ("bluesky", "nobody.bsky.social", "no such Bluesky account"),
    ("mastodon", "nobody", "no such Mastodon account"),
    ("x", "nobody", "no such X user"),
    ("reddit", "nobody", "no such Reddit user"),
    ("rss", "feeds/nobody.xml", "HTTP 404"),
])
def test_an_unknown_account_is_a_clear_error(world: World, platform: str, handle: str,  # noqa: F811
                                             says: str) -> None:
    with pytest.raises(CollectorError, match=says):
        profile_text(world.settings(), platform, handle)


def test_a_platform_failure_is_a_collector_error(world: World) -> None:  # noqa: F811
    bsky = world.fakes["bluesky"]
    bsky.add_post("ana.bsky.social", "hi")
    bsky.fail("500")
    with pytest.raises(CollectorError, match="HTTP 503"):
        profile_text(world.settings(), "bluesky", "ana.bsky.social")
