"""X (Twitter) API v2 through tweepy: a user's own posts, newest first, since the last id.

X bills per post read and per user lookup, so the user id is cached on the account, each
cycle asks only for posts newer than ``since_id``, and every read is counted against the
cycle's :class:`~monitor.collectors.budget.ReadBudget`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import requests
import tweepy

from monitor.collectors.base import FetchResult
from monitor.collectors.budget import BudgetSpent, ReadBudget
from monitor.collectors.common import ClientPool, parse_time
from monitor.collectors.platform import HandleRule, Platform, lstrip_at
from monitor.config import Settings, XSettings, optional_secret, secret
from monitor.domain import AccountRef, Cursor, Post
from monitor.errors import CollectorError, RateLimited

NAME = "x"
_HOSTS = ("https://api.twitter.com", "https://api.x.com")


class RewritingSession(requests.Session):
    """tweepy has a fixed host; this session sends its calls to the configured base URL."""

    def __init__(self, base_url: str, timeout: float):
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def request(self, method: str | bytes, url: str | bytes,  # type: ignore[override]
                *args: Any, **kwargs: Any) -> Any:
        if isinstance(url, str):
            for host in _HOSTS:
                if url.startswith(host):
                    url = self.base_url + url[len(host):]
                    break
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)  # type: ignore[arg-type]


class XCollector:
    """Reads public posts of X accounts with an app bearer token."""

    platform = NAME

    def __init__(self, settings: XSettings, bearer_token: str):
        self.settings = settings
        self._token = bearer_token
        self._pool: ClientPool[tweepy.Client] = ClientPool(self._new_client)
        # Set by the cycle before it starts; None means no cap.
        self.budget: ReadBudget | None = None

    def _new_client(self) -> tweepy.Client:
        client = tweepy.Client(bearer_token=self._token, wait_on_rate_limit=False)
        client.session = RewritingSession(self.settings.base_url, self.settings.timeout_seconds)
        return client

    def fetch(self, account: AccountRef) -> FetchResult:
        result = FetchResult(cursor=_copy(account.cursor))
        need_lookup = account.platform_user_id is None
        page_size = max(5, min(100, self.settings.max_posts_per_account))
        wanted = page_size + (1 if need_lookup else 0)
        budget = self.budget
        minimum = 5 + (1 if need_lookup else 0)  # X's smallest page, plus the lookup
        reserved = budget.reserve(wanted, minimum) if budget is not None else wanted
        if reserved < minimum:
            raise BudgetSpent(
                f"read budget for this cycle is spent ({budget.limit if budget else 0} reads)"
            )
        try:
            with _boundary(account, self.settings.timeout_seconds), self._pool.client() as c:
                self._fetch(c, account, result, reserved, need_lookup)
        finally:
            if budget is not None:
                budget.settle(reserved, result.billed_reads)
        return result

    def _fetch(self, client: tweepy.Client, account: AccountRef, result: FetchResult,
               reads: int, lookup: bool) -> None:
        user_id = account.platform_user_id
        handle = account.handle.lstrip("@")
        if lookup:
            resp = client.get_user(username=handle)
            result.requests += 1
            result.billed_reads += 1
            reads -= 1
            if resp.data is None:
                detail = _error_detail(resp.errors) or "not found"
                raise CollectorError(f"no such X user @{handle} ({detail})",
                                     platform=NAME, account=account.handle)
            user_id = str(resp.data.id)
            result.platform_user_id = user_id
        limit = min(self.settings.max_posts_per_account, reads)
        token: str | None = None
        newest = account.cursor.since_id
        while len(result.posts) < limit:
            page = max(5, min(100, limit - len(result.posts)))
            resp = client.get_users_tweets(
                user_id,
                since_id=account.cursor.since_id,
                max_results=page,
                pagination_token=token,
                exclude=["retweets", "replies"],
                tweet_fields=["created_at", "edit_history_tweet_ids"],
            )
            result.requests += 1
            tweets = resp.data or []
            result.billed_reads += len(tweets)
            meta = resp.meta or {}
            if newest is None or (meta.get("newest_id") and _later(meta["newest_id"], newest)):
                newest = meta.get("newest_id") or newest
            for t in tweets:
                result.posts.append(_post(t, account))
            token = meta.get("next_token")
            # Without a since_id, one page is the history we take: older posts are not news.
            if not token or account.cursor.since_id is None:
                break
        result.cursor.since_id = newest
        result.cursor.newest_id = newest


def _post(t: Any, account: AccountRef) -> Post:
    history = [str(i) for i in (getattr(t, "edit_history_tweet_ids", None) or [])]
    # An edit on X is a new post id; its history names the original, which is our key.
    original = history[0] if history else str(t.id)
    if not isinstance(t.text, str):
        raise ValueError("post text is not a string")
    return Post(
        id=original,
        text=t.text,
        platform=NAME,
        author=account.handle,
        created_at=parse_time(getattr(t, "created_at", None)),
        url=f"https://x.com/{account.handle.lstrip('@')}/status/{t.id}",
        account_id=account.id,
        edited_at=parse_time(getattr(t, "created_at", None)) if original != str(t.id) else None,
    )


def _later(a: str, b: str) -> bool:
    try:
        return int(a) > int(b)
    except ValueError:
        return a > b


def _copy(c: Cursor) -> Cursor:
    return Cursor(c.since_id, c.newest_id, c.last_uri, c.etag, c.last_modified)


def _error_detail(errors: Any) -> str:
    if not errors:
        return ""
    first = errors[0] if isinstance(errors, list) else errors
    if isinstance(first, dict):
        return str(first.get("detail") or first.get("title") or first)
    return str(first)


@contextmanager
def _boundary(account: AccountRef, timeout: float) -> Iterator[None]:
    """Translate tweepy/requests errors into CollectorError / RateLimited."""
    who = {"platform": NAME, "account": account.handle}
    try:
        yield
    except tweepy.errors.TooManyRequests as exc:
        reset = getattr(exc.response, "headers", {}).get("x-rate-limit-reset")
        reset_at = datetime.fromtimestamp(int(reset), UTC) if reset and reset.isdigit() else None
        raise RateLimited("rate limited (429)", reset_at=reset_at, **who) from None
    except (tweepy.errors.Unauthorized, tweepy.errors.Forbidden) as exc:
        raise CollectorError(f"X refused the bearer token ({exc.response.status_code})",
                             **who) from None
    except tweepy.errors.NotFound:
        raise CollectorError("not found (404)", **who) from None
    except tweepy.errors.TwitterServerError as exc:
        raise CollectorError(f"X server error ({exc.response.status_code})", **who) from None
    except tweepy.errors.HTTPException as exc:
        raise CollectorError(f"X answered HTTP {exc.response.status_code}", **who) from None
    except requests.Timeout:
        raise CollectorError(f"timed out after {timeout:g}s", **who) from None
    except requests.RequestException as exc:
        raise CollectorError(f"network error: {type(exc).__name__}", **who) from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CollectorError(f"malformed payload skipped ({type(exc).__name__}: {exc})",
                             **who) from None


def read_profile(settings: Settings, handle: str) -> str:
    """``GET /2/users/by/username/:u`` with ``user.fields=description`` (one billed lookup)."""
    section = settings.platforms.x
    name = handle.lstrip("@")
    token = secret(section.bearer_token_env, what="X bearer token")
    client = XCollector(section, token)._new_client()
    with _boundary(AccountRef(id=0, platform=NAME, handle=handle), section.timeout_seconds):
        resp = client.get_user(username=name, user_fields=["description"])
        if resp.data is None:
            detail = _error_detail(resp.errors) or "not found"
            raise CollectorError(f"no such X user @{name} ({detail})", platform=NAME,
                                 account=handle)
        return str(getattr(resp.data, "description", "") or "")


def _missing(settings: Settings) -> str | None:
    env = settings.platforms.x.bearer_token_env
    if optional_secret(env):
        return None
    return f"no credentials: environment variable {env} is not set"


PLATFORM = Platform(
    name=NAME,
    settings_type=XSettings,
    handle=HandleRule(re.compile(r"^@?[A-Za-z0-9_]{1,15}$"), lstrip_at),
    code_goes_in="your X bio (Edit profile > Bio)",
    app_wide_limits=True,
    build=lambda settings: XCollector(
        settings.platforms.x, optional_secret(settings.platforms.x.bearer_token_env) or ""),
    read_profile=read_profile,
    missing=_missing,
)
