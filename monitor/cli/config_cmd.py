"""``socialguide config check``: validate a config file before an operator relies on it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from monitor.cli.common import cli_errors, err_console, settings_from

config_app = typer.Typer(help="Inspect and validate configuration.", no_args_is_help=True)


@config_app.command("check")
def check(
    file: Annotated[
        Path | None,
        typer.Argument(help="Config file to check (default: ./config.toml or the defaults).",
                       dir_okay=False),
    ] = None,
) -> None:
    """Validate a config file: names the file, key and what was expected; exit 2 on error."""
    with cli_errors():
        settings = settings_from(file)
        from monitor.pipeline.factory import build_pipeline

        # Building the pipeline also validates the rule packs and model the config points at.
        pipeline = build_pipeline(settings)
    for detector in pipeline.detectors:
        if hasattr(detector, "describe"):
            err_console.print(detector.describe())
    enabled = [n for n, p in settings.platforms if getattr(p, "enabled", False)]
    err_console.print(
        f"config OK: {settings.source or 'bundled defaults'}; store {settings.store.url.split('://')[0]}; "
        f"platforms enabled: {', '.join(enabled) or 'none'}"
    )


def register(app: typer.Typer) -> None:
    """Add ``config`` to the main app."""
    app.add_typer(config_app, name="config")
