"""``socialguide people import``: load the organisation chart from CSV."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from monitor.accounts.people import apply_people, check_managers, read_people_csv
from monitor.cli.common import (
    ConfigOption,
    SkipInvalidOption,
    bad_row_count,
    cli_errors,
    err_console,
    open_store,
    report_bad_rows,
    settings_from,
)

people_app = typer.Typer(help="Manage the people socialguide knows (employees, managers).",
                         no_args_is_help=True)


@people_app.command("import")
def import_people(
    file: Annotated[Path, typer.Argument(help="CSV with columns email, slack_id, manager_email, "
                                              "team, timezone (and optionally name).")],
    skip_invalid: SkipInvalidOption = False,
    default_timezone: Annotated[
        str | None,
        typer.Option("--default-timezone", help="IANA time zone for rows whose timezone is "
                     "empty (each such row is listed); without it an empty one is a bad row."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Import or update people; every problem of every row is reported with its line number."""
    with cli_errors():
        settings = settings_from(config)
        result = read_people_csv(file, default_timezone=default_timezone)
        store = open_store(settings)
        with store.session() as s:
            check_managers(s, result, str(file))
            report_bad_rows(result.errors, skip_invalid)
            apply_people(s, result, actor=f"cli:{getpass.getuser()}")
    if result.defaulted:
        err_console.print(f"timezone empty on {len(result.defaulted)} row(s), set to "
                          f"{default_timezone}: line(s) {', '.join(map(str, result.defaulted))}",
                          markup=False)
    err_console.print(
        f"people: {result.created} created, {result.updated} updated"
        + (f", {bad_row_count(result.errors)} bad row(s) skipped" if result.errors else ""),
        markup=False,
    )


def register(app: typer.Typer) -> None:
    """Add ``people`` to the main app."""
    app.add_typer(people_app, name="people")
