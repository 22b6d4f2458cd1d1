"""Judging the policy model as the pipeline uses it, and choosing its thresholds.

A category is flagged on a post at the actionable level when the model alone reaches the
category's nudge threshold, or a rule matched and the model's score reaches the confirm
threshold. Thresholds are chosen on the validation batches (never trained on) for precision
≥ 0.90 at the best F1; the figures reported are for exactly that decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from monitor.domain import CATEGORIES
from monitor.pipeline.classifier.artifact import Thresholds
from monitor.pipeline.classifier.corpus import AUX_HEADS, HEADS, Example
from monitor.pipeline.classifier.vetoes import model_veto
from monitor.pipeline.decide import DEFAULT_MIN_SCORE

TARGET_PRECISION = 0.90
# Categories whose rule matches are hard evidence (a validated ID, a key in a provider's format):
# the model never vetoes them on its score alone. Their harmless contexts (the poster's own
# contact details, test cards, placeholders, published contacts) are judged by the rules and
# by the pipeline's named vetoes; on cases written apart from the corpus the model's low pii
# scores vetoed about one true rule match in nine, and fixed a handful of false ones.
HARD_EVIDENCE = ("credentials", "pii")
# F1 differences smaller than this are within what two validation batches can resolve.
F1_TIE = 0.005
GRID = np.round(np.concatenate([np.arange(0.02, 0.2, 0.02), np.arange(0.2, 0.9, 0.05),
                                np.arange(0.9, 0.995, 0.01)]), 3)


@dataclass
class Scores:
    """Validation examples with their model probabilities (rows aligned, columns = HEADS)."""

    examples: list[Example]
    probs: np.ndarray
    _vetoed: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def column(self, head: str) -> np.ndarray:
        return self.probs[:, HEADS.index(head)]

    def labels(self, category: str) -> np.ndarray:
        return np.array([int(ex.labels.get(category) or 0) for ex in self.examples])

    def rule_hits(self, category: str, shadow_too: bool = False) -> np.ndarray:
        """Posts a rule found the category in, at a score the decision step acts on (and,
        with ``shadow_too``, also those it only logged)."""
        return np.array([any(f.category == category and f.source.startswith("rule:")
                             and (shadow_too or (not f.shadow and f.score >= DEFAULT_MIN_SCORE))
                             for f in ex.rule_findings)
                         for ex in self.examples], dtype=bool).reshape(len(self.examples))

    def vetoed(self, category: str) -> np.ndarray:
        """Posts on which the model's own finding of the category cannot be actionable
        (:func:`~monitor.pipeline.classifier.vetoes.model_veto`, as the pipeline applies it)."""
        cached = self._vetoed.get(category)
        if cached is None:
            hits = self.rule_hits(category)
            cached = np.array([model_veto(category, ex.prepared.text if ex.prepared else ex.text,
                                          bool(h)) is not None
                               for ex, h in zip(self.examples, hits, strict=True)],
                              dtype=bool).reshape(len(self.examples))
            self._vetoed[category] = cached
        return cached


def prf(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    tp = int((pred & (y == 1)).sum())
    fp = int((pred & (y == 0)).sum())
    fn = int((~pred & (y == 1)).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
            "support": int((y == 1).sum()), "flagged": int(pred.sum())}


def macro_f1(y: np.ndarray, pred: np.ndarray) -> float:
    """Macro-F1 over both classes (as TweetEval reports it)."""
    return round((prf(y, pred)["f1"] + prf(1 - y, ~pred)["f1"]) / 2, 4)


def decide(p: np.ndarray, hits: np.ndarray, nudge: float, confirm: float,
           vetoed: np.ndarray | None = None) -> np.ndarray:
    """The pipeline's decision: the model alone at the nudge threshold (unless vetoed), or a
    rule match the model confirms."""
    own = p >= nudge
    if vetoed is not None:
        own &= ~vetoed
    return own | (hits & (p >= confirm))


def choose(scores: Scores) -> Thresholds:
    """Per category the (nudge, confirm) pair with the best F1 at precision ≥ 0.90 (else the
    best F0.5), and a shadow threshold at the best unconstrained F1 below the nudge one.

    Pairs within ``F1_TIE`` of the best are as good as the validation batches can tell; of
    those the one asking most of the model alone (the highest nudge) and vetoing rule matches
    least (the lowest confirm) is kept, so a flat stretch of F1 never drifts the model's own
    findings down to a threshold where it fires on a topic rather than a violation.
    """
    t = Thresholds()
    for c in CATEGORIES:
        y, p, hits, vetoed = scores.labels(c), scores.column(c), scores.rule_hits(c), scores.vetoed(c)
        cands: list[tuple[float, float, float, float]] = []  # (meets, objective, nudge, confirm)
        for nudge in GRID:
            confirms = (0.0,) if c in HARD_EVIDENCE else (0.0, *GRID[GRID <= nudge])
            for confirm in confirms:
                m = prf(y, decide(p, hits, nudge, confirm, vetoed))
                meets = float(m["precision"] >= TARGET_PRECISION and m["flagged"] > 0)
                pr, rc = m["precision"], m["recall"]
                f05 = 1.25 * pr * rc / (0.25 * pr + rc) if pr + rc else 0.0
                cands.append((meets, m["f1"] if meets else f05, float(nudge), float(confirm)))
        top = max(cands)
        near = [x for x in cands if x[0] == top[0] and x[1] >= top[1] - F1_TIE]
        _, _, t.nudge[c], t.confirm[c] = max(near, key=lambda x: (x[2], -x[3]))
        shadow = max(GRID[GRID <= t.nudge[c]], key=lambda s: prf(y, p >= s)["f1"])
        t.shadow[c] = float(min(shadow, t.nudge[c]))
    return t


def choose_aux(tweets: Scores, thresholds: Thresholds) -> None:
    """Shadow thresholds of the public-data heads: best macro-F1 on their validation split
    (the shadow log only; nothing they find is ever nudged)."""
    for head, category in AUX_HEADS.items():
        rows = np.array([ex.labels.get(head) is not None for ex in tweets.examples])
        sub = Scores([e for e, r in zip(tweets.examples, rows, strict=True) if r], tweets.probs[rows])
        y = np.array([int(ex.labels[head] or 0) for ex in sub.examples])
        other = (sub.column(category) >= thresholds.shadow[category]) | sub.rule_hits(category, True)
        best = max(GRID, key=lambda s: macro_f1(y, other | (sub.column(head) >= s)))
        thresholds.shadow[head] = float(best)
        thresholds.nudge[head] = 1.01  # never actionable


def actionable(scores: Scores, t: Thresholds) -> dict[str, np.ndarray]:
    return {c: decide(scores.column(c), scores.rule_hits(c), t.nudge[c], t.confirm[c],
                      scores.vetoed(c)) for c in CATEGORIES}


def report(scores: Scores, t: Thresholds, tweets: Scores | None = None) -> dict[str, Any]:
    """Every figure the model card and ``model eval`` print."""
    pred = actionable(scores, t)
    per_cat = {c: prf(scores.labels(c), pred[c]) for c in CATEGORIES}
    rules_only = {c: prf(scores.labels(c), scores.rule_hits(c)) for c in CATEGORIES}
    benign = np.array([not any(ex.labels.get(c) for c in CATEGORIES) for ex in scores.examples])
    hard = np.array([bool(ex.hard_negative) for ex in scores.examples]) & benign
    any_flag = np.zeros(len(scores.examples), dtype=bool)
    any_rule = np.zeros(len(scores.examples), dtype=bool)
    for c in CATEGORIES:
        any_flag |= pred[c]
        any_rule |= scores.rule_hits(c)
    batches: dict[str, Any] = {}
    for b in sorted({ex.batch for ex in scores.examples}):
        rows = np.array([ex.batch == b for ex in scores.examples])
        f1s = [prf(scores.labels(c)[rows], pred[c][rows])["f1"] for c in CATEGORIES]
        batches[b] = {"posts": int(rows.sum()), "mean_f1": round(float(np.mean(f1s)), 4),
                      "benign_false_flag_rate": round(float(any_flag[rows & benign].mean()), 4)
                      if (rows & benign).any() else 0.0}
    out: dict[str, Any] = {
        "validation_posts": len(scores.examples),
        "benign_posts": int(benign.sum()),
        "hard_negatives": int(hard.sum()),
        "per_category": per_cat,
        "mean_f1": round(float(np.mean([m["f1"] for m in per_cat.values()])), 4),
        "min_f1": round(float(min(m["f1"] for m in per_cat.values())), 4),
        "benign_false_flag_rate": round(float(any_flag[benign].mean()), 4) if benign.any() else 0.0,
        "hard_negative_false_flag_rate": round(float(any_flag[hard].mean()), 4) if hard.any() else 0.0,
        "per_batch": batches,
        "batch_mean_f1_spread": [min(v["mean_f1"] for v in batches.values()),
                                 max(v["mean_f1"] for v in batches.values())] if batches else [],
        "rules_only": {
            "per_category": rules_only,
            "mean_f1": round(float(np.mean([m["f1"] for m in rules_only.values()])), 4),
            "benign_false_flag_rate": round(float(any_rule[benign].mean()), 4) if benign.any() else 0.0,
        },
        "thresholds": t.to_json(),
    }
    if tweets is not None:
        out["tweeteval"] = tweet_report(tweets, t)
    return out


def tweet_report(tweets: Scores, t: Thresholds) -> dict[str, Any]:
    """TweetEval validation: offensive macro-F1 counting shadow findings, and what the hate
    category flags at the actionable level on non-hateful posts."""
    out: dict[str, Any] = {}
    for head, category in AUX_HEADS.items():
        rows = np.array([ex.labels.get(head) is not None for ex in tweets.examples])
        sub = Scores([e for e, r in zip(tweets.examples, rows, strict=True) if r], tweets.probs[rows])
        y = np.array([int(ex.labels[head] or 0) for ex in sub.examples])
        act = decide(sub.column(category), sub.rule_hits(category), t.nudge[category],
                     t.confirm[category], sub.vetoed(category))
        any_level = (act | (sub.column(category) >= t.shadow[category])
                     | sub.rule_hits(category, True) | (sub.column(head) >= t.shadow[head]))
        out[category] = {
            "posts": int(rows.sum()),
            "macro_f1_counting_shadow": macro_f1(y, any_level),
            "actionable": prf(y, act),
            "actionable_macro_f1": macro_f1(y, act),
            "actionable_flag_rate_on_negatives": round(float(act[y == 0].mean()), 4),
        }
    return out


def score_examples(model: Any, examples: Sequence[Example], gate: Any = None) -> Scores:
    """Probabilities of every head for prepared examples, with the shipped ONNX model and, as
    the pipeline runs it, its first stage (a post it lets through scores 0 everywhere)."""
    from monitor.pipeline.classifier.encoder import score_gated, sigmoid

    scored = score_gated(model, gate, [ex.prepared for ex in examples],  # type: ignore[misc]
                         [bool(ex.rule_findings) for ex in examples]) if examples else []
    probs = np.array([np.zeros(len(HEADS)) if s is None else sigmoid(s.logits) for s in scored]
                     ).reshape(len(examples), len(HEADS))
    return Scores(list(examples), probs)


def gated(scores: Scores, passes: np.ndarray) -> Scores:
    """The same scores as if the first stage had let through the posts ``passes`` is False for
    (unless a rule matched them)."""
    keep = passes | np.array([bool(ex.rule_findings) for ex in scores.examples])
    return Scores(scores.examples, scores.probs * keep[:, None])
