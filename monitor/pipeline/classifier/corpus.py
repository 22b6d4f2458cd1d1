"""The labelled policy-post corpus (``data/policy-posts/``) and the other labelled texts the
policy model learns from, each turned into what the model reads.

Validation is whole batches never used in training (``splits.json``): each batch was written
independently, so a held-out batch measures whether the model learnt the policy, not one
writer's phrasing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from monitor.domain import CATEGORIES, Finding
from monitor.errors import InputError, ModelError
from monitor.pipeline.classifier.data import data_dir, load_split
from monitor.pipeline.classifier.prepare import Prepared, Terms, prepare

CORPUS = "policy-posts"
# Auxiliary heads: the public offensive and hate data label by their own guidelines (OLID
# counts untargeted profanity as offensive), so they train heads of their own that share the
# encoder; their scores only ever reach the shadow log.
AUX_HEADS: dict[str, str] = {"tweeteval_offensive": "offensive", "tweeteval_hate": "hate"}
HEADS: tuple[str, ...] = (*CATEGORIES, *AUX_HEADS)
# Public tweets are negatives for the categories no tweet of theirs is about.
TWEET_NEGATIVES = ("credentials", "pii", "confidential", "financial", "company_voice")


@dataclass
class Example:
    """One text to learn from or to score: its labels per head, ``None`` where unknown."""

    id: str
    text: str
    labels: dict[str, int | None]
    batch: str = ""
    org: str = ""
    hard_negative: str | None = None
    prepared: Prepared | None = None
    rule_findings: list[Finding] = field(default_factory=list)

    def target(self) -> tuple[list[float], list[float]]:
        """Per head, the label and whether it counts (0 mask = unknown)."""
        y = [float(self.labels.get(h) or 0) for h in HEADS]
        m = [0.0 if self.labels.get(h) is None else 1.0 for h in HEADS]
        return y, m


def corpus_dir(root: Path | None = None) -> Path:
    return (root or data_dir()) / CORPUS


def validation_batches(root: Path | None = None) -> tuple[str, ...]:
    path = corpus_dir(root) / "splits.json"
    try:
        return tuple(json.loads(path.read_text("utf-8"))["validation"])
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"{path}: cannot read the validation batches ({exc})") from None


def load_orgs(root: Path | None = None) -> dict[str, Terms]:
    """Every batch's fictional organisations, as ``"<batch>:<org>"`` -> terms."""
    out: dict[str, Terms] = {}
    for path in sorted((corpus_dir(root) / "orgs").glob("*.json")):
        for org, t in json.loads(path.read_text("utf-8")).items():
            out[f"{path.stem}:{org}"] = Terms.from_lists(
                company=t.get("company_names", []),
                codename=t.get("confidential_terms", []),
                nda_customer=t.get("customers_under_nda", []),
                competitor=t.get("competitors", []),
                customer=[c for c in t.get("customers", [])
                          if c not in t.get("customers_under_nda", [])],
                disclaimer=t.get("disclaimers", []),
                contact=t.get("published_contacts", []),
            )
    return out


def load_corpus(root: Path | None = None, batches: Iterable[str] | None = None) -> list[Example]:
    """The corpus records (all batches, or those named), every category labelled."""
    wanted = set(batches) if batches is not None else None
    out: list[Example] = []
    files = sorted((corpus_dir(root) / "batches").glob("*.jsonl"))
    if not files:
        raise ModelError(f"{corpus_dir(root)}/batches: no corpus batches found")
    for path in files:
        if wanted is not None and path.stem not in wanted:
            continue
        for no, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
                labels = set(r["labels"])
                out.append(Example(
                    id=str(r["id"]), text=str(r["text"]),
                    labels={c: int(c in labels) for c in CATEGORIES},
                    batch=str(r["batch"]), org=f"{r['batch']}:{r['org']}",
                    hard_negative=r.get("hard_negative")))
            except (ValueError, KeyError, TypeError) as exc:
                raise InputError(f"bad corpus record ({exc})", str(path), no) from None
    return out


def tweet_examples(split: str, limit: int | None = None) -> list[Example]:
    """The shipped TweetEval split, for the auxiliary heads (train and val only, never test)."""
    out: list[Example] = []
    for head, category in AUX_HEADS.items():
        data = load_split(category, split)
        for i, (text, label) in enumerate(zip(data.texts, data.labels, strict=True)):
            if limit is not None and i >= limit:
                break
            labels: dict[str, int | None] = {h: None for h in HEADS}
            labels[head] = label
            for c in TWEET_NEGATIVES:
                labels[c] = 0
            out.append(Example(id=f"{head}-{split}-{i}", text=text, labels=labels,
                               batch=f"tweeteval-{split}"))
    return out


def evidence(findings: Sequence[Finding]) -> tuple[list[tuple[int, int, str]], list[str]]:
    """What the model is shown of rule matches: credential and personal-data spans (they become
    placeholders) and the other categories rules fired for."""
    spans: list[tuple[int, int, str]] = []
    cats: list[str] = []
    for f in findings:
        if not f.source.startswith("rule:"):
            continue
        if f.category in ("credentials", "pii"):
            spans.extend((a, b, f.category) for a, b in f.spans)
        if f.category not in cats:
            cats.append(f.category)
    return spans, cats


def prepare_examples(examples: Sequence[Example], orgs: dict[str, Terms],
                     engines: dict[str, object]) -> None:
    """Run each example's organisation's rules and prepare its text, in place.

    ``engines`` maps an org key (``""`` for none) to a rule engine with ``analyse(text)``.
    """
    for ex in examples:
        engine = engines.get(ex.org) or engines[""]
        ex.rule_findings = engine.analyse(ex.text).findings  # type: ignore[attr-defined]
        spans, cats = evidence(ex.rule_findings)
        ex.prepared = prepare(ex.text, orgs.get(ex.org), spans, cats)


def rule_terms(terms: Terms) -> dict[str, list[str]]:
    """An organisation's terms under the names rule packs use (``policy.confidential.terms``)."""
    k = terms.by_kind
    return {
        "policy.company_names": list(k.get("company", ())),
        "policy.disclaimers": list(k.get("disclaimer", ())),
        "policy.confidential.terms": list(k.get("codename", ())),
        "policy.confidential.customers_under_nda": list(k.get("nda_customer", ())),
        "policy.disparagement.competitors": list(k.get("competitor", ())),
        "policy.disparagement.customers": [*k.get("nda_customer", ()), *k.get("customer", ())],
    }


def engines_for(orgs: dict[str, Terms], rule_paths: Sequence[Path]) -> dict[str, object]:
    """One compiled rule engine per organisation (``""``: no organisation terms)."""
    from monitor.pipeline.rules import RuleEngine, load_rules

    rules = load_rules(list(rule_paths))
    out: dict[str, object] = {"": RuleEngine(rules, rule_terms(Terms()), [])}
    for key, terms in orgs.items():
        out[key] = RuleEngine(rules, rule_terms(terms), [])
    return out
