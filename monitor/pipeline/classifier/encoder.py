"""The policy model at run time: a fine-tuned MiniLM exported to ONNX, int8, on onnxruntime.

No torch: the tokenizer is the ``tokenizers`` package reading the shipped ``tokenizer.json``,
the network is one ONNX graph. A post longer than one window is read in overlapping windows
and each category keeps its best window, so a violation in the middle of a long blog post is
found, and its span is right.

The graph returns, beside each category's logit, every token's additive share of it: the head
is linear over the mean of the token states, so ``logit = bias + mean(token shares)`` exactly.
Explanations quote the tokens whose shares moved the score most — no extra passes needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from monitor.pipeline.classifier.prepare import EVIDENCE, Prepared, special_tokens

WINDOW = 128  # word pieces per window, [CLS] and [SEP] included
MAX_WINDOWS = 48  # per post: beyond ~4,000 word pieces only the rules read on


@dataclass(slots=True)
class Window:
    """One slice of a prepared post: its word-piece ids and their prepared-text offsets."""

    post: int
    ids: list[int]
    offsets: list[tuple[int, int]]  # per id; (0, 0) for [CLS], evidence tokens and [SEP]


@dataclass(slots=True)
class Scored:
    """One post's logits per head, and for each head its best window's token shares."""

    logits: np.ndarray  # (heads,)
    best: list[Window | None]
    shares: list[np.ndarray | None]  # per head: (tokens,) shares of the best window


def load_tokenizer(path: Path) -> Any:
    """The shipped tokenizer, with placeholders atomic and no padding or truncation."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    tok.no_padding()
    tok.no_truncation()
    tok.add_special_tokens(special_tokens())
    return tok


class Windower:
    """Turns prepared posts into windows of word pieces (the same for training and scoring)."""

    def __init__(self, tokenizer: Any, window: int = WINDOW, max_windows: int = MAX_WINDOWS):
        self.tok = tokenizer
        self.window = window
        self.max_windows = max_windows
        self.cls = tokenizer.token_to_id("[CLS]")
        self.sep = tokenizer.token_to_id("[SEP]")
        self.evidence_ids = {c: tokenizer.token_to_id(t) for c, (t, _) in EVIDENCE.items()}

    def windows(self, prepared: Sequence[Prepared]) -> list[Window]:
        encs = self.tok.encode_batch([p.text for p in prepared], add_special_tokens=False)
        out: list[Window] = []
        for i, (p, enc) in enumerate(zip(prepared, encs, strict=True)):
            head = [self.cls] + [self.evidence_ids[c] for c in p.evidence]
            size = self.window - len(head) - 1
            stride = max(1, size // 2)
            ids, offs = enc.ids, enc.offsets
            starts = list(range(0, max(1, len(ids) - size + stride), stride))[: self.max_windows]
            for s in starts:
                piece = ids[s:s + size]
                out.append(Window(i, head + piece + [self.sep],
                                  [(0, 0)] * len(head) + list(offs[s:s + size]) + [(0, 0)]))
                if s + size >= len(ids):
                    break
        return out


class OnnxPolicyModel:
    """Scores prepared posts with the ONNX graph; one process-wide session, one thread."""

    def __init__(self, onnx_path: Path, tokenizer_path: Path, heads: Sequence[str],
                 threads: int = 1):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(onnx_path), opts,
                                            providers=["CPUExecutionProvider"])
        self.windower = Windower(load_tokenizer(tokenizer_path))
        self.heads = list(heads)

    def run(self, windows: Sequence[Window]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Logits (windows, heads) and each window's token shares (tokens, heads).

        One window per call: the int8 graph quantises activations with one scale per call, so
        a window scored beside others would score slightly differently; alone, a post's score
        never depends on what else is in the batch (and there is no padding to pay for).
        """
        n = len(windows)
        logits = np.zeros((n, len(self.heads)), dtype=np.float32)
        shares: list[np.ndarray] = []
        run = self.session.run
        for i, w in enumerate(windows):
            ids = np.asarray([w.ids], dtype=np.int64)
            out_logits, out_tokens = run(None, {"input_ids": ids,
                                                "attention_mask": np.ones_like(ids)})
            logits[i] = out_logits[0]
            shares.append(out_tokens[0])
        return logits, shares

    def score(self, prepared: Sequence[Prepared]) -> list[Scored]:
        """Per post, each head's logit is its best window's (the maximum over windows)."""
        windows = self.windower.windows(prepared)
        logits, shares = self.run(windows)
        h = len(self.heads)
        out = [Scored(np.full(h, -30.0, dtype=np.float32), [None] * h, [None] * h)
               for _ in prepared]
        for w, (win, row) in enumerate(zip(windows, logits, strict=True)):
            s = out[win.post]
            for j in range(h):
                if row[j] > s.logits[j]:
                    s.logits[j] = row[j]
                    s.best[j] = win
                    s.shares[j] = shares[w][:, j]
        return out


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30.0, 30.0)))


def score_gated(model: OnnxPolicyModel, gate: Any, prepared: Sequence[Prepared],
                rule_hit: Sequence[bool]) -> list[Scored | None]:
    """Scores of the posts the first stage sends on (all of them without a gate); a post any
    rule matched always goes on, because only the model can confirm or veto the match."""
    if gate is None:
        return list(model.score(prepared))
    passes = gate.passes([p.text for p in prepared])
    idx = [i for i, p in enumerate(prepared) if passes[i] or rule_hit[i]]
    out: list[Scored | None] = [None] * len(prepared)
    for i, s in zip(idx, model.score([prepared[i] for i in idx]), strict=True):
        out[i] = s
    return out
