"""What a flag page shows, gathered in one place (post with highlighted spans, nudges, history)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from monitor.masking import mask_spans
from monitor.store import Session
from monitor.store.flag_log import flag_records
from monitor.store.schema import (
    AuditEventRow,
    FeedbackRow,
    FindingRow,
    FlagRow,
    NudgeRow,
    PersonRow,
    PostRow,
)


@dataclass(slots=True)
class FlagDetail:
    """Everything the flag page renders."""

    flag: FlagRow
    post: PostRow | None
    segments: list[tuple[str, bool]]  # (text, highlighted); the template escapes the text
    text_source: str  # "post" | "excerpt" | "erased"
    findings: list[FindingRow]
    nudges: list[NudgeRow]
    history: list[AuditEventRow]
    feedback: list[FeedbackRow]
    author: PersonRow | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def merge_spans(spans: list[list[int]], length: int) -> list[tuple[int, int]]:
    """Clamp spans to the text and merge overlaps, in order."""
    clean = sorted(
        (max(0, int(a)), min(length, int(b)))
        for a, b in (s[:2] for s in spans if isinstance(s, list | tuple) and len(s) >= 2)
        if int(a) < int(b)
    )
    merged: list[tuple[int, int]] = []
    for a, b in clean:
        if a >= length:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def segments(text: str, spans: list[list[int]]) -> list[tuple[str, bool]]:
    """Split ``text`` into plain and highlighted pieces."""
    out: list[tuple[str, bool]] = []
    pos = 0
    for a, b in merge_spans(spans, len(text)):
        if a > pos:
            out.append((text[pos:a], False))
        out.append((text[a:b], True))
        pos = b
    if pos < len(text):
        out.append((text[pos:], False))
    return out


def flag_detail(session: Session, flag: FlagRow, *, with_shadow: bool) -> FlagDetail:
    """Load the post, findings, nudges, review history and feedback of a visible flag.

    Shadow findings (experimental rules, low-confidence model scores) are there for compliance
    to judge the detectors; ``with_shadow`` is False for everyone else, who sees only what
    could have reached them as guidance.
    """
    rec = flag_records(session, flag)
    post = rec.post
    findings = [f for f in flag.findings if with_shadow or not f.shadow]
    spans = [list(s) for f in findings for s in (f.spans or [])]
    # Credentials are shown masked even when the store keeps them in clear (mask_credentials off).
    secret = [(int(a), int(b)) for f in findings if f.category == "credentials"
              for a, b in (f.spans or [])]
    if post is not None and post.text:
        segs, source = segments(mask_spans(post.text, secret), spans), "post"
    elif flag.excerpt:
        segs, source = [(flag.excerpt, False)], "excerpt"
    else:
        segs, source = [], "erased"
    return FlagDetail(flag, post, segs, source, findings, rec.nudges, rec.history, rec.feedback,
                      rec.author)
