"""Every platform the application knows, and which collector serves which, from settings.

Adding a platform is one module under ``monitor/collectors/`` exporting ``PLATFORM`` and one
line in ``PLATFORMS`` below; everything else reads the platform from here. The modules are
imported on first use: each pulls in its client library (atproto alone takes most of a
second), which a command that never touches a platform should not pay for.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module

from monitor.collectors.base import Collector
from monitor.collectors.platform import Platform
from monitor.config import Settings
from monitor.errors import CollectorError

# One entry per platform: its name, which is also its module under monitor/collectors/.
PLATFORMS: tuple[str, ...] = (
    "x",
    "reddit",
    "bluesky",
    "mastodon",
    "rss",
)


@cache
def descriptors() -> tuple[Platform, ...]:
    """Every platform's descriptor, in the order of ``PLATFORMS``."""
    found = tuple(import_module(f"monitor.collectors.{name}").PLATFORM for name in PLATFORMS)
    for name, p in zip(PLATFORMS, found, strict=True):
        if p.name != name:
            raise RuntimeError(f"monitor/collectors/{name}.py describes platform {p.name!r}")
    return found


def platform(name: str) -> Platform | None:
    """The descriptor of a platform by its name (None for a platform we do not know)."""
    if name not in PLATFORMS:
        return None
    return descriptors()[PLATFORMS.index(name)]


@cache
def app_wide_limited() -> tuple[str, ...]:
    """Platforms whose rate limits are shared by the whole app (their fetches are serialised)."""
    return tuple(p.name for p in descriptors() if p.app_wide_limits)


def unavailable(settings: Settings) -> dict[str, str]:
    """Platform -> why it has no collector: disabled in config or missing credentials."""
    out: dict[str, str] = {}
    for p in descriptors():
        if not p.enabled(settings):
            out[p.name] = f"disabled in config ([platforms.{p.name}] enabled = false)"
        elif (why := p.missing(settings)) is not None:
            out[p.name] = why
    return out


def build_collectors(settings: Settings) -> dict[str, Collector]:
    """Map platform name -> collector for every enabled, configured platform.

    A replay file, when enabled, serves the platforms that appear in it and takes precedence
    over the live collector (the demo uses this to stand in for every platform offline).
    """
    skip = unavailable(settings)
    collectors: dict[str, Collector] = {
        p.name: p.build(settings) for p in descriptors() if p.name not in skip
    }
    replay = settings.platforms.replay
    if replay.enabled and replay.path:
        from monitor.collectors.replay import ReplayCollector

        rc = ReplayCollector(replay.path)
        for name in sorted(rc.platforms()):
            collectors[name] = rc
    return collectors


def profile_text(settings: Settings, platform_name: str, handle: str) -> str:
    """The public profile text of ``handle`` on a platform; CollectorError if unreadable."""
    p = platform(platform_name)
    if p is None:
        raise CollectorError(f"no profile reader for platform {platform_name!r}",
                             platform=platform_name)
    return p.read_profile(settings, handle)
