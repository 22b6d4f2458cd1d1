"""Health and identity-card numbers: their check digits against published specimens, and their
rules firing only with the number's name nearby."""

from __future__ import annotations

import pytest

from monitor.pipeline.rules import EXAMPLE_POLICY, RuleEngine, load_rules, policy_terms
from monitor.pipeline.rules.id_checks import au_medicare, de_id_card, de_kvnr, us_mbi
from monitor.pipeline.rules.matchers import compile_words
from monitor.resources import rules_dir


def test_check_digits_against_published_specimens() -> None:
    # The specimen identity card (T22000129, check 3), the KVNR sample A123456780, the CMS
    # sample MBI 1EG4-TE5-MK73 and a Medicare number whose 9th digit is its weighted check.
    assert de_id_card("T220001293") and not de_id_card("T220001294")
    assert de_kvnr("A123456780") and not de_kvnr("A123456781")
    assert us_mbi("1EG4-TE5-MK73") and not us_mbi("1SG4-TE5-MK73") and not us_mbi("0EG4TE5MK73")
    assert au_medicare("2123 45670 1") and not au_medicare("2123 45680 1")
    assert not au_medicare("7123 45670 1")  # the first digit is 2 to 6


@pytest.fixture(scope="module")
def engine() -> RuleEngine:
    return RuleEngine(load_rules([rules_dir()]), policy_terms(EXAMPLE_POLICY))


@pytest.mark.parametrize("text", [
    "Krankenversichertennummer der Patientin: K123456781",
    "pulling the chart for Omar, medicare no 3951 68271 1",
    "beneficiary MBI 1EG4TE5MK73 on the claim form",
    "Ausweisnummer von Herrn Kaya: CF4GH7KL28",
    "田中さんの個人番号は 5324 8150 6451 です",
])
def test_found_with_their_name_nearby(engine: RuleEngine, text: str) -> None:
    assert any(f.category == "pii" and f.score >= 0.5 for f in engine.analyse(text).findings), text


@pytest.mark.parametrize("text", [
    "order K123456781 shipped yesterday",
    "invoice 3951 68271 1 was paid on time",
    "SKU 1EG4TE5MK73 back in stock",
])
def test_not_found_without_it(engine: RuleEngine, text: str) -> None:
    assert not any(f.category == "pii" and f.score >= 0.5 for f in engine.analyse(text).findings), text


def test_words_in_other_scripts_match_whole() -> None:
    """RE2's word boundary is ASCII-only: a Japanese word needs none to be found."""
    words = compile_words(["マイナンバー", "my number"])
    assert words.search("彼のマイナンバーは") and words.search("my number is")
    assert not words.search("mynumbers")
