"""SIGKILL of real ``socialguide run --once`` processes, mid-cycle and at random points."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from monitor.cli import app
from monitor.domain import utcnow
from monitor.store.schema import CursorRow
from tests.faults.harness import (
    FaultWorld,
    assert_consent_kept,
    assert_invariants,
    assert_no_duplicates,
    fake_handle,
    stored_posts,
)
from tests.faults.procs import Zygote, child_env, socialguide_command

pytestmark = pytest.mark.slow

SEED = 13
CYCLES = 20


def _expected(world: FaultWorld) -> dict[str, int]:
    return {p: sum(len(world.fakes[p].posts.get(fake_handle(p, n).lower(), []))
                   for n in world.consented[p]) for p in world.platforms}


def test_sigkilled_run_once_leaves_leases_the_next_run_takes_over_at_once(
        world: FaultWorld, tmp_path: Path) -> None:
    world.populate(accounts=4, posts=2)
    cfg = world.config_file()
    world.pipeline(world.settings())  # warm this process's imports: the next run is quick
    fetching = threading.Event()
    for f in world.fakes.values():
        f.latency = 0.5  # a slow platform: the kill lands while accounts are leased
        f.on_request = lambda _seen: fetching.set()
    log = (tmp_path / "killed.log").open("w")
    proc = subprocess.Popen([*socialguide_command(), "run", "--once", "--config", str(cfg)],
                            cwd=tmp_path, env=child_env(tmp_path), stdout=log, stderr=log)
    try:
        assert fetching.wait(300), "the run never reached its first fetch"
        deadline = time.monotonic() + 30
        held: list[CursorRow] = []
        while time.monotonic() < deadline and not held:
            with world.store.session() as s:
                held = list(s.scalars(select(CursorRow).where(
                    CursorRow.lease_process.like(f"%|{proc.pid}|%"))))
            time.sleep(0.05)
        assert held, "the killed run held no lease"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        log.close()
    assert proc.returncode == -signal.SIGKILL
    lapse = min(c.lease_until for c in held if c.lease_until is not None)
    assert lapse > utcnow()  # the dead run's leases have not expired
    for f in world.fakes.values():
        f.latency = 0.0
        f.on_request = None
    # The next run (another process) collects those accounts now, not when the leases lapse.
    res = CliRunner().invoke(app, ["run", "--once", "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    assert "another worker" not in res.output
    # Taken over while still unexpired: the dead holder was noticed, not waited out.
    assert f"took over {len(held)} account lease(s)" in res.output
    assert dict(stored_posts(world.store)) == _expected(world)
    with world.store.session() as s:
        assert s.scalars(select(CursorRow.lease_owner)
                         .where(CursorRow.lease_owner.is_not(None))).all() == []
    world.drain()
    assert_invariants(world)


def test_sigkill_at_random_points_across_20_cycles_keeps_every_invariant(
        world: FaultWorld, zygote: Zygote, tmp_path: Path) -> None:
    world.populate(accounts=3, posts=2)
    for f in world.fakes.values():
        f.latency = 0.02
    cfg = world.config_file()
    args = ["run", "--once", "--config", str(cfg)]
    t0 = time.monotonic()
    assert zygote.run(args, tmp_path / "first.log") == 0
    span = time.monotonic() - t0  # how long one whole cycle (with delivery) takes here
    rng = random.Random(SEED)
    outcomes: list[str] = []
    for i in range(CYCLES):
        world.add_posts(1)
        # Slack misbehaves now and then too: the outbox must neither lose nor double.
        if rng.random() < 0.3:
            world.slack.fake.fail("chat.postMessage", times=2, status=500)
        log = tmp_path / f"cycle-{i}.log"
        pid = zygote.start(args, log)
        status = zygote.wait(rng.uniform(0.0, span * 1.1))
        if status is None:
            os.kill(pid, signal.SIGKILL)
            status = zygote.wait(120)
        assert status in (0, -signal.SIGKILL), (status, log.read_text())
        outcomes.append("done" if status == 0 else "killed")
        assert_consent_kept(world)
        assert_no_duplicates(world)
        if status == 0:
            # A complete run after any number of killed ones collected everything: no
            # account waited for a dead run's lease.
            text = log.read_text()
            assert "another worker" not in text, text
            assert dict(stored_posts(world.store)) == _expected(world), text
    assert outcomes.count("killed") >= CYCLES // 2, outcomes
    # Once the kills stop, one run collects all, and the outbox settles every nudge once.
    final = tmp_path / "final.log"
    assert zygote.run(args, final) == 0, final.read_text()
    assert "another worker" not in final.read_text()
    world.drain(utcnow())
    assert_invariants(world)
