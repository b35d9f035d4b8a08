"""zoo.data.fashion_mnist: where it looks, the clear error, batches and augmentation."""
import gzip
import shutil

import numpy as np
import pytest
import torch

from zoo.data import DataNotFoundError, fashion_mnist

DEBIAN = fashion_mnist.DEBIAN_DIR


def _write_idx(path, array):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def fake_dataset(tmp_path):
    """A 12-image fake Fashion-MNIST in the four idx.gz files."""
    rng = np.random.default_rng(0)
    for split, n in (("train", 12), ("t10k", 5)):
        _write_idx(tmp_path / f"{split}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        _write_idx(tmp_path / f"{split}-labels-idx1-ubyte.gz", np.arange(n) % 10)
    fashion_mnist.load.cache_clear()
    yield tmp_path
    fashion_mnist.load.cache_clear()


def test_zoo_data_dir_comes_first(fake_dataset, monkeypatch):
    monkeypatch.setenv("ZOO_DATA_DIR", str(fake_dataset))
    train = fashion_mnist.load("train")
    assert train.images.shape == (12, 28, 28) and train.images.dtype == torch.uint8
    assert train.labels.tolist() == [i % 10 for i in range(12)]
    assert fashion_mnist.search_dirs()[0] == fake_dataset / "fashion-mnist"
    assert fashion_mnist.search_dirs().index(DEBIAN) < fashion_mnist.search_dirs().index(fashion_mnist.cache_dir())


def test_user_cache_is_the_last_place(fake_dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", tmp_path / "no-debian")
    shutil.copytree(fake_dataset, fashion_mnist.cache_dir())
    assert len(fashion_mnist.load("test")) == 5


def test_missing_data_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", tmp_path / "no-debian")
    monkeypatch.delenv("ZOO_DOWNLOAD", raising=False)
    fashion_mnist.load.cache_clear()
    with pytest.raises(DataNotFoundError) as error:
        fashion_mnist.load("train")
    fashion_mnist.load.cache_clear()
    message = str(error.value)
    assert "apt-get install dataset-fashion-mnist" in message and "ZOO_DATA_DIR" in message and "ZOO_DOWNLOAD" in message


def test_shipped_sample_has_every_class():
    sample = fashion_mnist.load_sample()
    assert sample.images.shape == (100, 28, 28)
    assert sorted(set(sample.labels.tolist())) == list(range(10))
    assert sample.floats().shape == (100, 1, 28, 28) and float(sample.floats().max()) <= 1.0


def test_batches_resume_on_the_same_order():
    split = fashion_mnist.load_sample()
    run = fashion_mnist.batches(split, 16, seed=3)
    first = [next(run)[1] for _ in range(8)]
    resumed = fashion_mnist.batches(split, 16, seed=3, start_step=5)
    for expected in first[5:]:
        assert torch.equal(next(resumed)[1], expected)


def test_augment_keeps_shape_and_range_and_moves_pixels():
    x = fashion_mnist.load_sample().floats()[:32]
    torch.manual_seed(0)
    y = fashion_mnist.augment(x)
    assert y.shape == x.shape and 0 <= float(y.min()) and float(y.max()) <= 1
    assert not torch.equal(x, y)
    assert torch.equal(fashion_mnist.augment(x, max_shift=0, flip=False), x)


def test_folder_names_match_classes():
    assert fashion_mnist.match_class("T-shirt_top") == 0
    assert fashion_mnist.match_class("sneakers") == 7
    assert fashion_mnist.match_class("Ankle boot") == 9
    assert fashion_mnist.match_class("cats") is None


def test_folder_names_in_chinese_or_russian_match_classes():
    """A class folder named in any language the zoo speaks (zoo/i18n/fashion.toml), whole or one side of a slash."""
    assert [fashion_mnist.match_class(name) for name in ["连衣裙", "Платье", "T恤", "上衣", "футболка_топ", "短靴",
                                                         "Кроссовок", "猫"]] == [3, 3, 0, 0, 0, 9, 7, None]
