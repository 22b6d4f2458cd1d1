"""The nightly purge: text older than its category's retention goes, unless on legal hold."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from monitor.config import Settings
from monitor.domain import CATEGORIES, utcnow
from monitor.store import Store
from monitor.store.audit import lock_chain, record
from monitor.store.schema import FindingRow, FlagRow, PostRow


def _count(result: Any) -> int:
    """Rows an UPDATE touched."""
    return int(getattr(result, "rowcount", 0) or 0)


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
            expired = and_(
                FlagRow.category == category,
                FlagRow.created_at < cutoff,
                FlagRow.legal_hold.is_(False),
            )
            out.findings += _count(session.execute(
                update(FindingRow)
                .where(FindingRow.flag_id.in_(select(FlagRow.id).where(expired)),
                       FindingRow.evidence.is_not(None))
                .values(evidence=None)
                .execution_options(synchronize_session=False)
            ))
            n = _count(session.execute(
                update(FlagRow)
                .where(expired, FlagRow.erased_at.is_(None))
                .values(excerpt=None, erased_at=now)
                .execution_options(synchronize_session=False)
            ))
            if n:
                out.flags[category] = n
        # Flags in categories with unknown ids (other tools) fall back to the default.
        default_cutoff = now - timedelta(days=settings.retention.default_days)
        other = and_(FlagRow.category.not_in(sorted(categories)),
                     FlagRow.created_at < default_cutoff, FlagRow.legal_hold.is_(False),
                     FlagRow.erased_at.is_(None))
        # Their findings' evidence goes with them (it quotes the same text).
        out.findings += _count(session.execute(
            update(FindingRow)
            .where(FindingRow.flag_id.in_(select(FlagRow.id).where(other)),
                   FindingRow.evidence.is_not(None))
            .values(evidence=None)
            .execution_options(synchronize_session=False)
        ))
        n = _count(session.execute(update(FlagRow).where(other).values(excerpt=None, erased_at=now)
                            .execution_options(synchronize_session=False)))
        if n:
            out.flags["other"] = n
        f = aliased(FlagRow)
        has_flags = exists().where(f.post_id == PostRow.id)
        live_or_held = exists().where(
            f.post_id == PostRow.id, or_(f.erased_at.is_(None), f.legal_hold.is_(True))
        )
        post_time = func.coalesce(PostRow.created_at, PostRow.collected_at)
        out.posts = _count(session.execute(
            update(PostRow)
            .where(
                PostRow.text.is_not(None),
                ~live_or_held,
                or_(has_flags, post_time < default_cutoff),
            )
            .values(text=None, erased_at=now)
            .execution_options(synchronize_session=False)
        ))
        record(session, "retention", "retention.purge", None, None, {
            "flags": out.flags, "findings": out.findings, "posts": out.posts,
            "now": now.isoformat(),
        })
    return out
