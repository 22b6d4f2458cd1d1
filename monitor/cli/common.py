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
from monitor.errors import SocialGuideError, StoreError
from monitor.store import Session, Store
from monitor.store.db import database_error, sqlite_file

# Human-facing output goes to stderr so stdout stays clean for data (scan, exports).
err_console = Console(stderr=True, highlight=False, soft_wrap=True)
out_console = Console(highlight=False, soft_wrap=True)

CONFIG_ENV = "SOCIALGUIDE_CONFIG"

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        envvar=CONFIG_ENV,
        help="Config file (default: $SOCIALGUIDE_CONFIG, else ./config.toml if present, "
        "else the bundled defaults).",
        dir_okay=False,
    ),
]


@contextmanager
def cli_errors() -> Iterator[None]:
    """Turn socialguide's own errors into one clear line on stderr and their exit code."""
    try:
        yield
    except SocialGuideError as exc:
        # Validation that found several problems reports each on its own line.
        for problem in getattr(exc, "problems", None) or [exc]:
            err_console.print(f"[bold red]error:[/] {escape(str(problem))}", markup=True,
                              highlight=False)
        raise typer.Exit(code=exc.exit_code) from None
    except OSError as exc:
        # A path someone named that turned out missing, a folder, or not permitted.
        where = f"{exc.filename}: " if exc.filename else ""
        err_console.print(f"[bold red]error:[/] {escape(where + (exc.strerror or str(exc)))}",
                          markup=True, highlight=False)
        raise typer.Exit(code=1) from None


def settings_from(config: Path | None) -> Settings:
    """Load settings for a command; errors become exit code 2 through :func:`cli_errors`."""
    settings = load_settings(config)
    _configure_logging(settings)
    return settings


def open_store(
    settings: Settings, *, auto_upgrade: bool | None = None, create: bool = False,
    announce: bool = True,
) -> Store:
    """Open the configured store and name it on stderr; refuse to invent an empty one.

    Only ``demo`` and ``db upgrade`` may create a database (``create=True``): anywhere else a
    missing SQLite file or an unmigrated database means the command is pointed at the wrong
    place, and answering from a new empty database would be a silent wrong answer.
    """
    url = settings.store.url
    where = f"[store] url in {settings.source}" if settings.source else (
        f"the bundled default [store] url (no --config, no ${CONFIG_ENV}, no ./config.toml)")
    if settings.source:
        hint = (f"fix [store] url, or create the database with "
                f"`socialguide db upgrade --config {settings.source}`")
    else:
        hint = (f"point the command at your config with --config FILE or ${CONFIG_ENV} "
                "(or create a new database with `socialguide db upgrade --config FILE`)")
    db_file = sqlite_file(url)
    if not create and db_file is not None and not db_file.exists():
        raise StoreError(f"no database at {db_file} ({where}); {hint}")
    store = Store(url, auto_upgrade=False, echo=settings.store.echo)
    if announce:
        err_console.print(f"store: {_shown(store, db_file)}", markup=False, highlight=False)
    if not create:
        try:
            revisions = store.current_revisions()
        except Exception as exc:
            store.dispose()
            reason = database_error(exc)
            if reason is None:
                raise
            raise StoreError(f"cannot open store {store.redacted_url}: {reason}") from None
        if not revisions:
            store.dispose()
            raise StoreError(f"{_shown(store, db_file)} has no socialguide tables ({where}); "
                             f"{hint}")
    if auto_upgrade is None:
        auto_upgrade = store.dialect == "sqlite"
    if auto_upgrade:
        store.upgrade()
    return store


@contextmanager
def opened_store(config: Path | None) -> Iterator[tuple[Settings, Store]]:
    """The command's settings and its store, disposed of when the command ends, however."""
    settings = settings_from(config)
    store = open_store(settings)
    try:
        yield settings, store
    finally:
        store.dispose()


@contextmanager
def store_session(config: Path | None) -> Iterator[tuple[Settings, Session]]:
    """Settings and one unit of work for a command that reads or writes the store once."""
    with opened_store(config) as (settings, store), store.session() as s:
        yield settings, s


def _shown(store: Store, db_file: Path | None) -> str:
    return f"sqlite:///{db_file}" if db_file is not None else store.redacted_url


def _configure_logging(settings: Settings) -> None:
    from monitor.logs import configure_logging

    configure_logging(settings.log.level, json_format=settings.log.json_format)


SkipInvalidOption = Annotated[
    bool,
    typer.Option("--skip-invalid", help="Import the valid rows even if some rows are bad."),
]


def bad_row_count(errors: Sequence[SocialGuideError]) -> int:
    """How many rows the problems are on (a row may have several)."""
    return len({getattr(e, "line", None) or id(e) for e in errors})


def report_bad_rows(errors: Sequence[SocialGuideError], skip_invalid: bool) -> None:
    """Print every problem (by line); stop with exit 1 unless the caller may skip bad rows."""
    for err in sorted(errors, key=lambda e: getattr(e, "line", 0) or 0):
        err_console.print(str(err), markup=False)
    if errors and not skip_invalid:
        err_console.print(f"nothing imported: {len(errors)} problem(s) in "
                          f"{bad_row_count(errors)} bad row(s); fix them or pass "
                          "--skip-invalid", markup=False)
        raise typer.Exit(code=1)


def stderr_is_tty() -> bool:
    """Whether a person watches stderr (progress bars only then)."""
    return sys.stderr.isatty()
