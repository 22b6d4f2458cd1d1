"""The collector contract: given one consented account and its cursor, return new posts.

Collectors never touch the store; the cycle (monitor/jobs/cycle.py) asks the store for
consented accounts only, calls ``fetch`` and writes the results. That keeps the consent
check in one query and makes every collector testable against a fake server alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from monitor.domain import AccountRef, Cursor, Post


@dataclass(slots=True)
class FetchResult:
    """New or edited posts for one account, the advanced cursor and what it cost."""

    posts: list[Post] = field(default_factory=list)
    cursor: Cursor = field(default_factory=Cursor)
    # Posts the platform shows as deleted since last time (their platform post ids).
    deleted_ids: list[str] = field(default_factory=list)
    requests: int = 0
    # Learned during the fetch (e.g. X user id), cached on the account.
    platform_user_id: str | None = None
    # Units the platform bills for (X reads); counted against a per-cycle cap.
    billed_reads: int = 0
    # A complete newest-first listing back to ``window_start``: stored posts of this account
    # created in that window but absent from ``window_ids`` were deleted by their author.
    window_start: datetime | None = None
    window_ids: list[str] | None = None


@runtime_checkable
class Collector(Protocol):
    """Reads public posts of one platform."""

    platform: str

    def fetch(self, account: AccountRef) -> FetchResult:
        """Return posts newer than ``account.cursor``; raise CollectorError/RateLimited."""
        ...
