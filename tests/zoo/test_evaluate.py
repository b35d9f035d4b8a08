"""zoo.evaluate's slices: `--samples N` measures a generative card on N images and says so; on any
other card it is refused with the names it takes. zoo.progress draws bars only once a CLI asks."""
import json

import pytest

from zoo import evaluate, progress


@pytest.mark.slow(seconds=50)
def test_samples_measures_a_generative_card_on_that_many_images_and_says_it_is_a_slice(capsys):
    evaluate.main(["dcgan-fashion", "--samples", "20", "--json"])
    out, err = capsys.readouterr()
    measured = json.loads(out)
    assert measured["fid_samples"] == 20 and sum(measured["class_shares"].values()) == pytest.approx(1.0)
    assert "dcgan-fashion measured on a slice: 20 generated images" in err


def test_samples_is_refused_for_a_card_that_generates_nothing(capsys):
    with pytest.raises(SystemExit) as exit_:
        evaluate.main(["cnn-fashion", "--samples", "20"])
    assert exit_.value.code == 2
    assert "for a generative card only: dcgan-fashion, diffusion-fashion, vae-fashion" in capsys.readouterr().err


def test_a_slice_cannot_update_the_card(capsys):
    with pytest.raises(SystemExit):
        evaluate.main(["vae-fashion", "--samples", "20", "--update-card"])
    assert "drop --limit and --samples" in capsys.readouterr().err


def test_bars_are_drawn_only_once_enabled(monkeypatch):
    monkeypatch.setattr(progress, "_enabled", False)  # a CLI test before this one may have enabled them
    items = range(3)
    assert progress.bar(items, "quiet") is items
    monkeypatch.setattr(progress, "_enabled", True)
    drawn = progress.bar(items, "shown")
    assert drawn is not items and list(drawn) == [0, 1, 2]
