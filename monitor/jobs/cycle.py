"""One collection cycle: consented accounts -> collectors -> pipeline -> flag log -> outbox.

Fetching is network-bound, so it runs on a bounded thread pool; everything that writes to
the store runs on the calling thread, in batches, so SQLite sees one writer and the audit
chain stays in order. Each account is isolated: its failure is recorded on the account
(``last_error``, backoff) and the others go on.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from datetime import datetime

from monitor import metrics
from monitor.collectors.base import Collector
from monitor.collectors.budget import ReadBudget
from monitor.collectors.registry import unavailable
from monitor.config import Settings
from monitor.domain import AccountRef, utcnow
from monitor.jobs.commit import first_line
from monitor.jobs.gate import Gate, Outcome, fetch, guarded_fetch
from monitor.jobs.report import CycleReport
from monitor.jobs.write import store_outcomes
from monitor.pipeline.core import Pipeline
from monitor.store import Store, leases, posts, repo

log = logging.getLogger(__name__)

WRITE_BATCH = 100


def worker_name(settings: Settings) -> str:
    """This process's lease owner name: the configured worker id, else host:pid."""
    return settings.scheduler.worker_id or f"{socket.gethostname()}:{os.getpid()}"


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
    outcome = fetch(collector, account)
    store_outcomes(store, settings, pipeline, [outcome], report, now, owner=None)


def run_cycle(
    store: Store,
    settings: Settings,
    pipeline: Pipeline,
    collectors: dict[str, Collector],
    now: datetime | None = None,
    *,
    platforms: Iterable[str] | None = None,
    workers: int | None = None,
) -> CycleReport:
    """Collect every consented account of every platform that has a collector.

    ``platforms`` limits the cycle (the daemon runs one job per platform). Accounts backing
    off after failures, or leased by another worker, are skipped with the reason.
    """
    now = now or utcnow()
    t0 = time.perf_counter()
    report = CycleReport()
    owner = worker_name(settings)
    wanted = set(platforms) if platforms is not None else None
    _report_unavailable(store, settings, collectors, wanted, report)
    n_workers = workers or settings.scheduler.collect_workers
    # One replay collector may serve several platforms: fetch each platform once.
    for platform, collector in collectors.items():
        if wanted is not None and platform not in wanted:
            continue
        _run_platform(store, settings, pipeline, platform, collector, now, report, owner,
                      n_workers)
    report.seconds = time.perf_counter() - t0
    return report


def _report_unavailable(store: Store, settings: Settings, collectors: dict[str, Collector],
                        wanted: set[str] | None, report: CycleReport) -> None:
    reasons = unavailable(settings)
    with store.session() as s:
        for platform, reason in reasons.items():
            if platform in collectors or (wanted is not None and platform not in wanted):
                continue
            n = len(repo.consented_accounts(s, platform))
            if n:
                report.platforms_skipped[platform] = f"{n} account(s) not collected: {reason}"


def _run_platform(store: Store, settings: Settings, pipeline: Pipeline, platform: str,
                  collector: Collector, now: datetime, report: CycleReport, owner: str,
                  n_workers: int) -> None:
    started = utcnow()
    t0 = time.perf_counter()
    before = (report.posts_read, sum(report.flags.values()), report.requests)
    errors_before = report.errors[platform]
    unanalysed_before = len(report.posts_unanalysed)
    with store.session() as s:
        # The consent rule lives in this one query: nothing else is ever requested.
        accounts = repo.consented_accounts(s, platform)
    by_id = {a.id: a for a in accounts}
    leases.ensure_cursors(store, by_id)
    claim = leases.claim(store, list(by_id), owner, now)
    if claim.taken_over:
        report.leases_taken_over += len(claim.taken_over)
    for aid, until in claim.backing_off.items():
        a = by_id[aid]
        report.skipped[f"{platform}/{a.handle}"] = f"backing off after errors until {until:%Y-%m-%d %H:%M} UTC"
    for aid, other in claim.leased_elsewhere.items():
        a = by_id[aid]
        report.skipped[f"{platform}/{a.handle}"] = f"being collected by another worker ({other})"
    budget = None
    if hasattr(collector, "budget") and platform == "x":
        budget = ReadBudget(settings.platforms.x.max_reads_per_cycle)
        collector.budget = budget
    gate = Gate()
    # The cursors as they are now the leases are ours: another worker may have collected
    # an account between the listing above and the claim, and its cursor moved on.
    with store.session() as s:
        fresh = repo.cursors_of(s, claim.claimed)
    claimed = [replace(by_id[a], cursor=fresh.get(a, by_id[a].cursor)) for a in claim.claimed]
    report.accounts += len(claimed)
    report.accounts_by_platform[platform] += len(claimed)
    # The heartbeat keeps the leases while this process works; if it dies they lapse.
    with leases.Heartbeat(store, owner):
        try:
            _collect_claimed(store, settings, pipeline, platform, collector, claimed, gate,
                             report, now, owner, n_workers)
        except BaseException:
            _give_back(store, claim.claimed, owner)
            raise
    if budget is not None:
        report.billed_reads[platform] += budget.spent
    errors = report.errors[platform] - errors_before
    good = not claimed or errors < len(claimed)
    seconds = time.perf_counter() - t0
    stats: dict[str, int | float] = {
        "accounts": len(claimed),
        "posts": report.posts_read - before[0],
        "flags": sum(report.flags.values()) - before[1],
        "requests": report.requests - before[2],
        "errors": errors,
        "backing_off": len(claim.backing_off),
        "leased_elsewhere": len(claim.leased_elsewhere),
        "leases_taken_over": len(claim.taken_over),
        "posts_unanalysed": len(report.posts_unanalysed) - unanalysed_before,
        "billed_reads": budget.spent if budget is not None else 0,
        "seconds": round(seconds, 3),
    }
    with store.session() as s:
        posts.record_cycle(s, platform, owner, started, good, stats)
    metrics.observe_platform(platform, posts=int(stats["posts"]), flags={}, errors=errors,
                             requests=int(stats["requests"]), seconds=seconds, good=good)
    log.info("collected %s: %s", platform, stats, extra={"platform": platform})


def _collect_claimed(store: Store, settings: Settings, pipeline: Pipeline, platform: str,
                     collector: Collector, claimed: list[AccountRef], gate: Gate,
                     report: CycleReport, now: datetime, owner: str, n_workers: int) -> None:
    """Fetch on the pool, write on this thread in batches of WRITE_BATCH accounts."""
    pending: list[Outcome] = []
    in_flight: set[Future[Outcome]] = set()
    max_in_flight = n_workers * 4
    with ThreadPoolExecutor(max_workers=max(1, n_workers),
                            thread_name_prefix=f"collect-{platform}") as pool:
        it = iter(claimed)
        exhausted = False
        while in_flight or not exhausted:
            while not exhausted and len(in_flight) < max_in_flight:
                acc = next(it, None)
                if acc is None:
                    exhausted = True
                    break
                in_flight.add(pool.submit(guarded_fetch, collector, acc, gate))
            if not in_flight:
                break
            done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            pending.extend(f.result() for f in done)
            if len(pending) >= WRITE_BATCH:
                store_outcomes(store, settings, pipeline, pending, report, now, owner)
                pending = []
    if pending:
        store_outcomes(store, settings, pipeline, pending, report, now, owner)


def _give_back(store: Store, account_ids: list[int], owner: str) -> None:
    """After a failed cycle, free the leases still held so others need not wait for expiry."""
    try:
        with store.session() as s:
            leases.release(s, account_ids, owner)
    except Exception as exc:  # the database itself may be what failed; the leases lapse
        log.warning("could not give collection leases back (they expire in %.0fs): %s",
                    leases.LEASE_SECONDS, first_line(exc))
