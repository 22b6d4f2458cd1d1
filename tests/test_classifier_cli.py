"""``socialguide model train|eval`` end to end on a small slice of the shipped data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.pipeline.classifier.data import data_dir, load_feedback
from monitor.store import Store
from tests.factories import store_with_feedback

runner = CliRunner()


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli-model")
    result = runner.invoke(app, ["model", "train", "--limit", "200", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_train_writes_artifact_card_and_report(trained: Path) -> None:
    names = {p.name for p in trained.iterdir()}
    assert {"tweeteval.skops", "manifest.json", "MODEL_CARD.md", "eval_report.json"} <= names
    card = (trained / "MODEL_CARD.md").read_text()
    assert "200 training tweets" in card and "Known limits" in card
    report = json.loads((trained / "eval_report.json").read_text())
    assert report["categories"]["hate"]["validation"]["examples"] == 200


def test_eval_prints_per_class_metrics_and_calibration(trained: Path, tmp_path: Path) -> None:
    data = tmp_path / "eval.jsonl"
    rows = [{"text": "you are a disgusting idiot", "label": 1}, {"text": "lovely weather", "label": 0},
            {"text": "shut up you moron", "label": "offensive"}, {"text": "great talk", "label": False}]
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    result = runner.invoke(app, ["model", "eval", "--data", str(data), "--model-dir", str(trained)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "macro-F1 at 0.5" in out and "recall" in out and "Brier" in out and "ECE" in out


def test_eval_reads_a_tweeteval_pair_as_json(trained: Path) -> None:
    text = data_dir() / "tweeteval-hate" / "val_text.txt"
    result = runner.invoke(app, ["model", "eval", "--data", str(text), "--category", "hate",
                                 "--model-dir", str(trained), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["examples"] == 1000
    assert set(report["at"]) == {"0.5", "shadow", "nudge"}
    assert 0.5 < report["roc_auc"] <= 1.0


def test_eval_names_the_bad_line(trained: Path, tmp_path: Path) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text('{"text": "fine", "label": 0}\n{"text": "x", "label": 7}\n')
    result = runner.invoke(app, ["model", "eval", "--data", str(data), "--model-dir", str(trained)])
    assert result.exit_code != 0
    assert "bad.jsonl:2" in result.output


def test_eval_without_a_model_names_the_training_command(tmp_path: Path) -> None:
    data = tmp_path / "e.jsonl"
    data.write_text('{"text": "fine", "label": 0}\n')
    result = runner.invoke(app, ["model", "eval", "--data", str(data), "--model-dir",
                                 str(tmp_path / "none")])
    assert result.exit_code == 2
    assert "socialguide model train" in result.output and "manifest.json" in result.output


def test_feedback_labels_come_from_the_store(tmp_db_url: str) -> None:
    store_with_feedback(tmp_db_url)
    store = Store(tmp_db_url)
    try:
        fb = load_feedback(store, ["offensive", "hate"])
    finally:
        store.dispose()
    assert sorted(zip(fb["offensive"].texts, fb["offensive"].labels, strict=True)) == [
        ("nice goal tonight", 0), ("you are a worthless clown", 1)]
    assert len(fb["hate"]) == 0


def test_train_with_feedback_counts_it_in_the_card(tmp_db_url: str, tmp_path: Path) -> None:
    store_with_feedback(tmp_db_url)
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\nurl = "{tmp_db_url}"\n')
    out = tmp_path / "m"
    result = runner.invoke(app, ["model", "train", "--with-feedback", "--limit", "100",
                                 "--out", str(out), "--config", str(config)])
    assert result.exit_code == 0, result.output
    card = (out / "MODEL_CARD.md").read_text()
    assert "plus 2 labels from reviewer/employee feedback (1 confirmed)" in card
    assert json.loads((out / "manifest.json").read_text())["feedback_examples"]["offensive"] == 2
