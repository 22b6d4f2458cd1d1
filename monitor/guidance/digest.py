"""The weekly team digest for managers: patterns and talking points, not people and posts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitor.config import Settings
from monitor.domain import utcnow
from monitor.guidance import templates
from monitor.guidance.planner import pseudonym
from monitor.store import Store
from monitor.store import outbox as queries
from monitor.store.repo import team_member_ids
from monitor.store.schema import PersonRow

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Resolutions that mean the author dealt with it themselves.
SELF_RESOLUTIONS = frozenset({"self_resolved", "author_resolved", "author_not_a_concern",
                              "removed_by_author"})


@dataclass
class DigestReport:
    """How many digests were queued, and why the other managers got none."""

    queued: int = 0
    skipped_quiet: int = 0  # managers whose team had nothing this week
    already: int = 0  # digest for this week already queued
    managers: list[int] = field(default_factory=list)


def _week_key(now: datetime) -> str:
    y, w, _ = now.isocalendar()
    return f"{y}-W{w:02d}"


def send_digests(
    store: Store, settings: Settings, now: datetime | None = None, *, force: bool = False
) -> DigestReport:
    """Queue one digest per manager for the past seven days (idempotent per ISO week).

    Runs on ``guidance.digest_weekday`` unless ``force``; the outbox delivers the digests
    (quiet hours apply, budgets do not). By default no names and no post text: only the
    categories in ``guidance.raw_text_in_digests`` show a quote and the member's name.
    """
    now = now or utcnow()
    report = DigestReport()
    g = settings.guidance
    if not force and WEEKDAYS[now.weekday()] != g.digest_weekday:
        return report
    since = now - timedelta(days=7)
    with store.session() as s:
        managers = queries.managers(s)
        for manager in managers:
            key = f"digest:{manager.id}:{_week_key(now)}"
            if queries.has_nudge(s, key):
                report.already += 1
                continue
            team = team_member_ids(s, manager.id)
            flags = queries.team_flags(s, team, since, now)
            if not flags:
                report.skipped_quiet += 1
                continue
            counts = Counter(f.category for f in flags)
            selfish = sum(1 for f in flags if f.resolution in SELF_RESOLUTIONS)
            details: list[tuple[str, str, str]] = []
            for f in flags:
                if f.category in g.raw_text_in_digests and f.excerpt:
                    member = s.get(PersonRow, f.person_id) if f.person_id else None
                    who = (member.name or member.email) if member else pseudonym(None)
                    details.append((f.category, who, f.excerpt[:280]))
            subject, body = templates.digest_message(
                settings, manager.team or "your team", dict(counts), selfish, len(flags), details)
            # Another worker on the same trigger may queue it first: then this one does nothing.
            queued = queries.queue_once(
                s, flag_id=None, recipient_id=manager.id, recipient_email=manager.email,
                role="manager", kind="digest", subject=subject, body=body,
                idempotency_key=key, not_before=now, created_at=now)
            if queued is None:
                report.already += 1
                continue
            report.queued += 1
            report.managers.append(manager.id)
    return report
