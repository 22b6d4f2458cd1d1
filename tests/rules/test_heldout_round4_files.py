"""Round 4 of the held-back set is the generator's output, big enough, and its numbers valid.

Only the files are checked here; the rules are measured on them once, by the integrator, with
``python -m bench.eval_heldout --round 4``.
"""

from __future__ import annotations

import json
import re
import zlib
from collections import Counter
from pathlib import Path

from bench import heldout_round4 as gen

DATA = Path(__file__).resolve().parents[2] / "data" / "secrets-heldout"
MINIMUM = {"round4_credentials_positive": 600, "round4_credentials_hard_negative": 600,
           "round4_pii_positive": 600, "round4_pii_negative": 1000}


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / f"{name}.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def test_committed_files_are_the_generator_output() -> None:
    """Nobody edited a case by hand after it was generated."""
    built = gen.build()
    assert set(built) == set(MINIMUM)
    for name, rows in built.items():
        want = [json.loads(json.dumps({"id": f"{name}-{i}", **r}, ensure_ascii=False))
                for i, r in enumerate(rows)]
        assert _rows(name) == want, name


def test_sizes_kinds_and_fields() -> None:
    """Each file is at least as big as the brief asks, and every row names its kind."""
    for name, least in MINIMUM.items():
        rows = _rows(name)
        assert len(rows) >= least, name
        assert all(set(r) == {"id", "kind", "text"} and r["kind"] and r["text"] for r in rows)
        assert len({r["text"] for r in rows}) == len(rows), f"{name} has duplicate texts"
    assert len({r["kind"] for r in _rows("round4_credentials_positive")}) >= 150
    assert len({display for _k, display, _v, _g in gen.FORMATS}) >= 100


def test_no_case_repeats_an_earlier_round() -> None:
    """Round 4 is fresh: none of its texts occurs in rounds 1 to 3 (compared, not read by hand)."""
    earlier = {r["text"] for p in DATA.glob("*.jsonl") if not p.name.startswith("round4_")
               for r in _rows(p.stem)}
    for name in MINIMUM:
        assert not earlier & {r["text"] for r in _rows(name)}, name


def test_check_digits_hold() -> None:
    """Cards pass Luhn, IBANs mod 97 and GitHub tokens their CRC32, in the committed files."""
    kinds: Counter[str] = Counter()
    for row in _rows("round4_pii_positive"):
        if row["kind"] == "card":
            number = re.search(r"\d[\d ]{12,20}\d", row["text"])
            assert number and gen._luhn_ok(number.group().replace(" ", "")), row["text"]
            kinds["card"] += 1
        if row["kind"] == "iban":
            iban = re.search(r"[A-Z]{2}\d{2}(?: [A-Z0-9]{1,4})+", row["text"])
            assert iban and gen._iban_ok(iban.group().replace(" ", "")), row["text"]
            kinds["iban"] += 1
    for row in _rows("round4_credentials_positive"):
        if row["kind"] == "github_pat_classic":
            tok = re.search(r"ghp_([A-Za-z0-9]{30})([A-Za-z0-9]{6})", row["text"])
            assert tok and gen.base62(zlib.crc32(tok.group(1).encode()), 6) == tok.group(2)
            kinds["ghp"] += 1
    assert kinds["card"] and kinds["iban"] and kinds["ghp"]
    for row in _rows("round4_pii_negative"):
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
