"""Evasion-proof views of a post's text, with a map from every view offset back to the original.

Two views are built. The *clean* view undoes tricks that change how text is encoded but not how
it reads: compatibility forms (NFKC/NFKD), accents, homoglyphs from other scripts, zero-width and
bidi controls. Secrets and contact data are matched there. The *folded* view additionally undoes
tricks people use to dodge word lists: leetspeak (``1d10t``) and letters spaced apart
(``s t u p i d``). Phrases and token patterns are matched there.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Look-alike letters from Cyrillic, Greek and elsewhere that NFKC leaves alone.
_CONFUSABLES: dict[str, str] = {
    # Cyrillic lower case
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d",
    "һ": "h", "ӏ": "l", "ԛ": "q", "ԝ": "w", "ɡ": "g", "ᴠ": "v",
    # Cyrillic upper case
    "А": "A", "В": "B", "Е": "E", "Ё": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
    "С": "C", "Т": "T", "Х": "X", "У": "Y", "І": "I", "Ї": "I", "Ј": "J", "Ѕ": "S", "Ԁ": "D",
    "Һ": "H", "Ӏ": "I", "Ԛ": "Q", "Ԝ": "W",
    # Greek
    "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K",
    "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    # Latin look-alikes outside ASCII
    "ı": "i", "ȷ": "j", "ℓ": "l", "ƅ": "b", "ɑ": "a", "ǀ": "l",
}

# Leetspeak, applied only inside words that mix letters with these characters.
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t",
                       "@": "a", "$": "s"})
# Words that mix letters with leet characters, found without backtracking inside a word.
_LEET_WORD = re.compile(r"\b[A-Za-z]+[0-9@$][A-Za-z0-9@$]*|\b[0-9]+[A-Za-z][A-Za-z0-9@$]*")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# Four or more single letters separated by one space, dot, dash, underscore or star.
# (The same separator throughout, so "a m.o.r.o.n" joins "moron", not "amoron".)
_SPACED = re.compile(r"\b[A-Za-z]([ ._*-])[A-Za-z](?:\1[A-Za-z]){2,}\b")
_SEPARATORS = frozenset(" ._*-")


@dataclass(slots=True)
class View:
    """A normalised text and, unless it is the original unchanged, where each offset came from."""

    text: str
    # origin[i] is the original offset of view character i; None means identical offsets.
    origin: list[int] | None

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a view span back onto the original text."""
        if self.origin is None:
            return start, end
        if end <= start:
            at = self.origin[start] if start < len(self.origin) else self.origin[-1] + 1
            return at, at
        return self.origin[start], self.origin[end - 1] + 1


def _drop(ch: str) -> bool:
    """Zero-width, bidi and other invisible format characters, and combining marks."""
    cat = unicodedata.category(ch)
    return cat in ("Cf", "Mn", "Me", "Cc") and ch not in "\n\t\r"


@lru_cache(maxsize=65536)
def _replacement(ch: str) -> str:
    """What one non-ASCII character becomes in the clean view ("" when it is dropped)."""
    o = ord(ch)
    if 0xD800 <= o <= 0xDFFF:  # a lone surrogate cannot be encoded; keep its place
        return "\ufffd"
    mapped = _CONFUSABLES.get(ch)
    if mapped is not None:
        return mapped
    out = []
    for part in unicodedata.normalize("NFKD", ch):
        if _drop(part):
            continue
        out.append(_CONFUSABLES.get(part, part))
    return "".join(out)


def clean_view(text: str) -> View:
    """NFKC/NFKD compatibility forms, accents, homoglyphs and invisible characters undone."""
    if text.isascii():
        return View(text, None)
    changes = []
    for m in _NON_ASCII.finditer(text):
        ch = m.group(0)
        rep = _replacement(ch)
        if rep != ch:
            changes.append((m.start(), rep))
    if not changes:  # emoji, CJK and other text that needs no change keeps its offsets
        return View(text, None)
    out: list[str] = []
    origin: list[int] = []
    pos = 0
    for i, rep in changes:
        out.append(text[pos:i])
        origin.extend(range(pos, i))
        out.append(rep)
        origin.extend([i] * len(rep))
        pos = i + 1
    out.append(text[pos:])
    origin.extend(range(pos, len(text)))
    return View("".join(out), origin)


def _unleet(text: str) -> str:
    """Replace leet characters inside words that mix them with letters (length-preserving)."""
    parts: list[str] = []
    pos = 0
    for m in _LEET_WORD.finditer(text):
        word = m.group(0)
        # Mentions, cashtags and plain numbers are not leetspeak.
        if word[0] in "@$":
            continue
        fixed = word.translate(_LEET)
        if fixed != word:
            parts.append(text[pos : m.start()])
            parts.append(fixed)
            pos = m.end()
    if not parts:
        return text
    parts.append(text[pos:])
    return "".join(parts)


# The same triggers as RE2 patterns, so the engine can test them inside its pre-filter set.
LEET_TRIGGER = r"[A-Za-z][0-9@$]|[0-9][A-Za-z]"
SPACED_TRIGGER = r"\b[A-Za-z](?:[ ._*-][A-Za-z]){3}\b"


def fold_view(clean: View, leet: bool = True, spaced: bool = True) -> View:
    """The clean view with leetspeak undone and spaced-apart letters joined.

    ``leet`` and ``spaced`` may be False when a caller already knows there is nothing to undo.
    """
    text = _unleet(clean.text) if leet else clean.text
    if not spaced or not _SPACED.search(text):
        return View(text, clean.origin)
    out: list[str] = []
    origin: list[int] = []
    pos = 0
    for m in _SPACED.finditer(text):
        out.append(text[pos : m.start()])
        origin.extend(range(pos, m.start()))
        for j in range(m.start(), m.end()):
            if text[j] not in _SEPARATORS:
                out.append(text[j])
                origin.append(j)
        pos = m.end()
    out.append(text[pos:])
    origin.extend(range(pos, len(text)))
    if clean.origin is not None:
        origin = [clean.origin[j] for j in origin]
    return View("".join(out), origin)


def views(text: str) -> tuple[View, View]:
    """Both views of ``text``: (clean, folded)."""
    clean = clean_view(text)
    return clean, fold_view(clean)


# A token that may have been broken by spaces or a line break: a long run of token characters
# cut by a newline, or a run that mixes letters and digits next to another run across a space.
# Tested inside the engine's pre-filter set, so most posts never build the joined view.
_T = "[A-Za-z0-9_+/=-]"
# A token read out one character at a time ("g h r _ l W i …"): this many single characters,
# each one space apart, are joined; prose almost never has so many one-letter words in a row.
_SPELLED = 16
_MIXED = f"{_T}*(?:[A-Za-z][0-9]|[0-9][A-Za-z]){_T}*"
_NOT_PLAIN = f"{_T}*[A-Z0-9_+/=-]{_T}*"
SPLIT_TRIGGER = (f"{_T}{{8,}}[ \\t]*\\r?\\n[ \\t]*{_T}{{4,}}"
                 f"|{_MIXED} {{1,2}}{_NOT_PLAIN}|{_NOT_PLAIN} {{1,2}}{_MIXED}"
                 f"|(?:{_T} ){{{_SPELLED - 1}}}{_T}")
_RUN = re.compile(r"\S+")
_FRAGMENT = re.compile(r"[A-Za-z0-9_+/=-]+")
_DIGIT = re.compile(r"[0-9]")
_TRAILING = ".,;:!?)\"'"


def _plain_word(run: str) -> bool:
    return run.isalpha() and (run.islower() or run.istitle())


def _upper_chunks(left: str, right: str) -> bool:
    """Key ids read out in groups of capitals ("AKIA 6GCE GKIZ KRBH")."""
    return all(4 <= len(x) <= 8 and x.isalnum() and x.isupper() for x in (left, right))


def _joins(left: str, right: str, gap: str) -> bool:
    """Whether two runs either side of a gap look like the halves of one token."""
    right = right.rstrip(_TRAILING)
    if "\n" in gap:
        if len(left) < 8 or len(right) < 4:
            return False
    elif len(gap) > 2 or len(left) < 4 or len(right) < 3 or not (
            _DIGIT.search(left) or _DIGIT.search(right) or _upper_chunks(left, right)):
        return False
    if not (_FRAGMENT.fullmatch(left) and _FRAGMENT.fullmatch(right)):
        return False
    return not (_plain_word(right) or ("\n" not in gap and _plain_word(left)))


def _spelled_gaps(text: str, runs: list[tuple[int, int]]) -> set[int]:
    """Indexes of the gaps (gap i follows run i) inside a streak of at least ``_SPELLED``
    single token characters one space apart."""
    out: set[int] = set()
    streak: list[int] = []
    for i, (r0, r1) in enumerate(runs):
        single = r1 - r0 == 1 and _FRAGMENT.fullmatch(text[r0:r1]) is not None
        if single and streak and text[runs[i - 1][1]:r0] == " ":
            streak.append(i)
            continue
        if len(streak) >= _SPELLED:
            out.update(streak[:-1])
        streak = [i] if single else []
    if len(streak) >= _SPELLED:
        out.update(streak[:-1])
    return out


def joined_view(clean: View) -> tuple[View, list[int]]:
    """The clean view with the gaps inside broken-up tokens removed, and where the gaps were.

    ``AKIAUJZD E8GXD6NC F10E`` and a key wrapped over two lines become one token; ordinary words
    stay apart. The second value lists joined-view offsets where a gap was removed, so the
    engine reports only matches that needed the join (the clean view saw the others). Linear.
    """
    text = clean.text
    runs = [(m.start(), m.end()) for m in _RUN.finditer(text)]
    drop: list[tuple[int, int]] = []
    spelled = _spelled_gaps(text, runs)
    for i, ((a0, a1), (b0, b1)) in enumerate(zip(runs, runs[1:], strict=False)):
        if i in spelled or _joins(text[a0:a1], text[b0:b1], text[a1:b0]):
            drop.append((a1, b0))
    if not drop:
        return clean, []
    out: list[str] = []
    origin: list[int] = []
    gaps: list[int] = []
    pos = 0
    size = 0
    for g0, g1 in drop:
        out.append(text[pos:g0])
        origin.extend(range(pos, g0))
        size += g0 - pos
        gaps.append(size)
        pos = g1
    out.append(text[pos:])
    origin.extend(range(pos, len(text)))
    if clean.origin is not None:
        origin = [clean.origin[j] for j in origin]
    return View("".join(out), origin), gaps
