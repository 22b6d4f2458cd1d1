"""Round 8 of the held-back set: the files are what the generator writes, big, varied and valid.

Every check digit a case claims is recomputed here from the published algorithm, apart from
the generator, so a positive that claims a checked format really passes it and a negative
sold as failing its check really fails it.
"""

from __future__ import annotations

import re
import string
import zlib
from collections import Counter
from collections.abc import Callable, Iterator

import pytest

import bench.heldout_round8 as gen
from tests.rules.heldout_files import (
    assert_fresh,
    assert_generator_output,
    assert_sizes_and_fields,
    rows,
)

MINIMUM = {"round8_credentials_positive": 550, "round8_credentials_hard_negative": 550,
           "round8_pii_positive": 550, "round8_pii_negative": 1100}
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def luhn(num: str) -> bool:
    """Luhn mod 10."""
    total = 0
    for i, ch in enumerate(reversed(num)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def github_crc(token: str) -> bool:
    """The last six base62 characters are the CRC32 of the thirty before them."""
    body, check = token[4:34], token[34:]
    n, out = zlib.crc32(body.encode()), ""
    while n:
        n, d = divmod(n, 62)
        out = B62[d] + out
    return out.rjust(6, "0") == check


def iban_ok(code: str) -> bool:
    """ISO 13616 mod-97."""
    s = code[4:] + code[:4]
    return int("".join(str(int(c, 36)) for c in s)) % 97 == 1


def aba_ok(n: str) -> bool:
    """ABA 3-7-1."""
    return sum(int(c) * w for c, w in zip(n, [3, 7, 1] * 3, strict=True)) % 10 == 0


def nhs_ok(n: str) -> bool:
    """NHS mod 11."""
    c = 11 - sum(int(d) * (10 - i) for i, d in enumerate(n[:9])) % 11
    return (0 if c == 11 else c) == int(n[9]) and c != 10


D = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
     [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
     [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
     [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]
P = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
     [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
     [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8]]


def verhoeff(n: str) -> bool:
    """Verhoeff over the whole number, check digit included."""
    c = 0
    for i, ch in enumerate(reversed(n)):
        c = D[c][P[i % 8][int(ch)]]
    return c == 0


def cpf_ok(n: str) -> bool:
    """Both CPF mod-11 digits."""
    d = [int(c) for c in n]
    for k in (9, 10):
        s = sum(x * (k + 1 - i) for i, x in enumerate(d[:k]))
        if d[k] != (0 if s % 11 < 2 else 11 - s % 11):
            return False
    return True


def curp_ok(c: str) -> bool:
    """CURP's last digit from the 37-symbol alphabet."""
    alpha = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ"
    s = sum(alpha.index(ch) * (18 - i) for i, ch in enumerate(c[:17]))
    return (10 - s % 10) % 10 == int(c[17])


def rut_ok(s: str) -> bool:
    """Chilean RUT mod 11."""
    num, dv = s.replace(".", "").split("-")
    total, m = 0, 2
    for ch in reversed(num):
        total += int(ch) * m
        m = 2 if m == 7 else m + 1
    v = 11 - total % 11
    return dv == ("0" if v == 11 else "K" if v == 10 else str(v))


def dni_ok(s: str) -> bool:
    """Spanish DNI letter."""
    return "TRWAGMYFPDXBNJZSQVHLCKE"[int(s[:8]) % 23] == s[8]


def bsn_ok(s: str) -> bool:
    """Dutch eleven test."""
    return (sum(int(c) * (9 - i) for i, c in enumerate(s[:8])) - int(s[8])) % 11 == 0


def nir_ok(s: str) -> bool:
    """French NIR key."""
    d = s.replace(" ", "")
    return 97 - int(d[:13]) % 97 == int(d[13:])


def pesel_ok(s: str) -> bool:
    """Polish PESEL."""
    w = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3]
    return (10 - sum(int(c) * x for c, x in zip(s, w, strict=False)) % 10) % 10 == int(s[10])


def nif_ok(s: str) -> bool:
    """Portuguese NIF."""
    c = 11 - sum(int(ch) * (9 - i) for i, ch in enumerate(s[:8])) % 11
    return (0 if c >= 10 else c) == int(s[8])


def tfn_ok(s: str) -> bool:
    """Australian TFN."""
    d = s.replace(" ", "")
    return sum(int(c) * w for c, w in zip(d, [1, 4, 3, 7, 5, 8, 6, 9, 10], strict=True)) % 11 == 0


def clabe_ok(s: str) -> bool:
    """Mexican CLABE."""
    t = sum(int(c) * w % 10 for c, w in zip(s[:17], [3, 7, 1] * 6, strict=False))
    return (10 - t % 10) % 10 == int(s[17])


def mrz_ok(line: str) -> bool:
    """ICAO 9303 check digits of a TD3 second line."""
    def cd(f: str) -> int:
        v = {c: i for i, c in enumerate(string.digits + string.ascii_uppercase)} | {"<": 0}
        return sum(v[c] * (7, 3, 1)[i % 3] for i, c in enumerate(f)) % 10
    parts = [(0, 9, 9), (13, 19, 19), (21, 27, 27), (28, 42, 42)]
    ok = all(cd(line[a:b]) == int(line[c]) for a, b, c in parts)
    return ok and cd(line[0:10] + line[13:20] + line[21:43]) == int(line[43])


def ssn_ok(s: str) -> bool:
    """SSA structural rules."""
    a, g, n = int(s[:3]), int(s[3:5]), int(s[5:])
    return 0 < a < 900 and a != 666 and g > 0 and n > 0


WORDS = {w: str(i) for i, w in enumerate("zero one two three four five six seven eight nine".split())}


def ssn_values(text: str) -> Iterator[str]:
    """SSN candidates, written with digits or with words."""
    for m in re.finditer(r"(?<!\d)(\d{3})[-. ]?(\d{2})[-. ]?(\d{4})(?!\d)", text):
        yield "".join(m.groups())
    spelled = re.findall(r"(?:(?:zero|one|two|three|four|five|six|seven|eight|nine) ?){9}", text)
    for s in spelled:
        yield "".join(WORDS[w] for w in s.split())


def digit_windows(text: str, length: int) -> Iterator[str]:
    """Joins of consecutive digit runs (separated by spaces or dashes) of exactly length digits."""
    runs = list(re.finditer(r"\d+", text))
    for i in range(len(runs)):
        joined, end = "", runs[i].start()
        for m in runs[i:]:
            if text[end:m.start()].strip(" -") or m.start() - end > 2:
                break
            joined, end = joined + m.group(), m.end()
            if len(joined) == length:
                yield joined
            if len(joined) >= length:
                break


def finder(pattern: str, clean: Callable[[str], str] = lambda s: s) -> Callable[[str], list[str]]:
    """Extract candidates by a regex."""
    return lambda text: [clean(m.group()) for m in re.finditer(pattern, text)]


def windows(*lengths: int) -> Callable[[str], list[str]]:
    """Extract digit windows of the given lengths."""
    return lambda text: [w for n in lengths for w in digit_windows(text, n)]


GH = finder(r"(?<![0-9A-Za-z])gh[pousr]_[0-9A-Za-z]{36}(?![0-9A-Za-z])")
IBAN = finder(r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]{1,4}){3,8}", lambda s: s.replace(" ", ""))
IBAN_LEN = {"DE": 22, "FR": 27, "NL": 18, "ES": 24, "GB": 22, "BE": 16, "PT": 25, "IT": 27, "IE": 22, "AT": 20}


def iban_candidates(text: str) -> list[str]:
    """IBANs cut to their country's length."""
    return [c[:IBAN_LEN[c[:2]]] for c in IBAN(text) if c[:2] in IBAN_LEN and len(c) >= IBAN_LEN[c[:2]]]


def card_ok(n: str) -> bool:
    """A Luhn-valid number of a card length."""
    return luhn(n)


CHECKED_POSITIVE: dict[str, tuple[Callable[[str], list[str]], Callable[[str], bool]]] = {
    **{k: (GH, github_crc) for k in ("github_classic_pat", "github_oauth_token", "github_app_token", "github_user_to_server")},
    **{k: (windows(15, 16), card_ok) for k in ("card_visa", "card_mastercard", "card_mastercard_2series", "card_amex",
                                                "card_discover", "card_ocr_spaced")},
    **{k: (iban_candidates, iban_ok) for k in ("iban_de", "iban_fr", "iban_nl", "iban_es", "iban_gb", "iban_be",
                                                "iban_pt", "iban_it", "iban_ie")},
    "ca_sin": (windows(9), luhn), "za_id": (windows(13), luhn),
    "se_personnummer": (finder(r"\b\d{6}-\d{4}\b", lambda s: s.replace("-", "")), luhn),
    "in_aadhaar": (finder(r"\b\d{4} \d{4} \d{4}\b", lambda s: s.replace(" ", "")), verhoeff),
    "br_cpf": (finder(r"\d{3}\.\d{3}\.\d{3}-\d{2}", lambda s: re.sub(r"\D", "", s)), cpf_ok),
    "mx_curp": (finder(r"[A-Z]{4}\d{6}[HM][A-Z]{5}[0-9A-Z]\d"), curp_ok),
    "cl_rut": (finder(r"\d{1,2}\.\d{3}\.\d{3}-[\dK]"), rut_ok),
    "es_dni": (finder(r"\b\d{8}[A-Z]\b"), dni_ok), "nl_bsn": (finder(r"\b\d{9}\b"), bsn_ok),
    "fr_nir": (finder(r"\b[12] \d{2} \d{2} \d{2} \d{3} \d{3} \d{2}\b"), nir_ok),
    "pl_pesel": (finder(r"\b\d{11}\b"), pesel_ok), "pt_nif": (finder(r"\b\d{9}\b"), nif_ok),
    "au_tfn": (finder(r"\b\d{3} \d{3} \d{3}\b"), tfn_ok),
    "nhs_number": (finder(r"\b\d{3} \d{3} \d{4}\b", lambda s: s.replace(" ", "")), nhs_ok),
    "mx_clabe": (finder(r"\b\d{18}\b"), clabe_ok), "us_routing_account": (finder(r"\b\d{9}\b"), aba_ok),
    "passport_mrz": (finder(r"(?m)^(?!P<)[A-Z0-9<]{44}"), mrz_ok),
    **{k: (lambda t: list(ssn_values(t)), ssn_ok) for k in ("ssn_dashed", "ssn_spaced", "ssn_dotted", "ssn_spelled", "ssn_plain")},
}
CHECKED_NEGATIVE: dict[str, tuple[Callable[[str], list[str]], Callable[[str], bool]]] = {
    "github_fake_checksum": (GH, github_crc), "card_fails_luhn": (windows(16), luhn),
    "iban_fails_check": (iban_candidates, iban_ok),
    "nhs_fails_check": (finder(r"\b\d{3} \d{3} \d{4}\b", lambda s: s.replace(" ", "")), nhs_ok),
    "cpf_fails_check": (finder(r"\d{3}\.\d{3}\.\d{3}-\d{2}", lambda s: re.sub(r"\D", "", s)), cpf_ok),
    "ssn_never_issued": (lambda t: list(ssn_values(t)), ssn_ok),
}


def test_files_are_the_generator_output() -> None:
    assert_generator_output(gen.build, MINIMUM)


def test_sizes_fields_and_no_repeats() -> None:
    assert_sizes_and_fields(MINIMUM)


def test_no_text_from_an_earlier_round() -> None:
    assert_fresh("round8_", MINIMUM)


@pytest.mark.parametrize("name", sorted(MINIMUM))
def test_kinds_are_varied(name: str) -> None:
    kinds = Counter(r["kind"] for r in rows(name))
    assert len(kinds) >= (50 if name.endswith("positive") else 40)
    assert max(kinds.values()) <= 0.06 * sum(kinds.values())


@pytest.mark.parametrize("name", ["round8_credentials_positive", "round8_pii_positive"])
def test_positives_pass_the_checks_they_claim(name: str) -> None:
    checked = 0
    for row in rows(name):
        if row["kind"] not in CHECKED_POSITIVE:
            continue
        extract, valid = CHECKED_POSITIVE[row["kind"]]
        found = extract(row["text"])
        assert any(valid(v) for v in found), (row["id"], found)
        checked += 1
    assert checked >= 15


@pytest.mark.parametrize("name", ["round8_credentials_hard_negative", "round8_pii_negative"])
def test_negatives_sold_as_failing_really_fail(name: str) -> None:
    checked = 0
    for row in rows(name):
        if row["kind"] not in CHECKED_NEGATIVE:
            continue
        extract, valid = CHECKED_NEGATIVE[row["kind"]]
        found = extract(row["text"])
        assert found and not any(valid(v) for v in found), (row["id"], found)
        checked += 1
    assert checked >= 10


def test_published_contacts_cover_several_fictional_companies() -> None:
    assert 4 <= len(gen.PUBLISHED) <= 6
    assert all(len(v) >= 3 for v in gen.PUBLISHED.values())
    assert not any("acme" in k.lower() for k in gen.PUBLISHED)
