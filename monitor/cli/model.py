"""CLI commands for the classifier (``model train|eval``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from monitor.cli.common import ConfigOption, cli_errors, err_console, out_console, settings_from

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
    from monitor.pipeline.classifier.data import (
        TASKS,
        Labelled,
        load_feedback,
        load_hard_negatives,
        load_split,
    )
    from monitor.pipeline.classifier.train import TrainConfig, train

    with cli_errors():
        settings = settings_from(config)
        target = out or _model_dir(settings.model.dir)
        cats = list(TASKS)
        tr = {c: load_split(c, "train", data_dir).head(limit) for c in cats}
        hard = load_hard_negatives()
        va = {c: load_split(c, "val", data_dir).head(limit) for c in cats}
        feedback: dict[str, Labelled] = {}
        if with_feedback:
            from monitor.cli.common import open_store

            store = open_store(settings)
            try:
                feedback = load_feedback(store, cats)
            finally:
                store.dispose()
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
    limit: Annotated[int | None, typer.Option(
        "--limit", min=20, help="Use only the first N examples of each split (quick checks).")] = None,
    config: ConfigOption = None,
) -> None:
    """Train the optional embeddings cascade (needs `pip install 'socialguide[embeddings]'`)."""
    from monitor.errors import ModelError
    from monitor.pipeline.classifier.artifact import load_model
    from monitor.pipeline.classifier.card import write_cascade_section
    from monitor.pipeline.classifier.data import TASKS, load_hard_negatives, load_split
    from monitor.pipeline.classifier.embeddings import (
        ENCODER,
        extra_installed,
        minilm_encoder,
        save_stack,
    )
    from monitor.pipeline.classifier.stack_train import train_stack

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
        with _progress("model train-embeddings") as say:
            heads, report = train_stack(
                loaded, {c: load_split(c, "train").head(limit) for c in cats},
                {c: load_split(c, "val").head(limit) for c in cats}, minilm_encoder(),
                load_hard_negatives(), ngram_c, say)
            save_stack(target, heads, loaded, {"thresholds": {c: e.get("thresholds") for c, e in
                                                              report["categories"].items()},
                                               "report": report})
            write_cascade_section(target, report, ENCODER)
        table = Table("category", "val macro-F1 @0.5 (n-gram)", "cascade", "stack everywhere",
                      "unsure share", "nudge thr", "P @nudge", "R @nudge", title=f"cascade written to {target}")
        for c, e in report["categories"].items():
            v = e.get("validation", {}).get("at", {})
            yes = v.get("nudge", {}).get("classes", {}).get("yes", {})
            table.add_row(c, str(e.get("ngram_only", {}).get("macro_f1", "-")),
                          str(v.get("0.5", {}).get("macro_f1", "-")),
                          str(e.get("stack_everywhere", {}).get("macro_f1", "-")),
                          str(e.get("unsure_share", "-")), str(e.get("thresholds", {}).get("nudge", "-")),
                          str(yes.get("precision", "-")), str(yes.get("recall", "-")))
        err_console.print(table)


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
    config: ConfigOption = None,
) -> None:
    """Print precision, recall and F1 per class, macro-F1 and a calibration summary."""
    import numpy as np

    from monitor.errors import ModelError
    from monitor.pipeline.classifier.artifact import load_model
    from monitor.pipeline.classifier.data import load_eval_file
    from monitor.pipeline.classifier.evaluate import at_threshold, evaluate
    from monitor.pipeline.classifier.features import normalize
    from monitor.pipeline.classifier.gate import gate_mask

    with cli_errors():
        settings = settings_from(config)
        loaded = load_model(model_dir or _model_dir(settings.model.dir))
        if category not in loaded.model.heads:
            raise ModelError(f"the model has no '{category}' head (it has {', '.join(loaded.model.categories)})")
        labelled = load_eval_file(data, category)
        with _progress("model eval") as say:
            say(f"scoring {len(labelled)} texts")
            X = loaded.model.features([normalize(t) for t in labelled.texts])
            p = loaded.model.heads[category].proba(X)
        thresholds = {
            "0.5": 0.5,
            "shadow": settings.model.shadow_thresholds.get(category, 0.5),
            "nudge": settings.model.thresholds.get(category, 0.9),
        }
        y = np.asarray(labelled.labels)
        report = evaluate(y, p, {k: v for k, v in thresholds.items() if k != "nudge"})
        # What can actually nudge: posts the gate lets through, at or above the threshold.
        report["at"]["nudge"] = at_threshold(
            y, np.where(gate_mask(category, labelled.texts), p, 0.0), thresholds["nudge"])
        report["category"] = category
        report["model"] = {"name": loaded.source_name(category), "version": loaded.version}
        if as_json:
            out_console.print_json(json.dumps(report))
            return
        _print_report(report)


def _print_report(report: dict) -> None:
    out_console.print(f"{report['model']['name']} ({report['model']['version']}) on "
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
