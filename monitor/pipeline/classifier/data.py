"""Labelled texts for training and evaluation: the shipped TweetEval splits, eval files, feedback."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from monitor.errors import InputError, ModelError
from monitor.resources import _PKG

# Category -> TweetEval task folder under ``data/``.
TASKS: dict[str, str] = {"offensive": "tweeteval-offensive", "hate": "tweeteval-hate"}


@dataclass
class Labelled:
    """Texts with binary labels (1 = the category applies)."""

    texts: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)

    def head(self, n: int | None) -> Labelled:
        """The first ``n`` examples (all when ``n`` is None); tests train on a small slice."""
        if n is None:
            return self
        return Labelled(self.texts[:n], self.labels[:n])

    def extend(self, other: Labelled) -> None:
        self.texts.extend(other.texts)
        self.labels.extend(other.labels)


def data_dir() -> Path:
    """The repository's ``data/`` folder (training happens in a checkout)."""
    return _PKG.parent / "data"


def _read_lines(path: Path) -> list[str]:
    if not path.is_file():
        raise ModelError(f"{path}: training data file not found (expected the TweetEval copy in data/)")
    return path.read_text(encoding="utf-8").splitlines()


def load_pair(text_path: Path, labels_path: Path) -> Labelled:
    """A TweetEval-style pair: one text per line, one 0/1 label per line, aligned by line."""
    texts = _read_lines(text_path)
    raw = _read_lines(labels_path)
    if len(texts) != len(raw):
        raise InputError(
            f"{len(texts)} texts but {len(raw)} labels in {labels_path}", path=str(text_path)
        )
    labels: list[int] = []
    for i, v in enumerate(raw, start=1):
        if v.strip() not in ("0", "1"):
            raise InputError(f"label must be 0 or 1, got {v!r}", path=str(labels_path), line=i)
        labels.append(int(v))
    return Labelled(texts, labels)


def load_split(category: str, split: str, root: Path | None = None) -> Labelled:
    """The shipped ``train`` or ``val`` split for a category (never a test split)."""
    if split not in ("train", "val"):
        raise ModelError(f"unknown split '{split}' (only train and val are shipped)")
    folder = (root or data_dir()) / TASKS[category]
    return load_pair(folder / f"{split}_text.txt", folder / f"{split}_labels.txt")


HARD_NEGATIVES = "hard-negatives/idioms.txt"


def load_hard_negatives(root: Path | None = None) -> list[str]:
    """Harmless idioms with trigger words that no model-only finding may nudge on."""
    path = (root or data_dir()) / HARD_NEGATIVES
    return [t for t in _read_lines(path) if t.strip()]


def _label(value: object, category: str, path: str, line: int) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) and value in (0, 1):
        return value
    if isinstance(value, str):
        v = value.strip().lower()
        if v in ("0", "1"):
            return int(v)
        if v == category:
            return 1
        if v in ("none", "not", "ok", f"not-{category}", "not_a_concern"):
            return 0
    raise InputError(f"label must be 0/1, true/false or '{category}', got {value!r}", path, line)


def load_eval_file(path: Path, category: str) -> Labelled:
    """An evaluation file: JSONL of ``{"text", "label"}`` or a TweetEval ``*_text.txt`` file.

    For the TweetEval form, the labels are read from the sibling ``*_labels.txt`` file.
    """
    if not path.is_file():
        raise InputError("file not found", path=str(path))
    if path.name.endswith("_text.txt"):
        return load_pair(path, path.with_name(path.name[: -len("_text.txt")] + "_labels.txt"))
    out = Labelled()
    with path.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"not JSON: {exc.msg}", str(path), i) from None
            if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
                raise InputError('expected an object with a "text" string', str(path), i)
            if "label" not in obj:
                raise InputError('missing "label"', str(path), i)
            out.texts.append(obj["text"])
            out.labels.append(_label(obj["label"], category, str(path), i))
    if not out.texts:
        raise InputError("no examples", path=str(path))
    return out


@dataclass(frozen=True)
class Verdict:
    """A reviewer's or employee's verdict on a flagged text, as far as training needs it."""

    flag_id: int
    category: str
    confirmed: bool
    text: str


def load_feedback(verdicts: Iterable[Verdict], categories: list[str]) -> dict[str, Labelled]:
    """Verdicts as labels, per category: the latest verdict per flag and category wins.

    ``confirmed`` makes the flagged text a positive example, ``not_a_concern`` a negative
    one; the caller reads the verdicts from the store, so training never touches it.
    """
    latest: dict[tuple[int, str], tuple[str, int]] = {}
    for v in verdicts:
        if v.category in categories:
            latest[(v.flag_id, v.category)] = (v.text, 1 if v.confirmed else 0)
    out = {c: Labelled() for c in categories}
    for (_, cat), (text, label) in latest.items():
        out[cat].texts.append(text)
        out[cat].labels.append(label)
    return out
