"""A calibration reads the batches the shipped encoder learnt from, not every batch the corpus
has since gained (those wait for the next fine-tuning)."""

from __future__ import annotations

import json

from monitor.pipeline.classifier.corpus import load_corpus, validation_batches
from monitor.pipeline.classifier.recipe import trained_batches
from monitor.resources import models_dir


def test_the_shipped_manifest_names_training_batches_of_the_corpus() -> None:
    training = json.loads((models_dir() / "manifest.json").read_text("utf-8"))["training"]
    batches = trained_batches(training)
    assert batches, "the shipped manifest records the batches it was trained on"
    corpus = {ex.batch for ex in load_corpus()}
    assert set(batches) <= corpus - set(validation_batches())
    # The corpus may hold batches the shipped model has not learnt from yet.
    assert set(batches) < corpus


def test_a_manifest_without_the_record_lets_calibration_use_the_whole_split() -> None:
    assert trained_batches({}) is None
    assert trained_batches({"corpus_counts": {"train": {"batches": "b01"}}}) is None
    assert trained_batches({"corpus_counts": {"train": {"batches": ["b01", "b03"]}}}) == ("b01", "b03")
