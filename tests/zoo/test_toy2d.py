"""zoo.data.toy2d: every generator's shape, labels and determinism; the split; every bad CSV."""
import numpy as np
import pytest

from zoo import i18n
from zoo.data import toy2d
from zoo.uploads import UploadError


@pytest.mark.parametrize("name", list(toy2d.GENERATORS))
def test_generators_are_shaped_balanced_and_seeded(name):
    points = toy2d.make(name, 301, noise=0.1, seed=3)
    assert points.x.shape == (301, 2) and points.x.dtype == np.float32
    assert points.y.shape == (301,) and points.y.dtype == np.int64
    counts = np.bincount(points.y, minlength=points.n_classes)
    assert len(counts) == points.n_classes and counts.min() > 0.3 * 301 / points.n_classes
    assert np.abs(points.x).max() < 3
    again = toy2d.make(name, 301, noise=0.1, seed=3)
    assert np.array_equal(points.x, again.x) and np.array_equal(points.y, again.y)
    assert not np.array_equal(points.x, toy2d.make(name, 301, noise=0.1, seed=4).x)


@pytest.mark.parametrize("name", sorted(toy2d.MULTICLASS))
def test_multiclass_sets_take_a_number_of_classes(name):
    points = toy2d.make(name, 500, n_classes=5)
    assert points.n_classes == 5 and set(points.y.tolist()) == set(range(5))


def test_noise_is_jitter():
    clean, noisy = toy2d.make("Circles", 400, 0.0), toy2d.make("Circles", 400, 0.3)
    radius = lambda p: np.linalg.norm(p.x, axis=1)
    assert radius(clean)[clean.y == 0].max() <= 0.5 + 1e-6  # the inner disc, exactly
    assert radius(noisy)[noisy.y == 0].max() > 0.6


def test_unknown_set_is_an_error():
    with pytest.raises(ValueError, match="unknown data set"):
        toy2d.make("Mandelbrot")


def test_split_is_stratified_disjoint_and_complete():
    points = toy2d.make("Gaussian blobs", 300, n_classes=3)
    train, test = toy2d.split(points, 0.3, seed=1)
    assert len(train) + len(test) == 300
    assert np.bincount(test.y).tolist() == [30, 30, 30]
    rows = lambda p: {tuple(r) for r in np.column_stack([p.x, p.y])}
    assert not rows(train) & rows(test)
    assert rows(train) | rows(test) == rows(points)


def test_csv_with_and_without_header_and_named_labels():
    with_header = toy2d.read_csv(b"x,y,label\n0,0,0\n1,1,1\n0,1,1\n1,0,0\n")
    assert with_header.x.shape == (4, 2) and with_header.y.tolist() == [0, 1, 1, 0]
    assert with_header.classes == ("0", "1")
    bare = toy2d.read_csv(b"0.5;-1;cat\n1e-1;2;dog\n3;4;dog\n\n5;6;bird\n")
    assert bare.classes == ("bird", "cat", "dog") and bare.y.tolist() == [1, 2, 2, 0]
    assert bare.x[1].tolist() == pytest.approx([0.1, 2.0])
    numbered = toy2d.read_csv("x\ty\tclass\n0\t0\t10\n1\t1\t2\n2\t2\t10\n3\t3\t2\n".encode())
    assert numbered.classes == ("2", "10") and numbered.y.tolist() == [1, 0, 1, 0]


def test_csv_over_the_row_limit_is_cut_with_a_note():
    rows = "".join(f"{i},{-i},{i % 3}\n" for i in range(120))
    points = toy2d.read_csv(rows.encode(), "big.csv", max_rows=50)
    assert len(points) == 50 and points.n_classes == 3
    assert "120 rows" in points.note and "50" in points.note


BAD_CSVS = {
    "empty": (b"", "is empty"),
    "blank lines": (b"\n \n", "is empty"),
    "one row": (b"x,y,label\n1,2,0\n", "1 row"),
    "one class": (b"1,2,a\n3,4,a\n5,6,a\n7,8,a\n", "only one class"),
    "too many classes": ("".join(f"{i},{i},{i}\n" for i in range(11)).encode(), "at most 10"),
    "missing value": (b"1,2,0\n3,,1\n5,6,0\n7,8,1\n", "Line 2 .* no value for y"),
    "missing label": (b"1,2,0\n3,4,\n5,6,0\n7,8,1\n", "Line 2 .* no label"),
    "text in x": (b"x,y,label\n1,2,0\nabc,4,1\n5,6,0\n7,8,1\n", "Line 3 .* 'abc'"),
    "not finite": (b"1,2,0\n3,inf,1\n5,6,0\n7,8,1\n", "not a finite number"),
    "two columns": (b"1,2\n3,4\n5,6\n7,8\n", "exactly three"),
    "four columns": (b"1,2,0,9\n3,4,1,9\n5,6,0,9\n7,8,1,9\n", "exactly three"),
    "fractional labels": (b"1,2,0.5\n3,4,1\n5,6,0\n7,8,1\n", "whole numbers"),
    "not utf-8": (b"\xff\xfe\xfa\x00\x01", "not UTF-8"),
    "binary": (b"PK\x03\x04\x00\x00binary", "not a text file"),
}


@pytest.mark.parametrize("kind", list(BAD_CSVS))
def test_bad_csv_is_a_clear_error(kind):
    data, message = BAD_CSVS[kind]
    with pytest.raises(toy2d.CSVError, match=message) as error:
        toy2d.read_csv(data, "mine.csv")
    assert isinstance(error.value, (ValueError, UploadError))
    assert "mine.csv" in str(error.value) and "\n" not in str(error.value)


def test_csv_too_big_is_refused_before_parsing(monkeypatch):
    monkeypatch.setattr(toy2d, "MAX_CSV_BYTES", 100)
    with pytest.raises(toy2d.CSVError, match="MB"):
        toy2d.read_csv(b"1,2,0\n" * 50, "huge.csv")


def test_a_bad_csv_and_the_sets_names_speak_the_readers_language():
    with i18n.speaking("ru"):
        with pytest.raises(toy2d.CSVError, match="Строка 3 файла mine.csv: x равно «abc»"):
            toy2d.read_csv(b"x,y,label\n1,2,0\nabc,4,1\n5,6,0\n7,8,1\n", "mine.csv")
        assert toy2d.set_name("Two moons") == "Два полумесяца"
    with i18n.speaking("zh"):
        rows = "".join(f"{i},{-i},{i % 3}\n" for i in range(1200))
        assert toy2d.read_csv(rows.encode(), "big.csv", max_rows=1000).note == "big.csv 有 1,200 行；演练场随机使用其中的 1,000 行。"
    assert [toy2d.set_name(code) for code in toy2d.GENERATORS] == list(toy2d.GENERATORS)  # English: the codes
