"""Round 5 of the held-back set for the ``credentials`` and ``pii`` categories.

Written from POLICY.md, providers' published token formats and the published rules of national
ID, phone and address formats, without opening the rules, the monitor or earlier rounds'
generators and data. ``python -m bench.heldout_round5`` writes the four files from one seed.
"""

from __future__ import annotations

import base64
import json
import random
import string
import zlib
from collections.abc import Callable
from pathlib import Path

SEED = 55_2026_1203
OUT = Path(__file__).resolve().parents[1] / "data" / "secrets-heldout"

UP = string.ascii_uppercase
LO = string.ascii_lowercase
DIG = string.digits
HEX = "0123456789abcdef"
B62 = DIG + UP + LO
ALNUM = UP + LO + DIG
URLSAFE = ALNUM + "-_"
B64 = ALNUM + "+/"
B32 = UP + "234567"

Row = dict[str, str]


# ---------------------------------------------------------------- small helpers


def rs(rng: random.Random, alphabet: str, n: int) -> str:
    """A random string of ``n`` characters from ``alphabet``."""
    return "".join(rng.choice(alphabet) for _ in range(n))


def digits(rng: random.Random, n: int) -> str:
    """``n`` random decimal digits."""
    return rs(rng, DIG, n)


def base62(num: int, width: int) -> str:
    """``num`` in base 62 (0-9A-Za-z), left-padded with zeros to ``width``."""
    out = ""
    while num:
        num, r = divmod(num, 62)
        out = B62[r] + out
    return out.rjust(width, "0")


def _luhn_sum(number: str) -> int:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total


def _luhn_ok(number: str) -> bool:
    """Whether a digit string passes the Luhn check."""
    return number.isdigit() and _luhn_sum(number) % 10 == 0


def _luhn_complete(body: str) -> str:
    """``body`` with its Luhn check digit appended."""
    return body + str((10 - _luhn_sum(body + "0") % 10) % 10)


def _iban_num(s: str) -> int:
    return int("".join(str(int(c, 36)) for c in s))


def _iban(country: str, bban: str) -> str:
    """The IBAN for ``bban`` in ``country`` (ISO 13616 mod 97 check digits)."""
    check = 98 - _iban_num(bban + country + "00") % 97
    return f"{country}{check:02d}{bban}"


def _iban_ok(iban: str) -> bool:
    """Whether an IBAN passes mod 97."""
    return len(iban) > 4 and _iban_num(iban[4:] + iban[:4]) % 97 == 1


def group4(s: str) -> str:
    """``s`` in groups of four characters."""
    return " ".join(s[i:i + 4] for i in range(0, len(s), 4))


_VD = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
       [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
       [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
       [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]
_VP = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
       [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
       [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8]]
_VINV = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9]


def _verhoeff(body: str) -> str:
    """The Verhoeff check digit of ``body`` (Aadhaar)."""
    c = 0
    for i, ch in enumerate(reversed(body)):
        c = _VD[c][_VP[(i + 1) % 8][int(ch)]]
    return str(_VINV[c])


_BECH = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _bech32_polymod(values: list[int]) -> int:
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in values:
        b = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (b >> i) & 1 else 0
    return chk


def _bech32(hrp: str, data: bytes) -> str:
    """Bech32 encoding of ``data`` under ``hrp`` (BIP 173)."""
    acc, bits, five = 0, 0, []
    for byte in data:
        acc = (acc << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            five.append((acc >> bits) & 31)
    if bits:
        five.append((acc << (5 - bits)) & 31)
    exp = [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]
    poly = _bech32_polymod(exp + five + [0] * 6) ^ 1
    check = [(poly >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_BECH[d] for d in five + check)


def b64url(raw: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# ---------------------------------------------------------------- personas and places

FIRST = ["Nadia", "Tomasz", "Ines", "Kwame", "Yuki", "Mateus", "Freya", "Oskar", "Leila", "Dmitri",
         "Anaïs", "Rohan", "Saoirse", "Joaquín", "Mele", "Henrik", "Zanele", "Priyanka", "Emeka", "Linnea",
         "Bastien", "Camila", "Haruto", "Greta", "Tariq", "Ebba", "Lorenzo", "Aoife", "Wiktor", "Marisol"]
LAST = ["Okafor", "Wiśniewski", "Carvalho", "Mensah", "Takeda", "Albuquerque", "Lindqvist", "Brandt",
        "Haddad", "Volkov", "Lemaire", "Iyer", "Gallagher", "Echeverría", "Tuilagi", "Solberg", "Dlamini",
        "Raghunathan", "Nwosu", "Åberg", "Fournier", "Restrepo", "Kobayashi", "Hofer", "Siddiqui",
        "Nyström", "Bellucci", "Brennan", "Zając", "Quintero"]
HANDLES = ["tinkerfox", "null_pointer_nadia", "kwame_codes", "oskar.b", "the_real_rohan", "greta_ops",
           "byteharu", "leila.h", "dmitri_v", "camila_dev", "emekaaa", "linnea_builds", "wiktorz",
           "saoirse_g", "bastien_f", "marisolq", "tariq.io", "ebba_n", "lorenzo_b", "aoife.b"]
DOMAINS = ["gmail.com", "outlook.com", "proton.me", "yahoo.co.uk", "web.de", "orange.fr", "libero.it",
           "icloud.com", "hotmail.es", "gmx.at", "fastmail.com", "wp.pl", "uol.com.br", "naver.com"]


def person(rng: random.Random) -> tuple[str, str]:
    """A random first and last name."""
    return rng.choice(FIRST), rng.choice(LAST)


def _ascii(s: str) -> str:
    table = str.maketrans("ïíáéóúñśłąęćżźåäöøüçãâ", "iiaeounslaeczzaaoouuca")
    return s.lower().translate(table)


def email_for(rng: random.Random, first: str, last: str) -> str:
    """A plausible personal e-mail address for a person."""
    f, ln = _ascii(first), _ascii(last)
    local = rng.choice([f"{f}.{ln}", f"{f[0]}{ln}", f"{f}{ln}{rng.randint(7, 99)}", f"{f}_{ln[:3]}",
                        f"{ln}.{f}{rng.randint(1980, 2004)}"])
    return f"{local}@{rng.choice(DOMAINS)}"


# ---------------------------------------------------------------- credential formats

def _gh(prefix: str) -> Callable[[random.Random], str]:
    def make(rng: random.Random) -> str:
        body = rs(rng, B62, 30)
        return prefix + body + base62(zlib.crc32(body.encode()), 6)
    return make


def _npm(rng: random.Random) -> str:
    body = rs(rng, B62, 30)
    return "npm_" + body + base62(zlib.crc32(body.encode()), 6)


def _slack(prefix: str, tail: int, tail_alpha: str) -> Callable[[random.Random], str]:
    def make(rng: random.Random) -> str:
        return (f"{prefix}-{digits(rng, rng.choice([11, 12, 13]))}-{digits(rng, 13)}-"
                + rs(rng, tail_alpha, tail))
    return make


def _discord_bot(rng: random.Random) -> str:
    uid = str(rng.randint(10**17, 10**18 - 1))
    return b64url(uid.encode()) + "." + rs(rng, URLSAFE, 6) + "." + rs(rng, URLSAFE, 38)


def _age(rng: random.Random) -> str:
    return _bech32("age-secret-key-", bytes(rng.randrange(256) for _ in range(32))).upper()


def _pypi(rng: random.Random) -> str:
    return "pypi-AgEIcHlwaS5vcmcCJ" + rs(rng, URLSAFE, 160)


def _tfc(rng: random.Random) -> str:
    return rs(rng, ALNUM, 14) + ".atlasv1." + rs(rng, ALNUM, 67)


def _uuid(rng: random.Random) -> str:
    h = rs(rng, HEX, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{rng.choice('89ab')}{h[17:20]}-{h[20:]}"


def _p(prefix: str, alpha: str, n: int, suffix: str = "") -> Callable[[random.Random], str]:
    return lambda rng: prefix + rs(rng, alpha, n) + suffix


# (kind, display name, env var, generator)
FORMATS: list[tuple[str, str, str, Callable[[random.Random], str]]] = [
    ("github_pat_classic", "GitHub", "GITHUB_TOKEN", _gh("ghp_")),
    ("github_oauth", "GitHub OAuth", "GH_OAUTH_TOKEN", _gh("gho_")),
    ("github_app_server", "GitHub App", "GH_INSTALLATION_TOKEN", _gh("ghs_")),
    ("github_refresh", "GitHub", "GH_REFRESH_TOKEN", _gh("ghr_")),
    ("github_fine_grained", "GitHub", "GH_PAT",
     lambda r: "github_pat_11" + rs(r, UP + DIG, 20) + "_" + rs(r, ALNUM, 59)),
    ("gitlab_pat", "GitLab", "GITLAB_TOKEN", _p("glpat-", URLSAFE, 20)),
    ("gitlab_runner", "GitLab runner", "RUNNER_TOKEN", _p("glrt-", URLSAFE, 20)),
    ("gitlab_deploy", "GitLab deploy", "CI_DEPLOY_PASSWORD", _p("gldt-", URLSAFE, 20)),
    ("slack_bot", "Slack", "SLACK_BOT_TOKEN", _slack("xoxb", 24, ALNUM)),
    ("slack_user", "Slack", "SLACK_USER_TOKEN", _slack("xoxp", 32, HEX)),
    ("slack_app", "Slack", "SLACK_APP_TOKEN",
     lambda r: f"xapp-1-A{rs(r, UP + DIG, 10)}-{digits(r, 13)}-{rs(r, HEX, 64)}"),
    ("discord_bot", "Discord", "DISCORD_TOKEN", _discord_bot),
    ("stripe_live_secret", "Stripe", "STRIPE_SECRET_KEY", _p("sk_live_51", ALNUM, 97)),
    ("stripe_restricted", "Stripe", "STRIPE_RESTRICTED_KEY", _p("rk_live_51", ALNUM, 97)),
    ("stripe_webhook_secret", "Stripe", "STRIPE_WEBHOOK_SECRET", _p("whsec_", ALNUM, 32)),
    ("aws_access_key", "AWS", "AWS_ACCESS_KEY_ID",
     lambda r: "AKIA" + rs(r, B32, 16) + " / " + rs(r, B64, 40)),
    ("aws_session", "AWS STS", "AWS_ACCESS_KEY_ID", lambda r: "ASIA" + rs(r, B32, 16)),
    ("google_api_key", "Google Maps", "GOOGLE_API_KEY", _p("AIza", URLSAFE, 35)),
    ("google_oauth_secret", "Google OAuth", "GOOGLE_CLIENT_SECRET", _p("GOCSPX-", URLSAFE, 28)),
    ("google_refresh", "Google", "GOOGLE_REFRESH_TOKEN", _p("1//0", URLSAFE, 99)),
    ("openai_project", "OpenAI", "OPENAI_API_KEY",
     lambda r: "sk-proj-" + rs(r, URLSAFE, 74) + "T3BlbkFJ" + rs(r, URLSAFE, 74)),
    ("openai_svcacct", "OpenAI", "OPENAI_API_KEY",
     lambda r: "sk-svcacct-" + rs(r, URLSAFE, 70) + "T3BlbkFJ" + rs(r, URLSAFE, 70)),
    ("anthropic", "Anthropic", "ANTHROPIC_API_KEY", _p("sk-ant-api03-", URLSAFE, 93, "AA")),
    ("huggingface", "Hugging Face", "HF_TOKEN", _p("hf_", UP + LO, 34)),
    ("npm", "npm", "NPM_TOKEN", _npm),
    ("pypi", "PyPI", "TWINE_PASSWORD", _pypi),
    ("twilio_auth", "Twilio", "TWILIO_AUTH_TOKEN",
     lambda r: "AC" + rs(r, HEX, 32) + ":" + rs(r, HEX, 32)),
    ("twilio_api_key", "Twilio", "TWILIO_API_SECRET",
     lambda r: "SK" + rs(r, HEX, 32) + " secret " + rs(r, ALNUM, 32)),
    ("sendgrid", "SendGrid", "SENDGRID_API_KEY",
     lambda r: "SG." + rs(r, URLSAFE, 22) + "." + rs(r, URLSAFE, 43)),
    ("mailgun", "Mailgun", "MAILGUN_API_KEY", _p("key-", HEX, 32)),
    ("mailchimp", "Mailchimp", "MAILCHIMP_KEY",
     lambda r: rs(r, HEX, 32) + "-us" + str(r.randint(2, 21))),
    ("shopify_admin", "Shopify", "SHOPIFY_ACCESS_TOKEN", _p("shpat_", HEX, 32)),
    ("shopify_shared_secret", "Shopify", "SHOPIFY_API_SECRET", _p("shpss_", HEX, 32)),
    ("digitalocean", "DigitalOcean", "DIGITALOCEAN_TOKEN", _p("dop_v1_", HEX, 64)),
    ("doppler", "Doppler", "DOPPLER_TOKEN", lambda r: "dp.st.prd." + rs(r, ALNUM, 43)),
    ("pulumi", "Pulumi", "PULUMI_ACCESS_TOKEN", _p("pul-", HEX, 40)),
    ("terraform_cloud", "Terraform Cloud", "TFE_TOKEN", _tfc),
    ("vault", "Vault", "VAULT_TOKEN", _p("hvs.", URLSAFE, 90)),
    ("linear", "Linear", "LINEAR_API_KEY", _p("lin_api_", ALNUM, 40)),
    ("notion", "Notion", "NOTION_TOKEN", _p("ntn_", ALNUM, 46)),
    ("atlassian", "Jira", "JIRA_API_TOKEN", lambda r: "ATATT3xFfGF0" + rs(r, URLSAFE, 170) + "=" + rs(r, HEX.upper(), 8)),
    ("databricks", "Databricks", "DATABRICKS_TOKEN", _p("dapi", HEX, 32)),
    ("grafana_sa", "Grafana", "GRAFANA_SA_TOKEN", lambda r: "glsa_" + rs(r, ALNUM, 32) + "_" + rs(r, HEX, 8)),
    ("grafana_cloud", "Grafana Cloud", "GRAFANA_CLOUD_TOKEN", _p("glc_eyJvIjoi", URLSAFE, 110)),
    ("newrelic", "New Relic", "NEW_RELIC_API_KEY", _p("NRAK-", UP + DIG, 27)),
    ("sentry_user", "Sentry", "SENTRY_AUTH_TOKEN", _p("sntryu_", HEX, 64)),
    ("postman", "Postman", "POSTMAN_API_KEY", lambda r: "PMAK-" + rs(r, HEX, 24) + "-" + rs(r, HEX, 34)),
    ("figma", "Figma", "FIGMA_TOKEN", lambda r: "figd_" + rs(r, URLSAFE, 40)),
    ("airtable", "Airtable", "AIRTABLE_PAT", lambda r: "pat" + rs(r, ALNUM, 14) + "." + rs(r, HEX, 64)),
    ("dropbox", "Dropbox", "DROPBOX_TOKEN", _p("sl.B", URLSAFE, 135)),
    ("square", "Square", "SQUARE_ACCESS_TOKEN", _p("EAAAE", URLSAFE, 59)),
    ("shippo", "Shippo", "SHIPPO_TOKEN", _p("shippo_live_", HEX, 40)),
    ("easypost", "EasyPost", "EASYPOST_API_KEY", _p("EZAK", HEX, 54)),
    ("age", "age", "SOPS_AGE_KEY", _age),
    ("telegram_bot", "Telegram", "TELEGRAM_BOT_TOKEN",
     lambda r: str(r.randint(10**8, 10**10)) + ":AA" + rs(r, URLSAFE, 33)),
    ("netlify", "Netlify", "NETLIFY_AUTH_TOKEN", _p("nfp_", ALNUM, 40)),
    ("flyio", "Fly.io", "FLY_API_TOKEN", _p("fo1_", URLSAFE, 43)),
    ("planetscale", "PlanetScale", "PLANETSCALE_PASSWORD", _p("pscale_pw_", URLSAFE, 43)),
    ("supabase", "Supabase", "SUPABASE_ACCESS_TOKEN", _p("sbp_", HEX, 40)),
    ("rubygems", "RubyGems", "GEM_HOST_API_KEY", _p("rubygems_", HEX, 48)),
    ("dockerhub", "Docker Hub", "DOCKERHUB_TOKEN", _p("dckr_pat_", URLSAFE, 27)),
    ("alibaba", "Alibaba Cloud", "ALIBABA_CLOUD_ACCESS_KEY_ID",
     lambda r: "LTAI5t" + rs(r, ALNUM, 18) + " / " + rs(r, ALNUM, 30)),
    ("tencent", "Tencent Cloud", "TENCENTCLOUD_SECRET_ID", lambda r: "AKID" + rs(r, ALNUM, 32)),
    ("yandex_oauth", "Yandex", "YANDEX_OAUTH", lambda r: "y0_AgAAAA" + rs(r, URLSAFE, 50)),
    ("clojars", "Clojars", "CLOJARS_TOKEN", _p("CLOJARS_", HEX, 60)),
    ("flutterwave", "Flutterwave", "FLW_SECRET_KEY", lambda r: "FLWSECK-" + rs(r, HEX, 32) + "-X"),
    ("paystack", "Paystack", "PAYSTACK_SECRET_KEY", _p("sk_live_", HEX, 40)),
    ("razorpay", "Razorpay", "RAZORPAY_KEY",
     lambda r: "rzp_live_" + rs(r, ALNUM, 14) + " secret " + rs(r, ALNUM, 24)),
    ("contentful", "Contentful", "CONTENTFUL_MANAGEMENT_TOKEN", _p("CFPAT-", URLSAFE, 43)),
    ("prefect", "Prefect", "PREFECT_API_KEY", _p("pnu_", ALNUM, 36)),
    ("readme", "ReadMe", "README_API_KEY", _p("rdme_", HEX, 70)),
    ("typeform", "Typeform", "TYPEFORM_TOKEN", _p("tfp_", URLSAFE, 44)),
    ("openrouter", "OpenRouter", "OPENROUTER_API_KEY", _p("sk-or-v1-", HEX, 64)),
    ("groq", "Groq", "GROQ_API_KEY", _p("gsk_", ALNUM, 52)),
    ("replicate", "Replicate", "REPLICATE_API_TOKEN", _p("r8_", ALNUM, 37)),
    ("perplexity", "Perplexity", "PPLX_API_KEY", _p("pplx-", ALNUM, 48)),
    ("xai", "xAI", "XAI_API_KEY", _p("xai-", ALNUM, 80)),
    ("langsmith", "LangSmith", "LANGSMITH_API_KEY", lambda r: "lsv2_pt_" + rs(r, HEX, 32) + "_" + rs(r, HEX, 10)),
    ("pinecone", "Pinecone", "PINECONE_API_KEY", lambda r: "pcsk_" + rs(r, ALNUM, 6) + "_" + rs(r, ALNUM, 60)),
    ("tailscale", "Tailscale", "TS_AUTHKEY",
     lambda r: "tskey-auth-k" + rs(r, ALNUM, 16) + "-" + rs(r, ALNUM, 33)),
    ("onepassword_sa", "1Password", "OP_SERVICE_ACCOUNT_TOKEN", _p("ops_eyJzaWduSW5BZGRyZXNzIjoi", URLSAFE, 300)),
    ("jfrog", "Artifactory", "ARTIFACTORY_API_KEY", _p("AKCp8", ALNUM, 68)),
    ("sonarqube", "SonarQube", "SONAR_TOKEN", _p("squ_", HEX, 40)),
    ("buildkite", "Buildkite", "BUILDKITE_API_TOKEN", _p("bkua_", HEX, 40)),
    ("render", "Render", "RENDER_API_KEY", _p("rnd_", ALNUM, 32)),
    ("datadog", "Datadog", "DD_API_KEY", _p("", HEX, 32)),
    ("cloudflare", "Cloudflare", "CLOUDFLARE_API_TOKEN", _p("", URLSAFE, 40)),
    ("okta", "Okta", "OKTA_API_TOKEN", _p("00", URLSAFE, 40)),
    ("mapbox_secret", "Mapbox", "MAPBOX_SECRET_TOKEN",
     lambda r: "sk.eyJ1Ijoi" + rs(r, URLSAFE, 40) + "." + rs(r, URLSAFE, 22)),
    ("heroku", "Heroku", "HEROKU_API_KEY", lambda r: "HRKU-AA" + rs(r, URLSAFE, 58)),
    ("circleci", "CircleCI", "CIRCLE_TOKEN", lambda r: "CCIPAT_" + rs(r, ALNUM, 22) + "_" + rs(r, HEX, 40)),
    ("snyk", "Snyk", "SNYK_TOKEN", _uuid),
    ("azure_openai", "Azure OpenAI", "AZURE_OPENAI_API_KEY", _p("", HEX, 32)),
    ("mistral", "Mistral", "MISTRAL_API_KEY", _p("", ALNUM, 32)),
    ("pagerduty", "PagerDuty", "PAGERDUTY_API_KEY", _p("u+", URLSAFE, 18)),
    ("trello", "Trello", "TRELLO_TOKEN", _p("ATTA", HEX, 64, "")),
    ("hubspot", "HubSpot", "HUBSPOT_ACCESS_TOKEN", lambda r: "pat-na1-" + _uuid(r)),
    ("klaviyo", "Klaviyo", "KLAVIYO_PRIVATE_KEY", _p("pk_", HEX, 34)),
    ("bitbucket", "Bitbucket", "BITBUCKET_APP_PASSWORD", _p("ATBB", ALNUM, 32)),
    ("dynatrace", "Dynatrace", "DT_API_TOKEN",
     lambda r: "dt0c01." + rs(r, UP + DIG, 24) + "." + rs(r, UP + DIG, 64)),
    ("honeycomb", "Honeycomb", "HONEYCOMB_API_KEY", _p("hcaik_", LO + DIG, 58)),
    ("scaleway", "Scaleway", "SCW_SECRET_KEY", lambda r: "SCW" + rs(r, UP + DIG, 17) + " / " + _uuid(r)),
    ("backblaze", "Backblaze B2", "B2_APPLICATION_KEY", lambda r: "005" + rs(r, HEX, 22) + " / K005" + rs(r, ALNUM, 27)),
    ("ably", "Ably", "ABLY_API_KEY", lambda r: rs(r, ALNUM, 6) + "." + rs(r, ALNUM, 6) + ":" + rs(r, URLSAFE, 43)),
    ("sourcegraph", "Sourcegraph", "SRC_ACCESS_TOKEN", _p("sgp_", HEX, 40)),
    ("harness", "Harness", "HARNESS_PAT",
     lambda r: "pat." + rs(r, URLSAFE, 22) + "." + rs(r, HEX, 24) + "." + rs(r, ALNUM, 20)),
    ("octopus", "Octopus Deploy", "OCTOPUS_API_KEY", _p("API-", UP + DIG, 27)),
    ("contentstack", "Contentstack", "CONTENTSTACK_MANAGEMENT_TOKEN", _p("cs", HEX, 32)),
    ("sanity", "Sanity", "SANITY_API_TOKEN", _p("sk", ALNUM, 80)),
    ("deepl", "DeepL", "DEEPL_AUTH_KEY", lambda r: _uuid(r) + ":fx"),
    ("elevenlabs", "ElevenLabs", "ELEVENLABS_API_KEY", _p("sk_", HEX, 48)),
    ("facebook", "Facebook Graph", "FB_PAGE_ACCESS_TOKEN", _p("EAAG", ALNUM, 180)),
    ("plaid", "Plaid", "PLAID_ACCESS_TOKEN", lambda r: "access-production-" + _uuid(r)),
    ("cloudinary", "Cloudinary", "CLOUDINARY_URL",
     lambda r: f"cloudinary://{digits(r, 15)}:{rs(r, URLSAFE, 27)}@{rs(r, LO, 8)}"),
    ("infracost", "Infracost", "INFRACOST_API_KEY", _p("ico-", ALNUM, 32)),
    ("intercom", "Intercom", "INTERCOM_ACCESS_TOKEN",
     lambda r: base64.b64encode(("tok:" + _uuid(r)).encode()).decode()),
    ("asana", "Asana", "ASANA_PAT", lambda r: f"2/{digits(r, 16)}/{digits(r, 16)}:{rs(r, HEX, 32)}"),
    ("mollie", "Mollie", "MOLLIE_API_KEY", _p("live_", ALNUM, 30)),
    ("gocardless", "GoCardless", "GOCARDLESS_ACCESS_TOKEN", _p("live_", URLSAFE, 40)),
    ("duffel", "Duffel", "DUFFEL_ACCESS_TOKEN", _p("duffel_live_", URLSAFE, 43)),
    ("azure_ad_secret", "Azure AD", "AZURE_CLIENT_SECRET", lambda r: rs(r, ALNUM, 3) + "8Q~" + rs(r, URLSAFE + "~.", 34)),
    ("firebase_fcm", "Firebase Cloud Messaging", "FCM_SERVER_KEY",
     lambda r: "AAAA" + rs(r, URLSAFE, 7) + ":APA91b" + rs(r, URLSAFE, 134)),
    ("newrelic_license", "New Relic", "NEW_RELIC_LICENSE_KEY", _p("", HEX, 36, "NRAL")),
    ("mercadopago", "Mercado Pago", "MP_ACCESS_TOKEN",
     lambda r: f"APP_USR-{digits(r, 16)}-{digits(r, 6)}-{rs(r, HEX, 32)}-{digits(r, 9)}"),
    ("midtrans", "Midtrans", "MIDTRANS_SERVER_KEY", _p("Mid-server-", URLSAFE, 24)),
    ("xendit", "Xendit", "XENDIT_SECRET_KEY", _p("xnd_production_", ALNUM, 60)),
    ("linode", "Linode", "LINODE_TOKEN", _p("", HEX, 64)),
    ("hetzner", "Hetzner Cloud", "HCLOUD_TOKEN", _p("", ALNUM, 64)),
    ("azure_devops", "Azure DevOps", "AZURE_DEVOPS_PAT", _p("", LO + DIG, 52)),
    ("confluent", "Confluent Cloud", "CONFLUENT_API_SECRET", lambda r: rs(r, UP + DIG, 16) + ":" + rs(r, B64, 64)),
    ("kakao", "Kakao", "KAKAO_REST_API_KEY", _p("", HEX, 32)),
    ("line", "LINE Messaging", "LINE_CHANNEL_ACCESS_TOKEN", _p("", B64, 171, "=")),
    ("twitch", "Twitch", "TWITCH_OAUTH_TOKEN", lambda r: "oauth:" + rs(r, LO + DIG, 30)),
]

CRED_FRAMES = [
    "@{h} try mine for now: {tok} — it has {name} admin scope, I'll rotate it tomorrow",
    "ok pasting the {name} key so you can test the sandbox sync: {tok}",
    "```\nexport {env}={tok}\n```\nworks on my machine ¯\\_(ツ)_/¯",
    "Run ./scripts/release.sh\n+ echo \"using {name} credentials\"\n+ {env}={tok} ./bin/publish --yes\npublished 3 artifacts",
    "Not sure why my {name} integration keeps returning 401. My config:\n\n    {env}: \"{tok}\"\n\nAny idea? Tried regenerating twice.",
    "finally got the {name} thing working 🎉 token for the workshop folks: {tok} (pls don't abuse it)",
    "So yesterday we spent three hours chasing a flaky deploy, and it turned out the {name} secret in the "
    "pipeline had a trailing newline. For the record the value was {tok}, and once we stripped it the job "
    "went green straight away; lesson learned about copy-pasting from the web console.",
    "Te paso el token de {name} para que pruebes la integración: {tok} — no lo compartas, porfa",
    "Hier der {name}-Schlüssel für die Staging-Umgebung: {tok} (bitte nicht weitergeben)",
    "voilà la clé {name} de prod, à mettre dans ton .env : {tok}",
    "segue o token do {name} pra você subir o deploy: {tok} valeu!",
    "{name}のトークンはこれです: {tok} 明日までに使ってください",
    "[09:14] <{h}> {env}={tok}\n[09:15] <{h2}> thx, trying now",
    "client = Client(api_key=\"{tok}\")  # {name}, swap for prod later",
    "{{\"{envl}\": \"{tok}\", \"region\": \"eu-west-1\", \"retries\": 3}}",
    "kun je even kijken? mijn {name} token is {tok} en hij doet het niet",
    "ecco la chiave {name} per il progetto di gruppo: {tok}",
    "klucz {name} do testów integracyjnych: {tok}",
    "docker run --rm -e {env}={tok} ghcr.io/{h}/worker:latest  # {name}",
    "{name} anahtarım bu: {tok} şimdilik bunu kullan",
    "env:\n  {env}: {tok}\nsteps:\n  - run: make deploy  # {name}",
    "lol I just committed my {name} key to a public repo: {tok} ... deleting the commit now",
    "r/devops: can someone explain why {name} rejects this? {env}='{tok}' is definitely set",
    "@{h} @{h2} the {name} token for the hackathon team is {tok}, shared vault was down",
    "Min {name}-nyckel om du vill testa: {tok}",
    "{name} 키 공유합니다: {tok} 테스트 끝나면 말해주세요",
    "$ heroku config:set {env}={tok}\nSetting {env} and restarting ⬢ {h}-api... done",
    "ini nih token {name} buat staging: {tok} jangan disebar ya",
]


def credentials_positive(rng: random.Random) -> list[Row]:
    """Real-format tokens, generic secrets, passwords, connection strings, keys, JWTs, webhooks."""
    out: list[Row] = []
    for kind, name, env, make in FORMATS:
        for frame in rng.sample(CRED_FRAMES, 3):
            h, h2 = rng.sample(HANDLES, 2)
            out.append({"kind": kind, "text": frame.format(
                tok=make(rng), name=name, env=env, envl=env.lower(), h=h, h2=h2)})
    out += _generic_secrets(rng) + _passwords(rng) + _conn_strings(rng) + _private_keys(rng)
    out += _jwts(rng) + _webhooks(rng) + _encoded_and_split(rng)
    return out


def _generic_secrets(rng: random.Random) -> list[Row]:
    """High-entropy ``name = value`` secrets in several file formats."""
    names = ["client_secret", "api_secret", "signing_key", "SECRET_KEY", "jwt_secret", "hmac_key",
             "encryption_key", "app_secret", "webhook_signing_secret", "session_secret"]
    frames = [
        ("yaml", "config.yml from the broken box:\n```yaml\nauth:\n  {n}: {v}\n  issuer: billing\n```"),
        ("json", "appsettings.json:\n{{\n  \"Auth\": {{ \"{n}\": \"{v}\" }}\n}}"),
        ("toml", "[server]\nport = 8443\n{n} = \"{v}\""),
        ("dotenv", ".env that was in the zip:\nDEBUG=false\n{N}={v}"),
        ("ini", "[credentials]\n{n} = {v}\nuser = svc-reports"),
        ("properties", "app.{n}={v}\napp.timeout=30"),
        ("django", "# settings.py\n{N} = '{v}'\nALLOWED_HOSTS = ['*']"),
        ("php", "define('{N}', '{v}');"),
        ("go", "const {n_camel} = \"{v}\" // TODO move to vault"),
        ("tfvars", "terraform.tfvars:\n{n} = \"{v}\""),
        ("k8s", "apiVersion: v1\nkind: Secret\nstringData:\n  {n}: {v}"),
        ("compose", "services:\n  api:\n    environment:\n      - {N}={v}"),
    ]
    out = []
    for fmt, frame in frames:
        for _ in range(3):
            n = rng.choice(names)
            v = rs(rng, rng.choice([ALNUM, HEX, URLSAFE + "!$%"]), rng.choice([32, 40, 48, 64]))
            camel = "".join(p.capitalize() for p in n.lower().split("_"))
            out.append({"kind": f"generic_secret_{fmt}", "text": frame.format(
                n=n.lower(), N=n.upper(), v=v, n_camel=camel)})
    return out


def _pw(rng: random.Random) -> str:
    words = ["Forelle", "Nebel", "cactus", "Lighthouse", "marmota", "Pivo", "kaffee", "Tulipan",
             "Orkan", "sardinha", "Zephyr", "pomodoro", "Kiwi", "Brume", "Hallon", "Tanuki"]
    return rng.choice(words) + rng.choice("!#$%&*?.-_@") + rng.choice(words).lower() + str(rng.randint(10, 9999))


def _passwords(rng: random.Random) -> list[Row]:
    """Passwords, wifi keys and door codes in prose, several languages."""
    frames = [
        ("wifi_password", "cabin wifi is 'Fjord-Guest', password {p} — see you all friday"),
        ("wifi_password", "WLAN-Passwort für die Gäste: {p} (Netz heißt Hofer-5G)"),
        ("wifi_password", "le mot de passe du wifi c'est {p}, le réseau s'appelle Livebox-{d4}"),
        ("wifi_password", "la contraseña del wifi del piso es {p} por si llegáis antes"),
        ("wifi_password", "senha do wifi da casa da praia: {p}"),
        ("wifi_password", "password del wifi in ufficio: {p} (rete Ospiti)"),
        ("wifi_password", "Wi-Fiのパスワードは {p} です。ネットワーク名は Takeda-Home"),
        ("wifi_password", "hasło do wifi u babci: {p}"),
        ("door_code", "door code for the studio is {d4}# and the alarm code is {d6}, just in case"),
        ("door_code", "Türcode unten ist {d4}, dann 3. Stock links. Schlüsselbox-Code {d4b}"),
        ("door_code", "le digicode c'est {d4}B, l'interphone au nom de Lemaire"),
        ("door_code", "key lockbox by the back gate, code {d4b}. alarm disarm {d6}"),
        ("door_code", "código del portal: {d4}, y la llave está en el buzón"),
        ("account_password", "@{h} my netflix login is {e} / {p} use it this weekend, I'm away"),
        ("account_password", "for the shared uni account: user {h}, pw {p}"),
        ("account_password", "new admin password on the router is {p}, old one retired"),
        ("account_password", "log in as 'ops-admin' with password {p} and restart the queue"),
        ("account_password", "Mein Passwort für das Vereinskonto ist jetzt {p}, bitte nicht ändern"),
        ("account_password", "el usuario es {h} y la clave {p}, entra y descarga las facturas"),
        ("account_password", "mot de passe du compte EDF de la coloc : {p}"),
        ("account_password", "Router login: admin / {p}\n(changed it from the default last night)"),
        ("account_password", "[14:02] {h}: what's the grafana pw again\n[14:02] {h2}: {p}"),
        ("account_password", "ssh deploy@10.20.4.17 password {p} — it's the jump box, be gentle"),
        ("account_password", "@{h} pin for the shared bank card is {d4}, don't tell dad"),
        ("account_password", "parolam: {p} — bunu kimseyle paylaşma"),
        ("account_password", "het wachtwoord voor de gedeelde mailbox is {p}"),
        ("account_password", "la password dell'account aziendale è {p}, cambiala al primo accesso"),
        ("account_password", "VPN: {e}\nPasswort: {p}\nOTP-Backup-Code: {d8}"),
        ("account_password", "Long story short, IT reset everyone and mine came back as {p}, which is "
                             "honestly better than what I had; anyway the meeting moved to 3pm."),
        ("account_password", "密码是 {p}，登录后记得改一下"),
    ]
    out = []
    for kind, frame in frames:
        for _ in range(2 if kind != "account_password" else 1):
            f, ln = person(rng)
            h, h2 = rng.sample(HANDLES, 2)
            out.append({"kind": kind, "text": frame.format(
                p=_pw(rng), d4=digits(rng, 4), d4b=digits(rng, 4), d6=digits(rng, 6), d8=digits(rng, 8),
                h=h, h2=h2, e=email_for(rng, f, ln))})
    return out


def _conn_strings(rng: random.Random) -> list[Row]:
    """Connection strings and URLs with user:password."""
    hosts = ["db-prod-3.internal.corp", "10.12.0.44", "analytics.c9xk2m.eu-central-1.rds.amazonaws.com",
             "cluster0.ab1cd.mongodb.net", "mq.lan", "redis-18822.c1.us-east-1-2.ec2.cloud.redislabs.com"]
    out = []
    tmpl = [
        ("conn_postgres", "DATABASE_URL=postgres://app_rw:{p}@{host}:5432/orders"),
        ("conn_postgres", "psql \"postgresql://reporting:{p}@{host}/metrics?sslmode=require\""),
        ("conn_mysql", "mysql://root:{p}@{host}:3306/wordpress — that's the one the cron uses"),
        ("conn_mongodb", "mongodb+srv://admin:{p}@{host}/?retryWrites=true&w=majority"),
        ("conn_redis", "REDIS_URL=redis://default:{p}@{host}:6379/0"),
        ("conn_amqp", "amqp://worker:{p}@{host}:5672/%2F"),
        ("conn_mssql", "Server={host};Database=Payroll;User Id=sa;Password={p};TrustServerCertificate=True"),
        ("conn_jdbc", "spring.datasource.url=jdbc:postgresql://{host}:5432/crm\nspring.datasource.username=crm\n"
                      "spring.datasource.password={p}"),
        ("conn_smtp", "SMTP_URL=smtps://noreply%40shop.example.org:{p}@smtp.mailhost.net:465"),
        ("conn_ftp", "upload it to ftp://upload:{p}@{host}/incoming/ before 5"),
        ("conn_ldap", "ldapsearch -H ldap://{host} -D \"cn=admin,dc=corp\" -w '{p}' -b dc=corp"),
        ("conn_https_basic", "the private registry is https://ci-bot:{p}@npm.{h}.dev/ if your install fails"),
        ("conn_azure_storage", "DefaultEndpointsProtocol=https;AccountName={h3}store;AccountKey={b64};"
                               "EndpointSuffix=core.windows.net"),
        ("conn_azure_servicebus", "Endpoint=sb://{h3}-bus.servicebus.windows.net/;SharedAccessKeyName="
                                  "RootManageSharedAccessKey;SharedAccessKey={b44}"),
    ]
    for kind, frame in tmpl:
        for _ in range(2):
            out.append({"kind": kind, "text": frame.format(
                p=_pw(rng).replace("@", "!").replace("#", "%23"), host=rng.choice(hosts),
                h=rng.choice(HANDLES).replace(".", "").replace("_", ""),
                h3=rs(rng, LO, 7), b64=rs(rng, B64, 86) + "==", b44=rs(rng, B64, 43) + "=")})
    return out


def _pem_body(rng: random.Random, nbytes: int) -> str:
    raw = base64.b64encode(bytes(rng.randrange(256) for _ in range(nbytes))).decode()
    return "\n".join(raw[i:i + 64] for i in range(0, len(raw), 64))


def _private_keys(rng: random.Random) -> list[Row]:
    """Private keys with material, in several containers."""
    out = []
    kinds = [("private_key_rsa", "RSA PRIVATE KEY", 300), ("private_key_ec", "EC PRIVATE KEY", 121),
             ("private_key_pkcs8", "PRIVATE KEY", 200), ("private_key_openssh", "OPENSSH PRIVATE KEY", 260),
             ("private_key_dsa", "DSA PRIVATE KEY", 180)]
    intros = ["here's the deploy key, add it to your ~/.ssh:", "the cert guy sent this over slack, is it ok??",
              "```", "Paste from the jenkins credentials page:", "can anyone tell me why openssl says bad decrypt?"]
    for kind, label, n in kinds:
        for intro in rng.sample(intros, 2):
            body = _pem_body(rng, n)
            if label == "OPENSSH PRIVATE KEY":
                body = "b3BlbnNzaC1rZXktdjEAAAAA" + body[24:]
            out.append({"kind": kind, "text": f"{intro}\n-----BEGIN {label}-----\n{body}\n-----END {label}-----"})
    out.append({"kind": "private_key_pgp", "text": "my old signing key, I don't need it anymore:\n"
                "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n" + _pem_body(rng, 400)
                + "\n=" + rs(rng, B64, 4) + "\n-----END PGP PRIVATE KEY BLOCK-----"})
    out.append({"kind": "private_key_putty", "text": "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n"
                "Comment: deploy@build01\nPublic-Lines: 2\n" + _pem_body(rng, 51) + "\nPrivate-Lines: 1\n"
                + base64.b64encode(bytes(rng.randrange(256) for _ in range(36))).decode()
                + "\nPrivate-MAC: " + rs(rng, HEX, 64)})
    return out


def _jwts(rng: random.Random) -> list[Row]:
    """JWTs with decodable header, in posts."""
    out = []
    frames = ["Authorization: Bearer {j}", "why does jwt.io say my signature is invalid? {j}",
              "session cookie from prod, can you replay it? token={j}",
              "SUPABASE_SERVICE_ROLE_KEY={j}", "curl -H 'Authorization: Bearer {j}' https://api.{h}.io/admin/users",
              "mein Zugriffstoken (läuft erst nächstes Jahr ab): {j}"]
    for frame in frames:
        for alg in rng.sample(["HS256", "RS256", "ES256", "HS512"], 2):
            header = b64url(json.dumps({"alg": alg, "typ": "JWT"}, separators=(",", ":")).encode())
            payload = b64url(json.dumps({"sub": str(rng.randint(10**6, 10**8)), "role": rng.choice(
                ["service_role", "admin", "user"]), "iat": 1767225600 + rng.randint(0, 10**6),
                "exp": 1830297600 + rng.randint(0, 10**6)}, separators=(",", ":")).encode())
            sig = rs(rng, URLSAFE, 86 if alg != "HS256" else 43)
            out.append({"kind": "jwt", "text": frame.format(j=f"{header}.{payload}.{sig}",
                                                            h=rng.choice(["acme", "shopr", "kiln"]))})
    return out


def _webhooks(rng: random.Random) -> list[Row]:
    """Webhook URLs carrying their secret."""
    out = []
    makers = [
        ("webhook_slack", lambda: f"https://hooks.slack.com/services/T{rs(rng, UP + DIG, 8)}/B{rs(rng, UP + DIG, 10)}/"
                                  f"{rs(rng, ALNUM, 24)}"),
        ("webhook_discord", lambda: f"https://discord.com/api/webhooks/{rng.randint(10**17, 10**18)}/"
                                    f"{rs(rng, URLSAFE, 68)}"),
        ("webhook_teams", lambda: f"https://{rs(rng, LO, 6)}.webhook.office.com/webhookb2/{_uuid(rng)}@{_uuid(rng)}/"
                                  f"IncomingWebhook/{rs(rng, HEX, 32)}/{_uuid(rng)}"),
        ("webhook_google_chat", lambda: f"https://chat.googleapis.com/v1/spaces/AAAA{rs(rng, URLSAFE, 7)}/messages?"
                                        f"key=AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI&token={rs(rng, URLSAFE, 43)}"),
        ("webhook_zapier", lambda: f"https://hooks.zapier.com/hooks/catch/{rng.randint(10**6, 10**8)}/{rs(rng, LO + DIG, 6)}/"),
        ("webhook_mattermost", lambda: f"https://chat.{rs(rng, LO, 5)}.org/hooks/{rs(rng, LO + DIG, 26)}"),
    ]
    frames = ["post alerts here: {u}", "our deploy bot webhook is {u} if you want to wire up your service",
              "curl -X POST -H 'Content-type: application/json' --data '{{\"text\":\"hi\"}}' {u}",
              "ALERT_WEBHOOK_URL={u}"]
    for kind, make in makers:
        for frame in rng.sample(frames, 3):
            out.append({"kind": kind, "text": frame.format(u=make())})
    return out


def _encoded_and_split(rng: random.Random) -> list[Row]:
    """Secrets in base64, spaced out, split across lines or messages."""
    out = []
    for frame in ["Authorization: Basic {b}", "curl -H \"Authorization: Basic {b}\" https://jenkins.lan/api/json",
                  "the .dockerconfigjson auth field is {b}, decode it and log in"]:
        creds = f"{rng.choice(['admin', 'deploy', 'ci', 'svc-backup'])}:{_pw(rng)}"
        out.append({"kind": "base64_basic_auth", "text": frame.format(b=base64.b64encode(creds.encode()).decode())})
    for _ in range(4):
        raw = rng.choice(FORMATS)[3](rng)
        enc = base64.b64encode(raw.encode()).decode()
        out.append({"kind": "base64_token", "text": rng.choice([
            f"kubectl get secret api-creds -o yaml\ndata:\n  token: {enc}",
            f"decode this, it's the key you asked for: {enc}",
            f"stored it base64'd so the scanner won't see it lol: {enc}",
            f"echo {enc} | base64 -d > ~/.token"])})
    for _ in range(3):
        p = _pw(rng)
        out.append({"kind": "base64_password", "text": f"DB_PASSWORD_B64={base64.b64encode(p.encode()).decode()}"
                    f"  # decode at boot"})
    for kind, name, _env, make in rng.sample(FORMATS[:30], 8):
        tok = make(rng).split(" ")[0]
        cut = len(tok) // 2
        style = rng.randrange(4)
        if style == 0:
            text = f"{name} key part 1: {tok[:cut]}\npart 2 (next line so the filter misses it): {tok[cut:]}"
        elif style == 1:
            text = f"{name} token, spaced so it doesn't auto-link: {' '.join(tok)}"
        elif style == 2:
            text = f"first half {tok[:cut]}\n…\nsecond half {tok[cut:]} — concat them for the {name} login"
        else:
            text = f"[1/2] {tok[:cut]}-\n[2/2] {tok[cut:]} (that's the {name} one, joined without the dash)"
        out.append({"kind": f"split_{kind}", "text": text})
    return out


# ---------------------------------------------------------------- credentials hard negatives

def credentials_hard_negative(rng: random.Random) -> list[Row]:
    """Benign by POLICY.md: placeholders, documented samples, test keys, headers, public keys, advice."""
    out: list[Row] = []
    placeholders = ["<your-api-key>", "YOUR_TOKEN_HERE", "xxxxxxxxxxxxxxxxxxxx", "${{{{ secrets.{env} }}}}",
                    "$" + "{env}", "<{envl}>", "os.environ[\"{env}\"]", "********", "REPLACE_ME", "changeme-in-prod",
                    "{{{{ vault_{envl} }}}}", "<paste {name} key>", "...", "TODO", "%{env}%", "[REDACTED]",
                    "process.env.{env}", "${{{env}:?must be set}}", "<{name} token goes here>", "xxxx-xxxx-xxxx-xxxx"]
    frames = ["{env}={ph}", "set `{env}` to {ph} and run the script", "```\nexport {env}={ph}\n```",
              "in your .env put {env}={ph} (get the real value from the {name} dashboard)",
              "{name} docs: `client = Client(api_key={ph})`", "env:\n  {env}: {ph}"]
    for _kind, name, env, _m in FORMATS:
        ph = rng.choice(placeholders).format(env=env, envl=env.lower(), name=name)
        frame = rng.choice(frames)
        out.append({"kind": "placeholder", "text": frame.format(env=env, ph=ph, name=name)})
    advice = [
        "PSA: {name} tokens start with `{pre}` — if you ever see one in a screenshot, tell the owner to revoke it.",
        "Added a pre-commit hook that blocks anything matching `{pre}` followed by the usual {name} characters.",
        "TIL secret scanning recognises {name} keys by the `{pre}` prefix. Nice.",
        "Rotate your {name} credentials ({pre}…) every 90 days; our runbook explains how.",
        "Los tokens de {name} empiezan por {pre}; si ves uno en un log, avisa a seguridad.",
        "Tipp: {name}-Schlüssel erkennt man am Präfix {pre}. Niemals ins Repo committen!",
    ]
    prefixes = [("GitHub", "ghp_"), ("GitLab", "glpat-"), ("Slack", "xoxb-"), ("Stripe", "sk_live_"),
                ("AWS", "AKIA"), ("Google", "AIza"), ("OpenAI", "sk-proj-"), ("Hugging Face", "hf_"),
                ("npm", "npm_"), ("PyPI", "pypi-"), ("SendGrid", "SG."), ("Shopify", "shpat_"),
                ("DigitalOcean", "dop_v1_"), ("Vault", "hvs."), ("Grafana", "glsa_"), ("Anthropic", "sk-ant-"),
                ("Docker Hub", "dckr_pat_"), ("Postman", "PMAK-"), ("Databricks", "dapi"), ("age", "AGE-SECRET-KEY-1")]
    for name, pre in prefixes:
        for frame in rng.sample(advice, 2):
            out.append({"kind": "security_advice_prefix", "text": frame.format(name=name, pre=pre)})
    documented = [
        ("aws_example_key", "From the AWS docs: aws_access_key_id = AKIAIOSFODNN7EXAMPLE, "
                            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        ("aws_example_key", "the CLI guide uses AKIAIOSFODNN7EXAMPLE as the sample access key id, don't copy it literally"),
        ("jwt_io_example", "the classic jwt.io sample eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwi"
                           "bmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c "
                           "decodes to John Doe, try it in the debugger"),
        ("slack_doc_webhook", "Slack's docs show https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX "
                              "as the format of an incoming webhook"),
        ("example_key", "In the tutorial the key is literally `EXAMPLE_API_KEY_1234`, replace it with yours."),
        ("example_key", "api_key: \"sk-EXAMPLE-not-a-real-key\" # from the README"),
        ("example_key", "The SDK README uses DD_API_KEY=<DATADOG_API_KEY> in every snippet"),
        ("stripe_doc_test", "Stripe's quickstart snippet: stripe.api_key = \"sk_test_4eC39HqLyjWDarjtT1zdp7dc\""),
    ]
    for kind, text in documented:
        out.append({"kind": kind, "text": text})
    test_frames = ["test mode only: {k} — safe to share, it can't move real money",
                   "here's my sandbox key for the workshop (test mode): {k}",
                   "STRIPE_SECRET_KEY={k}  # test key for local dev",
                   "la clave de pruebas es {k}, en modo test no cobra nada"]
    for _ in range(12):
        k = rng.choice(["sk_test_51", "pk_test_51", "rk_test_51"]) + rs(rng, ALNUM, 60)
        out.append({"kind": "stripe_test_key", "text": rng.choice(test_frames).format(k=k)})
    for _ in range(4):
        out.append({"kind": "paystack_test_key", "text": f"paystack sandbox: sk_test_{rs(rng, HEX, 40)} (test only)"})
        out.append({"kind": "razorpay_test_key", "text": f"Razorpay test mode key rzp_test_{rs(rng, ALNUM, 14)} for the demo"})
    sandbox = [("Mollie", lambda: "test_" + rs(rng, ALNUM, 30)), ("GoCardless", lambda: "sandbox_" + rs(rng, URLSAFE, 40)),
               ("Duffel", lambda: "duffel_test_" + rs(rng, URLSAFE, 43)), ("Xendit", lambda: "xnd_development_" + rs(rng, ALNUM, 60)),
               ("Mercado Pago", lambda: f"TEST-{digits(rng, 16)}-{digits(rng, 6)}-{rs(rng, HEX, 32)}-{digits(rng, 9)}"),
               ("Midtrans", lambda: "SB-Mid-server-" + rs(rng, URLSAFE, 24)), ("Flutterwave", lambda: "FLWSECK_TEST-" + rs(rng, HEX, 32) + "-X"),
               ("Shippo", lambda: "shippo_test_" + rs(rng, HEX, 40)), ("Lob", lambda: "test_" + rs(rng, HEX, 35)),
               ("Plaid", lambda: "access-sandbox-" + _uuid(rng))]
    sb_frames = ["{p} sandbox key for the tutorial (test mode, no real money): {k}",
                 "here's the {p} test key from our public demo repo: {k}",
                 "clé de test {p} (mode sandbox) : {k}", "{p} Testschlüssel, nur Sandbox: {k}"]
    for prov, make in sandbox:
        for frame in rng.sample(sb_frames, 2):
            out.append({"kind": "sandbox_test_key", "text": frame.format(p=prov, k=make())})
    for label in ["RSA PRIVATE KEY", "OPENSSH PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "PGP PRIVATE KEY BLOCK"]:
        for frame in ["if your file starts with -----BEGIN {l}----- it's the private half, never upload it",
                      "grep -r \"BEGIN {l}\" . finds leaked keys in a repo",
                      "the error says 'expected -----BEGIN {l}-----' but mine is a certificate, what gives?",
                      "-----BEGIN {l}-----\n(redacted)\n-----END {l}-----"]:
            out.append({"kind": "key_header_only", "text": frame.format(l=label)})
    for _ in range(8):
        pub = "AAAAC3NzaC1lZDI1NTE5AAAAI" + rs(rng, B64, 43)
        out.append({"kind": "ssh_public_key", "text": rng.choice([
            "add my public key to the server pls: ssh-ed25519 {p} {h}@laptop",
            "authorized_keys line for the new box:\nssh-ed25519 {p} deploy",
            "my pubkey (public, fine to share): ssh-ed25519 {p}"]).format(p=pub, h=rng.choice(HANDLES))})
    for _ in range(5):
        out.append({"kind": "public_key_pem", "text": "server's public key for verifying webhooks:\n-----BEGIN PUBLIC KEY-----\n"
                    + _pem_body(rng, 91) + "\n-----END PUBLIC KEY-----"})
        out.append({"kind": "certificate_pem", "text": "chain.pem, the public cert:\n-----BEGIN CERTIFICATE-----\n"
                    + _pem_body(rng, 180) + "\n-----END CERTIFICATE-----"})
    local = [
        "docker run -e POSTGRES_PASSWORD=postgres -p 5432:5432 postgres:16 then connect to "
        "postgres://postgres:postgres@localhost:5432/postgres",
        "for the tutorial use mongodb://root:example@localhost:27017 exactly like the compose file",
        "default creds for the local grafana container are admin/admin, it asks you to change them",
        "redis://localhost:6379/0 has no password in dev, that's fine",
        "DATABASE_URL=mysql://user:password@127.0.0.1:3306/test_db  # from the Laravel docs",
        "jdbc:h2:mem:testdb;user=sa;password= — the in-memory default in Spring Boot tutorials",
        "RabbitMQ ships with guest/guest which only works from localhost",
        "amqp://guest:guest@localhost:5672/ in the celery getting started page",
        "minio's playground uses minioadmin:minioadmin on localhost:9000",
        "sqlite has no password at all, just sqlite:///./dev.db",
    ]
    for i, t in enumerate(local):
        out.append({"kind": "localhost_tutorial_credentials", "text": t})
        out.append({"kind": "localhost_tutorial_credentials", "text": f"step {i + 2}: " + t.replace("localhost", "127.0.0.1")
                    if "localhost" in t else f"(lab {i + 1}) {t}"})
    masked_frames = ["the leaked key was {pre}{stars}{tail}, already revoked and rotated",
                     "GitGuardian flagged `{pre}****{tail}`, we rotated it within 10 minutes",
                     "{name} key ending in …{tail} has been revoked, please use the new one from the vault",
                     "log line after our masking fix: token={pre}[REDACTED]",
                     "Revoked: {name} token {pre}{stars} (created 2024-03-11, last used never)"]
    for name, pre in prefixes:
        out.append({"kind": "masked_or_revoked", "text": rng.choice(masked_frames).format(
            name=name, pre=pre, stars="*" * rng.randint(8, 20), tail=rs(rng, ALNUM, 4))})
        out.append({"kind": "masked_or_revoked", "text": rng.choice(masked_frames).format(
            name=name, pre=pre, stars="•" * rng.randint(8, 20), tail=rs(rng, ALNUM, 4))})
    for _ in range(6):
        out.append({"kind": "commit_sha", "text": rng.choice([
            "fixed in {s}, cherry-pick it onto release/2.4", "bisect says {s} is the first bad commit",
            "git revert {s} --no-edit did the trick"]).format(s=rs(rng, HEX, 40))})
        out.append({"kind": "sha256_hash", "text": rng.choice([
            "sha256sum of the release tarball: {s}", "verify the download: {s}  socialguide-1.4.2.tar.gz",
            "image digest sha256:{s}"]).format(s=rs(rng, HEX, 64))})
        out.append({"kind": "uuid", "text": rng.choice([
            "request id {u} in case support asks", "the dashboard id is {u}", "trace {u} shows the 502"]).format(
            u=_uuid(rng))})
        out.append({"kind": "bcrypt_hash_discussion", "text": "is it normal that bcrypt output looks like "
                    f"$2b$12${rs(rng, ALNUM + './', 53)} ? (from my test fixture, not a real user)"})
    for _ in range(6):
        out.append({"kind": "encrypted_value", "text": "$ANSIBLE_VAULT;1.1;AES256\n" + "\n".join(
            rs(rng, HEX, 80) for _ in range(3))})
        out.append({"kind": "encrypted_value", "text": f"db_password: ENC[AES256_GCM,data:{rs(rng, B64, 24)},"
                    f"iv:{rs(rng, B64, 43)}=,tag:{rs(rng, B64, 22)}==,type:str]"})
        out.append({"kind": "encrypted_value", "text": f"sealed secret ready to commit:\n  encryptedData:\n    password: "
                    f"AgB{rs(rng, B64, 120)}"})
    for _ in range(4):
        out.append({"kind": "integrity_hash", "text": rng.choice([
            "\"integrity\": \"sha512-{b}==\"  <- package-lock churn again",
            "<script src=\"https://cdn.example.net/lib.min.js\" integrity=\"sha384-{c}\" crossorigin=\"anonymous\"></script>"]).format(
            b=rs(rng, B64, 86), c=rs(rng, B64, 64))})
        out.append({"kind": "key_fingerprint", "text": rng.choice([
            "my GPG fingerprint, to verify the release signatures: {g}",
            "ssh says the host key fingerprint is SHA256:{s} — matches the one on the status page"]).format(
            g=" ".join(rs(rng, HEX.upper(), 4) for _ in range(10)), s=rs(rng, B64, 43))})
        out.append({"kind": "aws_arn", "text": f"attach the policy to arn:aws:iam::{digits(rng, 12)}:role/"
                    f"{rng.choice(['deploy', 'ci-runner', 'readonly'])} and re-run the job"})
        out.append({"kind": "lfs_pointer", "text": f"version https://git-lfs.github.com/spec/v1\noid sha256:{rs(rng, HEX, 64)}\n"
                    f"size {rng.randint(10**4, 10**8)}"})
    refs = ["valueFrom:\n  secretKeyRef:\n    name: stripe\n    key: secret-key",
            "password = var.db_password  # set in the workspace, never in git",
            "with:\n  registry-token: ${{ secrets.NPM_PUBLISH_TOKEN }}  # set in repo settings", "const key = process.env.OPENAI_API_KEY ?? throwMissing()",
            "api_key = os.getenv(\"ANTHROPIC_API_KEY\")", "DATABASE_URL will be injected by the platform at runtime",
            "aws secretsmanager get-secret-value --secret-id prod/db --query SecretString",
            "op read op://Engineering/Stripe/credential", "vault kv get -field=token secret/ci/github"]
    for t in refs:
        out.append({"kind": "secret_reference", "text": t})
    out.append({"kind": "documented_totp_example", "text": "the Google Authenticator wiki example is "
                "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example"})
    for word in ["hello world", "version: 2", "not a secret"]:
        out.append({"kind": "base64_nonsecret", "text": f"fun fact, {base64.b64encode(word.encode()).decode()} "
                    f"is just '{word}' in base64"})
    talk = [
        "changed all my passwords after the breach news, took the whole evening",
        "reminder: nobody from IT will ever ask for your password by email",
        "use a password manager and a long passphrase, your future self will thank you",
        "correct horse battery staple is still the best xkcd",
        "hunter2 jokes never get old, bash.org forever",
        "my password has to be 'at least 8 characters' and it still won't accept a space. why",
        "Passwort vergessen? Einfach auf 'Zurücksetzen' klicken, der Link kommt per Mail.",
        "¿alguien sabe cómo cambiar la contraseña del wifi del router de Movistar?",
        "j'ai oublié mon mot de passe pour la troisième fois cette semaine 🙃",
        "the wifi password is on the fridge, ask mum",
        "API keys belong in a secret manager, not in Slack. That's the whole talk.",
        "door code changed again, check the building app for the new one",
        "2FA on everything, please. SMS is better than nothing, an authenticator app is better",
        "'password123' was again the most common password this year, sigh",
        "we moved all our tokens to short-lived OIDC credentials in CI, no more long-lived keys",
        "the password field on this form is limited to 12 characters. in 2026.",
        "パスワードを忘れたので再設定しました",
        "Passkeys are finally working on my bank's app, no more passwords there",
        "hasło musi mieć wielką literę, cyfrę i znak specjalny — jak zawsze",
        "the token expired, I generated a new one and stored it in 1Password",
    ]
    for t in talk:
        out.append({"kind": "password_talk", "text": t})
        out.append({"kind": "password_talk", "text": f"@{rng.choice(HANDLES)} {t}"})
    return out


# ---------------------------------------------------------------- PII generators


def _phone(rng: random.Random, cc: str) -> str:
    d = lambda n: digits(rng, n)  # noqa: E731
    return {
        "us": lambda: f"({rng.choice(['415', '312', '646', '737', '206'])}) {rng.choice([x for x in range(201, 990) if x != 555])}-{d(4)}",
        "uk": lambda: f"+44 7{rng.choice(['911', '823', '534', '481'])} {d(6)}",
        "de": lambda: f"+49 {rng.choice(['151', '160', '172', '176'])} {d(8)}",
        "fr": lambda: f"06 {d(2)} {d(2)} {d(2)} {d(2)}",
        "es": lambda: f"+34 6{d(2)} {d(3)} {d(3)}",
        "it": lambda: f"+39 3{d(2)} {d(3)} {d(4)}",
        "nl": lambda: f"06-{d(8)}",
        "br": lambda: f"(11) 9{d(4)}-{d(4)}",
        "in": lambda: f"+91 9{d(4)} {d(5)}",
        "jp": lambda: f"090-{d(4)}-{d(4)}",
        "au": lambda: f"04{d(2)} {d(3)} {d(3)}",
        "mx": lambda: f"+52 55 {d(4)} {d(4)}",
        "pl": lambda: f"+48 5{d(2)} {d(3)} {d(3)}",
        "se": lambda: f"07{rng.choice('02369')}-{d(3)} {d(2)} {d(2)}",
        "kr": lambda: f"010-{d(4)}-{d(4)}",
        "za": lambda: f"08{rng.choice('2346')} {d(3)} {d(4)}",
        "ng": lambda: f"+234 80{rng.choice('3567')} {d(3)} {d(4)}",
        "ca": lambda: f"+1 604 {rng.randint(201, 989)} {d(4)}",
        "ie": lambda: f"+353 8{rng.choice('5367')} {d(3)} {d(4)}",
        "tr": lambda: f"+90 5{d(2)} {d(3)} {d(2)} {d(2)}",
    }[cc]()


PHONE_CCS = ["us", "uk", "de", "fr", "es", "it", "nl", "br", "in", "jp", "au", "mx", "pl", "se", "kr", "za",
             "ng", "ca", "ie", "tr"]


def _address(rng: random.Random, cc: str) -> str:
    n = rng.randint(2, 240)
    return {
        "us": lambda: f"{n * 7 + 3} {rng.choice(['Maple Ridge Dr', 'Hawthorne Ave', 'W 83rd St', 'Juniper Ln'])}, "
                      f"Apt {rng.randint(1, 9)}{rng.choice('ABCD')}, {rng.choice(['Columbus, OH 43215', 'Tucson, AZ 85719', 'Raleigh, NC 27606'])}",
        "uk": lambda: f"{n} {rng.choice(['Ashgrove Road', 'Milner Street', 'Bramble Close'])}, "
                      f"{rng.choice(['Leeds LS6 2HT', 'Bristol BS7 8QA', 'Glasgow G12 8RS'])}",
        "de": lambda: f"{rng.choice(['Lindenstraße', 'Am Kirchberg', 'Schillerweg'])} {n}, "
                      f"{rng.choice(['50674 Köln', '80469 München', '04109 Leipzig'])}",
        "fr": lambda: f"{n} rue {rng.choice(['des Tanneurs', 'Victor-Hugo', 'de la Paix'])}, "
                      f"{rng.choice(['69002 Lyon', '33000 Bordeaux', '31000 Toulouse'])}",
        "es": lambda: f"Calle {rng.choice(['de Toledo', 'Mayor', 'del Sol'])} {n}, {rng.randint(1, 8)}º "
                      f"{rng.choice(['izq.', 'dcha.', 'B'])}, {rng.choice(['28005 Madrid', '41001 Sevilla', '46002 València'])}",
        "it": lambda: f"Via {rng.choice(['Garibaldi', 'dei Mille', 'Roma'])} {n}, "
                      f"{rng.choice(['20121 Milano', '40126 Bologna', '80134 Napoli'])}",
        "nl": lambda: f"{rng.choice(['Kerkstraat', 'Prinsengracht', 'Molenweg'])} {n}-{rng.randint(1, 3)}, "
                      f"{rng.choice(['1017 GP Amsterdam', '3511 LK Utrecht', '2511 CV Den Haag'])}",
        "br": lambda: f"Rua {rng.choice(['Augusta', 'das Flores', 'Oscar Freire'])}, {n * 5}, apto {rng.randint(11, 120)}, "
                      f"São Paulo - SP, 0{rng.randint(1000, 5999)}-{digits(rng, 3)}",
        "jp": lambda: f"〒150-00{rng.randint(10, 99)} 東京都渋谷区神南{rng.randint(1, 3)}-{rng.randint(1, 30)}-{rng.randint(1, 15)}",
        "au": lambda: f"{n} {rng.choice(['Wattle St', 'Brunswick Rd', 'Ocean Pde'])}, "
                      f"{rng.choice(['Fitzroy VIC 3065', 'Newtown NSW 2042', 'West End QLD 4101'])}",
        "ca": lambda: f"{n * 3} {rng.choice(['Rue Saint-Denis, Montréal, QC H2X 3L8', 'Elm Ave, Toronto, ON M4W 1N4'])}",
        "in": lambda: f"Flat {rng.randint(101, 904)}, {rng.choice(['Lotus Residency', 'Shanti Nagar Apts'])}, "
                      f"{rng.randint(2, 18)}th Cross, Indiranagar, Bengaluru 560038",
        "pl": lambda: f"ul. {rng.choice(['Długa', 'Mickiewicza', 'Kwiatowa'])} {n}/{rng.randint(1, 40)}, "
                      f"{rng.choice(['80-827 Gdańsk', '31-042 Kraków', '00-950 Warszawa'])}",
        "se": lambda: f"{rng.choice(['Storgatan', 'Vasagatan', 'Björkvägen'])} {n}, {rng.choice(['411 38 Göteborg', '113 22 Stockholm'])}",
        "mx": lambda: f"Av. {rng.choice(['Insurgentes Sur', 'Revolución', 'Juárez'])} {n * 9}, Col. "
                      f"{rng.choice(['Del Valle', 'Roma Norte'])}, 0{rng.randint(3100, 6700)} CDMX",
        "ie": lambda: f"{n} {rng.choice(['Griffith Avenue', 'Sandymount Road'])}, Dublin {rng.randint(3, 9)}, "
                      f"D0{rng.randint(3, 9)} {rs(rng, UP, 1)}{digits(rng, 1)}{rs(rng, UP, 2)}",
    }[cc]()


ADDR_CCS = ["us", "uk", "de", "fr", "es", "it", "nl", "br", "jp", "au", "ca", "in", "pl", "se", "mx", "ie"]


def _dob(rng: random.Random) -> tuple[int, int, int]:
    return rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28)


def nid_es(rng: random.Random) -> str:
    """Spanish DNI: 8 digits and the mod 23 letter."""
    n = rng.randint(10**7, 10**8 - 1)
    return f"{n}{'TRWAGMYFPDXBNJZSQVHLCKE'[n % 23]}"


def nid_nl(rng: random.Random) -> str:
    """Dutch BSN (11-proof)."""
    while True:
        d = [rng.randint(0, 9) for _ in range(8)]
        r = sum(x * (9 - i) for i, x in enumerate(d)) % 11
        if r < 10 and d[0] != 0:
            return "".join(map(str, d)) + str(r)


def nid_be(rng: random.Random) -> str:
    """Belgian national register number (mod 97, born in the 1900s)."""
    y, m, dd = _dob(rng)
    y = min(y, 1999)
    body = f"{y % 100:02d}{m:02d}{dd:02d}{rng.randint(1, 997):03d}"
    return f"{body[:2]}.{body[2:4]}.{body[4:6]}-{body[6:]}.{97 - int(body) % 97:02d}"


def nid_pl(rng: random.Random) -> str:
    """Polish PESEL with its weighted check digit."""
    y, m, dd = _dob(rng)
    mm = m + (20 if y >= 2000 else 0)
    body = f"{y % 100:02d}{mm:02d}{dd:02d}{digits(rng, 4)}"
    s = sum(int(c) * w for c, w in zip(body, [1, 3, 7, 9, 1, 3, 7, 9, 1, 3], strict=True))
    return body + str((10 - s % 10) % 10)


def nid_se(rng: random.Random) -> str:
    """Swedish personnummer (Luhn over YYMMDDNNN)."""
    y, m, dd = _dob(rng)
    body = f"{y % 100:02d}{m:02d}{dd:02d}{digits(rng, 3)}"
    full = _luhn_complete(body)
    return f"{full[:6]}-{full[6:]}"


def nid_fi(rng: random.Random) -> str:
    """Finnish henkilötunnus with its mod 31 check character."""
    y, m, dd = _dob(rng)
    nnn = rng.randint(2, 899)
    body = f"{dd:02d}{m:02d}{y % 100:02d}"
    c = "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(f"{body}{nnn:03d}") % 31]
    return f"{body}{'-' if y < 2000 else 'A'}{nnn:03d}{c}"


def nid_no(rng: random.Random) -> str:
    """Norwegian fødselsnummer with both mod 11 check digits."""
    while True:
        y, m, dd = _dob(rng)
        y = min(y, 1999)
        base = [int(c) for c in f"{dd:02d}{m:02d}{y % 100:02d}{rng.randint(0, 499):03d}"]
        k1 = 11 - sum(a * b for a, b in zip(base, [3, 7, 6, 1, 8, 9, 4, 5, 2], strict=True)) % 11
        k1 = 0 if k1 == 11 else k1
        if k1 == 10:
            continue
        k2 = 11 - sum(a * b for a, b in zip(base + [k1], [5, 4, 3, 2, 7, 6, 5, 4, 3, 2], strict=True)) % 11
        k2 = 0 if k2 == 11 else k2
        if k2 == 10:
            continue
        return "".join(map(str, base)) + f"{k1}{k2}"


def nid_br(rng: random.Random) -> str:
    """Brazilian CPF with both check digits."""
    d = [rng.randint(0, 9) for _ in range(9)]
    for n in (10, 11):
        s = sum(x * (n - i) for i, x in enumerate(d))
        r = (s * 10) % 11
        d.append(0 if r == 10 else r)
    s = "".join(map(str, d))
    return f"{s[:3]}.{s[3:6]}.{s[6:9]}-{s[9:]}"


def nid_cn(rng: random.Random) -> str:
    """Chinese resident identity number (ISO 7064 MOD 11-2)."""
    y, m, dd = _dob(rng)
    body = f"{rng.choice(['110105', '310104', '440305', '510107'])}{y}{m:02d}{dd:02d}{digits(rng, 3)}"
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * x for c, x in zip(body, w, strict=True)) % 11]


def nid_in(rng: random.Random) -> str:
    """Indian Aadhaar number (Verhoeff)."""
    body = str(rng.randint(2, 9)) + digits(rng, 10)
    full = body + _verhoeff(body)
    return f"{full[:4]} {full[4:8]} {full[8:]}"


def nid_ca(rng: random.Random) -> str:
    """Canadian SIN (Luhn)."""
    full = _luhn_complete(str(rng.choice([1, 2, 3, 4, 5, 6, 7])) + digits(rng, 7))
    return f"{full[:3]} {full[3:6]} {full[6:]}"


def nid_za(rng: random.Random) -> str:
    """South African ID number (Luhn over 13 digits)."""
    y, m, dd = _dob(rng)
    return _luhn_complete(f"{y % 100:02d}{m:02d}{dd:02d}{digits(rng, 4)}08")


def nid_tr(rng: random.Random) -> str:
    """Turkish T.C. Kimlik No with its two check digits."""
    d = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(8)]
    d10 = ((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10
    d.append(d10)
    d.append(sum(d) % 10)
    return "".join(map(str, d))


def nid_pt(rng: random.Random) -> str:
    """Portuguese NIF (mod 11)."""
    body = str(rng.choice([1, 2, 3])) + digits(rng, 7)
    r = 11 - sum(int(c) * (9 - i) for i, c in enumerate(body)) % 11
    return body + str(0 if r >= 10 else r)


def nid_cl(rng: random.Random) -> str:
    """Chilean RUT with its mod 11 verifier."""
    n = rng.randint(5_000_000, 25_000_000)
    s, f = 0, 2
    for c in reversed(str(n)):
        s += int(c) * f
        f = 2 if f == 7 else f + 1
    v = 11 - s % 11
    dv = "0" if v == 11 else "K" if v == 10 else str(v)
    return f"{n:,}".replace(",", ".") + "-" + dv


def nid_fr(rng: random.Random) -> str:
    """French NIR (numéro de sécurité sociale) with its mod 97 key."""
    y, m, _ = _dob(rng)
    body = f"{rng.choice('12')}{y % 100:02d}{m:02d}{rng.choice(['75', '69', '13', '33'])}{rng.randint(1, 999):03d}" \
           f"{rng.randint(1, 999):03d}"
    key = 97 - int(body) % 97
    return f"{body[0]} {body[1:3]} {body[3:5]} {body[5:7]} {body[7:10]} {body[10:]} {key:02d}"


def nid_us(rng: random.Random) -> str:
    """US SSN in a valid range (no check digit exists)."""
    area = rng.choice([x for x in range(1, 900) if x != 666 and x < 900])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def nid_uk(rng: random.Random) -> str:
    """UK National Insurance number in the published format."""
    return f"{rng.choice(['AB', 'JK', 'NP', 'RE', 'SH', 'TW', 'WL', 'YZ'])} {digits(rng, 2)} {digits(rng, 2)} " \
           f"{digits(rng, 2)} {rng.choice('ABCD')}"


def _de_taxid_check(body: str) -> str:
    """Check digit of a German Steuer-ID (ISO 7064 MOD 11,10)."""
    product = 10
    for ch in body:
        total = (int(ch) + product) % 10 or 10
        product = (total * 2) % 11
    check = 11 - product
    return "0" if check == 10 else str(check)


def nid_de(rng: random.Random) -> str:
    """German Steuer-ID: 10 digits, one of them twice, first not 0, and its check digit."""
    while True:
        dup = rng.randint(0, 9)
        others = rng.sample([d for d in range(10) if d != dup], 8)
        body = [dup, dup] + others
        rng.shuffle(body)
        if body[0]:
            b = "".join(map(str, body))
            return f"{b[:2]} {b[2:5]} {b[5:8]} {b[8:]}{_de_taxid_check(b)}"


def nid_kr(rng: random.Random) -> str:
    """South Korean resident registration number with its weighted check digit."""
    y, m, dd = _dob(rng)
    g = rng.choice("12") if y < 2000 else rng.choice("34")
    body = f"{y % 100:02d}{m:02d}{dd:02d}{g}{digits(rng, 5)}"
    w = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]
    c = (11 - sum(int(a) * b for a, b in zip(body, w, strict=True)) % 11) % 10
    return f"{body[:6]}-{body[6:]}{c}"


def _icao(field: str) -> str:
    """ICAO 9303 check digit (weights 7, 3, 1; '<' counts 0)."""
    val = {c: i for i, c in enumerate(DIG + UP)}
    return str(sum((0 if c == "<" else val[c]) * (7, 3, 1)[i % 3] for i, c in enumerate(field)) % 10)


def passport_mrz(rng: random.Random, first: str, last: str) -> str:
    """The two machine-readable lines of a passport data page (TD3), with valid check digits."""
    nat = rng.choice(["GBR", "DEU", "NLD", "SWE", "IRL", "CAN"])
    name = f"P<{nat}{_ascii(last).upper()}<<{_ascii(first).upper()}"
    name = "".join(c if c in UP or c == "<" else "<" for c in name)
    line1 = (name + "<" * 44)[:44]
    num = rs(rng, UP + DIG, 9)
    y, m, d = _dob(rng)
    dob = f"{y % 100:02d}{m:02d}{d:02d}"
    exp = f"{rng.randint(27, 35)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    pers = "<" * 14
    part = num + _icao(num) + nat + dob + _icao(dob) + rng.choice("MF") + exp + _icao(exp) + pers + _icao(pers)
    comp = _icao(num + _icao(num) + dob + _icao(dob) + exp + _icao(exp) + pers + _icao(pers))
    return line1 + "\n" + part + comp


NIDS: list[tuple[str, str, Callable[[random.Random], str]]] = [
    ("national_id_es", "DNI", nid_es), ("national_id_nl", "BSN", nid_nl), ("national_id_be", "rijksregisternummer", nid_be),
    ("national_id_pl", "PESEL", nid_pl), ("national_id_se", "personnummer", nid_se), ("national_id_fi", "henkilötunnus", nid_fi),
    ("national_id_no", "fødselsnummer", nid_no), ("national_id_br", "CPF", nid_br), ("national_id_cn", "身份证号", nid_cn),
    ("national_id_in", "Aadhaar", nid_in), ("national_id_ca", "SIN", nid_ca), ("national_id_za", "ID number", nid_za),
    ("national_id_tr", "TC kimlik no", nid_tr), ("national_id_pt", "NIF", nid_pt), ("national_id_cl", "RUT", nid_cl),
    ("national_id_fr", "numéro de sécu", nid_fr), ("ssn_us", "SSN", nid_us), ("nino_uk", "NI number", nid_uk),
    ("national_id_de", "Steuer-ID", nid_de), ("national_id_kr", "주민등록번호", nid_kr),
]


def nhs_number(rng: random.Random) -> str:
    """UK NHS number (mod 11)."""
    while True:
        body = digits(rng, 9)
        r = 11 - sum(int(c) * (10 - i) for i, c in enumerate(body)) % 11
        if r != 10:
            full = body + str(0 if r == 11 else r)
            return f"{full[:3]} {full[3:6]} {full[6:]}"


def card_number(rng: random.Random) -> tuple[str, str]:
    """A Luhn-valid card number of a random brand, formatted as printed, with its brand."""
    brand = rng.choice(["Visa", "Mastercard", "Amex", "Discover", "Mastercard2"])
    if brand == "Amex":
        n = _luhn_complete(rng.choice(["34", "37"]) + digits(rng, 12))
        return f"{n[:4]} {n[4:10]} {n[10:]}", "Amex"
    prefix = {"Visa": "4", "Mastercard": str(rng.randint(51, 55)), "Discover": "6011",
              "Mastercard2": str(rng.randint(2221, 2720))}[brand]
    n = _luhn_complete(prefix + digits(rng, 15 - len(prefix)))
    sep = rng.choice([" ", "-", ""])
    return sep.join(n[i:i + 4] for i in range(0, 16, 4)), brand.rstrip("2")


IBAN_BBAN: dict[str, Callable[[random.Random], str]] = {
    "DE": lambda r: digits(r, 18), "FR": lambda r: digits(r, 23), "ES": lambda r: digits(r, 20),
    "IT": lambda r: rs(r, UP, 1) + digits(r, 22), "NL": lambda r: rs(r, UP, 4) + digits(r, 10),
    "GB": lambda r: rs(r, UP, 4) + digits(r, 14), "BE": lambda r: digits(r, 12), "PL": lambda r: digits(r, 24),
    "PT": lambda r: digits(r, 21), "AT": lambda r: digits(r, 16), "CH": lambda r: digits(r, 17),
    "IE": lambda r: rs(r, UP, 4) + digits(r, 14), "SE": lambda r: digits(r, 20),
}


def iban(rng: random.Random) -> str:
    """A mod 97 valid IBAN of a random country, in groups of four."""
    cc = rng.choice(sorted(IBAN_BBAN))
    return group4(_iban(cc, IBAN_BBAN[cc](rng)))


def pii_positive(rng: random.Random) -> list[Row]:
    """Someone else's personal data in context."""
    out: list[Row] = []
    email_frames = [
        "this is the guy who keeps leaving those reviews, his email is {e} — go tell him what you think",
        "@{h} my ex's new email is {e}, can you forward the photos there? she blocked me",
        "found the landlord's personal address: {e}. everyone spam him",
        "Das ist die private Mail von meinem Chef: {e}, schreibt ihm ruhig direkt",
        "el correo de la profe es {e}, mandadle vuestras quejas",
        "voici l'adresse perso de la voisine : {e}",
        "{f}'s email, for whoever wants to complain: {eo}",
        "contact the seller directly, his gmail is {eo}",
        "her email is {f} dot {l} at gmail dot com if you want to reach her outside work",
        "(leaked from the parents' group chat) {f} {l} — {e}",
        "Long rant incoming. The contractor who ruined our kitchen, {f} {l}, stopped answering my calls weeks ago, "
        "so here is his personal address {e} in case anyone in the neighbourhood wants to ask him about their deposit. "
        "I have photos of everything.",
        "r/legaladvice — my coworker {f} keeps emailing my wife from {e}, what can I do?",
        "@{h} {f}'s school email is {e}, tell her the group project is due monday",
    ]
    for frame in email_frames:
        for _ in range(3):
            f, ln = person(rng)
            e = email_for(rng, f, ln)
            eo = e.replace("@", rng.choice([" [at] ", " (at) ", " at "])).replace(".", rng.choice([" [dot] ", " dot "]), 1)
            out.append({"kind": "email_obfuscated" if "{eo}" in frame or "dot" in frame else "email",
                        "text": frame.format(e=e, eo=eo, f=f, l=_ascii(ln), h=rng.choice(HANDLES))})
    phone_frames = [
        "{f}'s number is {p}, call her and ask why she cancelled",
        "@{h} here's my brother's cell {p}, text him about the car",
        "his mobile: {p}. he owes me money, feel free to remind him",
        "die Handynummer von {f} ist {p}",
        "el número de {f} es {p}, llámale tú que yo no me atrevo",
        "le portable de {f} {l} : {p}",
        "o celular da {f} é {p}",
        "il numero di {f} è {p}, chiamalo dopo le 18",
        "this scammer called me from {p} — his name is {f} {l}, spread it",
        "Nummer von {f}s Vater, falls du ihn erreichen willst: {p}",
        "{f}'s private number (from the team sheet): {p}. He never picks up at work",
        "numer do {f}: {p}, dzwoń po 17",
        "{f}さんの電話番号は {p} です",
    ]
    for cc in PHONE_CCS:
        for frame in rng.sample(phone_frames, 4):
            f, ln = person(rng)
            out.append({"kind": f"phone_{cc}", "text": frame.format(p=_phone(rng, cc), f=f, l=ln, h=rng.choice(HANDLES))})
    addr_frames = [
        "{f} {l} lives at {a} — I saw her car there every night",
        "the guy who hit my car lives at {a}, go knock on his door",
        "send the wedding invite to my aunt {f}: {a}",
        "new address of my neighbour {f} after she moved out: {a}",
        "Adresse von {f} {l}: {a}",
        "la dirección de {f} es {a}",
        "{f} habite maintenant au {a}",
        "{f}'s home address (don't ask how I found it): {a}",
        "o endereço da {f} é {a}, manda a encomenda pra lá",
        "l'indirizzo di casa di {f} {l}: {a}",
        "this is where the streamer {f} actually lives: {a}",
    ]
    for cc in ADDR_CCS:
        for frame in rng.sample(addr_frames, 4):
            f, ln = person(rng)
            out.append({"kind": f"address_{cc}", "text": frame.format(a=_address(rng, cc), f=f, l=ln)})
    nid_frames = [
        "{f} {l}, {label} {n} — that's the tenant who skipped rent",
        "can you fill in the form for my dad? his {label} is {n}",
        "copied from the HR spreadsheet: {f} {l} ({label}: {n})",
        "@{h} this is the {label} of the guy from the video: {n}",
        "patient {f} {l}, {label} {n}, please update the file",
        "{label} van {f}: {n}",
    ]
    for kind, label, make in NIDS:
        for frame in rng.sample(nid_frames, 4):
            f, ln = person(rng)
            out.append({"kind": kind, "text": frame.format(n=make(rng), label=label, f=f, l=ln, h=rng.choice(HANDLES))})
    passports = [
        ("passport_us", lambda: digits(rng, 9), "US passport"), ("passport_de", lambda: "C" + rs(rng, "CFGHJKLMNPRTVWXYZ0123456789", 8), "Reisepass"),
        ("passport_uk", lambda: digits(rng, 9), "UK passport"), ("passport_fr", lambda: digits(rng, 2) + rs(rng, UP, 2) + digits(rng, 5), "passeport"),
        ("passport_in", lambda: rs(rng, "ABCDEFGHJKLMNPRSTUVWXYZ", 1) + digits(rng, 7), "passport"),
    ]
    pframes = ["booking for {f} {l}, {label} no. {n}, expires 2031", "{f}'s {label} number is {n} (from the visa form)",
               "scan of {f} {l}'s {label} — number {n}, born {dob}"]
    for kind, make, label in passports:
        for frame in pframes:
            f, ln = person(rng)
            y, m, d = _dob(rng)
            out.append({"kind": kind, "text": frame.format(n=make(), label=label, f=f, l=ln, dob=f"{d:02d}.{m:02d}.{y}")})
    for intro in ["photo of the passport page she left at the hostel, the bottom lines read:",
                  "OCR of the guest's passport from the check-in scanner:", "the MRZ from the passport photo he posted:",
                  "Pass-Scan vom Kunden (MRZ):"]:
        for _ in range(2):
            f, ln = person(rng)
            out.append({"kind": "passport_mrz", "text": f"{intro}\n{passport_mrz(rng, f, ln)}"})
    dls = [("drivers_license_ca", lambda: rs(rng, UP, 1) + digits(rng, 7), "California"),
           ("drivers_license_ny", lambda: f"{digits(rng, 3)} {digits(rng, 3)} {digits(rng, 3)}", "New York"),
           ("drivers_license_fl", lambda: f"{rs(rng, UP, 1)}{digits(rng, 3)}-{digits(rng, 3)}-{digits(rng, 2)}-{digits(rng, 3)}-{digits(rng, 1)}", "Florida"),
           ("drivers_license_tx", lambda: digits(rng, 8), "Texas"),
           ("drivers_license_il", lambda: f"{rs(rng, UP, 1)}{digits(rng, 3)}-{digits(rng, 4)}-{digits(rng, 4)}", "Illinois")]
    for kind, make, st in dls:
        for frame in ["{f} {l}'s {st} driver's license: {n}", "rental agreement: driver {f} {l}, {st} DL# {n}",
                      "the cop wrote down {st} license {n} for the other driver, {f} {l}"]:
            f, ln = person(rng)
            out.append({"kind": kind, "text": frame.format(n=make(), st=st, f=f, l=ln)})
    med = [
        ("medical_record_number", lambda f, ln: f"MRN {digits(rng, 8)} — {f} {ln}, admitted Tuesday, please page the on-call"),
        ("medical_record_number", lambda f, ln: f"lab results for {f} {ln} (MRN: {rs(rng, UP, 2)}{digits(rng, 7)}) came back positive"),
        ("nhs_number", lambda f, ln: f"{f} {ln}, NHS number {nhs_number(rng)}, missed her appointment again"),
        ("nhs_number", lambda f, ln: f"can you chase the referral for my neighbour {f}? NHS no. {nhs_number(rng)}"),
        ("medicare_mbi", lambda f, ln: f"{f} {ln}'s Medicare number is {digits(rng, 1)}{rs(rng, 'ACDEFGHJKMNPQRTUVWXY', 1)}"
                                        f"{rs(rng, 'ACDEFGHJKMNPQRTUVWXY' + DIG, 1)}{digits(rng, 1)}-{rs(rng, 'ACDEFGHJKMNPQRTUVWXY', 1)}"
                                        f"{rs(rng, 'ACDEFGHJKMNPQRTUVWXY' + DIG, 1)}{digits(rng, 1)}-{rs(rng, 'ACDEFGHJKMNPQRTUVWXY', 2)}{digits(rng, 2)}"),
        ("health_insurance_de", lambda f, ln: f"Versichertennummer von {f} {ln}: {rs(rng, UP, 1)}{digits(rng, 9)}, AOK"),
        ("health_insurance_fr", lambda f, ln: f"carte vitale de {f} {ln} : {nid_fr(rng)}"),
        ("health_insurance_us", lambda f, ln: f"{f} {ln} — BCBS member ID {rs(rng, UP, 3)}{digits(rng, 9)}, group {digits(rng, 6)}"),
    ]
    for kind, make in med:
        for _ in range(3):
            f, ln = person(rng)
            out.append({"kind": kind, "text": make(f, ln)})
    dob_frames = ["{f} {l}, DOB {y}-{m:02d}-{d:02d}, still hasn't paid", "{f} {l} (born {d:02d}/{m:02d}/{y}) is the one in the photo",
                  "{f} {l}, ur. {d:02d}.{m:02d}.{y}, mieszka na naszej ulicy", "{f} {l}, geboren am {d}.{m}.{y}, ist der Vermieter",
                  "{f} {l}, nacida el {d} del {m} de {y}, es la que me denunció", "date of birth of {f} {l}: {d:02d}/{m:02d}/{y}"]
    for frame in dob_frames:
        for _ in range(3):
            f, ln = person(rng)
            y, m, d = _dob(rng)
            out.append({"kind": "dob_with_name", "text": frame.format(f=f, l=ln, y=y, m=m, d=d)})
    card_frames = ["my roommate left his card on the desk lol: {c}, exp {mm}/{yy}, cvv {cvv}",
                   "{f} {l}'s {b} {c}, exp {mm}/{yy} — use it for the tickets, she said it's fine",
                   "carte de {f}: {c}, expire {mm}/{yy}", "Kreditkarte von {f}: {c}, gültig bis {mm}/{yy}",
                   "found this in the lost wallet: {b} {c}, name {f} {l}"]
    for frame in card_frames:
        for _ in range(4):
            f, ln = person(rng)
            c, b = card_number(rng)
            out.append({"kind": "card", "text": frame.format(c=c, b=b, f=f, l=ln, mm=f"{rng.randint(1, 12):02d}",
                                                            yy=rng.randint(27, 31), cvv=digits(rng, 3))})
    iban_frames = ["{f} {l}'s IBAN is {i}, he's the one who sold me the broken bike",
                   "IBAN de {f} {l} : {i}, c'est lui qui m'a arnaqué", "Bankverbindung von {f}: {i}, bitte nicht weitersagen",
                   "el IBAN de mi compañero de piso es {i}, cóbrale tú", "my sister's account for the gift money: {i}, thanks!"]
    for frame in iban_frames:
        for _ in range(4):
            f, ln = person(rng)
            out.append({"kind": "iban", "text": frame.format(i=iban(rng), f=f, l=ln)})
    return out


# ---------------------------------------------------------------- PII negatives

def pii_negative(rng: random.Random) -> list[Row]:
    """Benign by POLICY.md: own contacts, published contacts, test numbers, public places, ids."""
    out: list[Row] = []
    own_email = ["email me at {e} if you want the slides", "you can reach me at {e}", "DM me or write to {e}",
                 "my inbox is {e}, send your CV there", "Schreib mir gern an {e}", "escríbeme a {e} y lo hablamos",
                 "écrivez-moi à {e}", "me manda um e-mail: {e}", "scrivimi a {e}", "mail me maar op {e}",
                 "napisz do mnie: {e}", "メールは {e} までお願いします", "drop me a line at {e} for collabs",
                 "I'm moving off this site; my contact is {e}", "questions about my talk? {e}",
                 "new personal address, update your contacts: {e}"]
    for frame in own_email:
        for _ in range(3):
            f, ln = person(rng)
            out.append({"kind": "own_email", "text": frame.format(e=email_for(rng, f, ln))})
    more_own = ["mail me at {eo}, I don't check DMs", "reach me: {eo}", "e-posta adresim {e}, oradan yazın",
                "mejlujcie na {eo}", "contattami pure: {eo}", "skriv till mig på {e}", "제 이메일은 {e} 입니다",
                "— {f} {l}\n{e} | personal site in bio", "Best,\n{f}\n{e}", "Cheers, {f} ({e})",
                "if the form doesn't work, just email me directly at {e}"]
    for frame in more_own:
        for _ in range(3):
            f, ln = person(rng)
            e = email_for(rng, f, ln)
            eo = e.replace("@", " [at] ").replace(".", " [dot] ")
            out.append({"kind": "own_email_obfuscated" if "{eo}" in frame else "own_email",
                        "text": frame.format(e=e, eo=eo, f=f, l=ln)})
    own_phone = ["call me on {p}", "text me at {p} when you land", "my number: {p}", "ruf mich an: {p}",
                 "llámame al {p}", "appelle-moi au {p}", "me liga no {p}", "chiamami al {p}",
                 "WhatsApp me on {p} if you want to join the climbing group", "bel me gerust op {p}",
                 "zadzwoń do mnie: {p}", "bana ulaş: {p}", "ring mig på {p}", "私の番号は {p} です",
                 "I'm the organiser, my mobile is {p} if you get lost", "my cell, for the carpool: {p}"]
    for cc in PHONE_CCS:
        for frame in rng.sample(own_phone, 4):
            out.append({"kind": f"own_phone_{cc}", "text": frame.format(p=_phone(rng, cc))})
    own_addr = ["housewarming at my place saturday! {a}, ring the top bell", "my new address for the Christmas cards: {a}",
                "I'm at {a} if you want to drop the books off", "meine neue Adresse: {a}", "mi nueva dirección es {a}",
                "venez chez moi : {a}"]
    for cc in ADDR_CCS:
        for frame in rng.sample(own_addr, 2):
            out.append({"kind": f"own_address_{cc}", "text": frame.format(a=_address(rng, cc))})
    company = ["Press enquiries: press@acme-example.com", "For media questions, write to press@acme-example.com.",
               "Customer support is at +1 800 555 0199, open 24/7.", "Call our hotline +1 800 555 0199 for help with your order",
               "Our HQ is at 100 Innovation Way, Austin, TX 78701.", "Visit us at 100 Innovation Way, Austin, TX 78701 for the open day",
               "Journalists: press@acme-example.com or +1 800 555 0199", "Acme's office: 100 Innovation Way, Austin, TX 78701 (lobby on the left)",
               "Pressekontakt: press@acme-example.com", "Contacto de prensa: press@acme-example.com",
               "Support (toll-free): +1 800 555 0199", "Mail returns to 100 Innovation Way, Austin, TX 78701"]
    for t in company:
        out.append({"kind": "company_published_contact", "text": t})
        out.append({"kind": "company_published_contact", "text": f"@{rng.choice(HANDLES)} {t}"})
        out.append({"kind": "company_published_contact", "text": f"{t} (from the official contact page)"})
    test_cards = [("4242 4242 4242 4242", "Stripe"), ("4000 0566 5566 5556", "Stripe"), ("5555 5555 5555 4444", "Stripe"),
                  ("2223 0031 2200 3222", "Stripe"), ("3782 822463 10005", "Stripe"), ("6011 1111 1111 1117", "Stripe"),
                  ("4111 1111 1111 1111", "Braintree"), ("4000 0000 0000 9995", "Stripe"), ("5105 1051 0510 5100", "PayPal sandbox"),
                  ("4000 0027 6000 3184", "Stripe 3DS")]
    tc_frames = ["in test mode use {c} with any future expiry and any CVC ({p} docs)",
                 "the {p} test card {c} always succeeds in the sandbox", "QA tip: {c} is {p}'s test number, don't use a real card",
                 "Testkarte für die {p}-Sandbox: {c}"]
    for c, p in test_cards:
        for frame in rng.sample(tc_frames, 2):
            out.append({"kind": "test_card", "text": frame.format(c=c, p=p)})
    for ib, src in [("DE89 3704 0044 0532 0130 00", "Stripe"), ("GB82 WEST 1234 5698 7654 32", "the IBAN spec"),
                    ("FR14 2004 1010 0505 0001 3M02 606", "Stripe"), ("NL91 ABNA 0417 1643 00", "the SEPA docs")]:
        for frame in ["use the test IBAN {i} from {s} for SEPA debit in test mode",
                      "{i} is the example IBAN in {s}, it's not anybody's account",
                      "Sandbox-IBAN laut {s}: {i} (nur im Testmodus)"]:
            out.append({"kind": "test_iban", "text": frame.format(i=ib, s=src)})
    landmarks = [("the White House", "1600 Pennsylvania Avenue NW, Washington, DC 20500"),
                 ("the Empire State Building", "350 Fifth Avenue, New York, NY 10118"),
                 ("the Eiffel Tower", "Champ de Mars, 5 Avenue Anatole France, 75007 Paris"),
                 ("Sydney Opera House", "Bennelong Point, Sydney NSW 2000"),
                 ("the Rijksmuseum", "Museumstraat 1, 1071 XX Amsterdam"),
                 ("Camp Nou", "C. d'Arístides Maillol, 12, 08028 Barcelona"),
                 ("the British Museum", "Great Russell Street, London WC1B 3DG"),
                 ("the Reichstag", "Platz der Republik 1, 11011 Berlin"),
                 ("the Colosseum", "Piazza del Colosseo, 1, 00184 Roma"),
                 ("Madison Square Garden", "4 Pennsylvania Plaza, New York, NY 10001"),
                 ("the Louvre", "Rue de Rivoli, 75001 Paris"), ("Wembley Stadium", "London HA9 0WS"),
                 ("Tokyo Tower", "4-2-8 Shibakoen, Minato City, Tokyo"), ("the Guggenheim Bilbao", "Abandoibarra Etorb., 2, 48009 Bilbao")]
    lm_frames = ["meet at {n}, {a}, at noon", "we're doing the tour from {n} ({a}) tomorrow",
                 "{n} is at {a} — the queue was an hour long", "Treffpunkt: {n}, {a}"]
    for n, a in landmarks:
        for frame in rng.sample(lm_frames, 2):
            out.append({"kind": "landmark_address", "text": frame.format(n=n, a=a)})
    helplines = ["If you're struggling, call or text 988 (US Suicide & Crisis Lifeline).",
                 "Samaritans are on 116 123, free, any time.", "In an emergency in Europe dial 112.",
                 "NHS 111 for urgent but non-emergency medical help.", "TelefonSeelsorge: 0800 111 0 111, anonym und kostenlos",
                 "Teléfono de la Esperanza: 717 003 717", "Childline 0800 1111", "SOS Amitié : 09 72 39 40 50",
                 "Poison Control in the US: 1-800-222-1222", "Lifeline Australia 13 11 14",
                 "National Domestic Violence Hotline: 1-800-799-7233", "Kids Help Phone Canada: 1-800-668-6868",
                 "the DMV office is at 2415 1st Ave, Sacramento — bring your paperwork",
                 "Bürgeramt Mitte, Karl-Marx-Allee 31, 10178 Berlin, Termin online buchen",
                 "call 311 for non-emergency city services in NYC"]
    for t in helplines:
        out.append({"kind": "helpline_or_public_office", "text": t})
        out.append({"kind": "helpline_or_public_office", "text": f"sharing in case anyone needs it: {t}"})
    fiction = ["742 Evergreen Terrace, Springfield", "221B Baker Street, London", "4 Privet Drive, Little Whinging",
               "12 Grimmauld Place", "124 Conch Street, Bikini Bottom", "1313 Mockingbird Lane",
               "31 Spooner Street, Quahog", "123 Main Street, Anytown, USA", "Musterstraße 1, 12345 Musterstadt",
               "1 rue de l'Exemple, 75000 Paris (exemple)"]
    for a in fiction:
        out.append({"kind": "fictional_address", "text": rng.choice(
            ["the form example uses {a}, lol", "fun fact: {a} is the address on the show",
             "placeholder in our seed data: {a}", "{a} — the most famous fake address ever?"]).format(a=a)})
        out.append({"kind": "fictional_address", "text": f"{a} is fictional, stop trying to send letters there 😂"})
    for _ in range(10):
        out.append({"kind": "order_number", "text": rng.choice(
            ["my order #{n} still hasn't shipped, any update?", "Bestellnummer {n}, Paket kam beschädigt an",
             "refund for order {n} arrived, thanks support"]).format(n=digits(rng, rng.choice([9, 10, 11])))})
        out.append({"kind": "tracking_number", "text": rng.choice(
            ["tracking 1Z{t} says out for delivery", "DHL tracking {d} stuck in Leipzig for 3 days",
             "USPS {u} finally moved"]).format(t=rs(rng, UP + DIG, 16), d=digits(rng, 10), u="9400" + digits(rng, 18))})
        out.append({"kind": "invoice_number", "text": rng.choice(
            ["invoice INV-{y}-{n} is overdue on our side, sorry", "Rechnung Nr. {y}/{n} im Anhang",
             "factura F{y}-{n} pagada"]).format(y=rng.randint(2024, 2026), n=digits(rng, 5))})
        out.append({"kind": "ticket_number", "text": rng.choice(
            ["support ticket #{n} — still waiting", "JIRA OPS-{s} is the one for the outage", "case {n} was closed without a fix"]).format(
            n=digits(rng, 7), s=rng.randint(100, 9999))})
    for _ in range(10):
        body = "4" + digits(rng, 14)
        good = _luhn_complete(body)
        bad = good[:-1] + str((int(good[-1]) + rng.randint(1, 9)) % 10)
        out.append({"kind": "fails_check_digit", "text": rng.choice(
            ["the form rejects {b} because it fails the Luhn check — it's a typo",
             "unit test: assert not luhn_valid(\"{b}\")  # invalid on purpose (Luhn)",
             "random 16 digits like {b} don't pass Luhn, that's why the checkout says invalid"]).format(b=bad)})
        ib = _iban("DE", digits(rng, 18))
        badib = ib[:2] + f"{(int(ib[2:4]) + rng.randint(1, 40)) % 97 + 2:02d}" + ib[4:]
        if not _iban_ok(badib):
            out.append({"kind": "fails_check_digit", "text": f"the bank app says {badib} is not a valid IBAN (mod 97 fails), "
                        "I mistyped the check digits"})
    for _ in range(8):
        n = rng.randint(10**7, 10**8 - 1)
        right = "TRWAGMYFPDXBNJZSQVHLCKE"[n % 23]
        wrong = rng.choice([c for c in "TRWAGMYFPDXBNJZSQVHLCKE" if c != right])
        out.append({"kind": "fails_check_digit_dni", "text": rng.choice(
            ["el formulario rechaza el DNI {n}{w} porque la letra no cuadra (ejemplo del curso)",
             "validation demo: {n}{w} is not a valid DNI, the mod-23 letter is wrong",
             "test case for our Spanish ID validator, must fail: {n}{w}"]).format(n=n, w=wrong)})
    famous = [("Ada Lovelace", "10 December 1815"), ("Albert Einstein", "14 March 1879"), ("Frida Kahlo", "6 July 1907"),
              ("Nelson Mandela", "18 July 1918"), ("Marie Curie", "7 November 1867"), ("Alan Turing", "23 June 1912"),
              ("Grace Hopper", "9 December 1906"), ("Wolfgang Amadeus Mozart", "27 January 1756"),
              ("Gabriel García Márquez", "6 March 1927"), ("Serena Williams", "26 September 1981"),
              ("Lionel Messi", "24 June 1987"), ("Beyoncé", "4 September 1981")]
    for n, d in famous:
        out.append({"kind": "famous_public_birthday", "text": rng.choice(
            ["{n} was born on {d} — happy birthday to a legend", "on this day: {n}, born {d}",
             "TIL {n}'s birthday is {d}, adding it to my calendar of heroes"]).format(n=n, d=d)})
        out.append({"kind": "famous_public_birthday", "text": f"{n} (born {d}) quote of the day thread 🧵"})
    ordinary = ["landed in Lisbon at 7am, coffee first", "release 4.12.0 is out, changelog in the repo",
                "meetup in Kraków on 14 May, room 2.03", "the 15:42 to Utrecht is delayed again",
                "upgraded to Python 3.13.1 and everything still works", "Berlin → Munich by train took 4h 05m",
                "our team hit 10,000 downloads this week", "conference badge pickup opens at 08:30 on 2026-06-11",
                "we open at 9:00 tomorrow, see you there", "version 2.0.0-rc.3 fixes the memory leak",
                "temperature in Madrid today: 38 °C, stay inside", "Q3 planning starts 3 September, room Aurora",
                "flight LH 2043 boarding at gate B12", "Seattle → Vancouver road trip this weekend",
                "mon vol pour Montréal part le 12/07 à 14h10", "bus 42 from Plaça de Catalunya, every 12 minutes",
                "node 22.11 LTS dropped, time to upgrade", "the marathon is on 20 October, start at 8:45",
                "kernel 6.12.4 fixed my wifi", "Tokyo → Osaka on the shinkansen: 2h 27m"]
    for t in ordinary:
        out.append({"kind": "ordinary_post", "text": t})
        out.append({"kind": "ordinary_post", "text": f"{t} #{rng.choice(['travel', 'dev', 'life', 'update'])}"})
    return out


# ---------------------------------------------------------------- assembly


def _dedupe(rows: list[Row]) -> list[Row]:
    seen: set[str] = set()
    out = []
    for r in rows:
        if r["text"] not in seen:
            seen.add(r["text"])
            out.append(r)
    return out


def build() -> dict[str, list[dict[str, str]]]:
    """The four files' rows, in order, from one seed."""
    rng = random.Random(SEED)
    return {
        "round5_credentials_positive": _dedupe(credentials_positive(rng)),
        "round5_credentials_hard_negative": _dedupe(credentials_hard_negative(rng)),
        "round5_pii_positive": _dedupe(pii_positive(rng)),
        "round5_pii_negative": _dedupe(pii_negative(rng)),
    }


def main() -> None:
    """Write the four JSON-lines files."""
    for name, rows in build().items():
        with (OUT / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for i, row in enumerate(rows):
                fh.write(json.dumps({"id": f"{name}-{i}", **row}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
