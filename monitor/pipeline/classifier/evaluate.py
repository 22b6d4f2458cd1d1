"""Metrics for a binary category: per-class precision/recall/F1, macro-F1, and calibration."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import (
    brier_score_loss,
    f1_score,
    precision_recall_fscore_support,
    roc_auc_score,
)

# Fewest validation positives a nudge threshold must keep, so it is not tuned on a handful.
MIN_NUDGE_HITS = 20


def at_threshold(y: np.ndarray, p: np.ndarray, t: float) -> dict[str, Any]:
    """Per-class metrics when ``p >= t`` is predicted positive."""
    return _at(np.asarray(y, dtype=int), np.asarray(p, dtype=float), t)


def _at(y: np.ndarray, p: np.ndarray, t: float) -> dict[str, Any]:
    pred = (p >= t).astype(int)
    prec, rec, f1, sup = precision_recall_fscore_support(y, pred, labels=[0, 1], zero_division=0)
    names = ("not", "yes")
    return {
        "threshold": round(float(t), 4),
        "classes": {
            names[i]: {"precision": round(float(prec[i]), 4), "recall": round(float(rec[i]), 4),
                       "f1": round(float(f1[i]), 4), "support": int(sup[i])}
            for i in (0, 1)
        },
        "macro_f1": round(float(f1_score(y, pred, labels=[0, 1], average="macro", zero_division=0)), 4),
        "flagged": int(pred.sum()),
    }


def calibration(y: np.ndarray, p: np.ndarray, bins: int = 10) -> dict[str, Any]:
    """Brier score, expected calibration error and a reliability table."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    table = []
    ece = 0.0
    for b in range(bins):
        mask = idx == b
        n = int(mask.sum())
        if not n:
            continue
        conf, acc = float(p[mask].mean()), float(y[mask].mean())
        ece += n / len(y) * abs(conf - acc)
        table.append({"bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}", "n": n,
                      "mean_prob": round(conf, 4), "positive_rate": round(acc, 4)})
    return {"brier": round(float(brier_score_loss(y, p)), 4), "ece": round(ece, 4), "bins": table}


def evaluate(y: np.ndarray, p: np.ndarray, thresholds: dict[str, float] | None = None) -> dict[str, Any]:
    """The full report for labels ``y`` and probabilities ``p`` at the named thresholds."""
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    thresholds = thresholds or {"0.5": 0.5}
    out: dict[str, Any] = {
        "examples": int(len(y)),
        "positives": int(y.sum()),
        "at": {name: _at(y, p, t) for name, t in thresholds.items()},
        "calibration": calibration(y, p),
    }
    if 0 < y.sum() < len(y):
        out["roc_auc"] = round(float(roc_auc_score(y, p)), 4)
    return out


def macro_f1(y: np.ndarray, pred: np.ndarray) -> float:
    """Macro-F1 of two classes (as scikit-learn's, zero_division=0), without its per-call cost."""
    y = np.asarray(y, dtype=bool)
    pred = np.asarray(pred, dtype=bool)
    total = 0.0
    for cls in (True, False):
        tp = float(np.sum((pred == cls) & (y == cls)))
        denom = float(np.sum(pred == cls) + np.sum(y == cls))
        total += 2 * tp / denom if denom else 0.0
    return total / 2


def choose_thresholds(
    y: np.ndarray, p: np.ndarray, precision: float, gate: np.ndarray | None = None
) -> tuple[float, float]:
    """(nudge, shadow): the lowest threshold whose precision reaches ``precision`` with at least
    :data:`MIN_NUDGE_HITS` hits, counting only posts the nudge ``gate`` lets through, and the
    threshold with the best macro-F1 (never above nudge)."""
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    gated = p if gate is None else np.where(gate, p, 0.0)
    grid = np.round(np.arange(0.30, 0.991, 0.01), 2)
    # Walk down from the top so every threshold above the chosen one is precise too.
    nudge = 0.99
    for t in grid[::-1]:
        pred = gated >= t
        if int(pred.sum()) < MIN_NUDGE_HITS:
            continue
        if float(y[pred].mean()) < precision:
            break
        nudge = float(t)
    best = max(grid, key=lambda t: (macro_f1(y, p >= t), -t))
    return nudge, float(min(best, nudge))
