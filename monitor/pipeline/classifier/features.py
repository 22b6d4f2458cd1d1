"""Text normalisation and the shared word + character TF-IDF feature space.

Normalisation happens outside the saved vectorizers so the artifact holds only plain
scikit-learn objects (no project functions for the loader to trust).
"""

from __future__ import annotations

from collections.abc import Sequence

import re2
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer

# Bumped whenever normalize() changes, so an artifact trained on another normalisation is refused.
NORMALIZER_VERSION = "1"
# Text beyond this many characters is not read by the model (a 1 MB post still gets an answer).
MAX_CHARS = 5_000
# Words, contractions and single punctuation marks; also used to find explanation spans.
TOKEN_PATTERN = r"[\w']+|[^\w\s]"

_URL = re2.compile(r"https?://\S+")
_USER = re2.compile(r"@\w+")
_SPACE = re2.compile(r"\s+")


def _squeeze_repeats(text: str) -> str:
    # "soooo" and "sooo" look alike to the model; RE2 has no backreferences, so do it by hand.
    out: list[str] = []
    run = 0
    prev = ""
    for ch in text:
        run = run + 1 if ch == prev else 1
        prev = ch
        if run <= 2:
            out.append(ch)
    return "".join(out)


def normalize(text: str) -> str:
    """Lower-case, mask URLs and @mentions, collapse repeats and whitespace."""
    t = text[:MAX_CHARS].lower()
    t = _URL.sub(" url ", t)
    t = _USER.sub(" @user ", t)
    t = _SPACE.sub(" ", t)
    return _squeeze_repeats(t).strip()


def make_vectorizers() -> tuple[TfidfVectorizer, TfidfVectorizer]:
    """Word 1-3 grams and character 2-5 grams (word-bounded), sublinear tf."""
    word = TfidfVectorizer(
        ngram_range=(1, 3), min_df=2, sublinear_tf=True, token_pattern=TOKEN_PATTERN,
        lowercase=False, dtype=_float32(),
    )
    char = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True,
        lowercase=False, dtype=_float32(),
    )
    return word, char


def _float32() -> type:
    import numpy as np

    return np.float32


class FeatureSpace:
    """The fitted vectorizers, applied to normalised text."""

    def __init__(self, word: TfidfVectorizer, char: TfidfVectorizer):
        self.word = word
        self.char = char

    @classmethod
    def fit(cls, texts: Sequence[str]) -> FeatureSpace:
        """Fit both vectorizers on already-normalised texts."""
        word, char = make_vectorizers()
        word.fit(texts)
        char.fit(texts)
        return cls(word, char)

    @property
    def n_features(self) -> int:
        return len(self.word.vocabulary_) + len(self.char.vocabulary_)

    def transform(self, normalized: Sequence[str]) -> csr_matrix:
        """Sparse feature rows for already-normalised texts."""
        return hstack(
            [self.word.transform(normalized), self.char.transform(normalized)], format="csr"
        )
