"""models.autoencoder: shapes, losses that go down, the latent plane, the job."""
import numpy as np
import pytest
import torch

from models.autoencoder import explore
from models.autoencoder.model import Autoencoder, AutoencoderConfig
from models.autoencoder.recipe import finetune_autoencoder, reconstruction_figures
from tests.helpers import consume
from zoo import checkpoints
from zoo.data import fashion_mnist
from zoo.training.loop import make_optimizer, train_steps

TINY = dict(latent=4, channels=(4, 8))


def _batch(n=32):
    return fashion_mnist.load_sample().floats()[:n]


@pytest.mark.parametrize("kind", ["ae", "denoising", "sparse", "vae"])
def test_shapes_and_a_few_steps_lower_the_loss(kind):
    torch.manual_seed(0)
    model = Autoencoder(AutoencoderConfig(kind=kind, noise=0.3, l1=0.01, **TINY))
    x = _batch()
    assert model(x).shape == (32, 1, 28, 28) and 0 <= model(x).min() and model(x).max() <= 1
    assert model.encode(x)[0].shape == (32, 4)
    optimizer, _ = make_optimizer(model, 1e-2)
    events = list(train_steps(model, iter([(x, torch.zeros(32))] * 40), optimizer, 40))
    assert events[-1]["loss"] < 0.8 * events[0]["loss"]
    assert "reconstruction" in events[-1]
    assert ("kl" in events[-1]) == (kind == "vae") and ("l1" in events[-1]) == (kind == "sparse")


def test_vae_loss_is_the_negative_elbo():
    torch.manual_seed(0)
    model = Autoencoder(AutoencoderConfig(kind="vae", **TINY)).eval()
    x = _batch(8)
    with torch.no_grad():
        terms = {key: float(value) for key, value in model.loss(x, sample_z=False).items()}
        assert terms["kl"] >= 0
        assert terms["loss"] == pytest.approx(terms["reconstruction"] + terms["kl"])
        assert float(model.loss(x, beta=0.0, sample_z=False)["loss"]) == pytest.approx(terms["reconstruction"])
    assert model.sample(5).shape == (5, 1, 28, 28)


def test_only_the_right_kinds_sample_or_have_a_dictionary():
    with pytest.raises(ValueError, match="prior"):
        Autoencoder(AutoencoderConfig(kind="ae", **TINY)).sample(2)
    with pytest.raises(ValueError, match="sparse"):
        Autoencoder(AutoencoderConfig(kind="vae", **TINY)).dictionary()
    assert Autoencoder(AutoencoderConfig(kind="sparse", latent=6)).dictionary().shape == (6, 28, 28)
    with pytest.raises(ValueError, match="unknown"):
        Autoencoder(AutoencoderConfig(kind="gan"))


def test_denoising_corrupts_only_while_training():
    torch.manual_seed(0)
    model = Autoencoder(AutoencoderConfig(kind="denoising", noise=0.5, **TINY)).eval()
    x = _batch(4)
    assert torch.equal(model.loss(x)["loss"], model.loss(x)["loss"])  # no noise in eval mode
    noisy = model.corrupt(x)
    assert noisy.shape == x.shape and not torch.equal(noisy, x) and 0 <= noisy.min() and noisy.max() <= 1


def test_latent_plane_projects_and_lifts_back_onto_the_plane():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(500, 5)) * np.array([5.0, 2.0, 0.1, 0.1, 0.1])
    plane = explore.latent_plane(codes)
    assert np.abs(plane.axes @ plane.axes.T - np.eye(2)).max() < 1e-9
    assert abs(abs(plane.axes[0, 0]) - 1) < 0.01 and plane.spread[0] == pytest.approx(5.0, rel=0.1)
    points = np.array([[1.0, -2.0], [0.5, 0.5]])
    assert np.allclose(plane.project(plane.lift(points)), points)


def test_grid_interpolation_and_noise():
    torch.manual_seed(0)
    model = Autoencoder(AutoencoderConfig(kind="vae", **TINY)).eval()
    x = _batch(50)
    plane = explore.latent_plane(explore.encode(model, x))
    assert explore.plane_grid(model, plane, size=3).shape == (9, 28, 28)
    assert explore.interpolate(model, fashion_mnist.load_sample().images[:2].numpy(), steps=5).shape == (5, 28, 28)
    assert np.array_equal(explore.samples(model, 3, seed=1), explore.samples(model, 3, seed=1))
    noisy = explore.add_noise(x, 0.3)
    assert torch.equal(noisy, explore.add_noise(x, 0.3)) and 0 <= noisy.min() and noisy.max() <= 1


def test_recipe_figures_per_kind():
    for kind, expected in [("vae", {"elbo_nats", "kl_nats"}), ("denoising", {"noisy_mse", "denoised_mse"}),
                           ("sparse", {"active_code_share"})]:
        model = Autoencoder(AutoencoderConfig(kind=kind, noise=0.5, **TINY))
        figures = reconstruction_figures(model, _batch(20), torch.device("cpu"))
        assert {"reconstruction_mse", "reconstruction_nats"} | expected == set(figures)


def test_finetune_job_reports_terms_and_pictures(checkpoint_dir):
    torch.manual_seed(0)
    recipe = checkpoints.recipe("vae-fashion")
    model = Autoencoder(AutoencoderConfig(kind="vae", **TINY))
    checkpoints.save("vae-fashion", model.eval(), {"title": "VAE", "config": {**recipe.config_dict(), **TINY},
                                                   "metrics": {}})
    events, weights = consume(finetune_autoencoder("vae-fashion", 1e-3, 6, beta=4.0, n_train=200,
                                                   sample_every=3))
    assert [e["step"] for e in events] == list(range(7))
    assert {"reconstruction", "kl", "loss"} <= set(events[1])
    assert events[3]["reconstructions"].shape == (8, 28, 28) and events[3]["samples"].dtype == np.uint8
    assert isinstance(weights, bytes) and len(weights) > 1000
