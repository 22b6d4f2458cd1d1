"""``socialguide scan``: the batch contract from DESIGN.md (JSONL in, JSONL out, streaming)."""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, TextIO

import typer

from monitor.cli.common import ConfigOption, cli_errors, err_console, settings_from, stderr_is_tty
from monitor.collectors.replay import parse_time
from monitor.config import Settings
from monitor.domain import Flag, Post
from monitor.pipeline.core import Pipeline
from monitor.pipeline.factory import build_pipeline

MAX_LINE_CHARS = 4_000_000
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean(value: str) -> str:
    """Replace lone surrogates (legal in JSON, not in UTF-8) one-for-one, so spans stay valid."""
    return _LONE_SURROGATE.sub("\ufffd", value)


def parse_line(line: str, lineno: int) -> Post:
    """Turn one input line into a Post, or raise ValueError with a message a person can act on."""
    try:
        rec = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(rec, dict):
        raise ValueError(f"expected a JSON object, got {type(rec).__name__}")
    pid, text = rec.get("id"), rec.get("text")
    if pid is None:
        raise ValueError('missing required field "id"')
    if not isinstance(pid, str | int) or isinstance(pid, bool):
        raise ValueError(f'field "id" must be a string, got {type(pid).__name__}')
    if text is None:
        raise ValueError('missing required field "text"')
    if not isinstance(text, str):
        raise ValueError(f'field "text" must be a string, got {type(text).__name__}')
    for key in ("platform", "author", "url"):
        if key in rec and rec[key] is not None and not isinstance(rec[key], str):
            raise ValueError(f'field "{key}" must be a string, got {type(rec[key]).__name__}')
    try:
        created = parse_time(rec.get("created_at"))
    except ValueError as exc:
        raise ValueError(f'field "created_at": {exc}') from None
    return Post(
        id=_clean(str(pid)),
        text=_clean(text),
        platform=rec.get("platform") or "unknown",
        author=rec.get("author"),
        created_at=created,
        url=rec.get("url"),
    )


def _open_input(path: str) -> tuple[TextIO, int | None]:
    """Open the input as text; undecodable bytes become U+FFFD rather than aborting the scan."""
    if path == "-":
        buf = getattr(sys.stdin, "buffer", None)
        if buf is None:
            return sys.stdin, None
        return io.TextIOWrapper(buf, encoding="utf-8", errors="replace"), None
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(path)
    return p.open(encoding="utf-8", errors="replace"), p.stat().st_size


def scan(
    input: Annotated[str, typer.Argument(help="JSONL file of posts, or - for stdin.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write results here (default: stdout).")
    ] = None,
    shadow: Annotated[bool, typer.Option(
        "--shadow", help='Also write shadow findings (never nudged) as "shadow_findings".')] = False,
    workers: Annotated[int, typer.Option(
        "--workers", min=1, max=64, help="Processes that analyse posts (output order is kept).")] = 1,
    config: ConfigOption = None,
) -> None:
    """Scan JSONL posts with the daemon's pipeline; one JSON result line per valid input line."""
    with cli_errors():
        settings = settings_from(config)
        pipeline = build_pipeline(settings) if workers == 1 else None
    try:
        fh, _size = _open_input(input)
    except FileNotFoundError:
        err_console.print(f"error: input file not found: {input}", markup=False)
        raise typer.Exit(code=2) from None
    name = "stdin" if input == "-" else input
    out: TextIO = output.open("w", encoding="utf-8") if output else sys.stdout
    bad = 0
    total = 0

    def posts() -> Iterator[Post]:
        nonlocal bad, total
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            if len(line) > MAX_LINE_CHARS:
                bad += 1
                err_console.print(f"{name}:{n}: line longer than {MAX_LINE_CHARS} characters; skipped",
                                  markup=False)
                continue
            try:
                post = parse_line(line, n)
            except ValueError as exc:
                bad += 1
                err_console.print(f"{name}:{n}: {exc}; skipped", markup=False)
                continue
            total += 1
            yield post

    progress = None
    task = None
    if stderr_is_tty():
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

        progress = Progress(TextColumn("scanning"), BarColumn(), TaskProgressColumn(),
                            TextColumn("{task.completed} posts"), console=err_console,
                            transient=True)
        task = progress.add_task("scan", total=None)
        progress.start()
    try:
        lines = (_analysed(pipeline, posts(), shadow) if pipeline is not None
                 else _analysed_in_workers(settings, posts(), shadow, workers))
        for line in lines:
            out.write(line)
            if progress is not None and task is not None:
                progress.advance(task)
    finally:
        if progress is not None:
            progress.stop()
        out.flush()
        if output:
            out.close()
        if fh is not sys.stdin:
            fh.close()
    if bad:
        err_console.print(f"{bad} malformed line{'s' if bad != 1 else ''} skipped; {total} scanned")
        raise typer.Exit(code=1)


def result_line(flag: Flag, shadow: bool) -> str:
    """One output line of the scan contract."""
    record: dict[str, object] = {
        "id": flag.post.id,
        "flagged": flag.flagged,
        "findings": [f.to_contract() for f in flag.findings],
    }
    if shadow:
        record["shadow_findings"] = [f.to_contract() | {"shadow": True}
                                     for f in flag.shadow_findings]
    return json.dumps(record, ensure_ascii=False) + "\n"


def _analysed(pipeline: Pipeline, posts: Iterator[Post], shadow: bool) -> Iterator[str]:
    for flag in pipeline.analyse_stream(posts):
        yield result_line(flag, shadow)


_WORKER: Pipeline | None = None
CHUNK = 256  # posts per task handed to a worker process


def _init_worker(settings: Settings) -> None:
    global _WORKER
    _WORKER = build_pipeline(settings)


def _work(posts: list[Post], shadow: bool) -> list[str]:
    assert _WORKER is not None
    return [result_line(f, shadow) for f in _WORKER.analyse(posts)]


def _analysed_in_workers(settings: Settings, posts: Iterator[Post], shadow: bool,
                         workers: int) -> Iterator[str]:
    """Chunks of posts analysed by ``workers`` processes, each with its own pipeline; at most
    two chunks per worker are in flight, so memory stays flat on any input size."""
    import multiprocessing as mp
    from collections import deque
    from itertools import islice

    ctx = mp.get_context("spawn")  # no fork of a process that holds an inference session
    with ctx.Pool(workers, initializer=_init_worker, initargs=(settings,)) as pool:
        pending: deque = deque()
        while True:
            chunk = list(islice(posts, CHUNK))
            if chunk:
                pending.append(pool.apply_async(_work, (chunk, shadow)))
            while pending and (len(pending) >= 2 * workers or not chunk):
                yield from pending.popleft().get()
            if not chunk and not pending:
                return


def register(app: typer.Typer) -> None:
    """Add ``scan`` to the main app."""
    app.command("scan")(scan)
