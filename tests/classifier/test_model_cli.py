"""``socialguide model train|calibrate|eval``, ``explain`` and ``scan --shadow`` from the outside."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.domain import CATEGORIES
from monitor.pipeline.classifier.corpus import HEADS

runner = CliRunner()


def _config(tmp_path: Path, model: Path) -> Path:
    c = tmp_path / "config.toml"
    c.write_text(f'[model]\ndir = "{model}"\n[policy.confidential]\nterms = ["Heron"]\n')
    return c


def test_training_writes_model_gate_manifest_card_and_report(smoke_model: Path) -> None:
    names = {p.name for p in smoke_model.iterdir()}
    assert {"policy.onnx", "tokenizer.json", "gate.npz", "manifest.json", "MODEL_CARD.md",
            "eval_report.json"} <= names
    m = json.loads((smoke_model / "manifest.json").read_text())
    assert m["heads"] == list(HEADS)
    assert set(m["thresholds"]["nudge"]) >= set(CATEGORIES)
    assert m["training"]["validation_batches"] and m["training"]["seed"] == 20261202
    card = (smoke_model / "MODEL_CARD.md").read_text()
    assert "Known limits" in card and "| financial |" in card and "Benign posts flagged" in card


def test_verdicts_join_the_training_data_and_are_counted(smoke_model: Path) -> None:
    m = json.loads((smoke_model / "manifest.json").read_text())
    assert m["training"]["feedback_examples"] == 2  # one confirmed, one "not a concern"
    assert "2 reviewer/employee verdicts" in (smoke_model / "MODEL_CARD.md").read_text()


def test_eval_recomputes_the_figures_of_the_model_folder(smoke_model: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["model", "eval", "--json", "--no-tweets",
                                 "--config", str(_config(tmp_path, smoke_model))])
    assert result.exit_code == 0, result.output
    rep = json.loads(result.stdout)
    assert set(rep["per_category"]) == set(CATEGORIES)
    assert 0.0 <= rep["benign_false_flag_rate"] <= 1.0 and rep["per_batch"]


def test_eval_without_a_model_names_the_training_command(tmp_path: Path) -> None:
    result = runner.invoke(app, ["model", "eval", "--config", str(_config(tmp_path, tmp_path / "none"))])
    assert result.exit_code == 2
    assert "socialguide model train" in result.output and "manifest.json" in result.output


def test_training_without_the_extra_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "torch" else real(name, *a))
    result = runner.invoke(app, ["model", "train", "--out", str(tmp_path / "m")])
    assert result.exit_code == 2
    assert "train extra" in result.output and "torch" in result.output
    assert not (tmp_path / "m").exists()


def test_explain_shows_rules_model_scores_and_the_decision(smoke_model: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["explain", "Heron ships next week",
                                 "--config", str(_config(tmp_path, smoke_model))])
    assert result.exit_code == 0, result.output
    assert "rule:conf" in result.output and "model score" in result.output
    assert "flagged" in result.output.splitlines()[-1]


def test_scan_shadow_adds_shadow_findings_marked_as_such(smoke_model: Path, tmp_path: Path) -> None:
    inp = tmp_path / "in.jsonl"
    inp.write_text('{"id": "1", "text": "Heron ships next week"}\n{"id": "2", "text": "hi"}\n')
    config = _config(tmp_path, smoke_model)
    config.write_text(config.read_text() + '[model.shadow_thresholds]\noffensive = 0.0\n')
    plain = runner.invoke(app, ["scan", str(inp), "--config", str(config)])
    shadow = runner.invoke(app, ["scan", str(inp), "--shadow", "--config", str(config)])
    assert plain.exit_code == 0 and shadow.exit_code == 0, shadow.output
    assert all("shadow_findings" not in json.loads(line) for line in plain.stdout.splitlines())
    rows = [json.loads(line) for line in shadow.stdout.splitlines()]
    assert all(f["shadow"] is True for r in rows for f in r["shadow_findings"])
    assert any(r["shadow_findings"] for r in rows)
