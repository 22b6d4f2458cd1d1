"""CLI: ``socialguide slack serve|check|manifest|deliver|digest|outbox|requeue``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from monitor.cli.common import (
    ConfigOption,
    cli_errors,
    err_console,
    opened_store,
    out_console,
    store_session,
)
from monitor.errors import NotFoundError

MANIFEST = Path(__file__).resolve().parent.parent / "slack" / "manifest.yaml"

slack_app = typer.Typer(help="The Slack app: serve it, print its manifest, work the outbox.",
                        no_args_is_help=True)


@slack_app.command("serve")
def serve(config: ConfigOption = None) -> None:
    """Run the Slack app (Socket Mode by default, or HTTP per [slack] mode) until stopped."""
    with cli_errors(), opened_store(config) as (settings, store):
        from monitor.guidance.draft_check import checker_for
        from monitor.slack.app import serve as run

        checker_for(settings).warm_up_in_background()  # draft checks answer from the start
        err_console.print(f"socialguide Slack app: {settings.slack.mode} mode, "
                          f"Slack API {settings.slack.base_url}")
        run(settings, store)


@slack_app.command("check")
def check(config: ConfigOption = None) -> None:
    """Check the Slack set-up before going live: token, scopes, channels, people; exit 1 on a fail."""
    with cli_errors(), opened_store(config) as (settings, store):
        from monitor.slack.setup_check import check_slack

        report = check_slack(settings, store)
    for line in report.lines:
        out_console.print(str(line), markup=False, soft_wrap=False)
    fails = sum(line.level == "fail" for line in report.lines)
    if fails:
        err_console.print(f"slack check: {fails} problem(s) to fix before going live",
                          markup=False)
        raise typer.Exit(1)
    err_console.print("slack check: ready", markup=False)


@slack_app.command("manifest")
def manifest() -> None:
    """Print the app manifest to paste into api.slack.com (Create New App -> From a manifest)."""
    out_console.print(MANIFEST.read_text(encoding="utf-8"), markup=False, end="")


@slack_app.command("deliver")
def deliver(config: ConfigOption = None) -> None:
    """Deliver due nudges from the outbox once (the daemon does this on a schedule)."""
    with cli_errors(), opened_store(config) as (settings, store):
        from monitor.guidance.outbox import deliver_due
        from monitor.slack.notifier import build_notifier

        r = deliver_due(store, build_notifier(settings), settings)
    err_console.print(f"sent {r.sent}, deferred {r.deferred}, cancelled {r.cancelled}, "
                      f"failed {r.failed}, dead-lettered {r.dead}, reconciled {r.reconciled}")
    if r.paused:
        err_console.print(f"delivery paused: {r.paused}", markup=False)
        raise typer.Exit(1)


@slack_app.command("digest")
def digest(
    config: ConfigOption = None,
    force: Annotated[bool, typer.Option(help="Queue even if today is not the digest day.")]
    = False,
) -> None:
    """Queue this week's team digests for managers (delivered with the outbox)."""
    with cli_errors(), opened_store(config) as (settings, store):
        from monitor.guidance.digest import send_digests

        r = send_digests(store, settings, force=force)
    err_console.print(f"queued {r.queued} digests; {r.already} already queued this week; "
                      f"{r.skipped_quiet} teams had a quiet week")


@slack_app.command("outbox")
def outbox(
    config: ConfigOption = None,
    status: Annotated[str, typer.Option(help="Which entries to list: pending, dead, sending, "
                                             "sent, cancelled.")] = "dead",
    limit: int = 50,
) -> None:
    """Show outbox counts and the entries in one state (dead letters by default)."""
    with cli_errors(), store_session(config) as (_, s):
        from monitor.store.outbox import nudges_in, outbox_counts

        counts = outbox_counts(s)
        rows = nudges_in(s, status, limit)
        lines = [f"#{n.id}\t{n.role}\t{n.kind}\tflag {n.flag_id}\tattempts {n.attempts}\t"
                 f"{n.last_error or ''}" for n in rows]
    err_console.print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "empty")
    for line in lines:
        out_console.print(line, markup=False)


@slack_app.command("requeue")
def requeue(
    ids: Annotated[list[int] | None, typer.Argument(help="Nudge ids; none means every dead one.")]
    = None,
    config: ConfigOption = None,
) -> None:
    """Put dead-lettered nudges back in the outbox (after fixing what killed them)."""
    with cli_errors(), store_session(config) as (_, s):
        from monitor.domain import utcnow
        from monitor.store import audit
        from monitor.store.outbox import dead_nudges

        now = utcnow()
        rows = dead_nudges(s, ids)
        if ids and len(rows) != len(set(ids)):
            missing = sorted(set(ids) - {r.id for r in rows})
            raise NotFoundError(f"not dead-lettered (or unknown): {missing}")
        for n in rows:
            n.status, n.attempts, n.not_before = "pending", 0, now + timedelta(seconds=0)
            audit.record(s, "cli", "nudge.requeued", "nudge", n.id, {"role": n.role})
    err_console.print(f"requeued {len(rows)} nudges")


def register(app: typer.Typer) -> None:
    """Add ``slack`` to the main app."""
    app.add_typer(slack_app, name="slack")
