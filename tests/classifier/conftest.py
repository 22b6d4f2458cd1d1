"""Fixtures for the policy model: the shipped one, and a smoke-trained one (seconds, real torch)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.pipeline.classifier.artifact import PolicyArtifact, load_artifact
from monitor.resources import models_dir
from tests.factories import store_with_feedback

SMOKE = ["--limit", "40", "--max-steps", "2", "--epochs", "1", "--tweets-per-epoch", "20"]


@pytest.fixture(scope="session")
def shipped() -> PolicyArtifact:
    return load_artifact(models_dir())


@pytest.fixture(scope="session")
def smoke_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``socialguide model train --with-feedback`` end to end on a tiny sample: real
    fine-tuning, export, thresholds, gate, card, with two reviewer verdicts from a store."""
    base = tmp_path_factory.mktemp("smoke-model")
    url = f"sqlite:///{base / 'fb.db'}"
    store_with_feedback(url)
    config = base / "config.toml"
    config.write_text(f'[store]\nurl = "{url}"\n')
    out = base / "model"
    result = CliRunner().invoke(app, ["model", "train", *SMOKE, "--with-feedback", "--out", str(out),
                                      "--config", str(config)])
    assert result.exit_code == 0, result.output
    return out


def copy_model(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst
