"""Text normalisation and the hashed word + character TF-IDF feature space.

All n-grams of a whole batch are hashed at once with numpy (no per-n-gram Python, no
vocabulary dict): the normalised texts are laid end to end as one array of code points,
rolling polynomial hashes give every character 2-5 gram (word-bounded, like scikit-learn's
``char_wb``) and prefix hashes give every word 1-3 gram. Hashes are fixed 64-bit arithmetic
with fixed constants, so features are identical across runs, processes and machines.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix

# Bumped whenever normalize() or the hashing changes, so an artifact built otherwise is refused.
NORMALIZER_VERSION = "3-hash"
# Text beyond this many characters is not read by the model (a 1 MB post still gets an answer).
MAX_CHARS = 5_000
# Words (with apostrophes) and single other marks: the explanation tokens of the original text.
TOKEN_PATTERN = r"[\w']+|[^\w\s]"
CHAR_NGRAMS = (2, 5)
WORD_NGRAMS = (1, 3)
# Hash buckets per block (powers of two): words, then characters.
WORD_BITS = 20
CHAR_BITS = 21
MIN_DF = 2

# Plain ``re`` is several times faster than RE2 per call on short texts; these patterns have
# no nested quantifiers and the input is capped at MAX_CHARS, so they stay linear.
_URL = re.compile(r"https?://\S+")
_USER = re.compile(r"@\w+")

_U = np.uint64
_P = _U(0x100000001B3)  # FNV-64 prime: odd, so it has an inverse modulo 2**64
_P_INV = _U(pow(0x100000001B3, -1, 1 << 64))
_Q = _U(0x9E3779B97F4A7C15)  # golden-ratio constant for combining word hashes
_M1 = _U(0xBF58476D1CE4E5B9)
_M2 = _U(0x94D049BB133111EB)
_SPACE_CP = 32


def normalize(text: str) -> str:
    """Lower-case and mask URLs and @mentions; the rest of the normalisation (whitespace, letter
    runs "soooo" -> "soo", marks and emoji set apart as tokens) happens vectorised in numpy."""
    t = text[:MAX_CHARS].lower()
    if "http" in t:
        t = _URL.sub(" url ", t)
    if "@" in t:
        t = _USER.sub(" @user ", t)
    return t.strip()


# Character classes by code point range: 0 = space, 1 = word character, 2 = mark (a token of
# its own: punctuation, symbols, emoji). Close to Python's ``\s``/``\w`` for the scripts that
# matter here; each entry is (first code point, class) up to the next entry.
_CLASS_RANGES = [
    (0x0, 2), (0x9, 0), (0xE, 2), (0x1C, 0), (0x21, 2), (0x27, 1), (0x28, 2), (0x30, 1),
    (0x3A, 2), (0x41, 1), (0x5B, 2), (0x5F, 1), (0x60, 2), (0x61, 1), (0x7B, 2), (0x85, 0),
    (0x86, 2), (0xA0, 0), (0xA1, 2), (0xAA, 1), (0xAB, 2), (0xB5, 1), (0xB6, 2), (0xBA, 1),
    (0xBB, 2), (0xC0, 1), (0xD7, 2), (0xD8, 1), (0xF7, 2), (0xF8, 1), (0x1680, 0), (0x1681, 1),
    (0x2000, 0), (0x200B, 2), (0x2028, 0), (0x202A, 2), (0x202F, 0), (0x2030, 2), (0x205F, 0),
    (0x2060, 2), (0x2C00, 1), (0x2E00, 2), (0x3000, 0), (0x3001, 2), (0x3040, 1), (0xD800, 2),
    (0xF900, 1), (0xFE00, 2), (0xFE70, 1), (0xFEFF, 2), (0xFF10, 1), (0xFFF0, 2), (0x10000, 1),
    (0x1F000, 2), (0x20000, 1), (0x40000, 2),
]
_STARTS = np.array([r[0] for r in _CLASS_RANGES], dtype=np.uint32)
_CLASSES = np.array([r[1] for r in _CLASS_RANGES], dtype=np.int8)


def _mix(h: np.ndarray, salt: int) -> np.ndarray:
    """splitmix64's finaliser: spreads a polynomial hash over all 64 bits."""
    z = h + _U(salt * 0x9E3779B97F4A7C15 % (1 << 64))
    z = (z ^ (z >> _U(30))) * _M1
    z = (z ^ (z >> _U(27))) * _M2
    return z ^ (z >> _U(31))


@dataclass
class Grams:
    """Every hashed n-gram occurrence of a batch: its document and its bucket."""

    doc: np.ndarray  # int64 row per occurrence
    col: np.ndarray  # int64 bucket per occurrence (words first, then characters)
    n_docs: int


def _codepoints(docs: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The batch as one code-point array and each position's document.

    Each document is laid out as " doc " with white space made a plain space, runs of three or
    more equal characters cut to two, and every mark set apart by spaces (" a!" -> " a ! ").
    """
    joined = "".join(f" {d} " for d in docs)
    c = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    lengths = np.fromiter((len(d) + 2 for d in docs), dtype=np.int64, count=len(docs))
    doc = np.repeat(np.arange(len(docs), dtype=np.int64), lengths)
    cls = _CLASSES[np.searchsorted(_STARTS, c, side="right") - 1]
    c = np.where(cls == 0, np.uint32(_SPACE_CP), c)
    if len(c) > 2:  # squeeze letter runs (documents are padded, so runs never cross them)
        run = (c[2:] == c[1:-1]) & (c[2:] == c[:-2]) & (cls[2:] != 0)
        if run.any():
            keep = np.ones(len(c), dtype=bool)
            keep[2:] = ~run
            c, cls, doc = c[keep], cls[keep], doc[keep]
    mark = cls == 2
    if mark.any():
        width = 1 + 2 * mark.astype(np.int64)
        out = np.full(int(width.sum()), _SPACE_CP, dtype=np.uint32)
        out[np.cumsum(width) - width + mark] = c
        c, doc = out, np.repeat(doc, width)
    return c.astype(np.uint64), doc


def hash_grams(docs: Sequence[str]) -> Grams:
    """All word 1-3 gram and word-bounded char 2-5 gram buckets of already-normalised texts."""
    n = len(docs)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Grams(empty, empty, 0)
    c, doc = _codepoints(docs)
    size = len(c)
    space = c == _SPACE_CP
    cm = c * _M1 + _U(1)  # spread code points before the polynomial
    docs_out: list[np.ndarray] = []
    cols_out: list[np.ndarray] = []
    char_mask = _U((1 << CHAR_BITS) - 1)
    word_mask = _U((1 << WORD_BITS) - 1)
    char_off = 1 << WORD_BITS

    # Character n-grams: h_n[i] covers c[i:i+n]; valid when no space is inside it (its ends may
    # be the word's padding) and it is not two adjacent paddings.
    h = cm.copy()
    inner = np.zeros(size, dtype=bool)  # a space strictly inside c[i:i+n]
    lo, hi = CHAR_NGRAMS
    for k in range(2, hi + 1):
        m = size - k + 1
        if m <= 0:
            break
        h = h[:m] * _P + cm[k - 1 : k - 1 + m]
        if k >= 3:
            inner = inner[:m] | space[k - 2 : k - 2 + m]
        if k < lo:
            continue
        valid = ~inner[:m]
        if k == 2:
            valid &= ~(space[:m] & space[1 : 1 + m])
        idx = np.flatnonzero(valid)
        docs_out.append(doc[idx])
        cols_out.append((_mix(h[idx], k) & char_mask).astype(np.int64) + char_off)

    # Word n-grams from the space-separated tokens, via prefix hashes of the code points.
    starts = np.flatnonzero(~space[1:] & space[:-1]) + 1
    ends = np.flatnonzero(space[1:] & ~space[:-1]) + 1
    if len(starts):
        pw = np.empty(size + 1, dtype=np.uint64)
        pw[0] = _U(1)
        pw[1:] = _P
        pw = np.cumprod(pw, dtype=np.uint64)  # P**i, wrapping modulo 2**64
        inv = np.empty(size + 1, dtype=np.uint64)
        inv[0] = _U(1)
        inv[1:] = _P_INV
        inv = np.cumprod(inv, dtype=np.uint64)
        prefix = np.zeros(size + 1, dtype=np.uint64)
        np.cumsum(cm * pw[:size], out=prefix[1:])
        tok = (prefix[ends] - prefix[starts]) * inv[starts]
        tdoc = doc[starts]
        lo, hi = WORD_NGRAMS
        g = tok
        same = np.ones(len(tok), dtype=bool)
        for k in range(1, hi + 1):
            m = len(tok) - k + 1
            if m <= 0:
                break
            if k > 1:
                g = g[:m] * _Q + tok[k - 1 : k - 1 + m]
                same = same[:m] & (tdoc[k - 1 : k - 1 + m] == tdoc[:m])
            if k < lo:
                continue
            idx = np.flatnonzero(same)
            docs_out.append(tdoc[idx])
            cols_out.append((_mix(g[idx], 100 + k) & word_mask).astype(np.int64))
    return Grams(np.concatenate(docs_out), np.concatenate(cols_out), n)


@dataclass
class Tokens:
    """The distinct tokens of each text, as spans: what explanations point at."""

    post: np.ndarray  # text index per token occurrence (first occurrences only, in order)
    start: np.ndarray  # span in the text
    end: np.ndarray
    token: np.ndarray  # index into ``distinct``
    distinct: np.ndarray  # (n, 2) spans of each distinct token in ``joined``
    joined: str  # the lower-cased texts, each padded by one space on both sides


def tokens(texts: Sequence[str]) -> Tokens:
    """Words (letters, digits, ``_`` and ``'``) and single marks of raw texts, lower-cased,
    first occurrence per text; the same tokens :data:`TOKEN_PATTERN` finds, found with numpy."""
    lows = [t if len(low := t.lower()) != len(t) else low for t in texts]
    joined = "".join(f" {t} " for t in lows)
    c = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    lengths = np.fromiter((len(t) + 2 for t in lows), dtype=np.int64, count=len(lows))
    base = np.cumsum(lengths) - lengths
    cls = _CLASSES[np.searchsorted(_STARTS, c, side="right") - 1]
    word = cls == 1
    mark = cls == 2
    prev_word = np.concatenate(([False], word[:-1]))
    next_word = np.concatenate((word[1:], [False]))
    starts = np.flatnonzero(mark | (word & ~prev_word))
    run_ends = np.flatnonzero(word & ~next_word) + 1
    ends = np.where(mark[starts], starts + 1,
                    run_ends[np.minimum(np.searchsorted(run_ends, starts, side="right"),
                                        max(len(run_ends) - 1, 0))] if len(run_ends) else starts + 1)
    post = np.searchsorted(base, starts, side="right") - 1
    # Identify tokens by a 64-bit hash of their code points (prefix hashes, as for words).
    cm = c.astype(np.uint64) * _M1 + _U(1)
    size = len(c)
    pw = np.cumprod(np.concatenate(([_U(1)], np.full(size, _P, dtype=np.uint64))), dtype=np.uint64)
    inv = np.cumprod(np.concatenate(([_U(1)], np.full(size, _P_INV, dtype=np.uint64))), dtype=np.uint64)
    prefix = np.zeros(size + 1, dtype=np.uint64)
    np.cumsum(cm * pw[:size], out=prefix[1:])
    th = _mix((prefix[ends] - prefix[starts]) * inv[starts] + _U(0), 7)
    th ^= (ends - starts).astype(np.uint64)
    order = np.lexsort((np.arange(len(th)), th, post))  # by text, token, then position
    repeat = np.zeros(len(order), dtype=bool)
    repeat[1:] = (post[order][1:] == post[order][:-1]) & (th[order][1:] == th[order][:-1])
    first = np.sort(order[~repeat])
    _, where, token = np.unique(th[first], return_index=True, return_inverse=True)
    distinct = np.stack([starts[first][where], ends[first][where]], axis=1)
    return Tokens(post[first], starts[first] - base[post[first]] - 1,
                  ends[first] - base[post[first]] - 1, token.astype(np.int64), distinct, joined)


N_BUCKETS = (1 << WORD_BITS) + (1 << CHAR_BITS)


def count_matrix(grams: Grams) -> csr_matrix:
    """Raw counts, rows = documents, columns = buckets (sorted, duplicates summed)."""
    key = grams.doc * N_BUCKETS + grams.col
    uniq, counts = np.unique(key, return_counts=True)
    rows = uniq // N_BUCKETS
    indptr = np.searchsorted(rows, np.arange(grams.n_docs + 1))
    return csr_matrix(
        (counts.astype(np.float32), (uniq % N_BUCKETS).astype(np.int64), indptr),
        shape=(grams.n_docs, N_BUCKETS),
    )


class FeatureSpace:
    """The hashed space restricted to the buckets seen in at least ``MIN_DF`` training texts,
    with their inverse document frequencies; unseen buckets are dropped, as a vocabulary would."""

    def __init__(self, buckets: np.ndarray, idf: np.ndarray):
        self.buckets = np.asarray(buckets, dtype=np.int64)
        self.idf = np.asarray(idf, dtype=np.float32)
        self.column = np.full(N_BUCKETS, -1, dtype=np.int32)
        self.column[self.buckets] = np.arange(len(self.buckets), dtype=np.int32)
        self.is_char = self.buckets >= (1 << WORD_BITS)

    @classmethod
    def fit(cls, texts: Sequence[str]) -> FeatureSpace:
        """Learn the kept buckets and their smoothed idf from already-normalised texts."""
        counts = count_matrix(hash_grams(texts))
        df = np.bincount(counts.indices, minlength=N_BUCKETS)
        buckets = np.flatnonzero(df >= MIN_DF)
        idf = np.log((1 + len(texts)) / (1 + df[buckets])) + 1.0
        return cls(buckets, idf)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Kept buckets and their idf: plain arrays, nothing to trust, quick to load."""
        return {"buckets": self.buckets.astype(np.int32), "idf": self.idf}

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> FeatureSpace:
        buckets = np.asarray(a["buckets"])
        idf = np.asarray(a["idf"])
        if buckets.ndim != 1 or buckets.shape != idf.shape:
            raise ValueError("buckets and idf must be 1-D arrays of the same length")
        if len(buckets) and (buckets.min() < 0 or buckets.max() >= N_BUCKETS
                             or np.any(np.diff(buckets) <= 0)):
            raise ValueError("buckets must be increasing and inside the hashed space")
        return cls(buckets, idf)

    @property
    def n_features(self) -> int:
        return len(self.buckets)

    def transform_grams(self, grams: Grams) -> csr_matrix:
        """Sublinear tf x idf, L2-normalised separately over the word and the character block."""
        keep = self.column[grams.col]
        ok = keep >= 0
        doc = grams.doc[ok]
        col = keep[ok].astype(np.int64)
        n = grams.n_docs
        key = doc * len(self.buckets) + col
        uniq, counts = np.unique(key, return_counts=True)
        rows = uniq // max(len(self.buckets), 1)
        cols = uniq - rows * len(self.buckets)
        val = (1.0 + np.log(counts, dtype=np.float32)) * self.idf[cols]
        block = self.is_char[cols].astype(np.int64)
        sq = np.bincount(rows * 2 + block, weights=val * val, minlength=2 * n)
        norm = np.sqrt(sq).astype(np.float32)
        val = val / norm[rows * 2 + block]
        indptr = np.searchsorted(rows, np.arange(n + 1))
        return csr_matrix((val.astype(np.float32), cols, indptr), shape=(n, len(self.buckets)))

    def transform(self, normalized: Sequence[str]) -> csr_matrix:
        """Sparse feature rows for already-normalised texts."""
        return self.transform_grams(hash_grams(normalized))
