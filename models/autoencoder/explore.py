"""What the autoencoder page computes with the trained models: codes and reconstructions, the plane
the latent map shows, decoded grids and interpolations, noisy inputs, the sparse dictionary and an
image's strongest atoms, VAE samples. Pictures come back as numpy arrays, ready to draw."""
from __future__ import annotations

import numpy as np
import torch

from zoo.data import fashion_mnist
from zoo.projection import PrincipalAxes, principal_axes


@torch.no_grad()
def encode(model: torch.nn.Module, images: torch.Tensor) -> np.ndarray:
    """Codes (N, latent) of float images (N, 1, 28, 28): the VAE's posterior means."""
    device = next(model.parameters()).device
    return torch.cat([model.encode(images[i:i + 1000].to(device))[0].cpu() for i in range(0, len(images), 1000)]).numpy()


@torch.no_grad()
def decode(model: torch.nn.Module, codes: np.ndarray) -> np.ndarray:
    """Images (N, 28, 28) in [0, 1] from codes (N, latent)."""
    device = next(model.parameters()).device
    return model.decode(torch.as_tensor(codes, dtype=torch.float32, device=device)).squeeze(1).cpu().numpy()


def latent_plane(codes: np.ndarray) -> PrincipalAxes:
    """The plane the latent map shows: the two directions along which the codes vary most (PCA)."""
    return principal_axes(codes, 2)


def plane_grid(model: torch.nn.Module, plane: PrincipalAxes, size: int = 9, reach: float = 2.0) -> np.ndarray:
    """Images (size * size, 28, 28) decoded on a grid over the plane, `reach` standard deviations each way."""
    steps = np.linspace(-reach, reach, size)
    points = np.array([(a, b) for b in steps[::-1] for a in steps]) * plane.spread
    return decode(model, plane.lift(points))


def interpolate(model: torch.nn.Module, pair: np.ndarray, steps: int = 9) -> np.ndarray:
    """Images (steps, 28, 28) decoded along the straight line between the codes of two uint8 images (2, 28, 28)."""
    codes = encode(model, torch.from_numpy(pair).float().unsqueeze(1) / 255.0)
    mix = np.linspace(0, 1, steps)[:, None]
    return decode(model, (1 - mix) * codes[0] + mix * codes[1])


def map_sample(n: int = 2000) -> fashion_mnist.Split:
    """The test images the latent map shows: the first N of the test set, or the shipped sample."""
    if not fashion_mnist.is_installed():
        return fashion_mnist.load_sample()
    test = fashion_mnist.load("test")
    return fashion_mnist.Split(test.images[:n], test.labels[:n])


@torch.no_grad()
def reconstruct(model: torch.nn.Module, images: torch.Tensor) -> np.ndarray:
    """Reconstructions (N, 28, 28) of float images (N, 1, 28, 28)."""
    device = next(model.parameters()).device
    return model(images.to(device)).squeeze(1).cpu().numpy()


@torch.no_grad()
def strongest_atoms(model: torch.nn.Module, image: torch.Tensor, k: int = 8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sparse autoencoder's K most active code units for one image (1, 28, 28): their ids,
    activations, and atoms (K, 28, 28); the reconstruction is (roughly) their weighted sum."""
    code = encode(model, image.unsqueeze(0))[0]
    units = np.argsort(code)[::-1][:k]
    return units, code[units], dictionary(model)[units]


def dictionary(model: torch.nn.Module) -> np.ndarray:
    """The sparse autoencoder's atoms (latent, 28, 28): each code unit's decoder weights as a picture."""
    return model.dictionary().cpu().numpy()


def samples(model: torch.nn.Module, n: int, seed: int) -> np.ndarray:
    """N VAE samples (N, 28, 28) from the prior, the same for the same seed."""
    return model.sample(n, torch.Generator().manual_seed(seed)).squeeze(1).cpu().numpy()


def add_noise(images: torch.Tensor, std: float, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return (images + std * torch.randn(images.shape, generator=generator)).clamp(0, 1)
