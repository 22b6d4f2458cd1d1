"""Training: NB-weighted logistic regression per category on a shared TF-IDF space, with
C tuned by cross-validation on train, Platt calibration on out-of-fold scores, and
thresholds chosen on validation for the precision a manager-facing nudge needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from monitor.pipeline.classifier.data import Labelled
from monitor.pipeline.classifier.evaluate import at_threshold, choose_thresholds, evaluate
from monitor.pipeline.classifier.features import (
    CHAR_BITS,
    CHAR_NGRAMS,
    MIN_DF,
    WORD_BITS,
    WORD_NGRAMS,
    FeatureSpace,
    normalize,
)
from monitor.pipeline.classifier.gate import gate_mask
from monitor.pipeline.classifier.model import Head, TextModel

SEED = 20260101
# Precision on validation that a nudge-level finding must reach.
NUDGE_PRECISION = 0.95
# A nudge threshold sits at least this far above the highest hard-negative score.
HARD_NEGATIVE_MARGIN = 0.02
Progress = Callable[[str], None]


@dataclass
class TrainConfig:
    """What to train on and how hard to search."""

    train: dict[str, Labelled]
    val: dict[str, Labelled]
    feedback: dict[str, Labelled] = field(default_factory=dict)
    c_grid: tuple[float, ...] = (2.0, 4.0, 8.0)
    folds: int = 5
    seed: int = SEED
    nudge_precision: float = NUDGE_PRECISION
    # Harmless sentences no model-only finding may nudge on (data/hard-negatives/).
    hard_negatives: list[str] = field(default_factory=list)


@dataclass
class TrainResult:
    """The model plus everything the model card and evaluation report need."""

    model: TextModel
    report: dict[str, Any]


def _nb_ratio(X: csr_matrix, y: np.ndarray) -> np.ndarray:
    p = np.asarray(X[y == 1].sum(axis=0)).ravel() + 1.0
    q = np.asarray(X[y == 0].sum(axis=0)).ravel() + 1.0
    return np.log((p / p.sum()) / (q / q.sum())).astype(np.float32)


def _fit_lr(X: csr_matrix, y: np.ndarray, C: float) -> tuple[np.ndarray, float]:
    """NB-weighted LR; returns the folded weights (ratio * coef) and the intercept."""
    r = _nb_ratio(X, y)
    lr = LogisticRegression(C=C, class_weight="balanced", max_iter=3000, solver="lbfgs")
    lr.fit(X.multiply(r).tocsr(), y)
    return (lr.coef_[0] * r).astype(np.float32), float(lr.intercept_[0])


def _fit_head(X: csr_matrix, y: np.ndarray, cfg: TrainConfig, say: Progress) -> tuple[Head, dict[str, Any]]:
    n_splits = max(2, min(cfg.folds, int(np.bincount(y, minlength=2).min())))
    folds = list(StratifiedKFold(n_splits, shuffle=True, random_state=cfg.seed).split(X, y))
    scores: dict[float, np.ndarray] = {}
    cv_f1: dict[float, float] = {}
    for C in cfg.c_grid:
        oof = np.zeros(len(y))
        for tr, te in folds:
            w, b = _fit_lr(X[tr], y[tr], C)
            oof[te] = np.asarray(X[te] @ w).ravel() + b
        scores[C] = oof
        cv_f1[C] = float(f1_score(y, oof >= 0, average="macro"))
        say(f"C={C:g}: cross-validated macro-F1 {cv_f1[C]:.4f}")
    best = max(cfg.c_grid, key=lambda c: (cv_f1[c], -c))
    # Platt scaling on out-of-fold scores: honest probabilities without touching validation.
    platt = LogisticRegression(C=1e6, max_iter=1000).fit(scores[best].reshape(-1, 1), y)
    w, b = _fit_lr(X, y, best)
    head = Head(w, b, float(platt.coef_[0][0]), float(platt.intercept_[0]))
    return head, {"C": best, "cv_macro_f1": {f"{c:g}": round(v, 4) for c, v in cv_f1.items()}}


def train(cfg: TrainConfig, say: Progress = lambda _: None) -> TrainResult:
    """Train every category's head; deterministic for a given config."""
    categories = list(cfg.train)
    sets: dict[str, Labelled] = {}
    for c in categories:
        s = Labelled(list(cfg.train[c].texts), list(cfg.train[c].labels))
        if c in cfg.feedback:
            s.extend(cfg.feedback[c])
        sets[c] = s
    say("normalising texts")
    norm = {c: [normalize(t) for t in s.texts] for c, s in sets.items()}
    corpus = [t for c in categories for t in norm[c]]
    say(f"fitting the feature space on {len(corpus)} texts")
    space = FeatureSpace.fit(corpus)
    heads: dict[str, Head] = {}
    info: dict[str, Any] = {}
    for c in categories:
        say(f"{c}: training on {len(sets[c])} examples")
        y = np.asarray(sets[c].labels, dtype=np.int64)
        heads[c], info[c] = _fit_head(space.transform(norm[c]), y, cfg, say)
    model = TextModel(space, heads)
    report: dict[str, Any] = {
        "trained_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seed": cfg.seed,
        "nudge_precision": cfg.nudge_precision,
        "features": {
            "word_ngrams": list(WORD_NGRAMS), "char_wb_ngrams": list(CHAR_NGRAMS),
            "hash_buckets": {"word": 1 << WORD_BITS, "char": 1 << CHAR_BITS}, "min_df": MIN_DF,
            "sublinear_tf": True, "n_features": space.n_features,
        },
        "categories": {},
    }
    for c in categories:
        entry: dict[str, Any] = {
            "train_examples": len(cfg.train[c]),
            "train_positive": int(sum(cfg.train[c].labels)),
            "feedback_examples": len(cfg.feedback.get(c, Labelled())),
            "feedback_positive": int(sum(cfg.feedback.get(c, Labelled()).labels)),
            **info[c],
        }
        if c in cfg.val and len(cfg.val[c]):
            say(f"{c}: evaluating on {len(cfg.val[c])} validation examples")
            val = cfg.val[c]
            X = space.transform([normalize(t) for t in val.texts])
            p = heads[c].proba(X)
            y = np.asarray(val.labels)
            gate = gate_mask(c, val.texts)
            nudge, shadow = choose_thresholds(y, p, cfg.nudge_precision, gate)
            entry["thresholds"] = {"nudge": nudge, "shadow": shadow, "nudge_from_validation": nudge}
            if cfg.hard_negatives:
                hn = heads[c].proba(space.transform([normalize(t) for t in cfg.hard_negatives]))
                hn = np.where(gate_mask(c, cfg.hard_negatives), hn, 0.0)
                worst = float(hn.max())
                floor = min(0.99, float(np.ceil((worst + HARD_NEGATIVE_MARGIN) * 100) / 100))
                entry["thresholds"].update(nudge=max(nudge, floor), hard_negative_max=round(worst, 4))
                nudge = entry["thresholds"]["nudge"]
            entry["validation"] = evaluate(y, p, thresholds={"0.5": 0.5, "shadow": shadow})
            # The nudge row counts what can actually nudge: gated posts at or above the threshold.
            entry["validation"]["at"]["nudge"] = at_threshold(y, np.where(gate, p, 0.0), nudge)
        report["categories"][c] = entry
    return TrainResult(model, report)
