"""Single flags as people meet them: the flag a button refers to, and a person's own flags."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.domain import FlagStatus
from monitor.store.schema import FlagRow, NudgeRow


def flag_by_id(session: Session, flag_id: int) -> FlagRow | None:
    """The flag with this id, or None if there is none (a button can outlive its flag)."""
    return session.get(FlagRow, flag_id)


def newer_flag_on_post(session: Session, post_id: int, flag_id: int) -> FlagRow | None:
    """The newest flag on the post after ``flag_id``: where an edit of the post moved it."""
    return session.scalar(select(FlagRow).where(
        FlagRow.post_id == post_id, FlagRow.id > flag_id)
        .order_by(FlagRow.id.desc()).limit(1))


def own_flags(session: Session, person_id: int, limit: int = 20) -> list[FlagRow]:
    """The person's newest visible flags (shadow flags are never shown to them)."""
    return list(session.scalars(select(FlagRow).where(
        FlagRow.person_id == person_id, FlagRow.status != FlagStatus.SHADOW.value)
        .order_by(FlagRow.id.desc()).limit(limit)))


def first_open_flag_with_author_told(session: Session) -> FlagRow | None:
    """The oldest open flag whose author nudge was sent (the demo's author answers it)."""
    return session.scalar(
        select(FlagRow)
        .join(NudgeRow, NudgeRow.flag_id == FlagRow.id)
        .where(NudgeRow.role == "author", NudgeRow.status == "sent",
               FlagRow.status == "open")
        .order_by(FlagRow.id)
        .limit(1)
    )
