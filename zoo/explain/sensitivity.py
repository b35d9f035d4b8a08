"""How little it takes to change the prediction: a gradient attack that stops at the first flip. Iterative
FGSM (Kurakin et al. 2016) projected back into the L-infinity ball of radius epsilon after every step, as in
PGD (Madry et al. 2018), with the image kept in [0, 1]. Its steps are small (2.5 epsilon / steps, Madry's
choice), so the first flip it finds is a small perturbation that works, though not a proven smallest one."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

MAX_EPSILON = 0.5
MAX_STEPS = 100


@dataclass(frozen=True)
class Flip:
    """What the attack found within epsilon: the flipped image, or the last one tried if nothing flipped."""
    flipped: bool
    image: np.ndarray
    """(28, 28) the perturbed image, in [0, 1]"""
    perturbation: np.ndarray
    """(28, 28) perturbed minus original"""
    epsilon: float
    original_class: int
    original_probability: float
    new_class: int
    """the perturbed image's likeliest class (the original one if nothing flipped)"""
    new_probability: float
    steps: int
    """gradient steps taken"""

    @property
    def size(self) -> float:
        """The perturbation's L-infinity norm: the most any pixel moved."""
        return float(np.abs(self.perturbation).max())


def flip_prediction(model: torch.nn.Module, image: torch.Tensor, epsilon: float, steps: int = 20) -> Flip:
    """Push float `image` (1, 1, 28, 28) in [0, 1] away from its predicted class by steps of sign(gradient) of
    the cross-entropy, no pixel moving more than `epsilon`, until another class wins or the steps run out."""
    if not 0 < epsilon <= MAX_EPSILON or not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"The attack takes an epsilon in (0, {MAX_EPSILON}] and 1 to {MAX_STEPS} steps, "
                         f"not {epsilon} and {steps}.")
    device = next(model.parameters()).device
    original = image.to(device).float()
    step = 2.5 * epsilon / steps
    x = original.clone()
    with torch.no_grad():
        first = F.softmax(model(original).float(), dim=1)[0]
    label = int(first.argmax())
    taken = 0
    with torch.enable_grad():
        while True:
            x.requires_grad_(True)
            logits = model(x)
            probabilities = F.softmax(logits.detach().float(), dim=1)[0]
            if int(probabilities.argmax()) != label or taken == steps:
                break
            (gradient,) = torch.autograd.grad(F.cross_entropy(logits, torch.tensor([label], device=device)), x)
            x = x.detach() + step * gradient.sign()
            x = (original + (x - original).clamp(-epsilon, epsilon)).clamp(0, 1)
            taken += 1
    x = x.detach()
    new = int(probabilities.argmax())
    return Flip(new != label, x[0, 0].cpu().numpy(), (x - original)[0, 0].cpu().numpy(), epsilon, label,
                float(first[label]), new, float(probabilities[new]), taken)
