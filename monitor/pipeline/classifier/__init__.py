"""The policy model: one fine-tuned encoder for all eight categories, run with onnxruntime."""

from monitor.pipeline.classifier.artifact import PolicyArtifact, load_artifact
from monitor.pipeline.classifier.detector import PolicyModelDetector

__all__ = ["PolicyArtifact", "PolicyModelDetector", "load_artifact"]
