"""The one spelling of a platform name and handle, whichever way they were typed.

Slack, the CSV import, the CLI, the demo and every lookup go through here, so "@Alice" typed
in one place and "alice" in another are the same account.
"""

from __future__ import annotations

from monitor.collectors.registry import PLATFORMS, platform
from monitor.config import Settings
from monitor.errors import InputError

_ALIASES = {"twitter": "x"}


def platform_name(typed: str) -> str:
    """The platform's registry name (lower-cased, "twitter" is "x"); InputError if unknown."""
    name = typed.strip().lower()
    name = _ALIASES.get(name, name)
    if platform(name) is None:
        raise InputError(f"unknown platform '{name}' (use one of {', '.join(PLATFORMS)})")
    return name


def is_handle(platform_: str, typed: str) -> bool:
    """Whether ``typed`` looks like a handle of a known platform."""
    p = platform(platform_)
    return p is not None and p.handle.matches(typed.strip())


def normalise_handle(platform_: str, typed: str) -> str:
    """The stored spelling of a handle (InputError when it is not one of the platform)."""
    p = platform(platform_)
    h = typed.strip()
    if p is None:
        raise InputError(f"unknown platform '{platform_}' (use one of {', '.join(PLATFORMS)})")
    if not p.handle.matches(h):
        if platform_ == "rss":
            raise InputError("an RSS/Atom feed must be an http(s) URL or a path under the "
                             "configured base URL")
        raise InputError(f"'{typed}' does not look like a {platform_} handle")
    return p.handle.normalise(h)


def connectable(settings: Settings, platform_: str, handle: str) -> tuple[str, str]:
    """Platform and handle as stored, for a platform this organisation collects."""
    name = platform_name(platform_)
    p = platform(name)
    if p is None or not p.enabled(settings):
        raise InputError(f"{name} is not collected by your organisation at the moment")
    return name, normalise_handle(name, handle)


def lookup_spelling(platform_: str, typed: str) -> str:
    """The spelling to find a typed handle by (as typed when it is no handle of the platform)."""
    try:
        return normalise_handle(platform_, typed)
    except InputError:
        return typed
