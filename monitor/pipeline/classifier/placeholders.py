"""Whether a post's credential-shaped material is only placeholders or otherwise no live secret.

POLICY.md: placeholders and documentation are benign (``<your password here>``,
``${TOKEN}``, ``REPLACE_ME``, ``****``), and so are test-mode keys, documented sample values,
key headers without material, localhost sample credentials, redacted and encrypted values.
The model reads the *shape* of a post (``GH_TOKEN=``, ``sk_test_…``, ``ENC[…]``) and may call
it a leak although nothing in it grants access; when every credential-looking thing in the
post is accounted for as one of these, its own credentials finding stays in the shadow log.
Rule findings are not touched: a rule match is material by construction, and a post whose
rules found a secret (the ``[unused8]`` stand-in) is never vetoed.
"""

from __future__ import annotations

import re

from monitor.pipeline.rules.validators import crc32_base62

# A name that says "secret" followed by an assignment, and the value assigned.
_ASSIGNMENT = re.compile(
    r"""(?ix)(?:key|token|secret|passw(?:or)?d|passwd|pwd|pass|auth|credentials?|dsn|webhook)
        [\w.\-]{0,60}["'\]]?\s*(?::=|=>|[:=])\s*(?P<value>"[^"\n]*"|'[^'\n]*'|<[^<>\n]{1,80}>|[^\s,;]+)""")
# The same, with the whole name: a name that says what the value is about (its header, its
# file, its length) is not the secret's name.
_NAMED = re.compile(
    r"""(?ix)(?<![\w.\-])(?P<name>[\w.\-]{0,60}?(?:key|token|secret|passw(?:or)?d|passwd|pwd|pass|auth
        |credentials?|dsn|webhook|conn(?:ection)?[_-]?str(?:ing)?)[\w.\-]{0,60})["'\]]?\s*(?::=|=>|[:=])\s*(?P<value>"[^"\n]*"|'[^'\n]*'|<[^<>\n]{1,80}>|[^\s,;]+)""")
_NOT_THE_SECRET = re.compile(
    r"(?i)(?:header|param|parameter|name|file|path|length|len|ref|type|policy|required|require_\w+"
    r"|enabled|url|uri|id|min|max|age|expiry|expires|ttl|rotation|format|hint|prompt|field)$")
# Values that stand for a secret without being one: template references, environment
# lookups, markers for "fill in", masks and encrypted blobs.
_PLACEHOLDER = re.compile(
    r"""(?ix)^(?:
        \$\{[^}]*\}|\$\([^)]*\)|\{\{.*\}\}|\{%.*%\}|<[^>]*>|%[\w.]+%|\$[A-Za-z_]\w*|\[[^\]]*\]|
        todo|tbd|fixme|replace[_\-]?me|change[_\-]?me|changeit|your[_\-\w]*|xx+|\*+|\.{3}|…|
        redacted|placeholder|none|null|nil|undefined|empty|secret|password|dummy|fake|
        true|false|yes|no|on|off|basic|bearer|digest|token|
        (?:[\w\-]*[_\-])?(?:here|goes[_\-]here)|example[\w\-]*|sample[\w\-]*|
        env\(.*\)|process\.env\.\w+|os\.environ.*|getenv\(.*\)|vault:.*|ENC\[.*\]|
        (?:var|local|data|module|each|self|settings|config|vars|params|inputs|secrets|env)\.[\w.\[\]"']+|
        ![A-Za-z_]\w*|(?:op|vault|sm|awssm|gcpsm|azkv|ref\+\w+)://\S*
    )$""")
# A long run that looks random (letters and digits mixed) is material wherever it stands.
# Every pattern here is linear on a long run: the "contains a digit" tests are done in code.
_RUN = re.compile(r"[A-Za-z0-9+/=_\-]{20,}")
_DIGIT = re.compile(r"[0-9]")
_LETTER = re.compile(r"[A-Za-z]")
# The classifier's stand-in for a secret the rules found (see prepare.PLACEHOLDERS).
_FOUND_SECRET = "[unused8]"
_SHORTEST_SECRET = 4

# Spans that are no live secret whatever they hold, by what they are.
_BENIGN_SPANS: tuple[re.Pattern[str], ...] = (
    # encrypted: SOPS, Ansible Vault (header and hex body), Vault transit, Sealed Secrets
    re.compile(r"ENC\[[^\]\n]{0,2000}\]"),
    re.compile(r"\$ANSIBLE_VAULT;[^\n]{0,200}(?:\n[ \t]*[0-9a-fA-F]{16,200})*"),
    re.compile(r"!vault\b"),
    re.compile(r"\bvault:v\d+:[A-Za-z0-9+/=]+"),
    # public keys and certificates
    re.compile(r"\b(?:ssh-(?:rsa|ed25519|dss)|ecdsa-sha2-nistp\d+|sk-ssh-ed25519@openssh\.com)"
               r"\s+AAAA[A-Za-z0-9+/=]+"),
    re.compile(r"\bage1[02-9ac-hj-np-z]{58}\b"),
    # nostr public keys, OpenPGP fingerprints, a PuTTY key file's header named without material
    re.compile(r"\bnpub1[02-9ac-hj-np-z]{58}\b"),
    re.compile(r"(?i)\bfingerprint\b[^\n]{0,16}?(?:[0-9a-f]{4}\s?){10}"),
    re.compile(r"\bPuTTY-User-Key-File-\d\b(?!:)"),
    re.compile(r"-----BEGIN (?:[A-Z0-9 ]*PUBLIC KEY(?: BLOCK)?|CERTIFICATE)-----[A-Za-z0-9+/=\s\\n]{0,8000}"
               r"(?:-----END [A-Z0-9 ]+-----)?"),
    # a private key header quoted without material (material after it stays a candidate)
    re.compile(r"-----(?:BEGIN|END) [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"),
    # inline images and files
    re.compile(r"\bdata:[\w/+.-]+;base64,[A-Za-z0-9+/=]+"),
    # test-mode, sandbox and publishable keys (benign by policy), documented sample keys
    re.compile(r"\b(?:[A-Za-z]+_)?test_[A-Za-z0-9_]+|\b[A-Za-z]+_TEST-[A-Za-z0-9-]+"
               r"|\bsandbox_[A-Za-z0-9_-]+|\bEZTK[0-9A-Za-z]+|\bpk_(?:live|test)_[A-Za-z0-9]+"
               r"|\b[a-z]{2,4}_sbox_[A-Za-z0-9]+"),
    # security advice naming a prefix with nothing after it ("bot tokens start with xoxb-")
    re.compile(r"\b(?:xox[abposr]-|gh[pousr]_|github_pat_|glpat-|[rs]k_live_|sk-(?:proj-|ant-)?|SG\."
               r"|npm_|pypi-|AKIA|ASIA|AIza|GOCSPX-)(?![A-Za-z0-9])"),
    # the same in any wording and language: "keys now start with HRKU-", "Präfix sb_secret_"
    re.compile(r"(?i)\b(?:start(?:s|ing)?|begin(?:s|ning)?)\s+with\s+[\"'`]?[A-Za-z0-9]{1,12}[_.~-]"
               r"(?:[A-Za-z0-9]{1,12}[_.~-])?(?![A-Za-z0-9])"),
    re.compile(r"(?i)\b(?:prefix(?:ed)?|pr[äa]fix|pr[ée]fixe|prefijo|prefisso)\s+(?:with\s+)?[\"'`]?"
               r"[A-Za-z0-9]{1,12}[_.~-](?:[A-Za-z0-9]{1,12}[_.~-])?(?![A-Za-z0-9])"),
    re.compile(r"--password-stdin\b"),
    # a JWT header alone (no claims, no signature) authorises nothing
    re.compile(r"\beyJ[A-Za-z0-9_-]{10,}(?![A-Za-z0-9_.-])"),
    # identifiers that are public by design: ARNs, payment objects, ids named as such
    re.compile(r"\barn:aws[\w-]*:[^\s\"']+"),
    # wallet addresses are public (a private key is 64 hex digits, an address 40)
    re.compile(r"(?i)\b(?:address|donations?|donate|tip jar|tips|send)\b[^\n]{0,24}?\b(?:0x[0-9a-f]{40}|[13][1-9A-HJ-NP-Za-km-z]{25,34}"
               r"|bc1[02-9ac-hj-np-z]{11,71})\b"),
    re.compile(r"\b(?:pi|ch|cus|evt|txn|sub|prod|price|seti|pm|in|po)_[A-Za-z0-9]{14,}"),
    re.compile(r"(?i)\b(?:commit|fixed in|landed in|reverted|cherry-picked|sha-?\d*|md5|checksum|digest|etag|hash|integrity|fingerprint"
               r"|correlation[-_ ]id|request[-_ ]id|trace[-_ ]id|span[-_ ]id|subscription id"
               r"|tenant id|build|run|version|signature|sig|event id|ray id|tracking|tweet id"
               r"|address)\b[^\n]{0,24}?"
               r"(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-fA-F]{7,128})\b"),
    re.compile(r"(?i)\b(?:channel|user|team|workspace|member|org|organi[sz]ation|account|project|app"
               r"|client|object|resource)[-_ ]id\b[^\n]{0,12}?\b[A-Za-z0-9_-]{6,40}\b"),
    # file paths: where a secret is kept, not the secret
    re.compile(r"(?:^|(?<=[\s\"'=:]))(?:~|\.{1,2})?/(?:[\w.-]+/)*[\w.-]+"),
)
# Sealed Secrets: the values under encryptedData are ciphertext for the cluster's key.
_SEALED = re.compile(r"(?m)^[ \t]*[\w.-]+:[ \t]*Ag[A-Za-z0-9+/=]{40,}")
# A benign span is read as a placeholder, so "KEY=<removed span>" counts as a placeholder value.
_STAND_IN = " placeholder "
# Whole tokens that are no live secret by a mark they carry: redacted or masked, a sandbox
# credential, an EXAMPLE key, or a value providers and standards publish as a sample (jwt.io's
# token signature, the Azurite storage emulator's key, RFC 7617's user:password, GitHub's
# documentation token).
_TOKEN = re.compile(r"\S+")
_TOKEN_MARK = re.compile(
    r"(?i:\*{3,}|•{2,}|…|\.{3}|<redacted>|\[redacted\]|\bredacted\b|x{6,}|\$sandbox\$)|EXAMPLE"
    r"|SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c|Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50u"
    r"|dXNlcjpwYXNzd29yZA|16C7e42F292c6912E7710c838347Ae178B4a")
# GitHub and npm tokens carry a checksum: one that fails it in a post that calls it fake or a
# fixture is a test value.
_FIXTURE_WORDS = re.compile(r"(?i)\b(?:fake|fixture|dummy|mock|must not (?:alert|match|fire)"
                            r"|not (?:a )?real|test (?:value|data|case|vector)|example)\b")
_CHECKSUMMED = re.compile(r"\b(?:gh[pousr]|npm)_[A-Za-z0-9]{36}\b")
_HEX_OR_UUID = re.compile(r"\b(?:[0-9a-fA-F]{32,}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}"
                          r"-[0-9a-f]{12})\b")
# Sample credentials for a service on one's own machine: a plain word as the password.
_LOCAL = re.compile(r"(?i)\b(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\]|start-dev|dev mode"
                    r"|quickstart|docker run|docker-compose|server -dev)\b")
_PLAIN_WORD = re.compile(r"^[a-z]{1,16}$")
# "our logs mask keys: Slack …" is prose about keys, not an assignment.
_PLURAL = re.compile(r"(?i)(?:keys|tokens|secrets|passwords|credentials)$")
_PROSE_WORD = re.compile(r"^[A-Za-z]{2,20}$")
_CLI_PASSWORD = re.compile(r"(?:^|\s)-p(?P<value>[^\s\"'`-]\S*)")
# What a secret can look like in a post, beside a random run: characters spaced or dotted out
# ("n 8 k % 1 n", "s.k._.l.i.v.e"), a quoted value, a code of digits, a typed password.
_SPACED_OUT = re.compile(r"(?:(?<!\S)\S[ .\-_·]){5,}\S(?!\S)|(?:\b\w[.\-]){5,}\w")
_QUOTED = re.compile(r"""'[^'\s]{6,64}'|"[^"\s]{6,64}"|`[^`\s]{6,64}`""")
_DIGIT_CODE = re.compile(r"(?<![\d.,/:])\d{4,12}(?![\d.,/:])")
_YEAR = re.compile(r"(?:19|20)\d\d")
_STAND_INS = re.compile(r"\[unused\d+\]")
_LETTERS = re.compile(r"[^\W\d_]+")


def only_placeholders(text: str) -> bool:
    """True when the post holds no live secret: its credential-named values are placeholders,
    or everything credential-looking in it is redacted, encrypted, test-mode, a documented
    sample, a public key, a public identifier, a fixture failing its format's checksum or a
    localhost sample, and nothing else in it looks like key material."""
    if _FOUND_SECRET in text:
        return False
    return _placeholders_only(text) or _no_live_secret(text)


def holds_secret_shape(text: str) -> bool:
    """Whether anything in the post could be the secret itself.

    "the password is in the team vault", "rotate it quarterly": a post can be all about
    passwords and hold none. The model reads the topic; a credentials finding of its own needs
    a value that could grant access, so a post without one keeps it in the shadow log.
    """
    if _FOUND_SECRET in text:
        return True
    text = _STAND_INS.sub(" ", text)
    if _random_run(text) or _SPACED_OUT.search(text) or _QUOTED.search(text):
        return True
    if any(not _YEAR.fullmatch(m.group(0)) for m in _DIGIT_CODE.finditer(text)):
        return True
    for tok in text.split():
        tok = tok.strip("\"'`,;:().!?")
        if not 6 <= len(tok) <= 80 or tok.startswith(("http", "@", "#")) or _LETTERS.fullmatch(tok):
            continue
        lower, upper = any(c.islower() for c in tok), any(c.isupper() for c in tok)
        digit, other = any(c.isdigit() for c in tok), any(not c.isalnum() for c in tok)
        if lower + upper + digit + other >= 3 or (digit and (lower or upper)):
            return True
    return False


def _random_run(text: str) -> bool:
    return any(_DIGIT.search(m.group(0)) and _LETTER.search(m.group(0)) for m in _RUN.finditer(text))


def _password_like(text: str) -> bool:
    """A typed password left in the text: upper and lower case and digits, eight or more."""
    for tok in text.split():
        tok = tok.strip("\"'`,;().")
        if any(c in tok for c in "{}[]<>") or '":' in tok:
            continue  # a JSON or markup fragment, not a typed password
        if (8 <= len(tok) <= 64 and any(c.islower() for c in tok) and any(c.isupper() for c in tok)
                and any(c.isdigit() for c in tok)):
            return True
    return False


def _unmarked(match: re.Match[str]) -> str:
    return _STAND_IN if _TOKEN_MARK.search(match.group(0)) else match.group(0)


def _placeholders_only(text: str) -> bool:
    if _random_run(text):
        return False
    values = [m.group("value").strip("\"'") for m in _ASSIGNMENT.finditer(text)]
    if not values:
        return False
    return all(len(v) < _SHORTEST_SECRET or _PLACEHOLDER.match(v) for v in values)


def _no_live_secret(text: str) -> bool:
    benign = False
    rest = text
    spans = _BENIGN_SPANS + ((_SEALED,) if "encryptedData" in text or "SealedSecret" in text else ())
    for rx in spans:
        rest, n = rx.subn(_STAND_IN, rest)
        benign = benign or n > 0
    marked = _TOKEN.sub(_unmarked, rest)
    benign = benign or marked != rest
    rest = marked
    for m in _CHECKSUMMED.finditer(rest):
        if crc32_base62(m.group(0)) or not _FIXTURE_WORDS.search(text):
            # a real GitHub or npm token, or one posted as if it were: a mistyped or made-up
            # token is still handed out as a credential unless the post says it is a fixture
            return False
    rest, n = _CHECKSUMMED.subn(_STAND_IN, rest)
    benign = benign or n > 0
    if _random_run(rest) or _HEX_OR_UUID.search(rest) or _password_like(rest):
        return False
    local = bool(_LOCAL.search(text))
    for m in _NAMED.finditer(rest):
        name, value = m.group("name"), m.group("value").strip("\"'")
        if (len(value) < _SHORTEST_SECRET or _PLACEHOLDER.match(value)
                or _NOT_THE_SECRET.search(name.rstrip("_-."))
                or value.startswith(("/", "./", "~/"))
                or (local and _PLAIN_WORD.match(value))
                or (_PLURAL.search(name) and _PROSE_WORD.match(value))):
            benign = True
            continue
        return False
    if local:
        for m in _CLI_PASSWORD.finditer(rest):
            if not _PLAIN_WORD.match(m.group("value")):
                return False
        benign = True
    return benign
