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

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from zoo.training.char_lm import CharLMRecipe, CharLMTraining

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


@dataclass
class Inside:
    """One layer of a CharRNN reading a text, as the page shows it: arrays (units, characters)."""
    hidden: np.ndarray
    cell: np.ndarray | None
    """the LSTM's cell state (None for the other cells)"""
    gates: dict[str, np.ndarray]
    lively: np.ndarray
    """unit ids, those whose hidden state varies most over the text first"""


def look_inside(model: CharRNN, ids: torch.Tensor, layer: int = -1) -> Inside:
    """`model.trace` of (T,) ids for one layer, as numpy arrays (units, characters)."""
    trace = model.trace(ids.to(next(model.parameters()).device))
    as_units = lambda t: t[layer].T.float().cpu().numpy()  # (H, T)
    hidden = as_units(trace.hidden)
    return Inside(hidden=hidden, cell=None if trace.cell is None else as_units(trace.cell),
                  gates={name: as_units(g) for name, g in trace.gates.items()},
                  lively=np.argsort(-hidden.std(axis=1), kind="stable"))


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


def _recipe(cell: str, n_hidden: int, title: str, lr: float, steps: int = 6000,
            bf16_on_cpu: bool = False, dropout: float = 0.0) -> CharLMRecipe:
    return CharLMRecipe(CharRNN, RNNConfig(cell=cell, n_hidden=n_hidden, dropout=dropout), title=title,
                        training=CharLMTraining(steps=steps, batch_size=64, seq_len=128, lr=lr, grad_clip=1.0,
                                                bf16_on_cpu=bf16_on_cpu))


# One recurrent layer each, sized to the same parameter budget (~1.25M). The vanilla RNN and the LSTM
# train 6,000 steps of 64 x 128 (49M characters, 7.6 passes over the train split) in float32, 0.57-0.7 s
# a step and so 60-100 minutes on 2 CPU cores. 2,200 steps (18M characters) left the LSTM at 2.05
# validation bits per character, behind the 6-gram's 1.97. Per unit, the LSTM's four gates and the GRU's
# three cost 4x and 3x the vanilla cell's weights.
# Peak learning rates from 300-step pilots (validation bits per character after them): the gated
# cells start slower and like a larger one (LSTM 3.02 at 2e-3, 2.79 at 4e-3; GRU 2.61 at 4e-3;
# vanilla RNN 2.79 at 2e-3).
# The GRU, the best cell, trains longer: 24,000 steps (197M characters) under bfloat16 autocast, 0.26-0.4
# s a step on a CPU with AVX512-BF16 against 0.55 in float32 (a 300-step pilot: 2.422 against 2.419
# bits per character). Its 6,000-step float32 recipe (peak 4e-3) gave 1.846, 16,000 bf16 steps 1.806 and
# 24,000 1.803: past 16,000 it mostly overfit (a train sample fell from 1.479 to 1.431), so it now drops 15%
# of the hidden state before the head, which gave 1.799 over the same 24,000 steps. At a 4e-3 peak
# over 18,000 steps the training loss rose from step ~4,000 and blew up at 5,800, so its peak is 2e-3.
SHIPPED = {
    "rnn-text": _recipe("rnn", 1030, "Vanilla RNN", lr=2e-3),
    "gru-text": _recipe("gru", 592, "GRU", lr=2e-3, steps=24000, bf16_on_cpu=True, dropout=0.15),
    "lstm-text": _recipe("lstm", 512, "LSTM", lr=4e-3),
}
