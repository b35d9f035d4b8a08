"""The catalogues: every key in the three languages with the same placeholders, Chinese and Russian texts
really translated, and numbers written as each language writes them."""
import pytest

from tests.app.languages import english_left
from zoo import i18n

ENTRIES = i18n.catalogue()


def test_every_key_has_a_text_in_each_language_and_nothing_else():
    for key, texts in ENTRIES.items():
        assert set(texts) == set(i18n.LANGUAGES), key
        assert all(text.strip() for text in texts.values()), key


@pytest.mark.parametrize("language", ["zh", "ru"])
def test_each_translation_has_the_english_placeholders(language):
    wrong = {key: (texts["en"], texts[language]) for key, texts in ENTRIES.items()
             if i18n.placeholders(texts["en"]) != i18n.placeholders(texts[language])}
    assert not wrong


@pytest.mark.parametrize("language", ["zh", "ru"])
def test_no_translation_is_left_in_english(language):
    left = {key: english_left(texts[language]) for key, texts in ENTRIES.items() if english_left(texts[language])}
    assert not left


def test_a_key_speaks_the_language_in_force_and_an_unknown_key_is_an_error():
    with i18n.speaking("ru"):
        assert i18n.t("app.language") == "Язык"
    with i18n.speaking("zh"):
        assert i18n.t("app.language") == "语言"
    assert i18n.t("app.language") == "Language"
    with pytest.raises(KeyError):
        i18n.t("app.no_such_key")


def test_numbers_are_written_as_each_language_writes_them():
    values = dict(device="CPU")
    assert i18n.t("app.running_on", **values) == "Running on **CPU**"
    for language, expected in [("en", "60,000 · 94.41% · 1.5"), ("zh", "60,000 · 94.41% · 1.5"),
                               ("ru", "60\u202f000 · 94,41\u00a0% · 1,5")]:
        with i18n.speaking(language):
            assert " · ".join([i18n.number(60000), i18n.number(0.94412, ".2%"), i18n.number(1.5, ".1f")]) == expected


def test_a_language_tag_from_a_browser_or_a_link_picks_a_language_the_zoo_speaks():
    assert [i18n.supported(tag) for tag in ["zh-CN", "ru_RU", "en-GB", "ZH", "de-DE", None, ""]] == \
        ["zh", "ru", "en", "zh", None, None, None]


def test_a_count_takes_the_plural_form_its_number_needs():
    forms = {"en": ["1 step", "2 steps", "5 steps", "11 steps", "21 steps"], "zh": ["1 步", "2 步", "5 步", "11 步", "21 步"],
             "ru": ["1 шаг", "2 шага", "5 шагов", "11 шагов", "21 шаг"]}
    for language, expected in forms.items():
        with i18n.speaking(language):
            assert [i18n.count("jobs.steps", n) for n in (1, 2, 5, 11, 21)] == expected
