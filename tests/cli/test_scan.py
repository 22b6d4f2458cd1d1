"""``socialguide scan``: the DESIGN.md contract, end to end through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from monitor.cli import app

KEY = "AKIAZ4QW7PL2XR5NB3TD"


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_one_output_line_per_valid_input_line_in_order(tmp_path: Path) -> None:
    inp = _write(tmp_path / "in.jsonl", [
        json.dumps({"id": "a", "text": f"deploy key {KEY} oops", "platform": "x"}),
        json.dumps({"id": "b", "text": "lovely weather for a run today"}),
        json.dumps({"id": 7, "text": "my ex jane posted this, her private email is jane.doe@gmail.com, go flood it",
                    "created_at": "2026-11-01T10:00:00Z", "url": "https://x.com/1"}),
    ])
    out = tmp_path / "out.jsonl"
    res = CliRunner().invoke(app, ["scan", str(inp), "-o", str(out)])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a", "b", "7"]
    assert rows[0]["flagged"] is True
    cred = [f for f in rows[0]["findings"]
            if f["category"] == "credentials" and f["source"].startswith("rule:")]
    assert cred, rows[0]
    f = cred[0]
    assert set(f) == {"category", "source", "severity", "score", "spans", "guidance"}
    start, end = f["spans"][0]
    assert "deploy key AKIAZ4QW7PL2XR5NB3TD oops"[start:end] == KEY
    assert rows[1] == {"id": "b", "flagged": False, "findings": []}
    assert any(f["category"] == "pii" for f in rows[2]["findings"])


def test_malformed_lines_are_reported_and_the_rest_scanned(tmp_path: Path) -> None:
    inp = _write(tmp_path / "in.jsonl", [
        json.dumps({"id": "1", "text": "hello"}),
        "{not json",
        json.dumps({"id": "3"}),
        json.dumps({"id": "4", "text": 5}),
        json.dumps(["a list"]),
        json.dumps({"id": "6", "text": "bye"}),
    ])
    res = CliRunner().invoke(app, ["scan", str(inp)])
    assert res.exit_code == 1
    out_ids = [json.loads(x)["id"] for x in res.stdout.splitlines() if x.startswith("{")]
    assert out_ids == ["1", "6"]
    err = res.stderr
    assert f"{inp}:2: not valid JSON" in err
    assert f'{inp}:3: missing required field "text"' in err
    assert f'{inp}:4: field "text" must be a string' in err
    assert f"{inp}:5: expected a JSON object" in err


def test_stdin_and_stdout_by_default() -> None:
    line = json.dumps({"id": "s1", "text": f"key={KEY}"})
    res = CliRunner().invoke(app, ["scan", "-"], input=line + "\n")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout.strip())["flagged"] is True


def test_missing_input_file_is_a_clear_error(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["scan", str(tmp_path / "nope.jsonl")])
    assert res.exit_code == 2
    assert "input file not found" in res.stderr


def test_bad_config_refuses_to_start(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[rules]\ndisabled = 5\n")
    inp = _write(tmp_path / "in.jsonl", [json.dumps({"id": "1", "text": "x"})])
    res = CliRunner().invoke(app, ["scan", str(inp), "--config", str(cfg)])
    assert res.exit_code == 2
    assert "rules.disabled" in res.stderr


def test_weird_unicode_and_empty_text_get_an_answer(tmp_path: Path) -> None:
    texts = ["", "🙂🙂🙂", "\u202e\u200bhidden\u2066", "Ｆｕｌｌｗｉｄｔｈ", "日本語のテキスト", "\ud800"]
    inp = tmp_path / "in.jsonl"
    inp.write_text("\n".join(json.dumps({"id": str(i), "text": t}) for i, t in enumerate(texts))
                   + "\n", encoding="utf-8", errors="surrogatepass")
    res = CliRunner().invoke(app, ["scan", str(inp)])
    assert res.exit_code == 0, res.output
    assert len([x for x in res.stdout.splitlines() if x.strip()]) == len(texts)


def test_streams_a_large_input_through_a_real_process(tmp_path: Path) -> None:
    # A real subprocess with a pipe: output appears in order and the count matches.
    n = 3000
    inp = tmp_path / "big.jsonl"
    with inp.open("w") as fh:
        for i in range(n):
            text = f"post {i} about nothing in particular" if i % 100 else f"key {KEY}"
            fh.write(json.dumps({"id": str(i), "text": text}) + "\n")
    proc = subprocess.run(
        [sys.executable, "-m", "monitor", "scan", str(inp)],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [r["id"] for r in rows] == [str(i) for i in range(n)]
    assert sum(r["flagged"] for r in rows) >= n // 100


# -- hostile input: one line never costs the batch --------------------------------------------

FAST = '[model]\nenabled = false\n[policy.confidential]\nterms = ["Project Falcon"]\n'


def _scan(tmp_path: Path, raw: bytes, *args: str):
    inp = tmp_path / "in.jsonl"
    inp.write_bytes(raw)
    cfg = tmp_path / "fast.toml"
    cfg.write_text(FAST, encoding="utf-8")
    res = CliRunner().invoke(app, ["scan", str(inp), "--config", str(cfg), *args])
    rows = [json.loads(x) for x in res.stdout.splitlines() if x.startswith("{")]
    return inp, res, rows


def _line(record: dict) -> bytes:
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")


def test_a_deeply_nested_line_is_an_error_for_that_line_only(tmp_path: Path) -> None:
    deep = '{"id": "2", "text": "hi", "extra": ' + "[" * 100_000 + "]" * 100_000 + "}\n"
    raw = _line({"id": "1", "text": "hello"}) + deep.encode() + _line({"id": "3", "text": "bye"})
    inp, res, rows = _scan(tmp_path, raw)
    assert res.exit_code == 1
    assert [r["id"] for r in rows] == ["1", "3"]
    assert f"{inp}:2: not valid JSON (nested too deeply); skipped" in res.stderr
    assert "Traceback" not in res.output


def test_a_text_over_a_million_characters_is_analysed_with_spans_in_the_original(
        tmp_path: Path) -> None:
    filler = "lorem ipsum dolor sit amet " * 45_000  # ~1.2 million characters
    # Zero-width and bidi characters shift the normalised text against the original.
    text = ("\u200bProject Falcon " + filler[:600_013] + " PROJECT\u200b falcon\u2066 " + filler
            + "Project Falcon")
    assert len(text) > 1_000_000
    inp, res, rows = _scan(tmp_path, _line({"id": "long", "text": text}))
    assert res.exit_code == 0, res.stderr
    (row,) = rows
    (finding,) = [f for f in row["findings"] if f["source"] == "rule:conf.codename"]
    found = [text[a:b].lower() for a, b in finding["spans"]]
    assert found == ["project falcon", "project\u200b falcon", "project falcon"]


def test_an_over_long_line_is_skipped_by_number_and_the_rest_scanned(tmp_path: Path) -> None:
    from monitor.cli.scan import MAX_LINE_BYTES

    huge = b'{"id": "2", "text": "' + b"a" * (MAX_LINE_BYTES + 10) + b'"}\n'
    raw = _line({"id": "1", "text": "one"}) + huge + _line({"id": "3", "text": "three"})
    inp, res, rows = _scan(tmp_path, raw)
    assert res.exit_code == 1
    assert [r["id"] for r in rows] == ["1", "3"]
    assert f"{inp}:2: line longer than {MAX_LINE_BYTES} bytes; skipped" in res.stderr


class _Endless:
    """A stream of one line ``size`` bytes long, produced block by block (never held whole)."""

    def __init__(self, size: int) -> None:
        self.left = size

    def read(self, n: int) -> bytes:
        if self.left <= 0:
            return b""
        take = min(n, self.left)
        self.left -= take
        return b"x" * take if self.left else b"x" * (take - 1) + b"\n"


def test_memory_stays_flat_at_any_line_length() -> None:
    import tracemalloc

    from monitor.cli.scan import read_lines

    tracemalloc.start()
    try:
        got = list(read_lines(_Endless(64 << 20), max_bytes=1 << 20))  # a 64 MiB line
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got == [(1, None)]
    assert peak < 4 << 20, peak


def test_only_newline_ends_a_line_and_u2028_is_written_escaped(tmp_path: Path) -> None:
    raw = (b'{"id": "a",\r "text": "one\xe2\x80\xa8two\xe2\x80\xa9three"}\r\n'
           + _line({"id": "b", "text": "bare\rreturn"}))
    inp, res, rows = _scan(tmp_path, raw)
    assert res.exit_code == 0, res.stderr
    assert [r["id"] for r in rows] == ["a", "b"]
    assert "\u2028" not in res.stdout and "\u2029" not in res.stdout
    assert "\\u2028" in res.stdout.splitlines()[0] or rows[0]["findings"] == []
    out = tmp_path / "out.jsonl"
    _, res, _ = _scan(tmp_path, _line({"id": "c", "text": f"key \u2028{KEY}\u2029"}), "-o",
                      str(out))
    written = out.read_bytes()
    assert b"\xe2\x80\xa8" not in written and b"\xe2\x80\xa9" not in written
    (row,) = [json.loads(x) for x in written.decode().split("\n") if x]
    assert row["flagged"] is True


def test_a_post_the_pipeline_cannot_analyse_gets_an_error_line(tmp_path: Path, monkeypatch) -> None:
    import monitor.cli.scan as scan_cli
    from monitor.config import settings_from_dict
    from monitor.pipeline.factory import build_pipeline
    from tests.pipeline.test_isolation import FailsOn

    real = build_pipeline(settings_from_dict({"model": {"enabled": False}}))
    pipe = type(real)(detectors=[*real.detectors, FailsOn("boom")], decider=real.decider)
    monkeypatch.setattr(scan_cli, "build_pipeline", lambda settings: pipe)
    raw = (_line({"id": "1", "text": f"key {KEY}"}) + _line({"id": "2", "text": "boom"})
           + _line({"id": "3", "text": "fine"}))
    inp, res, rows = _scan(tmp_path, raw)
    assert res.exit_code == 1
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["flagged"] is True and rows[2]["flagged"] is False
    assert rows[1] == {"id": "2", "error": "post 2: analysis failed (RuntimeError)"}
    assert f"{inp}:2: post 2: analysis failed (RuntimeError)" in res.stderr
    assert "1 post could not be analysed" in res.stderr
