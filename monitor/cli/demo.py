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
    """Replay twelve weeks of the bundled demo organisation's history and print what happened."""
    console = Console(highlight=False, soft_wrap=True)
    with cli_errors():
        if folder.exists() and not folder.is_dir():
            raise InputError(f"--dir {folder}: is a file, not a folder")
        console.rule("socialguide demo: Northwind Labs")
        result = run_demo(folder, console)
    _summary(console, result)


RESOLUTIONS = {"self_resolved": "by the author inside the grace window",
               "author_resolved": "by the author after the grace window",
               "manager_resolved": "by the manager after a talk",
               "reviewer": "by compliance", "removed_by_author": "post deleted by its author",
               "author_not_a_concern": "author said it is fine",
               "superseded_by_edit": "superseded by an edit"}


def _summary(console: Console, r: DemoResult) -> None:
    s = r.summary
    c = r.cycle
    console.rule("Summary")
    since = f"{r.launch:%Y-%m-%d}" if r.launch else "?"
    console.print(f"Story: {since} to {r.now:%Y-%m-%d %H:%M} UTC (the clock never passed now).")
    if r.told:
        console.print(
            f"This run: {r.people} people and {r.accounts_new} opted-in accounts imported; "
            f"{c.posts_new} posts collected ({c.posts_edited} edited, {c.posts_deleted} deleted) "
            f"in {r.cycles} collection cycles; {r.sent} nudges sent; "
            f"{r.actions} things people did; {r.drafts} drafts checked before posting.")
    else:
        console.print(f"This run read {c.posts_read} posts and sent {r.sent} nudges: the story "
                      "was already in the store, so nothing was stored, flagged or sent twice "
                      "(delete the folder to tell it again from today).")
    console.print(f"Posts stored: {s.posts}; accounts still opted in: {s.consented_accounts} "
                  "(accounts without consent are never read).")
    weeks = Table(title="Week by week", show_edge=False)
    for col in ("week of", "flags", "self-resolved", "nudges"):
        weeks.add_column(col, justify="left" if col == "week of" else "right")
    for w in s.weeks:
        weeks.add_row(w, str(sum(s.flags_by_week.get(w, {}).values())),
                      str(s.self_resolved_by_week.get(w, 0)), str(s.nudges_by_week.get(w, 0)))
    weeks.add_row("total", str(s.flags), str(sum(s.self_resolved_by_week.values())),
                  str(s.nudges))
    console.print(weeks)
    cats = Table(title="Flags by category (the most severe finding of each)", show_edge=False)
    cats.add_column("category")
    cats.add_column("flags", justify="right")
    for cat, n in sorted(s.by_category.items()):
        cats.add_row(cat, str(n))
    console.print(cats)
    console.print("Flags by status: " + ", ".join(
        f"{st} {n}" for st, n in sorted(s.by_status.items())))
    console.print("Resolved or closed: " + "; ".join(
        f"{RESOLUTIONS.get(k, k)} {n}" for k, n in sorted(s.resolutions.items())))
    console.print(f"Shadow log (compliance only): {s.shadow} flags")
    console.print(f"Nudges sent: {s.nudges} ("
                  + ", ".join(f"{k} {n}" for k, n in sorted(s.nudges_by_kind.items()))
                  + f"); cancelled before delivery: {s.outbox.get('cancelled', 0)}; "
                  f"pending: {s.outbox.get('pending', 0)}; dead-lettered (Slack refused them; "
                  f"`slack outbox` lists them): {s.outbox.get('dead', 0)}")
    console.print(f"Legal holds: {s.legal_holds}; flags whose text was erased on opt-out: "
                  f"{s.erased_flags}")
    for p in r.problems:
        console.print(f"! {p}", markup=False)
    console.print(f"Database: {r.db_path.resolve()}")
    sg = _command_name()
    cfg = r.db_path.parent / "config.toml"
    _users(console, r, sg, cfg)
    console.print("Try next:")
    console.print(f"  {sg} report --config {cfg} --since 90d -o report.html")
    console.print(f'  {sg} scan - <<< \'{{"id": "1", "text": "my key is AKIAZ4QW7PL2XR5NB3TD"}}\'')
    console.print(f'  {sg} rules explain "call me at (415) 555-0142"')
    console.print(f"  {sg} accounts list --config {cfg}")
    console.print(f"  {sg} log verify --config {cfg}")
    console.print(f"  {sg} --help")


def _users(console: Console, r: DemoResult, sg: str, cfg: Path) -> None:
    console.rule("Sign in to the dashboard")
    console.print(f"  {sg} web --config {cfg}")
    console.print("  then open http://127.0.0.1:8080/ and sign in as one of:")
    for u in r.users:
        console.print(f"  {u.role:<10}  user {u.username}  password "
                      f"{u.password or '(already exists)'}  sees {u.sees}", markup=False)
    if any(u.password is None for u in r.users):
        console.print("  Passwords are shown only when a user is created; set a new one with "
                      f"{sg} users reset-password USER --config {cfg}", markup=False)


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
