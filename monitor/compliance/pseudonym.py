"""Stable pseudonyms for people, so reviewers see patterns without seeing names."""

from __future__ import annotations

import hashlib
import hmac


def pseudonym(person_id: int | None, key: bytes = b"socialguide-pseudonym") -> str:
    """``person-3f2a9c``: the same person always gets the same label under the same key."""
    if person_id is None:
        return "unknown"
    digest = hmac.new(key, f"person:{person_id}".encode(), hashlib.sha256).hexdigest()
    return f"person-{digest[:6]}"
