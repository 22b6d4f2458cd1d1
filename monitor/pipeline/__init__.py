"""Posts in, flags out: normalisation, detectors (rules, classifier) and the decision step."""

from monitor.pipeline.core import Pipeline
from monitor.pipeline.detector import Detector

__all__ = ["Detector", "Pipeline"]
