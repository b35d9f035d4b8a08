"""Fixtures for the browser tests: the real Streamlit server in a subprocess and Debian's
Chromium driven by Playwright, shared by the browser tests and stopped after them (package scope: an idle server
and browser would go on costing the rest of the suite). Missing Chromium skips them on a laptop but fails them
in CI."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, ServerError, streamlit_server

TIMEOUT_MS = 60_000  # every wait in the browser and every expect(): the CPU is slow and may be busy


def _missing(reason: str) -> None:
    """Skip on a developer's machine; in CI (CI=true) a browser test that cannot run is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the browser tests: scripts/install.sh installs it)")
    pytest.skip(reason)


@pytest.fixture(scope="package")
def playwright_api():
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} is missing: `apt-get install chromium` to run the browser tests")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _missing("playwright is not installed: `python3 -m pip install -r requirements.txt`")
    expect.set_options(timeout=TIMEOUT_MS)  # expect() has its own timeout, 5 s unless set
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright_api):
    browser = playwright_api.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="package")
def server(tmp_path_factory) -> Iterator[str]:
    """The base URL of the real server, started once for the browser tests."""
    try:
        with streamlit_server(tmp_path_factory.mktemp("server") / "streamlit.log") as url:
            yield url
    except ServerError as error:
        pytest.fail(str(error))


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def _content_height(page) -> int:
    return int(page.evaluate("""() => Math.max(document.body.scrollHeight,
        ...[...document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"]')]
           .map(e => e.scrollHeight))"""))


def _settled_height(page, timeout_s: float = 15) -> int:
    """The content's height once it stops growing: a rerun streams its elements in."""
    height, deadline = _content_height(page), time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        page.wait_for_timeout(700)
        now = _content_height(page)
        if now == height:
            break
        height = now
    return height


@pytest.fixture
def screenshot(page, tmp_path) -> Callable[[str], Path]:
    """`screenshot("name")` saves the whole page as name.png in $ZOO_SCREENSHOTS (else tmp_path)."""
    folder = Path(os.environ.get("ZOO_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        # Streamlit scrolls inside its main container, not the document, so a full-page shot
        # would stop at the window: make the window as tall as the content first.
        height = _settled_height(page)
        size = page.viewport_size
        page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), 12_000)})
        page.wait_for_timeout(1000)  # let the charts redraw at the new size
        path = folder / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        page.set_viewport_size(size)
        return path

    return take
