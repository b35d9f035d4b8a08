"""The Autoencoder / VAE page through the real entry point: rebuild, latent map, denoise, upload, fine-tune."""
import torch

from tests.app.conftest import open_page, run_until
from zoo import ui

PAGE = "pages/autoencoder.py"


def _chart_keys(at):
    return {chart.proto.id for chart in at.get("plotly_chart")}


def test_rebuilds_a_gallery_garment_and_draws_every_section():
    at = open_page(PAGE)
    titles = [h.value for h in at.header]
    assert titles[:2] == ["1. Your garment, rebuilt", "2. The VAE's latent space"]
    assert len(at.header) == 6
    assert len(at.get("plotly_chart")) >= 12  # 3 rebuilt, map, decoded, grid, interpolation, 3 denoised, dictionary, atoms, samples


def test_sliders_decode_a_new_point_and_noise_changes_the_denoising():
    at = open_page(PAGE)
    decoded = lambda: next(c.proto.spec for c in at.get("plotly_chart") if "decoded (" in c.proto.spec)
    before = decoded()
    at.slider(key="ae_x").set_value(at.slider(key="ae_x").max).run()
    assert not at.exception and decoded() != before
    at.slider(key="ae_noise").set_value(0.6).run()
    assert not at.exception and any("noisy input · error" in c.proto.spec for c in at.get("plotly_chart"))


def test_upload_is_encoded_and_a_bad_upload_shows_an_error(garment_png):
    at = open_page(PAGE)
    at.radio(key="ae_source").set_value("Upload").run()
    at.file_uploader(key="ae_upload").upload("shirt.png", garment_png, "image/png").run()
    assert not at.exception and not at.error
    assert len(at.header) == 6
    at.file_uploader(key="ae_upload").upload("notes.png", b"just some text", "image/png").run()
    assert not at.exception
    assert at.error and "notes.png" in at.error[0].value
    assert len(at.header) == 1  # the page stops at the input until it gets an image


def test_beta_fine_tune_runs_live_and_leaves_the_shared_vae_alone():
    at = open_page(PAGE)
    shared, _ = ui._load_shared("vae-fashion")
    before = {k: v.clone() for k, v in shared.state_dict().items()}
    at.slider(key="ae_ft_steps").set_value(20).run()
    at.button(key="ae_ft_start").click().run()
    assert not at.exception and not at.error
    run_until(at, lambda at: any("finished" in s.value for s in at.success), seconds=180)
    specs = [chart.proto.spec for chart in at.get("plotly_chart")]
    assert any('"KL divergence from the prior"' in spec and '"reconstruction error"' in spec for spec in specs)
    assert at.download_button(key="ae_ft_download")
    assert all(torch.equal(before[k], v) for k, v in shared.state_dict().items())
