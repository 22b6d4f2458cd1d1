"""Synthetic texts for the rules' quality tests and benchmark: real-format keys, hard negatives, posts.

Everything is generated from a seed (no downloaded data): random keys in each provider's
format, look-alikes that are *not* secrets (hashes, UUIDs, commit ids, documentation keys,
base64 blobs), and tweet-sized benign posts.
"""

from __future__ import annotations

import base64
import hashlib
import random
import string
import uuid
import zlib

_ALNUM = string.ascii_letters + string.digits
_UPPER = string.ascii_uppercase + string.digits
_URLSAFE = _ALNUM + "_-"
_HEX = "0123456789abcdef"


def _r(rng: random.Random, n: int, alphabet: str = _ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _crc_token(rng: random.Random, prefix: str) -> str:
    """A GitHub/npm-style token: 30 random base62 characters and their base62 CRC32 (6 chars)."""
    body = _r(rng, 30)
    n, tail = zlib.crc32(body.encode("ascii")), ""
    for _ in range(6):
        n, d = divmod(n, 62)
        tail = (string.digits + string.ascii_uppercase + string.ascii_lowercase)[d] + tail
    return prefix + body + tail


def credential_positives(rng: random.Random) -> list[tuple[str, str]]:
    """One (provider, key) pair per supported key format, freshly randomised."""
    return [
        ("aws-access-key", "AKIA" + _r(rng, 16, _UPPER)),
        ("aws-session-key", "ASIA" + _r(rng, 16, _UPPER)),
        ("gcp-api-key", "AIza" + _r(rng, 35, _URLSAFE)),
        ("gcp-oauth-secret", "GOCSPX-" + _r(rng, 28, _URLSAFE)),
        ("azure-client-secret", _r(rng, 3) + str(rng.randint(0, 9)) + "Q~" + _r(rng, 34, _ALNUM + "_~.-")),
        ("azure-storage-key", "AccountKey=" + _r(rng, 86, _ALNUM + "+/") + "=="),
        ("github-pat", _crc_token(rng, "ghp_")),
        ("github-oauth", _crc_token(rng, "gho_")),
        ("github-fine-grained", "github_pat_" + _r(rng, 22) + "_" + _r(rng, 59)),
        ("gitlab-pat", "glpat-" + _r(rng, 20, _URLSAFE)),
        ("slack-bot", f"xoxb-{_r(rng, 12, string.digits)}-{_r(rng, 13, string.digits)}-{_r(rng, 24)}"),
        ("slack-user", f"xoxp-{_r(rng, 11, string.digits)}-{_r(rng, 12, string.digits)}-{_r(rng, 32)}"),
        ("slack-webhook", "https://hooks.slack.com/services/T" + _r(rng, 8, _UPPER) + "/B"
         + _r(rng, 8, _UPPER) + "/" + _r(rng, 24)),
        ("stripe-live", "sk_live_" + _r(rng, 24)),
        ("stripe-restricted", "rk_live_" + _r(rng, 24)),
        ("twilio-api-key", "SK" + _r(rng, 32, _HEX)),
        ("sendgrid", "SG." + _r(rng, 22, _URLSAFE) + "." + _r(rng, 43, _URLSAFE)),
        ("openai-legacy", "sk-" + _r(rng, 20) + "T3BlbkFJ" + _r(rng, 20)),
        ("openai-project", "sk-proj-" + _r(rng, 64, _URLSAFE) + "T3BlbkFJ" + _r(rng, 64, _URLSAFE)),
        ("npm", _crc_token(rng, "npm_")),
        ("pypi", "pypi-AgEIcHlwaS5vcmc" + _r(rng, 70, _URLSAFE)),
        ("jwt", "eyJhbGciOiJIUzI1NiJ9.eyJ" + _r(rng, 40, _URLSAFE) + "." + _r(rng, 43, _URLSAFE)),
        ("private-key", "-----BEGIN RSA PRIVATE KEY-----\nMIIE" + _r(rng, 60, _ALNUM + "+/")),
        ("openssh-key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl" + _r(rng, 60, _ALNUM + "+/")),
        ("postgres-url", f"postgres://app:{_r(rng, 14)}@db.{_r(rng, 6).lower()}.internal:5432/prod"),
        ("mongodb-url", f"mongodb+srv://svc:{_r(rng, 16)}@cluster0.{_r(rng, 5).lower()}.mongodb.net/"),
    ]


_KEY_TEMPLATES = (
    "oops, {k}",
    "here's the key for the demo: {k}",
    "can someone check why {k} stopped working?",
    "{k}",
    "config:\n{k}\nthanks!",
    "pasting this so I don't lose it {k} lol",
)


def credential_positive_posts(rng: random.Random, rounds: int = 4) -> list[tuple[str, str]]:
    """(provider, post) pairs: every key format in several sentence shapes."""
    out: list[tuple[str, str]] = []
    for _ in range(rounds):
        for provider, key in credential_positives(rng):
            out.append((provider, rng.choice(_KEY_TEMPLATES).format(k=key)))
    return out


def credential_hard_negatives(rng: random.Random, rounds: int = 6) -> list[tuple[str, str]]:
    """(kind, post) pairs that look like secrets but are not."""
    out: list[tuple[str, str]] = []
    for _ in range(rounds):
        blob = bytes(rng.getrandbits(8) for _ in range(rng.randint(24, 90)))
        md5 = hashlib.md5(blob).hexdigest()
        sha1 = hashlib.sha1(blob).hexdigest()
        sha256 = hashlib.sha256(blob).hexdigest()
        uid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        b64 = base64.b64encode(blob).decode()
        out += [
            ("md5", f"md5 of the release tarball: {md5}"),
            ("md5", f"token: {md5}"),
            ("sha1", f"fixed in commit {sha1}"),
            ("sha1", f"git checkout {sha1[:12]} and rebuild"),
            ("sha256", f"sha256: {sha256}"),
            ("sha256", f"image digest sha256:{sha256}"),
            ("sha256", f"checksum={sha256}"),
            ("uuid", f"request id {uid} failed, can you look?"),
            ("uuid", f"api token id: {uid}"),
            ("uuid", f"secret: {uid.replace('-', '')}"),
            ("base64", f"the payload was {b64}"),
            ("base64", f"<img src=\"data:image/png;base64,{b64}\">"),
            ("base64", f"integrity=\"sha512-{b64}\""),
        ]
    out += [
        ("example-key", "The AWS docs use AKIAIOSFODNN7EXAMPLE for examples"),
        ("example-key", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        ("example-key", "export GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
        ("example-key", "STRIPE_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx"),
        ("example-key", "SLACK_BOT_TOKEN=xoxb-your-token-here"),
        ("example-key", "api_key = <your api key>"),
        ("example-key", "OPENAI_API_KEY=sk-proj-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"),
        ("example-key", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6"
         "IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"),
        ("example-key", "DATABASE_URL=postgres://user:password@localhost:5432/app"),
        ("example-key", "password: ********"),
        ("example-key", "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"),
        ("example-key", "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBa"),
        ("words", "my password is incorrect apparently, third time today"),
        ("words", "the secret to good bread is time"),
        ("words", "Tokens of appreciation for the whole team today"),
        ("words", "bitcoin genesis address 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa is famous"),
    ]
    return out


_OPENERS = ("Just", "Finally", "Honestly,", "Today I", "So", "Can't believe I", "Yesterday we",
            "Pro tip:", "Reminder:", "Hot take:")
_VERBS = ("shipped", "tried", "loved", "finished", "watched", "read", "fixed", "cooked", "visited",
          "booked", "started", "wrapped up", "presented", "reviewed", "celebrated")
_OBJECTS = ("the new release", "a great book on design", "my first marathon", "a talk on accessibility",
            "the quarterly offsite", "a pizza with the team", "the documentation sprint",
            "a 10k run", "an amazing coffee", "the onboarding guide", "a podcast about history",
            "the conference keynote", "our hackathon project", "the garden shed", "a sourdough loaf")
_TAILS = ("and it was great!", "— highly recommend.", "Thoughts?", "#mondaymotivation",
          "what a week 🎉", "more soon.", "couldn't be happier.", "10/10 would do again",
          "shoutout to @alex_dev for the help", "details at https://blog.example.com/post/42",
          "this product is killer", "I hate Mondays though", "so tired lol", "see you at 5pm",
          "it took 3 hours and 2 coffees", "rated 4.5 stars", "")


def benign_post(rng: random.Random) -> str:
    """A tweet-sized ordinary post."""
    parts = [rng.choice(_OPENERS), rng.choice(_VERBS), rng.choice(_OBJECTS), rng.choice(_TAILS)]
    text = " ".join(p for p in parts if p)
    if rng.random() < 0.8:
        text += ". " + " ".join(
            rng.choice(_OPENERS + _VERBS + _OBJECTS + _TAILS) for _ in range(rng.randint(3, 10))
        )
    return text[:280]


_POSITIVES = (
    "call me on (415) 555-{n4} tonight",
    "her email is jane.doe{n4}@gmail.com",
    "you're an idiot, honestly",
    "Globex is a total scam",
    "project falcon ships soon, don't tell",
    "the wifi password is Sunsh1ne!{n4}",
    "our Q3 numbers are going to crush it",
    "views are my own: our official position is wrong",
)


def bench_posts(n: int, seed: int = 42, positive_rate: float = 0.05) -> list[str]:
    """``n`` tweet-sized posts, mostly benign, with some policy conflicts and keys mixed in."""
    rng = random.Random(seed)
    keys = [k for _, k in credential_positives(rng)]
    out = []
    for _ in range(n):
        if rng.random() < positive_rate:
            if rng.random() < 0.3:
                out.append(f"{benign_post(rng)[:120]} {rng.choice(keys)}")
            else:
                out.append(rng.choice(_POSITIVES).format(n4=rng.randint(1000, 9999)))
        else:
            out.append(benign_post(rng))
    return out
