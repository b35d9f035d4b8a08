"""Hand-made classifiers whose explanations are known, for the tests of zoo.explain."""
from __future__ import annotations

import torch

READ = torch.arange(200, 600, 7)
"""the pixels (flat indices) the linear classifier reads; it ignores every other one"""


def linear_reader(margin: float = 2.0) -> torch.nn.Module:
    """Two classes: class 0's logit is a weighted sum of the READ pixels (weights 1 to 2, rising with the index),
    class 1's is the constant `margin` below that sum on `image()`; so the truth of every pixel's part is
    weight x pixel."""
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(28 * 28, 2))
    with torch.no_grad():
        model[1].weight.zero_()
        model[1].weight[0, READ] = torch.linspace(1, 2, len(READ))
        model[1].bias.zero_()
        model[1].bias[1] = float(model[1].weight[0] @ image().flatten()) - margin
    return model.eval()


def image(seed: int = 0) -> torch.Tensor:
    """A float (1, 1, 28, 28) image in [0.2, 0.8]."""
    return 0.2 + 0.6 * torch.rand(1, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


def smooth_net(seed: int = 0) -> torch.nn.Module:
    """A small smooth network (softplus), on which the midpoint rule converges fast."""
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(28 * 28, 32), torch.nn.Softplus(),
                               torch.nn.Linear(32, 3)).eval()
