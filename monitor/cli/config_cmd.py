"""``socialguide config check``: validate a config file before an operator relies on it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from monitor.cli.common import CONFIG_ENV, cli_errors, err_console, settings_from
from monitor.config import ConfigProblems
from monitor.errors import ConfigError, SocialGuideError

config_app = typer.Typer(help="Inspect and validate configuration.", no_args_is_help=True)


@config_app.command("check")
def check(
    file: Annotated[
        Path | None,
        typer.Argument(help="Config file to check (default: $SOCIALGUIDE_CONFIG, else "
                       "./config.toml, else the defaults).", dir_okay=False, envvar=CONFIG_ENV),
    ] = None,
) -> None:
    """Validate a config: every problem named by file and key, and the secrets it needs; exit 2."""
    with cli_errors():
        settings = settings_from(file)
        from monitor.config_check import missing_secrets

        problems, warnings = missing_secrets(settings)
        where = settings.source or "bundled defaults"
        pipeline = None
        try:
            from monitor.pipeline.factory import build_pipeline

            # Building the pipeline also validates the rule packs and model the config names.
            pipeline = build_pipeline(settings)
        except SocialGuideError as exc:
            problems.extend(str(p) for p in getattr(exc, "problems", None) or [exc])
        for line in warnings:
            err_console.print(f"warning: {where}: {line}", markup=False)
        if problems:
            raise ConfigProblems([ConfigError(p, path=where if p.startswith("key '") else None)
                             for p in problems])
    assert pipeline is not None
    for detector in pipeline.detectors:
        if hasattr(detector, "describe"):
            err_console.print(detector.describe())
    enabled = [n for n, p in settings.platforms if getattr(p, "enabled", False)]
    err_console.print(
        f"config OK: {where}; store {settings.store.url.split('://')[0]}; "
        f"platforms enabled: {', '.join(enabled) or 'none'}; "
        f"Slack {'enabled' if settings.slack.enabled else 'off (console notifier)'}"
    )


def register(app: typer.Typer) -> None:
    """Add ``config`` to the main app."""
    app.add_typer(config_app, name="config")
