"""Shared fixtures: a fresh store per test, settings, fake platforms, and a network guard."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.config import Settings, settings_from_dict
from monitor.store import Store
from tests.fakes.bluesky_api import FakeBluesky
from tests.fakes.mastodon_api import FakeMastodon
from tests.fakes.platform_base import FakePlatform
from tests.fakes.reddit_api import FakeReddit
from tests.fakes.rss_feed import FakeFeeds
from tests.fakes.x_api import FakeX
from tests.pg import pg_database, pg_url  # noqa: F401 (one PostgreSQL server per session)

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: object) -> object:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and self.family in (socket.AF_INET, socket.AF_INET6):
        if not (host.startswith("127.") or host in ("::1", "localhost")):
            raise RuntimeError(f"test tried to reach the network: {address!r}")
    return _real_connect(self, address)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests talk only to servers on 127.0.0.1."""
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


@pytest.fixture
def tmp_db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'socialguide.db'}"


@pytest.fixture
def fresh_store(tmp_db_url: str) -> Iterator[Store]:
    """A migrated, empty SQLite store in a temporary folder."""
    store = Store(tmp_db_url)
    yield store
    store.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_db_url: str) -> str:
    """URL of a new, empty (unmigrated) database: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        return tmp_db_url
    # The session's PostgreSQL server (tests/pg.py): skipped or failed exactly as it decides.
    return str(request.getfixturevalue("pg_database"))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A migrated, empty store on each backend in turn."""
    store = Store(store_url, auto_upgrade=True)
    yield store
    store.dispose()


@pytest.fixture
def store_settings(store_url: str) -> Settings:
    """Default settings whose [store] url is the ``store`` fixture's database."""
    return settings_from_dict({"store": {"url": store_url}}, source="test")


@pytest.fixture
def store_config(tmp_path: Path, store_url: str) -> Path:
    """A config file naming the ``store`` fixture's database, for CLI commands."""
    path = tmp_path / "config.toml"
    path.write_text(f'[store]\nurl = "{store_url}"\n', encoding="utf-8")
    return path


@pytest.fixture
def settings(tmp_db_url: str) -> Settings:
    """Default settings pointing at the temporary store."""
    return settings_from_dict({"store": {"url": tmp_db_url}}, source="test")


@pytest.fixture(scope="session")
def fake_platforms() -> Iterator[dict[str, FakePlatform]]:
    """One fake server per platform for the whole session; reset them before each use."""
    fakes: dict[str, FakePlatform] = {
        "x": FakeX(), "reddit": FakeReddit(), "bluesky": FakeBluesky(),
        "mastodon": FakeMastodon(), "rss": FakeFeeds(),
    }
    for f in fakes.values():
        f.start()
    try:
        yield fakes
    finally:
        for f in fakes.values():
            f.stop()
