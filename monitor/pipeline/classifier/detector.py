"""The classifier as a pipeline detector: calibrated scores, thresholds, token explanations."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.domain import Finding, Post
from monitor.pipeline.classifier.artifact import LoadedModel
from monitor.pipeline.classifier.cascade import ENCODER, Cascade
from monitor.pipeline.classifier.features import MAX_CHARS, normalize
from monitor.pipeline.classifier.gate import may_nudge
from monitor.pipeline.classifier.model import Contribution

# Longest token quoted in an explanation.
MAX_TOKEN = 40
SEVERITY = {"offensive": "medium", "hate": "high"}
POLICY_SECTION = {"offensive": "Respectful communication", "hate": "Hateful content"}
GUIDANCE = {
    "offensive": (
        "This post may read as insulting or hostile to someone. If that is not what you meant, "
        "consider rewording or removing it."
    ),
    "hate": (
        "This post may read as an attack on a group of people. Please consider removing it; "
        "your manager or compliance can talk it through with you."
    ),
}


class ModelDetector:
    """Scores posts in batches; findings at or above the shadow threshold are returned, and
    those below the nudge threshold, or that the nudge gate holds back (an ``offensive`` post
    that addresses nobody), are marked ``shadow`` (logged, never nudged)."""

    name = "model"

    def __init__(
        self,
        loaded: LoadedModel,
        thresholds: dict[str, float],
        shadow_thresholds: dict[str, float],
        top_k: int = 3,
        cascade: Cascade | None = None,
    ):
        self.loaded = loaded
        self.model = loaded.model
        self.top_k = top_k
        self.cascade = cascade
        if cascade is not None:  # its scores differ: its own validation-chosen thresholds apply
            thresholds, shadow_thresholds = cascade.thresholds, cascade.shadow_thresholds
        self.thresholds = {c: thresholds.get(c, 0.9) for c in self.model.categories}
        self.shadow_thresholds = {
            c: min(shadow_thresholds.get(c, 0.5), self.thresholds[c]) for c in self.model.categories
        }

    def describe(self) -> str:
        """One line for ``config check`` and logs: which model, which stage, which thresholds."""
        stage = (f"n-gram model + fine-tuned {ENCODER} cascade for calibrated scores in {self.cascade.band}"
                 if self.cascade else "n-gram model (MiniLM cascade not active)")
        return (f"classifier: {self.loaded.path} v{self.loaded.version}, {stage}; nudge thresholds "
                f"{self.thresholds}, shadow {self.shadow_thresholds}")

    def detect(self, posts: Sequence[Post]) -> list[list[Finding]]:
        out: list[list[Finding]] = [[] for _ in posts]
        if not posts:
            return out
        texts = [p.text if isinstance(p.text, str) else "" for p in posts]
        X = self.model.features([normalize(t) for t in texts])
        hits: list[tuple[int, str, float]] = []
        scores = (self.cascade.proba(self.model, texts, X) if self.cascade is not None
                  else self.model.proba(X))
        for category, probs in scores.items():
            floor = self.shadow_thresholds[category]
            for i in (probs >= floor).nonzero()[0].tolist():
                if texts[i].strip():
                    hits.append((i, category, float(probs[i])))
        hits.sort(key=lambda h: h[0])  # findings in post order, categories in model order
        why = self.model.explain(texts, X, [(i, c) for i, c, _ in hits], self.top_k)
        for (i, category, score), top in zip(hits, why, strict=True):
            out[i].append(self._finding(category, score, texts[i], top))
        return out

    def _finding(self, category: str, score: float, text: str, top: list[Contribution]) -> Finding:
        spans = [c.span for c in top] or [(0, min(len(text), MAX_CHARS))]
        return Finding(
            category=category,
            source=f"model:{self.loaded.source_name(category)}",
            severity=SEVERITY.get(category, "medium"),
            score=round(score, 4),
            spans=sorted(spans),
            guidance=GUIDANCE.get(category, ""),
            policy_section=POLICY_SECTION.get(category),
            shadow=score < self.thresholds[category] or not may_nudge(category, text),
            explanation=[c.token[:MAX_TOKEN] for c in top],
            version=self.loaded.version,
        )
