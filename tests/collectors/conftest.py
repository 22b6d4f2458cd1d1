"""A store with consented accounts and settings pointing every platform at its fake server."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from monitor.collectors.registry import build_collectors
from monitor.config import Settings, settings_from_dict
from monitor.jobs.cycle import run_cycle
from monitor.jobs.report import CycleReport
from monitor.pipeline.factory import build_pipeline
from monitor.store import Store, repo
from monitor.store.schema import PersonRow
from tests.fakes import reddit_api, x_api
from tests.fakes.platform_base import FakePlatform


@dataclass
class World:
    """Fakes, store and settings for collection tests."""

    store: Store
    fakes: dict[str, FakePlatform]
    tmp: Path
    _collectors: dict[str, Any] | None = None
    _default: Any = None

    def settings(self, **platform_overrides: dict[str, Any]) -> Settings:
        f = self.fakes
        platforms: dict[str, Any] = {
            "x": {"enabled": True, "base_url": f["x"].base_url, "timeout_seconds": 0.5,
                  "max_posts_per_account": 20},
            "reddit": {"enabled": True, "base_url": f["reddit"].base_url,
                       "auth_url": f["reddit"].base_url, "timeout_seconds": 1},
            "bluesky": {"base_url": f["bluesky"].base_url, "timeout_seconds": 0.5,
                        "max_posts_per_account": 20},
            "mastodon": {"base_url": f["mastodon"].base_url, "timeout_seconds": 0.5,
                         "max_posts_per_account": 20},
            "rss": {"base_url": f["rss"].base_url, "timeout_seconds": 0.5},
        }
        for name, extra in platform_overrides.items():
            platforms[name].update(extra)
        return settings_from_dict({
            "store": {"url": self.store.url},
            "platforms": platforms,
            # The rules are enough here; the classifier has its own tests.
            "model": {"enabled": False},
            "scheduler": {"collect_workers": 4, "worker_id": "test-worker"},
        }, source="test")

    def person(self, email: str = "ana@example.com") -> PersonRow:
        with self.store.session() as s:
            p = repo.person_by_email(s, email)
            if p is None:
                p = PersonRow(email=email, name=email.split("@")[0], team="Sales")
                s.add(p)
                s.flush()
            return p

    def consent(self, platform: str, handle: str, email: str = "ana@example.com") -> int:
        """Opt an account in (as an HR-form import would) and make it exist on the fake."""
        owner = self.person(email)
        with self.store.session() as s:
            owner = s.get(PersonRow, owner.id)
            assert owner is not None
            acc, _ = repo.add_account_with_consent(s, owner, platform, handle, "2026.1",
                                                   "0" * 64, "HR-1", "test")
            return acc.id

    def cycle(self, settings: Settings | None = None, **kw: Any) -> CycleReport:
        """One cycle; with default settings the collectors live on, as in the daemon."""
        if settings is None:
            if self._collectors is None:
                self._default = self.settings()
                self._collectors = build_collectors(self._default)
            settings, collectors = self._default, self._collectors
        else:
            collectors = build_collectors(settings)
        return run_cycle(self.store, settings, build_pipeline(settings), collectors, **kw)


@pytest.fixture
def world(tmp_path: Path, fresh_store: Store, monkeypatch: pytest.MonkeyPatch,
          fake_platforms: dict[str, FakePlatform]) -> World:
    # praw reads praw.ini from HOME: keep the developer's own out of the tests.
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("X_BEARER_TOKEN", x_api.TOKEN)
    monkeypatch.setenv("REDDIT_CLIENT_ID", reddit_api.CLIENT_ID)
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", reddit_api.CLIENT_SECRET)
    # The servers run all session; each test starts from empty ones.
    for f in fake_platforms.values():
        f.reset()
    return World(fresh_store, dict(fake_platforms), tmp_path)
