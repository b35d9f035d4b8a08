"""A small decoder-only transformer over characters (Vaswani et al. 2017, "Attention Is All You
Need"; the GPT decoder of Radford et al. 2018), after karpathy/nanoGPT's model.py.

Pre-norm blocks (x + attention(norm(x)), then x + MLP(norm(x))), learned positional
embeddings, and an output head that reuses the character embedding (Press & Wolf 2017).
Training uses PyTorch's fused causal attention; `trace` computes the same pass by hand to
return every head's attention weights and the residual stream after each block, which
`logit_lens` reads through the final norm and head (nostalgebraist 2020, "interpreting GPT:
the logit lens"). `next_logits` keeps the keys and values it has computed (a KV cache).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class TransformerConfig:
    vocab_size: int = 114
    """characters in the vocabulary; the recipe sets it from the corpus"""
    context: int = 256
    """the most characters the model reads at once: there is no positional embedding beyond it"""
    n_layer: int = 4
    """transformer blocks"""
    n_head: int = 4
    """attention heads per block; each reads n_embd / n_head dimensions"""
    n_embd: int = 256
    """width of the residual stream"""
    dropout: float = 0.0
    """on embeddings, attention and residual branches while training (0: the corpus is seen about once)"""


class CausalSelfAttention(nn.Module):
    """Each position mixes the values of itself and the positions before it, per head."""

    def __init__(self, config: TransformerConfig):
        super().__init__()
        assert config.n_embd % config.n_head == 0, "n_embd must be a multiple of n_head"
        self.n_head = config.n_head
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=False)  # query, key, value at once
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=False)
        self.dropout = config.dropout
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor, return_weights: bool = False,
                cache: dict[str, torch.Tensor] | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """`cache`, if given, holds the keys and values of the positions before `x` and is extended by
        x's; then `x` is either the first chunk (cache empty) or one new position."""
        B, T, C = x.shape
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
                   for t in self.c_attn(x).split(C, dim=2))
        if cache is not None:
            if cache:
                k, v = torch.cat([cache["k"], k], dim=2), torch.cat([cache["v"], v], dim=2)  # (B, nh, S, hs)
            cache["k"], cache["v"] = k, v
        S = k.shape[2]
        assert T == S or T == 1, "a cached pass reads the first chunk or one position at a time"
        if return_weights:  # the same attention by hand, to show its weights
            scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (B, nh, T, S)
            future = torch.ones(T, S, dtype=torch.bool, device=x.device).triu(S - T + 1)
            weights = scores.masked_fill(future, float("-inf")).softmax(dim=-1)
            y = weights @ v
        else:
            weights = None
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0,
                                               is_causal=T > 1)  # one new position may see everything
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # heads side by side again
        return self.resid_dropout(self.c_proj(y)), weights


class MLP(nn.Module):
    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=False)
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=False)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x))))


class Block(nn.Module):
    """Pre-norm: each branch reads a normalised copy and adds its result to the residual stream."""

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor, return_weights: bool = False,
                cache: dict[str, torch.Tensor] | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        attended, weights = self.attn(self.ln_1(x), return_weights, cache)
        x = x + attended
        return x + self.mlp(self.ln_2(x)), weights


@dataclass
class Trace:
    """What one forward pass computed, for looking inside it."""
    attention: torch.Tensor
    """(L, B, nh, T, T) each head's weights; row t (the query) sums to 1 over keys 0..t"""
    residuals: torch.Tensor
    """(L + 1, B, T, C) the residual stream after the embeddings and after each block"""
    lens: torch.Tensor
    """(L + 1, B, T, V) the logits each residual stream gives through the final norm and head"""

    @property
    def logits(self) -> torch.Tensor:
        """(B, T, V) the model's output: the last layer's lens."""
        return self.lens[-1]


class CharTransformer(nn.Module):
    """LongTensor (B, T) of character ids, T <= context -> logits (B, T, V) for the next character."""

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.config = config
        self.tok_emb = nn.Embedding(config.vocab_size, config.n_embd)
        self.pos_emb = nn.Embedding(config.context, config.n_embd)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList([Block(config) for _ in range(config.n_layer)])
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.apply(self._init_weights)
        for name, p in self.named_parameters():  # GPT-2: scale the residual branches' last layer by depth
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def crop(self, idx: torch.Tensor) -> torch.Tensor:
        """The last `context` characters of each row: all the model can read."""
        return idx[:, -self.config.context:]

    def embed(self, idx: torch.Tensor, start: int = 0) -> torch.Tensor:
        """Character plus position embeddings of `idx` (B, T) placed at positions start .. start + T - 1."""
        return self.place(self.tok_emb(idx), start)

    def place(self, x: torch.Tensor, start: int = 0) -> torch.Tensor:
        """Character vectors x (B, T, C) placed at positions start .. start + T - 1: their position embeddings added."""
        T = x.shape[1]
        if start + T > self.config.context:
            raise ValueError(f"{start + T} characters are more than the context of {self.config.context}; crop them first")
        pos = torch.arange(start, start + T, device=x.device)
        return self.drop(x + self.pos_emb(pos))  # (B, T, C)

    def token_embeddings(self, idx: torch.Tensor) -> torch.Tensor:
        """(B, T, C): each character's learned vector, before its position is added."""
        return self.tok_emb(idx)

    def unembed(self, x: torch.Tensor) -> torch.Tensor:
        """(..., C) residual stream -> (..., V) logits; the head is the character embedding, transposed.
        (Tied through F.linear rather than a shared Parameter, so the safetensors file holds it once.)"""
        return F.linear(self.ln_f(x), self.tok_emb.weight)

    def forward(self, idx: torch.Tensor, caches: list[dict] | None = None, start: int = 0) -> torch.Tensor:
        """Logits (B, T, V). With `caches` (one dict per block, see CausalSelfAttention), `idx` continues
        the `start` positions already cached: what `next_logits` uses to read one new character at a time."""
        return self.from_token_embeddings(self.tok_emb(idx), caches, start)

    def from_token_embeddings(self, x: torch.Tensor, caches: list[dict] | None = None, start: int = 0) -> torch.Tensor:
        """`forward` from character vectors x (B, T, C) instead of ids: attributions move along these vectors,
        between which no ids lie. The positions are added here, so they are never attributed."""
        x = self.place(x, start)
        for block, cache in zip(self.blocks, caches or [None] * len(self.blocks)):
            x, _ = block(x, cache=cache)
        return self.unembed(x)

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy (nats) of predicting y, each x shifted one character on."""
        logits = self(x)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))

    @torch.no_grad()
    def trace(self, idx: torch.Tensor) -> Trace:
        x = self.embed(idx)
        residuals, attention = [x], []
        for block in self.blocks:
            x, weights = block(x, return_weights=True)
            residuals.append(x)
            attention.append(weights)
        stream = torch.stack(residuals)
        return Trace(torch.stack(attention), stream, self.unembed(stream))

    def logit_lens(self, idx: torch.Tensor) -> torch.Tensor:
        """(L + 1, B, T, V): what the model would predict if it stopped after the embeddings (0) or block l."""
        return self.trace(idx).lens

    @torch.no_grad()
    def position_similarity(self) -> torch.Tensor:
        """(context, context) cosine similarity between the learned positional embeddings."""
        p = F.normalize(self.pos_emb.weight, dim=-1)
        return p @ p.T

    def next_logits(self, idx: torch.Tensor, memory: tuple[int, list[dict]] | None = None
                    ) -> tuple[torch.Tensor, tuple[int, list[dict]]]:
        """The logits (B, V) of the character after `idx` (B, T), and the memory (the keys and values computed,
        a KV cache) to pass back with `idx` one character longer, so a new character costs one position, not
        the whole context. When the context is full the model starts over from its last half: past the first
        `context` characters it reads between context/2 and context of them, as
        `zoo.training.char_lm.bits_per_char` scores them."""
        context = self.config.context
        length, caches = memory or (0, [])
        if length in (0, context):  # the first pass, or the context is full: (re-)read a window
            window = idx[:, -(context if length == 0 else max(1, context // 2)):]
            caches = [{} for _ in self.blocks]
            logits, length = self(window, caches), window.shape[1]
        else:
            logits, length = self(idx[:, -1:], caches, start=length), length + 1
        return logits[:, -1], (length, caches)
