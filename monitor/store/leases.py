"""Row leases on ``cursors``: two workers never collect the same account at the same time.

PostgreSQL claims rows with ``SELECT … FOR UPDATE SKIP LOCKED``; SQLite (one writer at a
time) with a single conditional ``UPDATE``. Either way a claim is atomic.

A lease is short (:data:`LEASE_SECONDS`) and a :class:`Heartbeat` renews it while its holder
works, so a holder that died loses it within that time on every host. Each lease also names
the holding process (:func:`process_identity`: host, PID namespace, PID, start time), so a
worker on the same host takes over at once when that process is gone (killed, crashed,
rebooted) instead of waiting.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from monitor.domain import utcnow
from monitor.store.db import Store
from monitor.store.schema import CursorRow

log = logging.getLogger(__name__)

CHUNK = 500
# How long a lease lasts without a heartbeat: the longest another host waits for a dead holder.
LEASE_SECONDS = 60.0
# Heartbeats per lease period: a few missed beats (a busy database) still keep the lease.
BEATS_PER_LEASE = 4


@dataclass
class Claim:
    """Which accounts this worker now holds, and why the others were left alone."""

    claimed: list[int] = field(default_factory=list)
    backing_off: dict[int, datetime] = field(default_factory=dict)
    leased_elsewhere: dict[int, str] = field(default_factory=dict)
    # Leases taken over from a holder process that is gone (account id -> its identity).
    taken_over: dict[int, str] = field(default_factory=dict)


# --- who holds a lease ----------------------------------------------------------------------


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def _start_ticks(pid: int) -> str | None:
    """The process's start time (clock ticks since boot) and whether it still runs; Linux only.

    Returns ``None`` when the process does not exist or is a zombie, "" when /proc is absent.
    """
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None if Path("/proc/self/stat").exists() else ""
    except OSError:
        return ""
    # The command name (field 2) may hold spaces and parentheses: parse after the last ')'.
    fields = raw[raw.rfind(")") + 2:].split()
    if not fields or fields[0] in ("Z", "X", "x"):
        return None  # a zombie has died; only its parent has not collected it yet
    return fields[19] if len(fields) > 19 else ""


@lru_cache(maxsize=8)
def _identity(pid: int) -> str:
    return "|".join((socket.gethostname(), _pid_namespace(), str(pid), _start_ticks(pid) or ""))


def process_identity() -> str:
    """This process as a lease names it: ``host|pid namespace|pid|start ticks``.

    The PID namespace tells containers that share a host name apart; the start time tells a
    reused PID from the process that held the lease.
    """
    return _identity(os.getpid())


def holder_is_gone(identity: str | None) -> bool:
    """Whether ``identity`` names a process on this host (same PID namespace) that has ended.

    Anything not provably gone (another host, another container, an unreadable name, a
    process that still runs) counts as alive: only the lease's expiry frees it then.
    """
    if not identity:
        return False
    parts = identity.split("|")
    if len(parts) != 4:
        return False
    host, namespace, pid_text, start = parts
    if host != socket.gethostname() or namespace != _pid_namespace() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return identity != process_identity()
    if start:
        current = _start_ticks(pid)
        if current == "":
            return False
        return current is None or current != start
    # No /proc: a PID that no longer exists is gone; an existing one may be a reused PID.
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


# --- claiming ---------------------------------------------------------------------------------


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


def _free(owner: str, me: str, clock: datetime, now: datetime) -> ColumnElement[bool]:
    # Leases run on the wall clock (``clock``); backoff on the cycle's time (``now``).
    return and_(
        or_(CursorRow.lease_until.is_(None), CursorRow.lease_until < clock,
            and_(CursorRow.lease_owner == owner, CursorRow.lease_process == me)),
        or_(CursorRow.next_attempt_at.is_(None), CursorRow.next_attempt_at <= now),
    )


def _take_over_dead(store: Store, chunk: list[int], me: str,
                    clock: datetime) -> dict[int, str]:
    """Clear the unexpired leases in ``chunk`` whose holder process is gone; return them."""
    with store.session() as s:
        held = s.execute(
            select(CursorRow.account_id, CursorRow.lease_process)
            .where(CursorRow.account_id.in_(chunk), CursorRow.lease_until >= clock,
                   CursorRow.lease_process.is_not(None), CursorRow.lease_process != me)
        ).all()
    holders = {holder for _, holder in held if holder is not None}
    gone = {holder for holder in holders if holder_is_gone(holder)}
    if not gone:
        return {}
    out: dict[int, str] = {}
    with store.session() as s:
        for holder in gone:
            ids = [aid for aid, h in held if h == holder]
            # Conditional on the holder, so if another worker took it first nothing changes.
            s.execute(update(CursorRow)
                      .where(CursorRow.account_id.in_(ids), CursorRow.lease_process == holder)
                      .values(lease_owner=None, lease_until=None, lease_process=None))
            out.update({aid: holder for aid in ids})
    for holder in gone:
        log.warning("taking over leases of a worker process that is gone (%s)", holder)
    return out


def claim(store: Store, account_ids: list[int], owner: str, now: datetime,
          lease_seconds: float = LEASE_SECONDS) -> Claim:
    """Lease every given account that is free and not backing off; report the others.

    ``now`` is the cycle's time, for backoff; a lease runs for ``lease_seconds`` from the
    moment it is taken, by the wall clock, whatever the cycle's time says.
    """
    clock = utcnow()
    until = clock + timedelta(seconds=lease_seconds)
    me = process_identity()
    out = Claim()
    for chunk in _chunks(account_ids):
        out.taken_over.update(_take_over_dead(store, chunk, me, clock))
        with store.session() as s:
            values = {"lease_owner": owner, "lease_until": until, "lease_process": me}
            if store.dialect == "postgresql":
                ids = s.scalars(
                    select(CursorRow.account_id)
                    .where(CursorRow.account_id.in_(chunk), _free(owner, me, clock, now))
                    .with_for_update(skip_locked=True)
                ).all()
                if ids:
                    s.execute(update(CursorRow).where(CursorRow.account_id.in_(ids))
                              .values(**values))
            else:
                s.execute(update(CursorRow)
                          .where(CursorRow.account_id.in_(chunk), _free(owner, me, clock, now))
                          .values(**values))
            rows = s.execute(
                select(CursorRow.account_id, CursorRow.lease_owner, CursorRow.lease_until,
                       CursorRow.lease_process, CursorRow.next_attempt_at)
                .where(CursorRow.account_id.in_(chunk))
            ).all()
        for aid, lease_owner, lease_until, holder, next_at in rows:
            if lease_owner == owner and lease_until == until and holder == me:
                out.claimed.append(aid)
            elif next_at is not None and next_at > now:
                out.backing_off[aid] = next_at
            else:
                out.leased_elsewhere[aid] = lease_owner or "?"
    for aid in [a for a in out.taken_over if a not in out.claimed]:
        del out.taken_over[aid]
    order = {a: i for i, a in enumerate(account_ids)}
    out.claimed.sort(key=lambda a: order.get(a, 0))
    return out


def renew(store: Store, owner: str, lease_seconds: float = LEASE_SECONDS) -> int:
    """Push back the expiry of every lease this process holds as ``owner``; return how many."""
    until = utcnow() + timedelta(seconds=lease_seconds)
    with store.session() as s:
        result = s.execute(
            update(CursorRow)
            .where(CursorRow.lease_owner == owner, CursorRow.lease_process == process_identity(),
                   CursorRow.lease_until.is_not(None))
            .values(lease_until=until)
            .execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0) or 0)


def release(session: Session, account_ids: Iterable[int], owner: str) -> None:
    """Give leases back (inside the caller's transaction)."""
    ids = list(account_ids)
    me = process_identity()
    for chunk in _chunks(ids):
        session.execute(update(CursorRow)
                        .where(CursorRow.account_id.in_(chunk), CursorRow.lease_owner == owner,
                               CursorRow.lease_process == me)
                        .values(lease_owner=None, lease_until=None, lease_process=None))


class Heartbeat:
    """Renews this process's leases every ``lease_seconds / BEATS_PER_LEASE`` until stopped.

    A failed renewal (a locked or unreachable database) is logged and tried again at the next
    beat; the lease survives a few of them.
    """

    def __init__(self, store: Store, owner: str, lease_seconds: float = LEASE_SECONDS):
        self.store = store
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.beats = 0
        self.failures = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Heartbeat:
        """Begin renewing in a daemon thread, so a dying process takes its heartbeat along."""
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"lease-heartbeat-{self.owner}")
        self._thread.start()
        return self

    def _run(self) -> None:
        every = self.lease_seconds / BEATS_PER_LEASE
        while not self._stop.wait(every):
            try:
                renew(self.store, self.owner, self.lease_seconds)
                self.beats += 1
            except Exception as exc:
                self.failures += 1
                log.warning("could not renew collection leases (will retry): %s",
                            str(exc).splitlines()[0] if str(exc) else type(exc).__name__)

    def stop(self) -> None:
        """Stop renewing; the leases then lapse unless released first."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.lease_seconds)
            self._thread = None

    def __enter__(self) -> Heartbeat:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
