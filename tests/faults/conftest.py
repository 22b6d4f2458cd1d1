"""Fixtures of the fault-injection suite: a populated world on SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.store import Store
from tests.fakes.slack_api import FakeSlackServer
from tests.faults.harness import ENV, FaultWorld
from tests.faults.procs import Zygote
from tests.pg import pg_database, pg_url  # noqa: F401 (fixtures)


@pytest.fixture(scope="session")
def zygote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Zygote]:
    """One warm process that forks real ``socialguide`` commands (started once: it imports
    everything, which takes a while)."""
    z = Zygote(tmp_path_factory.mktemp("zygote"))
    try:
        yield z
    finally:
        z.close()


@pytest.fixture
def fault_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # praw reads praw.ini from HOME: keep the developer's own out of the tests.
    monkeypatch.setenv("HOME", str(tmp_path))
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)


def make_world(store: Store, tmp: Path, platforms: tuple[str, ...],
               latency: float = 0.0) -> Iterator[FaultWorld]:
    with FakeSlackServer() as slack:
        world = FaultWorld(store, tmp, platforms, slack).start(latency)
        try:
            yield world
        finally:
            world.stop()


@pytest.fixture
def world(fresh_store: Store, tmp_path: Path, fault_env: None) -> Iterator[FaultWorld]:
    """Bluesky, Mastodon and RSS fakes, a fake Slack and a SQLite store (not populated)."""
    yield from make_world(fresh_store, tmp_path, ("bluesky", "mastodon", "rss"))


@pytest.fixture
def pg_world(pg_database: str, tmp_path: Path,  # noqa: F811
             fault_env: None) -> Iterator[FaultWorld]:
    """The same world on a PostgreSQL store."""
    store = Store(pg_database, auto_upgrade=True)
    try:
        yield from make_world(store, tmp_path, ("bluesky", "mastodon", "rss"))
    finally:
        store.dispose()
