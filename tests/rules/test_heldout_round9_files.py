"""Round 9 of the held-back set: its files are the generator's output, and every check digit holds.

The checks below are written again here, apart from bench/heldout_round9.py, so a positive that
claims a checked format really passes its check and a negative sold as failing one really fails.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable

import pytest

from bench import heldout_round9 as gen
from tests.rules.heldout_files import (
    assert_fresh,
    assert_generator_output,
    assert_sizes_and_fields,
    rows,
)

MINIMUM = {"round9_credentials_positive": 600, "round9_credentials_hard_negative": 600,
           "round9_pii_positive": 600, "round9_pii_negative": 1100}


def test_files_are_the_generator_output() -> None:
    assert_generator_output(gen.build, MINIMUM)


def test_sizes_fields_and_no_repeats() -> None:
    assert_sizes_and_fields(MINIMUM)


def test_no_text_from_an_earlier_round() -> None:
    assert_fresh("round9_", MINIMUM)


def test_kind_breadth() -> None:
    kinds = {name: {r["kind"] for r in rows(name)} for name in MINIMUM}
    assert len(kinds["round9_credentials_positive"]) >= 70
    assert len(kinds["round9_credentials_hard_negative"]) >= 40
    assert len(kinds["round9_pii_positive"]) >= 60
    assert len(kinds["round9_pii_negative"]) >= 40


def test_published_contacts_are_quoted_verbatim() -> None:
    texts = [r["text"] for r in rows("round9_pii_negative") if r["kind"].startswith("published_")]
    values = [v for vs in gen.PUBLISHED.values() for v in vs]
    assert texts and all(any(v in t for v in values) for t in texts)


# ---- the checks, restated ---------------------------------------------------------------

def _digits(s: str) -> list[int]:
    return [int(c) for c in s if c.isdigit()]


def luhn_ok(s: str) -> bool:
    ds = _digits(s)[::-1]
    total = sum(d if i % 2 == 0 else sum(divmod(2 * d, 10)) for i, d in enumerate(ds))
    return total % 10 == 0


IBAN_LEN = {"DE": 22, "FR": 27, "ES": 24, "IT": 27, "NL": 18, "PL": 28, "PT": 25, "BE": 16,
            "GB": 22, "CH": 21}


def iban_ok(s: str) -> bool:
    s = s.replace(" ", "")[:IBAN_LEN[s[:2]]]
    rem = 0
    for ch in s[4:] + s[:4]:
        for c in str(int(ch, 36)):
            rem = (rem * 10 + int(c)) % 97
    return rem == 1


def dni_ok(s: str) -> bool:
    s = s.replace(" ", "")
    if s[0] in "XYZ":
        s = str("XYZ".index(s[0])) + s[1:]
    return "TRWAGMYFPDXBNJZSQVHLCKE"[int(s[:-1]) % 23] == s[-1]


def bsn_ok(s: str) -> bool:
    d = _digits(s)
    return len(d) == 9 and (sum(w * x for w, x in zip((9, 8, 7, 6, 5, 4, 3, 2, -1), d,
                                                      strict=True)) % 11 == 0)


def pesel_ok(s: str) -> bool:
    d = _digits(s)
    return sum(w * x for w, x in zip((1, 3, 7, 9, 1, 3, 7, 9, 1, 3, 1), d, strict=True)) % 10 == 0


def cpf_ok(s: str) -> bool:
    d = _digits(s)

    def dv(part: list[int]) -> int:
        r = sum(x * w for x, w in zip(part, range(len(part) + 1, 1, -1), strict=True)) * 10 % 11
        return 0 if r == 10 else r
    return dv(d[:9]) == d[9] and dv(d[:10]) == d[10]


def nir_ok(s: str) -> bool:
    d = "".join(c for c in s if c.isdigit())
    return 97 - int(d[:13]) % 97 == int(d[13:])


def _d5(j: int, k: int) -> int:
    if j < 5:
        return (j + k) % 5 if k < 5 else 5 + (j + k) % 5
    return 5 + (j - k) % 5 if k < 5 else (j - k) % 5


_P1 = (1, 5, 7, 6, 2, 8, 3, 0, 9, 4)


def verhoeff_ok(s: str) -> bool:
    c = 0
    for i, d in enumerate(reversed(_digits(s))):
        for _ in range(i % 8):
            d = _P1[d]
        c = _d5(c, d)
    return c == 0


def hetu_ok(s: str) -> bool:
    return "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(s[:6] + s[7:10]) % 31] == s[10]


def be_ok(s: str) -> bool:
    d = "".join(c for c in s if c.isdigit())
    return int(d[9:]) == 97 - int(d[:9]) % 97


def rut_ok(s: str) -> bool:
    body, dv = s.replace(".", "").split("-")
    total = sum(int(c) * (2 + i % 6) for i, c in enumerate(reversed(body)))
    want = (11 - total % 11) % 11
    return dv == ("K" if want == 10 else str(want))


def nif_pt_ok(s: str) -> bool:
    d = _digits(s)
    r = sum(x * w for x, w in zip(d[:8], range(9, 1, -1), strict=True)) % 11
    return d[8] == (0 if r < 2 else 11 - r)


def cn_ok(s: str) -> bool:
    total = sum(int(c) * (2 ** (17 - i) % 11) for i, c in enumerate(s[:17]))
    return "10X98765432"[total % 11] == s[17]


def tckn_ok(s: str) -> bool:
    d = _digits(s)
    return (d[0] != 0 and (7 * sum(d[0:9:2]) - sum(d[1:8:2])) % 10 == d[9]
            and sum(d[:10]) % 10 == d[10])


def mynumber_ok(s: str) -> bool:
    d = _digits(s)
    r = sum(x * w for x, w in zip(d[:11], (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2), strict=True)) % 11
    return d[11] == (0 if r <= 1 else 11 - r)


def fnr_ok(s: str) -> bool:
    d = _digits(s)
    return (sum(x * w for x, w in zip(d[:10], (3, 7, 6, 1, 8, 9, 4, 5, 2, 1), strict=True)) % 11 == 0
            and sum(x * w for x, w in zip(d, (5, 4, 3, 2, 7, 6, 5, 4, 3, 2, 1), strict=True)) % 11 == 0)


def nhs_ok(s: str) -> bool:
    d = _digits(s)
    r = 11 - sum(x * w for x, w in zip(d[:9], range(10, 1, -1), strict=True)) % 11
    return r != 10 and d[9] == r % 11


def aba_ok(s: str) -> bool:
    d = _digits(s)
    return sum(x * w for x, w in zip(d, (3, 7, 1) * 3, strict=True)) % 10 == 0


def steuer_ok(s: str) -> bool:
    d = _digits(s)
    prod = 10
    for x in d[:10]:
        prod = 2 * ((x + prod) % 10 or 10) % 11
    return (11 - prod) % 10 == d[10]


def github_ok(s: str) -> bool:
    body, ck = s[4:34], s[34:]
    n = 0
    for ch in ck:
        n = n * 62 + "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".index(ch)
    return n == zlib.crc32(body.encode())


CARD = r"(?<![\d-])\d{4}[ -]?\d{4,6}[ -]?\d{4,5}(?:[ -]?\d{4})?(?![\d-])"
IBAN = r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{1,4}){3,7}"
# kind prefix -> (pattern of the claimed value, its check)
CHECKED: dict[str, tuple[str, Callable[[str], bool]]] = {
    "card_": (CARD, luhn_ok),
    "iban_": (IBAN, iban_ok),
    "id_es_dni": (r"\b\d{8}[A-Z]\b", dni_ok),
    "id_es_nie": (r"\b[XYZ]\d{7}[A-Z]\b", dni_ok),
    "id_nl_bsn": (r"\b\d{9}\b", bsn_ok),
    "id_pl_pesel": (r"\b\d{11}\b", pesel_ok),
    "id_br_cpf": (r"\b\d{3}\.\d{3}\.\d{3}-\d{2}\b", cpf_ok),
    "id_fr_nir": (r"\b[12] \d{2} \d{2} \d{2} \d{3} \d{3} \d{2}\b", nir_ok),
    "id_in_aadhaar": (r"\b\d{4} \d{4} \d{4}\b", verhoeff_ok),
    "id_fi_hetu": (r"\b\d{6}[-A]\d{3}[0-9A-Y]\b", hetu_ok),
    "id_se_personnummer": (r"\b\d{6}-\d{4}\b", luhn_ok),
    "id_be_rrn": (r"\b\d{2}\.\d{2}\.\d{2}-\d{3}\.\d{2}\b", be_ok),
    "id_cl_rut": (r"\b\d{1,2}\.\d{3}\.\d{3}-[\dK]", rut_ok),
    "id_pt_nif": (r"\b\d{9}\b", nif_pt_ok),
    "id_cn_resident": (r"\b\d{17}[\dX]\b", cn_ok),
    "id_tr_tckn": (r"\b\d{11}\b", tckn_ok),
    "id_jp_mynumber": (r"\b\d{4} \d{4} \d{4}\b", mynumber_ok),
    "id_ca_sin": (r"\b\d{3} \d{3} \d{3}\b", luhn_ok),
    "id_no_fnr": (r"\b\d{11}\b", fnr_ok),
    "medical_uk_nhs": (r"\b\d{3} \d{3} \d{4}\b", nhs_ok),
    "bank_us_routing_account": (r"(?<=routing )\d{9}\b", aba_ok),
    "tax_de_steuerid": (r"\b\d{2} \d{3} \d{3} \d{3}\b", steuer_ok),
    "github_": (r"\bgh[opsu]_[A-Za-z0-9]{36}\b", github_ok),
    "git_credentials": (r"\bgh[opsu]_[A-Za-z0-9]{36}\b", github_ok),
    "documented_example_iban": (IBAN, iban_ok),
    "provider_test_card_test_mode": (CARD, luhn_ok),
}
FAILING: dict[str, tuple[str, Callable[[str], bool]]] = {
    "card_fails_luhn": (CARD, luhn_ok),
    "iban_fails_check": (IBAN, iban_ok),
    "dni_fails_check": (r"\b\d{8}[A-Z]\b", dni_ok),
}


def _check(kind: str, table: dict[str, tuple[str, Callable[[str], bool]]]
           ) -> tuple[str, Callable[[str], bool]] | None:
    if table is CHECKED and kind in FAILING:
        return None
    for prefix, rule in table.items():
        if kind.startswith(prefix) and not (prefix == "github_" and "fine_grained" in kind):
            return rule
    return None


@pytest.mark.parametrize("name", ["round9_credentials_positive", "round9_pii_positive",
                                  "round9_pii_negative"])
def test_claimed_check_digits_pass(name: str) -> None:
    checked = 0
    for r in rows(name):
        rule = _check(r["kind"], CHECKED)
        if rule is None:
            continue
        found = re.findall(rule[0], r["text"])
        assert found, (r["id"], "no value of the claimed format")
        assert any(rule[1](v) for v in found), (r["id"], found)
        checked += 1
    assert checked >= 20


def test_values_sold_as_failing_their_check_fail_it() -> None:
    checked = 0
    for r in rows("round9_pii_negative"):
        rule = _check(r["kind"], FAILING)
        if rule is None:
            continue
        found = re.findall(rule[0], r["text"])
        assert found, (r["id"], "no value of the claimed format")
        assert not any(rule[1](v) for v in found), (r["id"], found)
        checked += 1
    assert checked >= 60


def test_the_checks_know_published_examples() -> None:
    """The restated checks agree with well-known valid values, so a pass means something."""
    assert luhn_ok("4242 4242 4242 4242") and not luhn_ok("4242 4242 4242 4241")
    assert iban_ok("DE89 3704 0044 0532 0130 00") and iban_ok("GB82 WEST 1234 5698 7654 32")
    assert dni_ok("12345678Z") and verhoeff_ok("2363") and cpf_ok("111.444.777-35")
    assert nhs_ok("943 476 5919") and aba_ok("011000015") and cn_ok("11010519491231002X")
    assert tckn_ok("10000000146") and be_ok("85.07.30-033.28") and rut_ok("12.345.678-5")
