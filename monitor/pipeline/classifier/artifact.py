"""Saving and loading the model safely: skops with an explicit trusted-types list, a manifest
with the artifact's SHA-256 and the library versions, and clear refusals.

A tampered or foreign file fails the hash or the type check; a file written by another
scikit-learn version is refused with the command that rebuilds it, never loaded into drift.

The artifact is written with skops. It holds only plain arrays and numbers, so it is read back
by a strict reader of the skops layout (``schema.json`` plus ``.npy`` members) that accepts
only the node types in :data:`TRUSTED_TYPES` and loads arrays with ``allow_pickle=False``:
no object is ever constructed from the file, and loading needs neither scikit-learn nor skops
(importing them costs about 2 s and 100 MB per process).
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import Any

import numpy as np

from monitor.errors import ModelError
from monitor.pipeline.classifier.features import NORMALIZER_VERSION, FeatureSpace
from monitor.pipeline.classifier.model import Head, TextModel

ARTIFACT_NAME = "tweeteval.skops"
MANIFEST_NAME = "manifest.json"
FORMAT = 4
MODEL_NAME = "tweeteval"
MODEL_VERSION = "1"
RETRAIN = "socialguide model train"

# Everything the artifact may contain beyond builtins; anything else is refused.
# The artifact holds only plain arrays: the hashed feature space is code, plus these arrays.
TRUSTED_TYPES: list[str] = ["numpy.ndarray"]


_BUILTINS = {f"builtins.{t}" for t in ("dict", "list", "str", "int", "float", "tuple", "bool")}
# The skops node loaders the strict reader understands, by the type they carry.
_LOADERS = {"DictNode": "builtins.dict", "ListNode": "builtins.list", "JsonNode": None,
            "NdArrayNode": "numpy.ndarray", "TypeNode": None}


def _types_in(schema: Any) -> set[str]:
    """Every type the skops schema names, so anything outside :data:`TRUSTED_TYPES` is refused
    before a single value is read."""
    found: set[str] = set()
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("__class__"), str) and isinstance(node.get("__module__"), str):
                found.add(f"{node['__module__']}.{node['__class__']}")
            loader = node.get("__loader__")
            if isinstance(loader, str) and loader not in _LOADERS:
                found.add(f"skops.{loader}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _read_node(node: Any, zf: zipfile.ZipFile) -> Any:
    """One value of a skops schema made only of dicts, lists, JSON scalars and numpy arrays."""
    loader = node["__loader__"]
    if loader == "DictNode":
        return {k: _read_node(v, zf) for k, v in node["content"].items()}
    if loader == "ListNode":
        return [_read_node(v, zf) for v in node["content"]]
    if loader == "JsonNode":
        return json.loads(node["content"])
    if loader == "NdArrayNode" and node.get("type") == "numpy":
        with zf.open(node["file"]) as fh:
            return np.load(fh, allow_pickle=False)
    raise ValueError(f"unexpected skops node {loader}")


@dataclass
class LoadedModel:
    """A verified model with its manifest."""

    model: TextModel
    manifest: dict[str, Any]
    path: Path
    thresholds: dict[str, float] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return f"{MODEL_VERSION}+{self.manifest['sha256'][:12]}"

    def source_name(self, category: str) -> str:
        """The model's name as findings cite it, e.g. ``tweeteval-offensive-v1``."""
        return f"{MODEL_NAME}-{category}-v{MODEL_VERSION}"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _installed(dist: str) -> str:
    try:
        return dist_version(dist)
    except PackageNotFoundError:
        return "not installed"


def library_versions() -> dict[str, str]:
    """Versions recorded in the manifest (read from package metadata: nothing is imported)."""
    return {"scikit-learn": _installed("scikit-learn"), "skops": _installed("skops"),
            "numpy": np.__version__}


def save_model(model: TextModel, out_dir: Path, extra: dict[str, Any] | None = None) -> Path:
    """Write the artifact and its manifest into ``out_dir``; returns the manifest path."""
    import skops.io as sio

    out_dir.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        **model.space.to_arrays(),
        "heads": {
            c: {
                "coef": h.coef.astype(np.float32),
                "intercept": float(h.intercept),
                "platt": [float(h.platt_a), float(h.platt_b)],
            }
            for c, h in model.heads.items()
        },
    }
    artifact = out_dir / ARTIFACT_NAME
    tmp = artifact.with_suffix(".tmp")
    sio.dump(payload, tmp, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
    os.replace(tmp, artifact)
    manifest = {
        "name": MODEL_NAME,
        "version": MODEL_VERSION,
        "format": FORMAT,
        "artifact": ARTIFACT_NAME,
        "sha256": _sha256(artifact),
        "categories": model.categories,
        "normalizer": NORMALIZER_VERSION,
        "libraries": library_versions(),
        **(extra or {}),
    }
    path = out_dir / MANIFEST_NAME
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def read_manifest_json(path: Path, what: str, retrain: str) -> Any:
    """A manifest's JSON, or a :class:`ModelError` naming the file and the command to rebuild it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: unreadable {what} ({exc}); retrain with `{retrain}`") from None


def _read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST_NAME
    if not path.is_file():
        raise ModelError(
            f"{path}: model manifest not found; train the model with `{RETRAIN} --out {directory}`"
        )
    manifest = read_manifest_json(path, "model manifest", RETRAIN)
    if not isinstance(manifest, dict) or manifest.get("name") != MODEL_NAME:
        raise ModelError(f"{path}: not a socialguide model manifest; refusing to load")
    for key in ("sha256", "libraries", "format", "normalizer", "categories"):
        if key not in manifest:
            raise ModelError(f"{path}: model manifest lacks '{key}'; refusing to load")
    return manifest


def _check_versions(manifest: dict[str, Any], path: Path) -> None:
    trained = manifest["libraries"].get("scikit-learn")
    installed = _installed("scikit-learn")
    if trained != installed:
        raise ModelError(
            f"{path}: model was trained with scikit-learn {trained}, but {installed} is "
            f"installed; retrain it with `{RETRAIN}` (or install scikit-learn=={trained})"
        )
    if manifest["format"] != FORMAT or manifest["normalizer"] != NORMALIZER_VERSION:
        raise ModelError(
            f"{path}: model format {manifest['format']}/normalizer {manifest['normalizer']} does "
            f"not match this socialguide ({FORMAT}/{NORMALIZER_VERSION}); retrain with `{RETRAIN}`"
        )


def load_model(directory: Path) -> LoadedModel:
    """Load and verify the model in ``directory``; raises :class:`ModelError` on any doubt."""
    directory = Path(directory)
    manifest = _read_manifest(directory)
    artifact = directory / str(manifest.get("artifact", ARTIFACT_NAME))
    if not artifact.is_file():
        raise ModelError(f"{artifact}: model file not found; train it with `{RETRAIN} --out {directory}`")
    digest = _sha256(artifact)
    if digest != manifest["sha256"]:
        raise ModelError(
            f"{artifact}: SHA-256 {digest[:16]}... does not match the manifest "
            f"({str(manifest['sha256'])[:16]}...); the file was altered or is foreign, refusing to load"
        )
    _check_versions(manifest, directory / MANIFEST_NAME)
    return LoadedModel(_from_payload(read_arrays(artifact), artifact), manifest, directory)


def read_arrays(artifact: Path) -> Any:
    """The plain payload of a skops file of dicts, lists, numbers and arrays; anything else,
    or a broken file, is a :class:`ModelError`."""
    try:
        with zipfile.ZipFile(artifact) as zf:
            schema = json.loads(zf.read("schema.json"))
            untrusted = _types_in(schema) - set(TRUSTED_TYPES) - _BUILTINS
            if untrusted:
                raise ModelError(f"{artifact}: contains untrusted types {sorted(untrusted)}; refusing to load")
            return _read_node(schema, zf)
    except ModelError:
        raise
    except Exception as exc:  # a foreign or broken zip, a malformed schema or array
        raise ModelError(f"{artifact}: not a readable skops file ({exc}); refusing to load") from None


def write_arrays(payload: dict[str, Any], artifact: Path) -> str:
    """Write ``payload`` with skops (atomically); returns the file's SHA-256."""
    import skops.io as sio

    tmp = artifact.with_suffix(".tmp")
    sio.dump(payload, tmp, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
    os.replace(tmp, artifact)
    return _sha256(artifact)


def _from_payload(payload: Any, artifact: Path) -> TextModel:
    try:
        if payload["format"] != FORMAT:
            raise ValueError(f"format {payload['format']}")
        space = FeatureSpace.from_arrays(
            {k: np.asarray(payload[k]) for k in ("buckets", "idf")}
        )
        built = {
            c: Head(np.asarray(h["coef"], dtype=np.float32), float(h["intercept"]),
                    float(h["platt"][0]), float(h["platt"][1]))
            for c, h in payload["heads"].items()
        }
        for c, h in built.items():
            if h.coef.shape != (space.n_features,):
                raise ValueError(f"head '{c}' has {h.coef.shape} weights for {space.n_features} features")
    except (KeyError, TypeError, ValueError, IndexError, UnicodeDecodeError) as exc:
        raise ModelError(f"{artifact}: unexpected model structure ({exc}); refusing to load") from None
    return TextModel(space, built)


_CACHE: dict[tuple[str, str, float], LoadedModel] = {}


def load_model_cached(directory: Path) -> LoadedModel:
    """:func:`load_model`, reusing an already verified model while its manifest is unchanged."""
    manifest = Path(directory) / MANIFEST_NAME
    try:
        stamp = manifest.stat().st_mtime
    except OSError:
        return load_model(directory)  # raises the clear "not found" error
    artifact = Path(directory) / ARTIFACT_NAME
    try:
        art = artifact.stat()
        art_stamp = f"{art.st_mtime_ns}:{art.st_size}"
    except OSError:
        art_stamp = "missing"
    key = (
        str(Path(directory).resolve()),
        manifest.read_text(encoding="utf-8", errors="replace") + art_stamp,
        stamp,
    )
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = load_model(directory)
    return _CACHE[key]
