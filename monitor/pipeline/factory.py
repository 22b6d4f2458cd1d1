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
    """The policy model, which reviews what the rules found; a configured but missing or
    damaged model is a ModelError naming the file and the training command."""
    if not settings.model.enabled:
        return []
    from pathlib import Path

    from monitor.pipeline.classifier.artifact import Thresholds, load_artifact_cached
    from monitor.pipeline.classifier.detector import PolicyModelDetector
    from monitor.pipeline.classifier.prepare import Terms
    from monitor.resources import models_dir

    directory = Path(settings.model.dir) if settings.model.dir else models_dir()
    overrides = Thresholds(dict(settings.model.thresholds), dict(settings.model.confirm_thresholds),
                           dict(settings.model.shadow_thresholds))
    return [PolicyModelDetector(load_artifact_cached(directory), Terms.from_policy(settings.policy),
                                overrides)]


def build_pipeline(settings: Settings) -> Pipeline:
    """Assemble detectors and decision step from settings; raises on a broken rule or model."""
    detectors = rule_detectors(settings) + model_detectors(settings)
    decider = Decider(
        min_score=dict(settings.decision.min_score),
        default_min_score=settings.decision.default_min_score,
    )
    return Pipeline(detectors=detectors, decider=decider)
