"""Pre-filter gates: conditions derived from a pattern hold for every text it matches."""

from __future__ import annotations

import random

import pytest
import re2

from monitor.pipeline.rules.matchers import _SHAPES, PrefilterSet, pattern_gate
from monitor.pipeline.rules.normalise import clean_view


def _meets(pattern: str, text: str) -> bool:
    """Whether ``text`` meets the gate derived from ``pattern`` (checked the slow, plain way)."""
    gate = pattern_gate(pattern)
    data = text.encode()
    if gate.words and not any(re2.search("(?i)" + re2.escape(w), text) for w in gate.words):
        return False
    for cls, need in gate.runs.items():
        longest = max(map(len, data.translate(_SHAPES[cls]).split()), default=0)
        if longest < need:
            return False
    return True


def test_gate_of_a_provider_format_names_its_prefix_and_length() -> None:
    gate = pattern_gate(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")
    assert gate.words == {"akia", "asia"}
    assert gate.runs["alnum"] == 20
    assert gate.runs["token"] == 20


def test_gate_needs_a_digit_run_for_a_number() -> None:
    assert pattern_gate(r"\b\d{3}-\d{2}-\d{4}\b").runs["digit"] == 4


def test_optional_parts_give_no_condition() -> None:
    gate = pattern_gate(r"(?:secret)?x")
    assert gate.words is None or "secret" not in gate.words


@pytest.mark.parametrize("pattern", [
    r"[[:alpha:]]{20}",            # a POSIX class Python would read as literal characters
    r"\pL{20}",                    # RE2-only syntax
    r"(?i)abc(?-i)def",            # flags Python reads otherwise
])
def test_syntax_read_otherwise_gets_no_gate(pattern: str) -> None:
    gate = pattern_gate(pattern)
    assert gate.words is None and not gate.runs


@pytest.mark.parametrize(("pattern", "text"), [
    (r"(?i)secret", "my \u017fecret"),            # RE2 folds the long s onto s
    (r"(?i)\bkey-[a-z0-9]{8}\b", "\u212aEY-abcdefgh"),  # and the Kelvin sign onto k
])
def test_gates_hold_for_folded_letters(pattern: str, text: str) -> None:
    if re2.search(pattern, text):
        assert _meets(pattern, text)


def test_every_rule_gate_holds_on_the_rule_examples(engine) -> None:  # type: ignore[no-untyped-def]
    checked = 0
    for c in engine.rules:
        texts = [*c.lr.rule.examples.match, *c.lr.rule.examples.no_match]
        for pattern in c.lr.rule.match.regex:
            for text in texts:
                view = clean_view(text).text
                if re2.search(pattern, view):
                    assert _meets(pattern, view), (c.id, pattern, text)
                    checked += 1
    assert checked > 300


def test_gated_sets_answer_as_one_plain_set() -> None:
    patterns = [r"\bAKIA[0-9A-Z]{16}\b", r"\b\d{3}-\d{2}-\d{4}\b", r"(?i)password\s*[:=]",
                r"(?:^|[^A-Za-z0-9])(?P<value>[a-f0-9]{32})(?:[^A-Za-z0-9]|$)", r"hello",
                r"[A-Za-z][0-9]", r"(?i)\bvisa\b"] * 12
    patterns = [f"{p}|zz{i}qq" if i % 3 else p for i, p in enumerate(patterns)]
    gated = PrefilterSet()
    plain = re2.Set.SearchSet()
    for i, p in enumerate(patterns):
        gated.add(p, i)
        plain.Add(p)
    gated.compile()
    plain.Compile()
    rng = random.Random(7)
    words = ["AKIAUJZDE8GXD6NCF10E", "123-45-6789", "PassWord: x", "hello", "a1", "zz5qq",
             "0123456789abcdef0123456789abcdef", "VISA", "plain", "words", "\u017fecret", " "]
    for _ in range(400):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(0, 8)))
        assert sorted(gated.hits(text)) == sorted(plain.Match(text) or []), text
