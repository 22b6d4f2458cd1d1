"""Sign-in throttling: too many failures lock an account name, or an address, for a while.

Counted in the database (``sign_in_throttle``), so every dashboard process sees the same
count and a restart forgets nothing. Unknown usernames count like real ones, so a lock says
nothing about which accounts exist.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor.domain import utcnow
from monitor.store.schema import SignInThrottleRow

WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)
MAX_PER_ACCOUNT = 5
# An office behind one NAT address shares it: a looser limit than one account's.
MAX_PER_ADDRESS = 20


@dataclass(frozen=True, slots=True)
class Locked:
    """Why a sign-in is refused without checking the password, and until when."""

    what: str  # "account" | "address"
    until: datetime

    def message(self, now: datetime) -> str:
        minutes = max(1, math.ceil((self.until - now).total_seconds() / 60))
        if self.what == "account":
            return (f"Too many failed sign-ins for this account: it is locked for {minutes} "
                    "more minute(s). Try again later, or ask a compliance administrator.")
        return (f"Too many failed sign-ins from this address: sign-in is paused for {minutes} "
                "more minute(s).")


def keys(username: str, address: str | None) -> list[tuple[str, str, int]]:
    """(what, key, limit) for the account name and, when known, the client address."""
    out = [("account", "user:" + username.strip().lower()[:320], MAX_PER_ACCOUNT)]
    if address:
        out.append(("address", "addr:" + address[:64], MAX_PER_ADDRESS))
    return out


def locked(session: Session, username: str, address: str | None,
           now: datetime | None = None) -> Locked | None:
    """The lock in force for this account or address, if any."""
    now = now or utcnow()
    for what, key, _ in keys(username, address):
        row = session.get(SignInThrottleRow, key)
        if row is not None and row.locked_until is not None and row.locked_until > now:
            return Locked(what, row.locked_until)
    return None


def failed(session: Session, username: str, address: str | None,
           now: datetime | None = None) -> Locked | None:
    """Count a failure; returns the lock it started, if it reached a limit."""
    now = now or utcnow()
    started: Locked | None = None
    for what, key, limit in keys(username, address):
        row = _row(session, key, now)
        if now - row.window_start > WINDOW:
            row.failures, row.window_start = 0, now
        row.failures += 1
        if row.failures >= limit:
            row.locked_until = now + LOCK
            row.failures, row.window_start = 0, now
            started = started or Locked(what, row.locked_until)
    # Forget what no longer matters, so sprayed usernames do not pile up.
    session.execute(delete(SignInThrottleRow).where(
        SignInThrottleRow.window_start < now - WINDOW,
        or_(SignInThrottleRow.locked_until.is_(None), SignInThrottleRow.locked_until < now),
    ).execution_options(synchronize_session=False))
    return started


def succeeded(session: Session, username: str) -> None:
    """A right password outside a lock clears the account's count (not the address's)."""
    row = session.get(SignInThrottleRow, keys(username, None)[0][1])
    if row is not None:
        session.delete(row)
        session.flush()


def _row(session: Session, key: str, now: datetime) -> SignInThrottleRow:
    row = session.get(SignInThrottleRow, key, with_for_update=True)
    if row is not None:
        return row
    row = SignInThrottleRow(key=key, failures=0, window_start=now)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # another process counted the first failure at the same moment
        found = session.get(SignInThrottleRow, key, with_for_update=True)
        assert found is not None
        return found
    return row
