"""Delivers due nudges from the outbox, at most once each, with kindness rules applied."""

from __future__ import annotations

import logging
import os
import random
import socket
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.config import Settings
from monitor.domain import FlagStatus, NudgeStatus, utcnow
from monitor.errors import DeliveryError
from monitor.guidance.notifier import DeliveryPaused, Notifier
from monitor.store import Session, Store
from monitor.store import outbox as queries
from monitor.store.schema import FlagRow, NudgeRow, PersonRow

log = logging.getLogger(__name__)

OPEN_STATES = (FlagStatus.OPEN.value, FlagStatus.ACKNOWLEDGED.value, FlagStatus.ESCALATED.value)
# A manager coaches only while the flag is with the team; once escalated, compliance has it.
MANAGER_STATES = (FlagStatus.OPEN.value, FlagStatus.ACKNOWLEDGED.value)
# Kinds that are never held back by quiet hours or budgets, nor cancelled by a resolution.
URGENT_KINDS = ("urgent",)
# Kinds that do not count against (nor wait for) a person's weekly nudge budget.
UNBUDGETED_KINDS = ("urgent", "digest")
# How long a "sending" mark protects a nudge; after that a crashed send is reconciled.
SENDING_LEASE = timedelta(minutes=5)


@dataclass
class DeliveryReport:
    """What a delivery run did with each due nudge, and why delivery stopped if it did."""

    sent: int = 0
    cancelled: int = 0
    deferred: int = 0
    failed: int = 0
    dead: int = 0
    reconciled: int = 0  # nudges found in "sending" after a crash and tried again
    paused: str | None = None  # why delivery stopped (an operator must act)
    by_recipient: dict[str, int] = field(default_factory=dict)


def _zone(name: str | None, default: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or default)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _hhmm(value: str) -> time:
    h, m = value.split(":")
    return time(int(h), int(m))


def quiet_until(now: datetime, tz: ZoneInfo, start: str, end: str) -> datetime | None:
    """If ``now`` is inside the recipient's quiet hours, when they end (UTC); else None."""
    local = now.astimezone(tz)
    s, e = _hhmm(start), _hhmm(end)
    t = local.time()
    inside = (s <= t < e) if s < e else (t >= s or t < e)
    if not inside or s == e:
        return None
    end_local = local.replace(hour=e.hour, minute=e.minute, second=0, microsecond=0)
    if end_local <= local:
        end_local += timedelta(days=1)
    return end_local.astimezone(now.tzinfo)


def budget_free_at(
    s: Session, recipient_id: int, now: datetime, budget: int
) -> datetime | None:
    """None if the person may get another nudge now; else when the 7-day budget frees up."""
    week_ago = now - timedelta(days=7)
    sent = queries.sent_times(s, recipient_id, week_ago, UNBUDGETED_KINDS)
    if len(sent) < budget:
        return None
    # The oldest nudges must age out of the window before another may go.
    oldest = (sent[len(sent) - budget] if budget > 0 else None) or now
    soonest: datetime = now + timedelta(minutes=1)
    return max(soonest, oldest + timedelta(days=7))


def _author_gate(s: Session, nudge: NudgeRow, now: datetime, grace: timedelta) -> datetime | None:
    """A manager note goes only ``grace`` after its author was told: when it may go, or None."""
    author = queries.nudge_by_key(s, f"flag:{nudge.flag_id}:author")
    if author is None or author.status == NudgeStatus.CANCELLED.value:
        return None  # no separate author note (one nudge per post) or nothing to wait for
    if author.status == NudgeStatus.SENT.value and author.sent_at is not None:
        ready = author.sent_at + grace
        return ready if ready > now else None
    if author.status == NudgeStatus.DEAD.value:
        nudge.last_error = "waiting: the author's nudge could not be delivered"
        return now + timedelta(days=1)
    return max(author.not_before or now, now) + grace


def _due_ids(store: Store, now: datetime, limit: int) -> tuple[list[int], set[int]]:
    with store.session() as s:
        pending, stale = queries.due_ids(s, now, limit)
    return [*stale, *pending], set(stale)


def deliver_due(
    store: Store,
    notifier: Notifier,
    settings: Settings,
    now: datetime | None = None,
    limit: int = 200,
) -> DeliveryReport:
    """Send every due nudge once: cancel stale ones, respect budgets and quiet hours.

    Each nudge is marked ``sending`` (with a lease) and committed before the send. A crash
    between the send and "sent" leaves that mark; once the lease runs out the nudge is tried
    again and the notifier, seeing a repeated attempt, looks for the message it may already
    have posted (the idempotency key) instead of posting twice.
    """
    now = now or utcnow()
    g = settings.guidance
    grace = timedelta(hours=g.grace_hours)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    report = DeliveryReport()
    ids, stale = _due_ids(store, now, limit)
    for nid in ids:
        with store.session() as s:
            expected = NudgeStatus.SENDING.value if nid in stale else NudgeStatus.PENDING.value
            nudge = queries.claim(s, nid, expected, now)
            if nudge is None:
                continue  # another worker has it, or had it first
            if nid in stale:
                report.reconciled += 1
                log.warning("nudge %s was left 'sending' (crash?); checking before resending",
                            nid)
            flag = s.get(FlagRow, nudge.flag_id) if nudge.flag_id else None
            recipient = s.get(PersonRow, nudge.recipient_id) if nudge.recipient_id else None
            urgent = nudge.kind in URGENT_KINDS
            allowed = MANAGER_STATES if nudge.role == "manager" else OPEN_STATES
            if flag is not None and flag.status not in allowed and not urgent:
                nudge.status = NudgeStatus.CANCELLED.value
                nudge.last_error = f"flag {flag.status} before delivery"
                report.cancelled += 1
                continue
            if nudge.role == "manager" and flag is not None:
                wait = _author_gate(s, nudge, now, grace)
                if wait is not None:
                    nudge.status = NudgeStatus.PENDING.value
                    nudge.not_before = wait
                    report.deferred += 1
                    continue
            if recipient is not None and not urgent:
                q = quiet_until(now, _zone(recipient.timezone, g.default_timezone),
                                g.quiet_hours.start, g.quiet_hours.end)
                if q is not None:
                    nudge.status = NudgeStatus.PENDING.value
                    nudge.not_before = q
                    report.deferred += 1
                    continue
                if nudge.kind not in UNBUDGETED_KINDS:
                    free = budget_free_at(s, recipient.id, now, g.weekly_budget)
                    if free is not None:
                        nudge.status = NudgeStatus.PENDING.value
                        nudge.not_before = free
                        nudge.last_error = "weekly nudge budget reached; deferred"
                        report.deferred += 1
                        continue
            nudge.status = NudgeStatus.SENDING.value
            nudge.attempts += 1
            nudge.lease_owner = worker
            nudge.lease_until = now + SENDING_LEASE
        # "sending" is committed before the side effect.
        with store.session() as s:
            nudge = s.get(NudgeRow, nid)
            assert nudge is not None
            recipient = s.get(PersonRow, nudge.recipient_id) if nudge.recipient_id else None
            try:
                ref = notifier.send(nudge, recipient)
            except DeliveryPaused as exc:
                nudge.status = NudgeStatus.PENDING.value
                nudge.attempts = max(0, nudge.attempts - 1)
                nudge.last_error = str(exc)
                nudge.not_before = now + timedelta(seconds=exc.retry_after or 900)
                nudge.lease_owner = nudge.lease_until = None
                report.failed += 1
                report.paused = str(exc)
                log.error("delivery paused: %s", exc)
                break
            except DeliveryError as exc:
                report.failed += 1
                nudge.last_error = str(exc)
                nudge.lease_owner = nudge.lease_until = None
                if exc.permanent or nudge.attempts >= g.max_attempts:
                    nudge.status = NudgeStatus.DEAD.value
                    report.dead += 1
                    log.warning("nudge %s dead-lettered after %s attempt(s): %s",
                                nid, nudge.attempts, exc)
                else:
                    nudge.status = NudgeStatus.PENDING.value
                    backoff = min(3600.0, 30.0 * 2 ** (nudge.attempts - 1))
                    wait = max(exc.retry_after or 0.0, backoff * random.uniform(0.8, 1.2))
                    nudge.not_before = now + timedelta(seconds=wait)
                    log.warning("nudge %s not delivered (attempt %s): %s",
                                nid, nudge.attempts, exc)
                continue
            nudge.status = NudgeStatus.SENT.value
            nudge.sent_at = now
            nudge.external_ref = ref
            nudge.last_error = None
            nudge.lease_owner = nudge.lease_until = None
            report.sent += 1
            key = nudge.recipient_email or nudge.role
            report.by_recipient[key] = report.by_recipient.get(key, 0) + 1
            if nudge.role == "author" and nudge.flag_id is not None:
                _start_grace(s, nudge.flag_id, now + grace)
    return report


def _start_grace(s: Session, flag_id: int, until: datetime) -> None:
    """The grace window runs from when the author was told, not from when the post was seen."""
    for m in queries.pending_manager_notes(s, flag_id):
        if m.not_before is None or m.not_before < until:
            m.not_before = until
