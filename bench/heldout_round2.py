"""Round 2 of the held-back set: written after the rules were fixed on round 1, measured once.

New formats and phrasings that round 1 does not have (formats restated from provider
documentation, sentences written fresh), so that its figures say how the rules do on cases
nobody tuned them on. Writes ``data/secrets-heldout/round2_*.jsonl``.
"""

from __future__ import annotations

import base64
import json
import random

from bench.heldout_secrets import (
    AN,
    B64,
    DG,
    HX,
    LO,
    OUT,
    UP,
    URLS,
    Gen,
    _card,
    _date,
    _email,
    _gh,
    _iban,
    _name,
    _phone,
    _s,
    _ssn,
    _uuid,
)

SEED = 4242


def _b64json(obj: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


FORMATS: list[tuple[str, Gen]] = [
    ("github-refresh", _gh("ghr_")),
    ("github-user-to-server", _gh("ghu_")),
    ("gitlab-deploy-token", lambda r: "gldt-" + _s(r, 20, URLS)),
    ("gitlab-feed-token", lambda r: "glft-" + _s(r, 20, URLS)),
    ("slack-config-token", lambda r: "xoxe.xoxp-1-" + _s(r, 160)),
    ("openai-legacy", lambda r: "sk-" + _s(r, 20) + "T3BlbkFJ" + _s(r, 20)),
    ("anthropic-admin", lambda r: "sk-ant-admin01-" + _s(r, 93, URLS) + "AA"),
    ("heroku-new", lambda r: "HRKU-AA" + _s(r, 58, URLS)),
    ("netlify", lambda r: "nfp_" + _s(r, 36)),
    ("flyio", lambda r: "fo1_" + _s(r, 43, URLS)),
    ("sentry-org", lambda r: "sntrys_" + _b64json({"iat": 1700000000.5, "url": "https://sentry.io",
                                                   "region_url": "https://us.sentry.io",
                                                   "org": _s(r, 8, LO)}) + "_" + _s(r, 43, AN + "+/")),
    ("grafana-cloud", lambda r: "glc_" + _b64json({"o": _s(r, 6, DG), "n": "stack-" + _s(r, 6, DG),
                                                   "k": _s(r, 24), "m": {"r": "prod-eu-west-0"}})),
    ("jfrog", lambda r: "AKCp" + _s(r, 69)),
    ("shopify-custom-app", lambda r: "shpca_" + _s(r, 32, HX)),
    ("square-app-secret", lambda r: "sq0csp-" + _s(r, 43, URLS)),
    ("artifactory-reference", lambda r: "cmVmdGtuOjAxOj" + _s(r, 50)),
    ("aws-secret-key", lambda r: "aws_secret_access_key = " + _s(r, 40, AN + "/+")),
    ("twilio-auth-token", lambda r: "TWILIO_AUTH_TOKEN=" + _s(r, 32, HX)),
    ("okta", lambda r: "OKTA_API_TOKEN=00" + _s(r, 40, URLS)),
    ("datadog", lambda r: "DD_API_KEY=" + _s(r, 32, HX)),
    ("cloudflare", lambda r: "CLOUDFLARE_API_TOKEN=" + _s(r, 40, URLS)),
    ("algolia", lambda r: "ALGOLIA_API_KEY=" + _s(r, 32, HX)),
    ("access-token-url", lambda r: f"https://graph.example-social.com/v19.0/me?access_token={_s(r, 40)}"),
    ("pgp-private-key", lambda r: "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF" + "\n".join(
        _s(r, 64, B64) for _ in range(3))),
    ("k8s-service-account", lambda r: "token: eyJhbGciOiJSUzI1NiIsImtpZCI6Ij" + _s(r, 20, URLS) + "In0."
     + _b64json({"iss": "kubernetes/serviceaccount", "sub": "system:serviceaccount:prod:ci"})
     + "." + _s(r, 86, URLS)),
    ("netrc", lambda r: f"machine api.heroku.com\n  login ops@acme-corp.io\n  password {_uuid(r)}"),
    ("docker-config", lambda r: '{"auths": {"registry.acme-corp.io": {"auth": "'
     + base64.b64encode(f"ci-bot:{_s(r, 16)}".encode()).decode() + '"}}}'),
    ("azure-devops-legacy", lambda r: "AZURE_DEVOPS_PAT=" + _s(r, 52, LO + "234567")),
    ("vault-legacy", lambda r: "VAULT_TOKEN=s." + _s(r, 24)),
    ("discord-bot", lambda r: base64.b64encode(str(r.randint(10**17, 10**18)).encode()).decode().rstrip("=")
     + "." + _s(r, 6, URLS) + "." + _s(r, 38, URLS)),
]

CONTEXTS = [
    "rotating this now but for the record it was {k}",
    "my bad, {k} was in the gist for an hour",
    "anyone know why {k} gives 403 on the new endpoint?",
    "```bash\n{k}\n```",
]

PROSE = [
    "my netflix password is {p}, the family plan one",
    "the code for the cafe wifi is {p}",
    "WiFi is HarbourGuest, password {p}",
    "pass for the shared drive: {p}",
    "the alarm code is now {p}, text me if it beeps",
    "new password for the finance mailbox: {p}",
]

HARD = [
    "rotate keys regularly; anything shaped like AKIA plus sixteen characters should never be in a post",
    "GitHub will revoke tokens it finds in public repos, prefix ghp_ or github_pat_",
    "the README says OPENAI_API_KEY=sk-... — fill in your own",
    "token: ${{ secrets.NPM_TOKEN }}",
    "password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6230343866383734",
    "DB_PASSWORD=${DB_PASSWORD:?must be set}",
    "export API_KEY=$(pass show weather/api)",
    "SLACK_WEBHOOK_URL=https://hooks.slack.com/services/XXX/YYY/ZZZ in the template",
    "stripe listen prints whsec_... for local webhooks, it's test mode",
    "sk_test_ keys are fine for the tutorial repo",
    "the key id AKIAI44QH8DHBEXAMPLE appears in the AWS CLI docs",
    "ssh-keygen -t ed25519 -C you@example.com, then share the .pub file only",
    "-----BEGIN ENCRYPTED PRIVATE KEY----- <redacted>",
    "commit {h40} introduced the regression",
    "sha1sum: {h40}",
    "our invite code is {up6}, join the beta",
    "the UUID {u} identifies the tenant, not a secret",
    "password reset links expire in 15 minutes",
    "changed my password, finally something better than Summer2024",
    "never tell anyone your password, not even IT",
    "the Wi-Fi name is CafeGuest and there's no password",
    "keys to the office are at reception",
    "Secret Garden is my favourite book",
    "Our API uses OAuth tokens that expire hourly",
    "the token bucket algorithm explained in one tweet 🧵",
]

PII_POS = [
    ("phone", "her cell is {ph}, she's expecting the call", lambda r: _phone(r)),
    ("phone", "DM'd you his number but here it is too: {ph}", lambda r: _phone(r)),
    ("email", "forward it to {n} at {em}", lambda r: ""),
    ("address", "Mr {last} lives at {us}", lambda r: ""),
    ("ssn", "SSN: {ssn} (for {n}'s paperwork)", lambda r: ""),
    ("card", "{n}'s visa {card} exp 04/29 cvv 123", lambda r: ""),
    ("iban", "{n}: IBAN {iban}", lambda r: ""),
    ("dob", "{n} (b. {date}) joins Monday", lambda r: ""),
    ("dob", "{n} DOB {date}", lambda r: ""),
    ("passport", "passport: {pp} ({n})", lambda r: ""),
    ("medical-record", "patient #{mrn}, {n}, discharged", lambda r: ""),
    ("drivers-license", "DL number {dl} for {n}", lambda r: ""),
]

PII_NEG = [
    "hit me up at {em} for the photos",
    "you can email me on {em}",
    "drop me a text on {ph}",
    "my cell is {ph} if you get lost",
    "call our help desk on +1 800 555 0199",
    "press@acme-example.com is the right place for media requests",
    "order {o} is ready for pickup",
    "the 2025 marathon had {o} finishers",
    "patient experience survey results are in",
    "my doctor's office moved to a new building",
    "checkout test: 4242 4242 4242 4242 in Stripe test mode",
    "the new passport design is beautiful",
    "Lincoln was born on February 12, 1809",
    "Main Street Bakery has the best croissants",
    "the conference is at the Austin Convention Center, 500 E Cesar Chavez St, Austin, TX 78701 (venue)",
]


def build() -> dict[str, list[dict[str, str]]]:
    rng = random.Random(SEED)
    pos = []
    for provider, make in FORMATS:
        for ctx in CONTEXTS:
            pos.append({"kind": provider, "text": ctx.format(k=make(rng))})
    for tpl in PROSE:
        for _ in range(4):
            p = _s(rng, 4, UP) + _s(rng, 4, LO) + _s(rng, 2, DG) + rng.choice("!#%")
            pos.append({"kind": "password-prose", "text": tpl.format(p=p)})
    hard = []
    for tpl in HARD:
        for frame in ("{t}", "PSA {t}", "{t} 👀", "fyi: {t}"):
            text = (tpl.replace("{h40}", _s(rng, 40, HX)).replace("{up6}", _s(rng, 6, UP))
                    .replace("{u}", _uuid(rng)))
            hard.append({"kind": "hard-negative", "text": frame.replace("{t}", text)})
    ppos = []
    for _ in range(12):
        for kind, tpl, _make in PII_POS:
            n = _name(rng)
            ppos.append({"kind": kind, "text": tpl.format(
                n=n, last=n.split()[1], ph=_phone(rng), em=_email(rng, n),
                us=f"{rng.randint(10, 999)} Birchwood Drive, Tulsa, OK 74105", ssn=_ssn(rng),
                card=_card(rng), iban=_iban(rng), date=_date(rng), pp=str(rng.randint(10**8, 10**9 - 1)),
                mrn=_s(rng, 7, DG), dl=rng.choice(UP) + _s(rng, 7, DG))})
    pneg = []
    for _ in range(20):
        for tpl in PII_NEG:
            n = _name(rng)
            pneg.append({"kind": "negative", "text": tpl.format(
                em=_email(rng, n), ph=_phone(rng), o=_s(rng, 6, DG))})
    seen: set[str] = set()
    pneg = [o for o in pneg if not (o["text"] in seen or seen.add(o["text"]))]  # type: ignore[func-returns-value]
    return {"round2_credentials_positive": pos, "round2_credentials_hard_negative": hard,
            "round2_pii_positive": ppos, "round2_pii_negative": pneg}


def main() -> None:
    for name, rows in build().items():
        with (OUT / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for i, row in enumerate(rows):
                fh.write(json.dumps({"id": f"{name}-{i}", **row}, ensure_ascii=False) + "\n")
        print(f"{name}: {len(rows)}")


if __name__ == "__main__":
    main()
