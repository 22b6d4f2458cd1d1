"""Round 5 of the held-back set is the generator's output, big enough, and its numbers valid.

Only the files are checked here; the rules are measured on them once, by the integrator.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from collections import Counter

from bench import heldout_round5 as gen
from tests.rules.heldout_files import (
    assert_fresh,
    assert_generator_output,
    assert_sizes_and_fields,
    rows,
)

MINIMUM = {"round5_credentials_positive": 250, "round5_credentials_hard_negative": 250,
           "round5_pii_positive": 250, "round5_pii_negative": 400}

CARD = re.compile(r"\d(?:[ -]?\d){12,18}")
IBAN = re.compile(r"[A-Z]{2}\d{2}(?: [A-Z0-9]{1,4})+")


def test_committed_files_are_the_generator_output() -> None:
    """Nobody edited a case by hand after it was generated."""
    assert_generator_output(gen.build, MINIMUM)


def test_sizes_kinds_and_fields() -> None:
    """Each file is at least as big as the brief asks, and names many kinds and providers."""
    assert_sizes_and_fields(MINIMUM)
    assert len({display for _k, display, _e, _g in gen.FORMATS}) >= 60
    assert len({r["kind"] for r in rows("round5_credentials_positive")}) >= 80
    pii_kinds = {r["kind"] for r in rows("round5_pii_positive")}
    assert len({k for k in pii_kinds if k.startswith("national_id_")}) >= 10


def test_no_case_repeats_an_earlier_round() -> None:
    """Round 5 is fresh: none of its texts occurs in rounds 1 to 4 (compared, not read by hand)."""
    assert_fresh("round5_", MINIMUM)


def test_check_digits_hold() -> None:
    """Cards pass Luhn, IBANs mod 97, GitHub and npm tokens their CRC32, in the committed files."""
    seen: Counter[str] = Counter()
    for row in rows("round5_pii_positive"):
        if row["kind"] == "card":
            number = CARD.search(row["text"])
            assert number and gen._luhn_ok(re.sub(r"[ -]", "", number.group())), row["text"]
            seen["card"] += 1
        if row["kind"] == "iban":
            iban = IBAN.search(row["text"])
            assert iban and gen._iban_ok(iban.group().replace(" ", "")), row["text"]
            seen["iban"] += 1
    for row in rows("round5_credentials_positive"):
        tok = re.search(r"\b(?:gh[posr]|npm)_([A-Za-z0-9]{30})([A-Za-z0-9]{6})\b", row["text"])
        if tok and not row["kind"].startswith("split_"):
            assert gen.base62(zlib.crc32(tok.group(1).encode()), 6) == tok.group(2), row["text"]
            seen["crc"] += 1
        if row["kind"] == "jwt":
            head = re.search(r"eyJ[A-Za-z0-9_-]+", row["text"])
            assert head and json.loads(base64.urlsafe_b64decode(head.group() + "==="))["typ"] == "JWT"
            seen["jwt"] += 1
    assert seen["card"] >= 10 and seen["iban"] >= 10 and seen["crc"] >= 10 and seen["jwt"] >= 5
    for row in rows("round5_pii_negative"):
        if row["kind"] == "fails_check_digit":
            if "Luhn" in row["text"]:
                number = re.search(r"\d{16}", row["text"])
                assert number and not gen._luhn_ok(number.group())
            else:
                iban = re.search(r"[A-Z]{2}\d{20}", row["text"])
                assert iban and not gen._iban_ok(iban.group())
        if row["kind"] in {"test_card", "test_iban"}:
            assert "test" in row["text"].lower() or "sandbox" in row["text"].lower() or "example" in row["text"]


def test_national_ids_hold_their_check_digits() -> None:
    """Each national ID generator agrees with its published check."""
    import random
    rng = random.Random(7)
    for _ in range(50):
        n = gen.nid_es(rng)
        assert "TRWAGMYFPDXBNJZSQVHLCKE"[int(n[:8]) % 23] == n[8]
        b = gen.nid_nl(rng)
        assert sum(int(c) * w for c, w in zip(b, [9, 8, 7, 6, 5, 4, 3, 2, -1], strict=True)) % 11 == 0
        assert gen._luhn_ok(gen.nid_ca(rng).replace(" ", "")) and gen._luhn_ok(gen.nid_za(rng))
        se = gen.nid_se(rng).replace("-", "")
        assert gen._luhn_ok(se)
        be = re.sub(r"\D", "", gen.nid_be(rng))
        assert 97 - int(be[:9]) % 97 == int(be[9:])
        cn = gen.nid_cn(rng)
        w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        assert "10X98765432"[sum(int(c) * x for c, x in zip(cn[:17], w, strict=True)) % 11] == cn[17]
        tr = gen.nid_tr(rng)
        assert sum(int(c) for c in tr[:10]) % 10 == int(tr[10])
    assert gen._verhoeff("236") == "3" and gen._luhn_ok("046454286")
    assert gen._iban_ok("GB82WEST12345698765432") and gen._iban_ok("DE89370400440532013000")
    assert gen._iban("GB", "WEST12345698765432") == "GB82WEST12345698765432"
    assert gen.nid_fi.__doc__ and gen._bech32("a", b"") == "a12uel5l"


def test_mrz_and_newer_ids_hold_their_check_digits() -> None:
    """Passport MRZ lines pass ICAO 9303 and the Steuer-ID and Korean RRN their checks, as committed."""
    seen: Counter[str] = Counter()
    for row in rows("round5_pii_positive"):
        if row["kind"] == "passport_mrz":
            line2 = row["text"].split("\n")[-1]
            assert len(line2) == 44
            assert gen._icao(line2[:9]) == line2[9] and gen._icao(line2[13:19]) == line2[19]
            assert gen._icao(line2[21:27]) == line2[27]
            assert gen._icao(line2[:10] + line2[13:20] + line2[21:43]) == line2[43]
            seen["mrz"] += 1
        if row["kind"] == "national_id_de":
            n = re.search(r"\d{2} \d{3} \d{3} \d{3}", row["text"])
            assert n and gen._de_taxid_check(n.group().replace(" ", "")[:10]) == n.group()[-1]
            seen["de"] += 1
        if row["kind"] == "national_id_kr":
            n = re.search(r"(\d{6})-(\d{7})", row["text"])
            assert n
            d = n.group(1) + n.group(2)
            w = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]
            assert (11 - sum(int(a) * b for a, b in zip(d, w, strict=False)) % 11) % 10 == int(d[12])
            seen["kr"] += 1
    assert seen["mrz"] and seen["de"] and seen["kr"]
    assert gen._de_taxid_check("3657426180") == "9" and gen._icao("L898902C3") == "6"
