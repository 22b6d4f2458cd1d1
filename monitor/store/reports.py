"""The rows the reports count: flags, findings, verdicts and nudges in a window, and the totals."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.store.schema import FeedbackRow, FindingRow, FlagRow, NudgeRow, PostRow


def flags_in(session: Session, since: datetime, until: datetime) -> Iterable[Any]:
    """(created_at, category, status, resolution, resolved_at) of flags created in the window."""
    return session.execute(
        select(FlagRow.created_at, FlagRow.category, FlagRow.status, FlagRow.resolution,
               FlagRow.resolved_at)
        .where(FlagRow.created_at >= since, FlagRow.created_at < until)
        .execution_options(yield_per=5000)
    )


def finding_sources_in(session: Session, since: datetime, until: datetime) -> Iterable[Any]:
    """(flag_id, source, shadow, category) of findings on flags created in the window."""
    return session.execute(
        select(FindingRow.flag_id, FindingRow.source, FindingRow.shadow, FindingRow.category)
        .join(FlagRow, FlagRow.id == FindingRow.flag_id)
        .where(FlagRow.created_at >= since, FlagRow.created_at < until)
        .execution_options(yield_per=5000)
    )


def verdicts_in(session: Session, since: datetime, until: datetime) -> Iterable[Any]:
    """(flag_id, source, role, actor, verdict) of feedback given in the window, oldest first."""
    return session.execute(
        select(FeedbackRow.flag_id, FeedbackRow.source, FeedbackRow.role, FeedbackRow.actor,
               FeedbackRow.verdict)
        .where(FeedbackRow.created_at >= since, FeedbackRow.created_at < until)
        .order_by(FeedbackRow.created_at, FeedbackRow.id)
    )


def sent_nudges_in(session: Session, since: datetime, until: datetime) -> Iterable[Any]:
    """(sent_at, recipient_id, recipient_email, kind) of nudges sent in the window."""
    return session.execute(
        select(NudgeRow.sent_at, NudgeRow.recipient_id, NudgeRow.recipient_email, NudgeRow.kind)
        .where(NudgeRow.status == "sent", NudgeRow.sent_at >= since, NudgeRow.sent_at < until)
    )


def dead_nudges_since(session: Session, since: datetime, limit: int = 200) -> Iterable[Any]:
    """The newest nudges that gave up delivering, created since ``since``."""
    return session.execute(
        select(NudgeRow.id, NudgeRow.flag_id, NudgeRow.role, NudgeRow.kind, NudgeRow.attempts,
               NudgeRow.last_error, NudgeRow.created_at)
        .where(NudgeRow.status == "dead", NudgeRow.created_at >= since)
        .order_by(NudgeRow.id.desc()).limit(limit)
    )


def totals(session: Session) -> dict[str, int]:
    """How many posts, visible flags, shadow flags and sent nudges the store holds in all."""
    return {
        "posts": session.scalar(select(func.count(PostRow.id))) or 0,
        "flags": session.scalar(select(func.count(FlagRow.id))
                                .where(FlagRow.status != "shadow")) or 0,
        "shadow": session.scalar(select(func.count(FlagRow.id))
                                 .where(FlagRow.status == "shadow")) or 0,
        "nudges_sent": session.scalar(
            select(func.count(NudgeRow.id)).where(NudgeRow.status == "sent")) or 0,
    }


def visible_flag_categories(session: Session) -> Iterable[list[str]]:
    """The categories of every flag that is not a shadow flag."""
    return session.scalars(select(FlagRow.categories).where(FlagRow.status != "shadow"))


def sent_nudge_recipients(session: Session) -> Iterable[Any]:
    """(recipient_email, role) of every nudge sent."""
    return session.execute(
        select(NudgeRow.recipient_email, NudgeRow.role).where(NudgeRow.status == "sent"))
