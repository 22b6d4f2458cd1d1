"""The demo's nudge panels wrap long lines on a narrow terminal instead of cutting them off."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from monitor.cli import app
from monitor.store import Store
from monitor.store.schema import NudgeRow


def test_nudge_panels_wrap_every_word_at_80_columns(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    res = CliRunner().invoke(app, ["demo", "--dir", str(folder)], env={"COLUMNS": "80"})
    assert res.exit_code == 0, res.output
    panel_lines = [ln for ln in res.stdout.splitlines() if ln.startswith("│")]
    assert panel_lines, "no nudge panel was printed"
    assert all(len(ln) <= 80 for ln in panel_lines)
    # The panels' inside, joined back into running text.
    inside = " ".join(ln.strip("│ ").strip() for ln in panel_lines)
    flat = re.sub(r"\s+", " ", inside)
    store = Store(f"sqlite:///{folder / 'socialguide.db'}")
    try:
        with store.session() as s:
            bodies = s.scalars(select(NudgeRow.body).where(NudgeRow.status == "sent")).all()
    finally:
        store.dispose()
    assert bodies
    for body in bodies:
        for word in body.split():
            assert word in flat, f"{word!r} was cut off"
