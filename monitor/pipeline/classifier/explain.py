"""Which words of a post moved a model score: the evidence a model finding quotes.

The head is linear over the mean of the token states, so each word piece's share of a
category's logit is exact, not estimated. Pieces are joined into words, stop words and
punctuation never count, and the words with the largest positive shares become the finding's
spans, in the post's original offsets.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from monitor.pipeline.classifier.encoder import Window
from monitor.pipeline.classifier.prepare import EVIDENCE, PLACEHOLDERS, Prepared

# A placeholder quoted in an explanation reads as what it stands for.
_READABLE = {t: f"<{k}>" for k, (t, _) in PLACEHOLDERS.items()} | {
    t: f"<rule:{c}>" for c, (t, _) in EVIDENCE.items()}

TOP_WORDS = 3
MAX_WORD = 40  # longest word quoted in an explanation


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS) | {"user", "rt", "amp"}


def _words(prep: Prepared, window: Window, shares: np.ndarray) -> list[tuple[int, int, float]]:
    """(start, end, share) per word of the window, in prepared-text offsets."""
    words: list[tuple[int, int, float]] = []
    for (a, b), share in zip(window.offsets, shares.tolist(), strict=False):
        if a == b:
            continue  # [CLS], [SEP], evidence tokens
        if words and a == words[-1][1] and not prep.text[a:a + 1].isspace():
            s, _, v = words[-1]
            words[-1] = (s, b, v + share)  # a "##" continuation of the same word
        else:
            words.append((a, b, share))
    return words


def top_spans(prep: Prepared, window: Window | None, shares: np.ndarray | None,
              k: int = TOP_WORDS) -> tuple[list[tuple[int, int]], list[str]]:
    """The original spans and the words of the ``k`` strongest words (never stop words)."""
    if window is None or shares is None or not prep.text:
        return [], []
    stops = stop_words()
    ranked = []
    words_in = _words(prep, window, shares)
    for a, b, share in words_in:
        word = prep.text[a:b]
        if share <= 0 or word.lower() in stops or not any(ch.isalnum() for ch in word):
            continue
        ranked.append((share, a, b))
    if not ranked and words_in:
        # Nothing pushed the score up on its own (the window as a whole did): quote the
        # strongest word that is not a stop word, or the window itself.
        content = [(v, a, b) for a, b, v in words_in if prep.text[a:b].lower() not in stops]
        ranked = [max(content)] if content else [(0.0, words_in[0][0], words_in[-1][1])]
    ranked.sort(reverse=True)
    chosen = sorted((a, b) for _, a, b in ranked[:k])
    spans: list[tuple[int, int]] = []
    words: list[str] = []
    for a, b in chosen:
        start, end = prep.original(a, b)
        word = prep.text[a:b]
        words.append(_READABLE.get(word, word)[:MAX_WORD])
        if spans and start <= spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((start, end))
    return spans, words
