"""Blogs through RSS/Atom: fetched by our own HTTP client, parsed by feedparser from bytes.

The account handle is the feed URL (or a path under ``[platforms.rss] base_url``). Each
cycle is one conditional GET (``If-None-Match`` / ``If-Modified-Since``): an unchanged
feed costs a 304 and nothing else.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

import feedparser
import httpx

from monitor.collectors.base import FetchResult
from monitor.collectors.common import strip_html
from monitor.collectors.platform import HandleRule, Platform
from monitor.config import RssSettings, Settings
from monitor.domain import AccountRef, Cursor, Post, utcnow
from monitor.errors import CollectorError, RateLimited

NAME = "rss"
MAX_FEED_BYTES = 10 * 1024 * 1024


def feed_url(handle: str, base_url: str) -> str:
    """The absolute feed URL of a handle (absolute, or relative to the configured base)."""
    h = handle.strip()
    if h.startswith(("http://", "https://")):
        return h
    if not base_url:
        raise CollectorError(f"feed {h!r} is not an absolute URL and no base_url is configured",
                             platform=NAME, account=handle)
    return urljoin(base_url.rstrip("/") + "/", h.lstrip("/"))


def entry_id(entry: Any, url: str) -> str:
    """A stable id for a feed entry, unique across feeds.

    feedparser resolves a ``<guid>`` that is not marked ``isPermaLink="false"`` against the
    feed URL; that prefix is removed so the id does not change if the feed moves.
    """
    raw = entry.get("id") or entry.get("link") or ""
    raw = str(raw).strip()
    base = url.rsplit("/", 1)[0] + "/"
    if raw.startswith(base) and not entry.get("link", "").startswith(raw):
        raw = raw[len(base):]
    if not raw:
        raw = hashlib.sha256(
            f"{entry.get('title', '')}|{entry.get('published', '')}".encode()
        ).hexdigest()[:32]
    feed_key = hashlib.sha256(url.encode()).hexdigest()[:12]
    return f"{feed_key}:{raw}"[:500]


def _entry_time(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed"):
        t = entry.get(key)
        if t:
            y, mo, d, h, mi, sec = (int(v) for v in t[:6])
            return datetime(y, mo, d, h, mi, sec, tzinfo=UTC)
    return None


def _entry_text(entry: Any) -> str:
    title = strip_html(str(entry.get("title") or ""))
    body = ""
    content = entry.get("content")
    if content:
        body = " ".join(str(c.get("value", "")) for c in content)
    elif entry.get("summary"):
        body = str(entry.get("summary"))
    return f"{title}\n\n{strip_html(body)}".strip()


def _retry_at(value: str | None) -> datetime | None:
    if not value:
        return None
    if value.strip().isdigit():
        return utcnow() + timedelta(seconds=int(value))
    try:
        return parsedate_to_datetime(value).astimezone(UTC)
    except (TypeError, ValueError):
        return None


class RssCollector:
    """Reads blog posts from RSS and Atom feeds."""

    platform = NAME

    def __init__(self, settings: RssSettings):
        self.settings = settings
        self._http = httpx.Client(
            timeout=settings.timeout_seconds,
            follow_redirects=True,
            headers={"User-Agent": "socialguide feed reader"},
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
        )

    def close(self) -> None:
        self._http.close()

    def fetch(self, account: AccountRef) -> FetchResult:
        c = account.cursor
        result = FetchResult(cursor=Cursor(c.since_id, c.newest_id, c.last_uri, c.etag,
                                           c.last_modified))
        url = feed_url(account.handle, self.settings.base_url)
        who = {"platform": NAME, "account": account.handle}
        headers = {}
        if c.etag:
            headers["If-None-Match"] = c.etag
        if c.last_modified:
            headers["If-Modified-Since"] = c.last_modified
        try:
            resp = self._http.get(url, headers=headers)
        except httpx.TimeoutException:
            raise CollectorError(f"timed out after {self.settings.timeout_seconds:g}s",
                                 **who) from None
        except httpx.HTTPError as exc:
            raise CollectorError(f"network error: {type(exc).__name__}", **who) from None
        result.requests = 1
        if resp.status_code == 304:
            return result
        if resp.status_code == 429 or resp.status_code == 503 and "retry-after" in resp.headers:
            raise RateLimited(f"rate limited ({resp.status_code})",
                              reset_at=_retry_at(resp.headers.get("retry-after")), **who)
        if resp.status_code in (404, 410):
            raise CollectorError(f"no feed at this address ({resp.status_code})", **who)
        if resp.status_code != 200:
            raise CollectorError(f"feed server answered HTTP {resp.status_code}", **who)
        body = resp.content
        if len(body) > MAX_FEED_BYTES:
            raise CollectorError(f"feed larger than {MAX_FEED_BYTES} bytes skipped", **who)
        # Bytes, never a str: feedparser would treat a str as a URL or a file path.
        parsed = feedparser.parse(body, response_headers={"content-location": url})
        if parsed.get("bozo") and not parsed.entries:
            reason = type(parsed.get("bozo_exception")).__name__
            raise CollectorError(f"malformed payload skipped (not a feed: {reason})", **who)
        times: list[datetime] = []
        for entry in parsed.entries[: self.settings.max_posts_per_account]:
            when = _entry_time(entry)
            if when is not None:
                times.append(when)
            link = entry.get("link")
            result.posts.append(
                Post(
                    id=entry_id(entry, url),
                    text=_entry_text(entry),
                    platform=NAME,
                    author=account.handle,
                    created_at=when,
                    url=str(link) if link else None,
                    account_id=account.id,
                )
            )
        result.cursor.etag = resp.headers.get("etag")
        result.cursor.last_modified = resp.headers.get("last-modified")
        if result.posts:
            result.cursor.newest_id = result.posts[0].id
            if len(times) == len(result.posts):
                result.window_ids = [p.id for p in result.posts]
                result.window_start = min(times)
        return result


def read_profile(settings: Settings, handle: str) -> str:
    """The feed document: its title and description, and every item's title and text."""
    section = settings.platforms.rss
    url = feed_url(handle, section.base_url)
    who = {"platform": NAME, "account": handle}
    collector = RssCollector(section)
    try:
        resp = collector._http.get(url)
    except httpx.TimeoutException:
        raise CollectorError(f"timed out after {section.timeout_seconds:g}s", **who) from None
    except httpx.HTTPError as exc:
        raise CollectorError(f"network error: {type(exc).__name__}", **who) from None
    finally:
        collector.close()
    if resp.status_code == 429:
        raise RateLimited("rate limited (429)", platform=NAME, account=handle)
    if resp.status_code != 200:
        raise CollectorError(f"feed server answered HTTP {resp.status_code}", **who)
    if len(resp.content) > MAX_FEED_BYTES:
        raise CollectorError(f"feed larger than {MAX_FEED_BYTES} bytes skipped", **who)
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


PLATFORM = Platform(
    name=NAME,
    settings_type=RssSettings,
    # The feed URL, or a path under [platforms.rss] base_url.
    handle=HandleRule(re.compile(r"^(https?://\S+|[^\s:]+)$"), lambda h: h),
    code_goes_in="your feed's title or description, or any post in the feed",
    app_wide_limits=False,
    build=lambda settings: RssCollector(settings.platforms.rss),
    read_profile=read_profile,
)
