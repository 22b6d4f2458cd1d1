"""Rule loading: any document gives rules or a RuleError naming the file, never another error."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import given
from hypothesis import strategies as st

from monitor.errors import RuleError
from monitor.pipeline.rules import RuleEngine
from monitor.pipeline.rules.loader import load_file
from tests.rules.test_rules_loader import GOOD

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.text(max_size=20), st.dates())
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=20)
FIELDS = ["id", "title", "category", "severity", "status", "match", "regex", "tokens", "phrases",
          "examples", "context", "validator", "LOWER", "REGEX", "OP", "rules", "defaults"]


def _mutated(data: st.DataObject) -> object:
    """The good rule with one field (possibly nested) replaced by a random value."""
    doc = yaml.safe_load(GOOD)
    rule = doc["rules"][0]
    target = rule["match"] if data.draw(st.booleans()) else rule
    target[data.draw(st.sampled_from(FIELDS))] = data.draw(values)
    return doc


def _load(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzzed.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        RuleEngine(load_file(path))
    except RuleError as err:
        assert err.path == str(path)
        assert len(str(err).splitlines()) == 1, str(err)


@given(st.text(max_size=300))
def test_any_text_gives_rules_or_a_rule_error(tmp_path: Path, text: str) -> None:
    _load(tmp_path, text)


@given(values)
def test_any_yaml_value_gives_rules_or_a_rule_error(tmp_path: Path, value: object) -> None:
    _load(tmp_path, yaml.safe_dump(value))


@given(st.data())
def test_a_mutated_rule_gives_rules_or_a_rule_error(tmp_path: Path, data: st.DataObject) -> None:
    _load(tmp_path, yaml.safe_dump(_mutated(data), allow_unicode=True))


@given(st.lists(st.sampled_from(["[", "{", "&a ", "*a", "- ", "a: ", "\n", "  ", "!!python/"]),
                max_size=400).map("".join))
def test_hostile_yaml_syntax_gives_rules_or_a_rule_error(tmp_path: Path, text: str) -> None:
    _load(tmp_path, text)
