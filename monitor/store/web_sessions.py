"""Server-side dashboard sessions: the signed cookie carries only a random id kept here.

Signing out ends the row (a disabled user is refused on the next request), so a copied or replayed cookie stops
working at once; the database keeps only the id's SHA-256.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from monitor.domain import utcnow
from monitor.store.schema import WebSessionRow


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def start(session: Session, user_id: int, lifetime: timedelta,
          now: datetime | None = None) -> str:
    """A new session for ``user_id``; returns the id to put in the cookie."""
    now = now or utcnow()
    # Sessions past their lifetime are gone for good: tidy them on each sign-in.
    session.execute(delete(WebSessionRow).where(WebSessionRow.created_at < now - lifetime)
                    .execution_options(synchronize_session=False))
    sid = secrets.token_urlsafe(32)
    session.add(WebSessionRow(id=_digest(sid), user_id=user_id, created_at=now))
    session.flush()
    return sid


def user_of(session: Session, sid: object, lifetime: timedelta,
            now: datetime | None = None) -> int | None:
    """The user a live session id belongs to, or None (unknown, ended or expired)."""
    if not isinstance(sid, str) or not 20 <= len(sid) <= 100:
        return None
    now = now or utcnow()
    row = session.get(WebSessionRow, _digest(sid))
    if row is None or row.ended_at is not None or now - row.created_at > lifetime:
        return None
    return int(row.user_id)


def started_at(session: Session, sid: object) -> datetime | None:
    """When a session began (None for an unknown id): what it unlocked lasts from then on."""
    if not isinstance(sid, str) or not 20 <= len(sid) <= 100:
        return None
    row = session.get(WebSessionRow, _digest(sid))
    return None if row is None else row.created_at


def end(session: Session, sid: object, now: datetime | None = None) -> bool:
    """End one session (sign-out); True if it was live."""
    if not isinstance(sid, str) or len(sid) > 100:
        return False
    result = session.execute(
        update(WebSessionRow)
        .where(WebSessionRow.id == _digest(sid), WebSessionRow.ended_at.is_(None))
        .values(ended_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))
