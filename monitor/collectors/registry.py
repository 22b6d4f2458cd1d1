"""Which collector serves which platform, from settings (and why a platform is left out)."""

from __future__ import annotations

from monitor.collectors.base import Collector
from monitor.config import Settings, optional_secret

PLATFORMS = ("x", "reddit", "bluesky", "mastodon", "rss")


def unavailable(settings: Settings) -> dict[str, str]:
    """Platform -> why it has no collector: disabled in config or missing credentials."""
    p = settings.platforms
    out: dict[str, str] = {}
    for name in PLATFORMS:
        if not getattr(p, name).enabled:
            out[name] = f"disabled in config ([platforms.{name}] enabled = false)"
    if p.x.enabled and not optional_secret(p.x.bearer_token_env):
        out["x"] = f"no credentials: environment variable {p.x.bearer_token_env} is not set"
    if p.reddit.enabled:
        missing = [e for e in (p.reddit.client_id_env, p.reddit.client_secret_env)
                   if not optional_secret(e)]
        if missing:
            out["reddit"] = ("no credentials: environment variable"
                             f"{'s' if len(missing) > 1 else ''} {', '.join(missing)} not set")
    return out


def build_collectors(settings: Settings) -> dict[str, Collector]:
    """Map platform name -> collector for every enabled, configured platform.

    A replay file, when enabled, serves the platforms that appear in it and takes precedence
    over the live collector (the demo uses this to stand in for every platform offline).
    """
    p = settings.platforms
    skip = unavailable(settings)
    collectors: dict[str, Collector] = {}
    if "x" not in skip:
        from monitor.collectors.x import XCollector

        collectors["x"] = XCollector(p.x, optional_secret(p.x.bearer_token_env) or "")
    if "reddit" not in skip:
        from monitor.collectors.reddit import RedditCollector

        collectors["reddit"] = RedditCollector(
            p.reddit,
            optional_secret(p.reddit.client_id_env) or "",
            optional_secret(p.reddit.client_secret_env) or "",
        )
    if "bluesky" not in skip:
        from monitor.collectors.bluesky import BlueskyCollector

        collectors["bluesky"] = BlueskyCollector(p.bluesky)
    if "mastodon" not in skip:
        from monitor.collectors.mastodon import MastodonCollector

        collectors["mastodon"] = MastodonCollector(p.mastodon)
    if "rss" not in skip:
        from monitor.collectors.rss import RssCollector

        collectors["rss"] = RssCollector(p.rss)
    replay = p.replay
    if replay.enabled and replay.path:
        from monitor.collectors.replay import ReplayCollector

        rc = ReplayCollector(replay.path)
        for platform in sorted(rc.platforms()):
            collectors[platform] = rc
    return collectors
