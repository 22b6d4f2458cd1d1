"""Check digits of national ID, passport, health and bank numbers (the PII validators).

Each function takes the matched text (separators allowed) and says whether its check digit or
checksum is right, so a random number of the right length is not reported as someone's ID.
"""

from __future__ import annotations

import re
from datetime import date

NON_ALNUM = re.compile(r"[^0-9A-Za-z]")
NON_DIGIT = re.compile(r"\D")


def _digits(value: str) -> str:
    return NON_DIGIT.sub("", value)


def luhn_ok(digits: str) -> bool:
    """The Luhn check over a string of digits (cards, and the ID numbers that use it)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _not_repeated(digits: str) -> bool:
    return len(set(digits)) > 2 and digits not in ("0123456789", "123456789", "1234567890")


def uk_nhs(value: str) -> bool:
    """UK NHS number: 10 digits, weights 10..2, mod 11."""
    d = _digits(value)
    if len(d) != 10 or not _not_repeated(d):
        return False
    check = 11 - sum(int(c) * w for c, w in zip(d[:9], range(10, 1, -1), strict=True)) % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(d[9])


def _mrz_digit(field: str) -> int:
    total = 0
    weights = (7, 3, 1)
    for i, ch in enumerate(field):
        if ch.isdigit():
            v = int(ch)
        elif ch.isalpha():
            v = ord(ch.upper()) - 55
        else:
            v = 0
        total += v * weights[i % 3]
    return total % 10


def de_id_card(value: str) -> bool:
    """German identity card (Personalausweis) or passport serial: 9 characters + check digit."""
    v = NON_ALNUM.sub("", value).upper()
    if len(v) != 10 or not v[9].isdigit() or not any(c.isdigit() for c in v[:9]):
        return False
    return _mrz_digit(v[:9]) == int(v[9])


def de_tax_id(value: str) -> bool:
    """German tax id (Steuer-IdNr): 11 digits, ISO 7064 MOD 11,10; one digit repeated 2-3 times."""
    d = _digits(value)
    if len(d) != 11 or d[0] == "0":
        return False
    counts = sorted((d[:10].count(c) for c in set(d[:10])), reverse=True)
    if counts[0] not in (2, 3):
        return False
    product = 10
    for ch in d[:10]:
        s = (int(ch) + product) % 10 or 10
        product = (s * 2) % 11
    check = (11 - product) % 10
    return check == int(d[10])


def fr_nir(value: str) -> bool:
    """French social security number (NIR): 13 characters + a 2-digit key (97 - n mod 97)."""
    v = NON_ALNUM.sub("", value).upper()
    if len(v) != 15 or v[0] not in "1278":
        return False
    body = v[:13].replace("2A", "19").replace("2B", "18")
    if not body.isdigit() or not v[13:].isdigit():
        return False
    return 97 - int(body) % 97 == int(v[13:])


_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def es_dni(value: str) -> bool:
    """Spanish DNI (8 digits + letter) or NIE (X/Y/Z + 7 digits + letter), mod 23."""
    v = NON_ALNUM.sub("", value).upper()
    if len(v) != 9 or not v[-1].isalpha():
        return False
    body = v[:-1]
    if body[0] in "XYZ":
        body = str("XYZ".index(body[0])) + body[1:]
    if not body.isdigit() or not _not_repeated(body):
        return False
    return _DNI_LETTERS[int(body) % 23] == v[-1]


_IT_ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25,
           24, 23]


def it_fiscal_code(value: str) -> bool:
    """Italian codice fiscale: 15 characters and a check letter."""
    v = NON_ALNUM.sub("", value).upper()
    if len(v) != 16:
        return False
    total = 0
    for i, ch in enumerate(v[:15]):
        n = int(ch) if ch.isdigit() else ord(ch) - 65
        total += _IT_ODD[n] if i % 2 == 0 else n
    return chr(65 + total % 26) == v[15]


def nl_bsn(value: str) -> bool:
    """Dutch citizen service number (BSN): 9 digits, the "11-proof"."""
    d = _digits(value)
    if len(d) != 9 or not _not_repeated(d):
        return False
    total = sum(int(c) * w for c, w in zip(d[:8], range(9, 1, -1), strict=True)) - int(d[8])
    return total % 11 == 0


def be_national_number(value: str) -> bool:
    """Belgian national register number: 9 digits + 97 - (n mod 97); "2" prefixed after 2000."""
    d = _digits(value)
    if len(d) != 11:
        return False
    body, check = int(d[:9]), int(d[9:])
    return 97 - body % 97 == check or 97 - int("2" + d[:9]) % 97 == check


def pl_pesel(value: str) -> bool:
    """Polish PESEL: 11 digits, weights 1-3-7-9, with a valid month."""
    d = _digits(value)
    if len(d) != 11 or not _not_repeated(d):
        return False
    month = int(d[2:4]) % 20
    if not 1 <= month <= 12:
        return False
    weights = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)
    total = sum(int(c) * w for c, w in zip(d[:10], weights, strict=True))
    return (10 - total % 10) % 10 == int(d[10])


def se_personnummer(value: str) -> bool:
    """Swedish personal identity number: (YY)YYMMDD-NNNC, Luhn over the last ten digits."""
    d = _digits(value)
    if len(d) == 12:
        d = d[2:]
    if len(d) != 10 or not 1 <= int(d[2:4]) <= 12 or not 1 <= int(d[4:6]) % 60 <= 31:
        return False
    return luhn_ok(d)


_VERHOEFF_D = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6], [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
]
_VERHOEFF_P = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2], [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
]


def in_aadhaar(value: str) -> bool:
    """Indian Aadhaar number: 12 digits, not starting 0 or 1, Verhoeff check digit."""
    d = _digits(value)
    if len(d) != 12 or d[0] in "01" or not _not_repeated(d):
        return False
    c = 0
    for i, ch in enumerate(reversed(d)):
        c = _VERHOEFF_D[c][_VERHOEFF_P[i % 8][int(ch)]]
    return c == 0


def ca_sin(value: str) -> bool:
    """Canadian social insurance number: 9 digits, Luhn, not starting 0 or 8."""
    d = _digits(value)
    return len(d) == 9 and d[0] not in "08" and _not_repeated(d) and luhn_ok(d)


def au_tfn(value: str) -> bool:
    """Australian tax file number: 9 digits, weighted sum mod 11."""
    d = _digits(value)
    if len(d) != 9 or not _not_repeated(d):
        return False
    weights = (1, 4, 3, 7, 5, 8, 6, 9, 10)
    return sum(int(c) * w for c, w in zip(d, weights, strict=True)) % 11 == 0


def br_cpf(value: str) -> bool:
    """Brazilian CPF: 9 digits and two mod-11 check digits."""
    d = _digits(value)
    if len(d) != 11 or len(set(d)) == 1:
        return False
    for n in (9, 10):
        total = sum(int(c) * w for c, w in zip(d[:n], range(n + 1, 1, -1), strict=True))
        check = (total * 10) % 11 % 10
        if check != int(d[n]):
            return False
    return True


def cn_resident_id(value: str) -> bool:
    """Chinese resident identity card number: 17 digits + ISO 7064 MOD 11-2 check (0-9 or X)."""
    v = NON_ALNUM.sub("", value).upper()
    if len(v) != 18 or not v[:17].isdigit():
        return False
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(v[:17], weights, strict=True))
    return "10X98765432"[total % 11] == v[17]


_HETU_CHARS = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def fi_hetu(value: str) -> bool:
    """Finnish personal identity code: DDMMYY, century sign, 3 digits, check character (mod 31)."""
    v = value.strip().upper()
    if len(v) != 11 or not (v[:6] + v[7:10]).isdigit():
        return False
    return _HETU_CHARS[int(v[:6] + v[7:10]) % 31] == v[10]


def us_aba_routing(value: str) -> bool:
    """US bank routing (ABA) number: 9 digits, weights 3-7-1, mod 10."""
    d = _digits(value)
    if len(d) != 9 or not _not_repeated(d) or d[:2] > "80":
        return False
    weights = (3, 7, 1, 3, 7, 1, 3, 7, 1)
    return sum(int(c) * w for c, w in zip(d, weights, strict=True)) % 10 == 0


def mrz_passport(value: str) -> bool:
    """Second line of a passport's machine-readable zone: document number, birth date and expiry
    each with their 7-3-1 check digit."""
    v = value.strip().upper()
    if len(v) < 28:
        return False
    number, birth, expiry = v[0:9], v[13:19], v[21:27]
    return (v[9].isdigit() and _mrz_digit(number) == int(v[9])
            and v[19].isdigit() and _mrz_digit(birth) == int(v[19])
            and v[27].isdigit() and _mrz_digit(expiry) == int(v[27]))


def mx_clabe(value: str) -> bool:
    """Mexican CLABE (interbank account): 18 digits, the last a check digit over weights 3-7-1
    (each product taken mod 10). A bank account number that also names its bank and branch."""
    d = _digits(value)
    if len(d) != 18 or not _not_repeated(d):
        return False
    weights = (3, 7, 1) * 6
    total = sum(int(c) * w % 10 for c, w in zip(d[:17], weights, strict=False))
    return (10 - total % 10) % 10 == int(d[17])


def id_number(value: str) -> bool:
    """A passport, licence or record number in context: has digits, is not a year or a date."""
    v = NON_ALNUM.sub("", value)
    d = _digits(v)
    if len(d) < 5 or len(v) > 16 or not _not_repeated(d):
        return False
    return not (len(v) == 4 or (len(d) == 8 and d[:2] in ("19", "20") and v.isdigit()
                                and 1 <= int(d[4:6]) <= 12))


def _date_like(digits: str) -> bool:
    """YYYYMMDD: eight digits that read as a date of this or the last century."""
    return len(digits) == 8 and digits[:2] in ("19", "20") and 1 <= int(digits[4:6]) <= 12


def passport_number(value: str) -> bool:
    """A passport book number in context: 6-9 letters and digits with at least one digit (the
    US 9 digits or letter and 8 digits, the German 9 characters, the French 2+2+5, ...), or the
    German book number with its check digit as the MRZ writes it (10 characters)."""
    v = NON_ALNUM.sub("", value).upper()
    d = _digits(v)
    if not 6 <= len(v) <= 10 or not d:
        return False
    if len(v) == 10:
        return de_id_card(v)
    if len(d) >= 4 and not _not_repeated(d):
        return False
    return not (v.isdigit() and _date_like(d))


def driving_licence(value: str) -> bool:
    """A US driver's licence number in context: the state formats are 7-19 letters and digits,
    most of them digits (CA letter + 7, NY 9, FL letter + 12, TX 8, IL letter + 11, NJ letter +
    14); Washington's older ``WDL`` + 9 letters and digits has few."""
    v = NON_ALNUM.sub("", value).upper()
    if len(v) == 12 and v.startswith("WDL"):
        return any(c.isdigit() for c in v[3:])
    d = _digits(v)
    if not 6 <= len(v) <= 19 or len(d) < 6 or not _not_repeated(d):
        return False
    return not (v.isdigit() and _date_like(d))


_DATE_NUM = re.compile(r"(\d{1,4})[./-](\d{1,2})[./-](\d{2,4})")
_YEAR = re.compile(r"(?:19|20)\d\d")
# "10-Jan-89": a month's name between the day and a two-digit year.
_DATE_MON_YY = re.compile(r"\d{1,2}-[A-Za-z]{3,9}-(\d{2})$")


def birth_date(value: str) -> bool:
    """A plausible date of birth of a living person (born 1920 or later, not in the future)."""
    this_year = date.today().year
    m = _DATE_NUM.search(value)
    y = _YEAR.search(value)
    short = _DATE_MON_YY.search(value)
    if m:
        a, _, c = m.groups()
        year = int(a) if len(a) == 4 else int(c)
    elif y:
        year = int(y.group(0))
    elif short:
        year = int(short.group(1))
    else:
        return False
    if year < 100:  # a two-digit year is the latest one it can be, never in the future
        year += 1900 if year > this_year % 100 else 2000
    return 1920 <= year <= this_year


def _valid_date(yy: int, mm: int, dd: int) -> bool:
    try:
        date(2000 + yy if yy < 100 else yy, mm, dd)
    except ValueError:
        return False
    return True


def ch_ahv(value: str) -> bool:
    """Swiss social security number (AHV/AVS): 756 and 10 digits, an EAN-13 check digit."""
    d = _digits(value)
    if len(d) != 13 or not d.startswith("756"):
        return False
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(d[:12]))
    return (10 - total % 10) % 10 == int(d[12])


_SG_ST = "JZIHGFEDCBA"
_SG_FG = "XWUTRQPNMLK"
_SG_M = "KLJNPQRTUWX"


def sg_nric(value: str) -> bool:
    """Singapore NRIC/FIN: S/T/F/G/M, 7 digits, a check letter (weights 2-7-6-5-4-3-2)."""
    v = NON_ALNUM.sub("", value).upper()
    if len(v) != 9 or v[0] not in "STFGM" or not v[1:8].isdigit():
        return False
    total = sum(int(c) * w for c, w in zip(v[1:8], (2, 7, 6, 5, 4, 3, 2), strict=True))
    if v[0] in "TG":
        total += 4
    elif v[0] == "M":
        total += 3
    table = _SG_ST if v[0] in "ST" else _SG_FG if v[0] in "FG" else _SG_M
    index = total % 11 if v[0] != "M" else 10 - total % 11
    return table[index] == v[8]


def hk_hkid(value: str) -> bool:
    """Hong Kong identity card: one or two letters, 6 digits, a check digit or A (mod 11)."""
    v = NON_ALNUM.sub("", value).upper()
    if not 8 <= len(v) <= 9 or not v[-7:-1].isdigit():
        return False
    letters, digits, check = v[:-7], v[-7:-1], v[-1]
    if not letters.isalpha():
        return False
    padded = (" " + letters) if len(letters) == 1 else letters
    values = [36 if c == " " else ord(c) - 55 for c in padded] + [int(c) for c in digits]
    total = sum(x * w for x, w in zip(values, range(9, 1, -1), strict=True))
    want = (11 - total % 11) % 11
    return check == ("A" if want == 10 else str(want))


_CURP_CHARS = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ"


def mx_curp(value: str) -> bool:
    """Mexican CURP: 4 letters, birth date, sex, state, 3 consonants, a character, check digit."""
    v = value.strip().upper()
    if len(v) != 18 or not v[4:10].isdigit() or v[10] not in "HMX" or not v[17].isdigit():
        return False
    if not _valid_date(int(v[4:6]), int(v[6:8]), int(v[8:10])):
        return False
    if any(c not in _CURP_CHARS for c in v[:17]):
        return False
    total = sum(_CURP_CHARS.index(c) * (18 - i) for i, c in enumerate(v[:17]))
    return (10 - total % 10) % 10 == int(v[17])


def cl_rut(value: str) -> bool:
    """Chilean RUT/RUN: 7-8 digits and a mod-11 check digit (0-9 or K)."""
    v = NON_ALNUM.sub("", value).upper()
    if not 8 <= len(v) <= 9 or not v[:-1].isdigit():
        return False
    total = sum(int(c) * (2 + i % 6) for i, c in enumerate(reversed(v[:-1])))
    want = 11 - total % 11
    check = "0" if want == 11 else "K" if want == 10 else str(want)
    return check == v[-1]


def us_itin(value: str) -> bool:
    """US individual taxpayer identification number: 9XX-GG-XXXX with GG in the ranges the IRS uses."""
    d = _digits(value)
    if len(d) != 9 or d[0] != "9":
        return False
    group = int(d[3:5])
    return (50 <= group <= 65 or 70 <= group <= 88 or 90 <= group <= 92 or 94 <= group <= 99)


def cz_birth_number(value: str) -> bool:
    """Czech or Slovak birth number (rodné číslo): YYMMDD/SSSC, the 10 digits divisible by 11."""
    d = _digits(value)
    if len(d) != 10:
        return False
    month = int(d[2:4]) % 50
    month = month - 20 if month > 12 else month
    if not _valid_date(int(d[:2]), month, int(d[4:6])):
        return False
    return int(d) % 11 == 0 or (int(d[:9]) % 11 == 10 and d[9] == "0")


def kr_rrn(value: str) -> bool:
    """South Korean resident registration number: YYMMDD-SNNNNNC, weights 2-9 mod 11."""
    d = _digits(value)
    if len(d) != 13 or d[6] not in "12345678":
        return False
    if not _valid_date(int(d[:2]), int(d[2:4]), int(d[4:6])):
        return False
    weights = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
    total = sum(int(c) * w for c, w in zip(d[:12], weights, strict=True))
    return (11 - total % 11) % 10 == int(d[12])


def za_id(value: str) -> bool:
    """South African ID number: YYMMDD, 4 digits, citizenship, 8/9, Luhn check digit."""
    d = _digits(value)
    if len(d) != 13 or d[10] not in "012":
        return False
    return _valid_date(int(d[:2]), int(d[2:4]), int(d[4:6])) and luhn_ok(d)


def ro_cnp(value: str) -> bool:
    """Romanian personal numeric code (CNP): 13 digits, weights 279146358279 mod 11."""
    d = _digits(value)
    if len(d) != 13 or d[0] == "0":
        return False
    if not _valid_date(int(d[1:3]), int(d[3:5]), int(d[5:7])):
        return False
    total = sum(int(c) * int(w) for c, w in zip(d[:12], "279146358279", strict=True))
    check = total % 11
    return (1 if check == 10 else check) == int(d[12])


def tr_tckn(value: str) -> bool:
    """Turkish identity number (T.C. Kimlik No): 11 digits, two check digits."""
    d = [int(c) for c in _digits(value)]
    if len(d) != 11 or d[0] == 0:
        return False
    odd, even = sum(d[0:9:2]), sum(d[1:8:2])
    return (odd * 7 - even) % 10 == d[9] and sum(d[:10]) % 10 == d[10]


def no_fnr(value: str) -> bool:
    """Norwegian national identity number (fødselsnummer): DDMMYY, 3 digits, two mod-11 checks."""
    d = [int(c) for c in _digits(value)]
    if len(d) != 11:
        return False
    day = d[0] * 10 + d[1]
    day = day - 40 if day > 40 else day  # D-numbers add 4 to the first digit
    if not _valid_date(d[4] * 10 + d[5], (d[2] * 10 + d[3]) % 40, day):
        return False
    for n, weights in ((9, (3, 7, 6, 1, 8, 9, 4, 5, 2)), (10, (5, 4, 3, 2, 7, 6, 5, 4, 3, 2))):
        check = 11 - sum(x * w for x, w in zip(d[:n], weights, strict=True)) % 11
        check = 0 if check == 11 else check
        if check == 10 or check != d[n]:
            return False
    return True


def is_kennitala(value: str) -> bool:
    """Icelandic kennitala: DDMMYY, 2 digits, a mod-11 check digit (weights 3-2-7-6-5-4-3-2),
    and the century (9, 0 or 8)."""
    d = [int(c) for c in _digits(value)]
    if len(d) != 10 or d[9] not in (0, 8, 9):
        return False
    day = d[0] * 10 + d[1]
    day = day - 40 if day > 40 else day  # a company's number adds 4 to the first digit
    if not _valid_date(d[4] * 10 + d[5], d[2] * 10 + d[3], day):
        return False
    check = 11 - sum(x * w for x, w in zip(d[:8], (3, 2, 7, 6, 5, 4, 3, 2), strict=True)) % 11
    check = 0 if check == 11 else check
    return check != 10 and check == d[8]


def dk_cpr(value: str) -> bool:
    """Danish CPR number: DDMMYY-SSSS with a real date (the mod-11 check was dropped in 2007)."""
    d = _digits(value)
    return len(d) == 10 and _valid_date(int(d[4:6]), int(d[2:4]), int(d[:2])) and _not_repeated(d)


def pt_nif(value: str) -> bool:
    """Portuguese tax number (NIF): 9 digits, weights 9..2, mod 11."""
    d = _digits(value)
    if len(d) != 9 or d[0] not in "12356789" or not _not_repeated(d):
        return False
    check = 11 - sum(int(c) * w for c, w in zip(d[:8], range(9, 1, -1), strict=True)) % 11
    return (0 if check >= 10 else check) == int(d[8])


def ie_pps(value: str) -> bool:
    """Irish personal public service number: 7 digits, a check letter (mod 23), maybe a letter."""
    v = NON_ALNUM.sub("", value).upper()
    if len(v) not in (8, 9) or not v[:7].isdigit() or not v[7:].isalpha():
        return False
    total = sum(int(c) * w for c, w in zip(v[:7], range(8, 1, -1), strict=True))
    if len(v) == 9 and v[8] != "W":
        total += (ord(v[8]) - 64) * 9
    check = total % 23
    return "WABCDEFGHIJKLMNOPQRSTUV"[check] == v[7]


def jp_my_number(value: str) -> bool:
    """Japanese individual number (My Number): 12 digits, a mod-11 check digit."""
    d = [int(c) for c in _digits(value)]
    if len(d) != 12 or len(set(d)) < 3:
        return False
    total = sum(d[10 - n] * (n + 2 if n < 6 else n - 4) for n in range(11))
    check = 11 - total % 11
    return (0 if check >= 10 else check) == d[11]


def il_teudat_zehut(value: str) -> bool:
    """Israeli identity number: 9 digits, a Luhn-style check."""
    d = _digits(value)
    if not 5 <= len(d) <= 9 or not _not_repeated(d):
        return False
    return luhn_ok(d.zfill(9))


def hr_oib(value: str) -> bool:
    """Croatian personal identification number (OIB): 11 digits, ISO 7064 MOD 11,10."""
    d = _digits(value)
    if len(d) != 11 or not _not_repeated(d):
        return False
    product = 10
    for ch in d[:10]:
        s = (int(ch) + product) % 10 or 10
        product = (s * 2) % 11
    return (11 - product) % 10 == int(d[10])


def ee_isikukood(value: str) -> bool:
    """Estonian or Lithuanian personal code: sex and century, YYMMDD, 3 digits, a check digit."""
    d = [int(c) for c in _digits(value)]
    if len(d) != 11 or not 1 <= d[0] <= 6:
        return False
    if not _valid_date(d[1] * 10 + d[2], d[3] * 10 + d[4], d[5] * 10 + d[6]):
        return False
    for weights in ((1, 2, 3, 4, 5, 6, 7, 8, 9, 1), (3, 4, 5, 6, 7, 8, 9, 1, 2, 3)):
        check = sum(x * w for x, w in zip(d[:10], weights, strict=True)) % 11
        if check < 10:
            return check == d[10]
    return d[10] == 0


_PAN = re.compile(r"^[A-Z]{3}[PCHABGJLFT][A-Z]\d{4}[A-Z]$")


def in_pan(value: str) -> bool:
    """Indian permanent account number (PAN): 5 letters (the 4th a holder type), 4 digits, a letter."""
    return _PAN.match(value.strip().upper()) is not None


def au_medicare(value: str) -> bool:
    """Australian Medicare card number: 10 digits (an 11th, the person's reference, may follow);
    the first 2-6, the 9th a check digit over the first 8 weighted 1, 3, 7, 9."""
    d = _digits(value)
    if len(d) not in (10, 11) or d[0] not in "23456":
        return False
    check = sum(int(c) * w for c, w in zip(d[:8], (1, 3, 7, 9, 1, 3, 7, 9), strict=True)) % 10
    return check == int(d[8])


_MBI_LETTER = "AC-HJKMNP-RT-Y"
_MBI = re.compile(rf"^[1-9][{_MBI_LETTER}][0-9{_MBI_LETTER}]\d[{_MBI_LETTER}][0-9{_MBI_LETTER}]\d"
                  rf"[{_MBI_LETTER}][{_MBI_LETTER}]\d\d$")


def us_mbi(value: str) -> bool:
    """US Medicare Beneficiary Identifier: 11 characters, each position from its own alphabet
    (no S, L, O, I, B or Z); it has no check digit, so the rule asks for its name nearby."""
    return _MBI.match(NON_ALNUM.sub("", value).upper()) is not None


def us_mbi_shape(value: str) -> bool:
    """An MBI as people copy it: the 11 positions of the CMS alphabets, but any first digit (a
    0 there is a slip of the hand); the rule takes points off when ``us_mbi`` itself fails."""
    v = NON_ALNUM.sub("", value).upper()
    return len(v) == 11 and v[0].isdigit() and us_mbi("1" + v[1:])


def de_kvnr_shape(value: str) -> bool:
    """A KVNR as people copy it (a letter and 9 digits, not a run of one digit); the rule takes
    points off when the check digit (``de_kvnr``) fails, a mistyped number is still someone's."""
    v = NON_ALNUM.sub("", value).upper()
    return (len(v) == 10 and "A" <= v[0] <= "Z" and v[1:].isdigit()
            and _not_repeated(v[1:]))


def de_kvnr(value: str) -> bool:
    """German health insurance number (Krankenversichertennummer): a letter and 9 digits; the
    letter as two digits (A = 01) and the next 8 digits, weighted 1, 2 alternately with the
    digits of each product summed, give the last digit mod 10."""
    v = NON_ALNUM.sub("", value).upper()
    if len(v) != 10 or not ("A" <= v[0] <= "Z") or not v[1:].isdigit():
        return False
    digits = f"{ord(v[0]) - 64:02d}" + v[1:9]
    total = 0
    for i, c in enumerate(digits):
        product = int(c) * (1 if i % 2 == 0 else 2)
        total += product - 9 if product > 9 else product
    return total % 10 == int(v[9])


_SHAPED = (es_dni, it_fiscal_code, fr_nir, cn_resident_id, br_cpf, fi_hetu, ch_ahv, sg_nric,
           hk_hkid, mx_curp, cl_rut, us_itin, cz_birth_number, kr_rrn)
_BARE = (nl_bsn, be_national_number, pl_pesel, se_personnummer, in_aadhaar, ca_sin, au_tfn,
         de_tax_id, us_aba_routing, za_id, ro_cnp, tr_tckn, no_fnr, is_kennitala, dk_cpr, pt_nif,
         ie_pps, jp_my_number, il_teudat_zehut, hr_oib, ee_isikukood, in_pan)


def national_id(value: str) -> bool:
    """Any of the national ID formats above whose check digit is right."""
    return any(check(value) for check in _SHAPED + _BARE)


ID_VALIDATORS = {
    "national_id": national_id,
    "uk_nhs": uk_nhs, "de_id_card": de_id_card, "de_tax_id": de_tax_id, "fr_nir": fr_nir,
    "es_dni": es_dni, "it_fiscal_code": it_fiscal_code, "nl_bsn": nl_bsn,
    "be_national_number": be_national_number, "pl_pesel": pl_pesel,
    "se_personnummer": se_personnummer, "in_aadhaar": in_aadhaar, "ca_sin": ca_sin,
    "au_tfn": au_tfn, "br_cpf": br_cpf, "cn_resident_id": cn_resident_id, "fi_hetu": fi_hetu,
    "us_aba_routing": us_aba_routing, "ch_ahv": ch_ahv, "sg_nric": sg_nric, "hk_hkid": hk_hkid,
    "mx_curp": mx_curp, "cl_rut": cl_rut, "us_itin": us_itin, "cz_birth_number": cz_birth_number,
    "kr_rrn": kr_rrn, "za_id": za_id, "ro_cnp": ro_cnp, "tr_tckn": tr_tckn, "no_fnr": no_fnr,
    "dk_cpr": dk_cpr, "pt_nif": pt_nif, "ie_pps": ie_pps, "jp_my_number": jp_my_number,
    "il_teudat_zehut": il_teudat_zehut, "hr_oib": hr_oib, "ee_isikukood": ee_isikukood,
    "in_pan": in_pan, "au_medicare": au_medicare, "us_mbi": us_mbi, "de_kvnr": de_kvnr,
    "us_mbi_shape": us_mbi_shape, "de_kvnr_shape": de_kvnr_shape, "is_kennitala": is_kennitala,
    "mrz_passport": mrz_passport, "id_number": id_number, "passport_number": passport_number,
    "driving_licence": driving_licence,
    "birth_date": birth_date,
}


def email_address(value: str) -> bool:
    """An e-mail address, not what only looks like one: a fediverse handle (``@user@host``, a
    mention) or the ``password@host`` part of a URL with credentials (``scheme://user:pw@host``)."""
    return not value.startswith("@") and "://" not in value


_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "nought": "0", "null": "0", "one": "1", "eins": "1",
    "two": "2", "zwei": "2", "three": "3", "drei": "3", "four": "4", "vier": "4", "five": "5",
    "funf": "5", "fünf": "5", "six": "6", "sechs": "6", "seven": "7", "sieben": "7",
    "eight": "8", "acht": "8", "nine": "9", "neun": "9",
}
_WORD = re.compile(r"[a-zü]+|\d")


def spelled_digits(value: str) -> bool:
    """A number read out digit by digit ("five two three, dash, one one …"): 7 to 15 digits, not
    one digit repeated, not counting; the words for "dash" and "hyphen" are separators."""
    digits = "".join(_DIGIT_WORDS.get(w, w if w.isdigit() else "")
                     for w in _WORD.findall(value.lower()))
    if not 7 <= len(digits) <= 15 or len(set(digits)) <= 2:
        return False
    steps = {(int(b) - int(a)) % 10 for a, b in zip(digits, digits[1:], strict=False)}
    return steps not in ({1}, {9})  # counting up or down is not a number


def document_number(value: str) -> bool:
    """A passport or licence number in context, letters and digits mixed as issuers write them
    (``CJTG56K10``, ``WDLK9J2P83BC``): 6-16 characters, two digits or more, not one repeated
    character, not a year or a date."""
    v = NON_ALNUM.sub("", value).upper()
    d = _digits(v)
    if not 6 <= len(v) <= 16 or len(d) < 2 or len(set(v)) <= 2:
        return False
    return id_number(v) or len(d) < 5


ID_VALIDATORS.update({"mx_clabe": mx_clabe})
ID_VALIDATORS.update({"email_address": email_address, "spelled_digits": spelled_digits,
                      "document_number": document_number})
