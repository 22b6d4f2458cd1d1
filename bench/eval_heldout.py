"""Recall and false-flag rate of the rules on the team's held-back set (data/secrets-heldout/).

A post counts as flagged for a category when the rules report an actionable (not shadow)
finding of it with score >= 0.5, as the decision step would. Prints per-kind recall and every
miss and false flag, so the figures can be checked by reading the cases.

With ``--pipeline`` the whole default pipeline is measured instead (rules, the policy model
reviewing them and its own findings, the decision step): a post counts as flagged when the
flag holds an actionable finding of the category.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.heldout_round6 import PUBLISHED as ROUND6_PUBLISHED
from bench.heldout_round8 import PUBLISHED as ROUND8_PUBLISHED
from bench.heldout_round9 import PUBLISHED as ROUND9_PUBLISHED
from monitor.config import PolicySettings
from monitor.pipeline.rules import EXAMPLE_POLICY, RuleEngine, load_rules, policy_terms
from monitor.resources import rules_dir

DATA = Path(__file__).resolve().parents[1] / "data" / "secrets-heldout"
# The company contacts the held-back negatives quote (bench/heldout_secrets.py PUBLISHED, and
# the fictional companies of the later rounds), configured as the deployment's published contacts.
PUBLISHED = ["press@acme-example.com", "+1 800 555 0199", "100 Innovation Way, Austin, TX 78701",
             *dict.fromkeys(v for published in (ROUND6_PUBLISHED, ROUND8_PUBLISHED, ROUND9_PUBLISHED)
                            for vs in published.values() for v in vs)]
ROUNDS = (1, 2, 3, 4, 5, 6, 8, 9)


@dataclass
class Figures:
    """One category's figures on its positives and negatives."""

    category: str
    positives: int = 0
    caught: int = 0
    negatives: int = 0
    false_flags: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    kind_total: Counter[str] = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)
    flagged_negatives: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.caught / self.positives if self.positives else 0.0

    @property
    def false_flag_rate(self) -> float:
        return self.false_flags / self.negatives if self.negatives else 0.0


def heldout_policy() -> PolicySettings:
    """The example organisation plus the set's published contacts."""
    return EXAMPLE_POLICY.model_copy(update={
        "published_contacts": [*EXAMPLE_POLICY.published_contacts, *PUBLISHED]})


def heldout_engine() -> RuleEngine:
    """The bundled packs with the example organisation plus the set's published contacts."""
    return RuleEngine(load_rules([rules_dir()]), policy_terms(heldout_policy()))


def pipeline_flagger(batch: int = 256) -> Callable[[list[str], str], list[bool]]:
    """Whether the default pipeline (default settings, the held-back policy) flags each text
    for a category: an actionable finding of it in the post's flag."""
    from monitor.config import Settings
    from monitor.domain import Post
    from monitor.pipeline.factory import build_pipeline

    pipeline = build_pipeline(Settings(policy=heldout_policy()))

    def flag(texts: list[str], category: str) -> list[bool]:
        out: list[bool] = []
        for start in range(0, len(texts), batch):
            posts = [Post(f"heldout-{start + i}", t) for i, t in enumerate(texts[start:start + batch])]
            out.extend(any(f.category == category for f in fl.findings)
                       for fl in pipeline.analyse(posts))
        return out

    return flag


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / f"{name}.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def flagged(engine: RuleEngine, text: str, category: str) -> bool:
    return any(f.category == category and f.score >= 0.5 and not f.shadow
               for f in engine.analyse(text).findings)


def evaluate(engine: RuleEngine | None, category: str, batch: str = "",
             flag_all: Callable[[list[str], str], list[bool]] | None = None) -> Figures:
    """Figures for ``credentials`` (hard negatives) or ``pii`` (negatives); ``batch`` is ""
    for round 1, ``round2_`` or ``round3_`` for the batches written after the fixes.
    ``flag_all`` (texts, category) -> flagged, when given, decides instead of the rules alone."""
    prefix = batch + ("credentials" if category == "credentials" else "pii")
    negatives = batch + ("credentials_hard_negative" if category == "credentials"
                         else "pii_negative")
    if flag_all is None:
        assert engine is not None
        rules = engine

        def flag_all(texts: list[str], cat: str) -> list[bool]:
            return [flagged(rules, t, cat) for t in texts]

    fig = Figures(batch + category + (" (pipeline)" if engine is None else ""))
    positives = _rows(f"{prefix}_positive")
    for row, hit in zip(positives, flag_all([r["text"] for r in positives], category), strict=True):
        fig.positives += 1
        fig.kind_total[row["kind"]] += 1
        if hit:
            fig.caught += 1
            fig.by_kind[row["kind"]] += 1
        else:
            fig.misses.append(f"{row['kind']}: {row['text']!r}")
    rows = _rows(negatives)
    for row, hit in zip(rows, flag_all([r["text"] for r in rows], category), strict=True):
        fig.negatives += 1
        if hit:
            fig.false_flags += 1
            fig.flagged_negatives.append(row["text"])
    return fig


def report(fig: Figures, *, show: int = 40) -> str:
    lines = [f"{fig.category}: recall {fig.caught}/{fig.positives} = {fig.recall:.3f}; "
             f"negatives flagged {fig.false_flags}/{fig.negatives} = {fig.false_flag_rate:.2%}"]
    weak = sorted((k for k in fig.kind_total if fig.by_kind[k] < fig.kind_total[k]),
                  key=lambda k: fig.by_kind[k] / fig.kind_total[k])
    for k in weak:
        lines.append(f"  {k}: {fig.by_kind[k]}/{fig.kind_total[k]}")
    lines += [f"  miss {m}" for m in fig.misses[:show]]
    lines += [f"  false flag {t!r}" for t in fig.flagged_negatives[:show]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Figures on the held-back set, by round.")
    parser.add_argument("--round", type=int, choices=ROUNDS, action="append",
                        help="a round to measure, repeatable (default: rounds 1 and 2)")
    parser.add_argument("--pipeline", action="store_true",
                        help="measure the whole default pipeline (rules and the policy model)")
    parser.add_argument("--category", choices=("credentials", "pii"), action="append",
                        help="a category to measure, repeatable (default: both)")
    args = parser.parse_args(argv)
    rounds = args.round or [1, 2]
    engine = None if args.pipeline else heldout_engine()
    flag_all = pipeline_flagger() if args.pipeline else None
    for batch in ("" if r == 1 else f"round{r}_" for r in rounds):
        for category in args.category or ("credentials", "pii"):
            print(report(evaluate(engine, category, batch, flag_all)))


if __name__ == "__main__":
    main()
