"""The classifier: training, safe artifacts, the detector, and agreement with rules."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from monitor.config import settings_from_dict
from monitor.domain import Finding, Post
from monitor.errors import ModelError
from monitor.pipeline.classifier.artifact import (
    ARTIFACT_NAME,
    MANIFEST_NAME,
    load_model,
    load_model_cached,
    save_model,
)
from monitor.pipeline.classifier.data import Labelled, load_split
from monitor.pipeline.classifier.detector import ModelDetector
from monitor.pipeline.classifier.evaluate import choose_thresholds, evaluate
from monitor.pipeline.classifier.gate import may_nudge
from monitor.pipeline.classifier.train import TrainConfig, train
from monitor.pipeline.decide import Decider
from monitor.pipeline.factory import build_pipeline, model_detectors

N = 300


def _config() -> TrainConfig:
    cats = ("offensive", "hate")
    return TrainConfig(
        train={c: load_split(c, "train").head(N) for c in cats},
        val={c: load_split(c, "val").head(N) for c in cats},
        c_grid=(2.0,),
        folds=3,
    )


@pytest.fixture(scope="module")
def small_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained on a few hundred lines, written to a temporary folder."""
    out = tmp_path_factory.mktemp("model")
    result = train(_config())
    save_model(result.model, out)
    return out


def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


def test_training_is_deterministic() -> None:
    a = train(_config()).model
    b = train(_config()).model
    for c in ("offensive", "hate"):
        assert np.array_equal(a.heads[c].coef, b.heads[c].coef)
        assert a.heads[c].platt_a == b.heads[c].platt_a


def test_training_reports_validation_metrics_and_thresholds() -> None:
    report = train(_config()).report
    off = report["categories"]["offensive"]
    assert off["train_examples"] == N
    val = off["validation"]
    assert val["examples"] == N
    assert 0.0 <= val["at"]["0.5"]["macro_f1"] <= 1.0
    assert 0.0 < off["thresholds"]["shadow"] <= off["thresholds"]["nudge"] <= 0.99
    assert "ece" in val["calibration"]


def test_feedback_labels_are_added_to_training() -> None:
    cfg = _config()
    cfg.feedback = {"offensive": Labelled(["you absolute walnut", "lovely day"], [1, 0])}
    report = train(cfg).report
    assert report["categories"]["offensive"]["feedback_examples"] == 2
    assert report["categories"]["offensive"]["feedback_positive"] == 1
    assert report["categories"]["hate"]["feedback_examples"] == 0


def test_model_round_trips_through_skops(small_model: Path) -> None:
    loaded = load_model(small_model)
    assert loaded.model.categories == ["offensive", "hate"]
    manifest = json.loads((small_model / MANIFEST_NAME).read_text())
    assert loaded.version.endswith(manifest["sha256"][:12])
    assert loaded.source_name("hate") == "tweeteval-hate-v1"


def test_tampered_artifact_is_refused(small_model: Path, tmp_path: Path) -> None:
    d = _copy(small_model, tmp_path / "m")
    data = bytearray((d / ARTIFACT_NAME).read_bytes())
    data[len(data) // 2] ^= 0x01
    (d / ARTIFACT_NAME).write_bytes(bytes(data))
    with pytest.raises(ModelError, match="does not match the manifest"):
        load_model(d)


def test_foreign_skops_file_is_refused(small_model: Path, tmp_path: Path) -> None:
    import hashlib

    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    d = _copy(small_model, tmp_path / "m")
    sio.dump({"word": LogisticRegression()}, d / ARTIFACT_NAME)
    manifest = json.loads((d / MANIFEST_NAME).read_text())
    manifest["sha256"] = hashlib.sha256((d / ARTIFACT_NAME).read_bytes()).hexdigest()
    (d / MANIFEST_NAME).write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="untrusted types"):
        load_model(d)


def test_other_sklearn_version_names_the_retrain_command(small_model: Path, tmp_path: Path) -> None:
    d = _copy(small_model, tmp_path / "m")
    manifest = json.loads((d / MANIFEST_NAME).read_text())
    manifest["libraries"]["scikit-learn"] = "0.24.2"
    (d / MANIFEST_NAME).write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match=r"scikit-learn 0\.24\.2.*socialguide model train"):
        load_model(d)


def test_missing_model_names_the_file_and_the_command(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=rf"{MANIFEST_NAME}.*socialguide model train"):
        load_model(tmp_path / "nowhere")
    settings = settings_from_dict({"model": {"dir": str(tmp_path / "nowhere")}}, source="test")
    with pytest.raises(ModelError, match="socialguide model train"):
        build_pipeline(settings)


def test_disabled_model_adds_no_detector() -> None:
    settings = settings_from_dict({"model": {"enabled": False}}, source="test")
    assert model_detectors(settings) == []


def test_bundled_model_is_in_the_default_pipeline() -> None:
    detectors = build_pipeline(settings_from_dict({}, source="test")).detectors
    assert any(isinstance(d, ModelDetector) for d in detectors)


def test_cache_notices_a_changed_artifact(small_model: Path, tmp_path: Path) -> None:
    d = _copy(small_model, tmp_path / "m")
    assert load_model_cached(d) is load_model_cached(d)
    data = bytearray((d / ARTIFACT_NAME).read_bytes())
    data[100] ^= 0xFF
    (d / ARTIFACT_NAME).write_bytes(bytes(data) + b"x")
    with pytest.raises(ModelError):
        load_model_cached(d)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "😀🔥💯🙏", "Das ist wirklich ein schöner Tag in Berlin", "这是一个测试",
     "idiot " * 200_000, "\u0000\u202e weird \ufeff"],
    ids=["empty", "blank", "emoji", "german", "chinese", "one-megabyte", "control"],
)
def test_bad_input_gets_an_answer(small_model: Path, text: str) -> None:
    det = ModelDetector(load_model(small_model), {"offensive": 0.5, "hate": 0.5},
                        {"offensive": 0.0, "hate": 0.0})
    [found] = det.detect([Post("p", text)])
    assert isinstance(found, list)
    for f in found:
        assert 0.0 <= f.score <= 1.0
        assert all(0 <= a <= b <= len(text) for a, b in f.spans)
    if not text.strip():
        assert found == []


def test_findings_carry_source_explanation_and_spans(small_model: Path) -> None:
    loaded = load_model(small_model)
    det = ModelDetector(loaded, {"offensive": 0.99, "hate": 0.99}, {"offensive": 0.0, "hate": 0.0})
    text = "@user you are a stupid fucking idiot"
    [found] = det.detect([Post("p", text)])
    off = next(f for f in found if f.category == "offensive")
    assert off.source == "model:tweeteval-offensive-v1"
    assert off.version == loaded.version
    assert off.shadow is True  # below the nudge threshold of 0.99
    assert off.explanation, "a model finding names the tokens behind it"
    quoted = [text[a:b] for a, b in off.spans]
    assert sorted(quoted) == sorted(off.explanation)


def test_thresholds_split_nudge_from_shadow(small_model: Path) -> None:
    loaded = load_model(small_model)
    posts = [Post(str(i), t) for i, t in enumerate(load_split("offensive", "val").texts[:200])]
    probs = loaded.model.proba(loaded.model.features(
        [__import__("monitor.pipeline.classifier.features", fromlist=["normalize"]).normalize(p.text)
         for p in posts]))["offensive"]
    nudge, shadow = float(np.quantile(probs, 0.9)), float(np.quantile(probs, 0.5))
    det = ModelDetector(loaded, {"offensive": nudge, "hate": 1.0}, {"offensive": shadow, "hate": 1.0})
    results = det.detect(posts)
    for post, p, found in zip(posts, probs, results, strict=True):
        off = [f for f in found if f.category == "offensive"]
        if p < shadow:
            assert off == []
        else:
            # Below nudge, or addressed to nobody (the nudge gate): shadow.
            assert len(off) == 1 and off[0].shadow == bool(p < nudge or not may_nudge("offensive", post.text))


def test_rule_agreement_lifts_a_shadow_model_finding() -> None:
    model = Finding("offensive", "model:tweeteval-offensive-v1", "medium", 0.6, [(0, 5)], shadow=True)
    rule = Finding("offensive", "rule:offensive.insult", "medium", 0.8, [(0, 5)])
    flag = Decider().decide(Post("p", "idiot"), [model, rule])
    lifted = next(f for f in flag.findings if f.source.startswith("model:"))
    assert lifted.score == pytest.approx(1 - 0.4 * 0.2)
    assert "agrees with rule:offensive.insult" in lifted.explanation
    alone = Decider().decide(Post("p", "idiot"), [model])
    assert alone.findings == [] and alone.shadow_findings[0].shadow


def test_rule_of_another_category_does_not_lift() -> None:
    model = Finding("hate", "model:tweeteval-hate-v1", "high", 0.6, [(0, 5)], shadow=True)
    rule = Finding("pii", "rule:builtin.email", "medium", 0.9, [(0, 5)])
    flag = Decider().decide(Post("p", "x"), [model, rule])
    assert [f.source for f in flag.findings] == ["rule:builtin.email"]


def test_choose_thresholds_reaches_the_precision() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000)
    p = np.clip(y * 0.5 + rng.random(2000) * 0.5, 0, 1)
    nudge, shadow = choose_thresholds(y, p, 0.9)
    assert shadow <= nudge
    assert evaluate(y, p, {"n": nudge})["at"]["n"]["classes"]["yes"]["precision"] >= 0.9
