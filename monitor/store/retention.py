"""The erasing UPDATEs of the nightly purge: expired flag excerpts, finding evidence, post text."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from monitor.store.schema import FindingRow, FlagRow, PostRow


def _count(result: Any) -> int:
    """Rows an UPDATE touched."""
    return int(getattr(result, "rowcount", 0) or 0)


def _erase(session: Session, expired: Any, now: datetime) -> tuple[int, int]:
    """Erase the evidence of findings on expired flags, then the flags' excerpts."""
    findings = _count(session.execute(
        update(FindingRow)
        .where(FindingRow.flag_id.in_(select(FlagRow.id).where(expired)),
               FindingRow.evidence.is_not(None))
        .values(evidence=None)
        .execution_options(synchronize_session=False)
    ))
    flags = _count(session.execute(
        update(FlagRow)
        .where(expired, FlagRow.erased_at.is_(None))
        .values(excerpt=None, erased_at=now)
        .execution_options(synchronize_session=False)
    ))
    return findings, flags


def erase_category(session: Session, category: str, cutoff: datetime,
                   now: datetime) -> tuple[int, int]:
    """(findings, flags) erased in one category older than ``cutoff`` and not on legal hold."""
    expired = and_(
        FlagRow.category == category,
        FlagRow.created_at < cutoff,
        FlagRow.legal_hold.is_(False),
    )
    return _erase(session, expired, now)


def erase_other_categories(session: Session, known: Iterable[str], cutoff: datetime,
                           now: datetime) -> tuple[int, int]:
    """(findings, flags) erased in categories outside ``known`` (other tools' ids)."""
    other = and_(FlagRow.category.not_in(sorted(known)),
                 FlagRow.created_at < cutoff, FlagRow.legal_hold.is_(False),
                 FlagRow.erased_at.is_(None))
    return _erase(session, other, now)


def erase_posts(session: Session, unflagged_cutoff: datetime, now: datetime) -> int:
    """Erase post text once every flag on it is erased and none is held (unflagged: by age)."""
    f = aliased(FlagRow)
    has_flags = exists().where(f.post_id == PostRow.id)
    live_or_held = exists().where(
        f.post_id == PostRow.id, or_(f.erased_at.is_(None), f.legal_hold.is_(True))
    )
    post_time = func.coalesce(PostRow.created_at, PostRow.collected_at)
    return _count(session.execute(
        update(PostRow)
        .where(
            PostRow.text.is_not(None),
            ~live_or_held,
            or_(has_flags, post_time < unflagged_cutoff),
        )
        .values(text=None, erased_at=now)
        .execution_options(synchronize_session=False)
    ))
