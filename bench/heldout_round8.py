"""Held-back round 8: credentials and personal data in chatty staff posts.

A seeded generator for the eighth held-back round of the credentials and pii categories.
One writer produced it from the labelling spec (POLICY.md) alone, without reading the
detection rules, the monitor package or any earlier round, so the cases test the rules on
phrasing, providers, formats and tricks they were never shaped by. The voice is a
non-technical employee community: sales, support, marketing, retail staff and nurses at a
health-tech firm, writing informal posts, complaints, transcribed screenshots, OCR-like text
with odd spacing, emoji and typos. Values are made up but keep the real formats: provider
prefixes, lengths and alphabets, GitHub-style CRC32 suffixes, Luhn, mod-97, ABA and national
check digits. Run ``python -m bench.heldout_round8`` to rewrite the four files.
"""

from __future__ import annotations

import base64
import json
import random
import string
import zlib
from collections.abc import Callable
from pathlib import Path

SEED = 80_417_263
NAMES = ("round8_credentials_positive", "round8_credentials_hard_negative",
         "round8_pii_positive", "round8_pii_negative")
OUT = Path(__file__).resolve().parents[1] / "data" / "secrets-heldout"
TARGET = {"round8_credentials_positive": 640, "round8_credentials_hard_negative": 620,
          "round8_pii_positive": 640, "round8_pii_negative": 1180}

# The fictional companies' published contacts: quoting them is not pii (POLICY.md).
PUBLISHED: dict[str, list[str]] = {
    "Brightwell Health": ["press@brightwellhealth.com", "support@brightwellhealth.com",
                          "+1 617 555 0148", "400 Cortland Street, Suite 12, Boston, MA 02118"],
    "Marrowfield Retail": ["help@marrowfield.co.uk", "media@marrowfield.co.uk",
                           "+44 161 496 0732", "Marrowfield House, 18 Tib Lane, Manchester M2 4JB"],
    "Quillon Telecom": ["kontakt@quillon-telecom.de", "presse@quillon-telecom.de",
                        "+49 30 90185 3300", "Schlesische Straße 27, 10997 Berlin"],
    "Orchidee Assurances": ["service-client@orchidee-assurances.fr", "presse@orchidee-assurances.fr",
                            "+33 1 84 88 21 90", "41 rue des Jeûneurs, 75002 Paris"],
    "Tidewater Logistics": ["care@tidewaterlogistics.com.au", "newsroom@tidewaterlogistics.com.au",
                            "+61 2 9055 4180", "Level 9, 255 Pitt Street, Sydney NSW 2000"],
}

B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
URLSAFE = ALNUM + "-_"
B64 = ALNUM + "+/"

Gen = Callable[[random.Random], str]


def rs(r: random.Random, n: int, alphabet: str = ALNUM) -> str:
    """n random characters from an alphabet."""
    return "".join(r.choice(alphabet) for _ in range(n))


def digits(r: random.Random, n: int) -> str:
    """n random decimal digits."""
    return "".join(r.choice(string.digits) for _ in range(n))


def pick(r: random.Random, *options: str) -> str:
    """One of the options."""
    return r.choice(options)


def b62(n: int, width: int) -> str:
    """n in base 62, left-padded with zeros."""
    out = ""
    while n:
        n, d = divmod(n, 62)
        out = B62[d] + out
    return out.rjust(width, "0")


def gh_token(r: random.Random, prefix: str, good: bool = True) -> str:
    """A GitHub-style token: 30 random base62 characters and their CRC32 in base62."""
    body = rs(r, 30, B62)
    check = b62(zlib.crc32(body.encode()), 6)
    if not good:
        check = check[:-1] + B62[(B62.index(check[-1]) + 1 + r.randrange(60)) % 62]
    return prefix + body + check


def luhn_digit(partial: str) -> str:
    """The Luhn check digit for a digit string."""
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_ok(num: str) -> bool:
    """Whether a digit string passes Luhn."""
    return luhn_digit(num[:-1]) == num[-1]


def card(r: random.Random, brand: str = "") -> str:
    """A Luhn-valid card number of a real brand range, never a documented test number."""
    brand = brand or r.choice(["visa", "mc", "amex", "disc", "mc2"])
    start, length = {"visa": ("4" + digits(r, 5), 16), "mc": (str(r.randint(51, 55)) + digits(r, 4), 16),
                     "mc2": (str(r.randint(2221, 2720)) + digits(r, 2), 16),
                     "amex": (pick(r, "34", "37") + digits(r, 4), 15),
                     "disc": ("6011" + digits(r, 2), 16)}[brand]
    while True:
        partial = start + digits(r, length - len(start) - 1)
        num = partial + luhn_digit(partial)
        if len(set(num[6:])) > 3:
            return num


def group_card(num: str, sep: str = " ") -> str:
    """A card number grouped as printed."""
    if len(num) == 15:
        return sep.join([num[:4], num[4:10], num[10:]])
    return sep.join(num[i:i + 4] for i in range(0, len(num), 4))


def iban(r: random.Random, country: str, good: bool = True) -> str:
    """An IBAN with a correct (or deliberately wrong) mod-97 check."""
    bban = {"DE": lambda: digits(r, 18), "FR": lambda: digits(r, 10) + rs(r, 11, string.digits) + digits(r, 2),
            "NL": lambda: pick(r, "ABNA", "INGB", "RABO", "TRIO") + digits(r, 10),
            "ES": lambda: digits(r, 20), "GB": lambda: pick(r, "NWBK", "BARC", "LOYD", "MIDL") + digits(r, 14),
            "BE": lambda: digits(r, 12), "PT": lambda: digits(r, 21), "IT": lambda: rs(r, 1, string.ascii_uppercase) + digits(r, 22),
            "IE": lambda: pick(r, "AIBK", "BOFI") + digits(r, 14), "AT": lambda: digits(r, 16)}[country]()
    conv = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(conv) % 97
    if not good:
        check = (check + r.randint(1, 90)) % 97 + 2
        if check == 98 - int(conv) % 97:
            check = check % 97 + 1
    return f"{country}{check:02d}{bban}"


def spaced_iban(code: str) -> str:
    """An IBAN in groups of four."""
    return " ".join(code[i:i + 4] for i in range(0, len(code), 4))


def aba(r: random.Random) -> str:
    """An ABA routing number with a valid 3-7-1 check digit."""
    while True:
        head = pick(r, "0", "1", "2", "3") + digits(r, 7)
        w = [3, 7, 1, 3, 7, 1, 3, 7]
        s = sum(int(c) * x for c, x in zip(head, w, strict=True))
        d = (10 - s % 10) % 10
        if head[:2] <= "32":
            return head + str(d)


def ssn(r: random.Random) -> str:
    """A structurally valid SSN (no 000/666/9xx area, no 00 group, no 0000 serial)."""
    while True:
        a = r.randint(1, 899)
        if a != 666:
            return f"{a:03d}-{r.randint(1, 99):02d}-{r.randint(1, 9999):04d}"


def sin_ca(r: random.Random) -> str:
    """A Luhn-valid Canadian SIN."""
    p = str(r.choice([1, 2, 3, 4, 5, 6, 7, 9])) + digits(r, 7)
    return p + luhn_digit(p)


def za_id(r: random.Random) -> str:
    """A South African ID number (YYMMDD SSSS C A Z) with its Luhn digit."""
    p = f"{r.randint(60, 99):02d}{r.randint(1, 12):02d}{r.randint(1, 28):02d}{digits(r, 4)}{r.choice('01')}8"
    return p + luhn_digit(p)


def se_pnr(r: random.Random) -> str:
    """A Swedish personnummer YYMMDD-NNNC with its Luhn digit."""
    p = f"{r.randint(50, 99):02d}{r.randint(1, 12):02d}{r.randint(1, 28):02d}{digits(r, 3)}"
    return f"{p[:6]}-{p[6:]}{luhn_digit(p)}"


def nhs(r: random.Random, good: bool = True) -> str:
    """A UK NHS number (weights 10..2, mod 11) formatted 3-3-4."""
    while True:
        p = digits(r, 9)
        c = 11 - sum(int(d) * (10 - i) for i, d in enumerate(p)) % 11
        c = 0 if c == 11 else c
        if c == 10:
            continue
        if not good:
            c = (c + r.randint(1, 9)) % 10
        n = p + str(c)
        return f"{n[:3]} {n[3:6]} {n[6:]}"


_VD = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
       [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
       [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
       [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]
_VP = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
       [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
       [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8]]
_VINV = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9]


def aadhaar(r: random.Random) -> str:
    """An Aadhaar number (12 digits, first 2-9) with its Verhoeff check digit, as 4-4-4."""
    p = str(r.randint(2, 9)) + digits(r, 10)
    c = 0
    for i, ch in enumerate(reversed(p)):
        c = _VD[c][_VP[(i + 1) % 8][int(ch)]]
    n = p + str(_VINV[c])
    return f"{n[:4]} {n[4:8]} {n[8:]}"


def cpf(r: random.Random, good: bool = True) -> str:
    """A Brazilian CPF with both mod-11 check digits, as 000.000.000-00."""
    n = [int(c) for c in digits(r, 9)]
    for w in (10, 11):
        s = sum(d * (w - i) for i, d in enumerate(n))
        n.append(0 if s % 11 < 2 else 11 - s % 11)
    if not good:
        n[-1] = (n[-1] + r.randint(1, 9)) % 10
    t = "".join(map(str, n))
    return f"{t[:3]}.{t[3:6]}.{t[6:9]}-{t[9:]}"


CURP_ALPHA = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ"


def curp(r: random.Random) -> str:
    """A Mexican CURP with its final check digit."""
    up = string.ascii_uppercase
    body = (r.choice(up) + r.choice("AEIOU") + rs(r, 2, up) + f"{r.randint(60, 99):02d}{r.randint(1, 12):02d}"
            f"{r.randint(1, 28):02d}" + r.choice("HM") + pick(r, "DF", "JC", "NL", "PL", "VZ", "YN", "GT")
            + rs(r, 3, "BCDFGHJKLMNPRSTVZ") + "0")
    s = sum(CURP_ALPHA.index(c) * (18 - i) for i, c in enumerate(body))
    return body + str((10 - s % 10) % 10)


def rut(r: random.Random) -> str:
    """A Chilean RUT with its mod-11 verifier, as 12.345.678-K."""
    n = r.randint(5_000_000, 25_999_999)
    s, m = 0, 2
    for ch in reversed(str(n)):
        s += int(ch) * m
        m = 2 if m == 7 else m + 1
    v = 11 - s % 11
    dv = "0" if v == 11 else "K" if v == 10 else str(v)
    return f"{n:,}".replace(",", ".") + "-" + dv


def dni_es(r: random.Random) -> str:
    """A Spanish DNI: eight digits and the mod-23 letter."""
    n = r.randint(10_000_000, 79_999_999)
    return f"{n}{'TRWAGMYFPDXBNJZSQVHLCKE'[n % 23]}"


def bsn(r: random.Random) -> str:
    """A Dutch BSN passing the eleven test."""
    while True:
        d = [r.randint(1, 9)] + [int(c) for c in digits(r, 7)]
        s = sum(x * (9 - i) for i, x in enumerate(d))
        last = s % 11
        if last < 10:
            return "".join(map(str, d)) + str(last)


def nir(r: random.Random) -> str:
    """A French NIR (13 digits) with its 97-key, as printed on the carte Vitale."""
    body = f"{r.choice('12')}{r.randint(60, 99):02d}{r.randint(1, 12):02d}{r.randint(1, 95):02d}{digits(r, 3)}{digits(r, 3)}"
    key = 97 - int(body) % 97
    return f"{body[0]} {body[1:3]} {body[3:5]} {body[5:7]} {body[7:10]} {body[10:13]} {key:02d}"


def pesel(r: random.Random) -> str:
    """A Polish PESEL with its weighted check digit."""
    p = f"{r.randint(60, 99):02d}{r.randint(1, 12):02d}{r.randint(1, 28):02d}{digits(r, 4)}"
    w = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3]
    s = sum(int(c) * x for c, x in zip(p, w, strict=True))
    return p + str((10 - s % 10) % 10)


def nif_pt(r: random.Random) -> str:
    """A Portuguese NIF with its mod-11 check digit."""
    p = str(r.choice([1, 2, 3])) + digits(r, 7)
    s = sum(int(c) * (9 - i) for i, c in enumerate(p))
    c = 11 - s % 11
    return p + str(0 if c >= 10 else c)


def tfn(r: random.Random) -> str:
    """An Australian TFN passing the weighted mod-11 test, as 123 456 782."""
    w = [1, 4, 3, 7, 5, 8, 6, 9, 10]
    while True:
        d = digits(r, 8)
        for last in range(10):
            n = d + str(last)
            if sum(int(c) * x for c, x in zip(n, w, strict=True)) % 11 == 0:
                return f"{n[:3]} {n[3:6]} {n[6:]}"


def clabe(r: random.Random) -> str:
    """A Mexican CLABE (18 digits) with its 3-7-1 check digit."""
    p = pick(r, "002", "012", "014", "021", "072") + digits(r, 14)
    w = [3, 7, 1] * 6
    s = sum(int(c) * x % 10 for c, x in zip(p, w, strict=False))
    return p + str((10 - s % 10) % 10)


def mrz_digit(field: str) -> str:
    """The ICAO 9303 check digit (weights 7-3-1)."""
    val = {c: i for i, c in enumerate(string.digits)} | {c: i + 10 for i, c in enumerate(string.ascii_uppercase)}
    val["<"] = 0
    return str(sum(val[c] * (7, 3, 1)[i % 3] for i, c in enumerate(field)) % 10)


def mrz_passport(r: random.Random, surname: str, given: str, country: str) -> tuple[str, str]:
    """The two MRZ lines of a TD3 passport with correct check digits."""
    num = rs(r, 1, "CFGHJKLMNPRTVWXYZ") + rs(r, 8, string.digits + "CFGHJKLMNPRTVWXYZ")
    dob = f"{r.randint(60, 99):02d}{r.randint(1, 12):02d}{r.randint(1, 28):02d}"
    exp = f"{r.randint(27, 35):02d}{r.randint(1, 12):02d}{r.randint(1, 28):02d}"
    sex = r.choice("MF")
    l1 = f"P<{country}{surname.upper()}<<{given.upper()}".replace(" ", "<").ljust(44, "<")[:44]
    opt = "<" * 14
    l2 = num + mrz_digit(num) + country + dob + mrz_digit(dob) + sex + exp + mrz_digit(exp) + opt + mrz_digit(opt)
    final = mrz_digit(l2[0:10] + l2[13:20] + l2[21:43])
    return l1, l2 + final


def b64(s: str) -> str:
    """Base64 of a string."""
    return base64.b64encode(s.encode()).decode()


def b64u(raw: bytes) -> str:
    """Unpadded URL-safe base64."""
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def jwt(r: random.Random) -> str:
    """A JWT with a decodable header and payload and a random signature."""
    head = b64u(json.dumps({"alg": pick(r, "HS256", "RS256", "ES256"), "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64u(json.dumps({"sub": digits(r, 8), "role": pick(r, "admin", "agent", "service"),
                            "iat": 1_780_000_000 + r.randint(0, 9_000_000)}, separators=(",", ":")).encode())
    return f"{head}.{body}.{b64u(r.randbytes(32))}"


def spaced(s: str, sep: str = " ") -> str:
    """Characters pulled apart, the way OCR or evasion spreads them."""
    return sep.join(s)


WORDS = ("zero one two three four five six seven eight nine").split()


def spell(num: str) -> str:
    """Digits written as words."""
    return " ".join(WORDS[int(c)] if c.isdigit() else c for c in num if c not in " -")


def oct_pw(r: random.Random) -> str:
    """A strong made-up password of the kind people share."""
    style = r.randrange(4)
    if style == 0:
        return rs(r, r.randint(12, 18), ALNUM + "!@#$%^&*")
    if style == 1:
        w = r.sample(["Harbor", "Maple", "Kettle", "Violet", "Cobalt", "Sparrow", "Juniper", "Falcon", "Pepper",
                      "Tundra", "Mango", "Quartz", "Lantern", "Saffron", "Otter", "Breeze"], 2)
        return f"{w[0]}{r.choice('!#$%&*')}{w[1]}{r.randint(10, 99)}{r.choice('!?.$')}"
    if style == 2:
        return rs(r, 4, string.ascii_uppercase) + digits(r, 3) + r.choice("!$%") + rs(r, 5, string.ascii_lowercase) + digits(r, 2)
    return rs(r, 3, string.ascii_lowercase) + r.choice("-_.") + rs(r, 4, ALNUM) + r.choice("-_.") + rs(r, 5, ALNUM) + "!"


FIRST = ("Maria", "Dwayne", "Priya", "Tomasz", "Aisha", "Kenji", "Lucía", "Femi", "Grace", "Olu", "Hannah",
         "Rafael", "Sione", "Ingrid", "Mehmet", "Chloé", "Wanjiru", "Diego", "Nadia", "Bongani", "Keisha",
         "Arjun", "Siobhan", "Mateus", "Lena", "Jamal", "Thandiwe", "Yusuf", "Camila", "Declan", "Mei",
         "Valentina", "Kwame", "Renata", "Bram", "Leilani", "Joaquín", "Ama", "Stefan", "Rosa")
LAST = ("Okafor", "Delgado", "Nguyen", "Kowalski", "Fitzgerald", "Haddad", "Sørensen", "Mbeki", "Ramírez",
        "Oyelaran", "Van der Berg", "Castellanos", "Achterberg", "Pillay", "Moreau", "Kariuki", "Tanaka",
        "Brennan", "Schulte", "Adeyemi", "Carvalho", "Lindqvist", "Menon", "Duarte", "Hoekstra", "Mwangi",
        "Obi", "Quintero", "Rasmussen", "Whitfield", "Zuñiga", "Bauer", "Lefèvre", "Mahlangu", "Osei")
TEAMS = ("the Northgate store", "the ward 4 team", "inside sales", "the help desk", "the Leeds branch",
         "marketing ops", "the night shift", "the pop-up crew", "customer success", "the clinic front desk",
         "the returns counter", "the events team", "tier 1 support", "the demo squad")
EMO = ("", "", " 🙃", " 😬", " 🤦‍♀️", " lol", " smh", " 🙈", " 😭", " 💀", " ugh", " 😅", " 👀", " !!", " 🫠")


def name(r: random.Random) -> str:
    """A made-up full name."""
    return f"{r.choice(FIRST)} {r.choice(LAST)}"


def handle(r: random.Random) -> str:
    """A made-up @handle."""
    return "@" + r.choice(FIRST).lower().replace("í", "i").replace("é", "e").replace("ú", "u") + r.choice(
        ["", "_", "."]) + pick(r, digits(r, 2), r.choice(LAST).lower()[:5], "x", "works", "irl")


def emo(r: random.Random) -> str:
    """An optional emoji or tic at the end of a sentence."""
    return r.choice(EMO)


# ---------------------------------------------------------------- credential presentation

CASUAL = (
    "ok so IT finally sent the {what} for {team} and it's literally {v} who picks these{e}",
    "can someone pls tell me why the {what} is just sitting in the onboarding doc?? {v}{e}",
    "note to self bc i keep losing it: {what} = {v}",
    "{h} here's the {what} you asked for, {v} - dont share it outside {team} ok",
    "lol my manager pasted the {what} into the group chat: {v}. in the GROUP CHAT{e}",
    "Monday vibes: coffee ☕, 47 unread tickets, and the {what} ({v}) taped to the monitor",
    "if the integration breaks again just use {v}, thats the {what} Dev gave us last week",
    "whoever keeps asking, the {what} is {v} — now stop pinging me{e}",
    "transcribing the screenshot for the people who can't open images: \"{what}: {v}\"",
    "Fwd: FW: re: {what}\n> Hi all, please use {v} going forward.\n> Thanks, {n}",
    "honestly the easiest part of my job is copy-pasting {v} into the {what} box every morning{e}",
    "new tool day!! they gave {team} a {what}: {v} and zero training{e}",
    "PSA for {team}: old {what} is dead, the new one is {v}",
    "why is the {what} on the whiteboard in the break room. it says {v}. anyway happy friday{e}",
    "{n} just read the {what} out loud on the call so here it is for the notes: {v}",
    "my notes app is a mess. groceries, dentist thurs, {what} {v}, call mum",
    "me explaining to the new hire that the {what} is {v} and it goes in the settings page{e}",
    "pinned msg from the old slack: \"{what} → {v}\" still works apparently",
    "So the vendor emailed the {what} in plain text ({v}) and then asked us to 'keep it secure' 😂",
    "Step 3 of our super official process: paste {v} (the {what}) and pray",
)
FOREIGN = (
    "Kurze Info fürs Team: der {what} ist {v} – bitte nicht weitergeben{e}",
    "Pour ceux qui demandaient, la clé ({what}) c'est {v}, merci de ne pas la partager",
    "Para los del turno de noche: el {what} es {v} (no lo publiquen jaja)",
    "Even voor het team: de {what} is {v}, niet doorsturen aub",
    "Gente, a {what} nova é {v}, salvem aí que o TI não vai mandar de novo",
)


def present(r: random.Random, what: str, var: str, v: str) -> str:
    """A provider value put in one of many post shapes."""
    style = r.randrange(12)
    if style == 7 and (v.startswith("http") or " " in v):
        style = 8
    fill = {"what": what, "v": v, "e": emo(r), "h": handle(r), "n": name(r), "team": r.choice(TEAMS)}
    if style <= 3:
        return r.choice(CASUAL).format(**fill)
    if style == 4:
        return r.choice(FOREIGN).format(**fill)
    if style == 5:
        return (f"{pick(r, 'help', 'halp', 'anyone?', 'quick q')} the {what} stopped working after the update, this is what's in my .env:\n"
                f"```\n{var}={v}\nDEBUG={pick(r, 'true', 'false')}\n```\n{pick(r, 'did i do it wrong', 'pls advise', 'it was fine yesterday')}{emo(r)}")
    if style == 6:
        return (f"config from the {pick(r, 'kiosk', 'tablet', 'reporting laptop', 'demo box')} (ignore the mess):\n"
                + pick(r, f'{{\n  "{var.lower()}": "{v}",\n  "region": "{pick(r, "eu", "us", "ap")}"\n}}',
                       f"{var.lower()}: {v}\nretries: {r.randint(2, 5)}",
                       f"[{pick(r, 'default', 'prod', 'store')}]\n{var.lower()} = {v}"))
    if style == 7:
        return (f"the tutorial said to run this and it worked!!\n"
                f"curl -H \"Authorization: Bearer {v}\" https://api.{pick(r, 'vendorapp', 'salesdash', 'ordertool')}.io/v2/me\n"
                f"feeling like a hacker{emo(r)}")
    if style == 8:
        return (f"{handle(r)} {handle(r)} it's {v}. that's the {what}, the one in the welcome email{emo(r)}")
    if style == 9:
        return (f"Week {r.randint(2, 40)} of learning to automate my spreadsheets\n\n"
                f"I finally got the export working. The trick was the {what}, which I stored as {v} in the "
                f"script instead of typing it in every time. Next I want to schedule it.\n\n"
                f"If anyone has tips for a total beginner, my comments are open {emo(r)}")
    if style == 10:
        return (f"[screenshot of my phone]\n{pick(r, 'Settings', 'Integrations', 'Connected apps')} > {what}\n"
                f"Value: {v}\n[/screenshot] why does it show the whole thing??")
    return (f"reddit comment, r/{pick(r, 'talesfromtechsupport', 'retail', 'nursing', 'sales')}: we had a customer call in "
            f"and the only fix was re-entering the {what}. my lead just read it off a sticky note: {v}. "
            f"anyway the customer was happy{emo(r)}")


def pem(label: str, r: random.Random, lines: int = 8) -> str:
    """A PEM block with made-up base64 material."""
    body = "\n".join(base64.b64encode(r.randbytes(48)).decode() for _ in range(lines))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----"


def uuid(r: random.Random) -> str:
    """A random UUID4-looking string."""
    h = rs(r, 32, HEX)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{r.choice('89ab')}{h[17:20]}-{h[20:]}"


def aws_id(r: random.Random, head: str = "AKIA") -> str:
    """An AWS access key id."""
    return head + rs(r, 16, string.ascii_uppercase + "234567")


BIP39 = ("abandon ability able about above absent absorb abstract absurd abuse access accident account "
         "acid acoustic acquire across act action actor actual adapt add addict address adjust admit adult "
         "advance advice aerobic affair afford afraid again agent agree ahead aim air airport aisle alarm "
         "album alcohol alert alien all alley allow almost alone alpha already also alter always amateur "
         "amazing among amount amused analyst anchor ancient anger angle angry animal ankle announce annual "
         "zebra zero zone zoo youth young yellow year yard wrong write wrist worry world wood wolf wisdom").split()

PROVIDERS: list[tuple[str, str, str, Gen]] = [
    ("github_classic_pat", "GitHub token", "GITHUB_TOKEN", lambda r: gh_token(r, "ghp_")),
    ("github_oauth_token", "GitHub oauth token", "GH_OAUTH", lambda r: gh_token(r, "gho_")),
    ("github_app_token", "GitHub app install token", "GH_APP_TOKEN", lambda r: gh_token(r, "ghs_")),
    ("github_user_to_server", "GitHub user token", "GH_USER_TOKEN", lambda r: gh_token(r, "ghu_")),
    ("github_fine_grained", "GitHub fine-grained token", "GH_PAT", lambda r: "github_pat_11" + rs(r, 20, B62) + "_" + rs(r, 59, B62)),
    ("gitlab_pat", "GitLab token", "GITLAB_TOKEN", lambda r: "glpat-" + rs(r, 20, URLSAFE)),
    ("gitlab_runner", "GitLab runner token", "RUNNER_TOKEN", lambda r: "glrt-" + rs(r, 20, URLSAFE)),
    ("gitlab_deploy", "GitLab deploy token", "DEPLOY_TOKEN", lambda r: "gldt-" + rs(r, 20, URLSAFE)),
    ("aws_key_pair", "AWS keys", "AWS_ACCESS_KEY_ID", lambda r: f"{aws_id(r)} / {rs(r, 40, B64)}"),
    ("aws_session", "AWS temp creds", "AWS_SESSION", lambda r: f"{aws_id(r, 'ASIA')} secret {rs(r, 40, B64)} session FwoGZXIvYXdzE" + rs(r, 120, B64)),
    ("google_api_key", "Google API key", "GOOGLE_API_KEY", lambda r: "AIza" + rs(r, 35, URLSAFE)),
    ("google_oauth_secret", "Google client secret", "GOOGLE_CLIENT_SECRET", lambda r: "GOCSPX-" + rs(r, 28, URLSAFE)),
    ("google_access_token", "Google access token", "GOOGLE_TOKEN", lambda r: "ya29.a0" + rs(r, 140, URLSAFE)),
    ("slack_bot_token", "Slack bot token", "SLACK_BOT_TOKEN", lambda r: f"xoxb-{digits(r, 11)}-{digits(r, 13)}-{rs(r, 24)}"),
    ("slack_user_token", "Slack user token", "SLACK_TOKEN", lambda r: f"xoxp-{digits(r, 11)}-{digits(r, 11)}-{digits(r, 13)}-{rs(r, 32, HEX)}"),
    ("slack_webhook", "Slack webhook", "SLACK_WEBHOOK_URL", lambda r: f"https://hooks.slack.com/services/T{rs(r, 10, string.ascii_uppercase + string.digits)}/B{rs(r, 10, string.ascii_uppercase + string.digits)}/{rs(r, 24)}"),
    ("discord_webhook", "Discord webhook", "DISCORD_WEBHOOK", lambda r: f"https://discord.com/api/webhooks/{digits(r, 19)}/{rs(r, 68, URLSAFE)}"),
    ("discord_bot_token", "Discord bot token", "DISCORD_TOKEN", lambda r: f"{b64(digits(r, 18)).rstrip('=')}.{rs(r, 6, URLSAFE)}.{rs(r, 38, URLSAFE)}"),
    ("teams_webhook", "Teams channel webhook", "TEAMS_WEBHOOK", lambda r: f"https://{pick(r, 'brightwell', 'contoso2', 'marrowfield')}.webhook.office.com/webhookb2/{uuid(r)}@{uuid(r)}/IncomingWebhook/{rs(r, 32, HEX)}/{uuid(r)}/V2{rs(r, 40, URLSAFE)}"),
    ("google_chat_webhook", "Google Chat webhook", "GCHAT_WEBHOOK", lambda r: f"https://chat.googleapis.com/v1/spaces/AAAA{rs(r, 7, URLSAFE)}/messages?key=AIzaSy{rs(r, 33, URLSAFE)}&token={rs(r, 43, URLSAFE)}%3D"),
    ("telegram_bot", "Telegram bot token", "TELEGRAM_TOKEN", lambda r: f"{r.randint(1_000_000_000, 7_999_999_999)}:AA{rs(r, 33, URLSAFE)}"),
    ("zapier_webhook", "Zapier webhook", "ZAP_HOOK", lambda r: f"https://hooks.zapier.com/hooks/catch/{digits(r, 8)}/{rs(r, 7, string.ascii_lowercase + string.digits)}/"),
    ("stripe_live_secret", "Stripe live key", "STRIPE_SECRET_KEY", lambda r: "sk_live_51" + rs(r, 97)),
    ("stripe_restricted", "Stripe restricted key", "STRIPE_RK", lambda r: "rk_live_51" + rs(r, 97)),
    ("stripe_webhook_secret", "Stripe webhook signing secret", "STRIPE_WEBHOOK_SECRET", lambda r: "whsec_" + rs(r, 32)),
    ("square_token", "Square access token", "SQUARE_ACCESS_TOKEN", lambda r: "EAAA" + rs(r, 60, URLSAFE)),
    ("square_oauth_secret", "Square app secret", "SQUARE_APP_SECRET", lambda r: "sq0csp-" + rs(r, 43, URLSAFE)),
    ("braintree_token", "Braintree production token", "BT_TOKEN", lambda r: f"access_token$production${rs(r, 16, string.ascii_lowercase + string.digits)}${rs(r, 32, HEX)}"),
    ("razorpay_live", "Razorpay live keys", "RAZORPAY_KEY", lambda r: f"rzp_live_{rs(r, 14)} secret {rs(r, 24)}"),
    ("paystack_live", "Paystack secret key", "PAYSTACK_SECRET", lambda r: "sk_live_" + rs(r, 40, HEX)),
    ("flutterwave_secret", "Flutterwave secret key", "FLW_SECRET_KEY", lambda r: f"FLWSECK-{rs(r, 32, HEX)}-X"),
    ("mercadopago_token", "Mercado Pago access token", "MP_ACCESS_TOKEN", lambda r: f"APP_USR-{digits(r, 16)}-{digits(r, 6)}-{rs(r, 32, HEX)}-{digits(r, 9)}"),
    ("twilio_auth", "Twilio SID and auth token", "TWILIO_AUTH_TOKEN", lambda r: f"AC{rs(r, 32, HEX)} / {rs(r, 32, HEX)}"),
    ("twilio_api_key", "Twilio API key + secret", "TWILIO_API_SECRET", lambda r: f"SK{rs(r, 32, HEX)}:{rs(r, 32)}"),
    ("sendgrid_key", "SendGrid key", "SENDGRID_API_KEY", lambda r: f"SG.{rs(r, 22, URLSAFE)}.{rs(r, 43, URLSAFE)}"),
    ("mailgun_key", "Mailgun key", "MAILGUN_API_KEY", lambda r: "key-" + rs(r, 32, HEX)),
    ("mailchimp_key", "Mailchimp API key", "MAILCHIMP_KEY", lambda r: f"{rs(r, 32, HEX)}-us{r.randint(1, 21)}"),
    ("brevo_key", "Brevo (sendinblue) key", "BREVO_API_KEY", lambda r: f"xkeysib-{rs(r, 64, HEX)}-{rs(r, 16)}"),
    ("openai_project_key", "OpenAI key", "OPENAI_API_KEY", lambda r: "sk-proj-" + rs(r, 74, URLSAFE) + "T3BlbkFJ" + rs(r, 74, URLSAFE)),
    ("openai_legacy_key", "ChatGPT API key", "OPENAI_KEY", lambda r: "sk-" + rs(r, 20) + "T3BlbkFJ" + rs(r, 20)),
    ("anthropic_key", "Claude API key", "ANTHROPIC_API_KEY", lambda r: "sk-ant-api03-" + rs(r, 93, URLSAFE) + "AA"),
    ("huggingface_token", "Hugging Face token", "HF_TOKEN", lambda r: "hf_" + rs(r, 34, string.ascii_letters)),
    ("replicate_token", "Replicate token", "REPLICATE_API_TOKEN", lambda r: "r8_" + rs(r, 37)),
    ("groq_key", "Groq key", "GROQ_API_KEY", lambda r: "gsk_" + rs(r, 52)),
    ("perplexity_key", "Perplexity key", "PPLX_API_KEY", lambda r: "pplx-" + rs(r, 48)),
    ("xai_key", "Grok API key", "XAI_API_KEY", lambda r: "xai-" + rs(r, 80)),
    ("npm_token", "npm publish token", "NPM_TOKEN", lambda r: "npm_" + rs(r, 36)),
    ("pypi_token", "PyPI upload token", "PYPI_TOKEN", lambda r: "pypi-AgEIcHlwaS5vcmc" + rs(r, 120, URLSAFE)),
    ("rubygems_key", "RubyGems key", "GEM_HOST_API_KEY", lambda r: "rubygems_" + rs(r, 48, HEX)),
    ("nuget_key", "NuGet key", "NUGET_API_KEY", lambda r: "oy2" + rs(r, 43, string.ascii_lowercase + string.digits)),
    ("dockerhub_pat", "Docker Hub token", "DOCKERHUB_TOKEN", lambda r: "dckr_pat_" + rs(r, 27, URLSAFE)),
    ("jfrog_reference", "Artifactory token", "ARTIFACTORY_TOKEN", lambda r: "cmVmdGtuOjAxOjE3" + rs(r, 48)),
    ("shopify_admin", "Shopify admin token", "SHOPIFY_ACCESS_TOKEN", lambda r: "shpat_" + rs(r, 32, HEX)),
    ("shopify_shared_secret", "Shopify app secret", "SHOPIFY_SECRET", lambda r: "shpss_" + rs(r, 32, HEX)),
    ("atlassian_token", "Jira API token", "JIRA_API_TOKEN", lambda r: "ATATT3xFfGF0" + rs(r, 170, URLSAFE) + "=" + rs(r, 8, HEX.upper())),
    ("linear_key", "Linear API key", "LINEAR_API_KEY", lambda r: "lin_api_" + rs(r, 40)),
    ("notion_token", "Notion integration secret", "NOTION_TOKEN", lambda r: pick(r, "secret_" + rs(r, 43), "ntn_" + digits(r, 11) + rs(r, 35))),
    ("airtable_pat", "Airtable token", "AIRTABLE_PAT", lambda r: f"pat{rs(r, 14)}.{rs(r, 64, HEX)}"),
    ("asana_pat", "Asana token", "ASANA_PAT", lambda r: f"2/{digits(r, 16)}/{digits(r, 16)}:{rs(r, 32, HEX)}"),
    ("dropbox_token", "Dropbox token", "DROPBOX_TOKEN", lambda r: "sl.B" + rs(r, 135, URLSAFE)),
    ("figma_token", "Figma token", "FIGMA_TOKEN", lambda r: "figd_" + rs(r, 40, URLSAFE)),
    ("postman_key", "Postman API key", "POSTMAN_API_KEY", lambda r: f"PMAK-{rs(r, 24, HEX)}-{rs(r, 34, HEX)}"),
    ("sentry_user_token", "Sentry auth token", "SENTRY_AUTH_TOKEN", lambda r: "sntryu_" + rs(r, 64, HEX)),
    ("datadog_keys", "Datadog keys", "DD_API_KEY", lambda r: f"api {rs(r, 32, HEX)} app {rs(r, 40, HEX)}"),
    ("newrelic_key", "New Relic user key", "NEW_RELIC_API_KEY", lambda r: "NRAK-" + rs(r, 27, string.ascii_uppercase + string.digits)),
    ("grafana_sa", "Grafana service account token", "GRAFANA_TOKEN", lambda r: f"glsa_{rs(r, 32)}_{rs(r, 8, HEX)}"),
    ("doppler_token", "Doppler token", "DOPPLER_TOKEN", lambda r: f"dp.st.{pick(r, 'prd', 'prod', 'store')}.{rs(r, 40)}"),
    ("vault_token", "Vault token", "VAULT_TOKEN", lambda r: "hvs.CAESI" + rs(r, 86, URLSAFE)),
    ("terraform_cloud", "Terraform Cloud token", "TF_TOKEN", lambda r: f"{rs(r, 14)}.atlasv1.{rs(r, 67)}"),
    ("pulumi_token", "Pulumi token", "PULUMI_ACCESS_TOKEN", lambda r: "pul-" + rs(r, 40, HEX)),
    ("buildkite_token", "Buildkite token", "BUILDKITE_TOKEN", lambda r: "bkua_" + rs(r, 40, HEX)),
    ("circleci_pat", "CircleCI token", "CIRCLE_TOKEN", lambda r: f"CCIPAT_{rs(r, 22)}_{rs(r, 40, HEX)}"),
    ("digitalocean_pat", "DigitalOcean token", "DO_TOKEN", lambda r: "dop_v1_" + rs(r, 64, HEX)),
    ("azure_storage", "Azure storage connection string", "AZURE_STORAGE_CONNECTION_STRING", lambda r: f"DefaultEndpointsProtocol=https;AccountName={pick(r, 'stposprod', 'mktassets', 'wardexports')}{digits(r, 2)};AccountKey={base64.b64encode(r.randbytes(64)).decode()};EndpointSuffix=core.windows.net"),
    ("azure_sas_link", "shared drive link", "EXPORT_URL", lambda r: f"https://{pick(r, 'mktshare', 'storeops', 'clinicdocs')}{digits(r, 2)}.blob.core.windows.net/{pick(r, 'exports', 'assets', 'rosters')}/{pick(r, 'q3-leads', 'rota', 'pricelist')}.xlsx?sv=2024-08-04&ss=b&srt=co&sp=rwdlacx&se=2027-{r.randint(1, 12):02d}-01T00:00:00Z&spr=https&sig={rs(r, 43, B64).replace('+', '%2B').replace('/', '%2F')}%3D"),
    ("s3_presigned_link", "download link", "REPORT_URL", lambda r: f"https://{pick(r, 'crm-exports', 'store-photos', 'ward-docs')}.s3.amazonaws.com/{pick(r, 'customers', 'leads', 'rota')}.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={aws_id(r)}%2F2026{r.randint(1, 12):02d}{r.randint(10, 28)}%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Date=2026{r.randint(1, 12):02d}{r.randint(10, 28)}T101500Z&X-Amz-Expires=604800&X-Amz-SignedHeaders=host&X-Amz-Signature={rs(r, 64, HEX)}"),
    ("cloudflare_token", "Cloudflare token", "CLOUDFLARE_API_TOKEN", lambda r: rs(r, 40, URLSAFE)),
    ("netlify_token", "Netlify token", "NETLIFY_AUTH_TOKEN", lambda r: "nfp_" + rs(r, 36)),
    ("supabase_token", "Supabase access token", "SUPABASE_ACCESS_TOKEN", lambda r: "sbp_" + rs(r, 40, HEX)),
    ("planetscale_password", "PlanetScale db password", "DATABASE_PASSWORD", lambda r: "pscale_pw_" + rs(r, 43, URLSAFE)),
    ("databricks_token", "Databricks token", "DATABRICKS_TOKEN", lambda r: "dapi" + rs(r, 32, HEX)),
    ("okta_token", "Okta API token", "OKTA_API_TOKEN", lambda r: "00" + rs(r, 40, URLSAFE)),
    ("hubspot_private_app", "HubSpot private app token", "HUBSPOT_TOKEN", lambda r: "pat-na1-" + uuid(r)),
    ("intercom_token", "Intercom access token", "INTERCOM_TOKEN", lambda r: b64(f"tok:{uuid(r)}:1:0").rstrip("=")),
    ("mapbox_secret", "Mapbox secret token", "MAPBOX_SECRET", lambda r: "sk." + b64u(json.dumps({"u": pick(r, "storeops", "mktg-maps"), "a": rs(r, 25, string.ascii_lowercase + string.digits)}).encode()) + "." + rs(r, 22, URLSAFE)),
    ("facebook_page_token", "Facebook page token", "FB_PAGE_TOKEN", lambda r: "EAAG" + rs(r, 180)),
    ("x_bearer", "X (twitter) bearer token", "TWITTER_BEARER", lambda r: "AAAAAAAAAAAAAAAAAAAAA" + rs(r, 22) + "%3D" + rs(r, 50)),
    ("firebase_server_key", "Firebase server key", "FCM_SERVER_KEY", lambda r: f"AAAA{rs(r, 7, URLSAFE)}:APA91b{rs(r, 134, URLSAFE)}"),
    ("shippo_live", "Shippo live token", "SHIPPO_TOKEN", lambda r: "shippo_live_" + rs(r, 40, HEX)),
    ("easypost_prod", "EasyPost production key", "EASYPOST_API_KEY", lambda r: "EZAK" + rs(r, 54)),
    ("plaid_access", "Plaid access token", "PLAID_ACCESS_TOKEN", lambda r: "access-production-" + uuid(r)),
    ("typeform_token", "Typeform token", "TYPEFORM_TOKEN", lambda r: f"tfp_{rs(r, 44)}_{rs(r, 14)}"),
    ("contentful_pat", "Contentful token", "CONTENTFUL_TOKEN", lambda r: "CFPAT-" + rs(r, 43, URLSAFE)),
    ("tailscale_authkey", "Tailscale auth key", "TS_AUTHKEY", lambda r: f"tskey-auth-k{rs(r, 11)}CNTRL-{rs(r, 33)}"),
    ("onepassword_service", "1Password service account token", "OP_SERVICE_ACCOUNT_TOKEN", lambda r: "ops_" + b64u(json.dumps({"signInAddress": "my.1password.com", "userAuth": {"method": "SRPg-4096", "alg": "PBES2g-HS256"}, "secretKey": "A3-" + rs(r, 6, string.ascii_uppercase + string.digits)}).encode()) + rs(r, 40, URLSAFE)),
    ("alibaba_key", "Aliyun AccessKey", "ALIBABA_CLOUD_ACCESS_KEY_ID", lambda r: f"LTAI5t{rs(r, 18)} / {rs(r, 30)}"),
    ("tencent_key", "Tencent Cloud SecretId/Key", "TENCENTCLOUD_SECRET_ID", lambda r: f"AKID{rs(r, 32)} {rs(r, 32)}"),
    ("salesforce_session", "Salesforce session id", "SF_ACCESS_TOKEN", lambda r: f"00D{rs(r, 15)}!{rs(r, 96, ALNUM + '._')}"),
    ("launchdarkly_key", "LaunchDarkly key", "LD_API_KEY", lambda r: "api-" + uuid(r)),
    ("render_key", "Render API key", "RENDER_API_KEY", lambda r: "rnd_" + rs(r, 32)),
    ("age_secret_key", "age secret key", "AGE_KEY", lambda r: "AGE-SECRET-KEY-1" + rs(r, 58, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L")),
    ("eth_private_key", "wallet private key", "PRIVATE_KEY", lambda r: "0x" + rs(r, 64, HEX)),
    ("wallet_seed_phrase", "wallet recovery phrase", "MNEMONIC", lambda r: " ".join(r.choice(BIP39) for _ in range(12))),
]


def cp_env_password(r: random.Random) -> str:
    """A password assignment in a .env file."""
    var = pick(r, "DB_PASSWORD", "ADMIN_PASS", "SMTP_PASSWORD", "POS_PASSWD", "PORTAL_SECRET", "KIOSK_PWD")
    return pick(r, f"why does the kiosk laptop have a file called .env on the desktop\n```\n{var}={oct_pw(r)}\nUSER=store{digits(r, 3)}\n```{emo(r)}",
                f"copied from the setup guide {handle(r)} sent: {var}=\"{oct_pw(r)}\" and it still says login failed",
                f"export {var}='{oct_pw(r)}'  # from {r.choice(FIRST)}, do not change!!")


def cp_yaml_secret(r: random.Random) -> str:
    """A secret in YAML."""
    k = pick(r, "password", "client_secret", "api_secret", "secret_key", "auth_token")
    return pick(r, f"our 'no-code' tool still wants yaml 🙄\n```yaml\nsync:\n  user: {r.choice(FIRST).lower()}\n  {k}: {oct_pw(r) + rs(r, 6)}\n```",
                f"{k}: \"{rs(r, 32, ALNUM)}\"  <- this is the line the consultant told me to edit, is that right?",
                f"pasted from the automation settings page:\nendpoint: https://hooks.{pick(r, 'crmflow', 'leadpipe')}.io\n{k}: {rs(r, 28, ALNUM + '-_')}")


def cp_json_secret(r: random.Random) -> str:
    """An api key in JSON."""
    k = pick(r, "apiKey", "api_key", "secret", "accessToken", "x-api-key", "token")
    return pick(r, f"the vendor's support said to paste this into the browser console lol\n{{\"{k}\": \"{rs(r, 40)}\", \"store\": {r.randint(10, 999)}}}",
                f"{{ \"user\": \"{r.choice(FIRST).lower()}@{pick(r, 'clinic', 'shop')}\", \"{k}\": \"{rs(r, 36, HEX)}\" }} <- from the export, why is this in a csv{emo(r)}",
                f"Help me understand: the form builder returns\n{{\n  \"ok\": true,\n  \"{k}\": \"{rs(r, 48, URLSAFE)}\"\n}}\nis that bad to show people?")


def cp_ini_passwd(r: random.Random) -> str:
    """A passwd line in an INI file."""
    return pick(r, f"found the printer config lmao\n[smtp]\nserver = mail.{pick(r, 'brightwell', 'tidewater')}-print.local\nuser = scanner\npasswd = {oct_pw(r)}",
                f"[{pick(r, 'label-printer', 'till-sync', 'backup')}]\nusername=admin\npassword={oct_pw(r)}\n^ taped inside the cupboard door at work",
                f"our label printer's settings.ini has `pwd = {oct_pw(r)}` in it and the file is on the shared drive for everyone{emo(r)}")


def cp_cli_flag(r: random.Random) -> str:
    """A password on the command line."""
    pw = oct_pw(r).replace("'", "")
    return pick(r, f"the night-shift cheat sheet says to type: mysql -u reports -p'{pw}' -h db{digits(r, 2)}.internal",
                f"my one line of 'coding' this week: sqlcmd -S reports -U svc_report -P \"{pw}\" 🎉",
                f"step 2: run `backup-tool --user store --password={pw} --all` (from the binder at the tills)",
                f"psql \"host=reports-db user=analyst password={pw} dbname=sales\"\nworks!! thanks {handle(r)}")


def cp_prose_wifi(r: random.Random) -> str:
    """The wifi password in prose."""
    ssid = pick(r, "Brightwell-Staff", "MRF_Backoffice", "Ward4-Guest", "Tidewater_Crew", "QuillonLab")
    pw = pick(r, oct_pw(r), rs(r, 10, string.ascii_lowercase + string.digits))
    return pick(r, f"new people: wifi is {ssid} and the password is {pw} (you're welcome){emo(r)}",
                f"staff wifi ({ssid}) pw changed to {pw} btw",
                f"Das WLAN-Passwort im Pausenraum ist jetzt {pw} 🙂",
                f"le mot de passe du wifi {ssid} c'est {pw} si jamais",
                f"contraseña del wifi de la tienda: {pw} no se lo den a los clientes!!",
                f"wifi {ssid} / {pw} — wrote it on the back of the rota too")


def cp_shared_login(r: random.Random) -> str:
    """The shared account's login in casual prose."""
    tool = pick(r, "Canva", "the scheduling app", "the brand Instagram", "the supplier portal", "LinkedIn Sales Nav", "the EHR test login", "Hootsuite")
    user = pick(r, f"{r.choice(FIRST).lower()}{digits(r, 2)}", "team.shared", "frontdesk", "marketing@team")
    return pick(r, f"logins for {tool} (shared account) are {user} / {oct_pw(r)} pls stop asking me{emo(r)}",
                f"for the weekend crew: {tool} user {user} pass {oct_pw(r)}",
                f"the shared {tool} login is username {user} password {oct_pw(r)} and we are NOT changing it again",
                f"{handle(r)} it's {user} and {oct_pw(r)} for {tool}, same as always",
                f"Login fürs gemeinsame Konto ({tool}): {user} / Passwort {oct_pw(r)}")


def cp_pos_manager(r: random.Random) -> str:
    """A manager override code for a till system."""
    c = digits(r, r.choice([5, 6]))
    return pick(r, f"till manager override code is {c} if you need to void something and no one's around",
                f"the POS admin password is literally {c}{rs(r, 3, string.ascii_lowercase)} and everyone knows it{emo(r)}",
                f"pro tip for new starters: refunds over £50 need the manager code ({c}), ask or just use that")


def cp_door_code(r: random.Random) -> str:
    """A building door code."""
    c = digits(r, r.choice([4, 5, 6]))
    return pick(r, f"back door code for the stockroom changed to {c}# fyi",
                f"keypad code for the staff entrance is {c} now, the old one stopped working{emo(r)}",
                f"if ur locked out of the clinic after 8, the side door code is {c}*",
                f"el código de la puerta del almacén es {c}, no lo compartan")


def cp_alarm_code(r: random.Random) -> str:
    """An alarm disarm code."""
    c = digits(r, 4)
    return pick(r, f"opening shift: alarm code is {c}, you have 30 seconds so RUN{emo(r)}",
                f"reminder the alarm disarm code at the Eastgate shop is {c} then press OFF",
                f"who set the alarm off again 😤 the code is {c}, it's not hard")


def cp_safe_code(r: random.Random) -> str:
    """A safe combination."""
    c = "-".join(str(r.randint(1, 99)) for _ in range(3))
    return pick(r, f"cash office safe combo is {c} (left, right, left)",
                f"for the float: safe combination {c}, dont tell area manager i posted this lol")


def cp_app_pin(r: random.Random) -> str:
    """A PIN for a shared phone app."""
    c = digits(r, r.choice([4, 6]))
    return pick(r, f"the shared work phone's banking app PIN is {c} if you need to check the deposit",
                f"company card app pin: {c} — {r.choice(FIRST)} said it's fine to share with the team 🤷",
                f"on-call phone unlock pin is {c} and the voicemail pin is {digits(r, 4)}")


def cp_recovery_codes(r: random.Random) -> str:
    """Two-factor recovery codes."""
    codes = [f"{rs(r, 5, string.ascii_lowercase + string.digits)}-{rs(r, 5, string.ascii_lowercase + string.digits)}" for _ in range(r.randint(4, 8))]
    return pick(r, "recovery codes for the brand account since i'm off next week:\n" + "\n".join(codes),
                f"2FA backup codes for the shared inbox: {' '.join(codes)} — use one and cross it off!!",
                f"[photo of the printout]\nBACKUP CODES\n{'  '.join(codes)}\nkeep these somewhere safe lol")


def cp_email_forward(r: random.Random) -> str:
    """An api key reaching a post through an e-mail forward."""
    k = pick(r, "sk_live_" + rs(r, 24), "key-" + rs(r, 32, HEX), rs(r, 40, ALNUM))
    return pick(r, f"---------- Forwarded message ---------\nFrom: onboarding@{pick(r, 'leadpipe', 'salesloop', 'bookingsly')}.io\nSubject: Your API credentials\n\nYour secret API key is: {k}\nKeep it safe!\n\n(forwarding so the team has it)",
                f"lmao the vendor cc'd 40 people: \"Hi, your new API key is {k}\". security who?{emo(r)}",
                f"Fwd: Welcome!\n> API Key: {k}\n> Account: {name(r)}\ncan someone set this up for me")


def cp_base64_secret(r: random.Random) -> str:
    """A secret hidden in base64."""
    inner = pick(r, f"password={oct_pw(r)}", f"admin:{oct_pw(r)}", gh_token(r, "ghp_"), "sk_live_" + rs(r, 24))
    return pick(r, f"ha, i 'encrypted' the login before posting it: {b64(inner)} 🔐",
                f"base64 so it's safe right?? {b64(inner)}",
                f"secret.txt contents (they said it's encoded so fine): {b64(inner)}")


def cp_basic_auth(r: random.Random) -> str:
    """An Authorization: Basic header with a real pair."""
    pair = f"{pick(r, 'api', 'reports', 'shop')}{digits(r, 2)}:{oct_pw(r)}"
    return pick(r, f"the support rep told me to add this header and it worked:\nAuthorization: Basic {b64(pair)}",
                f"curl -u {pair} https://reports.{pick(r, 'orderly', 'rotaplan')}.app/export  <- finally got the csv!!")


def cp_jwt(r: random.Random) -> str:
    """A live-looking JWT bearer token."""
    t = jwt(r)
    return pick(r, f"copied my session token from the browser for the vendor ticket: {t}",
                f"Authorization: Bearer {t}\n^ this is what the helpdesk asked for, hope that's ok{emo(r)}",
                f"{handle(r)} the token from the portal is {t} can you check why it says expired")


def cp_private_key(r: random.Random) -> str:
    """A private key block with material."""
    label = pick(r, "RSA PRIVATE KEY", "OPENSSH PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY", "PGP PRIVATE KEY BLOCK")
    block = pem(label, r, r.randint(4, 9))
    if label == "OPENSSH PRIVATE KEY":
        block = block.replace("-----\n", "-----\nb3BlbnNzaC1rZXktdjEAAAAA" + rs(r, 40, B64) + "\n", 1)
    return pick(r, f"IT asked me to send them the key file so here it is (is this the right one??)\n{block}",
                f"found this in the shared 'misc' folder, no idea what it is:\n{block}",
                f"the SFTP upload for the pharmacy orders needs this apparently\n{block}\nanyway lunch")


def cp_conn_string(r: random.Random) -> str:
    """A connection string with a password."""
    pw = oct_pw(r).replace("@", "").replace("/", "").replace(":", "").replace("#", "")
    user = pick(r, "report_ro", "admin", "analytics", "storeapp")
    host = pick(r, "db-prod-2.internal", "10.20.4.11", "crm.c9xk2.eu-west-1.rds.amazonaws.com", "cluster0.ab3cd.mongodb.net")
    s = pick(r, f"postgres://{user}:{pw}@{host}:5432/sales", f"mysql://{user}:{pw}@{host}/orders",
             f"mongodb+srv://{user}:{pw}@{host}/crm?retryWrites=true", f"redis://:{pw}@{host}:6379/0",
             f"amqp://{user}:{pw}@{host}:5672/", f"Server={host};Database=Rota;User Id={user};Password={pw};",
             f"jdbc:sqlserver://{host}:1433;databaseName=Claims;user={user};password={pw}",
             f"smtps://{user}:{pw}@smtp.{pick(r, 'mailhost', 'sendwise')}.com:465", f"ftp://{user}:{pw}@{host}/uploads")
    return pick(r, f"dashboard broke again, the setup doc says the connection is {s} — is that still right?",
                f"for the report tool paste this in 'data source': {s}",
                f"dev left this in the readme of the spreadsheet macro:\n{s}{emo(r)}")


def cp_spaced_token(r: random.Random) -> str:
    """A token pulled apart so it slips past search."""
    t = pick(r, gh_token(r, "ghp_"), "sk_live_" + rs(r, 24), "xoxb-" + digits(r, 11) + "-" + rs(r, 24), "glpat-" + rs(r, 20))
    return pick(r, f"typing it with spaces so the filter doesn't eat it: {spaced(t)}",
                f"key (remove the dots): {spaced(t, '.')}", f"OCR from the photo: {spaced(t)} {emo(r)}")


def cp_split_lines(r: random.Random) -> str:
    """A secret split over several lines."""
    t = pick(r, "sk_live_" + rs(r, 32), gh_token(r, "ghp_"), "AIza" + rs(r, 35, URLSAFE), "SG." + rs(r, 22, URLSAFE) + "." + rs(r, 43, URLSAFE))
    a, b, c = t[: len(t) // 3], t[len(t) // 3: 2 * len(t) // 3], t[2 * len(t) // 3:]
    return pick(r, f"the api key wraps weird on my phone:\n{a}\n{b}\n{c}\njoin them and it works",
                f"line 1: {a}\nline 2: {b}\nline 3: {c}\n(that's the key, glue together)")


def cp_split_posts(r: random.Random) -> str:
    """A password or key split across a thread."""
    t = pick(r, oct_pw(r) + rs(r, 6), "ghp_" + rs(r, 36, B62), "xoxp-" + digits(r, 11) + "-" + rs(r, 32, HEX))
    h = len(t) // 2
    return pick(r, f"(1/2) ok the admin password for the booking site starts with {t[:h]}\n(2/2) ...and ends with {t[h:]} 😇",
                f"{handle(r)} first half {t[:h]} — second half in the next reply\n↳ {t[h:]}")


def cp_foreign_password(r: random.Random) -> str:
    """A password in a non-English post."""
    pw = oct_pw(r)
    return pick(r, f"Passwort für den Kundenaccount: {pw} – bitte nicht ändern!",
                f"mot de passe du compte partagé : {pw} (c'est Julie qui l'a choisi)",
                f"la contraseña del portal de proveedores es {pw}, la cambió Rosa ayer",
                f"wachtwoord van het gedeelde account: {pw}",
                f"a senha do sistema de agendamento é {pw} não passem pra ninguém")


def cp_shared_drive_token(r: random.Random) -> str:
    """A shared-drive link carrying an access token."""
    url = pick(r, f"https://files.{pick(r, 'clinicbox', 'storeshare')}.net/s/{rs(r, 15)}?access_token={rs(r, 40, URLSAFE)}",
               f"https://drive.{pick(r, 'teamvault', 'docuhub')}.io/download/{digits(r, 8)}?token={rs(r, 48, HEX)}&user={r.choice(FIRST).lower()}")
    return pick(r, f"here's the link to the patient-leaflet folder, works without logging in: {url}",
                f"{handle(r)} use this one, the other link needs a password: {url}",
                f"link for the rota spreadsheet (has my login token in it, whatever): {url}")


def cp_hotspot(r: random.Random) -> str:
    """A hotspot / router admin password."""
    return pick(r, f"router admin at the pop-up is 192.168.0.1, user admin pw {oct_pw(r)}",
                f"my phone hotspot for the team offsite: network 'Shop Van', password {rs(r, 12, ALNUM)}",
                f"the event wifi (the one for staff not guests) password: {oct_pw(r)}")


GENERIC_CRED: dict[str, Gen] = {
    "env_password": cp_env_password, "yaml_secret": cp_yaml_secret, "json_api_key": cp_json_secret,
    "ini_passwd": cp_ini_passwd, "cli_password_flag": cp_cli_flag, "wifi_password_prose": cp_prose_wifi,
    "shared_account_login": cp_shared_login, "pos_manager_code": cp_pos_manager, "door_code": cp_door_code,
    "alarm_code": cp_alarm_code, "safe_combination": cp_safe_code, "app_pin": cp_app_pin,
    "recovery_codes": cp_recovery_codes, "email_forwarded_key": cp_email_forward, "base64_secret": cp_base64_secret,
    "basic_auth": cp_basic_auth, "jwt_bearer": cp_jwt, "private_key_block": cp_private_key,
    "connection_string": cp_conn_string, "spaced_token": cp_spaced_token, "split_lines_token": cp_split_lines,
    "split_posts_secret": cp_split_posts, "foreign_password": cp_foreign_password,
    "shared_drive_token_link": cp_shared_drive_token, "router_hotspot_password": cp_hotspot,
}


# ---------------------------------------------------------------- credential hard negatives

def _svc(r: random.Random) -> str:
    return pick(r, "Stripe", "the CRM", "Shopify", "the booking tool", "Slack", "the EHR sandbox", "Mailchimp", "HubSpot")


def cn_angle_placeholder(r: random.Random) -> str:
    """An angle-bracket placeholder."""
    ph = pick(r, "<your-token>", "<YOUR_API_KEY>", "<paste key here>", "<api-key-goes-here>", "<token>", "<your password here>")
    return pick(r, f"the setup guide literally says API_KEY={ph} and people keep pasting that in as-is{emo(r)}",
                f"step 4: replace {ph} with the key from {_svc(r)}. don't post your real one here pls",
                f"curl -H \"Authorization: Bearer {ph}\" ... is what the help article shows, I'm lost",
                f"{handle(r)} you have to swap {ph} for your own, it's not a real value lol")


def cn_env_placeholder(r: random.Random) -> str:
    """A variable reference instead of a value."""
    ref = pick(r, "${STRIPE_SECRET_KEY}", "$DB_PASSWORD", "${{ secrets.SLACK_WEBHOOK }}", "%API_TOKEN%", "{{ vault.crm_token }}", "os.environ['OPENAI_API_KEY']")
    return pick(r, f"our template has password: {ref} and it pulls the real one at runtime, so the file is safe to share",
                f"why does the doc say token={ref}? is that the token?? (no, it's a variable, learned today{emo(r)})",
                f"good practice from the workshop: never hardcode, use {ref} instead")


def cn_xxx_placeholder(r: random.Random) -> str:
    """A run of x's or stars standing for the value."""
    ph = pick(r, "xxxxxxxxxxxxxxxx", "XXXX-XXXX-XXXX", "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx", "ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "**********", "••••••••")
    return pick(r, f"password: {ph} (obviously not pasting the real one, nice try){emo(r)}",
                f"the screenshot shows api key {ph} because the app masks it. good app",
                f"example from the training slides: token = {ph}")


def cn_changeme(r: random.Random) -> str:
    """Default-password placeholders in docs."""
    ph = pick(r, "changeme", "CHANGE_ME", "your_password", "password_here", "replace-me", "TODO")
    return pick(r, f"the install guide ships with password: {ph} and tells you to change it on first login, which I did",
                f"pro tip: if the config still says secret={ph}, nobody set it up yet{emo(r)}",
                f"DB_PASSWORD={ph}  ← that's the template line, put yours in the vault not here")


def cn_aws_example(r: random.Random) -> str:
    """AWS's documented example keys."""
    return pick(r, "AWS docs example: AKIAIOSFODNN7EXAMPLE / wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY — the training deck uses these, they're fake",
                "aws_access_key_id = AKIAIOSFODNN7EXAMPLE (from the official docs, not a real key)",
                f"{handle(r)} that's the documentation sample AKIAIOSFODNN7EXAMPLE, it says EXAMPLE right in it 😂")


def cn_stripe_test(r: random.Random) -> str:
    """Stripe test-mode keys in a test context."""
    k = pick(r, "sk_test_", "rk_test_", "pk_test_") + rs(r, 24)
    return pick(r, f"practising the checkout demo in test mode with {k}, no real money moves in test mode{emo(r)}",
                f"sandbox only!! test key for the training store: {k}",
                f"for the workshop we use Stripe test mode ({k}) and card 4242 4242 4242 4242")


def cn_payment_sandbox(r: random.Random) -> str:
    """Other payment providers' test-mode keys."""
    k = pick(r, f"rzp_test_{rs(r, 14)}", f"sk_test_{rs(r, 40, HEX)}", f"FLWSECK_TEST-{rs(r, 32, HEX)}-X", f"TEST-{digits(r, 16)}-{digits(r, 6)}-{rs(r, 32, HEX)}-{digits(r, 9)}")
    return pick(r, f"test-mode key for the training sandbox: {k} (can't charge anything with it)",
                f"the demo store runs on the sandbox key {k}, it's in the public tutorial too")


def cn_publishable(r: random.Random) -> str:
    """Publishable / public keys meant for the browser."""
    k = pick(r, "pk_live_51" + rs(r, 97), "pk." + b64u(json.dumps({"u": "storeops", "a": rs(r, 25, string.ascii_lowercase)}).encode()) + "." + rs(r, 22, URLSAFE),
             "6L" + rs(r, 38, URLSAFE))
    return pick(r, f"the publishable key {k} is in our website's page source and that's by design, it's public",
                f"web dev told me the public key ({k}) is fine to share, only the secret one isn't")


def cn_key_header(r: random.Random) -> str:
    """A key header quoted without material."""
    h = pick(r, "-----BEGIN RSA PRIVATE KEY-----", "-----BEGIN OPENSSH PRIVATE KEY-----", "-----BEGIN PGP PRIVATE KEY BLOCK-----", "-----BEGIN EC PRIVATE KEY-----")
    return pick(r, f"security training today: if you ever see a file starting with {h} do NOT email it. noted{emo(r)}",
                f"what does {h} mean? saw it in a phishing training slide",
                f"our DLP blocks anything that contains {h} lol it blocked the training quiz")


def cn_ssh_public(r: random.Random) -> str:
    """A public SSH key."""
    k = pick(r, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + rs(r, 43, B64), "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ" + rs(r, 200, B64))
    return pick(r, f"IT asked for my PUBLIC key (the .pub one, the one you can share): {k} {r.choice(FIRST).lower()}@laptop",
                f"public key for the sftp allow-list: {k}")


def cn_localhost_sample(r: random.Random) -> str:
    """Localhost sample credentials from a tutorial."""
    s = pick(r, "postgres://postgres:postgres@localhost:5432/tutorial", "mysql://root:root@127.0.0.1:3306/test",
             "redis://localhost:6379", "mongodb://localhost:27017/demo", "admin / admin on http://localhost:8080")
    return pick(r, f"the beginner tutorial uses {s} — works on my laptop only, it's the default sample",
                f"docker compose up and log in with {s}, it's the tutorial's local setup{emo(r)}")


def cn_security_advice(r: random.Random) -> str:
    """Security advice that names prefixes."""
    a, b = r.sample(["ghp_", "AKIA", "sk_live_", "xoxb-", "glpat-", "AIza", "SG.", "hf_", "sk-ant-", "npm_"], 2)
    return pick(r, f"security team reminder: anything that starts with {a} or {b} is a secret. if you see one in a post, report it",
                f"TIL keys starting with {a} are GitHub/AWS/etc tokens and the scanner looks for {b} too. good to know",
                f"phishing quiz q7: which is a secret, '{a}...' or the order number? (answer: the {a} one)")


def cn_commit_sha(r: random.Random) -> str:
    """A commit SHA."""
    return pick(r, f"the fix for the receipt printer bug landed in commit {rs(r, 40, HEX)}, release notes say",
                f"dev said 'it's in {rs(r, 7, HEX)}' like I know what that means{emo(r)}",
                f"build {rs(r, 12, HEX)} broke the kiosk screen again 🙄")


def cn_file_hash(r: random.Random) -> str:
    """Checksums of a download."""
    return pick(r, f"the installer's sha256 is {rs(r, 64, HEX)} — matches the website so we're good",
                f"md5 of the price file: {rs(r, 32, HEX)} (IT asked me to check it)",
                f"checksum sha1 {rs(r, 40, HEX)} for the brochure zip")


def cn_uuid(r: random.Random) -> str:
    """A request or record UUID."""
    return pick(r, f"support ticket says request id {uuid(r)} failed, anyone seen this?",
                f"error screen: Correlation ID {uuid(r)}. cool cool cool",
                f"the appointment record id is {uuid(r)} if the devs need it")


def cn_lfs_oid(r: random.Random) -> str:
    """A Git LFS pointer."""
    return f"downloaded the logo pack and got this text file instead of images?\nversion https://git-lfs.github.com/spec/v1\noid sha256:{rs(r, 64, HEX)}\nsize {r.randint(10_000, 9_000_000)}"


def cn_docker_digest(r: random.Random) -> str:
    """An image digest."""
    return f"the kiosk runs image {pick(r, 'signage', 'menuboard')}@sha256:{rs(r, 64, HEX)} now, IT said"


def cn_order_numbers(r: random.Random) -> str:
    """High-entropy order references."""
    return pick(r, f"order {rs(r, 3, string.ascii_uppercase)}-{digits(r, 6)}-{rs(r, 4, string.ascii_uppercase + string.digits)} still not shipped{emo(r)}",
                f"my reference is {rs(r, 16, string.ascii_uppercase + string.digits)} and the agent still couldn't find it",
                f"Bestellnummer {digits(r, 3)}-{digits(r, 7)}-{digits(r, 7)} ist angekommen 🙂")


def cn_tracking(r: random.Random) -> str:
    """Parcel tracking numbers."""
    return pick(r, f"tracking 1Z{rs(r, 6, string.ascii_uppercase + string.digits)}{digits(r, 10)} says delivered?? it's not here",
                f"USPS tracking {digits(r, 22)} hasn't moved in a week",
                f"DHL sendungsnummer {digits(r, 10)}, anyone else waiting on the merch box?")


def cn_base64_image(r: random.Random) -> str:
    """A base64 data URI of an image."""
    return f"why is the email signature just this text: data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA{rs(r, 120, B64)}= (my logo broke{emo(r)})"


def cn_redacted(r: random.Random) -> str:
    """Revoked and redacted tokens."""
    k = pick(r, "AKIA************", "sk_live_****" + rs(r, 4), "ghp_****************************" + rs(r, 4), "xoxb-***-***-****", "glpat-••••••••")
    return pick(r, f"incident review: key {k} was revoked within 10 min, good job team",
                f"the leaked token ({k}) is rotated and dead, no need to panic",
                f"console shows {k} — the rest is hidden, as it should be")


def cn_fake_github(r: random.Random) -> str:
    """A GitHub-looking token whose CRC32 is wrong, in a fixture context."""
    t = gh_token(r, pick(r, "ghp_", "gho_", "ghs_"), good=False)
    return pick(r, f"the scanner demo uses a fake token from the test fixtures: {t} (checksum is deliberately wrong)",
                f"fixture for the training: {t} — fake, it won't pass GitHub's checksum",
                f"this is a dummy made-up value for the slides, not a real token: {t}")


def cn_pw_no_value(r: random.Random) -> str:
    """Passwords discussed without any value."""
    return pick(r, f"forgot my password for the 3rd time this week, reset link never arrives{emo(r)}",
                "IT: 'your password must be 14 chars, 1 symbol, not one of your last 24'. me: 😐",
                f"{handle(r)} did you get the wifi password? i never got the email",
                "the shared login was changed and nobody told the weekend team, so we couldn't do the banners",
                "Mein Passwort ist abgelaufen und das Reset-Portal lädt nicht. Montag halt.",
                "j'ai encore oublié mon mot de passe, le support m'envoie un lien demain")


def cn_password_memes(r: random.Random) -> str:
    """Well-known jokes and memes about passwords."""
    return pick(r, "all I see is ******* — the hunter2 joke will never die",
                "correct horse battery staple is still the best password advice comic ever",
                f"my password is 'incorrect' so when I forget it says 'your password is incorrect'{emo(r)}",
                "password: password123 — every movie hacker scene ever 😂",
                "the '1234' luggage combination scene from Spaceballs lives rent free in my head")


def cn_wifi_no_value(r: random.Random) -> str:
    """Wifi mentioned without the password."""
    return pick(r, "guest wifi password is on the card at reception, ask the front desk",
                f"wifi name is {pick(r, 'Brightwell-Guest', 'MRF_Public')} and the password is in the welcome pack, not posting it here",
                "the new wifi password went out by email this morning, check your inbox")


def cn_door_no_value(r: random.Random) -> str:
    """Door or alarm codes mentioned without the code."""
    return pick(r, f"door code changed again, ask {r.choice(FIRST)} on shift for it",
                "reminder: don't write the alarm code on the rota!! ask your manager",
                "new keypad on the stockroom, codes are handed out in person only")


def cn_jwt_io_sample(r: random.Random) -> str:
    """jwt.io's documented sample token."""
    t = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
    return pick(r, f"the workshop used the jwt.io example token {t} to show how the parts decode (it's John Doe lol)",
                f"paste the sample {t} into jwt.io and you'll see the 3 parts, homework done{emo(r)}")


def cn_slack_doc_webhook(r: random.Random) -> str:
    """Slack's documented placeholder webhook."""
    return pick(r, "Slack's docs show https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX as the example, replace with yours",
                f"{handle(r)} the URL in the guide (T00000000/B00000000/XXXX…) is just the sample, get a real one from admin")


def cn_crypto_address(r: random.Random) -> str:
    """Public wallet addresses."""
    a = pick(r, "0x" + rs(r, 40, HEX), "bc1q" + rs(r, 38, "023456789acdefghjklmnpqrstuvwxyz"))
    return pick(r, f"the charity's donation address is {a} (public, it's on their website)",
                f"send the raffle winnings to my wallet address {a} jk jk")


def cn_age_public(r: random.Random) -> str:
    """An age public recipient."""
    return f"IT wants us to encrypt exports to their public recipient key age1{rs(r, 58, 'qpzry9x8gf2tvdw0s3jn54khce6mua7l')}, that one is ok to share"


def cn_ssh_fingerprint(r: random.Random) -> str:
    """A host key fingerprint."""
    return f"the sftp client asks if I trust fingerprint SHA256:{rs(r, 43, B64)} — IT said yes, it matches"


def cn_pgp_fingerprint(r: random.Random) -> str:
    """A PGP fingerprint."""
    fp = " ".join(rs(r, 4, HEX.upper()) for _ in range(10))
    return f"our security contact's PGP fingerprint: {fp} (public, from the website)"


def cn_analytics_ids(r: random.Random) -> str:
    """Public analytics and tag IDs."""
    return pick(r, f"marketing Q: is G-{rs(r, 10, string.ascii_uppercase + string.digits)} the right GA tag for the landing page?",
                f"pixel id {digits(r, 15)} and tag GTM-{rs(r, 7, string.ascii_uppercase + string.digits)} are both in the page source")


def cn_npm_integrity(r: random.Random) -> str:
    """A package integrity hash."""
    return f"package-lock diff is just \"integrity\": \"sha512-{rs(r, 86, B64)}==\" changes, approve?"


def cn_coupon(r: random.Random) -> str:
    """Public promo codes."""
    return pick(r, f"use code {pick(r, 'SPRING', 'WELCOME', 'NURSES')}{r.randint(10, 40)} for {r.randint(10, 30)}% off this weekend!! 🛍️",
                f"public promo code {rs(r, 8, string.ascii_uppercase)} is on the posters in store")


def cn_otp_no_value(r: random.Random) -> str:
    """2FA discussed without a code."""
    return pick(r, "the 6-digit code never comes when I'm in the basement stockroom, no signal",
                "authenticator app moved phones and now I'm locked out, fun morning",
                f"why does the 2FA code expire in 30 seconds, I type slow{emo(r)}")


def cn_masked_cli(r: random.Random) -> str:
    """Masked values in pasted output."""
    return pick(r, "terminal output:\n$ export API_KEY=...\nAPI_KEY set (value hidden)\nok",
                "Password: ******** (it didn't show what I typed, is that normal?)",
                "the log prints token=[REDACTED] which I guess is good")


def cn_secret_ref_k8s(r: random.Random) -> str:
    """A manifest referring to a secret by name."""
    return ("the YAML from IT, no actual passwords in it right?\nenv:\n  - name: DB_PASSWORD\n    valueFrom:\n"
            f"      secretKeyRef:\n        name: {pick(r, 'crm-db', 'rota-db')}\n        key: password")


def cn_isbn_serials(r: random.Random) -> str:
    """Serial numbers and licence-plate-like IDs."""
    return pick(r, f"device serial {rs(r, 12, string.ascii_uppercase + string.digits)} is the one with the cracked screen",
                f"asset tag {rs(r, 2, string.ascii_uppercase)}-{digits(r, 6)} goes back to IT on Friday")


def cn_api_docs_sample(r: random.Random) -> str:
    """A documentation sample clearly marked as such."""
    return pick(r, "the API docs example uses api_key=EXAMPLE_KEY_1234 and user=demo, which I tried (it doesn't work, obviously)",
                f"sample from the vendor docs: token: YOUR_TOKEN_HERE, secret: YOUR_SECRET_HERE. fill in yours{emo(r)}",
                "In the docs they show `Authorization: Bearer sk-...` with dots, never a real key")


def cn_random_ids(r: random.Random) -> str:
    """Video and meeting room ids."""
    return pick(r, f"training video: https://youtu.be/{rs(r, 11, URLSAFE)} (the one about returns)",
                f"the webinar recording is at https://vimeo.com/{digits(r, 9)}, public link",
                f"ipfs cid for the nft the marketing team made: bafybei{rs(r, 52, 'abcdefghijklmnopqrstuvwxyz234567')}")


def cn_rotated_advice(r: random.Random) -> str:
    """Advice about rotating a key, no value."""
    return pick(r, f"if you ever paste a key into a ticket, tell security so they can rotate it. happened to me{emo(r)}",
                "we rotated the Stripe keys after the offboarding, nothing to see, new ones are in the vault",
                "PSA: the old shared password is retired, everyone now has their own login via SSO 🎉")


def cn_hex_colours(r: random.Random) -> str:
    """Brand colour hex codes and font hashes."""
    return f"brand colours are #{rs(r, 6, HEX)} and #{rs(r, 6, HEX)}, font file hash {rs(r, 32, HEX)} in the style guide"


def cn_test_email_token(r: random.Random) -> str:
    """A tutorial token that reads as a fixture."""
    t = "ghp_" + "0" * 36 if r.random() < 0.5 else "xoxb-0000000000-0000000000000-000000000000000000000000"
    return f"fixture value from the tutorial: {t} — all zeros, obviously not real"


CRED_NEG: dict[str, Gen] = {
    "angle_placeholder": cn_angle_placeholder, "env_var_reference": cn_env_placeholder, "xxx_placeholder": cn_xxx_placeholder,
    "changeme_template": cn_changeme, "aws_documented_example": cn_aws_example, "stripe_test_mode": cn_stripe_test,
    "payment_sandbox_key": cn_payment_sandbox, "publishable_key": cn_publishable, "key_header_only": cn_key_header,
    "ssh_public_key": cn_ssh_public, "localhost_sample": cn_localhost_sample, "security_advice_prefixes": cn_security_advice,
    "commit_sha": cn_commit_sha, "file_checksum": cn_file_hash, "request_uuid": cn_uuid, "git_lfs_pointer": cn_lfs_oid,
    "image_digest": cn_docker_digest, "order_reference": cn_order_numbers, "tracking_number": cn_tracking,
    "base64_image": cn_base64_image, "redacted_revoked": cn_redacted, "github_fake_checksum": cn_fake_github,
    "password_no_value": cn_pw_no_value, "password_memes": cn_password_memes, "wifi_no_value": cn_wifi_no_value,
    "door_code_no_value": cn_door_no_value, "jwt_io_sample": cn_jwt_io_sample, "slack_doc_webhook": cn_slack_doc_webhook,
    "public_wallet_address": cn_crypto_address, "age_public_key": cn_age_public, "ssh_fingerprint": cn_ssh_fingerprint,
    "pgp_fingerprint": cn_pgp_fingerprint, "analytics_tag_id": cn_analytics_ids, "npm_integrity": cn_npm_integrity,
    "promo_code": cn_coupon, "otp_no_value": cn_otp_no_value, "masked_output": cn_masked_cli,
    "k8s_secret_ref": cn_secret_ref_k8s, "device_serial": cn_isbn_serials, "docs_sample_token": cn_api_docs_sample,
    "media_ids": cn_random_ids, "rotation_advice": cn_rotated_advice, "brand_hex_codes": cn_hex_colours,
    "zero_fixture_token": cn_test_email_token,
}


# ---------------------------------------------------------------- personal data helpers

US_CITIES = (("Columbus", "OH", "432"), ("Tucson", "AZ", "857"), ("Raleigh", "NC", "276"), ("Boise", "ID", "837"),
             ("Spokane", "WA", "992"), ("Omaha", "NE", "681"), ("Dayton", "OH", "454"), ("Macon", "GA", "312"))
STREETS = ("Maple", "Juniper", "Harrow", "Pinecrest", "Belmont", "Willowbrook", "Carver", "Sycamore", "Hollis", "Ridgeview")


def addr_us(r: random.Random) -> str:
    """A US street address."""
    c, s, z = r.choice(US_CITIES)
    apt = pick(r, "", f" Apt {r.randint(1, 40)}{r.choice('ABCD')}", f" #{r.randint(100, 999)}")
    return f"{r.randint(12, 9899)} {r.choice(STREETS)} {pick(r, 'St', 'Ave', 'Dr', 'Ln', 'Ct')}{apt}, {c}, {s} {z}{digits(r, 2)}"


def addr_uk(r: random.Random) -> str:
    """A UK address with postcode."""
    town, pc = r.choice([("Leeds", "LS6"), ("Bristol", "BS3"), ("Norwich", "NR2"), ("Cardiff", "CF24"), ("Leicester", "LE2")])
    return f"{r.randint(2, 220)} {r.choice(STREETS)} {pick(r, 'Road', 'Close', 'Terrace', 'Grove')}, {town} {pc} {r.randint(1, 9)}{rs(r, 2, 'ABDEFGHJLNPQRSTUWXYZ')}"


def addr_de(r: random.Random) -> str:
    """A German address."""
    return f"{pick(r, 'Lindenstraße', 'Am Mühlbach', 'Goethestr.', 'Kastanienweg', 'Hauptstraße')} {r.randint(1, 140)}{pick(r, '', 'a', 'b')}, {r.randint(10, 99)}{digits(r, 3)} {pick(r, 'Köln', 'Leipzig', 'Bremen', 'Mainz', 'Freiburg')}"


def addr_fr(r: random.Random) -> str:
    """A French address."""
    return f"{r.randint(1, 90)} {pick(r, 'rue des Lilas', 'avenue Jean Jaurès', 'boulevard Voltaire', 'impasse du Moulin', 'rue Paul Bert')}, {pick(r, '69003 Lyon', '31000 Toulouse', '44000 Nantes', '13005 Marseille', '59800 Lille')}"


def addr_ca(r: random.Random) -> str:
    """A Canadian address."""
    pc = f"{r.choice('KLMNT')}{r.randint(1, 9)}{r.choice('ABCEGHJ')} {r.randint(1, 9)}{r.choice('KLMNPR')}{r.randint(1, 9)}"
    return f"{r.randint(10, 4999)} {r.choice(STREETS)} {pick(r, 'Crescent', 'Avenue', 'Street')}, {pick(r, 'Ottawa, ON', 'Mississauga, ON', 'Hamilton, ON', 'Toronto, ON')} {pc}"


def addr_au(r: random.Random) -> str:
    """An Australian address."""
    return f"{r.randint(1, 20)}/{r.randint(2, 180)} {r.choice(STREETS)} {pick(r, 'St', 'Pde', 'Rd')}, {pick(r, 'Fitzroy VIC 3065', 'Newtown NSW 2042', 'West End QLD 4101', 'Subiaco WA 6008')}"


def addr_in(r: random.Random) -> str:
    """An Indian address."""
    return f"Flat {r.randint(101, 1204)}, {pick(r, 'Sai Krupa Apts', 'Lotus Residency', 'Green Park Towers')}, {r.randint(2, 18)}th Cross, {pick(r, 'Indiranagar, Bengaluru 560038', 'Kothrud, Pune 411038', 'Andheri East, Mumbai 400069', 'Banjara Hills, Hyderabad 500034')}"


def addr_mx(r: random.Random) -> str:
    """A Mexican address."""
    return f"Calle {pick(r, 'Hidalgo', 'Morelos', 'Juárez', 'Allende')} {r.randint(10, 999)}, Col. {pick(r, 'Roma Norte', 'Del Valle', 'Americana', 'Centro')}, C.P. {r.randint(10, 99)}{digits(r, 3)}, {pick(r, 'CDMX', 'Guadalajara, Jal.', 'Monterrey, N.L.')}"


def addr_br(r: random.Random) -> str:
    """A Brazilian address."""
    return f"Rua {pick(r, 'das Palmeiras', 'Augusta', 'Sete de Setembro', 'Bahia')}, {r.randint(10, 2999)}, apto {r.randint(11, 204)} - {pick(r, 'Pinheiros, São Paulo - SP', 'Savassi, Belo Horizonte - MG', 'Botafogo, Rio de Janeiro - RJ')}, CEP {digits(r, 5)}-{digits(r, 3)}"


def addr_nl(r: random.Random) -> str:
    """A Dutch address."""
    return f"{pick(r, 'Vondelstraat', 'Kerkweg', 'Oudegracht', 'Prinsengracht')} {r.randint(1, 300)}, {r.randint(1000, 9999)} {rs(r, 2, 'ABCEGHJKLMNPRTVWXZ')} {pick(r, 'Utrecht', 'Haarlem', 'Groningen', 'Delft')}"


def addr_es(r: random.Random) -> str:
    """A Spanish address."""
    return f"Calle {pick(r, 'de Alcalá', 'Mayor', 'del Carmen', 'Sierpes')} {r.randint(1, 200)}, {r.randint(1, 8)}º {r.choice('ABCD')}, {pick(r, '28014 Madrid', '41004 Sevilla', '46002 Valencia', '08012 Barcelona')}"


def addr_za(r: random.Random) -> str:
    """A South African address."""
    return f"{r.randint(3, 150)} {r.choice(STREETS)} Road, {pick(r, 'Observatory, Cape Town 7925', 'Melville, Johannesburg 2092', 'Morningside, Durban 4001')}"


def addr_ng(r: random.Random) -> str:
    """A Nigerian address."""
    return f"{r.randint(2, 60)} {pick(r, 'Adeola Odeku Street', 'Allen Avenue', 'Bode Thomas Street')}, {pick(r, 'Victoria Island, Lagos', 'Ikeja, Lagos', 'Surulere, Lagos')}"


PHONES: dict[str, Gen] = {
    "us": lambda r: f"({r.randint(201, 989)}) {r.randint(201, 989)}-{digits(r, 4)}",
    "uk": lambda r: f"+44 7{digits(r, 3)} {digits(r, 6)}",
    "de": lambda r: f"+49 15{r.randint(1, 9)} {digits(r, 8)}",
    "fr": lambda r: "+33 6 " + " ".join(digits(r, 2) for _ in range(4)),
    "in": lambda r: f"+91 {r.randint(7, 9)}{digits(r, 4)} {digits(r, 5)}",
    "br": lambda r: f"+55 11 9{digits(r, 4)}-{digits(r, 4)}",
    "mx": lambda r: f"+52 55 {digits(r, 4)} {digits(r, 4)}",
    "au": lambda r: f"+61 4{digits(r, 2)} {digits(r, 3)} {digits(r, 3)}",
    "za": lambda r: f"+27 {r.choice([71, 72, 82, 83, 84])} {digits(r, 3)} {digits(r, 4)}",
    "ng": lambda r: f"+234 {r.choice([803, 806, 813, 902])} {digits(r, 3)} {digits(r, 4)}",
    "ke": lambda r: f"+254 7{digits(r, 2)} {digits(r, 3)} {digits(r, 3)}",
    "ca": lambda r: f"+1 ({r.choice([416, 647, 604, 514])}) {r.randint(201, 989)}-{digits(r, 4)}",
    "ar": lambda r: f"+54 9 11 {digits(r, 4)}-{digits(r, 4)}",
    "co": lambda r: f"+57 3{digits(r, 2)} {digits(r, 3)} {digits(r, 4)}",
    "gh": lambda r: f"+233 {r.choice([24, 54, 20])} {digits(r, 3)} {digits(r, 4)}",
}


def email_other(r: random.Random) -> str:
    """A personal e-mail address of another person."""
    f, last = r.choice(FIRST), r.choice(LAST)
    clean = str.maketrans("íéúøñè ", "ieuonex")
    return f"{f.lower().translate(clean)}{pick(r, '.', '_', '')}{last.lower().translate(clean).replace('x', '')}{pick(r, '', digits(r, 2))}@{pick(r, 'gmail.com', 'yahoo.com', 'outlook.com', 'hotmail.co.uk', 'gmx.de', 'orange.fr', 'icloud.com', 'proton.me')}"


def dob(r: random.Random) -> str:
    """A date of birth in one of several styles."""
    y, m, d = r.randint(1941, 2008), r.randint(1, 12), r.randint(1, 28)
    months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
    return pick(r, f"{m:02d}/{d:02d}/{y}", f"{d} {months[m - 1]} {y}", f"{y}-{m:02d}-{d:02d}", f"{d:02d}.{m:02d}.{y}")


def other_frame(r: random.Random, who: str, what: str, v: str) -> str:
    """Someone else's value in one of many chatty shapes."""
    n = name(r)
    shapes = (
        f"ugh a customer ({n}) left their {what} on the counter form: {v}. binning it after shift{emo(r)}",
        f"{handle(r)} {who} asked me to post it here so you can sort the refund: {what} {v}",
        f"note to self: {who}'s {what} is {v}, call back tmrw",
        f"transcribing the sticky note from the desk: '{n} — {what}: {v}'",
        f"lmaooo my {who} just texted me their {what} ({v}) to 'keep safe'. in a group chat. with me.{emo(r)}",
        f"Shift log, {pick(r, 'Mon', 'Tue', 'Sat')}:\n- printer jammed\n- {n} came in re: account, {what} {v}\n- ran out of bags",
        f"for whoever picks up the ticket: {n}, {what} = {v} (verified on the phone)",
        f"so {who} {n} wants the parcel resent, {what} is {v}, can someone on lates do it",
    )
    return r.choice(shapes)


def pp_addr(fn: Gen, ctx: str) -> Gen:
    """An address-kind generator in tenancy, delivery and customer frames."""
    def make(r: random.Random) -> str:
        a, n = fn(r), name(r)
        return pick(r, f"my landlord {n} lives at {a} and STILL won't fix the boiler, might just go knock{emo(r)}",
                    f"customer {n} wants the replacement sent to {a}, can lates handle it",
                    f"new tenant moved in next door, {n}, {a} — their post keeps coming to us",
                    f"{ctx}: {n}\n{a}\n(from the returns slip)",
                    f"found a wallet outside the shop, the card inside says {n}, {a} — dropping it off?",
                    f"{handle(r)} our patient {n} changed address to {a}, please update the chart")
    return make


def pp_phone(cc: str) -> Gen:
    """A phone-kind generator for another person's number."""
    def make(r: random.Random) -> str:
        p, n = PHONES[cc](r), name(r)
        return pick(r, f"if anyone sees {n} today tell her to call her sister back on {p}",
                    f"{n} from the agency, mobile {p}, she's covering thurs",
                    f"that rude customer again. number's {p} ({n}) if the manager wants to call him back{emo(r)}",
                    f"my ex's new number is {p} and he keeps calling the store 🙄",
                    f"patient's daughter {n} says to reach her at {p}, not the home line",
                    f"contacto de la clienta {n}: {p}", f"Rückruf bitte an Frau {r.choice(LAST)} unter {p}")
    return make


def pp_ssn(style: str) -> Gen:
    """An SSN in dashed, spaced, dotted or spelled form."""
    def make(r: random.Random) -> str:
        s = ssn(r)
        v = {"dash": s, "space": s.replace("-", " "), "dot": s.replace("-", "."), "spell": spell(s), "plain": s.replace("-", "")}[style]
        return other_frame(r, pick(r, "customer", "patient", "mom", "coworker"), pick(r, "SSN", "social", "social security #"), v)
    return make


def pp_card(brand: str, grouped: bool) -> Gen:
    """A card number of another person."""
    def make(r: random.Random) -> str:
        c = card(r, brand)
        v = group_card(c, pick(r, " ", "-")) if grouped else c
        exp = f"{r.randint(1, 12):02d}/{r.randint(27, 31)}"
        return pick(r, other_frame(r, "customer", "card", f"{v} exp {exp}"),
                    f"customer read her card over the phone and I wrote it on my hand lol: {v} {exp} cvv {digits(r, 3)}",
                    f"{name(r)}'s card for the deposit: {v}, expiry {exp}",
                    f"the old lady at till 3 gave me her card to 'hold': {v}{emo(r)}")
    return make


def pp_iban(country: str) -> Gen:
    """An IBAN of another person."""
    def make(r: random.Random) -> str:
        i = iban(r, country)
        v = pick(r, i, spaced_iban(i))
        return pick(r, f"refund for {name(r)} goes to IBAN {v}, pls process today",
                    f"mi compañera {r.choice(FIRST)} me pidió que le pasen el reembolso a {v}",
                    f"Überweisung an {name(r)}, IBAN: {v} – hat sie mir am Telefon gegeben",
                    f"{handle(r)} his bank details for the whip-round: {name(r)}, {v}",
                    f"remboursement au nom de {name(r)}, IBAN {v}")
    return make


def pp_id(label: str, fn: Gen, country: str) -> Gen:
    """A national-ID generator in lost-and-found, onboarding and customer frames."""
    def make(r: random.Random) -> str:
        v, n = fn(r), name(r)
        return pick(r, f"found an ID card in the fitting room: {n}, {label} {v}. at the service desk if it's yours",
                    f"new hire paperwork on the printer tray has {n}'s {label} ({v}) on it, who left this",
                    f"customer {n} gave her {label} {v} for the store card application, keying it now",
                    other_frame(r, pick(r, "colleague", "customer", "tenant", "cousin"), label, v),
                    f"[{country}] {label}: {v} — {n}, DOB {dob(r)}",
                    f"{handle(r)} here's the {label} of the guy whose wallet we found: {v}")
    return make


def pp_mrz(r: random.Random) -> str:
    """Passport MRZ lines transcribed from a scan."""
    sur, giv = r.choice(["OKAFOR", "DELGADO", "NGUYEN", "KOWALSKI", "HADDAD", "PILLAY", "MOREAU", "TANAKA"]), r.choice(["GRACE", "DIEGO", "PRIYA", "TOMASZ", "AISHA", "KENJI"])
    l1, l2 = mrz_passport(r, sur, giv, pick(r, "GBR", "USA", "CAN", "AUS", "NGA", "IND", "FRA", "DEU"))
    return pick(r, f"the scanner OCR'd a guest's passport onto the shared drive 😬\n{l1}\n{l2}",
                f"hotel partner sent us this for the group booking:\n{l1}\n{l2}\ncan someone check it")


def pp_mrn(r: random.Random) -> str:
    """A medical record number in context."""
    m = pick(r, f"MRN {digits(r, 8)}", f"MRN: {rs(r, 2, 'ABCDEFGHJKLMNP')}{digits(r, 7)}", f"medical record #{digits(r, 9)}")
    n = name(r)
    return pick(r, f"long shift. bed 12 ({n}, {m}) finally discharged 🙏",
                f"can the day team chase the labs for {n} {m}? still pending",
                f"{m} — {n}, allergy to penicillin, flagged wrong in the chart again{emo(r)}",
                f"Patientin {n}, {m}, Termin verschoben auf Dienstag")


def pp_insurance(r: random.Random) -> str:
    """A health-insurance member ID."""
    v = pick(r, f"{rs(r, 3, string.ascii_uppercase)}{digits(r, 9)}", f"W{digits(r, 9)}", f"{digits(r, 3)}-{digits(r, 2)}-{digits(r, 4)}-{rs(r, 2, string.ascii_uppercase)}")
    n = name(r)
    return pick(r, f"insurance member ID for {n} is {v}, group {digits(r, 6)} — pls rerun the eligibility check",
                f"patient {n} (member id {v}) says her plan changed, can billing look",
                f"the claim got denied for {n}, member ID {v}, someone call the payer{emo(r)}")


def pp_mbi(r: random.Random) -> str:
    """A US Medicare Beneficiary Identifier."""
    L = "ACDEFGHJKMNPQRTUVWXY"
    v = f"{r.randint(1, 9)}{r.choice(L)}{r.choice(L + string.digits)}{r.randint(0, 9)}-{r.choice(L)}{r.choice(L + string.digits)}{r.randint(0, 9)}-{r.choice(L)}{r.choice(L)}{r.randint(0, 9)}{r.randint(0, 9)}"
    return pick(r, f"{name(r)}'s Medicare number is {v}, she wants the refill sent",
                f"MBI {v} for the patient in room {r.randint(100, 420)}, {name(r)}")


def pp_nhs(r: random.Random) -> str:
    """A UK NHS number."""
    v = nhs(r)
    return pick(r, f"NHS no. {v} — {name(r)}, booked for bloods Thursday",
                f"can someone re-send the letter for {name(r)} (NHS number {v}), wrong address on file",
                f"patient {name(r)}, NHS {v}, DNA'd again{emo(r)}")


def pp_dob_name(r: random.Random) -> str:
    """A date of birth next to a name."""
    n = name(r)
    return pick(r, f"verifying {n}, DOB {dob(r)}, for the account reset",
                f"{n} (born {dob(r)}) is the one who keeps calling about the voucher",
                f"{n}, date of birth {dob(r)}, room 7 — surprise cake at 3!!",
                f"Geburtsdatum von {n}: {dob(r)}, steht so im Formular",
                f"fecha de nacimiento de la paciente {n}: {dob(r)}")


def pp_routing(r: random.Random) -> str:
    """A US routing and account number."""
    return pick(r, f"{name(r)}'s direct deposit: routing {aba(r)}, account {digits(r, r.randint(9, 12))}",
                f"pls wire the refund, ABA {aba(r)} acct {digits(r, 10)} ({name(r)})",
                other_frame(r, "customer", "routing/account", f"{aba(r)} / {digits(r, 11)}"))


def pp_uk_bank(r: random.Random) -> str:
    """A UK sort code and account number."""
    sc = f"{digits(r, 2)}-{digits(r, 2)}-{digits(r, 2)}"
    return pick(r, f"bank details for {name(r)}'s leaving collection: sort code {sc}, account {digits(r, 8)}",
                f"refund to {name(r)} — s/c {sc} a/c {digits(r, 8)}")


def pp_au_bank(r: random.Random) -> str:
    """An Australian BSB and account."""
    return f"pay {name(r)} back for the team lunch: BSB {digits(r, 3)}-{digits(r, 3)}, acc {digits(r, 9)}"


def pp_clabe(r: random.Random) -> str:
    """A Mexican CLABE."""
    v = clabe(r)
    return pick(r, f"la CLABE de {name(r)} para el reembolso es {v}",
                f"{name(r)} needs the refund to CLABE {v} asap")


def pp_email(r: random.Random) -> str:
    """Another person's personal e-mail."""
    e, n = email_other(r), name(r)
    return pick(r, f"the customer who complained is {e}, in case anyone wants to follow up{emo(r)}",
                f"{n}'s personal email is {e}, she said use that instead of work",
                f"{handle(r)} your new manager's gmail is {e} lol she told us to add her",
                f"posting so I don't lose it: {e} ({n}, the one who ordered 40 tote bags)")


def pp_email_obf(r: random.Random) -> str:
    """Another person's e-mail with [at]/[dot]."""
    e = email_other(r)
    u, d = e.split("@")
    v = pick(r, f"{u} [at] {d.replace('.', ' [dot] ')}", f"{u}(at){d}", f"{u} at {d.replace('.', ' dot ')}")
    return pick(r, f"my coworker's personal email is {v}, message her about the shift swap",
                f"the angry customer's email (spelling it out): {v}")


def pp_combo(r: random.Random) -> str:
    """Name, address, phone and DOB together."""
    n = name(r)
    return pick(r, f"customer file got printed and left on the bus?!\n{n}\n{addr_us(r)}\n{PHONES['us'](r)}\nDOB {dob(r)}",
                f"{n} | {addr_uk(r)} | {PHONES['uk'](r)} | {email_other(r)}",
                f"Kunde: {n}, {addr_de(r)}, Tel. {PHONES['de'](r)}, geb. {dob(r)}")


def pp_phone_spelled(r: random.Random) -> str:
    """A phone number written in words."""
    p = PHONES[r.choice(["us", "uk", "au"])](r)
    return f"{r.choice(FIRST)}'s number is {spell(p.replace('+', 'plus ').replace('(', '').replace(')', ''))} tell her I said hi"


def pp_card_spaced(r: random.Random) -> str:
    """A card split by odd spacing, OCR-style."""
    c = card(r)
    v = "  ".join(c[i:i + 2] for i in range(0, len(c), 2))
    return f"OCR of the receipt {name(r)} dropped: c a r d  {v}  exp {r.randint(1, 12):02d}/{r.randint(27, 31)}"


def pp_dl(r: random.Random) -> str:
    """A US driver's licence number."""
    st, v = r.choice([("CA", f"{r.choice(string.ascii_uppercase)}{digits(r, 7)}"), ("NY", digits(r, 9)),
                      ("FL", f"{r.choice(string.ascii_uppercase)}{digits(r, 3)}-{digits(r, 3)}-{digits(r, 2)}-{digits(r, 3)}-{digits(r, 1)}"),
                      ("TX", digits(r, 8)), ("IL", f"{r.choice(string.ascii_uppercase)}{digits(r, 3)}-{digits(r, 4)}-{digits(r, 4)}")])
    return pick(r, f"found a {st} driver's license by the door, {name(r)}, DL# {v}",
                f"customer {name(r)} showed ID for the return, {st} DL {v}, I wrote it on the slip",
                f"{name(r)}'s driver license number ({st}): {v}")


def pp_passport_num(r: random.Random) -> str:
    """A passport number with name."""
    c, v = r.choice([("US", digits(r, 9)), ("UK", digits(r, 9)), ("Indian", r.choice("JKLMNPRSTUVWXZ") + digits(r, 7)),
                     ("Canadian", rs(r, 2, string.ascii_uppercase) + digits(r, 6)), ("Australian", r.choice("NPE") + digits(r, 7))])
    return pick(r, f"travel desk needs {name(r)}'s {c} passport no. {v} for the conference booking",
                f"lost and found: {c} passport, {name(r)}, number {v} — at reception")


PII_POS: dict[str, Gen] = {
    "address_us": pp_addr(addr_us, "ship to"), "address_uk": pp_addr(addr_uk, "deliver to"), "address_de": pp_addr(addr_de, "Lieferadresse"),
    "address_fr": pp_addr(addr_fr, "adresse"), "address_ca": pp_addr(addr_ca, "ship to"), "address_au": pp_addr(addr_au, "deliver to"),
    "address_in": pp_addr(addr_in, "courier to"), "address_mx": pp_addr(addr_mx, "envío a"), "address_br": pp_addr(addr_br, "entrega"),
    "address_nl": pp_addr(addr_nl, "bezorgen op"), "address_es": pp_addr(addr_es, "envío a"), "address_za": pp_addr(addr_za, "deliver to"),
    "address_ng": pp_addr(addr_ng, "deliver to"),
    **{f"phone_{cc}": pp_phone(cc) for cc in PHONES},
    "ssn_dashed": pp_ssn("dash"), "ssn_spaced": pp_ssn("space"), "ssn_dotted": pp_ssn("dot"), "ssn_spelled": pp_ssn("spell"),
    "ssn_plain": pp_ssn("plain"),
    "card_visa": pp_card("visa", True), "card_mastercard": pp_card("mc", True), "card_mastercard_2series": pp_card("mc2", False),
    "card_amex": pp_card("amex", True), "card_discover": pp_card("disc", False), "card_ocr_spaced": pp_card_spaced,
    "iban_de": pp_iban("DE"), "iban_fr": pp_iban("FR"), "iban_nl": pp_iban("NL"), "iban_es": pp_iban("ES"), "iban_gb": pp_iban("GB"),
    "iban_be": pp_iban("BE"), "iban_pt": pp_iban("PT"), "iban_it": pp_iban("IT"), "iban_ie": pp_iban("IE"),
    "ca_sin": pp_id("SIN", lambda r: pick(r, (s := sin_ca(r)), f"{s[:3]} {s[3:6]} {s[6:]}", f"{s[:3]}-{s[3:6]}-{s[6:]}"), "CA"),
    "au_tfn": pp_id("TFN", tfn, "AU"), "in_aadhaar": pp_id("Aadhaar", aadhaar, "IN"),
    "in_pan": pp_id("PAN", lambda r: rs(r, 3, string.ascii_uppercase) + "P" + rs(r, 1, string.ascii_uppercase) + digits(r, 4) + rs(r, 1, string.ascii_uppercase), "IN"),
    "br_cpf": pp_id("CPF", cpf, "BR"), "mx_curp": pp_id("CURP", curp, "MX"), "cl_rut": pp_id("RUT", rut, "CL"),
    "ar_dni": pp_id("DNI", lambda r: f"{r.randint(20, 45)}.{digits(r, 3)}.{digits(r, 3)}", "AR"),
    "za_id": pp_id("SA ID number", za_id, "ZA"), "ng_nin": pp_id("NIN", lambda r: digits(r, 11), "NG"),
    "ke_id": pp_id("Kenyan ID no.", lambda r: str(r.randint(20_000_000, 39_999_999)), "KE"),
    "es_dni": pp_id("DNI", dni_es, "ES"), "nl_bsn": pp_id("BSN", bsn, "NL"), "fr_nir": pp_id("numéro de sécu", nir, "FR"),
    "pl_pesel": pp_id("PESEL", pesel, "PL"), "pt_nif": pp_id("NIF", nif_pt, "PT"), "se_personnummer": pp_id("personnummer", se_pnr, "SE"),
    "uk_nino": pp_id("NI number", lambda r: f"{rs(r, 2, 'ABCEGHJKLMNPRSTWXYZ')} {digits(r, 2)} {digits(r, 2)} {digits(r, 2)} {r.choice('ABCD')}", "UK"),
    "us_itin": pp_id("ITIN", lambda r: f"9{digits(r, 2)}-{r.choice(['70', '75', '80', '88', '92'])}-{digits(r, 4)}", "US"),
    "passport_mrz": pp_mrz, "passport_number": pp_passport_num, "us_drivers_license": pp_dl,
    "medical_record_number": pp_mrn, "insurance_member_id": pp_insurance, "medicare_mbi": pp_mbi, "nhs_number": pp_nhs,
    "dob_with_name": pp_dob_name, "us_routing_account": pp_routing, "uk_sort_code_account": pp_uk_bank,
    "au_bsb_account": pp_au_bank, "mx_clabe": pp_clabe, "email_other_person": pp_email, "email_obfuscated": pp_email_obf,
    "combo_record": pp_combo, "phone_spelled": pp_phone_spelled,
}


# ---------------------------------------------------------------- personal data negatives

def own(r: random.Random) -> str:
    """The poster's own contact offered."""
    e, p = email_other(r), PHONES[r.choice(list(PHONES))](r)
    return pick(r, f"selling my old bike, email me at {e} if interested{emo(r)}", f"DM me or call me on {p} about the shift swap",
                f"if you need a hand with the display, reach me at {e}", f"my cell is {p}, text me if you're running late",
                f"for the book club, contact me: {e} / {p}", f"écrivez-moi à {e} pour le covoiturage",
                f"si me necesitan, mi número es {p}", f"mail mij gerust op {e}", f"me chama no zap: {p}")


def published(r: random.Random) -> str:
    """A fictional company's published contact quoted."""
    co, vals = r.choice(list(PUBLISHED.items()))
    v = r.choice(vals)
    return pick(r, f"customers asking how to complain: official {co} contact is {v}, please point them there",
                f"reminder that {co} support is {v} — don't give out your own number{emo(r)}",
                f"{handle(r)} you can reach {co} at {v}, it's on the website",
                f"press enquiries for {co}: {v} (from the official site)", f"{co} HQ: {v}",
                f"Offizieller Kontakt von {co}: {v}", f"le contact officiel de {co} : {v}")


LANDMARKS = ("1600 Pennsylvania Avenue NW, Washington, DC 20500", "10 Downing Street, London SW1A 2AA",
             "221B Baker Street, London NW1 6XE", "Champ de Mars, 5 Avenue Anatole France, 75007 Paris",
             "Platz der Republik 1, 11011 Berlin", "350 Fifth Avenue, New York, NY 10118",
             "Bennelong Point, Sydney NSW 2000", "Museumstraat 1, 1071 XX Amsterdam", "Calle de Ruiz de Alarcón 23, 28014 Madrid",
             "Avenida Paulista, 1578, São Paulo - SP", "301 Front St W, Toronto, ON M5V 2T6", "Av. Juárez S/N, Centro, CDMX")
FAMOUS = (("Dolly Parton", "January 19, 1946"), ("Serena Williams", "26 September 1981"), ("Shah Rukh Khan", "2 November 1965"),
          ("Lionel Messi", "24 June 1987"), ("Taylor Swift", "December 13, 1989"), ("Chimamanda Ngozi Adichie", "15 September 1977"),
          ("Keanu Reeves", "2 September 1964"), ("Beyoncé", "September 4, 1981"), ("Frida Kahlo", "6 July 1907"))


def venue(r: random.Random) -> str:
    """Landmark and venue addresses."""
    a = r.choice(LANDMARKS)
    return pick(r, f"team trip!! meeting outside {a} at 10", f"the museum is at {a}, public transport is easiest",
                f"fun fact the address of that landmark is {a}", f"concert venue: {a} — who's in?{emo(r)}")


def civic(r: random.Random) -> str:
    """Public buildings."""
    return pick(r, f"the flu clinic is at the {pick(r, 'Central Library', 'Town Hall', 'Community Centre')}, {r.randint(1, 300)} {r.choice(STREETS)} St, open to all",
                f"polling station is the school on {r.choice(STREETS)} Road this year", "the city hall on Main St has the recycling bins now")


def famous_bday(r: random.Random) -> str:
    """Famous people's public birthdays."""
    n, d = r.choice(FAMOUS)
    return pick(r, f"today's trivia at work: {n} was born {d}!", f"did u know {n}'s birthday is {d}? the more you know{emo(r)}",
                f"{n} (born {d}) would love our new window display")


def test_cards(r: random.Random) -> str:
    """Documented test card numbers in a test context."""
    c = pick(r, "4242 4242 4242 4242", "4000 0566 5566 5556", "5555 5555 5555 4444", "3782 822463 10005", "4111 1111 1111 1111", "6011 1111 1111 1117")
    return pick(r, f"training till in test mode: use {c}, any future expiry, any CVC", f"sandbox checkout works with the test card {c} 🎉",
                f"the payment test card {c} is from the provider docs, don't use real cards in demo mode")


def bad_luhn(r: random.Random) -> str:
    """A card-shaped number that fails Luhn, presented as invalid."""
    c = card(r, "visa")
    bad = c[:-1] + str((int(c[-1]) + r.randint(1, 9)) % 10)
    return pick(r, f"the form rejected {group_card(bad)} as an invalid card number, the checker works", f"made-up number {group_card(bad)} for the training slide, it fails the check on purpose")


def bad_iban(r: random.Random) -> str:
    """An IBAN failing mod-97, presented as invalid."""
    v = iban(r, r.choice(["DE", "FR", "NL", "ES"]), good=False)
    return pick(r, f"the bank says {spaced_iban(v)} is not a valid IBAN (check digits wrong) — it was a typo in the template", f"invalid IBAN example for the form validation test: {v}")


def bad_nhs(r: random.Random) -> str:
    """An NHS-looking number failing its check, as a dummy."""
    v = nhs(r, good=False)
    return f"the system flagged {v} as an invalid NHS number (fails the check digit), it's the dummy in the training record"


def bad_cpf(r: random.Random) -> str:
    """A CPF failing its check digits, as a dummy."""
    return f"o CPF {cpf(r, good=False)} do formulário de teste é inválido (dígito verificador errado), só exemplo"


def redacted(r: random.Random) -> str:
    """Redacted values."""
    return pick(r, f"the letter shows SSN ***-**-{digits(r, 4)} which is how it should be", f"receipt says card ending {digits(r, 4)}, all good",
                f"account ****{digits(r, 4)} refunded", f"IBAN DE** **** **** **** **{digits(r, 2)} (masked in the app)", f"MRN [REDACTED], bed {r.randint(1, 30)}")


def refs(r: random.Random) -> str:
    """Order, ticket, reference numbers."""
    return pick(r, f"order #{digits(r, 8)} still pending", f"ticket INC{digits(r, 7)} reopened again{emo(r)}", f"case {digits(r, 4)}-{digits(r, 6)} escalated",
                f"invoice INV-{r.randint(2024, 2027)}-{digits(r, 5)} paid", f"RMA {digits(r, 9)} approved", f"Rechnungsnummer {digits(r, 10)}")


def tracking(r: random.Random) -> str:
    """Tracking numbers."""
    return pick(r, f"tracking 1Z{rs(r, 6, string.ascii_uppercase + string.digits)}{digits(r, 10)} finally moving", f"Royal Mail {rs(r, 2, string.ascii_uppercase)}{digits(r, 9)}GB delivered",
                f"Correos: {rs(r, 2, string.ascii_uppercase)}{digits(r, 9)}ES en reparto")


def flights(r: random.Random) -> str:
    """Flight numbers and booking refs."""
    return pick(r, f"flight {pick(r, 'BA', 'LH', 'AF', 'QF', 'LA')}{r.randint(10, 2999)} delayed 2h, booking ref {rs(r, 6, string.ascii_uppercase)}", f"gate B{r.randint(1, 40)}, seat {r.randint(1, 40)}{r.choice('ABCDEF')} 🛫")


def versions(r: random.Random) -> str:
    """Version strings and build numbers."""
    return pick(r, f"POS app updated to {r.randint(1, 9)}.{r.randint(0, 30)}.{r.randint(0, 99)} and it's slower", f"build {r.randint(2024, 2027)}.{r.randint(1, 12):02d}.{digits(r, 4)} released", f"firmware v{r.randint(1, 5)}.{r.randint(0, 9)}.{r.randint(0, 9)}-rc{r.randint(1, 5)}")


def dates_prices(r: random.Random) -> str:
    """Dates and prices."""
    return pick(r, f"sale runs {r.randint(1, 28)}/{r.randint(1, 12)} to {r.randint(1, 28)}/{r.randint(1, 12)}, everything £{r.randint(5, 99)}.99",
                f"price went from ${r.randint(10, 99)}.{digits(r, 2)} to ${r.randint(100, 999)}.{digits(r, 2)} 😳", f"meeting moved to {r.randint(2026, 2027)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d} at {r.randint(8, 17)}:00")


def isbn(r: random.Random) -> str:
    """ISBNs."""
    return pick(r, f"book club pick, ISBN 978-{r.randint(0, 1)}-{digits(r, 3)}-{digits(r, 5)}-{r.randint(0, 9)}", f"ISBN 979{digits(r, 10)} for the training manual")


def example_email(r: random.Random) -> str:
    """example.com addresses."""
    return pick(r, "the form placeholder says jane.doe@example.com lol", f"use test{r.randint(1, 99)}@example.com for the demo signup", "docs show user@example.org as the sample")


def placeholder_person(r: random.Random) -> str:
    """Fictional placeholder data in docs."""
    return pick(r, "template letter: John Doe, 123 Main Street, Anytown, USA 12345 — replace before sending",
                "sample form: Name: Jane Doe, SSN: XXX-XX-XXXX, DOB: MM/DD/YYYY", "the example passport in the training deck is 'Erika Mustermann', classic",
                "fill in: [Customer Name], [Street], [Postcode] — this is the mail-merge template")


def fictional_phone(r: random.Random) -> str:
    """Fictional 555 numbers."""
    return pick(r, f"the TV ad used 555-01{digits(r, 2)} like every movie", f"demo number for the call script: (555) 01{digits(r, 2)}")


def own_salary(r: random.Random) -> str:
    """The poster's own pay, protected speech."""
    return pick(r, f"I make ${r.randint(15, 28)}.{digits(r, 2)}/hr after 3 years, is that normal for retail?", f"my salary is £{r.randint(22, 45)},{digits(r, 3)} and rent went up again")


def general_pii_talk(r: random.Random) -> str:
    """Talk about personal data without values."""
    return pick(r, "reminder: never post a customer's address or card number in the group chat!!", "training today on what counts as an MRN, very useful",
                "is a BSN the Dutch version of a social security number? asking for a friend", "our forms stopped asking for DOB, good change",
                "what is an IBAN even, my bank just calls it account number lol")


def stats(r: random.Random) -> str:
    """Numbers that are statistics or counts."""
    return pick(r, f"we served {r.randint(100, 9999)} customers today, new record!", f"{r.randint(10, 99)}% of survey responses were positive", f"footfall {digits(r, 5)} this week")


def store_numbers(r: random.Random) -> str:
    """Store, aisle and SKU numbers."""
    return pick(r, f"SKU {digits(r, 8)} out of stock again", f"store #{digits(r, 4)} closing early", f"aisle {r.randint(1, 30)}, bay {r.randint(1, 12)}")


def ip_gps(r: random.Random) -> str:
    """Coordinates of public places."""
    return pick(r, f"the park for the team picnic: {r.uniform(-40, 55):.4f}, {r.uniform(-120, 150):.4f}", f"meet at the stadium gate {r.randint(1, 12)}")


def pets(r: random.Random) -> str:
    """Pets' birthdays and such."""
    return pick(r, f"my dog Biscuit turns {r.randint(2, 14)} on {dob(r)} 🐶", f"the office cat's birthday is {r.randint(1, 28)} March, cake at 3")


def documented_iban(r: random.Random) -> str:
    """The documented example IBAN."""
    return pick(r, "the bank's website uses GB82 WEST 1234 5698 7654 32 as the sample IBAN", "example IBAN from the docs: DE89 3704 0044 0532 0130 00")


def public_office(r: random.Random) -> str:
    """Public government office phone lines."""
    return pick(r, "NHS 111 for non-emergencies, 999 in an emergency", "call 911 if it's an emergency, obviously", "in the EU the emergency number is 112")


def zip_only(r: random.Random) -> str:
    """Postcodes and towns alone."""
    return pick(r, f"anyone else commuting from the {r.randint(10, 99)}{digits(r, 3)} area?", "moving to Leeds LS6 next month!!", f"deliveries to postcode area M{r.randint(1, 40)} are delayed")


def room_ext(r: random.Random) -> str:
    """Room and extension numbers."""
    return pick(r, f"meeting room {r.randint(1, 6)}.{r.randint(1, 30):02d}", f"call ext {digits(r, 4)} for the IT desk", f"badge desk on floor {r.randint(1, 12)}")


def lottery(r: random.Random) -> str:
    """Lottery numbers and scores."""
    return pick(r, f"office lotto numbers: {' '.join(str(r.randint(1, 59)) for _ in range(6))}", f"final score {r.randint(0, 5)}-{r.randint(0, 5)}")


def famous_address_fiction(r: random.Random) -> str:
    """Addresses of fictional characters."""
    return pick(r, "742 Evergreen Terrace, Springfield — the Simpsons house", "the Dursleys live at 4 Privet Drive, Little Whinging", "124 Conch Street, Bikini Bottom 🍍")


def company_reshare(r: random.Random) -> str:
    """Reshared official announcement with published contact."""
    co, vals = r.choice(list(PUBLISHED.items()))
    return f"Resharing the official news from {co} 🎉 questions? {vals[0]}"


def bad_ssn_invalid(r: random.Random) -> str:
    """An SSN that cannot exist, shown as invalid."""
    return pick(r, f"000-{digits(r, 2)}-{digits(r, 4)} is obviously not a real SSN, the form should reject it", f"666-{digits(r, 2)}-{digits(r, 4)} is never issued, used it as the obvious fake in training")


def hotline(r: random.Random) -> str:
    """Public helplines."""
    return pick(r, "Samaritans 116 123, free, any time 💙", "988 Suicide & Crisis Lifeline in the US, please reach out", "Kids Helpline 1800 55 1800 (AU)")


def vitals(r: random.Random) -> str:
    """Vital signs with no patient named."""
    return pick(r, f"12h shift recap: BP {r.randint(100, 150)}/{r.randint(60, 95)} on half the ward, coffee count {r.randint(3, 9)}", f"temp {r.uniform(36, 39):.1f}°C and still working, don't be like me")


def bic(r: random.Random) -> str:
    """Public bank identifier codes."""
    return pick(r, "BIC for the payroll bank is DEUTDEFF, it's on their website", "SWIFT code NWBKGB2L is NatWest's public code", "the BIC BNPAFRPP is printed on every BNP statement")


def company_reg(r: random.Random) -> str:
    """Company registration numbers."""
    return pick(r, f"supplier's company number is {digits(r, 8)} on Companies House", f"our VAT number GB{digits(r, 9)} is on every invoice", f"Handelsregister HRB {digits(r, 6)}, steht im Impressum")


def bus_route(r: random.Random) -> str:
    """Bus routes and platforms."""
    return pick(r, f"the {r.randint(1, 199)} bus to the clinic is late again", f"platform {r.randint(1, 14)}, train at {r.randint(5, 23)}:{r.randint(0, 59):02d}")


def booth(r: random.Random) -> str:
    """Trade-show booth numbers."""
    return pick(r, f"come say hi at booth {rs(r, 1, 'ABCDEF')}{digits(r, 3)} at the expo!! 🎪", f"hall {r.randint(1, 9)}, stand {digits(r, 3)}")


def hospital_line(r: random.Random) -> str:
    """A hospital's public switchboard."""
    return pick(r, "St Aldhelm's Hospital main switchboard is 0161 496 0000, it's on the signs", "the clinic's public booking line is on the front door: (555) 010-0000")


PII_NEG: dict[str, Gen] = {
    "own_contact_offer": own, "published_company_contact": published, "landmark_address": venue, "public_building": civic,
    "famous_birthday": famous_bday, "provider_test_card": test_cards, "card_fails_luhn": bad_luhn, "iban_fails_check": bad_iban,
    "nhs_fails_check": bad_nhs, "cpf_fails_check": bad_cpf, "redacted_value": redacted, "reference_number": refs,
    "tracking_number": tracking, "flight_booking": flights, "version_string": versions, "date_price": dates_prices,
    "isbn": isbn, "example_domain_email": example_email, "placeholder_person": placeholder_person, "fictional_555": fictional_phone,
    "own_salary": own_salary, "pii_talk_no_value": general_pii_talk, "statistics": stats, "store_sku": store_numbers,
    "public_coordinates": ip_gps, "pet_birthday": pets, "documented_iban": documented_iban, "emergency_number": public_office,
    "postcode_only": zip_only, "room_extension": room_ext, "lottery_score": lottery, "fictional_address": famous_address_fiction,
    "official_reshare": company_reshare, "ssn_never_issued": bad_ssn_invalid, "helpline": hotline,
    "vitals_no_patient": vitals, "bank_bic": bic, "company_registration": company_reg, "bus_route": bus_route,
    "expo_booth": booth, "hospital_switchboard": hospital_line,
}

# ---------------------------------------------------------------- assembly

OPENERS = ("", "", "", "ok so ", "random thought: ", "lunch break rant: ", "not me posting this at 2am but ", "quick one — ",
           "Reddit, be honest: ", "thread 🧵 ", "day {d} of retail: ", "update: ", "no context: ", "storytime: ")
CLOSERS = ("", "", "", " #worklife", " #nurselife", " #retail", " anyway.", " (sent from my phone)", " ✨", " thoughts?",
           " — views my own", " #sales", " lol", " 🙃", " ok bye")


def wrap(r: random.Random, text: str) -> str:
    """Add a casual opener and closer around a post."""
    return r.choice(OPENERS).format(d=r.randint(2, 400)) + text + r.choice(CLOSERS)


def _table(name: str) -> dict[str, Gen]:
    if name == "round8_credentials_positive":
        prov = {k: (lambda r, w=w, v=v, f=f: present(r, w, v, f(r))) for k, w, v, f in PROVIDERS}
        return prov | GENERIC_CRED
    return {"round8_credentials_hard_negative": CRED_NEG, "round8_pii_positive": PII_POS, "round8_pii_negative": PII_NEG}[name]


def build() -> dict[str, list[dict[str, str]]]:
    """All four files' rows, deterministic from SEED."""
    r = random.Random(SEED)
    out: dict[str, list[dict[str, str]]] = {}
    for name in NAMES:
        table = _table(name)
        kinds = sorted(table)
        cap = int(TARGET[name] * 0.055)
        per = -(-TARGET[name] // len(kinds))
        seen: set[str] = set()
        rows: list[dict[str, str]] = []
        for kind in kinds:
            got = tries = 0
            while got < min(per, cap) and tries < per * 40:
                tries += 1
                text = wrap(r, table[kind](r)) if r.random() < 0.6 else table[kind](r)
                if text not in seen:
                    seen.add(text)
                    rows.append({"kind": kind, "text": text})
                    got += 1
        r.shuffle(rows)
        out[name] = rows
    return out


def write() -> dict[str, int]:
    """Write the four JSONL files and return their sizes."""
    OUT.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, rows in build().items():
        with (OUT / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for i, row in enumerate(rows):
                fh.write(json.dumps({"id": f"{name}-{i}", **row}, ensure_ascii=False) + "\n")
        counts[name] = len(rows)
    return counts


if __name__ == "__main__":
    print(write())
