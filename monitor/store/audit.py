"""The append-only, hash-chained audit trail.

Each entry's hash covers its content and the previous entry's hash, so changing or removing
any row breaks every hash after it. Entries never hold post text (only ids and hashes), which
is what lets an opt-out erase text while the chain still verifies.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from monitor.store.schema import AuditEventRow, utcnow

GENESIS = "0" * 64


def canonical(row: AuditEventRow) -> bytes:
    """The bytes an entry's hash covers (stable across databases and Python versions)."""
    at = row.at
    payload = {
        "id": int(row.id),
        "at": _iso(at),
        "actor": row.actor,
        "action": row.action,
        "subject_type": row.subject_type,
        "subject_id": row.subject_id,
        "details": row.details or {},
        "prev": row.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(row: AuditEventRow) -> str:
    return hashlib.sha256(canonical(row)).hexdigest()


def _iso(at: datetime) -> str:
    # Microseconds are kept by both SQLite and PostgreSQL; normalise to UTC ISO text.
    return at.isoformat(timespec="microseconds")


def _lock_chain(session: Session) -> None:
    # Appends must be serialised or two writers would both chain onto the same tail.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(748120331)"))


def record(
    session: Session,
    actor: str,
    action: str,
    subject_type: str | None = None,
    subject_id: str | int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEventRow:
    """Append one entry to the chain within the caller's transaction."""
    _lock_chain(session)
    last = session.execute(
        select(AuditEventRow.id, AuditEventRow.hash).order_by(AuditEventRow.id.desc()).limit(1)
    ).first()
    prev_hash = last.hash if last else GENESIS
    row = AuditEventRow(
        at=utcnow(),
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id) if subject_id is not None else None,
        details=details or {},
        prev_hash=prev_hash,
    )
    session.add(row)
    session.flush()  # assigns the id, which the hash covers
    row.hash = entry_hash(row)
    session.flush()
    return row
