"""Suggested rewordings for a checked draft: small templates, one per kind of fix.

Only fixes a template can make honestly are offered: cutting a key out, leaving someone's
details out, dropping an NDA customer's name or a codename, adding the configured
disclaimer. Offensive, hateful, financial or disparaging wording needs the author's own
words; those findings get guidance only.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.config import Settings
from monitor.domain import Finding

CONTEXT_CHARS = 60


@dataclass(frozen=True, slots=True)
class Suggestion:
    """What to change (``title``) and the passage as it would read (``text``)."""

    title: str
    text: str

    def to_json(self) -> dict[str, str]:
        return {"title": self.title, "text": self.text}


def window(text: str, start: int, end: int, pad: int = CONTEXT_CHARS) -> tuple[str, str]:
    """Up to ``pad`` characters before ``start`` and after ``end``, cut at a space, with "…"."""
    a = max(0, start - pad)
    if a > 0:
        space = text.find(" ", a, start)
        a = space + 1 if space != -1 else a
    b = min(len(text), end + pad)
    if b < len(text):
        space = text.rfind(" ", end, b)
        b = space if space != -1 else b
    before = ("…" if a > 0 else "") + text[a:start]
    after = text[end:b] + ("…" if b < len(text) else "")
    return before, after


def _replace(shown: str, spans: list[tuple[int, int]], words: str) -> tuple[str, int, int]:
    """``shown`` with every span replaced by ``words``; where the first replacement sits."""
    out, pos, first = [], 0, (0, 0)
    length = 0
    for i, (a, b) in enumerate(sorted(spans)):
        if a < pos:  # overlapping spans: the earlier replacement already covers this one
            continue
        out.append(shown[pos:a])
        length += a - pos
        if i == 0:
            first = (length, length + len(words))
        out.append(words)
        length += len(words)
        pos = b
    out.append(shown[pos:])
    return "".join(out), first[0], first[1]


def _passage(shown: str, spans: list[tuple[int, int]], words: str) -> str:
    new, a, b = _replace(shown, spans, words)
    before, after = window(new, a, b)
    return (before + new[a:b] + after).strip()


def _named(text: str, spans: list[tuple[int, int]], names: list[str]) -> list[tuple[int, int]]:
    """Where any of ``names`` occurs (case-insensitive) inside the finding's spans."""
    low = text.lower()
    found: list[tuple[int, int]] = []
    for a, b in spans:
        for name in names:
            n = name.lower().strip()
            if not n:
                continue
            i = low.find(n, a, b)
            while i != -1:
                found.append((i, i + len(n)))
                i = low.find(n, i + len(n), b)
    return sorted(set(found))


def suggest(text: str, shown: str, finding: Finding, settings: Settings) -> Suggestion | None:
    """A rewording for one finding, or None when no template fits.

    ``text`` is the draft as typed (to match names); ``shown`` is the same text with every
    credential masked (same length), which is what any passage is cut from.
    """
    spans = [(int(a), int(b)) for a, b in finding.spans if int(a) < int(b) <= len(text)]
    if not spans:
        return None
    policy = settings.policy
    cat = finding.category
    if cat == "credentials":
        return Suggestion("Take the key out (and rotate it if it was ever posted)",
                          _passage(shown, spans, "[key removed]"))
    if cat == "pii":
        return Suggestion("Leave their personal details out",
                          _passage(shown, spans, "[details shared privately]"))
    if cat in ("confidential", "disparagement"):
        nda = _named(text, spans, policy.confidential.customers_under_nda)
        if nda:
            return Suggestion("Drop the customer's name", _passage(shown, nda, "a customer"))
        if cat == "confidential":
            terms = _named(text, spans, policy.confidential.terms)
            if terms:
                return Suggestion("Leave the internal name out",
                                  _passage(shown, terms, "a project I'm working on"))
        return None
    if cat == "company_voice" and policy.disclaimers:
        end = len(shown.rstrip())
        before, _ = window(shown, end, end, pad=CONTEXT_CHARS * 2)
        return Suggestion("Add a disclaimer", f"{before.strip()} ({policy.disclaimers[0]})")
    return None
