"""The zoo in Chinese, Russian and English in a real browser: the language comes from the browser's own, the
sidebar switches it and the URL keeps it; three pages in each, screenshotted for a person to look at (CJK and
Cyrillic need the fonts scripts/install.sh installs)."""
from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import TIMEOUT_MS
from zoo import i18n

try:
    from playwright.sync_api import expect
except ImportError:
    expect = None

pytestmark = pytest.mark.e2e

BROWSER_LOCALES = {"en": "en-US", "zh": "zh-CN", "ru": "ru-RU"}
SCRIPT = {"en": re.compile(r"[A-Za-z]"), "zh": re.compile(r"[\u4e00-\u9fff]"), "ru": re.compile(r"[\u0400-\u04ff]")}
PAGES = ["", "cnn", "rnn"]


@pytest.fixture(params=list(BROWSER_LOCALES))
def language(request) -> str:
    return request.param


@pytest.fixture
def page(browser, language):
    """A browser whose own language is `language`, as a reader's would be."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale=BROWSER_LOCALES[language])
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def test_pages_open_in_the_browsers_language_the_sidebar_switches_it_and_a_link_keeps_it(server, page, browser,
                                                                                         screenshot, language):
    for path in PAGES:
        page.goto(f"{server}/{path}")
        heading = page.locator("h1").first
        expect(heading).to_have_text(SCRIPT[language])
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar.get_by_role("link", name=i18n.t_for(language, "app.page.transformer"))).to_be_visible()
        expect(page).to_have_url(re.compile(rf"[?&]lang={language}\b"))
        screenshot(f"language-{language}-{path or 'home'}")

    other = {"en": "ru", "zh": "en", "ru": "zh"}[language]
    page.get_by_test_id("stSidebar").get_by_text(i18n.LANGUAGES[other], exact=True).click()
    expect(page.get_by_test_id("stSidebar").get_by_role("link", name=i18n.t_for(other, "app.page.cnn"))).to_be_visible()
    expect(page).to_have_url(re.compile(rf"[?&]lang={other}\b"))
    link = page.url
    reader = browser.new_context(locale=BROWSER_LOCALES[language]).new_page()  # another reader, another language
    reader.goto(link)
    expect(reader.get_by_test_id("stSidebar").get_by_role("link", name=i18n.t_for(other, "app.page.cnn"))).to_be_visible()
    reader.context.close()
