"""Checks in code for what a pattern alone gets wrong: check digits, randomness, numbering plans."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import phonenumbers

from monitor.pipeline.rules.id_checks import ID_VALIDATORS, NON_ALNUM, NON_DIGIT, luhn_ok

_HEX_HASH = re.compile(r"^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{56}|[0-9a-fA-F]{64}"
                       r"|[0-9a-fA-F]{96}|[0-9a-fA-F]{128})$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_DATE_LIKE = re.compile(r"(?:19|20)\d\d[-./](?:0?[1-9]|1[0-2])[-./]\d\d|\d\d?[-./]\d\d?[-./](?:19|20)\d\d"
                        r"|\d\d?:\d\d")
_EXTENSION = re.compile(r"\s?(?:x|ext\.?)\s?\d", re.IGNORECASE)
_SSN_SHAPE = re.compile(r"^\d{3}-\d{2}-\d{4}$")
# The BBAN after "CC kk" by country, from the ISO 13616 IBAN registry: n digits, a upper-case
# letters, c letters or digits. The length follows from it; a country not listed is not an IBAN.
_BBAN_FORMATS = {
    "AD": "4n4n12c", "AE": "3n16n", "AL": "8n16c", "AT": "5n11n", "AZ": "4a20c", "BA": "3n3n8n2n",
    "BE": "3n7n2n", "BG": "4a4n2n8c", "BH": "4a14c", "BR": "8n5n10n1a1c", "BY": "4c4n16c",
    "CH": "5n12c", "CR": "4n14n", "CY": "3n5n16c", "CZ": "4n6n10n", "DE": "8n10n", "DK": "4n9n1n",
    "DO": "4c20n", "EE": "2n2n11n1n", "EG": "4n4n17n", "ES": "4n4n1n1n10n", "FI": "3n11n",
    "FO": "4n9n1n", "FR": "5n5n11c2n", "GB": "4a6n8n", "GE": "2a16n", "GI": "4a15c",
    "GL": "4n9n1n", "GR": "3n4n16c", "GT": "4c20c", "HR": "7n10n", "HU": "3n4n1n15n1n",
    "IE": "4a6n8n", "IL": "3n3n13n", "IQ": "4a3n12n", "IS": "4n2n6n10n", "IT": "1a5n5n12c",
    "JO": "4a4n18c", "KW": "4a22c", "KZ": "3n13c", "LB": "4n20c", "LC": "4a24c", "LI": "5n12c",
    "LT": "5n11n", "LU": "3n13c", "LV": "4a13c", "LY": "3n3n15n", "MC": "5n5n11c2n",
    "MD": "2c18c", "ME": "3n13n2n", "MK": "3n10c2n", "MR": "5n5n11n2n", "MT": "4a5n18c",
    "MU": "4a2n2n12n3n3a", "NL": "4a10n", "NO": "4n6n1n", "PK": "4a16c", "PL": "8n16n",
    "PS": "4a21c", "PT": "4n4n11n2n", "QA": "4a21c", "RO": "4a16c", "RS": "3n13n2n",
    "SA": "2n18c", "SC": "4a2n2n16n3a", "SD": "2n12n", "SE": "3n16n1n", "SI": "5n8n2n",
    "SK": "4n6n10n", "SM": "1a5n5n12c", "ST": "8n11n2n", "SV": "4a20n", "TL": "3n14n2n",
    "TN": "2n3n13n2n", "TR": "5n1n16c", "UA": "6n19c", "VA": "3n15n", "VG": "4a16n",
    "XK": "4n10n2n",
}
_BBAN_CLASS = {"n": "[0-9]", "a": "[A-Z]", "c": "[A-Z0-9]"}


def _bban_regex(spec: str) -> re.Pattern[str]:
    parts = re.findall(r"(\d+)([nac])", spec)
    return re.compile("".join(f"{_BBAN_CLASS[k]}{{{n}}}" for n, k in parts) + "$")


_BBAN = {cc: _bban_regex(spec) for cc, spec in _BBAN_FORMATS.items()}


def luhn(value: str) -> bool:
    """Card numbers: 13-19 digits whose Luhn check digit is right (and not one repeated digit)."""
    digits = NON_DIGIT.sub("", value)
    if not 13 <= len(digits) <= 19 or len(set(digits)) == 1:
        return False
    return luhn_ok(digits)


def iban(value: str) -> bool:
    """IBANs: a registered country code, that country's BBAN structure and length, and the
    ISO 7064 mod-97 check; one case throughout (a mixed-case run is a piece of base64, not an
    IBAN someone typed). Random base64 or ids pass mod-97 one time in 97, the structure rarely."""
    letters = [c for c in value if c.isalpha()]
    if any(c.isupper() for c in letters) and any(c.islower() for c in letters):
        return False
    s = "".join(value.split()).upper()
    if not 15 <= len(s) <= 34 or not s.isalnum() or not s[2:4].isdigit():
        return False
    bban = _BBAN.get(s[:2])
    if bban is None or not bban.match(s[4:]) or s[2:4] in ("00", "01", "99"):
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
    digits = NON_DIGIT.sub("", value)
    if len(digits) != 9:
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    if area in ("000", "666") or area >= "900" or group == "00" or serial == "0000":
        return False
    return digits not in ("123456789", "078051120", "219099999")


def phone(value: str) -> bool:
    """Phone numbers: 7-15 digits, not a date or time, and possible in some numbering plan."""
    main = _EXTENSION.split(value, maxsplit=1)[0]
    digits = NON_DIGIT.sub("", main)
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


# Template and code references stand for a value kept elsewhere: ${DB_PASSWORD},
# ${env:X:-y}, {{ .Values.pw }}, {{password}}, os.getenv("X"), lookup('env', 'X'), %APPDATA%,
# #{Octopus.Var}, %(name)s, YAML tags such as !vault. Only
# well-formed ones: a made-up secret with braces in it ("m{{h}o)p${e]nob…") is no reference.
_TEMPLATE_REFERENCE = re.compile(r"\$\{[A-Za-z_][\w.:-]*(?::?[-=?+][^{}]*)?\}|\{\{[^{}]*\}\}|\{%[^{}]*%\}"
                                 r"|^[A-Za-z_][\w.$:]*\([^()]*\)$|^\$\{?[A-Za-z_]\w*\}?$|^%[A-Za-z_]\w*%$"
                                 r"|#\{[^{}]*\}|%\(\w+\)[sd]|^!\w+$")


def is_reference(value: str) -> bool:
    """Whether a value is, or holds, a template or code reference instead of a secret."""
    return _TEMPLATE_REFERENCE.search(value.strip()) is not None


# Upper-case words joined by underscores, no digits: a constant's name or a placeholder
# (CHANGE_ME, YOUR_PASSWORD, SET_IN_ENV), not a password someone chose.
_CONSTANT_NAME = re.compile(r"^[A-Z]+(?:_[A-Z]+)+$")


def password(value: str) -> bool:
    """A written-out password: at least six characters mixing two kinds (not a plain word, not
    an upper-case constant name such as CHANGE_ME)."""
    if len(value) < 6 or looks_like_identifier(value) or is_reference(value):
        return False
    if _CONSTANT_NAME.match(value.strip("\"'`")):
        return False
    kinds = (
        any(c.islower() for c in value)
        + any(c.isupper() for c in value)
        + any(c.isdigit() for c in value)
        + any(not c.isalnum() for c in value)
    )
    return kinds >= 2


_CODE_CHARS = re.compile(r"^[0-9A-Za-z#*.-]{3,32}$")


def access_code(value: str) -> bool:
    """A door, alarm or PIN code: mostly digits (at least three, not one repeated digit), or a
    password-like value; "on the fridge" or "13" are not codes."""
    v = value.strip()
    digits = NON_DIGIT.sub("", v)
    if _CODE_CHARS.match(v) and len(digits) >= 3 and sum(c.isalpha() for c in v) <= 2:
        return len(set(digits)) > 1
    return password(v)


_WORD = re.compile(r"[a-z]{3,8}")
_SEED_LENGTHS = (24, 21, 18, 15, 12)


@lru_cache(maxsize=1)
def bip39_words() -> frozenset[str]:
    """The BIP-39 English word list (2048 words), as the ``mnemonic`` package ships it."""
    from mnemonic import Mnemonic

    return frozenset(Mnemonic("english").wordlist)


def mnemonic(value: str) -> bool:
    """A wallet recovery phrase: 12, 15, 18, 21 or 24 words in a row from the BIP-39 English
    list, nearly all different (one word off the list is let through as a typo, never at
    either end). Prose rarely runs twelve words without a word the list leaves out ("the",
    "and", "is", "of"), so words before or after the phrase may be captured with it."""
    words = value.lower().replace(",", " ").split()
    if len(words) < 12:
        return False
    known = bip39_words()
    in_list = [w in known for w in words]
    for size in _SEED_LENGTHS:
        for start in range(len(words) - size + 1):
            window = words[start:start + size]
            if not (in_list[start] and in_list[start + size - 1]):
                continue
            if sum(in_list[start:start + size]) < size - 1:
                continue
            if all(_WORD.fullmatch(w) for w in window) and len(set(window)) >= size - 1:
                return True
    return False


def entropy(value: str, min_entropy: float) -> bool:
    """Random-looking text: at least ``min_entropy`` bits per character."""
    return shannon_entropy(value) >= min_entropy


_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_PLACEHOLDER_RUN = re.compile(r"(.)\1{7,}")
_X_RUN = re.compile(r"[xX*.]{8,}")
_JWT_HEADER_START = re.compile(rb'^\{\s*"(?:alg|typ|kid)"\s*:\s*"[A-Za-z0-9+/=_.:-]{2,}"\s*,')


def _b64decode(value: str) -> bytes | None:
    """Standard or URL-safe base64, with or without padding; None when it is not base64."""
    v = value.strip().replace("-", "+").replace("_", "/").rstrip("=")
    if len(v) % 4 == 1:  # a truncated or odd-length copy: decode what is whole
        v = v[:-1]
    v += "=" * (-len(v) % 4)
    try:
        return base64.b64decode(v, validate=True)
    except (binascii.Error, ValueError):
        return None


def decode_base64_text(value: str) -> str | None:
    """The text a base64 run stands for, when it decodes to mostly printable UTF-8."""
    raw = _b64decode(value)
    if raw is None or len(raw) < 12:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\n\r\t")
    return text if printable >= 0.95 * len(text) else None


def crc32_base62(value: str) -> bool:
    """GitHub and npm tokens: the last six characters are the base62 CRC32 of the random part.

    ``ghp_`` + 30 random base62 characters + 6 checksum characters (``npm_`` likewise); a
    made-up or mistyped token fails the check, a real one always passes.
    """
    # A token read out in groups ("ghp_ s1wA 0ar0 …") is the same token without the spaces.
    token = "".join(value.split())
    body = token.split("_", 1)[-1]
    if len(body) != 36 or not body.isalnum() or not body.isascii():
        return False
    number = 0
    for ch in body[30:]:
        number = number * 62 + _BASE62.index(ch)
    return number == zlib.crc32(body[:30].encode("ascii"))


_ALNUM_RUN = re.compile(r"[A-Za-z0-9]+")


def crc32_split(value: str) -> bool:
    """A GitHub or npm token cut in two or more pieces with words between them ("first half:
    ghp_…", "second half: …"): some run of the following pieces completes the token so that its
    CRC32 suffix is right. The checksum makes the join certain; words never pass it."""
    head, _, rest = value.strip().partition("\n")
    first = head.split()[0] if head.split() else ""
    prefix, sep, body = first.partition("_")
    if not sep or not body.isalnum() or len(body) >= 36:
        return False
    runs = _ALNUM_RUN.findall(head[len(first):] + "\n" + rest)[:60]
    for i in range(len(runs)):
        joined = body
        for run in runs[i:]:
            joined += run
            if len(joined) == 36:
                if crc32_base62(f"{prefix}_{joined}"):
                    return True
                break
            if len(joined) > 36:
                break
    return False


# Split tokens: which provider rules state each prefix's format. The alphabet, the length range
# and the check (GitHub's CRC32 or randomness) are read from those rules' patterns, so a format
# is written down once, in its provider's rule.
SPLIT_SOURCES: dict[str, tuple[str, ...]] = {
    "whsec_": ("cred.stripe-webhook-secret",),
    "glpat-": ("cred.gitlab-token",),
    "gldt-": ("cred.gitlab-token",),
    "glrt-": ("cred.gitlab-token",),
    "key-": ("cred.mailgun-key",),
    "ghr_": ("cred.github-token", "cred.github-refresh-token"),
    "ghp_": ("cred.github-token",),
    "gho_": ("cred.github-token",),
    "ghs_": ("cred.github-token",),
    "ghu_": ("cred.github-token",),
}
# The longest body taken for a format whose pattern has no upper bound ("{20,}").
_SPLIT_UNBOUNDED = 64


@dataclass(frozen=True, slots=True)
class SplitFormat:
    """A token format as its provider rule states it: the body's alphabet and length range,
    and whether the body ends in GitHub's base62 CRC32."""

    alphabet: re.Pattern[str]
    low: int
    high: int
    crc32: bool


# A body in a provider pattern: a character class and a count, or GitHub's class that may be
# read out in groups ("(?:[ \t]{0,2}[A-Za-z0-9]){36}").
_PATTERN_BODY = re.compile(r"(?:\[(?P<cls>[^\]]+)\]|\(\?:\[ \\t\]\{0,2\}\[(?P<spaced>[^\]]+)\]\))"
                           r"\{(?P<lo>\d+)(?P<comma>,(?P<hi>\d*))?\}")


def _body_after(pattern: str, prefix: str) -> tuple[str, int, int] | None:
    """The character class and length range that follow ``prefix`` in a provider pattern:
    the shortest piece of pattern before a body that matches the whole prefix names it."""
    for m in _PATTERN_BODY.finditer(pattern):
        for start in range(m.start() - 1, max(-1, m.start() - 120), -1):
            try:
                if re.fullmatch(pattern[start:m.start()], prefix) is None:
                    continue
            except re.error:
                continue
            lo = int(m.group("lo"))
            if m.group("comma") is None:
                hi = lo
            else:
                hi = int(m.group("hi")) if m.group("hi") else max(lo, _SPLIT_UNBOUNDED)
            return m.group("cls") or m.group("spaced"), lo, hi
    return None


def _provider_rules() -> dict[str, dict[str, Any]]:
    """The bundled credential rules by id, as written in their YAML files."""
    from monitor.resources import rules_dir
    from monitor.safe_yaml import compose_and_load

    out: dict[str, dict[str, Any]] = {}
    for path in sorted(rules_dir().glob("credentials*.yaml")):
        _, data = compose_and_load(path.read_text(encoding="utf-8"))
        for item in (data or {}).get("rules") or []:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                out[item["id"]] = item
    return out


@lru_cache(maxsize=1)
def split_formats() -> dict[str, SplitFormat]:
    """Each split prefix's format, read from the provider rules named in SPLIT_SOURCES; the
    ranges of several rules are joined, and the CRC32 applies when every one of them has it."""
    rules = _provider_rules()
    out: dict[str, SplitFormat] = {}
    for prefix, ids in SPLIT_SOURCES.items():
        classes: list[str] = []
        lows: list[int] = []
        highs: list[int] = []
        crc = True
        for rule_id in ids:
            match = (rules.get(rule_id) or {}).get("match") or {}
            patterns = match.get("regex") or []
            for pattern in [patterns] if isinstance(patterns, str) else patterns:
                body = _body_after(pattern, prefix)
                if body is not None:
                    classes.append(body[0])
                    lows.append(body[1])
                    highs.append(body[2])
                    crc = crc and "crc32_base62" in (match.get("validator"), match.get("checksum"))
                    break
        if classes:
            alternatives = "|".join(f"[{c}]" for c in dict.fromkeys(classes))
            alphabet = re.compile(f"(?:{alternatives})+")
            out[prefix] = SplitFormat(alphabet, min(lows), max(highs), crc)
    return out


_LAST_PIECE = re.compile(r"([A-Za-z0-9_.-]+)\W*$")


def split_token(value: str, min_entropy: float) -> bool:
    """A provider token given in two pieces with words between them ("part 1: glpat-…",
    "part 2: …"), or spelled out with spaces ("g h r _ l W i …"): the first piece and the
    last one joined have the format's alphabet and length, and are random enough (or carry
    the format's checksum)."""
    formats = split_formats()
    pieces = value.split()
    spaced = "".join(pieces) if all(len(p) <= 4 for p in pieces) else ""
    for prefix, fmt in formats.items():
        if spaced.startswith(prefix) and fmt.alphabet.fullmatch(spaced[len(prefix):] or "!"):
            body = spaced[len(prefix):]
            break
        head = pieces[0].rstrip(",;:") if pieces else ""
        if head.startswith(prefix):
            last = _LAST_PIECE.search(value[len(head):])
            if last is None:
                return False
            body = head[len(prefix):] + last.group(1)
            break
    else:
        return False
    fmt = formats[prefix]
    if not fmt.alphabet.fullmatch(body) or not fmt.low <= len(body) <= fmt.high:
        return False
    if fmt.crc32 and crc32_base62(prefix + body):
        return True
    # A made-up or mistyped token fails its checksum and is still posted as one: it needs
    # the three kinds of characters a generated body has.
    if fmt.crc32 and _kinds(body.replace("_", "").replace("-", "")) < 3:
        return False
    return random_token(body, min_entropy)


def base64_secret(value: str) -> bool:
    """A value decoded inline (``$(echo … | base64 -d)``): base64 of one printable word that
    reads as a password or a key (two kinds of characters, six or more), not of prose."""
    raw = _b64decode(value)
    if raw is None:
        return False
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    if not text.isprintable() or any(ch.isspace() for ch in text.strip()):
        return False
    return password(text.strip())


_TOKEN_TEXT = re.compile(r"^[A-Za-z0-9_\-+/=.~]{20,200}$")


def base64_token(value: str, min_entropy: float) -> bool:
    """Base64 of one random-looking token (an API key pasted encoded): the decoded text is a
    single run of token characters with letters and digits, random enough; prose, JSON and
    words decode to something else."""
    text = decode_base64_text(value)
    if text is None:
        return False
    text = text.strip()
    if not _TOKEN_TEXT.match(text) or looks_like_identifier(text):
        return False
    if not (any(c.isdigit() for c in text) and any(c.isalpha() for c in text)):
        return False
    return random_token(text, min_entropy)


def pypi_macaroon(value: str) -> bool:
    """PyPI API tokens: ``pypi-`` then a base64url macaroon whose location is pypi.org."""
    raw = _b64decode(value.strip().removeprefix("pypi-"))
    return raw is not None and raw[:2] == b"\x02\x01" and b"pypi.org" in raw[:40]


def _json_object(part: str) -> dict[str, object] | None:
    """A base64url part decoded as a JSON object, or None."""
    raw = _b64decode(part)
    if raw is None:
        return None
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return obj if isinstance(obj, dict) else None


def jwt(value: str) -> bool:
    """A JSON web token: its header decodes to a JSON object naming an algorithm, or, when the
    header was mangled (copied from a log, cut by a chat client, a key id that is not text),
    the header still starts as one, or the claims decode to an object with registered claims."""
    parts = value.strip().split(".")
    if len(parts) < 3:
        return False
    header = _json_object(parts[0])
    if header is not None:
        return isinstance(header.get("alg"), str)
    raw = _b64decode(parts[0])
    if raw is not None and _JWT_HEADER_START.match(raw):
        return True
    claims = _json_object(parts[1])
    if claims is None or len(parts[2]) < 16:
        return False
    return bool(_JWT_CLAIMS & claims.keys())


_JWT_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "kubernetes.io"})


def _json_prefix(part: str) -> dict[str, object] | None:
    """The JSON object a base64 run starts with, when more characters follow it (a token
    that is base64 of a JSON object and then a random part, as 1Password's can be)."""
    raw = _b64decode(part)
    if raw is None:
        return None
    text = raw.decode("utf-8", errors="replace")
    try:
        obj, _end = json.JSONDecoder().raw_decode(text)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) and obj else None


def base64_json(value: str) -> bool:
    """Tokens that are base64 of a JSON object (Sentry org tokens, Grafana keys, 1Password,
    Mapbox), perhaps with more characters after the object."""
    v = value.strip()
    start = v.find("eyJ")
    if start < 0:
        return False
    part = v[start:].split(".")[0]
    for candidate in dict.fromkeys((part.split("_")[0], part)):
        raw = _b64decode(candidate)
        if raw is not None:
            try:
                if isinstance(json.loads(raw.decode("utf-8")), dict):
                    return True
            except (UnicodeDecodeError, ValueError):
                pass
        if _json_prefix(candidate) is not None:
            return True
    return False


def mapbox_token(value: str, min_entropy: float) -> bool:
    """Mapbox secret tokens (``sk.`` + base64url payload + ``.`` + random part): the payload
    decodes to a JSON object, or starts as the account object (``{"u":``) and the token is
    random enough (copies cut or mangled in a chat still count)."""
    v = value.strip()
    if base64_json(v):
        return True
    payload = v.split(".")[1] if v.count(".") >= 2 else ""
    raw = _b64decode(payload[:12])
    return raw is not None and raw.startswith(b'{"u"') and random_token(v, min_entropy)


def _bech32_polymod(values: list[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def bech32(value: str) -> bool:
    """Bech32 strings (age secret keys): human-readable part, ``1``, data and a 6-character checksum."""
    v = value.strip().lower()
    pos = v.rfind("1")
    if pos < 1 or len(v) - pos < 7 or any(c not in _BECH32 for c in v[pos + 1 :]):
        return False
    hrp, data = v[:pos], [_BECH32.index(c) for c in v[pos + 1 :]]
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    return _bech32_polymod(expanded + data) == 1


def base58check(value: str) -> bool:
    """Base58Check strings (Bitcoin WIF private keys): the last 4 bytes are a double-SHA256."""
    v = value.strip()
    if not 20 <= len(v) <= 120 or any(c not in _BASE58 for c in v):
        return False
    number = 0
    for ch in v:
        number = number * 58 + _BASE58.index(ch)
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    raw = b"\x00" * (len(v) - len(v.lstrip("1"))) + raw
    if len(raw) < 5:
        return False
    return hashlib.sha256(hashlib.sha256(raw[:-4]).digest()).digest()[:4] == raw[-4:]


def key_material(value: str, min_entropy: float) -> bool:
    """A private key block with key material: enough base64 after the header, random enough.

    A header quoted on its own ("-----BEGIN RSA PRIVATE KEY-----") or followed by a
    placeholder ("..." or "<key here>") is not a leak.
    """
    body = "".join(ch for ch in value.replace("\\n", "\n") if ch.isalnum() or ch in "+/=")
    # Real keys have runs of "A" (zero bytes); placeholders are runs of x or a handful of letters.
    if len(body) < 40 or _X_RUN.search(body) or len(set(body)) < 16:
        return False
    return shannon_entropy(body) >= min_entropy


def decoded_length(value: str, want: int) -> bool:
    """Base64 keys of a fixed size (Azure storage keys: 64 bytes; WireGuard keys: 32 bytes)."""
    raw = _b64decode(value)
    return raw is not None and len(raw) == want


def _alphabet_size(value: str) -> int:
    """How many symbols the value's alphabet has: hex, one case and digits, or wider."""
    if all(c in "0123456789abcdef" for c in value) or all(c in "0123456789ABCDEF" for c in value):
        return 16
    if value.isalnum() and (value.lower() == value or value.upper() == value):
        return 36
    return 64


def entropy_floor(value: str, min_entropy: float) -> float:
    """The entropy a random value of this alphabet and length reaches, at most ``min_entropy``.

    A rule's ``min_entropy`` is written for its widest alphabet; a random 32-character hex key
    averages about 3.7 bits per character (4 at most) and one in twenty falls under 3.3, so
    the bar is lowered to three quarters of what the value's alphabet and length allow.
    """
    ceiling = math.log2(min(_alphabet_size(value), max(len(value), 2)))
    return min(min_entropy, 0.75 * ceiling)


_PREFIX_HEX_BODY = re.compile(r"^[A-Za-z][A-Za-z0-9]{1,7}[_.-]?(?P<body>[0-9a-f]{20,}|[0-9A-F]{20,})$")


def random_token(value: str, min_entropy: float) -> bool:
    """A provider token's random part: no placeholder runs (``xxxx``), random enough for its
    alphabet."""
    v = value.strip()
    # A hex value next to the provider's name is its key even though it looks like a hash.
    if _PLACEHOLDER_RUN.search(v) or _counting_run(v, 6):
        return False
    if shannon_entropy(v) >= entropy_floor(v, min_entropy):
        return True
    # A letter prefix on a hex body (EZAK…, rdme_…): the body's own alphabet sets the bar, or
    # the prefix's letters would hold a random hex body to the bar of a base64 one.
    m = _PREFIX_HEX_BODY.match(v)
    return m is not None and shannon_entropy(m["body"]) >= entropy_floor(m["body"], min_entropy)


def _counting_run(value: str, size: int) -> bool:
    """Whether ``size`` characters in a row count up or down (``123456``, ``abcdef``): how
    people type placeholders. A random token has such a run about once in 10^7."""
    run, last = 1, 0
    for a, b in zip(value, value[1:], strict=False):
        step = ord(b) - ord(a)
        if step in (1, -1) and a.isalnum() and b.isalnum():
            run = run + 1 if step == last else 2
        else:
            run = 1
        last = step
        if run >= size:
            return True
    return False


_UUID_HEX = re.compile(r"^[0-9a-fA-F]{12}[1-8][0-9a-fA-F]{3}[89abAB][0-9a-fA-F]{15}$")


def hex_secret(value: str, min_entropy: float) -> bool:
    """A hex secret under a secret's name: not a UUID written without dashes, no placeholder
    runs, random enough."""
    v = value.strip()
    if _UUID_HEX.match(v):
        return False
    return random_token(v, min_entropy)


_CODE_REFERENCE = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*[.(\[])+|^[A-Z0-9_]+$|^[a-z0-9_]+$|^[A-Za-z]+(?:[_-][A-Za-z]+)+$")
_PATHLIKE = re.compile(r"^(?:\.{0,2}/|[A-Za-z]:\\)|/[a-z_-]+/")


def _random_one_case(value: str) -> bool:
    """A random key in one case with digits (``5usce89bbhdiw1qbo71ixm``), not a constant or an
    identifier written in one case (``my_api_key``, ``user2profile``): no separators, three
    digits or more, letters and digits alternating often, no counting runs."""
    if not value.isalnum() or sum(c.isdigit() for c in value) < 3 or _counting_run(value, 4):
        return False
    changes = sum(a.isdigit() != b.isdigit() for a, b in zip(value, value[1:], strict=False))
    return changes >= max(4, len(value) // 6)


def generic_secret(value: str, min_entropy: float) -> bool:
    """A value assigned to a secret-sounding name that is itself a secret.

    Needs letters and digits and enough entropy; refuses hashes, UUIDs, placeholders
    (``xxxx``), code references (``process.env.KEY``, ``settings.API_KEY``), constants
    (``YOUR_API_KEY``), hyphenated words and paths.
    """
    v = value.strip().strip("\"'`")
    if len(v) < 16 or looks_like_identifier(v) or _PLACEHOLDER_RUN.search(v):
        return False
    if (_CODE_REFERENCE.match(v) and not _random_one_case(v)) or _PATHLIKE.search(v):
        return False
    if not (any(c.isdigit() for c in v) and any(c.isalpha() for c in v)):
        return False
    return shannon_entropy(v) >= min_entropy


# Digests of the empty input (md5, sha1, sha256): the commonest "hash" pasted into config.
_EMPTY_DIGESTS = frozenset({
    "d41d8cd98f00b204e9800998ecf8427e",
    "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
})
_HEX_VALUE = re.compile(r"^[0-9a-fA-F]{32,128}$")
_VERSION = re.compile(r"^v?\d+(?:\.\d+)+(?:[-+][\w.]+)?$")
# Kubernetes and DNS names (db-creds-v2), host names, identifiers and environment names.
_DNS_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)+$")
_HOSTNAME = re.compile(
    r"(?i)^[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|dev|local|internal|svc|cluster|cloud|app|example)$")
_IDENTIFIER = re.compile(r"^(?:[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[a-z][a-z0-9]*(?:_[a-z0-9]+)+|[A-Za-z]+"
                         r"|[A-Za-z_][A-Za-z_]*(?:\.[A-Za-z_][A-Za-z_]*)+)$")
_REFERENCE_MARK = ("://", "$(", "@microsoft", "arn:")
_STRONG_SYMBOLS = frozenset("!#$%^&*(){}[]<>?~+=|@;")
_TYPED_CONNECTOR = re.compile(r"(?i)\s*[\s….]*(?:\(?\d\s*/\s*\d\)[\s….]*)?(?:(?:and\s+)?(?:ends|ending|finishes)\s+with"
                              r"|and the rest|the rest|rest of it|second half|part 2|then)\s*[:=-]?\s*")


def config_secret(value: str) -> bool:
    """A value under a credential's name in config or code (``MASTER_KEY: "QYPY-z0c9-3990!"``):
    a typed password (letters and digits, 8-128 characters) or a hex key of 32-128 digits.

    Refuses references (``${X}``, ``var.x``, ``os.getenv(...)``), constants and identifiers,
    plain words, Kubernetes names, host names, versions, UUIDs and the empty input's digests;
    the rule's allow list and context refuse placeholders and hashes named as such.
    """
    v = value.strip().strip("\"'`")
    if not 8 <= len(v) <= 128 or v[0] in "${<[@&*":
        return False
    if any(m in v.lower() for m in _REFERENCE_MARK) or _PLACEHOLDER_RUN.search(v):
        return False
    if is_reference(v):
        return False
    if _HEX_VALUE.match(v):
        # A UUID written without dashes is an id (cred.hex-password takes hex under a
        # password's name, where one random key in ten has a UUID's shape by chance).
        if v.lower() in _EMPTY_DIGESTS or _UUID_HEX.match(v):
            return False
        return random_token(v, 3.3)
    if _UUID.match(v) or _counting_run(v, 6):
        return False
    if _IDENTIFIER.match(v) or _VERSION.match(v) or _DNS_NAME.match(v) or _HOSTNAME.match(v):
        return False
    if _PATHLIKE.search(v) or _DATE_LIKE.search(v):
        return False
    if any(c.isdigit() for c in v) and any(c.isalpha() for c in v):
        return shannon_entropy(v) >= 2.8
    # Letters and symbols only: a made-up secret full of punctuation, random enough, or a
    # generated one in random mixed case (xFaCCtPhVuk$fsDLTLYlW).
    symbols = sum(c in _STRONG_SYMBOLS for c in v)
    if any(c.isalpha() for c in v) and symbols >= 3 and shannon_entropy(v) >= 3.5:
        return True
    return _random_mixed_case(v)


def _random_mixed_case(value: str) -> bool:
    """A generated value of letters in random mixed case (16 or more characters, perhaps a
    symbol or two): about as many capitals as small letters, which CamelCase words and
    constants never have, and random enough."""
    letters = [c for c in value if c.isalpha()]
    if len(value) < 16 or len(letters) < 0.85 * len(value) or not value.isascii():
        return False
    upper = sum(c.isupper() for c in letters) / len(letters)
    return 0.3 <= upper <= 0.7 and shannon_entropy(value) >= 3.8


def hex_password(value: str) -> bool:
    """A generated hex password: random enough, not the empty input's digest."""
    v = value.strip()
    return v.lower() not in _EMPTY_DIGESTS and random_token(v, 3.3)


def typed_password(value: str) -> bool:
    """A password written in prose without the word "password" next to it (``login admin and
    glacier.saffron.marlin99``): eight or more characters with letters and digits, not a
    version, host name, e-mail address, URL or path."""
    v = value.strip()
    if len(v) < 8 or not password(v) or "@" in v or "://" in v or _PATHLIKE.search(v):
        return False
    if not (any(c.isdigit() for c in v) and any(c.isalpha() for c in v)):
        return False
    return not (_VERSION.match(v) or _HOSTNAME.match(v) or _IDENTIFIER.match(v) or _DATE_LIKE.search(v))


def _kinds(value: str) -> int:
    """How many kinds of characters a value mixes: lower case, upper case, digits, symbols."""
    return (any(c.islower() for c in value) + any(c.isupper() for c in value)
            + any(c.isdigit() for c in value) + any(not c.isalnum() for c in value))


def bare_password(value: str) -> bool:
    """A password given with no "is" or "=" before it (``pw Quartz!river88``, ``login admin
    Quartz!river88``, a chat answer that is only the value): a typed password that mixes
    three kinds of characters, or a long random one. "pass the salt", "login admin2" and
    product names with a digit do not pass; the rule's context wants talk of logging in."""
    v = value.strip()
    # A shell variable, a template or a YAML tag stands for the value; it is not the value.
    if not v or v[0] in "$%{<[@&*!" or not typed_password(v) or _counting_run(v, 5):
        return False
    return _kinds(v) >= 3 or (len(v) >= 12 and shannon_entropy(v) >= 3.5)


def split_password(value: str) -> bool:
    """A password given in two halves (``Mead1 …and the rest: 492DOW$``): the halves joined."""
    parts = _TYPED_CONNECTOR.split(value.strip(), maxsplit=1)
    return len(parts) == 2 and typed_password(parts[0].strip() + parts[1].strip())


def basic_auth(value: str) -> bool:
    """``Authorization: Basic`` credentials: base64 of ``user:password`` with a real password."""
    raw = _b64decode(value)
    if raw is None:
        return False
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    user, sep, pw = text.partition(":")
    if not sep or not user or not pw.isprintable():
        return False
    return password(pw) and pw.lower() not in ("password", "pass", "secret", "changeme")


VALIDATORS: dict[str, Callable[[str, float], bool]] = {
    "generic_secret": generic_secret,
    "basic_auth": lambda v, _e: basic_auth(v),
    "crc32_base62": lambda v, _e: crc32_base62(v),
    "crc32_split": lambda v, _e: crc32_split(v),
    "base64_secret": lambda v, _e: base64_secret(v),
    "base64_token": base64_token,
    "split_token": split_token,
    "pypi_macaroon": lambda v, _e: pypi_macaroon(v),
    "jwt": lambda v, _e: jwt(v),
    "base64_json": lambda v, _e: base64_json(v),
    "mapbox_token": mapbox_token,
    "bech32": lambda v, _e: bech32(v),
    "base58check": lambda v, _e: base58check(v),
    "key_material": key_material,
    "azure_storage_key": lambda v, _e: decoded_length(v, 64),
    "wireguard_key": lambda v, _e: decoded_length(v, 32),
    "random_token": random_token,
    "hex_secret": hex_secret,
    "config_secret": lambda v, _e: config_secret(v),
    "typed_password": lambda v, _e: typed_password(v),
    "hex_password": lambda v, _e: hex_password(v),
    "split_password": lambda v, _e: split_password(v),
    "bare_password": lambda v, _e: bare_password(v),
    "luhn": lambda v, _e: luhn(v),
    "iban": lambda v, _e: iban(v),
    "ssn": lambda v, _e: ssn(v),
    "phone": lambda v, _e: phone(v),
    "password": lambda v, _e: password(v),
    "access_code": lambda v, _e: access_code(v),
    "mnemonic": lambda v, _e: mnemonic(v),
    "entropy": entropy,
    "secret": secret,
}


def _ignore_entropy(check: Callable[[str], bool]) -> Callable[[str, float], bool]:
    def run(value: str, _min_entropy: float) -> bool:
        return check(value)
    return run


VALIDATORS.update({name: _ignore_entropy(check) for name, check in ID_VALIDATORS.items()})


# -- Tokens and passwords in the shapes people post them: made up, split, spelled out ------

_WS = re.compile(r"\s+")


def token_shape(value: str, min_entropy: float) -> bool:
    """A prefixed base62 token (``ghp_``/``npm_`` + 36) whose body has the format's shape even
    when its checksum fails (a mistyped or made-up token is still posted as one): upper and
    lower case and digits, no placeholder or counting runs, random enough. Spaces between
    groups are ignored; ordinary words never have the three kinds of characters."""
    token = _WS.sub("", value)
    body = token.split("_", 1)[-1]
    if len(body) != 36 or not body.isalnum() or not body.isascii():
        return False
    if not (any(c.islower() for c in body) and any(c.isupper() for c in body)
            and any(c.isdigit() for c in body)):
        return False
    return random_token(body, min_entropy)


# Formats a token split into pieces is checked against: prefix, body alphabet, body lengths.
_PIECE_FORMATS: tuple[tuple[str, re.Pattern[str], tuple[int, ...]], ...] = (
    ("ghp_", re.compile(r"[A-Za-z0-9]+"), (36,)),
    ("gho_", re.compile(r"[A-Za-z0-9]+"), (36,)),
    ("ghu_", re.compile(r"[A-Za-z0-9]+"), (36,)),
    ("ghs_", re.compile(r"[A-Za-z0-9]+"), (36,)),
    ("ghr_", re.compile(r"[A-Za-z0-9]+"), (36,)),
    ("npm_", re.compile(r"[A-Za-z0-9]+"), (36,)),
    ("github_pat_", re.compile(r"[A-Za-z0-9]{22}_[A-Za-z0-9]{59}"), (82,)),
    ("AKIA", re.compile(r"[A-Z0-9]+"), (16,)),
    ("ASIA", re.compile(r"[A-Z0-9]+"), (16,)),
    ("SG.", re.compile(r"[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}"), (66,)),
    ("sk_live_", re.compile(r"[A-Za-z0-9]+"), tuple(range(24, 100))),
    ("rk_live_", re.compile(r"[A-Za-z0-9]+"), tuple(range(24, 100))),
    ("glpat-", re.compile(r"[A-Za-z0-9_-]+"), (20,)),
    ("xoxb-", re.compile(r"[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{24}"), tuple(range(46, 53))),
    ("hf_", re.compile(r"[A-Za-z0-9]+"), (34,)),
)
# A label between pieces ("part 2:", "2/3", "line two -"), dropped before joining.
_PIECE_LABEL = re.compile(r"(?i)^(?:(?:part|piece|line|chunk|half)\s*(?:\d|one|two|three|four|ii|iii|iv)?"
                          r"\s*[:.)=-]?|\d\s*/\s*\d\s*[:.)=-]?|\(?\d\)?\s*[:.)=-])\s*")
_PIECE_SEP = re.compile(r"[ \t]*(?:\|[ \t]*|\r?\n[ \t]*)")


def split_format(value: str, min_entropy: float) -> bool:
    """A provider token given in pieces on several lines or between `` | `` separators
    (``ghp_nnYq… | q2Xb… | v1Cy…``, ``part 1: AKIA…`` / ``part 2: …``): the first pieces
    joined have the format's alphabet and exact length, with mixed characters, random enough.
    A checksum is not required (see ``split_checksum``)."""
    pieces = [p for p in _PIECE_SEP.split(value.strip()) if p]
    if len(pieces) < 2:
        return False
    first = pieces[0].split()[-1] if pieces[0].split() else ""
    fmt = next((f for f in _PIECE_FORMATS if first.startswith(f[0])), None)
    if fmt is None:
        return False
    prefix, alphabet, lengths = fmt
    body = first[len(prefix):]
    for piece in pieces[1:]:
        piece = _PIECE_LABEL.sub("", piece, count=1).strip()
        if not piece or " " in piece:
            return False
        body += piece
        if len(body) > max(lengths):
            return False
        if len(body) in lengths and alphabet.fullmatch(body):
            chars = body.replace("_", "").replace("-", "").replace(".", "")
            if prefix in ("AKIA", "ASIA"):
                return any(c.isdigit() for c in chars) and random_token(chars, min_entropy)
            return _kinds(chars) >= 2 and random_token(chars, min_entropy)
    return False


def split_checksum(value: str) -> bool:
    """The CRC32 suffix of a GitHub or npm token given in pieces is right (``split_format``
    joined the pieces); formats without a checksum pass."""
    pieces = [p for p in _PIECE_SEP.split(value.strip()) if p]
    first = pieces[0].split()[-1] if pieces and pieces[0].split() else ""
    if not first.startswith(("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "npm_")):
        return True
    body = first
    for piece in pieces[1:]:
        body += _PIECE_LABEL.sub("", piece, count=1).strip()
        if len(body) >= 40:
            return crc32_base62(body[:40])
    return False


@dataclass(frozen=True, slots=True)
class _Format:
    """A provider rule's pattern, as the joined-token check runs it."""

    rule_id: str
    pattern: re.Pattern[str]
    validator: str | None
    min_entropy: float
    allow: tuple[str, ...]


@lru_cache(maxsize=1)
def _provider_formats() -> tuple[_Format, ...]:
    """The credential rules a token stands on alone by its format: a regex, no required
    context word (a weak format needs its provider named, which a joined piece cannot show),
    nothing decoded. Patterns Python cannot compile are left out."""
    out: list[_Format] = []
    for rule_id, rule in _provider_rules().items():
        match = rule.get("match") or {}
        context = rule.get("context") or {}
        if context.get("require") or match.get("decode") or rule.get("status") == "deprecated":
            continue
        if match.get("validator") in _NOT_FORMATS:
            continue
        patterns = match.get("regex") or []
        for pattern in [patterns] if isinstance(patterns, str) else patterns:
            try:
                rx = re.compile(pattern)
            except re.error:
                continue
            out.append(_Format(rule_id, rx, match.get("validator"), float(match.get("min_entropy", 3.0)),
                               tuple(str(a).lower() for a in rule.get("allow") or ())))
    return tuple(out)


# Validators of rules that read a shape, not a provider's format: left out of the check.
_NOT_FORMATS = frozenset({"joined_token", "split_format", "split_token", "user_password_pair",
                          "password", "typed_password", "config_secret", "generic_secret",
                          "strong_password", "access_code", "hex_password", "split_password",
                          "mnemonic", "backup_codes", "hex_secret", "basic_auth", "secret"})
# What joins the pieces: " + ", dashes between read-out chunks, a quoted string continued on
# the next line with a backslash, a "part 2/2:" label on the next line.
_PLUS_OR_CONTINUED = r"""[ \t]+\+[ \t]+|["']?[ \t]*\\\r?\n[ \t]*["']?"""
_PART_LABEL = r"(?i:part|piece)[ \t]*\d[ \t]*(?:/|of)[ \t]*\d[ \t]*[:.)=-]?[ \t]*"
_JOINER = re.compile(rf"{_PLUS_OR_CONTINUED}|-|\s*\r?\n\s*{_PART_LABEL}")
# The joins that are never part of a token: everything but the dash.
_NON_DASH_JOINER = re.compile(rf"{_PLUS_OR_CONTINUED}|\s*\r?\n\s*{_PART_LABEL}")
_LABEL_HEAD = re.compile(rf"^{_PART_LABEL}")


def _joined_candidates(value: str) -> list[str]:
    """The value's pieces joined: all separators dropped, and (for chunks read out with
    dashes, whose token may have a dash of its own) only the joins between pieces."""
    v = _LABEL_HEAD.sub("", value.strip())
    out = ["".join(p for p in _JOINER.split(v) if p)]
    if "-" in v:
        out.append(_NON_DASH_JOINER.sub("", v))
    return [c for c in dict.fromkeys(out) if c]


def joined_token(value: str, min_entropy: float) -> bool:
    """A token given in pieces ("AKIA… + …", read out in dash-separated chunks, a quoted value
    continued with a backslash, "part 1/2: …" / "part 2/2: …"): joined, it is a whole token of
    a provider's format and passes that rule's own check; or, with no known prefix, a long
    random run of upper and lower case and digits read out in chunks."""
    for joined in _joined_candidates(value):
        if len(joined) < 16 or _kinds(NON_ALNUM.sub("", joined)) < 2:
            continue  # ordinary words joined by dashes
        low = joined.lower()
        for fmt in _provider_formats():
            m = fmt.pattern.search(joined)
            if m is None:
                continue
            span = m.span("value") if "value" in fmt.pattern.groupindex else m.span()
            if span[1] - span[0] < len(joined) - 2 or any(a in low for a in fmt.allow if a):
                continue
            check = VALIDATORS.get(fmt.validator) if fmt.validator else None
            if check is None or check(joined[span[0]:span[1]], fmt.min_entropy):
                return True
    pieces = value.strip().split("-")
    body = "".join(pieces)
    return (len(pieces) >= 8 and len(body) >= 32 and body.isalnum() and body.isascii()
            and _kinds(body) >= 3 and random_token(body, min_entropy))


def jwt_header(value: str) -> bool:
    """A JSON web token whose header decodes to a JSON object naming an algorithm; the claims
    and signature may be anything (a token from a test tool, or one cut or wrapped by a chat
    client). Line breaks inside it are ignored."""
    parts = _WS.sub("", value).split(".")
    if len(parts) != 3 or len(parts[1]) < 16 or len(parts[2]) < 10:
        return False
    header = _json_object(parts[0])
    alg = header.get("alg") if header is not None else None
    if not isinstance(alg, str) or alg.lower() == "none":
        return False
    return shannon_entropy(parts[1] + parts[2]) >= 4.0


def spelled_secret(value: str) -> bool:
    """A password or key spelled out with a separator between its characters (``r e d c e d a
    r 1 6 5``, ``k.B.7.S.&.p``, ``t-i-l-l-e-r-009``): most pieces are single characters, and
    the pieces joined read as a password (six or more characters of two kinds, not one word)."""
    v = value.strip()
    for sep in (" ", ".", "-"):
        pieces = v.split(sep)
        if len(pieces) < 6 or any(not p for p in pieces):
            continue
        singles = sum(len(p) == 1 for p in pieces)
        if sep == " " and singles < len(pieces) - 1:
            continue
        if singles < 0.6 * len(pieces):
            continue
        joined = "".join(pieces)
        if joined.isdigit() or _DATE_LIKE.search(joined) or _counting_run(joined, 5):
            return False
        return len(joined) >= 6 and password(joined) and not _IDENTIFIER.match(joined)
    return False


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_FILE_NAME = re.compile(r"(?i)\.(?:txt|md|pdf|docx?|xlsx?|csv|json|ya?ml|py|js|ts|html?|png|jpe?g|gif|zip)$")


def strong_password(value: str) -> bool:
    """A password typed or generated for an account: 8-64 characters mixing three kinds
    (lower, upper, digits, symbols), not an e-mail address, URL, path, file name, version,
    date, host name or reference."""
    v = value.strip()
    if not 8 <= len(v) <= 64 or _kinds(v) < 3:
        return False
    if (_EMAIL.match(v) or "://" in v or _PATHLIKE.search(v) or _FILE_NAME.search(v)
            or "/" in v or "\\" in v):
        return False
    if any(m in v for m in ("${", "{{", "$(", "%(", "<", ">")):
        return False
    if _VERSION.match(v) or _HOSTNAME.match(v) or _DATE_LIKE.search(v) or _UUID.match(v):
        return False
    if re.search(r"\d+\.\d+\.\d+", v):
        return False
    return shannon_entropy(v) >= 2.3 and not _PLACEHOLDER_RUN.search(v)


_WORD_NUMBER = re.compile(r"^[A-Za-z]+[-_.]?v?\d{1,3}$")
_DOTTED_NUMBER = re.compile(r"\d\.\d")


def prose_password(value: str) -> bool:
    """A password named only by what it opens ("use X to unlock the vault"): a strong
    password that is not a product and version ("Python3.12") or a word and a small number
    ("version-2", "build_10")."""
    v = value.strip()
    return strong_password(v) and not _WORD_NUMBER.match(v) and not _DOTTED_NUMBER.search(v)


def named_hex_key(value: str) -> bool:
    """A hex key named as a key (``API key: d6a3…``): 32-128 hex digits with letters and digits,
    random enough, not the empty input's digest."""
    v = value.strip()
    if len(v) > 128 or not (any(c.isdigit() for c in v) and any(c.isalpha() for c in v)):
        return False
    return v.lower() not in _EMPTY_DIGESTS and random_token(v, 3.3)


def bitlocker_key(value: str) -> bool:
    """A BitLocker recovery key: eight groups of six digits, not one group repeated."""
    groups = value.strip().split("-")
    return (len(groups) == 8 and all(len(g) == 6 and g.isdigit() for g in groups)
            and len(set(groups)) > 4 and not _counting_run("".join(groups), 6))


def bitlocker_checksum(value: str) -> bool:
    """BitLocker's own check: every group is a multiple of 11 below 720896."""
    groups = value.strip().split("-")
    return all(g.isdigit() and int(g) % 11 == 0 and int(g) < 720896 for g in groups)


_CODE_GROUP = re.compile(r"[0-9A-Za-z]{4,10}")


def backup_codes(value: str) -> bool:
    """MFA backup or recovery codes: three or more groups of 4-10 letters and digits, most
    with a digit, all different (``96674720 05566735 …``, ``dbe1-f399-e3d1-…``)."""
    groups = re.split(r"[\s,;-]+", value.strip())
    if len(groups) < 3 or not all(_CODE_GROUP.fullmatch(g) for g in groups):
        return False
    with_digit = sum(any(c.isdigit() for c in g) for g in groups)
    if with_digit < 0.5 * len(groups) or len(set(groups)) < len(groups):
        return False
    joined = "".join(groups)
    return not _DATE_LIKE.search(value) and not _counting_run(joined, 6) and len(set(joined)) >= 6


def teams_webhook(value: str) -> bool:
    """A Teams incoming webhook URL's path, perhaps wrapped over lines: it names
    ``IncomingWebhook`` and carries a hex id of 16 or more digits, no placeholder runs."""
    v = _WS.sub("", value)
    if "IncomingWebhook/" not in v or _PLACEHOLDER_RUN.search(v) or _X_RUN.search(v):
        return False
    return re.search(r"IncomingWebhook/[0-9a-fA-F]{16,}", v) is not None


_PAIR = re.compile(r"""^["'“`]?(?P<user>[A-Za-z0-9][A-Za-z0-9._@-]*)["'”`]?(?:\s+/\s+|/|\s+:\s+|:|\s+\|\s+)"""
                   r"""(?:(?i:pw|pass|password|pwd)\s*:?\s*)?["'“`]?(?P<pw>\S+)$""")


# A host name ending in a common top-level domain: "discord.gg/…", "bit.ly/…" are links.
_DOMAIN_USER = re.compile(r"(?i)^(?:[a-z0-9-]+\.)+(?:com|net|org|io|gg|ly|co|me|app|dev|gl|be|to|link"
                          r"|page|site|xyz|ai|so|sh|us|uk|de|fr|es|it|nl|eu|info|biz|tv|cc)$")
_KEY_TYPE = re.compile(r"(?i)^(?:ssh-(?:ed25519|rsa|dss)|ecdsa-sha2-nistp\d+|sk-ssh-ed25519@openssh\.com)")


def user_password_pair(value: str) -> bool:
    """A user name and a password given together (``admin / RDTWymc!65``, ``ops:fpqR%FV…``):
    the user is a short name, not a run of base64 or a key; the password, at most 40
    characters, reads as one (``strong_password``)."""
    m = _PAIR.match(value.strip())
    if m is None:
        return False
    user, pw = m.group("user"), m.group("pw").rstrip(".")
    if not 2 <= len(user) <= 24 or len(pw) > 40:
        return False
    if len(user) >= 12 and user.isalnum() and _kinds(user) >= 3:
        return False  # a piece of base64 or a key, not a login name
    if _DOMAIN_USER.match(user) or _KEY_TYPE.match(pw):
        return False  # a short link (discord.gg/AbC12xYz) or "host: ssh-ed25519 AAAA…"
    return strong_password(pw)


VALIDATORS.update({
    "user_password_pair": _ignore_entropy(user_password_pair),
    "token_shape": token_shape,
    "split_format": split_format,
    "split_checksum": _ignore_entropy(split_checksum),
    "jwt_header": _ignore_entropy(jwt_header),
    "spelled_secret": _ignore_entropy(spelled_secret),
    "strong_password": _ignore_entropy(strong_password),
    "named_hex_key": _ignore_entropy(named_hex_key),
    "bitlocker_key": _ignore_entropy(bitlocker_key),
    "bitlocker_checksum": _ignore_entropy(bitlocker_checksum),
    "backup_codes": _ignore_entropy(backup_codes),
    "teams_webhook": _ignore_entropy(teams_webhook),
    "joined_token": joined_token,
    "prose_password": _ignore_entropy(prose_password),
})
