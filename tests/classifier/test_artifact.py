"""A missing, tampered or foreign model folder is refused, naming the file and the retrain command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.errors import ModelError
from monitor.pipeline.classifier.artifact import MANIFEST, load_artifact, sha256
from tests.classifier.conftest import copy_model


def _manifest(d: Path) -> dict:
    return json.loads((d / MANIFEST).read_text())


def _write(d: Path, m: dict) -> None:
    (d / MANIFEST).write_text(json.dumps(m))


def test_the_smoke_model_loads_with_its_gate(smoke_model: Path) -> None:
    art = load_artifact(smoke_model)
    assert art.gate is not None and art.thresholds.nudge


def test_missing_manifest_names_the_training_command(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"manifest\.json.*socialguide model train"):
        load_artifact(tmp_path)


def test_a_tampered_model_file_is_refused(smoke_model: Path, tmp_path: Path) -> None:
    d = copy_model(smoke_model, tmp_path / "m")
    with (d / "policy.onnx").open("ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ModelError, match=r"policy\.onnx: SHA-256 differs.*socialguide model train"):
        load_artifact(d)


def test_a_tampered_gate_is_refused(smoke_model: Path, tmp_path: Path) -> None:
    d = copy_model(smoke_model, tmp_path / "m")
    with (d / "gate.npz").open("ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ModelError, match=r"gate\.npz: SHA-256 differs"):
        load_artifact(d)


def test_a_foreign_format_is_refused(smoke_model: Path, tmp_path: Path) -> None:
    d = copy_model(smoke_model, tmp_path / "m")
    m = _manifest(d)
    m["format"] = "something-else/9"
    _write(d, m)
    with pytest.raises(ModelError, match="not a socialguide policy model"):
        load_artifact(d)


def test_other_heads_are_refused(smoke_model: Path, tmp_path: Path) -> None:
    d = copy_model(smoke_model, tmp_path / "m")
    m = _manifest(d)
    m["heads"] = m["heads"][::-1]
    _write(d, m)
    with pytest.raises(ModelError, match="heads"):
        load_artifact(d)


def test_a_file_that_is_not_onnx_is_refused_even_with_a_matching_hash(smoke_model: Path,
                                                                       tmp_path: Path) -> None:
    d = copy_model(smoke_model, tmp_path / "m")
    (d / "policy.onnx").write_bytes(b"not a model at all")
    m = _manifest(d)
    m["files"]["model"]["sha256"] = sha256(d / "policy.onnx")
    _write(d, m)
    with pytest.raises(ModelError, match=r"policy\.onnx: cannot be loaded.*socialguide model train"):
        load_artifact(d)


def test_a_missing_file_is_named(smoke_model: Path, tmp_path: Path) -> None:
    d = copy_model(smoke_model, tmp_path / "m")
    (d / "tokenizer.json").unlink()
    with pytest.raises(ModelError, match=r"tokenizer\.json: model file missing"):
        load_artifact(d)
