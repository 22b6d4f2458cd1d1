"""``socialguide run``: the long-running process (scheduler, metrics, graceful shutdown)."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler

from monitor.collectors.registry import build_collectors, unavailable
from monitor.config import Settings
from monitor.guidance.notifier import Notifier
from monitor.jobs.scheduler import Jobs, add_jobs
from monitor.metrics import MetricsServer
from monitor.pipeline.factory import build_pipeline
from monitor.store import Store

log = logging.getLogger(__name__)


class Daemon:
    """Owns the scheduler and the metrics endpoint; ``stop()`` (or a signal) ends it cleanly.

    The notifier is handed in, so the daemon runs whatever delivery its caller wired.
    """

    def __init__(self, settings: Settings, store: Store, notifier: Notifier):
        self.settings = settings
        self.store = store
        self.jobs = Jobs(store, settings, build_pipeline(settings), build_collectors(settings),
                         notifier)
        self.scheduler = BackgroundScheduler(daemon=True)
        self.metrics: MetricsServer | None = None
        self._stop = threading.Event()

    def start(self) -> list[str]:
        """Start the metrics endpoint and the scheduler; return the registered job ids."""
        sch = self.settings.scheduler
        if sch.metrics_port:
            self.metrics = MetricsServer(sch.metrics_host, sch.metrics_port).start()
            log.info("metrics on http://%s:%s/metrics", sch.metrics_host, self.metrics.port)
        ids = add_jobs(self.scheduler, self.jobs)
        for platform, reason in unavailable(self.settings).items():
            log.info("%s not collected: %s", platform, reason, extra={"platform": platform})
        self.scheduler.start()
        log.info("scheduler started with jobs %s", ", ".join(ids))
        return ids

    def stop(self, *_: object) -> None:
        """Ask the daemon to end; safe from a signal handler."""
        self._stop.set()

    def wait(self) -> None:
        """Block until stopped, then let running jobs finish and release everything."""
        try:
            while not self._stop.wait(1.0):
                pass
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        """Let running jobs finish, then close the scheduler and the metrics endpoint."""
        log.info("shutting down: waiting for running jobs")
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if self.metrics is not None:
            self.metrics.stop()
            self.metrics = None


def run_daemon(settings: Settings, store: Store, notifier: Notifier) -> None:
    """Run until SIGTERM or SIGINT."""
    daemon = Daemon(settings, store, notifier)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s", signal.Signals(signum).name)
        daemon.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    daemon.start()
    daemon.wait()
