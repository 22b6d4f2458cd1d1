"""``socialguide demo``: the whole product on bundled data, no credentials, no network."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from monitor.cli.common import cli_errors
from monitor.demo import DemoResult, run_demo
from monitor.errors import InputError


def demo(
    folder: Annotated[
        Path, typer.Option("--dir", help="Folder for the demo database.")
    ] = Path("socialguide-demo"),
) -> None:
    """Run one collection cycle on the bundled demo organisation and print what happened."""
    console = Console(highlight=False, soft_wrap=True)
    with cli_errors():
        if folder.exists() and not folder.is_dir():
            raise InputError(f"--dir {folder}: is a file, not a folder")
        console.rule("socialguide demo: Northwind Labs")
        result = run_demo(folder, console)
    _summary(console, result)


def _summary(console: Console, r: DemoResult) -> None:
    c = r.cycle
    console.rule("Summary")
    console.print(
        f"People: {r.people} in the org chart; new opted-in accounts this run: {r.accounts_new}."
    )
    console.print(
        f"This cycle read {c.posts_read} posts from {c.accounts} consented accounts "
        f"({c.posts_new} new, {c.posts_edited} edited, {c.posts_deleted} deleted); "
        f"accounts without consent are never read."
    )
    if c.posts_read == 0:
        console.print("Nothing new since the last run: the replay cursors are up to date, "
                      "so nothing was stored, flagged or sent twice.")
    table = Table(title="Flag log (all runs)", show_edge=False)
    table.add_column("category")
    table.add_column("flags", justify="right")
    for cat, n in sorted(r.flags_by_category.items()):
        table.add_row(cat, str(n))
    console.print(table)
    console.print(f"Shadow-log entries (experimental rules, low-confidence model): "
                  f"{r.totals.get('shadow', 0)}")
    nt = Table(title="Nudges delivered (all runs)", show_edge=False)
    nt.add_column("recipient")
    nt.add_column("nudges", justify="right")
    for who, n in sorted(r.nudges_by_recipient.items()):
        nt.add_row(who, str(n))
    console.print(nt)
    console.print(
        f"This run: {r.now_delivery.sent} author nudge(s) sent at once; "
        f"{r.self_resolved} resolved by the author within the grace window (their manager is "
        f"not told); {r.later_delivery.sent} coaching note(s) after the grace window; "
        f"{r.later_delivery.cancelled + r.now_delivery.cancelled} cancelled."
    )
    console.print(f"Database: {r.db_path.resolve()}")
    sg = _command_name()
    console.print("Try next:")
    console.print(f'  {sg} scan - <<< \'{{"id": "1", "text": "my key is AKIAZ4QW7PL2XR5NB3TD"}}\'')
    console.print(f'  {sg} rules explain "call me at (415) 555-0142"')
    cfg = r.db_path.parent / "config.toml"
    console.print(f"  {sg} accounts list --config {cfg}")
    console.print(f"  {sg} log verify --config {cfg}")
    console.print(f"  {sg} users add you@example.com --role compliance --config {cfg}")
    console.print(f"  SOCIALGUIDE_WEB_SECRET=change-me {sg} web --config {cfg}")
    console.print(f"  {sg} --help")


def _command_name() -> str:
    """``socialguide`` if it is on PATH, else the path to it inside the virtualenv."""
    if shutil.which("socialguide"):
        return "socialguide"
    candidate = Path(sys.executable).parent / "socialguide"
    if candidate.exists():
        try:
            return str(candidate.relative_to(Path.cwd()))
        except ValueError:
            return str(candidate)
    return "socialguide"


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the main app."""
    app.command("demo")(demo)
