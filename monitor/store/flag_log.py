"""What the store holds about one flag beyond its own row: post, nudges, history, feedback, author."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.store.schema import AuditEventRow, FeedbackRow, FlagRow, NudgeRow, PersonRow, PostRow


class FlagRecords(NamedTuple):
    """The rows around a flag that its page shows, each list oldest first."""

    post: PostRow | None
    nudges: list[NudgeRow]
    history: list[AuditEventRow]
    feedback: list[FeedbackRow]
    author: PersonRow | None


def flag_records(session: Session, flag: FlagRow) -> FlagRecords:
    """Load the rows a flag page needs in one place, so the page never builds SQL."""
    post = session.get(PostRow, flag.post_id) if flag.post_id else None
    nudges = list(session.scalars(
        select(NudgeRow).where(NudgeRow.flag_id == flag.id).order_by(NudgeRow.id)
    ))
    history = list(session.scalars(
        select(AuditEventRow)
        .where(AuditEventRow.subject_type == "flag", AuditEventRow.subject_id == str(flag.id))
        .order_by(AuditEventRow.id)
    ))
    feedback = list(session.scalars(
        select(FeedbackRow).where(FeedbackRow.flag_id == flag.id).order_by(FeedbackRow.id)
    ))
    author = session.get(PersonRow, flag.person_id) if flag.person_id else None
    return FlagRecords(post, nudges, history, feedback, author)
