"""The trained text model: one shared feature space, one calibrated linear head per category."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix

from monitor.pipeline.classifier.features import (
    MAX_CHARS,
    FeatureSpace,
    hash_grams,
    tokens,
)


@dataclass
class Head:
    """A calibrated linear scorer: ``p = sigmoid(a * (x . coef + intercept) + b)``.

    ``coef`` already folds in the naive-Bayes log-count ratios, so scoring is one sparse dot.
    """

    coef: np.ndarray
    intercept: float
    platt_a: float
    platt_b: float

    def decision(self, X: csr_matrix) -> np.ndarray:
        return np.asarray(X @ self.coef, dtype=np.float64).ravel() + self.intercept

    def proba(self, X: csr_matrix) -> np.ndarray:
        z = self.platt_a * self.decision(X) + self.platt_b
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


@dataclass
class Contribution:
    """One token's share of a model score, with where it sits in the original text."""

    token: str
    span: tuple[int, int]
    weight: float


@dataclass
class TextModel:
    """Normalised text in, calibrated probability per category out, with token attributions."""

    space: FeatureSpace
    heads: dict[str, Head]

    @property
    def categories(self) -> list[str]:
        return list(self.heads)

    def features(self, normalized: Sequence[str]) -> csr_matrix:
        return self.space.transform(normalized)

    def proba(self, X: csr_matrix) -> dict[str, np.ndarray]:
        """Calibrated probability per category for each feature row."""
        return {c: h.proba(X) for c, h in self.heads.items()}

    def explain(
        self, texts: Sequence[str], X: csr_matrix, requests: Sequence[tuple[int, str]], k: int = 3
    ) -> list[list[Contribution]]:
        """For each ``(row, category)`` request, the ``k`` tokens of ``texts[row]`` that pushed
        that category's score up most (positive weight only), all requests at once.

        A token's weight is the sum, over the features the token itself produces (its word
        unigram and its character n-grams), of the post's feature value times the head's weight.
        The tokens are hashed again on their own, so no vocabulary is needed.
        """
        if not requests:
            return []
        out: list[list[Contribution]] = [[] for _ in requests]
        # Tokenise each requested post once, vectorised: its distinct tokens and their spans.
        posts = list(dict.fromkeys(row for row, _ in requests))
        post_of = {row: j for j, row in enumerate(posts)}
        tok = tokens([texts[row][:MAX_CHARS] for row in posts])
        if not len(tok.post):
            return out
        token_text = [tok.joined[a:b] for a, b in tok.distinct.tolist()]
        # One entry per (request, token of its post).
        t_first = np.searchsorted(tok.post, np.arange(len(posts) + 1))
        req_post = np.array([post_of[row] for row, _ in requests], dtype=np.int64)
        counts = t_first[req_post + 1] - t_first[req_post]
        e_req = np.repeat(np.arange(len(requests)), counts)
        e_pos = np.arange(len(e_req)) - np.repeat(np.cumsum(counts) - counts, counts)
        e_pos += np.repeat(t_first[req_post], counts)  # index into the tokens of all posts
        e_tok = tok.token[e_pos]
        # Which kept feature columns each distinct token produces.
        grams = hash_grams(token_text)
        col = self.space.column[grams.col].astype(np.int64)
        ok = col >= 0
        nf = max(self.space.n_features, 1)
        tkeys = np.unique(grams.doc[ok] * nf + col[ok])
        t_row = tkeys // nf
        t_col = tkeys - t_row * nf
        t_ptr = np.searchsorted(t_row, np.arange(len(token_text) + 1))
        # Expand every entry into its token's feature columns.
        lens = t_ptr[e_tok + 1] - t_ptr[e_tok]
        e_idx = np.repeat(np.arange(len(e_tok)), lens)
        first = np.repeat(t_ptr[e_tok], lens)
        offset = np.arange(len(e_idx)) - np.repeat(np.cumsum(lens) - lens, lens)
        f = t_col[first + offset]
        # Look the post's own feature value up in X (globally sorted keys), times the weight.
        rows = np.array([row for row, _ in requests], dtype=np.int64)[e_req][e_idx]
        xkeys = np.repeat(np.arange(X.shape[0], dtype=np.int64), np.diff(X.indptr)) * nf + X.indices
        q = rows * nf + f
        pos = np.minimum(np.searchsorted(xkeys, q), max(len(xkeys) - 1, 0))
        val = np.where(xkeys[pos] == q, X.data[pos], 0.0) if len(xkeys) else np.zeros(len(q))
        cats = self.categories
        coef = np.stack([self.heads[c].coef for c in cats])
        cat_of = np.array([cats.index(c) for _, c in requests], dtype=np.int64)
        w = val * coef[cat_of[e_req][e_idx], f]
        weight = np.bincount(e_idx, weights=w, minlength=len(e_tok))
        # Top k positive tokens per request: order by request, weight (desc), then position.
        order = np.lexsort((tok.start[e_pos], -weight, e_req))
        order = order[weight[order] > 0]
        rank = np.arange(len(order)) - np.searchsorted(e_req[order], e_req[order])
        for j in order[rank < k].tolist():
            r = int(e_req[j])
            a_, b_ = int(tok.start[e_pos[j]]), int(tok.end[e_pos[j]])
            out[r].append(Contribution(texts[requests[r][0]][a_:b_], (a_, b_), float(weight[j])))
        return out
