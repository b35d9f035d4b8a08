"""End to end: the real server in headless Chromium, as a person would use it."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from zoo.data.fashion_mnist import CLASSES

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips, or fails in CI, and says why
    expect = None

pytestmark = pytest.mark.e2e

# "/" escaped by hand: Playwright passes the pattern to the browser as a /.../ literal.
PREDICTION = re.compile("(" + "|".join(re.escape(c).replace("/", r"\/") for c in CLASSES) + r") · \d+(\.\d)?%")


def tshirt_png(path: Path) -> Path:
    """A white T-shirt silhouette on black, larger than 28x28, like a person's own drawing."""
    image = Image.new("RGB", (240, 240), "black")
    ImageDraw.Draw(image).polygon(
        [(80, 30), (100, 40), (140, 40), (160, 30), (220, 70), (195, 110), (170, 95),
         (170, 215), (70, 215), (70, 95), (45, 110), (20, 70)], fill="white")
    image.save(path)
    return path


# Records the text of every link the sidebar ever shows, from the first render on.
RECORD_SIDEBAR_LINKS = """
window.sidebarLinks = new Set();
window.sidebarLinkTexts = () => [...document.querySelectorAll('[data-testid="stSidebar"] a')]
    .map(a => a.innerText.trim().split("\\n").pop());
new MutationObserver(() => window.sidebarLinkTexts().forEach(text => window.sidebarLinks.add(text)))
  .observe(document, {subtree: true, childList: true, characterData: true});
"""


def test_a_page_opened_first_by_its_address_has_the_navigation(server, page, screenshot):
    """First in this file on purpose: the server's very first visitor opens /mlp directly, which
    Streamlit would run without streamlit_app.py (its legacy `pages/` folder mode). The sidebar
    shows the real navigation only, never the folder's file names, not even for a moment."""
    page.add_init_script(RECORD_SIDEBAR_LINKS)
    page.goto(f"{server}/mlp")
    expect(page.get_by_role("heading", name="Multilayer perceptron (MLP / DNN)")).to_be_visible()
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("Running on")).to_be_visible()
    for link in ("Home", "MLP / DNN", "ResNet", "DQN"):
        expect(sidebar.get_by_role("link", name=link, exact=True)).to_be_visible()
    # what the observer saw, and the links as drawn now: a link inserted before the sidebar is laid out is seen
    # without its line breaks ("homeHome"), and no later change may come to record it again
    shown = set(page.evaluate("[...window.sidebarLinks, ...window.sidebarLinkTexts()]"))
    assert {"Home", "MLP / DNN", "ResNet", "DQN"} <= shown
    assert not shown & {"streamlit app", "home", "mlp", "cnn", "resnet"}, f"the legacy listing showed: {sorted(shown)}"
    expect(page.get_by_role("heading", name=re.compile(r"^MLP: "))).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"^CNN: "))).to_be_visible()  # side by side

    page.get_by_role("button", name="One step").click()
    expect(page.get_by_test_id("stMetric").filter(has_text="Step").first).to_contain_text("1")
    screenshot("mlp")


def test_home_lists_the_models_and_each_row_leads_to_its_page(server, page, screenshot):
    page.goto(server)
    expect(page.get_by_role("heading", name="Deep Learning Zoo", level=1)).to_be_visible()
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("cnn-fashion", exact=True)).to_be_visible()
    expect(main.get_by_text("Character transformer (4 blocks x 4 heads, 192 wide)")).to_be_visible()
    expect(page.get_by_test_id("stSidebar").get_by_text("Running on")).to_be_visible()
    screenshot("home")
    main.get_by_role("link", name="GAN", exact=True).click()
    expect(page.get_by_role("heading", name="Generative adversarial network (GAN)")).to_be_visible()


def test_cnn_page_classifies_the_gallery_and_an_upload(server, page, screenshot, tmp_path):
    page.goto(f"{server}/cnn")
    expect(page.get_by_role("heading", name="Convolutional neural network")).to_be_visible()
    seen = page.get_by_text("What the model sees")
    expect(seen.first).to_be_visible()
    expect(page.get_by_role("heading", name=PREDICTION)).to_be_visible()
    expect(page.get_by_role("button", name="Start fine-tuning")).to_be_visible()
    screenshot("cnn-gallery")

    page.get_by_text("Upload", exact=True).click()
    uploader = page.get_by_test_id("stFileUploader").filter(has_text="A photo or drawing")
    expect(uploader).to_be_visible()
    expect(seen).to_have_count(0)  # the gallery's prediction is gone: what comes next is the upload's
    uploader.locator("input[type=file]").set_input_files(tshirt_png(tmp_path / "tshirt.png"))
    expect(uploader).to_contain_text("tshirt.png")
    expect(seen.first).to_be_visible()
    expect(page.get_by_role("heading", name=PREDICTION)).to_be_visible()
    expect(page.get_by_role("button", name="Start fine-tuning")).to_be_visible()  # the rerun reached the end
    screenshot("cnn-upload")


def test_resnet_page_classifies_and_offers_the_comparison(server, page, screenshot):
    page.goto(f"{server}/resnet")
    expect(page.get_by_role("heading", name="Residual network (ResNet)")).to_be_visible()
    expect(page.get_by_role("heading", name=PREDICTION)).to_be_visible()
    expect(page.get_by_role("button", name="Start comparison")).to_be_visible()
    expect(page.get_by_text("Upload a zip of class folders to start.")).to_be_visible()
    screenshot("resnet")


def test_word2vec_page_shows_neighbours(server, page, screenshot):
    page.goto(f"{server}/word2vec")
    expect(page.get_by_role("heading", name="Word2Vec", level=1)).to_be_visible()
    expect(page.get_by_test_id("stDataFrame").first).to_contain_text("cosine similarity")
    screenshot("word2vec")


def test_rnn_page_writes_and_shows_the_gradient_through_time(server, page, screenshot):
    page.goto(f"{server}/rnn")
    expect(page.get_by_role("heading", name="Recurrent networks: RNN, GRU and LSTM")).to_be_visible()
    expect(page.get_by_test_id("stCode").first).to_contain_text("And God said")
    expect(page.get_by_role("heading", name="Gradient flow back through time")).to_be_visible()
    expect(page.get_by_role("heading", name="4. Forecast a time series")).to_be_visible()
    screenshot("rnn")


def test_transformer_page_continues_a_prompt_and_shows_attention(server, page, screenshot):
    page.goto(f"{server}/transformer")
    expect(page.get_by_role("heading", name="Transformer", level=1)).to_be_visible()
    expect(page.get_by_test_id("stCode").first).to_be_visible()
    expect(page.get_by_role("heading", name="2. Attention")).to_be_visible()
    page.get_by_text("All heads").click()
    expect(page.get_by_role("heading", name="4. Positional embeddings")).to_be_visible()
    screenshot("transformer")


def test_autoencoder_page_rebuilds_maps_and_samples(server, page, screenshot):
    page.goto(f"{server}/autoencoder")
    expect(page.get_by_role("heading", name="Autoencoder and variational autoencoder (VAE)", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="2. The VAE's latent space")).to_be_visible()
    expect(page.get_by_role("heading", name="5. Garments from nowhere")).to_be_visible()
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    screenshot("autoencoder")


def test_unet_page_segments_a_scene_and_measures_the_skip_connections(server, page, screenshot):
    page.goto(f"{server}/unet")
    expect(page.get_by_role("heading", name="U-Net: segmentation", level=1)).to_be_visible()
    expect(page.get_by_text("Dice on this scene")).to_be_visible()
    page.get_by_text("Zero skip connections").click()
    expect(page.get_by_text("with those zeroed")).to_be_visible(timeout=120_000)
    screenshot("unet")


def test_self_supervised_page_shows_views_the_map_and_the_probe(server, page, screenshot):
    page.goto(f"{server}/self_supervised")
    expect(page.get_by_role("heading", name="Self-supervised learning: SimCLR", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="2. The map it learned without labels")).to_be_visible(
        timeout=120_000)  # the server encodes the 10,000 test images first, once
    expect(page.get_by_text(re.compile(r"Your probe on 100 labelled images \(10 per class\), measured on"))).to_be_visible()
    page.get_by_role("button", name="Draw two new views", exact=True).click()
    expect(page.get_by_text(re.compile(r"The encoder finds the two views \*?\*?\d"))).to_be_visible()
    expect(page.locator(".js-plotly-plot").nth(7)).to_be_visible()
    screenshot("self_supervised")


def test_explain_page_compares_the_methods_and_flips_the_prediction(server, page, screenshot):
    page.goto(f"{server}/explain")
    expect(page.get_by_role("heading", name="Explain a prediction", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="3. Which map is faithful?")).to_be_visible(timeout=120_000)
    expect(page.get_by_text(re.compile(r"is the most faithful: insertion's area minus deletion's is"))).to_be_visible()
    expect(page.get_by_role("heading", name="5. How little it takes to flip it")).to_be_visible()
    expect(page.locator(".js-plotly-plot").nth(6)).to_be_visible()
    screenshot("explain")


def test_layers_page_shows_classes_separating_with_depth(server, page, screenshot):
    page.goto(f"{server}/layers")
    expect(page.get_by_role("heading", name="Inside the layers", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="3. Classes separating with depth")).to_be_visible(timeout=120_000)
    expect(page.locator(".js-plotly-plot").nth(3)).to_be_visible()
    screenshot("layers")


def test_a_fine_tune_on_the_cnn_page_shows_on_the_runs_page(server, page, screenshot):
    page.goto(f"{server}/runs")
    expect(page.get_by_text("No runs yet in this session")).to_be_visible()
    page.get_by_test_id("stSidebar").get_by_role("link", name="CNN").click()  # the same session: its runs follow
    slider = page.get_by_test_id("stSlider").filter(has_text="Steps").get_by_role("slider")
    slider.focus()
    page.keyboard.press("Home")  # 10 steps
    page.get_by_role("button", name="Start fine-tuning").click()
    expect(page.get_by_text("Fine-tuning finished.")).to_be_visible(timeout=180_000)
    page.get_by_test_id("stSidebar").get_by_role("link", name="Runs").click()
    expect(page.get_by_role("heading", name="2. Curves")).to_be_visible()
    expect(page.get_by_role("heading", name="3. Weights over training")).to_be_visible()
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    screenshot("runs")


def test_gan_page_draws_the_lab_and_samples(server, page, screenshot):
    page.goto(f"{server}/gan")
    expect(page.get_by_role("heading", name="Generative adversarial network (GAN)")).to_be_visible()
    expect(page.get_by_role("button", name="Start", exact=True)).to_be_visible()
    expect(page.get_by_text("Modes covered").first).to_be_visible()
    page.get_by_role("button", name="Start", exact=True).click()
    expect(page.get_by_text("The loss curves appear once it trains")).to_be_hidden(timeout=60_000)
    expect(page.get_by_role("heading", name="3. A walk through the latent space")).to_be_visible()
    page.wait_for_timeout(5000)
    screenshot("gan")


def test_diffusion_page_samples_and_animates(server, page, screenshot):
    page.goto(f"{server}/diffusion")
    expect(page.get_by_role("heading", name="Diffusion models: DDPM and DDIM", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="2. Reverse: from noise to a garment, step by step")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Six more of class .* ms per image"))).to_be_visible()
    screenshot("diffusion")


def test_gnn_page_draws_the_karate_club_and_trains(server, page, screenshot):
    page.goto(f"{server}/gnn")
    expect(page.get_by_role("heading", name="Graph neural networks: node classification", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="3. Label a few nodes and train")).to_be_visible()
    page.get_by_role("button", name="Start training", exact=True).first.click()
    expect(page.get_by_text("Training finished.")).to_be_visible(timeout=120_000)
    screenshot("gnn")


def test_dqn_page_plays_an_episode_and_fine_tunes(server, page, screenshot):
    page.goto(f"{server}/dqn")
    expect(page.get_by_role("heading", name="Deep Q-network (DQN)", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="1. Watch an episode")).to_be_visible()
    page.locator("g.updatemenu-button").first.click()  # Play
    slider = page.get_by_test_id("stSlider").filter(has_text="Environment steps").get_by_role("slider")
    slider.focus()
    page.keyboard.press("Home")  # 500 steps: the default 5,000 took most of this test's 90 s
    page.get_by_role("button", name="Start fine-tuning", exact=True).click()
    expect(page.get_by_text("Fine-tuning finished.")).to_be_visible(timeout=180_000)
    screenshot("dqn")
