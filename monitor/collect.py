"""One collection cycle: consented accounts -> collectors -> pipeline -> flag log -> outbox."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from monitor.collectors.base import AccountRef, Collector
from monitor.config import Settings
from monitor.errors import CollectorError, RateLimited
from monitor.guidance.planner import plan_nudges
from monitor.pipeline.core import Pipeline
from monitor.store import Store, repo
from monitor.store.schema import AccountRow, CursorRow, CycleRow, PersonRow, utcnow

log = logging.getLogger(__name__)


@dataclass
class CycleReport:
    """What a cycle did: collected, analysed, flagged, skipped (and why)."""

    accounts: int = 0
    posts_read: int = 0
    posts_new: int = 0
    posts_edited: int = 0
    posts_deleted: int = 0
    requests: int = 0
    flags: Counter[str] = field(default_factory=Counter)
    shadow_flags: int = 0
    nudges_planned: int = 0
    skipped: dict[str, str] = field(default_factory=dict)  # "platform/handle" -> reason
    by_platform: Counter[str] = field(default_factory=Counter)


def collect_account(
    store: Store,
    settings: Settings,
    pipeline: Pipeline,
    collector: Collector,
    account: AccountRef,
    report: CycleReport,
    now: datetime,
) -> None:
    """Fetch, store, analyse and plan for one account; errors stay with this account."""
    key = f"{account.platform}/{account.handle}"
    try:
        result = collector.fetch(account)
    except RateLimited as exc:
        report.skipped[key] = f"rate limited until {exc.reset_at or 'later'}"
        _note_failure(store, account.id, str(exc), exc.reset_at)
        return
    except CollectorError as exc:
        report.skipped[key] = str(exc)
        _note_failure(store, account.id, str(exc), None)
        log.warning("collect failed", extra={"platform": account.platform, "account": key})
        return
    report.requests += result.requests
    report.posts_read += len(result.posts)
    report.by_platform[account.platform] += len(result.posts)
    with store.session() as s:
        acc = s.get(AccountRow, account.id)
        if acc is None or repo.active_consent(s, account.id) is None:
            # Consent was withdrawn while we were fetching: keep nothing.
            report.skipped[key] = "consent withdrawn during the cycle"
            return
        owner = s.get(PersonRow, acc.owner_id)
        to_analyse = []
        for post in result.posts:
            stored = repo.upsert_post(s, post, account.id)
            if stored.status == "new":
                report.posts_new += 1
            elif stored.status == "edited":
                report.posts_edited += 1
            if stored.status != "unchanged":
                to_analyse.append((post, stored.row))
        if to_analyse:
            flags = pipeline.analyse([p for p, _ in to_analyse])
            for flag, (_, row) in zip(flags, to_analyse, strict=True):
                if not flag.findings and not flag.shadow_findings:
                    continue
                frow = repo.record_flag(s, flag, row, acc, owner)
                if flag.flagged:
                    for c in flag.categories:
                        report.flags[c] += 1
                    report.nudges_planned += len(plan_nudges(s, frow, owner, settings, now))
                else:
                    report.shadow_flags += 1
        if result.deleted_ids:
            report.posts_deleted += repo.mark_deleted(s, account.platform, result.deleted_ids, now)
        if result.platform_user_id:
            acc.platform_user_id = result.platform_user_id
        acc.last_error = None
        acc.last_collected_at = now
        repo.save_cursor(s, account.id, result.cursor)


def _note_failure(store: Store, account_id: int, message: str, retry_at: datetime | None) -> None:
    with store.session() as s:
        acc = s.get(AccountRow, account_id)
        if acc is not None:
            acc.last_error = message[:1000]
        cur = s.get(CursorRow, account_id)
        if cur is None:
            cur = CursorRow(account_id=account_id, failures=0)
            s.add(cur)
        cur.failures = (cur.failures or 0) + 1
        cur.next_attempt_at = retry_at


def run_cycle(
    store: Store,
    settings: Settings,
    pipeline: Pipeline,
    collectors: dict[str, Collector],
    now: datetime | None = None,
) -> CycleReport:
    """Collect every consented account of every platform that has a collector."""
    now = now or utcnow()
    report = CycleReport()
    for platform, collector in collectors.items():
        started = utcnow()
        with store.session() as s:
            accounts = repo.consented_accounts(s, platform)
        before = report.posts_read
        for account in accounts:
            report.accounts += 1
            collect_account(store, settings, pipeline, collector, account, report, now)
        with store.session() as s:
            s.add(CycleRow(platform=platform, started_at=started, finished_at=utcnow(), ok=True,
                           stats={"accounts": len(accounts), "posts": report.posts_read - before}))
    return report
