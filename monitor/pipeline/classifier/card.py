"""The model card and JSON evaluation report written beside every trained artifact."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from monitor.pipeline.classifier.gate import ADDRESSED_ONLY

CARD_NAME = "MODEL_CARD.md"
REPORT_NAME = "eval_report.json"


def write_report(out_dir: Path, report: dict[str, Any]) -> Path:
    path = out_dir / REPORT_NAME
    path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def _metrics_rows(entry: dict[str, Any]) -> list[str]:
    val = entry.get("validation")
    if not val:
        return ["(no validation data)"]
    rows = ["| threshold | P (yes) | R (yes) | F1 (yes) | P (not) | R (not) | macro-F1 | flagged |",
            "|---|---|---|---|---|---|---|---|"]
    for name, m in val["at"].items():
        y, n = m["classes"]["yes"], m["classes"]["not"]
        rows.append(f"| {name} = {m['threshold']} | {y['precision']} | {y['recall']} | {y['f1']} | "
                    f"{n['precision']} | {n['recall']} | {m['macro_f1']} | {m['flagged']} |")
    cal = val["calibration"]
    rows.append("")
    rows.append(f"ROC AUC {val.get('roc_auc', 'n/a')}; Brier score {cal['brier']}; "
                f"expected calibration error {cal['ece']} (10 bins).")
    return rows


def write_card(out_dir: Path, manifest: dict[str, Any], report: dict[str, Any]) -> Path:
    """Render ``MODEL_CARD.md`` from the manifest and the evaluation report."""
    libs = ", ".join(f"{k} {v}" for k, v in sorted(manifest["libraries"].items()))
    lines = [
        f"# Model card: {manifest['name']} v{manifest['version']}",
        "",
        "Flags posts that may be **offensive** (insults, profanity aimed at people, harassment, "
        "threats) or **hate** (attacks on protected groups). One of two detector halves: it is "
        "combined with the lexicon rules, and a model-only finding below the nudge threshold "
        "goes to the shadow log, never to a person.",
        "",
        "## Facts",
        "",
        f"- Trained: {report['trained_at']} (seed {report['seed']}; the same command gives the same weights)",
        f"- Libraries: {libs}",
        f"- Artifact: `{manifest['artifact']}` (skops, SHA-256 `{manifest['sha256']}`)",
        f"- Features: word 1-3 grams + character 2-5 grams (word-bounded), hashed with numpy into "
        f"{report['features']['hash_buckets']['word']:,} + {report['features']['hash_buckets']['char']:,} "
        f"buckets (fixed 64-bit hashes, no vocabulary); buckets seen in fewer than "
        f"{report['features']['min_df']} training texts are dropped; sublinear TF-IDF, "
        f"{report['features']['n_features']} kept buckets shared by all categories",
        "- Classifier per category: logistic regression on naive-Bayes log-count-ratio weighted "
        "features (NB-LR), balanced class weights, C chosen by 5-fold cross-validation on train; "
        "Platt calibration fitted on the out-of-fold scores of train",
        "- Explanations: the tokens whose own word and character n-grams carry the most positive weight",
        "",
        "## Data",
        "",
    ]
    for c, e in report["categories"].items():
        lines.append(
            f"- `{c}`: {e['train_examples']} training tweets ({e['train_positive']} positive) from "
            f"TweetEval ({'OLID / OffensEval-2019' if c == 'offensive' else 'HatEval-2019, English'}), "
            f"plus {e['feedback_examples']} labels from reviewer/employee feedback "
            f"({e['feedback_positive']} confirmed)."
        )
    lines += ["", "The TweetEval test splits are not used anywhere.", "", "## Validation metrics", ""]
    for c, e in report["categories"].items():
        lines += [f"### {c}", "", f"C = {e['C']}; cross-validated macro-F1 on train by C: {e['cv_macro_f1']}", ""]
        lines += _metrics_rows(e)
        if "thresholds" in e:
            t = e["thresholds"]
            lines += ["", f"Chosen thresholds (`[model.thresholds]` / `[model.shadow_thresholds]`): "
                          f"nudge {t['nudge']}, shadow {t['shadow']}. The nudge threshold is the lowest "
                          f"at which validation precision stays >= {report.get('nudge_precision', 0.95)} "
                          f"(found: {t.get('nudge_from_validation', t['nudge'])})"
                          + (f", raised if needed above the highest hard-negative score "
                             f"({t['hard_negative_max']}, see data/hard-negatives/)"
                             if "hard_negative_max" in t else "") + "."]
            if c in ADDRESSED_ONLY:
                lines += ["", "The nudge row counts only posts that address someone (a second-person "
                              "word or an @mention): a model-only finding on any other post stays in "
                              "the shadow log whatever its score (`monitor/pipeline/classifier/gate.py`)."]
        lines.append("")
    lines += [
        "## Known limits and biases",
        "",
        "- English tweets from 2019 only; other languages, code and long-form text score low and "
        "unreliably. Only the first 5,000 characters of a post are read.",
        "- OLID labels any profanity as offensive, including friendly swearing; the nudge threshold "
        "is set high for that reason, and only rule agreement lifts a mid-score finding.",
        "- HatEval targets immigrants and women only; hate against other groups is under-detected. "
        "HatEval's own test set is shifted from train/val, so real-world hate recall is lower than "
        "the validation figures suggest.",
        "- Dialect and reclaimed slurs (e.g. African-American English) are known to be over-flagged "
        "by models trained on these corpora; findings are guidance for a person, never a verdict.",
        "- Thresholds are chosen on the same validation split the metrics are reported on, so the "
        "precision at the nudge threshold is optimistic.",
        "- Sarcasm, quoting and reclaimed words are beyond a bag of n-grams; idioms with violent or "
        "hateful words (\"I could murder a pizza\") can score high, which is why model-only findings "
        "need a high threshold and, for offensive, an addressee before they nudge.",
        "",
    ]
    path = out_dir / CARD_NAME
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


CASCADE_HEADING = "## Optional fine-tuned MiniLM cascade"
# Earlier cards named the section this way; a retrain replaces either.
_OLD_HEADINGS = ("## Optional embeddings cascade",)


def write_cascade_section(out_dir: Path, report: dict[str, Any], encoder: str) -> Path:
    """Add (or replace) the cascade's section in ``MODEL_CARD.md`` from its training report."""
    path = out_dir / CARD_NAME
    card = path.read_text(encoding="utf-8") if path.is_file() else ""
    for heading in (CASCADE_HEADING, *_OLD_HEADINGS):
        card = card.split(heading)[0]
    card = card.rstrip() + "\n\n"
    lo, hi = report["band"]
    ft = report["fine_tune"]
    lines = [
        CASCADE_HEADING,
        "",
        f"With `pip install 'socialguide[embeddings]'` (a CPU build of torch first) and "
        f"`socialguide model train-embeddings`, posts whose calibrated n-gram score lies in "
        f"[{lo}, {hi}] (the narrowest band within {report['band_tolerance']} macro-F1 of the best on validation) are "
        f"re-scored by {encoder} fine-tuned on the training splits of every category at once "
        f"(one logit per category; {ft.get('members', 1)} member(s) with seeds "
        f"{ft.get('seeds', [report['seed']])}, logits averaged; {ft['steps']} steps of "
        f"{ft['batch_size']} each, {ft['epochs']:g} epochs, learning rate {ft['learning_rate']:g}, "
        f"word-piece embeddings frozen). A logistic regression on [the MiniLM logits of every "
        f"category, the n-gram decision value], fitted on a stratified "
        f"{report['calibration_share']:.0%} of train that fine-tuning never saw (n-gram scores "
        f"there from a model fitted without it), combines and calibrates them; the band and "
        f"thresholds are chosen on validation (nudge precision >= {report['nudge_precision']}), "
        f"and the nudge threshold stays above every hard negative. The default install never "
        f"loads it.",
        "",
        "| category | val macro-F1 @0.5 n-gram only | cascade @0.5 | cascade @shadow | stack on every post "
        "@0.5 | share re-scored | shadow thr | nudge thr | P @nudge | R @nudge |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c, e in report["categories"].items():
        v = e.get("validation")
        if not v:
            continue
        yes = v["at"]["nudge"]["classes"]["yes"]
        lines.append(f"| {c} | {e['ngram_only']['macro_f1']} | {v['at']['0.5']['macro_f1']} | "
                     f"{v['at']['shadow']['macro_f1']} | {e['stack_everywhere']['macro_f1']} | "
                     f"{e['unsure_share']} | {e['thresholds']['shadow']} | {e['thresholds']['nudge']} | "
                     f"{yes['precision']} | {yes['recall']} |")
    feedback = ", ".join(f"{c} {e.get('feedback_examples', 0)} ({e.get('feedback_positive', 0)} confirmed)"
                         for c, e in report["categories"].items())
    lines += ["", f"Fine-tuning data also held these labels from reviewer/employee feedback: {feedback}."]
    lines += ["", "Validation macro-F1 by band (best threshold per band): "
              + "; ".join(f"{c} {e['band_macro_f1']}" for c, e in report["categories"].items()
                          if "band_macro_f1" in e) + ".",
              "", "The encoder runs only for the re-scored share (`python -m bench.bench_model` "
              "prints its speed): the cascade trades scan speed for quality. Emojis reach the encoder "
              "as their Unicode names and hashtags as words (`monitor/pipeline/classifier/minilm.py`). "
              "Explanations still name the n-gram model's tokens.", ""]
    path.write_text(card + "\n".join(lines), encoding="utf-8")
    return path
