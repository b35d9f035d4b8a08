"""Recurrent networks: character language models with a vanilla RNN (Elman 1990), GRU (Cho et
al. 2014) or LSTM (Hochreiter & Schmidhuber 1997) cell, and a small series forecaster.

`CharRNN` reads a character at a time: embedding -> recurrent layers -> linear head, like
Karpathy's char-rnn. Training uses PyTorch's fused `nn.RNN` / `nn.GRU` / `nn.LSTM`, which hide
their gates; `trace` replays the cell equations from the same weights, one character at a
time, so the page can show every hidden state, cell state and gate, and the gradient of the
last prediction with respect to each earlier state (Bengio et al. 1994's vanishing gradient).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
GATES = {"rnn": (), "gru": ("reset", "update"), "lstm": ("input", "forget", "output")}


@dataclass
class RNNConfig:
    cell: str = "lstm"
    """rnn (tanh), gru or lstm"""
    vocab_size: int = 114
    """set from the corpus by the recipe"""
    n_embd: int = 64
    """size of each character's learned vector"""
    n_hidden: int = 512
    """units per recurrent layer (per gate for GRU and LSTM)"""
    n_layer: int = 1
    dropout: float = 0.0
    """between recurrent layers, and before the head"""


@dataclass
class Trace:
    """What happened inside a CharRNN while it read one text, character by character."""
    hidden: torch.Tensor
    """(n_layer, T, H): each layer's hidden state after reading character t"""
    cell: torch.Tensor | None
    """(n_layer, T, H): the LSTM's cell state (None for the other cells)"""
    gates: dict[str, torch.Tensor]
    """gate name -> (n_layer, T, H) in [0, 1]"""
    logits: torch.Tensor
    """(T, V): the prediction of character t + 1"""


class CharRNN(nn.Module):
    """LongTensor (B, T) of character ids -> logits (B, T, V) for the next character."""

    def __init__(self, config: RNNConfig):
        super().__init__()
        if config.cell not in CELLS:
            raise ValueError(f"unknown cell {config.cell!r}; known: {', '.join(CELLS)}")
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.n_embd)
        self.rnn = CELLS[config.cell](config.n_embd, config.n_hidden, num_layers=config.n_layer, batch_first=True,
                                      dropout=config.dropout if config.n_layer > 1 else 0.0)
        self.drop = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.n_hidden, config.vocab_size)
        if config.cell == "lstm":  # forget gates start open, so memory is kept by default (Jozefowicz et al. 2015)
            h = config.n_hidden
            for layer in range(config.n_layer):
                nn.init.ones_(getattr(self.rnn, f"bias_ih_l{layer}")[h:2 * h])
                nn.init.zeros_(getattr(self.rnn, f"bias_hh_l{layer}")[h:2 * h])

    def run(self, idx: torch.Tensor, state=None) -> tuple[torch.Tensor, object]:
        """Logits (B, T, V) and the recurrent state after the last character (h, or (h, c) for LSTM)."""
        out, state = self.rnn(self.embed(idx), state)  # (B, T, H)
        return self.head(self.drop(out)), state

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return self.run(idx)[0]

    def token_embeddings(self, idx: torch.Tensor) -> torch.Tensor:
        """(B, T, E): each character's learned vector, where `forward` starts."""
        return self.embed(idx)

    def from_token_embeddings(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, T, V) from character vectors x (B, T, E), as `forward` gives them from ids: attributions
        move along these vectors, between which no ids lie."""
        return self.head(self.drop(self.rnn(x)[0]))

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        logits = self(x)  # (B, T, V)
        return F.cross_entropy(logits.float().flatten(0, 1), y.flatten())

    def next_logits(self, idx: torch.Tensor, memory: tuple[list, list] | None = None
                    ) -> tuple[torch.Tensor, tuple[list, list]]:
        """The logits (B, V) of the character after `idx` (B, T), and the memory (each layer's h and c) to pass
        back with `idx` one character longer. The first call reads `idx` in one fused call; later ones read
        its last character through the written-out cell (a fused LSTM call on one character costs several
        times more)."""
        if memory is None:
            logits, state = self.run(idx)
            h, c = state if self.config.cell == "lstm" else (state, None)  # (L, B, H) each
            return logits[:, -1], (list(h.unbind(0)), [None] * self.config.n_layer if c is None else list(c.unbind(0)))
        h, c = (list(per_layer) for per_layer in memory)
        x = self.embed(idx[:, -1])  # (B, E)
        for layer in range(self.config.n_layer):
            h[layer], c[layer], _ = self._step(layer, x, h[layer], c[layer])
            x = h[layer]
        return self.head(x), (h, c)

    # ---- inside the cell -------------------------------------------------------------------

    def _weights(self, layer: int) -> tuple[torch.Tensor, ...]:
        return tuple(getattr(self.rnn, f"{name}_l{layer}") for name in ("weight_ih", "bias_ih", "weight_hh", "bias_hh"))

    def _step(self, layer: int, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor | None
              ) -> tuple[torch.Tensor, torch.Tensor | None, dict[str, torch.Tensor]]:
        """One character through one layer, written out as in PyTorch's documentation of each cell."""
        w_ih, b_ih, w_hh, b_hh = self._weights(layer)
        gi, gh = F.linear(x, w_ih, b_ih), F.linear(h, w_hh, b_hh)  # (B, k*H) each
        if self.config.cell == "rnn":
            return torch.tanh(gi + gh), None, {}
        if self.config.cell == "gru":
            (i_r, i_z, i_n), (h_r, h_z, h_n) = gi.chunk(3, -1), gh.chunk(3, -1)
            r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
            n = torch.tanh(i_n + r * h_n)
            return (1 - z) * n + z * h, None, {"reset": r, "update": z}
        i, f, g, o = (gi + gh).chunk(4, -1)
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c = f * c + i * g
        return o * torch.tanh(c), c, {"input": i, "forget": f, "output": o}

    def _unroll(self, idx: torch.Tensor, track: bool = False) -> tuple[list[list[torch.Tensor]], list[list[torch.Tensor]],
                                                                    list[list[dict]], torch.Tensor]:
        """Replay (B, T) ids step by step: per layer, per step h, c and gates; and the logits (B, T, V).
        `track` makes every state differentiable even when the weights are frozen (a shared model)."""
        cfg = self.config
        zeros = self.embed.weight.new_zeros(idx.shape[0], cfg.n_hidden)
        h = [zeros] * cfg.n_layer
        c = [zeros if cfg.cell == "lstm" else None] * cfg.n_layer
        hs, cs, gates = ([[] for _ in range(cfg.n_layer)] for _ in range(3))
        x_all = self.embed(idx)  # (B, T, E)
        if track:
            x_all = x_all.detach().requires_grad_()
        for t in range(idx.shape[1]):
            x = x_all[:, t]
            for layer in range(cfg.n_layer):
                h[layer], c[layer], g = self._step(layer, x, h[layer], c[layer])
                hs[layer].append(h[layer])
                cs[layer].append(c[layer])
                gates[layer].append(g)
                x = h[layer]
        logits = self.head(torch.stack(hs[-1], 1))  # (B, T, V)
        return hs, cs, gates, logits

    @torch.no_grad()
    def trace(self, idx: torch.Tensor) -> Trace:
        """Hidden states, cell states and gates while reading (T,) ids from a zero state."""
        hs, cs, gates, logits = self._unroll(idx[None])
        stack = lambda per_layer: torch.stack([torch.cat(steps) for steps in per_layer])  # (L, T, H)
        names = GATES[self.config.cell]
        return Trace(hidden=stack(hs), cell=stack(cs) if self.config.cell == "lstm" else None,
                     gates={name: stack([[g[name] for g in layer] for layer in gates]) for name in names},
                     logits=logits[0])

    def gradient_through_time(self, idx: torch.Tensor) -> torch.Tensor:
        """(T - 1,): the norm of d loss / d h_t, for the last layer's hidden state h_t at each position t,
        of the loss of predicting the last of the (T,) ids from all before it."""
        with torch.enable_grad():
            hs, _, _, logits = self._unroll(idx[None, :-1], track=True)
            grads = torch.autograd.grad(F.cross_entropy(logits[0, -1:], idx[-1:]), hs[-1])
        return torch.stack([g.norm() for g in grads])


# ---- forecasting a series ----------------------------------------------------------------------

@dataclass
class ForecasterConfig:
    cell: str = "lstm"
    """lstm or gru"""
    n_hidden: int = 64
    n_layer: int = 1
    horizon: int = 12
    """steps predicted at once from the last hidden state"""


class SeriesForecaster(nn.Module):
    """A window (B, L, 1) of a scaled series -> its next `horizon` values (B, horizon), all at once."""

    def __init__(self, config: ForecasterConfig):
        super().__init__()
        if config.cell not in ("lstm", "gru"):
            raise ValueError(f"a forecaster's cell is 'lstm' or 'gru', not {config.cell!r}")
        self.config = config
        self.rnn = CELLS[config.cell](1, config.n_hidden, num_layers=config.n_layer, batch_first=True)
        self.head = nn.Linear(config.n_hidden, config.horizon)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)  # (B, L, H)
        return self.head(out[:, -1])

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(self(x).float(), y)
