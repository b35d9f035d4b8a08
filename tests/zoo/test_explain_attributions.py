"""Attributions on models whose answer is known (a linear reader of some pixels, a smooth net) and on the shipped
CNN: integrated gradients' completeness, the shared sign convention, the cost each records."""
import numpy as np
import pytest
import torch

from tests.zoo.explain_models import READ, image, linear_reader, smooth_net
from zoo import checkpoints, i18n
from zoo.data import fashion_mnist
from zoo.explain.attributions import (Options, WHAT_EACH_MEASURES, attribute_all, blurred, class_logits,
                                      integrated_gradients, occlusion, occlusion_positions)


def _rise(model, x, baseline, target):
    logits = class_logits(model, torch.cat([x, baseline]))[:, target]
    return float(logits[0] - logits[1])


@pytest.mark.parametrize("kind", ["black", "blurred"])
def test_integrated_gradients_sum_to_the_rise_of_a_smooth_nets_score(kind):
    model, x = smooth_net(), image()
    baseline = torch.zeros_like(x) if kind == "black" else blurred(x)
    found = integrated_gradients(model, x, 2, baseline, steps=64)
    rise = _rise(model, x, baseline, 2)
    assert abs(found.values.sum() - rise) <= 0.01 * abs(rise)


def test_integrated_gradients_sum_to_the_rise_of_the_shipped_cnns_score():
    """A ReLU network's score is only piecewise smooth along the path: enough steps still close the gap to 1%."""
    model, _ = checkpoints.load("cnn-fashion", "cpu")
    sample = fashion_mnist.load_sample()
    for index in range(3):
        x = sample.floats()[index:index + 1]
        target = int(class_logits(model, x).argmax())
        for baseline in (torch.zeros_like(x), blurred(x)):
            found = integrated_gradients(model, x, target, baseline, steps=512)
            rise = _rise(model, x, baseline, target)
            assert abs(found.values.sum() - rise) <= 0.01 * abs(rise), (index, found.note)


def test_on_a_linear_reader_each_method_finds_the_known_answer():
    model, x = linear_reader(), image()
    weights = model[1].weight[0].detach().view(28, 28).numpy()
    found = {a.method: a for a in attribute_all(model, x, 0, Options(ig_steps=8, smoothgrad_samples=4))}
    assert set(found) == set(WHAT_EACH_MEASURES) - {"Grad-CAM"}  # no feature maps, no Grad-CAM
    truth = weights * x[0, 0].numpy()
    np.testing.assert_allclose(found["Saliency"].values, np.abs(weights), atol=1e-6)
    np.testing.assert_allclose(found["SmoothGrad"].values, np.abs(weights), atol=1e-6)  # a constant gradient
    np.testing.assert_allclose(found["Input x gradient"].values, truth, atol=1e-6)
    np.testing.assert_allclose(found["Integrated gradients, black"].values, truth, atol=1e-5)
    outside = np.ones(28 * 28, dtype=bool)
    outside[READ.numpy()] = False
    assert np.all(found["Occlusion"].values.ravel()[outside.reshape(-1)] >= 0)
    assert found["Occlusion"].values.max() > 0
    for attribution in found.values():
        assert attribution.values.shape == (28, 28)
        assert attribution.signed or attribution.values.min() >= 0
        assert np.abs(attribution.scaled()).max() == pytest.approx(1.0)


def test_each_method_records_the_passes_it_made():
    model, _ = checkpoints.load("cnn-fashion", "cpu")
    x = fashion_mnist.load_sample().floats()[:1]
    options = Options(ig_steps=16, smoothgrad_samples=10, occlusion_patch=4, occlusion_stride=2)
    found = {a.method: a for a in attribute_all(model, x, 0, options)}
    assert "Grad-CAM" in found
    passes = {method: (a.forward, a.backward) for method, a in found.items()}
    assert passes == {"Saliency": (1, 1), "Input x gradient": (1, 1), "Integrated gradients, black": (18, 16),
                      "Integrated gradients, blurred": (18, 16), "SmoothGrad": (10, 10), "Occlusion": (13 * 13 + 1, 0),
                      "Grad-CAM": (1, 1)}
    assert all(a.ms > 0 for a in found.values())


def test_occlusion_squares_reach_the_border():
    assert occlusion_positions(28, 4, 2)[-1] == 24
    assert occlusion_positions(28, 5, 2)[-2:] == [22, 23]
    found = occlusion(linear_reader(), image(), 0, patch=5, stride=2)
    assert found.forward == 13 * 13 + 1


def test_settings_beyond_their_budget_are_refused():
    with pytest.raises(ValueError, match="steps"):
        Options(ig_steps=10_000)
    with pytest.raises(ValueError, match="samples"):
        Options(smoothgrad_samples=0)
    with pytest.raises(ValueError, match="patch"):
        Options(occlusion_patch=1)


def test_the_shared_model_is_only_read():
    model, _ = checkpoints.load("cnn-fashion", "cpu")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    attribute_all(model, fashion_mnist.load_sample().floats()[:1], 3, Options(ig_steps=4, smoothgrad_samples=2))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not model.training
    assert all(p.grad is None for p in model.parameters())


def test_a_map_computed_once_reads_in_every_language():
    """A comparison is cached per session whatever the language: its method names and notes are read out in the
    language in force when they are shown."""
    model, x = linear_reader(), image()
    found = {a.method: a for a in attribute_all(model, x, 0, Options(ig_steps=8, smoothgrad_samples=4))}
    ig = found["Integrated gradients, black"]
    assert str(ig.note).startswith("the map sums to") and ig.title == "Integrated gradients, black"
    with i18n.speaking("ru"):
        assert str(ig.note).startswith("сумма карты") and ig.title == "Интегрированные градиенты (от чёрного)"
        assert str(found["Occlusion"].note).startswith("квадраты 4x4 с шагом 2")
    with i18n.speaking("zh"):
        assert str(ig.note).startswith("图的总和为") and found["Saliency"].title == "显著性"
