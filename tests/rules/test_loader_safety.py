"""Hostile rule and config files: alias bombs, deep nesting and backtracking token regexes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import load_settings
from monitor.errors import ConfigError, RuleError
from monitor.pipeline.rules import RuleEngine, load_rules
from monitor.pipeline.rules.loader import load_file
from tests.rules.test_rules_loader import GOOD

TOKEN_RULE = GOOD.replace("      regex: ['(a+)+$']",
                          "      tokens:\n        - [{LOWER: {REGEX: '^(a|a)+b$'}}]").replace(
    "      match: [aaaa, aa]", "      match: [aab, x aaab]").replace(
    "      no_match: [b, c]", "      no_match: [b, aaaa]")
BILLION_LAUGHS = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
rules: [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def _file(tmp_path: Path, text: str, name: str = "hostile.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _refused(path: Path) -> RuleError:
    start = time.perf_counter()
    with pytest.raises(RuleError) as err:
        load_file(path)
    assert time.perf_counter() - start < 2.0
    assert err.value.path == str(path)
    return err.value


def test_an_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    err = _refused(_file(tmp_path, BILLION_LAUGHS))
    assert "anchors" in str(err) and err.line == 1


def test_an_alias_without_anchor_syntax_tricks_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace("    severity: low", "    severity: *level")
    err = _refused(_file(tmp_path, text))
    assert "alias" in str(err) and err.line == 5


@pytest.mark.parametrize("text", [
    "rules: " + "[" * 200_000 + "]" * 200_000,
    "rules: " + "{a: " * 100_000,
    "rules:\n" + "".join("  " * i + "- \n" for i in range(500)),
], ids=["flow-sequences", "flow-mappings", "block-sequences"])
def test_deep_nesting_is_refused_with_the_file_named(tmp_path: Path, text: str) -> None:
    err = _refused(_file(tmp_path, text))
    assert "nested deeper than" in str(err) and str(tmp_path) in str(err)


def test_an_impossible_date_is_a_rule_error(tmp_path: Path) -> None:
    err = _refused(_file(tmp_path, GOOD.replace("2027-06-30", "2027-02-30")))
    assert "not valid YAML" in str(err)


def test_a_backtracking_token_regex_runs_in_re2(tmp_path: Path) -> None:
    engine = RuleEngine(load_rules([_file(tmp_path, TOKEN_RULE)]))
    start = time.perf_counter()
    # 34 characters take Python's re minutes on this pattern; RE2 answers at once.
    assert engine.analyse("a" * 34).findings == []
    assert engine.analyse("a" * 5_000 + "c").findings == []
    assert time.perf_counter() - start < 2.0
    (finding,) = engine.analyse("well aaab then").findings
    assert finding.spans == [(5, 9)]


@pytest.mark.parametrize("token, field, words", [
    ("{LOWER: {REGEX: '(a)\\1'}}", "match.tokens[0][0].LOWER.REGEX", "RE2"),
    ("{LENGTH: {REGEX: 'a'}}", "match.tokens[0][0].LENGTH.REGEX", "supported on"),
    ("{LOWER: {FUZZY: {REGEX: 'a'}}}", "match.tokens[0][0]", "directly"),
    ("{_: {anything: true}}", "match.tokens[0][0]._", "extension"),
])
def test_a_token_pattern_re2_cannot_run_is_refused(tmp_path: Path, token: str, field: str,
                                                   words: str) -> None:
    path = _file(tmp_path, TOKEN_RULE.replace("{LOWER: {REGEX: '^(a|a)+b$'}}", token))
    with pytest.raises(RuleError) as err:
        RuleEngine(load_rules([path]))
    e = err.value
    assert (e.path, e.line, e.field) == (str(path), 15, field)
    assert words in str(e)


def test_config_check_reports_a_token_regex_re2_refuses(tmp_path: Path) -> None:
    rules = _file(tmp_path, TOKEN_RULE.replace("^(a|a)+b$", "(a)\\1"))
    config = tmp_path / "config.toml"
    config.write_text(f'[model]\nenabled = false\n[rules]\npaths = ["{rules}"]\n',
                      encoding="utf-8")
    res = CliRunner().invoke(app, ["config", "check", str(config)])
    assert res.exit_code == 2, res.output
    assert "match.tokens[0][0].LOWER.REGEX" in res.output and "RE2" in res.output


def test_deeply_nested_toml_is_a_config_error(tmp_path: Path) -> None:
    p = tmp_path / "deep.toml"
    p.write_text("x = " + "[" * 5_000 + "]" * 5_000 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="nested too deeply") as err:
        load_settings(p)
    assert str(p) in str(err.value)
