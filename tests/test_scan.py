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
