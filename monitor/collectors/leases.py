"""Row leases on ``cursors``: two workers never collect the same account at the same time.

PostgreSQL claims rows with ``SELECT … FOR UPDATE SKIP LOCKED``; SQLite (one writer at a
time) with a single conditional ``UPDATE``. Either way a claim is atomic, and a lease that
outlives a crashed worker simply expires.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from monitor.store import Store
from monitor.store.schema import CursorRow

CHUNK = 500


@dataclass
class Claim:
    """Which accounts this worker now holds, and why the others were left alone."""

    claimed: list[int] = field(default_factory=list)
    backing_off: dict[int, datetime] = field(default_factory=dict)
    leased_elsewhere: dict[int, str] = field(default_factory=dict)


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def ensure_cursors(store: Store, account_ids: Iterable[int]) -> None:
    """Create the missing cursor rows (concurrent workers may race: conflicts are ignored)."""
    ids = list(account_ids)
    insert = postgresql.insert if store.dialect == "postgresql" else sqlite.insert
    with store.session() as s:
        for chunk in _chunks(ids):
            have = set(s.scalars(select(CursorRow.account_id)
                                 .where(CursorRow.account_id.in_(chunk))).all())
            missing = [{"account_id": i, "failures": 0} for i in chunk if i not in have]
            if missing:
                s.execute(insert(CursorRow).values(missing).on_conflict_do_nothing())


def _free(owner: str, now: datetime) -> ColumnElement[bool]:
    return and_(
        or_(CursorRow.lease_until.is_(None), CursorRow.lease_until < now,
            CursorRow.lease_owner == owner),
        or_(CursorRow.next_attempt_at.is_(None), CursorRow.next_attempt_at <= now),
    )


def claim(store: Store, account_ids: list[int], owner: str, now: datetime,
          lease_seconds: float) -> Claim:
    """Lease every given account that is free and not backing off; report the others."""
    until = now + timedelta(seconds=lease_seconds)
    out = Claim()
    for chunk in _chunks(account_ids):
        with store.session() as s:
            if store.dialect == "postgresql":
                ids = s.scalars(
                    select(CursorRow.account_id)
                    .where(CursorRow.account_id.in_(chunk), _free(owner, now))
                    .with_for_update(skip_locked=True)
                ).all()
                if ids:
                    s.execute(update(CursorRow).where(CursorRow.account_id.in_(ids))
                              .values(lease_owner=owner, lease_until=until))
            else:
                s.execute(update(CursorRow)
                          .where(CursorRow.account_id.in_(chunk), _free(owner, now))
                          .values(lease_owner=owner, lease_until=until))
            rows = s.execute(
                select(CursorRow.account_id, CursorRow.lease_owner, CursorRow.lease_until,
                       CursorRow.next_attempt_at).where(CursorRow.account_id.in_(chunk))
            ).all()
        for aid, lease_owner, lease_until, next_at in rows:
            if lease_owner == owner and lease_until == until:
                out.claimed.append(aid)
            elif next_at is not None and next_at > now:
                out.backing_off[aid] = next_at
            else:
                out.leased_elsewhere[aid] = lease_owner or "?"
    order = {a: i for i, a in enumerate(account_ids)}
    out.claimed.sort(key=lambda a: order.get(a, 0))
    return out


def release(session: Session, account_ids: Iterable[int], owner: str) -> None:
    """Give leases back (inside the caller's transaction)."""
    ids = list(account_ids)
    for chunk in _chunks(ids):
        session.execute(update(CursorRow)
                        .where(CursorRow.account_id.in_(chunk), CursorRow.lease_owner == owner)
                        .values(lease_owner=None, lease_until=None))
