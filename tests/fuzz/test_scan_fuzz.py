"""``scan`` input: random bytes, any Unicode, huge and deep lines never crash it or lose a line."""

from __future__ import annotations

import io
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from monitor.cli import app
from monitor.cli.scan import parse_line, read_lines
from tests.fuzz.strategies import texts

FAST = "[model]\nenabled = false\n"


@given(st.binary(max_size=2_000), st.integers(1, 64), st.integers(1, 300))
def test_lines_are_split_on_newline_only_and_bounded(data: bytes, block: int, limit: int) -> None:
    got = list(read_lines(io.BytesIO(data), max_bytes=limit, block=block))
    parts = data.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    assert [n for n, _ in got] == list(range(1, len(parts) + 1))
    for (_, line), part in zip(got, parts, strict=True):
        assert line == (part if len(part) <= limit else None)


@given(st.text(max_size=200))
def test_any_line_is_a_post_or_a_clear_error(line: str) -> None:
    try:
        post = parse_line(line, 1)
    except ValueError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert isinstance(post.text, str) and isinstance(post.id, str)


@given(st.integers(1, 200_000), st.sampled_from(["[", "{\"a\":", "[{\"b\": "]))
@settings(max_examples=15)
def test_deep_lines_are_a_clear_error(depth: int, opener: str) -> None:
    closer = {"[": "]", "{\"a\":": "1}", "[{\"b\": ": "1}]"}[opener]
    line = '{"id": "1", "text": "x", "deep": ' + opener * depth + "0" * (opener == "[") + \
        closer * depth + "}"
    try:
        assert parse_line(line, 1).id == "1"
    except ValueError as exc:
        assert "nested too deeply" in str(exc) or "not valid JSON" in str(exc)


lines = st.one_of(
    texts.map(lambda t: json.dumps({"id": "p", "text": t}, ensure_ascii=False)),
    texts.map(lambda t: json.dumps({"id": "p", "text": t})),
    st.text(max_size=80),
    st.binary(max_size=80).map(lambda b: b.decode("latin-1")),
)


@given(st.lists(lines, max_size=12), st.binary(max_size=64))
@settings(max_examples=25)
def test_scan_answers_every_valid_line_and_names_every_bad_one(tmp_path: Path, rows: list[str],
                                                               junk: bytes) -> None:
    raw = b"".join(r.encode("utf-8", "surrogatepass") + b"\n" for r in rows) + junk
    inp = tmp_path / "in.jsonl"
    inp.write_bytes(raw)
    cfg = tmp_path / "fast.toml"
    cfg.write_text(FAST, encoding="utf-8")
    res = CliRunner().invoke(app, ["scan", str(inp), "--config", str(cfg)])
    assert res.exit_code in (0, 1), res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    out = res.stdout.split("\n")
    assert out[-1] == "" and all("\u2028" not in x and "\u2029" not in x for x in out)
    answered = len(out) - 1
    named = sum(1 for x in res.stderr.splitlines() if x.startswith(f"{inp}:"))
    expected = 0
    for _, line in read_lines(io.BytesIO(raw)):
        if line is not None and line.decode("utf-8", "replace").strip():
            expected += 1
    assert answered + named == expected, (answered, named, expected)
    assert (res.exit_code == 0) == (named == 0)
