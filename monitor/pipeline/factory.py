"""Builds the one pipeline every entry point uses, from settings."""

from __future__ import annotations

from monitor.config import Settings
from monitor.pipeline.core import Pipeline
from monitor.pipeline.decide import Decider
from monitor.pipeline.detector import Detector


def rule_detectors(settings: Settings) -> list[Detector]:
    """The rules half of the pipeline: bundled and configured packs, compiled once per settings."""
    from monitor.pipeline.rules import RulesDetector, engine_for

    return [RulesDetector(engine_for(settings))]


def model_detectors(settings: Settings) -> list[Detector]:
    """The classifier half of the pipeline; a configured but missing model is a ModelError."""
    if not settings.model.enabled:
        return []
    from pathlib import Path

    from monitor.pipeline.classifier.artifact import load_model_cached
    from monitor.pipeline.classifier.detector import ModelDetector
    from monitor.resources import models_dir

    directory = Path(settings.model.dir) if settings.model.dir else models_dir()
    loaded = load_model_cached(directory)
    # The fine-tuned MiniLM cascade only when its extra is installed and its artifact exists.
    from monitor.pipeline.classifier.cascade import cascade_for

    cascade = cascade_for(directory, loaded) if settings.model.cascade else None
    return [ModelDetector(loaded, settings.model.thresholds, settings.model.shadow_thresholds,
                          cascade=cascade)]


def build_pipeline(settings: Settings) -> Pipeline:
    """Assemble detectors and decision step from settings; raises on a broken rule or model."""
    detectors = rule_detectors(settings) + model_detectors(settings)
    decider = Decider(
        min_score=dict(settings.decision.min_score),
        default_min_score=settings.decision.default_min_score,
    )
    return Pipeline(detectors=detectors, decider=decider)
