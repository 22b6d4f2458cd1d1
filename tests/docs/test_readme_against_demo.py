"""The README's dashboard, audit-log and report commands work against the demo as written.

The block under "Compliance dashboard, audit log and reports" is what a new user types right
after ``make demo``; this test runs each of its lines, in order, in a folder holding the demo,
with only the README's own environment (``SOCIALGUIDE_CONFIG`` from the block itself). A line
that fails names itself. ``socialguide web`` is left out: it serves until stopped, and the
dashboard tests run it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from monitor.demo import run_demo

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Compliance dashboard, audit log and reports"
LONG_RUNNING = ("socialguide web",)
PASSWORD = "a demo password, long enough"


def readme_block(section: str) -> list[str]:
    """The command lines of the first ``sh`` block after ``section``, comments removed."""
    text = README.read_text(encoding="utf-8")
    after = text[text.index(section):]
    block = re.search(r"```sh\n(.*?)```", after, re.S)
    assert block, f"no sh block under {section!r}"
    lines = []
    for line in block.group(1).splitlines():
        command = re.sub(r"\s+#\s.*$", "", line).strip()
        if command and not command.startswith("#"):
            lines.append(command)
    return lines


def test_the_dashboard_block_runs_against_the_demo(tmp_path: Path) -> None:
    run_demo(tmp_path / "socialguide-demo", Console(file=open(os.devnull, "w")))  # noqa: SIM115
    lines = readme_block(SECTION)
    assert any(line.startswith("export SOCIALGUIDE_CONFIG=") for line in lines)
    assert sum("socialguide " in line for line in lines) >= 10
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("SOCIALGUIDE_CONFIG", None)
    exports: list[str] = []
    ran = 0
    for line in lines:
        if line.startswith("export "):
            exports.append(line)
            continue
        if any(line.startswith(skip) for skip in LONG_RUNNING):
            continue
        # The README writes a password the reader chooses as '…'.
        script = "\n".join(["set -euo pipefail", *exports, line.replace("'…'", f"'{PASSWORD}'")])
        # A command that prompts for a password reads it, twice, from standard input.
        proc = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, text=True,
                              input=f"{PASSWORD}\n{PASSWORD}\n", capture_output=True,
                              timeout=120)
        assert proc.returncode == 0, f"README line failed against the demo: {line}\n" \
                                     f"{proc.stdout[-800:]}{proc.stderr[-800:]}"
        assert "Traceback" not in proc.stderr, line
        ran += 1
    assert ran >= 10
    report = tmp_path / "report.html"
    assert report.is_file() and "<svg" in report.read_text(encoding="utf-8")
    assert (tmp_path / "chain-head.txt").read_text().strip()
