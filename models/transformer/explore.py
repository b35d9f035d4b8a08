"""What the Transformer page computes: one prompt's next-character distributions, attention weights
and logit lens; continuations; the positional embeddings' similarity (as numpy arrays, ready to draw)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from models.transformer.model import CharTransformer
from zoo.data.text import Vocab
from zoo.training.char_lm import generate, next_char_probs


@dataclass
class PromptView:
    """What the page shows about one prompt."""
    text: str
    """the characters the model read: the prompt's last `context`, unknown ones as U+FFFD"""
    cut: int
    """characters dropped from the start of a prompt longer than the context"""
    probs: np.ndarray
    """(V,) the next character's distribution after temperature, top-k and top-p"""
    raw_probs: np.ndarray
    """(V,) the same at temperature 1 with nothing cut off"""
    attention: np.ndarray
    """(L, nh, T, T)"""
    lens: np.ndarray
    """(L + 1, T, V) probabilities of the logit lens"""


def read_prompt(model: CharTransformer, vocab: Vocab, prompt: str, temperature: float = 1.0,
                top_k: int | None = None, top_p: float | None = None) -> PromptView:
    """Run a non-empty prompt (cut to the context) through `model` and collect what the page draws."""
    if not prompt:
        raise ValueError("the prompt is empty")
    device = next(model.parameters()).device
    ids = vocab.encode(prompt)
    kept = ids[-model.config.context:]
    trace = model.trace(kept[None].to(device))
    last = trace.logits[:, -1]  # (1, V)
    return PromptView(text=vocab.decode(kept), cut=len(ids) - len(kept),
                      probs=next_char_probs(last, temperature, top_k, top_p)[0].cpu().numpy(),
                      raw_probs=F.softmax(last.float(), dim=-1)[0].cpu().numpy(),
                      attention=trace.attention[:, 0].float().cpu().numpy(),
                      lens=F.softmax(trace.lens[:, 0].float(), dim=-1).cpu().numpy())


def continue_prompt(model: CharTransformer, vocab: Vocab, prompt: str, n: int, temperature: float = 1.0,
                    top_k: int | None = None, top_p: float | None = None, seed: int = 0) -> str:
    """`n` sampled characters that follow the (non-empty) prompt."""
    device = next(model.parameters()).device
    generator = torch.Generator(device=device).manual_seed(seed)
    ids = model.crop(vocab.encode(prompt)[None].to(device))
    out = generate(model, ids, n, temperature, top_k, top_p, generator)
    return vocab.decode(out[0, ids.shape[1]:].cpu())


def position_similarity(model: CharTransformer) -> np.ndarray:
    """(context, context): `model.position_similarity`, the cosine similarity of the positional embeddings."""
    return model.position_similarity().cpu().numpy()
