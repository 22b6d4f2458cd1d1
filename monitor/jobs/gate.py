"""Fetching one account, and the per-host gate that stops a platform after a shared 429."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from monitor.collectors.base import Collector, FetchResult
from monitor.collectors.budget import BudgetSpent
from monitor.collectors.registry import app_wide_limited
from monitor.domain import AccountRef
from monitor.errors import CollectorError, RateLimited

log = logging.getLogger(__name__)



@dataclass
class Outcome:
    """One account's fetch: its result, its error, or why it was skipped."""

    account: AccountRef
    result: FetchResult | None = None
    error: CollectorError | None = None
    # Skipped without it being the account's fault (budget, platform-wide rate limit).
    skip: str | None = None


def fetch(collector: Collector, account: AccountRef) -> Outcome:
    """Fetch one account; whatever goes wrong stays in its outcome, never stops the cycle."""
    try:
        return Outcome(account, result=collector.fetch(account))
    except BudgetSpent as exc:
        return Outcome(account, skip=str(exc))
    except CollectorError as exc:
        return Outcome(account, error=exc)
    except Exception as exc:  # a bug in one collector must not stop the cycle
        log.exception("collector crashed",
                      extra={"platform": account.platform, "account": account.handle})
        return Outcome(account, error=CollectorError(
            f"internal error: {type(exc).__name__}", platform=account.platform,
            account=account.handle))


class Gate:
    """Stops a platform (or one Mastodon instance / feed host) after a platform-wide 429."""

    def __init__(self) -> None:
        self._until: dict[str, datetime | None] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(account: AccountRef) -> str:
        """What one rate limit covers: the platform, or the instance or host for per-host ones."""
        if account.platform in app_wide_limited():  # one 429 stops the platform
            return account.platform
        if account.platform == "mastodon" and "@" in account.handle.lstrip("@"):
            return "mastodon:" + account.handle.lstrip("@").split("@", 1)[1].lower()
        if account.platform == "rss":
            return "rss:" + (urlsplit(account.handle).netloc.lower() or "base")
        return account.platform

    def closed(self, account: AccountRef) -> tuple[bool, datetime | None]:
        """Whether the account's host is shut, and until when (None if unknown)."""
        with self._lock:
            k = self.key(account)
            return k in self._until, self._until.get(k)

    def close(self, account: AccountRef, until: datetime | None) -> None:
        """Shut the account's host; the first reset time reported wins."""
        with self._lock:
            self._until.setdefault(self.key(account), until)


def guarded_fetch(collector: Collector, account: AccountRef, gate: Gate) -> Outcome:
    """Fetch unless the account's host is shut; a platform-wide 429 shuts it for the others."""
    shut, until = gate.closed(account)
    if shut:
        return Outcome(account, skip=f"platform rate limited until {until or 'later'}")
    out = fetch(collector, account)
    if isinstance(out.error, RateLimited):
        gate.close(account, out.error.reset_at)
    return out
