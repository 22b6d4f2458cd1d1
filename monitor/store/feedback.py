"""The verdicts reviewers and employees gave on flags: written per rule, read back as labels."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.store.schema import FeedbackRow, FlagRow, PostRow


class LabelledVerdict(NamedTuple):
    """One verdict that says something about a label, with the flagged text it labels."""

    flag_id: int
    category: str
    confirmed: bool
    text: str


def record_verdicts(session: Session, flag_id: int, labelled: Iterable[tuple[str | None, str]],
                    role: str, actor: str, verdict: str, reason: str | None,
                    now: datetime) -> None:
    """One feedback row per (rule source, category) the verdict labels: per-rule precision
    and the classifier's feedback training count them by source."""
    for source, category in labelled:
        session.add(FeedbackRow(flag_id=flag_id, source=source, category=category, role=role,
                                actor=actor, verdict=verdict, reason=reason, created_at=now))
    session.flush()


def labelled_verdicts(s: Session) -> list[LabelledVerdict]:
    """``confirmed`` and ``not_a_concern`` verdicts, oldest first, erased or empty texts left out.

    Other verdicts ("handled") say nothing about the label; a verdict without its own
    category labels the flag's category.
    """
    rows = s.execute(
        select(FeedbackRow.flag_id, FeedbackRow.category, FlagRow.category,
               FeedbackRow.verdict, PostRow.text, PostRow.erased_at)
        .join(FlagRow, FlagRow.id == FeedbackRow.flag_id)
        .join(PostRow, PostRow.id == FlagRow.post_id)
        .where(FeedbackRow.verdict.in_(("confirmed", "not_a_concern")))
        .order_by(FeedbackRow.id)
    ).all()
    return [LabelledVerdict(flag_id, fb_cat or flag_cat, verdict == "confirmed", text)
            for flag_id, fb_cat, flag_cat, verdict, text, erased_at in rows
            if text and erased_at is None]
