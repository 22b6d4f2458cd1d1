"""The shipped policy-post corpus meets what it promises (format, counts, independent splits)."""

from __future__ import annotations

import json
from collections import Counter

from monitor.domain import CATEGORIES
from monitor.pipeline.classifier.corpus import (
    corpus_dir,
    load_corpus,
    load_orgs,
    validation_batches,
)

KINDS = {"disclaimer_opinion", "protected_speech", "own_salary", "nda_customer_consumer",
         "public_info", "published_contacts", "placeholder_docs", "codename_ordinary_sense",
         "own_contact", "profanity_no_target", "self_deprecation", "idiom", "friendly_banter",
         "reclaimed_term", "quoted_to_condemn", "competitor_neutral", "near_miss_financial",
         "near_miss_company_voice"}


def test_every_record_is_well_formed_and_belongs_to_a_known_organisation() -> None:
    orgs = load_orgs()
    keys = {"id", "batch", "org", "platform", "register", "lang", "text", "labels",
            "hard_negative", "evasion"}
    ids: set[str] = set()
    for path in sorted((corpus_dir() / "batches").glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            r = json.loads(line)
            assert set(r) == keys, r.get("id")
            assert r["batch"] == path.stem and r["id"] not in ids
            ids.add(r["id"])
            assert f"{r['batch']}:{r['org']}" in orgs
            assert set(r["labels"]) <= set(CATEGORIES)
            assert not (r["labels"] and r["hard_negative"])
            assert r["hard_negative"] is None or r["hard_negative"] in KINDS


def test_counts_meet_the_corpus_minimums() -> None:
    rows = load_corpus()
    positives = Counter(c for ex in rows for c in CATEGORIES if ex.labels[c])
    benign = [ex for ex in rows if not any(ex.labels.values())]
    hard = [ex for ex in benign if ex.hard_negative]
    assert min(positives[c] for c in CATEGORIES) >= 300, positives
    assert len(benign) >= 3000 and len(hard) >= 1000
    assert {ex.hard_negative for ex in hard} == KINDS
    assert len({ex.batch for ex in rows}) >= 6
    assert len({ex.org for ex in rows}) >= 6


def test_validation_is_whole_batches_with_every_category_and_kind() -> None:
    val = set(validation_batches())
    rows = load_corpus()
    batches = {ex.batch for ex in rows}
    assert val and val < batches
    held = [ex for ex in rows if ex.batch in val]
    assert all(any(ex.labels[c] for ex in held) for c in CATEGORIES)
    assert {ex.hard_negative for ex in held if ex.hard_negative} == KINDS
