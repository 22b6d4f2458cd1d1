"""A full disk: under an export's output file, and under the database during a cycle."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from monitor.cli import app
from monitor.store.schema import FlagRow
from tests.faults.harness import FaultWorld, assert_invariants, stored_posts
from tests.faults.procs import Zygote

pytestmark = pytest.mark.slow


def _flags(world: FaultWorld) -> int:
    with world.store.session() as s:
        return s.scalar(select(func.count(FlagRow.id))) or 0


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_an_export_onto_a_full_device_fails_visibly_and_changes_nothing(
        world: FaultWorld, tmp_path: Path) -> None:
    world.populate(accounts=2, posts=2)
    world.cycle()
    cfg = world.config_file()
    before = _flags(world)
    out = tmp_path / "report.csv"
    out.symlink_to("/dev/full")  # every write there fails with ENOSPC
    res = CliRunner().invoke(app, ["report", "-o", str(out), "--config", str(cfg)])
    assert res.exit_code != 0
    # One error line (beside the line naming the store) that names the file and the cause.
    lines = [ln for ln in res.output.splitlines()
             if ln.strip() and not ln.startswith("store: ")]
    assert len(lines) == 1, res.output
    assert lines[0].startswith("error: ") and str(out) in lines[0], res.output
    assert "No space left on device" in lines[0], res.output
    assert "Traceback" not in res.output
    assert _flags(world) == before
    verify = CliRunner().invoke(app, ["log", "verify", "--config", str(cfg)])
    assert verify.exit_code == 0, verify.output


def test_a_full_disk_under_the_database_fails_the_run_cleanly_and_loses_nothing(
        world: FaultWorld, zygote: Zygote, tmp_path: Path) -> None:
    world.populate(accounts=3, posts=2)
    cfg = world.config_file()
    args = ["run", "--once", "--config", str(cfg)]
    with world.store.engine.connect() as c:
        c.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    world.store.dispose()
    # The database may not grow past 32 KiB: the first pages the run writes fill the disk.
    log = tmp_path / "full.log"
    status = zygote.run(args, log, fsize=32 * 1024)
    out = log.read_text()
    assert status == 1, out
    assert "Traceback" not in out
    errors = [ln for ln in out.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, out
    assert "disk I/O error" in errors[0] or "full" in errors[0], out
    assert world.store.url.removeprefix("sqlite:///") in errors[0]
    # Space again: the next run collects everything, once.
    log = tmp_path / "after.log"
    assert zygote.run(args, log) == 0, log.read_text()
    assert sum(stored_posts(world.store).values()) == 18
    world.drain()
    assert_invariants(world)
