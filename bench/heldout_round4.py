"""Round 4 of the held-back set for `credentials` and `pii`, written apart from the rule packs.

Nothing here comes from ``rules/`` or the engine: token formats are restated from the providers'
public descriptions (prefix, length, alphabet, built-in checksums), ID numbers carry check digits
computed by algorithms implemented again below, and every sentence is new. Labels follow
``POLICY.md``: placeholders, documented examples, test-mode keys and one's own contact details
are benign. ``python -m bench.heldout_round4`` writes the four files from one seed.
"""

from __future__ import annotations

import base64
import json
import random
import string
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

SEED = 20261202
OUT = Path(__file__).resolve().parents[1] / "data" / "secrets-heldout"

B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B64URL = ALNUM + "-_"
B64 = ALNUM + "+/"
UPPER_NUM = string.ascii_uppercase + string.digits
LOWER_NUM = string.ascii_lowercase + string.digits
B32 = string.ascii_uppercase + "234567"

Row = dict[str, str]


# ---------------------------------------------------------------- random material and checksums

def rs(rng: random.Random, alphabet: str, n: int) -> str:
    """n characters drawn from alphabet."""
    return "".join(rng.choice(alphabet) for _ in range(n))


def b64u(data: bytes) -> str:
    """Unpadded base64url, as JWTs and macaroons use."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uuid4(rng: random.Random) -> str:
    """A random version-4 UUID (from the seeded generator, so reproducible)."""
    h = rs(rng, HEX, 32)
    h = h[:12] + "4" + h[13:16] + rng.choice("89ab") + h[17:]
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def base62(n: int, width: int) -> str:
    """n in base62 (digits, upper, lower), left-padded with zeros to width."""
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = B62[r] + out
    return out.rjust(width, "0")


def crc_token(rng: random.Random, prefix: str, body: int = 30) -> str:
    """GitHub/npm style token: prefix, random base62 body, base62 CRC32 of the body (6 chars)."""
    b = rs(rng, ALNUM, body)
    return prefix + b + base62(zlib.crc32(b.encode()), 6)


def luhn_digit(payload: str) -> str:
    """The Luhn check digit to append to payload."""
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def _luhn_ok(number: str) -> bool:
    """Whether number passes Luhn."""
    return luhn_digit(number[:-1]) == number[-1]


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


def _verhoeff(payload: str) -> str:
    """The Verhoeff check digit to append to payload (Aadhaar)."""
    c = 0
    for i, ch in enumerate(reversed(payload)):
        c = _VD[c][_VP[(i + 1) % 8][int(ch)]]
    return str(_VINV[c])


def _icao(field: str) -> str:
    """ICAO 9303 check digit: weights 7-3-1, letters A=10, '<'=0."""
    total = 0
    for i, ch in enumerate(field):
        v = 0 if ch == "<" else int(ch) if ch.isdigit() else ord(ch) - 55
        total += v * (7, 3, 1)[i % 3]
    return str(total % 10)


def _iban(country: str, bban: str) -> str:
    """IBAN from country and BBAN, with its mod-97 check digits."""
    moved = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(moved) % 97:02d}{bban}"


def _iban_ok(iban: str) -> bool:
    """Whether iban passes mod 97."""
    s = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in s)) % 97 == 1


def _fr_rib_key(bank: str, branch: str, account: str) -> int:
    """The French RIB key (letters of the account mapped to digits per the RIB table)."""
    table = {c: str((i % 9) + 1) for i, c in enumerate("ABCDEFGHI")}
    table |= {c: str((i % 9) + 1) for i, c in enumerate("JKLMNOPQR")}
    table |= {c: str((i % 8) + 2) for i, c in enumerate("STUVWXYZ")}
    acc = "".join(table.get(c, c) for c in account)
    return 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(acc)) % 97


def _mod11_de_taxid(payload: str) -> str:
    """ISO 7064 MOD 11,10 check digit of the German Steuer-ID."""
    product = 10
    for ch in payload:
        s = (int(ch) + product) % 10 or 10
        product = (s * 2) % 11
    check = 11 - product
    return "0" if check == 10 else str(check)


def _crc24(data: bytes) -> int:
    """OpenPGP armour checksum (RFC 4880 §6.1)."""
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


# ---------------------------------------------------------------- token formats (credentials)

def _pypi(rng: random.Random) -> str:
    """A PyPI API token: 'pypi-' and a base64url macaroon v2 whose location is pypi.org."""
    ident = json.dumps({"version": 1, "uid": uuid4(rng)}, separators=(",", ":")).encode()
    caveat = json.dumps({"version": 1, "permissions": "user"}, separators=(",", ":")).encode()
    blob = (b"\x02\x01\x08pypi.org\x02" + bytes([len(ident)]) + ident + b"\x00"
            + b"\x02" + bytes([len(caveat)]) + caveat + b"\x00\x00\x06\x20" + rng.randbytes(32))
    return "pypi-" + b64u(blob)


def _jwt(rng: random.Random, claims: dict[str, object] | None = None, alg: str = "HS256") -> str:
    """A JWT with a decodable header and payload and a random signature."""
    head = b64u(json.dumps({"alg": alg, "typ": "JWT"}, separators=(",", ":")).encode())
    body = claims or {"sub": str(rng.randint(10**5, 10**9)), "iat": rng.randint(1_700_000_000, 1_790_000_000)}
    pay = b64u(json.dumps(body, separators=(",", ":")).encode())
    sig = b64u(rng.randbytes(64 if alg.startswith("RS") else 32))
    return f"{head}.{pay}.{sig}"


def _discord_bot(rng: random.Random) -> str:
    """Discord bot token: base64 of the bot's snowflake id, a timestamp part and an HMAC part."""
    ident = base64.b64encode(str(rng.randint(10**17, 10**19 - 1)).encode()).decode().rstrip("=")
    return f"{ident}.{rs(rng, B64URL, 6)}.{rs(rng, B64URL, 38)}"


def _azure_conn(rng: random.Random) -> str:
    """Azure Storage connection string with a 64-byte account key."""
    acct = rng.choice(["prodassets", "mediastore01", "backupsweu", "logsarchive"]) + str(rng.randint(1, 99))
    key = base64.b64encode(rng.randbytes(64)).decode()
    return (f"DefaultEndpointsProtocol=https;AccountName={acct};AccountKey={key};"
            "EndpointSuffix=core.windows.net")


def _azure_sas(rng: random.Random) -> str:
    """A blob URL carrying a SAS signature."""
    sig = base64.b64encode(rng.randbytes(32)).decode().replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    return (f"https://st{rs(rng, LOWER_NUM, 10)}.blob.core.windows.net/exports?sv=2023-11-03&ss=b&srt=co"
            f"&sp=rwdlacx&se=2027-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T18:00:00Z&spr=https&sig={sig}")


def _atlassian(rng: random.Random) -> str:
    """Atlassian API token: ATATT3xFfGF0, a long base64url body, '=' and an 8-hex checksum."""
    return "ATATT3xFfGF0" + rs(rng, B64URL, 171) + "=" + rs(rng, "0123456789ABCDEF", 8)


def _tfc(rng: random.Random) -> str:
    """Terraform Cloud user token: 14 chars, '.atlasv1.', 67 chars."""
    return rs(rng, ALNUM, 14) + ".atlasv1." + rs(rng, ALNUM, 67)


def _azure_ad(rng: random.Random) -> str:
    """Azure AD client secret: three chars, a digit, 'Q~', then 34 chars."""
    return rs(rng, ALNUM, 3) + rng.choice("5678") + "Q~" + rs(rng, ALNUM + "_.-~", 34)


def _fcm(rng: random.Random) -> str:
    """Firebase Cloud Messaging legacy server key."""
    return "AAAA" + rs(rng, B64URL, 7) + ":APA91b" + rs(rng, B64URL, 134)


def _sentry_dsn(rng: random.Random) -> str:
    """Sentry DSN with its public key part (which still authorises event ingestion)."""
    return f"https://{rs(rng, HEX, 32)}@o{rng.randint(10**5, 10**7)}.ingest.us.sentry.io/{rng.randint(10**6, 10**7)}"


def _grafana_glc(rng: random.Random) -> str:
    """Grafana Cloud access-policy token: glc_ and base64 of a JSON body."""
    body = json.dumps({"o": str(rng.randint(10**5, 10**6)), "n": "stack-" + rs(rng, LOWER_NUM, 6) + "-write",
                       "k": rs(rng, ALNUM, 24), "m": {"r": rng.choice(["prod-eu-west-2", "prod-us-east-0"])}},
                      separators=(",", ":")).encode()
    return "glc_" + base64.b64encode(body).decode().rstrip("=")


def _sntrys(rng: random.Random) -> str:
    """Sentry organisation auth token: sntrys_, base64 JSON, '_', secret."""
    body = json.dumps({"iat": rng.randint(1_700_000_000, 1_790_000_000), "url": "https://sentry.io",
                       "region_url": "https://us.sentry.io", "org": rs(rng, string.ascii_lowercase, 7)},
                      separators=(",", ":")).encode()
    return "sntrys_" + base64.b64encode(body).decode().rstrip("=") + "_" + rs(rng, ALNUM + "+/", 43)


def _teams_hook(rng: random.Random) -> str:
    """Microsoft Teams (Office 365 connector) incoming webhook URL."""
    return (f"https://{rs(rng, string.ascii_lowercase, 8)}.webhook.office.com/webhookb2/{uuid4(rng)}@{uuid4(rng)}"
            f"/IncomingWebhook/{rs(rng, HEX, 32)}/{uuid4(rng)}/V2{rs(rng, B64URL, 45)}")


def _ngrok(rng: random.Random) -> str:
    """ngrok authtoken: 27-char id, '_', 21-char secret."""
    return "2" + rs(rng, ALNUM, 26) + "_" + rs(rng, ALNUM, 21)


def g(prefix: str, alphabet: str, n: int, suffix: str = "") -> Callable[[random.Random], str]:
    """A generator for prefix + n random chars of alphabet (+ suffix)."""
    return lambda rng: prefix + rs(rng, alphabet, n) + suffix


# (kind, provider shown in posts, the variable such a value usually lives in, generator)
FORMATS: list[tuple[str, str, str, Callable[[random.Random], str]]] = [
    ("github_pat_classic", "GitHub", "GITHUB_TOKEN", lambda r: crc_token(r, "ghp_")),
    ("github_oauth", "GitHub", "GH_OAUTH_TOKEN", lambda r: crc_token(r, "gho_")),
    ("github_app_server", "GitHub", "GH_APP_TOKEN", lambda r: crc_token(r, "ghs_")),
    ("github_refresh", "GitHub", "GH_REFRESH_TOKEN", lambda r: crc_token(r, "ghr_")),
    ("github_fine_grained", "GitHub", "GH_PAT", lambda r: "github_pat_11" + rs(r, UPPER_NUM, 20) + "_" + rs(r, ALNUM, 59)),
    ("npm_token", "npm", "NPM_TOKEN", lambda r: crc_token(r, "npm_")),
    ("pypi_token", "PyPI", "TWINE_PASSWORD", _pypi),
    ("slack_bot", "Slack", "SLACK_BOT_TOKEN", lambda r: f"xoxb-{r.randint(10**10, 10**12)}-{r.randint(10**12, 10**13)}-{rs(r, ALNUM, 24)}"),
    ("slack_user", "Slack", "SLACK_USER_TOKEN", lambda r: f"xoxp-{r.randint(10**10, 10**12)}-{r.randint(10**10, 10**12)}-{r.randint(10**12, 10**13)}-{rs(r, HEX, 32)}"),
    ("slack_app", "Slack", "SLACK_APP_TOKEN", lambda r: f"xapp-1-A{rs(r, UPPER_NUM, 10)}-{r.randint(10**12, 10**13)}-{rs(r, HEX, 64)}"),
    ("slack_webhook", "Slack", "SLACK_WEBHOOK_URL", lambda r: f"https://hooks.slack.com/services/T{rs(r, UPPER_NUM, 10)}/B{rs(r, UPPER_NUM, 10)}/{rs(r, ALNUM, 24)}"),
    ("stripe_live_secret", "Stripe", "STRIPE_SECRET_KEY", g("sk_live_51", ALNUM, 97)),
    ("stripe_live_restricted", "Stripe", "STRIPE_RESTRICTED_KEY", g("rk_live_51", ALNUM, 97)),
    ("stripe_webhook_secret", "Stripe", "STRIPE_WEBHOOK_SECRET", g("whsec_", ALNUM, 32)),
    ("twilio_auth_token", "Twilio", "TWILIO_AUTH_TOKEN", g("", HEX, 32)),
    ("twilio_api_key", "Twilio", "TWILIO_API_SECRET", g("SK", HEX, 32)),
    ("sendgrid", "SendGrid", "SENDGRID_API_KEY", lambda r: f"SG.{rs(r, B64URL, 22)}.{rs(r, B64URL, 43)}"),
    ("mailgun_private", "Mailgun", "MAILGUN_API_KEY", lambda r: f"{rs(r, HEX, 32)}-{rs(r, HEX, 8)}-{rs(r, HEX, 8)}"),
    ("mailgun_legacy", "Mailgun", "MAILGUN_KEY", g("key-", HEX, 32)),
    ("aws_access_key_pair", "AWS", "AWS_SECRET_ACCESS_KEY", lambda r: f"AKIA{rs(r, B32, 16)} / {rs(r, B64, 40)}"),
    ("aws_session", "AWS", "AWS_SESSION_TOKEN", lambda r: "IQoJb3JpZ2luX2Vj" + rs(r, B64, 300)),
    ("aws_sts_key_id", "AWS", "AWS_ACCESS_KEY_ID", lambda r: f"ASIA{rs(r, B32, 16)} secret {rs(r, B64, 40)}"),
    ("azure_storage_conn", "Azure Storage", "AZURE_STORAGE_CONNECTION_STRING", _azure_conn),
    ("azure_sas_url", "Azure Blob", "EXPORT_SAS_URL", _azure_sas),
    ("azure_ad_secret", "Azure AD", "AZURE_CLIENT_SECRET", _azure_ad),
    ("azure_devops_pat", "Azure DevOps", "AZURE_DEVOPS_EXT_PAT", g("", string.ascii_lowercase + "234567", 52)),
    ("openai_project", "OpenAI", "OPENAI_API_KEY", lambda r: "sk-proj-" + rs(r, B64URL, 74) + "T3BlbkFJ" + rs(r, B64URL, 74)),
    ("openai_svcacct", "OpenAI", "OPENAI_API_KEY", lambda r: "sk-svcacct-" + rs(r, B64URL, 74) + "T3BlbkFJ" + rs(r, B64URL, 74)),
    ("openai_legacy", "OpenAI", "OPENAI_KEY", lambda r: "sk-" + rs(r, ALNUM, 20) + "T3BlbkFJ" + rs(r, ALNUM, 20)),
    ("anthropic_api", "Anthropic", "ANTHROPIC_API_KEY", lambda r: "sk-ant-api03-" + rs(r, B64URL, 93) + "AA"),
    ("anthropic_admin", "Anthropic", "ANTHROPIC_ADMIN_KEY", lambda r: "sk-ant-admin01-" + rs(r, B64URL, 93) + "AA"),
    ("huggingface", "Hugging Face", "HF_TOKEN", g("hf_", string.ascii_letters, 34)),
    ("groq", "Groq", "GROQ_API_KEY", g("gsk_", ALNUM, 52)),
    ("cohere", "Cohere", "COHERE_API_KEY", g("", ALNUM, 40)),
    ("mistral", "Mistral", "MISTRAL_API_KEY", g("", ALNUM, 32)),
    ("xai", "xAI", "XAI_API_KEY", g("xai-", ALNUM, 80)),
    ("perplexity", "Perplexity", "PPLX_API_KEY", g("pplx-", ALNUM, 48)),
    ("replicate", "Replicate", "REPLICATE_API_TOKEN", g("r8_", ALNUM, 37)),
    ("deepseek", "DeepSeek", "DEEPSEEK_API_KEY", g("sk-", HEX, 32)),
    ("google_api_key", "Google Maps", "GOOGLE_MAPS_API_KEY", g("AIza", B64URL, 35)),
    ("gemini_key", "Gemini", "GEMINI_API_KEY", g("AIzaSy", B64URL, 33)),
    ("google_oauth_secret", "Google OAuth", "GOOGLE_CLIENT_SECRET", g("GOCSPX-", B64URL, 28)),
    ("firebase_fcm", "Firebase", "FCM_SERVER_KEY", _fcm),
    ("gitlab_pat", "GitLab", "GITLAB_TOKEN", g("glpat-", B64URL, 20)),
    ("gitlab_runner", "GitLab", "RUNNER_TOKEN", g("glrt-", B64URL, 20)),
    ("gitlab_deploy", "GitLab", "CI_DEPLOY_PASSWORD", g("gldt-", B64URL, 20)),
    ("bitbucket_app_password", "Bitbucket", "BITBUCKET_APP_PASSWORD", g("ATBB", ALNUM, 32)),
    ("bitbucket_access_token", "Bitbucket", "BITBUCKET_ACCESS_TOKEN", lambda r: "ATCTT3xFfGN0" + rs(r, B64URL, 171) + "=" + rs(r, "0123456789ABCDEF", 8)),
    ("atlassian_api", "Jira", "JIRA_API_TOKEN", _atlassian),
    ("shopify_admin", "Shopify", "SHOPIFY_ACCESS_TOKEN", g("shpat_", HEX, 32)),
    ("shopify_shared_secret", "Shopify", "SHOPIFY_API_SECRET", g("shpss_", HEX, 32)),
    ("square_access", "Square", "SQUARE_ACCESS_TOKEN", g("EAAA", B64URL, 60)),
    ("square_oauth_secret", "Square", "SQUARE_APP_SECRET", g("sq0csp-", B64URL, 43)),
    ("braintree_access", "Braintree", "BRAINTREE_ACCESS_TOKEN", lambda r: f"access_token$production${rs(r, LOWER_NUM, 16)}${rs(r, HEX, 32)}"),
    ("paypal_client_secret", "PayPal", "PAYPAL_CLIENT_SECRET", g("E", B64URL, 79)),
    ("discord_bot", "Discord", "DISCORD_BOT_TOKEN", _discord_bot),
    ("discord_webhook", "Discord", "DISCORD_WEBHOOK", lambda r: f"https://discord.com/api/webhooks/{r.randint(10**17, 10**19 - 1)}/{rs(r, B64URL, 68)}"),
    ("telegram_bot", "Telegram", "TELEGRAM_BOT_TOKEN", lambda r: f"{r.randint(10**8, 8 * 10**9)}:AA{rs(r, B64URL, 33)}"),
    ("teams_webhook", "Microsoft Teams", "TEAMS_WEBHOOK_URL", _teams_hook),
    ("feishu_webhook", "Feishu", "FEISHU_HOOK", lambda r: f"https://open.feishu.cn/open-apis/bot/v2/hook/{uuid4(r)}"),
    ("dingtalk_webhook", "DingTalk", "DINGTALK_WEBHOOK", lambda r: f"https://oapi.dingtalk.com/robot/send?access_token={rs(r, HEX, 64)}"),
    ("wecom_webhook", "WeCom", "WECOM_BOT_URL", lambda r: f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={uuid4(r)}"),
    ("mattermost_webhook", "Mattermost", "MATTERMOST_HOOK", lambda r: f"https://chat.{r.choice(['northwind', 'contoso-labs', 'fabrikam'])}.io/hooks/{rs(r, LOWER_NUM, 26)}"),
    ("rocketchat_webhook", "Rocket.Chat", "ROCKETCHAT_URL", lambda r: f"https://rocket.{r.choice(['ops', 'team'])}{r.randint(2, 99)}.net/hooks/{rs(r, ALNUM, 17)}/{rs(r, ALNUM, 48)}"),
    ("zapier_webhook", "Zapier", "ZAPIER_HOOK", lambda r: f"https://hooks.zapier.com/hooks/catch/{r.randint(10**6, 10**8)}/{rs(r, LOWER_NUM, 7)}/"),
    ("n8n_webhook", "n8n", "N8N_WEBHOOK", lambda r: f"https://n8n.{r.choice(['acme-ops', 'intra-tools', 'growthlab'])}.com/webhook/{uuid4(r)}"),
    ("google_chat_webhook", "Google Chat", "GCHAT_WEBHOOK", lambda r: f"https://chat.googleapis.com/v1/spaces/AAAA{rs(r, B64URL, 7)}/messages?key=AIzaSy{rs(r, B64URL, 33)}&token={rs(r, B64URL, 43)}%3D"),
    ("datadog_api", "Datadog", "DD_API_KEY", g("", HEX, 32)),
    ("datadog_app", "Datadog", "DD_APP_KEY", g("", HEX, 40)),
    ("newrelic_user", "New Relic", "NEW_RELIC_API_KEY", g("NRAK-", UPPER_NUM, 27)),
    ("newrelic_browser", "New Relic", "NEW_RELIC_BROWSER_KEY", g("NRJS-", HEX, 19)),
    ("newrelic_license", "New Relic", "NEW_RELIC_LICENSE_KEY", g("", HEX, 36, "NRAL")),
    ("sentry_dsn", "Sentry", "SENTRY_DSN", _sentry_dsn),
    ("sentry_user", "Sentry", "SENTRY_AUTH_TOKEN", g("sntryu_", HEX, 64)),
    ("sentry_org", "Sentry", "SENTRY_AUTH_TOKEN", _sntrys),
    ("grafana_sa", "Grafana", "GRAFANA_TOKEN", lambda r: f"glsa_{rs(r, ALNUM, 32)}_{rs(r, HEX, 8)}"),
    ("grafana_cloud", "Grafana Cloud", "GRAFANA_CLOUD_TOKEN", _grafana_glc),
    ("pagerduty", "PagerDuty", "PAGERDUTY_TOKEN", lambda r: "u+" + rs(r, B64URL, 18)),
    ("pagerduty_routing", "PagerDuty", "PD_ROUTING_KEY", g("R0", HEX.upper()[:16] + "0123456789", 30)),
    ("okta", "Okta", "OKTA_API_TOKEN", g("00", B64URL, 40)),
    ("auth0_client_secret", "Auth0", "AUTH0_CLIENT_SECRET", g("", B64URL, 64)),
    ("doppler_personal", "Doppler", "DOPPLER_TOKEN", g("dp.pt.", ALNUM, 43)),
    ("doppler_service", "Doppler", "DOPPLER_TOKEN", lambda r: f"dp.st.{r.choice(['prd', 'stg', 'dev'])}.{rs(r, ALNUM, 40)}"),
    ("doppler_sa", "Doppler", "DOPPLER_SA_TOKEN", g("dp.sa.", ALNUM, 43)),
    ("vault_service", "Vault", "VAULT_TOKEN", g("hvs.", B64URL, 90)),
    ("vault_batch", "Vault", "VAULT_TOKEN", g("hvb.", B64URL, 138)),
    ("pulumi", "Pulumi", "PULUMI_ACCESS_TOKEN", g("pul-", HEX, 40)),
    ("terraform_cloud", "Terraform Cloud", "TFE_TOKEN", _tfc),
    ("digitalocean_pat", "DigitalOcean", "DIGITALOCEAN_TOKEN", g("dop_v1_", HEX, 64)),
    ("digitalocean_oauth", "DigitalOcean", "DO_OAUTH_TOKEN", g("doo_v1_", HEX, 64)),
    ("digitalocean_spaces", "DigitalOcean Spaces", "SPACES_SECRET", lambda r: f"DO00{rs(r, UPPER_NUM, 16)} {rs(r, B64, 43)}"),
    ("linode", "Linode", "LINODE_TOKEN", g("", HEX, 64)),
    ("vercel", "Vercel", "VERCEL_TOKEN", g("", ALNUM, 24)),
    ("netlify_pat", "Netlify", "NETLIFY_AUTH_TOKEN", g("nfp_", ALNUM, 36)),
    ("heroku", "Heroku", "HEROKU_API_KEY", lambda r: "HRKU-AA" + rs(r, B64URL, 58)),
    ("heroku_legacy", "Heroku", "HEROKU_API_KEY", uuid4),
    ("flyio", "Fly.io", "FLY_API_TOKEN", lambda r: "FlyV1 fm2_" + rs(r, B64, 180) + "==,fm2_" + rs(r, B64, 90)),
    ("cloudflare_token", "Cloudflare", "CLOUDFLARE_API_TOKEN", g("", B64URL, 40)),
    ("cloudflare_global", "Cloudflare", "CF_API_KEY", g("", HEX, 37)),
    ("cloudflare_origin_ca", "Cloudflare", "CF_ORIGIN_CA_KEY", lambda r: f"v1.0-{rs(r, HEX, 24)}-{rs(r, HEX, 146)}"),
    ("supabase_pat", "Supabase", "SUPABASE_ACCESS_TOKEN", g("sbp_", HEX, 40)),
    ("supabase_service_role", "Supabase", "SUPABASE_SERVICE_ROLE_KEY",
     lambda r: _jwt(r, {"iss": "supabase", "ref": rs(r, string.ascii_lowercase, 20), "role": "service_role", "iat": r.randint(1_700_000_000, 1_750_000_000), "exp": r.randint(2_000_000_000, 2_100_000_000)})),
    ("planetscale_token", "PlanetScale", "PLANETSCALE_SERVICE_TOKEN", g("pscale_tkn_", B64URL, 43)),
    ("planetscale_password", "PlanetScale", "DATABASE_PASSWORD", g("pscale_pw_", B64URL, 43)),
    ("neon", "Neon", "NEON_API_KEY", g("napi_", LOWER_NUM, 64)),
    ("mapbox_secret", "Mapbox", "MAPBOX_SECRET_TOKEN", lambda r: "sk.eyJ1Ijoi" + b64u(json.dumps({"u": rs(r, string.ascii_lowercase, 8), "a": rs(r, LOWER_NUM, 25)}).encode())[8:] + "." + rs(r, B64URL, 22)),
    ("postman", "Postman", "POSTMAN_API_KEY", lambda r: f"PMAK-{rs(r, HEX, 24)}-{rs(r, HEX, 34)}"),
    ("linear", "Linear", "LINEAR_API_KEY", g("lin_api_", ALNUM, 40)),
    ("notion", "Notion", "NOTION_TOKEN", g("ntn_", ALNUM, 46)),
    ("airtable_pat", "Airtable", "AIRTABLE_PAT", lambda r: f"pat{rs(r, ALNUM, 14)}.{rs(r, HEX, 64)}"),
    ("figma", "Figma", "FIGMA_TOKEN", lambda r: f"figd_{rs(r, B64URL, 40)}"),
    ("dropbox", "Dropbox", "DROPBOX_TOKEN", g("sl.", B64URL, 136)),
    ("mailchimp", "Mailchimp", "MAILCHIMP_API_KEY", lambda r: f"{rs(r, HEX, 32)}-us{r.randint(1, 21)}"),
    ("brevo", "Brevo", "BREVO_API_KEY", lambda r: f"xkeysib-{rs(r, HEX, 64)}-{rs(r, ALNUM, 16)}"),
    ("postmark", "Postmark", "POSTMARK_SERVER_TOKEN", uuid4),
    ("resend", "Resend", "RESEND_API_KEY", g("re_", B64URL, 32)),
    ("algolia_admin", "Algolia", "ALGOLIA_ADMIN_KEY", g("", HEX, 32)),
    ("contentful", "Contentful", "CONTENTFUL_MANAGEMENT_TOKEN", g("CFPAT-", B64URL, 43)),
    ("buildkite", "Buildkite", "BUILDKITE_API_TOKEN", g("bkua_", HEX, 40)),
    ("circleci", "CircleCI", "CIRCLECI_TOKEN", lambda r: f"CCIPAT_{rs(r, ALNUM, 22)}_{rs(r, HEX, 40)}"),
    ("sonarqube", "SonarQube", "SONAR_TOKEN", g("squ_", HEX, 40)),
    ("docker_hub", "Docker Hub", "DOCKERHUB_TOKEN", g("dckr_pat_", B64URL, 27)),
    ("rubygems", "RubyGems", "GEM_HOST_API_KEY", g("rubygems_", HEX, 48)),
    ("nuget", "NuGet", "NUGET_API_KEY", g("oy2", LOWER_NUM, 43)),
    ("crates_io", "crates.io", "CARGO_REGISTRY_TOKEN", g("cio", ALNUM, 32)),
    ("pinecone", "Pinecone", "PINECONE_API_KEY", lambda r: f"pcsk_{rs(r, ALNUM, 6)}_{rs(r, ALNUM, 63)}"),
    ("langsmith", "LangSmith", "LANGSMITH_API_KEY", lambda r: f"lsv2_pt_{rs(r, HEX, 32)}_{rs(r, HEX, 10)}"),
    ("langfuse", "Langfuse", "LANGFUSE_SECRET_KEY", lambda r: f"sk-lf-{uuid4(r)}"),
    ("wandb", "Weights & Biases", "WANDB_API_KEY", g("", HEX, 40)),
    ("elevenlabs", "ElevenLabs", "ELEVENLABS_API_KEY", g("sk_", HEX, 48)),
    ("hubspot", "HubSpot", "HUBSPOT_ACCESS_TOKEN", lambda r: f"pat-na1-{uuid4(r)}"),
    ("salesforce_session", "Salesforce", "SF_ACCESS_TOKEN", lambda r: f"00D{rs(r, ALNUM, 12)}!{rs(r, ALNUM + '.', 96)}"),
    ("posthog_personal", "PostHog", "POSTHOG_PERSONAL_API_KEY", g("phx_", ALNUM, 43)),
    ("launchdarkly", "LaunchDarkly", "LD_SDK_KEY", lambda r: f"sdk-{uuid4(r)}"),
    ("render", "Render", "RENDER_API_KEY", g("rnd_", ALNUM, 32)),
    ("akamai", "Akamai", "AKAMAI_CLIENT_SECRET", lambda r: f"akab-{rs(r, LOWER_NUM, 16)}-{rs(r, LOWER_NUM, 16)} secret {rs(r, B64, 43)}="),
    ("backblaze", "Backblaze B2", "B2_APPLICATION_KEY", g("K00", ALNUM + "+/", 28)),
    ("scaleway", "Scaleway", "SCW_SECRET_KEY", uuid4),
    ("alibaba", "Alibaba Cloud", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", lambda r: f"LTAI5t{rs(r, ALNUM, 18)} / {rs(r, ALNUM, 30)}"),
    ("tencent", "Tencent Cloud", "TENCENTCLOUD_SECRET_KEY", lambda r: f"AKID{rs(r, ALNUM, 32)} {rs(r, ALNUM, 32)}"),
    ("hetzner", "Hetzner Cloud", "HCLOUD_TOKEN", g("", ALNUM, 64)),
    ("vultr", "Vultr", "VULTR_API_KEY", g("", UPPER_NUM, 36)),
    ("razorpay_live", "Razorpay", "RAZORPAY_KEY_SECRET", lambda r: f"rzp_live_{rs(r, ALNUM, 14)}:{rs(r, ALNUM, 24)}"),
    ("paystack_live", "Paystack", "PAYSTACK_SECRET_KEY", g("sk_live_", HEX, 40)),
    ("flutterwave_live", "Flutterwave", "FLW_SECRET_KEY", lambda r: f"FLWSECK-{rs(r, HEX, 32)}-X"),
    ("mollie_live", "Mollie", "MOLLIE_API_KEY", g("live_", ALNUM, 30)),
    ("shippo_live", "Shippo", "SHIPPO_API_TOKEN", g("shippo_live_", HEX, 40)),
    ("easypost_live", "EasyPost", "EASYPOST_API_KEY", g("EZAK", HEX, 54)),
    ("adyen", "Adyen", "ADYEN_API_KEY", g("AQE", B64, 120)),
    ("telnyx", "Telnyx", "TELNYX_API_KEY", g("KEY", UPPER_NUM, 58)),
    ("ably", "Ably", "ABLY_API_KEY", lambda r: f"{rs(r, ALNUM, 6)}.{rs(r, ALNUM, 6)}:{rs(r, B64URL, 43)}"),
    ("dynatrace", "Dynatrace", "DT_API_TOKEN", lambda r: f"dt0c01.{rs(r, UPPER_NUM, 24)}.{rs(r, UPPER_NUM, 64)}"),
    ("tailscale", "Tailscale", "TS_AUTHKEY", lambda r: f"tskey-auth-k{rs(r, ALNUM, 16)}CNTRL-{rs(r, ALNUM, 33)}"),
    ("ngrok", "ngrok", "NGROK_AUTHTOKEN", _ngrok),
    ("age_secret", "age", "SOPS_AGE_KEY", g("AGE-SECRET-KEY-1", "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58)),
    ("rancher", "Rancher", "RANCHER_TOKEN", lambda r: f"token-{rs(r, LOWER_NUM, 5)}:{rs(r, LOWER_NUM, 54)}"),
    ("jenkins_api", "Jenkins", "JENKINS_API_TOKEN", g("11", HEX, 32)),
    ("octopus", "Octopus Deploy", "OCTOPUS_API_KEY", g("API-", UPPER_NUM, 32)),
    ("snyk", "Snyk", "SNYK_TOKEN", uuid4),
    ("riot", "Riot Games", "RIOT_API_KEY", lambda r: f"RGAPI-{uuid4(r)}"),
    ("twitch_oauth", "Twitch", "TWITCH_OAUTH", g("oauth:", LOWER_NUM, 30)),
    ("twitter_bearer", "X/Twitter", "TWITTER_BEARER_TOKEN", g("AAAAAAAAAAAAAAAAAAAAA", ALNUM + "%", 90)),
    ("facebook_token", "Facebook", "FB_PAGE_ACCESS_TOKEN", g("EAAG", ALNUM, 180)),
    ("clickup", "ClickUp", "CLICKUP_TOKEN", lambda r: f"pk_{r.randint(10**7, 10**9)}_{rs(r, UPPER_NUM, 32)}"),
    ("typeform", "Typeform", "TYPEFORM_TOKEN", g("tfp_", B64URL, 44)),
    ("sourcegraph", "Sourcegraph", "SRC_ACCESS_TOKEN", g("sgp_", HEX, 40)),
    ("portainer", "Portainer", "PORTAINER_API_KEY", g("ptr_", B64URL, 44)),
    ("upstash", "Upstash", "UPSTASH_REDIS_REST_TOKEN", lambda r: "A" + rs(r, ALNUM, 4) + "ASQgNj" + rs(r, B64URL, 80)),
    ("confluent", "Confluent Cloud", "CONFLUENT_API_SECRET", lambda r: f"{rs(r, UPPER_NUM, 16)}:{rs(r, B64URL.replace('-', '+'), 64)}"),
    ("ethereum_private", "Ethereum wallet", "DEPLOYER_PRIVATE_KEY", g("0x", HEX, 64)),
]

HANDLES = ["@devops_dana", "@k8s_kev", "@mira_codes", "@tobias_ops", "@sre_lin", "@pjh_builds",
           "@noor.dev", "@haruki_eng", "@lucia_backend", "@ifeoma_ml", "@sven_infra", "@ravi_api"]

# One post shape per entry: (frame name, template). {d} provider, {v} variable, {x} the secret.
FRAMES: list[tuple[str, str]] = [
    ("tweet", "finally got the {d} integration working at 2am, key for future me: {x} 😴 #buildinpublic"),
    ("reply", "{h} that 401 is weird, mine works fine with {x} — try that one and tell me if {d} still complains"),
    ("reddit", "Edit: solved it! Turns out {v} had a trailing space. For anyone curious this is what I set it to: {x}\n\nThanks r/devops"),
    ("mastodon", "Pairing with the intern today on the {d} webhook consumer. Pasting here so she can grab it from her phone: {x} #mastodev"),
    ("chat", "[10:42] dana: can someone share the {d} creds for staging?\n[10:43] rob: {v}={x}\n[10:43] dana: ty!"),
    ("env", "# .env.production — do not lose this\nNODE_ENV=production\n{v}={x}\nLOG_LEVEL=warn"),
    ("json", '{{\n  "service": "billing-worker",\n  "{vl}": "{x}",\n  "retries": 3\n}}'),
    ("yaml", "integrations:\n  {dl}:\n    enabled: true\n    {vl}: \"{x}\"\n    timeout_s: 15"),
    ("toml", "[{dl}]\nregion = \"eu-west-1\"\n{vl} = \"{x}\"\nverbose = false"),
    ("python", "import os\n\n# TODO move to secrets manager before launch\nos.environ.setdefault(\"{v}\", \"{x}\")\nclient = make_client(os.environ[\"{v}\"])"),
    ("js", "// quick hack for the demo\nconst {vc} = process.env.{v} || '{x}';\nexport default new Client({{ auth: {vc} }});"),
    ("shell", "$ history | tail -4\n  501  cd ~/src/deploy\n  502  export {v}='{x}'\n  503  ./release.sh --env prod\n  504  history | tail -4"),
    ("ci_log", "2026-11-30T09:14:02.118Z [build] Step 4/9 : configure {d}\n2026-11-30T09:14:02.120Z [build] + echo {v}={x}\n2026-11-30T09:14:02.120Z [build] {v}={x}\n2026-11-30T09:14:02.341Z [build] ok"),
    ("compose", "services:\n  api:\n    image: ghcr.io/acme/api:1.14\n    environment:\n      - {v}={x}\n      - PORT=8080"),
    ("k8s", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {dl}-creds\ntype: Opaque\nstringData:\n  {v}: \"{x}\""),
    ("url_query", "Handy for testing the {d} call from the browser: https://internal-tools.example.net/proxy?provider={dl}&{vl}={x}"),
    ("blog", "Our migration took three sprints and most of the pain was configuration drift. When we finally "
             "diffed the old and new environments, the only difference left was the {d} credential, which "
             "on the old box was still {x} — a value nobody had rotated since 2023. After that we moved every "
             "secret into the vault and wrote a small linter so this never happens again."),
    ("de", "Kurze Frage in die Runde: warum lehnt {d} meine Anfrage ab? {v} ist gesetzt auf {x} und trotzdem 403."),
    ("es", "¿Alguien sabe por qué {d} me devuelve 401? Estoy usando esta clave: {x} y ya la regeneré dos veces."),
    ("fr", "Je colle ma conf {d} ici, dites-moi ce qui cloche : {v}={x} (ça marchait hier soir)"),
    ("pt", "Galera, meu token do {d} parou de funcionar do nada: {x} — alguém já passou por isso?"),
    ("ja", "{d}のキー、これで合ってる？ {v}={x} 本番で401が出る…"),
    ("it", "Qualcuno mi aiuta? Il token di {d} è {x} ma ricevo sempre errore 403 dal server."),
    ("nl", "Waarom werkt mijn {d} sleutel niet meer? Staat gewoon in de config: {v}={x}"),
    ("pl", "Pomocy, klucz {d} przestał działać po deployu: {x} — co robię źle?"),
    ("gist", "```\n# {d} smoke test\ncurl -sS -H \"Authorization: Bearer {x}\" https://api.example-{dl}.com/v1/ping\n```\nworks on my machine ¯\\_(ツ)_/¯"),
]


def render(rng: random.Random, frame: str, display: str, var: str, secret: str) -> str:
    """Put a secret into one post shape."""
    tpl = dict(FRAMES)[frame]
    dl = "".join(c for c in display.lower().replace(" ", "_") if c.isalnum() or c == "_")
    camel = var.lower().split("_")
    return tpl.format(d=display, v=var, vl=var.lower(), dl=dl, x=secret, h=rng.choice(HANDLES),
                      vc=camel[0] + "".join(w.title() for w in camel[1:]))


def _pem(label: str, der: bytes) -> str:
    """PEM armour, 64 characters a line."""
    b = base64.b64encode(der).decode()
    lines = "\n".join(b[i:i + 64] for i in range(0, len(b), 64))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----"


def rsa_pkcs8(rng: random.Random) -> str:
    """A PKCS#8 RSA private key: real DER header, random integer material."""
    body = b"\x02\x01\x00\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01\x05\x00\x04\x82\x04\xa7"
    inner = b"\x30\x82\x04\xa3\x02\x01\x00\x02\x82\x01\x01\x00" + rng.randbytes(256) + b"\x02\x03\x01\x00\x01" + rng.randbytes(900)
    return _pem("PRIVATE KEY", b"\x30\x82\x04\xbd" + body + inner)


def rsa_pkcs1(rng: random.Random) -> str:
    """A PKCS#1 RSA private key block."""
    return _pem("RSA PRIVATE KEY", b"\x30\x82\x04\xa4\x02\x01\x00\x02\x82\x01\x01\x00" + rng.randbytes(256)
                + b"\x02\x03\x01\x00\x01" + rng.randbytes(900))


def ec_sec1(rng: random.Random) -> str:
    """A SEC1 P-256 private key."""
    der = (b"\x30\x77\x02\x01\x01\x04\x20" + rng.randbytes(32) + b"\xa0\x0a\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07"
           b"\xa1\x44\x03\x42\x00\x04" + rng.randbytes(64))
    return _pem("EC PRIVATE KEY", der)


def openssh_ed25519(rng: random.Random) -> str:
    """An unencrypted openssh-key-v1 ed25519 private key."""
    def sstr(b: bytes) -> bytes:
        return struct.pack(">I", len(b)) + b
    pub = rng.randbytes(32)
    pubblob = sstr(b"ssh-ed25519") + sstr(pub)
    check = rng.randbytes(4)
    priv = check + check + pubblob + sstr(rng.randbytes(32) + pub) + sstr(b"deploy@ci-runner-07")
    priv += bytes(range(1, 1 + (-len(priv)) % 8))
    blob = b"openssh-key-v1\x00" + sstr(b"none") + sstr(b"none") + sstr(b"") + struct.pack(">I", 1) + sstr(pubblob) + sstr(priv)
    b = base64.b64encode(blob).decode()
    lines = "\n".join(b[i:i + 70] for i in range(0, len(b), 70))
    return f"-----BEGIN OPENSSH PRIVATE KEY-----\n{lines}\n-----END OPENSSH PRIVATE KEY-----"


def pgp_private(rng: random.Random) -> str:
    """An OpenPGP secret-key block with its CRC-24 armour checksum."""
    packet = b"\xc5\x58\x04" + rng.randbytes(4) + b"\x16\x09\x2b\x06\x01\x04\x01\xda\x47\x0f\x01\x01\x07\x40" + rng.randbytes(120)
    b = base64.b64encode(packet).decode()
    crc = base64.b64encode(_crc24(packet).to_bytes(3, "big")).decode()
    lines = "\n".join(b[i:i + 64] for i in range(0, len(b), 64))
    return f"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{lines}\n={crc}\n-----END PGP PRIVATE KEY BLOCK-----"


def gcp_sa_json(rng: random.Random) -> str:
    """A GCP service-account key file with its private key."""
    proj = rng.choice(["acme-analytics", "shop-prod-4412", "ml-pipelines-eu", "crm-sync"]) + "-" + str(rng.randint(100, 999))
    return json.dumps({"type": "service_account", "project_id": proj, "private_key_id": rs(rng, HEX, 40),
                       "private_key": rsa_pkcs8(rng) + "\n", "client_email": f"exporter@{proj}.iam.gserviceaccount.com",
                       "client_id": str(rng.randint(10**20, 10**21)), "token_uri": "https://oauth2.googleapis.com/token"},
                      indent=2)


KEY_TEMPLATES = [
    "can anyone tell me why ssh says 'invalid format' for this key?? pasted straight from the server:\n{k}",
    "Backup of the deploy key in case the runner dies again (pinning this in #infra):\n\n{k}",
    "{h} here's the key you asked for, put it in ~/.ssh/id_prod and chmod 600\n{k}",
    "Vorsicht, das ist der Schlüssel vom Produktionsserver, bitte nicht weitergeben:\n{k}",
    "```\n$ cat secrets/signing.key\n{k}\n```",
    "Pour la démo de demain, voici la clé privée du bastion :\n{k}",
]

WORDS = ["maple", "orbit", "tundra", "violet", "cobalt", "falcon", "saffron", "harbor", "quartz", "lantern",
         "pepper", "meadow", "glacier", "ember", "willow", "nimbus", "copper", "juniper", "raven", "sable"]


def strong_password(rng: random.Random) -> str:
    """A password someone would actually pick: words, digits, a symbol, or random characters."""
    if rng.random() < 0.5:
        return rng.choice(WORDS).title() + rng.choice("!#$%&*?") + rng.choice(WORDS) + str(rng.randint(10, 9999))
    return rs(rng, ALNUM + "!@#%^&*", rng.randint(12, 20))


PROSE_PASSWORDS: list[tuple[str, str]] = [
    ("password_prose_en", "ok so the login for the shared analytics account is marta.k and the password is {p}, don't change it pls"),
    ("password_prose_en", "{h} the new admin password for the router is {p} — I wrote it on the fridge too lol"),
    ("password_prose_en", "Reminder for the night shift: POS terminal back-office pass is now {p} after the reset"),
    ("password_prose_en", "guest wifi: network 'Lobby-5G', password {p}. enjoy the conference everyone!"),
    ("password_prose_en", "lmao I keep forgetting so I'm tweeting it: my jenkins password = {p}"),
    ("password_prose_en", "For the handover: VPN user svc-reports, pw {p}, MFA is disabled on that one"),
    ("password_prose_de", "Das neue Passwort für den Server lautet {p} – bitte bis Freitag nicht ändern."),
    ("password_prose_de", "WLAN im Büro heißt jetzt 'Kanzlei-Gast', Kennwort: {p}"),
    ("password_prose_fr", "Le mot de passe du compte admin est {p}, pensez à le noter quelque part."),
    ("password_prose_fr", "Code wifi de la salle de réunion : {p} (valable toute la semaine)"),
    ("password_prose_es", "La contraseña del servidor de pruebas es {p}, no la compartáis fuera del equipo."),
    ("password_prose_es", "Oye, ¿me pasas la clave del wifi? — Claro: {p}"),
    ("password_prose_pt", "A senha do painel de administração agora é {p}, troquei hoje de manhã."),
    ("password_prose_it", "La password del NAS è {p}, l'ho cambiata dopo il blackout."),
    ("password_prose_nl", "Het wachtwoord van de gedeelde mailbox is {p}, niet doorsturen aub."),
    ("password_prose_pl", "Hasło do konta firmowego na Allegro to {p}, zapiszcie sobie."),
    ("password_prose_sv", "Lösenordet till kontorets skrivare är {p} om någon undrar."),
    ("password_prose_tr", "Sunucunun yeni şifresi {p}, kimseyle paylaşmayın lütfen."),
    ("password_prose_ja", "共有アカウントのパスワードは {p} です。メモしておいてください。"),
    ("password_prose_zh", "测试服务器的密码是 {p}，别外传哈"),
    ("password_prose_ko", "회사 와이파이 비밀번호는 {p} 입니다"),
    ("password_prose_en", "Door code for the server room changed to {d} — same as the alarm panel now"),
    ("password_prose_en", "if you're coming over the building keypad is {d}#, flat 4B"),
]

USERS = ["app", "svc_api", "reporting", "admin", "etl_user", "billing", "root", "deploy", "analytics", "webapp"]
HOSTS = ["db-prod-1.internal.acme-corp.net", "10.20.4.17", "pg.eu-central-1.rds.amazonaws.com",
         "mysql-primary.prod.svc.cluster.local", "172.31.9.44", "warehouse.corp.fabrikam.io"]


def connection_strings(rng: random.Random) -> list[tuple[str, str]]:
    """One (kind, value) per connection-string kind, each with a user and a real password."""
    u, h, p = rng.choice(USERS), rng.choice(HOSTS), strong_password(rng).replace("@", "9").replace("/", "x").replace("#", "Q").replace("%", "z").replace("?", "8")
    acct = rs(rng, string.ascii_lowercase, 7) + "-" + rs(rng, LOWER_NUM, 7)
    return [
        ("conn_postgres", f"postgresql://{u}:{p}@{h}:5432/orders?sslmode=require"),
        ("conn_mysql", f"mysql://{u}:{p}@{h}:3306/shop"),
        ("conn_mongodb_atlas", f"mongodb+srv://{u}:{p}@cluster0.{rs(rng, LOWER_NUM, 5)}.mongodb.net/prod?retryWrites=true&w=majority"),
        ("conn_redis", f"redis://default:{p}@{h}:6379/0"),
        ("conn_rediss", f"rediss://default:{p}@{rs(rng, LOWER_NUM, 8)}.upstash.io:6380"),
        ("conn_oracle", f"jdbc:oracle:thin:{u}/{p}@//{h}:1521/ORCLPDB1"),
        ("conn_snowflake", f"snowflake://{u}:{p}@{acct}/ANALYTICS/PUBLIC?warehouse=COMPUTE_WH"),
        ("conn_sqlserver", f"Server=tcp:{h},1433;Database=Payroll;User Id={u};Password={p};Encrypt=True;"),
        ("conn_ldap", f"ldaps://cn={u},ou=services,dc=acme,dc=local:{p}@{h}:636"),
        ("conn_amqp", f"amqps://{u}:{p}@{h}:5671/prod-vhost"),
        ("conn_sqlalchemy", f"postgresql+psycopg2://{u}:{p}@{h}:5432/reports"),
        ("conn_mssql_sqlalchemy", f"mssql+pyodbc://{u}:{p}@{h}/Inventory?driver=ODBC+Driver+18+for+SQL+Server"),
        ("conn_jdbc_postgres", f"jdbc:postgresql://{h}:5432/ledger?user={u}&password={p}"),
        ("conn_mariadb", f"mariadb://{u}:{p}@{h}:3307/wiki"),
        ("conn_cassandra", f"cassandra://{u}:{p}@{h}:9042/metrics"),
        ("conn_neo4j", f"neo4j+s://neo4j:{p}@{rs(rng, HEX, 8)}.databases.neo4j.io"),
        ("conn_ftp", f"ftp://{u}:{p}@files.{rng.choice(['acme-corp', 'fabrikam'])}.com/uploads"),
        ("conn_smtp", f"smtps://{u}%40acme-corp.com:{p}@smtp.office365.com:465"),
        ("conn_clickhouse", f"clickhouse://{u}:{p}@{h}:9440/events?secure=true"),
        ("conn_nats", f"nats://{u}:{p}@{h}:4222"),
    ]


CONN_TEMPLATES = [
    "can't connect from the new pod, this is the DSN I'm using: {c} — any ideas?",
    "DATABASE_URL={c}",
    "{h} just use {c} for now, I'll rotate it after the demo",
    "config/settings.py:\n\nDATABASES_URL = \"{c}\"\n# TODO: env var",
    "Se me cae la conexión cada 5 minutos. Cadena: {c}",
    "Traceback (most recent call last):\n  File \"worker.py\", line 12, in <module>\n    engine = create_engine(\"{c}\")\nOperationalError: timeout expired",
]


def credentials_positive(rng: random.Random) -> list[Row]:
    """Real-format secrets of many providers and kinds, in many post shapes."""
    rows: list[Row] = []
    names = [f for f, _ in FRAMES]
    for kind, display, var, gen in FORMATS:
        for frame in rng.sample(names, 3):
            rows.append({"kind": kind, "text": render(rng, frame, display, var, gen(rng))})
    keys = [("private_key_rsa_pkcs8", rsa_pkcs8), ("private_key_rsa_pkcs1", rsa_pkcs1), ("private_key_ec", ec_sec1),
            ("private_key_openssh", openssh_ed25519), ("private_key_pgp", pgp_private)]
    for kind, fn in keys:
        for tpl in rng.sample(KEY_TEMPLATES, 3):
            rows.append({"kind": kind, "text": tpl.format(k=fn(rng), h=rng.choice(HANDLES))})
    for tpl in ["here's the SA key for the exporter, drop it in /etc/gcp/key.json:\n{j}",
                "```json\n{j}\n```\nwhy does this give invalid_grant?", "{h} the creds file, as promised\n{j}"]:
        rows.append({"kind": "gcp_service_account", "text": tpl.format(j=gcp_sa_json(rng), h=rng.choice(HANDLES))})
    for kind, tpl in PROSE_PASSWORDS:
        for _ in range(2):
            rows.append({"kind": kind, "text": tpl.format(p=strong_password(rng), h=rng.choice(HANDLES),
                                                          d=rng.randint(1000, 999999))})
    for _ in range(3):
        for kind, conn in connection_strings(rng):
            rows.append({"kind": kind, "text": rng.choice(CONN_TEMPLATES).format(c=conn, h=rng.choice(HANDLES))})
    jwt_tpls = ["curl -H 'Authorization: Bearer {t}' https://api.internal.acme-corp.net/v2/admin/users",
                "session cookie from prod if you want to reproduce: {t}", "{h} token still valid till Friday: {t}"]
    for alg in ["HS256", "RS256", "ES256"]:
        for tpl in jwt_tpls:
            claims = {"sub": f"user_{rng.randint(1000, 99999)}", "role": rng.choice(["admin", "support", "owner"]),
                      "iss": "https://auth.acme-corp.net", "exp": rng.randint(1_800_000_000, 1_900_000_000)}
            rows.append({"kind": f"jwt_{alg.lower()}", "text": tpl.format(t=_jwt(rng, claims, alg), h=rng.choice(HANDLES))})
    generic = [("generic_password_assign", "password={s}"), ("generic_api_key_yaml", "api_key: {s}"),
               ("generic_secret_json", '"client_secret": "{s}"'), ("generic_token_ini", "[auth]\ntoken = {s}"),
               ("generic_secret_properties", "app.jwt.signing-secret={s}"), ("generic_passwd_xml", "<add key=\"DbPassword\" value=\"{s}\" />"),
               ("generic_api_key_hcl", "variable \"api_key\" {{\n  default = \"{s}\"\n}}"), ("generic_secret_php", "define('AUTH_SECRET', '{s}');")]
    for kind, tpl in generic:
        for lead in ["staging config, copy this:\n", "found this in our old repo lol\n", "", "prod values:\n"]:
            rows.append({"kind": kind, "text": lead + tpl.format(s=rs(rng, ALNUM + "+/_-", rng.randint(28, 44)))})
    for _display, var, prefix in [("GitHub", "GITHUB_TOKEN", "ghp_"), ("npm", "NPM_TOKEN", "npm_")]:
        for tpl in ["echo {b} | base64 -d >> .env   # restores the CI token", "k8s secret data:\n  {v}: {b}",
                    "the value in the vault is base64: {b}"]:
            line = f"{var}={crc_token(rng, prefix)}".encode()
            rows.append({"kind": "base64_encoded_secret", "text": tpl.format(b=base64.b64encode(line).decode(), v=var)})
    for tpl in ["export AWS_SECRET_ACCESS_KEY=$(echo {b} | base64 --decode)", "data:\n  password: {b}"]:
        for _ in range(3):
            rows.append({"kind": "base64_encoded_secret", "text": tpl.format(b=base64.b64encode(strong_password(rng).encode()).decode())})
    for _ in range(4):
        tok = crc_token(rng, "ghp_")
        spaced = " ".join(tok[i:i + 4] for i in range(0, len(tok), 4))
        rows.append({"kind": "spaced_secret", "text": f"reading it out so the bot doesn't eat it: {spaced}"})
        half = len(tok) // 2
        rows.append({"kind": "split_secret", "text": f"first half: {tok[:half]}\nsecond half (join them, no space): {tok[half:]}"})
        key = "sk_live_51" + rs(rng, ALNUM, 97)
        rows.append({"kind": "split_secret", "text": "stripe key split over lines so it fits:\n" + "\n".join(key[i:i + 30] for i in range(0, len(key), 30))})
    for _ in range(4):
        ssid, pw = rng.choice(["Cafe-Lumen", "HQ-Staff", "Lab_5G", "Gastnetz"]) + str(rng.randint(1, 9)), strong_password(rng)
        rows.append({"kind": "wifi_qr", "text": f"scan or type: WIFI:T:WPA;S:{ssid};P:{pw};;"})
        rows.append({"kind": "netrc", "text": f"~/.netrc\nmachine api.heroku.com\n  login ops@acme-corp.com\n  password {uuid4(rng)}"})
        rows.append({"kind": "basic_auth_url", "text": f"mirror works again: https://{rng.choice(USERS)}:{strong_password(rng).replace('@', 'a').replace('/', 's').replace('#', 'h').replace('?', 'q').replace('%', 'p')}@artifacts.acme-corp.net/repo/"})
        rows.append({"kind": "curl_user", "text": f"curl -u {rng.choice(USERS)}:{strong_password(rng)} https://jenkins.acme-corp.net/api/json"})
        rows.append({"kind": "pgpass", "text": f"~/.pgpass:\n{rng.choice(HOSTS)}:5432:*:{rng.choice(USERS)}:{strong_password(rng)}"})
        rows.append({"kind": "docker_config_auth", "text": json.dumps({"auths": {"registry.acme-corp.net": {"auth": base64.b64encode(f"ci:{strong_password(rng)}".encode()).decode()}}}, indent=2)})
        rows.append({"kind": "git_credentials", "text": f"cat ~/.git-credentials\nhttps://build-bot:{crc_token(rng, 'ghp_')}@github.com"})
        words = " ".join(rng.sample(["abandon", "zebra", "tissue", "orbit", "gentle", "ladder", "fossil", "wrist", "humble", "canvas",
                                     "jungle", "pepper", "vivid", "remind", "salmon", "cruise", "oyster", "anchor", "basket", "ridge"], 12))
        rows.append({"kind": "wallet_seed_phrase", "text": f"backing up my metamask recovery phrase here just in case: {words}"})
    return rows


# ---------------------------------------------------------------- credentials hard negatives

PLACEHOLDERS = ["<YOUR_{v}>", "xxxxxxxxxxxxxxxxxxxx", "${{{v}}}", "changeme", "{{{{ secrets.{v} }}}}", "REPLACE_ME",
                "your-{dl}-key-here", "$({v})", "<redacted>", "********", "%{v}%", "{{{{ .Values.{vc} }}}}", "TODO"]
PLACEHOLDER_STYLE = ["angle_brackets", "x_run", "env_reference", "changeme", "ci_secret_reference", "replace_me",
                     "your_key_here", "command_substitution", "redacted_marker", "asterisks", "windows_env", "helm_value", "todo"]
ADVICE = [
    "PSA: if you ever see a string starting with {p} in a screenshot, that's a live {d} credential — revoke it first, ask questions later.",
    "Security tip of the day: {d} keys begin with {p}. Add that prefix to your pre-commit scanner.",
    "Our secret scanner now blocks pushes containing {p}… tokens ({d}). Thanks to whoever wrote the regex!",
    "Nunca pegues en un chat nada que empiece por {p} — es un token de {d}.",
    "Achtung: alles, was mit {p} anfängt, ist ein {d}-Token. Nicht in Tickets kopieren!",
    "Rule of thumb for code review: grep the diff for {p} before approving ({d} tokens).",
]
PREFIXES = [("ghp_", "GitHub"), ("github_pat_", "GitHub"), ("xoxb-", "Slack"), ("sk_live_", "Stripe"), ("AKIA", "AWS"),
            ("glpat-", "GitLab"), ("npm_", "npm"), ("pypi-", "PyPI"), ("hf_", "Hugging Face"), ("sk-ant-", "Anthropic"),
            ("sk-proj-", "OpenAI"), ("dop_v1_", "DigitalOcean"), ("hvs.", "Vault"), ("SG.", "SendGrid"), ("shpat_", "Shopify"),
            ("dp.st.", "Doppler"), ("NRAK-", "New Relic"), ("gsk_", "Groq"), ("xapp-", "Slack"), ("glsa_", "Grafana")]
TEST_KEYS: list[tuple[str, Callable[[random.Random], str]]] = [
    ("Stripe", g("sk_test_51", ALNUM, 97)), ("Stripe", g("rk_test_51", ALNUM, 97)), ("Stripe", g("pk_test_51", ALNUM, 97)),
    ("Razorpay", g("rzp_test_", ALNUM, 14)), ("Paystack", g("sk_test_", HEX, 40)),
    ("Flutterwave", lambda r: f"FLWSECK_TEST-{rs(r, HEX, 32)}-X"), ("Mollie", g("test_", ALNUM, 30)),
    ("Shippo", g("shippo_test_", HEX, 40)), ("EasyPost", g("EZTK", HEX, 54)),
    ("Braintree", lambda r: f"access_token$sandbox${rs(r, LOWER_NUM, 16)}${rs(r, HEX, 32)}"),
    ("Checkout.com", lambda r: f"sk_sbox_{rs(r, LOWER_NUM, 26)}"), ("Clerk", g("sk_test_", ALNUM, 40)),
    ("Lob", g("test_", HEX, 35)), ("GoCardless", g("sandbox_", B64URL, 40)), ("Paddle", g("test_", HEX, 27)),
]
TEST_TEMPLATES = [
    "In the {d} tutorial we use a test-mode key so nothing is charged: {x}",
    "# tests/conftest.py — {d} sandbox key, safe to commit, test mode only\nSANDBOX_KEY = \"{x}\"",
    "Reminder that {x} is a {d} *test* key from the docs sandbox, it can't move real money.",
    "{h} works in test mode with {x}, haven't tried live yet ({d})",
]
HASH_TEMPLATES: list[tuple[str, str]] = [
    ("file_checksum", "sha256sum release-v{ver}.tar.gz\n{h64}  release-v{ver}.tar.gz"),
    ("commit_sha", "Fixed in commit {h40} — please pull and rebuild."),
    ("image_digest", "docker pull ghcr.io/acme/worker@sha256:{h64}"),
    ("request_id", "request id {uuid} in case support asks, the upload failed at 14:02"),
    ("trace_id", "trace_id={h32} span_id={h16} status=ERROR msg=\"upstream timeout\""),
    ("md5_checksum", "MD5 of the dataset dump: {h32} (matches the one on the mirror)"),
    ("npm_integrity", "\"integrity\": \"sha512-{b88}\""),
    ("sri_hash", "<script src=\"https://cdn.example.org/lib.min.js\" integrity=\"sha384-{b64}\" crossorigin=\"anonymous\"></script>"),
    ("payment_object_id", "Stripe payment intent {pi} failed with card_declined, customer says they retried"),
    ("commit_sha", "Bisected the regression to {h7}, culprit is the new cache layer"),
    ("etag", "ETag: \"{h32}\""),
    ("commit_sha", "git checkout {h40} -- src/parser.rs"),
    ("aws_arn", "arn:aws:iam::{acct}:role/ci-deployer is the role the pipeline assumes"),
    ("correlation_id", "Correlation-ID: {uuid} — the 500 came from the payments gateway"),
    ("azure_subscription_id", "Subscription id {uuid}, resource group rg-analytics-weu"),
    ("base64_image", "<img src=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAA{b64}\" alt=\"logo\">"),
    ("slack_channel_id", "Slack channel id is C0{up9}, add the bot to it"),
    ("ssh_public_key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{b43} laptop@home — that's my public key, add it to authorized_keys"),
    ("age_public_key", "age public key for the team: age1{bech}"),
    ("cert_fingerprint", "The SHA-1 fingerprint of the cert is {fp}"),
]
SAMPLES = [
    "The AWS docs use AKIAIOSFODNN7EXAMPLE with wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY as the example pair — copy the shape, not the values.",
    "Docs example: `aws configure` → Access Key ID [None]: AKIAIOSFODNN7EXAMPLE",
    "Stripe's quickstart literally prints sk_test_4eC39HqLyjWDarjtT1zdp7dc so you can try the API without signing up.",
    "From the Slack API docs, a sample webhook looks like https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
    "postgres://postgres:postgres@localhost:5432/postgres is the default in every Rails tutorial, fine for your laptop.",
    "docker run -e POSTGRES_PASSWORD=example -p 5432:5432 postgres:16  # straight from the image README",
    "MinIO's quickstart: MINIO_ROOT_USER=minioadmin MINIO_ROOT_PASSWORD=minioadmin on http://127.0.0.1:9000",
    "The jwt.io debugger's default header is eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9 which just decodes to {\"alg\":\"HS256\",\"typ\":\"JWT\"}.",
    "RabbitMQ ships with guest/guest and only allows it from localhost — change it before you expose the port.",
    "Our onboarding doc: connect with mysql -h 127.0.0.1 -u root -proot to the docker dev DB (never used outside your machine).",
    "Keycloak dev mode: KEYCLOAK_ADMIN=admin KEYCLOAK_ADMIN_PASSWORD=admin, start-dev, open localhost:8080",
    "Grafana's first login is admin/admin and it forces you to change it, which is nice.",
]
KEY_HEADERS = [
    "grep -rl 'BEGIN OPENSSH PRIVATE KEY' ~ to find keys lying around — I found three 😬",
    "Load key \"/home/ci/.ssh/id_rsa\": invalid format. The file starts with -----BEGIN RSA PRIVATE KEY----- and then nothing.",
    "Our pre-commit hook rejects any file containing '-----BEGIN PRIVATE KEY-----', which also catches test fixtures.",
    "TIL -----BEGIN EC PRIVATE KEY----- is SEC1 and -----BEGIN PRIVATE KEY----- is PKCS#8.",
    "the gpg export begins with -----BEGIN PGP PRIVATE KEY BLOCK----- so never paste the whole thing anywhere",
]
TALK = [
    "changed all my passwords after the breach notice, password manager FTW",
    "hunter2 jokes never get old on bash.org nostalgia threads",
    "correct horse battery staple is still the best xkcd about passwords",
    "Why do banks still cap passwords at 12 characters in {year}?",
    "IT made us rotate passwords again. Third time this quarter. 🙃",
    "Tip: use a passphrase of four random words and turn on 2FA, it's honestly enough for most people.",
    "The forgot-password email took 20 minutes to arrive, support said it's a known delay.",
    "No, I will not share my Netflix password with my ex's cousin.",
    "Hot take: SMS 2FA is better than no 2FA.",
    "Passkeys finally work on my work laptop, goodbye passwords (mostly)",
    "Top leaked password of {year} is still 123456. Humanity, please.",
    "We moved every secret into Vault this sprint and deleted the .env files from the wiki 🎉",
]


def credentials_hard_negative(rng: random.Random) -> list[Row]:
    """Benign by policy: placeholders, docs samples, test-mode keys, ids, hashes, advice, talk."""
    rows: list[Row] = []
    names = ["env", "yaml", "json", "k8s", "compose", "python", "toml", "chat", "shell"]
    for _kind, display, var, _gen in FORMATS:
        for ph in rng.sample(PLACEHOLDERS, 2):
            dl = display.lower().replace(" ", "-")
            camel = var.lower().split("_")
            value = ph.format(v=var, dl=dl, vc=camel[0] + "".join(w.title() for w in camel[1:]))
            frame = rng.choice(names)
            text = render(rng, frame, display, var, value)
            style = PLACEHOLDER_STYLE[PLACEHOLDERS.index(ph)]
            rows.append({"kind": f"placeholder_{style}", "text": "README excerpt:\n" + text if frame == "chat" else text})
    for p, d in PREFIXES:
        for tpl in rng.sample(ADVICE, 3):
            rows.append({"kind": "security_advice", "text": tpl.format(p=p, d=d)})
    for d, gen in TEST_KEYS:
        for tpl in TEST_TEMPLATES:
            rows.append({"kind": "test_mode_key", "text": tpl.format(d=d, x=gen(rng), h=rng.choice(HANDLES))})
    for hkind, tpl in HASH_TEMPLATES:
        for _ in range(5):
            rows.append({"kind": hkind, "text": tpl.format(
                ver=f"{rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}", h64=rs(rng, HEX, 64), h40=rs(rng, HEX, 40),
                h32=rs(rng, HEX, 32), h16=rs(rng, HEX, 16), h7=rs(rng, HEX, 7), uuid=uuid4(rng),
                b88=base64.b64encode(rng.randbytes(64)).decode(), b64=base64.b64encode(rng.randbytes(48)).decode(),
                pi="pi_3" + rs(rng, ALNUM, 23), acct=rng.randint(10**11, 10**12 - 1), up9=rs(rng, UPPER_NUM, 9),
                b43=rs(rng, B64, 43), bech=rs(rng, "qpzry9x8gf2tvdw0s3jn54khce6mua7l", 58),
                fp=":".join(rs(rng, "0123456789ABCDEF", 2) for _ in range(20)))})
    for s in SAMPLES:
        rows.append({"kind": "documented_sample", "text": s})
        rows.append({"kind": "documented_sample", "text": "From the docs, for reference — " + (s[0].lower() + s[1:] if s.split()[0] in {"The", "Docs", "Our"} else s)})
    for s in KEY_HEADERS:
        rows.append({"kind": "key_header_only", "text": s})
    for _ in range(40):
        d = rng.choice(["Stripe", "GitHub", "OpenAI", "Slack", "AWS", "Twilio", "SendGrid", "GitLab"])
        p = {"Stripe": "sk_live_", "GitHub": "ghp_", "OpenAI": "sk-proj-", "Slack": "xoxb-", "AWS": "AKIA",
             "Twilio": "SK", "SendGrid": "SG.", "GitLab": "glpat-"}[d]
        tail = rs(rng, ALNUM, 4)
        rows.append({"kind": "redacted_key", "text": rng.choice([
            f"Our logs now mask keys: {d} key {p}{'*' * 20}{tail} was rotated at 09:00.",
            f"Revoked the leaked {d} token ({p}…{tail}) within 4 minutes, postmortem on Monday.",
            f"CI output: {p.rstrip('_-.')}_KEY=*** (masked) — good, the masking works",
            f"{d} dashboard shows the key as {p}••••••••{tail}, that's all I can see"])})
    for _ in range(30):
        rows.append({"kind": "low_entropy_assignment", "text": rng.choice([
            f"TIMEOUT_MS={rng.randint(100, 90000)}\nMAX_RETRIES={rng.randint(1, 9)}\nAPI_VERSION=2024-0{rng.randint(1, 9)}-01",
            f"secret_name: {rng.choice(['db', 'redis', 'smtp', 'stripe'])}-credentials  # the k8s Secret is created by the operator",
            f"password_min_length = {rng.randint(8, 20)}\npassword_require_symbol = true",
            f"token_ttl: {rng.randint(5, 600)}m\nrefresh_token_ttl: {rng.randint(1, 90)}d",
            f"valueFrom:\n  secretKeyRef:\n    name: api-{rng.randint(1, 99)}\n    key: password",
            f"passwordFile: /run/secrets/db_password_{rng.randint(1, 9)}",
            f"api_key_header: X-Api-Key\napi_key_query_param: key{rng.randint(1, 9)}"])})
    for _ in range(12):
        body = rs(rng, ALNUM, 30)
        bad = base62((zlib.crc32(body.encode()) + 1) % 2**32, 6)
        rows.append({"kind": "wrong_checksum_fixture", "text": f"# scanner unit test: a ghp_-shaped string whose CRC32 suffix is deliberately wrong, must NOT alert\nFAKE = \"ghp_{body}{bad}\""})
    for tpl in TALK:
        for year in (2025, 2026):
            rows.append({"kind": "password_talk", "text": tpl.format(year=year) + ("" if year == 2025 else " #infosec")})
    for _ in range(12):
        rows.append({"kind": "encrypted_value", "text": rng.choice([
            f"db_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  {rs(rng, '0123456789', 64)}",
            f"password: ENC[AES256_GCM,data:{rs(rng, B64, 24)},iv:{rs(rng, B64, 43)}=,tag:{rs(rng, B64, 22)}==,type:str]",
            f"encryptedData:\n  password: AgB{rs(rng, B64, 120)}"])})
    return rows


# ---------------------------------------------------------------- national IDs with check digits

def _dob(rng: random.Random, lo: int = 1950, hi: int = 2005) -> tuple[int, int, int]:
    """A plausible (year, month, day)."""
    return rng.randint(lo, hi), rng.randint(1, 12), rng.randint(1, 28)


def us_ssn(rng: random.Random) -> str:
    """SSN: area 001-899 except 666, group 01-99, serial 0001-9999."""
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def uk_nino(rng: random.Random) -> str:
    """NINO with the allowed prefix letters and a suffix A-D."""
    first = rng.choice("ABCEGHJKLMNOPRSTWXYZ")
    second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    if first + second in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}:
        second = "A"
    d = f"{rng.randint(0, 999999):06d}"
    return f"{first}{second} {d[:2]} {d[2:4]} {d[4:]} {rng.choice('ABCD')}"


def de_taxid(rng: random.Random) -> str:
    """Steuer-ID: 10 digits with one digit twice, then the ISO 7064 MOD 11,10 check."""
    while True:
        ds = rng.sample("0123456789", 9)
        if ds[0] != "0":
            break
    ds.insert(rng.randint(1, 9), rng.choice(ds))
    payload = "".join(ds)
    return payload + _mod11_de_taxid(payload)


def de_ausweis(rng: random.Random) -> str:
    """German ID card number: 9 chars from the card alphabet, ICAO check digit."""
    alpha = "0123456789CFGHJKLMNPRTVWXYZ"
    serial = rng.choice("LMNPRTVWXY") + rs(rng, alpha, 8)
    return serial + _icao(serial)


def fr_nir(rng: random.Random) -> str:
    """French NIR (numéro de sécurité sociale) with its key."""
    y, m, _ = _dob(rng)
    base = f"{rng.choice('12')}{y % 100:02d}{m:02d}{rng.randint(1, 95):02d}{rng.randint(1, 990):03d}{rng.randint(1, 999):03d}"
    return f"{base[0]} {base[1:3]} {base[3:5]} {base[5:7]} {base[7:10]} {base[10:]} {97 - int(base) % 97:02d}"


def es_dni(rng: random.Random) -> str:
    """Spanish DNI: 8 digits and the mod-23 letter."""
    n = rng.randint(10**6, 10**8 - 1)
    return f"{n:08d}" + "TRWAGMYFPDXBNJZSQVHLCKE"[n % 23]


def es_nie(rng: random.Random) -> str:
    """Spanish NIE: X/Y/Z, 7 digits, letter computed with X=0, Y=1, Z=2."""
    lead = rng.choice("XYZ")
    n = rng.randint(0, 9999999)
    return f"{lead}{n:07d}" + "TRWAGMYFPDXBNJZSQVHLCKE"[int(str("XYZ".index(lead)) + f"{n:07d}") % 23]


_CF_ODD = dict(zip("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                   [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12,
                    14, 16, 10, 22, 25, 24, 23], strict=False))


def it_cf(rng: random.Random) -> str:
    """Italian codice fiscale with the odd/even check character."""
    y, m, d = _dob(rng)
    day = d + (40 if rng.random() < 0.5 else 0)
    body = (rs(rng, "BCDFGLMNPRSTVZ", 3) + rs(rng, "BCDFGLMNPRSTVZ", 3) + f"{y % 100:02d}" + "ABCDEHLMPRST"[m - 1]
            + f"{day:02d}" + rng.choice(["H501", "F205", "L219", "F839", "A944", "G273", "D612"]))
    total = sum(_CF_ODD[c] if i % 2 == 0 else (int(c) if c.isdigit() else ord(c) - 65) for i, c in enumerate(body))
    return body + chr(65 + total % 26)


def nl_bsn(rng: random.Random) -> str:
    """Dutch BSN satisfying the 11-proof."""
    while True:
        ds = [rng.randint(0, 9) for _ in range(8)]
        ds[0] = rng.randint(1, 6)
        s = sum(d * w for d, w in zip(ds, range(9, 1, -1), strict=False))
        last = s % 11
        if last < 10:
            return "".join(map(str, ds)) + str(last)


def be_rrn(rng: random.Random) -> str:
    """Belgian national register number; those born from 2000 get a leading 2 in the check."""
    y, m, d = _dob(rng, 1950, 2008)
    base = f"{y % 100:02d}{m:02d}{d:02d}{rng.randint(1, 997):03d}"
    check = 97 - int(("2" if y >= 2000 else "") + base) % 97
    return f"{base[:2]}.{base[2:4]}.{base[4:6]}-{base[6:]}.{check:02d}"


def se_pnr(rng: random.Random) -> str:
    """Swedish personnummer, Luhn over the nine digits."""
    y, m, d = _dob(rng)
    base = f"{y % 100:02d}{m:02d}{d:02d}{rng.randint(0, 999):03d}"
    return f"{base[:6]}-{base[6:]}{luhn_digit(base)}"


def no_fnr(rng: random.Random) -> str:
    """Norwegian fødselsnummer with both mod-11 check digits."""
    while True:
        y, m, d = _dob(rng, 1940, 1999)
        base = [int(c) for c in f"{d:02d}{m:02d}{y % 100:02d}{rng.randint(0, 499):03d}"]
        k1 = 11 - sum(a * b for a, b in zip(base, [3, 7, 6, 1, 8, 9, 4, 5, 2], strict=False)) % 11
        k1 = 0 if k1 == 11 else k1
        if k1 == 10:
            continue
        k2 = 11 - sum(a * b for a, b in zip(base + [k1], [5, 4, 3, 2, 7, 6, 5, 4, 3, 2], strict=False)) % 11
        k2 = 0 if k2 == 11 else k2
        if k2 != 10:
            return "".join(map(str, base)) + f"{k1}{k2}"


def fi_hetu(rng: random.Random) -> str:
    """Finnish HETU with its mod-31 check character."""
    y, m, d = _dob(rng, 1950, 2010)
    n = rng.randint(2, 899)
    return f"{d:02d}{m:02d}{y % 100:02d}{'-' if y < 2000 else 'A'}{n:03d}" + "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(f"{d:02d}{m:02d}{y % 100:02d}{n:03d}") % 31]


def dk_cpr(rng: random.Random) -> str:
    """Danish CPR number satisfying the (historic) mod-11 rule."""
    while True:
        y, m, d = _dob(rng, 1950, 1999)
        s = f"{d:02d}{m:02d}{y % 100:02d}{rng.randint(0, 3999):04d}"
        if sum(int(c) * w for c, w in zip(s, [4, 3, 2, 7, 6, 5, 4, 3, 2, 1], strict=False)) % 11 == 0:
            return f"{s[:6]}-{s[6:]}"


def pl_pesel(rng: random.Random) -> str:
    """Polish PESEL (month + 20 for the 2000s) with its check digit."""
    y, m, d = _dob(rng, 1950, 2009)
    base = f"{y % 100:02d}{m + (20 if y >= 2000 else 0):02d}{d:02d}{rng.randint(0, 9999):04d}"
    s = sum(int(c) * w for c, w in zip(base, [1, 3, 7, 9, 1, 3, 7, 9, 1, 3], strict=False))
    return base + str((10 - s % 10) % 10)


def in_aadhaar(rng: random.Random) -> str:
    """Aadhaar: 11 digits not starting 0/1, Verhoeff check."""
    base = str(rng.randint(2, 9)) + f"{rng.randint(0, 10**10 - 1):010d}"
    n = base + _verhoeff(base)
    return f"{n[:4]} {n[4:8]} {n[8:]}"


def br_cpf(rng: random.Random) -> str:
    """Brazilian CPF with both mod-11 check digits."""
    ds = [rng.randint(0, 9) for _ in range(9)]
    for _ in range(2):
        s = sum(d * w for d, w in zip(ds, range(len(ds) + 1, 1, -1), strict=False))
        ds.append(s * 10 % 11 % 10)
    t = "".join(map(str, ds))
    return f"{t[:3]}.{t[3:6]}.{t[6:9]}-{t[9:]}"


def za_id(rng: random.Random) -> str:
    """South African ID: date of birth, gender sequence, citizenship, 8, Luhn."""
    y, m, d = _dob(rng)
    base = f"{y % 100:02d}{m:02d}{d:02d}{rng.randint(0, 9999):04d}{rng.choice('01')}8"
    return base + luhn_digit(base)


def jp_mynumber(rng: random.Random) -> str:
    """Japanese My Number: 11 digits and the check digit of its specification."""
    base = f"{rng.randint(10**10, 10**11 - 1)}"
    s = sum(int(base[10 - (n - 1)]) * (n + 1 if n <= 6 else n - 5) for n in range(1, 12))
    r = s % 11
    n = base + str(0 if r <= 1 else 11 - r)
    return f"{n[:4]} {n[4:8]} {n[8:]}"


def cn_id(rng: random.Random) -> str:
    """Chinese resident ID with the ISO 7064 MOD 11-2 check character."""
    y, m, d = _dob(rng)
    base = rng.choice(["110105", "310104", "440305", "510107", "330106"]) + f"{y}{m:02d}{d:02d}{rng.randint(0, 999):03d}"
    s = sum(int(c) * w for c, w in zip(base, [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], strict=False))
    return base + "10X98765432"[s % 11]


def ca_sin(rng: random.Random) -> str:
    """Canadian SIN, Luhn-valid, not starting 0 or 8."""
    base = str(rng.choice("1234567")) + f"{rng.randint(0, 10**7 - 1):07d}"
    n = base + luhn_digit(base)
    return f"{n[:3]} {n[3:6]} {n[6:]}"


def au_tfn(rng: random.Random) -> str:
    """Australian TFN satisfying its weighted mod-11 check."""
    while True:
        s = f"{rng.randint(10**8, 10**9 - 1)}"
        if sum(int(c) * w for c, w in zip(s, [1, 4, 3, 7, 5, 8, 6, 9, 10], strict=False)) % 11 == 0:
            return f"{s[:3]} {s[3:6]} {s[6:]}"


def nhs(rng: random.Random) -> str:
    """NHS number with its mod-11 check digit."""
    while True:
        s = f"{rng.randint(4 * 10**8, 7 * 10**8 - 1)}"
        c = 11 - sum(int(ch) * w for ch, w in zip(s, range(10, 1, -1), strict=False)) % 11
        c = 0 if c == 11 else c
        if c != 10:
            return f"{s[:3]} {s[3:6]} {s[6:]}{c}"


def au_medicare(rng: random.Random) -> str:
    """Australian Medicare number: check digit in position 9, then the issue number."""
    s = str(rng.randint(2, 6)) + f"{rng.randint(0, 10**7 - 1):07d}"
    c = sum(int(ch) * w for ch, w in zip(s, [1, 3, 7, 9, 1, 3, 7, 9], strict=False)) % 10
    return f"{s[:4]} {s[4:]}{c} {rng.randint(1, 9)}"


def us_mbi(rng: random.Random) -> str:
    """US Medicare Beneficiary Identifier in its position-by-position format."""
    letters = "ACDEFGHJKMNPQRTUVWXY"
    an = letters + "0123456789"
    c = [rng.choice("123456789"), rng.choice(letters), rng.choice(an), rng.choice("0123456789"), rng.choice(letters),
         rng.choice(an), rng.choice("0123456789"), rng.choice(letters), rng.choice(letters), rng.choice("0123456789"),
         rng.choice("0123456789")]
    s = "".join(c)
    return f"{s[:4]}-{s[4:7]}-{s[7:]}"


def de_kvnr(rng: random.Random) -> str:
    """German health insurance number (KVNR): letter, 8 digits, check digit."""
    letter = rng.choice(string.ascii_uppercase)
    digits = f"{rng.randint(0, 10**8 - 1):08d}"
    s = f"{ord(letter) - 64:02d}" + digits
    total = sum(sum(divmod(int(ch) * (1 if i % 2 == 0 else 2), 10)) for i, ch in enumerate(s))
    return f"{letter}{digits}{total % 10}"


def passport_mrz(rng: random.Random, country: str, surname: str, given: str) -> str:
    """A TD3 passport MRZ pair with its check digits."""
    num = rs(rng, UPPER_NUM, 9)
    y, m, d = _dob(rng)
    dob = f"{y % 100:02d}{m:02d}{d:02d}"
    exp = f"{rng.randint(27, 35)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    sex = rng.choice("MF")
    l1 = f"P<{country}{surname.upper()}<<{given.upper()}".ljust(44, "<")[:44]
    opt = "<" * 14
    part = num + _icao(num) + country + dob + _icao(dob) + sex + exp + _icao(exp) + opt + _icao(opt)
    final = _icao(num + _icao(num) + dob + _icao(dob) + exp + _icao(exp) + opt + _icao(opt))
    return l1 + "\n" + part + final


def card(rng: random.Random, prefix: str, length: int) -> str:
    """A Luhn-valid card number with prefix, grouped in fours."""
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    n = body + luhn_digit(body)
    return " ".join(n[i:i + 4] for i in range(0, len(n), 4))


IBAN_BBAN: dict[str, Callable[[random.Random], str]] = {
    "DE": lambda r: rs(r, string.digits, 18), "FR": lambda r: (lambda b, s, a: f"{b}{s}{a}{_fr_rib_key(b, s, a):02d}")(
        rs(r, string.digits, 5), rs(r, string.digits, 5), rs(r, string.digits, 11)),
    "ES": lambda r: rs(r, string.digits, 20), "IT": lambda r: rs(r, string.ascii_uppercase, 1) + rs(r, string.digits, 22),
    "NL": lambda r: r.choice(["ABNA", "RABO", "INGB", "TRIO"]) + rs(r, string.digits, 10),
    "BE": lambda r: (lambda b: b + f"{int(b) % 97 or 97:02d}")(rs(r, string.digits, 10)),
    "GB": lambda r: r.choice(["BARC", "LOYD", "HBUK", "NWBK"]) + rs(r, string.digits, 14),
    "CH": lambda r: rs(r, string.digits, 17), "AT": lambda r: rs(r, string.digits, 16),
    "PL": lambda r: rs(r, string.digits, 24), "SE": lambda r: rs(r, string.digits, 20),
    "PT": lambda r: rs(r, string.digits, 21), "IE": lambda r: r.choice(["AIBK", "BOFI"]) + rs(r, string.digits, 14),
}


def iban(rng: random.Random, country: str) -> str:
    """A valid IBAN of country, printed in groups of four."""
    n = _iban(country, IBAN_BBAN[country](rng))
    return " ".join(n[i:i + 4] for i in range(0, len(n), 4))


# ---------------------------------------------------------------- personal data (someone else's)

FIRST = ["Megan", "Oluwaseun", "Priya", "Lukas", "Chloé", "Mateo", "Giulia", "Sanne", "Aoife", "Björn", "Kenji", "Ana",
         "Tomasz", "Fatima", "Dmitri", "Leilani", "Ines", "Raj", "Hannah", "Joaquín", "Yuki", "Emeka", "Sofia", "Malik"]
LAST = ["Okafor", "Brennan", "Schmitt", "Lefèvre", "García", "Rossi", "de Vries", "Lindqvist", "Tanaka", "Kowalski",
        "Nakamura", "Pereira", "Haddad", "Walsh", "Moreau", "Kaur", "Novak", "Ferreira", "Byrne", "Yilmaz", "Müller"]


def person(rng: random.Random) -> str:
    """A made-up full name."""
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


ADDRESSES: dict[str, Callable[[random.Random], str]] = {
    "US": lambda r: f"{r.randint(100, 9899)} {r.choice(['Maple Ridge Dr', 'W Belmont Ave', 'Sycamore Ln', 'NE 42nd St'])}, {r.choice(['Apt 3B, ', ''])}{r.choice(['Columbus, OH 43215', 'Portland, OR 97214', 'Austin, TX 78704', 'Chicago, IL 60657'])}",
    "UK": lambda r: f"{r.randint(1, 180)} {r.choice(['Elmfield Road', 'Crescent Gardens', 'Mill Lane', 'Haverstock Hill'])}, {r.choice(['Leeds LS6 2QT', 'Bristol BS7 8NE', 'London NW3 4QG', 'Manchester M20 6RB'])}",
    "DE": lambda r: f"{r.choice(['Lindenstraße', 'Schillerweg', 'Am Mühlbach', 'Goethestr.'])} {r.randint(1, 120)}{r.choice(['', 'a'])}, {r.choice(['10437 Berlin', '80469 München', '50667 Köln', '70180 Stuttgart'])}",
    "FR": lambda r: f"{r.randint(1, 150)} {r.choice(['rue des Lilas', 'avenue Jean Jaurès', 'boulevard Voltaire', 'impasse du Moulin'])}, {r.choice(['75011 Paris', '69007 Lyon', '31000 Toulouse', '44000 Nantes'])}",
    "ES": lambda r: f"Calle {r.choice(['de Alcalá', 'Mayor', 'del Pez', 'Sant Pere'])} {r.randint(1, 200)}, {r.randint(1, 8)}º {r.choice('ABCD')}, {r.choice(['28014 Madrid', '08003 Barcelona', '41001 Sevilla', '46002 València'])}",
    "IT": lambda r: f"Via {r.choice(['Garibaldi', 'dei Mille', 'Roma', 'San Vitale'])} {r.randint(1, 150)}, {r.choice(['20121 Milano MI', '00184 Roma RM', '40125 Bologna BO', '80134 Napoli NA'])}",
    "NL": lambda r: f"{r.choice(['Prinsengracht', 'Van Woustraat', 'Oudegracht', 'Kerkstraat'])} {r.randint(1, 400)}-{r.choice(['I', 'II', 'hs'])}, {r.randint(1011, 9999)} {rs(r, 'ABCDEGHJKLMNPRSTVWXZ', 2)} {r.choice(['Amsterdam', 'Utrecht', 'Rotterdam', 'Groningen'])}",
    "CA": lambda r: f"{r.randint(10, 9999)} {r.choice(['Rue Saint-Denis', 'Queen St W', 'Jasper Ave NW', 'Commercial Dr'])}, {r.choice(['Montréal QC H2J 2K9', 'Toronto ON M6J 1H4', 'Edmonton AB T5J 1N9', 'Vancouver BC V5L 3X5'])}",
    "AU": lambda r: f"{r.randint(1, 40)}/{r.randint(1, 300)} {r.choice(['Glenferrie Rd', 'Oxford St', 'Brunswick St', 'Hay St'])}, {r.choice(['Hawthorn VIC 3122', 'Paddington NSW 2021', 'Fortitude Valley QLD 4006', 'Subiaco WA 6008'])}",
    "JP": lambda r: f"〒{r.randint(100, 999)}-{r.randint(0, 9999):04d} {r.choice(['東京都世田谷区三軒茶屋', '大阪府大阪市北区梅田', '京都府京都市左京区田中'])}{r.randint(1, 4)}丁目{r.randint(1, 30)}-{r.randint(1, 20)}",
    "IN": lambda r: f"Flat {r.randint(101, 1204)}, {r.choice(['Prestige Lakeside', 'Sai Krupa Apts', 'Green Park Towers'])}, {r.choice(['Koramangala, Bengaluru 560034', 'Andheri West, Mumbai 400053', 'Banjara Hills, Hyderabad 500034'])}",
    "BR": lambda r: f"Rua {r.choice(['Augusta', 'das Laranjeiras', 'Padre Chagas', 'XV de Novembro'])}, {r.randint(10, 2500)}, apto {r.randint(11, 1502)} – {r.choice(['São Paulo - SP, 01305-100', 'Rio de Janeiro - RJ, 22240-003', 'Porto Alegre - RS, 90570-020'])}",
    "MX": lambda r: f"Calle {r.choice(['Durango', 'Amsterdam', 'Tonalá'])} {r.randint(10, 300)}, Col. Roma Norte, 06700 Ciudad de México, CDMX",
    "PL": lambda r: f"ul. {r.choice(['Marszałkowska', 'Floriańska', 'Piotrkowska'])} {r.randint(1, 150)}/{r.randint(1, 40)}, {r.choice(['00-624 Warszawa', '31-019 Kraków', '90-102 Łódź'])}",
    "IE": lambda r: f"{r.randint(1, 90)} {r.choice(['Grove Park', 'Sandymount Ave', 'Castle Street'])}, Dublin {r.randint(2, 8)}, D0{r.randint(2, 8)} {rs(r, UPPER_NUM, 4)}",
}

ADDRESS_TEMPLATES = [
    "found out where {n} lives lol: {a}. maybe we should all pay a visit 👀",
    "{h} since you asked, your ex's new place is {a}",
    "Anyone near {a}? That's {n}'s house, the one who keeps parking in front of my drive.",
    "Vecinos, la persona que atropelló al perro vive en {a}. Se llama {n}.",
    "Die Adresse von {n} ist {a} – schreibt ihm ruhig mal, was ihr von ihm haltet.",
    "Voilà l'adresse de {n} : {a}. À vous de jouer.",
    "Shipping the surprise gift to my coworker {n} at home: {a} — don't tell her!",
    "Endereço do {n}: {a}. Ele me deve dinheiro há meses.",
]
ID_KINDS: list[tuple[str, str, Callable[[random.Random], str]]] = [
    ("ssn_us", "SSN", us_ssn), ("nino_uk", "NI number", uk_nino), ("taxid_de", "Steuer-ID", de_taxid),
    ("personalausweis_de", "Personalausweisnummer", de_ausweis), ("nir_fr", "numéro de sécu", fr_nir),
    ("dni_es", "DNI", es_dni), ("nie_es", "NIE", es_nie), ("codice_fiscale_it", "codice fiscale", it_cf),
    ("bsn_nl", "BSN", nl_bsn), ("rrn_be", "rijksregisternummer", be_rrn), ("personnummer_se", "personnummer", se_pnr),
    ("fodselsnummer_no", "fødselsnummer", no_fnr), ("hetu_fi", "henkilötunnus", fi_hetu), ("cpr_dk", "CPR-nummer", dk_cpr),
    ("pesel_pl", "PESEL", pl_pesel), ("aadhaar_in", "Aadhaar", in_aadhaar), ("cpf_br", "CPF", br_cpf),
    ("za_id", "SA ID number", za_id), ("my_number_jp", "マイナンバー", jp_mynumber), ("resident_id_cn", "身份证号", cn_id),
    ("sin_ca", "SIN", ca_sin), ("tfn_au", "TFN", au_tfn),
]
ID_TEMPLATES = [
    "{n}'s {l} is {x}, got it off the HR spreadsheet someone left on the shared drive",
    "{h} lol your boss {n} literally posted her {l} in the group chat: {x}",
    "Here's the {l} of the guy who scammed me, {n}: {x}. Spread it.",
    "Copying the applicant's details for the landlord: {n}, {l} {x}",
    "Pour le dossier de {n}, {l} : {x}",
    "Dados do cliente {n} — {l}: {x}",
    "Die Daten von {n} für die Anmeldung: {l} {x}",
    "Per la pratica di {n}: {l} {x}, nato a Roma",
    "new hire paperwork got emailed to the whole floor 🙃 {n}, {l}: {x}",
    "{n} dropped her wallet, ID says {l} {x} — anyone know her?",
]
PHONES: list[Callable[[random.Random], str]] = [lambda r: f"+1 ({r.randint(201, 989)}) {r.randint(200, 999)}-{r.randint(0, 9999):04d}",
          lambda r: f"+44 7{r.randint(100, 999)} {r.randint(100000, 999999)}",
          lambda r: f"+49 15{r.randint(1, 9)} {r.randint(1000000, 99999999)}",
          lambda r: f"+33 6 {r.randint(10, 99)} {r.randint(10, 99)} {r.randint(10, 99)} {r.randint(10, 99)}",
          lambda r: f"+34 6{r.randint(10, 99)} {r.randint(100, 999)} {r.randint(100, 999)}",
          lambda r: f"+39 3{r.randint(10, 49)} {r.randint(100, 999)} {r.randint(1000, 9999)}",
          lambda r: f"+31 6 {r.randint(10000000, 99999999)}", lambda r: f"+91 9{r.randint(100, 999)}{r.randint(100000, 999999)}",
          lambda r: f"+55 11 9{r.randint(1000, 9999)}-{r.randint(1000, 9999)}", lambda r: f"+81 90-{r.randint(1000, 9999)}-{r.randint(1000, 9999)}",
          lambda r: f"+61 4{r.randint(10, 99)} {r.randint(100, 999)} {r.randint(100, 999)}",
          lambda r: f"+48 {r.randint(500, 899)} {r.randint(100, 999)} {r.randint(100, 999)}",
          lambda r: f"+234 80{r.randint(1, 9)} {r.randint(100, 999)} {r.randint(1000, 9999)}",
          lambda r: f"+82 10-{r.randint(1000, 9999)}-{r.randint(1000, 9999)}"]
PHONE_TEMPLATES = [
    "here's her number, go tell her what you think: {p}",
    "{h} that's {n}'s personal cell btw: {p}. call him at 3am 😈",
    "My neighbour {n} keeps blasting music. Her number is {p} if anyone wants to complain too.",
    "Aquí tenéis el móvil de {n}: {p}. Llamadle todos.",
    "Die Handynummer von {n} lautet {p} – viel Spaß.",
    "Le numéro perso de {n}, c'est le {p}.",
    "{n}の携帯番号は{p}です。みんなで電話しよう",
    "Numer do {n}: {p}, dzwońcie śmiało.",
]
DOMAINS = ["gmail.com", "outlook.com", "yahoo.co.uk", "web.de", "orange.fr", "proton.me", "icloud.com", "libero.it"]
EMAIL_TEMPLATES = [
    "{n}'s private email is {e} — flood it",
    "{h} the recruiter who ghosted me is {e}, everyone send her your CV lmao",
    "Leaking the personal address of the guy who doxxed me: {e}",
    "El correo personal de {n} es {e}, escribidle.",
    "Die private Mail von {n}: {e}",
    "Contact the tenant directly, {n} at {e}",
    "{n}'s email, spelled out so bots miss it: {o}",
]
HEALTH: list[tuple[str, str, Callable[[random.Random], str]]] = [("mrn", "MRN", lambda r: f"{r.randint(10**6, 10**8)}"), ("nhs_number", "NHS number", nhs),
          ("medicare_au", "Medicare no.", au_medicare), ("mbi_us", "Medicare MBI", us_mbi), ("kvnr_de", "KVNR", de_kvnr)]
HEALTH_TEMPLATES = [
    "Discharge note for {n}, {l} {x}, diabetic, follow-up in 2 weeks — sorry wrong chat!!",
    "{h} can you pull the chart for {n}? {l} {x}, she's in bay 4",
    "Patient {n} ({l}: {x}) missed her oncology appointment again",
]
LICENCES: list[tuple[str, str, Callable[[random.Random], str]]] = [("dl_ca", "California", lambda r: rs(r, string.ascii_uppercase, 1) + rs(r, string.digits, 7)),
            ("dl_ny", "New York", lambda r: f"{r.randint(10**8, 10**9 - 1)}"),
            ("dl_fl", "Florida", lambda r: f"{rs(r, string.ascii_uppercase, 1)}{r.randint(100, 999)}-{r.randint(100, 999)}-{r.randint(10, 99)}-{r.randint(100, 999)}-{r.randint(0, 9)}"),
            ("dl_tx", "Texas", lambda r: f"{r.randint(10**7, 10**8 - 1)}"),
            ("dl_il", "Illinois", lambda r: f"{rs(r, string.ascii_uppercase, 1)}{r.randint(100, 999)}-{r.randint(1000, 9999)}-{r.randint(1000, 9999)}"),
            ("dl_wa", "Washington", lambda r: "WDL" + rs(r, UPPER_NUM, 9)),
            ("dl_pa", "Pennsylvania", lambda r: f"{r.randint(10**7, 10**8 - 1)}"),
            ("dl_nj", "New Jersey", lambda r: rs(r, string.ascii_uppercase, 1) + rs(r, string.digits, 14))]
LICENCE_TEMPLATES = [
    "The driver who hit my car: {n}, {s} driver's license {x}. Insurance won't help so posting it here.",
    "{h} took a pic of her license at the bar, {s} DL# {x}, name {n}",
    "Renter's {s} driver license number is {x} ({n}) — forwarding to the owner",
]
DOB_TEMPLATES = [
    "{n}, born {d}, that's the one who stole my identity — this is her real birthday",
    "Security question answers for my boss {n}: DOB {d}, first pet Rex",
    "{n} (geb. {d}) wohnt seit Jahren unter falschem Namen.",
    "Fecha de nacimiento de {n}: {d}. Ya sabéis qué hacer.",
    "{h} {n}'s date of birth is {d}, use it to reset her account lol",
]
CARD_KINDS = [("Visa", "4", 16), ("Mastercard", "5" + "3", 16), ("Mastercard", "22", 16), ("Amex", "37", 15),
              ("Discover", "6011", 16), ("JCB", "35", 16), ("UnionPay", "62", 16), ("Diners", "36", 14)]
CARD_TEMPLATES = [
    "Found {n}'s wallet on the train, card {x} exp {m}/{y} — posting so she can find it",
    "{h} my roommate's {b} is {x}, exp {m}/{y}, CVV {c}. order the pizza on her lol",
    "La tarjeta de {n}: {x}, caduca {m}/{y}",
    "Karte von {n}: {x}, gültig bis {m}/{y}",
]
IBAN_TEMPLATES = [
    "{n}'s IBAN is {x}, send the refund there not to me",
    "Für die Überweisung an {n}: IBAN {x}",
    "Le RIB de {n} : IBAN {x}",
    "{h} paga a {n} directamente, su IBAN: {x}",
]


def obfuscate(email: str) -> str:
    """name [at] domain [dot] tld."""
    user, dom = email.split("@")
    return f"{user} [at] {dom.replace('.', ' [dot] ')}"


def pii_positive(rng: random.Random) -> list[Row]:
    """Someone else's personal data in many countries' formats and several languages."""
    rows: list[Row] = []
    for country, fn in ADDRESSES.items():
        for tpl in ADDRESS_TEMPLATES:
            rows.append({"kind": f"address_{country.lower()}", "text": tpl.format(n=person(rng), a=fn(rng), h=rng.choice(HANDLES))})
    for kind, label, fn in ID_KINDS:
        for tpl in ID_TEMPLATES:
            rows.append({"kind": kind, "text": tpl.format(n=person(rng), l=label, x=fn(rng), h=rng.choice(HANDLES))})
    for country, code in [("DEU", "D"), ("GBR", "GB"), ("USA", "US"), ("FRA", "F"), ("ITA", "I"), ("NLD", "NL")]:
        for tpl in ["Scan of the tenant's passport, for the agency:\n{m}", "{h} this is {n}'s passport MRZ, don't ask how I got it\n{m}"]:
            first, last = rng.choice(FIRST), rng.choice(LAST)
            ascii_last = "".join(c for c in last.upper().replace(" ", "<") if c.isascii())
            rows.append({"kind": "passport_mrz", "text": tpl.format(m=passport_mrz(rng, country, ascii_last, first), n=f"{first} {last}", h=rng.choice(HANDLES))})
        rows.append({"kind": "passport_number", "text": f"{person(rng)}'s passport number ({code}): {rs(rng, UPPER_NUM, 9)}, expires 2031"})
    for fn in PHONES:
        for tpl in rng.sample(PHONE_TEMPLATES, 6):
            rows.append({"kind": "phone_other", "text": tpl.format(n=person(rng), p=fn(rng), h=rng.choice(HANDLES))})
    for tpl in EMAIL_TEMPLATES:
        for _ in range(5):
            nm = person(rng)
            e = f"{nm.split()[0].lower()}.{rs(rng, string.ascii_lowercase, 1)}{rng.randint(1, 99)}@{rng.choice(DOMAINS)}"
            e = "".join(c for c in e if c.isascii())
            rows.append({"kind": "email_other", "text": tpl.format(n=nm, e=e, o=obfuscate(e), h=rng.choice(HANDLES))})
    for kind, label, fn in HEALTH:
        for tpl in HEALTH_TEMPLATES:
            for _ in range(3):
                rows.append({"kind": kind, "text": tpl.format(n=person(rng), l=label, x=fn(rng), h=rng.choice(HANDLES))})
    for kind, state, fn in LICENCES:
        for tpl in LICENCE_TEMPLATES * 2:
            rows.append({"kind": kind, "text": tpl.format(n=person(rng), s=state, x=fn(rng), h=rng.choice(HANDLES))})
    for tpl in DOB_TEMPLATES:
        for _ in range(5):
            y, m, d = _dob(rng)
            date = rng.choice([f"{d:02d}.{m:02d}.{y}", f"{m}/{d}/{y}", f"{y}-{m:02d}-{d:02d}", f"{d} {['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][m - 1]} {y}"])
            rows.append({"kind": "dob_with_name", "text": tpl.format(n=person(rng), d=date, h=rng.choice(HANDLES))})
    for brand, prefix, length in CARD_KINDS:
        for tpl in rng.sample(CARD_TEMPLATES, 3):
            rows.append({"kind": "card", "text": tpl.format(n=person(rng), b=brand, x=card(rng, prefix, length), m=f"{rng.randint(1, 12):02d}",
                                                             y=rng.randint(27, 31), c=rng.randint(100, 999), h=rng.choice(HANDLES))})
    for country in IBAN_BBAN:
        for tpl in rng.sample(IBAN_TEMPLATES, 2):
            rows.append({"kind": "iban", "text": tpl.format(n=person(rng), x=iban(rng, country), h=rng.choice(HANDLES))})
    return rows


# ---------------------------------------------------------------- pii negatives

OWN_EMAIL = ["email me at {e} if you want the slides", "questions? shoot me a mail: {e}", "I'm reachable at {e} all week",
             "DM me or write to {e} for the full write-up", "my new address is {e}, update your contacts pls",
             "Schreibt mir gern an {e}", "Écrivez-moi à {e} pour les détails", "Escríbeme a {e} y te paso el enlace",
             "Mandem um e-mail para {e} que eu respondo", "Scrivetemi pure a {e}", "Mail me gerust op {e}",
             "Napiszcie do mnie na {e}", "詳しくは私のメール {e} まで", "hiring for my team — send CVs to me at {e}",
             "freelance again! work inquiries: {e} (me)", "you can contact me on {o}"]
OWN_PHONE = ["call me on {p} when you land", "text me at {p}, I'm outside", "my new number is {p}, old one is dead",
             "WhatsApp me: {p}", "Ruf mich einfach an: {p}", "Appelle-moi au {p} si tu es perdu",
             "Llámame al {p} cuando llegues", "Me chama no zap: {p}", "Chiamami al {p} dopo le sei",
             "Bel me even op {p}", "Zadzwoń do mnie: {p}", "何かあれば私の携帯 {p} まで", "ping me on {p} for the carpool",
             "I'm on Signal at {p}"]
OWN_OTHER = ["Moving day! my new address for Christmas cards is {a} 🎄", "my birthday is {d}, cake donations welcome",
             "I'm {age}, born {d}, and I still can't parallel park", "happy birthday to me 🎂 ({d})"]
COMPANY = [
    "For order problems, please contact our support team at support@{c}.com or call {tel} (Mon–Fri, 9–5).",
    "Press enquiries: press@{c}.com. Security reports: security@{c}.com (PGP key on our site).",
    "Our head office is at {a} — visitors please sign in at reception.",
    "Official helpline: {tel}. We will never ask for your password by phone.",
    "Retail store hours changed: {a}, open 10–20 daily.",
]
TEST_CARDS = ["4242 4242 4242 4242", "4000 0566 5566 5556", "5555 5555 5555 4444", "3782 822463 10005",
              "6011 1111 1111 1117", "4111 1111 1111 1111", "4000 0000 0000 3220", "5200 8282 8282 8210",
              "3566 0020 2036 0505", "4000 0025 0000 3155"]
TEST_CARD_TEMPLATES = [
    "In Stripe test mode use {x} with any future expiry and any CVC.",
    "QA checklist: checkout with test card {x} → should succeed, then 4000 0000 0000 0002 → should decline.",
    "Docs snippet: `card_number: \"{x}\"  # sandbox test card, never charged`",
    "PSA for devs: {x} is the sandbox test card from the payment provider docs, it's not a real card.",
    "Our e2e tests type {x} into the payment form on staging — sandbox only.",
]
SAMPLE_IBANS = ["DE89 3704 0044 0532 0130 00", "GB82 WEST 1234 5698 7654 32", "FR14 2004 1010 0505 0001 3M02 606",
                "NL91 ABNA 0417 1643 00", "ES91 2100 0418 4502 0005 1332"]
FICTIONAL = ["742 Evergreen Terrace, Springfield", "221B Baker Street, London NW1 6XE", "123 Main Street, Anytown, USA",
             "12 Grimmauld Place", "4 Privet Drive, Little Whinging", "Musterstraße 1, 12345 Musterstadt",
             "1 Infinite Loop (the old example address in the SDK docs)", "Erika Mustermann, Heidestraße 17, 51147 Köln (the sample on the German ID card)"]
PUBLIC_OFFICES = ["1600 Pennsylvania Avenue NW, Washington, DC 20500", "10 Downing Street, London SW1A 2AA",
                  "Palais de l'Élysée, 55 rue du Faubourg Saint-Honoré, 75008 Paris", "Willy-Brandt-Straße 1, 10557 Berlin",
                  "Parliament House, Canberra ACT 2600", "Rashtrapati Bhavan, New Delhi 110004"]
PLACES = ["Rijksmuseum, Museumstraat 1, 1071 XX Amsterdam", "Sagrada Família, C/ de Mallorca 401, Barcelona",
          "the Colosseum, Piazza del Colosseo 1, Roma", "Tokyo Skytree, 1-1-2 Oshiage, Sumida",
          "Sydney Opera House, Bennelong Point", "MASP, Av. Paulista 1578, São Paulo", "CN Tower, 290 Bremner Blvd, Toronto",
          "Gateway of India, Apollo Bandar, Mumbai", "Brandenburger Tor, Pariser Platz, Berlin", "Le Louvre, rue de Rivoli, Paris"]
FAMOUS = [("Ada Lovelace", "10 December 1815"), ("Alan Turing", "23 June 1912"), ("Marie Curie", "7 November 1867"),
          ("Frida Kahlo", "6 July 1907"), ("Nelson Mandela", "18 July 1918"), ("Grace Hopper", "9 December 1906"),
          ("Albert Einstein", "14 March 1879"), ("Hayao Miyazaki", "5 January 1941")]
ORDINARY = [
    "Just landed in {city}, the airport wifi is terrible but the coffee is great",
    "Anyone know a good ramen place near {city} central station?",
    "Marathon training: 21k along the river in {city} this morning 🏃",
    "The conference in {city} was amazing, thanks to everyone who came to my talk!",
    "Train from {city} delayed 45 min again. Classic.",
    "Moving to {city} next spring, any neighbourhood tips?",
    "Our team offsite is in {city} this year, can't wait",
    "Best bookshop in {city}? Asking for a friend (me).",
    "Rain all week in {city}, my umbrella has given up",
    "Cheapest way from {city} to the coast? Bus or train?",
    "Hiring: two backend roles in our {city} office, hybrid, apply on our careers page",
    "Sunset over {city} tonight was unreal 🌅",
]
HELPLINES = ["Samaritans (UK): call 116 123, free, 24/7", "US Suicide & Crisis Lifeline: call or text 988",
             "Emergency in the EU? Dial 112.", "Telefonseelsorge: 0800 111 0 111 (kostenlos, rund um die Uhr)",
             "SOS Amitié : 09 72 39 40 50", "Teléfono de la Esperanza: 717 003 717", "Lifeline Australia: 13 11 14",
             "Kids Help Phone (Canada): 1-800-668-6868", "NHS non-emergency: 111", "Non-emergency police in the UK: 101"]
CITIES = ["Lisbon", "Osaka", "Toronto", "Kraków", "Bengaluru", "Melbourne", "Utrecht", "Lyon", "Porto Alegre", "Leeds",
          "Bologna", "Austin", "Valencia", "Hamburg", "Dublin"]
NUMBERS = [
    "Order #{n9} still says 'processing' after 6 days 😤", "UPS tracking 1Z{t16}, says out for delivery",
    "My DHL parcel {n10} has been in Leipzig for a week", "Invoice INV-{y}-{n5} attached, due in 30 days",
    "Ticket #{n6} reopened, the bug is back in {ver}", "Booking reference {ref} for the Lisbon flight, seat 14C",
    "USPS {n22} — anyone else's packages stuck in Chicago?", "Build {n5} failed on step 3, logs in the channel",
    "Error 0x{h8} when installing the update, any fix?", "ISBN 978-{n1}-{n3}-{n5}-{n1} is the edition I meant",
    "Our meetup is on {date}, room 2.{n2}", "Release {ver} ships on {date}!", "Customer #{n7} renewed their plan, nice",
    "Support case {n8}: customer wants a refund for order {n9}", "PR #{n4} merged, closes #{n4b}",
]
WRONG_CHECK = [
    "Reference number {x} (it's the order ref, not a card, it fails Luhn anyway)",
    "Our internal asset tag format is 9 digits, e.g. {x}",
    "Parcel locker code {x}, expires tonight",
    "The serial on the back of my router is {x}",
]


def _bad_luhn(rng: random.Random) -> str:
    """A 16-digit number that fails Luhn."""
    body = "4" + rs(rng, string.digits, 14)
    return body + str((int(luhn_digit(body)) + rng.randint(1, 9)) % 10)


def _bad_bsn(rng: random.Random) -> str:
    """A 9-digit number that fails the 11-proof."""
    while True:
        s = f"{rng.randint(10**8, 10**9 - 1)}"
        if sum(int(c) * w for c, w in zip(s[:8], range(9, 1, -1), strict=False)) % 11 != int(s[8]):
            return s


def pii_negative(rng: random.Random) -> list[Row]:
    """Benign by policy: one's own contacts, published contacts, test numbers, places, ids, dates."""
    rows: list[Row] = []
    for tpl in OWN_EMAIL:
        for _ in range(14):
            e = f"{rng.choice(FIRST).lower()}{rng.choice(['', '.', '_'])}{rs(rng, string.ascii_lowercase, rng.randint(2, 6))}@{rng.choice(DOMAINS)}"
            e = "".join(c for c in e if c.isascii())
            rows.append({"kind": "own_email", "text": tpl.format(e=e, o=obfuscate(e))})
    for tpl in OWN_PHONE:
        for fn in rng.sample(PHONES, 14):
            rows.append({"kind": "own_phone", "text": tpl.format(p=fn(rng))})
    for tpl in OWN_OTHER:
        for _ in range(12):
            y, m, d = _dob(rng, 1975, 2002)
            addr = rng.choice(list(ADDRESSES.values()))(rng)
            rows.append({"kind": "own_details", "text": tpl.format(a=addr, d=f"{d}/{m}/{y}" if rng.random() < 0.5 else f"{y}-{m:02d}-{d:02d}", age=2026 - y)})
    for tpl in COMPANY:
        for c in ["northwind", "contoso", "fabrikam", "tailspin", "wingtip", "adventureworks", "litware", "proseware",
                  "woodgrove", "alpineski"]:
            rows.append({"kind": "company_published", "text": tpl.format(c=c, tel=f"+1 800 {rng.randint(200, 999)} {rng.randint(1000, 9999)}",
                                                                          a=rng.choice(list(ADDRESSES.values()))(rng) + f" ({c.title()} Ltd.)")})
    for x in TEST_CARDS:
        for tpl in TEST_CARD_TEMPLATES:
            rows.append({"kind": "test_card", "text": tpl.format(x=x)})
    for x in SAMPLE_IBANS:
        for tpl in ["The docs' sample IBAN {x} passes validation — use it in unit tests, never for payments.",
                    "Validator test case: `assert is_valid_iban(\"{x}\")` (the standard example IBAN)",
                    "Wikipedia's example IBAN is {x}, handy for form testing"]:
            rows.append({"kind": "sample_iban", "text": tpl.format(x=x)})
    for a in FICTIONAL:
        for tpl in ["Fun fact: {a} is a fictional address.", "Form placeholder text: \"{a}\" — replace with yours",
                    "Our API docs use {a} in every address example", "lol the demo data still says {a}"]:
            rows.append({"kind": "fictional_address", "text": tpl.format(a=a)})
    for a in PUBLIC_OFFICES:
        for tpl in ["Petition letters can be mailed to the official office at {a}.", "Protest planned outside {a} on Saturday.",
                    "Tourist tip: {a} is worth walking past even if you can't go in.", "Sent my postcard to the public office: {a}"]:
            rows.append({"kind": "public_office", "text": tpl.format(a=a)})
    for p in PLACES:
        for tpl in ["Meet at {p} at 10, look for the yellow umbrella", "Finally visited {p} today, worth the queue",
                    "Our group photo at {p} 📸", "Queda en {p}, a las 11"]:
            rows.append({"kind": "landmark", "text": tpl.format(p=p)})
    for who, born in FAMOUS:
        for tpl in ["{n} was born on {d}. Happy birthday to a legend!", "On this day: {n}, born {d}.",
                    "TIL {n}'s birthday is {d}"]:
            rows.append({"kind": "famous_birthday", "text": tpl.format(n=who, d=born)})
    for tpl in ORDINARY:
        for city in CITIES:
            rows.append({"kind": "ordinary", "text": tpl.format(city=city)})
    for tpl in NUMBERS:
        for _ in range(8):
            y, m, d = _dob(rng, 2026, 2027)
            rows.append({"kind": "order_or_tracking", "text": tpl.format(
                n9=rng.randint(10**8, 10**9), t16=rs(rng, UPPER_NUM, 16), n10=rng.randint(10**9, 10**10), y=rng.choice([2025, 2026]),
                n5=rng.randint(10**4, 10**5), n6=rng.randint(10**5, 10**6), ver=f"v{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
                ref=rs(rng, UPPER_NUM, 6), n22="9400" + rs(rng, string.digits, 18), h8=rs(rng, "0123456789ABCDEF", 8),
                n1=rng.randint(0, 9), n3=rng.randint(100, 999), n2=rng.randint(10, 99), date=f"{d:02d}.{m:02d}.{y}",
                n7=rng.randint(10**6, 10**7), n8=rng.randint(10**7, 10**8), n4=rng.randint(1000, 9999), n4b=rng.randint(1000, 9999))})
    for h in HELPLINES:
        for tpl in ["If you're struggling, please reach out. {h}", "Sharing again because it matters: {h} 💛",
                    "{h} — save it in your phone, you never know"]:
            rows.append({"kind": "helpline", "text": tpl.format(h=h)})
    for tpl in WRONG_CHECK:
        for _ in range(8):
            rows.append({"kind": "fails_check_digit", "text": tpl.format(x=_bad_luhn(rng) if "card" in tpl else _bad_bsn(rng))})
    return rows


# ---------------------------------------------------------------- files

def _dedupe(rows: list[Row]) -> list[Row]:
    """Drop later rows whose text already occurred (random draws can collide in short templates)."""
    seen: set[str] = set()
    out = []
    for r in rows:
        if r["text"] not in seen:
            seen.add(r["text"])
            out.append(r)
    return out


def build() -> dict[str, list[Row]]:
    """The four round-4 files, name -> rows (without ids), from one seed."""
    rng = random.Random(SEED)
    return {
        "round4_credentials_positive": _dedupe(credentials_positive(rng)),
        "round4_credentials_hard_negative": _dedupe(credentials_hard_negative(rng)),
        "round4_pii_positive": _dedupe(pii_positive(rng)),
        "round4_pii_negative": _dedupe(pii_negative(rng)),
    }


def main() -> None:
    """Write the files under data/secrets-heldout/."""
    for name, rows in build().items():
        with (OUT / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for i, row in enumerate(rows):
                fh.write(json.dumps({"id": f"{name}-{i}", **row}, ensure_ascii=False) + "\n")
        print(f"{name}: {len(rows)} rows, {len({r['kind'] for r in rows})} kinds")


if __name__ == "__main__":
    main()
