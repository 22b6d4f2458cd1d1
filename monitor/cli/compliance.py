"""CLI commands for compliance (``web``, ``users add``, ``log verify``, ``report``)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this area's commands to the main app."""
