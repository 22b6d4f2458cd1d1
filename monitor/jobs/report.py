"""What a collection cycle did, and how the parts of a cycle add into it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields

from monitor import metrics


@dataclass
class CycleReport:
    """What a cycle did: collected, analysed, flagged, skipped (and why)."""

    accounts: int = 0
    posts_read: int = 0
    posts_new: int = 0
    posts_edited: int = 0
    posts_deleted: int = 0
    requests: int = 0
    flags: Counter[str] = field(default_factory=Counter)
    shadow_flags: int = 0
    nudges_planned: int = 0
    skipped: dict[str, str] = field(default_factory=dict)  # "platform/handle" -> reason
    by_platform: Counter[str] = field(default_factory=Counter)
    # Accounts that failed (a subset of ``skipped``), per platform.
    errors: Counter[str] = field(default_factory=Counter)
    # Platforms with consented accounts but no collector: platform -> why.
    platforms_skipped: dict[str, str] = field(default_factory=dict)
    # Units billed by pay-per-read platforms (X), per platform.
    billed_reads: Counter[str] = field(default_factory=Counter)
    requests_by_platform: Counter[str] = field(default_factory=Counter)
    accounts_by_platform: Counter[str] = field(default_factory=Counter)
    # Posts stored but not analysed ("platform/post id" -> "account handle: why").
    posts_unanalysed: dict[str, str] = field(default_factory=dict)
    # Flags per (platform, category), for the metrics.
    flag_counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    # Accounts whose lease was taken over from a worker process that is gone.
    leases_taken_over: int = 0
    seconds: float = 0.0


def merge(into: CycleReport, part: CycleReport) -> None:
    """Add a committed part into the cycle's report, and count its flags and nudges."""
    for f in fields(CycleReport):
        mine, theirs = getattr(into, f.name), getattr(part, f.name)
        if isinstance(mine, Counter):
            mine.update(theirs)
        elif isinstance(mine, dict):
            mine.update(theirs)
        elif f.name != "seconds":
            setattr(into, f.name, mine + theirs)
    for (platform, category), n in part.flag_counts.items():
        metrics.FLAGS.labels(platform, category).inc(n)
    if part.nudges_planned:
        metrics.observe_nudges("planned", part.nudges_planned)
