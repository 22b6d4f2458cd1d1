"""Held-back evaluation round 9: credentials and personal data in engineers' posts.

The voice is engineers and analysts at large multinational firms posting on Reddit, Mastodon,
Bluesky, X and personal blogs: GitHub-issue pastes, stack traces, terminal sessions, CI logs,
Jupyter cells, Terraform, Helm, Ansible and docker-compose snippets, dotfiles (.npmrc, .pypirc,
.netrc, .git-credentials), Postman exports, curl commands and long blog paragraphs with the
value buried mid-sentence, many of them in Spanish, Portuguese, German, French, Polish,
Italian, Dutch, Japanese or a Hindi-English mix.

One writer produced it from the labelling spec alone, without reading the detection rules or
any earlier round. Token formats are restated from the providers' own descriptions of them
(prefix, length, alphabet); every value is made up. ID numbers carry their real check digits,
computed here; the negatives that are sold as failing a check are made to fail it.
`python -m bench.heldout_round9` writes the four files from SEED.
"""

from __future__ import annotations

import base64
import json
import random
import string
import zlib
from collections.abc import Callable
from pathlib import Path

SEED = 90_311_577
NAMES = ("round9_credentials_positive", "round9_credentials_hard_negative",
         "round9_pii_positive", "round9_pii_negative")
OUT = Path(__file__).resolve().parents[1] / "data" / "secrets-heldout"

# Fictional companies of this round and their published contacts (pii negatives quote them).
PUBLISHED: dict[str, list[str]] = {
    "Tessaline Systems": ["press@tessaline.io", "support@tessaline.io",
                          "+1 415 555 0137", "2200 Harrow Quay Road, San Francisco, CA 94107"],
    "Brakmoor Logistik": ["presse@brakmoor-logistik.de", "kundenservice@brakmoor-logistik.de",
                          "+49 40 3861 2200", "Kehrwiederspitze 9, 20457 Hamburg"],
    "Vellacor Pagamentos": ["imprensa@vellacor.com.br", "atendimento@vellacor.com.br",
                            "+55 11 3090 4410", "Avenida Engenheiro Luís Quintela 1800, São Paulo - SP, 04578-000"],
    "Orinthe Biomédical": ["presse@orinthe-bio.fr", "contact@orinthe-bio.fr",
                           "+33 4 72 90 18 00", "14 quai Perrache-Vallon, 69002 Lyon"],
    "Kazuraya Cloud": ["pr@kazuraya-cloud.jp", "support@kazuraya-cloud.jp",
                       "+81 3 6830 2290", "2-11-4 Kaigan, Minato-ku, Tokyo 105-0022"],
}
COMPANIES = tuple(PUBLISHED)
DOMAINS = ("tessaline.io", "brakmoor-logistik.de", "vellacor.com.br", "orinthe-bio.fr",
           "kazuraya-cloud.jp")

ALNUM = string.ascii_letters + string.digits
UPPER_NUM = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
B32 = string.ascii_uppercase + "234567"
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase

FIRST = ("Aurelio", "Benedikt", "Chiara", "Dagny", "Emeka", "Fenna", "Grzegorz", "Hana",
         "Ines", "Joaquim", "Kasia", "Lorenzo", "Maelle", "Nikhil", "Oona", "Piet",
         "Quentin", "Rosalind", "Soraya", "Tobiasz", "Ulrike", "Valentina", "Wouter",
         "Ximena", "Yusuke", "Zofia", "Anaïs", "Bartosz", "Cédric", "Divya", "Eero",
         "Fabrizio", "Gaëlle", "Hiroko", "Ilse", "Jurgen", "Kavya", "Leandro", "Mirela")
LAST = ("Achterberg", "Brzezinski", "Castellanos", "Duchêne", "Eriksen", "Fagerlund",
        "Gallardo", "Hoekstra", "Iwasaki", "Jankowska", "Kowalczyk", "Lindqvist", "Mendonça",
        "Nakagawa", "Oyelaran", "Pellegrini", "Quaresma", "Rautenberg", "Sandoval",
        "Tremblay", "Uchida", "Vasconcelos", "Wiśniewski", "Yamashita", "Zanardi",
        "Bhattacharya", "Deshpande", "Van Rijswijk", "Moreau-Lefèvre", "Schwarzkopf")


def pick(r: random.Random, seq):  # type: ignore[no-untyped-def]
    """One element of seq."""
    return seq[r.randrange(len(seq))]


def rs(r: random.Random, alphabet: str, n: int) -> str:
    """n random characters of alphabet."""
    return "".join(alphabet[r.randrange(len(alphabet))] for _ in range(n))


def digits(r: random.Random, n: int) -> str:
    """n random digits, the first not zero."""
    return str(r.randint(1, 9)) + rs(r, string.digits, n - 1)


def person(r: random.Random) -> tuple[str, str]:
    """A made-up first and last name."""
    return pick(r, FIRST), pick(r, LAST)


def b64(s: str) -> str:
    """Standard base64 of a UTF-8 string."""
    return base64.b64encode(s.encode()).decode()


def b64url(b: bytes) -> str:
    """Unpadded URL-safe base64."""
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


# ---- check digits -------------------------------------------------------------------------

def luhn_digit(body: str) -> str:
    """The Luhn check digit that completes body."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return str((10 - total % 10) % 10)


def luhn_card(r: random.Random, prefix: str, length: int) -> str:
    """A card number of length digits that passes Luhn."""
    body = prefix + rs(r, string.digits, length - len(prefix) - 1)
    return body + luhn_digit(body)


def luhn_bad(r: random.Random, prefix: str, length: int) -> str:
    """A card-shaped number that fails Luhn."""
    good = luhn_card(r, prefix, length)
    wrong = (int(good[-1]) + r.randint(1, 9)) % 10
    return good[:-1] + str(wrong)


def iban(r: random.Random, country: str, bban: str) -> str:
    """An IBAN with correct mod-97 check digits."""
    moved = bban + country + "00"
    num = int("".join(str(int(c, 36)) for c in moved))
    return f"{country}{98 - num % 97:02d}{bban}"


def iban_bad(r: random.Random, country: str, bban: str) -> str:
    """An IBAN whose check digits are wrong."""
    good = iban(r, country, bban)
    ck = (int(good[2:4]) + r.randint(1, 40)) % 97 + 2
    if ck == int(good[2:4]):
        ck = ck + 1 if ck < 98 else 2
    return f"{country}{ck:02d}{bban}"


def group4(s: str) -> str:
    """s in groups of four separated by spaces."""
    return " ".join(s[i:i + 4] for i in range(0, len(s), 4))


def dni_es(r: random.Random) -> str:
    """Spanish DNI: eight digits and the mod-23 letter."""
    n = r.randint(10_000_000, 99_999_999)
    return f"{n}{'TRWAGMYFPDXBNJZSQVHLCKE'[n % 23]}"


def nie_es(r: random.Random) -> str:
    """Spanish NIE: X/Y/Z, seven digits and the mod-23 letter."""
    lead = r.randrange(3)
    n = r.randint(1_000_000, 9_999_999)
    return f"{'XYZ'[lead]}{n}{'TRWAGMYFPDXBNJZSQVHLCKE'[int(str(lead) + str(n)) % 23]}"


def bsn_nl(r: random.Random) -> str:
    """Dutch BSN passing the 11-test."""
    while True:
        d = [r.randint(0, 9) for _ in range(8)]
        d[0] = r.randint(1, 9)
        s = sum(w * x for w, x in zip(range(9, 1, -1), d, strict=True))
        last = s % 11
        if last < 10:
            return "".join(map(str, d)) + str(last)


def pesel_pl(r: random.Random) -> str:
    """Polish PESEL with a real birth date and check digit."""
    y, m, day = r.randint(1950, 2005), r.randint(1, 12), r.randint(1, 28)
    mm = m + (20 if y >= 2000 else 0)
    body = f"{y % 100:02d}{mm:02d}{day:02d}{r.randint(0, 9999):04d}"
    s = sum(w * int(c) for w, c in zip((1, 3, 7, 9) * 3, body, strict=False))
    return body + str((10 - s % 10) % 10)


def cpf_br(r: random.Random) -> str:
    """Brazilian CPF with both check digits, formatted."""
    d = [r.randint(0, 9) for _ in range(9)]
    for n in (10, 11):
        s = sum(w * x for w, x in zip(range(n, 1, -1), d, strict=False))
        d.append(0 if s % 11 < 2 else 11 - s % 11)
    t = "".join(map(str, d))
    return f"{t[:3]}.{t[3:6]}.{t[6:9]}-{t[9:]}"


def nir_fr(r: random.Random) -> str:
    """French NIR (social security number) with its 97-complement key, spaced."""
    body = (f"{r.randint(1, 2)}{r.randint(50, 99):02d}{r.randint(1, 12):02d}"
            f"{r.randint(1, 95):02d}{r.randint(1, 990):03d}{r.randint(1, 999):03d}")
    key = 97 - int(body) % 97
    return f"{body[0]} {body[1:3]} {body[3:5]} {body[5:7]} {body[7:10]} {body[10:13]} {key:02d}"


_VD = ((0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
       (2, 3, 4, 0, 1, 7, 8, 9, 5, 6), (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
       (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
       (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
       (8, 7, 6, 5, 9, 3, 2, 1, 0, 4), (9, 8, 7, 6, 5, 4, 3, 2, 1, 0))
_VP = ((0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
       (5, 8, 0, 3, 7, 9, 6, 1, 4, 2), (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
       (9, 4, 5, 3, 1, 2, 6, 8, 7, 0), (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
       (2, 7, 9, 3, 8, 0, 6, 4, 1, 5), (7, 0, 4, 6, 9, 1, 3, 2, 5, 8))
_VINV = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)


def aadhaar_in(r: random.Random) -> str:
    """Indian Aadhaar: 12 digits, first 2-9, Verhoeff check digit, in groups of four."""
    body = str(r.randint(2, 9)) + rs(r, string.digits, 10)
    c = 0
    for i, ch in enumerate(reversed(body)):
        c = _VD[c][_VP[(i + 1) % 8][int(ch)]]
    return group4(body + str(_VINV[c]))


def hetu_fi(r: random.Random) -> str:
    """Finnish henkilötunnus with its mod-31 check character."""
    day, m, y = r.randint(1, 28), r.randint(1, 12), r.randint(1950, 2004)
    ind = r.randint(2, 899)
    n = int(f"{day:02d}{m:02d}{y % 100:02d}{ind:03d}")
    sep = "-" if y < 2000 else "A"
    return f"{day:02d}{m:02d}{y % 100:02d}{sep}{ind:03d}{'0123456789ABCDEFHJKLMNPRSTUVWXY'[n % 31]}"


def personnummer_se(r: random.Random) -> str:
    """Swedish personnummer YYMMDD-NNNC with a Luhn check digit."""
    body = f"{r.randint(50, 99):02d}{r.randint(1, 12):02d}{r.randint(1, 28):02d}{r.randint(0, 999):03d}"
    return f"{body[:6]}-{body[6:]}{luhn_digit(body)}"


def rrn_be(r: random.Random) -> str:
    """Belgian national register number YY.MM.DD-SSS.CC (born before 2000)."""
    y, m, d, s = r.randint(50, 99), r.randint(1, 12), r.randint(1, 28), r.randint(1, 997)
    body = f"{y:02d}{m:02d}{d:02d}{s:03d}"
    ck = 97 - int(body) % 97
    return f"{y:02d}.{m:02d}.{d:02d}-{s:03d}.{ck:02d}"


def rut_cl(r: random.Random) -> str:
    """Chilean RUT with its mod-11 verifier, formatted 12.345.678-5."""
    n = r.randint(5_000_000, 25_999_999)
    s, f = 0, 2
    for ch in reversed(str(n)):
        s += int(ch) * f
        f = 2 if f == 7 else f + 1
    v = 11 - s % 11
    dv = {11: "0", 10: "K"}.get(v, str(v))
    t = f"{n:,}".replace(",", ".")
    return f"{t}-{dv}"


def nif_pt(r: random.Random) -> str:
    """Portuguese NIF (individual, starts 1-3) with its mod-11 check digit."""
    while True:
        body = str(r.randint(1, 3)) + rs(r, string.digits, 7)
        s = sum(w * int(c) for w, c in zip(range(9, 1, -1), body, strict=True))
        ck = 11 - s % 11
        if ck < 10:
            return body + str(ck)
        if ck in (10, 11):
            return body + "0"


def cn_id(r: random.Random) -> str:
    """Chinese resident ID, 18 characters, ISO 7064 MOD 11-2 check."""
    area = pick(r, ("110105", "310115", "440305", "510107", "330106", "420111"))
    body = f"{area}{r.randint(1960, 2003)}{r.randint(1, 12):02d}{r.randint(1, 28):02d}{r.randint(0, 999):03d}"
    w = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    s = sum(a * int(b) for a, b in zip(w, body, strict=True))
    return body + "10X98765432"[s % 11]


def tckn_tr(r: random.Random) -> str:
    """Turkish TC Kimlik No with both check digits."""
    d = [r.randint(1, 9)] + [r.randint(0, 9) for _ in range(8)]
    d10 = ((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10
    d.append(d10)
    d.append(sum(d) % 10)
    return "".join(map(str, d))


def mynumber_jp(r: random.Random) -> str:
    """Japanese My Number (個人番号): 11 digits and the check digit, in groups of four."""
    body = rs(r, string.digits, 11)
    s = sum(int(body[10 - n + 1]) * (n + 1 if n <= 6 else n - 5) for n in range(1, 12))
    rem = s % 11
    ck = 0 if rem <= 1 else 11 - rem
    return group4(body + str(ck))


def sin_ca(r: random.Random) -> str:
    """Canadian SIN (first digit 1-7, 9) passing Luhn, as 123 456 782."""
    body = str(pick(r, "1234567")) + rs(r, string.digits, 7)
    t = body + luhn_digit(body)
    return f"{t[:3]} {t[3:6]} {t[6:]}"


def nhs_uk(r: random.Random) -> str:
    """NHS number with its mod-11 check digit, as 943 476 5919."""
    while True:
        body = str(r.randint(4, 7)) + rs(r, string.digits, 8)
        s = sum(int(c) * w for c, w in zip(body, range(10, 1, -1), strict=True))
        ck = 11 - s % 11
        if ck == 11:
            ck = 0
        if ck != 10:
            t = body + str(ck)
            return f"{t[:3]} {t[3:6]} {t[6:]}"


def fnr_no(r: random.Random) -> str:
    """Norwegian fødselsnummer with both mod-11 check digits."""
    while True:
        base = f"{r.randint(1, 28):02d}{r.randint(1, 12):02d}{r.randint(50, 99):02d}{r.randint(0, 499):03d}"
        d = [int(c) for c in base]
        k1 = 11 - sum(a * b for a, b in zip((3, 7, 6, 1, 8, 9, 4, 5, 2), d, strict=True)) % 11
        k1 = 0 if k1 == 11 else k1
        if k1 == 10:
            continue
        d.append(k1)
        k2 = 11 - sum(a * b for a, b in zip((5, 4, 3, 2, 7, 6, 5, 4, 3, 2), d, strict=True)) % 11
        k2 = 0 if k2 == 11 else k2
        if k2 == 10:
            continue
        return base + str(k1) + str(k2)


def aba_routing(r: random.Random) -> str:
    """US ABA routing number passing the 3-7-1 checksum."""
    body = pick(r, ("01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "21", "22",
                    "23", "24", "25", "26", "27", "28", "29", "30", "31", "32")) + rs(r, string.digits, 6)
    s = sum(int(c) * w for c, w in zip(body, (3, 7, 1, 3, 7, 1, 3, 7), strict=True))
    return body + str((10 - s % 10) % 10)


def gh_token(r: random.Random, prefix: str) -> str:
    """A GitHub-style token: 30 random base62 chars and a base62 CRC32 of them (6 chars)."""
    body = rs(r, ALNUM, 30)
    c = zlib.crc32(body.encode())
    out = ""
    while c:
        c, rem = divmod(c, 62)
        out = BASE62[rem] + out
    return f"{prefix}_{body}{out.rjust(6, '0')}"


# ---- credential formats -------------------------------------------------------------------

def _uuid(r: random.Random) -> str:
    h = rs(r, HEX, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{pick(r, '89ab')}{h[17:20]}-{h[20:]}"


def _jwt(r: random.Random, claims: dict[str, object]) -> str:
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64url(json.dumps(claims, separators=(",", ":")).encode())
    return f"{head}.{body}.{rs(r, URLSAFE, 43)}"


def _mapbox(r: random.Random) -> str:
    user = pick(r, ("mrautenberg", "geo-ops", "kzr-maps", "vellacor-geo"))
    mid = b64url(json.dumps({"u": user, "a": rs(r, "abcdefghijklmnopqrstuvwxyz0123456789", 25)},
                            separators=(",", ":")).encode())
    return f"sk.{mid}.{rs(r, URLSAFE, 22)}"


# kind, variable name, label used in prose, API host, header template, maker
Tok = tuple[str, str, str, str, str, Callable[[random.Random], str]]
BEARER = "Authorization: Bearer {v}"
TOKENS: tuple[Tok, ...] = (
    ("github_classic_pat", "GITHUB_TOKEN", "GitHub PAT", "api.github.com", BEARER,
     lambda r: gh_token(r, "ghp")),
    ("github_oauth_token", "GH_OAUTH_TOKEN", "GitHub OAuth token", "api.github.com", BEARER,
     lambda r: gh_token(r, "gho")),
    ("github_app_token", "GH_APP_INSTALLATION_TOKEN", "GitHub app token", "api.github.com",
     "Authorization: token {v}", lambda r: gh_token(r, "ghs")),
    ("github_fine_grained_pat", "GH_PAT", "fine-grained GitHub token", "api.github.com", BEARER,
     lambda r: f"github_pat_11{rs(r, UPPER_NUM, 20)}_{rs(r, ALNUM, 59)}"),
    ("gitlab_pat", "GITLAB_TOKEN", "GitLab token", "gitlab.com", "PRIVATE-TOKEN: {v}",
     lambda r: f"glpat-{rs(r, URLSAFE, 20)}"),
    ("gitlab_runner_token", "RUNNER_TOKEN", "GitLab runner token", "gitlab.com",
     "JOB-TOKEN: {v}", lambda r: f"glrt-{rs(r, URLSAFE, 20)}"),
    ("slack_bot_token", "SLACK_BOT_TOKEN", "Slack bot token", "slack.com", BEARER,
     lambda r: f"xoxb-{digits(r, 12)}-{digits(r, 13)}-{rs(r, ALNUM, 24)}"),
    ("slack_user_token", "SLACK_USER_TOKEN", "Slack user token", "slack.com", BEARER,
     lambda r: f"xoxp-{digits(r, 12)}-{digits(r, 12)}-{digits(r, 13)}-{rs(r, HEX, 32)}"),
    ("stripe_live_secret", "STRIPE_SECRET_KEY", "Stripe live key", "api.stripe.com", BEARER,
     lambda r: f"sk_live_51{rs(r, ALNUM, r.randint(40, 97))}"),
    ("stripe_restricted_key", "STRIPE_RESTRICTED_KEY", "Stripe restricted key",
     "api.stripe.com", BEARER, lambda r: f"rk_live_51{rs(r, ALNUM, r.randint(40, 97))}"),
    ("stripe_webhook_secret", "STRIPE_WEBHOOK_SECRET", "Stripe signing secret",
     "api.stripe.com", "Stripe-Signing-Secret: {v}", lambda r: f"whsec_{rs(r, ALNUM, 32)}"),
    ("twilio_api_secret", "TWILIO_AUTH_TOKEN", "Twilio auth token", "api.twilio.com",
     "Authorization: Basic {v}", lambda r: rs(r, HEX, 32)),
    ("sendgrid_key", "SENDGRID_API_KEY", "SendGrid key", "api.sendgrid.com", BEARER,
     lambda r: f"SG.{rs(r, URLSAFE, 22)}.{rs(r, URLSAFE, 43)}"),
    ("mailgun_key", "MAILGUN_API_KEY", "Mailgun key", "api.mailgun.net",
     "Authorization: Basic {v}", lambda r: f"key-{rs(r, HEX, 32)}"),
    ("mailchimp_key", "MAILCHIMP_API_KEY", "Mailchimp key", "us14.api.mailchimp.com", BEARER,
     lambda r: f"{rs(r, HEX, 32)}-us{r.randint(1, 21)}"),
    ("postmark_server_token", "POSTMARK_SERVER_TOKEN", "Postmark server token",
     "api.postmarkapp.com", "X-Postmark-Server-Token: {v}", _uuid),
    ("resend_key", "RESEND_API_KEY", "Resend key", "api.resend.com", BEARER,
     lambda r: f"re_{rs(r, ALNUM, 8)}_{rs(r, ALNUM, 24)}"),
    ("brevo_key", "BREVO_API_KEY", "Brevo key", "api.brevo.com", "api-key: {v}",
     lambda r: f"xkeysib-{rs(r, HEX, 64)}-{rs(r, ALNUM, 16)}"),
    ("openai_legacy_key", "OPENAI_API_KEY", "OpenAI key", "api.openai.com", BEARER,
     lambda r: f"sk-{rs(r, ALNUM, 20)}T3BlbkFJ{rs(r, ALNUM, 20)}"),
    ("openai_project_key", "OPENAI_API_KEY", "OpenAI project key", "api.openai.com", BEARER,
     lambda r: f"sk-proj-{rs(r, URLSAFE, 74)}T3BlbkFJ{rs(r, URLSAFE, 74)}"),
    ("anthropic_key", "ANTHROPIC_API_KEY", "Anthropic key", "api.anthropic.com",
     "x-api-key: {v}", lambda r: f"sk-ant-api03-{rs(r, URLSAFE, 93)}AA"),
    ("google_api_key", "GOOGLE_API_KEY", "Google API key", "maps.googleapis.com",
     "X-Goog-Api-Key: {v}", lambda r: f"AIza{rs(r, URLSAFE, 35)}"),
    ("azure_ad_client_secret", "AZURE_CLIENT_SECRET", "Entra client secret",
     "login.microsoftonline.com", "client_secret: {v}",
     lambda r: f"{rs(r, ALNUM, 3)}8Q~{rs(r, ALNUM + '_.-', 34)}"),
    ("npm_token", "NPM_TOKEN", "npm token", "registry.npmjs.org", BEARER,
     lambda r: f"npm_{rs(r, ALNUM, 36)}"),
    ("pypi_token", "TWINE_PASSWORD", "PyPI token", "upload.pypi.org",
     "Authorization: Basic {v}", lambda r: f"pypi-AgEIcHlwaS5vcmc{rs(r, URLSAFE, r.randint(60, 140))}"),
    ("dockerhub_pat", "DOCKERHUB_TOKEN", "Docker Hub token", "hub.docker.com", BEARER,
     lambda r: f"dckr_pat_{rs(r, URLSAFE, 27)}"),
    ("huggingface_token", "HF_TOKEN", "Hugging Face token", "huggingface.co", BEARER,
     lambda r: f"hf_{rs(r, string.ascii_letters, 34)}"),
    ("datadog_api_key", "DD_API_KEY", "Datadog API key", "api.datadoghq.eu",
     "DD-API-KEY: {v}", lambda r: rs(r, HEX, 32)),
    ("datadog_app_key", "DD_APP_KEY", "Datadog application key", "api.datadoghq.com",
     "DD-APPLICATION-KEY: {v}", lambda r: rs(r, HEX, 40)),
    ("newrelic_user_key", "NEW_RELIC_API_KEY", "New Relic user key", "api.newrelic.com",
     "Api-Key: {v}", lambda r: f"NRAK-{rs(r, UPPER_NUM, 27)}"),
    ("sentry_user_token", "SENTRY_AUTH_TOKEN", "Sentry auth token", "sentry.io", BEARER,
     lambda r: f"sntryu_{rs(r, HEX, 64)}"),
    ("shopify_admin_token", "SHOPIFY_ACCESS_TOKEN", "Shopify admin token",
     "vellacor-store.myshopify.com", "X-Shopify-Access-Token: {v}",
     lambda r: f"shpat_{rs(r, HEX, 32)}"),
    ("square_access_token", "SQUARE_ACCESS_TOKEN", "Square production token",
     "connect.squareup.com", BEARER, lambda r: f"EAAA{rs(r, URLSAFE, 60)}"),
    ("braintree_token", "BRAINTREE_ACCESS_TOKEN", "Braintree access token",
     "api.braintreegateway.com", BEARER,
     lambda r: f"access_token$production${rs(r, string.ascii_lowercase + string.digits, 16)}${rs(r, HEX, 32)}"),
    ("digitalocean_pat", "DIGITALOCEAN_TOKEN", "DigitalOcean token", "api.digitalocean.com",
     BEARER, lambda r: f"dop_v1_{rs(r, HEX, 64)}"),
    ("linear_key", "LINEAR_API_KEY", "Linear key", "api.linear.app", "Authorization: {v}",
     lambda r: f"lin_api_{rs(r, ALNUM, 40)}"),
    ("notion_token", "NOTION_TOKEN", "Notion integration secret", "api.notion.com", BEARER,
     lambda r: f"ntn_{digits(r, 11)}{rs(r, ALNUM, 35)}"),
    ("atlassian_token", "JIRA_API_TOKEN", "Atlassian API token", "tessaline.atlassian.net",
     "Authorization: Basic {v}",
     lambda r: f"ATATT3xFfGF0{rs(r, URLSAFE, 160)}={rs(r, '0123456789ABCDEF', 8)}"),
    ("postman_key", "POSTMAN_API_KEY", "Postman API key", "api.getpostman.com",
     "X-Api-Key: {v}", lambda r: f"PMAK-{rs(r, HEX, 24)}-{rs(r, HEX, 34)}"),
    ("terraform_cloud_token", "TFE_TOKEN", "Terraform Cloud token", "app.terraform.io",
     BEARER, lambda r: f"{rs(r, ALNUM, 14)}.atlasv1.{rs(r, ALNUM, 67)}"),
    ("vault_service_token", "VAULT_TOKEN", "Vault token", "vault.brakmoor-logistik.de:8200",
     "X-Vault-Token: {v}", lambda r: f"hvs.CAESI{rs(r, URLSAFE, r.randint(40, 86))}"),
    ("doppler_token", "DOPPLER_TOKEN", "Doppler service token", "api.doppler.com", BEARER,
     lambda r: f"dp.st.{pick(r, ('prd', 'stg', 'dev_eu'))}.{rs(r, ALNUM, 40)}"),
    ("pulumi_token", "PULUMI_ACCESS_TOKEN", "Pulumi token", "api.pulumi.com",
     "Authorization: token {v}", lambda r: f"pul-{rs(r, HEX, 40)}"),
    ("cloudflare_origin_ca_key", "CF_ORIGIN_CA_KEY", "Cloudflare Origin CA key",
     "api.cloudflare.com", "X-Auth-User-Service-Key: {v}",
     lambda r: f"v1.0-{rs(r, HEX, 24)}-{rs(r, HEX, 146)}"),
    ("launchdarkly_sdk_key", "LAUNCHDARKLY_SDK_KEY", "LaunchDarkly server SDK key",
     "sdk.launchdarkly.com", "Authorization: {v}", lambda r: f"sdk-{_uuid(r)}"),
    ("launchdarkly_api_token", "LD_API_TOKEN", "LaunchDarkly API token",
     "app.launchdarkly.com", "Authorization: {v}", lambda r: f"api-{_uuid(r)}"),
    ("telegram_bot_token", "TELEGRAM_BOT_TOKEN", "Telegram bot token", "api.telegram.org",
     "X-Bot-Token: {v}", lambda r: f"{digits(r, 10)}:AA{rs(r, URLSAFE, 33)}"),
    ("facebook_page_token", "FB_PAGE_ACCESS_TOKEN", "Facebook page token", "graph.facebook.com",
     BEARER, lambda r: f"EAAG{rs(r, ALNUM, 180)}"),
    ("supabase_access_token", "SUPABASE_ACCESS_TOKEN", "Supabase access token",
     "api.supabase.com", BEARER, lambda r: f"sbp_{rs(r, HEX, 40)}"),
    ("planetscale_password", "PLANETSCALE_DB_PASSWORD", "PlanetScale password",
     "aws.connect.psdb.cloud", "X-PS-Password: {v}", lambda r: f"pscale_pw_{rs(r, URLSAFE, 43)}"),
    ("databricks_pat", "DATABRICKS_TOKEN", "Databricks token",
     "adb-4417093382.11.azuredatabricks.net", BEARER, lambda r: f"dapi{rs(r, HEX, 32)}"),
    ("buildkite_token", "BUILDKITE_API_TOKEN", "Buildkite token", "api.buildkite.com", BEARER,
     lambda r: f"bkua_{rs(r, HEX, 40)}"),
    ("circleci_pat", "CIRCLE_TOKEN", "CircleCI token", "circleci.com", "Circle-Token: {v}",
     lambda r: f"CCIPAT_{rs(r, ALNUM, 22)}_{rs(r, HEX, 40)}"),
    ("jfrog_api_key", "ARTIFACTORY_API_KEY", "Artifactory API key",
     "brakmoor.jfrog.io", "X-JFrog-Art-Api: {v}", lambda r: f"AKCp{digits(r, 1)}{rs(r, ALNUM, 68)}"),
    ("grafana_sa_token", "GRAFANA_TOKEN", "Grafana service account token",
     "grafana.kazuraya-cloud.jp", BEARER, lambda r: f"glsa_{rs(r, ALNUM, 32)}_{rs(r, HEX, 8)}"),
    ("okta_api_token", "OKTA_API_TOKEN", "Okta API token", "tessaline.okta.com",
     "Authorization: SSWS {v}", lambda r: f"00{rs(r, URLSAFE, 40)}"),
    ("algolia_admin_key", "ALGOLIA_ADMIN_KEY", "Algolia admin key", "QX7TR2M0KD.algolia.net",
     "X-Algolia-API-Key: {v}", lambda r: rs(r, HEX, 32)),
    ("mapbox_secret_token", "MAPBOX_SECRET_TOKEN", "Mapbox secret token", "api.mapbox.com",
     "Authorization: Bearer {v}", _mapbox),
    ("dropbox_token", "DROPBOX_ACCESS_TOKEN", "Dropbox token", "api.dropboxapi.com", BEARER,
     lambda r: f"sl.{rs(r, URLSAFE, 136)}"),
    ("airtable_pat", "AIRTABLE_TOKEN", "Airtable token", "api.airtable.com", BEARER,
     lambda r: f"pat{rs(r, ALNUM, 14)}.{rs(r, HEX, 64)}"),
    ("figma_token", "FIGMA_TOKEN", "Figma token", "api.figma.com", "X-Figma-Token: {v}",
     lambda r: f"figd_{rs(r, URLSAFE, 40)}"),
    ("contentful_cma_token", "CONTENTFUL_MANAGEMENT_TOKEN", "Contentful management token",
     "api.contentful.com", BEARER, lambda r: f"CFPAT-{rs(r, URLSAFE, 43)}"),
    ("netlify_token", "NETLIFY_AUTH_TOKEN", "Netlify token", "api.netlify.com", BEARER,
     lambda r: f"nfp_{rs(r, ALNUM, 36)}"),
    ("render_key", "RENDER_API_KEY", "Render key", "api.render.com", BEARER,
     lambda r: f"rnd_{rs(r, ALNUM, 32)}"),
    ("bitbucket_app_password", "BITBUCKET_APP_PASSWORD", "Bitbucket app password",
     "api.bitbucket.org", "Authorization: Basic {v}",
     lambda r: f"ATBB{rs(r, ALNUM, 32)}{rs(r, '0123456789ABCDEF', 8)}"),
    ("azure_devops_pat", "AZURE_DEVOPS_EXT_PAT", "Azure DevOps PAT", "dev.azure.com",
     "Authorization: Basic {v}", lambda r: rs(r, "abcdefghijklmnopqrstuvwxyz234567", 52)),
    ("tailscale_auth_key", "TS_AUTHKEY", "Tailscale auth key", "api.tailscale.com", BEARER,
     lambda r: f"tskey-auth-k{rs(r, ALNUM, 10)}CNTRL-{rs(r, ALNUM, 33)}"),
    ("groq_key", "GROQ_API_KEY", "Groq key", "api.groq.com", BEARER,
     lambda r: f"gsk_{rs(r, ALNUM, 52)}"),
    ("replicate_token", "REPLICATE_API_TOKEN", "Replicate token", "api.replicate.com",
     "Authorization: Token {v}", lambda r: f"r8_{rs(r, ALNUM, 37)}"),
    ("perplexity_key", "PPLX_API_KEY", "Perplexity key", "api.perplexity.ai", BEARER,
     lambda r: f"pplx-{rs(r, ALNUM, 48)}"),
    ("xai_key", "XAI_API_KEY", "xAI key", "api.x.ai", BEARER, lambda r: f"xai-{rs(r, ALNUM, 80)}"),
    ("langsmith_key", "LANGSMITH_API_KEY", "LangSmith key", "api.smith.langchain.com",
     "x-api-key: {v}", lambda r: f"lsv2_pt_{rs(r, HEX, 32)}_{rs(r, HEX, 10)}"),
    ("shippo_live_token", "SHIPPO_TOKEN", "Shippo live token", "api.goshippo.com",
     "Authorization: ShippoToken {v}", lambda r: f"shippo_live_{rs(r, HEX, 40)}"),
    ("flutterwave_secret", "FLW_SECRET_KEY", "Flutterwave secret key", "api.flutterwave.com",
     BEARER, lambda r: f"FLWSECK-{rs(r, HEX, 32)}-X"),
    ("mollie_live_key", "MOLLIE_API_KEY", "Mollie live key", "api.mollie.com", BEARER,
     lambda r: f"live_{rs(r, ALNUM, 30)}"),
    ("twitter_bearer", "TWITTER_BEARER_TOKEN", "X API bearer token", "api.x.com", BEARER,
     lambda r: f"AAAAAAAAAAAAAAAAAAAAA{rs(r, ALNUM, 30)}%3D{rs(r, ALNUM, 50)}"),
    ("dynatrace_token", "DT_API_TOKEN", "Dynatrace token", "abc12345.live.dynatrace.com",
     "Authorization: Api-Token {v}", lambda r: f"dt0c01.{rs(r, UPPER_NUM, 24)}.{rs(r, UPPER_NUM, 64)}"),
    ("splunk_hec_token", "SPLUNK_HEC_TOKEN", "Splunk HEC token", "http-inputs-tessaline.splunkcloud.com",
     "Authorization: Splunk {v}", _uuid),
    ("opsgenie_key", "OPSGENIE_API_KEY", "Opsgenie key", "api.eu.opsgenie.com",
     "Authorization: GenieKey {v}", _uuid),
    ("sonarqube_token", "SONAR_TOKEN", "SonarQube token", "sonar.orinthe-bio.fr", BEARER,
     lambda r: f"squ_{rs(r, HEX, 40)}"),
    ("rubygems_key", "GEM_HOST_API_KEY", "RubyGems key", "rubygems.org", "Authorization: {v}",
     lambda r: f"rubygems_{rs(r, HEX, 48)}"),
    ("nuget_key", "NUGET_API_KEY", "NuGet key", "api.nuget.org", "X-NuGet-ApiKey: {v}",
     lambda r: f"oy2{rs(r, string.ascii_lowercase + string.digits, 43)}"),
    ("hetzner_token", "HCLOUD_TOKEN", "Hetzner Cloud token", "api.hetzner.cloud", BEARER,
     lambda r: rs(r, ALNUM, 64)),
    ("linode_token", "LINODE_TOKEN", "Linode token", "api.linode.com", BEARER,
     lambda r: rs(r, HEX, 64)),
    ("heroku_api_key", "HEROKU_API_KEY", "Heroku API key", "api.heroku.com", BEARER, _uuid),
    ("cloudflare_api_token", "CLOUDFLARE_API_TOKEN", "Cloudflare API token",
     "api.cloudflare.com", BEARER, lambda r: rs(r, URLSAFE, 40)),
    ("fastly_token", "FASTLY_API_TOKEN", "Fastly token", "api.fastly.com", "Fastly-Key: {v}",
     lambda r: rs(r, URLSAFE, 32)),
    ("snyk_token", "SNYK_TOKEN", "Snyk token", "api.snyk.io", "Authorization: token {v}", _uuid),
    ("mistral_key", "MISTRAL_API_KEY", "Mistral key", "api.mistral.ai", BEARER,
     lambda r: rs(r, ALNUM, 32)),
    ("supabase_service_role", "SUPABASE_SERVICE_ROLE_KEY", "Supabase service_role key",
     "qkzrtmwpvyhsbnaxdcef.supabase.co", "apikey: {v}",
     lambda r: _jwt(r, {"iss": "supabase", "ref": rs(r, string.ascii_lowercase, 20),
                        "role": "service_role", "iat": 1712000000 + r.randint(0, 10**7),
                        "exp": 2027000000 + r.randint(0, 10**7)})),
)


# ---- credential framings (engineers' posts) -------------------------------------------------

def _who(r: random.Random) -> str:
    return pick(r, ("platform team", "data eng", "our SRE rotation", "the payments squad",
                    "infra at my employer", "the analytics guild", "my team"))


def _co(r: random.Random) -> str:
    return pick(r, COMPANIES)


def f_issue(r: random.Random, t: Tok, v: str) -> str:
    return (f"### Describe the bug\nDeploy step fails with 401 since the upgrade to v{r.randint(2, 9)}."
            f"{r.randint(0, 30)}.{r.randint(0, 9)}\n\n### To reproduce\n```sh\nexport {t[1]}={v}\n"
            f"./scripts/release.sh --env {pick(r, ('prod', 'staging', 'eu-central'))}\n```\n\n"
            f"### Expected behaviour\nIt should authenticate like before.")


def f_trace(r: random.Random, t: Tok, v: str) -> str:
    line = r.randint(40, 900)
    return (f"anyone seen this? started after we bumped requests\n\nTraceback (most recent call last):\n"
            f'  File "/srv/app/clients/{t[0].split("_")[0]}.py", line {line}, in call\n'
            f"    resp.raise_for_status()\nrequests.exceptions.HTTPError: 403 Client Error: Forbidden "
            f"for url: https://{t[3]}/v1/sync\n  request headers: {{'{t[4].split(':')[0]}': "
            f"'{t[4].split(': ', 1)[1].format(v=v)}', 'User-Agent': 'python-requests/2.32.3'}}")


def f_terminal(r: random.Random, t: Tok, v: str) -> str:
    return (f"$ curl -sS -H \"{t[4].format(v=v)}\" https://{t[3]}/v2/status | jq .\n"
            f"{{\n  \"ok\": false,\n  \"error\": \"rate_limited\"\n}}\n"
            f"why does this rate-limit me at {r.randint(3, 60)} req/min?? #devops")


def f_ci(r: random.Random, t: Tok, v: str) -> str:
    ts = f"2026-0{r.randint(1, 9)}-{r.randint(10, 28)}T{r.randint(10, 23)}:{r.randint(10, 59)}:{r.randint(10, 59)}Z"
    return (f"our CI printed the whole env on failure, lovely 🙃\n\n{ts} ##[group]Run env | sort\n"
            f"{ts} HOME=/home/runner\n{ts} {t[1]}={v}\n{ts} PATH=/usr/local/bin:/usr/bin\n"
            f"{ts} ##[error]Process completed with exit code {r.randint(1, 2)}.")


def f_jupyter(r: random.Random, t: Tok, v: str) -> str:
    n = r.randint(2, 40)
    return (f"In [{n}]: import os\n\nIn [{n + 1}]: os.environ[\"{t[1]}\"] = \"{v}\"\n\n"
            f"In [{n + 2}]: df = load_events(since=\"2026-01-01\")\n"
            f"Out[{n + 2}]: <{r.randint(10, 999)}041 rows x 18 columns>\n\n"
            f"notebook from the {pick(r, ('churn', 'pricing', 'fraud', 'forecast'))} analysis, shared as asked")


def f_terraform(r: random.Random, t: Tok, v: str) -> str:
    return (f"Terraform keeps planning a diff on this block, any idea why?\n\n```hcl\n"
            f"resource \"kubernetes_secret\" \"{t[0].split('_')[0]}\" {{\n  metadata {{\n"
            f"    name = \"{t[0].replace('_', '-')}\"\n  }}\n  data = {{\n"
            f"    {t[1].lower()} = \"{v}\"\n  }}\n}}\n```")


def f_helm(r: random.Random, t: Tok, v: str) -> str:
    return (f"values-{pick(r, ('prod', 'eu', 'apac', 'us-east'))}.yaml for reference:\n\n"
            f"image:\n  tag: {r.randint(1, 4)}.{r.randint(0, 20)}.{r.randint(0, 9)}\nreplicaCount: "
            f"{r.randint(2, 6)}\nsecrets:\n  {t[1].lower().replace('_', '')}: \"{v}\"\n"
            f"resources:\n  limits:\n    memory: {r.randint(1, 8)}Gi")


def f_ansible(r: random.Random, t: Tok, v: str) -> str:
    return (f"group_vars/all.yml in our runbook repo (yes, in plain text, I know):\n\n---\n"
            f"deploy_user: svc-deploy\n{t[1].lower()}: \"{v}\"\nntp_servers:\n  - 0.pool.ntp.org")


def f_compose(r: random.Random, t: Tok, v: str) -> str:
    svc = pick(r, ("worker", "api", "scheduler", "ingest"))
    return (f"docker-compose.yml that reproduces it:\n\nservices:\n  {svc}:\n"
            f"    image: ghcr.io/{pick(r, DOMAINS).split('.')[0]}/{svc}:{r.randint(1, 30)}\n"
            f"    environment:\n      - {t[1]}={v}\n      - LOG_LEVEL=debug")


def f_postman(r: random.Random, t: Tok, v: str) -> str:
    hdr = t[4].split(":")[0]
    return ("exported the Postman collection so you can try it:\n"
            + json.dumps({"info": {"name": f"{_co(r)} sync", "schema":
                                   "https://schema.getpostman.com/json/collection/v2.1.0/"},
                          "item": [{"request": {"method": "GET", "url": f"https://{t[3]}/v1/items",
                                                "header": [{"key": hdr, "value":
                                                            t[4].split(": ", 1)[1].format(v=v)}]}}]},
                         indent=1))


def f_blog(r: random.Random, t: Tok, v: str) -> str:
    return (f"Over the last {pick(r, ('two sprints', 'quarter', 'six weeks', 'month'))} {_who(r)} "
            f"moved the {pick(r, ('billing', 'search', 'notification', 'ETL'))} jobs off cron and onto "
            f"a proper queue. The migration itself was boring in the best way; the interesting part "
            f"was the auth layer. We kept the old {t[2]} ({v}) for a week as a fallback while the new "
            f"one propagated, which in hindsight was the riskiest thing we did. Next post: how we "
            f"load-tested the consumers with synthetic traffic.")


def f_toot(r: random.Random, t: Tok, v: str) -> str:
    return pick(r, (
        f"PSA to my coworkers who follow me here: the {t[2]} in the wiki is {v}, stop DMing me for it",
        f"note to self because I keep losing it: {t[1]} {v}",
        f"finally got the {t[2]} working → {v} (don't judge the naming)",
        f"rotating this tomorrow but for the hackathon crew: {v}",
    ))


def f_es(r: random.Random, t: Tok, v: str) -> str:
    return pick(r, (
        f"¿Alguien sabe por qué me devuelve 401? Tengo {t[1]}={v} en el .env y nada",
        f"Dejo aquí la clave de {t[2]} para el equipo de {_co(r)}: {v}",
    ))


def f_pt(r: random.Random, t: Tok, v: str) -> str:
    return pick(r, (f"gente, o deploy quebrou de novo. a chave que estou usando é {v}, alguém testa aí?",
                    f"Configurei o {t[1]}={v} no pipeline e o job continua falhando, socorro"))


def f_de(r: random.Random, t: Tok, v: str) -> str:
    return pick(r, (f"Kurze Frage ans Fediverse: warum lehnt die API meinen Token {v} ab? Gestern ging's noch.",
                    f"Für die Kollegen, die ihn suchen – der {t[2]} steht jetzt hier: {v}"))


def f_fr(r: random.Random, t: Tok, v: str) -> str:
    return pick(r, (f"Quelqu'un a déjà eu ce souci ? J'ai mis {t[1]}={v} et le job CI plante quand même",
                    f"Pour l'équipe : la clé {t[2]} de la préprod c'est {v}, ne la mettez pas dans Slack"))


def f_pl(r: random.Random, t: Tok, v: str) -> str:
    return pick(r, (f"Ktoś wie czemu dostaję 403? Mój klucz to {v}, ustawiony w zmiennych CI",
                    f"Dla zespołu: nowy {t[2]} → {v}"))


def f_it(r: random.Random, t: Tok, v: str) -> str:
    return pick(r, (f"Qualcuno ha idea del perché fallisce? Ho impostato {t[1]}={v} ma niente",
                    f"Per chi chiedeva, la chiave {t[2]} di staging è {v}"))


def f_nl(r: random.Random, t: Tok, v: str) -> str:
    return pick(r, (f"Iemand een idee waarom dit faalt? {t[1]}={v} staat gewoon in de pipeline",
                    f"Voor de collega's: de {t[2]} is {v}, niet verder delen aub"))


def f_ja(r: random.Random, t: Tok, v: str) -> str:
    return pick(r, (f"本番の{t[2]}、ここにメモしておく: {v}",
                    f"401が返ってくるんだけど誰か分かる？ {t[1]}={v} は設定済み"))


def f_hinglish(r: random.Random, t: Tok, v: str) -> str:
    return pick(r, (f"bhai yeh {t[2]} kaam nahi kar raha, {v} daala hai env mein, kya galat hai?",
                    f"team ke liye: naya {t[1]} hai {v}, kal se purana wala band ho jayega"))


FRAMINGS: tuple[Callable[[random.Random, Tok, str], str], ...] = (
    f_issue, f_trace, f_terminal, f_ci, f_jupyter, f_terraform, f_helm, f_ansible, f_compose,
    f_postman, f_blog, f_toot, f_es, f_pt, f_de, f_fr, f_pl, f_it, f_nl, f_ja, f_hinglish)


def provider_positives(r: random.Random) -> list[dict[str, str]]:
    """Each provider's token in six different framings."""
    out = []
    for t in TOKENS:
        for frame in r.sample(FRAMINGS, 6):
            out.append({"kind": t[0], "text": frame(r, t, t[5](r))})
    return out


# ---- other credential positives -------------------------------------------------------------

WORDS = ("Kestrel", "Marmota", "Sonnenblume", "Girassol", "Pieczarka", "Tulipano", "Grachten",
         "Sakura", "Bhindi", "Fjordline", "Quokka", "Lavanda", "Zeppelin", "Baobab", "Otter")


def password(r: random.Random) -> str:
    """A plausible human-chosen password with some strength."""
    return pick(r, (
        lambda: f"{pick(r, WORDS)}{r.randint(10, 9999)}{pick(r, '!@#$%&*?')}",
        lambda: f"{pick(r, WORDS).lower()}-{pick(r, WORDS).lower()}-{r.randint(10, 99)}",
        lambda: rs(r, ALNUM + "!#%&*", r.randint(12, 20)),
        lambda: f"{pick(r, '!#%')}{pick(r, WORDS)}_{r.randint(1990, 2026)}{pick(r, WORDS)[:3].upper()}",
    ))()


def pw_prose(r: random.Random) -> dict[str, str]:
    p = password(r)
    who, last = person(r)
    svc = pick(r, ("the staging Grafana", "the shared Jenkins admin", "the bastion host",
                   "the SFTP drop for the auditors", "the old Confluence", "the Kibana on-prem box"))
    lang, text = pick(r, (
        ("en", f"quick one before I forget: password for {svc} is {p} (login admin)"),
        ("en", f"{who} asked for access, so for the record {svc} → user svc_report / {p}"),
        ("en", f"long story short, IT reset it and the new password is now {p}, please don't lock it again"),
        ("es", f"Para quien lo necesite: la contraseña de {svc} es {p} y el usuario es admin"),
        ("es", f"Me cambiaron la clave del VPN, ahora es {p}. Qué manía con rotarla cada mes"),
        ("pt", f"A senha do {svc} agora é {p}, o {who} trocou ontem"),
        ("pt", f"galera, usuário deploy e senha {p} pro servidor de homologação"),
        ("de", f"Das Passwort für {svc} lautet jetzt {p} – bitte nicht wieder ins Ticket schreiben"),
        ("de", f"Zugang zum Testserver: Benutzer root, Kennwort {p}"),
        ("fr", f"Le mot de passe de {svc} c'est {p}, {who} l'a changé ce matin"),
        ("fr", f"Identifiants pour la démo client : admin / {p}"),
        ("pl", f"Hasło do {svc} to {p}, nie zmieniajcie go przed demo"),
        ("pl", f"login: wdrozenia, hasło: {p} – serwer testowy w Gdańsku"),
        ("it", f"La password di {svc} è {p}, l'ha impostata {who} ieri"),
        ("it", f"utente ops e password {p} per la VM di collaudo"),
        ("nl", f"Het wachtwoord van {svc} is nu {p}, even doorgeven aan het team"),
        ("nl", f"inlog voor de testomgeving: gebruiker beheer, wachtwoord {p}"),
        ("ja", f"検証環境のパスワードは {p} です。ユーザー名は admin"),
        ("ja", f"{svc}のログイン情報: ID ops / パスワード {p}"),
        ("hi", f"yaar {svc} ka password {p} hai, {who} ne change kiya tha"),
        ("hi", f"staging server ka login: user deploy, password {p}, kisi ko mat batana"),
    ))
    return {"kind": f"password_prose_{lang}", "text": text}


def wifi(r: random.Random) -> dict[str, str]:
    p = password(r)
    ssid = f"{pick(r, ('Tess', 'BRK', 'Vella', 'ORB', 'KZR'))}-{pick(r, ('Guest', 'Lab', 'Floor3', 'Offsite'))}"
    text = pick(r, (
        f"offsite wifi for anyone joining late: SSID {ssid}, password {p}",
        f"WLAN im Büro: {ssid} / Schlüssel {p}",
        f"wifi do evento: rede {ssid}, senha {p}",
        f"la wifi del hackathon es {ssid} y la clave {p}",
        f"WIFI:T:WPA;S:{ssid};P:{p};;  ← QR payload from the meeting room, decoded",
    ))
    return {"kind": "wifi_password", "text": text}


def conn_string(r: random.Random) -> dict[str, str]:
    p = password(r).replace("@", "").replace("#", "").replace("%", "").replace("?", "")
    host = pick(r, ("db-prod-eu.internal", "pg-analytics.tessaline.io", "10.40.2.17",
                    "orders.cluster-c8xq1.eu-west-1.rds.amazonaws.com"))
    kind, s = pick(r, (
        ("conn_postgres", f"postgresql://etl_writer:{p}@{host}:5432/warehouse?sslmode=require"),
        ("conn_mysql", f"mysql://app:{p}@{host}:3306/checkout"),
        ("conn_mongodb_srv", f"mongodb+srv://analytics:{p}@cluster0.{rs(r, 'abcdefghijklmnopqrstuvwxyz0123456789', 5)}.mongodb.net/events?retryWrites=true"),
        ("conn_redis", f"rediss://default:{p}@{host}:6380/0"),
        ("conn_amqp", f"amqps://ingest:{p}@{host}:5671/%2Fprod"),
        ("conn_mssql", f"Server=tcp:{host},1433;Database=ledger;User ID=svc_ledger;Password={p};Encrypt=True;"),
        ("conn_azure_storage", "DefaultEndpointsProtocol=https;AccountName="
         f"{rs(r, string.ascii_lowercase, 10)};AccountKey={rs(r, B64, 86)}==;EndpointSuffix=core.windows.net"),
        ("conn_jdbc", f"jdbc:postgresql://{host}:5432/risk?user=risk_ro&password={p}"),
        ("conn_snowflake", f"snowflake://svc_dbt:{p}@{rs(r, string.ascii_lowercase, 7)}-eu1/ANALYTICS/PUBLIC?warehouse=TRANSFORM_WH"),
    ))
    text = pick(r, (
        f"Stack trace from the worker, connection string included because nobody scrubbed it:\n\n"
        f"sqlalchemy.exc.OperationalError: could not connect to server\n  url: {s}",
        f"{pick(r, ('DATABASE_URL', 'DB_DSN', 'CONN_STR'))}={s}",
        f"Alguien me ayuda? la cadena de conexión {s} no conecta desde el pod",
        f"Mein Connection-String sieht so aus: {s} – trotzdem Timeout nach 30s",
        f"spring.datasource.url in application-prod.properties:\n{s}",
        f"ye connection string kaam nahi kar rahi: {s}",
    ))
    return {"kind": kind, "text": text}


def private_key(r: random.Random) -> dict[str, str]:
    kind, head = pick(r, (("private_key_rsa", "RSA PRIVATE KEY"), ("private_key_openssh", "OPENSSH PRIVATE KEY"),
                          ("private_key_ec", "EC PRIVATE KEY"), ("private_key_pkcs8", "PRIVATE KEY")))
    start = {"RSA PRIVATE KEY": "MIIEpAIBAAKCAQEA", "OPENSSH PRIVATE KEY": "b3BlbnNzaC1rZXktdjEAAAAA",
             "EC PRIVATE KEY": "MHcCAQEEI", "PRIVATE KEY": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"}[head]
    lines = [start + rs(r, B64, 64 - len(start))] + [rs(r, B64, 64) for _ in range(r.randint(4, 9))]
    block = f"-----BEGIN {head}-----\n" + "\n".join(lines) + f"\n{rs(r, B64, 20)}==\n-----END {head}-----"
    text = pick(r, (
        f"the deploy key the contractor left in the repo README:\n\n{block}",
        f"Ansible keeps saying 'invalid format' for this key, what am I missing?\n```\n{block}\n```",
        f"Ce fichier id_deploy est-il correct ?\n{block}",
        'json fragment from the service-account file:\n"private_key": "' + block.replace(chr(10), r'\n') + '"',
    ))
    return {"kind": kind, "text": text}


def jwt_token(r: random.Random) -> dict[str, str]:
    who, last = person(r)
    tok = _jwt(r, {"sub": f"{who.lower()}.{last.lower().replace(' ', '')}", "scope": "admin write",
                   "iss": f"https://auth.{pick(r, DOMAINS)}", "exp": 1790000000 + r.randint(0, 10**7)})
    text = pick(r, (
        f"curl -H 'Authorization: Bearer {tok}' https://api.{pick(r, DOMAINS)}/internal/users",
        f"session cookie from prod, decoding it to debug the scope issue: {tok}",
        f"El token de acceso que me devuelve el login es {tok}, ¿por qué caduca tan rápido?",
        f"access_token={tok}&token_type=Bearer&expires_in=3600",
    ))
    return {"kind": "jwt_bearer", "text": text}


def webhooks(r: random.Random) -> dict[str, str]:
    kind, url = pick(r, (
        ("slack_webhook", f"https://hooks.slack.com/services/T{rs(r, UPPER_NUM, 8)}/B{rs(r, UPPER_NUM, 10)}/{rs(r, ALNUM, 24)}"),
        ("discord_webhook", f"https://discord.com/api/webhooks/{digits(r, 19)}/{rs(r, URLSAFE, 68)}"),
        ("teams_webhook", f"https://{pick(r, ('tessaline', 'brakmoor'))}.webhook.office.com/webhookb2/{_uuid(r)}@{_uuid(r)}/IncomingWebhook/{rs(r, HEX, 32)}/{_uuid(r)}"),
        ("google_chat_webhook", f"https://chat.googleapis.com/v1/spaces/AAAA{rs(r, URLSAFE, 7)}/messages?key=AIza{rs(r, URLSAFE, 35)}&token={rs(r, URLSAFE, 43)}%3D"),
        ("zapier_hook", f"https://hooks.zapier.com/hooks/catch/{digits(r, 8)}/{rs(r, string.ascii_lowercase + string.digits, 6)}/"),
    ))
    text = pick(r, (
        f"alerts go to {url} — if it spams you, blame Grafana",
        f"Mi script de alertas postea a este webhook: {url}",
        f"notify:\n  on_failure:\n    url: {url}",
        f"curl -X POST -H 'Content-type: application/json' --data '{{\"text\":\"deploy done\"}}' {url}",
    ))
    return {"kind": kind, "text": text}


def dotfiles(r: random.Random) -> dict[str, str]:
    user = pick(r, ("mkowalczyk", "hiwasaki", "dsandoval", "svc-ci", "build-bot"))
    p = password(r)
    kind, text = pick(r, (
        ("npmrc_auth", f"my ~/.npmrc, publishing still 403s:\n\n@tessaline:registry=https://npm.pkg.github.com\n"
                       f"//registry.npmjs.org/:_authToken=npm_{rs(r, ALNUM, 36)}\nalways-auth=true"),
        ("pypirc_password", f"~/.pypirc\n[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = __token__\n"
                            f"password = pypi-AgEIcHlwaS5vcmc{rs(r, URLSAFE, 90)}"),
        ("netrc_password", f"cat ~/.netrc\nmachine artifacts.{pick(r, DOMAINS)} login {user} password {p}"),
        ("git_credentials", f"found this in a colleague's home dir on the jump box (~/.git-credentials):\n"
                            f"https://{user}:{gh_token(r, 'ghp')}@github.com"),
        ("docker_config_auth", "~/.docker/config.json\n" + json.dumps(
            {"auths": {"registry.kazuraya-cloud.jp": {"auth": b64(f"{user}:{p}")}}}, indent=2)),
        ("pgpass_line", f"~/.pgpass has this, psql still asks for a password??\n"
                        f"db-prod-eu.internal:5432:warehouse:{user}:{p}"),
        ("basic_auth_url", f"pip install --index-url https://{user}:{p}@pypi.{pick(r, DOMAINS)}/simple/ internal-sdk"),
        ("k8s_secret_b64", f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db-creds\ntype: Opaque\ndata:\n"
                           f"  username: {b64(user)}\n  password: {b64(p)}"),
        ("htpasswd_cmd", f"$ htpasswd -b -c /etc/nginx/.htpasswd {user} '{p}'\nAdding password for user {user}"),
        ("mysql_cli_password", f"$ mysql -h 10.2.{r.randint(0, 255)}.{r.randint(2, 250)} -u {user} -p'{p}' reporting\n"
                               "ERROR 2003 (HY000): Can't connect to MySQL server"),
    ))
    return {"kind": kind, "text": text}


def aws_pair(r: random.Random) -> dict[str, str]:
    kid = "AKIA" + rs(r, B32, 16)
    sec = rs(r, B64, 40)
    text = pick(r, (
        f"[default]\naws_access_key_id = {kid}\naws_secret_access_key = {sec}\nregion = eu-central-1",
        f"Terraform provider block from the PR:\nprovider \"aws\" {{\n  access_key = \"{kid}\"\n  secret_key = \"{sec}\"\n}}",
        f"$ aws configure\nAWS Access Key ID [None]: {kid}\nAWS Secret Access Key [None]: {sec}",
        f"Alguém sabe por que o boto3 não aceita? AWS_ACCESS_KEY_ID={kid} AWS_SECRET_ACCESS_KEY={sec}",
    ))
    return {"kind": "aws_key_pair", "text": text}


def generic_secret(r: random.Random) -> dict[str, str]:
    name = pick(r, ("JWT_SIGNING_SECRET", "SESSION_SECRET", "ENCRYPTION_KEY", "HMAC_KEY",
                    "client_secret", "APP_SECRET_KEY", "webhookSigningKey", "api_secret"))
    val = pick(r, (lambda: rs(r, ALNUM, 48), lambda: rs(r, HEX, 64), lambda: rs(r, B64, 43) + "="))()
    text = pick(r, (f"{name}={val}", f'"{name}": "{val}",', f"{name}: {val}  # prod",
                    f"settings.py had {name} = '{val}' committed since 2021 🤦",
                    f"export {name}=\"{val}\" && python manage.py runserver"))
    return {"kind": "generic_high_entropy_secret", "text": text}


def encoded_or_split(r: random.Random) -> dict[str, str]:
    t = pick(r, TOKENS[:40])
    v = t[5](r)
    kind, text = pick(r, (
        ("base64_env_line", f"our secret is stored base64 in the chart, decode it yourself: {b64(f'{t[1]}={v}')}"),
        ("base64_env_line", f"echo {b64(f'{t[1]}={v}')} | base64 -d >> .env"),
        ("split_across_lines", f"pasting in two halves so the bot doesn't eat it:\n{v[:len(v) // 2]}\n{v[len(v) // 2:]}"),
        ("spaced_out_token", f"reading it out for the call: {' '.join(v)}"),
        ("chunked_token", f"{t[2]} in chunks (join them): " + " | ".join(v[i:i + 8] for i in range(0, len(v), 8))),
    ))
    return {"kind": kind, "text": text}


OTHER_CRED: tuple[tuple[Callable[[random.Random], dict[str, str]], int], ...] = (
    (pw_prose, 7), (wifi, 12), (conn_string, 4), (private_key, 4), (jwt_token, 12),
    (webhooks, 5), (dotfiles, 5), (aws_pair, 10), (generic_secret, 16), (encoded_or_split, 6))


# ---- credential hard negatives ------------------------------------------------------------

def wrap(r: random.Random, text: str) -> str:
    """The same content in one of several post shapes and languages."""
    return pick(r, (
        "{t}", "{t}", "{t}\n\n#devops #sre", "r/devops: {t}", "from our internal runbook, sanitised:\n{t}",
        "Pregunta rápida para el equipo:\n{t}", "Kurze Notiz für später:\n{t}", "Petite astuce du jour :\n{t}",
        "Dica rápida pra quem usa isso:\n{t}", "Szybka uwaga:\n{t}", "Nota veloce:\n{t}",
        "Even een tip:\n{t}", "メモ:\n{t}", "bhai ek cheez dekho:\n{t}", "🧵 1/ {t}",
        "{t}\n\n(blog post draft, feedback welcome)",
    )).format(t=text)


def _ph(r: random.Random) -> str:
    return pick(r, ("<YOUR_API_KEY>", "<paste-token-here>", "<insert secret>", "<your password here>",
                    "<TOKEN>", "<redacted>", "<api-key-goes-here>", "[YOUR KEY]", "{{API_KEY}}"))


def n_placeholder(r: random.Random) -> tuple[str, str]:
    t = pick(r, TOKENS)
    ph = _ph(r)
    return "placeholder_angle", pick(r, (
        f"curl -H \"{t[4].format(v=ph)}\" https://{t[3]}/v1/ping",
        f"{t[1]}={ph}",
        f"In the README we now say: set {t[1]} to {ph} and run make bootstrap",
        f"Ejemplo del tutorial: client = Client(api_key=\"{ph}\")",
    ))


def n_placeholder_word(r: random.Random) -> tuple[str, str]:
    t = pick(r, TOKENS)
    ph = pick(r, ("YOUR_TOKEN_HERE", "changeme", "REPLACE_ME", "xxxxxxxxxxxxxxxx", "TODO", "dummy",
                  "not-a-real-key", "your-secret-here", "CHANGE_ME_BEFORE_DEPLOY", "placeholder"))
    return "placeholder_word", pick(r, (
        f"{t[1]}={ph}  # fill in locally", f"{t[1].lower()}: \"{ph}\"",
        f"the template ships {t[1]}={ph} and half the team deploys it like that",
        f"Nie commitujcie prawdziwego klucza, w repo ma być {t[1]}={ph}"))


def n_env_ref(r: random.Random) -> tuple[str, str]:
    t = pick(r, TOKENS)
    ref = pick(r, (f"${{{t[1]}}}", f"${t[1]}", f"%{t[1]}%", f"${{{t[1]}:?must be set}}", f"$(cat /run/secrets/{t[1].lower()})"))
    return "env_reference", pick(r, (
        f"environment:\n  - {t[1]}={ref}", f"curl -H \"{t[4].format(v=ref)}\" https://{t[3]}/v1/me",
        f"token = os.getenv(\"{t[1]}\")  # never hardcode, reads {ref} at runtime",
        f"Dans le Makefile on passe {ref} au conteneur, rien en dur"))


def n_gha_ref(r: random.Random) -> tuple[str, str]:
    t = pick(r, TOKENS)
    return "gha_secrets_reference", pick(r, (
        f"- name: Publish\n  env:\n    {t[1]}: ${{{{ secrets.{t[1]} }}}}\n  run: make publish",
        f"with:\n  token: ${{{{ secrets.{t[1]} }}}}\n  fail_on_error: true",
        f"ojo: en GitHub Actions usa ${{{{ secrets.{t[1]} }}}}, nunca el valor literal"))


def n_helm_ref(r: random.Random) -> tuple[str, str]:
    key = pick(r, ("db.password", "stripe.secretKey", "redis.auth", "smtp.password", "sentry.token"))
    return "template_reference", pick(r, (
        f"env:\n  - name: SECRET\n    value: {{{{ .Values.{key} | quote }}}}",
        f"password: {{{{ required \"set {key}\" .Values.{key} }}}}",
        f"Jinja in the Ansible role: api_token: \"{{{{ vault_{key.replace('.', '_')} }}}}\""))


def n_vault_ref(r: random.Random) -> tuple[str, str]:
    app = pick(r, ("payments", "search", "ledger", "etl", "notify"))
    return "secret_manager_reference", pick(r, (
        f"DB_PASSWORD=vault:secret/data/{app}/prod#password",
        f"arn:aws:secretsmanager:eu-west-1:{digits(r, 12)}:secret:{app}/prod/api-key-{rs(r, ALNUM, 6)}",
        f"STRIPE_KEY=op://Engineering/{app.title()} Stripe/credential",
        f"@Microsoft.KeyVault(SecretUri=https://kv-{app}-prod.vault.azure.net/secrets/DbPassword/)",
        f"valueFrom:\n  secretKeyRef:\n    name: {app}-secrets\n    key: api-token",
        f"gcloud secrets versions access latest --secret={app}-db-password",
    ))


def n_tf_var(r: random.Random) -> tuple[str, str]:
    name = pick(r, ("db_password", "api_token", "admin_secret", "sp_client_secret"))
    return "terraform_variable_reference", pick(r, (
        f"variable \"{name}\" {{\n  type      = string\n  sensitive = true\n}}",
        f"resource \"aws_db_instance\" \"main\" {{\n  password = var.{name}\n}}",
        f"Pro tip: mark {name} as sensitive = true and feed it via TF_VAR_{name} in CI"))


def n_encrypted_blob(r: random.Random) -> tuple[str, str]:
    if r.random() < 0.5:
        lines = "\n".join(rs(r, "0123456789", 1) + rs(r, HEX, 79) for _ in range(r.randint(3, 6)))
        return "ansible_vault_ciphertext", f"db_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  {lines}"
    return "sops_ciphertext", (f"password: ENC[AES256_GCM,data:{rs(r, B64, 24)}=,iv:{rs(r, B64, 43)}=,"
                               f"tag:{rs(r, B64, 22)}==,type:str]\nsops:\n  kms:\n  - arn: arn:aws:kms:eu-west-1:{digits(r, 12)}:key/{_uuid(r)}")


def n_aws_example(r: random.Random) -> tuple[str, str]:
    return "aws_documentation_example", pick(r, (
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "The AWS docs use AKIAIOSFODNN7EXAMPLE in every snippet, so that's what our tests mock with.",
        "moto + AKIAIOSFODNN7EXAMPLE / wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY and you're set for local unit tests",
        "In der Doku steht AKIAIOSFODNN7EXAMPLE als Beispiel – das ist kein echter Schlüssel."))


def n_stripe_test(r: random.Random) -> tuple[str, str]:
    k = pick(r, (f"sk_test_51{rs(r, ALNUM, 60)}", f"pk_test_51{rs(r, ALNUM, 60)}", "sk_test_4eC39HqLyjWDarjtT1zdp7dc"))
    return "stripe_test_mode_key", pick(r, (
        f"test mode only, fine to share: {k}", f"STRIPE_SECRET_KEY={k}  # test mode, local dev",
        f"Para los tests de integración usamos la clave de modo test {k}",
        f"stripe listen --api-key {k} --forward-to localhost:4242/webhook   (sandbox)"))


def n_other_test(r: random.Random) -> tuple[str, str]:
    k = pick(r, (f"rzp_test_{rs(r, ALNUM, 14)}", f"shippo_test_{rs(r, HEX, 40)}", f"test_{rs(r, ALNUM, 30)}",
                 f"access_token$sandbox${rs(r, string.ascii_lowercase + string.digits, 16)}${rs(r, HEX, 32)}",
                 f"FLWSECK_TEST-{rs(r, HEX, 32)}-X"))
    return "provider_test_mode_key", pick(r, (
        f"sandbox key for the workshop, test mode only: {k}",
        f"O ambiente de testes usa {k}, sem acesso a nada real",
        f"# test credentials from the provider's sandbox\nPAYMENTS_KEY={k}"))


def n_jwt_example(r: random.Random) -> tuple[str, str]:
    tok = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIi"
           "wiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yQ5w")
    return "jwt_documentation_example", pick(r, (
        f"the jwt.io sample {tok} is in our parser tests, it's the canonical example",
        f"Explaining JWTs in my talk with the classic John Doe example: {tok}",
        f"Der Standard-Beispieltoken aus der jwt.io-Doku ({tok}) reicht für den Unit-Test"))


def n_redacted(r: random.Random) -> tuple[str, str]:
    red = pick(r, ("sk_live_****************", "ghp_************************************", "xoxb-REDACTED",
                   "[REDACTED]", "AKIA****************", "hvs.**********", "glpat-••••••••••••••••••••",
                   "npm_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "sk-proj-…(redacted)"))
    return "redacted_value", pick(r, (
        f"log line after our scrubber: Authorization: Bearer {red}",
        f"SECRET={red}  <- scrubbed before posting, relax",
        f"La clave ({red}) la borré del pantallazo, obvio",
        f"Here's the full error with the token redacted: 401 for token {red}"))


def n_ci_masked(r: random.Random) -> tuple[str, str]:
    t = pick(r, TOKENS)
    return "ci_masked_value", pick(r, (
        f"Run ./deploy.sh\n  {t[1]}: ***\nError: upstream returned 502",
        f"GitLab masks it fine: export {t[1]}=[MASKED]", f"echo ${t[1]} prints *** in the log, masking works"))


def n_truncated(r: random.Random) -> tuple[str, str]:
    t = pick(r, TOKENS)
    return "truncated_last_four", pick(r, (
        f"the dashboard shows the {t[2]} as ••••{rs(r, ALNUM, 4)}, which one is it?",
        f"key ending in …{rs(r, ALNUM, 4)} got revoked, the new one is in the vault",
        f"Se revocó la clave terminada en {rs(r, ALNUM, 4)}; pedid una nueva por ticket"))


def n_key_header(r: random.Random) -> tuple[str, str]:
    h = pick(r, ("RSA PRIVATE KEY", "OPENSSH PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY"))
    return "key_header_without_material", pick(r, (
        f"If your file starts with -----BEGIN {h}----- and ssh still says invalid format, check line endings",
        f"-----BEGIN {h}-----\n[snip — obviously not posting the rest]\n-----END {h}-----",
        f"git-secrets blocked my commit because a test fixture contains the string '-----BEGIN {h}-----'",
        f"Wenn die Datei mit -----BEGIN {h}----- beginnt, ist es das alte Format"))


def n_public_key(r: random.Random) -> tuple[str, str]:
    kind, k = pick(r, (
        ("ssh_public_key", f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{rs(r, B64, 43)} {pick(r, FIRST).lower()}@laptop"),
        ("ssh_public_key", f"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQ{rs(r, B64, 180)} deploy@ci"),
        ("public_key_pem", "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"
         + rs(r, B64, 20) + "\n" + "\n".join(rs(r, B64, 64) for _ in range(4)) + "\nIDAQAB\n-----END PUBLIC KEY-----"),
        ("certificate_pem", "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIE" + rs(r, B64, 44) + "\n"
         + "\n".join(rs(r, B64, 64) for _ in range(5)) + "\n-----END CERTIFICATE-----"),
        ("pgp_public_key", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBF" + rs(r, B64, 58) + "\n"
         + "\n".join(rs(r, B64, 64) for _ in range(3)) + f"\n={rs(r, B64, 4)}\n-----END PGP PUBLIC KEY BLOCK-----"),
    ))
    return kind, pick(r, (f"add my public key to the bastion please:\n{k}", f"public half, safe to share:\n{k}",
                          f"Mi clave pública para el repo de despliegue:\n{k}", k))


def n_fingerprint(r: random.Random) -> tuple[str, str]:
    return "ssh_host_fingerprint", pick(r, (
        f"ED25519 key fingerprint is SHA256:{rs(r, B64, 43)}.\nAre you sure you want to continue connecting (yes/no)?",
        f"verify the host before you accept: SHA256:{rs(r, B64, 43)} (ECDSA)",
        f"gpg --fingerprint → {' '.join(rs(r, '0123456789ABCDEF', 4) for _ in range(10))}"))


def n_commit(r: random.Random) -> tuple[str, str]:
    sha = rs(r, HEX, 40)
    return "git_commit_sha", pick(r, (
        f"fixed in {sha}, backported to the 3.x branch", f"git bisect says the first bad commit is {sha}",
        f"Revert \"cache tokens in memory\"\n\nThis reverts commit {sha}.", f"El fix está en el commit {sha[:12]}, probadlo"))


def n_checksum(r: random.Random) -> tuple[str, str]:
    h = rs(r, HEX, 64)
    f = pick(r, ("terraform_1.9.5_linux_amd64.zip", "helm-v3.15.2-linux-arm64.tar.gz", "kubectl", "model.safetensors"))
    return "file_checksum", pick(r, (f"$ sha256sum {f}\n{h}  {f}", f"checksum doesn't match the release page: got {h}",
                                     f"SHA-256 ({f}) = {h}", f"md5 of the export, for the auditors: {rs(r, HEX, 32)}"))


def n_digest(r: random.Random) -> tuple[str, str]:
    img = pick(r, ("nginx", "postgres", "ghcr.io/tessaline/api", "redis", "python"))
    return "image_digest", pick(r, (f"pin the image: {img}@sha256:{rs(r, HEX, 64)}",
                                    f"image: {img}@sha256:{rs(r, HEX, 64)}  # pinned after the incident",
                                    f"Digest: sha256:{rs(r, HEX, 64)}\nStatus: Downloaded newer image for {img}:latest"))


def n_request_id(r: random.Random) -> tuple[str, str]:
    return "request_or_trace_id", pick(r, (
        f"support asked for the request id: {_uuid(r)}", f"x-request-id: {_uuid(r)}\nx-ratelimit-remaining: 0",
        f"traceparent: 00-{rs(r, HEX, 32)}-{rs(r, HEX, 16)}-01", f"correlation id {_uuid(r)} if anyone on call wants to look",
        f"Jaeger trace {rs(r, HEX, 32)} shows 4s in the DNS lookup, lol"))


def n_integrity(r: random.Random) -> tuple[str, str]:
    return "package_integrity_hash", pick(r, (
        f"\"integrity\": \"sha512-{rs(r, B64, 86)}==\"",
        f"<script src=\"https://cdn.example.net/lib.min.js\" integrity=\"sha384-{rs(r, B64, 64)}\" crossorigin=\"anonymous\"></script>",
        f"poetry.lock hash changed: sha256:{rs(r, HEX, 64)}"))


def n_prefix_advice(r: random.Random) -> tuple[str, str]:
    ps = r.sample(("ghp_", "github_pat_", "xoxb-", "sk_live_", "AKIA", "glpat-", "npm_", "hf_", "sk-ant-", "dop_v1_", "SG."), 3)
    return "security_advice_prefixes", pick(r, (
        f"secret scanning 101: anything starting with {ps[0]}, {ps[1]} or {ps[2]} in a diff should block the merge",
        f"Si ves algo que empieza por {ps[0]} o {ps[1]} en un log, rótalo ya.",
        f"Unsere Pre-Commit-Hooks suchen nach {ps[0]}, {ps[1]} und {ps[2]} – das fängt 90 % der Leaks",
        f"regex we use: ({re_escape(ps[0])}[A-Za-z0-9_]{{20,}}|{re_escape(ps[1])}[A-Za-z0-9_-]{{20,}})"))


def re_escape(s: str) -> str:
    """Escape the few regex metacharacters a prefix may hold."""
    return s.replace(".", r"\.").replace("-", r"\-")


def n_policy_talk(r: random.Random) -> tuple[str, str]:
    n = r.randint(12, 16)
    return "password_policy_talk", pick(r, (
        f"new policy: passwords need {n} characters, no reuse of the last {r.randint(4, 24)}, rotation every {r.randint(60, 365)} days",
        f"NIST says stop forcing rotation; length ({n}+) beats complexity rules",
        f"A política nova exige senha com {n} caracteres e MFA. Finalmente.",
        f"Hasło musi mieć min. {n} znaków – kto to wymyślił w 2026?",
        f"パスワードは{n}文字以上、使い回し禁止。社内規定が更新されました"))


def n_meme(r: random.Random) -> tuple[str, str]:
    return "password_meme", pick(r, (
        "all I see is *******  (hunter2 never gets old)", "correct horse battery staple is still the best password advice comic",
        f"my password is the last {r.randint(4, 12)} digits of pi, said no security team ever",
        "password123 in the breach dump again, top of the list for the 9th year",
        f"'Password1!' meets every complexity rule and is terrible, discuss ({r.randint(2, 90)} comments)",
        "the classic: 'your password must not be the same as your username' … ok 'username2'"))


def n_localhost(r: random.Random) -> tuple[str, str]:
    port = pick(r, ("5432", "3306", "6379", "27017"))
    return "localhost_sample_credentials", pick(r, (
        f"for local dev only: DATABASE_URL=postgres://postgres:postgres@localhost:{port}/app_dev",
        "docker-compose.dev.yml:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: example  # local only",
        f"the quickstart uses mongodb://root:example@127.0.0.1:{port} and that's fine on your laptop",
        f"Local: redis://localhost:{port} sin contraseña, como en la guía"))


def n_docs_default(r: random.Random) -> tuple[str, str]:
    return "documented_default_login", pick(r, (
        "Grafana's documented default is admin/admin and it forces a change on first login",
        "the Jenkins wizard prints the initial admin password to the log; read it from there, don't post it",
        "Reminder: change the default credentials on the new switches before they go on the network",
        "La contraseña por defecto de fábrica viene en la pegatina; cámbiala en el primer arranque"))


def n_env_example(r: random.Random) -> tuple[str, str]:
    ts = r.sample(TOKENS, 3)
    return "env_example_empty", pick(r, (
        "\n".join(f"{t[1]}=" for t in ts) + "\n# copy to .env and fill in",
        f".env.example:\n{ts[0][1]}=\n{ts[1][1]}=\n{ts[2][1]}=\nLOG_LEVEL=info",
        f"you need {ts[0][1]}, {ts[1][1]} and {ts[2][1]} set before `make dev` works"))


def n_error_no_key(r: random.Random) -> tuple[str, str]:
    t = pick(r, TOKENS)
    return "auth_error_without_value", pick(r, (
        f"Error: invalid {t[2]} provided (status 401). Checked the env, it is set. Ideas?",
        f"{t[0].split('_')[0]}.errors.AuthenticationError: No API key provided. You can set it via {t[1]}.",
        "HTTP/2 403\ncontent-type: application/json\n\n{\"message\": \"Bad credentials\"}",
        f"Ich bekomme 'token expired' obwohl der {t[2]} gestern erst rotiert wurde"))


def n_rotation(r: random.Random) -> tuple[str, str]:
    t = pick(r, TOKENS)
    return "rotation_notice", pick(r, (
        f"heads up: we rotated every {t[2]} at {r.randint(10, 23)}:00 UTC, pull the new value from the vault",
        f"Incident retro: the leaked {t[2]} was revoked within {r.randint(3, 40)} minutes. No values in this doc.",
        f"Rotamos todas as chaves do {t[2]} hoje; peçam a nova pelo portal interno"))


def n_public_ids(r: random.Random) -> tuple[str, str]:
    return "public_identifier", pick(r, (
        f"GA4 measurement id G-{rs(r, UPPER_NUM, 10)} is public anyway, it's in the page source",
        f"tip jar: 0x{rs(r, HEX, 40)} (public address, obviously)",
        f"AWS account {digits(r, 12)} is the sandbox one, don't deploy there",
        f"our Stripe account id acct_{rs(r, ALNUM, 16)} shows in the dashboard URL",
        f"client_id={rs(r, HEX, 20)} (OAuth client ids are public, the secret isn't)"))


def n_all_x(r: random.Random) -> tuple[str, str]:
    return "filler_token", pick(r, (
        "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "AKIAXXXXXXXXXXXXXXXX is what the template shows",
        "export SLACK_BOT_TOKEN=xoxb-0000000000-0000000000-000000000000000000000000",
        f"sk-{'x' * r.randint(20, 48)} in the docs screenshot", "NPM_TOKEN=npm_00000000000000000000000000000000000"))


HARD_NEG: tuple[Callable[[random.Random], tuple[str, str]], ...] = (
    n_placeholder, n_placeholder_word, n_env_ref, n_gha_ref, n_helm_ref, n_vault_ref, n_tf_var,
    n_encrypted_blob, n_aws_example, n_stripe_test, n_other_test, n_jwt_example, n_redacted,
    n_ci_masked, n_truncated, n_key_header, n_public_key, n_fingerprint, n_commit, n_checksum,
    n_digest, n_request_id, n_integrity, n_prefix_advice, n_policy_talk, n_meme, n_localhost,
    n_docs_default, n_env_example, n_error_no_key, n_rotation, n_public_ids, n_all_x)
HARD_NEG_PER_KIND = 17


def n_more(r: random.Random) -> tuple[str, str]:
    return pick(r, (
        ("secret_generation_command", pick(r, (
            "kubectl create secret generic api --from-literal=token=$(openssl rand -hex 32)",
            "generate it yourself: python -c 'import secrets; print(secrets.token_urlsafe(32))'",
            f"pwgen -s {r.randint(16, 40)} 1 | vault kv put secret/app password=-"))),
        ("promo_or_discount_code", pick(r, (
            f"conference promo code DEVOPS{r.randint(10, 40)} still works for {r.randint(10, 30)}% off",
            f"usa el código KUBE{r.randint(2024, 2026)} para el descuento en el taller"))),
        ("build_version_string", pick(r, (
            f"running build {r.randint(2024, 2026)}.{r.randint(1, 12)}.{r.randint(0, 9)}-rc{r.randint(1, 5)}+g{rs(r, HEX, 7)}",
            f"helm chart version {r.randint(0, 9)}.{r.randint(0, 40)}.{r.randint(0, 20)}, appVersion v{r.randint(1, 3)}.{r.randint(0, 99)}"))),
        ("feature_flag_key", pick(r, (
            f"flag key `checkout-{pick(r, WORDS).lower()}-v{r.randint(2, 9)}` is at 25 % rollout",
            f"LaunchDarkly flag {pick(r, WORDS).lower()}_enabled toggled off for EU tenants"))),
        ("password_reset_talk", pick(r, (
            f"password reset links expire after {r.randint(10, 60)} minutes now, fyi for support",
            "o link de redefinição de senha chega no e-mail corporativo, não no pessoal"))),
    ))


HARD_NEG = (*HARD_NEG, n_more)


# ---- personal data: values ------------------------------------------------------------------

def ph(r: random.Random, cc: str) -> str:
    """A phone number in the usual written format of a country."""
    d = lambda n: rs(r, string.digits, n)  # noqa: E731
    return {
        "us": lambda: f"({pick(r, ('312', '646', '415', '206', '617', '512'))}) {r.randint(201, 989)}-{d(4)}",
        "uk": lambda: f"07{r.randint(400, 999)} {d(6)}",
        "de": lambda: f"+49 {pick(r, ('151', '160', '170', '176'))} {d(4)} {d(4)}",
        "fr": lambda: f"0{pick(r, '67')} {d(2)} {d(2)} {d(2)} {d(2)}",
        "es": lambda: f"+34 6{d(2)} {d(3)} {d(3)}",
        "it": lambda: f"+39 3{d(2)} {d(3)} {d(4)}",
        "nl": lambda: f"06-{d(8)}",
        "pl": lambda: f"+48 {pick(r, '5678')}{d(2)} {d(3)} {d(3)}",
        "br": lambda: f"(11) 9{d(4)}-{d(4)}",
        "mx": lambda: f"+52 55 {d(4)} {d(4)}",
        "in": lambda: f"+91 {pick(r, '6789')}{d(4)} {d(5)}",
        "jp": lambda: f"0{pick(r, '789')}0-{d(4)}-{d(4)}",
        "au": lambda: f"04{d(2)} {d(3)} {d(3)}",
        "pt": lambda: f"9{pick(r, '1236')}{d(1)} {d(3)} {d(3)}",
        "ca": lambda: f"+1 {pick(r, ('416', '514', '604'))}-{r.randint(201, 989)}-{d(4)}",
    }[cc]()


def addr(r: random.Random, cc: str) -> str:
    """A made-up residential address in a country's usual format."""
    n = r.randint(2, 180)
    return {
        "us": lambda: f"{n} {pick(r, ('Maple Ridge Dr', 'W Belden Ave', 'Alder Creek Ln'))}, Apt {r.randint(1, 40)}, "
                      f"{pick(r, ('Naperville, IL 60540', 'Bellevue, WA 98004', 'Cary, NC 27513'))}",
        "uk": lambda: f"Flat {r.randint(1, 20)}, {n} {pick(r, ('Ashcombe Road', 'Tollington Grove', 'Mill Lane'))}, "
                      f"{pick(r, ('Leeds LS6 2QJ', 'Bristol BS7 8NU', 'Manchester M14 5RB'))}",
        "de": lambda: f"{pick(r, ('Lindenstraße', 'Am Kiefernhang', 'Goethestr.'))} {n}, "
                      f"{pick(r, ('50823 Köln', '80799 München', '04109 Leipzig'))}",
        "fr": lambda: f"{n} {pick(r, ('rue des Tanneurs', 'avenue Jean-Jaurès', 'impasse des Lilas'))}, "
                      f"{pick(r, ('31000 Toulouse', '69007 Lyon', '44000 Nantes'))}",
        "es": lambda: f"C/ {pick(r, ('Almendros', 'Río Duero', 'Santa Engracia'))} {n}, {r.randint(1, 8)}º "
                      f"{pick(r, 'ABCD')}, {pick(r, ('28010 Madrid', '46005 Valencia', '41003 Sevilla'))}",
        "it": lambda: f"Via {pick(r, ('dei Mille', 'Garibaldi', 'San Vitale'))} {n}, "
                      f"{pick(r, ('20129 Milano', '40125 Bologna', '10121 Torino'))}",
        "nl": lambda: f"{pick(r, ('Lindengracht', 'Vechtstraat', 'Prinses Irenelaan'))} {n}-{pick(r, ('I', 'II', 'huis'))}, "
                      f"{pick(r, ('1015 KK Amsterdam', '3521 AB Utrecht', '2596 XC Den Haag'))}",
        "pl": lambda: f"ul. {pick(r, ('Ogrodowa', 'Mickiewicza', 'Złota'))} {n}/{r.randint(1, 60)}, "
                      f"{pick(r, ('00-876 Warszawa', '30-059 Kraków', '80-288 Gdańsk'))}",
        "br": lambda: f"Rua {pick(r, ('das Acácias', 'Pamplona', 'Doutor Arnaldo'))}, {n}, apto {r.randint(11, 190)} – "
                      f"{pick(r, ('Pinheiros, São Paulo - SP, 05422-010', 'Savassi, Belo Horizonte - MG, 30140-071'))}",
        "pt": lambda: f"Rua {pick(r, ('da Boavista', 'Cândido dos Reis', 'do Almada'))}, {n}, {r.randint(1, 6)}º Esq., "
                      f"{pick(r, ('4050-107 Porto', '1200-060 Lisboa'))}",
        "jp": lambda: f"〒{r.randint(100, 999)}-{r.randint(1000, 9999)} 東京都{pick(r, ('世田谷区', '杉並区', '品川区'))}"
                      f"{pick(r, ('代沢', '高円寺南', '大井'))}{r.randint(1, 5)}-{r.randint(1, 30)}-{r.randint(1, 20)}",
        "in": lambda: f"Flat {r.randint(101, 904)}, {pick(r, ('Sai Krupa Apartments', 'Green Meadows', 'Lotus Residency'))}, "
                      f"{pick(r, ('Koramangala 5th Block, Bengaluru 560095', 'Baner Road, Pune 411045', 'Andheri West, Mumbai 400058'))}",
        "ca": lambda: f"{n} {pick(r, ('Rue Saint-Denis', 'Dufferin St', 'Oak Bay Ave'))}, "
                      f"{pick(r, ('Montréal, QC H2X 3K4', 'Toronto, ON M6H 4B6', 'Victoria, BC V8R 1G2'))}",
        "au": lambda: f"{r.randint(1, 30)}/{n} {pick(r, ('Glenferrie Rd', 'Brunswick St', 'Oxford St'))}, "
                      f"{pick(r, ('Hawthorn VIC 3122', 'Fitzroy VIC 3065', 'Paddington NSW 2021'))}",
        "mx": lambda: f"Calle {pick(r, ('Durango', 'Ámsterdam', 'Tonalá'))} {n}, Int. {r.randint(1, 12)}, Col. "
                      f"{pick(r, ('Roma Norte', 'Condesa', 'Del Valle'))}, {r.randint(3100, 6700):05d} CDMX",
        "ch": lambda: f"{pick(r, ('Seefeldstrasse', 'Rue de Lausanne', 'Bahnhofweg'))} {n}, "
                      f"{pick(r, ('8008 Zürich', '1202 Genève', '3011 Bern'))}",
    }[cc]()


def steuer_id_de(r: random.Random) -> str:
    """German Steuer-IdNr: one digit of the first ten repeated, ISO 7064 MOD 11,10 check."""
    ds = r.sample(range(10), 9)
    if ds[0] == 0:
        ds[0], ds[1] = ds[1], ds[0]
    ds.insert(r.randint(1, 9), pick(r, ds[1:]))
    prod = 10
    for d in ds:
        s = (d + prod) % 10 or 10
        prod = s * 2 % 11
    ck = 11 - prod
    t = "".join(map(str, ds)) + str(0 if ck == 10 else ck)
    return f"{t[:2]} {t[2:5]} {t[5:8]} {t[8:]}"


def _bban(r: random.Random, cc: str) -> str:
    d = lambda n: rs(r, string.digits, n)  # noqa: E731
    return {"DE": lambda: d(18), "FR": lambda: d(10) + rs(r, UPPER_NUM, 11) + d(2), "ES": lambda: d(20),
            "IT": lambda: pick(r, string.ascii_uppercase) + d(10) + rs(r, UPPER_NUM, 12), "NL": lambda:
            pick(r, ("ABNA", "INGB", "RABO", "SNSB")) + d(10), "PL": lambda: d(24), "PT": lambda: d(21),
            "BE": lambda: d(12), "GB": lambda: pick(r, ("BARC", "LOYD", "NWBK", "HBUK")) + d(14),
            "CH": lambda: d(5) + rs(r, UPPER_NUM, 12)}[cc]()


def _slug(s: str) -> str:
    tr = str.maketrans("äöüßéèêëàâçñãõóíáúìòùïîśźżłńąę", "aousee" "eeaacnaooiauiouiisz" "zlnae")
    return s.lower().translate(tr).replace(" ", "").replace("-", "")


def email_of(r: random.Random, first: str, last: str) -> str:
    dom = pick(r, ("gmail.com", "outlook.com", "web.de", "wp.pl", "libero.it", "yahoo.co.jp", "hotmail.fr",
                   "gmx.at", "uol.com.br", "proton.me", "icloud.com", "rediffmail.com", *DOMAINS))
    return f"{_slug(first)}{pick(r, ('.', '_', '', '-'))}{_slug(last)}{pick(r, ('', '', str(r.randint(7, 99))))}@{dom}"


def _date(r: random.Random, fmt: str) -> str:
    y, m, d = r.randint(1948, 2006), r.randint(1, 12), r.randint(1, 28)
    return {"iso": f"{y}-{m:02d}-{d:02d}", "eu": f"{d:02d}.{m:02d}.{y}", "us": f"{m:02d}/{d:02d}/{y}",
            "slash": f"{d:02d}/{m:02d}/{y}", "ja": f"{y}年{m}月{d}日"}[fmt]


def _card(r: random.Random, brand: str) -> str:
    if brand == "amex":
        c = luhn_card(r, pick(r, ("34", "37")), 15)
        return f"{c[:4]} {c[4:10]} {c[10:]}"
    pre, n = {"visa": (pick(r, ("4", "45", "49")), 16), "mastercard": (pick(r, ("51", "53", "55", "2221", "2720")), 16),
              "discover": ("6011", 16), "jcb": ("3528", 16)}[brand]
    c = luhn_card(r, pre, n)
    return pick(r, (group4(c), "-".join(c[i:i + 4] for i in range(0, 16, 4)), c))


# kind, category, label (None: category label), maker
PiiKind = tuple[str, str, str | None, Callable[[random.Random], str]]
PII_KINDS: list[PiiKind] = [
    *[(f"phone_{cc}", "phone", None, (lambda c: lambda r: ph(r, c))(cc))
      for cc in ("us", "uk", "de", "fr", "es", "it", "nl", "pl", "br", "mx", "in", "jp", "au", "pt", "ca")],
    *[(f"address_{cc}", "address", None, (lambda c: lambda r: addr(r, c))(cc))
      for cc in ("us", "uk", "de", "fr", "es", "it", "nl", "pl", "br", "pt", "jp", "in", "ca", "au", "mx", "ch")],
    ("id_es_dni", "id", "DNI", dni_es), ("id_es_nie", "id", "NIE", nie_es), ("id_nl_bsn", "id", "BSN", bsn_nl),
    ("id_pl_pesel", "id", "PESEL", pesel_pl), ("id_br_cpf", "id", "CPF", cpf_br),
    ("id_fr_nir", "id", "numéro de sécu", nir_fr), ("id_in_aadhaar", "id", "Aadhaar", aadhaar_in),
    ("id_fi_hetu", "id", "henkilötunnus", hetu_fi), ("id_se_personnummer", "id", "personnummer", personnummer_se),
    ("id_be_rrn", "id", "rijksregisternummer", rrn_be), ("id_cl_rut", "id", "RUT", rut_cl),
    ("id_pt_nif", "id", "NIF", nif_pt), ("id_cn_resident", "id", "身份证号", cn_id),
    ("id_tr_tckn", "id", "TC Kimlik No", tckn_tr), ("id_jp_mynumber", "id", "マイナンバー", mynumber_jp),
    ("id_ca_sin", "id", "SIN", sin_ca), ("id_no_fnr", "id", "fødselsnummer", fnr_no),
    ("id_us_ssn", "id", "SSN", lambda r: f"{r.randint(100, 665)}-{r.randint(10, 99)}-{r.randint(1000, 9999)}"),
    ("id_uk_nino", "id", "NI number", lambda r: f"{pick(r, ('AB', 'JG', 'KP', 'NH', 'SY', 'WL'))} {r.randint(10, 99)} "
                                                f"{r.randint(10, 99)} {r.randint(10, 99)} {pick(r, 'ABCD')}"),
    ("passport_us", "passport", None, lambda r: digits(r, 9)),
    ("passport_uk", "passport", None, lambda r: digits(r, 9)),
    ("passport_de", "passport", "Reisepassnummer", lambda r: "C" + rs(r, "CFGHJKLMNPRTVWXYZ0123456789", 8)),
    ("passport_fr", "passport", None, lambda r: f"{r.randint(10, 99)}{rs(r, string.ascii_uppercase, 2)}{digits(r, 5)}"),
    ("passport_in", "passport", None, lambda r: f"{pick(r, 'JKLMNPRSTUVZ')}{digits(r, 7)}"),
    ("passport_es", "passport", "pasaporte", lambda r: f"{rs(r, string.ascii_uppercase, 3)}{digits(r, 6)}"),
    ("passport_br", "passport", "passaporte", lambda r: f"{rs(r, string.ascii_uppercase, 2)}{digits(r, 6)}"),
    ("passport_jp", "passport", "旅券番号", lambda r: f"T{pick(r, 'KRZ')}{digits(r, 7)}"),
    ("driver_licence_us_ca", "licence", "CA driver's license", lambda r: f"{pick(r, string.ascii_uppercase)}{digits(r, 7)}"),
    ("driver_licence_us_fl", "licence", "FL driver license", lambda r: f"{pick(r, string.ascii_uppercase)}{digits(r, 3)}-"
                                                                      f"{digits(r, 3)}-{digits(r, 2)}-{digits(r, 3)}-{r.randint(0, 9)}"),
    ("driver_licence_uk", "licence", "driving licence number", lambda r: f"{rs(r, string.ascii_uppercase, 5)}{r.randint(0, 9)}"
                                                                         f"{r.randint(1, 12) + pick(r, (0, 50)):02d}{r.randint(1, 28):02d}"
                                                                         f"{r.randint(0, 9)}{rs(r, 'ABCDEFGHJK', 2)}9{rs(r, string.ascii_uppercase, 2)}"),
    ("driver_licence_de", "licence", "Führerscheinnummer", lambda r: f"B{rs(r, UPPER_NUM, 9)}{r.randint(0, 9)}"),
    ("tax_de_steuerid", "tax", "Steuer-ID", steuer_id_de),
    ("tax_us_itin", "tax", "ITIN", lambda r: f"9{r.randint(10, 99)}-{pick(r, ('70', '78', '83', '90', '94'))}-{r.randint(1000, 9999)}"),
    ("tax_in_pan", "tax", "PAN", lambda r: f"{rs(r, string.ascii_uppercase, 3)}P{pick(r, string.ascii_uppercase)}{digits(r, 4)}{pick(r, string.ascii_uppercase)}"),
    *[(f"iban_{cc.lower()}", "bank", "IBAN", (lambda c: lambda r: group4(iban(r, c, _bban(r, c))))(cc))
      for cc in ("DE", "FR", "ES", "IT", "NL", "PL", "PT", "BE", "GB", "CH")],
    ("bank_us_routing_account", "bank", "routing / account", lambda r: f"routing {aba_routing(r)}, account {digits(r, 10)}"),
    ("bank_uk_sort_account", "bank", "sort code / account", lambda r: f"{r.randint(10, 99)}-{r.randint(10, 99)}-{r.randint(10, 99)} {digits(r, 8)}"),
    ("bank_in_ifsc_account", "bank", "account + IFSC", lambda r: f"A/c {digits(r, 12)}, IFSC {pick(r, ('HDFC', 'ICIC', 'SBIN', 'UTIB'))}0{digits(r, 6)}"),
    *[(f"card_{b}", "card", None, (lambda x: lambda r: _card(r, x))(b)) for b in ("visa", "mastercard", "amex", "discover", "jcb")],
    ("medical_uk_nhs", "medical", "NHS number", nhs_uk),
    ("medical_mrn", "medical", "MRN", lambda r: f"{pick(r, ('', 'MRN-', 'H'))}{digits(r, pick(r, (7, 8, 9)))}"),
    ("medical_us_mbi", "medical", "Medicare MBI", lambda r: f"{r.randint(1, 9)}{pick(r, 'ACDEFGHJKMNPQRTUVWXY')}"
                                                             f"{pick(r, 'ACDEFGHJKMNPQRTUVWXY0123456789')}{r.randint(0, 9)}-"
                                                             f"{pick(r, 'ACDEFGHJKMNPQRTUVWXY')}{pick(r, 'ACDEFGHJKMNPQRTUVWXY0123456789')}"
                                                             f"{r.randint(0, 9)}-{rs(r, 'ACDEFGHJKMNPQRTUVWXY', 2)}{r.randint(10, 99)}"),
    ("medical_insurance_de", "medical", "Krankenversichertennummer", lambda r: f"{pick(r, string.ascii_uppercase)}{digits(r, 9)}"),
    ("dob_with_name", "dob", None, lambda r: _date(r, pick(r, ("iso", "eu", "us", "slash", "ja")))),
    ("email_personal", "email", None, lambda r: email_of(r, *person(r))),
]

LBL = {  # en, es, pt, de, fr, pl, it, nl, ja, hi
    "phone": ("phone", "teléfono", "telefone", "Handynummer", "numéro", "numer telefonu", "cellulare", "telefoonnummer", "電話番号", "phone number"),
    "address": ("home address", "domicilio", "endereço", "Wohnadresse", "adresse", "adres zamieszkania", "indirizzo di casa", "huisadres", "住所", "ghar ka address"),
    "id": ("national ID", "documento", "documento", "Ausweisnummer", "numéro d'identité", "numer dowodu", "documento", "identiteitsnummer", "身分証番号", "ID number"),
    "passport": ("passport no.", "pasaporte", "passaporte", "Passnummer", "passeport", "paszport", "passaporto", "paspoortnummer", "旅券番号", "passport number"),
    "licence": ("driver's licence", "carnet de conducir", "CNH", "Führerschein", "permis de conduire", "prawo jazdy", "patente", "rijbewijs", "運転免許証番号", "driving licence"),
    "tax": ("tax ID", "NIF", "CPF/NIF", "Steuernummer", "numéro fiscal", "NIP", "codice fiscale", "fiscaal nummer", "税番号", "tax ID"),
    "bank": ("bank details", "cuenta bancaria", "conta bancária", "Bankverbindung", "coordonnées bancaires", "konto", "conto", "rekeningnummer", "口座番号", "bank account"),
    "card": ("card number", "número de tarjeta", "número do cartão", "Kartennummer", "numéro de carte", "numer karty", "numero della carta", "kaartnummer", "カード番号", "card number"),
    "medical": ("patient number", "historia clínica", "prontuário", "Patientennummer", "numéro de dossier", "numer pacjenta", "cartella clinica", "patiëntnummer", "患者番号", "patient ID"),
    "dob": ("date of birth", "fecha de nacimiento", "data de nascimento", "Geburtsdatum", "date de naissance", "data urodzenia", "data di nascita", "geboortedatum", "生年月日", "DOB"),
    "email": ("email", "correo", "e-mail", "E-Mail", "adresse mail", "e-mail", "email", "e-mailadres", "メールアドレス", "email id"),
}


# ---- personal data: framings ----------------------------------------------------------------

def pii_frame(r: random.Random, cat: str, label: str | None, v: str, first: str, last: str) -> str:
    """Someone else's value in one of many engineer-flavoured posts."""
    L = LBL[cat]  # noqa: N806
    en = label or L[0]
    loc = lambda i: label or L[i]  # noqa: E731
    name = f"{first} {last}"
    key = en.lower().replace(" ", "_").replace("'", "").replace(".", "").replace("/", "")
    return pick(r, (
        lambda: f"Ticket #{r.randint(10000, 99999)} – customer {name} says the export never arrived. {en}: {v}. Can billing check?",
        lambda: f"psql> SELECT id, full_name, {key} FROM customers WHERE id = {r.randint(100, 99999)};\n"
                f"  id  |  full_name  | {key}\n------+-------------+------\n {r.randint(100, 99999)} | {name} | {v}",
        lambda: "staging returns real users, look:\n" + json.dumps(
            {"user": {"name": name, key: v, "plan": pick(r, ("pro", "free", "team"))}}, ensure_ascii=False, indent=2),
        lambda: f"2026-0{r.randint(1, 9)}-1{r.randint(0, 9)} 14:0{r.randint(0, 9)}:11 WARN kyc.verify failed "
                f"name=\"{name}\" {key}=\"{v}\" reason=mismatch",
        lambda: f"the CSV the vendor sent us has stuff like this in it, unencrypted:\nname;{key}\n{name};{v}",
        lambda: f"can someone from the {pick(r, ('HR', 'onboarding', 'travel desk', 'payroll'))} team help {first}? "
                f"their {en} is {v}",
        lambda: f"El cliente {name} dejó su {loc(1)} en el formulario: {v}. ¿Lo paso al CRM?",
        lambda: f"Olha o que apareceu no log de produção: {first} {last}, {loc(2)} {v}",
        lambda: f"Für die Reisebuchung von {name}: {loc(3)} {v}",
        lambda: f"Le dossier de {name} est incomplet, j'ai seulement son {loc(4)} : {v}",
        lambda: f"Dane klienta do weryfikacji: {name}, {loc(5)}: {v}",
        lambda: f"Il collega {name} mi ha chiesto di inoltrare: {loc(6)} {v}",
        lambda: f"Kan iemand {first} bellen of mailen? {loc(7)}: {v} (klant {last})",
        lambda: f"{last}さんの{loc(8)}はこちらです：{v}",
        lambda: f"bhai {first} {last} ka {loc(9)} yeh hai: {v}, usko update kar do system mein",
        lambda: f"Long post, sorry. We spent the week on a data-retention audit and the worst finding was in the "
                f"debug logs of the onboarding service, where a line for {name} still carries {en} {v} in clear "
                f"text next to the request id. Nobody owns that service anymore, which is the real problem.",
    ))()


def pii_positives(r: random.Random) -> list[dict[str, str]]:
    """Other people's data: each kind in seven framings, plus e-mail special shapes."""
    out = []
    for kind, cat, label, make in PII_KINDS:
        for _ in range(7):
            first, last = person(r)
            out.append({"kind": kind, "text": pii_frame(r, cat, label, make(r), first, last)})
    for _ in range(14):
        a, b = person(r), person(r)
        e1, e2 = email_of(r, *a), email_of(r, *b)
        sha = rs(r, HEX, 40)
        out.append({"kind": "email_in_git_log", "text": pick(r, (
            f"$ git log -2 --format='%H %an <%ae>'\n{sha} {a[0]} {a[1]} <{e1}>\n{rs(r, HEX, 40)} {b[0]} {b[1]} <{e2}>",
            f"blame says it was {a[0]}: Author: {a[0]} {a[1]} <{e1}>, ask them, not me",
        ))})
        first, last = person(r)
        u, dom = email_of(r, first, last).split("@")
        host, tld = dom.rsplit(".", 1)
        out.append({"kind": "email_obfuscated", "text": pick(r, (
            f"the ex-contractor who wrote this is {first}, reach them at {u} [at] {host} [dot] {tld}",
            f"escribidle a {first}: {u} (arroba) {host} (punto) {tld}",
            f"{first} {last}'s mail → {u} at {host} dot {tld}",
        ))})
        rows = [(person(r), ) for _ in range(3)]
        csv = "\n".join(f"{p[0][0]} {p[0][1]},{email_of(r, *p[0])},{ph(r, pick(r, ('de', 'fr', 'us', 'br')))}" for p in rows)
        out.append({"kind": "contact_list_dump", "text": pick(r, (
            f"this is what the public S3 bucket had in leads.csv:\nname,email,phone\n{csv}",
            f"Fuite chez un prestataire, extrait du fichier :\n{csv}",
        ))})
    return out


# ---- personal data: negatives ---------------------------------------------------------------

def own_email(r: random.Random) -> tuple[str, str]:
    e = email_of(r, *person(r))
    return "own_email_offered", pick(r, (
        f"if you want the slides, email me at {e}", f"happy to review your Helm chart, drop me a line: {e}",
        f"¿Dudas sobre la charla? Escríbeme a {e}", f"Fragen zum Talk? Schreibt mir einfach an {e}",
        f"Les slides sont dispo, écrivez-moi à {e}", f"Napiszcie do mnie na {e}, podeślę repo",
        f"Scrivetemi pure a {e} per il codice", f"Mail me gerust op {e} als je mee wilt doen",
        f"質問があれば私のメール {e} までどうぞ", f"koi doubt ho toh mujhe mail karo {e} pe",
        f"I'm job hunting after the layoffs – my CV is on request, {e}",
        f"Me escreve em {e} se quiser participar do meetup"))


def own_phone(r: random.Random) -> tuple[str, str]:
    cc = pick(r, ("us", "uk", "de", "fr", "es", "it", "nl", "pl", "br", "in", "jp"))
    n = ph(r, cc)
    return "own_phone_offered", pick(r, (
        f"on call this weekend, call me on {n} if the pager app dies", f"my number is {n}, text me when you land",
        f"mi número es {n}, llámame si el despliegue falla", f"ihr erreicht mich unter {n}",
        f"mon numéro : {n}, appelez-moi si besoin", f"mój numer to {n}, dzwońcie śmiało",
        f"il mio numero è {n}, scrivimi su WhatsApp", f"bel me op {n} als de build weer rood is",
        f"何かあれば私の携帯 {n} に電話してください", f"mera number {n} hai, WhatsApp kar dena",
        f"meu número é {n}, me chama no zap"))


def own_address(r: random.Random) -> tuple[str, str]:
    cc = pick(r, ("us", "uk", "de", "fr", "es", "nl", "pl", "br", "pt", "it"))
    a = addr(r, cc)
    return "own_address_offered", pick(r, (
        f"send the spare Raspberry Pis to my place: {a}, thanks!", f"moving next month, my new address is {a}",
        f"Mi dirección para el intercambio de pegatinas: {a}", f"Meine Adresse für das Paket: {a}",
        f"Mon adresse pour le colis : {a}", f"Mijn adres voor de swag: {a}"))


def own_other(r: random.Random) -> tuple[str, str]:
    return pick(r, (
        ("own_iban_for_payment", pick(r, (
            f"for the team dinner, send your share to my IBAN {group4(iban(r, 'DE', _bban(r, 'DE')))}",
            f"Pour la cagnotte, mon IBAN : {group4(iban(r, 'FR', _bban(r, 'FR')))}",
            f"Para el regalo de despedida, mi cuenta es {group4(iban(r, 'ES', _bban(r, 'ES')))}"))),
        ("own_birthday", pick(r, (
            f"today I turned {r.randint(25, 55)}! (born {_date(r, 'eu')[:6]} – no, not telling you the year)",
            f"my birthday is {_date(r, 'iso')}, and yes I'm still on call",
            f"Mi cumpleaños es el {r.randint(1, 28)} de {pick(r, ('marzo', 'julio', 'octubre'))}, traed tarta al daily"))),
        ("own_salary", pick(r, (
            f"pay transparency thread: I make €{r.randint(55, 140)}k as a senior SRE in Berlin",
            f"Ganho R$ {r.randint(8, 35)} mil como engenheira de dados, senior, remoto"))),
    ))


def published(r: random.Random) -> tuple[str, str]:
    co = pick(r, COMPANIES)
    press, support, phone, hq = PUBLISHED[co]
    return pick(r, (
        ("published_press_email", pick(r, (
            f"journalists: {co}'s press office is {press}, I can't comment", f"for media questions about the outage, {press}",
            f"Prensa: {press} (es el contacto oficial de {co})", f"Presseanfragen bitte an {press}"))),
        ("published_support_email", pick(r, (
            f"if your invoice looks wrong, {co} support is at {support}", f"open a case with {support}, they answer in 24h",
            f"Suporte oficial da {co}: {support}", f"Le support de {co} répond sur {support}"))),
        ("published_switchboard", pick(r, (
            f"{co}'s main line is {phone}, it's on the website", f"call the switchboard {phone} and ask for facilities",
            f"La centralita de {co}: {phone}", f"Die Zentrale von {co} erreicht ihr unter {phone}"))),
        ("published_hq_address", pick(r, (
            f"interviews are at our head office, {hq}", f"{co} HQ: {hq}, visitor badges at reception",
            f"El meetup es en la sede de {co}, {hq}", f"Das Meetup findet im {co}-Büro statt: {hq}"))),
    ))


TEST_CARDS = ("4242 4242 4242 4242", "4000 0566 5566 5556", "5555 5555 5555 4444", "2223 0031 2200 3222",
              "3782 822463 10005", "6011 1111 1111 1117", "4000 0000 0000 9995", "5200 8282 8282 8210")


def test_card(r: random.Random) -> tuple[str, str]:
    c = pick(r, TEST_CARDS)
    return "provider_test_card_test_mode", pick(r, (
        f"in Stripe test mode use {c}, any future expiry and any CVC", f"e2e checkout test (sandbox): card {c}, exp 12/34",
        f"modo de prueba: tarjeta {c}, caduca cuando quieras", f"Testmodus: Karte {c}, CVC beliebig",
        f"cypress fixture for the test-mode payment flow: {{ card: '{c}', cvc: '123' }}"))


def fails_check(r: random.Random) -> tuple[str, str]:
    kind = pick(r, ("card_fails_luhn", "iban_fails_check", "dni_fails_check"))
    if kind == "card_fails_luhn":
        c = group4(luhn_bad(r, pick(r, ("4", "51", "6011")), 16))
        return kind, pick(r, (f"unit test: {c} must be rejected because it fails the Luhn check",
                              f"made-up number for the validator demo, fails Luhn on purpose: {c}",
                              f"Este número no pasa Luhn, sirve para probar el error: {c}"))
    if kind == "iban_fails_check":
        cc = pick(r, ("DE", "NL", "FR", "ES"))
        v = group4(iban_bad(r, cc, _bban(r, cc)))
        return kind, pick(r, (f"our form now rejects {v}: wrong check digits (mod-97 fails), as it should",
                              f"Testfall: {v} hat falsche Prüfziffern und muss abgelehnt werden",
                              f"invalid IBAN fixture (checksum fails): {v}"))
    n = r.randint(10_000_000, 99_999_999)
    good = "TRWAGMYFPDXBNJZSQVHLCKE"[n % 23]
    bad = pick(r, [c for c in "TRWAGMYFPDXBNJZSQVHLCKE" if c != good])
    return kind, pick(r, (f"el validador rechaza {n}{bad} porque la letra no cuadra, perfecto",
                          f"test case: DNI {n}{bad} has the wrong control letter, expect a 422"))


def doc_examples(r: random.Random) -> tuple[str, str]:
    return pick(r, (
        ("documented_example_iban", pick(r, ("the ISO 13616 docs use DE89 3704 0044 0532 0130 00 as the example IBAN",
                                             "GB82 WEST 1234 5698 7654 32 is the textbook example IBAN, fine for fixtures",
                                             "Beispiel-IBAN aus der Doku: DE89 3704 0044 0532 0130 00"))),
        ("example_domain_email", pick(r, (f"docs: replace {pick(r, ('jane.doe', 'user', 'alice'))}@example.com with your own",
                                          f"fixtures use {pick(r, ('test', 'bob', 'admin'))}@example.org, RFC 2606 reserved",
                                          "no-reply@example.net is what the template sends from locally"))),
        ("fictional_555_number", pick(r, (f"the mock SMS gateway answers on (555) 01{r.randint(0, 9)}{r.randint(0, 9)}, it's the fiction range",
                                          f"sample data uses 555-01{r.randint(0, 9)}{r.randint(0, 9)} numbers only"))),
        ("famous_invalid_ssn", pick(r, ("078-05-1120 is the famous wallet-card SSN, our validator blocks it",
                                        "SSNs starting 000 or 666 are never issued, so 000-12-3456 makes a safe fixture"))),
        ("pii_regex_talk", pick(r, (r"the DLP rule is \b\d{3}-\d{2}-\d{4}\b plus a context word",
                                    "our scrubber masks anything shaped like an IBAN or a 16-digit card before logging"))),
    ))


def refs(r: random.Random) -> tuple[str, str]:
    return pick(r, (
        ("order_number", pick(r, (f"order #{digits(r, 9)} still shows pending, support is slow",
                                  f"pedido {digits(r, 10)} llegó roto, devolución abierta", f"Bestellnummer {digits(r, 3)}-{digits(r, 7)}-{digits(r, 7)}"))),
        ("tracking_number", pick(r, (f"tracking 1Z{rs(r, UPPER_NUM, 16)} says delivered, it was not",
                                     f"DHL Sendungsnummer JJD{digits(r, 18)} hängt seit Tagen", f"colis suivi {rs(r, string.ascii_uppercase, 2)}{digits(r, 9)}FR"))),
        ("invoice_number", pick(r, (f"invoice INV-{r.randint(2024, 2026)}-{digits(r, 5)} was double charged",
                                    f"Factura F{r.randint(2024, 2026)}/{digits(r, 6)} pendiente de aprobación", f"Rechnung RE-{digits(r, 8)} ist raus"))),
        ("ticket_number", pick(r, (f"see {pick(r, ('OPS', 'INFRA', 'DATA', 'SEC'))}-{r.randint(100, 9999)} for the postmortem",
                                   f"ServiceNow INC{digits(r, 7)} closed without a fix, classic", f"#{r.randint(1000, 99999)} on GitHub has the workaround"))),
        ("booking_reference", pick(r, (f"booking ref {rs(r, UPPER_NUM, 6)} for the offsite flights, seat map is awful",
                                       f"KubeCon hotel confirmation {digits(r, 10)}, free cancellation until Friday"))),
        ("version_string", pick(r, (f"upgraded to kernel {r.randint(5, 6)}.{r.randint(1, 19)}.{r.randint(0, 90)}-{r.randint(1, 300)}-generic",
                                    f"terraform {r.randint(1, 1)}.{r.randint(5, 11)}.{r.randint(0, 9)} broke our provider pin",
                                    f"node v{r.randint(18, 24)}.{r.randint(0, 20)}.{r.randint(0, 9)}, npm {r.randint(9, 11)}.{r.randint(0, 9)}.{r.randint(0, 9)}"))),
        ("dates_and_times", pick(r, (f"change freeze from {_date(r, 'iso')} to the 2nd, no deploys",
                                     f"sprint review on {r.randint(1, 28)}/{r.randint(1, 12)} at 15:30 CET",
                                     f"cert expires {r.randint(2026, 2028)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}T00:00:00Z"))),
        ("build_or_run_id", pick(r, (f"pipeline run {digits(r, 10)} failed at the cache step",
                                     f"build #{r.randint(1000, 99999)} is green again", f"Jenkins job {digits(r, 5)} hangs on checkout"))),
        ("cve_identifier", pick(r, (f"patched CVE-{r.randint(2021, 2026)}-{r.randint(1000, 49999)} across the fleet",
                                    f"¿Os afecta CVE-{r.randint(2021, 2026)}-{r.randint(1000, 49999)}?"))),
        ("isbn_or_doi", pick(r, (f"great book on SRE, ISBN 978-{r.randint(0, 1)}-{digits(r, 3)}-{digits(r, 5)}-{r.randint(0, 9)}",
                                 f"paper: doi:10.{r.randint(1000, 9999)}/{rs(r, string.ascii_lowercase, 4)}.{r.randint(2019, 2026)}.{digits(r, 5)}"))),
        ("flight_or_train", pick(r, (f"on {pick(r, ('LH', 'AF', 'IB', 'KL', 'LO', 'NH'))}{r.randint(100, 1999)} to the offsite, wifi permitting",
                                     f"ICE {r.randint(500, 1999)} hat wieder 40 Minuten Verspätung"))),
        ("sku_or_part_number", pick(r, (f"the NIC is part no. {rs(r, UPPER_NUM, 5)}-{digits(r, 3)}, backordered",
                                        f"SKU {rs(r, string.ascii_uppercase, 3)}-{digits(r, 6)} (the 64 GB DIMMs)"))),
        ("lottery_numbers", pick(r, ("this week's numbers: " + " ".join(str(x) for x in sorted(r.sample(range(1, 50), 6))) + " – not me, again",
                                     "EuroMillions " + " - ".join(str(x) for x in sorted(r.sample(range(1, 51), 5))) + ", stars " + " ".join(str(x) for x in r.sample(range(1, 13), 2))))),
        ("sports_score", pick(r, (f"{r.randint(0, 5)}-{r.randint(0, 5)} at half time, the office is loud",
                                  f"Final: {r.randint(70, 130)}–{r.randint(70, 130)}, what a game"))),
        ("postal_code_only", pick(r, (f"we're hiring in {pick(r, ('80331 München', '75008 Paris', '28001 Madrid', '1017 Amsterdam'))}, hybrid",
                                      f"new office opens in the {r.randint(10, 99)}xxx area, details soon"))),
        ("http_status_and_ports", pick(r, (f"got a {pick(r, ('502', '504', '429', '418'))} from the LB on port {r.randint(1024, 65535)}",
                                           f"open ports: 22, 443, {r.randint(3000, 9999)}; closed everything else"))),
        ("unix_timestamp", pick(r, (f"the event at {r.randint(1_700_000_000, 1_800_000_000)} is where latency spikes",
                                    f"ts={r.randint(1_700_000_000_000, 1_800_000_000_000)} in ms, convert before plotting"))),
    ))


FAMOUS = (("Ada Lovelace", "10 December 1815"), ("Alan Turing", "23 June 1912"), ("Grace Hopper", "9 December 1906"),
          ("Linus Torvalds", "28 December 1969"), ("Margaret Hamilton", "17 August 1936"),
          ("Dennis Ritchie", "9 September 1941"), ("Marie Curie", "7 November 1867"), ("Tim Berners-Lee", "8 June 1955"))
FICTIONAL = ("221B Baker Street, London NW1 6XE", "742 Evergreen Terrace, Springfield", "4 Privet Drive, Little Whinging",
             "12 Grimmauld Place, London", "124 Conch Street, Bikini Bottom", "1313 Mockingbird Lane",
             "31 Spooner Street, Quahog", "Calle del Percebe 13", "Rua do Sobe e Desce, nº 0")
VENUES = ("Fira Gran Via, Av. Joan Carles I 64, L'Hospitalet de Llobregat", "RAI Amsterdam, Europaplein 24, 1078 GZ Amsterdam",
          "ExCeL London, Royal Victoria Dock, 1 Western Gateway, London E16 1XL", "Messe Berlin, Messedamm 22, 14055 Berlin",
          "Palais des Congrès, 2 place de la Porte Maillot, 75017 Paris", "Tokyo Big Sight, 3-11-1 Ariake, Koto-ku, Tokyo",
          "Centro de Convenções Frei Caneca, Rua Frei Caneca 569, São Paulo", "MiCo Milano, Viale Eginardo, 20149 Milano")
LANDMARKS = ("1600 Pennsylvania Avenue NW, Washington, DC 20500", "Champ de Mars, 5 Av. Anatole France, 75007 Paris",
             "Platz der Republik 1, 11011 Berlin", "10 Downing Street, London SW1A 2AA", "Dam 1, 1012 JS Amsterdam")
HOTLINES = ("112", "911", "999", "NHS 111", "Telefonseelsorge 0800 111 0 111", "SOS Amitié 09 72 39 40 50",
            "the Samaritans on 116 123")


def publicish(r: random.Random) -> tuple[str, str]:
    return pick(r, (
        ("famous_birthday", pick(r, ("{n} was born on {d} – fun fact for the lightning talk",
                                     "Hoy en 'historia de la informática': {n} nació el {d}",
                                     "{n} (born {d}) would have loved this bug"))
         .format(n=(f := pick(r, FAMOUS))[0], d=f[1])),
        ("public_figure_mention", pick(r, (f"the EU Commissioner's keynote at {pick(r, VENUES).split(',')[0]} was better than expected",
                                           f"Satya Nadella's shareholder letter mentions platform engineering {r.randint(2, 9)} times",
                                           "Jensen Huang in a leather jacket again, shocking news"))),
        ("fictional_address", pick(r, (f"test fixture address: {pick(r, FICTIONAL)}", f"our geocoder resolves {pick(r, FICTIONAL)} and I'm delighted",
                                       f"Los datos de ejemplo usan {pick(r, FICTIONAL)} como dirección"))),
        ("venue_address", pick(r, (f"see you at {pick(r, VENUES)} next week", f"Treffpunkt: {pick(r, VENUES)}, Halle 2",
                                   f"o meetup vai ser no {pick(r, VENUES)}"))),
        ("landmark_address", pick(r, (f"our geocoding test uses {pick(r, LANDMARKS)} because everyone knows it",
                                      f"the demo map pins {pick(r, LANDMARKS)}"))),
        ("shop_or_restaurant", pick(r, (f"best ramen near the office: {pick(r, ('Ramen Kazu', 'Ippudo', 'Menya Musashi'))}, {r.randint(1, 90)} Rue Sainte-Anne",
                                        f"the coffee place at Kastanienallee {r.randint(1, 90)} has the fastest wifi in Berlin"))),
        ("public_hotline", pick(r, (f"if you're struggling after the layoffs, please call {pick(r, HOTLINES)}",
                                    "emergency number in the EU is 112, put it in the on-call doc"))),
        ("mailing_list_address", pick(r, ("ask on dev@kafka.apache.org, the maintainers read it",
                                          "the security contact for the project is security@python.org",
                                          "report it to psirt@cisco.com, it's their published address"))),
        ("masked_card_last_four", pick(r, (f"the receipt shows **** **** **** {r.randint(1000, 9999)} only, that's fine",
                                           f"Visa ending {r.randint(1000, 9999)} was declined for the AWS bill (the corporate card)"))),
        ("phone_format_talk", pick(r, ("E.164 is +<country code><number>, max 15 digits, no spaces",
                                       "libphonenumber says the German mobile prefixes are 015x, 016x and 017x"))),
    ))


PII_NEG: tuple[Callable[[random.Random], tuple[str, str]], ...] = (
    own_email, own_phone, own_address, own_other, published, test_card, fails_check, doc_examples,
    refs, publicish)
PII_NEG_PER_KIND = 26
OWN_PER_KIND = 60  # the poster's own e-mail, phone and address come in many more phrasings


# ---- assembly -------------------------------------------------------------------------------

def _fill(r: random.Random, out: list[dict[str, str]], seen: set[str],
          make: Callable[[], dict[str, str]], per_kind: int) -> None:
    """Append up to per_kind new rows of each kind make yields, skipping texts already used."""
    counts: dict[str, int] = {}
    misses = 0
    while misses < 300:
        row = make()
        if row["text"] in seen or counts.get(row["kind"], 0) >= per_kind:
            misses += 1
            continue
        misses = 0
        seen.add(row["text"])
        out.append(row)
        counts[row["kind"]] = counts.get(row["kind"], 0) + 1


def _unique(rows: list[dict[str, str]], seen: set[str]) -> list[dict[str, str]]:
    out = []
    for row in rows:
        if row["text"] not in seen:
            seen.add(row["text"])
            out.append(row)
    return out


def build() -> dict[str, list[dict[str, str]]]:
    """All four files' rows (without ids), deterministic from SEED."""
    r = random.Random(SEED)
    seen: set[str] = set()
    cred = _unique(provider_positives(r), seen)
    for make, n in OTHER_CRED:
        _fill(r, cred, seen, lambda m=make: m(r), n)
    hard: list[dict[str, str]] = []
    for neg in HARD_NEG:
        n = HARD_NEG_PER_KIND
        def one(f: Callable[[random.Random], tuple[str, str]] = neg) -> dict[str, str]:
            kind, text = f(r)
            return {"kind": kind, "text": wrap(r, text)}
        _fill(r, hard, seen, one, n)
    pii = _unique(pii_positives(r), seen)
    pneg: list[dict[str, str]] = []
    for neg in PII_NEG:
        n = OWN_PER_KIND if neg in (own_email, own_phone, own_address) else PII_NEG_PER_KIND
        def one_p(f: Callable[[random.Random], tuple[str, str]] = neg) -> dict[str, str]:
            kind, text = f(r)
            return {"kind": kind, "text": wrap(r, text)}
        _fill(r, pneg, seen, one_p, n)
    for rows in (cred, hard, pii, pneg):
        r.shuffle(rows)
    return dict(zip(NAMES, (cred, hard, pii, pneg), strict=True))


def write() -> str:
    """Write the four JSONL files; return a one-line summary."""
    OUT.mkdir(parents=True, exist_ok=True)
    sizes = []
    for name, rows in build().items():
        with (OUT / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for i, row in enumerate(rows):
                fh.write(json.dumps({"id": f"{name}-{i}", **row}, ensure_ascii=False) + "\n")
        sizes.append(f"{name}: {len(rows)} ({len({x['kind'] for x in rows})} kinds)")
    return "\n".join(sizes)


if __name__ == "__main__":
    print(write())
