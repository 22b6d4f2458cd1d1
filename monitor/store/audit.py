"""The append-only, hash-chained audit trail.

Each entry's hash covers its content and the previous entry's hash, so changing or removing
any row breaks every hash after it. Entries never hold post text (only ids and hashes), which
is what lets an opt-out erase text while the chain still verifies.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from monitor.store.db import without_nul
from monitor.store.schema import AuditEventRow, FlagRow, utcnow

GENESIS = "0" * 64

# Flag actions that only read: they never carry the flag's state, or a tampered row viewed
# afterwards would be blessed by the view's own entry.
READ_ACTIONS = frozenset({"flag.view", "flag.reveal", "flag.reveal_secret", "flag.export"})

# The reviewable fields of a flag whose hash every flag-changing entry records.
FLAG_STATE_FIELDS = ("status", "resolution", "reason", "legal_hold", "category", "severity")


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


def lock_chain(session: Session) -> None:
    """Hold the chain's append lock until this transaction ends (PostgreSQL; SQLite has one writer).

    Appends must be serialised or two writers would both chain onto the same tail. A
    transaction that locks rows and then appends takes this first: a writer holding the chain
    and then wanting those rows would otherwise deadlock with it.
    """
    if session.get_bind().dialect.name == "postgresql":
        # No autoflush: pending row changes must not take their row locks before this one.
        with session.no_autoflush:
            session.execute(text("SELECT pg_advisory_xact_lock(748120331)"))


def record(
    session: Session,
    actor: str,
    action: str,
    subject_type: str | None = None,
    subject_id: str | int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEventRow:
    """Append one entry to the chain within the caller's transaction.

    An entry about a flag (``subject_type="flag"``) that is not a read also records the hash
    of the flag's reviewable state, so ``verify`` can tell a row changed behind the log's
    back. Record the entry after changing the flag, in the same transaction.
    """
    details = dict(details or {})
    lock_chain(session)  # before the flush below writes (and locks) the caller's changes
    if subject_type == "flag" and subject_id is not None and action not in READ_ACTIONS:
        session.flush()
        flag = session.get(FlagRow, int(subject_id))
        if flag is not None:
            details.setdefault("flag_state", flag_state_hash(flag))
    last = session.execute(
        select(AuditEventRow.id, AuditEventRow.hash).order_by(AuditEventRow.id.desc()).limit(1)
    ).first()
    prev_hash = last.hash if last else GENESIS
    # The hash covers what the database gives back, and PostgreSQL cannot keep U+0000.
    row = AuditEventRow(
        at=utcnow(),
        actor=without_nul(actor),
        action=without_nul(action),
        subject_type=without_nul(subject_type) if subject_type is not None else None,
        subject_id=without_nul(str(subject_id)) if subject_id is not None else None,
        details=details,
        prev_hash=prev_hash,
    )
    session.add(row)
    session.flush()  # assigns the id, which the hash covers
    row.hash = entry_hash(row)
    session.flush()
    return row


def flag_state(flag: Any) -> dict[str, Any]:
    """The reviewable fields of a flag (no post text, so erasure never changes it)."""
    return {
        "id": int(flag.id),
        "status": flag.status,
        "resolution": flag.resolution,
        "reason": flag.reason,
        "legal_hold": bool(flag.legal_hold),
        "category": flag.category,
        "severity": flag.severity,
    }


def flag_state_hash(flag: Any) -> str:
    """SHA-256 of :func:`flag_state`; works on ORM rows and on plain result rows."""
    blob = json.dumps(flag_state(flag), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(slots=True)
class ChainHead:
    """The newest entry of the chain: keep its hash somewhere safe to detect truncation."""

    id: int
    at: datetime | None
    hash: str

    def as_text(self) -> str:
        return f"{self.id}:{self.hash}"


@dataclass(slots=True)
class Problem:
    """One thing ``verify`` found wrong, named precisely."""

    kind: str  # "entry" | "flag" | "head"
    id: int
    message: str

    def __str__(self) -> str:
        what = "audit entry" if self.kind == "entry" else self.kind
        return f"{what} {self.id}: {self.message}"


@dataclass(slots=True)
class VerifyReport:
    """Outcome of a full check of the chain and of the flag rows against it."""

    entries: int = 0
    flags_checked: int = 0
    head: ChainHead | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_broken(self) -> Problem | None:
        return self.problems[0] if self.problems else None


def latest_head(session: Session) -> ChainHead | None:
    """The last entry's id and hash (None on an empty log)."""
    last = session.execute(
        select(AuditEventRow.id, AuditEventRow.at, AuditEventRow.hash)
        .order_by(AuditEventRow.id.desc())
        .limit(1)
    ).first()
    if last is None:
        return None
    return ChainHead(id=int(last.id), at=last.at, hash=last.hash or "")


def verify(
    session: Session, *, expected_head: str | None = None, batch: int = 2000
) -> VerifyReport:
    """Check every entry's hash and link, then every flag row against its last recorded state.

    ``expected_head`` is a previously exported ``"id:hash"`` (or bare hash): the chain must
    still contain it, which catches removal of the newest entries.
    """
    report = VerifyReport()
    prev = GENESIS
    last_state: dict[int, tuple[str, int]] = {}
    chain_broken = False
    seen_head = expected_head is None
    want_id, want_hash = _parse_head(expected_head) if expected_head else (None, None)
    last_id = 0
    while True:
        rows = (
            session.execute(
                select(AuditEventRow)
                .where(AuditEventRow.id > last_id)
                .order_by(AuditEventRow.id)
                .limit(batch)
            )
            .scalars()
            .all()
        )
        if not rows:
            break
        for row in rows:
            report.entries += 1
            if not chain_broken:
                problem = _check_entry(row, prev)
                if problem:
                    report.problems.append(problem)
                    chain_broken = True  # every later hash is suspect; name only the first
            prev = row.hash or ""
            if not seen_head and row.hash == want_hash and (want_id in (None, row.id)):
                seen_head = True
            state = (row.details or {}).get("flag_state") if row.subject_type == "flag" else None
            if state and row.subject_id and row.subject_id.isdigit():
                last_state[int(row.subject_id)] = (str(state), int(row.id))
            report.head = ChainHead(id=int(row.id), at=row.at, hash=row.hash or "")
        last_id = int(rows[-1].id)
        session.expunge_all()
    if not seen_head:
        report.problems.append(
            Problem("head", want_id or 0, "the exported chain head is no longer in the log "
                    "(entries were removed or rewritten)")
        )
    report.problems.extend(_check_flags(session, last_state, report))
    return report


def _check_entry(row: AuditEventRow, prev: str) -> Problem | None:
    if row.prev_hash != prev:
        return Problem(
            "entry", int(row.id),
            f"does not link to the entry before it ({row.action} at {_iso(row.at)}); "
            "an entry before it was removed, inserted or rewritten",
        )
    if row.hash != entry_hash(row):
        return Problem(
            "entry", int(row.id),
            f"content does not match its hash ({row.action} at {_iso(row.at)}); "
            "the row was changed after it was written",
        )
    return None


def _check_flags(
    session: Session, last_state: dict[int, tuple[str, int]], report: VerifyReport
) -> Iterable[Problem]:
    if not last_state:
        return []
    problems: list[Problem] = []
    cols = [FlagRow.id, *(getattr(FlagRow, f) for f in FLAG_STATE_FIELDS)]
    ids = sorted(last_state)
    for i in range(0, len(ids), 900):  # stay under SQLite's bound-parameter limit
        chunk = ids[i : i + 900]
        found = set()
        for row in session.execute(select(*cols).where(FlagRow.id.in_(chunk))):
            found.add(int(row.id))
            report.flags_checked += 1
            want, entry_id = last_state[int(row.id)]
            if flag_state_hash(row) != want:
                problems.append(Problem(
                    "flag", int(row.id),
                    f"row differs from its last recorded state (audit entry {entry_id}); "
                    "it was changed without an audit entry",
                ))
        for missing in sorted(set(chunk) - found):
            want, entry_id = last_state[missing]
            problems.append(Problem(
                "flag", missing,
                f"row is gone but audit entry {entry_id} recorded it",
            ))
    return problems


def _parse_head(value: str) -> tuple[int | None, str]:
    value = value.strip()
    if ":" in value:
        left, right = value.split(":", 1)
        return (int(left) if left.isdigit() else None), right
    return None, value
