"""Which collector serves which platform, from settings."""

from __future__ import annotations

from monitor.collectors.base import Collector
from monitor.config import Settings


def build_collectors(settings: Settings) -> dict[str, Collector]:
    """Map platform name -> collector for every enabled platform.

    A replay file, when enabled, serves the platforms that appear in it (the demo uses this
    to stand in for every real platform without network).
    """
    collectors: dict[str, Collector] = {}
    replay = settings.platforms.replay
    if replay.enabled and replay.path:
        from monitor.collectors.replay import ReplayCollector

        rc = ReplayCollector(replay.path)
        for platform in sorted(rc.platforms()):
            collectors[platform] = rc
    return collectors
