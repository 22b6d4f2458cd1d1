"""Round 6 of the held-back set for ``credentials`` and ``pii``: four files from one seed.

Run ``python -m bench.heldout_round6`` to (re)write
``data/secrets-heldout/round6_{credentials_positive,credentials_hard_negative,pii_positive,
pii_negative}.jsonl``. Everything here was written from the labelling spec (POLICY.md) and the
providers' and standards bodies' published formats (token prefixes, lengths and alphabets, the
GitHub/npm CRC32 suffix, bech32, Base58Check, Luhn, ISO 13616 IBAN check digits, ICAO 9303
MRZ check digits and the national ID numbers' own check rules), without opening the rule packs,
the monitor package or any earlier round, and without running the detector on the cases.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import string
import zlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path

SEED = 6_2026_1204
DATA = Path(__file__).resolve().parents[1] / "data" / "secrets-heldout"
NAMES = ("round6_credentials_positive", "round6_credentials_hard_negative",
         "round6_pii_positive", "round6_pii_negative")

Row = dict[str, str]
Rng = random.Random

UP = string.ascii_uppercase
LO = string.ascii_lowercase
DIG = string.digits
AN = DIG + UP + LO
HEX = "0123456789abcdef"
HEXU = HEX.upper()
URL = AN + "-_"
B64 = UP + LO + DIG + "+/"
B32 = UP + "234567"


def s(r: Rng, alpha: str, n: int) -> str:
    """``n`` characters drawn from ``alpha``."""
    return "".join(r.choice(alpha) for _ in range(n))


def digits(r: Rng, n: int) -> str:
    return s(r, DIG, n)


def base62(num: int, width: int) -> str:
    """``num`` in base 62 (0-9, A-Z, a-z), left-padded with zeros to ``width``."""
    out = ""
    while num:
        num, rem = divmod(num, 62)
        out = AN[rem] + out
    return out.rjust(width, "0")


def crc_token(prefix: str, r: Rng) -> str:
    """GitHub's and npm's published shape: 30 random base62 characters, then the CRC32 of
    those characters in base 62 (six characters)."""
    body = s(r, AN, 30)
    return prefix + body + base62(zlib.crc32(body.encode()), 6)


def b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# --- check digits -------------------------------------------------------------------------

def _luhn_sum(number: str) -> int:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10


def _luhn_ok(number: str) -> bool:
    return number.isdigit() and _luhn_sum(number) == 0


def luhn_complete(partial: str) -> str:
    """``partial`` plus the digit that makes it pass Luhn."""
    return partial + str((10 - _luhn_sum(partial + "0")) % 10)


def _mod97(text: str) -> int:
    return int("".join(str(int(c, 36)) for c in text)) % 97


def _iban(country: str, bban: str) -> str:
    check = 98 - _mod97(bban + country + "00")
    return f"{country}{check:02d}{bban}"


def _iban_ok(iban: str) -> bool:
    return len(iban) > 4 and _mod97(iban[4:] + iban[:4]) == 1


def _icao(field: str) -> str:
    """ICAO 9303 check digit: weights 7, 3, 1; '<' is 0, letters A=10 … Z=35."""
    total = 0
    for i, ch in enumerate(field):
        v = 0 if ch == "<" else int(ch, 36)
        total += v * (7, 3, 1)[i % 3]
    return str(total % 10)


_VD = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
       [2, 3, 4, 0, 1, 7, 8, 9, 5, 6], [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
       [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
       [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
       [8, 7, 6, 5, 9, 3, 2, 1, 0, 4], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]
_VP = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
       [5, 8, 0, 3, 7, 9, 6, 1, 4, 2], [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
       [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
       [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8]]
_VINV = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9]


def _verhoeff(number: str) -> str:
    """The Verhoeff check digit to append to ``number`` (Aadhaar)."""
    c = 0
    for i, ch in enumerate(reversed(number)):
        c = _VD[c][_VP[(i + 1) % 8][int(ch)]]
    return str(_VINV[c])


def _verhoeff_ok(number: str) -> bool:
    c = 0
    for i, ch in enumerate(reversed(number)):
        c = _VD[c][_VP[i % 8][int(ch)]]
    return c == 0


def _de_taxid_check(ten: str) -> str:
    """ISO 7064 MOD 11,10 check digit of the German Steuer-Identifikationsnummer."""
    product = 10
    for ch in ten:
        total = (int(ch) + product) % 10 or 10
        product = (total * 2) % 11
    check = 11 - product
    return "0" if check == 10 else str(check)


def _aba_ok(routing: str) -> bool:
    d = [int(c) for c in routing]
    return len(d) == 9 and (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7])
                            + d[2] + d[5] + d[8]) % 10 == 0


def _nhs_check(nine: str) -> int:
    """NHS number check digit (weights 10 … 2, 11 - sum mod 11; 10 is not issued)."""
    c = 11 - sum(int(x) * w for x, w in zip(nine, range(10, 1, -1), strict=True)) % 11
    return 0 if c == 11 else c


_BECH = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _polymod(values: list[int]) -> int:
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def _bech32(hrp: str, data: bytes) -> str:
    """BIP-173 bech32 of ``data`` (8-bit groups regrouped to 5 bits) under ``hrp``."""
    acc = bits = 0
    five: list[int] = []
    for b in data:
        acc = (acc << 8) | b
        bits += 8
        while bits >= 5:
            bits -= 5
            five.append((acc >> bits) & 31)
    if bits:
        five.append((acc << (5 - bits)) & 31)
    exp = [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]
    pm = _polymod(exp + five + [0] * 6) ^ 1
    check = [(pm >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_BECH[d] for d in five + check)


_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _base58check(payload: bytes) -> str:
    raw = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    num = int.from_bytes(raw, "big")
    out = ""
    while num:
        num, rem = divmod(num, 58)
        out = _B58[rem] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


# --- national ID numbers, passports, health and bank numbers -----------------------------

def _birth(r: Rng, lo: int = 1950, hi: int = 2005) -> tuple[int, int, int]:
    return r.randint(lo, hi), r.randint(1, 12), r.randint(1, 28)


def nid_es(r: Rng) -> str:
    """Spanish DNI: eight digits and the mod-23 letter."""
    n = r.randint(10_000_000, 99_999_999)
    return f"{n}{'TRWAGMYFPDXBNJZSQVHLCKE'[n % 23]}"


def nid_nl(r: Rng) -> str:
    """Dutch BSN: nine digits passing the 11-test (last weight -1)."""
    while True:
        d = [r.randint(1, 9)] + [r.randint(0, 9) for _ in range(7)]
        last = sum(x * w for x, w in zip(d, range(9, 1, -1), strict=True)) % 11
        if last < 10:
            return "".join(map(str, d)) + str(last)


def nid_pl(r: Rng) -> str:
    """Polish PESEL: birth date (month + 20 in the 2000s), serial, weighted check digit."""
    y, m, d = _birth(r)
    mm = m + (20 if y >= 2000 else 0)
    body = f"{y % 100:02d}{mm:02d}{d:02d}{digits(r, 4)}"
    total = sum(int(c) * w for c, w in zip(body, [1, 3, 7, 9, 1, 3, 7, 9, 1, 3], strict=True))
    return body + str((10 - total % 10) % 10)


def nid_ca(r: Rng) -> str:
    """Canadian SIN: nine digits passing Luhn, shown in groups of three."""
    n = luhn_complete(str(r.choice([1, 2, 3, 4, 5, 6, 7, 9])) + digits(r, 7))
    return f"{n[:3]} {n[3:6]} {n[6:]}"


def nid_br(r: Rng) -> str:
    """Brazilian CPF: nine digits and two mod-11 check digits, as 000.000.000-00."""
    d = [r.randint(0, 9) for _ in range(9)]
    for size in (10, 11):
        total = sum(x * w for x, w in zip(d, range(size, 1, -1), strict=False))
        d.append(total * 10 % 11 % 10)
    t = "".join(map(str, d))
    return f"{t[:3]}.{t[3:6]}.{t[6:9]}-{t[9:]}"


def nid_in(r: Rng) -> str:
    """Indian Aadhaar: twelve digits (first 2-9), Verhoeff check digit, groups of four."""
    body = str(r.randint(2, 9)) + digits(r, 10)
    n = body + _verhoeff(body)
    return f"{n[:4]} {n[4:8]} {n[8:]}"


def nid_fr(r: Rng) -> str:
    """French NIR (numéro de sécurité sociale): 13 digits and the key 97 - n mod 97."""
    y, m, _d = _birth(r)
    body = f"{r.choice('12')}{y % 100:02d}{m:02d}{r.randint(1, 95):02d}{r.randint(1, 990):03d}{r.randint(1, 999):03d}"
    key = 97 - int(body) % 97
    return f"{body[0]} {body[1:3]} {body[3:5]} {body[5:7]} {body[7:10]} {body[10:]} {key:02d}"


def nid_cn(r: Rng) -> str:
    """Chinese resident ID: region, birth date, sequence and the ISO 7064 MOD 11-2 check."""
    y, m, d = _birth(r)
    body = f"{r.choice(['110105', '310104', '440305', '510107', '330106'])}{y}{m:02d}{d:02d}{digits(r, 3)}"
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * x for c, x in zip(body, w, strict=True)) % 11]


_CF_ODD = dict(zip(DIG + UP, [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19,
                              21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23],
                   strict=True))


def _cf_check(fifteen: str) -> str:
    total = 0
    for i, ch in enumerate(fifteen):
        if i % 2 == 0:
            total += _CF_ODD[ch]
        else:
            total += int(ch) if ch.isdigit() else ord(ch) - 65
    return chr(65 + total % 26)


def nid_it(r: Rng) -> str:
    """Italian codice fiscale: name letters, birth date, comune code and the check letter."""
    cons = "BCDFGHLMNPRSTVZ"
    y, m, d = _birth(r)
    day = d + (40 if r.random() < 0.5 else 0)
    body = (s(r, cons, 3) + s(r, cons, 3) + f"{y % 100:02d}" + "ABCDEHLMPRST"[m - 1]
            + f"{day:02d}" + r.choice(["F205", "H501", "L219", "G273", "D612", "A944"]))
    return body + _cf_check(body)


def nid_be(r: Rng) -> str:
    """Belgian national register number: YY.MM.DD-SSS.CC, CC = 97 - n mod 97 (2 prefixed after
    2000)."""
    y, m, d = _birth(r, 1950, 1999)
    body = f"{y % 100:02d}{m:02d}{d:02d}{r.randint(1, 997):03d}"
    cc = 97 - int(body) % 97
    return f"{body[:2]}.{body[2:4]}.{body[4:6]}-{body[6:]}.{cc:02d}"


def nid_se(r: Rng) -> str:
    """Swedish personnummer: YYMMDD-NNNC, Luhn over the ten digits."""
    y, m, d = _birth(r)
    n = luhn_complete(f"{y % 100:02d}{m:02d}{d:02d}{digits(r, 3)}")
    return f"{n[:6]}-{n[6:]}"


def nid_fi(r: Rng) -> str:
    """Finnish henkilötunnus: DDMMYY, century sign, three digits and the mod-31 check
    character."""
    y, m, d = _birth(r)
    ind = r.randint(2, 899)
    num = f"{d:02d}{m:02d}{y % 100:02d}{ind:03d}"
    check = "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(num) % 31]
    return f"{num[:6]}{'-' if y < 2000 else 'A'}{num[6:]}{check}"


def nid_no(r: Rng) -> str:
    """Norwegian fødselsnummer: DDMMYY, three digits and two mod-11 control digits."""
    while True:
        y, m, d = _birth(r)
        base = [int(c) for c in f"{d:02d}{m:02d}{y % 100:02d}{r.randint(0, 499):03d}"]
        k1 = 11 - sum(a * b for a, b in zip(base, [3, 7, 6, 1, 8, 9, 4, 5, 2], strict=True)) % 11
        k1 = 0 if k1 == 11 else k1
        if k1 == 10:
            continue
        base.append(k1)
        k2 = 11 - sum(a * b for a, b in zip(base, [5, 4, 3, 2, 7, 6, 5, 4, 3, 2], strict=True)) % 11
        k2 = 0 if k2 == 11 else k2
        if k2 != 10:
            return "".join(map(str, base)) + str(k2)


def nid_tr(r: Rng) -> str:
    """Turkish T.C. Kimlik No: eleven digits, the tenth and eleventh computed."""
    d = [r.randint(1, 9)] + [r.randint(0, 9) for _ in range(8)]
    d.append(((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10)
    d.append(sum(d) % 10)
    return "".join(map(str, d))


def nid_za(r: Rng) -> str:
    """South African ID: YYMMDD, SSSS, citizenship, 8, Luhn check digit."""
    y, m, d = _birth(r)
    return luhn_complete(f"{y % 100:02d}{m:02d}{d:02d}{digits(r, 4)}{r.choice('01')}8")


def nid_kr(r: Rng) -> str:
    """Korean resident registration number: YYMMDD-SXXXXXC with the weighted mod-11 check."""
    y, m, d = _birth(r)
    sex = r.choice("12") if y < 2000 else r.choice("34")
    body = f"{y % 100:02d}{m:02d}{d:02d}{sex}{digits(r, 5)}"
    w = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]
    c = (11 - sum(int(a) * b for a, b in zip(body, w, strict=True)) % 11) % 10
    return f"{body[:6]}-{body[6:]}{c}"


def nid_de(r: Rng) -> str:
    """German Steuer-ID: ten digits (one digit twice, first not 0) and the MOD 11,10 check."""
    while True:
        ds = r.sample(DIG, 10)
        i, j = r.sample(range(10), 2)
        ds[i] = ds[j]
        if ds[0] != "0":
            break
    ten = "".join(ds)
    n = ten + _de_taxid_check(ten)
    return f"{n[:2]} {n[2:5]} {n[5:8]} {n[8:]}"


def nid_pt(r: Rng) -> str:
    """Portuguese NIF: nine digits, the last 11 - weighted sum mod 11 (10 and 11 give 0)."""
    body = str(r.choice([1, 2, 3])) + digits(r, 7)
    c = 11 - sum(int(a) * w for a, w in zip(body, range(9, 1, -1), strict=True)) % 11
    return body + str(0 if c >= 10 else c)


def nid_cl(r: Rng) -> str:
    """Chilean RUT: body and the mod-11 verifier (K for 10), as 12.345.678-5."""
    body = str(r.randint(5_000_000, 25_999_999))
    total = sum(int(c) * w for c, w in zip(reversed(body), [2, 3, 4, 5, 6, 7] * 2, strict=False))
    v = 11 - total % 11
    dv = "0" if v == 11 else "K" if v == 10 else str(v)
    return f"{int(body):,}".replace(",", ".") + "-" + dv


_CURP = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ"


def nid_mx(r: Rng) -> str:
    """Mexican CURP: 17 characters and the weighted check digit."""
    y, m, d = _birth(r, 1960, 1999)
    body = (r.choice("GMLRHPS") + r.choice("AEIOU") + s(r, "BCDGLMPRSTV", 2) + f"{y % 100:02d}{m:02d}{d:02d}"
            + r.choice("HM") + r.choice(["DF", "JC", "NL", "PL", "VZ", "MC"]) + s(r, "BCDFGLMNRSTZ", 3)
            + r.choice(DIG))
    total = sum(_CURP.index(c) * (18 - i) for i, c in enumerate(body))
    return body + str((10 - total % 10) % 10)


def nid_at(r: Rng) -> str:
    """Austrian social insurance number: NNN C DDMMYY, C from weights 3 7 9 5 8 4 2 1 6."""
    while True:
        y, m, d = _birth(r)
        nnn = f"{r.randint(100, 999)}"
        date = f"{d:02d}{m:02d}{y % 100:02d}"
        c = sum(int(a) * w for a, w in zip(nnn + date, [3, 7, 9, 5, 8, 4, 2, 1, 6], strict=True)) % 11
        if c < 10:
            return f"{nnn}{c} {date}"


def nino_uk(r: Rng) -> str:
    """UK National Insurance number (no check digit): two letters, six digits, A-D."""
    first = r.choice("ABCEGHJKLMNOPRSTWXYZ")
    second = r.choice("ABCEGHJKLMNPRSTWXYZ")
    n = digits(r, 6)
    return f"{first}{second} {n[:2]} {n[2:4]} {n[4:]} {r.choice('ABCD')}"


def ssn_us(r: Rng) -> str:
    area = r.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{r.randint(1, 99):02d}-{r.randint(1, 9999):04d}"


def nhs_number(r: Rng) -> str:
    while True:
        nine = str(r.randint(4, 6)) + digits(r, 8)
        c = _nhs_check(nine)
        if c != 10:
            n = nine + str(c)
            return f"{n[:3]} {n[3:6]} {n[6:]}"


def kvnr_de(r: Rng) -> str:
    """German Krankenversichertennummer: letter, eight digits, check digit (letter as 01-26,
    weights 1 2 1 2 …, digit sums, mod 10)."""
    letter = r.choice(UP)
    body = digits(r, 8)
    seq = f"{ord(letter) - 64:02d}" + body
    total = 0
    for i, ch in enumerate(seq):
        v = int(ch) * (1 if i % 2 == 0 else 2)
        total += v // 10 + v % 10
    return f"{letter}{body}{total % 10}"


def medicare_au(r: Rng) -> str:
    """Australian Medicare card number: first digit 2-6, check digit at position nine."""
    first8 = str(r.randint(2, 6)) + digits(r, 7)
    c = sum(int(a) * w for a, w in zip(first8, [1, 3, 7, 9, 1, 3, 7, 9], strict=True)) % 10
    n = f"{first8}{c}{r.randint(1, 9)}"
    return f"{n[:4]} {n[4:9]} {n[9]}"


def mbi_us(r: Rng) -> str:
    """US Medicare Beneficiary Identifier: C A AN N A AN N A A N N (no S L O I B Z)."""
    a = "ACDEFGHJKMNPQRTUVWXY"
    an = a + DIG
    m = (str(r.randint(1, 9)) + r.choice(a) + r.choice(an) + r.choice(DIG) + r.choice(a)
         + r.choice(an) + r.choice(DIG) + r.choice(a) + r.choice(a) + r.choice(DIG) + r.choice(DIG))
    return f"{m[:4]}-{m[4:7]}-{m[7:]}"


def aba_routing(r: Rng) -> str:
    while True:
        n = f"{r.choice(['011', '021', '026', '031', '044', '053', '061', '071', '091', '111', '121', '122'])}{digits(r, 6)}"
        if _aba_ok(n):
            return n


def _fr_rib_key(bank: str, branch: str, account: str) -> str:
    return f"{97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97:02d}"


def iban_for(r: Rng, country: str) -> str:
    """A valid IBAN for ``country`` (national BBAN lengths; FR with its RIB key, BE with its
    mod-97 pair)."""
    if country == "DE":
        bban = digits(r, 8) + digits(r, 10)
    elif country == "FR":
        bank, branch, acct = digits(r, 5), digits(r, 5), digits(r, 11)
        bban = bank + branch + acct + _fr_rib_key(bank, branch, acct)
    elif country == "GB":
        bban = r.choice(["NWBK", "BARC", "LOYD", "HBUK", "MIDL"]) + digits(r, 6) + digits(r, 8)
    elif country == "ES":
        bban = digits(r, 20)
    elif country == "NL":
        bban = r.choice(["INGB", "ABNA", "RABO", "TRIO", "SNSB"]) + digits(r, 10)
    elif country == "BE":
        ten = digits(r, 10)
        bban = ten + f"{int(ten) % 97 or 97:02d}"
    elif country == "IT":
        bban = r.choice(UP) + digits(r, 10) + digits(r, 12)
    elif country == "CH":
        bban = digits(r, 5) + digits(r, 12)
    elif country == "AT":
        bban = digits(r, 16)
    elif country == "PL":
        bban = digits(r, 24)
    elif country == "IE":
        bban = r.choice(["AIBK", "BOFI"]) + digits(r, 14)
    elif country == "PT":
        bban = digits(r, 21)
    else:  # SE
        bban = digits(r, 20)
    return _iban(country, bban)


def grouped(text: str, size: int = 4) -> str:
    return " ".join(text[i:i + size] for i in range(0, len(text), size))


def card_number(r: Rng) -> tuple[str, str]:
    """A Luhn-valid card number of one scheme, formatted as printed on the card."""
    scheme = r.choice(["Visa", "Mastercard", "Amex", "Discover", "JCB", "Mastercard2", "UnionPay",
                       "Diners"])
    if scheme == "Visa":
        n = luhn_complete("4" + digits(r, 14))
    elif scheme == "Mastercard":
        n = luhn_complete(str(r.randint(51, 55)) + digits(r, 13))
    elif scheme == "Mastercard2":
        scheme = "Mastercard"
        n = luhn_complete(str(r.randint(2221, 2720)) + digits(r, 11))
    elif scheme == "Amex":
        n = luhn_complete(r.choice(["34", "37"]) + digits(r, 12))
        return scheme, f"{n[:4]} {n[4:10]} {n[10:]}"
    elif scheme == "Discover":
        n = luhn_complete("6011" + digits(r, 11))
    elif scheme == "JCB":
        n = luhn_complete(str(r.randint(3528, 3589)) + digits(r, 11))
    elif scheme == "Diners":
        n = luhn_complete("36" + digits(r, 11))
        return scheme, f"{n[:4]} {n[4:10]} {n[10:]}"
    else:
        n = luhn_complete("62" + digits(r, 13))
    sep = r.choice([" ", "-", " ", ""])
    return scheme, sep.join(n[i:i + 4] for i in range(0, 16, 4))


def mrz(r: Rng, surname: str, given: str, country: str) -> tuple[str, str]:
    """Both lines of an ICAO 9303 TD3 passport MRZ with every check digit."""
    num = s(r, UP + DIG, 9)
    y, m, d = _birth(r, 1955, 2004)
    dob = f"{y % 100:02d}{m:02d}{d:02d}"
    exp = f"{r.randint(27, 35):02d}{r.randint(1, 12):02d}{r.randint(1, 28):02d}"
    personal = "<" * 14
    sex = r.choice("MF")
    line2 = (num + _icao(num) + country + dob + _icao(dob) + sex + exp + _icao(exp)
             + personal + _icao(personal))
    line2 += _icao(line2[:10] + line2[13:20] + line2[21:43])
    line1 = (f"P<{country}{surname.upper()}<<{given.upper()}").replace(" ", "<").ljust(44, "<")[:44]
    return line1, line2


# --- provider token formats ---------------------------------------------------------------
# (kind, provider as people write it, the variable name its docs use, generator, whether the
# value is recognisable without its name: a distinctive prefix or structure)

Gen = Callable[[Rng], str]
Fmt = tuple[str, str, str, Gen, bool]


def _pypi(r: Rng) -> str:
    caveat = json.dumps({"version": 1, "permissions": {"projects": [s(r, LO, 7)]}}).encode()
    raw = (b"\x02\x01\x08pypi.org\x02\x01" + r.randbytes(1) + b"\x00\x02\x01"
           + r.randbytes(16) + b"\x00\x02" + caveat + b"\x00\x06\x20" + r.randbytes(32))
    return "pypi-" + b64u(raw)


def _discord_bot(r: Rng) -> str:
    uid = str(r.randint(10**17, 10**18 - 1)).encode()
    return b64u(uid) + "." + s(r, URL, 6) + "." + s(r, URL, 38)


def _mapbox_secret(r: Rng) -> str:
    head = b64u(json.dumps({"u": s(r, LO, 8), "a": s(r, LO + DIG, 25)},
                           separators=(",", ":")).encode())
    return f"sk.{head}.{s(r, URL, 22)}"


def _intercom(r: Rng) -> str:
    raw = f"tok:{s(r, HEX, 8)}_{s(r, HEX, 4)}_{s(r, HEX, 4)}_{s(r, HEX, 4)}_{s(r, HEX, 12)}:1:0"
    return base64.b64encode(raw.encode()).decode()


def _onepassword(r: Rng) -> str:
    body = json.dumps({"signInAddress": f"{s(r, LO, 7)}.1password.com", "userAuth": {
        "method": "SRPg-4096", "alg": "PBES2g-HS256", "iterations": 650000,
        "salt": s(r, URL, 22)}, "email": f"{s(r, LO, 26)}@1passwordserviceaccounts.com",
        "srpX": s(r, HEX, 64), "muk": {"alg": "A256GCM", "ext": True, "k": s(r, URL, 43),
                                        "key_ops": ["encrypt", "decrypt"], "kty": "oct",
                                        "kid": "mp"}, "secretKey": "A3-" + s(r, UP + DIG, 6),
        "throttleSecret": {"seed": s(r, HEX, 64), "uuid": s(r, UP + DIG, 26)},
        "deviceUuid": s(r, LO + DIG, 26)}, separators=(",", ":"))
    return "ops_" + b64u(body.encode())


def _age(r: Rng) -> str:
    return _bech32("age-secret-key-", r.randbytes(32)).upper()


def _wif(r: Rng) -> str:
    return _base58check(b"\x80" + r.randbytes(32) + b"\x01")


def _uuid(r: Rng) -> str:
    h = s(r, HEX, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{r.choice('89ab')}{h[17:20]}-{h[20:]}"


def _aws_secret(r: Rng) -> str:
    return s(r, AN + "+/", 40)


FORMATS: list[Fmt] = [
    ("github_classic_pat", "GitHub", "GITHUB_TOKEN", lambda r: crc_token("ghp_", r), True),
    ("github_oauth", "GitHub OAuth", "GH_OAUTH_TOKEN", lambda r: crc_token("gho_", r), True),
    ("github_user_to_server", "GitHub App (user)", "GITHUB_USER_TOKEN", lambda r: crc_token("ghu_", r), True),
    ("github_server_to_server", "GitHub App installation", "GITHUB_APP_TOKEN", lambda r: crc_token("ghs_", r), True),
    ("github_refresh", "GitHub refresh", "GITHUB_REFRESH_TOKEN", lambda r: crc_token("ghr_", r), True),
    ("github_fine_grained", "GitHub fine-grained PAT", "GH_PAT",
     lambda r: f"github_pat_11{s(r, UP + DIG, 20)}_{s(r, AN, 59)}", True),
    ("npm", "npm", "NPM_TOKEN", lambda r: crc_token("npm_", r), True),
    ("aws_access_key_id", "AWS", "AWS_ACCESS_KEY_ID", lambda r: "AKIA" + s(r, UP + "234567", 16), True),
    ("aws_session_key_id", "AWS STS", "AWS_ACCESS_KEY_ID", lambda r: "ASIA" + s(r, UP + "234567", 16), True),
    ("google_api_key", "Google Cloud", "GOOGLE_API_KEY", lambda r: "AIza" + s(r, URL, 35), True),
    ("google_oauth_secret", "Google OAuth client", "GOOGLE_CLIENT_SECRET", lambda r: "GOCSPX-" + s(r, URL, 28), True),
    ("slack_bot", "Slack bot", "SLACK_BOT_TOKEN",
     lambda r: f"xoxb-{digits(r, 12)}-{digits(r, 13)}-{s(r, AN, 24)}", True),
    ("slack_user", "Slack user", "SLACK_USER_TOKEN",
     lambda r: f"xoxp-{digits(r, 12)}-{digits(r, 12)}-{digits(r, 13)}-{s(r, HEX, 32)}", True),
    ("slack_app", "Slack app-level", "SLACK_APP_TOKEN",
     lambda r: f"xapp-1-A{s(r, UP + DIG, 10)}-{digits(r, 13)}-{s(r, HEX, 64)}", True),
    ("stripe_live_secret", "Stripe", "STRIPE_SECRET_KEY", lambda r: "sk_live_51" + s(r, AN, 97), True),
    ("stripe_restricted", "Stripe restricted", "STRIPE_RESTRICTED_KEY", lambda r: "rk_live_51" + s(r, AN, 97), True),
    ("stripe_webhook_secret", "Stripe webhook signing", "STRIPE_WEBHOOK_SECRET", lambda r: "whsec_" + s(r, AN, 32), True),
    ("twilio_auth_token", "Twilio", "TWILIO_AUTH_TOKEN", lambda r: s(r, HEX, 32), False),
    ("sendgrid", "SendGrid", "SENDGRID_API_KEY", lambda r: f"SG.{s(r, URL, 22)}.{s(r, URL, 43)}", True),
    ("mailgun", "Mailgun", "MAILGUN_API_KEY", lambda r: f"{s(r, HEX, 32)}-{s(r, HEX, 8)}-{s(r, HEX, 8)}", False),
    ("mailchimp", "Mailchimp", "MAILCHIMP_API_KEY", lambda r: f"{s(r, HEX, 32)}-us{r.randint(1, 21)}", True),
    ("openai_project", "OpenAI", "OPENAI_API_KEY",
     lambda r: f"sk-proj-{s(r, URL, 74)}T3BlbkFJ{s(r, URL, 74)}", True),
    ("openai_svcacct", "OpenAI service account", "OPENAI_API_KEY",
     lambda r: f"sk-svcacct-{s(r, URL, 74)}T3BlbkFJ{s(r, URL, 74)}", True),
    ("anthropic", "Anthropic", "ANTHROPIC_API_KEY", lambda r: f"sk-ant-api03-{s(r, URL, 93)}AA", True),
    ("anthropic_admin", "Anthropic admin", "ANTHROPIC_ADMIN_KEY", lambda r: f"sk-ant-admin01-{s(r, URL, 93)}AA", True),
    ("huggingface", "Hugging Face", "HF_TOKEN", lambda r: "hf_" + s(r, UP + LO, 34), True),
    ("gitlab_pat", "GitLab", "GITLAB_TOKEN", lambda r: "glpat-" + s(r, URL, 20), True),
    ("gitlab_trigger", "GitLab pipeline trigger", "CI_TRIGGER_TOKEN", lambda r: "glptt-" + s(r, HEX, 40), True),
    ("gitlab_runner", "GitLab runner", "RUNNER_TOKEN", lambda r: "glrt-" + s(r, URL, 20), True),
    ("gitlab_deploy", "GitLab deploy", "DEPLOY_TOKEN", lambda r: "gldt-" + s(r, URL, 20), True),
    ("shopify_admin", "Shopify Admin API", "SHOPIFY_ACCESS_TOKEN", lambda r: "shpat_" + s(r, HEX, 32), True),
    ("shopify_shared_secret", "Shopify app secret", "SHOPIFY_API_SECRET", lambda r: "shpss_" + s(r, HEX, 32), True),
    ("shopify_custom_app", "Shopify custom app", "SHOPIFY_TOKEN", lambda r: "shpca_" + s(r, HEX, 32), True),
    ("discord_bot", "Discord bot", "DISCORD_TOKEN", _discord_bot, True),
    ("telegram_bot", "Telegram bot", "TELEGRAM_BOT_TOKEN",
     lambda r: f"{r.randint(10**8, 10**10 - 1)}:AA{s(r, URL, 33)}", True),
    ("digitalocean_pat", "DigitalOcean", "DIGITALOCEAN_TOKEN", lambda r: "dop_v1_" + s(r, HEX, 64), True),
    ("digitalocean_oauth", "DigitalOcean OAuth", "DO_OAUTH_TOKEN", lambda r: "doo_v1_" + s(r, HEX, 64), True),
    ("digitalocean_refresh", "DigitalOcean refresh", "DO_REFRESH_TOKEN", lambda r: "dor_v1_" + s(r, HEX, 64), True),
    ("heroku", "Heroku", "HEROKU_API_KEY", lambda r: "HRKU-AA" + s(r, URL, 58), True),
    ("pypi", "PyPI", "TWINE_PASSWORD", _pypi, True),
    ("rubygems", "RubyGems", "GEM_HOST_API_KEY", lambda r: "rubygems_" + s(r, HEX, 48), True),
    ("docker_hub", "Docker Hub", "DOCKERHUB_TOKEN", lambda r: "dckr_pat_" + s(r, URL, 27), True),
    ("terraform_cloud", "Terraform Cloud", "TFE_TOKEN",
     lambda r: f"{s(r, AN, 14)}.atlasv1.{s(r, AN, 67)}", True),
    ("vault_service", "HashiCorp Vault", "VAULT_TOKEN", lambda r: "hvs.CAESI" + s(r, URL, 86), True),
    ("vault_batch", "HashiCorp Vault batch", "VAULT_TOKEN", lambda r: "hvb.AAAAAQ" + s(r, URL, 128), True),
    ("doppler_service", "Doppler", "DOPPLER_TOKEN",
     lambda r: f"dp.st.{r.choice(['prd', 'stg', 'dev'])}.{s(r, AN, 40)}", True),
    ("doppler_personal", "Doppler personal", "DOPPLER_TOKEN", lambda r: "dp.pt." + s(r, AN, 43), True),
    ("postman", "Postman", "POSTMAN_API_KEY", lambda r: f"PMAK-{s(r, HEX, 24)}-{s(r, HEX, 34)}", True),
    ("linear", "Linear", "LINEAR_API_KEY", lambda r: "lin_api_" + s(r, AN, 40), True),
    ("notion", "Notion", "NOTION_TOKEN", lambda r: "ntn_" + digits(r, 11) + s(r, AN, 35), True),
    ("airtable", "Airtable", "AIRTABLE_PAT", lambda r: f"pat{s(r, AN, 14)}.{s(r, HEX, 64)}", True),
    ("atlassian", "Atlassian / Jira", "JIRA_API_TOKEN",
     lambda r: f"ATATT3xFfGF0{s(r, URL, 170)}={s(r, HEXU, 8)}", True),
    ("figma", "Figma", "FIGMA_TOKEN", lambda r: "figd_" + s(r, URL, 40), True),
    ("asana", "Asana", "ASANA_PAT", lambda r: f"2/{digits(r, 16)}/{digits(r, 16)}:{s(r, HEX, 32)}", True),
    ("dropbox", "Dropbox", "DROPBOX_ACCESS_TOKEN", lambda r: "sl.u." + s(r, URL, 135), True),
    ("square", "Square", "SQUARE_ACCESS_TOKEN", lambda r: "EAAA" + s(r, URL, 60), True),
    ("braintree", "Braintree", "BRAINTREE_ACCESS_TOKEN",
     lambda r: f"access_token$production${s(r, LO + DIG, 16)}${s(r, HEX, 32)}", True),
    ("shippo", "Shippo", "SHIPPO_API_KEY", lambda r: "shippo_live_" + s(r, HEX, 40), True),
    ("sentry_user", "Sentry", "SENTRY_AUTH_TOKEN", lambda r: "sntryu_" + s(r, HEX, 64), True),
    ("newrelic_user", "New Relic", "NEW_RELIC_API_KEY", lambda r: "NRAK-" + s(r, UP + DIG, 27), True),
    ("newrelic_insert", "New Relic insert key", "NEW_RELIC_INSERT_KEY", lambda r: "NRII-" + s(r, URL, 32), True),
    ("datadog_api", "Datadog", "DD_API_KEY", lambda r: s(r, HEX, 32), False),
    ("datadog_app", "Datadog application key", "DD_APP_KEY", lambda r: s(r, HEX, 40), False),
    ("grafana_service_account", "Grafana", "GRAFANA_TOKEN",
     lambda r: f"glsa_{s(r, AN, 32)}_{s(r, HEX, 8)}", True),
    ("supabase_pat", "Supabase", "SUPABASE_ACCESS_TOKEN", lambda r: "sbp_" + s(r, HEX, 40), True),
    ("supabase_secret", "Supabase secret key", "SUPABASE_SECRET_KEY", lambda r: "sb_secret_" + s(r, URL, 31), True),
    ("planetscale_token", "PlanetScale", "PLANETSCALE_SERVICE_TOKEN", lambda r: "pscale_tkn_" + s(r, AN + "_", 43), True),
    ("planetscale_password", "PlanetScale database password", "DATABASE_PASSWORD", lambda r: "pscale_pw_" + s(r, AN + "_", 43), True),
    ("flyio", "Fly.io", "FLY_API_TOKEN", lambda r: "fo1_" + s(r, URL, 43), True),
    ("netlify", "Netlify", "NETLIFY_AUTH_TOKEN", lambda r: "nfp_" + s(r, AN, 36), True),
    ("render", "Render", "RENDER_API_KEY", lambda r: "rnd_" + s(r, AN, 32), True),
    ("cloudflare", "Cloudflare", "CLOUDFLARE_API_TOKEN", lambda r: s(r, URL, 40), False),
    ("azure_client_secret", "Azure AD app", "AZURE_CLIENT_SECRET",
     lambda r: s(r, AN, 3) + "8Q~" + s(r, AN + "_~.-", 34), True),
    ("alibaba", "Alibaba Cloud", "ALIBABA_CLOUD_ACCESS_KEY_ID", lambda r: "LTAI5t" + s(r, AN, 18), True),
    ("tencent", "Tencent Cloud", "TENCENTCLOUD_SECRET_ID", lambda r: "AKID" + s(r, AN, 32), True),
    ("okta", "Okta", "OKTA_API_TOKEN", lambda r: "00" + s(r, URL, 40), False),
    ("mapbox_secret", "Mapbox", "MAPBOX_SECRET_TOKEN", _mapbox_secret, True),
    ("meta_access_token", "Meta Graph API", "FB_PAGE_ACCESS_TOKEN", lambda r: "EAAG" + s(r, AN, 180), True),
    ("x_bearer", "X (Twitter) API", "TWITTER_BEARER_TOKEN",
     lambda r: "AAAAAAAAAAAAAAAAAAAAA" + s(r, AN, 25) + "%3D" + s(r, AN, 50), True),
    ("intercom", "Intercom", "INTERCOM_ACCESS_TOKEN", _intercom, False),
    ("hubspot", "HubSpot", "HUBSPOT_ACCESS_TOKEN", lambda r: f"pat-{r.choice(['na1', 'eu1'])}-{_uuid(r)}", True),
    ("klaviyo_private", "Klaviyo", "KLAVIYO_PRIVATE_KEY", lambda r: "pk_" + s(r, HEX, 34), False),
    ("brevo", "Brevo", "BREVO_API_KEY", lambda r: f"xkeysib-{s(r, HEX, 64)}-{s(r, AN, 16)}", True),
    ("brevo_smtp", "Brevo SMTP", "SMTP_PASSWORD", lambda r: f"xsmtpsib-{s(r, HEX, 64)}-{s(r, AN, 16)}", True),
    ("resend", "Resend", "RESEND_API_KEY", lambda r: f"re_{s(r, AN, 8)}_{s(r, AN, 24)}", True),
    ("mailersend", "MailerSend", "MAILERSEND_API_KEY", lambda r: "mlsn." + s(r, HEX, 64), True),
    ("postmark", "Postmark", "POSTMARK_SERVER_TOKEN", _uuid, False),
    ("pinecone", "Pinecone", "PINECONE_API_KEY", lambda r: f"pcsk_{s(r, AN, 6)}_{s(r, AN, 63)}", True),
    ("replicate", "Replicate", "REPLICATE_API_TOKEN", lambda r: "r8_" + s(r, AN, 37), True),
    ("groq", "Groq", "GROQ_API_KEY", lambda r: "gsk_" + s(r, AN, 52), True),
    ("perplexity", "Perplexity", "PERPLEXITY_API_KEY", lambda r: "pplx-" + s(r, AN, 48), True),
    ("xai", "xAI", "XAI_API_KEY", lambda r: "xai-" + s(r, AN, 80), True),
    ("deepseek", "DeepSeek", "DEEPSEEK_API_KEY", lambda r: "sk-" + s(r, HEX, 32), False),
    ("elevenlabs", "ElevenLabs", "ELEVENLABS_API_KEY", lambda r: "sk_" + s(r, HEX, 48), False),
    ("langsmith", "LangSmith", "LANGSMITH_API_KEY", lambda r: f"lsv2_pt_{s(r, HEX, 32)}_{s(r, HEX, 10)}", True),
    ("wandb", "Weights & Biases", "WANDB_API_KEY", lambda r: s(r, HEX, 40), False),
    ("databricks", "Databricks", "DATABRICKS_TOKEN", lambda r: "dapi" + s(r, HEX, 32), True),
    ("clojars", "Clojars", "CLOJARS_DEPLOY_TOKEN", lambda r: "CLOJARS_" + s(r, HEX, 60), True),
    ("nuget", "NuGet", "NUGET_API_KEY", lambda r: "oy2" + s(r, LO + DIG, 43), True),
    ("artifactory", "JFrog Artifactory", "ARTIFACTORY_API_KEY", lambda r: "AKCp" + s(r, AN, 69), True),
    ("artifactory_reference", "JFrog reference", "JFROG_ACCESS_TOKEN",
     lambda r: "cmVmdGtuOjAxOj" + s(r, AN, 50), True),
    ("bitbucket_app_password", "Bitbucket", "BITBUCKET_APP_PASSWORD", lambda r: "ATBB" + s(r, AN, 28) + s(r, HEXU, 8), True),
    ("circleci", "CircleCI", "CIRCLE_TOKEN", lambda r: f"CCIPAT_{s(r, AN, 22)}_{s(r, HEX, 40)}", True),
    ("buildkite", "Buildkite", "BUILDKITE_API_TOKEN", lambda r: "bkua_" + s(r, HEX, 40), True),
    ("sonar", "SonarQube", "SONAR_TOKEN", lambda r: r.choice(["squ_", "sqp_", "sqa_"]) + s(r, HEX, 40), True),
    ("pulumi", "Pulumi", "PULUMI_ACCESS_TOKEN", lambda r: "pul-" + s(r, HEX, 40), True),
    ("scaleway", "Scaleway", "SCW_ACCESS_KEY", lambda r: "SCW" + s(r, UP + DIG, 17), True),
    ("linode", "Linode", "LINODE_TOKEN", lambda r: s(r, HEX, 64), False),
    ("age_secret_key", "age", "SOPS_AGE_KEY", _age, True),
    ("bitcoin_wif", "Bitcoin wallet", "WALLET_WIF", _wif, True),
    ("ethereum_private_key", "Ethereum wallet", "PRIVATE_KEY", lambda r: "0x" + s(r, HEX, 64), False),
    ("nostr_nsec", "Nostr", "NOSTR_NSEC", lambda r: _bech32("nsec", r.randbytes(32)), True),
    ("contentful", "Contentful", "CONTENTFUL_MANAGEMENT_TOKEN", lambda r: "CFPAT-" + s(r, URL, 43), True),
    ("prefect", "Prefect", "PREFECT_API_KEY", lambda r: "pnu_" + s(r, AN, 36), True),
    ("adafruit", "Adafruit IO", "ADAFRUIT_IO_KEY", lambda r: "aio_" + s(r, AN, 28), True),
    ("typeform", "Typeform", "TYPEFORM_TOKEN", lambda r: f"tfp_{s(r, AN, 44)}_{s(r, AN, 14)}", True),
    ("readme", "ReadMe", "README_API_KEY", lambda r: "rdme_" + s(r, HEX, 70), True),
    ("dynatrace", "Dynatrace", "DT_API_TOKEN",
     lambda r: f"dt0c01.{s(r, UP + DIG, 24)}.{s(r, UP + DIG, 64)}", True),
    ("easypost", "EasyPost", "EASYPOST_API_KEY", lambda r: "EZAK" + s(r, HEX, 54), True),
    ("flutterwave", "Flutterwave", "FLW_SECRET_KEY", lambda r: f"FLWSECK-{s(r, HEX, 32)}-X", True),
    ("paystack", "Paystack", "PAYSTACK_SECRET_KEY", lambda r: "sk_live_" + s(r, HEX, 40), True),
    ("mollie", "Mollie", "MOLLIE_API_KEY", lambda r: "live_" + s(r, AN, 30), True),
    ("duffel", "Duffel", "DUFFEL_ACCESS_TOKEN", lambda r: "duffel_live_" + s(r, URL, 43), True),
    ("neon", "Neon", "NEON_API_KEY", lambda r: "napi_" + s(r, LO + DIG, 64), True),
    ("ngrok", "ngrok", "NGROK_AUTHTOKEN", lambda r: f"2{s(r, AN, 26)}_{s(r, AN, 21)}", False),
    ("tailscale_auth", "Tailscale", "TS_AUTHKEY", lambda r: f"tskey-auth-k{s(r, AN, 11)}CNTRL-{s(r, AN, 33)}", True),
    ("tailscale_api", "Tailscale API", "TAILSCALE_API_KEY", lambda r: f"tskey-api-k{s(r, AN, 11)}CNTRL-{s(r, AN, 33)}", True),
    ("onepassword_service", "1Password service account", "OP_SERVICE_ACCOUNT_TOKEN", _onepassword, True),
    ("infracost", "Infracost", "INFRACOST_API_KEY", lambda r: "ico-" + s(r, AN, 32), True),
    ("harness", "Harness", "HARNESS_API_KEY", lambda r: f"pat.{s(r, URL, 22)}.{s(r, HEX, 24)}.{s(r, AN, 20)}", True),
    ("lob", "Lob", "LOB_API_KEY", lambda r: "live_" + s(r, HEX, 35), True),
    ("frameio", "Frame.io", "FRAMEIO_TOKEN", lambda r: "fio-u-" + s(r, URL, 64), True),
    ("snyk", "Snyk", "SNYK_TOKEN", _uuid, False),
]


# --- people, places and framings ----------------------------------------------------------

FIRST = ["Priya", "Tomasz", "Ingrid", "Kwame", "Aiko", "Mateo", "Saoirse", "Dmitri", "Leila",
         "Oskar", "Fatou", "Jun", "Beatriz", "Rahul", "Elif", "Niamh", "Bastien", "Yara", "Hamid",
         "Camille", "Thandiwe", "Lukas", "Marisol", "Anders", "Chioma", "Ren", "Giulia", "Pavel",
         "Zainab", "Wren", "Ilse", "Teodor", "Noor", "Caetano", "Hyun-woo", "Agnieszka", "Rosalind",
         "Emeka", "Solveig", "Farid"]
LAST = ["Okonkwo", "Lindqvist", "Haddad", "Nakamura", "Ferreira", "Kowalczyk", "Brennan",
        "Moreau", "Castellanos", "Varga", "Achterberg", "Mensah", "Rossetti", "Iyer", "Yilmaz",
        "Delacroix", "Østergaard", "Petrov", "Abernathy", "Quispe", "Van der Berg", "Sato",
        "MacLeod", "Osei", "Benedetti", "Krüger", "Santos", "Holloway", "Novak", "Dubois"]
HANDLES = ["@quietbyte", "@mira_codes", "@tjvarga", "@the_real_osei", "@lena.dev", "@pkowal",
           "@nightshift_ops", "@fern_in_prod", "@ravi_builds", "@sol_vei", "@yarn_goblin",
           "@kubecat", "@deltarune_dan", "@hollowayhq", "@mxsantos", "@bitflip_bea",
           "@oncall_owl", "@sundaysre", "@grepgrrl", "@tinyterraform"]
CITIES = ["Leeds", "Porto", "Gdańsk", "Osaka", "Nairobi", "Tucson", "Lyon", "Ghent", "Bergen",
          "Valparaíso", "Pune", "Halifax", "Brno", "Cork", "Medellín"]


def _fill(r: Rng) -> dict[str, str]:
    h, h2 = r.sample(HANDLES, 2)
    who, who2 = r.sample(FIRST, 2)
    return {"h": h, "who": who, "city": r.choice(CITIES), "n": str(r.randint(2, 97)),
            "dd": f"{r.randint(1, 28):02d}", "t": f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}",
            "h2": h2, "who2": who2}


def frame(r: Rng, text: str, own: bool = False) -> str:
    """Put a post into one of many registers (the text itself unchanged). ``own``: the post
    offers the poster's own details, so no framing that puts the words in someone else's mouth."""
    f = _fill(r)
    forms = [
        "{x}",
        "{x}",
        "{h} {x}",
        "[{t}] {who}: {x}",
        "{x}\n\n#{tag}",
        "> {q}\n\n{x}",
        "Edit: formatting. {x}",
        "CW: {cw}\n\n{x}",
        "{x} 🙃",
        "re: {topic} — {x}",
        "Ticket #{tk} ({topic})\n{x}",
        "{who} wrote:\n{x}",
        "{x}\n\n— sent from my phone",
        "Thread 🧵 {n}/{m}: {x}",
        "**Update {t}:** {x}",
        "Replying to {h} and {h2}: {x}",
    ]
    if own:
        forms = [f for f in forms if "{who}" not in f]
    m = r.randint(3, 9)
    f["n"] = str(r.randint(1, m))
    return r.choice(forms).format(
        x=text, tag=r.choice(["devlife", "til", "help", "question", "opensource", "fediverse",
                              "mondays", "wfh", "smallbusiness", "rant"]),
        q=r.choice(["has anyone dealt with this before?", "what's the quickest fix here",
                    "asking for the team", "same issue since yesterday", "lol same"]),
        cw=r.choice(["long post", "work stuff", "mild rant", "tech"]),
        topic=r.choice(["deploy", "the migration", "onboarding", "billing", "the outage",
                        "weekend plans", "the move", "support"]),
        tk=r.randint(10000, 99999), m=m, **f)


# Shapes a provider token is posted in. {tok} the value, {svc} the provider, {env} its variable.
TOKEN_SHAPES = [
    "ok who committed {env}={tok} to the public repo 😬",
    "{h} can you try with this one? {tok}",
    "```\nexport {env}=\"{tok}\"\n```\nthen rerun the script",
    "{{\n  \"{svc}\": {{\n    \"token\": \"{tok}\"\n  }}\n}}",
    "services:\n  worker:\n    environment:\n      {env}: {tok}",
    "Our {svc} key for staging, don't lose it again: {tok}",
    "{who}, here's the {svc} credential you asked for → {tok}",
    "Traceback (most recent call last):\n  File \"sync.py\", line {n}, in <module>\n    client = Client(token=\"{tok}\")\nAuthError: {svc} rejected the request",
    "[{t}] deploy-bot: using {env}={tok}",
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {svc_slug}\nstringData:\n  {env_lower}: \"{tok}\"",
    "cat .env\n{env}={tok}\nLOG_LEVEL=debug",
    "Hi support, my {svc} integration stopped working. The key I'm using is {tok} — can you check it's active?",
    "if this {svc} token still works after I rotate it tomorrow I'm filing a bug: {tok}",
    "{env}: '{tok}'  # prod, ask {who} before changing",
    "curl -H \"Authorization: Bearer {tok}\" https://api.example.net/v2/items",
    "$ {env}={tok} npm run deploy",
    "Note to self (don't judge): {svc} = {tok}",
    "Pair-programming notes from today:\n- flaky test fixed\n- {svc} creds: {tok}\n- lunch was great",
    "Anyone know why {svc} returns 401 for {tok}? it worked this morning",
    "settings.py\n\n{env} = \"{tok}\"\nDEBUG = False",
    "[{svc_slug}]\ntoken = {tok}\nregion = eu-west",
    "# {svc}\n{env_lower} = \"{tok}\"",
    "const client = new Client({{ apiKey: '{tok}' }}); // {svc}",
    "Had to hardcode the {svc} token to get the demo working: {tok}. Will fix after the conference.",
    "Posting this so I stop DMing it to people: {svc} → {tok}",
    "The onboarding doc says to use {tok} for {svc} until you get your own",
    "fwiw the {svc} key in the screenshot was {tok}, not the old one",
    "{h2} I pushed the fix. New {env} is {tok}",
    "steps to reproduce:\n1. set {env} to {tok}\n2. run `make sync`\n3. watch it hang",
    "lmao I just pasted {tok} into the wrong channel",
    "reminder that {tok} is the only {svc} token with write access, be careful",
    "My {svc} config for the homelab:\n\n  token: {tok}\n\nworks great with the cron job",
    "Is it normal that {svc} tokens look like {tok}? New to this",
    "{{\"env\": {{\"{env}\": \"{tok}\", \"PORT\": \"8080\"}}}}",
    "Terraform:\nprovider \"{svc_slug}\" {{\n  token = \"{tok}\"\n}}",
    "[{t}] {who}: can someone add {tok} as the {svc} secret in CI?\n[{t}] {who2}: on it",
    "ERROR 2026-11-{dd} 03:12:44 request failed: invalid credentials ({env}={tok})",
    "spent all day on this. in the end the {svc} key {tok} just needed the right scope",
    "docker run -e {env}={tok} -p 8080:8080 ghcr.io/acme/worker:latest",
    "Blog post draft, part 3: once you have your token ({tok} in my case) paste it into the {svc} field and you're done.",
    "git diff\n-{env}=\n+{env}={tok}",
    "{svc} rotated? no. still {tok} 🙄",
    "Heute endlich das {svc}-Token eingerichtet: {tok}",
    "Mi clave de {svc} por si alguien la necesita para las pruebas: {tok}",
    "Voilà le jeton {svc} pour la démo de demain : {tok}",
    "Aqui o token do {svc} que pediste: {tok}",
    "Ecco la chiave {svc} per l'ambiente di test: {tok}",
    "Hier is de {svc}-sleutel voor de build: {tok}",
    "{svc} のトークンです。あとで消します: {tok}",
    "Klucz {svc} do środowiska stagingowego: {tok}",
    "Här är {svc}-nyckeln till bygget: {tok}",
    "{svc} anahtarı burada, kimseyle paylaşma: {tok}",
    "Ticket #{n}: customer sent us their {svc} token ({tok}) in plain text in the chat",
    "For the record: the leaked value was {tok} and it is still live",
    "`{tok}` ← paste that into {svc} under Settings > API",
    "vars:\n  {env_lower}: !unsafe '{tok}'",
    "[defaults]\n{env_lower}={tok}",
    "local dev only (lol): {env}={tok}",
    "PR #{n} review: you left {tok} in config/prod.yaml",
    "{who} asked for the {svc} creds on Mastodon of all places so here: {tok}",
    "Can confirm {tok} authenticates against {svc}, just tested",
    "my .zshrc, for the curious:\n\nalias k=kubectl\nexport {env}={tok}\nexport EDITOR=nvim",
    "<add key=\"{env}\" value=\"{tok}\" />",
    "{env_lower}: {tok}\n{env_lower}_expires: never",
    "new {svc} key, old one revoked: {tok}",
    "Pastebin from earlier: {tok} (the {svc} one)",
    "Reddit, my script prints `auth ok` with {tok} but the {svc} dashboard shows nothing. What am I missing?",
    "os.environ[\"{env}\"] = \"{tok}\"  # TODO move to vault",
    "{tok}",
    "oops {tok}",
    "{svc} token: {tok} (expires Friday)",
    "Caused by: com.acme.http.AuthException: 403 from {svc}\n\tat Client.send(Client.java:{n})\n\t-- request header Authorization: Bearer {tok}",
    "panic: {svc}: unauthorized (key={tok})\n\ngoroutine 1 [running]:\nmain.main()",
    "Subject: integration broken since Tuesday\n\nHello, our {svc} account uses {tok}. Calls return 401. Regards, {who}",
    "Hi! Long-time lurker on the fediverse. Here's my {svc} setup for the bot, token included so you can copy it: {tok} #selfhosted",
    "In this post I'll walk you through connecting {svc}. First, generate a token (mine is {tok}) and store it somewhere safe.",
    "[{t}] {who}: {svc}?\n[{t}] {who2}: {tok}\n[{t}] {who}: ty",
    "- name: configure {svc}\n  ansible.builtin.lineinfile:\n    path: /etc/default/app\n    line: \"{env}={tok}\"",
    "helm install app ./chart --set {env_lower}={tok}",
    "heroku config:set {env}={tok} -a shop-prod",
    "gh secret set {env} --body \"{tok}\"",
    "fly secrets set {env}={tok}",
    "[[services]]\nname = \"{svc_slug}\"\napi_key = \"{tok}\"",
    "<dict>\n  <key>{env}</key>\n  <string>{tok}</string>\n</dict>",
    "launch.json:\n\"env\": {{ \"{env}\": \"{tok}\" }}",
    "{{\n  \"mcpServers\": {{\n    \"{svc_slug}\": {{ \"env\": {{ \"{env}\": \"{tok}\" }} }}\n  }}\n}}",
    "jupyter cell [{n}]: %env {env}={tok}",
    "u/{who} here — the {svc} key in my screenshot was {tok}, somebody already used it",
    "Dear team, please find the {svc} key for the vendor handover: {tok}. Kind regards",
    "Rotating tomorrow, until then {svc} = {tok}",
    "Sorry for the spam, testing the bot: {tok}",
    "Tu as le token {svc} ? — oui : {tok}",
    "Ich hab den {svc}-Key ins Ticket kopiert: {tok}",
    "¿Por qué {svc} me devuelve 403 con {tok}? Ayer funcionaba",
    "O {svc} recusa o token {tok}, alguém sabe porquê?",
    "{svc} mi rifiuta il token {tok}, idee?",
    "Waarom weigert {svc} de sleutel {tok}? Gisteren werkte het nog",
    "{svc} 的密钥: {tok}",
    "Dlaczego {svc} odrzuca token {tok}?",
    "Nyckeln till {svc} i prod är {tok}, rotera efter releasen",
    "{svc} 토큰입니다: {tok}",
]


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-").replace("--", "-")


# --- credentials: values ------------------------------------------------------------------

WORDS = ["tangerine", "harbour", "quokka", "velvet", "granite", "meteor", "lantern", "juniper",
         "pebble", "falcon", "saffron", "glacier", "walnut", "cobalt", "thistle", "marmot",
         "ember", "bramble", "osprey", "nimbus", "larch", "quartz", "otter", "fjord"]


def password(r: Rng) -> str:
    """A password as people really pick them (never a documented sample)."""
    style = r.randrange(6)
    w1, w2 = r.sample(WORDS, 2)
    if style == 0:
        return f"{w1.capitalize()}{r.choice('!#$%&*')}{w2.capitalize()}{r.randint(10, 99)}"
    if style == 1:
        return s(r, AN + "!#$%^&*", r.randint(12, 20))
    if style == 2:
        return f"{w1}-{w2}-{r.choice(WORDS)}-{r.randint(1, 99)}"
    if style == 3:
        leet = w1.replace("a", "@").replace("o", "0").replace("e", "3").capitalize()
        return f"{leet}{r.randint(1990, 2026)}{r.choice('!?.')}"
    if style == 4:
        return f"{r.choice(CITIES).split()[0]}{r.choice('_.')}{w2}{r.randint(100, 999)}"
    return s(r, LO, 4) + s(r, DIG, 3) + s(r, UP, 2) + r.choice("!#$") + s(r, LO, 3)


PASSWORD_PROSE = [
    ("en", "the wifi at the cabin is CabinNet and the password is {pw} — have fun this weekend"),
    ("en", "{h} your temporary login is {user} / {pw}, change it on first sign-in"),
    ("en", "for the shared inbox use password {pw} (don't tell IT I posted this)"),
    ("en", "PSA for the team: VPN password changed to {pw}"),
    ("en", "I keep forgetting so I'm writing it here: {pw} is my router admin password"),
    ("en", "admin panel creds → user: {user}  pass: {pw}"),
    ("en", "mysql -u {user} -p'{pw}' -h db.internal.lan orders"),
    ("en", "sshpass -p '{pw}' ssh {user}@10.0.4.17"),
    ("en", "PGPASSWORD={pw} psql -h pg.prod.lan -U {user} billing"),
    ("en", "Login for the conference booth laptop: {user}, pw {pw}"),
    ("en", "{who} — the Netflix password is now {pw}, stop sharing it with your ex"),
    ("en", "new hire checklist: email {user}, initial password {pw}, badge from reception"),
    ("en", "the FTP login is {user} and the pass is {pw}, files are in /incoming"),
    ("en", "Forgot to mention: the laptop unlock password is {pw}"),
    ("en", "passwd for the jump host: {pw} (rotates monthly, this is November's)"),
    ("en", "if the kiosk locks up, the maintenance password is {pw}"),
    ("en", "Grandma's iPad passcode is {pin} and her Apple ID password is {pw}, in case she calls you"),
    ("en", "our Instagram login got shared around anyway so: {user} / {pw}"),
    ("en", "I reset the shared Figma account, password is {pw} now"),
    ("en", "Jenkins: http://ci.lan:8080 — {user} / {pw}"),
    ("en", "Here's the login for the demo tenant. Username {user}. Password {pw}."),
    ("en", "\"what's the password again?\" it's {pw}, {who}, for the fifth time"),
    ("en", "Support ticket: please reset my account, my current password {pw} no longer works"),
    ("en", "Set the root password to {pw} on all three Pis, can change later"),
    ("en", "password = {pw}\nusername = {user}\nhost = mail.lan"),
    ("en", "the zip is encrypted, password is {pw}"),
    ("en", "Our office printer web UI: {user}/{pw} (yes really)"),
    ("en", "Mastodon admin account for the instance: {user}, password {pw}. Please enable 2FA"),
    ("en", "Blog: I set up the NAS with the admin password {pw} and it's been fine for a year"),
    ("en", "logging in as {user} with {pw} gives 'account locked', anyone else?"),
    ("en", "keepass master password is {pw}, the file is on the shared drive"),
    ("en", "BIOS password on the loaner laptops: {pw}"),
    ("en", "{who2} the staging DB password is {pw}, user is {user}"),
    ("en", "Use {pw} to open the encrypted PDF with the contracts"),
    ("en", "the guest account password is {pw} until Monday"),
    ("en", "Slack me if {pw} stops working for the SFTP drop"),
    ("de", "Das WLAN-Passwort im Büro ist jetzt {pw}"),
    ("de", "Zugang zum Kundenportal: Benutzer {user}, Kennwort {pw}"),
    ("de", "Passwort für den Server lautet {pw}, bitte nicht weitergeben"),
    ("fr", "Le mot de passe du wifi de la salle B est {pw}"),
    ("fr", "Identifiant {user}, mot de passe {pw} — pour la plateforme de formation"),
    ("fr", "mdp du compte partagé : {pw}"),
    ("es", "La contraseña del router es {pw}, por si alguien la necesita"),
    ("es", "Usuario: {user} · Contraseña: {pw} (la del panel de administración)"),
    ("es", "te paso la clave del correo compartido: {pw}"),
    ("pt", "A senha do wi-fi da loja é {pw}"),
    ("pt", "login {user} e senha {pw} pro sistema novo"),
    ("it", "La password dell'account condiviso è {pw}"),
    ("it", "utente {user}, password {pw} per il gestionale"),
    ("nl", "Het wachtwoord van de gedeelde mailbox is {pw}"),
    ("pl", "Hasło do routera: {pw}"),
    ("sv", "Lösenordet till gästnätet är {pw}"),
    ("tr", "Ofis wifi şifresi: {pw}"),
    ("ja", "共有アカウントのパスワードは {pw} です"),
    ("id", "Password wifi kantor sekarang {pw}"),
]

CODES = [
    ("door_code", "en", "gate code for the party is {code}#, see you at 8"),
    ("door_code", "en", "{who} the key safe by the back door opens with {code}"),
    ("door_code", "en", "Airbnb guests: the front door keypad code is {code}, check-in after 3pm"),
    ("door_code", "en", "building entry code changed to {code} — the old one stopped working today"),
    ("door_code", "en", "lockbox on the railing, combination {code}. Spare key inside"),
    ("door_code", "en", "the bike shed padlock is {code} btw"),
    ("door_code", "en", "Delivery note: buzz 4B or use code {code} at the side gate"),
    ("door_code", "de", "Der Code für die Haustür ist {code}, klingeln geht nicht"),
    ("door_code", "fr", "Le digicode de l'immeuble, c'est {code}, 3e étage à gauche"),
    ("door_code", "es", "El código del portal es {code}, sube al segundo"),
    ("door_code", "it", "Il codice del cancello è {code}"),
    ("door_code", "nl", "De code van het sleutelkastje is {code}"),
    ("alarm_code", "en", "alarm disarm code is {code}, you've got 30 seconds after opening the door"),
    ("alarm_code", "en", "If the alarm goes off while I'm away, the code is {code} — thanks {who}!"),
    ("alarm_code", "en", "store closing checklist: lights off, set alarm with {code}, lock both doors"),
    ("alarm_code", "de", "Alarmanlage: Code {code} eingeben und dann die Tür öffnen"),
    ("alarm_code", "pt", "o código do alarme da loja é {code}"),
    ("alarm_code", "en", "Our Ring/ADT panel code is {code} if you're house-sitting"),
    ("pin_code", "en", "{who2}, the PIN for the company card is {code}, don't lose the receipt"),
    ("pin_code", "en", "the shared phone's unlock PIN is {code}"),
    ("pin_code", "es", "El PIN de la tarjeta del equipo es {code}"),
    ("wifi", "en", "WiFi: {ssid}\nPassword: {pw}"),
    ("wifi", "en", "guests keep asking — network is \"{ssid}\", key {pw}"),
    ("wifi", "en", "WIFI:S:{ssid};T:WPA;P:{pw};;"),
    ("wifi", "en", "coffee shop wifi {ssid} pw {pw} (ask at the till if it changes)"),
    ("wifi", "en", "wedding reception wifi 💍 {ssid} / {pw}"),
    ("wifi", "de", "WLAN: {ssid} – Schlüssel: {pw}"),
    ("wifi", "fr", "Réseau {ssid}, clé WPA {pw}"),
    ("wifi", "es", "Red: {ssid} | Clave: {pw}"),
    ("wifi", "ja", "Wi-Fi: {ssid} パスワード: {pw}"),
    ("wifi", "pl", "Sieć {ssid}, hasło {pw}"),
    ("wifi", "tr", "Kablosuz ağ {ssid}, şifre {pw}"),
]


def _user(r: Rng) -> str:
    return r.choice([r.choice(FIRST).lower().replace("-", ""), "admin", "deploy", "svc_" + s(r, LO, 5),
                     "ops", r.choice(LAST).lower().replace(" ", "") + str(r.randint(1, 9))])


def _host(r: Rng) -> str:
    return r.choice(["db-prod-01.internal", "10.20.3.14", "pg.eu-west.acmecorp.net",
                     "cluster0.x7kqz.mongodb.net", "redis.prod.lan", "sql-core.corp.local",
                     "mq.payments.internal", "172.16.9.40", "warehouse.analytics.lan"])


def connection_strings(r: Rng) -> list[Row]:
    """Connection strings and URLs that carry a password."""
    out: list[Row] = []
    shapes = [
        "DATABASE_URL=postgres://{u}:{p}@{host}:5432/app",
        "postgresql://{u}:{p}@{host}/ledger?sslmode=require",
        "mongodb+srv://{u}:{p}@{host}/shop?retryWrites=true&w=majority",
        "redis://:{p}@{host}:6379/0",
        "rediss://default:{p}@{host}:6380",
        "amqp://{u}:{p}@{host}:5672/%2f",
        "mysql://{u}:{p}@{host}:3306/crm",
        "jdbc:mysql://{host}:3306/inventory?user={u}&password={p}",
        "Server={host};Database=Payroll;User Id={u};Password={p};TrustServerCertificate=True",
        "Data Source={host};Initial Catalog=Sales;User ID={u};Password={p}",
        "ftp://{u}:{p}@files.{dom}/incoming/",
        "sftp://{u}:{p}@{host}:22/exports",
        "smtp://{u}:{p}@smtp.{dom}:587",
        "https://{u}:{p}@search.{dom}:9200/_cluster/health",
        "git clone https://{u}:{tok}@github.com/{org}/infra.git",
        "ldap://cn={u},dc=corp,dc=lan:{p}@{host}:389",
        "spring.datasource.url=jdbc:postgresql://{host}:5432/app\nspring.datasource.username={u}\nspring.datasource.password={p}",
        "clickhouse://{u}:{p}@{host}:9000/events",
        "nats://{u}:{p}@{host}:4222",
        "kafka: SASL_SSL://{host}:9093 sasl.username={u} sasl.password={p}",
        "mssql+pyodbc://{u}:{p}@{host}/Reports?driver=ODBC+Driver+18",
        "Driver={{PostgreSQL}};Server={host};Port=5432;Database=hr;Uid={u};Pwd={p};",
        "http://{u}:{p}@proxy.{dom}:3128",
        "influxdb://{u}:{p}@{host}:8086/metrics",
        "neo4j+s://{u}:{p}@{host}:7687",
        "couchbase://{host} username={u} password={p}",
        "cassandra: contact_points={host} auth_provider=PlainTextAuthProvider(username='{u}', password='{p}')",
        "snowflake://{u}:{p}@xy12345.eu-central-1/analytics/public?warehouse=compute_wh",
        "DefaultEndpointsProtocol=https;AccountName={acct};AccountKey={azkey};EndpointSuffix=core.windows.net",
        "Endpoint=sb://{acct}.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={sas}",
    ]
    intros = ["", "prod is down, this is what the app is using: ", "```\n", "can't connect with ",
              "[{t}] {who}: ", "Config dump from the ticket:\n", "Esta es la cadena de conexión: ",
              "Verbindungszeichenfolge: ", "chaîne de connexion : ", "hmm, works locally with "]
    for i, shape in enumerate(shapes):
        f = _fill(r)
        text = shape.format(u=_user(r), p=password(r), host=_host(r), dom=r.choice(["lumen-labs.io", "northwind-freight.com", "kestrel.app"]),
                            tok=crc_token("ghp_", r), org=s(r, LO, 7), acct=s(r, LO + DIG, 12),
                            azkey=base64.b64encode(r.randbytes(64)).decode(),
                            sas=base64.b64encode(r.randbytes(32)).decode())
        intro = intros[i % len(intros)].format(**f)
        tail = "\n```" if intro == "```\n" else ""
        out.append({"kind": "connection_string", "text": intro + text + tail})
    return out


def _pem(r: Rng, label: str, lead: str, nbytes: int) -> str:
    body = lead + base64.b64encode(r.randbytes(nbytes)).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----"


def private_keys(r: Rng) -> list[Row]:
    """Private keys with their material, in the places people paste them."""
    rsa = lambda: _pem(r, "RSA PRIVATE KEY", "MIIEowIBAAKCAQEA", 900)  # noqa: E731
    ossh = lambda: _pem(r, "OPENSSH PRIVATE KEY",  # noqa: E731
                        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"
                        "QyNTUxOQAAACD", 260)
    ec = lambda: _pem(r, "EC PRIVATE KEY", "MHcCAQEEI", 110)  # noqa: E731
    p8 = lambda: _pem(r, "PRIVATE KEY", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ", 700)  # noqa: E731
    items = [
        ("private_key_rsa", "found this in the old deploy folder, is it still used?\n" + rsa()),
        ("private_key_rsa", "```\n" + rsa() + "\n```\nthat's the one from the bastion"),
        ("private_key_rsa", "id_rsa for the build agent (temporary!!):\n" + rsa()),
        ("private_key_openssh", "{h} try this key instead:\n" + ossh()),
        ("private_key_openssh", "cat ~/.ssh/id_ed25519\n" + ossh()),
        ("private_key_openssh", "Schlüssel für den Deploy-User:\n" + ossh()),
        ("private_key_ec", "ec key for the signing service\n" + ec()),
        ("private_key_ec", "apiVersion: v1\nkind: Secret\nstringData:\n  tls.key: |\n    "
         + ec().replace("\n", "\n    ")),
        ("private_key_pkcs8", "Voici la clé privée du certificat :\n" + p8()),
        ("private_key_gcp_json", json.dumps({
            "type": "service_account", "project_id": f"orchid-{s(r, LO + DIG, 6)}",
            "private_key_id": s(r, HEX, 40), "private_key": p8() + "\n",
            "client_email": f"ci-runner@orchid-{s(r, LO, 5)}.iam.gserviceaccount.com"}, indent=2)),
        ("private_key_pgp", "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQdGBF" + "\n".join(
            base64.b64encode(r.randbytes(48)).decode() for _ in range(9))
         + "\n=" + s(r, AN, 4) + "\n-----END PGP PRIVATE KEY BLOCK-----"),
        ("private_key_putty", "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: "
         f"{r.choice(FIRST).lower()}@laptop\nPublic-Lines: 2\nAAAAC3NzaC1lZDI1NTE5AAAAI"
         + base64.b64encode(r.randbytes(24)).decode() + "\n" + s(r, AN, 12) + "\nPrivate-Lines: 1\n"
         + base64.b64encode(r.randbytes(36)).decode() + f"\nPrivate-MAC: {s(r, HEX, 64)}"),
        ("private_key_wireguard", "[Interface]\nPrivateKey = " + base64.b64encode(r.randbytes(32)).decode()
         + "\nAddress = 10.8.0.2/24\nDNS = 1.1.1.1\n\n[Peer]\nPublicKey = "
         + base64.b64encode(r.randbytes(32)).decode() + "\nEndpoint = vpn.example.org:51820"),
        ("private_key_encrypted", "the passphrase is {pw}\n-----BEGIN RSA PRIVATE KEY-----\n"
         "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC," + s(r, HEXU, 32) + "\n\n" + "\n".join(
             base64.b64encode(r.randbytes(48)).decode() for _ in range(12))
         + "\n-----END RSA PRIVATE KEY-----"),
        ("private_key_rsa", "Reddit, is it bad that our vendor emailed us this? 😅\n" + rsa()),
    ]
    return [{"kind": k, "text": t.replace("{h}", r.choice(HANDLES)).replace("{pw}", password(r))}
            for k, t in items]


def jwt(r: Rng) -> str:
    alg = r.choice(["HS256", "RS256", "ES256", "HS512"])
    head: dict[str, str] = {"alg": alg, "typ": "JWT"}
    if r.random() < 0.5:
        head["kid"] = s(r, HEX, 16)
    now = r.randint(1_760_000_000, 1_790_000_000)
    body = {"sub": str(r.randint(10_000, 9_999_999)), "iat": now, "exp": now + r.choice([3600, 86400, 2_592_000]),
            r.choice(["role", "scope", "org"]): r.choice(["admin", "service", "read:all write:all", "acme"])}
    sig_len = {"HS256": 43, "HS512": 86, "RS256": 342, "ES256": 86}[alg]
    return (b64u(json.dumps(head, separators=(",", ":")).encode()) + "."
            + b64u(json.dumps(body, separators=(",", ":")).encode()) + "." + s(r, URL, sig_len))


def jwts(r: Rng) -> list[Row]:
    shapes = [
        "Authorization: Bearer {j}",
        "curl https://api.lumen-labs.io/v1/me -H 'Authorization: Bearer {j}'",
        "{h} use my session for now: {j}",
        "Cookie: session={j}; Path=/; HttpOnly",
        "localStorage dump from the bug report:\n{{\"access_token\":\"{j}\",\"expires_in\":3600}}",
        "2026-11-{dd}T04:11:09Z INFO auth ok token={j}",
        "the service account JWT (valid a month): {j}",
        "kubectl --token={j} get pods -n payments",
        "Token de acceso para la API: {j}",
        "Das Bearer-Token für Postman: {j}",
        "postman env →\nbaseUrl: https://api.kestrel.app\ntoken: {j}",
        "why does my refresh token {j} get rejected after an hour?",
        "grpcurl -H \"authorization: Bearer {j}\" api.internal:443 list",
        "[{t}] {who}: here's the admin JWT, expires next week {j}",
        "jeton d'accès pour tester l'API : {j}",
        "SUPABASE_SERVICE_ROLE_KEY={j}",
    ]
    return [{"kind": "jwt", "text": sh.format(j=jwt(r), **_fill(r))} for sh in shapes]


def webhooks(r: Rng) -> list[Row]:
    slack = lambda: f"https://hooks.slack.com/services/T{s(r, UP + DIG, 10)}/B{s(r, UP + DIG, 10)}/{s(r, AN, 24)}"  # noqa: E731
    discord = lambda: f"https://discord.com/api/webhooks/{r.randint(10**17, 10**19 - 1)}/{s(r, URL, 68)}"  # noqa: E731
    teams = lambda: (f"https://{s(r, LO, 8)}.webhook.office.com/webhookb2/{_uuid(r)}@{_uuid(r)}"  # noqa: E731
                     f"/IncomingWebhook/{s(r, HEX, 32)}/{_uuid(r)}/V2{s(r, URL, 40)}")
    items = [
        ("webhook_slack", "alerts go to {u} — anyone can post there, so don't share it"),
        ("webhook_slack", "SLACK_WEBHOOK_URL={u}"),
        ("webhook_slack", "curl -X POST -H 'Content-type: application/json' --data '{{\"text\":\"deploy done\"}}' {u}"),
        ("webhook_slack", "Webhook für den Alarmkanal: {u}"),
        ("webhook_discord", "{h} add this to the bot config: {u}"),
        ("webhook_discord", "our server's announcements webhook {u} lol"),
        ("webhook_discord", "webhook: \"{u}\""),
        ("webhook_discord", "Webhook del servidor para las notificaciones: {u}"),
        ("webhook_teams", "Teams connector for the incident channel: {u}"),
        ("webhook_teams", "TEAMS_WEBHOOK: {u}"),
        ("webhook_teams", "Lien du connecteur Teams : {u}"),
        ("webhook_zapier", "Zap trigger URL: https://hooks.zapier.com/hooks/catch/{d7}/{a6}/"),
        ("webhook_zapier", "form posts to https://hooks.zapier.com/hooks/catch/{d7}/{a6}/ then into the CRM"),
        ("webhook_google_chat", "https://chat.googleapis.com/v1/spaces/AAAA{a7}/messages?key=AIza{k35}&token={gtok}"),
        ("webhook_google_chat", "Google Chat bot hook: https://chat.googleapis.com/v1/spaces/AAAA{a7}/messages?key=AIza{k35}&token={gtok}"),
        ("webhook_mattermost", "mattermost incoming hook https://chat.{dom}/hooks/{m26}"),
        ("webhook_ifttt", "IFTTT key for the door sensor: https://maker.ifttt.com/trigger/door_open/with/key/{i22}"),
        ("webhook_make", "Make scenario webhook https://hook.eu1.make.com/{m32}"),
        ("webhook_telegram", "curl \"https://api.telegram.org/bot{tg}/sendMessage?chat_id=-100{d10}&text=build+ok\""),
        ("webhook_logic_apps", "Logic App trigger: https://prod-{n}.westeurope.logic.azure.com:443/workflows/{h32}/triggers/manual/paths/invoke?api-version=2016-10-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={sig}"),
        ("webhook_slack", "Der Slack-Webhook aus der Präsentation war echt: {u}"),
    ]
    out: list[Row] = []
    for kind, text in items:
        u = {"webhook_slack": slack, "webhook_discord": discord, "webhook_teams": teams}.get(kind, slack)()
        out.append({"kind": kind, "text": text.format(
            u=u, d7=digits(r, 7), a6=s(r, LO + DIG, 6), a7=s(r, URL, 7), k35=s(r, URL, 35),
            gtok=s(r, URL, 43).replace("-", "%3D", 1), dom=r.choice(["kestrel.app", "lumen-labs.io"]),
            m26=s(r, LO + DIG, 26), i22=s(r, URL, 22), m32=s(r, LO + DIG, 32),
            tg=f"{r.randint(10**8, 10**10 - 1)}:AA{s(r, URL, 33)}", d10=digits(r, 10),
            h32=s(r, HEX, 32), sig=s(r, URL, 43), **_fill(r))})
    return out


GENERIC_NAMES = ["db_password", "API_SECRET", "signing_key", "JWT_SECRET", "SECRET_KEY",
                 "client_secret", "encryption_key", "hmac_secret", "SESSION_SECRET",
                 "COOKIE_SECRET", "webhook_secret", "master_key", "private_token",
                 "access_secret", "auth_token", "REDIS_PASSWORD", "smtp_password",
                 "app_secret", "oauth_client_secret", "license_signing_secret"]


def generic_assignments(r: Rng) -> list[Row]:
    shapes = [
        ("env", "{N}={v}"),
        ("env", "export {N}='{v}'"),
        ("json", "{{\n  \"{n}\": \"{v}\",\n  \"timeout\": 30\n}}"),
        ("yaml", "auth:\n  {n}: {v}\n  ttl: 3600"),
        ("yaml", "- name: {N}\n  value: \"{v}\""),
        ("ini", "[auth]\n{n} = {v}"),
        ("toml", "[server]\nport = 8443\n{n} = \"{v}\""),
        ("python", "{N} = \"{v}\""),
        ("python", "app.config[\"{N}\"] = \"{v}\""),
        ("js", "const {camel} = \"{v}\";"),
        ("js", "module.exports = {{ {camel}: '{v}' }};"),
        ("go", "var {camel} = \"{v}\""),
        ("java", "private static final String {N} = \"{v}\";"),
        ("rust", "const {N}: &str = \"{v}\";"),
        ("php", "define('{N}', '{v}');"),
        ("ruby", "config.{n} = \"{v}\""),
        ("xml", "<setting name=\"{n}\">{v}</setting>"),
        ("properties", "app.{dotted}={v}"),
        ("hcl", "variable \"{n}\" {{\n  default = \"{v}\"\n}}"),
        ("csharp", "public const string {Pascal} = \"{v}\";"),
        ("shell", "{N}=\"{v}\" ./run.sh"),
        ("dockerfile", "ENV {N}={v}"),
        ("github_actions", "env:\n  {N}: {v}"),
        ("laravel", "APP_KEY=base64:{b44}"),
        ("rails", "config/master.key: {h32}"),
        ("django", "SECRET_KEY = 'django-insecure-{dj}'"),
        ("env", "{N}: {v}"),
        ("json", "{{\"{n}\":\"{v}\",\"region\":\"eu-central-1\"}}"),
        ("yaml", "{n}: !!str {v}"),
        ("ini", "{n}={v}"),
        ("toml", "{n} = '{v}'"),
        ("python", "requests.post(url, auth=(\"svc\", \"{v}\"))"),
        ("env", "{N}=\"{v}\"  # rotate after launch"),
    ]
    intros = ["", "", "can't figure out why auth fails with this:\n", "```\n", "excerpt from the ticket:\n",
              "my config, be gentle: ", "Auszug aus der Konfiguration:\n", "extrait de la conf :\n",
              "config de producción:\n", "[{t}] {who}: pasted from prod\n"]
    out: list[Row] = []
    for i, (kind, shape) in enumerate(shapes):
        n = GENERIC_NAMES[i % len(GENERIC_NAMES)]
        v = r.choice([s(r, AN, r.randint(24, 40)), s(r, HEX, 48), b64u(r.randbytes(30)),
                      s(r, AN + "!#%+=", 28)])
        parts = n.lower().split("_")
        text = shape.format(N=n.upper(), n=n.lower(), v=v, camel=parts[0] + "".join(p.capitalize() for p in parts[1:]),
                            Pascal="".join(p.capitalize() for p in parts), dotted=".".join(parts),
                            b44=base64.b64encode(r.randbytes(32)).decode(), h32=s(r, HEX, 32),
                            dj=s(r, LO + DIG + "!@#$%^&*(-_=+)", 50))
        intro = intros[i % len(intros)].format(**_fill(r))
        out.append({"kind": f"generic_{kind}", "text": intro + text + ("\n```" if intro == "```\n" else "")})
    return out


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def encoded(r: Rng) -> list[Row]:
    u, p = _user(r), password(r)
    items = [
        "Authorization: Basic " + b64(f"{u}:{p}"),
        "curl -H 'Authorization: Basic " + b64(f"{_user(r)}:{password(r)}") + "' https://registry.lan/v2/_catalog",
        "apiVersion: v1\nkind: Secret\ntype: Opaque\ndata:\n  username: " + b64(_user(r)) + "\n  password: " + b64(password(r)),
        "data:\n  DB_PASSWORD: " + b64(password(r)) + "\n  API_TOKEN: " + b64(crc_token("ghp_", r)),
        "{\"auths\": {\"ghcr.io\": {\"auth\": \"" + b64(f"{_user(r)}:{crc_token('ghp_', r)}") + "\"}}}",
        "echo " + b64(f"DATABASE_URL=postgres://{_user(r)}:{password(r)}@{_host(r)}/app") + " | base64 -d > .env",
        "//registry.npmjs.org/:_auth=" + b64(f"{_user(r)}:{password(r)}"),
        "the .env is base64'd in the CI var: " + b64(f"STRIPE_SECRET_KEY=sk_live_51{s(r, AN, 60)}\nMODE=live"),
        "base64 -d <<< " + b64(f"AWS_SECRET_ACCESS_KEY={_aws_secret(r)}"),
        "Der Token steht base64-kodiert in der Config: " + b64("xoxb-" + digits(r, 12) + "-" + digits(r, 13) + "-" + s(r, AN, 24)),
        "secret (base64): " + b64(f"{password(r)}"),
        "kubectl get secret db -o yaml\n...\n  password: " + b64(password(r)) + "\n  user: " + b64(_user(r)),
        "proxy-authorization: Basic " + b64(f"{_user(r)}:{password(r)}"),
        "ENCODED_CREDS=" + b64(json.dumps({"client_id": _uuid(r), "client_secret": s(r, AN, 40)})),
        "codifiqué la contraseña en base64 para el script: " + b64(password(r)),
        "mot de passe encodé en base64 dans le job : " + b64(password(r)),
    ]
    return [{"kind": "base64_secret", "text": t} for t in items]


def split_and_spaced(r: Rng) -> list[Row]:
    out: list[Row] = []
    picks = [f for f in FORMATS if f[4]]
    step = 0
    for i in range(20):
        mode = i % 5
        while True:
            kind, svc, env, gen, _d = picks[(i * 7 + step) % len(picks)]
            tok = gen(r)
            if mode not in (2, 3) or len(tok) <= 64:
                break
            step += 1
        cut = len(tok) // 2
        if mode == 0:
            text = f"{svc} key part 1/2: {tok[:cut]}\npart 2/2: {tok[cut:]}"
        elif mode == 1:
            text = f"splitting it so the bot doesn't eat it: {tok[:cut]} + {tok[cut:]}"
        elif mode == 2:
            text = svc + ('' if 'token' in svc else ' token') + ', letter by letter: ' + ' '.join(tok)
        elif mode == 3:
            text = f"read it out on the call, here it is in chunks: {'-'.join(tok[j:j + 4] for j in range(0, len(tok), 4))}"
        else:
            text = f"{env}=\"{tok[:cut]}\"\\\n\"{tok[cut:]}\""
        out.append({"kind": f"split_{['two_parts', 'plus', 'spaced', 'chunks', 'continued'][mode]}",
                    "text": text})
    return out


def cloud_pairs(r: Rng) -> list[Row]:
    out: list[Row] = []
    shapes = [
        "[default]\naws_access_key_id = {id}\naws_secret_access_key = {sec}\nregion = eu-west-1",
        "AWS_ACCESS_KEY_ID={id}\nAWS_SECRET_ACCESS_KEY={sec}",
        "aws configure\nAWS Access Key ID [None]: {id}\nAWS Secret Access Key [None]: {sec}",
        "{{\"accessKeyId\": \"{id}\", \"secretAccessKey\": \"{sec}\"}}",
        "boto3.client('s3', aws_access_key_id='{id}', aws_secret_access_key='{sec}')",
        "Claves de AWS del bucket de backups: {id} / {sec}",
        "the IAM user for the uploader: key {id} secret {sec}",
        "Twilio: account AC{ac} auth token {tw}",
        "TWILIO_ACCOUNT_SID=AC{ac}\nTWILIO_AUTH_TOKEN={tw}",
        "ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI5t{al}\nALIBABA_CLOUD_ACCESS_KEY_SECRET={als}",
    ]
    for sh in shapes:
        out.append({"kind": "cloud_key_pair", "text": sh.format(
            id="AKIA" + s(r, UP + "234567", 16), sec=_aws_secret(r), ac=s(r, HEX, 32),
            tw=s(r, HEX, 32), al=s(r, AN, 18), als=s(r, AN, 30))})
    return out


def credentials_positive(r: Rng) -> list[Row]:
    out: list[Row] = []
    shapes = list(range(len(TOKEN_SHAPES)))
    r.shuffle(shapes)
    named = [i for i in shapes if "{svc}" in TOKEN_SHAPES[i] or "{env}" in TOKEN_SHAPES[i]]
    k = 0
    for kind, svc, env, gen, distinct in FORMATS:
        used: set[int] = set()
        for _ in range(3):
            pool = shapes if distinct else named
            while pool[k % len(pool)] in used:
                k += 1
            idx = pool[k % len(pool)]
            k += 1
            used.add(idx)
            text = TOKEN_SHAPES[idx].format(tok=gen(r), svc=svc, env=env, env_lower=env.lower(),
                                            svc_slug=_slug(svc), **_fill(r))
            out.append({"kind": f"token_{kind}", "text": text})
    for lang, t in PASSWORD_PROSE:
        out.append({"kind": f"password_prose_{lang}" if lang != "en" else "password_prose",
                    "text": frame(r, t.format(pw=password(r), user=_user(r), pin=digits(r, 6), **_fill(r)))})
    for kind, _lang, t in CODES:
        ssid = r.choice(["Casa_" + s(r, UP, 3), "TheHive-5G", "Büro-Gast", "Livebox-" + s(r, HEXU, 4),
                         "FRITZ!Box 7590 " + s(r, UP, 2), "NETGEAR" + digits(r, 2), "CafeAurora"])
        code = r.choice([digits(r, 4), digits(r, 5), digits(r, 6), f"{digits(r, 2)}*{digits(r, 2)}"])
        out.append({"kind": kind, "text": frame(r, t.format(code=code, ssid=ssid, pw=password(r), **_fill(r)))})
    for part in (connection_strings, private_keys, jwts, webhooks, generic_assignments, encoded,
                 split_and_spaced, cloud_pairs):
        out.extend(part(r))
    return out


# --- credentials: hard negatives ------------------------------------------------------------

PLACEHOLDERS = [
    "<your-token-here>", "${{ secrets.{env} }}", "${env}", "{{{{ .Values.auth.token }}}}",
    "os.getenv(\"{env}\")", "process.env.{env}", "REPLACE_ME", "<redacted>", "[REDACTED]",
    "your-api-key", "$({env_lower}_from_vault)", "op://Engineering/{svc_slug}/credential",
    "{{{{ssm:/prod/{env_lower}}}}}", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/{env_lower}",
    "xxxxxxxxxxxxxxxxxxxxxxxx", "********", "<PASTE_{env}_HERE>", "%({env})s", "${{{env}:?missing}}",
    "changeit-in-your-own-env", "TODO", "null", "\"\"", "{{{{ vault \"secret/data/ci\" \"{env_lower}\" }}}}",
    "$(cat /run/secrets/{env_lower})", "!env_var {env}", "${{env:{env}}}", "ENC[AES256_GCM,data:...,type:str]",
    "<insert {svc} key>", "sk_live_...", "ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
    "xoxb-your-bot-token", "AKIAXXXXXXXXXXXXXXXX", "glpat-xxxxxxxxxxxxxxxxxxxx", "hf_xxxxxxxxxxxxxxxx",
]

SECURITY_ADVICE = [
    "PSA: anything starting with ghp_ or github_pat_ in a diff means rotate first, ask questions later",
    "xoxb- is a Slack bot token, xoxp- a user token. If you see either in a log, revoke it",
    "AWS key ids that start with AKIA are long-lived; ASIA ones come from STS and expire",
    "our pre-commit hook blocks sk_live_ and rk_live_ but lets sk_test_ through",
    "TIL GitHub tokens end in a CRC32 checksum so scanners can tell real ones from random strings",
    "gitleaks has a rule for glpat- tokens, turn it on in the GitLab runner",
    "If a value begins with -----BEGIN OPENSSH PRIVATE KEY----- it does not belong in a ticket",
    "reminder: AIza keys should be restricted by referrer and API in the Google console",
    "Never paste anything that begins with sk-ant- or sk-proj- into a shared notebook",
    "npm_ tokens can be scoped to read-only; do that for CI",
    "Slack webhook URLs (hooks.slack.com/services/…) are secrets too, treat them like passwords",
    "Talk tonight: how we find dop_v1_, hvs. and shpat_ strings in old commits",
    "Why do Stripe keys have sk_, pk_ and rk_ prefixes? secret, publishable, restricted",
    "Docker Hub PATs start with dckr_pat_ — good to know when you grep your CI logs",
    "A JWT is three base64url parts separated by dots; the first decodes to the header",
    "Rotating the Twilio auth token doesn't change the AC… account SID, that one is not secret",
    "psa: HRKU- is the new Heroku API key prefix, update your secret scanners",
    "Hugging Face tokens (hf_…) can be fine-grained now. Use that",
    "Wenn ein String mit ghp_ anfängt: sofort widerrufen, nicht erst diskutieren",
    "Astuce sécurité : les clés qui commencent par AKIA sont des clés d'accès AWS permanentes",
    "Consejo: los tokens de GitLab empiezan por glpat-; configura la detección de secretos",
    "Dica: tokens do Slack começam com xox, nunca cole isso no chat público",
    "Our secret-scanning checklist: ghp_, gho_, xox[abp]-, AKIA, AIza, sk_live_, SG., -----BEGIN … PRIVATE KEY-----",
    "A leaked `pypi-` token can publish to every project it is scoped to. Scope them per project",
    "Vault service tokens now start with hvs., batch tokens with hvb., recovery with hvr.",
    "If you must share a wifi password, use a QR code in person, not a group chat",
    "don't put door codes in the neighbourhood WhatsApp group, people. DM them",
    "Security tip from the workshop: a password manager beats a sticky note every time",
    "The 'WIFI:S:…;T:WPA;P:…;;' format is what QR codes for wifi encode, that's why they're sensitive",
    "Best practice: store connection strings in Key Vault and reference them, never inline the Password= part",
    "Seen in the wild: people base64 their secrets and think that hides them. It doesn't",
    "New blog post: 'Why your .env should never be in git (and what to do if it was)'",
    "Our incident review: a test key (sk_test_…) leaked, no impact, we rotated anyway",
    "When you see `Authorization: Basic` in a HAR file, that's a password, scrub it before sharing",
    "The EC key header alone (-----BEGIN EC PRIVATE KEY-----) is harmless; the lines after it are not",
    "Secret scanners flag 'AKIA' followed by 16 capitals or digits — that's the whole pattern",
    "Cuidado: las URLs de webhooks de Discord dan acceso a publicar en tu canal",
    "Tipp: Tailscale-Auth-Keys (tskey-auth-…) lieber kurzlebig und einmalig anlegen",
    "Reminder that Azure client secrets contain '8Q~' at position four, handy for grep",
    "セキュリティ注意: ghp_ で始まる文字列はGitHubのトークンです。公開しないでください",
]

PASSWORD_TALK = [
    "I reset my password three times this week and I still can't get into the HR portal",
    "password rules here: 14 characters, one symbol, no reuse of the last 24. I'm tired",
    "Finally moved the whole family onto a password manager. Dad is thrilled (he is not)",
    "Why does every bank still cap passwords at 12 characters??",
    "I forgot my laptop password after a two-week holiday. Took IT five minutes. Humbling",
    "Passkeys are great until you lose your phone on a train",
    "The wifi password at this café is written on a chalkboard and I respect that",
    "hot take: forcing password changes every 90 days makes passwords worse",
    "My password is so secure even I don't know it",
    "Anyone else's SSO session expire every hour since the update?",
    "Onboarding tip: IT will send your first password by SMS, not by email",
    "the 'forgot password' link on the vendor portal has been broken for a month",
    "I let the browser generate a password and now I'm locked out on my phone",
    "Mot de passe oublié, encore. Le lien de réinitialisation ne marche pas",
    "Olvidé la contraseña del correo del trabajo otra vez 🤦",
    "Ich hasse es, wenn das Passwort jeden Monat geändert werden muss",
    "Esqueci a senha do banco e agora só amanhã na agência",
    "Ho cambiato la password e ovviamente me la sono già dimenticata",
    "Wachtwoord vergeten, weer. Derde keer deze maand",
    "パスワードを忘れてしまった…再設定メールが来ない",
    "Şifremi yine unuttum, sıfırlama maili de gelmedi",
    "Zapomniałem hasła do VPN, pomocy",
    "we need to talk about how the door code at the office hasn't changed since 2019 (not posting it)",
    "Landlord changed the building code and told nobody. Locked out in the rain",
    "The alarm went off at 3am because someone typed the code wrong three times",
    "Can we please stop sharing passwords in the team channel? Use the vault",
    "Reminder: nobody from IT will ever ask for your password",
    "MFA fatigue is real: approved a push I didn't send. Reported it, changed my password",
    "The guest wifi password is on the fridge, ask whoever's at the desk",
    "the router password is on the sticker underneath, I'm not typing it here",
    "I rotated every API key after that laptop got stolen. Took all afternoon",
    "Hiring: security engineer to help us get rid of shared passwords",
    "Unpopular opinion: security questions are just worse passwords",
    "My password manager says I have 412 logins. I am 29",
    "Trying to explain to my mum why 'password' is not a password",
    "Our retro: the release slipped because the signing key expired. New one is in the HSM",
    "the password field on that form accepts emoji and I'm scared to try",
    "Note to self: change the Netflix password after the breakup",
    "The API key in the tutorial didn't work so I made my own in the dashboard, works now",
    "got a 'your token has expired' email from GitHub, regenerated, all good",
]

MEMES = [
    "you can go hunter2 my hunter2-ing hunter2",
    "correct horse battery staple, as the comic says",
    "my password is ******* — see, it shows as stars for you too",
    "Password must contain: an uppercase letter, a number, a haiku, a gang sign, a hieroglyph and the blood of a virgin",
    "I changed my password to 'incorrect' so whenever I forget, it tells me 'your password is incorrect'",
    "me: *makes a strong password*\nalso me 5 minutes later: forgot password",
    "when the password needs a special character so you add ! at the end like everyone else",
    "'Your password can't be the same as your last 10 passwords' — fine, Password11",
    "they said my password needs 8 characters so I picked Snow White and the Seven Dwarfs",
    "Tried to set my password to 'beef stew' but it wasn't stroganoff",
    "the real password was the friends we made along the way",
    "password123 energy tbh",
    "all your base are belong to us, including the wifi",
    "Set the wifi name to 'FBI Surveillance Van' and the neighbours stopped asking for the password",
    "Mein Passwort ist 'falsch'. Wenn ich es vergesse, sagt der Computer: Ihr Passwort ist falsch",
    "Mi contraseña es 'incorrecta', así cuando la olvido el ordenador me la recuerda",
    "just changed my password to 'tenchars' because it needed to be ten chars",
    "Nobody:\nLiterally nobody:\nIT: please change your password, it's been 89 days",
    "the only secure password is the one you've forgotten",
    "My password is the last 8 digits of pi",
]

NON_EN_NEGATIVES = [
    ("placeholder", "Trage hier deinen eigenen Schlüssel ein: {env}=<dein-token>"),
    ("placeholder", "Remplacez <VOTRE_CLE_API> par votre propre clé avant de lancer le script"),
    ("placeholder", "Sustituye TU_TOKEN_AQUI por el token de tu cuenta"),
    ("placeholder", "Substitua SUA_CHAVE_AQUI pela sua chave da API"),
    ("placeholder", "Sostituisci <LA_TUA_CHIAVE> con la tua chiave"),
    ("placeholder", "Vervang JOUW_API_SLEUTEL door je eigen sleutel"),
    ("placeholder", "Wpisz swój klucz w miejsce <TWÓJ_KLUCZ>"),
    ("placeholder", "APIキーは <YOUR_API_KEY> の部分に入れてください"),
    ("password_talk", "Das Passwort muss mindestens zwölf Zeichen haben, sagt die IT"),
    ("password_talk", "Je ne retrouve plus mon mot de passe, et le lien de réinitialisation a expiré"),
    ("password_talk", "La contraseña debe tener una mayúscula, un número y un símbolo. Qué pereza"),
    ("password_talk", "Troquei a senha do wi-fi, peçam-na na recepção"),
    ("password_talk", "Ho attivato l'autenticazione a due fattori, finalmente"),
    ("password_talk", "Mijn wachtwoordmanager heeft me weer gered"),
    ("password_talk", "Hasło musi mieć 12 znaków. Dlaczego nie 13?"),
    ("password_talk", "Jag glömde lösenordet till banken igen"),
    ("password_talk", "Wi-Fi şifresini resepsiyondan isteyin, buraya yazmıyorum"),
    ("password_talk", "비밀번호를 또 잊어버렸어요"),
    ("security_advice", "Nunca compartas tokens que empiezan por sk_live_ en un chat público"),
    ("security_advice", "Ne collez jamais une URL hooks.slack.com dans un ticket public"),
    ("security_advice", "Schlüssel, die mit AKIA anfangen, sind dauerhafte AWS-Zugangsschlüssel — sofort rotieren, wenn sie auftauchen"),
    ("security_advice", "Dica: chaves que começam com AIza são do Google Cloud; restrinja-as"),
    ("security_advice", "Consiglio: i token GitHub iniziano con ghp_ o github_pat_; se li vedi in un log, revocali"),
    ("security_advice", "Tip: GitLab-tokens beginnen met glpat-, zet secret detection aan"),
    ("security_advice", "機密情報をコミットしないように pre-commit フックを使いましょう"),
    ("meme", "Mi contraseña es 'incorrecta'. Así el sistema me la recuerda siempre"),
    ("meme", "Mon mot de passe, c'est 'incorrect'. Comme ça, quand je l'oublie, l'ordinateur me le dit"),
    ("localhost_sample", "Für die lokale Entwicklung: postgres://postgres:postgres@localhost:5432/dev"),
    ("localhost_sample", "En local, MinIO utilise minioadmin/minioadmin sur localhost:9000"),
    ("test_mode_key", "Clave de prueba de Stripe para el taller (modo test): sk_test_51{t}"),
    ("test_mode_key", "Chave de teste do Stripe, não funciona em produção: sk_test_51{t}"),
    ("hash_digest", "Hash SHA-256 del archivo: {h}"),
    ("hash_digest", "Somma di controllo SHA-256: {h}"),
    ("uuid", "ID zamówienia: {u}"),
    ("uuid", "Aanvraag-ID: {u}, graag vermelden bij vragen"),
]

SECRET_REFERENCES = [
    "steps:\n  - run: ./deploy.sh\n    env:\n      API_TOKEN: ${{ secrets.API_TOKEN }}",
    "env:\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef:\n        name: db-creds\n        key: password",
    "password: \"{{ lookup('env', 'DB_PASSWORD') }}\"",
    "token = os.environ[\"SLACK_BOT_TOKEN\"]  # set in the runner, never in code",
    "const key = process.env.STRIPE_SECRET_KEY ?? throwMissing('STRIPE_SECRET_KEY');",
    "aws secretsmanager get-secret-value --secret-id prod/orders-db --query SecretString --output text | jq .password",
    "vault kv get -field=password secret/payments/db",
    "op read \"op://Shared/Mailgun/credential\"",
    "gh secret set NPM_TOKEN < token.txt  (the file is gitignored)",
    "kubectl create secret generic api --from-env-file=.env.prod  # .env.prod lives in the vault",
    "DATABASE_URL: ${DATABASE_URL:?set it in your shell}",
    "sops -d secrets.enc.yaml | kubectl apply -f -",
    "az keyvault secret show --vault-name kv-prod --name sql-password",
    "gcloud secrets versions access latest --secret=smtp-password",
    "doppler run -- npm start",
    "ENV API_KEY=\"\"  # injected at runtime",
    "config.api_key = Rails.application.credentials.dig(:stripe, :secret_key)",
    "The token lives in 1Password under 'CI / npm', ask in #platform for access",
    "Passwort steht im Tresor unter 'Kundenportal', nicht im Wiki",
    "le mot de passe est dans le coffre-fort de l'équipe, pas ici",
]

MORE_TALK = [
    "rotated the npm token after the ex-contractor left, nothing to see here",
    "new policy: API keys expire after 90 days, the portal emails you a week before",
    "Just got the 'your password was found in a breach' warning from the browser. Changed it",
    "Does anybody actually remember their wifi password? I read it off the router every time",
    "we finally turned on secret scanning for the whole org and found… a lot",
    "My bank wants a 6-digit PIN and a 'memorable word'. I have neither",
    "Lost the door code to the coworking space. Waiting outside like a raccoon",
    "The alarm company wants a new code every year. Fine",
    "Teaching my kids not to share their Roblox password with 'friends'",
    "Ich habe das WLAN-Passwort vergessen und der Router steht beim Nachbarn",
    "Perdí la clave del wifi y el router está en el armario de la vecina",
    "Contraseñas: usa un gestor, no un post-it. Fin del consejo",
    "J'ai enfin activé la double authentification partout",
    "Senha nova, a mesma senha antiga com um ! no final. Eu sei, eu sei",
    "the password reset email took 45 minutes to arrive",
    "Security training today. Most of it: don't click links. Fair",
    "IT locked my account after three wrong attempts, I was typing the old password",
    "The API key for the weather service expired so the dashboard is empty, renewing it",
    "okay who changed the shared calendar password (please just tell me in person)",
    "We generate the wifi guest password daily now; ask reception",
    "I use diceware for my passphrases, six words, rolled with real dice",
    "Guess who wrote the admin password on the whiteboard during the demo. Rotated it within the minute",
    "Our auditor asked how we store passwords. bcrypt, cost 12, salted. Good answer apparently",
    "Lesson learned: don't paste the .env into a screenshot. Nothing leaked this time",
    "The bank called asking for my PIN. Hung up. It was obviously a scam",
]

KEY_HEADERS = [
    "the file starts with -----BEGIN RSA PRIVATE KEY----- so yes, it's the private half. Don't upload it",
    "if `head -1 key.pem` says -----BEGIN OPENSSH PRIVATE KEY----- you're looking at the wrong file for authorized_keys",
    "grep -l 'BEGIN PRIVATE KEY' -r . found two files in the repo, both removed and rotated",
    "Error: expected '-----BEGIN CERTIFICATE-----' but found '-----BEGIN EC PRIVATE KEY-----'",
    "openssl says 'unable to load Private Key' even though the file has -----BEGIN PRIVATE KEY----- at the top",
    "PuTTY wants .ppk, not the '-----BEGIN OPENSSH PRIVATE KEY-----' kind. Convert with puttygen",
    "Our linter flags any line matching -----BEGIN [A-Z ]*PRIVATE KEY-----",
    "The PGP block you sent starts with -----BEGIN PGP PRIVATE KEY BLOCK----- … I only need the public one!",
    "-----BEGIN RSA PRIVATE KEY-----\n[key material removed]\n-----END RSA PRIVATE KEY-----",
    "-----BEGIN OPENSSH PRIVATE KEY-----\n...\n-----END OPENSSH PRIVATE KEY-----\n(redacted, obviously)",
    "private_key: \"-----BEGIN PRIVATE KEY-----\\n<your key here>\\n-----END PRIVATE KEY-----\\n\"",
    "Wenn die Datei mit -----BEGIN RSA PRIVATE KEY----- beginnt, ist es der private Schlüssel",
    "Si le fichier commence par -----BEGIN OPENSSH PRIVATE KEY-----, ne le partagez pas",
    "The GCP JSON has a \"private_key\" field — redact it before you paste the rest",
    "Proc-Type: 4,ENCRYPTED in the header means the key is passphrase-protected. Still don't share it",
    "ssh-keygen -t ed25519 -C \"laptop\" then cat the .pub, never the other one",
    "TLS secret template:\n  tls.crt: <base64 cert>\n  tls.key: <base64 key>",
    "[Interface]\nPrivateKey = <client private key>\nAddress = 10.8.0.2/24",
    "PuTTY-User-Key-File-3 header means it's the new ppk format, puttygen 0.75+",
    "Found `-----BEGIN DSA PRIVATE KEY-----` in a 2012 backup. Who still uses DSA",
]


def _ssh_pub(r: Rng) -> str:
    if r.random() < 0.5:
        blob = base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + r.randbytes(32)).decode()
        return f"ssh-ed25519 {blob} {r.choice(FIRST).lower()}@{r.choice(['laptop', 'build01', 'mbp'])}"
    blob = base64.b64encode(b"\x00\x00\x00\x07ssh-rsa\x00\x00\x00\x03\x01\x00\x01\x00\x00\x01\x01\x00"
                            + r.randbytes(256)).decode()
    return f"ssh-rsa {blob} {r.choice(FIRST).lower()}@workstation"


def _sha(r: Rng, n: int) -> str:
    return hashlib.sha256(r.randbytes(16)).hexdigest()[:n] if n <= 64 else s(r, HEX, n)


def credentials_hard_negative(r: Rng) -> list[Row]:
    out: list[Row] = []
    env_shapes = [sh for sh in TOKEN_SHAPES if "{env}" in sh or "{env_lower}" in sh]
    fmts = FORMATS[:]
    r.shuffle(fmts)
    for i, ph in enumerate(PLACEHOLDERS):
        for j in range(2):
            kind, svc, env, _g, _d = fmts[(2 * i + j) % len(fmts)]
            sh = env_shapes[(2 * i + j) % len(env_shapes)]
            val = ph.format(env=env, env_lower=env.lower(), svc=svc, svc_slug=_slug(svc))
            out.append({"kind": "placeholder", "text": sh.format(
                tok=val, svc=svc, env=env, env_lower=env.lower(), svc_slug=_slug(svc), **_fill(r))})
    docs = [
        "Straight out of the AWS CLI guide, for anyone asking what the format looks like: AKIAIOSFODNN7EXAMPLE with wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "the CLI guide uses AKIAI44QH8DHBEXAMPLE and je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY as sample keys",
        "```ini\n[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n```\n(straight from the docs, replace with yours)",
        "The jwt.io debugger's sample token eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c decodes to John Doe",
        "the Slack docs literally use xoxb-not-a-real-token-this-will-not-work in their examples",
        "Twilio's quickstart shows ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX and your_auth_token as placeholders",
        "Docs example: GITHUB_TOKEN=ghp_EXAMPLE0000000000000000000000000000 (not a real token)",
        "API reference sample: `Authorization: Bearer EXAMPLE_TOKEN_1234`",
        "In the README we use `OPENAI_API_KEY=sk-EXAMPLE` so nobody copies a real one",
        "the Terraform registry example has access_key = \"AKIAIOSFODNN7EXAMPLE\"; that's AWS's documented sample",
        "Beispiel aus der Doku: AKIAIOSFODNN7EXAMPLE (das ist der offizielle Platzhalter von AWS)",
        "Exemple de la documentation : wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "k8s docs Secret example: password: MWYyZDFlMmU2N2Rm (that's '1f2d1e2e67df', their sample)",
        "The Basic auth example in RFC 7617 is Aladdin:open sesame → QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        "Stripe docs: `stripe.api_key = \"sk_test_4eC39HqLyjWDarjtT1zdp7dc\"` — the shared test key everyone's seen",
        "SendGrid's docs show SG.EXAMPLE.EXAMPLE as the key shape",
        "Our API docs: use the example key `demo-key-123` against the sandbox host",
        "The Azure docs' sample connection string says AccountKey=<account-key>, fill in yours",
        "docs snippet: mongodb+srv://<username>:<password>@cluster0.example.mongodb.net/",
        "Example from the Postgres docs: postgresql://user:secret@localhost/otherdb?connect_timeout=10",
    ]
    out += [{"kind": "documented_example", "text": frame(r, t)} for t in docs]
    test_mode = [
        ("Stripe test mode", lambda: "sk_test_51" + s(r, AN, 97)),
        ("Stripe test publishable", lambda: "pk_test_51" + s(r, AN, 97)),
        ("Stripe restricted test", lambda: "rk_test_51" + s(r, AN, 97)),
        ("Paystack test", lambda: "sk_test_" + s(r, HEX, 40)),
        ("Flutterwave test", lambda: f"FLWSECK_TEST-{s(r, HEX, 32)}-X"),
        ("Mollie test", lambda: "test_" + s(r, AN, 30)),
        ("Lob test", lambda: "test_" + s(r, HEX, 35)),
        ("Duffel test", lambda: "duffel_test_" + s(r, URL, 43)),
        ("EasyPost test", lambda: "EZTK" + s(r, HEX, 54)),
        ("Shippo test", lambda: "shippo_test_" + s(r, HEX, 40)),
        ("Braintree sandbox", lambda: f"access_token$sandbox${s(r, LO + DIG, 16)}${s(r, HEX, 32)}"),
        ("Razorpay test", lambda: "rzp_test_" + s(r, AN, 14)),
    ]
    test_ctx = [
        "test mode key for the workshop, it can't move real money: {k}",
        "# tests/conftest.py — {svc} key, test mode only\nKEY = \"{k}\"",
        "CI uses the {svc} key {k}; it only works against the test environment",
        "for the tutorial, paste this {svc} test key: {k}",
        "is {k} supposed to work in live mode? ({svc}) — no, it's a test key",
        "sandbox only!! {k}",
        "pytest fixture uses the {svc} key {k} against the sandbox API",
        "docker-compose.test.yml → PAYMENTS_KEY={k} ({svc}, test mode)",
        "Testschlüssel ({svc}) für die Staging-Umgebung: {k}",
        "clé de test {svc} pour l'atelier : {k}",
        "the Storybook demo hits the {svc} sandbox with {k}",
        "test fixtures: {svc} key {k} (no real charges possible)",
    ]
    for i in range(48):
        svc, g = test_mode[i % len(test_mode)]
        out.append({"kind": "test_mode_key", "text": frame(r, test_ctx[i % len(test_ctx)].format(k=g(), svc=svc))})
    clerk = lambda: "pk_live_" + b64u(f"clerk.{s(r, LO, 7)}.com$".encode())  # noqa: E731
    mapbox_pub = lambda: "pk." + b64u(json.dumps({"u": s(r, LO, 8), "a": s(r, LO + DIG, 25)}, separators=(",", ":")).encode()) + "." + s(r, URL, 22)  # noqa: E731
    publishable = [
        "frontend: Stripe({k}) — publishable key, it's meant to be in the browser",
        "NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY={k}",
        "yes the pk_live_ key is in the page source, that's how Stripe.js works: {k}",
        "<script>const stripe = Stripe('{k}');</script>",
        "publishable key (safe to expose): {k}",
    ]
    for i in range(10):
        out.append({"kind": "publishable_key", "text": frame(r, publishable[i % 5].format(k="pk_live_51" + s(r, AN, 97)))})
    pub_more = [
        "Mapbox public token in our map embed: {mb}",
        "mapboxgl.accessToken = '{mb}'; // public pk. token, URL-restricted",
        "Clerk publishable key for the frontend: {ck}",
        "VITE_CLERK_PUBLISHABLE_KEY={ck}",
        "SUPABASE_PUBLISHABLE_KEY=sb_publishable_{sb}",
        "Square application id (public): sq0idp-{sq}",
        "Paystack public key in checkout.js: pk_live_{ps}",
        "Flutterwave public key for the inline form: FLWPUBK-{fw}-X",
        "Sentry DSN for the browser SDK: https://{h32}@o{n7}.ingest.sentry.io/{n7b}",
        "GA4 measurement id G-{ga} goes in the head tag",
        "Algolia search-only API key for the docs search: {h32} (it's the public one)",
        "Google reCAPTCHA site key (public, goes in HTML): 6L{rc}",
    ]
    for i, t in enumerate(pub_more * 2):
        out.append({"kind": "publishable_key", "text": frame(r, t.format(
            mb=mapbox_pub(), ck=clerk(), sb=s(r, URL, 31), sq=s(r, URL, 22), ps=s(r, HEX, 40),
            fw=s(r, HEX, 32), h32=s(r, HEX, 32), n7=digits(r, 6), n7b=digits(r, 7), ga=s(r, UP + DIG, 10),
            rc=s(r, URL, 38)) + ("" if i < len(pub_more) else " — public by design"))})
    out += [{"kind": "key_header_only", "text": frame(r, t)} for t in KEY_HEADERS]
    pub_shapes = [
        "my public key for the server, add it to authorized_keys please:\n{ssh}",
        "{ssh}",
        "GitHub > Settings > SSH keys > paste: {ssh}",
        "users:\n  - name: deploy\n    ssh_authorized_keys:\n      - {ssh}",
        "Mein öffentlicher Schlüssel: {ssh}",
        "clé publique pour le bastion : {ssh}",
    ]
    for t in pub_shapes * 2:
        out.append({"kind": "public_key", "text": frame(r, t.format(ssh=_ssh_pub(r)))})
    out += [
        {"kind": "public_key", "text": "the verifier's public key:\n" + _pem(r, "PUBLIC KEY", "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", 260)},
        {"kind": "public_key", "text": "JWT verification key (public):\n" + _pem(r, "PUBLIC KEY", "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE", 40)},
        {"kind": "certificate", "text": "the chain the server sends:\n" + _pem(r, "CERTIFICATE", "MIIDdzCCAl+gAwIBAgIE", 700)},
        {"kind": "certificate", "text": "ca.crt for the internal CA (public):\n" + _pem(r, "CERTIFICATE", "MIIFazCCA1OgAwIBAgIU", 900)},
        {"kind": "public_key", "text": "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBF" + "\n".join(
            base64.b64encode(r.randbytes(48)).decode() for _ in range(6)) + "\n=" + s(r, AN, 4) + "\n-----END PGP PUBLIC KEY BLOCK-----\nencrypt to me with this"},
        {"kind": "public_key", "text": f"my GPG fingerprint: {' '.join(s(r, HEXU, 4) for _ in range(10))}"},
        {"kind": "public_key", "text": f"age recipient for the backups: {_bech32('age', r.randbytes(32))}"},
        {"kind": "public_key", "text": f"follow me on nostr: {_bech32('npub', r.randbytes(32))}"},
        {"kind": "public_key", "text": f"[Peer]\nPublicKey = {base64.b64encode(r.randbytes(32)).decode()}\nAllowedIPs = 10.8.0.0/24"},
        {"kind": "public_address", "text": f"tips welcome at 0x{s(r, HEX, 40)} (ETH)"},
        {"kind": "public_address", "text": f"donation address for the project: 0x{s(r, HEX, 40)}"},
        {"kind": "public_address", "text": f"send the refund to my wallet address 0x{s(r, HEX, 40)}, not the contract"},
    ]
    local = [
        "DATABASE_URL=postgres://postgres:postgres@localhost:5432/recipes_dev  # docker compose, local only",
        "docker run -e POSTGRES_PASSWORD=postgres -p 5432:5432 postgres:16  # local only",
        "mongodb://root:example@localhost:27017 — that's the default from the official image's compose example",
        "RabbitMQ's guest/guest only works from localhost, so amqp://guest:guest@localhost:5672 is fine for dev",
        "MinIO local: http://localhost:9000, minioadmin / minioadmin (change before you deploy)",
        "Grafana on localhost:3000, first login admin/admin and it makes you change it",
        "mysql://root:root@127.0.0.1:3306/test_db in the test fixtures",
        "redis://localhost:6379/0 — no password locally",
        "services:\n  db:\n    image: postgres\n    environment:\n      POSTGRES_USER: dev\n      POSTGRES_PASSWORD: dev\n    ports: [\"127.0.0.1:5432:5432\"]",
        "spring.datasource.url=jdbc:h2:mem:testdb\nspring.datasource.username=sa\nspring.datasource.password=",
        "Local Keycloak: http://localhost:8080/admin, admin/admin from the quickstart",
        "sqlite:///./dev.db, nothing secret here",
        "elastic/changeme on http://localhost:9200 is the old default for the dev container",
        "ftp://anonymous:anonymous@localhost:2121 for the integration test",
        "Jenkins in docker on localhost:8080 prints the initial admin password to its log, paste it in the browser",
        "amqp://user:password@127.0.0.1:5672 — from the tutorial, local broker",
        "postgres://test:test@localhost/test_suite?sslmode=disable",
        "In der Anleitung: mysql -u root -proot -h 127.0.0.1 (nur lokal!)",
        "en local: postgres://dev:dev@localhost:5432/tienda",
        "Pour le dev : redis://:devpass@localhost:6379, jamais en prod",
    ]
    out += [{"kind": "localhost_sample", "text": frame(r, t)} for t in local]
    hashes = [
        "sha256sum release.tar.gz\n{h64}  release.tar.gz",
        "checksum for the installer: SHA-256 {h64}",
        "md5 of the old file was {h32}, new one differs",
        "sha1: {h40}",
        "image: ghcr.io/acme/api@sha256:{h64}",
        "\"integrity\": \"sha512-{b88}\"",
        "<script src=\"https://cdn.example.net/lib.js\" integrity=\"sha384-{b64_48}\" crossorigin=\"anonymous\"></script>",
        "pip install --require-hashes: requests==2.32.3 --hash=sha256:{h64}",
        "go.sum: golang.org/x/text v0.14.0 h1:{b44}",
        "Prüfsumme (SHA-256) der ISO: {h64}",
        "empreinte SHA-1 du fichier : {h40}",
        "the ETag is \"{h32}\"",
        "Docker layer {h12} already exists",
        "blake3: {h64}",
        "torrent infohash {h40}",
    ]
    for t in hashes * 3:
        out.append({"kind": "hash_digest", "text": frame(r, t.format(
            h64=_sha(r, 64), h32=_sha(r, 32), h40=_sha(r, 40), h12=_sha(r, 12),
            b88=base64.b64encode(r.randbytes(64)).decode(), b64_48=base64.b64encode(r.randbytes(48)).decode(),
            b44=base64.b64encode(r.randbytes(32)).decode()))})
    ids = [
        ("commit_id", "fixed in {h40}, will be in the next release"),
        ("commit_id", "git revert {h7} broke the build again"),
        ("commit_id", "bisected it to {h40} 🎉"),
        ("commit_id", "cherry-pick {h7} and {h7b} onto release/2.4"),
        ("commit_id", "Merge pull request #{n} from kestrel/fix-timeouts ({h7})"),
        ("commit_id", "der Fehler kam mit Commit {h7} rein"),
        ("request_id", "x-request-id: {uuid}"),
        ("request_id", "support asked for the request id, it's {uuid}"),
        ("request_id", "AWS RequestId: {uuid} — AccessDenied on s3:GetObject"),
        ("request_id", "Cloudflare Ray ID: {ray}"),
        ("request_id", "trace_id={h32} span_id={h16}"),
        ("request_id", "correlation id {uuid}, please include it in your ticket"),
        ("request_id", "Sentry event {h32} has the full stack trace"),
        ("request_id", "traceparent: 00-{h32}-{h16}-01"),
        ("uuid", "tenant id {uuid}, not secret, it's in every URL"),
        ("uuid", "the Azure subscription id is {uuid} if you need it for the billing export"),
        ("uuid", "order {uuid} still shows pending"),
        ("uuid", "workspace: {uuid}"),
        ("uuid", "ULID for the job: 01J{ulid}"),
        ("uuid", "ID de la tâche : {uuid}"),
        ("build_id", "pod api-{h10}-{p5} is in CrashLoopBackOff"),
        ("build_id", "build #{n} ({h7}) passed on the third try"),
        ("build_id", "arn:aws:lambda:eu-west-1:{acct}:function:thumbnailer"),
        ("build_id", "the app's bundle id is com.kestrel.app and version code {n}"),
        ("build_id", "Device serial {ser}, please include it in the RMA form"),
    ]
    for kind, t in ids * 3:
        out.append({"kind": kind, "text": frame(r, t.format(
            h40=_sha(r, 40), h7=_sha(r, 7), h7b=_sha(r, 7), uuid=_uuid(r), ray=f"{_sha(r, 16)}-{r.choice(['LHR', 'FRA', 'SJC', 'NRT'])}",
            h32=_sha(r, 32), h16=_sha(r, 16), ulid=s(r, "0123456789ABCDEFGHJKMNPQRSTVWXYZ", 23),
            h10=_sha(r, 10), p5=s(r, LO + DIG, 5), n=r.randint(100, 9999), acct=digits(r, 12),
            ser=s(r, UP + DIG, 12)))})
    masked = [
        "Stripe shows the key as sk_live_••••••••••••{l4}, that's all I can see",
        "the log masks it: AKIA************{l4u}",
        "token=ghp_**************************** (masked by the CI)",
        "the key ending in …{l4} is the one to revoke",
        "Authorization: Bearer [FILTERED]",
        "password=****** in the log, good, the filter works",
        "DATABASE_URL=postgres://app:***@db.internal:5432/app",
        "Der Schlüssel endet auf {l4}, den bitte sperren",
        "webhook: https://hooks.slack.com/services/T…/B…/… (truncated for obvious reasons)",
        "SENDGRID_API_KEY=SG.****.**** (redacted)",
    ]
    for t in masked * 2:
        out.append({"kind": "masked_value", "text": frame(r, t.format(l4=s(r, AN, 4), l4u=s(r, UP + DIG, 4)))})
    out += [{"kind": "security_advice", "text": frame(r, t)} for t in SECURITY_ADVICE]
    out += [{"kind": "password_talk", "text": frame(r, t)} for t in PASSWORD_TALK]
    out += [{"kind": "meme", "text": frame(r, t)} for t in MEMES]
    out += [{"kind": "secret_reference", "text": frame(r, t)} for t in SECRET_REFERENCES]
    for kind, t in NON_EN_NEGATIVES:
        out.append({"kind": kind, "text": frame(r, t.format(
            env=r.choice(FORMATS)[2], t=s(r, AN, 97), h=_sha(r, 64), u=_uuid(r)))})
    out += [{"kind": "password_talk", "text": frame(r, t)} for t in MORE_TALK]
    other = [
        "background: url(data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk{b}AAAAABJRU5ErkJggg==)",
        "--brand: #{hx6}; --accent: #{hx6b};",
        "server listens on [2001:db8:{hx4}::{hx4b}]:8443",
        "MAC {mac} keeps dropping off the wifi",
        "ISBN 978-{i1}-{i2}-{i3}-{i4}",
        "image tag {h12} is the one in prod",
        "license: MIT, SPDX-License-Identifier: MIT",
        "the release notes for v{v} are up",
        "My Steam friend code is {d9}, add me",
        "Discord server invite: discord.gg/{inv}",
    ]
    for t in other * 2:
        out.append({"kind": "other_random_string", "text": frame(r, t.format(
            b=s(r, AN, 12), hx6=s(r, HEX, 6), hx6b=s(r, HEX, 6), hx4=s(r, HEX, 4), hx4b=s(r, HEX, 4),
            mac=":".join(s(r, HEX, 2) for _ in range(6)), i1=r.randint(0, 9), i2=digits(r, 4),
            i3=digits(r, 4), i4=r.randint(0, 9), h12=_sha(r, 12), v=f"{r.randint(1, 9)}.{r.randint(0, 30)}.{r.randint(0, 9)}",
            d9=digits(r, 9), inv=s(r, AN, 8)))})
    return out


# --- personal data: values -----------------------------------------------------------------

def person(r: Rng) -> tuple[str, str]:
    return r.choice(FIRST), r.choice(LAST)


def email_of(r: Rng, first: str, last: str) -> str:
    f = first.lower().replace("-", "")
    ln = last.lower().replace(" ", "").replace("ü", "u").replace("ø", "o")
    user = r.choice([f"{f}.{ln}", f"{f[0]}{ln}", f"{f}{r.randint(70, 99)}", f"{ln}.{f}", f"{f}_{ln[:3]}"])
    return user + "@" + r.choice(["gmail.com", "outlook.com", "proton.me", "web.de", "orange.fr",
                                  "yahoo.co.jp", "icloud.com", "gmx.at", "libero.it", "wp.pl",
                                  "hotmail.co.uk", "uol.com.br"])


PHONES: dict[str, Callable[[Rng], str]] = {
    "us": lambda r: f"({r.randint(201, 989)}) {r.choice([x for x in range(201, 990) if x != 555])}-{r.randint(1000, 9999)}",
    "uk": lambda r: f"+44 7{r.randint(400, 999)} {digits(r, 6)}",
    "de": lambda r: f"+49 1{r.choice(['51', '52', '57', '60', '62', '70', '76'])} {digits(r, 8)}",
    "fr": lambda r: f"0{r.choice('67')} {digits(r, 2)} {digits(r, 2)} {digits(r, 2)} {digits(r, 2)}",
    "in": lambda r: f"+91 {r.randint(70000, 99999)} {digits(r, 5)}",
    "br": lambda r: f"+55 {r.choice(['11', '21', '31', '41'])} 9{digits(r, 4)}-{digits(r, 4)}",
    "jp": lambda r: f"0{r.choice(['80', '90', '70'])}-{digits(r, 4)}-{digits(r, 4)}",
    "au": lambda r: f"04{digits(r, 2)} {digits(r, 3)} {digits(r, 3)}",
    "es": lambda r: f"+34 6{digits(r, 2)} {digits(r, 3)} {digits(r, 3)}",
    "it": lambda r: f"+39 3{digits(r, 2)} {digits(r, 3)} {digits(r, 4)}",
    "nl": lambda r: f"06-{digits(r, 8)}",
    "mx": lambda r: f"+52 55 {digits(r, 4)} {digits(r, 4)}",
    "pl": lambda r: f"+48 {r.choice('5678')}{digits(r, 2)} {digits(r, 3)} {digits(r, 3)}",
    "kr": lambda r: f"010-{digits(r, 4)}-{digits(r, 4)}",
    "za": lambda r: f"+27 {r.choice(['72', '82', '83', '61'])} {digits(r, 3)} {digits(r, 4)}",
}

def _us_street(r: Rng) -> str:
    city, state, zip3 = r.choice([("Tucson", "AZ", "857"), ("Dayton", "OH", "454"), ("Boise", "ID", "837"),
                                  ("Raleigh", "NC", "276"), ("Spokane", "WA", "992"), ("Madison", "WI", "537")])
    unit = r.choice(["", f" Apt {r.randint(1, 40)}", f" Unit {r.choice(UP)}"])
    street = r.choice(["Maple", "Juniper", "Carver", "Linden", "Alder", "Beacon", "Sycamore"])
    kind = r.choice(["St", "Ave", "Dr", "Ln", "Ct"])
    return f"{r.randint(12, 9800)} {street} {kind}{unit}, {city}, {state} {zip3}{digits(r, 2)}"


STREETS = {
    "us": lambda r: _us_street(r),
    "uk": lambda r: f"{r.randint(1, 220)} {r.choice(['Ashgrove', 'Kelso', 'Heathfield', 'Mill', 'Orchard'])} {r.choice(['Road', 'Close', 'Gardens', 'Lane'])}, {r.choice(['Sheffield S11 8', 'Bristol BS6 5', 'Leeds LS6 2', 'Norwich NR2 3', 'Cardiff CF24 4'])}{s(r, 'ABDEFGHJLNPQRSTUWXYZ', 2)}",
    "de": lambda r: f"{r.choice(['Lindenstraße', 'Am Mühlbach', 'Goethestraße', 'Birkenweg', 'Schillerplatz'])} {r.randint(1, 120)}, {r.choice(['80469 München', '50667 Köln', '04109 Leipzig', '28195 Bremen', '70173 Stuttgart'])}",
    "fr": lambda r: f"{r.randint(1, 140)} {r.choice(['rue des Lilas', 'avenue Jean-Jaurès', 'boulevard Voltaire', 'rue du Moulin', 'impasse des Tilleuls'])}, {r.choice(['69003 Lyon', '75011 Paris', '13006 Marseille', '31000 Toulouse', '44000 Nantes'])}",
    "es": lambda r: f"Calle {r.choice(['del Olmo', 'Mayor', 'de Alcalá', 'San Vicente', 'Río Duero'])} {r.randint(1, 90)}, {r.randint(1, 8)}º {r.choice('ABCD')}, {r.choice(['28013 Madrid', '46001 Valencia', '41004 Sevilla', '08012 Barcelona'])}",
    "it": lambda r: f"Via {r.choice(['Garibaldi', 'dei Mille', 'Roma', 'della Spiga', 'Solferino'])} {r.randint(1, 150)}, {r.choice(['20121 Milano', '10123 Torino', '40126 Bologna', '80134 Napoli'])}",
    "nl": lambda r: f"{r.choice(['Prinsengracht', 'Lindengracht', 'Vondelstraat', 'Oudegracht'])} {r.randint(1, 400)}{r.choice(['', '-2', ' A'])}, {r.randint(1011, 3585)} {s(r, 'ABCDEGHJKLMNPRSTVWXZ', 2)} {r.choice(['Amsterdam', 'Utrecht', 'Haarlem'])}",
    "jp": lambda r: f"〒{digits(r, 3)}-{digits(r, 4)} 東京都{r.choice(['世田谷区', '杉並区', '目黒区'])}{r.choice(['北沢', '高円寺南', '自由が丘'])}{r.randint(1, 5)}-{r.randint(1, 30)}-{r.randint(1, 20)}",
    "au": lambda r: f"{r.randint(1, 300)} {r.choice(['Wattle', 'Banksia', 'Coogee Bay', 'Brunswick'])} {r.choice(['St', 'Rd', 'Pde'])}, {r.choice(['Newtown NSW 2042', 'Fitzroy VIC 3065', 'Paddington QLD 4064'])}",
    "ca": lambda r: f"{r.randint(100, 9999)} {r.choice(['rue Saint-Denis', 'Elm Street', 'Rue Cartier', 'Oak Bay Ave'])}, {r.choice(['Montréal QC H2X', 'Toronto ON M6J', 'Victoria BC V8S'])} {r.randint(1, 9)}{r.choice(UP)}{r.randint(1, 9)}",
}


DL_US: list[tuple[str, Callable[[Rng], str]]] = [
    ("California", lambda r: r.choice(UP) + digits(r, 7)),
    ("New York", lambda r: f"{digits(r, 3)} {digits(r, 3)} {digits(r, 3)}"),
    ("Florida", lambda r: f"{r.choice(UP)}{digits(r, 3)}-{digits(r, 3)}-{digits(r, 2)}-{digits(r, 3)}-{digits(r, 1)}"),
    ("Texas", lambda r: digits(r, 8)),
    ("Illinois", lambda r: f"{r.choice(UP)}{digits(r, 3)}-{digits(r, 4)}-{digits(r, 4)}"),
    ("Washington", lambda r: "WDL" + s(r, UP + DIG, 9)),
    ("Pennsylvania", lambda r: f"{digits(r, 2)} {digits(r, 3)} {digits(r, 3)}"),
    ("Michigan", lambda r: f"{r.choice(UP)} {digits(r, 3)} {digits(r, 3)} {digits(r, 3)} {digits(r, 3)}"),
    ("New Jersey", lambda r: f"{r.choice(UP)}{digits(r, 4)} {digits(r, 5)} {digits(r, 5)}"),
    ("Ohio", lambda r: s(r, UP, 2) + digits(r, 6)),
]

PASSPORTS: list[tuple[str, str, Callable[[Rng], str]]] = [
    ("us", "US", lambda r: r.choice(["", r.choice(UP)]) + digits(r, 8 if r.random() < 0.5 else 9)),
    ("uk", "British", lambda r: str(r.randint(1, 9)) + digits(r, 8)),
    ("de", "German", lambda r: r.choice("CFGHJK") + s(r, "CFGHJKLMNPRTVWXYZ0123456789", 8)),
    ("fr", "French", lambda r: digits(r, 2) + s(r, UP, 2) + digits(r, 5)),
    ("in", "Indian", lambda r: r.choice("JKLMNPRSTUVWZ") + digits(r, 7)),
    ("ca", "Canadian", lambda r: s(r, UP, 2) + digits(r, 6)),
    ("au", "Australian", lambda r: r.choice("PNRE") + r.choice(UP) + digits(r, 7)),
    ("es", "Spanish", lambda r: s(r, UP, 3) + digits(r, 6)),
    ("it", "Italian", lambda r: s(r, UP, 2) + digits(r, 7)),
    ("br", "Brazilian", lambda r: s(r, UP, 2) + digits(r, 6)),
]

NATIONAL_IDS: list[tuple[str, str, Gen]] = [
    ("es", "DNI", nid_es), ("nl", "BSN", nid_nl), ("pl", "PESEL", nid_pl), ("ca", "SIN", nid_ca),
    ("br", "CPF", nid_br), ("in", "Aadhaar", nid_in), ("fr", "numéro de sécu", nid_fr),
    ("cn", "身份证号", nid_cn), ("it", "codice fiscale", nid_it), ("be", "rijksregisternummer", nid_be),
    ("se", "personnummer", nid_se), ("fi", "henkilötunnus", nid_fi), ("no", "fødselsnummer", nid_no),
    ("tr", "TC kimlik no", nid_tr), ("za", "ID number", nid_za), ("kr", "주민등록번호", nid_kr),
    ("de", "Steuer-ID", nid_de), ("pt", "NIF", nid_pt), ("cl", "RUT", nid_cl), ("mx", "CURP", nid_mx),
    ("at", "Sozialversicherungsnummer", nid_at), ("uk", "National Insurance number", nino_uk),
]

NID_TEMPLATES: dict[str, list[str]] = {
    "es": ["El DNI de {name} es {v}, lo necesito para el contrato", "{name} — DNI {v}, fecha de alta el lunes", "pásame los datos: {name}, {v}", "DNI del inquilino: {v} ({name})", "Para la reserva a nombre de {name}: documento {v}"],
    "nl": ["BSN van {name}: {v}", "{name} heeft BSN {v}, graag invullen op het formulier", "kun je {name} inschrijven? burgerservicenummer {v}", "Client {name}, BSN {v}, afspraak dinsdag", "sofinummer/BSN {v} hoort bij {name}"],
    "pl": ["PESEL {name}: {v}", "Dane do umowy: {name}, PESEL {v}", "{name} podał PESEL {v} przez telefon", "numer PESEL pacjenta {name} to {v}", "pracownik {name}, PESEL {v}"],
    "ca": ["{name}'s SIN is {v}, payroll needs it by Friday", "SIN for the new contractor ({name}): {v}", "Tenant application — {name}, SIN {v}", "her social insurance number: {v} ({name})", "{name} NAS/SIN {v}"],
    "br": ["CPF do {name}: {v}", "{name}, CPF {v}, quer parcelar em 3x", "me manda o CPF dela? achei: {v} ({name})", "cadastro: {name} — CPF {v}", "o CPF {v} é do {name}, confere?"],
    "in": ["Aadhaar of {name}: {v}", "{name} ka Aadhaar number {v} hai, KYC ke liye", "KYC pending for {name}, Aadhaar {v}", "customer {name} shared Aadhaar {v} on WhatsApp", "attach {name}'s Aadhaar ({v}) to the loan file"],
    "fr": ["Le numéro de sécu de {name} : {v}", "{name}, n° de sécurité sociale {v}, dossier mutuelle", "NIR du salarié {name} : {v}", "pour l'arrêt maladie de {name}, numéro {v}", "carte Vitale de {name} : {v}"],
    "cn": ["{name}的身份证号是{v}", "客户{name}，身份证{v}，请核实", "登记信息：{name} {v}", "{name} 身份证号码：{v}", "帮我查一下这个身份证号 {v}（{name}）"],
    "it": ["Codice fiscale di {name}: {v}", "{name}, CF {v}, per la fattura", "mi serve il codice fiscale di {name}? eccolo: {v}", "dati paziente {name} — codice fiscale {v}", "il CF {v} è di {name}"],
    "be": ["Rijksregisternummer van {name}: {v}", "numéro national de {name} : {v}", "{name}, RRN {v}, voor het huurcontract", "INSZ {v} ({name})", "eID-nummer van {name} is {v}"],
    "se": ["{name}s personnummer är {v}", "personnr {v} ({name}) till hyresavtalet", "Kund {name}, personnummer {v}", "{name} födelsenummer/personnummer: {v}", "skicka in {name}: {v}"],
    "fi": ["{name}n henkilötunnus on {v}", "hetu {v} ({name}) tarvitaan vuokrasopimukseen", "Asiakas {name}, henkilötunnus {v}", "{name}: {v}", "työntekijän {name} hetu: {v}"],
    "no": ["Fødselsnummeret til {name} er {v}", "{name}, fnr {v}, til lønnssystemet", "personnummer {v} hører til {name}", "leietaker {name} — fødselsnr. {v}", "fnr: {v} ({name})"],
    "tr": ["{name} TC kimlik no: {v}", "Müşteri {name}, TC {v}", "{name}'ın kimlik numarası {v}", "TCKN {v} - {name}", "kayıt için {name}: {v}"],
    "za": ["{name}'s ID number is {v}", "ID no. {v} for {name}, FICA docs attached", "{name} — SA ID {v}", "client {name}, identity number {v}", "RICA details: {name} {v}"],
    "kr": ["{name} 주민등록번호 {v}", "고객 {name}, 주민번호 {v}", "{name}님의 주민등록번호는 {v} 입니다", "회원 {name} ({v})", "주민번호 {v} {name}"],
    "de": ["Steuer-ID von {name}: {v}", "{name}, steuerliche Identifikationsnummer {v}, für die Lohnabrechnung", "IdNr {v} ({name})", "Bitte {name} mit Steuer-ID {v} anlegen", "die Steueridentifikationsnummer meines Kollegen {name}: {v}"],
    "pt": ["NIF do {name}: {v}", "{name}, contribuinte {v}, fatura por favor", "número de contribuinte de {name}: {v}", "cliente {name} NIF {v}", "o NIF {v} é da {name}"],
    "cl": ["RUT de {name}: {v}", "{name}, RUT {v}, para el contrato", "cliente {name} — rut {v}", "el RUT {v} es de {name}", "datos: {name} {v}"],
    "mx": ["CURP de {name}: {v}", "{name}, CURP {v}, para el trámite", "la CURP {v} es de {name}", "alta en IMSS: {name} CURP {v}", "registro {name} / {v}"],
    "at": ["Sozialversicherungsnummer von {name}: {v}", "{name}, SVNR {v}, Anmeldung ÖGK", "SV-Nummer {v} ({name})", "bitte für {name} eintragen: {v}", "Versicherungsnummer meiner Nachbarin {name}: {v}"],
    "uk": ["{name}'s NI number is {v}", "NINO {v} for {name}, HR needs it", "new starter {name}, national insurance {v}", "{name} NI: {v}", "payroll: {name} — {v}"],
}

PII_TEMPLATES: dict[str, list[str]] = {
    "email": [
        "{h} {name}'s personal email is {v}, try that instead of the work one",
        "if you want to complain to {name} directly: {v}",
        "Found {name}'s address on an old mailing list — {v}. Spam away",
        "{name} left the company but still uses {v}, I'll forward it",
        "for the surprise party, {name}'s partner is reachable at {v}",
        "Escalation from support: customer {name} ({v}) wants a refund",
        "Die private Mail von {name} lautet {v}",
        "L'adresse perso de {name}, c'est {v}",
        "El correo de {name} es {v}, escríbele tú",
        "o email do {name} é {v}",
        "Attendee list leaked: {name} <{v}>, and more in the replies",
        "[{t}] {who}: can someone loop in {name}? {v}",
        "{name} ({v}) keeps reviewing our shop badly, let's all email them",
        "CC'ing {name} on this: {v}",
        "this is the guy who cut me off in traffic, his email is {v} apparently ({name})",
        "{name}さんのメールアドレスは {v} です",
        "l'indirizzo email di {name}: {v}",
        "mijn buurman {name} mailt vanaf {v}",
        "Reminder for the reunion: {name}'s current email is {v}",
        "Reddit: my landlord {name} won't return the deposit. Email them at {v} and say what you think",
    ],
    "phone": [
        "{name}'s cell is {v}, call them if I'm not answering",
        "my sister's number, for the pickup: {v} ({name})",
        "text {name} at {v} about the sofa",
        "The driver who hit my car gave me {v} — {name}. Not answering",
        "{h} that scammer's number is {v}, name's {name} apparently. Go nuts",
        "support ticket: customer {name}, callback number {v}",
        "Handynummer von {name}: {v}",
        "le portable de {name} : {v}",
        "El móvil de {name} es {v}",
        "o celular da {name}: {v}",
        "il cellulare di {name} è {v}",
        "{name}の携帯番号は{v}です",
        "numer do {name}: {v}",
        "Tenant emergency contact: {name}, {v}",
        "babysitter {name} — {v}, very reliable",
        "[{t}] {who}: who has {name}'s number? [{t}] {who2}: {v}",
        "Call {name} on {v} and ask why the invoice is late",
        "het nummer van {name} is {v}",
        "{name}'s WhatsApp: {v}",
        "my ex {name} changed numbers, it's {v} now, in case anyone wants to say hi",
    ],
    "address": [
        "{name} lives at {v}, go tell them what you think of that review",
        "send the wedding invite for {name} to {v}",
        "Delivery for {name}: {v}. Leave it with the neighbour",
        "The owner of that dog is {name}, {v}",
        "found where {name} moved: {v}",
        "Tenant {name} at {v} hasn't paid in three months",
        "Die neue Adresse von {name}: {v}",
        "{name} habite au {v}",
        "{name} vive en {v}",
        "a {name} mora na {v}",
        "l'indirizzo di {name}: {v}",
        "{name}さんの住所: {v}",
        "{name} woont op {v}",
        "for the secret santa: {name}, {v}",
        "Complaint from {name} ({v}) about the noise, again",
        "{h} the person harassing you is {name}, {v}. Thought you should know",
        "please forward {name}'s post to {v} from now on",
        "Patient {name}, home address {v}, transport booked",
    ],
    "ssn": [
        "{name}'s SSN is {v}, HR needs it for the W-4",
        "SSN {v} belongs to {name} — please fix the payroll record",
        "Loan application for {name}: social {v}",
        "I-9 for the new hire {name}, SSN {v}",
        "{h} I found my ex's social: {v} ({name})",
        "customer verified with SSN {v} ({name}), proceeding",
        "dependents on the form: {name}, SSN {v}",
        "the tax preparer emailed {name}'s social security number in plain text: {v}",
        "Número de seguro social de {name}: {v}",
        "benefits enrollment — {name} / {v}",
    ],
    "card": [
        "{name}'s card: {v} exp {exp} cvv {cvv}",
        "charge it to {name}'s {scheme}, {v}, expires {exp}",
        "the booking was made with {v} ({scheme}, {name})",
        "ticket #{n}: caller {name} read out card {v} exp {exp}",
        "Kreditkarte von {name}: {v}, gültig bis {exp}",
        "carte de {name} : {v} exp. {exp}",
        "tarjeta de {name}: {v}, vence {exp}, CVV {cvv}",
        "cartão do {name}: {v} validade {exp}",
        "{h} use my mum's card, {v}, {exp}, {cvv} — she said it's fine",
        "pasted from the order notes: {scheme} {v} / {exp} / {name}",
    ],
    "iban": [
        "{name}'s IBAN for the refund: {v}",
        "pay {name} to {v}, reference 'rent'",
        "IBAN von {name}: {v}",
        "IBAN de {name} : {v}",
        "el IBAN de {name} es {v}",
        "IBAN di {name}: {v}",
        "IBAN van {name}: {v}",
        "rachunek {name}: {v}",
        "supplier {name}, bank details {v}, pay on receipt",
        "transfer the deposit to {v} (account holder {name})",
    ],
    "passport": [
        "{name}'s passport number is {v}, booking the flight now",
        "visa form for {name}: {nat} passport {v}",
        "Passnummer von {name}: {v}",
        "numéro de passeport de {name} : {v}",
        "número de pasaporte de {name}: {v}",
        "guest list for the embassy event — {name}, {nat} passport {v}",
        "check-in for {name} failed, passport no. {v}",
        "{name}パスポート番号 {v}",
    ],
    "dl_us": [
        "{name}'s {state} driver's license number is {v}",
        "rental agreement: {name}, DL# {v} ({state})",
        "the other driver: {name}, {state} license {v}",
        "{state} DL {v}, {name}, DOB on file",
        "ID check at the bar logged {name} — {state} driver license {v}",
    ],
    "medical_record": [
        "patient {name}, MRN {v}, discharged yesterday",
        "{name} (MRN {v}) tested positive, notify the ward",
        "chart for {name}: medical record number {v}",
        "Patientin {name}, Fallnummer {v}, Befund anbei",
        "dossier médical de {name}, n° {v}",
        "historia clínica de {name}: {v}",
        "MRN {v} — {name}, allergy to penicillin",
        "Radiology request for {name}, MRN {v}",
    ],
    "health_insurance": [
        "{name}'s {plan} number is {v}",
        "insurance for {name}: {plan} {v}",
        "{plan} {v} ({name}) — claim rejected",
        "billing needs {name}'s {plan}: {v}",
        "Versichertennummer von {name}: {v}",
        "the clinic asked for {name}'s {plan}, it's {v}",
    ],
    "dob": [
        "{name} was born on {v}, so the discount applies",
        "{name} (DOB {v}) applied twice",
        "Geburtsdatum von {name}: {v}",
        "{name}, né le {v}",
        "{name}, nacida el {v}",
        "fun fact: {name} from accounts was born {v}, so the password is probably that",
        "patient {name}, date of birth {v}",
        "{name}'s birthday is {v}, big party planned",
        "date de naissance de {name} : {v}",
        "{name} ur. {v}",
        "{name} 生年月日 {v}",
        "identity check: {name}, d.o.b. {v}",
    ],
    "bank_account": [
        "wire to {name}: routing {rt}, account {acct}",
        "{name}'s bank details — ABA {rt}, acct #{acct}",
        "direct deposit form for {name}: routing number {rt}, account number {acct}",
        "{name}, sort code {sort}, account {uk}",
        "pay {name} via sort code {sort} / {uk}",
        "BSB {bsb}, account {au} ({name})",
        "{name} ka account {inacct}, IFSC {ifsc}",
        "Canadian cheque: {name}, transit {tr}, institution {inst}, account {ca}",
        "{h} send it to my flatmate {name}: sort {sort}, acc {uk}",
        "vendor {name}: routing {rt} / account {acct}",
    ],
}

GENERIC_PII = [
    "{name}: {v}",
    "posting this since {name} won't stop: {v}",
    "leaked spreadsheet, row 14: {name}, {v}",
    "{h2} here you go, {name} — {v}",
    "from the CRM export: {name} | {v}",
]


class Cycler:
    """Hands out a kind's templates in a shuffled cycle, so none is used far more than others."""

    def __init__(self, r: Rng, table: dict[str, list[str]]) -> None:
        self.r = r
        self.table = {k: r.sample(v, len(v)) for k, v in table.items()}
        self.pos: Counter[str] = Counter()

    def next(self, kind: str) -> str:
        items = self.table[kind]
        t = items[self.pos[kind] % len(items)]
        self.pos[kind] += 1
        return t


def _dob(r: Rng) -> str:
    y, m, d = _birth(r, 1940, 2008)
    months = ["January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December"]
    return r.choice([f"{d:02d}/{m:02d}/{y}", f"{y}-{m:02d}-{d:02d}", f"{months[m - 1]} {d}, {y}",
                     f"{d} {months[m - 1]} {y}", f"{d:02d}.{m:02d}.{y}", f"{m}/{d}/{y % 100:02d}"])


def pii_positive(r: Rng) -> list[Row]:
    out: list[Row] = []
    cyc = Cycler(r, PII_TEMPLATES)
    gen_i = 0

    def add(kind: str, tmpl_kind: str, v: str, who: tuple[str, str] | None = None, **extra: str) -> None:
        nonlocal gen_i
        first, last = who or person(r)
        name = r.choice([f"{first} {last}", first, f"{first} {last[0]}."]) if tmpl_kind != "dob" else f"{first} {last}"
        if r.random() < 0.08:
            t = GENERIC_PII[gen_i % len(GENERIC_PII)]
            gen_i += 1
        else:
            t = cyc.next(tmpl_kind)
        out.append({"kind": kind, "text": frame(r, t.format(v=v, name=name, **extra, **_fill(r)))})

    for _ in range(42):
        f, ln = person(r)
        add("email", "email", email_of(r, f, ln), who=(f, ln))
    for c, g in PHONES.items():
        for _ in range(5):
            add(f"phone_{c}", "phone", g(r))
    for c, g in STREETS.items():
        for _ in range(6):
            add(f"address_{c}", "address", g(r))
    for _ in range(25):
        add("ssn", "ssn", ssn_us(r))
    for _ in range(32):
        scheme, num = card_number(r)
        add("card", "card", num, scheme=scheme, exp=f"{r.randint(1, 12):02d}/{r.randint(27, 31)}",
            cvv=digits(r, 4 if scheme == "Amex" else 3))
    for i in range(32):
        c = ["DE", "FR", "GB", "ES", "NL", "BE", "IT", "CH", "AT", "PL", "IE", "PT", "SE"][i % 13]
        iban = iban_for(r, c)
        add("iban", "iban", grouped(iban) if r.random() < 0.6 else iban)
    for i in range(30):
        code, nat, g = PASSPORTS[i % len(PASSPORTS)]
        add(f"passport_{code}", "passport", g(r), nat=nat)
    mrz_intro = ["scan of {name}'s passport, the bottom lines:", "MRZ from the check-in desk ({name}):",
                 "Zone de lecture du passeport de {name} :", "OCR output of the guest's passport:",
                 "Maschinenlesbare Zone vom Pass von {name}:", "{name} passport photo page, text layer:",
                 "did the OCR get this right? ({name})", "zona MRZ del pasaporte de {name}:",
                 "MRZ copied into the ticket for {name}:", "the passport reader spat out:"]
    for i in range(10):
        f, ln = person(r)
        l1, l2 = mrz(r, ln.replace(" ", "<"), f.replace("-", "<"), r.choice(["GBR", "DEU", "FRA", "NLD", "SWE", "ITA", "ESP", "CAN", "UTO"]))
        out.append({"kind": "passport_mrz", "text": mrz_intro[i].format(name=f"{f} {ln}") + "\n" + l1 + "\n" + l2})
    for code, _label, g in NATIONAL_IDS:
        for t in NID_TEMPLATES[code]:
            f, ln = person(r)
            out.append({"kind": f"national_id_{code}", "text": frame(r, t.format(v=g(r), name=f"{f} {ln}", **_fill(r)))})
    for i in range(20):
        state, g = DL_US[i % len(DL_US)]
        add("drivers_licence_us", "dl_us", g(r), state=state)
    for _ in range(20):
        mrn = r.choice([f"MRN-{digits(r, 7)}", digits(r, 8), f"{s(r, UP, 2)}{digits(r, 6)}", f"{digits(r, 3)}-{digits(r, 2)}-{digits(r, 2)}"])
        add("medical_record", "medical_record", mrn)
    plans = [("NHS number", nhs_number), ("Medicare number", medicare_au), ("Medicare Beneficiary Identifier", mbi_us),
             ("Krankenversichertennummer", kvnr_de), ("member ID", lambda r: f"{s(r, UP, 3)}{digits(r, 9)}"),
             ("policy number", lambda r: f"{s(r, UP, 2)}-{digits(r, 8)}")]
    for i in range(24):
        plan, g = plans[i % len(plans)]
        add(f"health_insurance_{_slug(plan).replace('-', '_')}", "health_insurance", g(r), plan=plan)
    for _ in range(30):
        add("dob_with_name", "dob", _dob(r))
    spelled = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    obf = [
        ("email_obfuscated", "{name}'s mail, bot-proofed: {u} [at] {d} [dot] {tld}"),
        ("email_obfuscated", "write to {name}: {u} (at) {d} (dot) {tld} — DMs get ignored"),
        ("email_obfuscated", "{u} at {d} dot {tld} is {name}'s address, tell them yourself"),
        ("email_obfuscated", "E-Mail von {name}: {u} [ät] {d} [punkt] {tld}"),
        ("email_obfuscated", "correo de {name}: {u} arroba {d} punto {tld}"),
        ("phone_spelled", "{name}'s number is {spelled}"),
        ("phone_spelled", "call {name}: {spelled} (spelled out so the filter lets it through)"),
        ("phone_spelled", "{h} {name} — {spelled}"),
        ("ssn_spaced", "{name}'s social: {ssn_sp}"),
        ("ssn_spaced", "SSN for {name} (spaced out, you know why): {ssn_sp}"),
    ]
    for kind, tmpl in obf * 2:
        f, ln = person(r)
        mail = email_of(r, f, ln)
        user, dom = mail.split("@")
        d, tld = dom.split(".", 1)
        ph = digits(r, 3) + digits(r, 3) + digits(r, 4)
        out.append({"kind": kind, "text": frame(r, tmpl.format(
            name=f"{f} {ln}", u=user, d=d, tld=tld.replace(".", " dot "),
            spelled=" ".join(spelled[int(c)] for c in str(r.randint(2, 9)) + ph[1:]),
            ssn_sp=" ".join(ssn_us(r).replace("-", "")), **_fill(r)))})
    records = [
        "Name: {name}\nDOB: {dob}\nAddress: {addr}\nPhone: {phone}",
        "name,email,phone\n{name},{mail},{phone}",
        "| Patient | DOB | MRN |\n|---|---|---|\n| {name} | {dob} | {mrn} |",
        "Kunde: {name}, geb. {dob}, {addr}, Tel. {phone}",
        "Client : {name} — né(e) le {dob} — {mail}",
        "{{\"name\": \"{name}\", \"email\": \"{mail}\", \"dob\": \"{dob}\"}}",
        "applicant {name} / {dob} / SSN {ssn}",
        "leaked row: {name}; {mail}; {phone}; {addr}",
        "Paciente: {name}, nacimiento {dob}, tel {phone}",
        "<tr><td>{name}</td><td>{mail}</td><td>{phone}</td></tr>",
    ]
    for tmpl in records:
        f, ln = person(r)
        c = r.choice(list(STREETS))
        out.append({"kind": "record_dump", "text": frame(r, tmpl.format(
            name=f"{f} {ln}", dob=_dob(r), addr=STREETS[c](r), phone=PHONES[r.choice(list(PHONES))](r),
            mail=email_of(r, f, ln), mrn=f"MRN-{digits(r, 7)}", ssn=ssn_us(r)))})
    for _ in range(25):
        add("bank_account", "bank_account", "", rt=aba_routing(r), acct=digits(r, r.randint(8, 12)),
            sort=f"{digits(r, 2)}-{digits(r, 2)}-{digits(r, 2)}", uk=digits(r, 8),
            bsb=f"{digits(r, 3)}-{digits(r, 3)}", au=digits(r, 9), inacct=digits(r, 12),
            ifsc=r.choice(["SBIN", "HDFC", "ICIC", "UTIB"]) + "0" + digits(r, 6),
            tr=digits(r, 5), inst=r.choice(["001", "002", "003", "004", "006"]), ca=digits(r, 7))
    return out


# --- personal data: negatives --------------------------------------------------------------

# The fictional companies' published contacts (plus the example organisation's) that these
# negatives quote; a deployment lists such addresses as published contacts.
PUBLISHED: dict[str, list[str]] = {
    "Acme": ["press@acme-example.com", "+1 800 555 0199", "100 Innovation Way, Austin, TX 78701"],
    "Larkspur Robotics": ["support@larkspur-robotics.com", "security@larkspur-robotics.com",
                          "+44 20 3945 1180", "Unit 4, Riverside Works, Sheffield S3 8EN"],
    "Bellwether Foods": ["press@bellwetherfoods.eu", "kundenservice@bellwetherfoods.eu",
                         "Kaiserstraße 18, 60311 Frankfurt am Main", "+49 69 2475 3300"],
    "Kestrel": ["hello@kestrel.app", "abuse@kestrel.app", "+33 1 84 88 21 40"],
    "Northwind Freight": ["careers@northwind-freight.com", "claims@northwind-freight.com",
                          "1-877-482-6000", "2200 Harbor Blvd, Long Beach, CA 90810"],
}

PUBLISHED_TEMPLATES: dict[str, list[str]] = {
    "email": [
        "For press enquiries about the launch, contact {co} at {v}",
        "{co} support is reachable at {v}, they answered me within an hour",
        "Found a vulnerability in {co}'s app? Their published contact is {v}",
        "Per {co}'s website, complaints go to {v}",
        "Job hunting? {co} is hiring, the listing says to send your CV to {v}",
        "Le service client de {co} répond à {v}",
        "El contacto de prensa de {co} es {v}",
        "{co}'s press page lists {v} for media",
        "The contact on {co}'s imprint page is {v}",
        "Reposting {co}'s announcement: questions to {v}",
        "Il contatto stampa di {co} è {v}, lo trovi sul sito",
        "{co} says in their FAQ that refunds are handled by {v}",
    ],
    "phone": [
        "Official: {co} customer service — {v}",
        "Reached {co}'s hotline ({v}), finally a human",
        "{co} hat eine Kundenhotline unter {v}",
        "o atendimento da {co} é pelo {v}",
        "the number on {co}'s website is {v}, open 9 to 5",
        "Per informazioni: {co}, {v}",
        "if your parcel is damaged, {co} says to call {v}",
        "'{v}' is on every {co} invoice, that's their billing line",
    ],
    "address": [
        "{co} HQ: {v}",
        "{co} — visit the showroom at {v}",
        "returns go to {co}'s warehouse, {v}, per their FAQ",
        "Le siège de {co} : {v}",
        "{co}'s registered office is {v}, it's on their website",
        "La sede de {co} está en {v}",
        "Tour of {co}'s office at {v} today, great people",
    ],
}

OWN_EMAIL = [
    "email me at {v} if you want the slides",
    "you can reach me on {v}, I check it daily",
    "DM me or mail {v}",
    "my work email is {v}, happy to chat about the role",
    "hit me up: {v}",
    "I'm {who}, the organiser — questions to {v}",
    "Feel free to contact me directly at {v}",
    "send your drafts to me at {v} by Friday",
    "for the carpool, email me: {v}",
    "My new address is {v}, the old one is gone",
    "reach out to me ({v}) if you want to volunteer",
    "Kontakt: {v} – das bin ich, schreibt mir gern",
    "Schreibt mir einfach an {v}",
    "écrivez-moi à {v}",
    "Mon adresse mail : {v}, n'hésitez pas",
    "escríbeme a {v} y lo vemos",
    "mi correo es {v}, escríbeme cuando quieras",
    "me manda um email: {v}",
    "scrivetemi a {v}",
    "mail mij gerust op {v}",
    "napiszcie do mnie: {v}",
    "skicka mig ett mejl på {v}",
    "bana {v} adresinden yazabilirsiniz",
    "私のメールアドレスは {v} です。お気軽にどうぞ",
    "I'm selling my old bike — email me ({v}) if interested",
    "CV available on request: {v}",
    "if the link breaks, email me at {v} and I'll resend",
    "freelance again! new projects to me at {v}",
    "(that's me) {v} — ping me with feedback",
    "Contact the author: {v}",
]

OWN_PHONE = [
    "call me on {v} when you land",
    "text me at {v}, I'm outside",
    "my number's {v} if the door is locked",
    "you can WhatsApp me: {v}",
    "ring me on {v} after 6",
    "I changed my number, it's {v} now",
    "If anyone finds a grey backpack on the 14 bus, please call me: {v}",
    "lost dog! if you see him call me at {v}",
    "Tutoring maths and physics, call or text me: {v}",
    "for the group booking, my mobile is {v}",
    "Ruf mich an: {v}",
    "Meine neue Nummer: {v}",
    "appelez-moi au {v}",
    "mon numéro : {v}, texto de préférence",
    "llámame al {v}",
    "mi móvil es {v}, escríbeme por WhatsApp",
    "me liga no {v}",
    "chiamami al {v}",
    "bel me op {v}",
    "zadzwoń do mnie: {v}",
    "ring mig på {v}",
    "beni {v} numarasından arayabilirsiniz",
    "私の電話番号は{v}です",
    "내 번호는 {v} 이야",
    "Selling my old couch, text me at {v}",
    "reach me on {v}, I'm the one running the stall",
    "ping me on {v} if the delivery guy comes while I'm out",
    "Plumber recommendation? no, I AM the plumber: {v}",
    "Signal or call: {v} (me)",
    "I'm the host tonight — my cell is {v}",
]

OWN_ADDRESS = [
    "we moved! new address for the Christmas cards: {v}",
    "party at my place, {v}, bring snacks",
    "send the return to me at {v}",
    "Our new flat: {v}. Housewarming Saturday!",
    "post the book to me please: {v}",
    "Neue Adresse (meine): {v}",
    "ma nouvelle adresse : {v}",
    "mi dirección nueva es {v}",
    "meu endereço: {v}",
    "I'm hosting book club at mine this month — {v}",
]

OWN_OTHER = [
    ("own_dob", "I was born on {dob}, so yes, I'm a Pisces apparently"),
    ("own_dob", "my birthday is {dob}, please no surprise party"),
    ("own_dob", "Ich bin am {dob} geboren und fühle mich alt"),
    ("own_iban", "for the refund, my own IBAN is {iban}"),
    ("own_iban", "pay me back to my account {iban}, thanks!"),
    ("own_iban", "meine IBAN für die Überweisung: {iban}"),
    ("own_salary", "sharing my own salary for transparency: $84,000 base, 2 years in"),
    ("own_salary", "I make £41k as a senior nurse and I'm not ashamed to say it"),
]

TEST_CARDS = [
    ("4242 4242 4242 4242", "Stripe's test Visa"), ("4000 0566 5566 5556", "Stripe's Visa debit test card"),
    ("5555 5555 5555 4444", "the Mastercard test number"), ("2223 0031 2200 3222", "the 2-series Mastercard test card"),
    ("3782 822463 10005", "the Amex test number"), ("6011 1111 1111 1117", "the Discover test card"),
    ("3566 0020 2036 0505", "the JCB test card"), ("4000 0000 0000 0002", "the always-declined test card"),
    ("4000 0027 6000 3184", "the 3-D Secure test card"), ("4111 1111 1111 1111", "the classic test Visa"),
    ("5200 8282 8282 8210", "the Mastercard debit test number"), ("6200 0000 0000 0005", "the UnionPay test card"),
]

TEST_CARD_CTX = [
    "in test mode use {c} ({d}), any future expiry, any CVC",
    "QA note: checkout passes with {c}, {d}, on the sandbox",
    "the e2e test enters {c} — that's {d}, it never charges anything",
    "Demo tip: type {c} at checkout, it's {d}",
    "Testkarte für die Sandbox: {c} ({d})",
    "carte de test en mode sandbox : {c}",
    "Playwright fixture: card = \"{c}\"  # {d}, test mode",
    "tarjeta de prueba para el entorno de test: {c} ({d})",
    "Our staging checkout only accepts test numbers like {c} ({d})",
]

TEST_IBANS = [
    "the SEPA test IBAN in our sandbox is DE89 3704 0044 0532 0130 00",
    "IBAN example from the registry docs: GB82 WEST 1234 5698 7654 32",
    "Beispiel-IBAN aus der Doku: DE89370400440532013000 (Testumgebung)",
    "for the test payment use the example IBAN NL91 ABNA 0417 1643 00",
    "IBAN d'exemple pour les tests : FR14 2004 1010 0505 0001 3M02 606",
    "078-05-1120 is the famous Woolworth wallet SSN, the classic example of an SSN everyone used",
]

LANDMARKS = [
    ("the White House", "1600 Pennsylvania Avenue NW, Washington, DC 20500"),
    ("the Sherlock Holmes Museum", "221B Baker Street, London NW1 6XE"),
    ("Number 10", "10 Downing Street, London SW1A 2AA"),
    ("the Empire State Building", "350 Fifth Avenue, New York, NY 10118"),
    ("the Louvre", "Rue de Rivoli, 75001 Paris"),
    ("the Reichstag", "Platz der Republik 1, 11011 Berlin"),
    ("the Sydney Opera House", "Bennelong Point, Sydney NSW 2000"),
    ("Graceland", "3764 Elvis Presley Blvd, Memphis, TN 38116"),
    ("the Colosseum", "Piazza del Colosseo 1, 00184 Roma"),
    ("the Sagrada Família", "Carrer de Mallorca 401, 08013 Barcelona"),
    ("the Rijksmuseum", "Museumstraat 1, 1071 XX Amsterdam"),
    ("the Anne Frank House", "Prinsengracht 263-267, 1016 GV Amsterdam"),
    ("the Space Needle", "400 Broad St, Seattle, WA 98109"),
    ("Apple Park", "One Apple Park Way, Cupertino, CA 95014"),
    ("the Googleplex", "1600 Amphitheatre Parkway, Mountain View, CA 94043"),
    ("Microsoft's campus", "One Microsoft Way, Redmond, WA 98052"),
    ("the Prado", "Calle de Ruiz de Alarcón 23, 28014 Madrid"),
    ("the British Museum", "Great Russell Street, London WC1B 3DG"),
    ("the Musée d'Orsay", "1 Rue de la Légion d'Honneur, 75007 Paris"),
    ("the Hofbräuhaus", "Platzl 9, 80331 München"),
    ("Madison Square Garden", "4 Pennsylvania Plaza, New York, NY 10001"),
    ("the Royal Albert Hall", "Kensington Gore, London SW7 2AP"),
    ("the Elbphilharmonie", "Platz der Deutschen Einheit 4, 20457 Hamburg"),
    ("the Uffizi", "Piazzale degli Uffizi 6, 50122 Firenze"),
    ("the Guggenheim Bilbao", "Abandoibarra Etorbidea 2, 48009 Bilbao"),
    ("the Willis Tower", "233 S Wacker Dr, Chicago, IL 60606"),
    ("Wembley Stadium", "Wembley, London HA9 0WS"),
    ("Tokyo Tower", "4-2-8 Shibakoen, Minato City, Tokyo 105-0011"),
]

LANDMARK_TEMPLATES = [
    "Visited {p} today — {a}. The queue was worth it",
    "meet at {p} ({a}) at noon?",
    "fun fact: {p} has a real postal address, {a}",
    "If you're in town, {p} at {a} is free on Sundays",
    "Taxi driver had no idea where {p} was. It's {a}!",
    "Wir treffen uns vor {p}, {a}",
    "Rendez-vous devant {p}, {a}",
    "Quedamos en {p}, {a}",
    "the protest starts outside {p}, {a}",
    "Photos from {p} ({a}) in the thread 📸",
    "{p}'s official address is {a}, in case your sat-nav gets confused",
    "Ci vediamo davanti a {p}, {a}",
    "school trip to {p} ({a}) on Thursday",
    "The tour bus drops you right at {p}, {a}",
]

VENUES = ["The Lantern Rooms", "Copper Kettle Café", "Hotel Miramar", "Saint Brigid's Hall",
          "Bar Amarelo", "Kulturzentrum Alte Mühle", "Le Petit Zinc", "Harbourside Climbing Wall",
          "Green Tomato Bistro", "Fablab Nord", "Ristorante Da Gino", "Sunrise Yoga Studio"]

VENUE_TEMPLATES = [
    "Gig tonight at {p}, {a}, doors at 8",
    "{p} has reopened at {a} — best coffee in town",
    "Book club moved to {p} ({a}) this month",
    "the meetup is at {p}, {a}, 2nd floor",
    "our bakery has moved! find us at {a}",
    "Heute Abend Konzert im {p}, {a}",
    "Nouvelle adresse de {p} : {a}",
    "La cena es en {p}, {a}",
    "Just had lunch at {p}, {a}, 10/10 would recommend",
    "{p}, {a}: open till late on Fridays",
]

FAMOUS = [
    ("Albert Einstein", "14 March 1879"), ("Ada Lovelace", "10 December 1815"),
    ("Marie Curie", "7 November 1867"), ("Alan Turing", "23 June 1912"),
    ("Frida Kahlo", "6 July 1907"), ("Nelson Mandela", "18 July 1918"),
    ("Grace Hopper", "9 December 1906"), ("Wolfgang Amadeus Mozart", "27 January 1756"),
    ("Martin Luther King Jr.", "15 January 1929"), ("Abraham Lincoln", "12 February 1809"),
    ("Charles Darwin", "12 February 1809"), ("Mahatma Gandhi", "2 October 1869"),
    ("Leonardo da Vinci", "15 April 1452"), ("Nikola Tesla", "10 July 1856"),
    ("Jane Austen", "16 December 1775"), ("Freddie Mercury", "5 September 1946"),
    ("David Bowie", "8 January 1947"), ("Elvis Presley", "8 January 1935"),
    ("John Lennon", "9 October 1940"), ("Rosalind Franklin", "25 July 1920"),
    ("Katherine Johnson", "26 August 1918"), ("Carl Sagan", "9 November 1934"),
    ("Stephen Hawking", "8 January 1942"), ("Simone de Beauvoir", "9 January 1908"),
    ("Gabriel García Márquez", "6 March 1927"), ("Pablo Picasso", "25 October 1881"),
    ("Vincent van Gogh", "30 March 1853"), ("Amelia Earhart", "24 July 1897"),
    ("Neil Armstrong", "5 August 1930"), ("Yuri Gagarin", "9 March 1934"),
    ("Tim Berners-Lee", "8 June 1955"), ("Linus Torvalds", "28 December 1969"),
    ("Guido van Rossum", "31 January 1956"), ("Galileo Galilei", "15 February 1564"),
    ("Michael Jackson", "29 August 1958"), ("Dolly Parton", "19 January 1946"),
]

FAMOUS_TEMPLATES = [
    "On this day: {p} was born, {d}",
    "{p} (born {d}) would have loved this",
    "TIL {p} and I share a birthday — {d}, minus a few years",
    "Happy birthday to {p}, born {d} 🎂",
    "{p}, born on {d}, changed everything",
    "Geboren am {d}: {p}",
    "{p} est né(e) le {d}",
    "{p} nació el {d}",
    "quiz question: when was {p} born? answer: {d}",
    "Our school project is about {p} ({d})",
    "{p} nasceu em {d}",
    "Born {d}: {p}. Still inspiring",
    "{p} è nato/a il {d}",
    "Biography club this month: {p}, born {d}",
    "{p} werd geboren op {d}",
    "Today's doodle celebrates {p}, born {d}",
    "the museum exhibition covers {p}'s life from {d} onwards",
    "{p} urodził(a) się {d}",
]

EMERGENCY = [
    "In the EU you can dial 112 from any phone, even without a SIM",
    "if it's an emergency call 911, not the office",
    "UK: 999 for emergencies, 111 for the NHS non-urgent line",
    "Samaritans are on 116 123, free, any time. You're not alone",
    "US: the 988 Suicide & Crisis Lifeline is open 24/7",
    "Poison Help in the US: 1-800-222-1222",
    "Telefonseelsorge: 0800 111 0 111, rund um die Uhr",
    "SOS Amitié : 09 72 39 40 50",
    "Teléfono de la Esperanza: 717 003 717",
    "Japan: 119 for fire and ambulance, 110 for police",
    "Australia's emergency number is 000, save it before your trip",
    "Lifeline Australia: 13 11 14",
]

FICTION_NUMBERS = [
    "TIL 555-0100 to 555-0199 are reserved for films and TV in North America",
    "Ofcom keeps 020 7946 0000 to 0999 for drama, that's why every London number on telly starts like that",
    "867-5309 is a song, not a number you should call at 3am",
    "who you gonna call? 555-2368, obviously",
    "the phone number in the ad was 01632 960 123 — a reserved drama number, I checked",
    "Example numbers in our docs use +1 202 555 0143, the fictional range",
    "our test fixtures use user@example.com and example.org addresses only",
    "RFC 2606 reserves example.com, that's why every tutorial uses jane@example.com",
]

REFERENCE_TEMPLATES: list[tuple[str, str]] = [
    ("order_number", "Order #{o} still says 'preparing' after a week"),
    ("order_number", "my order {o2} arrived with a cracked screen, RMA requested"),
    ("order_number", "Bestellnummer {o}: Lieferung verspätet"),
    ("order_number", "numéro de commande {o2}, toujours rien reçu"),
    ("order_number", "pedido n.º {o} — ¿alguien más con retrasos?"),
    ("invoice_number", "Invoice INV-{y}-{i4} is overdue, reminder sent"),
    ("invoice_number", "please reference invoice {i6} on the transfer"),
    ("invoice_number", "Rechnung Nr. RE-{y}-{i4} ist beglichen"),
    ("invoice_number", "facture F{y}{i4} payée ce matin"),
    ("ticket_number", "Support ticket #{t6} was closed without a reply"),
    ("ticket_number", "see PROJ-{t4} for the repro steps"),
    ("ticket_number", "case {t8} escalated to tier 2"),
    ("ticket_number", "incident INC{t7}: resolved, postmortem Thursday"),
    ("tracking_number", "UPS tracking 1Z{ups}: out for delivery"),
    ("tracking_number", "USPS says {usps} was delivered. It was not"),
    ("tracking_number", "Royal Mail tracking {rm}GB — stuck in Coventry"),
    ("tracking_number", "DHL Sendungsnummer {dhl}, Zustellung morgen"),
    ("tracking_number", "FedEx {fedex} has been 'in transit' for 9 days"),
    ("tracking_number", "numéro de suivi Colissimo 6A{colis}"),
    ("booking_reference", "booking reference {pnr}, seat 14C, flight {fl}"),
    ("booking_reference", "hotel confirmation {t8}, check-in from 3pm"),
    ("booking_reference", "Buchungsnummer {pnr} für den Zug nach Wien"),
    ("booking_reference", "my flight {fl} got cancelled, rebooked on the 18:40"),
    ("receipt_number", "receipt no. {t6}, kept it for the warranty"),
    ("receipt_number", "store receipt {t4}-{t4b}-{t6}, return within 30 days"),
    ("pull_request", "PR #{t4} merged, closes issue #{t4b}"),
    ("pull_request", "issue #{t4} has 300 thumbs up and no reply from the maintainers"),
    ("sku", "SKU {sku} is back in stock"),
    ("sku", "part number {sku}-{t4}, the 12 mm one"),
    ("parking_ticket", "got a parking fine, PCN {pcn}, appealing it"),
    ("customer_number", "our customer number with the energy company is on the bill, but the hotline still needed 20 minutes"),
    ("lottery", "this week's numbers: {l1} {l2} {l3} {l4} {l5} {l6}. Not mine, sadly"),
    ("serial_number", "warranty needs the serial, it's on the back: SN {sku}{t6}"),
    ("case_number", "Aktenzeichen {t4}/{y2} — the court letter finally came"),
]

DATE_TEMPLATES = [
    "v{v} released on {date}",
    "changelog {v}: fixes the crash on startup",
    "Meeting moved to {date} at {time}",
    "Python {py} is out!",
    "kernel {v}-{n}-generic broke my wifi",
    "API version {date} is deprecated",
    "deadline: {date}, no extensions",
    "Build {y}.{m}.{n} is on the beta channel",
    "Windows build 10.0.{wb}.{n} fixed the printer bug",
    "Termin am {dmy} um {time} Uhr",
    "réunion le {dmy} à {time}",
    "el examen es el {dmy}",
    "Release {v} — {date} — see the notes",
    "Docker image tag {y}{m}{d2}-{n}",
    "our next sprint starts {date}",
    "Firmware {v} for the router adds WPA3",
    "Q{q} {y} roadmap review is public on the blog",
    "census data from {y}: 4,812,903 residents",
    "the conference runs {dmy} to {dmy2}",
    "iOS {ios} battery drain is real",
]

ORDINARY = [
    "finally finished the sourdough, only took four tries",
    "anyone have a good recipe for vegan lasagne?",
    "the train was 40 minutes late again, love that for me",
    "Our team won the pub quiz!! 🏆",
    "Hot take: tabs are fine, actually",
    "just deployed on a Friday, pray for me",
    "running my first 10k on Sunday, nervous",
    "My cat has learned to open the fridge. Send help",
    "Rainy Monday, coffee number three",
    "Does anyone know a good dentist in Leeds?",
    "the new season of that baking show is so wholesome",
    "I planted tomatoes and got zucchini. Mystery of the garden",
    "Reading group this week: chapter 7 to 12",
    "Why does my code work only when I'm watching it?",
    "Conference talk accepted! See you in Porto",
    "kids' football practice cancelled because of the storm",
    "I will never understand timezones",
    "Moved desks today, the plant came with me 🌱",
    "the bug was a missing semicolon. Four hours",
    "New blog post about caching strategies is up",
    "Wer kommt Samstag mit zum Flohmarkt?",
    "Endlich Wochenende, endlich Ruhe",
    "Der Zug fällt aus. Natürlich",
    "Quelqu'un a une bonne adresse de boulangerie dans le 11e ?",
    "Il pleut encore à Lyon, quelle surprise",
    "Mi gato se ha comido mi planta favorita",
    "¿Alguien sabe si abre la biblioteca el domingo?",
    "Hoje é dia de feijoada!",
    "O trânsito em São Paulo hoje está impossível",
    "Oggi pizza con i colleghi 🍕",
    "Wie heeft er tips voor een fietsvakantie in Zeeland?",
    "Dziś w końcu słońce!",
    "Idag fikar vi på jobbet",
    "Bugün hava çok güzel, yürüyüşe çıkıyorum",
    "今日はラーメンを食べました",
    "주말에 등산 가요",
    "The printer is jammed. The printer is always jammed",
    "Highly recommend the new podcast about Roman roads",
    "My grandmother just discovered emojis 😂😂😂",
    "Learning Rust and the borrow checker is winning",
    "Week 3 of learning the guitar: fingertips hurt",
    "Somebody brought cake to the office for no reason and I love them",
    "Our library has a seed exchange now, so cool",
    "Flight delayed, airport sushi it is",
    "Anyone else watching the eclipse tomorrow?",
    "Re-reading The Hobbit for the tenth time",
    "Just adopted a rescue greyhound named Biscuit",
    "The farmers market had the best peaches today",
    "Volunteering at the food bank this Saturday, join us",
    "I finally understand monads. No I don't",
    "shoutout to the bus driver who waited for me",
    "two-factor auth saved me today, please turn it on",
    "The meeting could have been an email. It was an email. Then a meeting",
    "Spent the weekend fixing the fence. Fence: 1, me: 0",
    "our kid's school play was adorable",
    "Thread on the best hiking trails near Bergen 🧵",
    "stop putting pineapple on my pizza. actually, go ahead",
    "the sunset from the office tonight 🌅",
    "Tried a new running route, got lost, ran 14 km",
    "My 2026 reading goal: 30 books. Currently at 4",
    "the espresso machine at work is broken and morale is low",
    "Does anyone know when the pool reopens after the renovation?",
    "Huge thanks to the nurses at the ward, you are heroes",
    "I drew a map of my neighbourhood for fun, it's very wrong",
    "Just passed my driving test on the third try!!",
    "Our band's first gig is next month 🎸",
    "the heatwave is breaking my brain",
    "homemade kimchi, day 5, the fridge smells amazing",
    "Question for the hive mind: best budget mechanical keyboard?",
    "my commute is now 12 minutes and I feel like a new person",
    "Happy Diwali to everyone celebrating 🪔",
    "Eid Mubarak to all my friends!",
    "It snowed! In April! In Cork!",
    "Chess club results: 3 wins, 1 loss, 1 very confusing draw",
    "Our startup just hit 1,000 users, thank you all",
    "Lunch and learn on Thursday: intro to accessibility testing",
    "the cat is sitting on the keyboard again, sorry for the typos",
    "can we talk about how good this album is",
    "Reminder: clocks go back this weekend",
    "Just finished a 1,000-piece puzzle. Missing one piece. Of course",
    "Write to your MP at the House of Commons, London SW1A 0AA — it does get read",
    "the town hall's front desk number is on the council website, they were really helpful",
    "Embassy opening hours changed, check their site before you go",
    "our street is getting fibre next month, finally",
    "Neighbourhood clean-up on Saturday, meet by the church at 10",
    "the post office on the high street closes at 1pm on Wednesdays now",
    "pro tip: the museum is free on the first Sunday of the month",
    "Ich suche eine Wohnung in Leipzig, Tipps willkommen",
    "On cherche un appart à Nantes, si vous avez des pistes",
    "Busco piso en Valencia, ¿alguna recomendación?",
    "Procuro apartamento em Lisboa, alguém conhece boas zonas?",
    "Cerco casa a Bologna, consigli?",
    "my birthday is in March but I refuse to say the year",
    "happy birthday to my best friend, you know who you are 🎉",
    "my mum turns 70 next week, planning a surprise",
    "Reminder: the office will be closed on the 26th",
    "the dentist rescheduled me to next Tuesday, again",
    "My passport renewal took six weeks, start early if you're travelling",
    "PSA: never post a photo of your boarding pass, the barcode has your booking details",
    "Don't share your card number in DMs, even with 'support'. Real support never asks",
    "Tip: freeze your credit if your SSN was in the breach",
    "I got a scam text claiming to be my bank. Reported it",
    "New phone, who dis (I kept the same number, relax)",
    "Our wedding venue is booked!! Date to be announced",
    "two weeks into the new job and I still get lost in the building",
    "the hospital's parking is impossible, take the tram",
    "We named the office plant Gerald",
    "Just voted! Queue was short this morning",
    "My flatmate made pancakes at 2am and honestly, respect",
]

NUMERIC_ORDINARY = [
    "Scored {a} points in the match, {b} assists 🏀",
    "Temperature today: {a}°C, humidity {b}%",
    "the recipe says {a} g flour and {b} ml water",
    "my phone battery lasted {a} hours, new record",
    "ran {a}.{b} km this morning",
    "Population of the village: {c}",
    "{a} days until the holidays",
    "the bill came to €{a}.{b} for four people, not bad",
    "Our fundraiser reached ${c}!",
    "bus {a} is replaced by bus {b} this week",
]


def pii_negative(r: Rng) -> list[Row]:
    out: list[Row] = []

    def add(kind: str, text: str) -> None:
        out.append({"kind": kind, "text": frame(r, text, own=kind.startswith("own_"))})

    for rep in range(4):
        for t in OWN_EMAIL:
            f, ln = person(r)
            add("own_email", t.format(v=email_of(r, f, ln), **_fill(r)))
        for i, t in enumerate(OWN_PHONE):
            c = list(PHONES)[(i + rep * 5) % len(PHONES)]
            add(f"own_phone_{c}", t.format(v=PHONES[c](r)))
    own_obf = ["email me: {u} [at] {d} [dot] {tld}", "my address is {u} at {d} dot {tld} (anti-spam)",
               "Schreibt mir: {u} (at) {d} (punkt) {tld}", "escríbeme: {u} arroba {d} punto {tld}",
               "contact me — {u} [at] {d} [.] {tld}", "mail mij: {u} apenstaartje {d} punt {tld}"]
    for _rep in range(2):
        for tmpl in own_obf:
            f, ln = person(r)
            user, dom = email_of(r, f, ln).split("@")
            d, tld = dom.split(".", 1)
            add("own_email_obfuscated", tmpl.format(u=user, d=d, tld=tld.replace(".", " dot ")))
    for rep in range(3):
        for i, t in enumerate(OWN_ADDRESS):
            add("own_address", t.format(v=list(STREETS.values())[(i + rep) % len(STREETS)](r)))
    for _rep in range(2):
        for kind, t in OWN_OTHER:
            add(kind, t.format(dob=_dob(r), iban=grouped(iban_for(r, r.choice(["DE", "FR", "NL", "ES"])))))
    contacts = [(co, v) for co, vs in PUBLISHED.items() for v in vs]
    used: Counter[str] = Counter()
    for co, v in contacts:
        typ = "email" if "@" in v else "address" if any(c.isalpha() for c in v) else "phone"
        pool = PUBLISHED_TEMPLATES[typ]
        for _ in range(6):
            add(f"published_{typ}", pool[used[typ] % len(pool)].format(co=co, v=v))
            used[typ] += 1
    for i in range(36):
        c, d = TEST_CARDS[i % len(TEST_CARDS)]
        add("test_card", TEST_CARD_CTX[(i + i // len(TEST_CARDS)) % len(TEST_CARD_CTX)].format(c=c, d=d))
    for t in TEST_IBANS:
        add("documented_sample_ssn" if "SSN" in t else "test_iban", t)
    for i in range(56):
        p, a = LANDMARKS[i % len(LANDMARKS)]
        add("landmark_address", LANDMARK_TEMPLATES[(i * 3 + i // len(LANDMARKS)) % len(LANDMARK_TEMPLATES)].format(p=p, a=a))
    for i in range(40):
        add("venue_address", VENUE_TEMPLATES[i % len(VENUE_TEMPLATES)].format(
            p=VENUES[(i * 5) % len(VENUES)], a=list(STREETS.values())[i % len(STREETS)](r)))
    for i in range(72):
        p, d = FAMOUS[i % len(FAMOUS)]
        add("famous_birthday", FAMOUS_TEMPLATES[(i * 7 + i // len(FAMOUS)) % len(FAMOUS_TEMPLATES)].format(p=p, d=d))
    add_ref = REFERENCE_TEMPLATES * 4
    for kind, t in add_ref:
        add(kind, t.format(
            o=digits(r, r.randint(6, 9)), o2=f"{s(r, UP, 2)}-{digits(r, 7)}", y=r.randint(2024, 2026),
            y2=r.randint(20, 26), i4=digits(r, 4), i6=digits(r, 6), t4=r.randint(100, 9999),
            t4b=r.randint(100, 9999), t6=digits(r, 6), t7=digits(r, 7), t8=digits(r, 8),
            ups=s(r, UP + DIG, 6) + digits(r, 10), usps="9400 " + " ".join(digits(r, 4) for _ in range(4)) + " " + digits(r, 2),
            rm=s(r, UP, 2) + digits(r, 9), dhl=digits(r, 10), fedex=digits(r, 12), colis=digits(r, 11),
            pnr=s(r, "ABCDEFGHJKLMNPQRSTUVWXYZ23456789", 6), fl=r.choice(["LH", "BA", "AF", "KL", "IB", "TP"]) + str(r.randint(100, 2999)),
            sku=s(r, UP, 3), pcn=s(r, UP, 2) + digits(r, 8), l1=r.randint(1, 9), l2=r.randint(10, 19),
            l3=r.randint(20, 29), l4=r.randint(30, 39), l5=r.randint(40, 45), l6=r.randint(46, 49)))
    for t in DATE_TEMPLATES * 3:
        yy, mm, dd = r.randint(2019, 2027), r.randint(1, 12), r.randint(1, 28)
        add("date_or_version", t.format(
            v=f"{r.randint(1, 12)}.{r.randint(0, 40)}.{r.randint(0, 20)}", date=f"{yy}-{mm:02d}-{dd:02d}",
            time=f"{r.randint(8, 18)}:{r.choice(['00', '15', '30', '45'])}", py=f"3.{r.randint(10, 15)}.{r.randint(0, 9)}",
            n=r.randint(1, 300), y=yy, m=mm, wb=r.randint(19041, 26100), dmy=f"{dd:02d}.{mm:02d}.{yy}",
            dmy2=f"{min(dd + 2, 28):02d}.{mm:02d}.{yy}", d2=f"{dd:02d}", q=r.randint(1, 4), ios=f"{r.randint(17, 20)}.{r.randint(0, 6)}"))
    for t in EMERGENCY + FICTION_NUMBERS:
        add("public_service_number" if t in EMERGENCY else "fictional_or_example_number", t)
    for rep in range(2):
        for t in ORDINARY:
            add("ordinary", t if rep == 0 else t + r.choice([" lol", " 😅", "!", " #life", " ngl", " 🙌"]))
    for t in NUMERIC_ORDINARY * 3:
        add("ordinary_numbers", t.format(a=r.randint(2, 99), b=r.randint(1, 99), c=f"{r.randint(1000, 99999):,}"))
    return out


# --- assembly ------------------------------------------------------------------------------

def _unique(rows: list[Row]) -> list[Row]:
    seen: set[str] = set()
    out: list[Row] = []
    for row in rows:
        if row["text"] not in seen:
            seen.add(row["text"])
            out.append(row)
    return out


def build() -> dict[str, list[Row]]:
    """Every file's rows (kind and text), from the fixed seed."""
    r = random.Random(SEED)
    parts = [credentials_positive, credentials_hard_negative, pii_positive, pii_negative]
    return {name: _unique(part(r)) for name, part in zip(NAMES, parts, strict=True)}


def write(out_dir: Path = DATA) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name, made in build().items():
        with (out_dir / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for i, row in enumerate(made):
                fh.write(json.dumps({"id": f"{name}-{i}", **row}, ensure_ascii=False) + "\n")
        counts[name] = len(made)
    return counts


if __name__ == "__main__":
    for file, n in write().items():
        print(f"{file}: {n}")
