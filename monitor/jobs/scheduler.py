"""The daemon's jobs and their APScheduler 3 triggers.

Jobs are idempotent and claim work through the store (leases, outbox states), so a second
worker or a duplicated trigger does nothing harmful. Per-account cursors live in the
store, never in the scheduler's (in-memory) job store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor import metrics
from monitor.collectors.base import Collector
from monitor.config import Settings
from monitor.domain import utcnow
from monitor.guidance.notifier import Notifier
from monitor.guidance.outbox import DeliveryReport, deliver_due
from monitor.jobs.cycle import run_cycle
from monitor.jobs.report import CycleReport
from monitor.pipeline.core import Pipeline
from monitor.store import Store

log = logging.getLogger(__name__)

MISFIRE_GRACE_SECONDS = 300


@dataclass
class Jobs:
    """What the jobs need, built once per process; the caller chooses how nudges go out."""

    store: Store
    settings: Settings
    pipeline: Pipeline
    collectors: dict[str, Collector]
    notifier: Notifier
    last_reports: dict[str, CycleReport] = field(default_factory=dict)

    def collect(self, platform: str) -> CycleReport | None:
        """Collect one platform's consented accounts."""
        return self._guard(f"collect:{platform}", lambda: self._collect(platform))

    def _collect(self, platform: str) -> CycleReport:
        report = run_cycle(self.store, self.settings, self.pipeline, self.collectors,
                           platforms=[platform])
        self.last_reports[platform] = report
        return report

    def deliver(self) -> DeliveryReport | None:
        """Send due nudges from the outbox."""
        def run() -> DeliveryReport:
            rep = deliver_due(self.store, self.notifier, self.settings, utcnow())
            metrics.observe_nudges("sent", rep.sent)
            metrics.observe_nudges("failed", rep.failed)
            metrics.observe_nudges("dead", rep.dead)
            return rep
        return self._guard("deliver", run)

    def digests(self) -> Any:
        """Queue the weekly manager digests."""
        from monitor.guidance.digest import send_digests

        return self._guard("digests", lambda: send_digests(self.store, self.settings, utcnow()))

    def purge(self) -> Any:
        """Apply the retention policy."""
        from monitor.compliance.retention import purge

        return self._guard("purge", lambda: purge(self.store, self.settings, utcnow()))

    def _guard(self, job: str, fn: Callable[[], Any]) -> Any:
        # A failing job is logged and counted; the scheduler keeps the others running.
        try:
            return fn()
        except Exception:
            metrics.JOB_FAILURES.labels(job).inc()
            log.exception("job failed", extra={"job": job})
            return None


def add_jobs(scheduler: BaseScheduler, jobs: Jobs) -> list[str]:
    """Register collect (per platform, jittered), deliver, digests and purge; return job ids."""
    s = jobs.settings
    common: dict[str, Any] = {"coalesce": True, "max_instances": 1,
                              "misfire_grace_time": MISFIRE_GRACE_SECONDS, "replace_existing": True}
    ids: list[str] = []
    platforms = sorted(set(jobs.collectors))
    for platform in platforms:
        ps = getattr(s.platforms, platform, None)
        minutes = ps.interval_minutes if ps is not None else 30
        job_id = f"collect:{platform}"
        scheduler.add_job(jobs.collect, IntervalTrigger(minutes=minutes,
                                                        jitter=s.scheduler.jitter_seconds or None),
                          args=[platform], id=job_id, name=job_id,
                          next_run_time=utcnow(), **common)
        ids.append(job_id)
    scheduler.add_job(jobs.deliver, IntervalTrigger(seconds=s.scheduler.deliver_seconds),
                      id="deliver", name="deliver", **common)
    ids.append("deliver")
    scheduler.add_job(jobs.digests, CronTrigger(day_of_week=s.guidance.digest_weekday,
                                                hour=9, minute=0),
                      id="digests", name="digests", **common)
    ids.append("digests")
    scheduler.add_job(jobs.purge, CronTrigger(hour=s.scheduler.purge_hour, minute=15),
                      id="purge", name="purge", **common)
    ids.append("purge")
    return ids
