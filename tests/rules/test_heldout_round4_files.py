"""Round 4 of the held-back set is the generator's output, big enough, and its numbers valid.

Only the files are checked here; the rules are measured on them once, by the integrator, with
``python -m bench.eval_heldout --round 4``.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter

from bench import heldout_round4 as gen
from tests.rules.heldout_files import (
    assert_fresh,
    assert_generator_output,
    assert_sizes_and_fields,
    rows,
)

MINIMUM = {"round4_credentials_positive": 600, "round4_credentials_hard_negative": 600,
           "round4_pii_positive": 600, "round4_pii_negative": 1000}


def test_committed_files_are_the_generator_output() -> None:
    """Nobody edited a case by hand after it was generated."""
    assert_generator_output(gen.build, MINIMUM)


def test_sizes_kinds_and_fields() -> None:
    """Each file is at least as big as the brief asks, and every row names its kind."""
    assert_sizes_and_fields(MINIMUM)
    assert len({r["kind"] for r in rows("round4_credentials_positive")}) >= 150
    assert len({display for _k, display, _v, _g in gen.FORMATS}) >= 100


def test_no_case_repeats_an_earlier_round() -> None:
    """Round 4 is fresh: none of its texts occurs in rounds 1 to 3 (compared, not read by hand)."""
    assert_fresh("round4_", MINIMUM)


def test_check_digits_hold() -> None:
    """Cards pass Luhn, IBANs mod 97 and GitHub tokens their CRC32, in the committed files."""
    kinds: Counter[str] = Counter()
    for row in rows("round4_pii_positive"):
        if row["kind"] == "card":
            number = re.search(r"\d[\d ]{12,20}\d", row["text"])
            assert number and gen._luhn_ok(number.group().replace(" ", "")), row["text"]
            kinds["card"] += 1
        if row["kind"] == "iban":
            iban = re.search(r"[A-Z]{2}\d{2}(?: [A-Z0-9]{1,4})+", row["text"])
            assert iban and gen._iban_ok(iban.group().replace(" ", "")), row["text"]
            kinds["iban"] += 1
    for row in rows("round4_credentials_positive"):
        if row["kind"] == "github_pat_classic":
            tok = re.search(r"ghp_([A-Za-z0-9]{30})([A-Za-z0-9]{6})", row["text"])
            assert tok and gen.base62(zlib.crc32(tok.group(1).encode()), 6) == tok.group(2)
            kinds["ghp"] += 1
    assert kinds["card"] and kinds["iban"] and kinds["ghp"]
    for row in rows("round4_pii_negative"):
        if row["kind"] == "fails_check_digit" and "Luhn" in row["text"]:
            number = re.search(r"\d{16}", row["text"])
            assert number and not gen._luhn_ok(number.group())


def test_checksums_against_published_examples() -> None:
    """The reimplemented algorithms agree with well-known valid numbers."""
    assert gen._verhoeff("236") == "3"
    assert gen._luhn_ok("046454286") and gen._luhn_ok("4242424242424242")
    assert gen._icao("L898902C3") == "6" and gen._icao("740812") == "2" and gen._icao("120415") == "9"
    assert gen._iban_ok("GB82WEST12345698765432") and gen._iban_ok("DE89370400440532013000")
    assert gen._iban("GB", "WEST12345698765432") == "GB82WEST12345698765432"
    assert gen._fr_rib_key("20041", "01005", "05000134026") == 6
    assert gen._mod11_de_taxid("3657426180") == "9" and gen._mod11_de_taxid("0247629135") == "8"
    assert "TRWAGMYFPDXBNJZSQVHLCKE"[12345678 % 23] == "Z"
    assert gen._crc24(b"") == 0xB704CE
