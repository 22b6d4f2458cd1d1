"""Masking of secrets found in posts: a credential's text never leaves the detector in clear.

Two forms, because they serve two readers: a short display form (``AKIA…B3TD``) for messages
and pages, and a same-length form for stored text, so that every finding's spans still index
the stored text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monitor.config import Settings
    from monitor.domain import Finding

MASK_CHAR = "•"
# Fingerprints need a key; deployments set their own (``[store] secret_key_env``).
DEFAULT_FINGERPRINT_KEY = b"socialguide-secret-fingerprint"


def _keep(length: int) -> int:
    """Characters shown at each end: none of a short secret (a password), a few of a long key."""
    if length < 12:
        return 0
    return 4 if length >= 20 else 2


def mask_value(value: str) -> str:
    """Show only the ends of a secret: enough to recognise and rotate it, not to use it."""
    keep = _keep(len(value))
    if not keep:
        return MASK_CHAR * min(len(value), 8)
    return f"{value[:keep]}…{value[-keep:]}"


def mask_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """Replace the inside of each span by mask characters, keeping the text's length."""
    chars = list(text)
    for start, end in spans:
        start, end = max(0, start), min(len(chars), end)
        keep = _keep(end - start)
        for i in range(start + keep, end - keep):
            if not chars[i].isspace():
                chars[i] = MASK_CHAR
    return "".join(chars)


def secret_fingerprint(value: str, key: bytes) -> str:
    """A keyed hash of a secret: the same secret gives the same id, without storing it."""
    return hmac.new(key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class SecretKeeping:
    """How credential spans are kept at rest, and the key that seals and fingerprints them.

    ``mask`` (config ``[store] mask_credentials``, default true) keeps post text, excerpts and
    evidence masked in the database. With a key (the variable ``[store] secret_key_env``
    names), each credential is also *sealed* (encrypted) so that compliance can reveal it,
    with a reason, audited; without a key nothing is sealed and there is nothing to reveal.
    """

    mask: bool = True
    key: bytes | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretKeeping:
        """Read the switch and the key (from the environment, never from the config file)."""
        raw = os.environ.get(settings.store.secret_key_env or "", "")
        return cls(mask=settings.store.mask_credentials, key=raw.encode("utf-8") if raw else None)

    def _derive(self, purpose: bytes) -> bytes:
        assert self.key is not None
        return hmac.new(self.key, purpose, hashlib.sha256).digest()

    @property
    def fingerprint_key(self) -> bytes:
        """The key of :func:`secret_fingerprint` (a built-in one when none is configured)."""
        return self._derive(b"fingerprint") if self.key else DEFAULT_FINGERPRINT_KEY

    def seal(self, values: list[str]) -> str | None:
        """The values encrypted for a later reveal, or None when no key is configured."""
        if not self.key or not values:
            return None
        from cryptography.fernet import Fernet

        box = Fernet(base64.urlsafe_b64encode(self._derive(b"seal")))
        return box.encrypt(json.dumps(values).encode("utf-8")).decode("ascii")

    def unseal(self, token: str | None) -> list[str] | None:
        """The sealed values, or None when there is no key, no seal or the key has changed."""
        if not self.key or not token:
            return None
        from cryptography.fernet import Fernet, InvalidToken

        box = Fernet(base64.urlsafe_b64encode(self._derive(b"seal")))
        try:
            data = json.loads(box.decrypt(token.encode("ascii")))
        except (InvalidToken, ValueError):
            return None
        return [str(v) for v in data] if isinstance(data, list) else None


def credential_spans(findings: Iterable[Finding]) -> list[tuple[int, int]]:
    """Spans of every credentials finding (actionable or shadow): what is masked."""
    return [(int(a), int(b)) for f in findings if f.category == "credentials"
            for a, b in f.spans]
