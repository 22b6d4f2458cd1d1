"""Checks in code for what a pattern alone gets wrong: check digits, randomness, numbering plans."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable

import phonenumbers

_NON_DIGIT = re.compile(r"\D")
_HEX_HASH = re.compile(r"^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{56}|[0-9a-fA-F]{64}"
                       r"|[0-9a-fA-F]{96}|[0-9a-fA-F]{128})$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_DATE_LIKE = re.compile(r"(?:19|20)\d\d[-./](?:0?[1-9]|1[0-2])[-./]\d\d|\d\d?[-./]\d\d?[-./](?:19|20)\d\d"
                        r"|\d\d?:\d\d")
_EXTENSION = re.compile(r"\s?(?:x|ext\.?)\s?\d", re.IGNORECASE)
_SSN_SHAPE = re.compile(r"^\d{3}-\d{2}-\d{4}$")
# Lengths of IBANs by country (ISO 13616); unknown countries only need 15-34 characters.
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21, "HU": 28,
    "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31,
    "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SA": 24, "SE": 24, "SI": 19, "SK": 24,
    "TR": 26,
}


def luhn(value: str) -> bool:
    """Card numbers: 13-19 digits whose Luhn check digit is right (and not one repeated digit)."""
    digits = _NON_DIGIT.sub("", value)
    if not 13 <= len(digits) <= 19 or len(set(digits)) == 1:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban(value: str) -> bool:
    """IBANs: the country's length and the ISO 7064 mod-97 check."""
    s = "".join(value.split()).upper()
    if not 15 <= len(s) <= 34 or not s.isalnum() or not s[:2].isalpha() or not s[2:4].isdigit():
        return False
    want = _IBAN_LENGTHS.get(s[:2])
    if want is not None and len(s) != want:
        return False
    rearranged = s[4:] + s[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


def shannon_entropy(value: str) -> float:
    """Bits per character of ``value``."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def looks_like_identifier(value: str) -> bool:
    """Hashes, UUIDs and commit ids are public identifiers, not secrets."""
    v = value.strip()
    return bool(_HEX_HASH.match(v) or _UUID.match(v))


def secret(value: str, min_entropy: float) -> bool:
    """A generic secret: random enough, and not a hash, UUID or commit id."""
    if looks_like_identifier(value):
        return False
    return shannon_entropy(value) >= min_entropy


def ssn(value: str) -> bool:
    """US social security numbers: area, group and serial in the ranges the SSA issues."""
    digits = _NON_DIGIT.sub("", value)
    if len(digits) != 9:
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    if area in ("000", "666") or area >= "900" or group == "00" or serial == "0000":
        return False
    return digits not in ("123456789", "078051120", "219099999")


def phone(value: str) -> bool:
    """Phone numbers: 7-15 digits, not a date or time, and possible in some numbering plan."""
    main = _EXTENSION.split(value, maxsplit=1)[0]
    digits = _NON_DIGIT.sub("", main)
    if not 7 <= len(digits) <= 15 or len(set(digits)) == 1 or _DATE_LIKE.search(value):
        return False
    if _SSN_SHAPE.match(value.strip()):
        return False
    v = main.strip()
    if v.startswith("+"):
        try:
            return phonenumbers.is_possible_number(phonenumbers.parse(v, None))
        except phonenumbers.NumberParseException:
            return False
    return True


def password(value: str) -> bool:
    """A written-out password: at least six characters mixing two kinds (not a plain word)."""
    if len(value) < 6 or looks_like_identifier(value):
        return False
    kinds = (
        any(c.islower() for c in value)
        + any(c.isupper() for c in value)
        + any(c.isdigit() for c in value)
        + any(not c.isalnum() for c in value)
    )
    return kinds >= 2


def entropy(value: str, min_entropy: float) -> bool:
    """Random-looking text: at least ``min_entropy`` bits per character."""
    return shannon_entropy(value) >= min_entropy


VALIDATORS: dict[str, Callable[[str, float], bool]] = {
    "luhn": lambda v, _e: luhn(v),
    "iban": lambda v, _e: iban(v),
    "ssn": lambda v, _e: ssn(v),
    "phone": lambda v, _e: phone(v),
    "password": lambda v, _e: password(v),
    "entropy": entropy,
    "secret": secret,
}
