"""``socialguide run [--once]``: the collection daemon, or one cycle for cron users."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from monitor.cli.common import ConfigOption, cli_errors, err_console, opened_store
from monitor.config import Settings
from monitor.errors import StoreError
from monitor.jobs.report import CycleReport
from monitor.store import Store
from monitor.store.db import database_error


def print_report(report: CycleReport, sent: int | None = None) -> None:
    """The cycle report as people read it: per platform, then what was skipped and why."""
    table = Table(title="Collection cycle", show_lines=False)
    for col in ("platform", "accounts", "requests", "posts read", "errors"):
        table.add_column(col, justify="left" if col == "platform" else "right")
    platforms = sorted(set(report.accounts_by_platform) | set(report.by_platform))
    for p in platforms:
        table.add_row(p, str(report.accounts_by_platform[p]), str(report.requests_by_platform[p]),
                      str(report.by_platform[p]), str(report.errors[p]))
    err_console.print(table)
    flags = ", ".join(f"{c} {n}" for c, n in sorted(report.flags.items())) or "none"
    err_console.print(
        f"posts: {report.posts_new} new, {report.posts_edited} edited, "
        f"{report.posts_deleted} deleted by their authors; flags: {flags}; "
        f"nudges planned: {report.nudges_planned}"
        + (f"; nudges delivered: {sent}" if sent is not None else "")
        + f"; {report.seconds:.1f}s", markup=False)
    for platform, reads in sorted(report.billed_reads.items()):
        err_console.print(f"{platform}: {reads} billed reads this cycle", markup=False)
    for platform, reason in sorted(report.platforms_skipped.items()):
        err_console.print(f"skipped platform {platform}: {reason}", markup=False)
    if report.leases_taken_over:
        err_console.print(f"took over {report.leases_taken_over} account lease(s) from a "
                          "worker process that is gone", markup=False)
    if report.posts_unanalysed:
        failed = Table(title="Posts stored but not analysed")
        failed.add_column("post")
        failed.add_column("reason")
        for key, reason in sorted(report.posts_unanalysed.items()):
            failed.add_row(key, reason)
        err_console.print(failed)
    if report.skipped:
        skipped = Table(title="Skipped accounts")
        skipped.add_column("account")
        skipped.add_column("reason")
        for key, reason in sorted(report.skipped.items()):
            skipped.add_row(key, reason)
        err_console.print(skipped)


def register(app: typer.Typer) -> None:
    """Add ``run`` to the main app."""

    @app.command("run")
    def run(
        once: Annotated[bool, typer.Option(
            "--once", help="Collect every enabled platform once, deliver due nudges, exit.")] = False,
        config: ConfigOption = None,
    ) -> None:
        """Run the collectors on their schedule (or once, for cron) and deliver nudges."""
        with cli_errors(), opened_store(config) as (settings, store):
            if once:
                _once(settings, store)
            else:
                from monitor.jobs.daemon import run_daemon
                from monitor.slack.notifier import build_notifier

                # The one place that chooses how nudges go out: the jobs only use it.
                run_daemon(settings, store, build_notifier(settings))


def _once(settings: Settings, store: Store) -> None:
    from monitor.collectors.registry import build_collectors
    from monitor.guidance.outbox import deliver_due
    from monitor.jobs.cycle import run_cycle
    from monitor.pipeline.factory import build_pipeline
    from monitor.slack.notifier import build_notifier

    try:
        report = run_cycle(store, settings, build_pipeline(settings),
                           build_collectors(settings))
        delivered = deliver_due(store, build_notifier(settings), settings)
    except Exception as exc:
        # A full disk, a lost server: say which store and why, in one line. What was
        # written is whole (each batch is one transaction); the next run goes on from there.
        reason = database_error(exc)
        if reason is None:
            raise
        raise StoreError(f"store {store.redacted_url} failed during the cycle: {reason}") \
            from None
    print_report(report, delivered.sent)
