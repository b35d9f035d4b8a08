"""models.self_supervised: the NT-Xent loss on hand-made pairs, augmentations that keep shape and range,
kNN and probe evaluation on tiny synthetic sets, a resumable fit, the label-efficiency table, the job, and
what the page computes (views, the feature map, probes on drawn or uploaded labels)."""
import io
import json
import math
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from models.self_supervised import explore
from models.self_supervised.augment import AugmentStrengths, augment, erase_masks, gaussian_blur, two_views
from models.self_supervised.model import SimCLR, SimCLRConfig, nt_xent
from models.self_supervised.probes import LinearProbe, features, knn_accuracy, knn_predict
from models.self_supervised.recipe import (SimCLRRecipe, SimCLRTraining, SupervisedBaseline, finetune_simclr,
                                           label_efficiency, labelled_draw, random_encoder_like, targets)
from tests.helpers import consume
from zoo import checkpoints, evaluate, train
from zoo.data import fashion_mnist
from zoo.uploads import UploadError

TINY = SimCLRConfig(channels=(4, 8, 16), projection_hidden=16, projection_dim=8)
NO_CHANGE = AugmentStrengths(crop_scale=1.0, flip=0.0, rotation=0.0, brightness=0.0, contrast=0.0, blur=0.0, erase=0.0)
needs_dataset = pytest.mark.skipif(not fashion_mnist.is_installed(), reason="Fashion-MNIST is not installed")


def _images(n=16):
    return fashion_mnist.load_sample().floats()[:n]


def test_identical_orthogonal_views_give_the_lowest_possible_loss():
    n, temperature = 4, 0.5
    z = torch.eye(n, 8)  # each pair identical, every other view orthogonal
    lowest = -math.log(math.exp(1 / temperature) / (math.exp(1 / temperature) + 2 * n - 2))
    assert nt_xent(z, z, temperature).item() == pytest.approx(lowest, rel=1e-5)
    generator = torch.Generator().manual_seed(0)
    for _ in range(20):
        moved = z + 0.3 * torch.randn(z.shape, generator=generator)
        assert nt_xent(z, moved, temperature) > nt_xent(z, z, temperature)
    assert nt_xent(z, z.roll(1, 0), temperature) > nt_xent(z, z, temperature) + 1  # wrong partners cost most


def test_loss_is_symmetric_in_the_two_views_and_blind_to_scale():
    generator = torch.Generator().manual_seed(1)
    z1, z2 = torch.randn(6, 5, generator=generator), torch.randn(6, 5, generator=generator)
    assert nt_xent(z1, z2, 0.2).item() == pytest.approx(nt_xent(z2, z1, 0.2).item(), rel=1e-6)
    assert nt_xent(3 * z1, z2, 0.2).item() == pytest.approx(nt_xent(z1, z2, 0.2).item(), rel=1e-5)


def test_model_gives_features_and_a_loss_on_two_views():
    torch.manual_seed(0)
    model = SimCLR(TINY)
    x = _images(8)
    assert model(x).shape == (8, 16) and model.project(x).shape == (8, 8)
    loss = model.loss(two_views(x))
    assert loss.ndim == 0 and loss.item() > 0
    assert model.loss(two_views(x), temperature=0.1) != model.loss(two_views(x), temperature=1.0)
    assert sum(p.numel() for p in SimCLR(SimCLRConfig()).encoder.parameters()) < 2_000_000


def test_augmentations_keep_shape_and_range_and_draw_each_image_anew():
    x = _images()
    views = augment(x, generator=torch.Generator().manual_seed(0))
    assert views.shape == x.shape and views.dtype == x.dtype
    assert views.min() >= 0 and views.max() <= 1
    assert not torch.allclose(views, x)
    again = augment(x, generator=torch.Generator().manual_seed(0))
    assert torch.equal(views, again)
    assert two_views(x).shape == (32, 1, 28, 28)
    strong = AugmentStrengths(crop_scale=0.1, rotation=45, brightness=0.9, contrast=0.9, blur=1.0, erase=1.0)
    views = augment(x, strong)
    assert views.shape == x.shape and views.min() >= 0 and views.max() <= 1


def test_zero_strengths_leave_images_unchanged():
    x = _images()
    assert torch.allclose(augment(x, NO_CHANGE), x, atol=1e-5)


def test_blur_keeps_a_flat_image_flat_and_erasing_takes_one_rectangle():
    flat = torch.full((3, 1, 28, 28), 0.5)
    assert torch.allclose(gaussian_blur(flat, torch.tensor([0.2, 0.5, 1.0])), flat, atol=1e-6)
    masks = erase_masks(torch.zeros(50, 1, 28, 28), lambda *shape: torch.rand(*shape))
    areas = masks.sum(dim=(1, 2, 3)) / 784
    assert areas.min() > 0 and areas.max() <= 0.25
    rows, cols = masks[:, 0].amax(2).sum(1), masks[:, 0].amax(1).sum(1)
    assert torch.equal(rows * cols, masks.sum(dim=(1, 2, 3)))  # a filled rectangle


def _clusters(n_per_class=20, seed=0):
    """Three well-separated classes around orthogonal directions."""
    generator = torch.Generator().manual_seed(seed)
    centres = torch.eye(3, 5) * 4
    x = torch.cat([c + 0.3 * torch.randn(n_per_class, 5, generator=generator) for c in centres])
    return x, torch.arange(3).repeat_interleave(n_per_class)


def test_knn_and_probe_classify_separated_clusters():
    train_x, train_y = _clusters(seed=0)
    test_x, test_y = _clusters(seed=1)
    assert knn_accuracy(train_x, train_y, test_x, test_y, k=10, n_classes=3) == 1.0
    assert knn_accuracy(train_x, train_y, test_x, test_y, k=500, n_classes=3) == 1.0  # k above the bank's size
    assert LinearProbe(train_x, train_y, n_classes=3).accuracy(test_x, test_y) == 1.0


def test_knn_votes_are_weighted_by_similarity_over_the_temperature():
    bank = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    labels = torch.tensor([0, 1, 1])
    query = torch.tensor([[1.0, 0.3]])  # near the lone class-0 row, far from the two class-1 rows
    assert knn_predict(bank, labels, query, k=3, temperature=0.05, n_classes=2).item() == 0
    assert knn_predict(bank, labels, query, k=3, temperature=100.0, n_classes=2).item() == 1


def test_labelled_draws_take_the_same_number_of_each_class():
    labels = torch.arange(10).repeat(30)
    chosen = labelled_draw(labels, 3, seed=0)
    assert torch.equal(torch.bincount(labels[chosen], minlength=10), torch.full((10,), 3))
    assert torch.equal(chosen, labelled_draw(labels, 3, seed=0)) and not torch.equal(chosen, labelled_draw(labels, 3, seed=1))


def test_label_efficiency_table_has_every_method_on_the_same_draws(monkeypatch):
    import models.self_supervised.recipe as recipe_module
    monkeypatch.setattr(recipe_module, "LABELS_PER_CLASS", (1, 2))
    torch.manual_seed(0)
    model = SimCLR(TINY).eval()
    sample = fashion_mnist.load_sample()
    train, test_x, test_y = fashion_mnist.Split(sample.images[:80], sample.labels[:80]), sample.floats()[80:], sample.labels[80:]
    found = {name: (features(encoder, train.floats()), features(encoder, test_x))
             for name, encoder in {"self_supervised": model.encoder, "random_encoder": random_encoder_like(model)}.items()}
    table = label_efficiency(found, train, test_x, test_y, TINY, SupervisedBaseline(steps=3, batch_size=8),
                             torch.device("cpu"), draws=2)
    assert list(table) == ["1_per_class", "2_per_class"]
    row = table["2_per_class"]
    assert row["labelled_images"] == 20
    for method in ("self_supervised", "random_encoder", "supervised"):
        assert len(row["draws"][method]) == 2 and row[method] == pytest.approx(np.mean(row["draws"][method]))
        assert 0 <= row[method] <= 1


@needs_dataset
def test_fit_resumes_on_the_same_batches_and_views():
    recipe = SimCLRRecipe(SimCLR, TINY, title="tiny", training=SimCLRTraining(epochs=1, batch_size=16))

    def run(state, stop):
        model = recipe.build()
        losses = []
        for event in recipe.fit(model, torch.device("cpu"), state):
            losses.append(event["loss"])
            if event["step"] == stop:
                return model, losses

    straight, straight_losses = run({}, 4)
    state: dict = {}
    run(state, 2)
    resumed, resumed_losses = run(state, 4)
    assert resumed_losses == pytest.approx(straight_losses[2:], rel=1e-6)
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
        assert torch.allclose(a.float(), b.float(), atol=1e-6)


def _save_tiny(name="simclr-fashion"):
    torch.manual_seed(0)
    checkpoints.save(name, SimCLR(TINY).eval(), {"title": "tiny", "config": {**checkpoints.recipe(name).config_dict(),
                                                                            "channels": TINY.channels,
                                                                            "projection_hidden": 16, "projection_dim": 8},
                                                 "metrics": {}})


def test_finetune_job_reports_loss_and_knn_accuracy(checkpoint_dir):
    _save_tiny()
    events, weights = consume(finetune_simclr("simclr-fashion", 1e-3, 4, n_train=64, batch_size=16, eval_every=2,
                                              temperature=0.2))
    assert [e["step"] for e in events] == list(range(5))
    assert [("knn_accuracy" in e) for e in events] == [True, False, True, False, True]
    assert all(0 <= e["knn_accuracy"] <= 1 for e in events if "knn_accuracy" in e)
    assert all(e["loss"] > 0 for e in events[1:])
    assert isinstance(weights, bytes) and len(weights) > 1000


def test_finetune_job_on_own_images_and_too_few_of_them(checkpoint_dir):
    _save_tiny()
    own = fashion_mnist.load_sample().images[:20].numpy()
    events, _ = consume(finetune_simclr("simclr-fashion", 1e-3, 2, images=own, batch_size=8, eval_every=5))
    assert events[0]["n_train"] == 20 and events[-1]["step"] == 2
    with pytest.raises(ValueError, match="at least 16 images"):
        consume(finetune_simclr("simclr-fashion", 1e-3, 2, images=own[:5]))


def test_explore_views_map_neighbours_and_similarity_matrix():
    torch.manual_seed(0)
    model = SimCLR(TINY).eval()
    x = _images(12)
    first, second = explore.two_views(x[:3], AugmentStrengths(), seed=4)
    assert first.shape == (3, 28, 28) and np.array_equal(first, explore.two_views(x[:3], AugmentStrengths(), seed=4)[0])
    assert not np.array_equal(first, second)
    rows = explore.embed(model, x)
    index, similarity = explore.nearest_neighbours(rows, rows[:2], k=3)
    assert index.shape == (2, 3) and list(index[:, 0]) == [0, 1] and similarity[0, 0] == pytest.approx(1.0, abs=1e-5)
    sharp = explore.similarity_matrix(model, x[:5], 0.05, AugmentStrengths(), seed=0)
    soft = explore.similarity_matrix(model, x[:5], 5.0, AugmentStrengths(), seed=0)
    assert sharp.cosine.shape == (5, 5) and np.allclose(sharp.partner_probability.sum(1), 1, atol=1e-5)
    assert np.array_equal(sharp.cosine, soft.cosine) and sharp.partner_probability.max() > soft.partner_probability.max()
    assert 0 <= soft.partner_share <= 1 and soft.partner_share == pytest.approx(np.diag(soft.partner_probability).mean())
    same = explore.similarity_matrix(model, x[:5], 0.5, NO_CHANGE, seed=0)
    assert np.allclose(np.diag(same.cosine), 1, atol=1e-4)  # unchanged views: the positives are identical
    with pytest.raises(ValueError, match="above 0"):
        explore.similarity_matrix(model, x[:5], 0.0, AugmentStrengths())


def _tiny_test_set(model, n=60):
    sample = fashion_mnist.load_sample()
    images, labels = sample.images[:n].numpy(), sample.labels[:n].numpy()
    return explore.TestSet(images, labels, explore.embed(model, explore.as_floats(images)), complete=False)


def test_feature_map_places_new_rows_by_pca_and_beside_their_neighbours_on_tsne():
    torch.manual_seed(0)
    model = SimCLR(TINY).eval()
    test = _tiny_test_set(model)
    pca = explore.feature_map(test, "pca", points=50)
    assert pca.coords.shape == (50, 2) and np.array_equal(pca.labels, test.labels[:50])
    assert np.allclose(pca.place(test.features[:3]), pca.coords[:3])  # the map's own rows land on their dots
    assert np.allclose(pca.place(5 * test.features[:3]), pca.coords[:3])  # by direction only, as cosine sees them
    tsne = explore.feature_map(test, "tsne", points=50)
    assert tsne.axes is None and tsne.coords.shape == (50, 2)
    index, _ = explore.nearest_neighbours(tsne.features, test.features[:1], explore.PLACE_NEIGHBOURS)
    assert np.allclose(tsne.place(test.features[:1]), tsne.coords[index[0]].mean(0))
    with pytest.raises(ValueError, match="pca"):
        explore.feature_map(test, "umap")
    assert -1 <= test.typical_similarity() <= 1


def test_views_agree_fully_when_nothing_changes_them():
    torch.manual_seed(0)
    model = SimCLR(TINY).eval()
    first, second = explore.two_views(_images(1), NO_CHANGE, seed=0)
    assert explore.views_agreement(model, first[0], second[0]) == pytest.approx(1.0, abs=1e-3)


def test_one_of_each_class_takes_the_classes_in_turn():
    images, names = explore.one_of_each_class(12)
    assert images.shape == (12, 1, 28, 28) and 0 <= images.min() and images.max() <= 1
    assert len({name.split(": ")[1] for name in names[:10]}) == 10 and names[0].startswith("1: ")


@needs_dataset
def test_probe_with_few_labels_measures_all_the_test_images():
    torch.manual_seed(0)
    model = SimCLR(TINY).eval()
    result = explore.probe_with_few_labels(model, 2, seed=0, test=_tiny_test_set(model))
    assert result.labelled == 20 and result.per_class == 2 and result.classes == 10 and result.measured_on == 60
    assert 0 <= result.accuracy <= 1


def test_probe_on_own_labels_is_measured_on_the_test_images_of_their_classes():
    torch.manual_seed(0)
    model = SimCLR(TINY).eval()
    test = _tiny_test_set(model)
    sample = fashion_mnist.load_sample()
    given = np.isin(sample.labels[60:].numpy(), [7, 8])
    result = explore.probe(model, sample.images[60:].numpy()[given], sample.labels[60:].numpy()[given], test)
    assert result.classes == 2 and result.measured_on == int(np.isin(test.labels, [7, 8]).sum())
    assert result.labelled == int(given.sum()) and 0 <= result.accuracy <= 1


def _zip(folders: dict[str, int]) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("L", (60, 60), "white")
    ImageDraw.Draw(image).rectangle([15, 10, 45, 50], fill="black")
    with zipfile.ZipFile(buffer, "w") as archive:
        for folder, count in folders.items():
            for i in range(count):
                png = io.BytesIO()
                image.save(png, format="PNG")
                archive.writestr(f"{folder}/{i}.png", png.getvalue())
    return buffer.getvalue()


def test_labelled_and_unlabelled_uploads_become_fashion_images_or_say_why_not():
    images, labels = explore.labelled_images(_zip({"sneakers": 2, "bag": 3}), "mine.zip")
    assert images.shape == (5, 28, 28) and images.dtype == np.uint8
    assert sorted(labels.tolist()) == [7, 7, 8, 8, 8]
    with pytest.raises(UploadError, match="not a Fashion-MNIST class"):
        explore.labelled_images(_zip({"cats": 2, "dogs": 2}), "pets.zip")
    png = io.BytesIO()
    Image.new("RGB", (80, 50), "white").save(png, format="PNG")
    assert explore.own_image(png.getvalue(), "blank.png").shape == (28, 28)
    with pytest.raises(UploadError, match="notes.png"):
        explore.own_image(b"not an image", "notes.png")


@pytest.mark.slow(seconds=70)
@needs_dataset
def test_train_cli_writes_a_card_that_evaluate_re_measures(checkpoint_dir, monkeypatch, capsys):
    tiny = SimCLRRecipe(SimCLR, TINY, title="SimCLR (self-supervised)", training=SimCLRTraining(epochs=1, batch_size=16),
                        baseline=SupervisedBaseline(steps=2, batch_size=8))
    monkeypatch.setitem(checkpoints.registry(), "simclr-fashion", tiny)
    train.main(["simclr-fashion", "--max-steps", "2", "--device", "cpu"])
    card = json.loads((checkpoint_dir / "simclr-fashion.json").read_text())
    assert card["steps"] == 2 and card["labels_used_in_training"] is False and "SimCLR" in card["method_note"]
    metrics = card["metrics"]
    assert metrics["n"] == 10000 and set(metrics["label_efficiency"]) == {"1_per_class", "10_per_class", "100_per_class"}
    assert len(metrics["label_efficiency"]["10_per_class"]["draws"]["supervised"]) == 5
    model, _ = checkpoints.load("simclr-fashion", "cpu")
    assert model(torch.rand(2, 1, 28, 28)).shape == (2, 16)
    evaluate.main(["simclr-fashion", "--limit", "200", "--json"])
    measured = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert measured["n"] == 200 and 0 <= measured["linear_probe_accuracy"] <= 1
    assert "label_efficiency" not in measured and "random_encoder" not in measured  # a slice: the headline figures


def test_the_card_says_which_target_is_missed_and_by_how_much():
    row = lambda ssl, scratch: {"self_supervised": ssl, "supervised": scratch, "random_encoder": 0.6}
    met = targets({"linear_probe_accuracy": 0.90}, {"10_per_class": row(0.80, 0.70)})
    assert met["note"] == "Both targets are met." and met["linear_probe_margin"] == pytest.approx(0.02)
    missed = targets({"linear_probe_accuracy": 0.87}, {"10_per_class": row(0.75, 0.71)})
    assert missed["few_labels_points"] == pytest.approx(4.0)
    assert "1.0 points short of 88%" in missed["note"] and "4.0 points, 6.0 short of the 10 asked" in missed["note"]


@needs_dataset
def test_the_test_sets_features_are_kept_for_the_next_server_and_new_weights_are_embedded_again(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    torch.manual_seed(0)
    model = SimCLR(TINY).eval()
    embedded, embed = [], explore.embed
    monkeypatch.setattr(explore, "embed", lambda model, images: embedded.append(len(images)) or embed(model, images))
    first = explore.test_set(model)
    again = explore.test_set(model)
    assert embedded == [10_000] and first.complete and np.array_equal(first.features, again.features)
    with torch.no_grad():
        model.encoder.stages[0][0][0].weight.add_(0.1)
    assert not np.array_equal(explore.test_set(model).features, first.features) and embedded == [10_000, 10_000]
