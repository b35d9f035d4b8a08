"""Which earlier characters made a character model predict the next one: integrated gradients on the
character embeddings (Sundararajan et al. 2017, "Axiomatic Attribution for Deep Networks").

The function explained is the log-probability of one chosen next character. A log, not the probability:
a character the model finds unlikely has a probability near 0 whose changes are all near 0 and
unreadable, while its log-probability moves by whole nats; and contributions to a log-probability
add like evidence, which is what attributions that must sum to a total do.

The baseline is all-zero embeddings, "no character at all", as the paper used for text. A space's
embedding would be a real character, but every space in the prompt would then get exactly zero
(its vector equals the baseline's), though spaces end words and shape the next character.

Measured on the shipped models: the transformer's attributions add up to within 0.1% at 16 steps over
95 characters; the recurrent models' log-probability jumps along the path (their state amplifies a small
change character after character), so over long prompts no affordable number of steps closes the gap (4,096
left the vanilla RNN 4 times off over 95 characters, in float64 too), while over a dozen characters 1,024 do.
The gap is returned, so a page can say when the colours are not to be trusted.

Any model with `token_embeddings(ids) -> (B, T, E)` and `from_token_embeddings(x) -> logits (B, T, V)`
can be explained (the zoo's character models). No hooks are registered and no weight is touched, so
a model shared by many sessions can be explained by all of them at once.
"""
from __future__ import annotations

import math
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import torch
import torch.nn.functional as F

MAX_CHARS = 200
"""the most characters attributed: a longer prompt is read from its last MAX_CHARS (the cost grows with them)"""
MAX_STEPS = 1024
"""the most steps along the path: each is one forward and backward pass over the prompt"""
MAX_WORK = 32 * 1024
"""the most steps times characters attributed at once (1,024 steps over 32 characters, 163 over 200): 32 steps
over 200 characters took the slowest model, the transformer, 0.9 s on one shared CPU core
(tests/bench/bench_text_attribution.py), so about 4.6 s at this budget"""
BATCH = 32
"""steps run together in one batched forward and backward pass"""


@dataclass
class CharacterAttribution:
    """How much each character of a prompt added to the log-probability of one next character."""
    ids: torch.Tensor
    """(T,) the characters attributed: the prompt's last MAX_CHARS"""
    cut: int
    """characters of the prompt before them, left out"""
    target: int
    """the id of the next character explained"""
    attributions: torch.Tensor
    """(T,) nats each character adds to log p(target) over the baseline (no characters); signed"""
    log_prob: float
    """log p(target | the characters attributed), f(x)"""
    baseline_log_prob: float
    """log p(target) when every character's vector is zero, f(baseline)"""
    steps: int

    @property
    def probability(self) -> float:
        return math.exp(self.log_prob)

    @property
    def completeness_gap(self) -> float:
        """Sum of the attributions minus f(x) - f(baseline): zero for the exact integral (completeness)."""
        return float(self.attributions.sum()) - (self.log_prob - self.baseline_log_prob)

    @property
    def relative_gap(self) -> float:
        """|completeness_gap| as a share of |f(x) - f(baseline)|."""
        return abs(self.completeness_gap) / max(abs(self.log_prob - self.baseline_log_prob), 1e-12)


def most_steps(n_chars: int) -> int:
    """The most steps allowed over a prompt of `n_chars` characters (MAX_STEPS and MAX_WORK)."""
    return min(MAX_STEPS, MAX_WORK // min(max(n_chars, 1), MAX_CHARS))


_CUDNN_SWITCH = threading.Lock()


@contextmanager
def _backward_in_eval_mode(device: torch.device) -> Iterator[None]:
    """cuDNN's fused RNNs refuse a backward pass in eval mode, so on a GPU the gradients are taken with cuDNN
    off; that switch is process-wide, so attributions there take turns instead of switching it under each other."""
    if device.type != "cuda":
        yield
        return
    with _CUDNN_SWITCH, torch.backends.cudnn.flags(enabled=False):
        yield


def integrated_gradients(model: torch.nn.Module, ids: torch.Tensor, target: int | None = None,
                         steps: int = 32) -> CharacterAttribution:
    """Attribute log p(target | ids) to each of the (T,) ids (the last MAX_CHARS), along the straight path from
    zero embeddings to theirs, with `steps` midpoint steps; `target` None explains the likeliest next character.
    `model` must be in eval mode (dropout off), as the shared models are."""
    if not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"the steps must be between 1 and {MAX_STEPS}, not {steps}")
    if ids.ndim != 1 or len(ids) == 0:
        raise ValueError("integrated gradients needs a non-empty prompt of character ids (T,)")
    if steps * min(len(ids), MAX_CHARS) > MAX_WORK:
        raise ValueError(f"{steps} steps over {min(len(ids), MAX_CHARS)} characters are more than the "
                         f"{MAX_WORK:,} character-steps allowed: take at most {most_steps(len(ids))} steps")
    device = next(model.parameters()).device
    kept = ids[-MAX_CHARS:].to(device)
    with torch.no_grad():
        x = model.token_embeddings(kept[None])[0]  # (T, E)
        baseline = torch.zeros_like(x)
        log_probs = F.log_softmax(model.from_token_embeddings(torch.stack([x, baseline]))[:, -1].float(), -1)  # (2, V)
    if target is None:
        target = int(log_probs[0].argmax())
    if not 0 <= target < log_probs.shape[-1]:
        raise ValueError(f"the next character's id must be in 0..{log_probs.shape[-1] - 1}, not {target}")

    alphas = (torch.arange(steps, device=device, dtype=x.dtype) + 0.5) / steps  # midpoints of the path
    summed = torch.zeros_like(x)
    with torch.enable_grad(), _backward_in_eval_mode(device):
        for chunk in alphas.split(BATCH):
            points = (baseline + chunk[:, None, None] * (x - baseline)).requires_grad_()  # (b, T, E)
            f = F.log_softmax(model.from_token_embeddings(points)[:, -1].float(), -1)[:, target]
            summed += torch.autograd.grad(f.sum(), points)[0].sum(0)
    attributions = ((x - baseline) * summed / steps).sum(-1)  # (T,): one signed number per character
    return CharacterAttribution(ids=kept.cpu(), cut=len(ids) - len(kept), target=target,
                                attributions=attributions.detach().cpu(), log_prob=float(log_probs[0, target]),
                                baseline_log_prob=float(log_probs[1, target]), steps=steps)
