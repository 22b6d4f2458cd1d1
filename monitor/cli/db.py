"""``socialguide db upgrade``: apply database migrations (needed for PostgreSQL)."""

from __future__ import annotations

import typer

from monitor.cli.common import ConfigOption, cli_errors, err_console, open_store, settings_from

db_app = typer.Typer(help="Manage the database schema.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(config: ConfigOption = None) -> None:
    """Apply all pending migrations to the configured store."""
    with cli_errors():
        settings = settings_from(config)
        store = open_store(settings, auto_upgrade=False, create=True, announce=False)
        before = store.current_revisions()
        store.upgrade()
        after = store.current_revisions()
    state = "already up to date" if before == after else f"upgraded {sorted(before) or 'empty'} -> {sorted(after)}"
    err_console.print(f"{store.redacted_url}: {state}")


def register(app: typer.Typer) -> None:
    """Add ``db`` to the main app."""
    app.add_typer(db_app, name="db")
