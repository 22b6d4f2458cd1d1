"""Text normalisation and the shared word + character TF-IDF feature space.

Normalisation happens outside the saved vectorizers so the artifact holds only plain
scikit-learn objects (no project functions for the loader to trust).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer

# Bumped whenever normalize() changes, so an artifact trained on another normalisation is refused.
NORMALIZER_VERSION = "2"
# Text beyond this many characters is not read by the model (a 1 MB post still gets an answer).
MAX_CHARS = 5_000
# Words, contractions and single punctuation marks; also used to find explanation spans.
TOKEN_PATTERN = r"[\w']+|[^\w\s]"

# Plain ``re`` is several times faster than RE2 per call on short texts; these patterns have
# no nested quantifiers and the input is capped at MAX_CHARS, so they stay linear.
_URL = re.compile(r"https?://\S+")
_USER = re.compile(r"@\w+")
_SPACE = re.compile(r"\s+")
_REPEAT = re.compile(r"(.)\1{2,}")


def normalize(text: str) -> str:
    """Lower-case, mask URLs and @mentions, squeeze letter runs ("soooo" -> "soo"), collapse spaces."""
    t = text[:MAX_CHARS].lower()
    if "http" in t:
        t = _URL.sub(" url ", t)
    if "@" in t:
        t = _USER.sub(" @user ", t)
    t = _REPEAT.sub(r"\1\1", t)
    return _SPACE.sub(" ", t).strip()


@lru_cache(maxsize=100_000)
def word_char_ngrams(word: str) -> tuple[str, ...]:
    """Character 2-5 grams of `` word `` (space-padded); cached, as tweets reuse their words."""
    padded = f" {word} "
    size = len(padded)
    return tuple(padded[i : i + n] for n in range(2, 6) for i in range(size - n + 1))


def char_ngrams(text: str) -> list[str]:
    """Word-bounded character n-grams of a normalised text (like scikit-learn's char_wb)."""
    out: list[str] = []
    for word in text.split():
        out.extend(word_char_ngrams(word))
    return out


def make_vectorizers() -> tuple[TfidfVectorizer, TfidfVectorizer]:
    """Word 1-3 grams and character 2-5 grams (word-bounded), sublinear tf."""
    word = TfidfVectorizer(
        ngram_range=(1, 3), min_df=2, sublinear_tf=True, token_pattern=TOKEN_PATTERN,
        lowercase=False, dtype=np.float32,
    )
    char = TfidfVectorizer(analyzer=char_ngrams, min_df=2, sublinear_tf=True, dtype=np.float32)
    return word, char


def _pack_vocab(vec: TfidfVectorizer) -> np.ndarray:
    terms = sorted(vec.vocabulary_, key=vec.vocabulary_.__getitem__)
    return np.frombuffer("\n".join(terms).encode("utf-8"), dtype=np.uint8).copy()


def _unpack(vec: TfidfVectorizer, vocab: np.ndarray, idf: np.ndarray) -> TfidfVectorizer:
    terms = bytes(vocab).decode("utf-8").split("\n") if len(vocab) else []
    vec.set_params(vocabulary={t: i for i, t in enumerate(terms)})
    vec.fit([""])  # a fixed vocabulary: fitting only validates it; the idf is restored below
    vec.idf_ = np.asarray(idf, dtype=np.float64)
    return vec


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

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Vocabularies as UTF-8 byte arrays and idf weights: fast to load, nothing to trust."""
        return {
            "word_vocab": _pack_vocab(self.word), "word_idf": self.word.idf_.astype(np.float32),
            "char_vocab": _pack_vocab(self.char), "char_idf": self.char.idf_.astype(np.float32),
        }

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> FeatureSpace:
        word, char = make_vectorizers()
        return cls(_unpack(word, a["word_vocab"], a["word_idf"]),
                   _unpack(char, a["char_vocab"], a["char_idf"]))

    def columns(self, token: str) -> list[int]:
        """Feature columns a single normalised token produces (its word and char n-grams)."""
        cols: list[int] = []
        j = self.word.vocabulary_.get(token)
        if j is not None:
            cols.append(j)
        off = len(self.word.vocabulary_)
        voc = self.char.vocabulary_
        for gram in word_char_ngrams(token):
            k = voc.get(gram)
            if k is not None:
                cols.append(off + k)
        return cols

    @property
    def n_features(self) -> int:
        return len(self.word.vocabulary_) + len(self.char.vocabulary_)

    def transform(self, normalized: Sequence[str]) -> csr_matrix:
        """Sparse feature rows for already-normalised texts."""
        return hstack(
            [self.word.transform(normalized), self.char.transform(normalized)], format="csr"
        )
