"""Exponential backoff with full jitter, so failing accounts retry later and not all at once."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

BASE_SECONDS = 60.0
CAP_SECONDS = 6 * 3600.0


def backoff_seconds(
    failures: int,
    *,
    base: float = BASE_SECONDS,
    cap: float = CAP_SECONDS,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait after ``failures`` consecutive failures (1, 2, ...): jittered, capped.

    Half the delay is fixed and half is random ("equal jitter"), so a retry never comes
    back immediately but many failing accounts still spread out.
    """
    if failures <= 0:
        return 0.0
    delay = min(cap, base * 2 ** (failures - 1))
    r = rng or random
    return delay / 2 + r.uniform(0, delay / 2)


def next_attempt(
    now: datetime,
    failures: int,
    reset_at: datetime | None = None,
    *,
    base: float = BASE_SECONDS,
    cap: float = CAP_SECONDS,
) -> datetime:
    """When an account may be tried again: the later of the platform's reset time and backoff."""
    at = now + timedelta(seconds=backoff_seconds(failures, base=base, cap=cap))
    if reset_at is not None and reset_at > at:
        return reset_at
    return at
