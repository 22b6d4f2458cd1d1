"""What every CLI command shares: loading config, opening the store, turning errors into one line."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from monitor.config import Settings, load_settings
from monitor.errors import SocialGuideError
from monitor.store import Store

# Human-facing output goes to stderr so stdout stays clean for data (scan, exports).
err_console = Console(stderr=True, highlight=False, soft_wrap=True)
out_console = Console(highlight=False, soft_wrap=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Config file (default: bundled defaults plus ./config.toml if present).",
        dir_okay=False,
    ),
]


@contextmanager
def cli_errors() -> Iterator[None]:
    """Turn socialguide's own errors into one clear line on stderr and their exit code."""
    try:
        yield
    except SocialGuideError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True, highlight=False)
        raise typer.Exit(code=exc.exit_code) from None


def settings_from(config: Path | None) -> Settings:
    """Load settings for a command; errors become exit code 2 through :func:`cli_errors`."""
    settings = load_settings(config)
    _configure_logging(settings)
    return settings


def open_store(settings: Settings, *, auto_upgrade: bool | None = None) -> Store:
    return Store(settings.store.url, auto_upgrade=auto_upgrade, echo=settings.store.echo)


def _configure_logging(settings: Settings) -> None:
    from monitor.logs import configure_logging

    configure_logging(settings.log.level, json_format=settings.log.json_format)


SkipInvalidOption = Annotated[
    bool,
    typer.Option("--skip-invalid", help="Import the valid rows even if some rows are bad."),
]


def report_bad_rows(errors: Sequence[SocialGuideError], skip_invalid: bool) -> None:
    """Print every bad row (by line); stop with exit 1 unless the caller may skip them."""
    for err in sorted(errors, key=lambda e: getattr(e, "line", 0) or 0):
        err_console.print(str(err), markup=False)
    if errors and not skip_invalid:
        err_console.print(f"nothing imported: {len(errors)} bad row(s); fix them or pass "
                          "--skip-invalid", markup=False)
        raise typer.Exit(code=1)


def stderr_is_tty() -> bool:
    return sys.stderr.isatty()
