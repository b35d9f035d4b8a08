"""The ResNet page through the real entry point: predict, upload, bad upload, the residual
comparison, and transfer learning on a tiny generated zip, then classifying with the result."""
import io
import zipfile

from PIL import Image, ImageDraw

from tests.app.conftest import open_page, png_bytes, run_until
from zoo.data import fashion_mnist

PAGE = "pages/resnet.py"


def _prediction(at):
    return at.subheader[0].value if at.subheader else ""


def _finished(at):
    return any("finished" in s.value for s in at.success) or bool(at.error)


def _shape_png(kind: str, shift: int) -> bytes:
    image = Image.new("RGB", (160, 120), "white")
    box = [40 + shift, 20 + shift, 110 + shift, 90 + shift]
    (ImageDraw.Draw(image).ellipse if kind == "disc" else ImageDraw.Draw(image).rectangle)(box, fill=(30, 30, 30))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _shapes_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for kind in ("disc", "square"):
            for i in range(4):
                archive.writestr(f"shapes/{kind}s/{i}.png", _shape_png(kind, 5 * i))
    return buffer.getvalue()


def test_predicts_on_a_gallery_example():
    at = open_page(PAGE)
    labels = fashion_mnist.load_sample().labels
    index = int((labels == 1).nonzero()[0])  # a trouser: the easiest class
    at.selectbox(key="resnet_gallery").set_value(index).run()
    assert not at.exception
    assert _prediction(at).startswith("Trouser")
    assert len(at.get("plotly_chart")) >= 6  # input, probabilities, saliency, Grad-CAM, maps, filters
    assert at.select_slider(key="resnet_layer").options == ["1", "2", "3"]  # one per stage


def test_upload_predicts_and_bad_upload_shows_an_error(garment_png):
    at = open_page(PAGE)
    at.radio(key="resnet_source").set_value("Upload").run()
    at.file_uploader(key="resnet_upload").upload("shirt.png", garment_png, "image/png").run()
    assert not at.exception and not at.error
    assert " · " in _prediction(at)
    at.file_uploader(key="resnet_upload").upload("broken.png", b"\x89PNG\r\n\x1a\nnot really", "image/png").run()
    assert not at.exception
    assert at.error and "broken.png" in at.error[0].value
    assert not at.subheader


def test_residual_comparison_runs_live():
    at = open_page(PAGE)
    at.slider(key="resnet_demo_steps").set_value(20)
    at.select_slider(key="resnet_demo_width").set_value(4).run()
    at.button(key="resnet_demo_start").click().run()
    assert not at.exception and not at.error
    run_until(at, _finished, seconds=180)
    assert not at.error and any("Comparison finished" in s.value for s in at.success)
    specs = [chart.proto.spec for chart in at.get("plotly_chart") if chart.proto.spec]
    assert any('"plain net"' in spec and '"residual net"' in spec for spec in specs)
    assert sum('log10 gradient norm' in spec for spec in specs) == 2
    assert "resnet_demo_download" not in [button.key for button in at.download_button]  # no weights


def test_bad_zips_are_clear_errors():
    at = open_page(PAGE)
    one_class = io.BytesIO()
    with zipfile.ZipFile(one_class, "w") as archive:
        archive.writestr("cats/1.png", png_bytes())
        archive.writestr("cats/2.png", png_bytes())
    cases = [(b"PK\x03\x04 not a zip", "not a zip file"), (one_class.getvalue(), "at least 2 classes")]
    escaping = io.BytesIO()
    with zipfile.ZipFile(escaping, "w") as archive:
        archive.writestr("cats/1.png", png_bytes())
        archive.writestr("../dogs/1.png", png_bytes())
    cases.append((escaping.getvalue(), "outside the zip"))
    text = io.BytesIO()
    with zipfile.ZipFile(text, "w") as archive:
        archive.writestr("cats/1.png", png_bytes())
        archive.writestr("dogs/notes.txt", "hello")
    cases.append((text.getvalue(), "not an image"))
    for payload, message in cases:
        at.file_uploader(key="resnet_tl_zip").upload("mine.zip", payload, "application/zip").run()
        assert not at.exception
        assert at.error and message in at.error[0].value, (message, [e.value for e in at.error])
        assert all(button.key != "resnet_tl_start" for button in at.button)


def test_transfer_learning_runs_then_classifies_an_upload():
    at = open_page(PAGE)
    at.file_uploader(key="resnet_tl_zip").upload("shapes.zip", _shapes_zip(), "application/zip").run()
    assert not at.exception and not at.error
    assert any("8 images in 2 classes" in c.value for c in at.caption)
    at.slider(key="resnet_tl_steps").set_value(20).run()
    at.button(key="resnet_tl_start").click().run()
    assert not at.exception and not at.error
    run_until(at, _finished, seconds=180)
    assert not at.error
    assert at.metric and at.metric[0].label == "Held-out accuracy"
    [per_class] = [frame.value for frame in at.dataframe if "accuracy" in frame.value.columns]
    assert per_class.shape[0] == 2 and per_class["accuracy"].between(0, 1).all()  # numbers, sorted as numbers
    assert at.download_button(key="resnet_tl_download")
    at.file_uploader(key="resnet_tl_new").upload("new.png", _shape_png("disc", 3), "image/png").run()
    assert not at.exception and not at.error
    assert any(m.value.startswith(("**discs**", "**squares**")) for m in at.markdown)
