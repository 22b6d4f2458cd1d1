"""The outbox's queries: due nudges, claiming one, budgets, earlier nudges, digests.

Delivery rules (quiet hours, grace, budgets) stay in ``monitor/guidance``; this module only
answers what the outbox holds, and claims rows so two workers never decide on the same one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from monitor.domain import FlagStatus, NudgeStatus
from monitor.store.schema import FindingRow, FlagRow, NudgeRow, PersonRow

# An author counts as told once their nudge is sent, or on its way.
_TOLD = (NudgeStatus.SENT.value, NudgeStatus.SENDING.value)


def sent_times(s: Session, recipient_id: int, since: datetime,
               unbudgeted: Iterable[str]) -> list[datetime | None]:
    """When this person's budgeted nudges since ``since`` were sent, oldest first."""
    return list(s.scalars(
        select(NudgeRow.sent_at).where(
            NudgeRow.recipient_id == recipient_id,
            NudgeRow.status == NudgeStatus.SENT.value,
            NudgeRow.sent_at >= since,
            NudgeRow.kind.not_in(list(unbudgeted)),
        ).order_by(NudgeRow.sent_at)
    ).all())


def nudge_by_key(s: Session, key: str) -> NudgeRow | None:
    """The nudge with this idempotency key, if one was queued."""
    return s.scalar(select(NudgeRow).where(NudgeRow.idempotency_key == key))


def due_ids(s: Session, now: datetime, limit: int) -> tuple[list[int], list[int]]:
    """Pending nudges due by ``now`` (soonest first), and "sending" ones whose lease ran out."""
    pending = s.scalars(
        select(NudgeRow.id)
        .where(NudgeRow.status == NudgeStatus.PENDING.value,
               (NudgeRow.not_before.is_(None)) | (NudgeRow.not_before <= now))
        # NULL ("at once") first on every database; PostgreSQL would put it last.
        .order_by(NudgeRow.not_before.asc().nulls_first(), NudgeRow.id)
        .limit(limit)
    ).all()
    stale = s.scalars(
        select(NudgeRow.id)
        .where(NudgeRow.status == NudgeStatus.SENDING.value,
               (NudgeRow.lease_until.is_(None)) | (NudgeRow.lease_until <= now))
        .order_by(NudgeRow.id)
        .limit(limit)
    ).all()
    return list(pending), list(stale)


def claim(s: Session, nid: int, expected: str, now: datetime) -> NudgeRow | None:
    """Lock the nudge for this transaction if it is still in ``expected``; else None.

    Several workers read the same due ids: only the one holding the row may decide about it.
    PostgreSQL skips rows another worker holds (FOR UPDATE SKIP LOCKED); on SQLite a
    conditional write takes the database's write lock, so the others wait, then see it gone.
    """
    cond = [NudgeRow.id == nid, NudgeRow.status == expected]
    if expected == NudgeStatus.SENDING.value:
        cond.append(or_(NudgeRow.lease_until.is_(None), NudgeRow.lease_until <= now))
    if s.get_bind().dialect.name == "postgresql":
        return s.scalars(
            select(NudgeRow).where(*cond).with_for_update(skip_locked=True)
        ).first()
    result: Any = s.execute(update(NudgeRow).where(*cond).values(status=expected)
                            .execution_options(synchronize_session=False))
    if not result.rowcount:
        return None
    return s.get(NudgeRow, nid, populate_existing=True)


def pending_manager_notes(s: Session, flag_id: int) -> list[NudgeRow]:
    """The flag's manager nudges still waiting to go."""
    return list(s.scalars(select(NudgeRow).where(
        NudgeRow.flag_id == flag_id, NudgeRow.role == "manager",
        NudgeRow.status == NudgeStatus.PENDING.value)))


def nudge_sent_at(s: Session, key: str) -> datetime | None:
    """When the nudge with this idempotency key was sent (None: not sent, or never queued)."""
    return s.scalar(select(NudgeRow.sent_at).where(NudgeRow.idempotency_key == key))


def cancel_manager_notes(s: Session, flag_id: int, why: str) -> None:
    """Cancel the flag's manager nudges still waiting to go, noting why."""
    s.execute(update(NudgeRow).where(
        NudgeRow.flag_id == flag_id, NudgeRow.role == "manager",
        NudgeRow.status == NudgeStatus.PENDING.value,
    ).values(status=NudgeStatus.CANCELLED.value, last_error=why)
     .execution_options(synchronize_session=False))


def nudges_to(s: Session, recipient_id: int, limit: int = 20) -> list[NudgeRow]:
    """The newest nudges addressed to this person, in any state."""
    return list(s.scalars(select(NudgeRow).where(NudgeRow.recipient_id == recipient_id)
                          .order_by(NudgeRow.id.desc()).limit(limit)))


def nudges_in(s: Session, status: str, limit: int) -> list[NudgeRow]:
    """The first ``limit`` nudges in this state, oldest first."""
    return list(s.scalars(select(NudgeRow).where(NudgeRow.status == status)
                          .order_by(NudgeRow.id).limit(limit)))


def dead_nudges(s: Session, ids: Iterable[int] | None = None) -> list[NudgeRow]:
    """The dead-lettered nudges (only those among ``ids``, when given)."""
    q = select(NudgeRow).where(NudgeRow.status == "dead")
    if ids:
        q = q.where(NudgeRow.id.in_(list(ids)))
    return list(s.scalars(q))


def outbox_counts(s: Session) -> dict[str, int]:
    """How many nudges are in each state (for operators and compliance)."""
    rows = s.execute(select(NudgeRow.status, func.count(NudgeRow.id)).group_by(NudgeRow.status))
    return {status: int(n) for status, n in rows}


def told_fingerprints(s: Session, post_id: int, flag_id: int) -> set[str]:
    """Credential fingerprints of earlier flags on the post whose author was told."""
    return set(s.scalars(
        select(FindingRow.fingerprint)
        .join(FlagRow, FlagRow.id == FindingRow.flag_id)
        .join(NudgeRow, NudgeRow.flag_id == FlagRow.id)
        .where(FlagRow.post_id == post_id, FlagRow.id != flag_id,
               FindingRow.fingerprint.is_not(None), NudgeRow.role == "author",
               NudgeRow.status.in_(_TOLD))
    ))


def told_categories(s: Session, post_id: int, flag_id: int) -> list[list[str] | None]:
    """The categories of each earlier flag on the post whose author was told."""
    return [cats for (cats,) in s.execute(
        select(FlagRow.categories)
        .join(NudgeRow, NudgeRow.flag_id == FlagRow.id)
        .where(FlagRow.post_id == post_id, FlagRow.id != flag_id,
               NudgeRow.role == "author", NudgeRow.status.in_(_TOLD))
    ).all()]


def managers(s: Session) -> list[PersonRow]:
    """Everyone someone reports to, by id."""
    return list(s.scalars(
        select(PersonRow).where(PersonRow.id.in_(
            select(PersonRow.manager_id).where(PersonRow.manager_id.is_not(None))))
        .order_by(PersonRow.id)
    ).all())


def has_nudge(s: Session, key: str) -> bool:
    """Whether a nudge with this idempotency key was queued."""
    return bool(s.scalar(select(NudgeRow.id).where(NudgeRow.idempotency_key == key)))


def team_flags(s: Session, team: set[int], since: datetime, until: datetime) -> list[FlagRow]:
    """The team's visible flags in the window, not counting ones an edit superseded."""
    if not team:
        return []
    return list(s.scalars(
        select(FlagRow).where(
            FlagRow.person_id.in_(team), FlagRow.created_at >= since,
            FlagRow.created_at < until, FlagRow.status != FlagStatus.SHADOW.value,
            FlagRow.resolution.is_distinct_from("superseded_by_edit"),
        ).order_by(FlagRow.id)
    ).all())


def queue_once(s: Session, **values: Any) -> int | None:
    """Insert a nudge unless its idempotency key is taken; its id, or None if it was.

    Another worker on the same trigger may queue it first: then this one does nothing.
    """
    pg = s.get_bind().dialect.name == "postgresql"
    insert = postgresql.insert if pg else sqlite.insert
    return s.scalar(insert(NudgeRow).values(**values)
                    .on_conflict_do_nothing(index_elements=["idempotency_key"])
                    .returning(NudgeRow.id))
