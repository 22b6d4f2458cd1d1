"""CLI commands for collectors and the daemon (owned by the collectors work)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this area's commands to the main app."""
