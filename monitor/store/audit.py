"""The append-only, hash-chained audit trail.

Each entry's hash covers its content and the previous entry's hash, so changing or removing
any row breaks every hash after it. Entries never hold post text (only ids and hashes), which
is what lets an opt-out erase text while the chain still verifies.

Every entry about a flag change also records the flag's state: hashes of who it is about
(person, account, team), its own fields (category, severity, review state, post, dates),
its findings (every field of every finding), its excerpt, its findings' evidence and its
post's text. ``verify`` recomputes them, so a flag moved to another person, a rewritten
excerpt or post, or a deleted or changed finding is named. Text may go (retention, opt-out)
but never change: an erased text passes only behind an erasure entry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from monitor.domain import utcnow
from monitor.store.db import without_nul
from monitor.store.schema import AuditEventRow, FindingRow, FlagRow, PostRow

GENESIS = "0" * 64

# Flag actions that only read: they never carry the flag's state, or a tampered row viewed
# afterwards would be blessed by the view's own entry.
READ_ACTIONS = frozenset({"flag.view", "flag.reveal", "flag.reveal_secret", "flag.export"})

# The reviewable fields of a flag in the first state format (a bare hash): entries written
# before revision 0007 carry it, and a flag whose last entry is one is checked on these.
FLAG_STATE_FIELDS = ("status", "resolution", "reason", "legal_hold", "category", "severity")

STATE_VERSION = 2
# What decides who may see a flag.
WHO_FIELDS = ("person_id", "account_id", "team")
# What the flag says, apart from text.
FLAG_FIELDS = ("status", "resolution", "reason", "legal_hold", "category", "categories",
               "severity", "score", "platform", "post_id", "created_at", "resolved_at")
FINDING_FIELDS = ("id", "category", "source", "severity", "score", "spans", "guidance",
                  "policy_section", "shadow", "explanation", "version", "masked", "fingerprint",
                  "sealed")
# The parts of a state, in the order ``verify`` names them, and what each covers.
PARTS = {
    "who": "who it is about (person, account or team) changed",
    "flag": "its category, severity, review state, post or dates changed",
    "findings": "its findings were deleted, added or changed",
    "excerpt": "its excerpt",
    "evidence": "its findings' evidence",
    "post": "its post's text",
}
TEXT_PARTS = ("excerpt", "evidence", "post")
# Entries after which erased text is expected (the nightly purge, an opt-out).
ERASURE_ACTIONS = frozenset({"retention.purge", "account.erased"})
OPT_OUT_SLACK = timedelta(minutes=10)


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
    """Hold the chain's append lock until this transaction ends.

    Appends must be serialised or two writers would both chain onto the same tail. A
    transaction that locks rows and then appends takes this first: a writer holding the chain
    and then wanting those rows would otherwise deadlock with it.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # No autoflush: pending row changes must not take their row locks before this one.
        with session.no_autoflush:
            session.execute(text("SELECT pg_advisory_xact_lock(748120331)"))
    elif dialect == "sqlite":
        # SQLite has one writer, but the driver opens a transaction only at the first write:
        # the tail would be read outside it, so two writers could read the same tail and both
        # chain onto it. Taking the write lock first makes the read and the append one unit.
        with session.no_autoflush:
            raw = session.connection().connection.dbapi_connection
            if raw is not None and not raw.in_transaction:
                raw.execute("BEGIN IMMEDIATE")


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
    if (subject_type == "flag" and subject_id is not None and action not in READ_ACTIONS
            and "flag_state" not in details):
        session.flush()
        state = current_states(session, [int(subject_id)]).get(int(subject_id))
        if state is not None:
            details["flag_state"] = state.parts
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


def record_post_changed(session: Session, post_id: int, actor: str) -> None:
    """A post's stored text changed legitimately (an edit, masking): re-record its flags."""
    lock_chain(session)  # before the flush below writes (and locks) the post's row
    session.flush()
    for fid in session.scalars(select(FlagRow.id).where(FlagRow.post_id == post_id)
                               .order_by(FlagRow.id)).all():
        record(session, actor, "flag.post_changed", "flag", fid, {"post_id": post_id})


def _digest(value: Any) -> str:
    blob = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=_plain)
    return hashlib.sha256(blob.encode()).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return _iso(value)
    raise TypeError(f"cannot hash {type(value).__name__}")


def _text_hash(value: str | None) -> str | None:
    return None if value is None else hashlib.sha256(value.encode()).hexdigest()


@dataclass(slots=True)
class FlagNow:
    """A flag's state as the database holds it now, and what says whether erasure is allowed."""

    parts: dict[str, Any]
    legal_hold: bool
    flag_erased_at: datetime | None
    post_erased_at: datetime | None
    accounts: set[str]


def current_states(db: Session | Connection, flag_ids: list[int]) -> dict[int, FlagNow]:
    """The state (see :data:`PARTS`) of each existing flag among ``flag_ids``.

    Plain column queries, so the migration that re-chains old logs can use it on a connection.
    """
    if not flag_ids:
        return {}
    flags = {int(r.id): r for r in db.execute(
        select(FlagRow.id, FlagRow.excerpt, FlagRow.erased_at,
               *(getattr(FlagRow, f) for f in WHO_FIELDS + FLAG_FIELDS))
        .where(FlagRow.id.in_(flag_ids)))}
    findings: dict[int, list[Any]] = {i: [] for i in flags}
    for r in db.execute(select(FindingRow.flag_id, FindingRow.evidence,
                               *(getattr(FindingRow, f) for f in FINDING_FIELDS))
                        .where(FindingRow.flag_id.in_(list(flags)))
                        .order_by(FindingRow.id)):
        findings[int(r.flag_id)].append(r)
    post_ids = sorted({int(r.post_id) for r in flags.values() if r.post_id is not None})
    posts = {int(r.id): r for r in db.execute(
        select(PostRow.id, PostRow.text, PostRow.erased_at, PostRow.account_id)
        .where(PostRow.id.in_(post_ids)))} if post_ids else {}
    out: dict[int, FlagNow] = {}
    for fid, f in flags.items():
        rows = findings[fid]
        post = posts.get(int(f.post_id)) if f.post_id is not None else None
        evidence = [r.evidence for r in rows]
        parts = {
            "v": STATE_VERSION,
            "who": _digest({k: getattr(f, k) for k in WHO_FIELDS}),
            "flag": _digest({k: _flag_value(k, getattr(f, k)) for k in FLAG_FIELDS}),
            "findings": _digest([{k: _finding_value(k, getattr(r, k)) for k in FINDING_FIELDS}
                                 for r in rows]),
            "excerpt": _text_hash(f.excerpt),
            "evidence": None if all(e is None for e in evidence) else _digest(evidence),
            "post": _text_hash(post.text) if post is not None else None,
        }
        accounts = {str(a) for a in (f.account_id, post.account_id if post else None)
                    if a is not None}
        out[fid] = FlagNow(parts, bool(f.legal_hold), f.erased_at,
                           post.erased_at if post is not None else None, accounts)
    return out


def _flag_value(key: str, value: Any) -> Any:
    if key == "legal_hold":
        return bool(value)
    if key == "score":
        return float(value or 0.0)
    if key == "categories":
        return list(value or [])
    return value


def _finding_value(key: str, value: Any) -> Any:
    if key == "shadow":
        return bool(value)
    if key == "score":
        return float(value)
    if key in ("spans", "explanation"):
        return [list(v) if isinstance(v, list | tuple) else v for v in (value or [])]
    return value


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
    last_state: dict[int, tuple[Any, int]] = {}
    erasures = _Erasures()
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
            if state and row.subject_id and row.subject_id.isascii() and row.subject_id.isdigit():
                last_state[int(row.subject_id)] = (state, int(row.id))
            if row.action in ERASURE_ACTIONS:
                erasures.note(row)
            report.head = ChainHead(id=int(row.id), at=row.at, hash=row.hash or "")
        last_id = int(rows[-1].id)
        session.expunge_all()
    if not seen_head:
        report.problems.append(
            Problem("head", want_id or 0, "the exported chain head is no longer in the log "
                    "(entries were removed or rewritten)")
        )
    report.problems.extend(_check_flags(session, last_state, erasures, report))
    return report


@dataclass(slots=True)
class _Erasures:
    """Erasure entries: a purge's time (any flag), an opt-out's (one account's flags)."""

    purges: list[tuple[int, datetime]] = field(default_factory=list)
    # account id -> (entry id, its "now" stamp if it records one, when it was written)
    accounts: dict[str, list[tuple[int, datetime | None, datetime]]] = field(
        default_factory=dict)

    def note(self, row: AuditEventRow) -> None:
        stamp = _stamp((row.details or {}).get("now"))
        if row.action == "retention.purge":
            if stamp is not None:
                self.purges.append((int(row.id), stamp))
        elif row.subject_id is not None:
            self.accounts.setdefault(row.subject_id, []).append((int(row.id), stamp, row.at))

    def covers(self, entry_id: int, erased_at: datetime | None, accounts: set[str]) -> bool:
        """Whether an erasure after ``entry_id`` explains text erased at ``erased_at``.

        A purge or an opt-out stamps what it erases with the time its entry records (opt-outs
        before revision 0007 recorded none: their entry was written moments after the stamp).
        """
        if erased_at is None:
            return False
        if any(eid > entry_id and at == erased_at for eid, at in self.purges):
            return True
        return any(eid > entry_id and (erased_at == stamp if stamp is not None
                                       else timedelta(0) <= at - erased_at <= OPT_OUT_SLACK)
                   for a in accounts for eid, stamp, at in self.accounts.get(a, []))


def _stamp(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


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
    session: Session, last_state: dict[int, tuple[Any, int]], erasures: _Erasures,
    report: VerifyReport,
) -> Iterable[Problem]:
    if not last_state:
        return []
    problems: list[Problem] = []
    ids = sorted(last_state)
    for i in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
        chunk = ids[i : i + 500]
        legacy = [f for f in chunk if not isinstance(last_state[f][0], dict)]
        found = set(_legacy_found(session, legacy, last_state, problems))
        now = current_states(session, [f for f in chunk if f not in legacy])
        found.update(now)
        for fid, state in now.items():
            want, entry_id = last_state[fid]
            problem = _compare(fid, want, entry_id, state, erasures)
            if problem is not None:
                problems.append(problem)
        report.flags_checked += len(found)
        for missing in sorted(set(chunk) - found):
            _, entry_id = last_state[missing]
            problems.append(Problem(
                "flag", missing,
                f"row is gone but audit entry {entry_id} recorded it",
            ))
    return problems


def _compare(fid: int, want: dict[str, Any], entry_id: int, now: FlagNow,
             erasures: _Erasures) -> Problem | None:
    """The first part of a flag that differs from its recorded state, named."""
    changed: list[str] = []
    for part, what in PARTS.items():
        recorded, current = want.get(part), now.parts.get(part)
        if recorded == current:
            continue
        if part not in TEXT_PARTS:
            changed.append(what)
        elif current is not None:
            changed.append(f"{what} was rewritten")
        else:
            erased_at = now.post_erased_at if part == "post" else now.flag_erased_at
            if now.legal_hold or not erasures.covers(entry_id, erased_at, now.accounts):
                changed.append(f"{what} was removed outside retention or an opt-out")
    if not changed:
        return None
    return Problem(
        "flag", fid,
        f"row differs from its last recorded state (audit entry {entry_id}): "
        f"{'; '.join(changed)}; it was changed without an audit entry",
    )


def _legacy_found(session: Session, ids: list[int], last_state: dict[int, tuple[Any, int]],
                  problems: list[Problem]) -> Iterable[int]:
    """Flags whose last entry predates revision 0007: checked on the first format's fields."""
    if not ids:
        return
    cols = [FlagRow.id, *(getattr(FlagRow, f) for f in FLAG_STATE_FIELDS)]
    for row in session.execute(select(*cols).where(FlagRow.id.in_(ids))):
        yield int(row.id)
        want, entry_id = last_state[int(row.id)]
        if flag_state_hash(row) != str(want):
            problems.append(Problem(
                "flag", int(row.id),
                f"row differs from its last recorded state (audit entry {entry_id}); "
                "it was changed without an audit entry",
            ))


def _parse_head(value: str) -> tuple[int | None, str]:
    value = value.strip()
    if ":" in value:
        left, right = value.split(":", 1)
        return (int(left) if left.isdigit() else None), right
    return None, value


def recorded_since(session: Session, actor: str, action: str, subject_type: str,
                   subject_id: str | int, since: datetime) -> bool:
    """Whether ``actor`` did ``action`` on this subject at or after ``since``: the log itself
    is the memory of what a reviewer was already shown, so nothing else needs to keep it."""
    return session.scalar(
        select(AuditEventRow.id).where(
            AuditEventRow.actor == actor, AuditEventRow.action == action,
            AuditEventRow.subject_type == subject_type,
            AuditEventRow.subject_id == str(subject_id), AuditEventRow.at >= since)
        .limit(1)) is not None
