"""models.diffusion: the noise schedule, the samplers, guidance, the recipe, the job."""
import copy
import io

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from models.diffusion import explore, recipe as diffusion_recipe
from models.diffusion.model import Diffusion, DiffusionConfig, alpha_bars
from models.diffusion.recipe import DiffusionRecipe, DiffusionSampling, DiffusionTraining, finetune_diffusion
from tests.helpers import consume
from zoo import checkpoints
from zoo.data import fashion_mnist
from zoo.training import fid
from zoo.uploads import UploadError

TINY = dict(channels=(8, 16, 16), embed_dim=16)


def _model(**changes) -> Diffusion:
    torch.manual_seed(0)
    return Diffusion(DiffusionConfig(**{**TINY, **changes})).eval()


def _batch(n=16):
    sample = fashion_mnist.load_sample()
    return sample.floats()[:n], sample.labels[:n]


def test_shapes_and_the_loss_is_a_dict():
    model = _model()
    x, y = _batch(4)
    assert model.net(x, torch.tensor([0, 10, 500, 999]), y).shape == (4, 1, 28, 28)
    assert set(model.loss(x, y)) == {"loss"} and model.loss(x, y)["loss"].ndim == 0
    plain = Diffusion(DiffusionConfig(**TINY, attention=False, schedule="linear"))
    assert plain.net(x, torch.tensor([1, 2, 3, 4]), y).shape == (4, 1, 28, 28)
    with pytest.raises(ValueError, match="schedule"):
        Diffusion(DiffusionConfig(schedule="quadratic"))


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
def test_closed_form_matches_iterating_single_steps(schedule):
    abar = alpha_bars(schedule, 1000)
    beta = 1 - abar / torch.cat([torch.ones(1, dtype=abar.dtype), abar[:-1]])
    scale, variance = torch.tensor(1.0, dtype=torch.float64), torch.tensor(0.0, dtype=torch.float64)
    for t in range(1000):  # x_t = sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) eps: its mean scale and variance
        scale, variance = (1 - beta[t]).sqrt() * scale, (1 - beta[t]) * variance + beta[t]
        assert scale.item() == pytest.approx(abar[t].sqrt().item(), abs=1e-9)
        assert variance.item() == pytest.approx(1 - abar[t].item(), abs=1e-9)
    assert abar[0] > 0.999 and abar[-1] < 1e-4 and (abar[1:] < abar[:-1]).all()


def test_sampled_single_steps_match_the_closed_form_in_mean_and_variance():
    model = _model(schedule="linear")
    generator = torch.Generator().manual_seed(0)
    x0 = torch.full((20_000, 1, 2, 2), 0.8)
    x, t = x0, 300
    for s in range(t + 1):
        x = model.q_step(x, torch.full((len(x),), s), torch.randn(x.shape, generator=generator))
    closed = model.q_sample(x0, torch.full((len(x0),), t), torch.randn(x0.shape, generator=generator))
    abar = model.alpha_bar[t]
    for drawn in (x, closed):
        assert drawn.mean().item() == pytest.approx(0.8 * abar.sqrt().item(), abs=0.01)
        assert drawn.var().item() == pytest.approx(1 - abar.item(), abs=0.01)


def test_a_few_training_steps_lower_the_loss():
    model = _model()
    x, y = _batch(16)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)

    def measured() -> float:
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(1)
            return float(np.mean([model.loss(x, y)["loss"].item() for _ in range(3)]))

    before = measured()
    model.train()
    for _ in range(10):
        loss = model.loss(x, y)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    assert measured() < 0.6 * before


def test_ddim_with_few_steps_gives_images_in_range_and_is_deterministic():
    model = _model()
    assert model.schedule_steps(5) == [999, 749, 500, 250, 0]
    assert model.schedule_steps(50, start=10) == list(range(10, -1, -1))
    draw = lambda: model.sample(6, torch.arange(6), steps=5, guidance=2.0, generator=torch.Generator().manual_seed(3))
    images = draw()
    assert images.shape == (6, 1, 28, 28) and images.min() >= 0 and images.max() <= 1
    assert torch.equal(images, draw())


def test_guidance_zero_is_unconditional_and_other_scales_extrapolate():
    model = _model()
    x, y = torch.randn(3, 1, 28, 28), torch.tensor([0, 4, 9])
    steps, null = torch.full((3,), 700), torch.full((3,), model.null_label)
    with torch.no_grad():
        conditional, unconditional = model.net(x, steps, y), model.net(x, steps, null)
        assert torch.equal(model.guided_eps(x, 700, y, 0.0), unconditional)
        guided = unconditional + 3 * (conditional - unconditional)
        assert torch.allclose(model.guided_eps(x, 700, y, 3.0), guided, atol=1e-5)
    sample = lambda labels, guidance: model.sample(3, labels, 4, guidance, generator=torch.Generator().manual_seed(0))
    assert torch.equal(sample(y, 0.0), sample(None, 1.0))
    assert not torch.equal(sample(y, 1.0), sample(None, 1.0))


def test_ddim_with_eta_one_over_every_step_is_the_ancestral_ddpm_step():
    model = _model(schedule="linear")
    x, t = torch.randn(2, 1, 28, 28), 400
    walk = model.reverse(x, [t, t - 1], guidance=0.0, eta=1.0, generator=torch.Generator().manual_seed(5))
    (_, _, x0), (_, x_prev, _) = next(walk), next(walk)
    abar, abar_prev, beta = model.alpha_bar[t], model.alpha_bar[t - 1], model.beta[t]
    mean = abar_prev.sqrt() * beta / (1 - abar) * x0 + (1 - beta).sqrt() * (1 - abar_prev) / (1 - abar) * x
    variance = (1 - abar_prev) / (1 - abar) * beta  # Ho et al.'s beta-tilde
    z = torch.randn(x.shape, generator=torch.Generator().manual_seed(5))
    assert torch.allclose(x_prev, mean + variance.sqrt() * z, atol=1e-4)


def test_page_helpers_noise_denoise_and_sdedit():
    model = _model()
    image = _batch(1)[0][0]
    strip = explore.noised(model, image, [0, 500, 999])
    assert strip.shape == (3, 28, 28) and np.abs(strip[0] - image[0].numpy()).max() < 0.05
    snr = explore.signal_to_noise(model)
    assert snr.shape == (1000,) and (np.diff(snr) < 0).all()
    walk = explore.denoise(model, 3, 6, 2.0)
    assert walk.timesteps[0] == 999 and walk.noisy.shape == walk.predicted.shape == (6, 28, 28)
    edit = explore.denoise(model, None, 4, 1.0, start=image, t_start=300)
    assert edit.timesteps == [300, 200, 100, 0] and 0 <= edit.predicted.min() and edit.predicted.max() <= 1
    assert walk.side_by_side().shape == (6, 28, 58)
    images, seconds = explore.samples(model, [1, 2], 3, 1.0)
    assert images.shape == (2, 28, 28) and seconds > 0


def test_sdedit_at_its_default_step_visibly_changes_a_garment_that_stays_recognisable():
    """At the old default (step 500) a test garment came back looking untouched: 0.054 of change per pixel."""
    model, _ = checkpoints.load("diffusion-fashion", "cpu")
    cnn, _ = checkpoints.load("cnn-fashion", "cpu")
    sample = fashion_mnist.load_sample()
    first = [int(torch.nonzero(sample.labels == c)[0, 0]) for c in range(10)]  # the gallery's first of each class
    images, labels = sample.floats()[first], sample.labels[first]
    edits = np.stack([explore.denoise(model, None, 25, 0.0, 0, image.numpy(), explore.SDEDIT_STEP).predicted[-1]
                      for image in images])
    assert np.abs(edits - images[:, 0].numpy()).mean() > 0.07  # 0.079 at step 700
    with torch.no_grad():
        kept = (cnn(torch.from_numpy(edits)[:, None]).argmax(1) == labels).sum().item()
    assert kept >= 7  # 8 of the 10 keep their class at step 700


def test_the_sampler_is_timed_per_image_for_each_step_count():
    model = _model().eval()
    timings = explore.seconds_per_image(model, [2, 8], n=2)
    assert list(timings) == [2, 8] and 0 < timings[2] < timings[8]


def test_an_uploaded_garment_is_read_and_a_bad_file_named():
    photo = Image.new("RGB", (120, 100), "white")
    ImageDraw.Draw(photo).rectangle([30, 20, 90, 80], fill=(40, 40, 90))
    png = io.BytesIO()
    photo.save(png, format="PNG")
    image = explore.garment_image(png.getvalue(), "shirt.png")
    assert image.shape == (28, 28) and image.dtype == np.uint8 and image.max() == 255
    with pytest.raises(UploadError, match="notes.png"):
        explore.garment_image(b"just text", "notes.png")


def _tiny_recipe(steps: int = 3) -> DiffusionRecipe:
    return DiffusionRecipe(Diffusion, DiffusionConfig(**TINY), title="tiny", sampling=DiffusionSampling(steps=3),
                           training=DiffusionTraining(steps=steps, batch_size=8))


@pytest.mark.skipif(not fashion_mnist.is_installed(), reason="Fashion-MNIST is not installed")
def test_recipe_trains_an_average_resumes_exactly_and_round_trips(checkpoint_dir):
    recipe = _tiny_recipe(steps=4)
    torch.manual_seed(0)
    straight = recipe.build()
    start = copy.deepcopy(straight.state_dict())
    events = list(recipe.fit(straight, torch.device("cpu"), {}))
    assert [e["step"] for e in events] == [1, 2, 3, 4] and events[-1]["total"] == 4 and "loss" in events[-1]

    interrupted, state = recipe.build(), {}
    interrupted.load_state_dict(start)
    for event in recipe.fit(interrupted, torch.device("cpu"), state):
        if event["step"] == 2:
            break
    checkpoints.save_training_state(checkpoint_dir / "state.pt", state)  # as zoo.train does, and reads it back
    saved = checkpoints.load_training_state(checkpoint_dir / "state.pt")
    assert not all(torch.equal(saved["model"][k], saved["online"][k]) for k in saved["model"])  # an average
    resumed = recipe.build()
    assert [e["step"] for e in recipe.fit(resumed, torch.device("cpu"), saved)] == [3, 4]
    assert all(torch.equal(a, b) for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()))

    checkpoints.save("diffusion-fashion", straight.eval(), {"title": "tiny", "config": recipe.config_dict(),
                                                            **recipe.card_fields()})
    loaded, card = checkpoints.load("diffusion-fashion", "cpu")
    assert card["sampling"] == {"steps": 3, "guidance": 1.0}
    images = recipe.sample_images(loaded, 12, 0, torch.device("cpu"))
    assert images.shape == (12, 28, 28) and images.dtype == np.float32 and 0 <= images.min() and images.max() <= 1
    assert np.array_equal(images, recipe.sample_images(straight, 12, 0, torch.device("cpu")))


def test_evaluate_records_quality_and_fid_and_time_against_ddim_steps(monkeypatch):
    monkeypatch.setattr(fid, "quality", lambda images: {"fid": 1.0, "fid_samples": len(images)})
    monkeypatch.setattr(fid, "fid", lambda images: float(len(images)))
    monkeypatch.setattr(diffusion_recipe, "CURVE_STEPS", (2, 4))
    monkeypatch.setattr(fid, "N_SAMPLES", 30)
    figures = _tiny_recipe().evaluate(_model(), torch.device("cpu"))
    assert figures["fid_samples"] == 30 and figures["ddim_steps_samples"] == 3
    assert set(figures["ddim_steps"]) == {"2", "4"}
    assert all(point["fid"] == 3.0 and point["seconds_per_image"] > 0 for point in figures["ddim_steps"].values())
    sliced = _tiny_recipe().evaluate(_model(), torch.device("cpu"), limit=20)
    assert sliced == {"fid": 1.0, "fid_samples": 20}  # a slice re-measures the headline only


def test_finetune_job_on_a_class_or_on_given_images(checkpoint_dir):
    recipe = checkpoints.recipe("diffusion-fashion")
    checkpoints.save("diffusion-fashion", _model(), {"title": "tiny", "config": {**recipe.config_dict(), **TINY}})
    events, weights = consume(finetune_diffusion("diffusion-fashion", 1e-3, 4, label=7, n_train=50,
                                                 sample_every=2, sample_steps=2))
    assert [e["step"] for e in events] == [0, 1, 2, 3, 4] and events[0]["n_train"] > 0
    assert events[2]["samples"].shape == (8, 28, 28) and events[2]["samples"].dtype == np.uint8
    assert "loss" in events[1] and isinstance(weights, bytes) and len(weights) > 1000
    mine = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    events, _ = consume(finetune_diffusion("diffusion-fashion", 1e-3, 2, label=0, images=mine,
                                           sample_every=10, sample_steps=2))
    assert events[0]["n_train"] == 5 and "samples" in events[-1]
