"""The self-supervised page through the real entry point: views that redraw, the feature map with an upload on it,
the similarity matrix at a temperature, probes on drawn and uploaded labels, a short fine-tune."""
import io
import json
import re
import zipfile

import pytest
from PIL import Image, ImageDraw

from tests.app.conftest import chart, open_page, run_until
from zoo.data import fashion_mnist

PAGE = "pages/self_supervised.py"
pytestmark = pytest.mark.skipif(not fashion_mnist.is_installed(), reason="Fashion-MNIST is not installed")


def _spec(at, key: str) -> dict:
    return json.loads(chart(at, key).proto.spec)


def _names(at, key: str) -> set[str]:
    return {trace.get("name") for trace in _spec(at, key)["data"]}


def _probe_metric(at):
    return next(m for m in at.metric if m.label.startswith("Your probe on"))


def test_loads_every_section_and_draws_new_views_on_the_button():
    at = open_page(PAGE)
    assert [h.value for h in at.header] == ["1. Two views of one garment", "2. The map it learned without labels",
                                            "3. Labels are cheap now", "4. What the loss sees", "5. Keep training it"]
    assert {"ssl_view_1", "ssl_view_2", "ssl_map", "ssl_neighbours", "ssl_label_efficiency", "ssl_cosine",
            "ssl_partner"} <= {c.key for c in at.get("plotly_chart")}
    assert "your image" in _names(at, "ssl_map") and len(_names(at, "ssl_map")) == 11  # ten classes and the image
    before = chart(at, "ssl_view_1").proto.spec
    at.button(key="ssl_redraw").click().run()
    assert not at.exception and chart(at, "ssl_view_1").proto.spec != before
    at.slider(key="ssl_crop").set_value(1.0).run()
    at.slider(key="ssl_rotation").set_value(0.0).run()
    assert not at.exception
    assert any(re.search(r"finds the two views \*\*[01]\.\d\d\*\* alike", c.value) for c in at.caption)


def test_temperature_sharpens_the_partner_chances_and_leaves_the_cosines():
    at = open_page(PAGE)
    cosine, partner = chart(at, "ssl_cosine").proto.spec, chart(at, "ssl_partner").proto.spec
    at.select_slider(key="ssl_temperature").set_value(1.0).run()
    assert not at.exception
    assert chart(at, "ssl_cosine").proto.spec == cosine and chart(at, "ssl_partner").proto.spec != partner
    assert any("NT-Xent loss of this batch at temperature 1:" in c.value for c in at.caption)
    at.slider(key="ssl_batch").set_value(12).run()
    assert len(_spec(at, "ssl_cosine")["data"][0]["y"]) == 12


def test_an_upload_is_placed_on_the_map_with_its_neighbours_and_a_bad_one_gets_a_sentence(garment_png):
    at = open_page(PAGE)
    at.radio(key="ssl_source").set_value("Upload").run()
    at.file_uploader[0].upload("shirt.png", garment_png, "image/png").run()
    assert not at.exception and not at.error
    assert "your image" in _names(at, "ssl_map")
    assert "The 8 test images nearest yours" in _spec(at, "ssl_neighbours")["layout"]["title"]["text"]
    at.file_uploader[0].upload("notes.png", b"just some text", "image/png").run()
    assert not at.exception
    assert at.error and "notes.png" in at.error[0].value
    assert "your image" not in _names(at, "ssl_map")  # the rest of the page goes on without an image
    assert len(at.header) == 5


def test_the_tsne_map_is_drawn_once_and_places_the_image():
    at = open_page(PAGE)
    at.radio(key="ssl_map_method").set_value("t-SNE").run()
    assert not at.exception
    assert "by t-SNE of their features" in _spec(at, "ssl_map")["layout"]["title"]["text"]
    assert "your image" in _names(at, "ssl_map")
    assert any("mean place of its 10 most similar" in c.value for c in at.caption)


def _class_zip(folders: dict[str, int]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for folder, count in folders.items():
            for i in range(count):
                image = Image.new("RGB", (90, 90), "white")
                ImageDraw.Draw(image).rectangle([20 + i, 15, 70, 80 - i], fill=(30, 30, 30))
                png = io.BytesIO()
                image.save(png, format="PNG")
                archive.writestr(f"mine/{folder}/{i}.png", png.getvalue())
    return buffer.getvalue()


def test_probe_trains_on_the_labels_chosen_and_on_an_uploaded_zip():
    at = open_page(PAGE)
    assert _probe_metric(at).label.startswith("Your probe on 100 labelled images (10 per class), measured on 10,000 test images")
    at.select_slider(key="ssl_probe_k").set_value(1).run()
    assert not at.exception
    shown = _probe_metric(at)
    assert shown.label.startswith("Your probe on 10 labelled images (1 per class)") and 0 <= float(shown.value.rstrip("%")) <= 100
    assert "your probe: 1 per class" in _names(at, "ssl_label_efficiency")

    at.radio(key="ssl_probe_source").set_value("zip").run()
    at.file_uploader(key="ssl_probe_zip").upload("mine.zip", _class_zip({"bag": 4, "sandals": 3}), "application/zip").run()
    assert not at.exception and not at.error
    assert _probe_metric(at).label == ("Your probe on 7 labelled images (3.5 per class), measured on 2,000 test images of "
                                      "your 2 classes")
    at.file_uploader(key="ssl_probe_zip").upload("pets.zip", _class_zip({"cats": 2, "dogs": 2}), "application/zip").run()
    assert not at.exception
    assert at.error and "is not a Fashion-MNIST class" in at.error[0].value


def _dot_png() -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", (120, 120), "white")
    ImageDraw.Draw(image).ellipse([30, 20, 90, 100], fill="black")
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.slow(seconds=70)
def test_a_short_fine_tune_completes_with_loss_and_knn_curves_and_too_few_own_images_are_named():
    at = open_page(PAGE)
    at.radio(key="ssl_ft_source").set_value("mine").run()
    at.file_uploader(key="ssl_ft_upload").upload("one.png", _dot_png(), "image/png").run()
    assert not at.exception and any("at least 16 images (1 so far)" in i.value for i in at.info)
    assert "ssl_ft_start" not in [b.key for b in at.button]  # no run until there are enough

    at.radio(key="ssl_ft_source").set_value("fashion").run()
    at.slider(key="ssl_ft_steps").set_value(10).run()
    at.slider(key="ssl_ft_n").set_value(500).run()
    at.button(key="ssl_ft_start").click().run()
    assert not at.exception and not at.error
    run_until(at, lambda at: any("finished" in s.value for s in at.success), seconds=300)
    assert {"ssl_ft_loss", "ssl_ft_knn"} <= {c.key for c in at.get("plotly_chart")}
    assert _names(at, "ssl_ft_knn") == {"kNN accuracy"}
    assert any(re.search(r"kNN accuracy \d+\.\d% before", c.value) for c in at.caption)
    assert at.download_button(key="ssl_ft_download")

