"""The nudge gate: which model-only findings may reach a person at all.

OLID, the offensive training data, labels any profanity and self-deprecation as offensive
("I'm so stupid, I left my keys at home"). A nudge about insulting someone only makes sense
when the post addresses someone, so a model-only ``offensive`` finding on a post with no
second-person word and no @mention stays in the shadow log whatever its score.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

# Categories whose model-only findings need an addressee before they may nudge.
ADDRESSED_ONLY = frozenset({"offensive"})

_ADDRESSEE = re.compile(
    r"(?i)(?<![\w'])(?:you|your|yours|yourself|yourselves|you're|youre|you'll|you've|you'd|"
    r"ya|u|ur|yall|y'all|thou|thee)(?![\w'])|(?<![\w.])@\w"
)


def addressed(text: str) -> bool:
    """True when the post speaks to someone: a second-person word or an @mention."""
    return _ADDRESSEE.search(text[:5_000]) is not None


def may_nudge(category: str, text: str) -> bool:
    """Whether a model-only finding of ``category`` on ``text`` may ever be actionable."""
    return category not in ADDRESSED_ONLY or addressed(text)


def gate_mask(category: str, texts: Sequence[str]) -> np.ndarray:
    """:func:`may_nudge` for many texts."""
    return np.fromiter((may_nudge(category, t) for t in texts), dtype=bool, count=len(texts))
