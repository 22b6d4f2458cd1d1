"""``make fuzz``: the pipeline entry point on generated hostile input, for a fixed time.

Each round builds a batch of ``scan`` input lines (posts around real secrets and policy words
with evasive Unicode, random bytes, deep JSON, now and then a post of a million characters),
reads them as ``scan`` does and analyses the posts with the daemon's pipeline. It checks that
every line gives a post or a clear error, that every post gets exactly one flag with no error,
and that every span indexes the original text. A failing input is written to ``--out``.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import time
from pathlib import Path

from monitor.cli.scan import parse_line, read_lines
from monitor.config import load_settings, settings_from_dict
from monitor.domain import Post
from monitor.pipeline.core import Pipeline
from monitor.pipeline.factory import build_pipeline
from tests.fuzz.strategies import FRAGMENTS, ODD


def _text(rng: random.Random) -> str:
    parts: list[str] = []
    for _ in range(rng.randint(0, 30)):
        roll = rng.random()
        if roll < 0.35:
            parts.append(rng.choice(FRAGMENTS))
        elif roll < 0.6:
            parts.append(rng.choice(ODD))
        elif roll < 0.85:
            parts.append(" ".join(rng.choice(["the", "you", "key", "my", "is", "at", "@", ":"])
                                  for _ in range(rng.randint(1, 6))))
        else:
            parts.append("".join(chr(rng.randint(1, 0x10FFFF)) for _ in range(rng.randint(1, 6))))
        parts.append(rng.choice([" ", "", "\n", "  "]))
    text = "".join(parts)
    if rng.random() < 0.002:  # a pasted blob: long posts go through the chunked paths
        text = (text + " ") * (1_100_000 // max(1, len(text) + 1) + 1)
    return text


def _line(rng: random.Random) -> bytes:
    roll = rng.random()
    if roll < 0.9:
        rec = {"id": str(rng.randint(0, 10**9)), "text": _text(rng)}
        if rng.random() < 0.1:
            rec["platform"] = rng.choice(["x", "bluesky", 7, None])
        raw = json.dumps(rec, ensure_ascii=rng.random() < 0.5)
        return raw.encode("utf-8", "surrogatepass")
    if roll < 0.95:
        return bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 200))).replace(b"\n", b" ")
    depth = rng.randint(500, 50_000)
    return b'{"id": "deep", "text": "x", "x": ' + b"[" * depth + b"]" * depth + b"}"


def _check_round(pipeline: Pipeline, raw: bytes) -> str | None:
    """The first broken invariant for this input, or None."""
    posts: list[Post] = []
    for n, line in read_lines(io.BytesIO(raw)):
        if line is None:
            continue
        text = line.decode("utf-8", "replace")
        if not text.strip():
            continue
        try:
            posts.append(parse_line(text, n))
        except ValueError as exc:
            if not str(exc) or "\n" in str(exc):
                return f"line {n}: unclear error {exc!r}"
        except Exception as exc:  # any other error is what the fuzzer looks for
            return f"line {n}: parse_line raised {type(exc).__name__}: {exc}"
    flags = pipeline.analyse(posts)
    if len(flags) != len(posts):
        return f"{len(posts)} posts gave {len(flags)} flags"
    for post, flag in zip(posts, flags, strict=True):
        if flag.post is not post:
            return f"post {post.id}: flag for another post"
        if flag.error is not None:
            return flag.error
        for f in [*flag.findings, *flag.shadow_findings]:
            for a, b in f.spans:
                if not 0 <= a < b <= len(post.text):
                    return f"post {post.id}: span {(a, b)} outside a text of {len(post.text)}"
    return None


def main(argv: list[str] | None = None) -> int:
    """Run rounds until the time is up; exit 1 at the first broken invariant."""
    ap = argparse.ArgumentParser(prog="fuzz", description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--config", default=None, help="config file (default: bundled defaults)")
    ap.add_argument("--no-model", action="store_true", help="rules only (faster rounds)")
    ap.add_argument("--out", type=Path, default=Path("fuzz-failure.jsonl"))
    args = ap.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    rng = random.Random(seed)
    settings = load_settings(args.config) if args.config else settings_from_dict({})
    if args.no_model:
        settings.model.enabled = False
    pipeline = build_pipeline(settings)
    start = time.monotonic()
    rounds = lines = 0
    while time.monotonic() - start < args.seconds:
        raw = b"\n".join(_line(rng) for _ in range(rng.randint(1, 40))) + b"\n"
        problem = _check_round(pipeline, raw)
        rounds += 1
        lines += raw.count(b"\n")
        if problem is not None:
            args.out.write_bytes(raw)
            print(f"fuzz: seed {seed}, round {rounds}: {problem}; input in {args.out}",
                  file=sys.stderr)
            return 1
    took = time.monotonic() - start
    print(f"fuzz: seed {seed}: {rounds} rounds, {lines} lines in {took:.0f} s, no invariant "
          f"broken", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
