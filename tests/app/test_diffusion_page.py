"""The Diffusion page through the real entry point: noising, the reverse process, sampling, SDEdit,
uploads good and bad, and a short fine-tune."""
import torch

from tests.app.conftest import open_page, run_until
from zoo import ui

PAGE = "pages/diffusion.py"


def _specs(at) -> list[str]:
    return [chart.proto.spec for chart in at.get("plotly_chart")]


def test_loads_with_every_section_and_the_animation():
    at = open_page(PAGE)
    assert [h.value for h in at.header][:2] == ["1. Forward: burying a garment in noise",
                                                "2. Reverse: from noise to a garment, step by step"]
    assert len(at.header) == 6
    specs = _specs(at)
    assert any('"frames"' in spec for spec in specs)  # the reverse process, played with Plotly frames
    assert any('"type":"log"' in spec.replace(" ", "") for spec in specs)  # the signal-to-noise curve
    assert len(specs) >= 9


def test_sliders_resample_and_noise():
    at = open_page(PAGE)
    before = next(c.value for c in at.caption if "Six more" in c.value)
    at.selectbox(key="diff_class").set_value(7).run()
    at.select_slider(key="diff_steps").set_value(10).run()
    assert not at.exception
    after = next(c.value for c in at.caption if "Six more" in c.value)
    assert after != before and "Sneaker" in after
    at.slider(key="diff_t").set_value(900).run()
    assert not at.exception and any("x_t at t = 900" in spec for spec in _specs(at))


def test_every_timing_names_its_device_and_this_machine_is_timed_beside_the_card():
    """"4,363 ms per image" stood beside the card's 0.0002-0.0013 s timed on an H100, neither saying where."""
    at = open_page(PAGE)
    here, card_device = ui.device_name(), ui.shared_model("diffusion-fashion")[1]["device"]
    assert any(c.value.startswith("Left x_t") and f"on {here}, this machine" in c.value for c in at.caption)
    assert any("Six more" in c.value and f"on {here}, this machine" in c.value and "ms per image" in c.value
               for c in at.caption)
    spec = next(chart.proto.spec for chart in at.get("plotly_chart") if chart.key == "diff_tradeoff")
    assert f"ms per image, {card_device} (model card)" in spec and "milliseconds per image" in spec
    timed_here = any(f"On {here}, this machine, timed once" in c.value for c in at.caption)
    assert (f"ms per image, {here}, this machine" in spec) == timed_here == (card_device != here)


def test_sdedit_starts_at_a_step_that_visibly_changes_the_garment():
    at = open_page(PAGE)
    assert at.slider(key="diff_sdedit_t").value == 700
    assert any("noised to t = 700" in spec for spec in _specs(at))


def test_upload_is_noised_and_edited_and_a_bad_upload_shows_an_error(garment_png):
    at = open_page(PAGE)
    at.radio(key="diff_source").set_value("Upload").run()
    at.file_uploader(key="diff_upload").upload("shirt.png", garment_png, "image/png").run()
    assert not at.exception and not at.error
    assert any("denoised" in spec for spec in _specs(at)) and any("shirt.png" in spec for spec in _specs(at))
    at.slider(key="diff_sdedit_t").set_value(200).run()
    at.selectbox(key="diff_sdedit_class").set_value(3).run()
    assert not at.exception and any("noised to t = 200" in spec for spec in _specs(at))
    at.file_uploader(key="diff_upload").upload("notes.png", b"just some text", "image/png").run()
    assert not at.exception
    assert at.error and "notes.png" in at.error[0].value
    assert len(at.header) == 6  # sampling goes on without an image


def test_fine_tuning_uploads_are_shown_and_a_bad_one_is_named(garment_png):
    at = open_page(PAGE)
    at.radio(key="diff_ft_source").set_value("mine").run()
    assert "diff_ft_start" not in [button.key for button in at.button]  # nothing to train on yet
    at.file_uploader(key="diff_ft_upload").set_value([("shirt.png", garment_png, "image/png"),
                                                      ("notes.png", b"not an image", "image/png")]).run()
    assert not at.exception and len(at.error) == 1 and "notes.png" in at.error[0].value
    assert any("1 image, as the model will see" in c.value for c in at.caption)
    assert "diff_ft_start" in [button.key for button in at.button]


def test_a_short_fine_tune_runs_live_and_leaves_the_shared_model_alone():
    at = open_page(PAGE)
    shared, _ = ui._load_shared("diffusion-fashion")
    before = {k: v.clone() for k, v in shared.state_dict().items()}
    at.slider(key="diff_ft_steps").set_value(20).run()
    at.button(key="diff_ft_start").click().run()
    assert not at.exception and not at.error
    run_until(at, lambda at: any("finished" in s.value for s in at.success), seconds=240)
    specs = _specs(at)
    assert any('"training loss"' in spec for spec in specs)
    assert at.download_button(key="diff_ft_download")
    assert all(torch.equal(before[k], v) for k, v in shared.state_dict().items())
