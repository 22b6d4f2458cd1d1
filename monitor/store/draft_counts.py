"""The weekly draft-check counters: one row per (week, category), no person."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from monitor.store.schema import DraftCheckCountRow


def bump(s: Session, week: str, categories: list[str]) -> None:
    """Add one to each category's counter for the week, creating the rows as needed."""
    ins = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    for key in categories:
        stmt = ins(DraftCheckCountRow).values(week=week, category=key, drafts=1)
        s.execute(stmt.on_conflict_do_update(
            index_elements=["week", "category"],
            set_={"drafts": DraftCheckCountRow.drafts + 1}))


def between(s: Session, first: str, last: str) -> list[tuple[str, str, int]]:
    """(week, category, drafts) for the weeks from ``first`` to ``last``, in week order."""
    rows = s.execute(
        select(DraftCheckCountRow.week, DraftCheckCountRow.category,
               func.sum(DraftCheckCountRow.drafts))
        .where(DraftCheckCountRow.week >= first, DraftCheckCountRow.week <= last)
        .group_by(DraftCheckCountRow.week, DraftCheckCountRow.category)
        .order_by(DraftCheckCountRow.week)
    )
    return [(week, cat, int(n or 0)) for week, cat, n in rows]
