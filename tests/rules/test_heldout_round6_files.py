"""Round 6 of the held-back set is the generator's output, big enough, varied, and its numbers
valid where a case claims a checked format.

Only the files are checked here; the rules are measured on them once, by the integrator. The
check digits are recomputed in this file where the rule is short, so a slip in the generator
shows up as a failing case rather than agreeing with itself.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import zlib
from collections import Counter
from collections.abc import Callable

from bench import heldout_round6 as gen
from tests.rules.heldout_files import (
    assert_fresh,
    assert_generator_output,
    assert_sizes_and_fields,
    rows,
)

MINIMUM = {"round6_credentials_positive": 500, "round6_credentials_hard_negative": 500,
           "round6_pii_positive": 500, "round6_pii_negative": 1000}

CARD = re.compile(r"\d(?:[ -]?\d){12,18}")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{1,4})+")


def _luhn(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _mod97(text: str) -> int:
    return int("".join(str(int(c, 36)) for c in text)) % 97


def test_committed_files_are_the_generator_output() -> None:
    """Nobody edited a case by hand after it was generated."""
    assert_generator_output(gen.build, MINIMUM)


def test_sizes_kinds_and_fields() -> None:
    """Each file is at least as big as the brief asks and names many kinds and providers."""
    assert_sizes_and_fields(MINIMUM)
    providers = {display.split()[0] for _k, display, _e, _g, _d in gen.FORMATS}
    assert len(providers) >= 90
    cred_kinds = Counter(r["kind"] for r in rows("round6_credentials_positive"))
    assert len([k for k in cred_kinds if k.startswith("token_")]) >= 120
    for group in ("password_prose", "connection_string", "private_key_", "jwt", "webhook_",
                  "generic_", "base64_secret", "split_", "door_code", "alarm_code", "wifi"):
        assert sum(n for k, n in cred_kinds.items() if k.startswith(group)) >= 5, group
    neg_kinds = Counter(r["kind"] for r in rows("round6_credentials_hard_negative"))
    for kind in ("placeholder", "documented_example", "test_mode_key", "publishable_key",
                 "key_header_only", "public_key", "localhost_sample", "hash_digest", "uuid",
                 "commit_id", "request_id", "security_advice", "password_talk", "meme"):
        assert neg_kinds[kind] >= 5, kind
    pii_kinds = Counter(r["kind"] for r in rows("round6_pii_positive"))
    assert len({k for k in pii_kinds if k.startswith("national_id_")}) >= 15
    assert len({k for k in pii_kinds if k.startswith("phone_")}) >= 12
    assert len({k for k in pii_kinds if k.startswith("address_")}) >= 8
    assert len({k for k in pii_kinds if k.startswith("passport_")}) >= 10
    for kind in ("email", "ssn", "card", "iban", "drivers_licence_us", "medical_record",
                 "dob_with_name", "bank_account", "passport_mrz"):
        assert pii_kinds[kind] >= 10, kind
    pneg = Counter(r["kind"] for r in rows("round6_pii_negative"))
    assert sum(n for k, n in pneg.items() if k.startswith("own_")) >= 200
    assert sum(n for k, n in pneg.items() if k.startswith("published_")) >= 80
    for kind in ("test_card", "landmark_address", "venue_address", "famous_birthday",
                 "order_number", "tracking_number", "date_or_version", "ordinary"):
        assert pneg[kind] >= 10, kind


def test_no_case_repeats_an_earlier_round() -> None:
    """Round 6 is fresh: none of its texts occurs in rounds 1 to 5 (compared, not read by hand)."""
    assert_fresh("round6_", MINIMUM)


def test_cards_ibans_and_tokens_hold_their_checks() -> None:
    """Cards pass Luhn, IBANs mod 97, GitHub and npm tokens their CRC32, JWT headers decode,
    age and nsec keys their bech32 checksum, WIF keys their Base58Check, in the committed files."""
    seen: Counter[str] = Counter()
    for row in rows("round6_pii_positive"):
        if row["kind"] == "card":
            number = CARD.search(row["text"])
            assert number and _luhn(re.sub(r"[ -]", "", number.group())), row["text"]
            seen["card"] += 1
        if row["kind"] == "iban":
            iban = IBAN.search(row["text"])
            assert iban, row["text"]
            compact = iban.group().replace(" ", "")
            assert _mod97(compact[4:] + compact[:4]) == 1, row["text"]
            seen["iban"] += 1
        if row["kind"] == "bank_account" and "routing" in row["text"]:
            d = [int(c) for c in re.search(r"routing(?: number)? (\d{9})", row["text"]).group(1)]  # type: ignore[union-attr]
            assert (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + d[2] + d[5] + d[8]) % 10 == 0
            seen["aba"] += 1
    for row in rows("round6_credentials_positive"):
        if row["kind"].startswith("split_"):
            continue
        for tok in re.finditer(r"\b(?:gh[pousr]|npm)_([A-Za-z0-9]{30})([A-Za-z0-9]{6})\b", row["text"]):
            assert gen.base62(zlib.crc32(tok.group(1).encode()), 6) == tok.group(2), row["text"]
            seen["crc"] += 1
        if row["kind"] == "jwt":
            head = re.search(r"eyJ[A-Za-z0-9_-]+", row["text"])
            assert head and json.loads(base64.urlsafe_b64decode(head.group() + "==="))["typ"] == "JWT"
            seen["jwt"] += 1
        for key in re.finditer(r"AGE-SECRET-KEY-1[0-9A-Z]{58}|nsec1[0-9a-z]{58}", row["text"]):
            text = key.group().lower()
            hrp, data = text.rsplit("1", 1)
            values = [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]
            assert gen._polymod(values + [gen._BECH.index(c) for c in data]) == 1, row["text"]
            seen["bech32"] += 1
        if row["kind"] == "token_bitcoin_wif":
            wif = re.search(r"\b[KL][1-9A-HJ-NP-Za-km-z]{51}\b", row["text"])
            assert wif, row["text"]
            num = 0
            for c in wif.group():
                num = num * 58 + gen._B58.index(c)
            raw = num.to_bytes(38, "big")
            assert raw[0] == 0x80 and hashlib.sha256(hashlib.sha256(raw[:-4]).digest()).digest()[:4] == raw[-4:]
            seen["wif"] += 1
    assert seen["card"] >= 20 and seen["iban"] >= 20 and seen["aba"] >= 5
    assert seen["crc"] >= 15 and seen["jwt"] >= 10 and seen["bech32"] >= 4 and seen["wif"] >= 2


def _es(n: str) -> bool:
    return "TRWAGMYFPDXBNJZSQVHLCKE"[int(n[:8]) % 23] == n[8]


def _nl(n: str) -> bool:
    return sum(int(c) * w for c, w in zip(n, [9, 8, 7, 6, 5, 4, 3, 2, -1], strict=True)) % 11 == 0


def _pl(n: str) -> bool:
    w = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3]
    return (10 - sum(int(c) * x for c, x in zip(n[:10], w, strict=True)) % 10) % 10 == int(n[10])


def _br(n: str) -> bool:
    d = [int(c) for c in re.sub(r"\D", "", n)]
    ok = True
    for size in (10, 11):
        ok &= sum(x * w for x, w in zip(d, range(size, 1, -1), strict=False)) * 10 % 11 % 10 == d[size - 1]
    return ok


def _fr(n: str) -> bool:
    d = n.replace(" ", "")
    return 97 - int(d[:13]) % 97 == int(d[13:])


def _cn(n: str) -> bool:
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(c) * x for c, x in zip(n[:17], w, strict=True)) % 11] == n[17]


def _be(n: str) -> bool:
    d = re.sub(r"\D", "", n)
    return 97 - int(d[:9]) % 97 == int(d[9:])


def _fi(n: str) -> bool:
    return "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(n[:6] + n[7:10]) % 31] == n[10]


def _no(n: str) -> bool:
    d = [int(c) for c in n]
    k1 = (11 - sum(a * b for a, b in zip(d, [3, 7, 6, 1, 8, 9, 4, 5, 2], strict=False)) % 11) % 11
    k2 = (11 - sum(a * b for a, b in zip(d, [5, 4, 3, 2, 7, 6, 5, 4, 3, 2], strict=False)) % 11) % 11
    return k1 == d[9] and k2 == d[10]


def _tr(n: str) -> bool:
    d = [int(c) for c in n]
    return (((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10 == d[9]
            and sum(d[:10]) % 10 == d[10])


def _kr(n: str) -> bool:
    d = n.replace("-", "")
    w = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]
    return (11 - sum(int(a) * b for a, b in zip(d, w, strict=False)) % 11) % 10 == int(d[12])


def _pt(n: str) -> bool:
    c = 11 - sum(int(a) * w for a, w in zip(n[:8], range(9, 1, -1), strict=True)) % 11
    return (0 if c >= 10 else c) == int(n[8])


def _cl(n: str) -> bool:
    body, dv = n.replace(".", "").split("-")
    total = sum(int(c) * w for c, w in zip(reversed(body), [2, 3, 4, 5, 6, 7] * 2, strict=False))
    v = 11 - total % 11
    return ("0" if v == 11 else "K" if v == 10 else str(v)) == dv


def _mx(n: str) -> bool:
    total = sum(gen._CURP.index(c) * (18 - i) for i, c in enumerate(n[:17]))
    return (10 - total % 10) % 10 == int(n[17])


def _at(n: str) -> bool:
    d = n.replace(" ", "")
    w = [3, 7, 9, 0, 5, 8, 4, 2, 1, 6]
    return sum(int(a) * b for a, b in zip(d, w, strict=True)) % 11 == int(d[3])


NID_CHECKS: dict[str, tuple[str, Callable[[str], bool]]] = {
    "es": (r"\b\d{8}[A-Z]\b", _es),
    "nl": (r"\b\d{9}\b", _nl),
    "pl": (r"\b\d{11}\b", _pl),
    "ca": (r"\b\d{3} \d{3} \d{3}\b", lambda n: _luhn(n.replace(" ", ""))),
    "br": (r"\d{3}\.\d{3}\.\d{3}-\d{2}", _br),
    "in": (r"\b[2-9]\d{3} \d{4} \d{4}\b", lambda n: gen._verhoeff_ok(n.replace(" ", ""))),
    "fr": (r"\b[12] \d{2} \d{2} \d{2} \d{3} \d{3} \d{2}\b", _fr),
    "cn": (r"\d{17}[\dX]", _cn),
    "it": (r"\b[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]\b", lambda n: gen._cf_check(n[:15]) == n[15]),
    "be": (r"\d{2}\.\d{2}\.\d{2}-\d{3}\.\d{2}", _be),
    "se": (r"\b\d{6}-\d{4}\b", lambda n: _luhn(n.replace("-", ""))),
    "fi": (r"\b\d{6}[-A]\d{3}[0-9A-Y]\b", _fi),
    "no": (r"\b\d{11}\b", _no),
    "tr": (r"\b[1-9]\d{10}\b", _tr),
    "za": (r"\b\d{13}\b", _luhn),
    "kr": (r"\d{6}-\d{7}", _kr),
    "de": (r"\b\d{2} \d{3} \d{3} \d{3}\b", lambda n: gen._de_taxid_check(n.replace(" ", "")[:10]) == n[-1]),
    "pt": (r"\b[123]\d{8}\b", _pt),
    "cl": (r"\d{1,2}\.\d{3}\.\d{3}-[\dK]", _cl),
    "mx": (r"\b[A-Z]{4}\d{6}[HM][A-Z]{5}[A-Z\d]\d\b", _mx),
    "at": (r"\b\d{4} \d{6}\b", _at),
    "uk": (r"\b[A-CEGHJ-PR-TW-Z]{2} \d{2} \d{2} \d{2} [A-D]\b", lambda n: True),
}


def test_national_ids_hold_their_check_digits() -> None:
    """Every national ID case in the committed file carries a number that passes its country's
    published check (recomputed here)."""
    seen: Counter[str] = Counter()
    for row in rows("round6_pii_positive"):
        if not row["kind"].startswith("national_id_"):
            continue
        code = row["kind"].removeprefix("national_id_")
        pattern, check = NID_CHECKS[code]
        found = re.search(pattern, row["text"])
        assert found and check(found.group()), row["text"]
        seen[code] += 1
    assert set(seen) == set(NID_CHECKS) and min(seen.values()) >= 5


def test_passport_mrz_and_health_numbers_hold_their_checks() -> None:
    """MRZ lines pass ICAO 9303; NHS numbers, Australian Medicare and German KVNR their checks."""
    seen: Counter[str] = Counter()
    for row in rows("round6_pii_positive"):
        if row["kind"] == "passport_mrz":
            line1, line2 = row["text"].split("\n")[-2:]
            assert len(line1) == len(line2) == 44 and line1.startswith("P<")
            assert gen._icao(line2[:9]) == line2[9] and gen._icao(line2[13:19]) == line2[19]
            assert gen._icao(line2[21:27]) == line2[27] and gen._icao(line2[28:42]) == line2[42]
            assert gen._icao(line2[:10] + line2[13:20] + line2[21:43]) == line2[43]
            seen["mrz"] += 1
        if row["kind"] == "health_insurance_nhs_number":
            n = re.search(r"\b\d{3} \d{3} \d{4}\b", row["text"]).group().replace(" ", "")  # type: ignore[union-attr]
            assert gen._nhs_check(n[:9]) == int(n[9])
            seen["nhs"] += 1
        if row["kind"] == "health_insurance_medicare_number":
            n = re.search(r"\b\d{4} \d{5} \d\b", row["text"]).group().replace(" ", "")  # type: ignore[union-attr]
            assert sum(int(a) * w for a, w in zip(n[:8], [1, 3, 7, 9, 1, 3, 7, 9], strict=True)) % 10 == int(n[8])
            seen["medicare"] += 1
    assert seen["mrz"] >= 10 and seen["nhs"] >= 3 and seen["medicare"] >= 3
    assert gen._icao("L898902C3") == "6" and gen._icao("740812") == "2"
    assert gen._de_taxid_check("3657426180") == "9" and gen._verhoeff("236") == "3"
    assert gen._bech32("a", b"") == "a12uel5l" and gen._nhs_check("943476591") == 9
    assert gen._iban("GB", "WEST12345698765432") == "GB82WEST12345698765432"


def test_negatives_say_what_makes_them_benign() -> None:
    """Test cards sit in a test context, published contacts are the listed ones, and the
    documented test cards are the providers' numbers (Luhn-valid, as documented)."""
    listed = {v for vs in gen.PUBLISHED.values() for v in vs}
    test_words = ("test", "sandbox", "Test", "prueba", "QA", "demo", "Demo", "staging", "e2e")
    for row in rows("round6_pii_negative"):
        if row["kind"] == "test_card":
            assert any(w in row["text"] for w in test_words), row["text"]
            number = CARD.search(row["text"])
            assert number and _luhn(re.sub(r"[ -]", "", number.group()))
        if row["kind"].startswith("published_"):
            assert any(v in row["text"] for v in listed), row["text"]
    for row in rows("round6_credentials_hard_negative"):
        if row["kind"] == "test_mode_key":
            assert re.search(r"test|sandbox|Test", row["text"]), row["text"]
        if row["kind"] == "key_header_only":
            assert not re.search(r"[A-Za-z0-9+/]{60,}", row["text"]), row["text"]
