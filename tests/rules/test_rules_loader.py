"""Broken rule files are refused with file, line and field named; hostile regexes cannot hang."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from monitor.config import settings_from_dict
from monitor.errors import RuleError
from monitor.pipeline.factory import build_pipeline
from monitor.pipeline.rules import RuleEngine, load_rules

GOOD = """\
rules:
  - id: test.hostile
    title: A pattern that backtracking engines take exponential time on
    category: offensive
    severity: low
    status: stable
    owner: Test
    approved_by: Test
    review_by: 2027-06-30
    policy_section: "SMP §0 Test"
    guidance: Consider this.
    falsepositives: [none]
    match:
      regex: ['(a+)+$']
    examples:
      match: [aaaa, aa]
      no_match: [b, c]
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "broken.yaml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_hostile_regex_runs_in_linear_time(tmp_path) -> None:
    engine = RuleEngine(load_rules([_write(tmp_path, GOOD)]))
    # Catastrophic for backtracking engines; RE2 answers at once (pytest-timeout guards).
    assert engine.analyse("a" * 200_000 + "!").findings == []
    assert engine.analyse("x aaaa").findings


@pytest.mark.parametrize(
    "old, new, line, field, words",
    [
        ("    title: A pattern", "    titel: A pattern", 3, "titel", "unknown field"),
        ("    severity: low", "    severity: huge", 5, "severity", "unknown severity"),
        ("      regex: ['(a+)+$']", "      regex: ['(a)\\1']", 14, "match.regex[0]", "RE2"),
        ("      regex: ['(a+)+$']", "      regex: ['(?<=a)b']", 14, "match.regex[0]", "RE2"),
        ("    review_by: 2027-06-30", "    review_by: someday", 9, "review_by", "date"),
        ("      match: [aaaa, aa]", "      match: [aaaa]", 16, "examples.match", "at least 2"),
        ("    guidance: Consider this.", "    guidance: [unclosed", 12, None, "started on line 11"),
        ("      regex: ['(a+)+$']", "      regex: ['(a+)+$']\n      validator: crc99", 15,
         "match.validator", "unknown validator 'crc99'"),
        ("      regex: ['(a+)+$']", "      regex: ['(a+)+$']\n      checksum: luhnish", 15,
         "match.checksum", "unknown validator 'luhnish'"),
        ("      regex: ['(a+)+$']", "      regex: ['(a+)+$']\n      allow_from: [policy.friends]", 15,
         "match.allow_from", "unknown term list"),
        ("      regex: ['(a+)+$']", "      regex: ['(a+)+$']\n      decode: rot13", 15,
         "match.decode", "base64"),
    ],
)
def test_broken_rule_file_names_file_line_and_field(tmp_path, old, new, line, field, words) -> None:
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(RuleError) as err:
        RuleEngine(load_rules([path]))
    e = err.value
    assert e.path == str(path) and e.line == line and e.field == field
    assert words in str(e) and f"{path}:{line}" in str(e)


def test_duplicate_ids_are_refused(tmp_path) -> None:
    a = tmp_path / "a.yaml"
    b = tmp_path / "b.yaml"
    a.write_text(GOOD, encoding="utf-8")
    b.write_text(GOOD, encoding="utf-8")
    with pytest.raises(RuleError, match="duplicate rule id") as err:
        load_rules([tmp_path])
    assert err.value.path == str(b) and err.value.line == 2


def test_build_pipeline_refuses_a_broken_rule_file(tmp_path, tmp_db_url) -> None:
    path = _write(tmp_path, GOOD.replace("    status: stable", "    status: maybe"))
    settings = settings_from_dict({"store": {"url": tmp_db_url}, "rules": {"paths": [str(path)]}})
    with pytest.raises(RuleError) as err:
        build_pipeline(settings)
    assert err.value.line == 6 and err.value.field == "status"


def test_config_paths_disabled_and_policy_terms_reach_the_pipeline(tmp_path, tmp_db_url) -> None:
    from monitor.domain import Post

    path = _write(tmp_path, GOOD)
    settings = settings_from_dict({
        "store": {"url": tmp_db_url},
        "model": {"enabled": False},
        "rules": {"paths": [str(path)], "disabled": ["cred.aws-access-key"]},
        "policy": {"confidential": {"terms": ["Operation Nightjar"]}},
    })
    pipe = build_pipeline(settings)
    (flag,) = pipe.analyse([Post(id="1", text="AKIAUJZDE8GXD6NCF10E Operation nightjar aaaa")])
    sources = {f.source for f in flag.findings}
    assert sources == {"rule:conf.codename", "rule:test.hostile"}
    assert build_pipeline(settings).detectors[0].engine is pipe.detectors[0].engine  # cached
    only = settings_from_dict({"model": {"enabled": False},
                               "rules": {"paths": [str(path)], "replace_bundled": True}})
    assert build_pipeline(only).detectors[0].engine.rule_ids() == ["test.hostile"]


def _seconds(engine: RuleEngine, text: str) -> float:
    import time

    start = time.perf_counter()
    engine.analyse(text)
    return time.perf_counter() - start


@pytest.mark.timeout(300)
def test_a_megabyte_of_random_base64_is_answered_in_linear_time(engine) -> None:
    """A 1 MB post of random base64 (one run, wrapped at 76, or in groups) gets an answer,
    and four times the text takes about four times as long, not sixteen (a shared machine
    makes single timings noisy, hence the margin)."""
    import base64
    import random

    rng = random.Random(7)

    def blob(size: int, shape: str) -> str:
        # The same phrase in front of both sizes, so both take the tokenizer path too.
        raw = "internal only " + base64.b64encode(rng.randbytes(size * 3 // 4)).decode()
        if shape == "wrapped":
            return "\n".join(raw[i:i + 76] for i in range(0, len(raw), 76))
        if shape == "grouped":
            return " ".join(raw[i:i + 8] for i in range(0, len(raw), 8))
        return raw

    for shape in ("flat", "wrapped", "grouped"):
        engine.analyse(blob(40_000, shape))  # builds the long-text pre-filter groups once
        small = _seconds(engine, blob(250_000, shape))
        big_text = blob(1_000_000, shape)
        big = _seconds(engine, big_text)
        assert len(big_text) >= 1_000_000
        assert big < 60, (shape, big)
        assert big / max(small, 0.05) < 10, (shape, small, big)
        # Random bytes are not credentials: nothing decodes to a key, no checksum passes.
        assert [f for f in engine.analyse(big_text).findings if f.category == "credentials"] == []
