"""Builds the team's held-back evaluation set for credentials and personal data.

Written apart from the rule packs: token formats are re-stated here from the providers'
documentation of their key formats (prefix, length, alphabet, checksum), not imported from
``rules/``; the sentences are new post-like templates (tweets, code, env files, JSON, YAML,
URLs, chat pastes) that no rule example uses; hard negatives are hand-written situations the
policy calls benign. Deterministic from one seed; ``python -m bench.heldout_secrets`` writes
``data/secrets-heldout/*.jsonl`` (see the README there). Never tune rules on this set's
misses without adding fresh cases: it measures, it does not train.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import string
import uuid
import zlib
from collections.abc import Callable
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "data" / "secrets-heldout"
SEED = 90210
UP, LO, DG = string.ascii_uppercase, string.ascii_lowercase, string.digits
AN, HX = UP + LO + DG, "0123456789abcdef"
URLS = AN + "-_"
B64 = AN + "+/"
Gen = Callable[[random.Random], str]


def _s(rng: random.Random, n: int, alphabet: str = AN) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _b62_crc(body: str) -> str:
    alphabet = DG + UP + LO
    n, out = zlib.crc32(body.encode()), ""
    while n:
        n, k = divmod(n, 62)
        out = alphabet[k] + out
    return out.rjust(6, "0")


def _gh(prefix: str) -> Gen:
    def make(rng: random.Random) -> str:
        body = _s(rng, 30)
        return prefix + body + _b62_crc(body)
    return make


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _jwt(rng: random.Random) -> str:
    header = {"alg": rng.choice(["HS256", "RS256", "ES256"]), "typ": "JWT"}
    claims = {"sub": _s(rng, 10, LO + DG), "iat": rng.randint(1_600_000_000, 1_800_000_000),
              "role": rng.choice(["admin", "service", "user"])}
    enc = [base64.urlsafe_b64encode(json.dumps(x).encode()).decode().rstrip("=")
           for x in (header, claims)]
    return ".".join([*enc, _s(rng, 43, URLS)])


def _pypi(rng: random.Random) -> str:
    raw = b"\x02\x01\x08pypi.org\x02" + bytes(rng.getrandbits(8) for _ in range(70))
    return "pypi-" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


# Provider formats, as their documentation states them: (provider, generator).
FORMATS: list[tuple[str, Gen]] = [
    ("aws-access-key-id", lambda r: "AKIA" + _s(r, 16, UP + "234567")),
    ("aws-sts-key-id", lambda r: "ASIA" + _s(r, 16, UP + "234567")),
    ("google-api-key", lambda r: "AIzaSy" + _s(r, 33, URLS)),
    ("google-oauth-secret", lambda r: "GOCSPX-" + _s(r, 28, URLS)),
    ("github-classic-pat", _gh("ghp_")),
    ("github-oauth", _gh("gho_")),
    ("github-app-installation", _gh("ghs_")),
    ("github-fine-grained", lambda r: "github_pat_11" + _s(r, 20, UP + DG) + "_" + _s(r, 59)),
    ("gitlab-pat", lambda r: "glpat-" + _s(r, 20, URLS)),
    ("gitlab-runner", lambda r: "glrt-" + _s(r, 20, URLS)),
    ("slack-bot", lambda r: f"xoxb-{_s(r, 11, DG)}-{_s(r, 13, DG)}-{_s(r, 24)}"),
    ("slack-user", lambda r: f"xoxp-{_s(r, 11, DG)}-{_s(r, 11, DG)}-{_s(r, 13, DG)}-{_s(r, 32, HX)}"),
    ("slack-app", lambda r: f"xapp-1-A{_s(r, 10, UP + DG)}-{_s(r, 13, DG)}-{_s(r, 64, HX)}"),
    ("stripe-secret-live", lambda r: "sk_live_51" + _s(r, 97)),
    ("stripe-restricted-live", lambda r: "rk_live_51" + _s(r, 97)),
    ("stripe-webhook", lambda r: "whsec_" + _s(r, 32)),
    ("twilio-api-key", lambda r: "SK" + _s(r, 32, HX)),
    ("sendgrid", lambda r: "SG." + _s(r, 22, URLS) + "." + _s(r, 43, URLS)),
    ("openai-project", lambda r: "sk-proj-" + _s(r, 74, URLS) + "T3BlbkFJ" + _s(r, 74, URLS)),
    ("anthropic", lambda r: "sk-ant-api03-" + _s(r, 93, URLS) + "AA"),
    ("npm", _gh("npm_")),
    ("pypi", _pypi),
    ("jwt", _jwt),
    ("digitalocean", lambda r: "dop_v1_" + _s(r, 64, HX)),
    ("shopify-admin", lambda r: "shpat_" + _s(r, 32, HX)),
    ("shopify-shared-secret", lambda r: "shpss_" + _s(r, 32, HX)),
    ("huggingface", lambda r: "hf_" + _s(r, 34, UP + LO)),
    ("docker-hub-pat", lambda r: "dckr_pat_" + _s(r, 27, URLS)),
    ("hashicorp-vault", lambda r: "hvs." + _s(r, 90, URLS)),
    ("terraform-cloud", lambda r: _s(r, 14) + ".atlasv1." + _s(r, 67, URLS)),
    ("databricks", lambda r: "dapi" + _s(r, 32, HX)),
    ("doppler", lambda r: "dp.pt." + _s(r, 43)),
    ("new-relic-user", lambda r: "NRAK-" + _s(r, 27, UP + DG)),
    ("postman", lambda r: f"PMAK-{_s(r, 24, HX)}-{_s(r, 34, HX)}"),
    ("pulumi", lambda r: "pul-" + _s(r, 40, HX)),
    ("linear", lambda r: "lin_api_" + _s(r, 40)),
    ("notion", lambda r: "ntn_" + _s(r, 11, DG) + _s(r, 35)),
    ("mailchimp", lambda r: _s(r, 32, HX) + "-us" + str(r.randint(1, 20))),
    ("mailgun", lambda r: "key-" + _s(r, 32, HX)),
    ("sentry-user", lambda r: "sntryu_" + _s(r, 64, HX)),
    ("grafana-service-account", lambda r: f"glsa_{_s(r, 32)}_{_s(r, 8, HX)}"),
    ("age-secret-key", lambda r: _age(r)),
    ("alibaba-access-key", lambda r: "LTAI" + _s(r, 20)),
    ("tencent-secret-id", lambda r: "AKID" + _s(r, 32)),
    ("atlassian-api-token", lambda r: "ATATT3xFfGF0" + _s(r, 180, URLS) + "=" + _s(r, 8, HX.upper())),
    ("bitbucket-app-password", lambda r: "ATBB" + _s(r, 32)),
    ("planetscale-password", lambda r: "pscale_pw_" + _s(r, 43, URLS)),
    ("supabase", lambda r: "sbp_" + _s(r, 40, HX)),
    ("tailscale", lambda r: f"tskey-auth-k{_s(r, 10)}CNTRL-{_s(r, 32)}"),
    ("telegram-bot", lambda r: f"{r.randint(10**8, 10**10 - 1)}:AA{_s(r, 33, URLS)}"),
    ("discord-webhook", lambda r: f"https://discord.com/api/webhooks/{_s(r, 18, DG)}/{_s(r, 68, URLS)}"),
    ("slack-webhook", lambda r: f"https://hooks.slack.com/services/T{_s(r, 10, UP + DG)}/B{_s(r, 10, UP + DG)}/{_s(r, 24)}"),
    ("teams-webhook", lambda r: f"https://contoso.webhook.office.com/webhookb2/{_uuid(r)}@{_uuid(r)}/IncomingWebhook/{_s(r, 32, HX)}/{_uuid(r)}"),
    ("azure-ad-client-secret", lambda r: _s(r, 3) + str(r.randint(0, 9)) + "Q~" + _s(r, 34, AN + "_~.-")),
    ("azure-storage-key", lambda r: "AccountKey=" + base64.b64encode(bytes(r.getrandbits(8) for _ in range(64))).decode()),
    ("azure-sas", lambda r: f"https://acct.blob.core.windows.net/c?sv=2022-11-02&ss=b&srt=o&sp=r&se=2027-01-01&sig={_s(r, 43, AN + '%')}%3D"),
    ("gcp-service-account", lambda r: '{"type": "service_account", "project_id": "p-' + _s(r, 6, LO) + '", "private_key_id": "' + _s(r, 40, HX) + '"}'),
    ("dynatrace", lambda r: f"dt0c01.{_s(r, 24, UP + DG)}.{_s(r, 64, UP + DG)}"),
    ("easypost", lambda r: "EZAK" + _s(r, 54)),
    ("flutterwave", lambda r: f"FLWSECK-{_s(r, 32, HX)}-X"),
    ("frameio", lambda r: "fio-u-" + _s(r, 64, URLS)),
    ("rubygems", lambda r: "rubygems_" + _s(r, 48, HX)),
    ("nuget", lambda r: "oy2" + _s(r, 43, LO + DG)),
    ("clojars", lambda r: "CLOJARS_" + _s(r, 60, LO + DG)),
    ("readme", lambda r: "rdme_" + _s(r, 70, LO + DG)),
    ("prefect", lambda r: "pnu_" + _s(r, 36)),
    ("replicate", lambda r: "r8_" + _s(r, 37)),
    ("groq", lambda r: "gsk_" + _s(r, 52)),
    ("perplexity", lambda r: "pplx-" + _s(r, 48)),
    ("xai", lambda r: "xai-" + _s(r, 80)),
    ("openrouter", lambda r: "sk-or-v1-" + _s(r, 64, HX)),
    ("langsmith", lambda r: f"lsv2_sk_{_s(r, 32, HX)}_{_s(r, 10, HX)}"),
    ("pinecone", lambda r: f"pcsk_{_s(r, 5)}_{_s(r, 65)}"),
    ("sonarqube", lambda r: "squ_" + _s(r, 40, HX)),
    ("buildkite", lambda r: "bkua_" + _s(r, 40, LO + DG)),
    ("circleci", lambda r: f"CCIPAT_{_s(r, 22)}_{_s(r, 40, HX)}"),
    ("render", lambda r: "rnd_" + _s(r, 32)),
    ("resend", lambda r: f"re_{_s(r, 8)}_{_s(r, 24)}"),
    ("segment", lambda r: "sgp_" + _s(r, 64)),
    ("brevo", lambda r: f"xkeysib-{_s(r, 64, HX)}-{_s(r, 16)}"),
    ("figma", lambda r: "figd_" + _s(r, 40, URLS)),
    ("dropbox", lambda r: "sl.B" + _s(r, 138, URLS)),
    ("square", lambda r: "EAAA" + _s(r, 60, URLS)),
    ("razorpay-live", lambda r: "rzp_live_" + _s(r, 14)),
    ("shippo-live", lambda r: "shippo_live_" + _s(r, 40, HX)),
    ("braintree", lambda r: f"access_token$production${_s(r, 16, LO + DG)}${_s(r, 32, HX)}"),
    ("contentful-pat", lambda r: "CFPAT-" + _s(r, 43, URLS)),
    ("launchdarkly-sdk", lambda r: "sdk-" + _uuid(r)),
    ("hubspot-private-app", lambda r: "pat-eu1-" + _uuid(r)),
    ("mapbox-secret", lambda r: "sk.eyJ1IjoiY" + _s(r, 40, URLS) + "." + _s(r, 22, URLS)),
    ("cloudflare-origin-ca", lambda r: f"v1.0-{_s(r, 24, HX)}-{_s(r, 146, HX)}"),
    ("sendinblue-smtp", lambda r: "xsmtpsib-" + _s(r, 64, HX) + "-" + _s(r, 16)),
    ("firebase-fcm", lambda r: "AAAA" + _s(r, 7, URLS) + ":APA91b" + _s(r, 134, URLS)),
    ("twitter-bearer", lambda r: "AAAAAAAAAAAAAAAAAAAAA" + _s(r, 30) + "%3D" + _s(r, 50)),
    ("facebook-token", lambda r: "EAAG" + _s(r, 160)),
    ("zapier-hook", lambda r: f"https://hooks.zapier.com/hooks/catch/{_s(r, 7, DG)}/{_s(r, 6, LO + DG)}/"),
    ("gchat-webhook", lambda r: f"https://chat.googleapis.com/v1/spaces/{_s(r, 11, URLS)}/messages?key=AIza{_s(r, 35, URLS)}&token={_s(r, 43, URLS)}"),
]


def _age(rng: random.Random) -> str:
    charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
    data: list[int] = []
    acc = bits = 0
    for byte in bytes(rng.getrandbits(8) for _ in range(32)):
        acc, bits = (acc << 8) | byte, bits + 8
        while bits >= 5:
            bits -= 5
            data.append((acc >> bits) & 31)
    if bits:
        data.append((acc << (5 - bits)) & 31)
    hrp = "age-secret-key-"
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp] + data + [0] * 6:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    chk ^= 1
    tail = [(chk >> 5 * (5 - i)) & 31 for i in range(6)]
    return (hrp + "1" + "".join(charset[d] for d in data + tail)).upper()


# Post-like surroundings a key is leaked in; {k} is the key, {v} an env-style name.
CONTEXTS = [
    "ugh, just realised I pasted {k} into the team chat screenshot",
    "debugging the integration live on stream, config is {v}={k}",
    "```\n{v}: \"{k}\"\n```\nwhy does this 401??",
    "{{\"name\": \"deploy\", \"{lv}\": \"{k}\"}}",
    "export {v}='{k}'  # TODO move to vault",
    "anyone else seeing rate limits? my key {k} worked yesterday",
    "pinning this for later: {k}",
    "k8s secret:\n  {lv}: {k}\n  region: eu-west-1",
    "{k}\n^ revoke please, posted by accident",
    "copying the token from the dashboard: {k} (thread)",
]

PASSWORDS_PROSE = [
    "the guest wifi password is {p} btw",
    "for the offsite, wifi password: {p}",
    "our shared admin password is now {p}, don't tell IT lol",
    "reminder the vpn password is {p} until Friday",
    "login for the demo laptop is demo / {p}",
    "the password for the staging box is {p}",
    "new router pw is {p} if the kids ask",
    "pwd: {p} (the jira service account)",
    "DB_PASS={p}",
    "mysql -u root -p{p} -h prod-db-3",
]

CONN_STRINGS = [
    "postgresql://svc_report:{p}@pg-main.acme-internal.net:5432/finance",
    "mongodb+srv://etl:{p}@cluster1.x8k2q.mongodb.net/prod?retryWrites=true",
    "redis://default:{p}@cache.acme-prod.io:6380/0",
    "amqp://orders:{p}@mq.acme-prod.io:5672/",
    "Server=tcp:acme.database.windows.net,1433;Database=hr;User ID=hradmin;Password={p};",
    "mysql://wp:{p}@10.20.4.17:3306/wordpress",
    "ftp://uploader:{p}@files.acme-partner.com/incoming",
    "https://deploy-bot:{p}@git.acme-corp.io/platform/api.git",
]


def _password(rng: random.Random) -> str:
    words = ["Falcon", "River", "Maple", "Orbit", "Copper", "Tiger", "Lemon", "Harbor", "Quartz"]
    style = rng.randint(0, 3)
    if style == 0:
        return rng.choice(words) + rng.choice("!@#$%&*") + str(rng.randint(10, 9999))
    if style == 1:
        return f"{rng.choice(words)}-{rng.choice(words).lower()}-{rng.randint(10, 99)}"
    if style == 2:
        return _s(rng, rng.randint(10, 16), AN + "!@#%&*")
    return rng.choice(words).lower() + str(rng.randint(1990, 2030)) + rng.choice("!?.#")


def _private_key(rng: random.Random) -> str:
    kind = rng.choice(["RSA ", "EC ", "OPENSSH ", ""])
    body = "\n".join(_s(rng, 64, B64) for _ in range(rng.randint(2, 5)))
    return f"-----BEGIN {kind}PRIVATE KEY-----\n{body}\n-----END {kind}PRIVATE KEY-----"


def credential_positives(rng: random.Random) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for provider, make in FORMATS:
        for ctx in rng.sample(CONTEXTS, 4):
            name = provider.upper().replace("-", "_")
            out.append({"kind": provider, "text": ctx.format(k=make(rng), v=name, lv=name.lower())})
    for _ in range(40):
        out.append({"kind": "password-prose", "text": rng.choice(PASSWORDS_PROSE).format(p=_password(rng))})
    for _ in range(24):
        out.append({"kind": "connection-string", "text": "prod config: " + rng.choice(CONN_STRINGS).format(p=_password(rng))})
    for _ in range(12):
        out.append({"kind": "private-key", "text": "can someone check this key? " + _private_key(rng)})
    for _ in range(12):
        secret = _s(rng, rng.randint(24, 40))
        tpl = rng.choice(["{n} = \"{s}\"", "{n}: {s}", "\"{n}\": \"{s}\"", "{n}={s}",
                          "https://api.weatherly.example.net/v1?{n}={s}"])
        name = rng.choice(["api_key", "client_secret", "auth_token", "apiKey", "SECRET_KEY",
                           "access_token"])
        out.append({"kind": "generic-assignment", "text": tpl.format(n=name, s=secret)})
    for _ in range(16):
        provider, make = rng.choice(FORMATS[:24])
        key = make(rng)
        enc = base64.b64encode(f"{provider.upper().replace('-', '_')}={key}".encode()).decode()
        out.append({"kind": "base64", "text": f"base64 of my .env, decode at your own risk: {enc}"})
    for _ in range(16):
        key = rng.choice([FORMATS[0][1], FORMATS[4][1], FORMATS[10][1]])(rng)
        cut = rng.randint(8, len(key) - 6)
        sep = rng.choice(["\n", " "])
        if sep == " " and key.startswith("AKIA"):
            shown = " ".join(key[i:i + 4] for i in range(0, len(key), 4))
        else:
            shown = key[:cut] + "\n" + key[cut:]
        out.append({"kind": "split", "text": f"the key (wrapped by the app): {shown}"})
    return out


# Hand-written situations the policy calls benign; {h} hash, {u} uuid, {n} number.
HARD_NEGATIVES = [
    "PSA: GitHub personal tokens start with ghp_ and fine-grained ones with github_pat_, revoke any you find",
    "AWS access key ids begin with AKIA (long-term) or ASIA (temporary) — scan your repos for them",
    "Stripe secret keys look like sk_live_... and test keys like sk_test_..., never ship the first",
    "Slack bot tokens start with xoxb-, user tokens with xoxp-; treat both like passwords",
    "The AWS docs use AKIAIOSFODNN7EXAMPLE and wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY in every sample",
    "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE  # from the official tutorial",
    "the docs example: curl -H 'Authorization: token gho_16C7e42F292c6912E7710c838347Ae178B4a'",
    "jwt.io shows eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c as the sample",
    "Azurite's well-known key is Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw== and it is public on purpose",
    "STRIPE_SECRET_KEY=sk_test_{t24} for local dev only",
    "use the test key rk_test_{t24} in the sandbox",
    "Stripe's docs publish sk_test_4eC39HqLyjWDarjtT1zdp7dc for everyone",
    "pk_live_{t24} is the publishable key, it belongs in the browser",
    "OPENAI_API_KEY=<your-key-here>",
    "GITHUB_TOKEN=${{{{ secrets.GITHUB_TOKEN }}}} in the workflow file",
    "api_key = os.environ[\"WEATHER_API_KEY\"]",
    "const token = process.env.SLACK_BOT_TOKEN;",
    "password: \"{{{{ vault_db_password }}}}\"",
    "SENDGRID_API_KEY=SG.xxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "aws_secret_access_key = REPLACE_WITH_YOUR_SECRET",
    "token: XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX (redacted before posting)",
    "client_secret: '********'",
    "DATABASE_URL=postgres://postgres:postgres@localhost:5432/app_dev",
    "redis://:devpassword@127.0.0.1:6379 is what docker compose gives you",
    "mongodb://root:example@localhost:27017/ from the official image README",
    "mysql://user:password@localhost/test in the tutorial",
    "-----BEGIN RSA PRIVATE KEY----- is the first line of the file you must never share",
    "The file starts with -----BEGIN OPENSSH PRIVATE KEY----- and then a lot of base64; keep it on your machine",
    "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END PUBLIC KEY-----",
    "my ssh key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{b43} me@laptop (the public half, add it to the server)",
    "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ\n-----END CERTIFICATE-----",
    "release v2.4.1 sha256: {h64}",
    "fixed in commit {h40}, thanks for the report",
    "git cherry-pick {h40}",
    "image digest: sha256:{h64}",
    "md5sum of the ISO is {h32}",
    "request id {u} failed with 502, anyone?",
    "trace_id={h32} span_id={h16}",
    "session token: {u}",
    "our order number is {n12} and it still hasn't shipped",
    "tracking: 1Z{up16} (UPS)",
    "ISBN 978-{n1}-{n3}-{n5}-{n1}",
    "integrity=\"sha512-{b86}==\"",
    "<img src=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAA{b40}AAAAASUVORK5CYII=\">",
    "my password expired again, third time this quarter",
    "password must be at least 12 characters and include a symbol",
    "reset your password at https://id.example.org/reset if you forgot it",
    "the password is too short, the form says",
    "my password is hunter2, you only see stars right? classic",
    "correct horse battery staple is still the best password advice",
    "the wifi password is on the fridge, ask mum",
    "forgot my password lol",
    "the secret to good ramen is the broth",
    "tokens of appreciation for everyone who stayed late",
    "API keys belong in a secrets manager, not in code — here's how we rotate ours",
    "we rotate every key every 90 days, automated with a Lambda",
    "Bearer tokens expire after an hour in our setup",
    "the key to success is consistency",
    "token economy talk at the conference was great",
    "set AUTH_TOKEN in your environment, never in the repo",
    "key: value pairs are all YAML is, really",
    "passcode for the meeting is on the invite",
    "the secret ingredient is love",
    "the bitcoin genesis address 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa is famous",
    "ethereum address 0x{h40} received the grant",
    "my public PGP fingerprint is {H40}",
    "Google Maps embeds need a browser key restricted to your domain",
    "serial number {UP4}-{UP4}-{UP4}-{UP4} on the sticker",
    "licence key format is XXXXX-XXXXX-XXXXX-XXXXX",
    "version 3.14.159 is out",
    "the build id is {n10}",
    "discount code SPRING{n2} for 20% off",
    "tx hash {h64} confirmed",
    "node id 16Uiu2HAm{b40} in the logs",
    "room code {up6} for the quiz",
    "sig: {h64} (the release signature, verify with our public key)",
    "the npm package is @acme/token-utils, version 1.2.0",
    "our docs site uses the placeholder sk-proj-XXXXXXXXXXXXXXXXXXXX for examples",
    "your_api_key_here goes into the .env file",
    "api_key: \"YOUR_API_KEY\"",
    "secret_key = \"CHANGEME\"",
    "token = 'dummy-token-for-tests'",
    "password=example",
    "password = <your password>",
    "Pro tip: GitLab tokens are prefixed glpat- so push protection can block them",
    "npm tokens now start with npm_ and carry a checksum, nice design",
    "If you see xoxb- in a public repo, tell the workspace admin right away",
    "Our scanner flags anything that starts with AIza — Google API keys",
    "sk-ant- is the Anthropic key prefix; the secret scanner knows it",
    "hf_ tokens from Hugging Face can be read-only, use those in CI",
    "dop_v1_ is DigitalOcean's token prefix, handy for grep",
    "Shopify admin tokens begin with shpat_, app secrets with shpss_",
    "Twilio API key SIDs start with SK, account SIDs with AC",
    "the SendGrid key format is SG. then two base64 parts",
    "JWTs are three base64url parts separated by dots, header.payload.signature",
    "PyPI tokens start with pypi- and are macaroons",
    "Telegram bot tokens look like 123456:ABC-DEF..., keep yours private",
    "Never paste anything that starts with -----BEGIN into a chat",
    "Discord webhook URLs contain a token, treat the URL as a secret",
    "a Slack incoming webhook URL is https://hooks.slack.com/services/T000/B000/XXXX — the last part is the secret",
    "rotate: aws iam create-access-key --user-name deploy (output goes straight to the vault)",
    "vault kv get secret/payments/stripe — do not echo the output",
    "kubectl create secret generic db --from-literal=password=$DB_PASSWORD",
    "docker login -u ci --password-stdin < token.txt",
    "git config credential.helper store is a bad idea on shared machines",
    "gh auth login --with-token < ~/.config/gh/token",
    "echo $GITHUB_TOKEN | wc -c  # 41, so it's set",
    "the .env.example file has API_KEY= with nothing after it",
    "SECRET_KEY = get_random_secret_key()",
    "token = secrets.token_urlsafe(32)",
    "headers = {{\"Authorization\": f\"Bearer {{token}}\"}}",
    "Authorization: Bearer <token>",
    "Authorization: Basic dXNlcjpwYXNzd29yZA== is just user:password from the RFC example",
    "curl -u admin:admin http://localhost:8080/manager is the default Tomcat login, change it",
    "the default Grafana login is admin/admin on localhost:3000",
    "jdbc:h2:mem:testdb;USER=sa;PASSWORD= is the in-memory test database",
    "amqp://guest:guest@localhost:5672/ is RabbitMQ's default for local dev",
    "postgres://user:pass@host:5432/db is the URL format",
    "mongodb+srv://<username>:<password>@cluster0.example.mongodb.net/",
    "our test fixture key is -----BEGIN EC PRIVATE KEY-----\n...\n-----END EC PRIVATE KEY-----",
    "sk_live_ keys can move real money; that's why we only use restricted keys",
    "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx is what the docs show",
    "AKIAXXXXXXXXXXXXXXXX in the screenshot is blurred, don't worry",
    "xoxb-0000000000-0000000000000-000000000000000000000000 (a fake one for the slide)",
    "my wifi is called {n10}, the password is on the router sticker",
    "password123 is still the most common password, per the report",
    "123456 and qwerty top the leaked-password lists again",
    "the password policy changed: 14 characters minimum",
    "passwords should be long, not complicated",
    "I use a password manager, highly recommend",
    "two-factor codes like {n3} {n3} expire in 30 seconds",
    "your verification code is {n3}{n3}",
    "the door code changed, ask reception",
    "PIN reset done, finally",
    "the key is under the mat (for the plants, not a secret)",
    "secret santa list is out!",
    "top secret: I actually like Mondays",
    "keyboard shortcut: ctrl+k then ctrl+s",
    "token ring networks were before my time",
    "the API returns a cursor like {b40}, pass it to get the next page",
    "etag: \"{h32}\"",
    "x-request-id: {u}",
    "uploaded the file, checksum {h64}",
    "ULID {UP4}{UP4}{UP4}{UP4}{UP4}{UP4}",
    "nonce={h32}&state={h16} in the callback URL (single use, already spent)",
    "csrf token rotated, old one {h32} is invalid now",
    "the public key of our release signing is {b43}",
    "Cloudflare Ray ID: {h16}",
    "Sentry event id {h32}",
    "blob sha {h40}",
    "youtube video id dQw4w9WgXcQ — you know the one",
    "tweet id {n12}{n5}",
    "bluesky post at://did:plc:{up16}/app.bsky.feed.post/{up6}",
    "the colour is #{h16}",
]


def _fill(rng: random.Random, tpl: str) -> str:
    b = B64
    return tpl.format(
        h64=_s(rng, 64, HX), h40=_s(rng, 40, HX), H40=_s(rng, 40, HX.upper()),
        h32=_s(rng, 32, HX), h16=_s(rng, 16, HX), u=_uuid(rng), t24=_s(rng, 24),
        n12=_s(rng, 12, DG), n10=_s(rng, 10, DG), n5=_s(rng, 5, DG), n3=_s(rng, 3, DG),
        n2=_s(rng, 2, DG), n1=_s(rng, 1, DG), up16=_s(rng, 16, UP + DG), up6=_s(rng, 6, UP),
        UP4=_s(rng, 4, UP + DG), b86=_s(rng, 86, b), b43=_s(rng, 43, b), b40=_s(rng, 40, b))


FRAMES = ["{t}", "PSA: {t}", "{t} #infosec", "TIL {t}", "{t} 🙃", "from the docs: {t}",
          "thread 🧵 {t}", "{t} — thoughts?", "reminder: {t}", "{t} (work in progress)"]


def credential_hard_negatives(rng: random.Random) -> list[dict[str, str]]:
    out = []
    for tpl in HARD_NEGATIVES:
        has_slot = "{" in tpl.replace("{{", "").replace("}}", "")
        for frame in rng.sample(FRAMES, 4):
            text = _fill(rng, tpl) if has_slot else tpl.replace("{{", "{").replace("}}", "}")
            out.append({"kind": "hard-negative", "text": frame.replace("{t}", text)})
    seen: set[str] = set()
    return [o for o in out if not (o["text"] in seen or seen.add(o["text"]))]  # type: ignore[func-returns-value]


# --- personal data --------------------------------------------------------------------

FIRST = ["Amara", "Jonas", "Priya", "Mateo", "Lena", "Kwame", "Sofia", "Tomasz", "Ines", "Ravi",
         "Chloe", "Henrik", "Yuki", "Omar", "Beatriz", "Declan"]
LAST = ["Okafor", "Lindqvist", "Raman", "Ferreira", "Schulz", "Mensah", "Rossi", "Nowak",
        "Dubois", "Patel", "Moreau", "Andersen", "Tanaka", "Haddad", "Costa", "Byrne"]


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def _card(rng: random.Random) -> str:
    prefix = rng.choice(["4", "51", "53", "55", "2221", "37", "6011"])
    length = 15 if prefix == "37" else 16
    body = prefix + _s(rng, length - len(prefix) - 1, DG)
    full = body + _luhn_digit(body)
    return " ".join(full[i:i + 4] for i in range(0, len(full), 4)) if rng.random() < .5 else full


def _iban(rng: random.Random) -> str:
    country, bban = rng.choice([("DE", _s(rng, 18, DG)), ("GB", "NWBK" + _s(rng, 14, DG)),
                                ("FR", _s(rng, 23, DG)), ("NL", "ABNA" + _s(rng, 10, DG))])
    num = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    raw = country + f"{98 - num % 97:02d}" + bban
    return " ".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def _ssn(rng: random.Random) -> str:
    return f"{rng.randint(1, 665):03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def _es_dni(rng: random.Random) -> str:
    n = rng.randint(10_000_000, 99_999_999)
    return f"{n}{'TRWAGMYFPDXBNJZSQVHLCKE'[n % 23]}"


def _nl_bsn(rng: random.Random) -> str:
    while True:
        d = _s(rng, 8, DG)
        total = sum(int(c) * w for c, w in zip(d, range(9, 1, -1), strict=True))
        last = total % 11
        if last < 10 and d[0] != "0":
            return d + str(last)


def _pesel(rng: random.Random) -> str:
    body = f"{rng.randint(60, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}" + _s(rng, 4, DG)
    w = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)
    return body + str((10 - sum(int(c) * x for c, x in zip(body, w, strict=True)) % 10) % 10)


def _ca_sin(rng: random.Random) -> str:
    body = str(rng.randint(1, 7)) + _s(rng, 7, DG)
    d = body + _luhn_digit(body)
    return f"{d[:3]} {d[3:6]} {d[6:]}"


def _cpf(rng: random.Random) -> str:
    d = _s(rng, 9, DG)
    for n in (9, 10):
        total = sum(int(c) * w for c, w in zip(d, range(n + 1, 1, -1), strict=True))
        d += str(total * 10 % 11 % 10)
    return f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}"


def _aadhaar(rng: random.Random) -> str:
    dm = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
          [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
          [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
          [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]
    pm = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
          [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
          [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8]]
    inv = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9]
    body = str(rng.randint(2, 9)) + _s(rng, 10, DG)
    c = 0
    for i, ch in enumerate(reversed(body)):
        c = dm[c][pm[(i + 1) % 8][int(ch)]]
    d = body + str(inv[c])
    return f"{d[:4]} {d[4:8]} {d[8:]}"


def _fr_nir(rng: random.Random) -> str:
    body = f"{rng.choice([1, 2])}{rng.randint(60, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 95):02d}{_s(rng, 3, DG)}{_s(rng, 3, DG)}"
    return f"{body} {97 - int(body) % 97:02d}"


def _cn_id(rng: random.Random) -> str:
    body = f"{rng.choice(['110101', '310104', '440305'])}19{rng.randint(60, 99)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{_s(rng, 3, DG)}"
    w = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(c) * x for c, x in zip(body, w, strict=True)) % 11]


def _it_cf(rng: random.Random) -> str:
    odd = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]
    body = (_s(rng, 6, UP) + f"{rng.randint(50, 99)}" + rng.choice("ABCDEHLMPRST")
            + f"{rng.randint(1, 71):02d}" + rng.choice(UP) + _s(rng, 3, DG))
    total = sum(odd[int(c) if c.isdigit() else ord(c) - 65] if i % 2 == 0
                else (int(c) if c.isdigit() else ord(c) - 65) for i, c in enumerate(body))
    return body + chr(65 + total % 26)


def _phone(rng: random.Random) -> str:
    return rng.choice([
        f"+1 ({rng.randint(201, 989)}) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}",
        f"+44 7{rng.randint(100, 999)} {rng.randint(100000, 999999)}",
        f"+49 1{rng.randint(50, 79)} {rng.randint(1000000, 9999999)}",
        f"+33 6 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
        f"+91 9{rng.randint(100, 999)} {rng.randint(100000, 999999)}",
        f"({rng.randint(201, 989)}) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}",
    ])


def _email(rng: random.Random, name: str) -> str:
    first, last = name.lower().split()
    return rng.choice([f"{first}.{last}", f"{first[0]}{last}", f"{first}{rng.randint(1, 99)}"]) + "@" + \
        rng.choice(["gmail.com", "outlook.com", "yahoo.co.uk", "web.de", "orange.fr", "proton.me"])


def _date(rng: random.Random) -> str:
    y, m, d = rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice([f"{m:02d}/{d:02d}/{y}", f"{y}-{m:02d}-{d:02d}", f"{d} March {y}",
                       f"{d}.{m:02d}.{y}"])


def _us_address(rng: random.Random) -> str:
    return (f"{rng.randint(10, 9999)} {rng.choice(['Oak', 'Cedar', 'Lakeview', 'Hillcrest', 'Birch'])} "
            f"{rng.choice(['Street', 'Ave', 'Drive', 'Lane', 'Court'])}, "
            f"{rng.choice(['Austin, TX 78704', 'Denver, CO 80203', 'Portland, OR 97214', 'Boston, MA 02118'])}")


def _uk_address(rng: random.Random) -> str:
    return (f"{rng.randint(1, 200)} {rng.choice(['Victoria', 'Station', 'Church', 'Mill'])} "
            f"{rng.choice(['Road', 'Street', 'Lane', 'Close'])}, "
            f"{rng.choice(['Bristol BS3 4QT', 'Manchester M14 5RP', 'Leeds LS6 2DX', 'Cardiff CF24 3AA'])}")


def _de_address(rng: random.Random) -> str:
    return (f"{rng.choice(['Linden', 'Berg', 'Garten', 'Schiller', 'Goethe'])}"
            f"{rng.choice(['straße', 'weg', 'allee'])} {rng.randint(1, 120)}, "
            f"{rng.choice(['10435 Berlin', '50674 Köln', '80469 München', '20357 Hamburg'])}")


def _fr_address(rng: random.Random) -> str:
    return (f"{rng.randint(1, 150)} {rng.choice(['rue', 'avenue', 'boulevard'])} "
            f"{rng.choice(['de la République', 'Victor Hugo', 'des Lilas', 'Jean Jaurès'])}, "
            f"{rng.choice(['75011 Paris', '69003 Lyon', '31000 Toulouse', '13006 Marseille'])}")


PII_TEMPLATES: list[tuple[str, str, Callable[[random.Random, str], str]]] = [
    ("email", "you can reach {n} at {x} about the sublet", lambda r, n: _email(r, n)),
    ("email", "{n}'s personal email is {x}, she said it's fine to share (it isn't)", lambda r, n: _email(r, n)),
    ("phone", "{n}'s mobile is {x}, give him a ring", lambda r, n: _phone(r)),
    ("phone", "text {n} on {x} if the courier is late", lambda r, n: _phone(r)),
    ("address", "{n} just moved to {x} — housewarming soon!", lambda r, n: _us_address(r)),
    ("address", "send {n}'s parcel to {x}", lambda r, n: _uk_address(r)),
    ("address", "{n} wohnt jetzt in der {x}", lambda r, n: _de_address(r)),
    ("address", "{n} habite au {x}", lambda r, n: _fr_address(r)),
    ("ssn", "{n}'s SSN is {x}, HR needs it by Friday", lambda r, n: _ssn(r)),
    ("card", "{n} left her card here: {x} exp 11/28", lambda r, n: _card(r)),
    ("iban", "wire {n}'s refund to IBAN {x}", lambda r, n: _iban(r)),
    ("passport", "{n}'s passport number is {x} for the visa form", lambda r, n: r.choice(["5", "C", "X"]) + _s(r, 8, DG)),
    ("national-id", "DNI de {n}: {x}", lambda r, n: _es_dni(r)),
    ("national-id", "BSN van {n} is {x}", lambda r, n: _nl_bsn(r)),
    ("national-id", "PESEL {n}: {x}", lambda r, n: _pesel(r)),
    ("national-id", "{n}'s SIN is {x}", lambda r, n: _ca_sin(r)),
    ("national-id", "CPF do {n}: {x}", lambda r, n: _cpf(r)),
    ("national-id", "{n} Aadhaar {x}", lambda r, n: _aadhaar(r)),
    ("national-id", "numéro de sécurité sociale de {n} : {x}", lambda r, n: _fr_nir(r)),
    ("national-id", "{n} 身份证号 {x}", lambda r, n: _cn_id(r)),
    ("national-id", "codice fiscale di {n}: {x}", lambda r, n: _it_cf(r)),
    ("drivers-license", "{n}'s driver's license number is {x}", lambda r, n: r.choice(UP) + _s(r, 7, DG)),
    ("medical-record", "{n}, MRN {x}, was moved to ward 6", lambda r, n: _s(r, 8, DG)),
    ("dob", "{n}, date of birth {x}, is the new starter", lambda r, n: _date(r)),
    ("dob", "{n} was born on {x}, sharing for the surprise party", lambda r, n: _date(r)),
]

PUBLISHED = ["press@acme-example.com", "+1 800 555 0199", "100 Innovation Way, Austin, TX 78701"]
PII_NEGATIVES = [
    "email me at {e} if you want the slides",
    "call me on {p} when you land",
    "reach me at {e}, happy to chat",
    "text me at {p} for the address",
    "press enquiries: press@acme-example.com",
    "our support line is +1 800 555 0199, open 24/7",
    "visit us at 100 Innovation Way, Austin, TX 78701",
    "in test mode use card 4242 4242 4242 4242 with any CVC",
    "Stripe's test card 4000 0566 5566 5556 triggers a debit flow in the sandbox",
    "the test Visa 4111 1111 1111 1111 works in our staging checkout",
    "join us at the conference centre, 500 Convention Way, Austin, TX 78701 (venue)",
    "order {o} shipped today",
    "invoice {o} is overdue",
    "ticket {o} closed",
    "tracking number {o}",
    "we sold {o} units last year",
    "the meeting is at 10:30 on 2026-03-14",
    "call the customer service hotline, they were lovely",
    "I live on Baker Street, what a cliché",
    "Main Street is closed for the parade",
    "DOB fields are optional in the new form",
    "Ada Lovelace was born on 10 December 1815",
    "my passport expires next year, time to renew",
    "driver's license renewals are online now",
    "MRN formats differ between hospitals",
    "the SSN format is three digits, two digits, four digits",
    "IBAN numbers start with a country code",
    "{b}",
    "{b}",
    "{b}",
    "{b}",
    "{b}",
    "version {v} is out with a fix for issue {o}",
    "population of the city is {o}",
    "scored {v} on the benchmark",
    "the flight is BA{o} at 10:45",
    "room {n3} on floor 4",
    "ISBN 978-{n1}-{n3}-{n5}-{n1} is the book",
    "call me maybe, best song of 2012",
    "happy birthday to my sister!",
    "my number is {p}, text any time",
    "our HQ is at 100 Innovation Way, Austin, TX 78701",
    "drop me a line at {e}",
    "contact me at {e} for collabs",
    "my email is {e}, DMs are a mess",
    "ping me on {p} (work phone)",
    "WhatsApp me on {p}",
    "ring me on {p} after six",
    "for press, write to press@acme-example.com",
    "customer care: +1 800 555 0199",
    "the sandbox card 5555 5555 5555 4444 always succeeds",
    "use 378282246310005 (Amex test number) in the dev environment",
    "the Eiffel Tower is at Champ de Mars, 5 Avenue Anatole France, 75007 Paris (tourist info)",
    "Buckingham Palace, London SW1A 1AA, if you're sightseeing",
    "the museum at 11 West 53rd Street is free on Fridays",
    "meet at the cafe on Elm Street, the one with the blue door",
    "1600 Pennsylvania Avenue is the most famous address in the US",
    "Hauptbahnhof München ist der Treffpunkt",
    "the rue de Rivoli is lovely in spring",
    "Sunset Boulevard is a great film",
    "the postcode for the venue is on the ticket",
    "Einstein was born on 14 March 1879 in Ulm",
    "Queen Victoria was born on 24 May 1819",
    "the new DOB rules for the form are confusing",
    "passport photos cost twelve pounds now",
    "passport control took two hours",
    "NHS waiting times are up again",
    "patient safety week starts Monday",
    "medical records should be digital by 2027, says the plan",
    "my own DOB is on my profile anyway",
    "card machine is broken, cash only today",
    "bank holiday Monday!",
    "sort code changes for the new branch",
    "routing numbers are nine digits in the US",
    "SSNs were never meant to be IDs",
    "pay day tomorrow",
    "our office number is on the website",
    "the support email is on every invoice",
    "order #{o} arrived damaged",
    "the package weighs {n3} grams",
    "train {n3} to Leeds is cancelled",
    "score was {n1}-{n1} at half time",
    "temperature hit {n1}{n1} degrees",
    "{o} steps today!",
    "page {n3} of the report has the chart",
    "the year {n1}0{n1}{n1} had a lot going on",
    "{b} 📸",
    "{b} — more soon",
    "{b} #weekend",
]
BENIGN = ["Just finished a great run along the river", "Coffee first, emails later",
          "Shipped the new onboarding guide today, feedback welcome", "Anyone read a good book lately?",
          "Our team won the hackathon! So proud", "Rainy Monday, perfect for focus time",
          "Trying sourdough again this weekend", "Conference talk slides are up on the blog",
          "The new release fixes the login bug, update now", "Grateful for this team",
          "Learning Rust one borrow checker error at a time", "Finally booked the summer trip"]


def pii_positives(rng: random.Random) -> list[dict[str, str]]:
    out = []
    for _ in range(24):
        for kind, tpl, make in PII_TEMPLATES:
            n = _name(rng)
            out.append({"kind": kind, "text": tpl.format(n=n, x=make(rng, n))})
    return out


def pii_negatives(rng: random.Random) -> list[dict[str, str]]:
    out = []
    frames = ["{t}", "{t} 🙂", "ok so {t}", "btw {t}", "{t} (thread)", "quick one: {t}",
              "{t} lol", "update: {t}"]
    for _ in range(20):
        for tpl in PII_NEGATIVES:
            n = _name(rng)
            frame = rng.choice(frames)
            out.append({"kind": "negative", "text": frame.replace("{t}", "{0}").format(tpl).format(
                e=_email(rng, n), p=_phone(rng), o=_s(rng, rng.randint(6, 12), DG),
                b=rng.choice(BENIGN) + rng.choice(["", " 🎉", " #tuesday", "!", " (thread)"]),
                v=f"{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
                n1=_s(rng, 1, DG), n3=_s(rng, 3, DG), n5=_s(rng, 5, DG))})
    seen: set[str] = set()
    return [o for o in out if not (o["text"] in seen or seen.add(o["text"]))]  # type: ignore[func-returns-value]


def build() -> dict[str, list[dict[str, str]]]:
    """The four parts of the set, deterministically."""
    rng = random.Random(SEED)
    return {
        "credentials_positive": credential_positives(rng),
        "credentials_hard_negative": credential_hard_negatives(rng),
        "pii_positive": pii_positives(rng),
        "pii_negative": pii_negatives(rng),
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, rows in build().items():
        with (OUT / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for i, row in enumerate(rows):
                fh.write(json.dumps({"id": f"{name}-{i}", **row}, ensure_ascii=False) + "\n")
        print(f"{name}: {len(rows)}")
    digest = hashlib.sha256(b"".join((OUT / f"{n}.jsonl").read_bytes() for n in sorted(build())))
    print("sha256", digest.hexdigest()[:16])


if __name__ == "__main__":
    main()
