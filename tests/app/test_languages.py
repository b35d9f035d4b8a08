"""Every page in Chinese and in Russian, through the real entry point: no catalogue key shown as such and no
English sentence left, in the text, the widgets and the charts (beyond names, code, formulas and the
English text the models read)."""
from pathlib import Path

import pytest

from tests.app.conftest import ROOT, open_page
from zoo import checkpoints
from tests.app.languages import english_left, input_words, keys_shown, visible_texts


PAGES = sorted(f"pages/{path.name}" for path in (Path(ROOT) / "pages").glob("*.py"))


def data_words(page: str) -> frozenset[str]:
    """English words a page shows as data: the Word2Vec vocabulary it maps and lists."""
    if page != "pages/word2vec.py":
        return frozenset()
    return frozenset(checkpoints.load("word2vec-text")[0].key_to_index)


@pytest.mark.parametrize("page", PAGES)
def test_a_page_read_in_chinese_then_russian_has_no_english_left(page):
    at = open_page(page, language="zh")
    data = data_words(page)
    for language in ("zh", "ru"):
        if language != "zh":
            at.sidebar.radio(key="zoo_language_switch").set_value(language).run()
            assert not at.exception, at.exception
        texts = visible_texts(at)
        assert texts and not keys_shown(texts), (language, keys_shown(texts))
        typed = input_words(at) | data
        english = {text: runs for text in texts if (runs := english_left(text, typed))}
        assert not english, (language, english)
