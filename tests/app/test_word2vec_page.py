"""The Word2Vec page: neighbours, an unknown word's spellings, the map, a bad and a good
upload of word2vec-format vectors, and a tiny training run on typed text through zoo.jobs."""
import random
from pathlib import Path

from gensim.models import KeyedVectors
from streamlit.testing.v1 import AppTest

from models.word2vec.vector_files import to_word2vec_text
from tests.app.conftest import ROOT, open_page, run_until
from zoo import checkpoints

PAGE = "pages/word2vec.py"
FRAME = f"""
import streamlit as st
from zoo import ui
navigation = st.navigation([st.Page({str(Path(ROOT) / PAGE)!r}, title="Word2Vec", url_path="word2vec")])
ui.frame()
navigation.run()
"""


def open_word2vec() -> AppTest:
    """The page through the entry point once its navigation lists it; until then in the same frame alone."""
    if PAGE in (Path(ROOT) / "streamlit_app.py").read_text():
        return open_page(PAGE)
    at = AppTest.from_string(FRAME, default_timeout=120).run()
    assert not at.exception, at.exception
    return at


def _tables(at, column: str = "cosine similarity") -> list:
    """The page's score tables with `column`, top to bottom: neighbours, then the analogy's answers."""
    return [frame.value for frame in at.dataframe if column in frame.value.columns]


def test_neighbours_of_a_word_and_the_map():
    at = open_word2vec()
    assert at.title[0].value == "Word2Vec"
    at.text_input(key="w2v_word").set_value("jerusalem").run()
    assert not at.exception and not at.error
    neighbours, answers = _tables(at)
    assert len(neighbours) == 10 and "jerusalem" not in neighbours["word"].tolist()
    assert neighbours["cosine similarity"].is_monotonic_decreasing
    assert len(answers) == 5
    assert at.get("plotly_chart")  # the map and the similarity heat map
    at.radio(key="w2v_map_method").set_value("t-SNE")
    at.radio(key="w2v_map_dims").set_value("3-D").run()
    assert not at.exception and not at.error


def test_an_unknown_word_gets_the_nearest_spellings():
    at = open_word2vec()
    at.text_input(key="w2v_word").set_value("jerusalm").run()
    assert not at.exception and not at.error
    assert any("nearest spellings" in w.value and "jerusalem" in w.value for w in at.warning)


def test_bad_upload_shows_an_error_and_a_good_one_is_explored():
    at = open_word2vec()
    at.radio(key="w2v_source").set_value("Upload a word2vec file").run()
    at.file_uploader(key="w2v_upload").upload("glove.txt", b"cat 0.1 0.2\ndog 0.3 0.4\n", "text/plain").run()
    assert not at.exception
    assert at.error and "should be the header" in at.error[0].value
    shipped, _ = checkpoints.load("word2vec-text")
    words = ["king", "queen", "man", "woman", "god", "lord", "water", "fire", "city", "jerusalem", "bread"]
    small = KeyedVectors(shipped.vector_size)
    small.add_vectors(words, shipped[words])
    at.file_uploader(key="w2v_upload").upload("small.vec", to_word2vec_text(small), "text/plain").run()
    assert not at.exception and not at.error
    assert any(f"Exploring {len(words)} words" in c.value for c in at.caption)
    assert len(_tables(at)[0]) == 10


def test_vectors_that_never_separated_get_a_warning():
    """Trained on 524 words, every similarity was 0.994-0.995 and nothing on the page said so."""
    at = open_word2vec()
    assert not [w for w in at.warning if "hardly separated" in w.value]  # the shipped vectors are fine
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"]
    alike = KeyedVectors(4)
    alike.add_vectors(words, [[1.0, 1.0, 1.0, 1.0 + 0.01 * i] for i in range(len(words))])
    at.radio(key="w2v_source").set_value("Upload a word2vec file").run()
    at.file_uploader(key="w2v_upload").upload("alike.vec", to_word2vec_text(alike), "text/plain").run()
    assert not at.exception and not at.error
    assert any("hardly separated" in w.value and "cosine similarity of 1.000" in w.value for w in at.warning)
    assert at.text_input(key="w2v_word").value == "alpha"  # a word the uploaded vectors know


def test_tiny_training_run_completes_and_its_vectors_are_explored():
    rng = random.Random(0)
    fruit, vehicles = "apple banana cherry grape lemon mango".split(), "car truck bus train plane boat".split()
    text = "\n".join(" ".join(rng.choice(group) for _ in range(10)) for group in [fruit, vehicles] * 60)
    at = open_word2vec()
    at.text_input(key="w2v_word").set_value("smartphone").run()  # typed before training, unknown after it
    at.radio(key="w2v_source").set_value("Train on your text").run()
    at.text_area(key="w2v_text").set_value(text)
    at.slider(key="w2v_epochs").set_value(3).run()
    assert not at.exception and not at.error
    assert any("Your text has 1,200 words" in w.value and "below about 10,000 words" in w.value for w in at.warning)
    at.button(key="w2v_train_start").click().run()
    assert not at.exception and not at.error
    run_until(at, lambda at: any("finished" in s.value for s in at.success) or bool(at.error), seconds=180)
    assert not at.error, at.error[0].value
    assert any("Exploring 12 words of 50 dimensions" in c.value for c in at.caption)
    assert at.download_button(key="w2v_download")
    # every box holds words of the new vocabulary: no "king is not in the vocabulary", no stale "smartphone"
    boxes = [at.text_input(key=k).value for k in ("w2v_word", "w2v_analogy_0", "w2v_analogy_1", "w2v_analogy_2",
                                                  "w2v_odd", "w2v_map_words")]
    assert set(" ".join(boxes).split()) <= set(fruit + vehicles)
    assert [w.value for w in at.warning if "not in the vocabulary" in w.value] == []
    assert _tables(at) and len(_tables(at)[0]) == 10
    at.text_input(key="w2v_word").set_value("smartphone").run()
    assert [w.value for w in at.warning if "not in the vocabulary" in w.value] == [
        "**smartphone** is not in the vocabulary, and nothing is spelled like it."]
    at.text_input(key="w2v_word").set_value("apple").run()
    neighbours = _tables(at)[0]["word"].tolist()
    assert len(neighbours) == 10 and set(neighbours) < set(fruit + vehicles)
