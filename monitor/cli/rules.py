"""CLI commands for the policy rules (``rules test|lint|explain``)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this area's commands to the main app."""
