"""What the policy model reads of a post, and how its offsets map back to the original text.

One trained model serves every organisation, so an organisation's own words never reach it:
configured company names, codenames, NDA customers, competitors, customers, disclaimers and
published contacts become typed placeholders ("a codename here", "an NDA customer here"), and
the model learns what the *context* around them means. Secrets and personal data that rules
found become placeholders too (a random key string says nothing; "test-mode [SECRET]" does), and
the categories other rules fired for are prepended as evidence tokens: the model sees rule
matches, it does not have to accept them.

Every replacement keeps a map from prepared characters to original ones, so spans the model
points at index the post as it was written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

# Placeholders are word-piece vocabulary entries the encoder never saw in pre-training, made
# atomic in the tokenizer; training starts each from the embedding of the word beside it.
PLACEHOLDERS: dict[str, tuple[str, str]] = {
    "company": ("[unused1]", "company"),
    "codename": ("[unused2]", "project"),
    "nda_customer": ("[unused3]", "client"),
    "competitor": ("[unused4]", "competitor"),
    "customer": ("[unused5]", "customer"),
    "disclaimer": ("[unused6]", "disclaimer"),
    "contact": ("[unused7]", "contact"),
    "secret": ("[unused8]", "password"),
    "personal": ("[unused9]", "number"),
}
# Rule evidence: one token per category whose rules fired on the post (other than the two whose
# matches are replaced by placeholders above).
EVIDENCE: dict[str, tuple[str, str]] = {
    "offensive": ("[unused20]", "insult"),
    "hate": ("[unused21]", "hatred"),
    "confidential": ("[unused22]", "confidential"),
    "financial": ("[unused23]", "earnings"),
    "disparagement": ("[unused24]", "fraud"),
    "company_voice": ("[unused25]", "official"),
    "pii": ("[unused26]", "address"),
    "credentials": ("[unused27]", "key"),
}
SPAN_PLACEHOLDER = {"credentials": "secret", "pii": "personal"}

# Characters of a post the model reads at most (a 1 MB post is answered; what lies beyond
# this many characters is read by the rules only).
MAX_CHARS = 40_000

_MENTIONS = re.compile(r"(?:@[\w.@-]+\s*){2,}")
_HASHTAG = re.compile(r"#(\w+)")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])")


@dataclass(frozen=True)
class Terms:
    """An organisation's configured words, by the placeholder that stands for them."""

    by_kind: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_lists(cls, **lists: Iterable[str]) -> Terms:
        return cls({k: tuple(t.strip() for t in v if t and t.strip()) for k, v in lists.items()})

    @classmethod
    def from_policy(cls, policy: object) -> Terms:
        """From ``[policy]`` settings (duck-typed so the pipeline needs no config import)."""
        conf = getattr(policy, "confidential", None)
        disp = getattr(policy, "disparagement", None)
        nda = list(getattr(conf, "customers_under_nda", []) or [])
        return cls.from_lists(
            company=getattr(policy, "company_names", []) or [],
            codename=getattr(conf, "terms", []) or [],
            nda_customer=nda,
            competitor=getattr(disp, "competitors", []) or [],
            customer=[c for c in getattr(disp, "customers", []) or [] if c not in nda],
            disclaimer=getattr(policy, "disclaimers", []) or [],
            contact=getattr(policy, "published_contacts", []) or [],
        )

    def pattern(self) -> tuple[re.Pattern[str] | None, dict[str, str]]:
        """One case-insensitive pattern over every term, and the kind of each (case-folded)."""
        return _terms_pattern(tuple(sorted((k, v) for k, v in self.by_kind.items())))


@lru_cache(maxsize=64)
def _terms_pattern(items: tuple[tuple[str, tuple[str, ...]], ...]
                   ) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    # Longest first, so "Northwind Labs" wins over "Northwind"; a literal alternation runs in
    # linear time in Python's engine too.
    pairs = sorted(((t, k) for k, terms in items for t in terms if len(t) >= 2),
                   key=lambda p: -len(p[0]))
    if not pairs:
        return None, {}
    kind_of: dict[str, str] = {}
    groups: list[str] = []
    for term, kind in pairs:
        key = term.casefold()
        if key not in kind_of:
            kind_of[key] = kind
            groups.append(re.escape(term))
    pattern = re.compile(r"(?<![\w@])(?:" + "|".join(groups) + r")(?![\w])", re.IGNORECASE)
    return pattern, kind_of


@dataclass
class Prepared:
    """The text the model reads, and for each of its characters the original span it came from."""

    text: str
    starts: list[int]
    ends: list[int]
    evidence: tuple[str, ...] = ()

    def original(self, start: int, end: int) -> tuple[int, int]:
        """The original span of prepared characters ``[start, end)``."""
        if not self.starts:
            return (0, 0)
        start = min(max(start, 0), len(self.starts) - 1)
        end = min(max(end, start + 1), len(self.ends))
        return (self.starts[start], self.ends[end - 1])


@lru_cache(maxsize=4096)
def _symbol(ch: str) -> str:
    """An emoji or pictograph as its Unicode name (the vocabulary has no emojis); joiners,
    variation selectors and skin tones vanish."""
    cat = unicodedata.category(ch)
    if cat in ("Mn", "Cf", "Sk") or "\ufe00" <= ch <= "\ufe0f":
        return ""
    if "\U0001f1e6" <= ch <= "\U0001f1ff":
        return " flag "
    if cat == "So" and ord(ch) >= 0x2100:
        return f" {unicodedata.name(ch, '').lower()} "
    return ch


def _replacements(text: str, terms: Terms, spans: Sequence[tuple[int, int, str]]
                  ) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, replacement) edits, sorted; rule spans win over terms."""
    edits: list[tuple[int, int, str]] = []
    for start, end, kind in spans:
        if 0 <= start < end <= len(text):
            edits.append((start, end, f" {PLACEHOLDERS[kind][0]} "))
    pattern, kind_of = terms.pattern()
    if pattern is not None:
        for m in pattern.finditer(text):
            kind = kind_of.get(m.group(0).casefold(), "company")
            edits.append((m.start(), m.end(), f" {PLACEHOLDERS[kind][0]} "))
    for m in _MENTIONS.finditer(text):
        edits.append((m.start(), m.end(), " @user "))
    for m in _HASHTAG.finditer(text):
        edits.append((m.start(), m.end(), " " + _CAMEL.sub(" ", m.group(1)) + " "))
    edits.sort(key=lambda e: (e[0], -(e[1] - e[0])))
    kept: list[tuple[int, int, str]] = []
    last = 0
    for e in edits:
        if e[0] >= last:
            kept.append(e)
            last = e[1]
    return kept


def prepare(text: str, terms: Terms | None = None,
            rule_spans: Sequence[tuple[int, int, str]] = (),
            evidence: Iterable[str] = ()) -> Prepared:
    """The prepared text with its offset map.

    ``rule_spans`` are ``(start, end, category)`` of rule matches in ``credentials`` or ``pii``
    (they become placeholders); ``evidence`` names the other categories rules fired for.
    """
    text = text[:MAX_CHARS]
    edits = _replacements(text, terms or Terms(),
                          [(s, e, SPAN_PLACEHOLDER[c]) for s, e, c in rule_spans
                           if c in SPAN_PLACEHOLDER])
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []

    def emit(piece: str, a: int, b: int) -> None:
        out.append(piece)
        starts.extend([a] * len(piece))
        ends.extend([b] * len(piece))

    pos = 0
    last_symbol = ""
    for a, b, rep in [*edits, (len(text), len(text), "")]:
        for i in range(pos, a):
            ch = text[i]
            if ord(ch) < 0x2000:
                out.append(ch)
                starts.append(i)
                ends.append(i + 1)
                last_symbol = ""
                continue
            word = _symbol(ch)
            if word != ch and word and word == last_symbol:
                continue  # "😂😂😂" reads once
            emit(word, i, i + 1)
            if word:
                last_symbol = word
        if rep:
            emit(rep, a, b)
            last_symbol = ""
        pos = b
    cats = tuple(c for c in EVIDENCE if c in set(evidence))
    return Prepared("".join(out), starts, ends, cats)


def special_tokens() -> list[str]:
    """Every placeholder and evidence token (registered as atomic with the tokenizer)."""
    return [t for t, _ in PLACEHOLDERS.values()] + [t for t, _ in EVIDENCE.values()]
