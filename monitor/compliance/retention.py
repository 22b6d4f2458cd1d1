"""The nightly purge: text older than its category's retention goes, unless on legal hold."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitor.config import Settings
from monitor.domain import CATEGORIES, utcnow
from monitor.store import Store
from monitor.store.audit import lock_chain, record
from monitor.store.retention import erase_category, erase_other_categories, erase_posts


@dataclass(slots=True)
class PurgeResult:
    """Counts per kind of text erased (no text itself)."""

    flags: dict[str, int] = field(default_factory=dict)
    findings: int = 0
    posts: int = 0

    @property
    def total(self) -> int:
        return sum(self.flags.values()) + self.findings + self.posts


def retention_days(settings: Settings, category: str) -> int:
    return settings.retention.days.get(category, settings.retention.default_days)


def purge(store: Store, settings: Settings, now: datetime | None = None) -> PurgeResult:
    """Erase expired text in one transaction and record one textless audit entry.

    A flag's excerpt and its findings' evidence expire after its category's days; a post's
    text goes once every flag on it has expired (or, unflagged, after ``default_days``).
    Anything tied to a flag on legal hold stays. Safe to run twice.
    """
    now = now or utcnow()
    out = PurgeResult()
    with store.session() as session:
        lock_chain(session)  # before the row locks below: see lock_chain
        categories = set(CATEGORIES) | set(settings.retention.days)
        for category in sorted(categories):
            cutoff = now - timedelta(days=retention_days(settings, category))
            findings, n = erase_category(session, category, cutoff, now)
            out.findings += findings
            if n:
                out.flags[category] = n
        # Flags in categories with unknown ids (other tools) fall back to the default;
        # their findings' evidence goes with them (it quotes the same text).
        default_cutoff = now - timedelta(days=settings.retention.default_days)
        findings, n = erase_other_categories(session, categories, default_cutoff, now)
        out.findings += findings
        if n:
            out.flags["other"] = n
        out.posts = erase_posts(session, default_cutoff, now)
        record(session, "retention", "retention.purge", None, None, {
            "flags": out.flags, "findings": out.findings, "posts": out.posts,
            "now": now.isoformat(),
        })
    return out
