"""The flag log's SQL: a viewer's filtered, keyset-paged flags, and the rows around one flag."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple, Protocol

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from monitor.domain import FlagStatus
from monitor.store.schema import (
    AuditEventRow,
    FeedbackRow,
    FindingRow,
    FlagRow,
    NudgeRow,
    PersonRow,
    PostRow,
)
from monitor.store.scope import Viewer, flag_scope


class FlagFilter(Protocol):
    """The validated filter the flag log applies (``compliance.queries.FlagQuery`` is one)."""

    @property
    def category(self) -> str | None: ...
    @property
    def severity(self) -> str | None: ...
    @property
    def status(self) -> str | None: ...
    @property
    def team(self) -> str | None: ...
    @property
    def platform(self) -> str | None: ...
    @property
    def rule(self) -> str | None: ...
    @property
    def since(self) -> date | None: ...
    @property
    def until(self) -> date | None: ...
    @property
    def q(self) -> str | None: ...


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def filtered(viewer: Viewer, query: FlagFilter) -> Any:
    """SELECT of the flags ``viewer`` may see that match ``query`` (newest first)."""
    stmt = select(FlagRow)
    scope = flag_scope(viewer)
    if scope is not None:
        stmt = stmt.where(scope)
    for key in ("category", "severity", "status", "team", "platform"):
        value = getattr(query, key)
        if value is not None:
            stmt = stmt.where(getattr(FlagRow, key) == value)
    if query.status is None:
        # The shadow log is a view of its own (status "shadow"), never mixed into the log.
        stmt = stmt.where(FlagRow.status != FlagStatus.SHADOW.value)
    if query.rule:
        stmt = stmt.where(
            exists().where(FindingRow.flag_id == FlagRow.id, FindingRow.source == query.rule)
        )
    if query.since:
        stmt = stmt.where(FlagRow.created_at >= datetime.combine(query.since, time(), UTC))
    if query.until:
        end = datetime.combine(query.until + timedelta(days=1), time(), UTC)
        stmt = stmt.where(FlagRow.created_at < end)
    if query.q:
        pattern = _like(query.q)
        in_post = exists().where(
            PostRow.id == FlagRow.post_id, PostRow.text.ilike(pattern, escape="\\")
        )
        stmt = stmt.where(or_(FlagRow.excerpt.ilike(pattern, escape="\\"), in_post))
    return stmt.order_by(FlagRow.created_at.desc(), FlagRow.id.desc())



def count_matching(session: Session, viewer: Viewer, query: FlagFilter) -> int:
    """How many flags the viewer may see match ``query``: the log says it above its first page."""
    ids = filtered(viewer, query).order_by(None).with_only_columns(FlagRow.id).subquery()
    return int(session.scalar(select(func.count()).select_from(ids)) or 0)


class FilterChoices(NamedTuple):
    """The values the log's filters can take for this viewer: what is in their part of the log."""

    teams: list[str]
    platforms: list[str]
    rules: list[str]


def filter_choices(session: Session, viewer: Viewer) -> FilterChoices:
    """Teams, platforms and finding sources of the flags ``viewer`` may see (a manager's list
    names no other team's values; shadow-only sources stay compliance's)."""
    scope = flag_scope(viewer)
    where = [scope] if scope is not None else []

    def distinct(column: Any, *more: Any) -> list[str]:
        stmt = select(column).distinct().where(*where, *more, column.is_not(None))
        return sorted(str(v) for v in session.scalars(stmt) if str(v).strip())

    rule_stmt = select(FindingRow.source).join(FlagRow, FlagRow.id == FindingRow.flag_id)
    if not viewer.sees_everything:
        rule_stmt = rule_stmt.where(FindingRow.shadow.is_(False))
    rules = sorted({str(v) for v in session.scalars(rule_stmt.where(*where).distinct()) if v})
    return FilterChoices(distinct(FlagRow.team), distinct(FlagRow.platform), rules)


def flags_after(session: Session, viewer: Viewer, query: FlagFilter,
                after: tuple[datetime, int] | None, limit: int) -> list[FlagRow]:
    """Up to ``limit`` matching flags strictly after the (created_at, id) key, newest first."""
    stmt = filtered(viewer, query)
    if after:
        at, fid = after
        # The first term is a plain range the (created_at, id) index can seek to.
        stmt = stmt.where(
            FlagRow.created_at <= at,
            or_(FlagRow.created_at < at, and_(FlagRow.created_at == at, FlagRow.id < fid)),
        )
    return list(session.scalars(stmt.limit(limit)))


def visible_flag(session: Session, viewer: Viewer, flag_id: int) -> FlagRow | None:
    """The flag with this id if ``viewer``'s scope includes it, else None."""
    stmt = select(FlagRow).where(FlagRow.id == flag_id)
    scope = flag_scope(viewer)
    if scope is not None:
        stmt = stmt.where(scope)
    return session.scalar(stmt)



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
