"""What the demo's store holds, read as compliance reads it: the flag log and the outbox.

These are the figures the demo prints; ``socialguide report`` counts the same things its own
way, and a test holds the two to the unit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from monitor.compliance.queries import MAX_LIMIT, FlagQuery, flag_page
from monitor.compliance.users import Viewer
from monitor.store import Session, repo
from monitor.store.outbox import nudges_in, outbox_counts
from monitor.store.reports import totals
from monitor.store.schema import FlagRow


def week_of(at: datetime) -> str:
    """ISO date of the Monday that starts ``at``'s week (UTC)."""
    return (at.date() - timedelta(days=at.weekday())).isoformat()


@dataclass
class DemoSummary:
    """The store's figures over the whole story (every run)."""

    weeks: list[str] = field(default_factory=list)
    posts: int = 0
    consented_accounts: int = 0
    flags_by_week: dict[str, Counter[str]] = field(default_factory=dict)  # week -> category
    shadow: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    resolutions: Counter[str] = field(default_factory=Counter)
    self_resolved_by_week: Counter[str] = field(default_factory=Counter)
    legal_holds: int = 0
    erased_flags: int = 0
    nudges_by_week: Counter[str] = field(default_factory=Counter)
    nudges_by_kind: Counter[str] = field(default_factory=Counter)
    outbox: dict[str, int] = field(default_factory=dict)

    @property
    def flags(self) -> int:
        return sum(sum(c.values()) for c in self.flags_by_week.values())

    @property
    def by_category(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for counts in self.flags_by_week.values():
            out.update(counts)
        return out

    @property
    def nudges(self) -> int:
        return sum(self.nudges_by_week.values())


def every_flag(s: Session, viewer: Viewer) -> Iterator[FlagRow]:
    """Every flag ``viewer`` may see, page by page: the flag log, then the shadow log (a view
    of its own, which the log leaves out)."""
    for query in (FlagQuery(), FlagQuery(status="shadow")):
        after: str | None = None
        while True:
            page = flag_page(s, viewer, query, after=after, limit=MAX_LIMIT)
            yield from page.rows
            if page.next_cursor is None:
                break
            after = page.next_cursor


def summarise(s: Session, compliance: Viewer, first: datetime, last: datetime) -> DemoSummary:
    """The flag log (as the compliance officer sees it) and the outbox, week by week."""
    out = DemoSummary()
    day = date.fromisoformat(week_of(first))
    while day.isoformat() <= week_of(last):
        out.weeks.append(day.isoformat())
        out.flags_by_week[day.isoformat()] = Counter()
        day += timedelta(weeks=1)
    out.posts = totals(s)["posts"]
    out.consented_accounts = len(repo.consented_accounts(s))
    for flag in every_flag(s, compliance):
        out.by_status[flag.status] += 1
        if flag.status == "shadow":
            out.shadow += 1
            continue
        week = week_of(flag.created_at)
        out.flags_by_week.setdefault(week, Counter())[flag.category] += 1
        if flag.resolution:
            out.resolutions[flag.resolution] += 1
        if flag.status == "resolved" and flag.resolution == "self_resolved":
            out.self_resolved_by_week[week] += 1
        out.legal_holds += bool(flag.legal_hold)
        out.erased_flags += flag.erased_at is not None
    for nudge in nudges_in(s, "sent", 1_000_000):
        if nudge.kind == "digest" or nudge.sent_at is None:
            continue
        out.nudges_by_week[week_of(nudge.sent_at)] += 1
        out.nudges_by_kind[nudge.kind] += 1
    out.outbox = outbox_counts(s)
    return out
