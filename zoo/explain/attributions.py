"""Which pixels an image classifier's chosen class rests on, by six methods: saliency (Simonyan et al. 2013),
input x gradient (Shrikumar et al. 2016), integrated gradients (Sundararajan et al. 2017) from a black and a
blurred baseline (Sturmfels et al. 2020), SmoothGrad (Smilkov et al. 2017), occlusion (Zeiler & Fergus 2014)
and Grad-CAM (Selvaraju et al. 2017).

Every method gives a (28, 28) map with one convention, so a page draws them all on one colour scale: positive
values are evidence for the class, negative against it; saliency and SmoothGrad are gradient magnitudes and
Grad-CAM is rectified, so theirs are never negative. Each records the image passes it cost and its time.
No hooks and no weight changes: a model shared by sessions is only read.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from zoo.i18n import t

BATCH = 64
"""images per forward and backward pass: a batch of paths, noisy copies or occluded images at a time"""
BLUR_SIGMA = 5.0
"""the blurred baseline's Gaussian width in pixels: wide enough to erase a garment's edges and texture, not its mass"""
MAX_IG_STEPS = 128
MAX_SMOOTHGRAD_SAMPLES = 50
OCCLUSION_PATCHES = (2, 14)
"""the smallest and largest occluding square, in pixels"""

METHODS = {"Saliency": "saliency", "Input x gradient": "input_x_gradient", "Integrated gradients, black": "ig_black",
           "Integrated gradients, blurred": "ig_blurred", "SmoothGrad": "smoothgrad", "Occlusion": "occlusion",
           "Grad-CAM": "grad_cam"}
"""every method by its name in code (`Attribution.method`, English), with its name in the catalogues (explain.toml's
method.* and measures.*), in the order they are drawn"""
WHAT_EACH_MEASURES = {method: f"explain.measures.{slug}" for method, slug in METHODS.items()}
"""the catalogue key of one line per method on what it measures, in the order they are drawn"""


def method_name(method: str) -> str:
    """A method's name (`Attribution.method`) as the reader's language writes it."""
    return t(f"explain.method.{METHODS[method]}")


def what_it_measures(method: str) -> str:
    """One line on what the method measures, in the reader's language."""
    return t(WHAT_EACH_MEASURES[method])


@dataclass(frozen=True)
class Note:
    """A sentence about one map, kept as its catalogue key and values so that a map computed (and cached) in one
    language reads in any: `str(note)` speaks the language in force."""
    key: str
    values: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return t(self.key, **self.values)


@dataclass(frozen=True)
class Options:
    """The methods' settings a person may change, each within a budget that keeps one explanation to seconds."""
    ig_steps: int = 32
    """points on the path from the baseline to the image"""
    ig_baselines: tuple[str, ...] = ("black", "blurred")
    smoothgrad_samples: int = 25
    smoothgrad_noise: float = 0.15
    """the noise's standard deviation as a share of the pixel range [0, 1]"""
    occlusion_patch: int = 4
    occlusion_stride: int = 2
    seed: int = 0
    """SmoothGrad's noise"""

    def __post_init__(self):
        if not 1 <= self.ig_steps <= MAX_IG_STEPS:
            raise ValueError(f"Integrated gradients takes 1 to {MAX_IG_STEPS} steps, not {self.ig_steps}.")
        if not set(self.ig_baselines) <= {"black", "blurred"}:
            raise ValueError(f"Integrated gradients' baselines are black and blurred, not {self.ig_baselines}.")
        if not 1 <= self.smoothgrad_samples <= MAX_SMOOTHGRAD_SAMPLES:
            raise ValueError(f"SmoothGrad takes 1 to {MAX_SMOOTHGRAD_SAMPLES} samples, not {self.smoothgrad_samples}.")
        low, high = OCCLUSION_PATCHES
        if not low <= self.occlusion_patch <= high or not 1 <= self.occlusion_stride <= self.occlusion_patch:
            raise ValueError(f"Occlusion takes a patch of {low} to {high} pixels and a stride of 1 to the patch's "
                             f"size, not {self.occlusion_patch} and {self.occlusion_stride}.")


@dataclass(frozen=True)
class Attribution:
    """One method's map for one image and class, and what it cost."""
    method: str
    values: np.ndarray
    """(28, 28) evidence for the class, in the method's own units"""
    signed: bool
    """False for maps that are never negative (saliency, SmoothGrad, Grad-CAM)"""
    forward: int
    """images passed forward"""
    backward: int
    """images passed backward"""
    ms: float
    """the call's wall time"""
    note: Note | None = None
    """what a reader should know about this map (`str(note)` in their language)"""

    @property
    def title(self) -> str:
        """The method's name in the reader's language."""
        return method_name(self.method)

    def scaled(self) -> np.ndarray:
        """The map divided by its largest magnitude: in [-1, 1], the scale every method shares."""
        largest = float(np.abs(self.values).max())
        return self.values / largest if largest > 0 else np.zeros_like(self.values)


def has_feature_maps(model: torch.nn.Module) -> bool:
    """Whether Grad-CAM applies: the model exposes its conv feature maps and the head that reads the last."""
    return hasattr(model, "feature_maps") and hasattr(model, "head_from_map")


def class_gradients(model: torch.nn.Module, images: torch.Tensor, target: int) -> torch.Tensor:
    """The gradient of the class's logit with respect to the pixels of each image (N, 1, 28, 28), on the CPU,
    BATCH images at a time."""
    device = next(model.parameters()).device
    gradients = []
    with torch.enable_grad():
        for chunk in images.split(BATCH):
            x = chunk.to(device).detach().requires_grad_(True)
            (gradient,) = torch.autograd.grad(model(x)[:, target].sum(), x)
            gradients.append(gradient.float().cpu())
    return torch.cat(gradients)


@torch.no_grad()
def class_logits(model: torch.nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Every class's logit (N, C) for each image, on the CPU, BATCH images at a time."""
    device = next(model.parameters()).device
    return torch.cat([model(chunk.to(device)).float().cpu() for chunk in images.split(BATCH)])


def class_probabilities(model: torch.nn.Module, images: torch.Tensor, target: int) -> torch.Tensor:
    """The class's probability (N,) for each image."""
    return F.softmax(class_logits(model, images), dim=1)[:, target]


def _timed(method: Callable[[], tuple[np.ndarray, int, int, Note | None]], name: str, signed: bool) -> Attribution:
    start = time.perf_counter()
    values, forward, backward, note = method()
    return Attribution(name, values, signed, forward, backward, (time.perf_counter() - start) * 1000, note)


def saliency(model: torch.nn.Module, image: torch.Tensor, target: int) -> Attribution:
    """|d logit / d pixel|: where a small change would move the score most."""
    def run():
        gradient = class_gradients(model, image, target)
        return gradient[0, 0].abs().numpy(), 1, 1, None
    return _timed(run, "Saliency", signed=False)


def input_x_gradient(model: torch.nn.Module, image: torch.Tensor, target: int) -> Attribution:
    """pixel x d logit / d pixel: the gradient weighted by what is there."""
    def run():
        gradient = class_gradients(model, image, target)
        return (image.cpu() * gradient)[0, 0].numpy(), 1, 1, None
    return _timed(run, "Input x gradient", signed=True)


def blurred(image: torch.Tensor, sigma: float = BLUR_SIGMA) -> torch.Tensor:
    """The image (N, 1, H, W) under a Gaussian blur of `sigma` pixels (one separable kernel, zero padding)."""
    radius = math.ceil(3 * sigma)
    offsets = torch.arange(-radius, radius + 1, dtype=image.dtype)
    kernel = torch.exp(-offsets ** 2 / (2 * sigma ** 2))
    kernel = kernel / kernel.sum()
    rows = F.conv2d(image, kernel.view(1, 1, -1, 1), padding=(radius, 0))
    return F.conv2d(rows, kernel.view(1, 1, 1, -1), padding=(0, radius))


def integrated_gradients(model: torch.nn.Module, image: torch.Tensor, target: int, baseline: torch.Tensor,
                         steps: int = 32, name: str = "Integrated gradients") -> Attribution:
    """(x - x') times the mean gradient at `steps` points of the straight path from `baseline` x' to x (the
    midpoint rule): by completeness the map sums to logit(x) - logit(x'), more closely with more steps."""
    def run():
        x, start = image.cpu(), baseline.cpu()
        alphas = (torch.arange(steps, dtype=x.dtype) + 0.5) / steps
        path = start + alphas.view(-1, 1, 1, 1) * (x - start)  # (steps, 1, 28, 28)
        gradients = class_gradients(model, path, target)
        values = ((x - start) * gradients.mean(0, keepdim=True))[0, 0]
        ends = class_logits(model, torch.cat([x, start]))[:, target]
        rise, total = float(ends[0] - ends[1]), float(values.sum())
        note = Note("explain.note_ig", dict(total=total, rise=rise, gap=abs(total - rise) / max(abs(rise), 1e-12)))
        return values.numpy(), steps + 2, steps, note
    return _timed(run, name, signed=True)


def smoothgrad(model: torch.nn.Module, image: torch.Tensor, target: int, samples: int = 25, noise: float = 0.15,
               seed: int = 0) -> Attribution:
    """The mean |gradient| over `samples` copies of the image with Gaussian noise of standard deviation `noise`."""
    def run():
        generator = torch.Generator().manual_seed(seed)
        x = image.cpu()
        noisy = x + noise * torch.randn((samples, *x.shape[1:]), generator=generator)
        gradients = class_gradients(model, noisy, target)
        return gradients.abs().mean(0)[0].numpy(), samples, samples, None
    return _timed(run, "SmoothGrad", signed=False)


def occlusion_positions(size: int, patch: int, stride: int) -> list[int]:
    """Where a patch starts along one side, `stride` apart, the last one flush with the border."""
    starts = list(range(0, size - patch + 1, stride))
    return starts if starts[-1] == size - patch else starts + [size - patch]


def occlusion(model: torch.nn.Module, image: torch.Tensor, target: int, patch: int = 4, stride: int = 2) -> Attribution:
    """For each pixel, the mean fall of the class's probability when a black `patch` x `patch` square covering
    it is laid on the image, at every `stride` pixels."""
    def run():
        x = image.cpu()
        size = x.shape[-1]
        starts = occlusion_positions(size, patch, stride)
        corners = [(r, c) for r in starts for c in starts]
        covers = torch.zeros(len(corners), 1, size, size, dtype=x.dtype)
        for i, (r, c) in enumerate(corners):
            covers[i, 0, r:r + patch, c:c + patch] = 1
        probabilities = class_probabilities(model, torch.cat([x, x * (1 - covers)]), target)
        falls = probabilities[0] - probabilities[1:]  # (P,)
        values = (falls.view(-1, 1, 1) * covers[:, 0]).sum(0) / covers[:, 0].sum(0)
        return (values.numpy(), len(corners) + 1, 0,
                Note("explain.note_occlusion", dict(squares=len(corners), patch=patch, stride=stride)))
    return _timed(run, "Occlusion", signed=True)


def cam_from(last_map: torch.Tensor, last_gradient: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Grad-CAM from the last conv layer's output (1, C, h, w) and the score's gradient there: the channels
    weighed by their mean gradient, summed, rectified and enlarged to `size` (bilinear) -> (H, W)."""
    weights = last_gradient.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * last_map).sum(1, keepdim=True)).detach()
    return F.interpolate(cam, size=size, mode="bilinear", align_corners=False)[0, 0]


def grad_cam(model: torch.nn.Module, image: torch.Tensor, target: int) -> Attribution:
    """Grad-CAM at the model's last conv layer (`has_feature_maps` must hold)."""
    def run():
        # the pixels ask for a gradient so that one flows to the maps, even when a shared model's weights ask for none
        x = image.to(next(model.parameters()).device).detach().requires_grad_(True)
        with torch.enable_grad():
            last = model.feature_maps(x)[-1]
            score = model.head_from_map(last)[0, target]
            (gradient,) = torch.autograd.grad(score, last)
        return cam_from(last, gradient, tuple(x.shape[-2:])).float().cpu().numpy(), 1, 1, None
    return _timed(run, "Grad-CAM", signed=False)


def attribute_all(model: torch.nn.Module, image: torch.Tensor, target: int, options: Options = Options()
                  ) -> list[Attribution]:
    """Every method that applies to the model, for float `image` (1, 1, 28, 28) in [0, 1] and class `target`,
    in the order of WHAT_EACH_MEASURES."""
    found = [saliency(model, image, target), input_x_gradient(model, image, target)]
    baselines = {"black": torch.zeros_like(image), "blurred": blurred(image.cpu())}
    found += [integrated_gradients(model, image, target, baselines[kind], options.ig_steps,
                                   name=f"Integrated gradients, {kind}") for kind in options.ig_baselines]
    found.append(smoothgrad(model, image, target, options.smoothgrad_samples, options.smoothgrad_noise, options.seed))
    found.append(occlusion(model, image, target, options.occlusion_patch, options.occlusion_stride))
    if has_feature_maps(model):
        found.append(grad_cam(model, image, target))
    return found
