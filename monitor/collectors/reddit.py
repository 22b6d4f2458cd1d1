"""Reddit through praw, app-only (read-only): a user's newest submissions and comments.

Reddit has no ``since`` parameter, so each cycle reads the newest page of the user's
overview (one request): new items are stored, edited ones change their hash and are
analysed again, and items shown as ``[deleted]`` or missing from the window are deletions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import praw
import prawcore
import requests

from monitor.collectors.base import FetchResult
from monitor.collectors.common import ClientPool, oldest, parse_time
from monitor.collectors.platform import HandleRule, Platform
from monitor.config import RedditSettings, Settings, optional_secret, secret
from monitor.domain import AccountRef, Cursor, Post, utcnow
from monitor.errors import CollectorError, RateLimited

NAME = "reddit"
_DELETED = ("[deleted]",)


class RedditCollector:
    """Reads public posts and comments of Reddit users with app-only credentials."""

    platform = NAME

    def __init__(self, settings: RedditSettings, client_id: str, client_secret: str):
        self.settings = settings
        self._id = client_id
        self._secret = client_secret
        # praw objects are not shared between running fetches; each keeps its token.
        self._pool: ClientPool[praw.Reddit] = ClientPool(self._new_client)

    def _new_client(self) -> praw.Reddit:
        client = praw.Reddit(
                client_id=self._id,
            client_secret=self._secret,
            user_agent=self.settings.user_agent,
            oauth_url=self.settings.base_url.rstrip("/"),
            reddit_url=self.settings.auth_url.rstrip("/"),
            check_for_updates=False,
            timeout=max(1, int(round(self.settings.timeout_seconds))),
        )
        client.read_only = True
        return client

    def fetch(self, account: AccountRef) -> FetchResult:
        c = account.cursor
        result = FetchResult(cursor=Cursor(c.since_id, c.newest_id, c.last_uri, c.etag,
                                           c.last_modified))
        name = account.handle.removeprefix("u/").removeprefix("/u/").lstrip("@")
        with _boundary(account, self.settings.timeout_seconds), self._pool.client() as reddit:
            listing = reddit.redditor(name).overview.new(
                limit=min(100, self.settings.max_posts_per_account), params={"raw_json": 1}
            )
            items = list(listing)
            # praw does not expose its request count; a listing of <=100 items is one page.
            result.requests = 1
            deleted: list[str] = []
            for item in items:
                post = _post(item, account)
                if post is None:
                    deleted.append(_fullname(item))
                else:
                    result.posts.append(post)
        result.deleted_ids = deleted
        ids = [p.id for p in result.posts] + deleted
        if result.posts or deleted:
            start = oldest(result.posts)
            result.window_start = start
            result.window_ids = ids
            result.cursor.newest_id = ids[0]
        elif not items:
            # An empty overview: every stored post of this account is gone.
            result.window_start = utcnow() - timedelta(days=36500)
            result.window_ids = []
        return result


def _fullname(item: Any) -> str:
    data = item.__dict__
    return str(data.get("name") or f"{'t1' if 'body' in data else 't3'}_{data['id']}")


def _post(item: Any, account: AccountRef) -> Post | None:
    """A Post from a praw Submission/Comment, None when the author deleted it."""
    # Read the raw fields: attribute access on a missing field makes praw fetch it lazily.
    data = item.__dict__
    if "body" in data:
        text = data["body"]
        if text in _DELETED:
            return None
    else:
        title, body = data["title"], data.get("selftext") or ""
        if body in _DELETED or data.get("removed_by_category") == "deleted":
            return None
        text = f"{title}\n\n{body}".strip()
    if not isinstance(text, str):
        raise TypeError("item text is not a string")
    edited = data.get("edited")
    permalink = data.get("permalink")
    return Post(
        id=_fullname(item),
        text=text,
        platform=NAME,
        author=account.handle,
        created_at=parse_time(data.get("created_utc")),
        url=f"https://www.reddit.com{permalink}" if permalink else None,
        account_id=account.id,
        edited_at=parse_time(edited) if isinstance(edited, int | float) and edited else None,
    )


@contextmanager
def _boundary(account: AccountRef, timeout: float) -> Iterator[None]:
    """Translate praw/prawcore errors into CollectorError / RateLimited."""
    who = {"platform": NAME, "account": account.handle}
    try:
        yield
    except prawcore.exceptions.TooManyRequests as exc:
        reset_at = None
        headers = exc.response.headers
        wait = exc.retry_after or headers.get("x-ratelimit-reset")
        try:
            if wait is not None:
                reset_at = utcnow() + timedelta(seconds=float(wait))
        except ValueError:
            reset_at = None
        raise RateLimited("rate limited (429)", reset_at=reset_at, **who) from None
    except prawcore.exceptions.NotFound:
        raise CollectorError("no such Reddit user (404)", **who) from None
    except prawcore.exceptions.Forbidden:
        raise CollectorError("account is suspended or private (403)", **who) from None
    except prawcore.exceptions.Redirect:
        raise CollectorError("no such Reddit user (redirected)", **who) from None
    except prawcore.exceptions.OAuthException as exc:
        raise CollectorError(f"Reddit refused the app credentials ({exc.error})", **who) from None
    except prawcore.exceptions.ResponseException as exc:
        if isinstance(exc, prawcore.exceptions.BadJSON):
            raise CollectorError("malformed payload skipped (not JSON)", **who) from None
        raise CollectorError(f"Reddit answered HTTP {exc.response.status_code}", **who) from None
    except prawcore.exceptions.RequestException as exc:
        orig = exc.original_exception
        if isinstance(orig, requests.Timeout):
            raise CollectorError(f"timed out after {timeout:g}s", **who) from None
        raise CollectorError(f"network error: {type(orig).__name__}", **who) from None
    except prawcore.exceptions.PrawcoreException as exc:
        raise CollectorError(f"Reddit error: {type(exc).__name__}", **who) from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CollectorError(f"malformed payload skipped ({type(exc).__name__}: {exc})",
                             **who) from None


def read_profile(settings: Settings, handle: str) -> str:
    """``/user/NAME/about``: the user's profile (``subreddit.public_description``)."""
    section = settings.platforms.reddit
    name = handle.removeprefix("/u/").removeprefix("u/").lstrip("@")
    client = RedditCollector(section, secret(section.client_id_env, what="Reddit client id"),
                             optional_secret(section.client_secret_env) or "")._new_client()
    with _boundary(AccountRef(id=0, platform=NAME, handle=handle), section.timeout_seconds):
        # The raw JSON: praw would otherwise fetch missing attributes lazily.
        about: Any = client.request(method="GET", path=f"user/{name}/about/",
                                    params={"raw_json": 1})
        data = about.get("data") or {}
        sub = data.get("subreddit") or {}
        return str(sub.get("public_description") or "")


def _missing(settings: Settings) -> str | None:
    section = settings.platforms.reddit
    missing = [e for e in (section.client_id_env, section.client_secret_env)
               if not optional_secret(e)]
    if not missing:
        return None
    return ("no credentials: environment variable"
            f"{'s' if len(missing) > 1 else ''} {', '.join(missing)} not set")


def _build(settings: Settings) -> RedditCollector:
    section = settings.platforms.reddit
    return RedditCollector(section, optional_secret(section.client_id_env) or "",
                           optional_secret(section.client_secret_env) or "")


PLATFORM = Platform(
    name=NAME,
    settings_type=RedditSettings,
    handle=HandleRule(re.compile(r"^(/?u/)?[A-Za-z0-9_-]{3,20}$"),
                      lambda h: re.sub(r"^/?u/", "", h).lstrip("@")),
    code_goes_in="your Reddit profile's About/description (Settings > Profile)",
    app_wide_limits=True,
    build=_build,
    read_profile=read_profile,
    missing=_missing,
)
