"""Every CLI command has help text and appears in the README."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from monitor.cli import app

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _commands() -> list[tuple[str, Any]]:
    root = typer.main.get_command(app)
    out: list[tuple[str, Any]] = []

    def walk(cmd: Any, path: list[str]) -> None:
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, path + [name])
        else:
            out.append((" ".join(path), cmd))

    walk(root, [])
    return out


def test_design_verbs_exist() -> None:
    names = {name for name, _ in _commands()}
    for verb in ["demo", "scan", "people import", "config check", "db upgrade"]:
        assert verb in names


def test_every_command_has_help_and_is_in_the_readme() -> None:
    runner = CliRunner()
    commands = _commands()
    assert len(commands) >= 5
    for name, cmd in commands:
        assert (cmd.help or "").strip(), f"'{name}' has no help text"
        res = runner.invoke(app, name.split() + ["--help"])
        assert res.exit_code == 0, f"{name} --help failed: {res.output}"
        assert f"socialguide {name}" in README, f"README does not mention 'socialguide {name}'"
