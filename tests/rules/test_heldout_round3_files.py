"""Round 3 of the held-back set is the generator's output, big enough, and its numbers valid.

Only the files are checked here; the rules are measured on them once, by the integrator, with
``python -m bench.eval_heldout --round 3``.
"""

from __future__ import annotations

import re
from collections import Counter

from bench import heldout_round3 as gen
from tests.rules.heldout_files import (
    assert_fresh,
    assert_generator_output,
    assert_sizes_and_fields,
    rows,
)

MINIMUM = {"round3_credentials_positive": 300, "round3_credentials_hard_negative": 300,
           "round3_pii_positive": 300, "round3_pii_negative": 500}


def test_committed_files_are_the_generator_output() -> None:
    """Nobody edited a case by hand after it was generated."""
    assert_generator_output(gen.build, MINIMUM)


def test_sizes_kinds_and_fields() -> None:
    """Each file is at least as big as the brief asks, and every row names its kind."""
    assert_sizes_and_fields(MINIMUM)
    providers = {display for _k, display, _e, _g, _ev in gen.FORMATS}
    assert len(providers) >= 60


def test_no_case_repeats_an_earlier_round() -> None:
    """Round 3 is fresh: none of its texts occurs in rounds 1 or 2."""
    assert_fresh("round3_", MINIMUM)


def test_check_digits_hold() -> None:
    """Cards pass Luhn and IBANs mod 97, in the committed PII positives themselves."""
    kinds: Counter[str] = Counter()
    for row in rows("round3_pii_positive"):
        if row["kind"] == "card":
            number = re.search(r"\d[\d ]{12,20}\d", row["text"])
            assert number and gen._luhn_ok(number.group().replace(" ", "")), row["text"]
            kinds["card"] += 1
        if row["kind"] == "iban":
            iban = re.search(r"[A-Z]{2}\d{2}[A-Z0-9 ]{10,34}", row["text"])
            assert iban and gen._iban_ok(iban.group().replace(" ", "").rstrip()), row["text"]
            kinds["iban"] += 1
    assert kinds["card"] and kinds["iban"]


def test_checksums_against_published_examples() -> None:
    """The reimplemented algorithms agree with well-known valid numbers."""
    assert gen._verhoeff("236") == "3"
    assert gen._luhn_ok("046454286") and gen._luhn_ok("8001015009087")
    assert gen._icao("L898902C3") == "6" and gen._icao("740812") == "2"
    assert gen._iban_ok("GB82WEST12345698765432")
    assert gen._iban("GB", "WEST12345698765432") == "GB82WEST12345698765432"
    assert gen._fr_rib_key("20041", "01005", "05000134026") == 6
    assert 97 - int("2550814168025") % 97 == 38
