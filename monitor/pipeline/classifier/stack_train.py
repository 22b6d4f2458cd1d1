"""Training the embeddings cascade: one head per category on ``[embedding, n-gram decision]``.

The n-gram decision values on train are out-of-fold (the shipped head has seen every train
text, so its own scores there would be over-confident); C is chosen by cross-validation on
train, Platt calibration on out-of-fold scores, thresholds on validation, as for the n-gram model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from monitor.pipeline.classifier.artifact import LoadedModel
from monitor.pipeline.classifier.data import Labelled
from monitor.pipeline.classifier.embeddings import BAND, Encoder, StackHead
from monitor.pipeline.classifier.evaluate import at_threshold, choose_thresholds, evaluate
from monitor.pipeline.classifier.features import normalize
from monitor.pipeline.classifier.gate import gate_mask
from monitor.pipeline.classifier.train import HARD_NEGATIVE_MARGIN, NUDGE_PRECISION, SEED, _fit_lr

C_GRID = (0.3, 1.0, 3.0)
# The n-gram decision value enters the stack scaled down to the embeddings' range.
Z_SCALE = 0.25


def _stack_features(E: np.ndarray, z: np.ndarray) -> np.ndarray:
    return np.hstack([E, (z * Z_SCALE)[:, None]])


def _head(S: np.ndarray, y: np.ndarray, folds: list, say: Callable[[str], None]) -> tuple[StackHead, dict]:
    oof: dict[float, np.ndarray] = {}
    cv: dict[float, float] = {}
    for C in C_GRID:
        scores = np.zeros(len(y))
        for tr, te in folds:
            lr = LogisticRegression(C=C, class_weight="balanced", max_iter=3000).fit(S[tr], y[tr])
            scores[te] = lr.decision_function(S[te])
        oof[C], cv[C] = scores, float(f1_score(y, scores >= 0, average="macro"))
        say(f"stack C={C:g}: cross-validated macro-F1 {cv[C]:.4f}")
    best = max(C_GRID, key=lambda c: (cv[c], -c))
    platt = LogisticRegression(C=1e6, max_iter=1000).fit(oof[best].reshape(-1, 1), y)
    lr = LogisticRegression(C=best, class_weight="balanced", max_iter=3000).fit(S, y)
    coef = lr.coef_[0].astype(np.float64).copy()
    coef[-1] *= Z_SCALE  # fold the scaling in: the head takes the raw decision value
    head = StackHead(coef, float(lr.intercept_[0]), float(platt.coef_[0][0]), float(platt.intercept_[0]))
    return head, {"C": best, "cv_macro_f1": {f"{c:g}": round(v, 4) for c, v in cv.items()}}


def train_stack(
    loaded: LoadedModel,
    train: dict[str, Labelled],
    val: dict[str, Labelled],
    encode: Encoder,
    hard_negatives: list[str],
    ngram_c: dict[str, float],
    say: Callable[[str], None] = lambda _: None,
    folds: int = 5,
) -> tuple[dict[str, StackHead], dict[str, Any]]:
    """Fit the stacked heads; returns them with a report (validation metrics and thresholds)."""
    model = loaded.model
    heads: dict[str, StackHead] = {}
    report: dict[str, Any] = {"band": list(BAND), "nudge_precision": NUDGE_PRECISION, "categories": {}}
    hard_vecs = encode(hard_negatives) if hard_negatives else None
    for c in model.categories:
        y = np.asarray(train[c].labels, dtype=np.int64)
        X = model.space.transform([normalize(t) for t in train[c].texts])
        n_splits = max(2, min(folds, int(np.bincount(y, minlength=2).min())))
        split = list(StratifiedKFold(n_splits, shuffle=True, random_state=SEED).split(X, y))
        z = np.zeros(len(y))
        for tr, te in split:
            w, b = _fit_lr(X[tr], y[tr], ngram_c.get(c, 4.0))
            z[te] = np.asarray(X[te] @ w).ravel() + b
        say(f"{c}: encoding {len(y)} training texts")
        E = encode(train[c].texts)
        heads[c], info = _head(_stack_features(E, z), y, split, say)
        entry: dict[str, Any] = {"train_examples": len(y), **info}
        if c in val and len(val[c]):
            say(f"{c}: encoding {len(val[c])} validation texts")
            yv = np.asarray(val[c].labels)
            Xv = model.space.transform([normalize(t) for t in val[c].texts])
            full = encode(val[c].texts)  # as Cascade.proba does, but kept for every row
            pn = model.heads[c].proba(Xv)
            zv = model.heads[c].decision(Xv)
            lo, hi = BAND
            inside = (pn >= lo) & (pn <= hi)
            pc = pn.copy()
            pc[inside] = heads[c].proba(full[inside], zv[inside])
            gate = gate_mask(c, val[c].texts)
            nudge, shadow = choose_thresholds(yv, pc, NUDGE_PRECISION, gate)
            thresholds: dict[str, Any] = {"nudge": nudge, "shadow": shadow, "nudge_from_validation": nudge}
            if hard_vecs is not None:
                hx = model.space.transform([normalize(t) for t in hard_negatives])
                hp, hz = model.heads[c].proba(hx), model.heads[c].decision(hx)
                hin = (hp >= lo) & (hp <= hi)
                hp[hin] = heads[c].proba(hard_vecs[hin], hz[hin])
                worst = float(np.where(gate_mask(c, hard_negatives), hp, 0.0).max())
                floor = min(0.99, float(np.ceil((worst + HARD_NEGATIVE_MARGIN) * 100) / 100))
                thresholds.update(nudge=max(nudge, floor), hard_negative_max=round(worst, 4))
            entry["thresholds"] = thresholds
            entry["unsure_share"] = round(float(inside.mean()), 4)
            entry["validation"] = evaluate(yv, pc, {"0.5": 0.5, "shadow": shadow})
            entry["validation"]["at"]["nudge"] = at_threshold(yv, np.where(gate, pc, 0.0), thresholds["nudge"])
            entry["ngram_only"] = evaluate(yv, pn, {"0.5": 0.5})["at"]["0.5"]
            entry["stack_everywhere"] = evaluate(yv, heads[c].proba(full, zv), {"0.5": 0.5})["at"]["0.5"]
        report["categories"][c] = entry
    return heads, report
