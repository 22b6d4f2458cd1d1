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
_LEET_HINT = re.compile(r"[A-Za-z][0-9@$]|[0-9@$][A-Za-z]")
_LEET_WORD = re.compile(r"[A-Za-z0-9@$]+")
_HAS_ALPHA = re.compile(r"[A-Za-z]")
# Four or more single letters separated by one space, dot, dash, underscore or star.
_SPACED = re.compile(r"\b[A-Za-z](?:[ ._*-][A-Za-z]){3,}\b")
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


def clean_view(text: str) -> View:
    """NFKC/NFKD compatibility forms, accents, homoglyphs and invisible characters undone."""
    if text.isascii():
        return View(text, None)
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        o = ord(ch)
        if 0xD800 <= o <= 0xDFFF:  # a lone surrogate cannot be encoded; keep its place
            out.append("\ufffd")
            origin.append(i)
            continue
        if o < 128:
            out.append(ch)
            origin.append(i)
            continue
        mapped = _CONFUSABLES.get(ch)
        if mapped is not None:
            out.append(mapped)
            origin.append(i)
            continue
        for part in unicodedata.normalize("NFKD", ch):
            if _drop(part):
                continue
            part = _CONFUSABLES.get(part, part)
            out.append(part)
            origin.append(i)
    return View("".join(out), origin)


def _unleet(text: str) -> str:
    """Replace leet characters inside words that mix them with letters (length-preserving)."""
    if not _LEET_HINT.search(text):
        return text

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        # Mentions, cashtags and plain numbers are not leetspeak.
        if word[0] in "@$" or not _HAS_ALPHA.search(word):
            return word
        return word.translate(_LEET)

    return _LEET_WORD.sub(fix, text)


def fold_view(clean: View) -> View:
    """The clean view with leetspeak undone and spaced-apart letters joined."""
    text = _unleet(clean.text)
    if not _SPACED.search(text):
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
