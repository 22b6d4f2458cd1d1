"""The shipped policy model on disk: ``policy.onnx``, ``tokenizer.json`` and ``manifest.json``.

ONNX is data, not code, but a swapped or damaged file would still decide who is nudged: the
manifest records each file's SHA-256, the heads in order and the thresholds chosen on the
validation batches, and loading refuses anything that does not match, naming the file and the
command that rebuilds it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.errors import ModelError
from monitor.pipeline.classifier.corpus import HEADS

FORMAT = "socialguide-policy-onnx/1"
MANIFEST = "manifest.json"
MODEL_FILE = "policy.onnx"
TOKENIZER_FILE = "tokenizer.json"
RETRAIN = "socialguide model train"


@dataclass
class Thresholds:
    """Per category: nudge alone, confirm a rule match, and keep in the shadow log."""

    nudge: dict[str, float] = field(default_factory=dict)
    confirm: dict[str, float] = field(default_factory=dict)
    shadow: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Thresholds:
        return cls({k: float(v) for k, v in data.get("nudge", {}).items()},
                   {k: float(v) for k, v in data.get("confirm", {}).items()},
                   {k: float(v) for k, v in data.get("shadow", {}).items()})

    def to_json(self) -> dict[str, dict[str, float]]:
        return {"nudge": self.nudge, "confirm": self.confirm, "shadow": self.shadow}


@dataclass
class PolicyArtifact:
    """A verified model folder, ready to score."""

    directory: Path
    manifest: dict[str, Any]
    thresholds: Thresholds
    model: Any  # OnnxPolicyModel
    gate: Any = None  # Gate, or None: every post reaches the encoder

    @property
    def version(self) -> str:
        return str(self.manifest.get("version", "unknown"))

    @property
    def name(self) -> str:
        return str(self.manifest.get("name", "policy-minilm"))


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    if not path.is_file():
        raise ModelError(f"{path}: model manifest not found; build the model with `{RETRAIN}`")
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: unreadable model manifest ({exc}); rebuild with `{RETRAIN}`") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ModelError(f"{path}: not a socialguide policy model (format "
                         f"{data.get('format') if isinstance(data, dict) else None!r}, expected "
                         f"{FORMAT!r}); rebuild with `{RETRAIN}`")
    if list(data.get("heads", [])) != list(HEADS):
        raise ModelError(f"{path}: model heads {data.get('heads')} differ from {list(HEADS)}; "
                         f"rebuild with `{RETRAIN}`")
    return data


def verify(directory: Path, manifest: dict[str, Any]) -> dict[str, Path]:
    """Each file the manifest names, checked against its recorded SHA-256."""
    out: dict[str, Path] = {}
    for role in ("model", "tokenizer", "gate"):
        entry = manifest.get("files", {}).get(role)
        if role == "gate" and entry is None:
            continue  # a model without a first stage reads every post with the encoder
        if not isinstance(entry, dict) or "name" not in entry or "sha256" not in entry:
            raise ModelError(f"{directory / MANIFEST}: no {role} file recorded; rebuild with "
                             f"`{RETRAIN}`")
        path = directory / Path(str(entry["name"])).name
        if not path.is_file():
            raise ModelError(f"{path}: model file missing; rebuild with `{RETRAIN}`")
        if sha256(path) != entry["sha256"]:
            raise ModelError(f"{path}: SHA-256 differs from the manifest (a tampered or swapped "
                             f"file); rebuild with `{RETRAIN}`")
        out[role] = path
    return out


def load_artifact(directory: Path, threads: int = 1) -> PolicyArtifact:
    """Verify and open a model folder; every refusal is a :class:`ModelError`."""
    from monitor.pipeline.classifier.encoder import OnnxPolicyModel

    manifest = read_manifest(directory)
    files = verify(directory, manifest)
    try:
        model = OnnxPolicyModel(files["model"], files["tokenizer"], HEADS, threads=threads)
    except Exception as exc:  # onnxruntime and tokenizers raise their own types
        raise ModelError(f"{files['model']}: cannot be loaded ({type(exc).__name__}); rebuild "
                         f"with `{RETRAIN}`") from None
    gate = None
    if "gate" in files:
        from monitor.pipeline.classifier.gate import Gate

        gate = Gate.load(files["gate"])
    return PolicyArtifact(directory, manifest, Thresholds.from_json(manifest.get("thresholds", {})),
                          model, gate)


_CACHE: dict[str, PolicyArtifact] = {}
_LOCK = threading.Lock()


def load_artifact_cached(directory: Path) -> PolicyArtifact:
    """One loaded model per folder and process (the daemon and scan build pipelines often)."""
    key = str(directory.resolve())
    with _LOCK:
        art = _CACHE.get(key)
        if art is None or sha256(directory / MANIFEST) != art.manifest.get("_manifest_sha"):
            art = load_artifact(directory)
            art.manifest["_manifest_sha"] = sha256(directory / MANIFEST)
            _CACHE[key] = art
        return art
