"""What the rest of the application knows about one platform, in one object per platform.

Each ``monitor/collectors/<platform>.py`` exports ``PLATFORM``; the registry lists them.
Consent, ownership proof, the CSV import, the CLI and the cycle read a platform's name, handle
rule, settings and profile reader from here, so adding a platform touches one module.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel

from monitor.collectors.base import Collector
from monitor.config import Settings


@dataclass(frozen=True, slots=True)
class HandleRule:
    """What a handle may look like as typed, and the one spelling it is stored and found by."""

    pattern: re.Pattern[str]
    normalise: Callable[[str], str]

    def matches(self, typed: str) -> bool:
        """Whether ``typed`` (already stripped of spaces) is a handle of this platform."""
        return self.pattern.match(typed) is not None


@dataclass(frozen=True, slots=True)
class Platform:
    """One platform: its name, settings, handles, ownership code place, limits and client."""

    name: str
    settings_type: type[BaseModel]
    handle: HandleRule
    # Where the ownership code goes, in the words employees see in the platform's own UI.
    code_goes_in: str
    # Rate limits shared by every account of the app (not per user): fetches are serialised.
    app_wide_limits: bool
    build: Callable[[Settings], Collector]
    read_profile: Callable[[Settings, str], str]
    # Why no collector can be built although the platform is enabled (missing credentials).
    missing: Callable[[Settings], str | None] = lambda settings: None

    def settings_of(self, settings: Settings) -> BaseModel:
        """This platform's section of the configuration (``[platforms.<name>]``)."""
        section: BaseModel = getattr(settings.platforms, self.name)
        return section

    def enabled(self, settings: Settings) -> bool:
        """Whether the organisation collects this platform at all."""
        return bool(getattr(self.settings_of(settings), "enabled", False))


def lstrip_at(handle: str) -> str:
    """The handle without the "@" people type before it."""
    return handle.lstrip("@")
