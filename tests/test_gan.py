"""models.gan and zoo.adversarial: shapes, the two optimisers, a few steps of the game."""
import torch

from models.gan import DCGAN, DCGANConfig, ToyGAN, ToyGANConfig
from zoo.adversarial import adversarial_steps, optimizers

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
