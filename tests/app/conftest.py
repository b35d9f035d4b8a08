"""Helpers for driving pages through the real entry point with AppTest."""
from __future__ import annotations

import io
import os
import time

import pytest
from PIL import Image, ImageDraw
from streamlit import config
from streamlit.testing.v1 import AppTest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def open_page(page: str | None = None, timeout: float = 120, language: str | None = None) -> AppTest:
    """The app as a person enters it, switched to `page` (a path under pages/), in `language` as a link's
    `?lang=` gives it (else English); exceptions keep their message here, which visitors never see
    (`client.showErrorDetails` is "none" on the server)."""
    config.set_option("client.showErrorDetails", "full")
    at = AppTest.from_file(os.path.join(ROOT, "streamlit_app.py"), default_timeout=timeout)
    if language:
        at.query_params["lang"] = language
    at.run()
    assert not at.exception, at.exception
    if page:
        at.switch_page(page).run()
        assert not at.exception, at.exception
    return at


def run_until(at: AppTest, done, seconds: float = 120, every: float = 0.5) -> AppTest:
    """Rerun the script (as the page's live fragment would) until `done(at)` or time runs out."""
    deadline = time.monotonic() + seconds
    while not done(at):
        assert time.monotonic() < deadline, "timed out waiting for the page"
        time.sleep(every)
        at.run()
        assert not at.exception, at.exception
    return at


def chart(at: AppTest, key: str):
    """The Plotly chart drawn under `key`."""
    return next(element for element in at.get("plotly_chart") if element.key == key)


def metric(at: AppTest, label: str) -> str:
    """The shown value of the metric labelled `label`."""
    return next(element.value for element in at.metric if element.label == label)


def step(at: AppTest) -> int:
    """A live run's "Step" metric as a number."""
    return int(metric(at, "Step").replace(",", ""))


def png_bytes(draw_garment: bool = True) -> bytes:
    """A dark T-shirt-like shape on a white background, like a photo of a garment."""
    image = Image.new("RGB", (300, 260), "white")
    if draw_garment:
        ImageDraw.Draw(image).polygon([(60, 40), (120, 20), (180, 20), (240, 40), (280, 100), (230, 120),
                                       (220, 240), (80, 240), (70, 120), (20, 100)], fill=(40, 40, 90))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def garment_png() -> bytes:
    return png_bytes()
