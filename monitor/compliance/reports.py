"""The policy's effectiveness review: is the policy working, and which rules are noisy?"""

from __future__ import annotations

import csv
import io
import json
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from monitor.config import Settings
from monitor.domain import utcnow
from monitor.errors import InputError
from monitor.store import Session
from monitor.store.reports import (
    dead_nudges_since,
    finding_sources_in,
    flags_in,
    sent_nudges_in,
    verdicts_in,
)

_SINCE = re.compile(r"^([0-9]{1,4})([dw])$")  # ASCII digits: \d would take "٣" too
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, tzinfo=UTC)


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """``90d`` or ``12w`` (or an ISO date) to the start of the report window."""
    now = now or utcnow()
    value = value.strip()
    m = _SINCE.match(value)
    if m:
        n, unit = int(m.group(1)), m.group(2)
        if n < 1:
            raise InputError("--since must be at least 1 day")
        start = now - (timedelta(days=n) if unit == "d" else timedelta(weeks=n))
    else:
        try:
            if not value.isascii():
                raise ValueError
            when = datetime.fromisoformat(value)
        except ValueError:
            raise InputError(f"--since: expected e.g. 90d, 12w or 2026-01-31, "
                             f"got '{value[:40]}'") from None
        start = when if when.tzinfo else when.replace(tzinfo=now.tzinfo)
    if not EARLIEST <= start <= LATEST:
        raise InputError(f"--since: expected a start from {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d}, "
                         f"got '{value[:40]}'")
    return start


def week_start(at: datetime) -> str:
    """ISO date of the Monday that starts ``at``'s week."""
    return (at.date() - timedelta(days=at.weekday())).isoformat()


@dataclass(slots=True)
class RuleStats:
    """How one rule or model did in the window."""

    source: str
    findings: int = 0
    confirmed: int = 0
    not_a_concern: int = 0

    @property
    def precision(self) -> float | None:
        judged = self.confirmed + self.not_a_concern
        return round(self.confirmed / judged, 3) if judged else None


@dataclass(slots=True)
class ShadowStats(RuleStats):
    """What one rule or model in shadow would have flagged: the evidence for promoting it
    (or retiring it) without anyone having been nudged by it."""

    flags: int = 0
    categories: dict[str, int] = field(default_factory=dict)
    examples: list[int] = field(default_factory=list)  # newest flag ids, for compliance


@dataclass(slots=True)
class Change:
    """One figure for the last period against the period before it."""

    current: float | None
    previous: float | None

    @property
    def delta(self) -> float | None:
        if self.current is None or self.previous is None:
            return None
        return round(self.current - self.previous, 3)


@dataclass(slots=True)
class Changes:
    """What changed this month: the last ``days`` days against the ``days`` before them.

    Independent of the report's window, so a 90-day report still says which way things moved
    lately."""

    days: int
    since: datetime
    previous_since: datetime
    flags: Change = field(default_factory=lambda: Change(0, 0))
    flags_by_category: dict[str, Change] = field(default_factory=dict)
    self_resolved_share: Change = field(default_factory=lambda: Change(None, None))
    false_positive_rate: Change = field(default_factory=lambda: Change(None, None))
    judged: Change = field(default_factory=lambda: Change(0, 0))
    nudges_sent: Change = field(default_factory=lambda: Change(0, 0))
    person_weeks_over_budget: Change = field(default_factory=lambda: Change(0, 0))


@dataclass(slots=True)
class Report:
    """Everything the report page, the CSV and the CLI show."""

    since: datetime
    until: datetime
    weekly: dict[str, dict[str, int]] = field(default_factory=dict)  # week -> category -> n
    # Flags people saw; shadow flags (seen by nobody but compliance) are counted apart.
    flags_total: int = 0
    shadow_total: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    resolved: int = 0
    self_resolved: int = 0
    ttr_median_hours: float | None = None
    ttr_p90_hours: float | None = None
    ttr_by_category: dict[str, float] = field(default_factory=dict)
    rules: list[RuleStats] = field(default_factory=list)
    shadow_rules: list[ShadowStats] = field(default_factory=list)
    nudges_sent: int = 0
    nudges_weekly: dict[str, int] = field(default_factory=dict)
    weekly_budget: int = 0
    person_weeks: int = 0
    person_weeks_over_budget: int = 0
    dead_nudges: list[dict[str, Any]] = field(default_factory=list)
    # Drafts checked before posting (a leading indicator): week -> category -> drafts, with
    # "*" for every checked draft. No text and no person behind any of these numbers.
    drafts_weekly: dict[str, dict[str, int]] = field(default_factory=dict)
    changes: Changes | None = None

    @property
    def drafts_checked(self) -> int:
        return sum(c.get("*", 0) for c in self.drafts_weekly.values())

    @property
    def self_resolved_share(self) -> float | None:
        return round(self.self_resolved / self.resolved, 3) if self.resolved else None

    @property
    def judged(self) -> int:
        return sum(r.confirmed + r.not_a_concern for r in self.rules)

    @property
    def false_positive_rate(self) -> float | None:
        """Share of reviewer and employee verdicts on live findings that said "not a concern"."""
        judged = self.judged
        return round(sum(r.not_a_concern for r in self.rules) / judged, 3) if judged else None

    @property
    def categories(self) -> list[str]:
        seen: Counter[str] = Counter()
        for counts in self.weekly.values():
            seen.update(counts)
        return [c for c, _ in seen.most_common()]

    def noisiest(self, n: int = 10) -> list[RuleStats]:
        """Rules with the most 'not a concern' verdicts, then the most findings."""
        return sorted(self.rules, key=lambda r: (-r.not_a_concern, -r.findings, r.source))[:n]


CHANGE_DAYS = 30


def build_report(
    session: Session, settings: Settings, since: datetime, until: datetime | None = None
) -> Report:
    """Compute the report over flags, feedback and nudges created in [since, until), with
    what changed in the last 30 days against the 30 before."""
    until = until or utcnow()
    rep = _figures(session, settings, since, until)
    rep.changes = _changes(session, settings, until, CHANGE_DAYS)
    return rep


def _figures(session: Session, settings: Settings, since: datetime, until: datetime) -> Report:
    rep = Report(since=since, until=until, weekly_budget=settings.guidance.weekly_budget)
    weekly: dict[str, Counter[str]] = {w: Counter() for w in weeks_between(since, until)}
    status: Counter[str] = Counter()
    ttr: list[float] = []
    ttr_cat: dict[str, list[float]] = defaultdict(list)
    flag_rows = flags_in(session, since, until)
    for at, category, st, resolution, resolved_at in flag_rows:
        status[st] += 1
        if st == "shadow":
            rep.shadow_total += 1
            continue
        rep.flags_total += 1
        weekly.setdefault(week_start(at), Counter())[category] += 1
        if st == "resolved":
            rep.resolved += 1
            if resolution == "self_resolved":
                rep.self_resolved += 1
        if st in ("resolved", "dismissed") and resolved_at is not None:
            hours = max(0.0, (resolved_at - at).total_seconds() / 3600)
            ttr.append(hours)
            ttr_cat[category].append(hours)
    rep.weekly = {w: dict(weekly[w]) for w in sorted(weekly)}
    rep.by_status = dict(status)
    if ttr:
        rep.ttr_median_hours = round(statistics.median(ttr), 2)
        rep.ttr_p90_hours = round(sorted(ttr)[max(0, int(len(ttr) * 0.9 + 0.5) - 1)], 2)
    rep.ttr_by_category = {c: round(statistics.median(v), 2) for c, v in sorted(ttr_cat.items())}
    rep.rules, rep.shadow_rules = _rule_stats(session, since, until)
    _nudges(session, rep, since, until)
    from monitor.guidance.draft_counts import weekly_counts

    rep.drafts_weekly = weekly_counts(session, since, until)
    return rep


def weeks_between(since: datetime, until: datetime) -> list[str]:
    """Every week that starts in or overlaps [since, until), so a quiet week shows as zero
    on a chart instead of vanishing from the trend."""
    first = date.fromisoformat(week_start(since))
    last = date.fromisoformat(week_start(until))
    n = (last - first).days // 7
    if n > 520:  # a --since decades back: only weeks that have data
        return []
    return [(first + timedelta(weeks=i)).isoformat() for i in range(n + 1)]


def _changes(session: Session, settings: Settings, until: datetime, days: int) -> Changes:
    start = until - timedelta(days=days)
    before = start - timedelta(days=days)
    cur = _figures(session, settings, start, until)
    prev = _figures(session, settings, before, start)
    ch = Changes(days=days, since=start, previous_since=before)
    ch.flags = Change(cur.flags_total, prev.flags_total)
    cur_cat, prev_cat = _per_category(cur), _per_category(prev)
    ch.flags_by_category = {c: Change(cur_cat.get(c, 0), prev_cat.get(c, 0))
                            for c in sorted(set(cur_cat) | set(prev_cat))}
    ch.self_resolved_share = Change(cur.self_resolved_share, prev.self_resolved_share)
    ch.false_positive_rate = Change(cur.false_positive_rate, prev.false_positive_rate)
    ch.judged = Change(cur.judged, prev.judged)
    ch.nudges_sent = Change(cur.nudges_sent, prev.nudges_sent)
    ch.person_weeks_over_budget = Change(cur.person_weeks_over_budget,
                                         prev.person_weeks_over_budget)
    return ch


def _per_category(rep: Report) -> Counter[str]:
    out: Counter[str] = Counter()
    for counts in rep.weekly.values():
        out.update(counts)
    return out


# Whose verdict on a finding counts when several people gave one.
_VERDICT_RANK = {"author": 1, "employee": 1, "manager": 2, "reviewer": 3, "compliance": 3}


def _rule_stats(
    session: Session, since: datetime, until: datetime
) -> tuple[list[RuleStats], list[ShadowStats]]:
    """Live findings' figures per rule or model, and apart from them what the same (or other)
    sources found in shadow: a verdict on a shadow finding never moves a live rule's precision."""
    live: dict[str, RuleStats] = {}
    shadow: dict[str, ShadowStats] = {}
    sources_of: dict[int, set[tuple[str, bool]]] = defaultdict(set)
    shadow_flags: dict[str, set[int]] = defaultdict(set)
    for flag_id, source, is_shadow, category in finding_sources_in(session, since, until):
        if is_shadow:
            sh = shadow.setdefault(source, ShadowStats(source))
            sh.findings += 1
            sh.categories[category] = sh.categories.get(category, 0) + 1
            shadow_flags[source].add(flag_id)
        else:
            live.setdefault(source, RuleStats(source)).findings += 1
        sources_of[flag_id].add((source, bool(is_shadow)))
    for source, ids in shadow_flags.items():
        shadow[source].flags = len(ids)
        shadow[source].examples = sorted(ids, reverse=True)[:5]
    # One verdict per finding (flag and source): a reviewer's outranks a manager's, which
    # outranks the author's; within a rank the latest counts. So several people judging the
    # same finding never count it twice, and judged findings never exceed findings.
    latest: dict[tuple[int, str, bool], tuple[int, str]] = {}
    for flag_id, fb_source, role, _actor, verdict in verdicts_in(session, since, until):
        if verdict not in ("confirmed", "not_a_concern"):
            continue
        on_flag = sources_of.get(flag_id, set())
        if fb_source:  # a per-finding verdict: that source's finding, live or shadow
            targets = [t for t in on_flag if t[0] == fb_source] or [(fb_source, False)]
        else:  # a verdict on the whole flag labels its live findings only
            targets = sorted(t for t in on_flag if not t[1])
        rank = _VERDICT_RANK.get(role, 0)
        for src, is_shadow in targets:
            key = (flag_id, src, is_shadow)
            if rank >= latest.get(key, (-1, ""))[0]:
                latest[key] = (rank, verdict)
    for (_flag, source, is_shadow), (_rank, verdict) in latest.items():
        rs: RuleStats = (shadow.setdefault(source, ShadowStats(source)) if is_shadow
                         else live.setdefault(source, RuleStats(source)))
        if verdict == "confirmed":
            rs.confirmed += 1
        else:
            rs.not_a_concern += 1
    return sorted(live.values(), key=_by_volume), sorted(shadow.values(), key=_by_volume)


def _by_volume(r: RuleStats) -> tuple[int, str]:
    return -r.findings, r.source


def _nudges(session: Session, rep: Report, since: datetime, until: datetime) -> None:
    per_person_week: Counter[tuple[str, str]] = Counter()
    weekly: Counter[str] = Counter()
    rows = sent_nudges_in(session, since, until)
    for sent_at, rid, email, kind in rows:
        if kind == "digest" or sent_at is None:
            continue
        rep.nudges_sent += 1
        week = week_start(sent_at)
        weekly[week] += 1
        per_person_week[(str(rid or email), week)] += 1
    rep.nudges_weekly = dict(sorted(weekly.items()))
    rep.person_weeks = len(per_person_week)
    rep.person_weeks_over_budget = sum(
        1 for n in per_person_week.values() if n > rep.weekly_budget
    )
    dead = dead_nudges_since(session, since)
    rep.dead_nudges = [
        {"id": r.id, "flag_id": r.flag_id, "role": r.role, "kind": r.kind,
         "attempts": r.attempts, "last_error": (r.last_error or "")[:300],
         "created_at": r.created_at.isoformat()}
        for r in dead
    ]


def report_rows(rep: Report) -> list[tuple[str, str, str, str]]:
    """The report in long form: (section, key, subkey, value); the CSV is exactly these."""
    rows: list[tuple[str, str, str, str]] = [
        ("window", "since", "", rep.since.isoformat()),
        ("window", "until", "", rep.until.isoformat()),
        ("flags", "total", "", str(rep.flags_total)),
        ("flags", "shadow", "", str(rep.shadow_total)),
    ]
    rows += [("flags_by_status", s, "", str(n)) for s, n in sorted(rep.by_status.items())]
    for week, counts in rep.weekly.items():
        rows += [("flags_per_week", week, c, str(n)) for c, n in sorted(counts.items())]
    rows += [
        ("resolution", "resolved", "", str(rep.resolved)),
        ("resolution", "self_resolved", "", str(rep.self_resolved)),
        ("resolution", "self_resolved_share", "", _num(rep.self_resolved_share)),
        ("time_to_resolution_hours", "median", "", _num(rep.ttr_median_hours)),
        ("time_to_resolution_hours", "p90", "", _num(rep.ttr_p90_hours)),
    ]
    rows += [("time_to_resolution_hours", "median", c, _num(h))
             for c, h in rep.ttr_by_category.items()]
    for r in rep.rules:
        rows += _source_rows("rule", r)
    rows += [("noisiest_rules", str(i + 1), r.source, str(r.not_a_concern))
             for i, r in enumerate(rep.noisiest())]
    for sh in rep.shadow_rules:
        rows += _source_rows("shadow_rule", sh)
        rows.append(("shadow_rule", sh.source, "flags", str(sh.flags)))
        rows += [("shadow_rule", sh.source, f"category:{c}", str(n))
                 for c, n in sorted(sh.categories.items())]
    rows += [
        ("nudges", "sent", "", str(rep.nudges_sent)),
        ("nudges", "weekly_budget_per_person", "", str(rep.weekly_budget)),
        ("nudges", "person_weeks", "", str(rep.person_weeks)),
        ("nudges", "person_weeks_over_budget", "", str(rep.person_weeks_over_budget)),
        ("nudges", "dead_lettered", "", str(len(rep.dead_nudges))),
    ]
    rows += [("nudges_per_week", w, "", str(n)) for w, n in rep.nudges_weekly.items()]
    rows.append(("drafts_checked", "total", "", str(rep.drafts_checked)))
    for week, counts in rep.drafts_weekly.items():
        rows += [("drafts_checked_per_week", week, "all" if c == "*" else c, str(n))
                 for c, n in sorted(counts.items())]
    rows += change_rows(rep.changes)
    return rows


def _source_rows(section: str, r: RuleStats) -> list[tuple[str, str, str, str]]:
    return [(section, r.source, name, value) for name, value in (
        ("findings", str(r.findings)), ("confirmed", str(r.confirmed)),
        ("not_a_concern", str(r.not_a_concern)), ("precision", _num(r.precision)))]


def change_rows(ch: Changes | None) -> list[tuple[str, str, str, str]]:
    """"What changed this month" in long form: key, then current, previous and delta."""
    if ch is None:
        return []
    section = f"change_last_{ch.days}d"
    figures = [("flags", ch.flags), *((f"flags:{c}", v) for c, v in ch.flags_by_category.items()),
               ("self_resolved_share", ch.self_resolved_share),
               ("false_positive_rate", ch.false_positive_rate), ("verdicts", ch.judged),
               ("nudges_sent", ch.nudges_sent),
               ("person_weeks_over_budget", ch.person_weeks_over_budget)]
    rows = [(section, "window", "since", ch.since.isoformat()),
            (section, "window", "previous_since", ch.previous_since.isoformat())]
    for key, c in figures:
        rows += [(section, key, "current", _num(c.current)),
                 (section, key, "previous", _num(c.previous)),
                 (section, key, "delta", _num(c.delta))]
    return rows


def _num(v: float | None) -> str:
    return "" if v is None else f"{v:g}"


def _change_json(c: Change) -> dict[str, float | None]:
    return {"current": c.current, "previous": c.previous, "delta": c.delta}


def report_csv(rep: Report) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(("section", "key", "subkey", "value"))
    w.writerows(report_rows(rep))
    return buf.getvalue()


def report_json(rep: Report) -> str:
    data = asdict(rep)
    data["since"], data["until"] = rep.since.isoformat(), rep.until.isoformat()
    data["self_resolved_share"] = rep.self_resolved_share
    data["rules"] = [{**asdict(r), "precision": r.precision} for r in rep.rules]
    data["shadow_rules"] = [{**asdict(r), "precision": r.precision} for r in rep.shadow_rules]
    data["false_positive_rate"] = rep.false_positive_rate
    if rep.changes is not None:
        ch = rep.changes
        data["changes"] = {
            "days": ch.days, "since": ch.since.isoformat(),
            "previous_since": ch.previous_since.isoformat(),
            **{name: _change_json(getattr(ch, name)) for name in (
                "flags", "self_resolved_share", "false_positive_rate", "judged", "nudges_sent",
                "person_weeks_over_budget")},
            "flags_by_category": {c: _change_json(v) for c, v in ch.flags_by_category.items()},
        }
    data["noisiest_rules"] = [r.source for r in rep.noisiest()]
    data["drafts_checked"] = rep.drafts_checked
    return json.dumps(data, indent=2, sort_keys=True)
