"""The policy model's speed and footprint on one core, in the default install (no torch).

Figures: model load in a fresh process; the model stage when every post needs the encoder;
whole ``socialguide scan`` on 100,000 short posts of which about 5 % are violations, with one
and with two workers; peak resident memory; the default install's size. The peers
(alt-profanity-check, detect-secrets, presidio's pattern recognizers) run on the same posts in
the same run, for the ratios.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

from monitor.domain import CATEGORIES, Post

TARGET_SCAN_PPS = 3_000
TARGET_MODEL_PPS = 300
TARGET_WORKERS_RATIO = 1.8
TARGET_RSS_MB = 400
TARGET_LOAD_S = 2.0
N_POSTS = 100_000

# The default install has no torch; where the train extra is installed, spaCy's thinc would
# import it (seconds and hundreds of MB), so every figure is taken with torch hidden.
_HIDE_TORCH = (
    "import sys\n"
    "class _NoTorch:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name == 'torch' or name.startswith('torch.'):\n"
    "            raise ModuleNotFoundError(f'No module named {name!r}')\n"
    "sys.meta_path.insert(0, _NoTorch())\n"
)
_SCAN = _HIDE_TORCH + ("import runpy\nsys.argv[0] = 'socialguide'\n"
                       "runpy.run_module('monitor', run_name='__main__')\n")
_WRAPPER = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], check=False, stdout=subprocess.DEVNULL)\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(u.ru_maxrss, u.ru_utime + u.ru_stime)\n"
)


def _one_core() -> None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def _posts(n: int, violation_share: float = 0.05, hard: bool = False) -> list[str]:
    """Short posts from the corpus's validation batches, in a fixed shuffled order: violations
    at the given share, the rest benign.

    Ordinary traffic (the default) draws the benign posts from those written as everyday posts;
    ``hard`` draws them from every benign post, where the hard negatives (posts written to look
    like violations: codename words in other senses, quoted slurs, sample keys) make up more
    than half, far more than a real feed carries, so it is the worst case for the first stage.
    """
    from monitor.pipeline.classifier.corpus import load_corpus, validation_batches

    rows = [ex for ex in load_corpus(batches=validation_batches()) if len(ex.text) <= 400]
    bad = [ex.text for ex in rows if any(ex.labels[c] for c in CATEGORIES)]
    good = [ex.text for ex in rows if not any(ex.labels[c] for c in CATEGORIES)
            and (hard or ex.hard_negative is None)]
    rng = random.Random(7)
    out = [rng.choice(bad) if rng.random() < violation_share else rng.choice(good) for _ in range(n)]
    return out


def _scan(texts: list[str], workers: int = 1) -> tuple[float, float, float] | None:
    """Peak RSS (MB, largest process), wall-clock seconds and CPU seconds of one scan."""
    with tempfile.TemporaryDirectory() as tmp:
        inp = Path(tmp) / "in.jsonl"
        inp.write_text("".join(json.dumps({"id": str(i), "text": t}) + "\n"
                               for i, t in enumerate(texts)))
        out = Path(tmp) / "out.jsonl"
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", _WRAPPER, sys.executable, "-c", _SCAN,
                               "scan", str(inp), "-o", str(out), "--workers", str(workers)],
                              capture_output=True, text=True, cwd=tmp)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0 or not out.exists() or not proc.stdout.strip():
            print(f"  scan subprocess failed ({proc.returncode}): {proc.stderr.strip()[:300]}")
            return None
        rss_kb, cpu = proc.stdout.split()
    return float(rss_kb) / 1024, elapsed, float(cpu)


def _rate(fn, items: list, batch: int = 256) -> float:
    cpu = time.process_time()
    for i in range(0, len(items), batch):
        fn(items[i:i + batch])
    return len(items) / max(time.process_time() - cpu, 1e-9)


def _install_size() -> tuple[float, int]:
    """MB on disk of socialguide and every package its default install pulls in."""
    seen: set[str] = set()
    todo = ["socialguide"]
    total = 0
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        for f in dist.files or []:
            p = Path(str(dist.locate_file(f)))
            if p.is_file():
                total += p.stat().st_size
        for req in dist.requires or []:
            if "extra ==" in req:
                continue
            todo.append(req.split(";")[0].split("[")[0].split("<")[0].split(">")[0]
                        .split("=")[0].split("!")[0].split("~")[0].strip())
    from monitor.resources import models_dir, rules_dir

    for folder in (models_dir(), rules_dir()):
        total += sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return total / 1e6, len(seen)


def main() -> None:
    _one_core()
    exec(_HIDE_TORCH, {})
    from monitor.config import Settings
    from monitor.pipeline.classifier.artifact import load_artifact
    from monitor.pipeline.classifier.detector import PolicyModelDetector
    from monitor.pipeline.classifier.prepare import Terms
    from monitor.pipeline.factory import build_pipeline
    from monitor.resources import models_dir

    texts = _posts(N_POSTS)
    hard = _posts(20_000, hard=True)
    print(f"bench_model: {len(texts):,} short posts from the validation batches, about 5 % "
          "violations, the rest everyday benign posts; one core, torch hidden (the default "
          "install)")
    fresh = subprocess.run(
        [sys.executable, "-c", _HIDE_TORCH + "import time; t = time.perf_counter()\n"
         "from monitor.pipeline.classifier.artifact import load_artifact\n"
         "from monitor.resources import models_dir\n"
         "load_artifact(models_dir()); print(time.perf_counter() - t)"],
        capture_output=True, text=True, check=True)
    print(f"  model load in a fresh process, imports included: {float(fresh.stdout):.2f} s "
          f"(target <= {TARGET_LOAD_S} s)")

    art = load_artifact(models_dir())
    art.gate = None
    det = PolicyModelDetector(art, Terms())
    sample = [Post(str(i), t) for i, t in enumerate(texts[:2000])]
    model_pps = _rate(lambda b: det.review(b, [[] for _ in b]), sample)
    print(f"  model stage, every post through the encoder (no first stage): {model_pps:,.0f} "
          f"posts/s (target >= {TARGET_MODEL_PPS})")
    pipeline = build_pipeline(Settings())
    posts = [Post(str(i), t) for i, t in enumerate(texts[:20_000])]
    pipeline.analyse(posts[:256])
    pipe_pps = _rate(pipeline.analyse, posts, batch=512)
    print(f"  whole pipeline in-process (rules, first stage, model, decide), 20,000 posts: "
          f"{pipe_pps:,.0f} posts/s")
    hard_pps = _rate(pipeline.analyse, [Post(str(i), t) for i, t in enumerate(hard)], batch=512)
    print(f"  the same, benign posts drawn from every benign post (more than half of them hard "
          f"negatives, the first stage's worst case): {hard_pps:,.0f} posts/s")
    _peers(texts[:20_000], pipe_pps)

    one = _scan(texts[:1])
    single = _scan(texts)
    if one and single:
        rss, wall, cpu = single
        print(f"  `socialguide scan` start-up (1 post): {one[1]:.2f} s wall clock, peak RSS "
              f"{one[0]:.0f} MB")
        print(f"  `socialguide scan` of {len(texts):,} posts, one worker: {len(texts) / wall:,.0f} "
              f"posts/s wall clock ({len(texts) / cpu:,.0f}/s CPU time); peak RSS {rss:.0f} MB "
              f"(targets >= {TARGET_SCAN_PPS:,} posts/s, <= {TARGET_RSS_MB} MB)")
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
        two = _scan(texts, workers=2)
        if two and (os.cpu_count() or 1) >= 2:
            print(f"  `socialguide scan --workers 2` (two cores): {len(texts) / two[1]:,.0f} posts/s "
                  f"wall clock, {wall / two[1]:.2f}x one worker (target >= {TARGET_WORKERS_RATIO}x); "
                  f"peak RSS per process {two[0]:.0f} MB")
    size, n = _install_size()
    print(f"  default install: {size:,.0f} MB on disk ({n} distributions, models and rules included)")


def _peers(texts: list[str], ours: float) -> None:
    try:
        from profanity_check import predict_prob

        predict_prob(texts[:256])
        rate = _rate(predict_prob, texts)
        print(f"  alt-profanity-check on the same posts: {rate:,.0f} posts/s; ours/peer {ours / rate:.2f}")
    except ImportError:
        print("  alt-profanity-check not installed (pip install -e '.[dev]')")
    try:
        from bench.bench_rules import _detect_secrets, _presidio

        for name, make in (("detect-secrets", _detect_secrets), ("presidio patterns", _presidio)):
            run = make()
            run(texts[:256])
            rate = _rate(run, texts)
            print(f"  {name} on the same posts: {rate:,.0f} posts/s; ours/peer {ours / rate:.2f}")
    except ImportError as exc:
        print(f"  detect-secrets / presidio not available ({exc})")


if __name__ == "__main__":
    main()
