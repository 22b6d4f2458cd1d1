"""A small built-in detector for secrets and others' contact data.

It keeps ``scan`` useful when no rule pack is configured; the rules engine (``rules/``)
is the full, policy-owner-editable version of the same idea.
"""

from __future__ import annotations

from collections.abc import Sequence

import phonenumbers
import re2

from monitor.domain import Finding, Post

_CREDENTIAL_PATTERNS: tuple[tuple[str, str], ...] = (
    ("aws-access-key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    ("github-token", r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b"),
    ("slack-token", r"\bxox[baprs]-[A-Za-z0-9-]{10,200}"),
    ("private-key", r"-----BEGIN (?:RSA |EC |OPENSSH |DSA |PGP |ENCRYPTED )?PRIVATE KEY-----"),
)
_EMAIL = r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}"
_CRED_GUIDANCE = (
    "This looks like a secret that grants access to a system. Please delete the post and "
    "rotate the key straight away; security can help."
)
_PII_GUIDANCE = (
    "This seems to share someone's contact details. Unless they asked you to, please "
    "consider removing it to protect their privacy."
)


class BuiltinDetector:
    """Regex (RE2, linear time) and phonenumbers-based detection of credentials and PII."""

    name = "builtin"

    def __init__(self) -> None:
        self._creds = [(name, re2.compile(p)) for name, p in _CREDENTIAL_PATTERNS]
        self._email = re2.compile(_EMAIL)

    def detect(self, posts: Sequence[Post]) -> list[list[Finding]]:
        return [self._one(p.text) for p in posts]

    def _one(self, text: str) -> list[Finding]:
        out: list[Finding] = []
        for name, rx in self._creds:
            for m in rx.finditer(text):
                out.append(
                    Finding("credentials", f"rule:builtin.{name}", "critical", 0.99,
                            [(m.start(), m.end())], _CRED_GUIDANCE)
                )
        for m in self._email.finditer(text):
            out.append(
                Finding("pii", "rule:builtin.email", "medium", 0.9,
                        [(m.start(), m.end())], _PII_GUIDANCE)
            )
        if sum(c.isdigit() for c in text) >= 7:
            for match in phonenumbers.PhoneNumberMatcher(text[:100_000], "US"):
                out.append(
                    Finding("pii", "rule:builtin.phone", "medium", 0.85,
                            [(match.start, match.end)], _PII_GUIDANCE)
                )
        return out
