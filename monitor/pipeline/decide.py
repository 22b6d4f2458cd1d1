"""The decision step: which findings are actionable, which go to the shadow log."""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor.domain import Finding, Flag, FlagStatus, Post

# A finding below this score is kept for evaluation but never nudged (config may raise it).
DEFAULT_MIN_SCORE = 0.5


@dataclass
class Decider:
    """Applies per-category minimum scores and shadow mode, and removes duplicate findings.

    A finding below its category's minimum score, or one a detector marked as shadow
    (an experimental rule, a low-confidence model guess), is kept for evaluation but can
    never cause a nudge.
    """

    min_score: dict[str, float] = field(default_factory=dict)
    default_min_score: float = DEFAULT_MIN_SCORE

    def decide(self, post: Post, findings: list[Finding]) -> Flag:
        actionable: list[Finding] = []
        shadow: list[Finding] = []
        seen: set[tuple[str, str, tuple[tuple[int, int], ...]]] = set()
        for f in sorted(findings, key=lambda f: (min((s[0] for s in f.spans), default=0), f.source)):
            key = f.identity()
            if key in seen:
                continue
            seen.add(key)
            threshold = self.min_score.get(f.category, self.default_min_score)
            if f.shadow or f.score < threshold:
                shadow.append(f)
            else:
                actionable.append(f)
        status = FlagStatus.OPEN.value if actionable else FlagStatus.SHADOW.value
        return Flag(post=post, findings=actionable, shadow_findings=shadow, status=status)
