"""Why residuals matter, live (He et al. 2016, figure 1): a plain net and the residual net of the
same depth trained in alternation on the same batches. Each report carries both losses and every
convolution's gradient norm, so the page shows the plain net's gradient vanishing on its way back
to the first layers while the shortcuts carry it."""
from __future__ import annotations

from typing import Iterator

import numpy as np
import torch

from models.resnet.model import ResNet, ResNetConfig
from zoo.data import DataNotFoundError, fashion_mnist
from zoo.devices import pick_device
from zoo.jobs import deadline
from zoo.training.loop import set_train_mode

NETS = ("plain", "residual")


def demo_images(n_train: int, seed: int = 0) -> fashion_mnist.Split:
    """`n_train` random training images (the shipped 100-image sample without the dataset)."""
    try:
        train = fashion_mnist.load("train")
    except DataNotFoundError:
        return fashion_mnist.load_sample()
    chosen = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[:n_train]
    return fashion_mnist.Split(train.images[chosen], train.labels[chosen])


def gradient_norms(model: ResNet) -> list[float]:
    """The L2 norm of each 3x3 convolution's weight gradient, first layer first."""
    return [float(conv.weight.grad.norm()) if conv.weight.grad is not None else 0.0 for conv in model.conv_layers()]


def compare_training(blocks: int = 5, width: int = 8, batch_norm: bool = False, steps: int = 150,
                     n_train: int = 3000, batch_size: int = 64, lr: float = 1e-3, report_every: int = 5,
                     seed: int = 0) -> Iterator[dict]:
    """Job: train a plain and a residual net with `blocks` blocks per stage (depth 6*blocks+2)
    in alternation. Every `report_every` steps yields {step, loss_plain, loss_residual,
    grad_plain, grad_residual} (losses averaged since the last report); returns the final losses.
    Near the job's time limit it reports and stops early (`zoo.jobs.deadline`)."""
    torch.manual_seed(seed)
    device = pick_device()
    nets = {}
    for kind in NETS:
        torch.manual_seed(seed)  # the same initial weights where the two nets have the same layers
        config = ResNetConfig(width=width, blocks=(blocks,) * 3, residual=kind == "residual", batch_norm=batch_norm)
        nets[kind] = ResNet(config).to(device)
    optimizers = {kind: torch.optim.Adam(net.parameters(), lr=lr) for kind, net in nets.items()}
    data = demo_images(n_train, seed)
    batches = fashion_mnist.batches(data, min(batch_size, len(data)), seed)
    yield {"step": 0, "depth": nets["plain"].config.depth, "layers": len(nets["plain"].conv_layers())}
    sums = dict.fromkeys(NETS, 0.0)
    for step in range(1, steps + 1):
        x, y = (t.to(device) for t in next(batches))
        for kind, net in nets.items():
            set_train_mode(net)
            loss = net.loss(x, y)
            optimizers[kind].zero_grad(set_to_none=True)
            loss.backward()
            optimizers[kind].step()
            sums[kind] += loss.item()
        event = {"step": step}
        stopping = deadline.wrap_up(event, step, steps)
        if step % report_every == 0 or step == steps or stopping:
            n = (step - 1) % report_every + 1
            for kind, net in nets.items():
                event[f"loss_{kind}"] = sums[kind] / n
                event[f"grad_{kind}"] = gradient_norms(net)
            sums = dict.fromkeys(NETS, 0.0)
            yield event
        if stopping:
            break
    return {kind: event[f"loss_{kind}"] for kind in NETS}


def gradient_table(events: list[dict], kind: str) -> tuple[list[int], np.ndarray]:
    """The reported steps and log10 of each layer's gradient norm, (layers, steps), for one net."""
    rows = [(e["step"], e[f"grad_{kind}"]) for e in events if f"grad_{kind}" in e]
    if not rows:
        return [], np.zeros((0, 0))
    steps, norms = zip(*rows)
    return list(steps), np.log10(np.maximum(np.array(norms, dtype=float).T, 1e-30))
