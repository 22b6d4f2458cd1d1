"""The ``make fuzz`` target runs for the time it is given and reports what it checked."""

from __future__ import annotations

import time

from tests.fuzz.target import main


def test_the_fuzz_target_runs_for_its_time_and_finds_nothing(capsys, tmp_path) -> None:
    start = time.monotonic()
    assert main(["--seconds", "3", "--seed", "13", "--no-model",
                 "--out", str(tmp_path / "f.jsonl")]) == 0
    err = capsys.readouterr().err
    assert "fuzz: seed 13:" in err and "no invariant broken" in err
    assert not (tmp_path / "f.jsonl").exists()
    assert time.monotonic() - start < 120  # building the pipeline plus one short round
