"""A CIFAR-style residual network for Fashion-MNIST (He et al. 2016, "Deep Residual Learning
for Image Recognition", section 4.2). A 3x3 stem, three stages of basic blocks at 28, 14 and
7 pixels with widths (w, 2w, 4w), global average pooling and a linear classifier.

`residual=False` builds the plain network of the same depth (the same blocks with no
shortcut), the comparison the paper uses to show that residuals make depth trainable.
Normalisation lives inside, so the checkpoint is self-contained.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from zoo.training.image_classifier import ClassifierTraining, ImageClassifierRecipe
from zoo.data import DataNotFoundError, fashion_mnist
from zoo.devices import pick_device
from zoo.training.loop import set_train_mode

FASHION_MEAN, FASHION_STD = 0.2860, 0.3530


@dataclass
class ResNetConfig:
    width: int = 16
    """channels of the first stage; the next two stages have 2x and 4x"""
    blocks: tuple[int, int, int] = (3, 3, 3)
    """basic blocks per stage; depth = 2 * sum(blocks) + 2 (ResNet-20 is (3, 3, 3))"""
    residual: bool = True
    """False builds the plain network of the same depth: no shortcuts at all"""
    batch_norm: bool = True
    """False drops every batch norm (then a deep plain net's gradients vanish: the residual demo)"""
    n_classes: int = 10

    @property
    def depth(self) -> int:
        """Weighted layers: the stem, two convolutions per block, the classifier."""
        return 2 * sum(self.blocks) + 2


def conv_norm(c_in: int, c_out: int, kernel: int, stride: int, batch_norm: bool) -> tuple[nn.Conv2d, nn.Module]:
    """A convolution (with a bias only when no batch norm follows) and its batch norm or identity."""
    conv = nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=not batch_norm)
    return conv, nn.BatchNorm2d(c_out) if batch_norm else nn.Identity()


class BasicBlock(nn.Module):
    """Two 3x3 conv + batch norm; adds the input back (a 1x1 stride-2 conv where the shape changes)."""

    def __init__(self, c_in: int, c_out: int, stride: int, residual: bool, batch_norm: bool = True):
        super().__init__()
        self.conv1, self.bn1 = conv_norm(c_in, c_out, 3, stride, batch_norm)
        self.conv2, self.bn2 = conv_norm(c_out, c_out, 3, 1, batch_norm)
        self.residual = residual
        self.shortcut = None
        if residual and (stride != 1 or c_in != c_out):
            self.shortcut = nn.Sequential(*conv_norm(c_in, c_out, 1, stride, batch_norm))
        if residual and batch_norm:
            # each block starts as the identity, so a deep net starts as a shallow one (Goyal et al. 2017)
            nn.init.zeros_(self.bn2.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        if self.residual:
            h = h + (x if self.shortcut is None else self.shortcut(x))
        return F.relu(h)


class ResNet(nn.Module):
    """(N, 1, 28, 28) images in [0, 1] -> (N, n_classes) logits."""

    def __init__(self, config: ResNetConfig):
        super().__init__()
        self.config = config
        w = config.width
        self.register_buffer("mean", torch.tensor(FASHION_MEAN))
        self.register_buffer("std", torch.tensor(FASHION_STD))
        self.stem = nn.Sequential(*conv_norm(1, w, 3, 1, config.batch_norm), nn.ReLU())
        stages, c_in = [], w
        for i, n_blocks in enumerate(config.blocks):
            c_out = w * 2 ** i
            stages.append(nn.Sequential(*[
                BasicBlock(c_in if b == 0 else c_out, c_out, 2 if (i > 0 and b == 0) else 1,
                           config.residual, config.batch_norm)
                for b in range(n_blocks)]))
            c_in = c_out
        self.stages = nn.ModuleList(stages)
        self.fc = nn.Linear(c_in, config.n_classes)

    def conv_layers(self) -> list[nn.Conv2d]:
        """The 3x3 convolutions in depth order (stem first), whose gradients the residual demo plots."""
        return [m for m in self.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)]

    def feature_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The output of each stage: [(N, w, 28, 28), (N, 2w, 14, 14), (N, 4w, 7, 7)]."""
        h = self.stem((x - self.mean) / self.std)
        maps = []
        for stage in self.stages:
            h = stage(h)
            maps.append(h)
        return maps

    def head_from_map(self, last_map: torch.Tensor) -> torch.Tensor:
        """Logits from the last stage's output (what Grad-CAM differentiates)."""
        return self.fc(last_map.mean(dim=(2, 3)))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The globally pooled last stage (N, 4w): the space a new head is trained on."""
        return self.feature_maps(x)[-1].mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x))

    def loss(self, x: torch.Tensor, y: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
        return F.cross_entropy(self(x), y, label_smoothing=label_smoothing)


# ---- why residuals matter, live (He et al. 2016, figure 1) ----------------------------------
# A plain net and the residual net of the same depth trained in alternation on the same batches;
# each report carries both losses and every convolution's gradient norm, so the page can show the
# plain net's gradient vanishing on its way back to the first layers while the shortcuts carry it.

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
    grad_plain, grad_residual} (losses averaged since the last report); returns the final losses."""
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
        if step % report_every == 0 or step == steps:
            n = (step - 1) % report_every + 1
            event = {"step": step}
            for kind, net in nets.items():
                event[f"loss_{kind}"] = sums[kind] / n
                event[f"grad_{kind}"] = gradient_norms(net)
            sums = dict.fromkeys(NETS, 0.0)
            yield event
    return {kind: event[f"loss_{kind}"] for kind in NETS}


def gradient_table(events: list[dict], kind: str) -> tuple[list[int], np.ndarray]:
    """The reported steps and log10 of each layer's gradient norm, (layers, steps), for one net."""
    rows = [(e["step"], e[f"grad_{kind}"]) for e in events if f"grad_{kind}" in e]
    if not rows:
        return [], np.zeros((0, 0))
    steps, norms = zip(*rows)
    return list(steps), np.log10(np.maximum(np.array(norms, dtype=float).T, 1e-30))


SHIPPED = {
    "resnet-fashion": ImageClassifierRecipe(
        ResNet, ResNetConfig(width=16, blocks=(3, 3, 3)), title="ResNet-20",
        training=ClassifierTraining(epochs=30, batch_size=128, lr=4e-3, weight_decay=1e-2, label_smoothing=0.1,
                                    channels_last=True)),
}
