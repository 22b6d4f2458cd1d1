"""The ``socialguide`` command line: one Typer app; each area registers its own commands."""

from __future__ import annotations

import typer

from monitor.cli import (
    accounts,
    compliance,
    config_cmd,
    db,
    demo,
    model,
    people,
    rules,
    run,
    scan,
    slack,
    tokens,
)

app = typer.Typer(
    name="socialguide",
    help="Consent-first social media policy guidance: collect opted-in public posts, "
    "flag likely policy conflicts, nudge gently over Slack, keep a tamper-evident log.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

for _module in (demo, scan, run, people, accounts, rules, model, compliance, config_cmd, db, slack):
    _module.register(app)
tokens.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
