"""Masking of secrets found in posts: a credential's text never leaves the detector in clear.

Two forms, because they serve two readers: a short display form (``AKIA…B3TD``) for messages
and pages, and a same-length form for stored text, so that every finding's spans still index
the stored text.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

MASK_CHAR = "•"


def mask_value(value: str) -> str:
    """Show only the ends of a secret: enough to recognise and rotate it, not to use it."""
    if len(value) <= 8:
        return MASK_CHAR * len(value)
    keep = 4 if len(value) >= 16 else 2
    return f"{value[:keep]}…{value[-keep:]}"


def mask_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """Replace the inside of each span by mask characters, keeping the text's length."""
    chars = list(text)
    for start, end in spans:
        start, end = max(0, start), min(len(chars), end)
        if end - start <= 8:
            keep = 0
        else:
            keep = 4 if end - start >= 16 else 2
        for i in range(start + keep, end - keep):
            if not chars[i].isspace():
                chars[i] = MASK_CHAR
    return "".join(chars)


def secret_fingerprint(value: str, key: bytes) -> str:
    """A keyed hash of a secret: the same secret gives the same id, without storing it."""
    return hmac.new(key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:32]
