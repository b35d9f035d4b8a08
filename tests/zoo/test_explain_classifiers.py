"""Which classifiers the Explain page offers, found through the registry, and the self-supervised encoder's
probe as one classifier; and the comparison of every method on one image."""
import math

import numpy as np
import pytest
import torch

from models.self_supervised.model import ConvEncoder
from models.self_supervised.probes import LinearProbe, ProbeClassifier, features
from zoo import checkpoints
from zoo.data import fashion_mnist
from zoo.explain import classifiers
from zoo.explain.attributions import Options
from zoo.explain.comparison import compare_methods


def test_the_image_classifiers_are_found_through_the_registry():
    assert classifiers.image_classifiers() == {"cnn-fashion": "CNN", "mlp-fashion": "MLP", "resnet-fashion": "ResNet-20",
                                               "simclr-fashion": "SimCLR (self-supervised)"}
    model, card = checkpoints.load("cnn-fashion", "cpu")
    assert classifiers.as_classifier("cnn-fashion", model) is model
    assert classifiers.summary(model, card).startswith("CNN, ")


def test_a_probe_classifier_reads_the_encoders_features_as_the_probe_does():
    torch.manual_seed(0)
    encoder = ConvEncoder((4, 8, 16)).eval()
    images = torch.rand(40, 1, 28, 28)
    labels = torch.arange(40) % 10
    probe = LinearProbe(features(encoder, images), labels, max_iter=20)
    classifier = ProbeClassifier(encoder, probe)
    logits = classifier(images)
    assert logits.shape == (40, 10)
    assert torch.equal(logits.argmax(1), probe.predict(features(encoder, images)))
    assert classifier.encoder is encoder and not any(p.requires_grad for p in classifier.linear.parameters())


@pytest.mark.skipif(not fashion_mnist.is_installed(), reason="the probe is fitted on the Fashion-MNIST training set")
def test_the_self_supervised_encoder_is_explained_through_its_probe():
    model, _ = checkpoints.load("simclr-fashion", "cpu")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    classifier = classifiers.as_classifier("simclr-fashion", model)
    accuracy = float(classifier.summary.split("test accuracy ")[1].split("%")[0]) / 100
    assert accuracy > 0.8, classifier.summary
    pixels = fashion_mnist.load_sample().floats()[1, 0].numpy()
    comparison = compare_methods(classifier, pixels, Options(ig_steps=8, smoothgrad_samples=5))
    assert "Grad-CAM" in [m.attribution.method for m in comparison.methods]
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_the_comparison_measures_every_method_and_names_the_most_faithful():
    model, _ = checkpoints.load("mlp-fashion", "cpu")
    sample = fashion_mnist.load_sample()
    comparison = compare_methods(model, sample.floats()[0, 0].numpy(), Options(ig_steps=8, smoothgrad_samples=5))
    assert comparison.target == int(np.argmax(comparison.probabilities))
    assert len(comparison.methods) == 6  # an MLP has no feature maps for Grad-CAM
    best = comparison.most_faithful
    assert all(best.curves.score >= m.curves.score for m in comparison.methods)
    assert all(m.randomised.shape == (28, 28) and (math.isnan(m.correlation) or -1 <= m.correlation <= 1)
               for m in comparison.methods)
    unchecked = compare_methods(model, sample.floats()[0, 0].numpy(), sanity_check=False)
    assert all(m.randomised is None for m in unchecked.methods)
