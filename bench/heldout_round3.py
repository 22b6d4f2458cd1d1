"""Round 3 of the held-back set for credentials and personal data, written apart from the rules.

Independent of the rule packs (it imports nothing from ``rules/`` or the engine), so that its
first measurement says how the detectors do on formats and phrasings nobody tuned them on. Token formats are restated from
the providers' own public descriptions of them (prefix, length, alphabet, built-in checksum);
ID, card and bank numbers carry check digits computed by the algorithms implemented again
below; every sentence is new. Deterministic from one seed: ``python -m bench.heldout_round3``
writes ``data/secrets-heldout/round3_*.jsonl``. It measures, it does not train: never tune a
rule on its misses without writing a fresh round.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import string
import struct
import uuid
import zlib
from collections.abc import Callable
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "data" / "secrets-heldout"
SEED = 31337
PREFIX = "round3_"
UP, LO, DG = string.ascii_uppercase, string.ascii_lowercase, string.digits
AN, HX = UP + LO + DG, "0123456789abcdef"
URLS = AN + "-_"
B64 = AN + "+/"
LODG = LO + DG
Gen = Callable[[random.Random], str]
Row = dict[str, str]


def _s(rng: random.Random, n: int, alphabet: str = AN) -> str:
    """Random text of one alphabet, the raw material of every token."""
    return "".join(rng.choice(alphabet) for _ in range(n))


def _bytes(rng: random.Random, n: int) -> bytes:
    """Random bytes from the seeded generator (never os.urandom, to stay reproducible)."""
    return bytes(rng.getrandbits(8) for _ in range(n))


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _wrap(text: str, width: int = 64) -> str:
    return "\n".join(text[i:i + width] for i in range(0, len(text), width))


# --- checksums, implemented again from their published definitions -----------------------

def _luhn_digit(body: str) -> str:
    """The Luhn check digit that makes ``body + digit`` pass (cards, SIN, personnummer, ZA, IL)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def _luhn_ok(number: str) -> bool:
    return _luhn_digit(number[:-1]) == number[-1]


def _icao(field: str) -> str:
    """ICAO 9303 7-3-1 check digit of a machine-readable-zone field."""
    def val(c: str) -> int:
        if c.isdigit():
            return int(c)
        return 0 if c == "<" else ord(c) - 55
    return str(sum(val(c) * (7, 3, 1)[i % 3] for i, c in enumerate(field)) % 10)


def _iban(country: str, bban: str) -> str:
    """An IBAN with its ISO 13616 mod-97 check digits."""
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


def _iban_ok(iban: str) -> bool:
    s = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in s)) % 97 == 1


def _verhoeff(body: str) -> str:
    """Verhoeff check digit (Aadhaar)."""
    d = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
         [2, 3, 4, 0, 1, 7, 8, 9, 5, 6], [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
         [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
         [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
         [8, 7, 6, 5, 9, 3, 2, 1, 0, 4], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]
    p = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
         [5, 8, 0, 3, 7, 9, 6, 1, 4, 2], [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
         [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
         [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8]]
    inv = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9]
    c = 0
    for i, ch in enumerate(reversed(body)):
        c = d[c][p[(i + 1) % 8][int(ch)]]
    return str(inv[c])


def _b62_crc(body: str) -> str:
    """GitHub/npm token suffix: CRC32 of the body in base62, six characters."""
    alphabet = DG + UP + LO
    n, out = zlib.crc32(body.encode()), ""
    while n:
        n, k = divmod(n, 62)
        out = alphabet[k] + out
    return out.rjust(6, "0")


def _crc24(data: bytes) -> int:
    """OpenPGP ASCII-armour checksum (RFC 4880 section 6.1)."""
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _base58check(payload: bytes) -> str:
    """Base58Check (Bitcoin): payload plus the first four bytes of its double SHA-256."""
    raw = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    n, out = int.from_bytes(raw, "big"), ""
    while n:
        n, k = divmod(n, 58)
        out = _B58[k] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


def _bech32(hrp: str, raw: bytes) -> str:
    """BIP-173 bech32 of 8-bit data (age keys, nostr keys)."""
    charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
    data: list[int] = []
    acc = bits = 0
    for byte in raw:
        acc, bits = (acc << 8) | byte, bits + 8
        while bits >= 5:
            bits -= 5
            data.append((acc >> bits) & 31)
    if bits:
        data.append((acc << (5 - bits)) & 31)
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp] + data + [0] * 6:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    chk ^= 1
    return hrp + "1" + "".join(charset[d] for d in data + [(chk >> 5 * (5 - i)) & 31
                                                            for i in range(6)])


# --- token formats (provider, display name, env-style name, generator, self-evident) -------
# "Self-evident" formats carry a prefix that names them, so a bare paste is a leak; the others
# are only a credential where the post names them (an assignment, a header, the provider).

def _gh(prefix: str) -> Gen:
    def make(rng: random.Random) -> str:
        body = _s(rng, 30)
        return prefix + body + _b62_crc(body)
    return make


def _discord_bot(rng: random.Random) -> str:
    user_id = str(rng.randint(10**17, 10**19 - 1)).encode()
    return f"{_b64url(user_id)}.{_s(rng, 6, URLS)}.{_s(rng, 38, URLS)}"


def _jfrog_access(rng: random.Random) -> str:
    raw = f"reftkn:01:{rng.randint(10**9, 10**10 - 1)}:{_s(rng, 32)}".encode()
    return _b64(raw).rstrip("=")


def _grafana_legacy(rng: random.Random) -> str:
    body = json.dumps({"k": _s(rng, 32), "n": rng.choice(["ci", "deploy", "alerts", "bot"]),
                       "id": rng.randint(1, 900)}, separators=(",", ":"))
    return _b64(body.encode())


def _intercom(rng: random.Random) -> str:
    return _b64(f"tok:{_uuid(rng).replace('-', '_')}:1:0".encode())


def _onepassword(rng: random.Random) -> str:
    body = {"signInAddress": "my.1password.com", "email": _s(rng, 8, LO) + "@1passwordserviceaccounts.com",
            "srpX": _s(rng, 64, HX), "muk": {"alg": "A256GCM", "k": _s(rng, 43, URLS)},
            "secretKey": "A3-" + "-".join(_s(rng, 5, UP + DG) for _ in range(6)),
            "deviceUuid": _s(rng, 26, LODG)}
    return "ops_" + _b64url(json.dumps(body, separators=(",", ":")).encode())


def _openai_svc(rng: random.Random) -> str:
    return "sk-svcacct-" + _s(rng, 74, URLS) + "T3BlbkFJ" + _s(rng, 74, URLS)


def _adyen(rng: random.Random) -> str:
    return ("AQE" + _s(rng, 4) + _s(rng, 96, B64) + "==-" + _s(rng, 43, B64) + "=-"
            + _s(rng, 8, AN + "!%;{}"))


FORMATS: list[tuple[str, str, str, Gen, bool]] = [
    ("okta-api-token", "Okta", "OKTA_API_TOKEN", lambda r: "00" + _s(r, 40, URLS), False),
    ("adafruit-io", "Adafruit IO", "ADAFRUIT_IO_KEY", lambda r: "aio_" + _s(r, 28), True),
    ("airtable-pat", "Airtable", "AIRTABLE_TOKEN", lambda r: "pat" + _s(r, 14) + "." + _s(r, 64, HX), True),
    ("asana-pat", "Asana", "ASANA_PAT", lambda r: f"2/{_s(r, 16, DG)}/{_s(r, 16, DG)}:{_s(r, 32, HX)}", True),
    ("doppler-service-token", "Doppler", "DOPPLER_TOKEN", lambda r: f"dp.st.{r.choice(['dev', 'stg', 'prd'])}.{_s(r, 40)}", True),
    ("doppler-cli-token", "Doppler", "DOPPLER_CLI_TOKEN", lambda r: "dp.ct." + _s(r, 40), True),
    ("duffel-live", "Duffel", "DUFFEL_ACCESS_TOKEN", lambda r: "duffel_live_" + _s(r, 43, URLS), True),
    ("flyio-token", "Fly.io", "FLY_API_TOKEN", lambda r: "fo1_" + _s(r, 43, URLS), True),
    ("heroku-api-key", "Heroku", "HEROKU_API_KEY", lambda r: "HRKU-AA" + _s(r, 58, URLS), True),
    ("jfrog-api-key", "JFrog", "ARTIFACTORY_API_KEY", lambda r: "AKCp" + _s(r, 69), True),
    ("jfrog-access-token", "JFrog", "JFROG_ACCESS_TOKEN", _jfrog_access, True),
    ("octopus-api-key", "Octopus Deploy", "OCTOPUS_API_KEY", lambda r: "API-" + _s(r, 27, UP + DG), True),
    ("plaid-access-token", "Plaid", "PLAID_ACCESS_TOKEN", lambda r: "access-production-" + _uuid(r), True),
    ("scalingo-token", "Scalingo", "SCALINGO_API_TOKEN", lambda r: "tk-us-" + _s(r, 48, URLS), True),
    ("shopify-custom-app", "Shopify", "SHOPIFY_ACCESS_TOKEN", lambda r: "shpca_" + _s(r, 32, HX), True),
    ("shopify-private-app", "Shopify", "SHOPIFY_PRIVATE_APP_PASSWORD", lambda r: "shppa_" + _s(r, 32, HX), True),
    ("square-oauth-secret", "Square", "SQUARE_APP_SECRET", lambda r: "sq0csp-" + _s(r, 43, URLS), True),
    ("square-access-token", "Square", "SQUARE_TOKEN", lambda r: "sq0atp-" + _s(r, 22, URLS), True),
    ("typeform-pat", "Typeform", "TYPEFORM_TOKEN", lambda r: "tfp_" + _s(r, 44) + "_" + _s(r, 14), True),
    ("yandex-api-key", "Yandex Cloud", "YC_API_KEY", lambda r: "AQVN" + _s(r, 36, URLS), True),
    ("lob-live", "Lob", "LOB_API_KEY", lambda r: "live_" + _s(r, 35, HX), False),
    ("mollie-live", "Mollie", "MOLLIE_API_KEY", lambda r: "live_" + _s(r, 30), False),
    ("gitlab-ci-build-token", "GitLab", "CI_JOB_TOKEN", lambda r: f"glcbt-{_s(r, 2, HX)}_{_s(r, 20, URLS)}", True),
    ("gitlab-trigger-token", "GitLab", "GITLAB_TRIGGER_TOKEN", lambda r: "glptt-" + _s(r, 40, HX), True),
    ("gitlab-oauth-secret", "GitLab", "GITLAB_OAUTH_SECRET", lambda r: "gloas-" + _s(r, 64, HX), True),
    ("gitlab-agent-token", "GitLab", "GITLAB_AGENT_TOKEN", lambda r: "glagent-" + _s(r, 50, URLS), True),
    ("gitlab-incoming-mail", "GitLab", "INCOMING_EMAIL_TOKEN", lambda r: "glimt-" + _s(r, 25), True),
    ("discord-bot-token", "Discord", "DISCORD_BOT_TOKEN", _discord_bot, True),
    ("google-oauth-access", "Google", "GOOGLE_ACCESS_TOKEN", lambda r: "ya29.a0" + _s(r, 120, URLS), True),
    ("google-oauth-refresh", "Google", "GOOGLE_REFRESH_TOKEN", lambda r: "1//0" + _s(r, 2) + _s(r, 99, URLS), True),
    ("hashicorp-vault-batch", "Vault", "VAULT_TOKEN", lambda r: "hvb." + _s(r, 138, URLS), True),
    ("grafana-legacy-api-key", "Grafana", "GRAFANA_API_KEY", _grafana_legacy, True),
    ("newrelic-insert-key", "New Relic", "NEW_RELIC_INSERT_KEY", lambda r: "NRII-" + _s(r, 32, URLS), True),
    ("newrelic-admin-key", "New Relic", "NEW_RELIC_ADMIN_KEY", lambda r: "NRAA-" + _s(r, 27, HX), True),
    ("newrelic-rest-key", "New Relic", "NEW_RELIC_REST_API_KEY", lambda r: "NRRA-" + _s(r, 42, HX), True),
    ("newrelic-license-key", "New Relic", "NEW_RELIC_LICENSE_KEY", lambda r: _s(r, 36, HX) + "NRAL", True),
    ("honeycomb-ingest-key", "Honeycomb", "HONEYCOMB_API_KEY", lambda r: "hcaik_01" + _s(r, 56, LODG), True),
    ("docker-org-token", "Docker", "DOCKER_ORG_TOKEN", lambda r: "dckr_oat_" + _s(r, 32, URLS), True),
    ("crates-io-token", "crates.io", "CARGO_REGISTRY_TOKEN", lambda r: "cio" + _s(r, 32), True),
    ("infracost-key", "Infracost", "INFRACOST_API_KEY", lambda r: "ico-" + _s(r, 32), True),
    ("sourcegraph-token", "Sourcegraph", "SRC_ACCESS_TOKEN", lambda r: f"sgp_{_s(r, 16, HX)}_{_s(r, 40, HX)}", True),
    ("harness-pat", "Harness", "HARNESS_PLATFORM_API_KEY", lambda r: f"pat.{_s(r, 22, URLS)}.{_s(r, 24, HX)}.{_s(r, 20)}", True),
    ("elevenlabs-key", "ElevenLabs", "ELEVENLABS_API_KEY", lambda r: "sk_" + _s(r, 48, HX), False),
    ("together-key", "Together AI", "TOGETHER_API_KEY", lambda r: "tgp_v1_" + _s(r, 43, URLS), True),
    ("fireworks-key", "Fireworks", "FIREWORKS_API_KEY", lambda r: "fw_" + _s(r, 24), True),
    ("anyscale-key", "Anyscale", "ANYSCALE_API_KEY", lambda r: "esecret_" + _s(r, 26, LODG), True),
    ("nvidia-api-key", "NVIDIA", "NVIDIA_API_KEY", lambda r: "nvapi-" + _s(r, 64, URLS), True),
    ("cerebras-key", "Cerebras", "CEREBRAS_API_KEY", lambda r: "csk-" + _s(r, 48, LODG), True),
    ("huggingface-org-token", "Hugging Face", "HF_ORG_TOKEN", lambda r: "api_org_" + _s(r, 34, UP + LO), True),
    ("mandrill-key", "Mandrill", "MANDRILL_API_KEY", lambda r: "md-" + _s(r, 22, URLS), False),
    ("mailersend-token", "MailerSend", "MAILERSEND_API_TOKEN", lambda r: "mlsn." + _s(r, 64, HX), True),
    ("telnyx-key", "Telnyx", "TELNYX_API_KEY", lambda r: "KEY0" + _s(r, 31, "0123456789ABCDEF") + "_" + _s(r, 22), True),
    ("adyen-api-key", "Adyen", "ADYEN_API_KEY", _adyen, True),
    ("paystack-live", "Paystack", "PAYSTACK_SECRET_KEY", lambda r: "sk_live_" + _s(r, 40, HX), True),
    ("gocardless-live", "GoCardless", "GOCARDLESS_ACCESS_TOKEN", lambda r: "live_" + _s(r, 40, URLS), False),
    ("stytch-live", "Stytch", "STYTCH_SECRET", lambda r: "secret-live-" + _s(r, 36, URLS), True),
    ("woocommerce-secret", "WooCommerce", "WC_CONSUMER_SECRET", lambda r: "cs_" + _s(r, 40, HX), False),
    ("digitalocean-oauth", "DigitalOcean", "DIGITALOCEAN_OAUTH_TOKEN", lambda r: "doo_v1_" + _s(r, 64, HX), True),
    ("digitalocean-refresh", "DigitalOcean", "DO_REFRESH_TOKEN", lambda r: "dor_v1_" + _s(r, 64, HX), True),
    ("supabase-secret-key", "Supabase", "SUPABASE_SECRET_KEY", lambda r: "sb_secret_" + _s(r, 31, URLS), True),
    ("planetscale-token", "PlanetScale", "PLANETSCALE_SERVICE_TOKEN", lambda r: "pscale_tkn_" + _s(r, 43, URLS), True),
    ("planetscale-oauth", "PlanetScale", "PLANETSCALE_OAUTH_TOKEN", lambda r: "pscale_oauth_" + _s(r, 43, URLS), True),
    ("neon-api-key", "Neon", "NEON_API_KEY", lambda r: "napi_" + _s(r, 64, LODG), True),
    ("instagram-token", "Instagram", "IG_ACCESS_TOKEN", lambda r: "IGQV" + _s(r, 160, URLS), True),
    ("pinterest-token", "Pinterest", "PINTEREST_ACCESS_TOKEN", lambda r: "pina_" + _s(r, 96, UP + DG), True),
    ("twitch-oauth", "Twitch", "TWITCH_OAUTH", lambda r: "oauth:" + _s(r, 30, LODG), False),
    ("trello-token", "Trello", "TRELLO_TOKEN", lambda r: "ATTA" + _s(r, 64, HX) + _s(r, 8, "0123456789ABCDEF"), True),
    ("clickup-token", "ClickUp", "CLICKUP_API_TOKEN", lambda r: f"pk_{_s(r, 8, DG)}_{_s(r, 32, UP + DG)}", True),
    ("notion-legacy-secret", "Notion", "NOTION_TOKEN", lambda r: "secret_" + _s(r, 43), True),
    ("onepassword-service-account", "1Password", "OP_SERVICE_ACCOUNT_TOKEN", _onepassword, True),
    ("bitwarden-access-token", "Bitwarden", "BWS_ACCESS_TOKEN", lambda r: f"0.{_uuid(r)}.{_s(r, 30)}:{_b64(_bytes(r, 16))}", True),
    ("tailscale-api-key", "Tailscale", "TAILSCALE_API_KEY", lambda r: f"tskey-api-k{_s(r, 11)}CNTRL-{_s(r, 32)}", True),
    ("ngrok-authtoken", "ngrok", "NGROK_AUTHTOKEN", lambda r: "2" + _s(r, 26) + "_" + _s(r, 21), False),
    ("sonarqube-project-token", "SonarQube", "SONAR_TOKEN", lambda r: "sqp_" + _s(r, 40, HX), True),
    ("sonarqube-analysis-token", "SonarQube", "SONAR_TOKEN", lambda r: "sqa_" + _s(r, 40, HX), True),
    ("circleci-project-token", "CircleCI", "CIRCLE_TOKEN", lambda r: f"CCIPRJ_{_s(r, 22)}_{_s(r, 40, HX)}", True),
    ("posthog-personal-key", "PostHog", "POSTHOG_PERSONAL_API_KEY", lambda r: "phx_" + _s(r, 47), True),
    ("launchdarkly-api-token", "LaunchDarkly", "LD_API_KEY", lambda r: "api-" + _uuid(r), False),
    ("statsig-server-secret", "Statsig", "STATSIG_SERVER_SECRET", lambda r: "secret-" + _s(r, 43), False),
    ("intercom-token", "Intercom", "INTERCOM_ACCESS_TOKEN", _intercom, True),
    ("salesforce-session", "Salesforce", "SF_ACCESS_TOKEN", lambda r: "00D" + _s(r, 12) + "!AR" + _s(r, 96, AN + "._"), True),
    ("klaviyo-private-key", "Klaviyo", "KLAVIYO_PRIVATE_KEY", lambda r: "pk_" + _s(r, 34, HX), False),
    ("openai-service-account", "OpenAI", "OPENAI_API_KEY", _openai_svc, True),
    ("openai-admin-key", "OpenAI", "OPENAI_ADMIN_KEY", lambda r: "sk-admin-" + _s(r, 74, URLS) + "T3BlbkFJ" + _s(r, 74, URLS), True),
    ("anthropic-admin-key", "Anthropic", "ANTHROPIC_ADMIN_KEY", lambda r: "sk-ant-admin01-" + _s(r, 93, URLS) + "AA", True),
    ("volcengine-access-key", "Volcengine", "VOLC_ACCESSKEY", lambda r: "AKLT" + _s(r, 43, URLS), True),
    ("openshift-token", "OpenShift", "OPENSHIFT_TOKEN", lambda r: "sha256~" + _s(r, 43, URLS), True),
    ("rancher-token", "Rancher", "RANCHER_TOKEN", lambda r: f"token-{_s(r, 5, LODG)}:{_s(r, 54, LODG)}", True),
    ("datadog-api-key", "Datadog", "DD_API_KEY", lambda r: _s(r, 32, HX), False),
    ("datadog-app-key", "Datadog", "DD_APP_KEY", lambda r: _s(r, 40, HX), False),
    ("cloudflare-api-token", "Cloudflare", "CLOUDFLARE_API_TOKEN", lambda r: _s(r, 40, URLS), False),
    ("cloudflare-global-key", "Cloudflare", "CLOUDFLARE_API_KEY", lambda r: _s(r, 37, HX), False),
    ("azure-openai-key", "Azure OpenAI", "AZURE_OPENAI_API_KEY", lambda r: _s(r, 32, HX), False),
    ("mistral-key", "Mistral", "MISTRAL_API_KEY", lambda r: _s(r, 32), False),
    ("cohere-key", "Cohere", "CO_API_KEY", lambda r: _s(r, 40), False),
    ("deepseek-key", "DeepSeek", "DEEPSEEK_API_KEY", lambda r: "sk-" + _s(r, 32, HX), False),
    ("wandb-key", "Weights & Biases", "WANDB_API_KEY", lambda r: _s(r, 40, HX), False),
    ("linode-token", "Linode", "LINODE_TOKEN", lambda r: _s(r, 64, HX), False),
    ("hetzner-token", "Hetzner Cloud", "HCLOUD_TOKEN", lambda r: _s(r, 64), False),
    ("vercel-token", "Vercel", "VERCEL_TOKEN", lambda r: _s(r, 24), False),
    ("pagerduty-routing-key", "PagerDuty", "PAGERDUTY_ROUTING_KEY", lambda r: _s(r, 32, HX), False),
    ("algolia-admin-key", "Algolia", "ALGOLIA_ADMIN_KEY", lambda r: _s(r, 32, HX), False),
    ("fastly-token", "Fastly", "FASTLY_API_TOKEN", lambda r: _s(r, 32, URLS), False),
    ("twilio-auth-token", "Twilio", "TWILIO_AUTH_TOKEN", lambda r: _s(r, 32, HX), False),
    ("ibm-cloud-api-key", "IBM Cloud", "IBMCLOUD_API_KEY", lambda r: _s(r, 44, URLS), False),
    ("snyk-token", "Snyk", "SNYK_TOKEN", _uuid, False),
    ("binance-secret", "Binance", "BINANCE_API_SECRET", lambda r: _s(r, 64), False),
    ("aws-secret-access-key", "AWS", "AWS_SECRET_ACCESS_KEY", lambda r: _s(r, 40, B64), False),
    ("jenkins-api-token", "Jenkins", "JENKINS_API_TOKEN", lambda r: "11" + _s(r, 32, HX), False),
]

# Surroundings that name the secret ({V} env name, {lv} lower name, {P} provider).
NAMED = [
    "{V}={k}",
    "{lv}: {k}",
    "{{\"{lv}\": \"{k}\", \"timeout_s\": 30}}",
    "[{sect}]\n{lv} = \"{k}\"\nregion = \"eu-central-1\"",
    "[default]\n{lv} = {k}",
    "export {V}=\"{k}\"",
    "services:\n  worker:\n    image: acme/worker:2.3\n    environment:\n      - {V}={k}",
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {sect}-creds\nstringData:\n  {V}: {k}",
    "provider \"{sect}\" {{\n  {lv} = \"{k}\"\n}}",
    "env:\n  {V}: {k}\nsteps:\n  - run: make release",
    "variables:\n  {V}: \"{k}\"\nstages: [build, deploy]",
    "$env:{V} = \"{k}\"",
    "ENV {V}={k}",
    "Environment={V}={k}",
    "set -gx {V} {k}",
    "helm upgrade api ./chart --set secrets.{lv}={k}",
    "client = {sect}.Client({lv}=\"{k}\")",
    "const {lv} = '{k}';  // will move to env later",
    "my {P} key {k} stopped working this morning, anyone else?",
    "why does {P} return 401 with {k}?? copied it straight from the console",
    "@ops_maren the {P} token for the bot is {k}, can you add it to the runner",
    "[09:14] kofi: here's the {P} key for staging {k}\n[09:15] kofi: oops wrong channel",
    "Update: the {P} credential in my last post ({k}) has been revoked, thanks to everyone who DM'd",
    "el {P} me da 403 con la clave {k}, ¿alguien sabe por qué?",
    "Kann jemand helfen? {P} lehnt {k} ab, obwohl er gestern noch ging",
    "j'ai collé la clé {P} {k} dans le ticket public, je la révoque",
]

# Surroundings that do not name it: only for self-evident formats.
BARE = [
    "lol my CI log just printed {k} in plain text 🫠 rotating",
    "Edit: someone pointed out I left {k} in the snippet above, it's revoked now",
    "> token: {k}\nthis is what the script prints, is that normal?",
    "saving this here so I stop losing it {k}",
    "{k}\n\nsorry, that was my clipboard, please ignore",
    "pasted {k} into the wrong tab during the demo, nice",
    "気をつけて、{k} をうっかりコミットしてしまった",
    "o token {k} parou de funcionar do nada, alguém sabe?",
]

SECTIONS = ["billing", "search", "notify", "ingest", "payments", "reports", "crm", "mailer"]


def _provider_rows(rng: random.Random) -> list[Row]:
    out: list[Row] = []
    for kind, display, env, make, evident in FORMATS:
        pool = NAMED + BARE if evident else NAMED
        for ctx in rng.sample(pool, 3):
            out.append({"kind": kind, "text": ctx.format(
                k=make(rng), V=env, lv=env.lower(), P=display, sect=rng.choice(SECTIONS))})
    return out


# --- generic secrets, passwords, connection strings ---------------------------------------

def _password(rng: random.Random) -> str:
    """A password someone actually chose: words, digits and symbols, never a meme."""
    words = ["Juniper", "Kestrel", "Saffron", "Tundra", "Marlin", "Obsidian", "Pelican",
             "Zephyr", "Cobalt", "Meadow", "Lantern", "Glacier"]
    style = rng.randint(0, 4)
    if style == 0:
        return rng.choice(words) + str(rng.randint(10, 999)) + rng.choice("!$%&*#@") + rng.choice(words).lower()
    if style == 1:
        return ".".join(rng.choice(words).lower() for _ in range(3)) + str(rng.randint(1, 99))
    if style == 2:
        return _s(rng, rng.randint(12, 18), AN + "!#%&*+=?@")
    if style == 3:
        return rng.choice(words)[:4] + _s(rng, 4, DG) + rng.choice(words)[-3:].upper() + rng.choice("!?$")
    return _s(rng, 4, UP) + "-" + _s(rng, 4, LODG) + "-" + _s(rng, 4, DG) + rng.choice("!%")


def _secret_value(rng: random.Random) -> str:
    """A high-entropy generated secret, in one of the alphabets secret generators use."""
    return rng.choice([
        lambda: _s(rng, rng.randint(24, 48)),
        lambda: _s(rng, rng.choice([32, 40, 64]), HX),
        lambda: _b64(_bytes(rng, rng.choice([24, 32, 48]))),
        lambda: _s(rng, rng.randint(30, 50), URLS),
    ])()


GENERIC_NAMES = ["password", "db_password", "passwd", "client_secret", "api_key", "apikey",
                 "auth_token", "access_token", "secret_key", "signing_secret", "encryption_key",
                 "private_token", "app_secret", "jwt_secret", "webhook_secret", "session_secret",
                 "master_key", "SECRET_KEY_BASE", "SMTP_PASSWORD", "REDIS_PASSWORD",
                 "ADMIN_PASS", "service_password", "consumer_secret", "hmac_key"]

# (file format, template) — {n} a secret's name, {v} its value.
GENERIC_FORMATS = [
    ("env", "# .env.production\nAPP_ENV=production\n{N}={v}"),
    ("yaml", "database:\n  host: db.internal\n  {n}: \"{v}\""),
    ("json", "{{\n  \"service\": \"ledger\",\n  \"{n}\": \"{v}\"\n}}"),
    ("toml", "[server]\nport = 8443\n{n} = \"{v}\""),
    ("ini", "[auth]\nuser = svc_batch\n{n} = {v}"),
    ("shell", "export {N}='{v}' && ./run.sh"),
    ("docker-compose", "environment:\n  POSTGRES_USER: app\n  {N}: \"{v}\""),
    ("k8s", "kind: Secret\napiVersion: v1\nstringData:\n  {n}: \"{v}\"\ntype: Opaque"),
    ("terraform", "resource \"acme_integration\" \"main\" {{\n  name = \"sync\"\n  {n} = \"{v}\"\n}}"),
    ("ci-yaml", "jobs:\n  deploy:\n    env:\n      {N}: {v}\n    runs-on: ubuntu-latest"),
    ("properties", "spring.datasource.username=ledger\nspring.datasource.{n}={v}"),
    ("python", "settings = {{\"{n}\": \"{v}\", \"debug\": False}}"),
    ("php", "define('{N}', '{v}');"),
    ("xml", "<server>\n  <id>internal-repo</id>\n  <{n}>{v}</{n}>\n</server>"),
    ("hcl", "{n} = \"{v}\"  # from the old vault, rotate later"),
]


def _generic_rows(rng: random.Random) -> list[Row]:
    out: list[Row] = []
    for fmt, tpl in GENERIC_FORMATS:
        for _ in range(4):
            name = rng.choice(GENERIC_NAMES)
            value = _secret_value(rng) if rng.random() < 0.7 else _password(rng)
            out.append({"kind": f"generic-{fmt}", "text": tpl.format(
                n=name.lower(), N=name.upper(), v=value)})
    hosts = ["api.acme-billing.io", "reports.internal.acme.net", "10.40.2.19:8080", "ci.acme-corp.dev"]
    users = ["svc-deploy", "jkowalski", "build", "reporting", "m.ito"]
    for _ in range(5):
        u, pw, h = rng.choice(users), _password(rng), rng.choice(hosts)
        out.append({"kind": "curl-basic", "text": rng.choice([
            f"curl -u {u}:{pw} https://{h}/v2/export",
            f"curl --user '{u}:{pw}' -X POST https://{h}/jobs/run",
            f"works from my laptop: `curl -su \"{u}:{pw}\" https://{h}/health`",
        ])})
        basic = _b64(f"{u}:{_password(rng)}".encode())
        out.append({"kind": "basic-auth-header", "text": rng.choice([
            f"GET /v1/accounts HTTP/1.1\nHost: {h}\nAuthorization: Basic {basic}",
            f"request headers from devtools:\nauthorization: Basic {basic}\naccept: */*",
            f"curl -H 'Authorization: Basic {basic}' https://{h}/",
        ])})
        opaque = _s(rng, rng.choice([40, 48, 64]), URLS)
        out.append({"kind": "bearer-header", "text": rng.choice([
            f"curl https://{h}/v1/me -H \"Authorization: Bearer {opaque}\"",
            f"headers = {{\"Authorization\": \"Bearer {opaque}\"}}",
            f"copy as cURL gave me this:\n-H 'authorization: Bearer {opaque}'",
        ])})
        key = _s(rng, 32, rng.choice([HX, AN]))
        out.append({"kind": "api-key-header", "text": rng.choice([
            f"http GET https://{h}/orders X-API-Key:{key}",
            f"fetch(url, {{ headers: {{ 'x-api-key': '{key}' }} }})",
            f"X-Api-Key: {key}\nContent-Type: application/json",
        ])})
    for _ in range(4):
        out.append({"kind": "npmrc", "text": rng.choice([
            f"//registry.npmjs.org/:_authToken={_uuid(rng)}",
            f"# ~/.npmrc\n@acme:registry=https://npm.pkg.github.com\n//npm.pkg.github.com/:_authToken={_gh('ghp_')(rng)}",
        ])})
        out.append({"kind": "aws-credentials-file", "text":
                    "[default]\naws_access_key_id = AKIA" + _s(rng, 16, UP + "234567")
                    + "\naws_secret_access_key = " + _s(rng, 40, B64)})
    return out


PROSE = [
    "psst, the cabin wifi is \"LakeHouse-5G\" and the key is {p}",
    "Password? It's {p}. Don't make me say it twice in the standup",
    "creds for the kiosk: user frontdesk, pass {p}",
    "u: jdoe / p: {p} — that's the shared QA login",
    "I've set everyone's temporary password to {p}, change it on first login please",
    "just type {p} when it asks for the passphrase",
    "the master passphrase for the team vault is {p} (yes I know)",
    "zip is protected, the password is {p}",
    "SSID AcmeGuest, WPA key {p}",
    "the new door code for the lab is {p}",
    "@liv_codes the staging admin login is admin / {p}, don't share it",
    "Reminder for the offsite: network ThePier, passcode {p}",
    "if the laptop asks, the BIOS password is {p}",
    "our shared Figma account is design@acme-corp.io with password {p}",
    "my banking password is {p} lol I'm sure nobody reads these",
    "the router admin page is 192.168.1.1, login admin and {p}",
    "Tell Sam the VPN passphrase changed to {p}",
    "the password to the Notion workspace export is {p}",
    "Contraseña del wifi de la oficina: {p}",
    "si alguien necesita entrar al panel: usuario soporte, clave {p}",
    "Das WLAN-Passwort für den Besprechungsraum ist {p}",
    "Zugang zum Testserver: Benutzer admin, Kennwort {p}",
    "le mot de passe du compte partagé, c'est {p}",
    "pour le wifi invité : {p}",
    "la password del router è {p}",
    "wachtwoord van de gedeelde mailbox: {p}",
    "hasło do wifi w biurze: {p}",
    "a senha do wifi da loja é {p}",
    "会議室のWi-Fiパスワードは {p} です",
    "办公室wifi密码是 {p}",
    "wifi şifresi {p}, misafirler için",
    "lösenordet till gäst-wifi är {p}",
    "the Jenkins admin password got reset to {p} after the upgrade",
    "keystore password: {p}  (for the release signing key)",
    "PGP passphrase is {p}, the key is on the usb stick",
    "sudo password on the build box is {p}, ask before you use it",
]


def _prose_rows(rng: random.Random) -> list[Row]:
    out = [{"kind": "password-prose", "text": tpl.format(p=_password(rng))} for tpl in PROSE]
    for _ in range(4):
        out.append({"kind": "wifi-qr", "text": rng.choice([
            "scan or type it: WIFI:T:WPA;S:{s};P:{p};;",
            "the QR code on the fridge decodes to WIFI:S:{s};T:WPA;P:{p};H:false;;",
        ]).format(s=rng.choice(["Casa-Lopez", "AcmeLab", "Studio 4", "Loft_24"]), p=_password(rng))})
    return out


CONNECTIONS = [
    ("jdbc", "jdbc:postgresql://pg-ledger.acme-internal.net:5432/ledger?user=ledger_rw&password={p}"),
    ("jdbc", "jdbc:sqlserver://sql01.corp.acme.net:1433;databaseName=payroll;user=payroll_app;password={p};encrypt=true"),
    ("oracle", "sqlplus hr_batch/{p}@//ora-prod.acme.net:1521/ORCLPDB1"),
    ("clickhouse", "clickhouse://analytics:{p}@ch.acme-data.io:9440/events?secure=true"),
    ("cockroach", "postgresql://maxroach:{p}@free-tier.gcp-us-central1.cockroachlabs.cloud:26257/bank?sslmode=verify-full"),
    ("snowflake", "snowflake://etl_user:{p}@acme-eu1/ANALYTICS/PUBLIC?warehouse=LOAD_WH"),
    ("kafka-jaas", "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"orders\" password=\"{p}\";"),
    ("ldap", "ldapsearch -H ldaps://ldap.acme.net -D \"cn=admin,dc=acme,dc=net\" -w '{p}' -b dc=acme,dc=net"),
    ("smtp", "smtp://postmaster%40mg.acme.io:{p}@smtp.mailgun.org:587"),
    ("elasticsearch", "https://elastic:{p}@es-logs.acme-prod.io:9243"),
    ("amqps", "amqps://billing:{p}@b-3f2a.mq.eu-west-1.amazonaws.com:5671"),
    ("neo4j", "neo4j+s://neo4j:{p}@4f1e2a9c.databases.neo4j.io"),
    ("mqtt", "mqtt://sensor-gw:{p}@broker.acme-iot.net:8883"),
    ("sftp", "sftp://partner_upload:{p}@sftp.acme-partner.com:22/inbound"),
    ("odbc", "Driver={{ODBC Driver 18 for SQL Server}};Server=tcp:acme-hr.database.windows.net;Uid=hr_reader;Pwd={p};"),
    ("rediss", "rediss://:{p}@redis-14523.c12.us-east-1-4.ec2.cloud.redislabs.com:14523"),
    ("sqlalchemy", "SQLALCHEMY_DATABASE_URI = 'mysql+pymysql://shop:{p}@10.0.3.41/shop'"),
    ("dotnet", "Data Source=sql-prod-02;Initial Catalog=Orders;User Id=orders_svc;Password={p};"),
    ("mongodb", "mongodb://admin:{p}@mongo-0.acme.net:27017,mongo-1.acme.net:27017/?replicaSet=rs0&authSource=admin"),
    ("cloudinary", "CLOUDINARY_URL=cloudinary://{n15}:{a27}@acme-media"),
    ("git-credentials", "https://deploy:{gh}@github.com"),
    ("azure-service-bus", "Endpoint=sb://acme-orders.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={b44}"),
    ("azure-cosmos", "AccountEndpoint=https://acme-catalog.documents.azure.com:443/;AccountKey={b88};"),
    ("postgres-url", "DATABASE_URL=postgres://u{h8}:{p}@ec2-54-170-12-90.eu-west-1.compute.amazonaws.com:5432/d{h8}"),
    ("pip-index", "pip install --index-url https://ci-reader:{p}@pypi.acme-corp.io/simple acme-sdk"),
    ("proxy", "export HTTPS_PROXY=http://jsmith:{p}@proxy.acme.net:3128"),
]


def _connection_rows(rng: random.Random) -> list[Row]:
    out: list[Row] = []
    frames = ["{c}", "can't connect with {c} — timeout after 30s", "```\n{c}\n```",
              "for the record, the string in prod is {c}"]
    for kind, tpl in CONNECTIONS:
        for frame in rng.sample(frames, 2):
            conn = tpl.format(p=_password(rng), n15=_s(rng, 15, DG), a27=_s(rng, 27, URLS),
                              gh=_gh("ghp_")(rng), b44=_b64(_bytes(rng, 32)),
                              b88=_b64(_bytes(rng, 64)), h8=_s(rng, 8, LODG))
            out.append({"kind": f"conn-{kind}", "text": frame.format(c=conn)})
    return out


# --- private keys with material, JWTs, webhooks ------------------------------------------

def _ssh_string(raw: bytes) -> bytes:
    return struct.pack(">I", len(raw)) + raw


def _ed25519_blob(rng: random.Random) -> bytes:
    return _ssh_string(b"ssh-ed25519") + _ssh_string(_bytes(rng, 32))


def _openssh_private(rng: random.Random) -> str:
    pub = _ed25519_blob(rng)
    check = _bytes(rng, 4)
    private = (check + check + pub + _ssh_string(_bytes(rng, 64))
               + _ssh_string(b"deploy@build-07") + b"\x01\x02\x03\x04\x05")
    raw = (b"openssh-key-v1\0" + _ssh_string(b"none") + _ssh_string(b"none")
           + _ssh_string(b"") + struct.pack(">I", 1) + _ssh_string(pub) + _ssh_string(private))
    return ("-----BEGIN OPENSSH PRIVATE KEY-----\n" + _wrap(_b64(raw), 70)
            + "\n-----END OPENSSH PRIVATE KEY-----")


def _ec_private(rng: random.Random) -> str:
    der = (bytes.fromhex("30770201010420") + _bytes(rng, 32)
           + bytes.fromhex("a00a06082a8648ce3d030107a14403420004") + _bytes(rng, 64))
    return "-----BEGIN EC PRIVATE KEY-----\n" + _wrap(_b64(der)) + "\n-----END EC PRIVATE KEY-----"


def _pkcs8_ed25519(rng: random.Random) -> str:
    der = bytes.fromhex("302e020100300506032b657004220420") + _bytes(rng, 32)
    return "-----BEGIN PRIVATE KEY-----\n" + _b64(der) + "\n-----END PRIVATE KEY-----"


def _rsa_private(rng: random.Random) -> str:
    der = bytes.fromhex("308204a40201000282010100") + _bytes(rng, 1180)
    return "-----BEGIN RSA PRIVATE KEY-----\n" + _wrap(_b64(der)) + "\n-----END RSA PRIVATE KEY-----"


def _encrypted_pkcs8(rng: random.Random) -> str:
    der = bytes.fromhex("308205") + _bytes(rng, 300)
    return ("-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + _wrap(_b64(der))
            + "\n-----END ENCRYPTED PRIVATE KEY-----")


def _pgp_private(rng: random.Random) -> str:
    raw = b"\x95\x03\x98\x04" + _bytes(rng, 180)
    crc = _b64(_crc24(raw).to_bytes(3, "big"))
    return ("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n" + _wrap(_b64(raw))
            + f"\n={crc}\n-----END PGP PRIVATE KEY BLOCK-----")


def _putty(rng: random.Random) -> str:
    pub = _wrap(_b64(_ed25519_blob(rng)), 64)
    return ("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: ed25519-key-20240611\n"
            f"Public-Lines: {pub.count(chr(10)) + 1}\n{pub}\nPrivate-Lines: 1\n"
            f"{_b64(_ssh_string(_bytes(rng, 32)))}\nPrivate-MAC: {_s(rng, 64, HX)}")


def _wireguard(rng: random.Random) -> str:
    return (f"[Interface]\nPrivateKey = {_b64(_bytes(rng, 32))}\nAddress = 10.13.0.{rng.randint(2, 250)}/32\n"
            f"DNS = 1.1.1.1\n\n[Peer]\nPublicKey = {_b64(_bytes(rng, 32))}\n"
            f"Endpoint = vpn.acme-corp.io:51820\nAllowedIPs = 0.0.0.0/0")


def _wif(rng: random.Random) -> str:
    return _base58check(b"\x80" + _bytes(rng, 32) + b"\x01")


PRIVATE_KEYS: list[tuple[str, Gen, list[str]]] = [
    ("private-key-openssh", _openssh_private, ["cat ~/.ssh/id_ed25519 output, why does ssh reject it?\n{k}",
                                               "the deploy key the contractor sent over Slack:\n{k}"]),
    ("private-key-ec", _ec_private, ["{k}\n^ that's the signing key for the webhook verifier",
                                     "tls.key in the chart values:\n{k}"]),
    ("private-key-pkcs8", _pkcs8_ed25519, ["key for the license server: {k}",
                                           "```\n{k}\n```\nwhy does openssl say unsupported?"]),
    ("private-key-rsa", _rsa_private, ["pasting the whole thing so you can reproduce:\n{k}"]),
    ("private-key-encrypted", _encrypted_pkcs8, ["encrypted key, passphrase in the other message:\n{k}"]),
    ("private-key-pgp", _pgp_private, ["exported with gpg --export-secret-keys --armor:\n{k}"]),
    ("private-key-putty", _putty, ["the .ppk for the jump host (don't judge):\n{k}"]),
    ("wireguard-private-key", _wireguard, ["my wg0.conf for the office VPN, what's wrong with it?\n{k}",
                                           "{k}\n\nhandshake never completes 😩"]),
    ("bitcoin-wif", _wif, ["sweep this before the auction ends: {k}",
                           "wallet import key for the bounty, first come first served: {k}"]),
    ("nostr-secret-key", lambda r: _bech32("nsec", _bytes(r, 32)),
     ["logging into the new client with {k}, seems fine", "my bot's key is {k}, feel free to poke it"]),
    ("ethereum-private-key", lambda r: "0x" + _s(r, 64, HX),
     ["PRIVATE_KEY={k}\nRPC_URL=https://mainnet.infura.io/v3/" + "{h32}",
      "deployer wallet private key: {k} (has 0.4 ETH on it)"]),
    ("minisign-secret-key", lambda r: "untrusted comment: minisign encrypted secret key\nRWRTY0Iy" + _s(r, 150, B64),
     ["~/.minisign/minisign.key:\n{k}"]),
]


def _jwt(rng: random.Random) -> str:
    alg = rng.choice(["HS256", "RS256", "ES256", "HS512", "PS256"])
    header: dict[str, str] = {"alg": alg, "typ": "JWT"}
    if alg != "HS256":
        header["kid"] = _s(rng, 16, LODG)
    now = rng.randint(1_700_000_000, 1_800_000_000)
    claims = {"iss": rng.choice(["https://auth.acme-corp.io/", "https://login.acme.net", "acme-api"]),
              "sub": _uuid(rng), "aud": rng.choice(["orders", "admin-console", "mobile"]),
              "iat": now, "exp": now + rng.choice([900, 3600, 86400 * 30]),
              "scope": rng.choice(["read write", "admin", "orders:write"])}
    sig_len = 43 if alg == "HS256" else 86 if alg == "HS512" else 342
    return ".".join([_b64url(json.dumps(header).encode()),
                     _b64url(json.dumps(claims).encode()), _s(rng, sig_len, URLS)])


JWT_CONTEXTS = [
    "Authorization: Bearer {k}",
    "document.cookie shows session={k}; path=/",
    "{{\"access_token\": \"{k}\", \"token_type\": \"Bearer\", \"expires_in\": 3600}}",
    "my admin JWT from the console, decode it and see the scopes lol {k}",
    "localStorage.getItem('id_token') → \"{k}\"",
    "curl -H 'Authorization: Bearer {k}' https://api.acme-corp.io/v1/admin/users",
    "token expired? here's the one the app sent: {k}",
    "grpcurl -H 'authorization: Bearer {k}' api.acme-corp.io:443 list",
]

WEBHOOKS: list[tuple[str, Gen]] = [
    ("webhook-slack-workflow", lambda r: f"https://hooks.slack.com/triggers/T{_s(r, 10, UP + DG)}/{_s(r, 13, DG)}/{_s(r, 32, HX)}"),
    ("webhook-mattermost", lambda r: f"https://chat.acme-corp.io/hooks/{_s(r, 26, LODG)}"),
    ("webhook-rocketchat", lambda r: f"https://rocket.acme.net/hooks/{_s(r, 17)}/{_s(r, 48)}"),
    ("webhook-feishu", lambda r: f"https://open.feishu.cn/open-apis/bot/v2/hook/{_uuid(r)}"),
    ("webhook-lark", lambda r: f"https://open.larksuite.com/open-apis/bot/v2/hook/{_uuid(r)}"),
    ("webhook-dingtalk", lambda r: f"https://oapi.dingtalk.com/robot/send?access_token={_s(r, 64, HX)}"),
    ("webhook-wecom", lambda r: f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={_uuid(r)}"),
    ("webhook-ifttt", lambda r: f"https://maker.ifttt.com/trigger/door_open/with/key/{_s(r, 22, URLS)}"),
    ("webhook-make", lambda r: f"https://hook.eu1.make.com/{_s(r, 32, LODG)}"),
    ("webhook-power-automate", lambda r: f"https://prod-{r.randint(10, 99)}.westeurope.logic.azure.com:443/workflows/{_s(r, 32, HX)}/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={_s(r, 43, URLS)}"),
    ("webhook-telegram-url", lambda r: f"https://api.telegram.org/bot{r.randint(10**9, 8 * 10**9)}:AA{_s(r, 33, URLS)}/sendMessage?chat_id=-100{_s(r, 10, DG)}"),
    ("webhook-webex", lambda r: f"https://webexapis.com/v1/webhooks/incoming/{_b64url(('ciscospark://us/WEBHOOK/' + _uuid(r)).encode())}"),
    ("webhook-discordapp", lambda r: f"https://discordapp.com/api/webhooks/{_s(r, 19, DG)}/{_s(r, 68, URLS)}"),
    ("webhook-n8n", lambda r: f"https://acme.app.n8n.cloud/webhook/{_uuid(r)}"),
    ("webhook-pipedream", lambda r: f"https://eo{_s(r, 30, LODG)}.m.pipedream.net"),
]

WEBHOOK_CONTEXTS = [
    "alerts go to {k} now, ping me if they stop",
    "curl -X POST -H 'Content-Type: application/json' -d '{{\"text\":\"deploy done\"}}' {k}",
    "WEBHOOK_URL={k}",
    "notify:\n  url: {k}\n  on: [failure]",
]


def _key_rows(rng: random.Random) -> list[Row]:
    out: list[Row] = []
    for kind, make, contexts in PRIVATE_KEYS:
        for ctx in contexts:
            out.append({"kind": kind, "text": ctx.format(k=make(rng), h32=_s(rng, 32, HX))})
    for ctx in JWT_CONTEXTS:
        for _ in range(2):
            out.append({"kind": "jwt", "text": ctx.format(k=_jwt(rng))})
    for kind, make in WEBHOOKS:
        for ctx in rng.sample(WEBHOOK_CONTEXTS, 2):
            out.append({"kind": kind, "text": ctx.format(k=make(rng))})
    return out


# --- encoded and broken-up secrets ---------------------------------------------------------

def _some_secret(rng: random.Random) -> tuple[str, str]:
    """A self-evident token of a random provider, with its env name."""
    kind, _display, env, make, evident = rng.choice([f for f in FORMATS if f[4]])
    return env, make(rng)


def _encoded_rows(rng: random.Random) -> list[Row]:
    out: list[Row] = []
    for _ in range(5):
        env, tok = _some_secret(rng)
        out.append({"kind": "base64-env", "text": rng.choice([
            "base64'd the env so the scanner stops complaining: {b}",
            "echo '{b}' | base64 -d >> .env",
            "the secret in the sealed blob is just base64: {b}",
        ]).format(b=_b64(f"{env}={tok}\n".encode()))})
    for _ in range(5):
        name = rng.choice(["password", "db-password", "api-token", "client-secret"])
        out.append({"kind": "base64-k8s-data", "text":
                    f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ndata:\n  {name}: "
                    f"{_b64(_password(rng).encode())}\n  username: {_b64(b'app_rw')}"})
    for _ in range(4):
        raw = _b64(json.dumps({"auths": {"registry.acme-corp.io": {
            "auth": _b64(f"ci-pusher:{_password(rng)}".encode())}}}).encode())
        out.append({"kind": "base64-dockerconfig", "text":
                    f"kind: Secret\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {raw}"})
    for _ in range(6):
        _env, tok = _some_secret(rng)
        style = rng.randint(0, 4)
        if style == 0:
            text = "reading it out so nobody has to copy it: " + " ".join(tok)
        elif style == 1:
            cut = len(tok) // 2
            text = f"key part 1: {tok[:cut]}\nkey part 2: {tok[cut:]}\n(join them, no space)"
        elif style == 2:
            cut = len(tok) // 3
            text = f"token = \"{tok[:cut]}\" + \"{tok[cut:2 * cut]}\" + \"{tok[2 * cut:]}\""
        elif style == 3:
            text = "here, with a zero-width space so the bot ignores it: " + "\u200b".join(
                tok[i:i + 6] for i in range(0, len(tok), 6))
        else:
            text = "the key, twelve characters a line:\n" + "\n".join(tok[i:i + 12] for i in range(0, len(tok), 12))
        out.append({"kind": "split-secret", "text": text})
    for _ in range(4):
        pw = _password(rng)
        out.append({"kind": "split-password", "text": rng.choice([
            f"wifi password, spaced so you can read it: {' '.join(pw)}",
            f"the db password is {pw[:5]}\n…and the rest: {pw[5:]}",
        ])})
    return out


def credential_positives(rng: random.Random) -> list[Row]:
    """Every positive: provider formats, generic assignments, prose, connections, keys, encodings."""
    return (_provider_rows(rng) + _generic_rows(rng) + _prose_rows(rng) + _connection_rows(rng)
            + _key_rows(rng) + _encoded_rows(rng))


# --- credential hard negatives: benign by the policy's conventions -------------------------

def _ssh_pub(rng: random.Random) -> str:
    return "ssh-ed25519 " + _b64(_ed25519_blob(rng)) + " " + rng.choice(["dana@laptop", "ci@build", "me@home"])


def _ssh_rsa_pub(rng: random.Random) -> str:
    blob = _ssh_string(b"ssh-rsa") + _ssh_string(b"\x01\x00\x01") + _ssh_string(b"\x00" + _bytes(rng, 256))
    return "ssh-rsa " + _b64(blob)


def _pub_pem(rng: random.Random) -> str:
    der = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d03010703420004") + _bytes(rng, 64)
    return "-----BEGIN PUBLIC KEY-----\n" + _wrap(_b64(der)) + "\n-----END PUBLIC KEY-----"


def _cert_pem(rng: random.Random) -> str:
    der = bytes.fromhex("308203") + _bytes(rng, 240)
    return "-----BEGIN CERTIFICATE-----\n" + _wrap(_b64(der)) + "\n-----END CERTIFICATE-----"


def _pgp_public(rng: random.Random) -> str:
    raw = b"\x99\x01\x0d\x04" + _bytes(rng, 150)
    crc = _b64(_crc24(raw).to_bytes(3, "big"))
    return ("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n" + _wrap(_b64(raw))
            + f"\n={crc}\n-----END PGP PUBLIC KEY BLOCK-----")


def _ansible_vault(rng: random.Random) -> str:
    return "$ANSIBLE_VAULT;1.1;AES256\n" + "\n".join(_s(rng, 80, HX) for _ in range(3))


def _slots(rng: random.Random) -> dict[str, str]:
    """Values the hard-negative templates quote: public, hashed, encrypted or identifying."""
    return {
        "ssh": _ssh_pub(rng), "sshrsa": _ssh_rsa_pub(rng), "pubpem": _pub_pem(rng),
        "cert": _cert_pem(rng), "pgppub": _pgp_public(rng),
        "agepub": _bech32("age", _bytes(rng, 32)), "npub": _bech32("npub", _bytes(rng, 32)),
        "btc": _base58check(b"\x00" + _bytes(rng, 20)), "eth": "0x" + _s(rng, 40, HX),
        "wgpub": _b64(_bytes(rng, 32)), "h64": _s(rng, 64, HX), "h40": _s(rng, 40, HX),
        "h32": _s(rng, 32, HX), "h7": _s(rng, 7, HX), "uuid": _uuid(rng),
        "sri": "sha384-" + _b64(_bytes(rng, 48)), "npmint": "sha512-" + _b64(_bytes(rng, 64)),
        "gosum": "h1:" + _b64(_bytes(rng, 32)), "pi": "pi_3" + _s(rng, 23), "cus": "cus_" + _s(rng, 14),
        "evt": "evt_1" + _s(rng, 23), "trace": f"00-{_s(rng, 32, HX)}-{_s(rng, 16, HX)}-01",
        "vault": _ansible_vault(rng),
        "sops": f"ENC[AES256_GCM,data:{_b64(_bytes(rng, 18))},iv:{_b64(_bytes(rng, 32))},tag:{_b64(_bytes(rng, 16))},type:str]",
        "sealed": "AgB" + _s(rng, 200, B64) + "==",
        "yt": _s(rng, 11, URLS), "n4": _s(rng, 4, DG), "n6": _s(rng, 6, DG),
        "ts": f"{rng.randint(1_700_000_000, 1_760_000_000)}.{_s(rng, 6, DG)}",
        "chan": "C0" + _s(rng, 9, UP + DG), "fp": " ".join(_s(rng, 4, "0123456789ABCDEF") for _ in range(10)),
    }


HARD_NEGATIVES: list[tuple[str, str]] = [
    # placeholders, references and masked values
    ("placeholder", "HEROKU_API_KEY=<paste your key here>"),
    ("placeholder", "export NVIDIA_API_KEY=\"nvapi-YOUR_KEY_HERE\""),
    ("placeholder", "api_key: ${{{{ secrets.DUFFEL_TOKEN }}}}"),
    ("placeholder", "password: \"{{{{ .Values.db.password }}}}\""),
    ("placeholder", "DATABASE_URL=postgres://$DB_USER:$DB_PASS@$DB_HOST:5432/app"),
    ("placeholder", "token = os.environ[\"TYPEFORM_TOKEN\"]  # never hardcode it"),
    ("placeholder", "OKTA_API_TOKEN=00xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
    ("placeholder", "dckr_oat_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX goes in the org settings, not here"),
    ("placeholder", "Authorization: Bearer <token>"),
    ("placeholder", "curl -u \"$JENKINS_USER:$JENKINS_API_TOKEN\" https://ci.acme-corp.io/job/build/"),
    ("placeholder", "password = \"********\"  # the UI masks it, obviously"),
    ("placeholder", "client_secret: REPLACE_ME"),
    ("placeholder", "SECRET_KEY_BASE=changeme-in-production"),
    ("placeholder", "the key shows as sk-ant-admin01-…{n4}AA in the console, which is all I'm sharing"),
    ("placeholder", "my token ends in …{n4}, support asked me to confirm that"),
    ("placeholder", "[REDACTED] was the value of STRIPE_SECRET_KEY in the crash log, good"),
    ("placeholder", "env:\n  SONAR_TOKEN: ${{{{ secrets.SONAR_TOKEN }}}}"),
    ("placeholder", "valueFrom:\n  secretKeyRef:\n    name: db-creds\n    key: password"),
    ("placeholder", "password = var.db_password\n# set it in terraform.tfvars, which is gitignored"),
    ("placeholder", "resource \"random_password\" \"db\" {{\n  length  = 32\n  special = true\n}}"),
    ("placeholder", "pass: !env_var SMTP_PASSWORD"),
    ("placeholder", "api_key = \"{{{{ vault('secret/data/ci#api_key') }}}}\""),
    ("placeholder", "secret: op://Engineering/Staging DB/password"),
    ("placeholder", "gh secret set FLY_API_TOKEN < token.txt   # reads it from a file, not the terminal"),
    ("placeholder", "your_api_key_here is literally what the tutorial leaves in the code sample"),
    ("placeholder", "DB_PASSWORD=  # left empty on purpose, docker secrets fill it"),
    # documented sample values
    ("documented-sample", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("documented-sample", "the AWS docs' sample key pair AKIAI44QH8DHBEXAMPLE / je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY shows up in every tutorial"),
    ("documented-sample", "jwt.io's default token is eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c — John Doe, 1516239022"),
    ("documented-sample", "Slack's docs use xoxb-not-a-real-token-this-will-not-work in every example"),
    ("documented-sample", "the sample webhook in the Slack docs is https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"),
    ("documented-sample", "Azurite's well-known dev key: DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"),
    ("documented-sample", "Twilio's quickstart has ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX and your_auth_token as placeholders"),
    ("documented-sample", "docker run --name some-postgres -e POSTGRES_PASSWORD=mysecretpassword -d postgres  (straight from the image docs)"),
    ("documented-sample", "the MySQL image README: docker run -e MYSQL_ROOT_PASSWORD=my-secret-pw -d mysql:8"),
    ("documented-sample", "UseDevelopmentStorage=true is all you need for the emulator"),
    # test-mode keys
    ("test-mode", "Stripe test mode: STRIPE_SECRET_KEY=sk_test_" + "{t24}" + " — charges never hit a card"),
    ("test-mode", "sk_test_4eC39HqLyjWDarjtT1zdp7dc is the key in Stripe's API reference examples"),
    ("test-mode", "PAYSTACK_SECRET_KEY=sk_test_{h40}  # sandbox only"),
    ("test-mode", "RAZORPAY_KEY_ID=rzp_test_{t14} for the local checkout demo"),
    ("test-mode", "MOLLIE_API_KEY=test_{t30}  (test mode, no real payments)"),
    ("test-mode", "DUFFEL_ACCESS_TOKEN=duffel_test_{t43} — sandbox, books fake flights"),
    ("test-mode", "plaid sandbox gives you access-sandbox-{uuid}, works with user_good / pass_good"),
    ("test-mode", "STYTCH_SECRET=secret-test-{t36} for the test project"),
    ("test-mode", "GOCARDLESS_ACCESS_TOKEN=sandbox_{t40} in the sandbox environment"),
    ("test-mode", "Lob test key test_{h35} prints no real letters, perfect for CI"),
    ("test-mode", "EASYPOST_API_KEY=EZTK{t54}  # test key, labels are fake"),
    ("test-mode", "Flutterwave test keys look like FLWSECK_TEST-{h32}-X and only work on the sandbox"),
    ("test-mode", "braintree sandbox: access_token$sandbox${t16}${h32}"),
    ("test-mode", "shippo_test_{h40} is the test token from the onboarding screen"),
    ("test-mode", "pk_test_{t24} in the frontend for the Stripe test checkout"),
    # key headers without material
    ("key-header", "why does ssh say 'invalid format' for a file that starts with -----BEGIN OPENSSH PRIVATE KEY----- ?"),
    ("key-header", "-----BEGIN RSA PRIVATE KEY-----\n[redacted]\n-----END RSA PRIVATE KEY-----"),
    ("key-header", "grep -l 'BEGIN PGP PRIVATE KEY BLOCK' -r . returned nothing, good"),
    ("key-header", "the file has -----BEGIN ENCRYPTED PRIVATE KEY----- at the top, so openssl wants a passphrase"),
    ("key-header", "-----BEGIN EC PRIVATE KEY-----\n...\n-----END EC PRIVATE KEY-----  ← that's the shape, never paste the middle"),
    ("key-header", "[Interface]\nPrivateKey = <wg genkey output>\nAddress = 10.0.0.2/32"),
    ("key-header", "PuTTY-User-Key-File-3 files convert with puttygen key.ppk -O private-openssh"),
    # public keys and public addresses
    ("public-key", "add this to your authorized_keys: {ssh}"),
    ("public-key", "my public key, for the new server: {sshrsa} builder@ci"),
    ("public-key", "{pubpem}\nthat's the verification key for our webhook signatures"),
    ("public-key", "the CA cert for the internal mirror:\n{cert}"),
    ("public-key", "encrypt to me with age: {agepub}"),
    ("public-key", "follow me on nostr: {npub}"),
    ("public-key", "tip jar: {btc} ☕"),
    ("public-key", "donations for the meetup go to {eth}"),
    ("public-key", "[Peer]\nPublicKey = {wgpub}\nEndpoint = vpn.example.net:51820"),
    ("public-key", "{pgppub}"),
    ("public-key", "my GPG fingerprint is {fp}, verify before trusting anything signed"),
    # hashes, ids and digests
    ("hash-id", "docker pull ghcr.io/acme/api@sha256:{h64}"),
    ("hash-id", "fixed in {h40}, cherry-picked to the release branch"),
    ("hash-id", "git bisect points at {h7} — the dependency bump"),
    ("hash-id", "\"integrity\": \"{npmint}\""),
    ("hash-id", "<script src=\"https://cdn.example.org/lib.min.js\" integrity=\"{sri}\" crossorigin=\"anonymous\"></script>"),
    ("hash-id", "github.com/acme/kit v1.4.2 {gosum}"),
    ("hash-id", "checksum = \"{h64}\"  (Cargo.lock)"),
    ("hash-id", "sha256sum of the ISO: {h64}, matches the site"),
    ("hash-id", "request id {uuid} if support asks"),
    ("hash-id", "traceparent: {trace}"),
    ("hash-id", "payment {pi} for customer {cus} shows as succeeded, refund it?"),
    ("hash-id", "webhook event {evt} was delivered twice"),
    ("hash-id", "the Sentry event id is {h32}, it's the same null pointer"),
    ("hash-id", "thread ts {ts} in {chan}, that's where the decision is"),
    ("hash-id", "ETag: W/\"{h32}\""),
    ("hash-id", "watch https://www.youtube.com/watch?v={yt} from 12:40"),
    ("hash-id", "run id {uuid} failed at the migrate step"),
    # localhost sample credentials
    ("localhost-sample", "DATABASE_URL=postgres://postgres:postgres@localhost:5432/app_dev"),
    ("localhost-sample", "mongodb://root:example@localhost:27017/  — the compose file from the mongo image docs"),
    ("localhost-sample", "RabbitMQ management UI at http://localhost:15672, guest/guest"),
    ("localhost-sample", "local Grafana: http://127.0.0.1:3000 admin/admin, it asks you to change it"),
    ("localhost-sample", "minio dev server: MINIO_ROOT_USER=minioadmin MINIO_ROOT_PASSWORD=minioadmin on localhost:9000"),
    ("localhost-sample", "vault server -dev -dev-root-token-id=root, then VAULT_ADDR=http://127.0.0.1:8200"),
    ("localhost-sample", "Keycloak in dev mode: KEYCLOAK_ADMIN=admin KEYCLOAK_ADMIN_PASSWORD=admin, localhost:8080"),
    ("localhost-sample", "mysql://root:root@127.0.0.1:3306/test_db for the integration tests"),
    ("localhost-sample", "redis://:devpassword@localhost:6379/0 in docker-compose.override.yml"),
    # security advice naming prefixes
    ("security-advice", "heads-up: Heroku keys now start with HRKU-, add that to your secret scanner"),
    ("security-advice", "if you ever see nvapi- or tgp_v1_ in a repo, revoke first and ask later"),
    ("security-advice", "GitLab's token prefixes: glpat-, glptt-, glcbt-, gldt-, glrt- — worth a pre-commit hook"),
    ("security-advice", "Docker organization access tokens begin with dckr_oat_; treat them like passwords"),
    ("security-advice", "New Relic keys are easy to spot: NRAK-, NRII-, NRAA- prefixes"),
    ("security-advice", "1Password service account tokens start with ops_ and are long base64, don't put them in CI logs"),
    ("security-advice", "Anthropic admin keys are sk-ant-admin01-…, regular ones sk-ant-api03-… — both secret"),
    ("security-advice", "hvs. is a Vault service token, hvb. a batch token, hvr. a recovery token"),
    ("security-advice", "Consejo: las claves de Okta empiezan por 00 y van en la cabecera SSWS, nunca en el código"),
    ("security-advice", "Tipp: Tokens mit dem Präfix sb_secret_ sind Supabase-Server-Schlüssel, nicht ins Frontend!"),
    ("security-advice", "astuce : les jetons OpenShift commencent par sha256~, ce n'est pas un hash"),
    ("security-advice", "a rotation checklist: AKIA…, ghp_…, xoxb-…, sk_live_… — every one of them out of the repo"),
    # password talk without a password
    ("password-talk", "changed every password I own after that breach email, took all evening"),
    ("password-talk", "the new policy wants 14 characters and no reuse of the last 10 passwords"),
    ("password-talk", "what's the wifi password here? asking for a friend (the friend is me)"),
    ("password-talk", "I'll DM you the password, not posting it in a channel with 400 people"),
    ("password-talk", "the password is in the team vault under 'Staging DB', ask Ines for access"),
    ("password-talk", "forgot my password for the third time this week, the reset email takes ages"),
    ("password-talk", "never give your password to anyone who calls claiming to be IT"),
    ("password-talk", "my password is ******* — see, the site hides it for you too"),
    ("password-talk", "correct horse battery staple is still the best password advice comic"),
    ("password-talk", "hunter2 jokes will never die and I'm fine with that"),
    ("password-talk", "me: strong unique passwords everywhere. also me: 'what was it again'"),
    ("password-talk", "password managers are the only thing that made 2FA bearable for my parents"),
    ("password-talk", "¿cuál es la contraseña del wifi? pregúntale al camarero"),
    ("password-talk", "Passwort vergessen, schon wieder. Der Reset-Link kommt nie an"),
    ("password-talk", "j'ai enfin activé un gestionnaire de mots de passe, quelle paix"),
    ("password-talk", "パスワードを忘れたので再設定中…"),
    ("password-talk", "password reset tokens expire after 15 minutes now, nice change"),
    ("password-talk", "the screen said 'password incorrect' so I typed incorrect. it didn't work. 0/10 joke"),
    ("password-talk", "rotate the service account password quarterly, per the runbook"),
    # encrypted values
    ("encrypted-value", "db_password: !vault |\n{vault}"),
    ("encrypted-value", "password: {sops}"),
    ("encrypted-value", "encryptedData:\n  password: {sealed}"),
]

FRAMES3 = ["{t}", "fwiw {t}", "{t} (h/t @devnull_dana)", "> {t}", "{t} 🧵", "note to self: {t}",
           "{t} #devops", "Re: {t}", "{t}\n\n— from the onboarding doc", "@kemal_ops {t}"]


def credential_hard_negatives(rng: random.Random) -> list[Row]:
    """Benign by policy: each template thrice, in different framings and with fresh values."""
    out: list[Row] = []
    for kind, tpl in HARD_NEGATIVES:
        for frame in rng.sample(FRAMES3, 3):
            vals = _slots(rng) | {"t24": _s(rng, 24), "t14": _s(rng, 14), "t30": _s(rng, 30),
                                  "t43": _s(rng, 43, URLS), "t36": _s(rng, 36, URLS),
                                  "t40": _s(rng, 40, URLS), "h35": _s(rng, 35, HX),
                                  "t54": _s(rng, 54), "t16": _s(rng, 16, LODG)}
            out.append({"kind": kind, "text": frame.replace("{t}", tpl.format(**vals))})
    seen: set[str] = set()
    return [o for o in out if not (o["text"] in seen or seen.add(o["text"]))]  # type: ignore[func-returns-value]


# --- personal data: names, contacts, addresses ---------------------------------------------

FIRST = ["Aoife", "Bilal", "Chiara", "Dmitri", "Efua", "Fernando", "Greta", "Haruto", "Ifeoma",
         "Jakub", "Keanu", "Leilani", "Mehmet", "Noor", "Oskar", "Paulina", "Quentin", "Rosa",
         "Siddharth", "Thandiwe", "Ulrike", "Valentin", "Wen", "Ximena", "Yusuf", "Zofia"]
LAST = ["Brennan", "Castellanos", "Dubois", "Eriksen", "Fujimoto", "Gallagher", "Hosseini",
        "Iwu", "Jankowski", "Kowalczyk", "Laurent", "Moreau", "Nakamura", "Oyelaran", "Pereira",
        "Quispe", "Rahman", "Sørensen", "Takahashi", "Ulloa", "Vasquez", "Wójcik", "Yilmaz", "Zimmer"]
HANDLES = ["@mira_builds", "@tobi_dev", "@katsu.eats", "@grumpy_sre", "@lena.k", "@rafa_on_call",
           "@bea_writes", "@nightshift_nils"]


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _email(rng: random.Random, name: str) -> str:
    first, last = (p.lower().replace("ø", "o").replace("ó", "o") for p in name.split())
    local = rng.choice([f"{first}.{last}", f"{first[0]}{last}", f"{first}{rng.randint(1, 99)}",
                        f"{last}.{first[0]}", f"{first}_{last}{rng.randint(70, 99)}"])
    return local + "@" + rng.choice(["gmail.com", "proton.me", "icloud.com", "yahoo.co.jp", "web.de",
                                     "gmx.de", "orange.fr", "libero.it", "hotmail.es", "wp.pl",
                                     "naver.com", "uol.com.br", "seznam.cz", "outlook.com", "fastmail.com"])


def _d(rng: random.Random, n: int) -> str:
    return _s(rng, n, DG)


PHONES: dict[str, Gen] = {
    "us": lambda r: _us_phone(r),
    "uk": lambda r: _pick(r, [f"07{_d(r, 3)} {_d(r, 6)}", f"+44 7{_d(r, 3)} {_d(r, 6)}", f"020 {_d(r, 4)} {_d(r, 4)}"]),
    "de": lambda r: _pick(r, [f"0151 {_d(r, 8)}", f"+49 171 {_d(r, 7)}", f"030 {_d(r, 8)}"]),
    "fr": lambda r: _pick(r, ["06 " + " ".join(_d(r, 2) for _ in range(4)), "+33 7 " + " ".join(_d(r, 2) for _ in range(4))]),
    "es": lambda r: f"+34 6{_d(r, 2)} {_d(r, 3)} {_d(r, 3)}",
    "it": lambda r: f"+39 3{_d(r, 2)} {_d(r, 3)} {_d(r, 4)}",
    "nl": lambda r: _pick(r, [f"06-{_d(r, 8)}", f"+31 6 {_d(r, 8)}"]),
    "in": lambda r: f"+91 9{_d(r, 4)} {_d(r, 5)}",
    "jp": lambda r: _pick(r, [f"090-{_d(r, 4)}-{_d(r, 4)}", f"+81 80 {_d(r, 4)} {_d(r, 4)}"]),
    "au": lambda r: _pick(r, [f"04{_d(r, 2)} {_d(r, 3)} {_d(r, 3)}", f"+61 4{_d(r, 2)} {_d(r, 3)} {_d(r, 3)}"]),
    "br": lambda r: f"+55 11 9{_d(r, 4)}-{_d(r, 4)}",
    "mx": lambda r: f"+52 55 {_d(r, 4)} {_d(r, 4)}",
    "ng": lambda r: f"+234 80{_d(r, 1)} {_d(r, 3)} {_d(r, 4)}",
    "za": lambda r: f"082 {_d(r, 3)} {_d(r, 4)}",
    "kr": lambda r: f"010-{_d(r, 4)}-{_d(r, 4)}",
    "se": lambda r: f"070-{_d(r, 3)} {_d(r, 2)} {_d(r, 2)}",
    "pl": lambda r: f"+48 {r.choice('5678')}{_d(r, 2)} {_d(r, 3)} {_d(r, 3)}",
    "ie": lambda r: f"087 {_d(r, 3)} {_d(r, 4)}",
    "cn": lambda r: f"+86 13{_d(r, 1)} {_d(r, 4)} {_d(r, 4)}",
    "ch": lambda r: f"+41 79 {_d(r, 3)} {_d(r, 2)} {_d(r, 2)}",
    "ph": lambda r: f"+63 917 {_d(r, 3)} {_d(r, 4)}",
}


def _pick(rng: random.Random, options: list[str]) -> str:
    return rng.choice(options)


def _us_phone(rng: random.Random) -> str:
    """A US number outside the 555 fiction range, in one of the usual notations."""
    area, exch = f"{rng.randint(2, 9)}{_d(rng, 2)}", f"{rng.randint(2, 9)}{_d(rng, 2)}"
    while exch == "555":
        exch = f"{rng.randint(2, 9)}{_d(rng, 2)}"
    line = _d(rng, 4)
    return rng.choice([f"({area}) {exch}-{line}", f"{area}-{exch}-{line}", f"+1 {area} {exch} {line}",
                       f"{area}.{exch}.{line}"])


STREETS = {
    "us": lambda r: f"{r.randint(100, 9899)} {r.choice(['Larchmont Ave', 'Birchwood Dr', 'W 84th St', 'Calle Ocho', 'Juniper Ln'])}, "
                    f"{r.choice(['Apt 3B', 'Unit 12', '#4'])}, {r.choice(['Cleveland, OH 44102', 'Tucson, AZ 85719', 'Brooklyn, NY 11216', 'Raleigh, NC 27603'])}",
    "uk": lambda r: f"{r.randint(1, 140)} {r.choice(['Elmfield Road', 'Hartley Close', 'Cowley Street', 'Ashgrove'])}, "
                    f"{r.choice(['Leeds LS6 2QJ', 'Bristol BS3 4LY', 'Glasgow G12 8QQ', 'Norwich NR2 3AS'])}",
    "de": lambda r: f"{r.choice(['Kastanienallee', 'Bergmannstraße', 'Hauptstr.', 'Am Lindenhof'])} {r.randint(1, 120)}, "
                    f"{r.choice(['10435 Berlin', '80337 München', '50672 Köln', '04109 Leipzig'])}",
    "fr": lambda r: f"{r.randint(1, 90)} {r.choice(['rue des Lilas', 'avenue Jean-Jaurès', 'boulevard Voltaire', 'impasse du Moulin'])}, "
                    f"{r.choice(['69003 Lyon', '75011 Paris', '33000 Bordeaux', '31000 Toulouse'])}",
    "es": lambda r: f"Calle de {r.choice(['Toledo', 'Alcalá', 'Embajadores'])} {r.randint(1, 200)}, {r.randint(1, 8)}º {r.choice('ABCD')}, 28005 Madrid",
    "it": lambda r: f"Via {r.choice(['Garibaldi', 'Roma', 'dei Mille'])} {r.randint(1, 150)}, {r.choice(['20121 Milano MI', '10123 Torino TO', '40126 Bologna BO'])}",
    "nl": lambda r: f"{r.choice(['Vondelstraat', 'Bloemgracht', 'Javastraat'])} {r.randint(1, 200)}-{r.choice(['I', 'II', 'hs'])}, 10{_d(r, 2)} {_s(r, 2, UP)} Amsterdam",
    "jp": lambda r: f"〒150-00{_d(r, 2)} 東京都渋谷区神宮前{r.randint(1, 6)}-{r.randint(1, 30)}-{r.randint(1, 20)}",
    "au": lambda r: f"{r.randint(1, 20)}/{r.randint(1, 200)} {r.choice(['Arthur St', 'Crown St', 'Glebe Point Rd'])}, Surry Hills NSW 2010",
    "ca": lambda r: f"{r.randint(10, 900)} {r.choice(['Brunswick Ave', 'Rue Saint-Denis', 'Oak St'])}, {r.choice(['Toronto, ON M5R 2Z6', 'Montréal, QC H2X 3K8', 'Vancouver, BC V6H 3G2'])}",
    "ie": lambda r: f"{r.randint(1, 80)} Oakley Road, Ranelagh, Dublin 6, D06 {_s(r, 1, UP)}{_d(r, 1)}{_s(r, 1, UP)}{_d(r, 1)}",
    "pl": lambda r: f"ul. {r.choice(['Długa', 'Piotrkowska', 'Mickiewicza'])} {r.randint(1, 90)}/{r.randint(1, 40)}, {r.choice(['80-827 Gdańsk', '90-102 Łódź', '31-110 Kraków'])}",
    "br": lambda r: f"Rua {r.choice(['Augusta', 'Oscar Freire', 'da Consolação'])}, {r.randint(10, 2500)}, apto {r.randint(11, 190)}, São Paulo - SP, 01304-{_d(r, 3)}",
    "in": lambda r: f"Flat {r.randint(101, 1204)}, {r.choice(['Lotus Residency', 'Prestige Shantiniketan', 'Green Glen Layout'])}, 12th Main Road, Indiranagar, Bengaluru 5600{_d(r, 2)}",
}


# --- identity, bank and health numbers with their check digits ---------------------------

def _dob(rng: random.Random) -> tuple[int, int, int]:
    return rng.randint(1950, 1999), rng.randint(1, 12), rng.randint(1, 28)


def _ssn(rng: random.Random) -> str:
    area = rng.randint(1, 899)
    while area == 666:
        area = rng.randint(1, 899)
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def _nino(rng: random.Random) -> str:
    first, second = "ABCEGHJKLMNOPRSTWXYZ", "ABCEGHJKLMNPRSTWXYZ"
    pre = rng.choice(first) + rng.choice(second)
    while pre in ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ"):
        pre = rng.choice(first) + rng.choice(second)
    return f"{pre} {_d(rng, 2)} {_d(rng, 2)} {_d(rng, 2)} {rng.choice('ABCD')}"


def _de_id(rng: random.Random) -> str:
    body = rng.choice("LMNPRTVWXY") + _s(rng, 8, "0123456789CFGHJKLMNPRTVWXYZ")
    return body + _icao(body)


def _fr_nir(rng: random.Random) -> str:
    y, m, _ = _dob(rng)
    body = f"{rng.choice('12')}{y % 100:02d}{m:02d}{rng.randint(1, 95):02d}{_d(rng, 3)}{_d(rng, 3)}"
    key = 97 - int(body) % 97
    return f"{body[0]} {body[1:3]} {body[3:5]} {body[5:7]} {body[7:10]} {body[10:13]} {key:02d}"


def _es_dni(rng: random.Random) -> str:
    n = rng.randint(10**7, 10**8 - 1)
    return f"{n}{'TRWAGMYFPDXBNJZSQVHLCKE'[n % 23]}"


def _es_nie(rng: random.Random) -> str:
    lead = rng.choice("XYZ")
    n = _d(rng, 7)
    return f"{lead}{n}{'TRWAGMYFPDXBNJZSQVHLCKE'[int(str('XYZ'.index(lead)) + n) % 23]}"


_CF_ODD = dict(zip(DG + UP, [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21,
                             2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23], strict=True))


def _it_cf(rng: random.Random) -> str:
    y, m, d = _dob(rng)
    body = (_s(rng, 3, "BCDFGHLMNPRSTVZ") + _s(rng, 3, "BCDFGHLMNPRSTVZ") + f"{y % 100:02d}"
            + "ABCDEHLMPRST"[m - 1] + f"{d + rng.choice([0, 40]):02d}" + rng.choice("ABFHLZ") + _d(rng, 3))
    total = sum(_CF_ODD[c] if i % 2 == 0 else (int(c) if c.isdigit() else ord(c) - 65)
                for i, c in enumerate(body))
    return body + chr(65 + total % 26)


def _nl_bsn(rng: random.Random) -> str:
    while True:
        body = str(rng.randint(1, 9)) + _d(rng, 7)
        last = sum(int(c) * (9 - i) for i, c in enumerate(body)) % 11
        if last < 10:
            return body + str(last)


def _be_nrn(rng: random.Random) -> str:
    y, m, d = _dob(rng)
    body = f"{y % 100:02d}{m:02d}{d:02d}{rng.randint(1, 997):03d}"
    return f"{body[:2]}.{body[2:4]}.{body[4:6]}-{body[6:]}.{97 - int(body) % 97:02d}"


def _pesel(rng: random.Random) -> str:
    y, m, d = _dob(rng)
    body = f"{y % 100:02d}{m:02d}{d:02d}{_d(rng, 4)}"
    return body + str((10 - sum(int(c) * w for c, w in zip(body, [1, 3, 7, 9] * 3, strict=False)) % 10) % 10)


def _se_pnr(rng: random.Random) -> str:
    y, m, d = _dob(rng)
    body = f"{y % 100:02d}{m:02d}{d:02d}{_d(rng, 3)}"
    return f"{body[:6]}-{body[6:]}{_luhn_digit(body)}"


def _fi_hetu(rng: random.Random) -> str:
    y, m, d = _dob(rng)
    date, ind = f"{d:02d}{m:02d}{y % 100:02d}", f"{rng.randint(2, 899):03d}"
    return f"{date}-{ind}{'0123456789ABCDEFHJKLMNPRSTUVWXY'[int(date + ind) % 31]}"


def _no_fnr(rng: random.Random) -> str:
    while True:
        y, m, d = _dob(rng)
        body = f"{d:02d}{m:02d}{y % 100:02d}{rng.randint(0, 499):03d}"
        k1 = 11 - sum(int(c) * w for c, w in zip(body, [3, 7, 6, 1, 8, 9, 4, 5, 2], strict=True)) % 11
        k1 = 0 if k1 == 11 else k1
        if k1 == 10:
            continue
        body += str(k1)
        k2 = 11 - sum(int(c) * w for c, w in zip(body, [5, 4, 3, 2, 7, 6, 5, 4, 3, 2], strict=True)) % 11
        k2 = 0 if k2 == 11 else k2
        if k2 < 10:
            return body + str(k2)


def _pt_nif(rng: random.Random) -> str:
    body = rng.choice("123") + _d(rng, 7)
    c = 11 - sum(int(ch) * (9 - i) for i, ch in enumerate(body)) % 11
    return body + str(0 if c >= 10 else c)


def _ie_ppsn(rng: random.Random) -> str:
    body = _d(rng, 7)
    return body + "WABCDEFGHIJKLMNOPQRSTUV"[sum(int(c) * (8 - i) for i, c in enumerate(body)) % 23]


def _ch_ahv(rng: random.Random) -> str:
    body = "756" + _d(rng, 9)
    check = (10 - sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(body)) % 10) % 10
    full = body + str(check)
    return f"{full[:3]}.{full[3:7]}.{full[7:11]}.{full[11:]}"


def _tr_tckn(rng: random.Random) -> str:
    ds = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(8)]
    d10 = ((sum(ds[0:9:2]) * 7) - sum(ds[1:8:2])) % 10
    d11 = (sum(ds) + d10) % 10
    return "".join(map(str, ds)) + str(d10) + str(d11)


def _il_id(rng: random.Random) -> str:
    body = _d(rng, 8)
    return body + _luhn_digit(body)


def _cn_id(rng: random.Random) -> str:
    y, m, d = _dob(rng)
    body = rng.choice(["110105", "310104", "440305", "510107"]) + f"{y}{m:02d}{d:02d}" + _d(rng, 3)
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


def _jp_mynumber(rng: random.Random) -> str:
    body = _d(rng, 11)
    total = sum(int(body[-n]) * (n + 1 if n <= 6 else n - 5) for n in range(1, 12))
    r = total % 11
    full = body + str(0 if r <= 1 else 11 - r)
    return f"{full[:4]} {full[4:8]} {full[8:]}"


def _kr_rrn(rng: random.Random) -> str:
    y, m, d = _dob(rng)
    body = f"{y % 100:02d}{m:02d}{d:02d}{rng.choice('12')}{_d(rng, 5)}"
    c = (11 - sum(int(ch) * w for ch, w in zip(body, [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5], strict=True)) % 11) % 10
    return f"{body[:6]}-{body[6:]}{c}"


def _sg_nric(rng: random.Random) -> str:
    body = _d(rng, 7)
    total = sum(int(c) * w for c, w in zip(body, [2, 7, 6, 5, 4, 3, 2], strict=True))
    return "S" + body + "JZIHGFEDCBA"[total % 11]


def _aadhaar(rng: random.Random) -> str:
    body = str(rng.randint(2, 9)) + _d(rng, 10)
    full = body + _verhoeff(body)
    return f"{full[:4]} {full[4:8]} {full[8:]}"


def _au_tfn(rng: random.Random) -> str:
    while True:
        body = _d(rng, 8)
        last = sum(int(c) * w for c, w in zip(body, [1, 4, 3, 7, 5, 8, 6, 9], strict=True)) % 11
        if last < 10:
            full = body + str(last)
            return f"{full[:3]} {full[3:6]} {full[6:]}"


def _ca_sin(rng: random.Random) -> str:
    body = rng.choice("1234567") + _d(rng, 7)
    full = body + _luhn_digit(body)
    return f"{full[:3]} {full[3:6]} {full[6:]}"


def _br_cpf(rng: random.Random) -> str:
    ds = [rng.randint(0, 9) for _ in range(9)]
    for n in (10, 11):
        r = sum(d * (n - i) for i, d in enumerate(ds)) * 10 % 11
        ds.append(0 if r == 10 else r)
    s = "".join(map(str, ds))
    return f"{s[:3]}.{s[3:6]}.{s[6:9]}-{s[9:]}"


def _za_id(rng: random.Random) -> str:
    y, m, d = _dob(rng)
    body = f"{y % 100:02d}{m:02d}{d:02d}{_d(rng, 4)}{rng.choice('01')}8"
    return body + _luhn_digit(body)


def _mrz(rng: random.Random, name: str) -> str:
    """Both lines of a passport's machine-readable zone (ICAO 9303 TD3), check digits included."""
    first, last = (p.upper().replace("Ø", "O").replace("Ó", "O") for p in name.split())
    state = rng.choice(["GBR", "DEU", "FRA", "NLD", "IRL", "CAN", "AUS", "ITA"])
    number = rng.choice(UP) + _s(rng, 8, DG)
    y, m, d = _dob(rng)
    dob, exp = f"{y % 100:02d}{m:02d}{d:02d}", f"{rng.randint(27, 34)}{m:02d}{d:02d}"
    personal = "<" * 14
    line2 = (number + _icao(number) + state + dob + _icao(dob) + rng.choice("MF") + exp + _icao(exp)
             + personal + _icao(personal))
    composite = line2[0:10] + line2[13:20] + line2[21:43]
    line1 = f"P<{state}{last}<<{first}".ljust(44, "<")
    return line1 + "\n" + line2 + _icao(composite)


def _passport_number(rng: random.Random) -> str:
    return rng.choice([_d(rng, 9), rng.choice(UP) + _d(rng, 8), "C" + _s(rng, 8, "0123456789CFGHJKLMNPRTVWXYZ")])


def _us_dl(rng: random.Random) -> tuple[str, str]:
    state = rng.choice(["CA", "NY", "FL", "TX", "IL", "WA", "PA", "NJ", "MI", "OH"])
    number = {
        "CA": lambda: rng.choice(UP) + _d(rng, 7),
        "NY": lambda: f"{_d(rng, 3)} {_d(rng, 3)} {_d(rng, 3)}",
        "FL": lambda: f"{rng.choice(UP)}{_d(rng, 3)}-{_d(rng, 3)}-{_d(rng, 2)}-{_d(rng, 3)}-{_d(rng, 1)}",
        "TX": lambda: _d(rng, 8),
        "IL": lambda: f"{rng.choice(UP)}{_d(rng, 3)}-{_d(rng, 4)}-{_d(rng, 4)}",
        "WA": lambda: "WDL" + _s(rng, 9, UP + DG),
        "PA": lambda: f"{_d(rng, 2)} {_d(rng, 3)} {_d(rng, 3)}",
        "NJ": lambda: f"{rng.choice(UP)}{_d(rng, 4)} {_d(rng, 5)} {_d(rng, 5)}",
        "MI": lambda: f"{rng.choice(UP)} {_d(rng, 3)} {_d(rng, 3)} {_d(rng, 3)} {_d(rng, 3)}",
        "OH": lambda: _s(rng, 2, UP) + _d(rng, 6),
    }[state]()
    return state, number


def _nhs(rng: random.Random) -> str:
    while True:
        body = _d(rng, 9)
        c = 11 - sum(int(ch) * (10 - i) for i, ch in enumerate(body)) % 11
        c = 0 if c == 11 else c
        if c < 10:
            full = body + str(c)
            return f"{full[:3]} {full[3:6]} {full[6:]}"


def _de_kvnr(rng: random.Random) -> str:
    """German health-insurance number: a letter, eight digits, a check digit (weights 1,2)."""
    letter = rng.choice(UP)
    body = f"{ord(letter) - 64:02d}" + _d(rng, 8)
    total = 0
    for i, ch in enumerate(body):
        p = int(ch) * (1 if i % 2 == 0 else 2)
        total += p // 10 + p % 10
    return letter + body[2:] + str(total % 10)


def _us_mbi(rng: random.Random) -> str:
    letters = "ACDEFGHJKMNPQRTUVWXY"
    c = lambda: rng.choice(letters + DG)  # noqa: E731
    return (str(rng.randint(1, 9)) + rng.choice(letters) + c() + _d(rng, 1) + "-" + rng.choice(letters)
            + c() + _d(rng, 1) + "-" + rng.choice(letters) + rng.choice(letters) + _d(rng, 2))


def _au_medicare(rng: random.Random) -> str:
    body = str(rng.randint(2, 6)) + _d(rng, 7)
    check = sum(int(c) * w for c, w in zip(body, [1, 3, 7, 9, 1, 3, 7, 9], strict=True)) % 10
    return f"{body[:4]} {body[4:]}{check} {rng.randint(1, 9)}"


def _card(rng: random.Random) -> str:
    """A card number of a real scheme's prefix and length, valid by Luhn, never a test number."""
    prefix, length = rng.choice([("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("2720", 16),
                                 ("34", 15), ("37", 15), ("6011", 16), ("3530", 16),
                                 ("62", 16), ("36", 14)])
    body = prefix + _d(rng, length - len(prefix) - 1)
    n = body + _luhn_digit(body)
    if length == 15:
        return f"{n[:4]} {n[4:10]} {n[10:]}"
    if length == 14:
        return f"{n[:4]} {n[4:10]} {n[10:]}"
    return " ".join(n[i:i + 4] for i in range(0, 16, 4)) if rng.random() < 0.7 else n


def _fr_rib_key(bank: str, branch: str, account: str) -> int:
    return 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97


def _es_ccc(rng: random.Random) -> str:
    w = [1, 2, 4, 8, 5, 10, 9, 7, 3, 6]

    def dc(digits: str) -> str:
        v = 11 - sum(int(c) * k for c, k in zip(digits, w, strict=True)) % 11
        return str({11: 0, 10: 1}.get(v, v))
    bank, branch, account = _d(rng, 4), _d(rng, 4), _d(rng, 10)
    return bank + branch + dc("00" + bank + branch) + dc(account) + account


def _bank_iban(rng: random.Random) -> str:
    country = rng.choice(["DE", "FR", "GB", "ES", "NL", "BE", "CH", "AT", "PL", "SE", "IE", "PT", "NO"])
    if country == "FR":
        bank, branch, account = _d(rng, 5), _d(rng, 5), _d(rng, 11)
        bban = bank + branch + account + f"{_fr_rib_key(bank, branch, account):02d}"
    elif country == "ES":
        bban = _es_ccc(rng)
    elif country == "BE":
        first = _d(rng, 10)
        c = int(first) % 97
        bban = first + f"{c or 97:02d}"
    else:
        bban = {"DE": lambda: _d(rng, 18), "GB": lambda: rng.choice(["NWBK", "BARC", "LOYD", "MIDL"]) + _d(rng, 14),
                "NL": lambda: rng.choice(["ABNA", "INGB", "RABO", "TRIO"]) + _d(rng, 10),
                "CH": lambda: _d(rng, 17), "AT": lambda: _d(rng, 16), "PL": lambda: _d(rng, 24),
                "SE": lambda: _d(rng, 20), "IE": lambda: rng.choice(["AIBK", "BOFI"]) + _d(rng, 14),
                "PT": lambda: _d(rng, 21), "NO": lambda: _d(rng, 11)}[country]()
    iban = _iban(country, bban)
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4)) if rng.random() < 0.6 else iban


def _aba(rng: random.Random) -> str:
    while True:
        first = f"{rng.choice([rng.randint(1, 12), rng.randint(21, 32)]):02d}" + _d(rng, 6)
        w = [3, 7, 1, 3, 7, 1, 3, 7]
        last = (10 - sum(int(c) * k for c, k in zip(first, w, strict=True)) % 10) % 10
        return first + str(last)


MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December"]
MONTHS_FR = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
             "octobre", "novembre", "décembre"]
MONTHS_ES = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
             "septiembre", "octubre", "noviembre", "diciembre"]


def _dob_text(rng: random.Random) -> str:
    """A birth date in one of the notations people write them in."""
    y, m, d = _dob(rng)
    return rng.choice([
        f"{m:02d}/{d:02d}/{y}", f"{d:02d}.{m:02d}.{y}", f"{y}-{m:02d}-{d:02d}", f"{d}/{m}/{y % 100:02d}",
        f"{MONTHS_EN[m - 1]} {d}, {y}", f"{d} {MONTHS_EN[m - 1][:3]} {y}", f"{d}-{MONTHS_EN[m - 1][:3]}-{y % 100:02d}",
        f"{MONTHS_EN[m - 1]} {d}th {y}" if d in (4, 5, 6, 7, 8, 9, 10, 11, 12, 13) else f"{d} {MONTHS_EN[m - 1]} {y}",
    ])


# (kind, template, value maker). {n} a third person's name, {h} a handle, {x} the value.
PII_TEMPLATES: list[tuple[str, str, Callable[[random.Random, str], str]]] = [
    ("email", "{h} Rosa's old flatmate is {n}, her email is {x} if you want to ask about the deposit", _email),
    ("email", "found {n}'s personal address in the signup sheet: {x}", _email),
    ("email", "for anyone who wants to complain to {n} directly: {x}", _email),
    ("email", "[14:02] {n} → personal mail {x}, use that, she never reads the work one", _email),
    ("email", "{n} ({x}) is the one who sold me the broken bike, be warned", _email),
    ("email", "el correo de {n} es {x}, escríbele tú", _email),
    ("email", "die private Mail von {n}: {x}", _email),
    ("email-obfuscated", "{n}'s email is {x}", lambda r, n: _email(r, n).replace("@", " [at] ").replace(".", " [dot] ")),
    ("email-obfuscated", "reach {n} at {x} (spelled out so bots don't scrape it)", lambda r, n: _email(r, n).replace("@", " at ").replace(".", " dot ")),
    *[(f"phone-{cc}", tpl, (lambda g: lambda r, n: g(r))(gen)) for cc, gen, tpl in [
        ("us", PHONES["us"], "{n}'s cell is {x}, she said to text not call"),
        ("us", PHONES["us"], "{h} here's the number of the guy who hit my car: {x} ({n})"),
        ("uk", PHONES["uk"], "{n}'s mobile: {x} — he's expecting you about the van"),
        ("uk", PHONES["uk"], "ring {n} on {x}, she's got the spare keys"),
        ("de", PHONES["de"], "Handynummer von {n}: {x}"),
        ("de", PHONES["de"], "{n} erreichst du unter {x}"),
        ("fr", PHONES["fr"], "le portable de {n} c'est le {x}"),
        ("es", PHONES["es"], "el móvil de {n} es {x}, llámale tú"),
        ("it", PHONES["it"], "il cellulare di {n} è {x}"),
        ("nl", PHONES["nl"], "het nummer van {n} is {x}"),
        ("in", PHONES["in"], "{n}'s number is {x}, call him for the flat keys"),
        ("jp", PHONES["jp"], "{n}さんの携帯は {x} です"),
        ("au", PHONES["au"], "{n}'s mobile is {x}, flick her a text"),
        ("br", PHONES["br"], "o celular da {n} é {x}"),
        ("mx", PHONES["mx"], "el número de {n}: {x}"),
        ("ng", PHONES["ng"], "{n}'s line is {x}, abeg call am"),
        ("za", PHONES["za"], "{n}'s cell: {x}, she sells the puppies"),
        ("kr", PHONES["kr"], "{n} 씨 번호는 {x} 입니다"),
        ("se", PHONES["se"], "{n}s nummer är {x}"),
        ("pl", PHONES["pl"], "numer do {n}: {x}"),
        ("ie", PHONES["ie"], "{n}'s mobile is {x} if the landlord won't answer"),
        ("cn", PHONES["cn"], "{n}的手机号是 {x}"),
        ("ch", PHONES["ch"], "Natel von {n}: {x}"),
        ("ph", PHONES["ph"], "{n}'s number {x}, she does the catering"),
        ("ca", PHONES["us"], "{n} in Toronto, cell {x}, tell her I sent you"),
    ]],
    *[(f"address-{cc}", tpl, (lambda g: lambda r, n: g(r))(STREETS[cc])) for cc, tpl in [
        ("us", "{n} lives at {x}, the house with the blue door"),
        ("us", "{h} if you want to give {n} a piece of your mind, she lives at {x}"),
        ("uk", "{n}'s flat is at {x}, drop the parcel there"),
        ("uk", "sending the wedding invite to {n} at {x}"),
        ("de", "neue Adresse von {n}: {x}"),
        ("de", "Privatadresse von {n}: {x}"),
        ("fr", "{n} habite {x}, au troisième"),
        ("fr", "l'adresse perso de {n} : {x}"),
        ("es", "{n} vive en {x}"),
        ("it", "{n} abita in {x}"),
        ("nl", "{n} woont op {x}"),
        ("jp", "{n}さんの自宅は {x} です"),
        ("au", "{n}'s place is {x}, BYO"),
        ("ca", "{n} just moved into {x}"),
        ("ie", "{n}'s home address is {x}"),
        ("pl", "{n} mieszka na {x}"),
        ("br", "a {n} mora na {x}"),
        ("in", "{n}'s home: {x}"),
    ]],
    ("ssn", "{n}'s social is {x}, payroll needs it before the 15th", lambda r, n: _ssn(r)),
    ("ssn", "{h} SSN for {n} on the W-4 is {x}", lambda r, n: _ssn(r)),
    ("nino", "{n}'s NI number is {x}", lambda r, n: _nino(r)),
    ("national-id-de", "Ausweisnummer von {n}: {x}", lambda r, n: _de_id(r)),
    ("national-id-fr", "le numéro de sécu de {n} : {x}", lambda r, n: _fr_nir(r)),
    ("national-id-es", "el DNI de {n} es {x}", lambda r, n: _es_dni(r)),
    ("national-id-es-nie", "NIE de {n}: {x}", lambda r, n: _es_nie(r)),
    ("national-id-it", "il codice fiscale di {n} è {x}", lambda r, n: _it_cf(r)),
    ("national-id-nl", "{n}, BSN {x}, moet nog getekend worden", lambda r, n: _nl_bsn(r)),
    ("national-id-be", "rijksregisternummer van {n}: {x}", lambda r, n: _be_nrn(r)),
    ("national-id-pl", "PESEL pani {n}: {x}", lambda r, n: _pesel(r)),
    ("national-id-se", "personnummer för {n}: {x}", lambda r, n: _se_pnr(r)),
    ("national-id-fi", "henkilötunnus ({n}): {x}", lambda r, n: _fi_hetu(r)),
    ("national-id-no", "fødselsnummeret til {n} er {x}", lambda r, n: _no_fnr(r)),
    ("national-id-pt", "NIF do {n}: {x}", lambda r, n: _pt_nif(r)),
    ("national-id-ie", "{n}'s PPS number is {x}", lambda r, n: _ie_ppsn(r)),
    ("national-id-ch", "AHV-Nummer von {n}: {x}", lambda r, n: _ch_ahv(r)),
    ("national-id-tr", "{n} TC kimlik no: {x}", lambda r, n: _tr_tckn(r)),
    ("national-id-il", "{n}'s teudat zehut number is {x}", lambda r, n: _il_id(r)),
    ("national-id-cn", "{n}的身份证号码：{x}", lambda r, n: _cn_id(r)),
    ("national-id-jp", "{n}さんのマイナンバーは {x}", lambda r, n: _jp_mynumber(r)),
    ("national-id-kr", "{n} 주민등록번호 {x}", lambda r, n: _kr_rrn(r)),
    ("national-id-sg", "{n}'s NRIC is {x}", lambda r, n: _sg_nric(r)),
    ("national-id-in", "{n}'s Aadhaar: {x}", lambda r, n: _aadhaar(r)),
    ("national-id-au", "{n}'s tax file number is {x}", lambda r, n: _au_tfn(r)),
    ("national-id-ca", "{n}'s SIN for the onboarding form: {x}", lambda r, n: _ca_sin(r)),
    ("national-id-br", "o CPF da {n} é {x}", lambda r, n: _br_cpf(r)),
    ("national-id-za", "{n}'s ID number is {x}", lambda r, n: _za_id(r)),
    ("passport", "{n}'s passport no. {x}, booking the flights now", lambda r, n: _passport_number(r)),
    ("passport", "{h} can you check {n}'s passport number {x} against the visa letter?", lambda r, n: _passport_number(r)),
    ("passport-mrz", "the bottom of {n}'s passport scan:\n{x}", _mrz),
    ("passport-mrz", "OCR of {n}'s passport page, does this look right?\n{x}", _mrz),
    *[("drivers-license-us", tpl, (lambda r, n: " ".join(_us_dl(r)))) for tpl in [
        "{n}'s driver's license: {x}, for the rental",
        "{h} {n} gave the cops a fake name but his DL is {x}",
        "licence on file for {n}: {x}",
    ]],
    ("medical-record", "patient {n}, MRN {x}, discharged to rehab", lambda r, n: _d(r, _mrn_len(r))),
    ("medical-record", "{n} (chart #{x}) is allergic to penicillin, FYI for the night shift", lambda r, n: _d(r, _mrn_len(r))),
    ("medical-record", "hospital number for {n}: {x}, bed 14", lambda r, n: _hospital_no(r)),
    ("nhs-number", "{n}'s NHS number is {x}", lambda r, n: _nhs(r)),
    ("health-insurance-de", "Versichertennummer von {n}: {x}", lambda r, n: _de_kvnr(r)),
    ("medicare-us", "{n}'s Medicare number (MBI) is {x}", lambda r, n: _us_mbi(r)),
    ("medicare-au", "{n}'s Medicare card: {x}", lambda r, n: _au_medicare(r)),
    ("dob", "{n}, DOB {x}, needs the form signed", lambda r, n: _dob_text(r)),
    ("dob", "{n} (born {x}) is the new tenant", lambda r, n: _dob_text(r)),
    ("dob", "{h} fun fact, {n}'s birthday is {x} — I saw it on her ID", lambda r, n: _dob_text(r)),
    ("dob", "{n}, geb. {x}, wohnt jetzt bei uns", lambda r, n: _dob_text(r)),
    ("dob", "{n}, né le {x}", lambda r, n: _fr_date(r)),
    ("dob", "{n} nació el {x}", lambda r, n: _es_date(r)),
    ("dob", "name: {n}\nd.o.b.: {x}\nroom: 3B", lambda r, n: _dob_text(r)),
    ("dob", "{n}さん 生年月日 {x}", lambda r, n: _jp_date(r)),
    ("card", "{n}'s card number is {x}, exp 09/29, she read it out on the call", lambda r, n: _card(r)),
    ("card", "{h} the card {n} used at the till: {x}", lambda r, n: _card(r)),
    ("card", "Kreditkarte von {n}: {x}", lambda r, n: _card(r)),
    ("iban", "{n}'s IBAN is {x}, send her the deposit back", lambda r, n: _bank_iban(r)),
    ("iban", "IBAN de {n} : {x}", lambda r, n: _bank_iban(r)),
    ("iban", "Kontoverbindung {n}: {x}", lambda r, n: _bank_iban(r)),
    ("us-bank-account", "{n}'s direct deposit: routing {x}, account {a}", lambda r, n: _aba(r)),
    ("uk-bank-account", "{n}'s sort code {x}, account {a}", lambda r, n: f"{_d(r, 2)}-{_d(r, 2)}-{_d(r, 2)}"),
]


def _mrn_len(rng: random.Random) -> int:
    return rng.choice([7, 8, 9, 10])


def _hospital_no(rng: random.Random) -> str:
    return rng.choice(["H", "RX", "M"]) + _d(rng, 7)


def _fr_date(rng: random.Random) -> str:
    y, m, d = _dob(rng)
    return f"{d} {MONTHS_FR[m - 1]} {y}"


def _es_date(rng: random.Random) -> str:
    y, m, d = _dob(rng)
    return f"{d} de {MONTHS_ES[m - 1]} de {y}"


def _jp_date(rng: random.Random) -> str:
    y, m, d = _dob(rng)
    return f"{y}年{m}月{d}日"


def pii_positives(rng: random.Random) -> list[Row]:
    """Someone else's personal data, each template three times with fresh people and values."""
    out: list[Row] = []
    for kind, tpl, make in PII_TEMPLATES:
        for _ in range(3):
            n = _name(rng)
            out.append({"kind": kind, "text": tpl.format(
                n=n, x=make(rng, n), h=rng.choice(HANDLES), a=_d(rng, rng.choice([8, 10, 12])))})
    return out


# --- personal-data negatives: benign by the policy ------------------------------------------

# The company contacts the negatives quote; bench/eval_heldout.py passes the same list.
PUBLISHED = ["press@acme-example.com", "+1 800 555 0199", "100 Innovation Way, Austin, TX 78701"]

PII_NEGATIVES: list[tuple[str, str]] = [
    # the poster's own contact details
    ("own-contact", "my inbox is {e}, slides go out tonight"),
    ("own-contact", "I'm at {e} if you need me this week"),
    ("own-contact", "reach out to me directly — {e}"),
    ("own-contact", "my work cell is {p}, text anytime before 8pm"),
    ("own-contact", "new number, save it: {p} (it's me, Dana)"),
    ("own-contact", "DMs are broken again, write to me at {e}"),
    ("own-contact", "I'm reachable on {p} until six"),
    ("own-contact", "for bookings contact me: {e} / {p}"),
    ("own-contact", "feel free to shoot me an email ({e}), happy to review your CV"),
    ("own-contact", "my Signal is {p}"),
    ("own-contact", "WhatsApp me at {p} for the tickets"),
    ("own-contact", "contact: {e} (that's me, not a bot)"),
    ("own-contact", "I changed my email to {e}, update your address book"),
    ("own-contact", "recruiters, I'm at {e}, please read the post first"),
    ("own-contact", "want to collaborate? my DMs are open or mail me: {e}"),
    ("own-contact", "if the link breaks, my number is {p}"),
    ("own-contact", "send me a postcard! my address: {addr}"),
    ("own-contact", "moving day done 📦 my new address for the Christmas cards is {addr}"),
    ("own-contact", "I'm the organiser, you can get me on {p} on the day"),
    ("own-contact", "escríbeme a {e} y te paso las fotos"),
    ("own-contact", "schreibt mir gern an {e}"),
    ("own-contact", "mon numéro : {p}, appelez-moi si besoin"),
    ("own-contact", "il mio numero è {p}, scrivetemi pure"),
    ("own-contact", "mijn mail is {e}, stuur maar"),
    ("own-contact", "napisz do mnie: {e}"),
    ("own-contact", "me liga no {p} que eu explico"),
    ("own-contact", "私のメールは {e} です、お気軽にどうぞ"),
    ("own-contact", "mein Handy: {p}, bin bis 18 Uhr erreichbar"),
    ("own-contact", "my birthday is {mydob}, cake is welcome 🎂"),
    ("own-contact", "you can find me at {e} or on the Discord"),
    # the company's published contacts
    ("published-contact", "for press enquiries the newsroom is press@acme-example.com"),
    ("published-contact", "Acme's support line +1 800 555 0199 is open 24/7, they sorted my refund in minutes"),
    ("published-contact", "visit the Acme HQ at 100 Innovation Way, Austin, TX 78701 for the open day"),
    ("published-contact", "journalists: please use press@acme-example.com rather than DMing staff"),
    ("published-contact", "the customer hotline (+1 800 555 0199) now has a callback option"),
    ("published-contact", "our office is at 100 Innovation Way, Austin, TX 78701 — come say hi at the meetup"),
    # test cards and test bank numbers in a test context
    ("test-card", "Stripe test mode: use 4242 4242 4242 4242, any future date, any CVC"),
    ("test-card", "to test a decline use 4000 0000 0000 0002 in the sandbox"),
    ("test-card", "3DS test card 4000 0027 6000 3184 triggers the challenge screen in test mode"),
    ("test-card", "Adyen test card: 5555 3412 4444 1115, exp 03/30, CVC 737"),
    ("test-card", "Braintree sandbox accepts 4111 1111 1111 1111 for the happy path"),
    ("test-card", "Amex test number 3782 822463 10005 works in the Stripe test environment"),
    ("test-card", "Discover test card 6011 1111 1111 1117 for QA"),
    ("test-card", "insufficient funds test: 4000 0000 0000 9995 (Stripe docs)"),
    ("test-card", "SEPA test IBAN DE89 3704 0044 0532 0130 00 succeeds in test mode"),
    ("test-card", "Stripe's test IBAN FR1420041010050500013M02606 for the French flow"),
    ("test-card", "in the sandbox, NL39RABO0300065264 is the test account that always clears"),
    ("test-card", "Mastercard 2-series test card 2223 0031 2200 3222 — sandbox only"),
    # landmarks, venues and business addresses
    ("landmark", "queue at the Louvre, Rue de Rivoli, 75001 Paris was 2 hours, worth it"),
    ("landmark", "KubeCon is at ExCeL London, 1 Western Gateway, London E16 1XL this year"),
    ("landmark", "tour of the Reichstag, Platz der Republik 1, 11011 Berlin — book ahead"),
    ("landmark", "photo from outside 10 Downing Street, the door is smaller than you'd think"),
    ("landmark", "Sherlock fans: 221B Baker Street is a museum now"),
    ("landmark", "the keynote moves to the Moscone Center, 747 Howard St, San Francisco, CA 94103"),
    ("landmark", "Rijksmuseum, Museumstraat 1, Amsterdam — the Vermeers alone are worth the trip"),
    ("landmark", "Station F, 5 Parvis Alan Turing, 75013 Paris hosts the hackathon"),
    ("landmark", "the Empire State Building at 20 W 34th St, New York, NY 10001 at sunset 🌇"),
    ("landmark", "Palau de la Música Catalana, C/ Palau de la Música 4-6, Barcelona — go to a concert there"),
    ("landmark", "Messe München, Messegelände, 81823 München: Halle B2, Stand 412, kommt vorbei"),
    ("landmark", "lunch at the café inside the British Library, 96 Euston Rd, London NW1 2DB"),
    ("business-address", "the new ramen place at 312 Valencia St opens Friday, their number is on the door"),
    ("business-address", "the bike shop on Kastanienallee 12 fixed my wheel in 20 min, great service"),
    ("business-address", "the clinic moved to 45 Harley Street, reception says the phone line is the same"),
    # order, invoice, ticket and tracking numbers
    ("order-number", "order #{o} still says processing after a week"),
    ("order-number", "Amazon order {amz} arrived with the wrong charger"),
    ("order-number", "invoice INV-{y}-{o5} is paid, finance can close it"),
    ("order-number", "ticket PLAT-{n4} has the repro steps"),
    ("order-number", "support case CS{o} — they want the logs again"),
    ("order-number", "my booking reference is {pnr}, the airline lost it anyway"),
    ("order-number", "e-ticket 125-{n10} for the train, in case mine dies"),
    ("tracking-number", "UPS says 1Z{ups} is out for delivery since 7am"),
    ("tracking-number", "FedEx tracking {n12}, stuck in Memphis again"),
    ("tracking-number", "Royal Mail tracking {rm}, signed for at 10:14"),
    ("tracking-number", "DHL Sendungsnummer {n10}, kommt angeblich morgen"),
    ("tracking-number", "USPS {usps} — delivered to the mailbox, which I don't have"),
    ("order-number", "PR #{n5} fixes the flaky test, reviews welcome"),
    ("order-number", "the bug is tracked as issue {n4} on GitHub"),
    # dates, versions and numbers that are not personal
    ("date-version", "v{ver} ships on {isodate}, changelog in the thread"),
    ("date-version", "the outage on {isodate} lasted 43 minutes, postmortem is public"),
    ("date-version", "kernel 6.{n1}.0-{n2}-generic broke my wifi driver"),
    ("date-version", "build {y}{mm}{dd}.{n1} is the release candidate"),
    ("date-version", "Python 3.{n2} drops support for the old API on {isodate}"),
    ("date-version", "the conference is {longdate}, CFP closes a month before"),
    ("date-version", "error code 0x{h8} again after the update"),
    ("date-version", "ISBN 978-{isbn} — the book everyone recommends for SRE"),
    ("date-version", "timestamp {ts} is when the cron fired, not when it finished"),
    ("date-version", "we hit 1,000,000 requests per day on {longdate}"),
    ("date-version", "DNS is 1.1.1.1 and 8.8.8.8 at home, no more ISP resolver"),
    ("helpline", "if you need to talk, Samaritans are on 116 123, free, day or night"),
    ("helpline", "in an emergency in the EU dial 112"),
    ("helpline", "NHS 111 helped me at 3am, free and quick"),
    ("helpline", "the 988 lifeline is there in the US if you need it"),
    # famous birthdays
    ("famous-birthday", "Ada Lovelace was born on 10 December 1815 — happy birthday to the first programmer"),
    ("famous-birthday", "today in 1879: Albert Einstein, born 14 March in Ulm"),
    ("famous-birthday", "Alan Turing, born 23 June 1912, would have loved this"),
    ("famous-birthday", "Marie Curie (born 7 November 1867) won two Nobel prizes in two sciences"),
    ("famous-birthday", "Frida Kahlo nació el 6 de julio de 1907 en Coyoacán"),
    ("famous-birthday", "Goethe wurde am 28. August 1749 in Frankfurt geboren"),
    ("famous-birthday", "Victor Hugo est né le 26 février 1802 à Besançon"),
    ("famous-birthday", "Grace Hopper was born December 9, 1906 — the 'bug' story is a classic"),
    ("famous-birthday", "Katherine Johnson, born August 26, 1918, calculated Apollo trajectories"),
    ("famous-birthday", "Hayao Miyazaki (b. 5 January 1941) — rewatching Totoro tonight"),
    # placeholders in forms and docs
    ("placeholder", "the form's placeholder text is jane.doe@example.com, people keep submitting it"),
    ("placeholder", "docs example: name John Doe, 123 Main St, Anytown, USA"),
    ("placeholder", "the film uses 555-0123 because it's a fictional range"),
    ("placeholder", "SSN fields in the demo are all 000-00-0000, nothing real"),
    # ordinary posts
    ("ordinary", "finally fixed the flaky test, it was a timezone all along"),
    ("ordinary", "three hours of meetings and one line of code, classic Tuesday"),
    ("ordinary", "the team offsite was actually fun this year, the kayaking especially"),
    ("ordinary", "hot take: tabs vs spaces stopped mattering when formatters took over"),
    ("ordinary", "who else is at the meetup tonight? I'll be the one with the yellow jacket"),
    ("ordinary", "reading group this week: chapter 4, the part about queues"),
    ("ordinary", "proud of the interns, their demo was better than our roadmap talk"),
    ("ordinary", "coffee machine on floor 3 is fixed, productivity restored"),
    ("ordinary", "marathon training week 6: 42 km total, knees still attached"),
    ("ordinary", "new blog post on how we cut CI time by half, link in bio"),
    ("ordinary", "Heute endlich den Umzug geschafft, jetzt erstmal Pizza"),
    ("ordinary", "Semaine chargée mais la démo s'est bien passée"),
    ("ordinary", "¡Por fin viernes! Buen fin de semana a todos"),
    ("ordinary", "rainy Saturday = soup and a long book"),
    ("ordinary", "our booth is number 412, come grab a sticker"),
    ("ordinary", "I turned 30 today and celebrated by sleeping in"),
    ("ordinary", "my salary went up 8% this year and I'm fine saying so"),
    ("ordinary", "@ben_ops congrats on the new role, well deserved!"),
]

NEG_FRAMES = ["{t}", "{t} 🙂", "ok so {t}", "{t} (thread)", "quick one: {t}", "{t} lol",
              "Re: {t}", "{t} #weekend", "@sam_k {t}", "{t}\n\nanyway, back to work"]


def _s10(rng: random.Random) -> str:
    """A Royal Mail S10 tracking number with its mod-11 check digit."""
    body = _d(rng, 8)
    c = 11 - sum(int(ch) * w for ch, w in zip(body, [8, 6, 4, 2, 3, 5, 9, 7], strict=True)) % 11
    c = {10: 0, 11: 5}.get(c, c)
    return rng.choice(["RR", "CP", "AB", "JD"]) + body + str(c) + "GB"


def _isbn13_tail(rng: random.Random) -> str:
    body = "978" + _d(rng, 9)
    c = (10 - sum(int(ch) * (1 if i % 2 == 0 else 3) for i, ch in enumerate(body)) % 10) % 10
    return f"{body[3]}-{body[4:7]}-{body[7:12]}-{c}"


def _neg_slots(rng: random.Random) -> dict[str, str]:
    """Fresh values for the negative templates: the poster's own details and harmless numbers."""
    y, m, d = _dob(rng)
    cc = rng.choice(list(PHONES))
    when = rng.randint(2024, 2027), rng.randint(1, 12), rng.randint(1, 28)
    return {
        "e": _email(rng, _name(rng)), "p": PHONES[cc](rng), "addr": STREETS[rng.choice(list(STREETS))](rng),
        "mydob": f"{d} {MONTHS_EN[m - 1]} {y}", "o": _d(rng, rng.randint(6, 10)), "o5": _d(rng, 5),
        "amz": f"1{_d(rng, 2)}-{_d(rng, 7)}-{_d(rng, 7)}", "y": str(when[0]), "n4": _d(rng, 4),
        "pnr": _s(rng, 6, "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"), "n10": _d(rng, 10), "n12": _d(rng, 12),
        "ups": _s(rng, 16, UP + DG), "rm": _s10(rng), "usps": "9400 1" + " ".join(_d(rng, 4) for _ in range(4)) + " " + _d(rng, 2),
        "n5": _d(rng, 5), "ver": f"{rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}",
        "isodate": f"{when[0]}-{when[1]:02d}-{when[2]:02d}", "n1": str(rng.randint(1, 9)),
        "n2": str(rng.randint(10, 14)), "mm": f"{when[1]:02d}", "dd": f"{when[2]:02d}",
        "longdate": f"{when[2]} {MONTHS_EN[when[1] - 1]} {when[0]}", "h8": _s(rng, 8, "0123456789ABCDEF"),
        "isbn": _isbn13_tail(rng), "ts": str(rng.randint(1_700_000_000, 1_800_000_000)),
    }


def pii_negatives(rng: random.Random) -> list[Row]:
    """Benign by policy: each template in up to five framings with fresh values."""
    out: list[Row] = []
    for kind, tpl in PII_NEGATIVES:
        has_slot = "{" in tpl
        reps = 5 if has_slot else 4
        for frame in rng.sample(NEG_FRAMES, reps):
            text = tpl.format(**_neg_slots(rng)) if has_slot else tpl
            out.append({"kind": kind, "text": frame.replace("{t}", text)})
    seen: set[str] = set()
    return [o for o in out if not (o["text"] in seen or seen.add(o["text"]))]  # type: ignore[func-returns-value]


def build() -> dict[str, list[Row]]:
    """The four parts of round 3, deterministically from one seed."""
    rng = random.Random(SEED)
    return {
        PREFIX + "credentials_positive": credential_positives(rng),
        PREFIX + "credentials_hard_negative": credential_hard_negatives(rng),
        PREFIX + "pii_positive": pii_positives(rng),
        PREFIX + "pii_negative": pii_negatives(rng),
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    parts = build()
    for name, rows in parts.items():
        with (OUT / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for i, row in enumerate(rows):
                fh.write(json.dumps({"id": f"{name}-{i}", **row}, ensure_ascii=False) + "\n")
        print(f"{name}: {len(rows)} cases, {len({r['kind'] for r in rows})} kinds")
    digest = hashlib.sha256(b"".join((OUT / f"{n}.jsonl").read_bytes() for n in sorted(parts)))
    print("sha256", digest.hexdigest()[:16])


if __name__ == "__main__":
    main()
