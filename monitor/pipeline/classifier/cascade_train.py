"""Training the cascade: fine-tune MiniLM on train, stack it with the n-gram model on a
held-out slice of train, choose the band and thresholds on validation.

Validation only chooses (band, thresholds) and is reported; the stacker, which is also the
calibration, is fitted on a stratified slice of train that fine-tuning never saw, against
n-gram decision values from a model fitted without that slice (the shipped n-gram model has
seen every train text, so its own scores there would be over-confident).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from monitor.pipeline.classifier.artifact import LoadedModel
from monitor.pipeline.classifier.cascade import Stacker
from monitor.pipeline.classifier.data import Labelled
from monitor.pipeline.classifier.evaluate import at_threshold, choose_thresholds, evaluate, macro_f1
from monitor.pipeline.classifier.features import normalize
from monitor.pipeline.classifier.gate import gate_mask
from monitor.pipeline.classifier.train import HARD_NEGATIVE_MARGIN, NUDGE_PRECISION, SEED, _fit_lr

# Candidate bands of calibrated n-gram probability that MiniLM re-scores, narrowest first;
# validation picks the narrowest within BAND_TOLERANCE macro-F1 of the best (cheaper scans).
BANDS: tuple[tuple[float, float], ...] = ((0.2, 0.9), (0.1, 0.95), (0.05, 0.98), (0.0, 1.0))
BAND_TOLERANCE = 0.002
# Regularisation of the stacker (a handful of weights fitted on about 2,000 held-out texts).
STACKER_C = 1.0
Progress = Callable[[str], None]


@dataclass
class CascadeConfig:
    """What to train on and how (the fine-tuning schedule lives in ``minilm.FineTune``)."""

    train: dict[str, Labelled]
    val: dict[str, Labelled]
    hard_negatives: list[str] = field(default_factory=list)
    # Reviewer/employee verdicts: fine-tuning data (never in the held-out slice).
    feedback: dict[str, Labelled] = field(default_factory=dict)
    ngram_c: dict[str, float] = field(default_factory=dict)
    calibration_share: float = 0.1
    epochs: float = 3.0
    max_steps: int | None = None
    seed: int = SEED
    # Fine-tuning's own seed (default: ``seed``); the held-out slice always follows ``seed``.
    fine_tune_seed: int | None = None
    # Encoders fine-tuned with successive seeds whose logits are averaged (an ensemble).
    members: int = 1


@dataclass
class CascadeResult:
    """The fine-tuned weights, stackers, band and the report for the card and manifest."""

    members: list[dict[str, np.ndarray]]
    categories: list[str]
    stackers: dict[str, Stacker]
    band: tuple[float, float]
    fingerprint: str
    report: dict[str, Any]


def _split(s: Labelled, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    idx = np.arange(len(s))
    y = np.asarray(s.labels)
    strat = y if np.bincount(y, minlength=2).min() >= 2 else None
    fit, cal = train_test_split(idx, test_size=share, random_state=seed, stratify=strat)
    return np.sort(fit), np.sort(cal)


def cascade_proba(p: np.ndarray, stacked: np.ndarray, band: tuple[float, float]) -> np.ndarray:
    """What :meth:`Cascade.proba` gives for one category: ``stacked`` inside the band."""
    inside = (p >= band[0]) & (p <= band[1])
    return np.where(inside, stacked, p)


def _band_scores(y: np.ndarray, p: np.ndarray, stacked: np.ndarray) -> dict[tuple[float, float], float]:
    """Best validation macro-F1 over thresholds, per candidate band."""
    grid = np.arange(0.3, 0.71, 0.01)
    return {b: max(macro_f1(y, cascade_proba(p, stacked, b) >= t) for t in grid) for b in BANDS}


def _choose_band(scores: dict[str, dict[tuple[float, float], float]]) -> tuple[float, float]:
    """One band for every category (one encoder pass per post): the narrowest whose summed
    validation macro-F1 is within the tolerance of the best."""
    if not scores:
        return BANDS[0]
    total = {b: sum(s[b] for s in scores.values()) for b in BANDS}
    best = max(total.values())
    return next(b for b in BANDS if total[b] >= best - BAND_TOLERANCE * len(scores))


def _fine_tune_members(cats: list[str], cfg: CascadeConfig, splits: dict[str, tuple[np.ndarray, np.ndarray]],
                       say: Progress) -> tuple[list[dict[str, np.ndarray]], dict[str, np.ndarray], str, dict]:
    """Fine-tune ``cfg.members`` encoders (seeds ``fine_tune_seed + k``) on the fit part of every
    category; returns their weights and, averaged over members, the logits of every text the
    stackers and thresholds need (``cal:<category>``, ``val:<category>``, ``hard``)."""
    from monitor.pipeline.classifier import minilm

    texts: list[str] = []
    cat_of: list[int] = []
    labels: list[int] = []
    for k, c in enumerate(cats):
        fit = splits[c][0]
        texts += [cfg.train[c].texts[i] for i in fit]
        labels += [cfg.train[c].labels[i] for i in fit]
        cat_of += [k] * len(fit)
        extra = cfg.feedback.get(c, Labelled())
        texts += extra.texts
        labels += extra.labels
        cat_of += [k] * len(extra)
    wanted: dict[str, list[str]] = {f"cal:{c}": [cfg.train[c].texts[i] for i in splits[c][1]] for c in cats}
    wanted.update({f"val:{c}": cfg.val[c].texts for c in cats if c in cfg.val and len(cfg.val[c])})
    wanted["hard"] = list(cfg.hard_negatives)
    members: list[dict[str, np.ndarray]] = []
    sums: dict[str, np.ndarray] = {}
    info: dict[str, Any] = {}
    fingerprint = ""
    base_seed = cfg.seed if cfg.fine_tune_seed is None else cfg.fine_tune_seed
    for m in range(cfg.members):
        seed = base_seed + m
        encoder = minilm.load_base(cats, seed=seed)
        fingerprint = minilm.fingerprint(encoder)
        say(f"member {m + 1}/{cfg.members}: fine-tuning {minilm.ENCODER} on {len(texts)} "
            f"training texts ({', '.join(cats)})")
        schedule = minilm.FineTune(epochs=cfg.epochs, max_steps=cfg.max_steps, seed=seed)
        info = minilm.fine_tune(encoder, texts, cat_of, labels, schedule, say)
        # Score with exactly what is shipped (float16 encoder), so the reported figures are its own.
        weights = minilm.trained_arrays(encoder)
        minilm.apply_arrays(encoder, weights, Path("(fine-tuned weights)"))
        members.append(weights)
        for key, batch in wanted.items():
            say(f"member {m + 1}/{cfg.members}: scoring {key} ({len(batch)} texts)")
            sums[key] = sums.get(key, 0) + encoder.logits(batch)
        del encoder
    info = {**info, "members": cfg.members, "seeds": [base_seed + m for m in range(cfg.members)]}
    return members, {k: v / cfg.members for k, v in sums.items()}, fingerprint, info


def train_cascade(loaded: LoadedModel, cfg: CascadeConfig, say: Progress = lambda _: None) -> CascadeResult:
    """Fine-tune MiniLM for every category at once, then fit and choose as the module says."""
    from monitor.pipeline.classifier import minilm

    model = loaded.model
    cats = [c for c in model.categories if c in cfg.train]
    splits = {c: _split(cfg.train[c], cfg.calibration_share, cfg.seed) for c in cats}
    members, logits, fingerprint, fit_info = _fine_tune_members(cats, cfg, splits, say)
    stackers: dict[str, Stacker] = {}
    report: dict[str, Any] = {"encoder": minilm.ENCODER, "fine_tune": fit_info,
                              "calibration_share": cfg.calibration_share, "seed": cfg.seed,
                              "band_tolerance": BAND_TOLERANCE,
                              "nudge_precision": NUDGE_PRECISION, "categories": {}}
    val_scores: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for c in cats:
        fit, cal = splits[c]
        s = cfg.train[c]
        y = np.asarray(s.labels, dtype=np.int64)
        say(f"{c}: stacking on {len(cal)} held-out training texts")
        X = model.space.transform([normalize(t) for t in s.texts])
        w, b = _fit_lr(X[fit], y[fit], cfg.ngram_c.get(c, 4.0))
        z_cal = np.asarray(X[cal] @ w).ravel() + b
        lr = LogisticRegression(C=STACKER_C, max_iter=1000).fit(
            np.column_stack([logits[f"cal:{c}"], z_cal]), y[cal])
        coef = lr.coef_[0].astype(np.float64)
        stackers[c] = Stacker(coef[:-1].copy(), float(coef[-1]), float(lr.intercept_[0]))
        report["categories"][c] = {
            "fine_tune_examples": len(fit), "calibration_examples": len(cal),
            "feedback_examples": len(cfg.feedback.get(c, Labelled())),
            "feedback_positive": int(sum(cfg.feedback.get(c, Labelled()).labels)),
            "stacker": {"minilm": dict(zip(cats, np.round(coef[:-1], 4).tolist(), strict=True)),
                        "ngram": round(float(coef[-1]), 4), "intercept": round(float(lr.intercept_[0]), 4)}}
        if f"val:{c}" in logits:
            val = cfg.val[c]
            Xv = model.space.transform([normalize(t) for t in val.texts])
            pn, zv = model.heads[c].proba(Xv), model.heads[c].decision(Xv)
            val_scores[c] = (np.asarray(val.labels), pn, stackers[c].proba(logits[f"val:{c}"], zv))
    band_scores = {c: _band_scores(*val_scores[c]) for c in val_scores}
    band = _choose_band(band_scores)
    report["band"] = list(band)
    for c, (y, pn, stacked) in val_scores.items():
        entry = report["categories"][c]
        pc = cascade_proba(pn, stacked, band)
        texts = cfg.val[c].texts
        gate = gate_mask(c, texts)
        nudge, shadow = choose_thresholds(y, pc, NUDGE_PRECISION, gate)
        thresholds: dict[str, Any] = {"nudge": nudge, "shadow": shadow, "nudge_from_validation": nudge}
        if cfg.hard_negatives:
            hx = model.space.transform([normalize(t) for t in cfg.hard_negatives])
            hp = cascade_proba(model.heads[c].proba(hx),
                               stackers[c].proba(logits["hard"], model.heads[c].decision(hx)), band)
            worst = float(np.where(gate_mask(c, cfg.hard_negatives), hp, 0.0).max())
            floor = min(0.99, float(np.ceil((worst + HARD_NEGATIVE_MARGIN) * 100) / 100))
            thresholds.update(nudge=max(nudge, floor), hard_negative_max=round(worst, 4))
        entry["thresholds"] = thresholds
        entry["band_macro_f1"] = {f"{b[0]:g}-{b[1]:g}": round(f, 4) for b, f in band_scores[c].items()}
        entry["unsure_share"] = round(float(((pn >= band[0]) & (pn <= band[1])).mean()), 4)
        entry["validation"] = evaluate(y, pc, {"0.5": 0.5, "shadow": shadow})
        entry["validation"]["at"]["nudge"] = at_threshold(y, np.where(gate, pc, 0.0), thresholds["nudge"])
        entry["ngram_only"] = evaluate(y, pn, {"0.5": 0.5})["at"]["0.5"]
        entry["stack_everywhere"] = evaluate(y, stacked, {"0.5": 0.5})["at"]["0.5"]
    return CascadeResult(members, cats, stackers, band, fingerprint, report)
