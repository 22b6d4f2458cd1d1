"""Platforms answering 429, 5xx, too slowly or with malformed payloads, in bursts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.domain import utcnow
from monitor.store import Store
from tests.faults.conftest import make_world
from tests.faults.harness import (
    INTERVAL,
    FaultWorld,
    assert_consent_kept,
    assert_invariants,
    assert_no_duplicates,
    fake_handle,
)

ALL = ("bluesky", "mastodon", "rss", "x", "reddit")


@pytest.fixture
def all_platforms(fresh_store: Store, tmp_path: Path,
                  fault_env: None) -> Iterator[FaultWorld]:
    yield from make_world(fresh_store, tmp_path, ALL)


def test_bursts_of_platform_faults_lose_nothing_and_resume_within_one_interval(
        all_platforms: FaultWorld) -> None:
    world = all_platforms
    world.populate(accounts=3, posts=2)
    now = utcnow()
    modes = ("429", "500", "timeout", "malformed")
    for burst, mode in enumerate(modes):
        # Each burst hits one account per platform (a different one each time) for
        # several requests, while the others keep being collected.
        for p in ALL:
            victim = world.consented[p][burst % 3]
            world.fakes[p].fail(mode, account=fake_handle(p, victim), times=3)
        world.add_posts(1)
        report = world.cycle(now)
        assert sum(report.errors.values()) >= len(ALL), (mode, report.skipped)
        assert_consent_kept(world)
        assert_no_duplicates(world)
        now += INTERVAL
    for p in ALL:
        world.fakes[p]._failures.clear()
    # The faults have passed: within one interval every account is collected again.
    report = world.cycle(now)
    assert sum(report.errors.values()) == 0, report.skipped
    assert not [r for r in report.skipped.values() if "backing off" in r], report.skipped
    world.drain(now)
    assert_invariants(world)


def test_a_platform_wide_429_pauses_only_that_platform(all_platforms: FaultWorld) -> None:
    world = all_platforms
    world.populate(accounts=3, posts=1)
    world.fakes["x"].fail("429", times=50)
    now = utcnow()
    report = world.cycle(now)
    assert report.by_platform["x"] == 0
    assert all(report.by_platform[p] == 3 for p in ALL if p != "x")
    world.fakes["x"]._failures.clear()
    # X's reset time (its header) may lie past one interval; the next cycle after it collects.
    report = world.cycle(now + timedelta(hours=1))
    assert report.errors["x"] == 0 and report.by_platform["x"] == 3
    world.drain(now + timedelta(hours=1))
    assert_invariants(world)
