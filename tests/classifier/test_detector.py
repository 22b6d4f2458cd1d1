"""The policy model as the pipeline's reviewing stage: it confirms or vetoes rule matches, adds
its own findings with the words that moved the score, and answers any post."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from monitor.config import settings_from_dict
from monitor.domain import CATEGORIES, Finding, Post
from monitor.pipeline.classifier.artifact import Thresholds, load_artifact
from monitor.pipeline.classifier.corpus import AUX_HEADS, HEADS
from monitor.pipeline.classifier.detector import PolicyModelDetector
from monitor.pipeline.classifier.encoder import WINDOW
from monitor.pipeline.classifier.prepare import Terms, prepare
from monitor.pipeline.factory import build_pipeline

RULE = Finding(category="confidential", source="rule:conf.codename", severity="high", score=0.85,
               spans=[(0, 5)])
ALL = dict.fromkeys(CATEGORIES, 0.0)


def _detector(model: Path, **over: dict[str, float]) -> PolicyModelDetector:
    """The model reading every post (its first stage is tested on its own below)."""
    art = load_artifact(model)
    art.gate = None
    return PolicyModelDetector(art, Terms(), Thresholds(over.get("nudge", {}),
                                                        over.get("confirm", {}),
                                                        over.get("shadow", {})))


def test_a_rule_match_below_the_confirm_threshold_is_vetoed_to_the_shadow_log(smoke_model: Path) -> None:
    det = _detector(smoke_model, confirm=dict.fromkeys(CATEGORIES, 1.0), nudge=dict.fromkeys(CATEGORIES, 1.0),
                    shadow=dict.fromkeys(CATEGORIES, 1.0))
    [found] = det.review([Post("1", "Heron ships soon")], [[RULE]])
    rule = next(f for f in found if f.source == RULE.source)
    assert rule.shadow and "reads as harmless" in rule.explanation[-1]


def test_a_rule_match_the_model_confirms_stays_actionable(smoke_model: Path) -> None:
    det = _detector(smoke_model, confirm=ALL)
    [found] = det.review([Post("1", "Heron ships soon")], [[RULE]])
    rule = next(f for f in found if f.source == RULE.source)
    assert not rule.shadow and rule.explanation[-1].startswith("model agrees")


def test_an_already_shadow_rule_finding_is_left_alone(smoke_model: Path) -> None:
    det = _detector(smoke_model, confirm=ALL)
    quiet = replace(RULE, shadow=True)
    [found] = det.review([Post("1", "Heron ships soon")], [[quiet]])
    assert next(f for f in found if f.source == RULE.source) == quiet


def test_model_findings_quote_content_words_inside_the_post(smoke_model: Path) -> None:
    det = _detector(smoke_model, nudge=ALL, shadow=ALL)
    text = "Honestly the quarterly numbers will shock everyone, buy before Friday"
    [found] = det.review([Post("1", text)], [[]])
    model = [f for f in found if f.source.startswith("model:")]
    # Nothing in the text could be a secret, so the credentials guess stays in the shadow log.
    assert {f.category for f in model if not f.shadow} == set(CATEGORIES) - {"credentials"}
    [cred] = [f for f in model if f.category == "credentials"]
    assert cred.shadow and "no value that could be one" in cred.explanation[-1]
    for f in model:
        assert f.spans and all(0 <= a < b <= len(text) for a, b in f.spans)
        assert f.policy_section and f.guidance
        assert not {w.lower() for w in f.explanation} & {"the", "will", "before"}


def test_the_public_data_heads_never_make_an_actionable_finding(smoke_model: Path) -> None:
    det = _detector(smoke_model, nudge=ALL, shadow=ALL)
    [found] = det.review([Post("1", "whatever you say, genius")], [[]])
    aux = [f for f in found if any(f.source.endswith("/" + h) for h in AUX_HEADS)]
    assert all(f.shadow for f in aux)


def test_the_first_stage_sends_on_posts_a_rule_matched(smoke_model: Path) -> None:
    art = load_artifact(smoke_model)
    assert art.gate is not None
    art.gate.threshold = 1.01  # nothing passes on its score alone
    det = PolicyModelDetector(art, Terms(), Thresholds(ALL, ALL, ALL))
    plain, matched = det.review([Post("1", "lunch was nice"), Post("2", "Heron ships soon")],
                                [[], [RULE]])
    assert plain == []
    assert any(f.source.startswith("model:") for f in matched)


@pytest.mark.parametrize("text", ["", "   ", "🙂🙂🙂", "Dies ist ein ganz normaler Beitrag.",
                                  "ｔｅｓｔ ｍｅ", "x" * 1_000_000, "a\u200bb\u200bc " * 2000])
def test_any_post_gets_an_answer(smoke_model: Path, text: str) -> None:
    det = _detector(smoke_model)
    [found] = det.review([Post("1", text)], [[]])
    assert all(0 <= a <= b <= len(text) for f in found for a, b in f.spans)


def test_long_posts_are_read_in_overlapping_windows(smoke_model: Path) -> None:
    art = load_artifact(smoke_model)
    prep = prepare("filler words here. " * 400)
    windows = art.model.windower.windows([prep])
    assert len(windows) > 3 and all(len(w.ids) <= WINDOW for w in windows)
    covered = [w.offsets[1][0] for w in windows]
    assert covered == sorted(covered) and covered[1] < windows[0].offsets[-2][1]


def test_each_token_share_adds_up_to_the_logit(smoke_model: Path) -> None:
    """The explanation is exact: logit = bias + mean(token shares), the same bias for any post."""
    art = load_artifact(smoke_model)
    texts = ["you are a clown", "the launch is next week and nobody knows", "ok"]
    windows = art.model.windower.windows([prepare(t) for t in texts])
    logits, shares = art.model.run(windows)
    bias = np.array([logits[i] - shares[i].mean(axis=0) for i in range(len(windows))])
    assert np.allclose(bias, bias[0], atol=1e-3)
    assert bias.shape[1] == len(HEADS)


def test_the_pipeline_runs_rules_then_the_model_that_reviews_them(smoke_model: Path) -> None:
    settings = settings_from_dict({"model": {"dir": str(smoke_model), "confirm_thresholds": ALL},
                                   "policy": {"confidential": {"terms": ["Heron"]}}})
    pipeline = build_pipeline(settings)
    assert pipeline.has_model
    [flag] = pipeline.analyse([Post("1", "Heron ships next week")])
    rule = next(f for f in flag.findings if f.source.startswith("rule:conf"))
    assert rule.explanation[-1].startswith("model agrees")
    scores = pipeline.model_scores([Post("1", "Heron ships next week")])[0]
    assert set(scores) == set(HEADS) and all(0.0 <= p <= 1.0 for p in scores.values())
