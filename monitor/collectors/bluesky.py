"""Bluesky through atproto's public AppView API: no login, a user's own posts, newest first.

There is no since-parameter: pages are read until the last stored post URI shows up (in
steady state, one request). The listing is complete back to its oldest post, so a stored
post inside that window that is missing was deleted by its author.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from atproto import Client
from atproto_client import exceptions as atx
from atproto_client.request import Request

from monitor.collectors.base import FetchResult
from monitor.collectors.common import ClientPool, parse_time
from monitor.collectors.platform import HandleRule, Platform
from monitor.config import BlueskySettings, Settings
from monitor.domain import AccountRef, Cursor, Post
from monitor.errors import CollectorError, RateLimited

NAME = "bluesky"
CATCH_UP_PAGES = 10


class BlueskyCollector:
    """Reads public posts of Bluesky accounts (handles like ``alice.bsky.social``)."""

    platform = NAME

    def __init__(self, settings: BlueskySettings):
        self.settings = settings
        self._pool: ClientPool[Client] = ClientPool(self._new_client)

    def _new_client(self) -> Client:
        return Client(
            base_url=self.settings.base_url.rstrip("/"),
            request=Request(timeout=self.settings.timeout_seconds),
        )

    def fetch(self, account: AccountRef) -> FetchResult:
        c = account.cursor
        result = FetchResult(cursor=Cursor(c.since_id, c.newest_id, c.last_uri, c.etag,
                                           c.last_modified))
        actor = account.handle.lstrip("@")
        limit = self.settings.max_posts_per_account
        seen: list[str] = []
        times: list[datetime] = []
        reached_last = False
        page_cursor: str | None = None
        # The first cycle takes at most ``limit`` posts of history; later cycles catch up
        # to the last stored post (up to CATCH_UP_PAGES pages) so no post falls in a gap.
        cap = limit if c.last_uri is None else CATCH_UP_PAGES * max(1, min(100, limit))
        with _boundary(account, self.settings.timeout_seconds), self._pool.client() as client:
            while True:
                resp = client.get_author_feed(
                    actor=actor,
                    limit=max(1, min(100, limit)),
                    filter="posts_no_replies",
                    cursor=page_cursor,
                )
                result.requests += 1
                for item in resp.feed:
                    if getattr(item, "reason", None) is not None:
                        continue  # a repost of someone else's post
                    post = _post(item.post, account)
                    if post is None:
                        continue
                    seen.append(post.id)
                    if post.created_at is not None:
                        times.append(post.created_at)
                    if post.id == c.last_uri:
                        reached_last = True
                    # Posts from the last stored one on are known: only their ids matter.
                    if not reached_last and len(result.posts) < cap:
                        result.posts.append(post)
                page_cursor = resp.cursor
                if reached_last or not page_cursor or len(result.posts) >= cap:
                    break
                if c.last_uri is None:
                    break  # first cycle: the newest page is the history we take
        if seen:
            result.cursor.last_uri = seen[0]
            result.window_ids = seen
            result.window_start = min(times) if times else None
        return result


def _post(view: Any, account: AccountRef) -> Post | None:
    record = view.record
    text = getattr(record, "text", None)
    if text is None:
        return None
    if not isinstance(text, str):
        raise TypeError("post text is not a string")
    uri = str(view.uri)
    rkey = uri.rsplit("/", 1)[-1]
    handle = getattr(view.author, "handle", account.handle)
    return Post(
        id=uri,
        text=text,
        platform=NAME,
        author=account.handle,
        created_at=parse_time(getattr(record, "created_at", None)),
        url=f"https://bsky.app/profile/{handle}/post/{rkey}",
        account_id=account.id,
    )


@contextmanager
def _boundary(account: AccountRef, timeout: float) -> Iterator[None]:
    """Translate atproto errors into CollectorError / RateLimited."""
    who = {"platform": NAME, "account": account.handle}
    try:
        yield
    except atx.RateLimitExceededError as exc:
        raise RateLimited("rate limited (429)", reset_at=exc.reset_at, **who) from None
    except atx.InvokeTimeoutError:
        raise CollectorError(f"timed out after {timeout:g}s", **who) from None
    except atx.BadRequestError as exc:
        detail = _detail(exc)
        if "not found" in detail.lower() or "actor" in detail.lower():
            raise CollectorError(f"no such Bluesky account ({detail})", **who) from None
        raise CollectorError(f"Bluesky refused the request ({detail})", **who) from None
    except atx.NetworkError as exc:
        status = exc.response.status_code if exc.response is not None else None
        raise CollectorError(
            f"Bluesky answered HTTP {status}" if status else "network error", **who
        ) from None
    except atx.RequestErrorBase as exc:
        status = exc.response.status_code if exc.response is not None else None
        raise CollectorError(f"Bluesky answered HTTP {status}", **who) from None
    except (atx.ModelError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CollectorError(f"malformed payload skipped ({type(exc).__name__})", **who) from None


def _detail(exc: atx.RequestErrorBase) -> str:
    content = exc.response.content if exc.response is not None else None
    message = getattr(content, "message", None) or getattr(content, "error", None)
    return str(message or exc)


def read_profile(settings: Settings, handle: str) -> str:
    """``app.bsky.actor.getProfile``: the profile's display name and description."""
    section = settings.platforms.bluesky
    client = BlueskyCollector(section)._new_client()
    with _boundary(AccountRef(id=0, platform=NAME, handle=handle), section.timeout_seconds):
        profile = client.get_profile(actor=handle.lstrip("@"))
    return "\n".join(p for p in (profile.display_name, profile.description) if p)


PLATFORM = Platform(
    name=NAME,
    settings_type=BlueskySettings,
    handle=HandleRule(re.compile(r"^@?[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"),
                      lambda h: h.lstrip("@").lower()),
    code_goes_in="your Bluesky profile description (Edit profile > Description)",
    app_wide_limits=True,
    build=lambda settings: BlueskyCollector(settings.platforms.bluesky),
    read_profile=read_profile,
)
