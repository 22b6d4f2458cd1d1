"""A nudge is never sent on a hunch: hard negatives, the addressee gate, and the hashed features
that every score rests on (deterministic, batch-independent, spans that point at real tokens)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from monitor.config import settings_from_dict
from monitor.domain import Post
from monitor.pipeline.classifier.artifact import load_model
from monitor.pipeline.classifier.data import load_hard_negatives
from monitor.pipeline.classifier.detector import ModelDetector
from monitor.pipeline.classifier.evaluate import choose_thresholds
from monitor.pipeline.classifier.features import (
    TOKEN_PATTERN,
    FeatureSpace,
    hash_grams,
    normalize,
    tokens,
)
from monitor.pipeline.classifier.gate import addressed, may_nudge
from monitor.pipeline.factory import build_pipeline
from monitor.resources import models_dir


@pytest.fixture(scope="module")
def shipped() -> ModelDetector:
    """The bundled model with the default thresholds, as `scan` and the daemon use it."""
    settings = settings_from_dict({}, source="test")
    return ModelDetector(load_model(models_dir()), settings.model.thresholds,
                         settings.model.shadow_thresholds)


def test_no_hard_negative_is_an_actionable_model_finding(shipped: ModelDetector) -> None:
    idioms = load_hard_negatives()
    assert len(idioms) >= 50
    results = shipped.detect([Post(str(i), t) for i, t in enumerate(idioms)])
    actionable = [(t, f.category, f.score) for t, found in zip(idioms, results, strict=True)
                  for f in found if not f.shadow]
    assert actionable == []


def test_i_hate_mondays_reaches_nobody() -> None:
    pipeline = build_pipeline(settings_from_dict({}, source="test"))
    [flag] = pipeline.analyse([Post("1", "I hate Mondays")])
    assert not [f for f in flag.findings if f.source.startswith("model:")]


def test_a_clear_insult_aimed_at_someone_is_actionable(shipped: ModelDetector) -> None:
    [found] = shipped.detect([Post("1", "@user you are a stupid fucking idiot, shut up")])
    off = next(f for f in found if f.category == "offensive")
    assert not off.shadow and off.score >= shipped.thresholds["offensive"]


@pytest.mark.parametrize(("text", "expected"), [
    ("you are an idiot", True), ("@bob what a clown", True), ("u r dumb", True),
    ("Y'all are the worst", True), ("I'm so stupid today", False), ("your", True),
    ("the youth team", False), ("email me at a@b.c", False), ("", False),
])
def test_addressee(text: str, expected: bool) -> None:
    assert addressed(text) is expected


def test_gate_holds_back_only_offensive() -> None:
    assert not may_nudge("offensive", "I'm so stupid")
    assert may_nudge("offensive", "you're so stupid")
    assert may_nudge("hate", "they are all the same")


def test_unaddressed_offensive_finding_stays_shadow_at_any_score(shipped: ModelDetector) -> None:
    det = ModelDetector(shipped.loaded, {"offensive": 0.0, "hate": 1.0}, {"offensive": 0.0, "hate": 1.0})
    [alone, aimed] = det.detect([Post("1", "I'm so stupid, what a dumb mistake"),
                                 Post("2", "you're so stupid, what a dumb mistake")])
    assert [f.shadow for f in alone if f.category == "offensive"] == [True]
    assert [f.shadow for f in aimed if f.category == "offensive"] == [False]


def test_thresholds_count_only_gated_posts() -> None:
    # Ungated positives at high scores must not lower the nudge threshold.
    y = np.array([1] * 40 + [0] * 40)
    p = np.concatenate([np.full(40, 0.95), np.full(40, 0.95)])
    gate = np.array([True] * 30 + [False] * 10 + [False] * 40)
    nudge, _ = choose_thresholds(y, p, 0.95, gate)
    assert nudge <= 0.95  # 30 gated hits, all positive
    nudge_all, _ = choose_thresholds(y, p, 0.95)
    assert nudge_all == 0.99  # precision 0.5 everywhere: no threshold qualifies


def test_hashed_features_are_fixed_and_batch_independent() -> None:
    # Fixed constants, no Python hash(): the same buckets in every process.
    assert hash_grams(["ab"]).col.tolist() == [1613719, 1153066, 2339214, 2809944, 3041379,
                                                2916344, 171322]
    texts = [normalize(t) for t in ["You are SOOOO dumb!!!", "", "😀 ok", "a b c d e f"]]
    space = FeatureSpace.fit(texts * 2)
    batch = space.transform(texts)
    for i, t in enumerate(texts):
        alone = space.transform([t])
        assert alone.indices.tolist() == batch[i].indices.tolist()
        assert np.allclose(alone.data, batch[i].data)


def test_normalisation_squeezes_runs_and_sets_marks_apart() -> None:
    g1 = hash_grams([normalize("sooooo dumb!!!")])
    g2 = hash_grams([normalize("soo dumb ! !")])
    assert sorted(g1.col.tolist()) == sorted(g2.col.tolist())


@pytest.mark.parametrize("text", ["Hello, World! it's me", "  spaced   out\tline\n", "😀x😀 y",
                                  "İstanbul Straße", "a\ud800b", ""])
def test_tokens_match_the_token_pattern(text: str) -> None:
    tok = tokens([text])
    got = [text[a:b] for a, b in zip(tok.start.tolist(), tok.end.tolist(), strict=True)]
    expected: list[str] = []
    for m in re.finditer(TOKEN_PATTERN, text):
        if m.group().lower() not in [e.lower() for e in expected]:
            expected.append(m.group())
    assert got == expected
