"""Classifier speed and footprint: model stage posts/s on one core (with alt-profanity-check on
the same posts for a ratio), model load time, whole-pipeline posts/s, and scan process RSS."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_MODEL_PPS = 8_000
TARGET_SCAN_PPS = 5_000
TARGET_LOAD_S = 1.0
TARGET_RSS_MB = 300
N_POSTS = 20_000


def _one_core() -> None:
    # The targets are per core: pin the process and keep BLAS single-threaded.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def _texts() -> list[str]:
    from monitor.pipeline.classifier.data import load_split

    base = load_split("offensive", "val").texts + load_split("hate", "val").texts
    return [base[i % len(base)] for i in range(N_POSTS)]


def _rate(fn, items: list, batch: int = 512) -> float:
    start = time.perf_counter()
    for i in range(0, len(items), batch):
        fn(items[i : i + batch])
    return len(items) / (time.perf_counter() - start)


def _scan_rss_mb(texts: list[str]) -> tuple[float, float] | None:
    """Peak RSS (MB) and posts/s of a separate ``socialguide scan`` process."""
    with tempfile.TemporaryDirectory() as tmp:
        inp = Path(tmp) / "in.jsonl"
        inp.write_text("".join(json.dumps({"id": str(i), "text": t}) + "\n" for i, t in enumerate(texts)))
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "monitor", "scan", str(inp), "-o", str(Path(tmp) / "out.jsonl")],
                              capture_output=True, text=True, cwd=tmp)
        elapsed = time.perf_counter() - start
        if proc.returncode not in (0, 1) or not (Path(tmp) / "out.jsonl").exists():
            print(f"  scan subprocess failed ({proc.returncode}): {proc.stderr.strip()[:200]}")
            return None
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, len(texts) / elapsed


def main() -> None:
    _one_core()
    from monitor.config import Settings
    from monitor.domain import Post
    from monitor.pipeline.classifier.artifact import load_model
    from monitor.pipeline.classifier.detector import ModelDetector
    from monitor.pipeline.factory import build_pipeline
    from monitor.resources import models_dir

    settings = Settings()
    texts = _texts()
    posts = [Post(str(i), t) for i, t in enumerate(texts)]
    print(f"bench_model: {len(posts)} posts (TweetEval validation tweets, repeated), one core")

    start = time.perf_counter()
    loaded = load_model(models_dir())
    load_s = time.perf_counter() - start
    print(f"  model load (verify SHA-256, type allowlist, skops): {load_s:.3f} s (target <= {TARGET_LOAD_S} s)")

    det = ModelDetector(loaded, settings.model.thresholds, settings.model.shadow_thresholds)
    det.detect(posts[:512])  # warm-up
    model_pps = _rate(det.detect, posts)
    print(f"  model stage (offensive + hate, with explanations): {model_pps:,.0f} posts/s "
          f"(target >= {TARGET_MODEL_PPS:,})")
    try:
        from profanity_check import predict_prob

        predict_prob(texts[:512])
        prof_pps = _rate(predict_prob, texts)
        print(f"  alt-profanity-check predict_prob on the same posts: {prof_pps:,.0f} posts/s; "
              f"ratio model/profanity-check = {model_pps / prof_pps:.2f}")
    except ImportError:
        print("  alt-profanity-check not installed (pip install -e '.[dev]'): no ratio")

    pipeline = build_pipeline(settings)
    pipeline.analyse(posts[:512])
    start = time.perf_counter()
    flagged = sum(f.flagged for f in pipeline.analyse_stream(posts))
    pipe_pps = len(posts) / (time.perf_counter() - start)
    print(f"  whole pipeline in-process (rules + model + decide): {pipe_pps:,.0f} posts/s, "
          f"{flagged} flagged (target >= {TARGET_SCAN_PPS:,})")
    rss_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  this benchmark process peak RSS: {rss_self:.0f} MB")
    scan = _scan_rss_mb(texts)
    if scan:
        rss, scan_pps = scan
        print(f"  `socialguide scan` process: peak RSS {rss:.0f} MB (target < {TARGET_RSS_MB} MB), "
              f"{scan_pps:,.0f} posts/s end to end including start-up and JSON I/O")


if __name__ == "__main__":
    main()
