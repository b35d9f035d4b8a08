"""The CNN page through the real entry point: predict, why (the most faithful map), upload (cleaned up step by
step, or not), bad upload, fine-tune."""
import io
import zipfile

import numpy as np
import torch

from tests.app.conftest import chart, open_page, png_bytes, run_until
from tests.zoo.photo_scenes import SCENES, jpeg, photo
from zoo import checkpoints, photos, ui, uploads
from zoo.data import fashion_mnist

PAGE = "pages/cnn.py"


def _prediction(at):
    return at.subheader[0].value if at.subheader else ""


def test_predicts_on_a_gallery_example():
    at = open_page(PAGE)
    labels = fashion_mnist.load_sample().labels
    index = int((labels == 1).nonzero()[0])  # a trouser: the easiest class
    at.selectbox(key="cnn_gallery").set_value(index).run()
    assert not at.exception
    assert _prediction(at).startswith("Trouser")
    assert len(at.get("plotly_chart")) >= 6  # input, probabilities, saliency, Grad-CAM, maps, filters, confusion


def test_the_feature_maps_say_how_many_of_how_many_channels_are_shown():
    """A layer of 64 channels drew 32 maps under "(64 channels at 14x14)"."""
    at = open_page(PAGE)
    heading = lambda: next(m.value for m in at.markdown if m.value.startswith("**Feature maps of"))
    assert "all 32 channels, each 28x28" in heading()
    at.select_slider(key="cnn_layer").set_value(3).run()
    assert not at.exception
    assert "the first 32 of its 64 channels, each 14x14" in heading()


def test_why_names_the_most_faithful_map_and_links_to_the_explain_page():
    at = open_page(PAGE)
    assert not at.exception
    why = next(m.value for m in at.markdown if "points most faithfully" in m.value)
    assert why.startswith("Of 7 attribution methods, **")
    assert "red for the class" in chart(at, "cnn_why").proto.spec
    assert [link.proto.page for link in at.get("page_link") if "Explain page" in link.proto.label] == ["explain"]


def test_upload_predicts_and_bad_upload_shows_an_error(garment_png):
    at = open_page(PAGE)
    at.radio(key="cnn_source").set_value("Upload").run()
    at.file_uploader(key="cnn_upload").upload("shirt.png", garment_png, "image/png").run()
    assert not at.exception and not at.error
    assert " · " in _prediction(at)
    at.file_uploader(key="cnn_upload").upload("broken.png", b"\x89PNG\r\n\x1a\nnot really", "image/png").run()
    assert not at.exception
    assert at.error and "broken.png" in at.error[0].value
    assert not at.subheader


def _trousers_on_a_gradient() -> bytes:
    """A test-set pair of trousers photographed on a grey gradient, as a phone would save it."""
    sample = fashion_mnist.load_sample()
    trousers = sample.images.numpy()[int(np.flatnonzero(sample.labels.numpy() == 1)[0])]
    scene = next(scene for scene in SCENES if scene.name == "grey linear gradient")
    return jpeg(photo(trousers, scene, np.random.default_rng(0)))


def test_a_photo_is_cleaned_up_step_by_step_and_the_cleaning_can_be_switched_off():
    at = open_page(PAGE)
    at.radio(key="cnn_source").set_value("Upload").run()
    at.file_uploader(key="cnn_upload").upload("trousers.jpg", _trousers_on_a_gradient(), "image/jpeg").run()
    assert not at.exception and not at.error
    assert at.toggle(key="cnn_cleanup").value
    titles = [chart(at, f"cnn_cleanup_{n}").proto.spec for n in "12345"]
    assert all(f'"{n} · ' in spec for n, spec in zip("12345", titles))
    assert any("negated since the garment is darker" in caption.value for caption in at.caption)
    assert _prediction(at).startswith("Trouser")
    seen = chart(at, "cnn_seen").proto.spec

    at.toggle(key="cnn_cleanup").set_value(False).run()
    assert not at.exception and not at.error
    assert not [element for element in at.get("plotly_chart") if element.key.startswith("cnn_cleanup_")]
    assert any("Cleaning is off" in caption.value for caption in at.caption)
    assert any(caption.value == "trousers.jpg, not cleaned up" for caption in at.caption)
    assert chart(at, "cnn_seen").proto.spec != seen  # the model sees the whole photo now
    assert " · " in _prediction(at)


def test_bad_zip_for_fine_tuning_is_a_clear_error():
    at = _page_with_a_zip_of_one_image_per_class()
    assert not at.exception
    assert at.error and "not a Fashion-MNIST class" in at.error[0].value


def test_a_rerun_with_the_same_upload_neither_decodes_nor_cleans_it_again(monkeypatch, garment_png):
    decoded = []
    read = photos.load_image
    monkeypatch.setattr(photos, "load_image", lambda data, name: decoded.append(name) or read(data, name))
    at = open_page(PAGE)
    at.radio(key="cnn_source").set_value("Upload").run()
    at.file_uploader(key="cnn_upload").upload("shirt.png", garment_png, "image/png").run()
    seen = chart(at, "cnn_seen").proto.spec
    at.toggle(key="cnn_cleanup").set_value(False).run()
    at.toggle(key="cnn_cleanup").set_value(True).run()
    at.run()
    assert not at.exception and not at.error
    assert decoded == ["shirt.png"]
    assert chart(at, "cnn_seen").proto.spec == seen


def test_running_out_of_memory_on_an_upload_is_a_clear_message(monkeypatch, garment_png):
    def exhausted(image):
        raise MemoryError
    monkeypatch.setattr(photos, "clean_photo", exhausted)
    at = open_page(PAGE)
    at.radio(key="cnn_source").set_value("Upload").run()
    at.file_uploader(key="cnn_upload").upload("shirt.png", garment_png, "image/png").run()
    assert not at.exception
    assert at.error and at.error[0].value.startswith("shirt.png needs more memory than the server has free")


def test_a_rerun_with_the_same_bad_zip_does_not_read_it_again(monkeypatch):
    opened = []
    read = uploads.read_class_folders
    monkeypatch.setattr(uploads, "read_class_folders", lambda data, name: opened.append(name) or read(data, name))
    at = _page_with_a_zip_of_one_image_per_class()
    at.slider(key="cnn_steps").set_value(20).run()
    assert not at.exception
    assert at.error and "not a Fashion-MNIST class" in at.error[0].value
    assert opened == ["pets.zip"]


def test_fine_tune_runs_live_and_leaves_the_shared_model_alone():
    at = open_page(PAGE)
    shared, _ = ui._load_shared("cnn-fashion")
    before = {k: v.clone() for k, v in shared.state_dict().items()}
    at.slider(key="cnn_steps").set_value(10)
    at.slider(key="cnn_n").set_value(500).run()
    at.button(key="cnn_ft_start").click().run()
    assert not at.exception and not at.error
    run_until(at, lambda at: any("finished" in s.value for s in at.success), seconds=180)
    assert at.metric[0].label == "Held-out accuracy before" and at.metric[1].label == "after"
    assert any(chart.proto.spec and '"training loss"' in chart.proto.spec for chart in at.get("plotly_chart"))
    assert at.download_button(key="cnn_ft_download")
    after = shared.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    fresh, _ = checkpoints.load("cnn-fashion", "cpu")
    assert all(torch.equal(v.cpu(), shared.state_dict()[k].cpu()) for k, v in fresh.state_dict().items())


def _page_with_a_zip_of_one_image_per_class():
    """The page with a zip of two classes of one image each uploaded for fine-tuning: too few to train on."""
    at = open_page(PAGE)
    at.radio(key="cnn_data").set_value("own").run()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("cats/1.png", png_bytes())
        archive.writestr("dogs/1.png", png_bytes())
    at.file_uploader(key="cnn_zip").upload("pets.zip", buffer.getvalue(), "application/zip").run()
    return at
