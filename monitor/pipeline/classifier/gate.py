"""The first stage: a hashed n-gram screen that lets the clearly benign bulk skip the encoder.

Most posts break no rule and say nothing near the policy; reading each with a transformer costs
milliseconds. A linear model over hashed word and character n-grams of the *prepared* text (so
organisation terms are already placeholders) scores a post in microseconds; only posts above
its threshold, posts any rule matched and long posts go on to the encoder. The threshold is
chosen on the validation batches so that the gate costs the pipeline's decisions next to
nothing (the model card gives the figures).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from monitor.errors import ModelError

N_FEATURES = 1 << 18
# Posts longer than this always reach the encoder: in a long text a buried violation is a
# small share of the n-grams.
LONG_POST = 600
GATE_FILE = "gate.npz"


@lru_cache(maxsize=1)
def _vectorizers() -> tuple[Any, Any]:
    from sklearn.feature_extraction.text import HashingVectorizer

    words = HashingVectorizer(ngram_range=(1, 2), n_features=N_FEATURES, alternate_sign=False,
                              norm="l2", lowercase=True)
    chars = HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), n_features=N_FEATURES,
                              alternate_sign=False, norm="l2", lowercase=True)
    return words, chars


def features(texts: Sequence[str]) -> Any:
    """Sparse hashed features (words 1-2, characters 3-5 within words), side by side."""
    from scipy.sparse import hstack

    words, chars = _vectorizers()
    return hstack([words.transform(texts), chars.transform(texts)]).tocsr()


@dataclass
class Gate:
    """A linear screen: ``sigmoid(x·w + b) >= threshold`` sends a post to the encoder."""

    weights: np.ndarray
    bias: float
    threshold: float

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0)
        z = features(texts) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))

    def passes(self, texts: Sequence[str]) -> np.ndarray:
        long = np.fromiter((len(t) > LONG_POST for t in texts), dtype=bool, count=len(texts))
        return long | (self.scores(texts) >= self.threshold)

    def save(self, path: Path) -> None:
        with path.open("wb") as fh:
            np.savez(fh, weights=self.weights.astype(np.float32),
                     bias=np.array([self.bias], dtype=np.float64),
                     threshold=np.array([self.threshold], dtype=np.float64))

    @classmethod
    def load(cls, path: Path) -> Gate:
        try:
            with np.load(path, allow_pickle=False) as data:
                w = np.asarray(data["weights"], dtype=np.float32)
                bias = float(data["bias"][0])
                threshold = float(data["threshold"][0])
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError(f"{path}: unreadable gate ({exc}); rebuild with "
                             "`socialguide model train`") from None
        if w.shape != (2 * N_FEATURES,):
            raise ModelError(f"{path}: gate weights have shape {w.shape}, expected "
                             f"{(2 * N_FEATURES,)}; rebuild with `socialguide model train`")
        return cls(w, bias, threshold)


def fit(texts: Sequence[str], labels: Sequence[int], seed: int) -> Gate:
    """Logistic regression over the hashed features (needs scikit-learn, a run-time dependency)."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=4.0, class_weight="balanced", max_iter=2000, random_state=seed,
                             solver="liblinear")
    clf.fit(features(texts), np.asarray(labels))
    return Gate(clf.coef_[0].astype(np.float32), float(clf.intercept_[0]), 0.5)
