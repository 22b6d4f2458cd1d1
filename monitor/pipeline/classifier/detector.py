"""The policy model as the pipeline's reviewing stage: it reads the whole post, sees what the
rules found, and decides.

- A rule match stays actionable only when the model's score for its category reaches the
  category's *confirm* threshold: a validator-checked card number in a "test card" context, a
  key header without material, an NDA customer's name in a consumer post are vetoed (kept in
  the shadow log with the model's reason), not nudged.
- The model alone makes an actionable finding at or above the category's *nudge* threshold
  (chosen on the validation batches for precision ≥ 0.90), and a shadow one at or above the
  *shadow* threshold.
- The auxiliary public-data heads only ever add shadow findings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from monitor.domain import CATEGORIES, Finding, Post
from monitor.pipeline.classifier.artifact import PolicyArtifact, Thresholds
from monitor.pipeline.classifier.corpus import AUX_HEADS, HEADS, evidence
from monitor.pipeline.classifier.encoder import Scored, Window, score_gated, sigmoid
from monitor.pipeline.classifier.explain import top_spans
from monitor.pipeline.classifier.prepare import Prepared, Terms, prepare
from monitor.pipeline.classifier.vetoes import model_veto
from monitor.pipeline.decide import DEFAULT_MIN_SCORE as RULE_MIN_SCORE
from monitor.pipeline.sections import CATEGORY_TEXT

# Scores are reported with this many decimals (the scan contract rounds to 4).
_ROUND = 4


class PolicyModelDetector:
    """Scores posts with the policy model and re-judges the rule findings before it."""

    name = "model"
    reviews = True  # the pipeline hands it the findings of the stages before

    def __init__(self, artifact: PolicyArtifact, terms: Terms,
                 overrides: Thresholds | None = None):
        self.artifact = artifact
        self.terms = terms
        t = artifact.thresholds
        o = overrides or Thresholds()
        self.nudge = {c: o.nudge.get(c, t.nudge.get(c, 0.9)) for c in HEADS}
        self.confirm = {c: o.confirm.get(c, t.confirm.get(c, 0.0)) for c in CATEGORIES}
        self.shadow = {c: min(o.shadow.get(c, t.shadow.get(c, 0.5)), self.nudge[c]) for c in HEADS}

    def describe(self) -> str:
        """One line for ``config check`` and logs."""
        return (f"classifier: {self.artifact.directory} {self.artifact.name} "
                f"v{self.artifact.version} (ONNX int8 on onnxruntime); nudge thresholds "
                f"{self.nudge}")

    def prepared(self, posts: Sequence[Post], prior: Sequence[Sequence[Finding]]) -> list[Prepared]:
        out: list[Prepared] = []
        for post, found in zip(posts, prior, strict=True):
            spans, cats = evidence(found)
            out.append(prepare(post.text if isinstance(post.text, str) else "", self.terms,
                               spans, cats))
        return out

    def scores(self, posts: Sequence[Post], prior: Sequence[Sequence[Finding]]
               ) -> tuple[list[Prepared], list[Scored | None]]:
        """Prepared posts and their scores; ``None`` for a post the first stage let through
        as clearly benign (no rule matched it and the gate scored it low)."""
        prepared = self.prepared(posts, prior)
        return prepared, score_gated(self.artifact.model, self.artifact.gate, prepared,
                                     [bool(f) for f in prior])

    def probabilities(self, posts: Sequence[Post], prior: Sequence[Sequence[Finding]]
                      ) -> list[dict[str, float]]:
        """Each head's probability per post, rounded for display."""
        _, scored = self.scores(posts, prior)
        return [{} if s is None else
                {h: round(float(p), _ROUND) for h, p in zip(HEADS, sigmoid(s.logits), strict=True)}
                for s in scored]

    def detect(self, posts: Sequence[Post]) -> list[list[Finding]]:
        """The model's own findings, with no rule evidence (the Detector protocol)."""
        return self.review(posts, [[] for _ in posts])

    def review(self, posts: Sequence[Post], prior: Sequence[Sequence[Finding]]
               ) -> list[list[Finding]]:
        """Every post's findings as the model judges them: the rules' (confirmed or vetoed)
        followed by the model's own."""
        if not posts:
            return []
        prepared, scored = self.scores(posts, prior)
        return [self._judge(found, p, s) for found, p, s in zip(prior, prepared, scored, strict=True)]

    def _judge(self, found: Sequence[Finding], prep: Prepared, s: Scored | None) -> list[Finding]:
        if s is None:
            return list(found)
        probs = sigmoid(s.logits)
        p = {h: float(probs[j]) for j, h in enumerate(HEADS)}
        out: list[Finding] = []
        for f in found:
            if f.source.startswith("rule:") and not f.shadow and f.category in self.confirm:
                score = p[f.category]
                if score < self.confirm[f.category]:
                    f = replace(f, shadow=True, explanation=[
                        *f.explanation, f"model: the context reads as harmless ({score:.2f})"])
                else:
                    f = replace(f, explanation=[*f.explanation, f"model agrees ({score:.2f})"])
            out.append(f)
        if not prep.text.strip():
            return out
        ruled = {f.category for f in found if f.source.startswith("rule:") and not f.shadow
                 and f.score >= RULE_MIN_SCORE}
        for j, head in enumerate(HEADS):
            score = p[head]
            if score < self.shadow[head]:
                continue
            category = AUX_HEADS.get(head, head)
            if head in AUX_HEADS and any(f.category == category and f.source.startswith("model:")
                                         for f in out):
                continue  # the policy head already spoke for this category
            out.append(self._finding(head, category, score, prep, s.best[j], s.shares[j],
                                     category in ruled))
        return out

    def _finding(self, head: str, category: str, score: float, prep: Prepared,
                 window: Window | None, shares: np.ndarray | None, rule_found: bool) -> Finding:
        spans, words = top_spans(prep, window, shares)
        text = CATEGORY_TEXT[category]
        actionable = head not in AUX_HEADS and score >= self.nudge[head]
        why = model_veto(category, prep.text, rule_found) if actionable else None
        if why:
            actionable = False
            words = [*words, why]
        return Finding(
            category=category,
            source=f"model:{self.artifact.name}" + ("" if head not in AUX_HEADS else f"/{head}"),
            severity=text.severity,
            score=round(score, _ROUND),
            spans=spans,
            guidance=text.guidance,
            policy_section=text.section,
            shadow=not actionable,
            explanation=words,
            version=self.artifact.version,
        )

