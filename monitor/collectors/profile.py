"""The public profile text of one account, read to check an ownership code.

An employee proves an account is theirs by putting a short code in its public profile (or,
for a blog, in the feed). These functions read that profile through the same client
libraries, base URLs, timeouts and error translation the collectors use, and return its
plain text; matching the code is the caller's job (monitor/ownership.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import feedparser
import httpx

from monitor.collectors import bluesky, mastodon, reddit, rss, x
from monitor.collectors.common import strip_html
from monitor.config import (
    BlueskySettings,
    MastodonSettings,
    RedditSettings,
    RssSettings,
    Settings,
    XSettings,
    optional_secret,
    secret,
)
from monitor.domain import AccountRef
from monitor.errors import CollectorError, RateLimited


def _ref(platform: str, handle: str) -> AccountRef:
    return AccountRef(id=0, platform=platform, handle=handle)


def bluesky_profile(settings: BlueskySettings, handle: str) -> str:
    """``app.bsky.actor.getProfile``: the profile's description."""
    client = bluesky.BlueskyCollector(settings)._new_client()
    with bluesky._boundary(_ref("bluesky", handle), settings.timeout_seconds):
        profile = client.get_profile(actor=handle.lstrip("@"))
    return "\n".join(p for p in (profile.display_name, profile.description) if p)


def mastodon_profile(settings: MastodonSettings, handle: str) -> str:
    """``account_lookup``: the note (HTML, stripped) and the profile's metadata fields."""
    user, base = mastodon.split_handle(handle, settings.base_url)
    pool = mastodon.MastodonCollector(settings)._pool(base)
    with pool.client() as client, mastodon._boundary(_ref("mastodon", handle),
                                                     settings.timeout_seconds, client):
        found: Any = client.account_lookup(user)
        parts = [strip_html(str(found.get("note") or ""))]
        for f in found.get("fields") or []:
            parts.append(strip_html(str(f.get("value") or "")))
    return "\n".join(p for p in parts if p)


def x_profile(settings: XSettings, handle: str, bearer_token: str) -> str:
    """``GET /2/users/by/username/:u`` with ``user.fields=description`` (one billed lookup)."""
    name = handle.lstrip("@")
    client = x.XCollector(settings, bearer_token)._new_client()
    with x._boundary(_ref("x", handle), settings.timeout_seconds):
        resp = client.get_user(username=name, user_fields=["description"])
        if resp.data is None:
            detail = x._error_detail(resp.errors) or "not found"
            raise CollectorError(f"no such X user @{name} ({detail})", platform="x",
                                 account=handle)
        return str(getattr(resp.data, "description", "") or "")


def reddit_profile(settings: RedditSettings, handle: str, client_id: str,
                   client_secret: str) -> str:
    """``/user/NAME/about``: the user's profile (``subreddit.public_description``)."""
    name = handle.removeprefix("/u/").removeprefix("u/").lstrip("@")
    client = reddit.RedditCollector(settings, client_id, client_secret)._new_client()
    with reddit._boundary(_ref("reddit", handle), settings.timeout_seconds):
        # The raw JSON: praw would otherwise fetch missing attributes lazily.
        about: Any = client.request(method="GET", path=f"user/{name}/about/",
                                    params={"raw_json": 1})
        data = about.get("data") or {}
        sub = data.get("subreddit") or {}
        return str(sub.get("public_description") or "")


def rss_profile(settings: RssSettings, handle: str) -> str:
    """The feed document: its title and description, and every item's title and text."""
    url = rss.feed_url(handle, settings.base_url)
    who = {"platform": "rss", "account": handle}
    collector = rss.RssCollector(settings)
    try:
        resp = collector._http.get(url)
    except httpx.TimeoutException:
        raise CollectorError(f"timed out after {settings.timeout_seconds:g}s", **who) from None
    except httpx.HTTPError as exc:
        raise CollectorError(f"network error: {type(exc).__name__}", **who) from None
    finally:
        collector.close()
    if resp.status_code == 429:
        raise RateLimited("rate limited (429)", platform="rss", account=handle)
    if resp.status_code != 200:
        raise CollectorError(f"feed server answered HTTP {resp.status_code}", **who)
    if len(resp.content) > rss.MAX_FEED_BYTES:
        raise CollectorError(f"feed larger than {rss.MAX_FEED_BYTES} bytes skipped", **who)
    parsed = feedparser.parse(resp.content, response_headers={"content-location": url})
    if parsed.get("bozo") and not parsed.entries and not parsed.feed:
        raise CollectorError("not an RSS or Atom feed", **who)
    feed = parsed.feed
    parts = [str(feed.get(k) or "") for k in ("title", "subtitle", "description")]
    for entry in parsed.entries:
        parts.append(str(entry.get("title") or ""))
        parts.append(str(entry.get("summary") or ""))
        parts.extend(str(c.get("value") or "") for c in entry.get("content") or [])
    return "\n".join(strip_html(p) for p in parts if p)


def profile_text(settings: Settings, platform: str, handle: str) -> str:
    """The public profile text of ``handle`` on ``platform``; CollectorError if unreadable."""
    p = settings.platforms
    readers: dict[str, Callable[[], str]] = {
        "bluesky": lambda: bluesky_profile(p.bluesky, handle),
        "mastodon": lambda: mastodon_profile(p.mastodon, handle),
        "rss": lambda: rss_profile(p.rss, handle),
        "x": lambda: x_profile(p.x, handle, secret(p.x.bearer_token_env,
                                                   what="X bearer token")),
        "reddit": lambda: reddit_profile(
            p.reddit, handle, secret(p.reddit.client_id_env, what="Reddit client id"),
            optional_secret(p.reddit.client_secret_env) or ""),
    }
    if platform not in readers:
        raise CollectorError(f"no profile reader for platform {platform!r}", platform=platform)
    return readers[platform]()
