"""The optional embeddings cascade, run with a small stand-in encoder.

The real encoder (all-MiniLM-L6-v2) needs the ``embeddings`` extra and torch, which the test
environment does not install; ``standin_encode`` below is a clearly fake, deterministic encoder
(hashed word counts, unit length) so the cascade's own code — training the stacked heads,
the safe artifact, the band, the thresholds, the refusals — runs for real everywhere.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.domain import Post
from monitor.errors import ModelError
from monitor.pipeline.classifier.artifact import load_model, save_model
from monitor.pipeline.classifier.card import write_cascade_section
from monitor.pipeline.classifier.data import load_hard_negatives, load_split
from monitor.pipeline.classifier.detector import ModelDetector
from monitor.pipeline.classifier.embeddings import (
    STACK_ARTIFACT,
    STACK_MANIFEST,
    cascade_for,
    extra_installed,
    load_cascade,
    save_stack,
)
from monitor.pipeline.classifier.stack_train import train_stack
from monitor.pipeline.classifier.train import TrainConfig, train

N = 300
DIM = 32
CATS = ("offensive", "hate")


class StandinEncoder:
    """STAND-IN for MiniLM (tests only): hashed lower-cased word counts, unit length; records
    how many texts it was asked to encode."""

    def __init__(self) -> None:
        self.seen = 0

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.seen += len(texts)
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                out[i, zlib.crc32(w.encode()) % DIM] += 1.0
        norm = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norm, 1e-9)


@pytest.fixture(scope="module")
def stacked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small n-gram model plus a cascade trained with the stand-in encoder."""
    out = tmp_path_factory.mktemp("cascade")
    tr = {c: load_split(c, "train").head(N) for c in CATS}
    va = {c: load_split(c, "val").head(N) for c in CATS}
    save_model(train(TrainConfig(train=tr, val=va, c_grid=(2.0,), folds=3)).model, out)
    loaded = load_model(out)
    heads, report = train_stack(loaded, tr, va, StandinEncoder(), load_hard_negatives(),
                                {c: 2.0 for c in CATS}, folds=3)
    save_stack(out, heads, loaded, {"thresholds": {c: e["thresholds"] for c, e in
                                                   report["categories"].items()}, "report": report})
    (out / "MODEL_CARD.md").write_text("# Model card\n\nn-gram model facts\n")
    write_cascade_section(out, report, "stand-in")
    write_cascade_section(out, report, "stand-in")  # replaces, never duplicates
    return out


def test_stack_training_reports_cascade_and_thresholds(stacked: Path) -> None:
    manifest = json.loads((stacked / STACK_MANIFEST).read_text())
    for c in CATS:
        e = manifest["report"]["categories"][c]
        assert e["validation"]["examples"] == N
        assert 0.0 <= e["validation"]["at"]["0.5"]["macro_f1"] <= 1.0
        assert 0.0 < e["thresholds"]["shadow"] <= e["thresholds"]["nudge"] <= 0.99
        assert e["thresholds"]["nudge"] > e["thresholds"]["hard_negative_max"]
        assert 0.0 <= e["unsure_share"] <= 1.0
    card = (stacked / "MODEL_CARD.md").read_text()
    assert card.startswith("# Model card") and card.count("## Optional embeddings cascade") == 1
    assert "| offensive |" in card and "| hate |" in card


def test_cascade_encodes_only_the_unsure_band(stacked: Path) -> None:
    loaded = load_model(stacked)
    enc = StandinEncoder()
    cascade = load_cascade(stacked, loaded, encode=enc)
    texts = load_split("offensive", "val").texts[:200]
    X = loaded.model.features([t.lower() for t in texts])
    plain = loaded.model.proba(X)
    mixed = cascade.proba(loaded.model, texts, X)
    lo, hi = cascade.band
    unsure = np.zeros(len(texts), dtype=bool)
    for c in CATS:
        unsure |= (plain[c] >= lo) & (plain[c] <= hi)
    assert enc.seen == int(unsure.sum()) > 0
    for c in CATS:
        settled = (plain[c] < lo) | (plain[c] > hi)
        assert np.array_equal(mixed[c][settled], plain[c][settled])
        assert np.all((mixed[c] >= 0) & (mixed[c] <= 1))


def test_detector_with_cascade_uses_its_thresholds(stacked: Path) -> None:
    loaded = load_model(stacked)
    cascade = load_cascade(stacked, loaded, encode=StandinEncoder())
    det = ModelDetector(loaded, {"offensive": 0.1, "hate": 0.1}, {"offensive": 0.0, "hate": 0.0},
                        cascade=cascade)
    assert det.thresholds == cascade.thresholds
    assert "cascade" in det.describe()
    results = det.detect([Post("1", "@user you are a stupid idiot"), Post("2", ""), Post("3", "😀")])
    assert results[1] == []
    for found in results:
        for f in found:
            assert 0.0 <= f.score <= 1.0


def test_stack_for_another_ngram_model_is_refused(stacked: Path, tmp_path: Path) -> None:
    d = tmp_path / "m"
    d.mkdir()
    for f in stacked.iterdir():
        (d / f.name).write_bytes(f.read_bytes())
    manifest = json.loads((d / STACK_MANIFEST).read_text())
    manifest["ngram_sha256"] = "0" * 64
    (d / STACK_MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="another n-gram model.*train-embeddings"):
        load_cascade(d, load_model(d), encode=StandinEncoder())


def test_tampered_stack_is_refused(stacked: Path, tmp_path: Path) -> None:
    d = tmp_path / "m"
    d.mkdir()
    for f in stacked.iterdir():
        (d / f.name).write_bytes(f.read_bytes())
    data = bytearray((d / STACK_ARTIFACT).read_bytes())
    data[len(data) // 2] ^= 0x01
    (d / STACK_ARTIFACT).write_bytes(bytes(data))
    with pytest.raises(ModelError, match="does not match"):
        load_cascade(d, load_model(d), encode=StandinEncoder())


def test_no_stack_files_means_no_cascade(tmp_path: Path, stacked: Path) -> None:
    d = tmp_path / "m"
    d.mkdir()
    for f in stacked.iterdir():
        if f.name not in (STACK_ARTIFACT, STACK_MANIFEST):
            (d / f.name).write_bytes(f.read_bytes())
    assert cascade_for(d, load_model(d)) is None


@pytest.mark.skipif(extra_installed(), reason="checks the behaviour without the embeddings extra")
def test_without_the_extra_the_ngram_model_runs_alone(stacked: Path) -> None:
    assert cascade_for(stacked, load_model(stacked)) is None
    result = CliRunner().invoke(app, ["model", "train-embeddings", "--model-dir", str(stacked)])
    assert result.exit_code == 2
    assert "socialguide[embeddings]" in result.output
