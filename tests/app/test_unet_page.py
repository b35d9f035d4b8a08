"""The U-Net page through the real entry point: a generated scene, feature maps, zeroed skip connections,
an upload, a bad upload, and a tiny fine-tune that teaches a new shape and leaves the shared model alone."""
import io

import torch
from PIL import Image, ImageDraw

from tests.app.conftest import open_page, run_until
from zoo import checkpoints, ui

PAGE = "pages/unet.py"
NAME = "unet-shapes"


def _keys(at) -> set[str]:
    return {chart.key for chart in at.get("plotly_chart")}


def _finished(at) -> bool:
    return any("finished" in s.value for s in at.success) or bool(at.error)


def shapes_png() -> bytes:
    """A drawing of a dark disc and a light square on grey paper, larger than the model's input."""
    image = Image.new("RGB", (320, 240), (150, 150, 150))
    draw = ImageDraw.Draw(image)
    draw.ellipse((60, 60, 150, 150), fill=(40, 40, 40))
    draw.rectangle((180, 90, 250, 160), fill=(230, 230, 230))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_generated_scene_is_segmented_and_looked_inside():
    at = open_page(PAGE)
    assert not at.error
    assert {"unet_input", "unet_mask", "unet_confidence", "unet_truth", "unet_encoder_maps",
            "unet_decoder_maps"} <= _keys(at)
    assert any(md.value.startswith("**Dice on this scene**") for md in at.markdown)
    first = at.get("plotly_chart")[1].proto.spec
    at.button(key="unet_new_scene").click().run()
    assert not at.exception and at.number_input(key="unet_seed").value == 8
    assert at.get("plotly_chart")[1].proto.spec != first
    at.select_slider(key="unet_level").set_value(4).run()  # the bottleneck: no decoder maps of its own
    assert not at.exception and "unet_decoder_maps" not in _keys(at)


def test_zeroing_the_skip_connections_shows_the_mask_and_the_held_out_drop():
    at = open_page(PAGE)
    at.toggle(key="unet_zero_skips").set_value(True).run()
    assert not at.exception
    assert {"unet_skips_on", "unet_skips_off"} <= _keys(at)
    labels = [m.label for m in at.metric]
    assert "Held-out mean Dice, all skips" in labels and "with those zeroed" in labels
    at.multiselect(key="unet_skip_levels").set_value([]).run()
    assert at.info and "at least one level" in at.info[0].value


def test_an_upload_is_segmented_and_a_bad_one_is_a_clear_error():
    at = open_page(PAGE)
    at.radio(key="unet_source").set_value("upload").run()
    at.file_uploader(key="unet_upload").upload("shapes.png", shapes_png(), "image/png").run()
    assert not at.exception and not at.error
    assert {"unet_input", "unet_mask", "unet_confidence"} <= _keys(at) and "unet_truth" not in _keys(at)
    assert any("shapes.png was cropped to its centre square" in c.value for c in at.caption)
    at.file_uploader(key="unet_upload").upload("broken.png", b"\x89PNG\r\n\x1a\nnot really", "image/png").run()
    assert not at.exception
    assert at.error and "broken.png" in at.error[0].value
    assert "unet_mask" not in _keys(at)


def test_tiny_fine_tune_teaches_a_new_shape_and_leaves_the_shared_model_alone():
    at = open_page(PAGE)
    shared, _ = ui._load_shared(NAME)
    before = {k: v.clone() for k, v in shared.state_dict().items()}
    at.selectbox(key="unet_ft_kind").set_value("star")
    at.slider(key="unet_ft_steps").set_value(10).run()
    at.button(key="unet_ft_start").click().run()
    assert not at.exception and not at.error
    run_until(at, _finished, seconds=300)
    assert not at.error
    assert {"unet_ft_loss", "unet_ft_dice", "unet_cmp_truth", "unet_cmp_shipped", "unet_cmp_tuned"} <= _keys(at)
    assert any(m.label == "Dice, star (after)" for m in at.metric)
    assert at.download_button(key="unet_ft_download")
    assert all(torch.equal(before[k], v) for k, v in shared.state_dict().items())
    fresh, _ = checkpoints.load(NAME, "cpu")
    assert all(torch.equal(v.cpu(), shared.state_dict()[k].cpu()) for k, v in fresh.state_dict().items())
