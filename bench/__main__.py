"""Run every benchmark module (``bench/bench_*.py``) in turn."""

from __future__ import annotations

import importlib
import pkgutil

import bench


def main() -> None:
    for mod in sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_")):
        importlib.import_module(f"bench.{mod}").main()
        print()


if __name__ == "__main__":
    main()
