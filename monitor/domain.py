"""Plain typed objects passed between collectors, pipeline, planner and store.

They carry no database state: the store maps them to rows, so every stage can be tested
with nothing but these objects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class Category(StrEnum):
    """The eight policy categories; their ids are a contract other tools rely on."""

    OFFENSIVE = "offensive"
    HATE = "hate"
    PII = "pii"
    CREDENTIALS = "credentials"
    CONFIDENTIAL = "confidential"
    FINANCIAL = "financial"
    DISPARAGEMENT = "disparagement"
    COMPANY_VOICE = "company_voice"


CATEGORIES: tuple[str, ...] = tuple(c.value for c in Category)


_clock: Callable[[], datetime] | None = None


def utcnow() -> datetime:
    """Timezone-aware now, the one clock every part uses (SQLite drops the zone otherwise)."""
    return _clock() if _clock is not None else datetime.now(UTC)


@contextmanager
def clock(read: Callable[[], datetime]) -> Iterator[None]:
    """Inside the block every part (threads included) reads the time from ``read``: the
    demo's simulated clock, which replays weeks of history in seconds."""
    global _clock
    before, _clock = _clock, read
    try:
        yield
    finally:
        _clock = before


class Severity(StrEnum):
    """How urgent a finding is; ordered from least to most."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return SEVERITY_ORDER.index(self.value)


SEVERITY_ORDER: tuple[str, ...] = ("low", "medium", "high", "critical")


def max_severity(values: list[str]) -> str:
    """Return the most severe of ``values`` (``low`` for an empty list)."""
    best = "low"
    for v in values:
        if SEVERITY_ORDER.index(v) > SEVERITY_ORDER.index(best):
            best = v
    return best


class FlagStatus(StrEnum):
    """Review state of a flag in the log."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"
    ESCALATED = "escalated"
    SHADOW = "shadow"  # logged for rule/model evaluation only; never nudged


class NudgeStatus(StrEnum):
    """Outbox state of a nudge."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"  # e.g. the author resolved it inside the grace window
    DEAD = "dead"  # gave up after the configured number of attempts


@dataclass(slots=True)
class Post:
    """One public post as read by a collector (or a line of ``scan`` input)."""

    id: str
    text: str
    platform: str = "unknown"
    author: str | None = None
    created_at: datetime | None = None
    url: str | None = None
    account_id: int | None = None
    edited_at: datetime | None = None
    deleted: bool = False
    raw: dict[str, Any] | None = None


@dataclass(slots=True)
class Finding:
    """One detector's reason to think a post conflicts with the policy, with its evidence."""

    category: str
    source: str  # "rule:<rule id>" or "model:<model name>"
    severity: str
    score: float
    spans: list[tuple[int, int]]
    guidance: str = ""
    policy_section: str | None = None
    shadow: bool = False  # experimental rule or low-confidence model: logged, never nudged
    explanation: list[str] = field(default_factory=list)
    version: str | None = None  # rule file revision or model version
    # Credentials only: the secret as it may be shown (``AKIA…B3TD``) and a keyed hash of it,
    # so a finding can be shown, deduplicated and "already told" without the secret in clear.
    masked: str | None = None
    fingerprint: str | None = None

    def to_contract(self) -> dict[str, Any]:
        """The finding as the ``scan`` output contract in DESIGN.md spells it."""
        return {
            "category": self.category,
            "source": self.source,
            "severity": self.severity,
            "score": round(float(self.score), 4),
            "spans": [[int(a), int(b)] for a, b in self.spans],
            "guidance": self.guidance,
        }

    def identity(self) -> tuple[str, str, tuple[tuple[int, int], ...]]:
        """What makes two findings the same (dedupe and "already notified")."""
        return (self.category, self.source, tuple((int(a), int(b)) for a, b in self.spans))


@dataclass(slots=True)
class Flag:
    """The pipeline's verdict on one post: the findings that survived the decision step."""

    post: Post
    findings: list[Finding]
    shadow_findings: list[Finding] = field(default_factory=list)
    status: str = FlagStatus.OPEN.value
    id: int | None = None
    # Set when the post could not be analysed (it names why, never the text); no findings then.
    error: str | None = None

    @property
    def flagged(self) -> bool:
        """True when at least one finding is actionable (not shadow)."""
        return bool(self.findings)

    @property
    def categories(self) -> list[str]:
        seen: list[str] = []
        for f in self.findings:
            if f.category not in seen:
                seen.append(f.category)
        return seen

    @property
    def severity(self) -> str:
        return max_severity([f.severity for f in self.findings or self.shadow_findings])


@dataclass(slots=True)
class Cursor:
    """Where the last cycle stopped for one account (mirrors the ``cursors`` table)."""

    since_id: str | None = None
    newest_id: str | None = None
    last_uri: str | None = None
    etag: str | None = None
    last_modified: str | None = None


@dataclass(slots=True)
class AccountRef:
    """What a collector needs to know about an account: never who owns it."""

    id: int
    platform: str
    handle: str
    platform_user_id: str | None = None
    cursor: Cursor = field(default_factory=Cursor)
