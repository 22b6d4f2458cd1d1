"""The scikit-learn classifier: features, training, evaluation, safe artifacts and the detector."""

from monitor.pipeline.classifier.artifact import LoadedModel, load_model, save_model
from monitor.pipeline.classifier.detector import ModelDetector

__all__ = ["LoadedModel", "ModelDetector", "load_model", "save_model"]
