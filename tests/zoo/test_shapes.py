"""zoo.data.shapes: masks that match the drawing, occlusion, determinism, held-out seeds, batches, bad arguments."""
import math

import numpy as np
import pytest

from zoo import i18n
from zoo.data import shapes


def test_scene_is_shaped_and_seeded():
    scene = shapes.scene(3)
    assert scene.image.shape == scene.mask.shape == (64, 64)
    assert scene.image.dtype == np.float32 and scene.mask.dtype == np.uint8
    assert 0 <= scene.image.min() and scene.image.max() <= 1
    assert 2 <= len(scene.shapes) <= 5
    again = shapes.scene(3)
    assert np.array_equal(scene.image, again.image) and np.array_equal(scene.mask, again.mask)
    assert not np.array_equal(scene.image, shapes.scene(4).image)


@pytest.mark.parametrize("seed", range(6))
def test_mask_is_the_drawing_with_later_shapes_on_top(seed):
    """Redraw every shape from its record: each pixel's class is that of the last shape covering it,
    and without noise the image shows that shape's fill, shaded by at most 0.08 per radius across it
    (a polygon reaches 1.56 radii from its centre)."""
    scene = shapes.scene(seed, 48, n_shapes=(3, 6), noise=0.0, kinds=shapes.KINDS)
    expected = np.zeros((48, 48), dtype=np.uint8)
    top = np.full((48, 48), -1)
    for i, shape in enumerate(scene.shapes):
        region = shapes.rasterise(shape.kind, shape.cx, shape.cy, shape.radius, shape.angle, 48)
        expected[region] = shapes.KINDS.index(shape.kind) + 1
        top[region] = i
    assert np.array_equal(scene.mask, expected)
    for i, shape in enumerate(scene.shapes):
        shown = scene.image[top == i]
        assert shown.size >= shapes.MIN_VISIBLE * shapes.rasterise(
            shape.kind, shape.cx, shape.cy, shape.radius, shape.angle, 48).sum()  # at least half of it visible
        assert np.abs(shown - shape.fill).max() <= 0.08 * 1.56 + 1e-6


def test_noise_changes_the_image_not_the_mask():
    clean, noisy = shapes.scene(5, noise=0.0), shapes.scene(5, noise=0.3)
    assert np.array_equal(clean.mask, noisy.mask)
    assert 0.1 < np.std(noisy.image - clean.image) < 0.4


def test_every_kind_has_the_area_of_a_disc_of_its_radius():
    for kind in shapes.KINDS:
        area = shapes.rasterise(kind, 100.0, 100.0, 30.0, 0.7, 200).sum()
        assert area == pytest.approx(math.pi * 30 ** 2, rel=0.02), kind


def test_classes_follow_the_kinds():
    assert shapes.class_names() == ("background", "circle", "square", "triangle")
    scene = shapes.scene(1, n_shapes=6, kinds=("triangle", "star"))
    assert set(np.unique(scene.mask)) <= {0, 1, 2}
    assert {s.kind for s in scene.shapes} <= {"triangle", "star"}


def test_a_reader_sees_the_classes_in_their_language_and_the_masks_keep_codes():
    assert shapes.display_names(shapes.class_names()) == ("background", "circle", "square", "triangle")
    assert shapes.kinds_listed(shapes.BASE_KINDS) == "circles, squares and triangles"
    with i18n.speaking("ru"):
        assert shapes.display_names(("background", "star")) == ("фон", "звезда")
        assert shapes.kinds_listed(shapes.BASE_KINDS) == "круги, квадраты и треугольники"
    with i18n.speaking("zh"):
        assert shapes.listed(["圆形", "十字形"]) == "圆形和十字形"
    assert shapes.class_names(("star",)) == ("background", "star")


def test_held_out_scenes_are_fixed_read_only_and_disjoint_from_training():
    images, masks = shapes.held_out(4)
    assert images.shape == (4, 64, 64) and masks.shape == (4, 64, 64)
    assert np.array_equal(images[2], shapes.scene(shapes.HELD_OUT_SEED + 2).image)
    assert not images.flags.writeable
    assert shapes.training_seeds(10, offset=5) == range(5, 15)
    with pytest.raises(ValueError):
        shapes.training_seeds(10, offset=shapes.HELD_OUT_SEED - 5)


def test_batches_resume_and_keep_image_and_mask_aligned():
    images, masks = shapes.scenes(range(10), 32)
    stream = shapes.batches(images, masks, 4, seed=1)
    first = [next(stream) for _ in range(5)]
    resumed = next(shapes.batches(images, masks, 4, seed=1, start_step=3))
    assert np.array_equal(resumed[0], first[3][0]) and np.array_equal(resumed[1], first[3][1])
    for x, y in first:
        assert x.shape == (4, 32, 32) and y.shape == (4, 32, 32)
        for image, mask in zip(x, y):  # each pair is one scene under one of the 8 symmetries
            assert any(np.array_equal(image, shapes.dihedral(images[j:j + 1], np.array([k]))[0])
                       and np.array_equal(mask, shapes.dihedral(masks[j:j + 1], np.array([k]))[0])
                       for j in range(10) for k in range(8))


@pytest.mark.parametrize("kwargs, message", [
    (dict(size=8), "size"),
    (dict(n_shapes=(4, 2)), "n_shapes"),
    (dict(n_shapes=99), "n_shapes"),
    (dict(noise=-0.1), "noise"),
    (dict(kinds=("circle", "hexagon")), "kinds"),
    (dict(kinds=()), "kinds"),
    (dict(kinds=("circle", "circle")), "kinds"),
])
def test_bad_arguments_say_what_is_wrong(kwargs, message):
    with pytest.raises(ValueError, match=message):
        shapes.scene(0, **kwargs)


def test_negative_seed_and_bad_batch_size_are_refused():
    with pytest.raises(ValueError, match="seed"):
        shapes.scene(-1)
    images, masks = shapes.scenes(range(3), 32)
    with pytest.raises(ValueError, match="batch_size"):
        next(shapes.batches(images, masks, 5))
