"""``socialguide scan``: the batch contract from DESIGN.md (JSONL in, JSONL out, streaming)."""

from __future__ import annotations

import json
import re
import sys
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, BinaryIO, TextIO

import typer

from monitor.cli.common import ConfigOption, cli_errors, err_console, settings_from, stderr_is_tty
from monitor.collectors.replay import parse_time
from monitor.config import Settings
from monitor.domain import Flag, Post
from monitor.pipeline.core import Pipeline
from monitor.pipeline.factory import build_pipeline

MAX_LINE_BYTES = 4_000_000
READ_BYTES = 1 << 16  # input is read in blocks of this size, never a whole line at once
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
    except RecursionError:  # the decoder recurses per nesting level, even in ignored fields
        raise ValueError("not valid JSON (nested too deeply)") from None
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


def read_lines(stream: BinaryIO, max_bytes: int = MAX_LINE_BYTES,
               block: int = READ_BYTES) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line) for each ``\\n``-separated line; ``None`` for a line over ``max_bytes``.

    Only ``\\n`` ends a line, as in JSON Lines (U+2028 and a bare ``\\r`` do not). Reading goes
    block by block and an over-long line is skipped to its end without being kept, so memory
    stays within ``max_bytes`` plus one block whatever the input holds.
    """
    buf = bytearray()
    too_long = False
    n = 1
    while chunk := stream.read(block):
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            piece = chunk[start:] if end < 0 else chunk[start:end]
            if not too_long:
                buf += piece
                if len(buf) > max_bytes:
                    too_long = True
                    buf.clear()
            if end < 0:
                break
            yield n, None if too_long else bytes(buf)
            n += 1
            buf.clear()
            too_long = False
            start = end + 1
    if buf or too_long:
        yield n, None if too_long else bytes(buf)


class _TextAsBytes:
    """A text stream without a byte buffer (rare: an embedding host's stdin) read as UTF-8."""

    def __init__(self, text: TextIO) -> None:
        self.text = text

    def read(self, size: int) -> bytes:
        return self.text.read(size).encode("utf-8", "surrogatepass")


def _open_input(path: str) -> BinaryIO:
    """Open the input as bytes; lines are decoded one at a time (bad bytes become U+FFFD)."""
    if path == "-":
        buf = getattr(sys.stdin, "buffer", None)
        return buf if buf is not None else _TextAsBytes(sys.stdin)  # type: ignore[return-value]
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(path)
    return p.open("rb")


def _open_output(path: Path) -> TextIO:
    """Open the results file, or stop with one line naming what is wrong with its path."""
    if path.is_dir():
        problem = "is a folder; give a file name for the results"
    elif not path.parent.exists():
        problem = f"cannot be written: its folder {path.parent} does not exist"
    else:
        try:
            return path.open("w", encoding="utf-8")
        except OSError as exc:
            problem = f"cannot be written: {exc.strerror or exc}"
    err_console.print(f"error: output {path} {problem}", markup=False)
    raise typer.Exit(code=2)


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
        fh = _open_input(input)
    except FileNotFoundError:
        err_console.print(f"error: input file not found: {input}", markup=False)
        raise typer.Exit(code=2) from None
    except IsADirectoryError:
        err_console.print(f"error: {input} is a folder; give a JSONL file of posts, or - for "
                          "stdin", markup=False)
        raise typer.Exit(code=2) from None
    except OSError as exc:
        err_console.print(f"error: cannot read {input}: {exc.strerror or exc}", markup=False)
        raise typer.Exit(code=2) from None
    name = "stdin" if input == "-" else input
    out: TextIO = _open_output(output) if output else sys.stdout
    bad = 0
    total = 0
    failed = 0
    linenos: deque[int] = deque()  # input line of each post still being analysed, in order

    def report(n: int, message: str) -> None:
        err_console.print(f"{name}:{n}: {message}", markup=False)

    def posts() -> Iterator[Post]:
        nonlocal bad, total
        for n, raw in read_lines(fh):
            if raw is None:
                bad += 1
                report(n, f"line longer than {MAX_LINE_BYTES} bytes; skipped")
                continue
            line = raw.decode("utf-8", "replace")
            if not line.strip():
                continue
            try:
                post = parse_line(line, n)
            except ValueError as exc:
                bad += 1
                report(n, f"{exc}; skipped")
                continue
            total += 1
            linenos.append(n)
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
        for line, error in lines:
            n = linenos.popleft()
            if error is not None:
                failed += 1
                report(n, error)
            out.write(line)
            if progress is not None and task is not None:
                progress.advance(task)
    finally:
        if progress is not None:
            progress.stop()
        out.flush()
        if output:
            out.close()
        if input != "-":
            fh.close()
    if bad or failed:
        parts = []
        if bad:
            parts.append(f"{bad} malformed line{'s' if bad != 1 else ''} skipped")
        if failed:
            parts.append(f"{failed} post{'s' if failed != 1 else ''} could not be analysed")
        err_console.print(f"{'; '.join(parts)}; {total} scanned", markup=False)
        raise typer.Exit(code=1)


def result_line(flag: Flag, shadow: bool) -> str:
    """One output line of the scan contract (a post that could not be analysed says why)."""
    record: dict[str, object]
    if flag.error is not None:
        record = {"id": flag.post.id, "error": flag.error}
    else:
        record = {
            "id": flag.post.id,
            "flagged": flag.flagged,
            "findings": [f.to_contract() for f in flag.findings],
        }
        if shadow:
            record["shadow_findings"] = [f.to_contract() | {"shadow": True}
                                         for f in flag.shadow_findings]
    # U+2028/U+2029 are legal raw in JSON but break readers that split lines on them.
    text = json.dumps(record, ensure_ascii=False)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") + "\n"


Result = tuple[str, str | None]  # (output line, error message for stderr or None)


def _analysed(pipeline: Pipeline, posts: Iterator[Post], shadow: bool) -> Iterator[Result]:
    for flag in pipeline.analyse_stream(posts):
        yield result_line(flag, shadow), flag.error


_WORKER: Pipeline | None = None
CHUNK = 256  # posts per task handed to a worker process


def _init_worker(settings: Settings) -> None:
    global _WORKER
    _WORKER = build_pipeline(settings)


def _work(posts: list[Post], shadow: bool) -> list[Result]:
    assert _WORKER is not None
    return [(result_line(f, shadow), f.error) for f in _WORKER.analyse(posts)]


def _analysed_in_workers(settings: Settings, posts: Iterator[Post], shadow: bool,
                         workers: int) -> Iterator[Result]:
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
