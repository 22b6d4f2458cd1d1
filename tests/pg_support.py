"""A migrated PostgreSQL store and settings pointing at it, for the ``test_pg_*`` modules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.config import Settings, settings_from_dict
from monitor.store import Store


@pytest.fixture
def pg_store(pg_database: str) -> Iterator[Store]:
    """A migrated, empty store in its own PostgreSQL database."""
    store = Store(pg_database, auto_upgrade=True)
    assert store.dialect == "postgresql"
    yield store
    store.dispose()


@pytest.fixture
def pg_settings(pg_database: str) -> Settings:
    """Default settings whose [store] url is the test's PostgreSQL database."""
    return settings_from_dict({"store": {"url": pg_database}}, source="test")


@pytest.fixture
def pg_config(tmp_path: Path, pg_database: str) -> Path:
    """A config file naming the PostgreSQL database, for CLI commands."""
    path = tmp_path / "config.toml"
    path.write_text(f'[store]\nurl = "{pg_database}"\n', encoding="utf-8")
    return path
