"""The trained text model: one shared feature space, one calibrated linear head per category."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix

from monitor.pipeline.classifier.features import MAX_CHARS, TOKEN_PATTERN, FeatureSpace

_TOKEN = re.compile(TOKEN_PATTERN)


@dataclass
class Head:
    """A calibrated linear scorer: ``p = sigmoid(a * (x . coef + intercept) + b)``.

    ``coef`` already folds in the naive-Bayes log-count ratios, so scoring is one sparse dot.
    """

    coef: np.ndarray
    intercept: float
    platt_a: float
    platt_b: float

    def decision(self, X: csr_matrix) -> np.ndarray:
        return np.asarray(X @ self.coef, dtype=np.float64).ravel() + self.intercept

    def proba(self, X: csr_matrix) -> np.ndarray:
        z = self.platt_a * self.decision(X) + self.platt_b
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


@dataclass
class Contribution:
    """One token's share of a model score, with where it sits in the original text."""

    token: str
    span: tuple[int, int]
    weight: float


@dataclass
class TextModel:
    """Normalised text in, calibrated probability per category out, with token attributions."""

    space: FeatureSpace
    heads: dict[str, Head]

    @property
    def categories(self) -> list[str]:
        return list(self.heads)

    def features(self, normalized: Sequence[str]) -> csr_matrix:
        return self.space.transform(normalized)

    def proba(self, X: csr_matrix) -> dict[str, np.ndarray]:
        """Calibrated probability per category for each feature row."""
        return {c: h.proba(X) for c, h in self.heads.items()}

    def explain(self, text: str, row: csr_matrix, category: str, k: int = 3) -> list[Contribution]:
        """The ``k`` tokens of ``text`` that pushed the score up most (positive weight only).

        A token's weight is the sum of the post's feature values times the head's weights over
        the features the token itself produces (its word n-gram and character n-grams).
        """
        from monitor.pipeline.classifier.features import normalize

        head = self.heads[category]
        post_cols = dict(zip(row.indices.tolist(), row.data.tolist(), strict=True))
        weight_of: dict[str, float] = {}
        best: dict[str, Contribution] = {}
        for m in _TOKEN.finditer(text[:MAX_CHARS]):
            tok = normalize(m.group(0))
            if not tok or tok in best:
                continue
            w = weight_of.get(tok)
            if w is None:
                w = sum(post_cols.get(j, 0.0) * float(head.coef[j]) for j in self.space.columns(tok))
                weight_of[tok] = w
            if w > 0:
                best[tok] = Contribution(m.group(0), (m.start(), m.end()), w)
        ranked = sorted(best.values(), key=lambda c: (-c.weight, c.span))
        return ranked[:k]
