"""What every round of the held-back set must hold, whichever generator wrote it."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "data" / "secrets-heldout"


def rows(name: str) -> list[dict[str, str]]:
    """The committed cases of one file, as written."""
    with (DATA / f"{name}.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def assert_generator_output(build: Callable[[], Mapping[str, list[dict[str, str]]]],
                            names: Mapping[str, int]) -> None:
    """Nobody edited a case by hand after it was generated."""
    built = build()
    assert set(built) == set(names)
    for name, made in built.items():
        want = [json.loads(json.dumps({"id": f"{name}-{i}", **r}, ensure_ascii=False))
                for i, r in enumerate(made)]
        assert rows(name) == want, name


def assert_sizes_and_fields(minimum: Mapping[str, int]) -> None:
    """Each file is at least as big as the brief asks, every row names its kind, no repeats."""
    for name, least in minimum.items():
        found = rows(name)
        assert len(found) >= least, name
        assert all(set(r) == {"id", "kind", "text"} and r["kind"] and r["text"] for r in found)
        assert len({r["text"] for r in found}) == len(found), f"{name} has duplicate texts"


def assert_fresh(prefix: str, names: Mapping[str, int]) -> None:
    """None of this round's texts occurs in an earlier round (compared, not read by hand)."""
    earlier = {r["text"] for p in DATA.glob("*.jsonl") if not p.name.startswith(prefix)
               for r in rows(p.stem)}
    for name in names:
        assert not earlier & {r["text"] for r in rows(name)}, name
