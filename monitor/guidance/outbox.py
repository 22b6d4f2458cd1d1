"""Delivers due nudges from the outbox, at most once each, with kindness rules applied."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select

from monitor.config import Settings
from monitor.domain import FlagStatus, NudgeStatus
from monitor.errors import DeliveryError
from monitor.guidance.notifier import Notifier
from monitor.store import Store
from monitor.store.schema import FlagRow, NudgeRow, PersonRow, utcnow

OPEN_STATES = (FlagStatus.OPEN.value, FlagStatus.ACKNOWLEDGED.value, FlagStatus.ESCALATED.value)


@dataclass
class DeliveryReport:
    sent: int = 0
    cancelled: int = 0
    deferred: int = 0
    failed: int = 0
    dead: int = 0
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


def deliver_due(
    store: Store,
    notifier: Notifier,
    settings: Settings,
    now: datetime | None = None,
    limit: int = 200,
) -> DeliveryReport:
    """Send every due nudge once: cancel stale ones, respect budgets and quiet hours.

    Each nudge is marked ``sending`` and committed before the send, so a crash between send
    and "sent" leaves a record that the next run reconciles instead of sending twice.
    """
    now = now or utcnow()
    g = settings.guidance
    report = DeliveryReport()
    with store.session() as s:
        ids = s.scalars(
            select(NudgeRow.id)
            .where(NudgeRow.status == NudgeStatus.PENDING.value,
                   (NudgeRow.not_before.is_(None)) | (NudgeRow.not_before <= now))
            .order_by(NudgeRow.not_before, NudgeRow.id)
            .limit(limit)
        ).all()
    for nid in ids:
        with store.session() as s:
            nudge = s.get(NudgeRow, nid)
            if nudge is None or nudge.status != NudgeStatus.PENDING.value:
                continue
            flag = s.get(FlagRow, nudge.flag_id) if nudge.flag_id else None
            recipient = s.get(PersonRow, nudge.recipient_id) if nudge.recipient_id else None
            urgent = nudge.kind == "urgent"
            if flag is not None and flag.status not in OPEN_STATES and not urgent:
                nudge.status = NudgeStatus.CANCELLED.value
                nudge.last_error = f"flag {flag.status} before delivery"
                report.cancelled += 1
                continue
            if recipient is not None and not urgent:
                q = quiet_until(now, _zone(recipient.timezone, g.default_timezone),
                                g.quiet_hours.start, g.quiet_hours.end)
                if q is not None:
                    nudge.not_before = q
                    report.deferred += 1
                    continue
                week_ago = now - timedelta(days=7)
                used = s.scalar(
                    select(func.count(NudgeRow.id)).where(
                        NudgeRow.recipient_id == recipient.id,
                        NudgeRow.status == NudgeStatus.SENT.value,
                        NudgeRow.sent_at >= week_ago,
                    )
                ) or 0
                if used >= g.weekly_budget:
                    nudge.not_before = now + timedelta(days=1)
                    nudge.last_error = "weekly nudge budget reached; deferred"
                    report.deferred += 1
                    continue
            nudge.status = NudgeStatus.SENDING.value
            nudge.attempts += 1
        # Commit "sending" before the side effect.
        with store.session() as s:
            nudge = s.get(NudgeRow, nid)
            assert nudge is not None
            recipient = s.get(PersonRow, nudge.recipient_id) if nudge.recipient_id else None
            try:
                ref = notifier.send(nudge, recipient)
            except DeliveryError as exc:
                report.failed += 1
                nudge.last_error = str(exc)
                if exc.permanent or nudge.attempts >= g.max_attempts:
                    nudge.status = NudgeStatus.DEAD.value
                    report.dead += 1
                else:
                    nudge.status = NudgeStatus.PENDING.value
                    backoff = min(3600.0, 30.0 * 2 ** (nudge.attempts - 1))
                    wait = max(exc.retry_after or 0.0, backoff * random.uniform(0.8, 1.2))
                    nudge.not_before = now + timedelta(seconds=wait)
                continue
            nudge.status = NudgeStatus.SENT.value
            nudge.sent_at = now
            nudge.external_ref = ref
            report.sent += 1
            key = nudge.recipient_email or nudge.role
            report.by_recipient[key] = report.by_recipient.get(key, 0) + 1
    return report
