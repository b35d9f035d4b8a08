"""The GAN page through the real entry point: the toy GAN trains live and counts modes; the DCGAN
samples, interpolates, judges uploads and fine-tunes a private copy."""
import torch

from tests.app.conftest import chart, metric, open_page, run_until, step
from zoo import ui

PAGE = "pages/gan.py"
HEADERS = ["1. The game, in two dimensions", "2. A DCGAN that makes garments", "3. A walk through the latent space",
           "4. What D thinks of your image", "5. Fine-tune it: watch G and D train"]



def test_page_loads_as_a_lesson():
    at = open_page(PAGE)
    assert at.title[0].value.startswith("Generative adversarial network")
    assert [h.value for h in at.header] == HEADERS
    assert not at.error
    assert step(at) == 0 and metric(at, "Modes covered").endswith("/ 8")
    assert {"gan_plane", "gan_samples", "gan_walk", "gan_verdict"} <= {chart.key for chart in at.get("plotly_chart")}
    assert '"frames"' in chart(at, "gan_walk").proto.spec  # an animation, with its Play button
    assert at.subheader[0].value.startswith("As a real Ankle boot, D scores it above ")


def test_d_scores_a_test_image_against_real_and_generated_ones():
    """D read a test-set ankle boot as "a real Shirt, 75% sure", every class at 55-75%: a number that meant nothing."""
    at = open_page(PAGE)
    heading = at.subheader[0].value  # the gallery's first image, a test-set ankle boot
    real_share, generated_share = (int(part.split("%")[0].split()[-1]) for part in heading.split(" and "))
    assert heading.startswith("As a real Ankle boot") and 0 < real_share < generated_share <= 100
    spec = chart(at, "gan_verdict").proto.spec
    assert "real test images (" in spec and "G's samples (" in spec and "your image" in spec
    assert any("a blind guess gets 10%" in c.value for c in at.caption)
    at.selectbox(key="gan_judge_class").set_value("Trouser").run()
    assert not at.exception and at.subheader[0].value.startswith("As a real Trouser, D scores it above ")


def test_samples_follow_the_seed_and_the_class():
    at = open_page(PAGE)
    first = chart(at, "gan_samples").proto.spec
    at.selectbox(key="gan_class").set_value("Sneaker").run()
    sneakers = chart(at, "gan_samples").proto.spec
    assert not at.exception and sneakers != first
    at.number_input(key="gan_seed").set_value(5).run()
    assert not at.exception and chart(at, "gan_samples").proto.spec != sneakers
    walk = chart(at, "gan_walk").proto.spec
    at.selectbox(key="gan_to_class").set_value("Bag").run()
    assert not at.exception and chart(at, "gan_walk").proto.spec != walk


def test_toy_gan_trains_live_pauses_and_resets():
    at = open_page(PAGE)
    untrained = chart(at, "gan_plane").proto.spec
    at.button(key="gan_start").click().run()
    assert not at.exception and not at.error
    assert at.button(key="gan_start").disabled and not at.button(key="gan_pause").disabled
    run_until(at, lambda at: step(at) > 20, seconds=120, every=0.3)  # as the live fragment polls
    assert chart(at, "gan_plane").proto.spec != untrained and chart(at, "gan_losses") and chart(at, "gan_modes")
    assert metric(at, "D loss") != "–"
    at.button(key="gan_pause").click().run()
    paused = step(at)
    assert not at.button(key="gan_start").disabled
    at.run()
    assert step(at) == paused  # it stays paused
    at.button(key="gan_reset").click().run()
    assert step(at) == 0 and not at.exception
    at.selectbox(key="gan_target").set_value("Two moons").run()
    assert metric(at, "Modes covered").endswith("/ 6") and not at.exception


def test_upload_gets_a_verdict_and_a_bad_upload_shows_an_error(garment_png):
    at = open_page(PAGE)
    at.radio(key="gan_source").set_value("Upload").run()
    at.file_uploader(key="gan_upload").upload("shirt.png", garment_png, "image/png").run()
    assert not at.exception and not at.error
    assert at.subheader[0].value.startswith("As a real ") and chart(at, "gan_verdict")
    at.file_uploader(key="gan_upload").upload("notes.png", b"just some text", "image/png").run()
    assert not at.exception
    assert at.error and "notes.png" in at.error[0].value
    assert not at.subheader and [h.value for h in at.header] == HEADERS  # no verdict, and the page goes on


def test_fine_tune_runs_live_and_leaves_the_shared_model_alone():
    at = open_page(PAGE)
    shared, _ = ui._load_shared("dcgan-fashion")
    before = {k: v.clone() for k, v in shared.state_dict().items()}
    at.slider(key="gan_ft_steps").set_value(10).run()
    at.button(key="gan_ft_start").click().run()
    assert not at.exception and not at.error
    run_until(at, lambda at: any("finished" in s.value for s in at.success), seconds=300)
    assert {"gan_ft_losses", "gan_ft_scores", "gan_ft_samples"} <= {chart.key for chart in at.get("plotly_chart")}
    assert "G's loss" in chart(at, "gan_ft_losses").proto.spec
    assert at.download_button(key="gan_ft_download")
    assert all(torch.equal(before[k], v) for k, v in shared.state_dict().items())
