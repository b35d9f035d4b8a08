"""Fashion-MNIST (Xiao et al. 2017): 60k train / 10k test 28x28 greyscale garments.

Looked for in `ZOO_DATA_DIR`, then Debian's `dataset-fashion-mnist`, then the user cache;
downloaded (checked by sha256) only when `ZOO_DOWNLOAD=1` and the network is reachable.
"""
from __future__ import annotations

import gzip
import hashlib
import urllib.request
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from zoo import i18n, settings
from zoo.data.errors import DataNotFoundError

CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
"""the classes by label, as the data set names them (upload folders, files); a reader sees `class_names()`"""
FILES = {
    "train-images": ("train-images-idx3-ubyte.gz", "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7"),
    "train-labels": ("train-labels-idx1-ubyte.gz", "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056"),
    "test-images": ("t10k-images-idx3-ubyte.gz", "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa"),
    "test-labels": ("t10k-labels-idx1-ubyte.gz", "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05"),
}
MIRROR = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
SAMPLE_PATH = Path(__file__).resolve().parents[2] / "assets" / "fashion_mnist_sample.npz"


@dataclass(frozen=True)
class Split:
    """Images as uint8 (N, 28, 28) and labels as int64 (N,)."""
    images: torch.Tensor
    labels: torch.Tensor

    def floats(self) -> torch.Tensor:
        """Images as float (N, 1, 28, 28) in [0, 1], the contract of every image model."""
        return self.images.unsqueeze(1).float() / 255.0

    def __len__(self) -> int:
        return len(self.labels)


def search_dirs() -> list[Path]:
    """Where the loader looks, in order."""
    return [*settings.data_dirs("fashion-mnist"), DEBIAN_DIR, cache_dir()]


def cache_dir() -> Path:
    return settings.cache_dir("fashion-mnist")


def _find(filename: str) -> Path | None:
    for directory in search_dirs():
        if (directory / filename).is_file():
            return directory / filename
    return None


def _download(filename: str, sha256: str) -> Path:
    target = cache_dir() / filename
    target.parent.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(MIRROR + filename, timeout=30) as response:
        payload = response.read()
    if hashlib.sha256(payload).hexdigest() != sha256:
        raise DataNotFoundError(f"Downloaded {filename} but its sha256 does not match; not using it.")
    target.write_bytes(payload)
    return target


def _path(key: str) -> Path:
    filename, sha256 = FILES[key]
    found = _find(filename)
    if found:
        return found
    if settings.download_allowed():
        try:
            return _download(filename, sha256)
        except OSError as error:
            reason = f" (download failed: {error})"
    else:
        reason = ""
    looked = ", ".join(str(d) for d in search_dirs())
    raise DataNotFoundError(
        f"Fashion-MNIST file {filename} not found in {looked}{reason}. Install it with "
        "`sudo apt-get install dataset-fashion-mnist`, put the four .gz files in $ZOO_DATA_DIR, "
        "or set ZOO_DOWNLOAD=1 to download them (checked by sha256).")


def _read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


@lru_cache(maxsize=2)
def load(split: str = "train") -> Split:
    """The full 'train' or 'test' split."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    images = _read_idx(_path(f"{split}-images"))
    labels = _read_idx(_path(f"{split}-labels"))
    return Split(torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64)))


def is_installed() -> bool:
    return all(_find(filename) for filename, _ in FILES.values())


def load_sample() -> Split:
    """The small test-set sample shipped in assets/, so pages work with no dataset installed."""
    with np.load(SAMPLE_PATH) as sample:
        return Split(torch.from_numpy(sample["images"]), torch.from_numpy(sample["labels"].astype(np.int64)))


def batches(split: Split, batch_size: int, seed: int = 0, start_step: int = 0):
    """Endless shuffled (images float, labels) batches; epoch e uses permutation seed+e.

    Starting at `start_step` gives exactly the batches a run would have seen from there,
    so an interrupted training run resumes on the same data order.
    """
    n = len(split)
    per_epoch = n // batch_size
    step = start_step
    while True:
        epoch, index = divmod(step, per_epoch)
        order = torch.randperm(n, generator=torch.Generator().manual_seed(seed + epoch))
        chosen = order[index * batch_size:(index + 1) * batch_size]
        yield split.images[chosen].unsqueeze(1).float() / 255.0, split.labels[chosen]
        step += 1


def augment(x: torch.Tensor, max_shift: int = 2, flip: bool = True) -> torch.Tensor:
    """Random shifts of up to `max_shift` pixels (zero padded) and horizontal flips, per image."""
    n, c, h, w = x.shape
    padded = torch.nn.functional.pad(x, (max_shift,) * 4)
    dy = torch.randint(0, 2 * max_shift + 1, (n,), device=x.device)
    dx = torch.randint(0, 2 * max_shift + 1, (n,), device=x.device)
    rows = (torch.arange(h, device=x.device)[None, :] + dy[:, None])[:, None, :, None]
    cols = (torch.arange(w, device=x.device)[None, :] + dx[:, None])[:, None, None, :]
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    channel = torch.arange(c, device=x.device)[None, :, None, None]
    shifted = padded[batch, channel, rows, cols]
    if flip:
        mirror = torch.rand(n, device=x.device) < 0.5
        shifted = torch.where(mirror[:, None, None, None], shifted.flip(-1), shifted)
    return shifted


def class_names() -> tuple[str, ...]:
    """The classes by label in the reader's language."""
    return tuple(i18n.t(f"fashion.class.{label}") for label in range(len(CLASSES)))


def match_class(folder: str) -> int | None:
    """The class a folder name means ('t-shirt', 'T-shirt_top', 'ankle boot', 'bags'..., or its name in any
    language the zoo speaks: '连衣裙', 'Платье', 'T恤'), or None."""
    simple = _simple(folder)
    aliases = {"tshirt": 0, "top": 0, "tshirttop": 0, "ankleboot": 9, "boot": 9}
    for i, name in enumerate(CLASSES):
        key = _simple(name)
        if simple in (key, key + "s", key + "es"):
            return i
    found = aliases.get(simple.rstrip("s"), aliases.get(simple))
    return found if found is not None else _translated_names().get(simple)


def _simple(name: str) -> str:
    """A name's letters and digits, lower case: how folder names are compared."""
    return "".join(ch for ch in name.lower() if ch.isalnum())


@lru_cache(maxsize=1)
def _translated_names() -> dict[str, int]:
    """Each class's names in every language of the zoo (fashion.class.*), whole and each part between slashes
    ('T恤/上衣': 'T恤' and '上衣'), simplified, to its label."""
    names = {}
    for label in range(len(CLASSES)):
        for text in i18n.catalogue()[f"fashion.class.{label}"].values():
            for name in [text, *text.split("/")]:
                names.setdefault(_simple(name), label)
    return names


def subset(n_train: int, n_held_out: int = 500, seed: int = 0) -> tuple[Split, Split]:
    """`n_train` random training images and the first `n_held_out` test images.

    Without the dataset installed, the shipped 100-image sample is split 70 / 30 instead.
    """
    try:
        train, test = load("train"), load("test")
    except DataNotFoundError:
        sample = load_sample()
        train = Split(sample.images[:70], sample.labels[:70])
        return train, Split(sample.images[70:], sample.labels[70:])
    chosen = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[:n_train]
    return (Split(train.images[chosen], train.labels[chosen]),
            Split(test.images[:n_held_out], test.labels[:n_held_out]))
