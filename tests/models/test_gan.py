"""models.gan (model, recipe, explore): shapes, the two optimisers, a few steps of the game, what the page
asks of the DCGAN (samples, interpolation, D's verdict) and its fine-tuning job."""
import numpy as np
import pytest
import torch

from models.gan import explore
from models.gan.model import DCGAN, DCGANConfig, ToyGAN, ToyGANConfig
from models.gan.recipe import adversarial_steps, finetune_gan, optimizers
from tests.helpers import consume
from zoo import checkpoints

TINY = DCGANConfig(noise_dim=8, width=8, embed_dim=4)


def test_dcgan_shapes_and_range():
    model = DCGAN(TINY).eval()
    labels = torch.arange(6)
    images = model.generate(model.noise(6), labels)
    assert images.shape == (6, 1, 28, 28) and 0 <= images.min() and images.max() <= 1
    assert model.score(images, labels).shape == (6,)
    assert model.sample(12).shape == (12, 1, 28, 28)


def test_class_condition_changes_the_image_and_the_score():
    torch.manual_seed(0)
    model = DCGAN(TINY).eval()
    z = model.noise(1).repeat(2, 1)
    images = model.generate(z, torch.tensor([0, 7]))
    assert not torch.allclose(images[0], images[1])
    scores = model.score(images[:1].repeat(2, 1, 1, 1), torch.tensor([0, 7]))
    assert scores[0] != scores[1]


def test_optimisers_split_generator_and_discriminator():
    model = DCGAN(TINY)
    g_optimizer, d_optimizer = optimizers(model, 1e-3, 2e-3)
    g_params = {id(p) for p in g_optimizer.param_groups[0]["params"]}
    d_params = {id(p) for p in d_optimizer.param_groups[0]["params"]}
    assert not g_params & d_params and g_params | d_params == {id(p) for p in model.parameters()}
    assert {id(p) for p in model.class_embed.parameters()} <= g_params
    assert d_optimizer.param_groups[0]["lr"] == 2e-3


def test_toy_gan_learns_to_move_towards_the_data():
    torch.manual_seed(0)
    model = ToyGAN(ToyGANConfig(hidden=32, layers=2))
    target = torch.tensor([3.0, -2.0])
    batches = iter(lambda: (target + 0.1 * torch.randn(64, 2),), None)
    distance = lambda: (model.generate(model.noise(256)).mean(0) - target).norm().item()
    before = distance()
    g_optimizer, d_optimizer = optimizers(model, 3e-3, 3e-3)
    events = list(adversarial_steps(model, batches, g_optimizer, d_optimizer, 300, d_steps=2))
    assert [e["step"] for e in events][-1] == 300 and {"d_loss", "g_loss", "d_real", "d_fake"} <= set(events[-1])
    assert distance() < 0.3 * before
    assert not model.training


def test_samples_of_a_seed_and_a_class():
    model = DCGAN(TINY).eval()
    every = explore.sample_grid(model, seed=3)
    assert every.shape == (40, 28, 28) and np.array_equal(every, explore.sample_grid(model, seed=3))
    sneakers = explore.sample_grid(model, seed=3, label=7)
    assert np.allclose(sneakers[7], every[7], atol=1e-6)  # the same noise and class: the same image
    assert not np.allclose(sneakers[0], every[0])


def test_interpolation_runs_from_one_sample_to_the_other():
    torch.manual_seed(0)
    model = DCGAN(TINY).eval()
    walk = explore.interpolate(model, seeds=(1, 2), labels=(0, 9), steps=6)
    assert walk.shape == (6, 28, 28)
    with torch.no_grad():
        ends = [model.generate(model.noise(1, torch.Generator().manual_seed(s)), torch.tensor([c]))[0, 0].numpy()
                for s, c in ((1, 0), (2, 9))]
    assert np.allclose(walk[0], ends[0], atol=1e-5) and np.allclose(walk[-1], ends[1], atol=1e-5)
    a, b = torch.randn(1, 64), torch.randn(1, 64)
    middle = explore.slerp(a, b, torch.tensor([[0.5]]))
    assert abs(middle.norm() - (a.norm() + b.norm()) / 2) < 0.1 * a.norm()  # a straight line's middle is ~30% shorter


def test_d_scores_an_image_among_its_scores_of_real_and_generated_ones():
    torch.manual_seed(0)
    model = DCGAN(TINY).eval()
    images, labels = torch.rand(60, 1, 28, 28), torch.arange(60) % 10
    reference = explore.score_reference(model, images, labels, per_class=4, class_check=2)
    assert [len(r) for r in reference.real] == [4] * 10 and [len(g) for g in reference.generated] == [4] * 10
    assert 0 <= reference.own_class_top <= 1
    with torch.no_grad():
        expected = torch.sigmoid(model.score(images[3:4], torch.tensor([3]))).item()
    assert explore.judge(model, images[3], 3) == pytest.approx(expected)
    assert reference.real[3][0] == pytest.approx(expected)  # the 1st image of class 3
    assert reference.shares_below(0.0, 3) == (0.0, 0.0) and reference.shares_below(1.0, 3) == (1.0, 1.0)
    alike = explore.ScoreReference([np.array([0.4, 0.6])], [np.array([0.4, 0.6])], 0.1)
    assert alike.separability(0) == 0.5 and alike.shares_below(0.6, 0) == (0.75, 0.75)
    apart = explore.ScoreReference([np.array([0.8, 0.9])], [np.array([0.1, 0.2])], 0.1)
    assert apart.separability(0) == 1.0 and apart.shares_below(0.5, 0) == (0.0, 1.0)


def test_finetune_job_yields_losses_and_samples_and_returns_weights(checkpoint_dir):
    torch.manual_seed(0)
    model = DCGAN(TINY).eval()
    checkpoints.save("dcgan-fashion", model, {"title": "DCGAN", "dataset": "fashion-mnist", "config": vars(TINY),
                                              "steps": 0, "device": "CPU", "wall_time_s": 0.0, "metrics": {}})
    events, weights = consume(finetune_gan("dcgan-fashion", steps=3, n_train=200, batch_size=16,
                                           sample_every=2))
    assert [e["step"] for e in events] == [0, 1, 2, 3]
    assert {"d_loss", "g_loss", "d_real", "d_fake"} <= set(events[1])
    assert [("samples" in e) for e in events] == [True, False, True, True]
    assert events[0]["samples"].shape == (20, 28, 28) and events[0]["samples"].dtype == np.uint8
    tuned = checkpoints.load_state_bytes(DCGAN(TINY), weights)
    assert not torch.equal(tuned.generator[0].weight, model.generator[0].weight)
