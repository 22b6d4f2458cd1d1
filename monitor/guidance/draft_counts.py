"""The only trace a checked draft leaves: one increment per category per week, no person.

``draft_check_counts`` holds (week, category, drafts); category ``*`` counts every checked
draft. The matching Prometheus counter is labelled by category alone.
"""

from __future__ import annotations

import logging
from datetime import datetime

from prometheus_client import Counter

from monitor.domain import CATEGORIES, utcnow
from monitor.metrics import REGISTRY
from monitor.store import Session, Store, draft_counts

log = logging.getLogger(__name__)

ALL_DRAFTS = "*"  # the counter row that counts every checked draft

DRAFT_CHECKS = Counter("socialguide_draft_checks", "Drafts checked before posting, by "
                       "category found (\"none\" when nothing was found); no other label",
                       ["category"], registry=REGISTRY)


def count(store: Store | None, categories: list[str], now: datetime | None = None) -> None:
    """Add one checked draft to this week's counters: every draft, and each category found."""
    from monitor.compliance.reports import week_start

    if not categories:
        DRAFT_CHECKS.labels("none").inc()
    for c in categories:
        DRAFT_CHECKS.labels(c if c in CATEGORIES else "other").inc()
    if store is None:
        return
    week = week_start(now or utcnow())
    keys = [ALL_DRAFTS, *[c for c in categories if c in CATEGORIES]]
    try:
        with store.session() as s:
            draft_counts.bump(s, week, keys)
    except Exception as exc:  # the answer matters more than the counter
        log.warning("could not count a draft check: %s", type(exc).__name__)


def weekly_counts(session: Session, since: datetime, until: datetime) -> dict[str, dict[str, int]]:
    """week -> category (``*`` for every draft) -> drafts, for the weeks the window touches."""
    from monitor.compliance.reports import week_start

    first, last = week_start(since), week_start(until)
    out: dict[str, dict[str, int]] = {}
    for week, cat, n in draft_counts.between(session, first, last):
        out.setdefault(week, {})[cat] = n
    return out
