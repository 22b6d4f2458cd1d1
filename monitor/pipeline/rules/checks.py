"""Checks a policy owner runs on the rule corpus: each rule's own examples, and lint."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from monitor.domain import Finding
from monitor.pipeline.rules.engine import RuleEngine
from monitor.pipeline.rules.loader import LoadedRule

# A rule "fires" on an example when it reports a finding at or above this score (the
# default decision threshold), whether or not a suppressor later removes it.
FIRE_SCORE = 0.5


@dataclass(slots=True)
class ExampleFailure:
    """One example that did not behave as its rule says it should."""

    rule_id: str
    path: str
    line: int
    kind: str  # "match" or "no_match"
    text: str

    def __str__(self) -> str:
        want = "should match but did not" if self.kind == "match" else "should not match but did"
        return f"{self.path}:{self.line}: rule {self.rule_id}: example {want}: {self.text!r}"


@dataclass(slots=True)
class LintIssue:
    """A problem with one rule; errors fail ``rules lint``, warnings do not."""

    level: str  # "error" or "warning"
    rule_id: str
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.level}: rule {self.rule_id}: {self.message}"


def fired(engine: RuleEngine, text: str) -> dict[str, Finding]:
    """Every rule that fires on ``text`` (including suppressed findings and suppressors)."""
    a = engine.analyse(text, every_rule=True)
    out: dict[str, Finding] = {}
    for f in [*a.findings, *a.suppressed, *a.suppressors]:
        if f.score >= FIRE_SCORE:
            out[f.source.removeprefix("rule:")] = f
    return out


def example_failures(engine: RuleEngine, loaded: Sequence[LoadedRule]) -> list[ExampleFailure]:
    """Run every active rule's examples; return the ones that misbehave."""
    active = set(engine.rule_ids())
    failures: list[ExampleFailure] = []
    for lr in loaded:
        rid = lr.rule.id
        if rid not in active:
            continue
        for kind, texts in (("match", lr.rule.examples.match),
                            ("no_match", lr.rule.examples.no_match)):
            for i, text in enumerate(texts):
                hit = rid in fired(engine, text)
                if hit != (kind == "match"):
                    failures.append(ExampleFailure(
                        rid, str(lr.path), lr.line_of("examples", kind, i), kind, text))
    return failures


def lint(loaded: Sequence[LoadedRule], today: date | None = None) -> list[LintIssue]:
    """Corpus checks beyond the typed model: review dates, ownership, weak rules."""
    today = today or date.today()
    issues: list[LintIssue] = []
    seen: dict[str, LoadedRule] = {}
    for lr in loaded:
        r = lr.rule
        where = (r.id, str(lr.path))
        if r.id in seen:
            issues.append(LintIssue("error", *where, lr.line_of("id"),
                                    f"duplicate id (first in {seen[r.id].path})"))
        seen.setdefault(r.id, lr)
        if not r.owner.strip():
            issues.append(LintIssue("error", *where, lr.line_of("owner"), "owner is empty"))
        if not r.approved_by.strip():
            issues.append(LintIssue("error", *where, lr.line_of("approved_by"),
                                    "approved_by is empty"))
        if r.review_by < today and r.active:
            issues.append(LintIssue("warning", *where, lr.line_of("review_by"),
                                    f"overdue for review (review_by {r.review_by.isoformat()})"))
        if r.action == "flag" and not r.policy_section.strip():
            issues.append(LintIssue("error", *where, lr.line_of("policy_section"),
                                    "policy_section is empty"))
        if r.status == "deprecated":
            issues.append(LintIssue("warning", *where, lr.line_of("status"),
                                    "deprecated: never fires; remove it once nothing refers to it"))
    return issues
