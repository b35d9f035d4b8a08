"""models.word2vec: tokens, the per-epoch training generator (same vectors as one gensim call),
the gensim-format checkpoint and its sha256 checks, evaluation on tiny fixtures, the explore
helpers, and every bad word2vec-format upload."""
import json
import os
import random
from dataclasses import asdict

import numpy as np
import pytest
from gensim.models import KeyedVectors, Word2Vec

from models.word2vec import explore as ws, recipe as w2v, vector_files
from tests.helpers import consume
from zoo import checkpoints, i18n
from zoo.uploads import UploadError

NAME = "word2vec-text"
FRUIT = "apple banana cherry grape lemon mango melon peach pear plum".split()
VEHICLES = "car truck bus train plane boat bike ship tram van".split()
TINY = w2v.Word2VecConfig(vector_size=16, window=3, min_count=1, epochs=5, negative=5, seed=1, workers=1)


@pytest.fixture(scope="module")
def two_topics():
    """Sentences about fruit alternating with sentences about vehicles."""
    rng = random.Random(0)
    return [[rng.choice(words) for _ in range(12)] for words in [FRUIT, VEHICLES] * 150]


@pytest.fixture(scope="module")
def trained(two_topics):
    return Word2Vec(two_topics, **asdict(TINY))


def _kv(words: list[str], rows: list[list[float]]) -> KeyedVectors:
    kv = KeyedVectors(len(rows[0]), count=0)
    kv.add_vectors(words, np.array(rows, dtype=np.float32))
    return kv


def test_tokens_are_lower_cased_runs_of_letters_and_lines_are_sentences():
    assert w2v.tokenize("The Lord's 3 sheep, naïve_café!") == ["the", "lord", "s", "sheep", "naïve", "café"]
    assert w2v.sentences("In the beginning\n\n  \nGod created") == [["in", "the", "beginning"], ["god", "created"]]
    long = w2v.sentences(" ".join(["word"] * (2 * w2v.MAX_SENTENCE + 5)))
    assert [len(s) for s in long] == [w2v.MAX_SENTENCE, w2v.MAX_SENTENCE, 5]


def test_epoch_generator_gives_the_vectors_of_one_gensim_call(two_topics):
    model = w2v.build_model(TINY, two_topics)
    events = list(w2v.train_epochs(model, two_topics))
    assert [e["step"] for e in events] == [1, 2, 3, 4, 5] and all(e["total"] == 5 for e in events)
    assert all(e["words_per_s"] > 0 and e["loss"] > 0 for e in events)
    direct = Word2Vec(two_topics, **asdict(TINY))  # one thread: both are deterministic
    np.testing.assert_array_equal(model.wv.vectors, direct.wv.vectors)
    assert (model.epochs, model.alpha, model.min_alpha) == (5, TINY.alpha, TINY.min_alpha)


def test_training_job_groups_words_by_topic(two_topics):
    text = "\n".join(" ".join(s) for s in two_topics)
    events, kv = consume(w2v.train_vectors(text, TINY))
    assert events[0] == {"step": 0, "total": 5, "vocabulary": 20, "words": 3600}
    assert [e["step"] for e in events[1:]] == [1, 2, 3, 4, 5]
    near = [word for word, _ in ws.neighbours(kv, "apple", 5)]
    assert set(near) <= set(FRUIT)


def test_too_little_text_is_a_clear_error():
    with pytest.raises(ValueError, match="4 words, of which 0 distinct ones occur at least 2 times"):
        w2v.check_text("just four words here", 2)
    with pytest.raises(ValueError, match="at least 10"):
        next(w2v.train_vectors("a b c a b c", TINY))


def test_a_text_too_short_for_meaningful_neighbours_gets_a_warning(two_topics):
    assert "Your text has 3,600 words" in w2v.short_text_warning(two_topics)
    assert w2v.short_text_warning([["word"] * w2v.USEFUL_TEXT_WORDS]) is None


def test_example_words_are_frequent_words_with_a_meaning_of_their_own():
    kv = _kv(["the", "of", "apple", "to", "car", "an", "pear", "bus", "it"], [[float(i), 1.0] for i in range(9)])
    assert ws.example_words(kv, 4) == ["apple", "car", "pear", "bus"]
    assert ws.example_words(kv, 6) == ["apple", "car", "pear", "bus", "the", "of"]  # then the most frequent others
    assert ws.example_words(_kv(["of", "to"], [[1.0, 0.0], [0.0, 1.0]]), 3) == ["of", "to"]


def test_typical_similarity_tells_vectors_that_never_separated(trained):
    rng = np.random.default_rng(0)
    alike = _kv([f"w{i}" for i in range(50)], (1 + 0.01 * rng.normal(size=(50, 8))).tolist())
    assert ws.typical_similarity(alike)[0] > ws.ALIKE  # a short text's vectors: every pair about 0.99
    spread = _kv([f"w{i}" for i in range(50)], rng.normal(size=(50, 8)).tolist())
    median, high = ws.typical_similarity(spread)
    assert abs(median) < 0.2 and median < high < ws.ALIKE


def test_gensim_threads_follow_zoo_worker_threads(monkeypatch):
    monkeypatch.setenv("ZOO_WORKER_THREADS", "3")
    assert w2v.default_workers() == 3
    for unset in ("", "0"):  # 0 keeps the default, as it does for torch's threads
        monkeypatch.setenv("ZOO_WORKER_THREADS", unset)
        assert w2v.default_workers() == min(4, os.cpu_count() or 1)


def test_checkpoint_round_trip_in_gensim_format(checkpoint_dir, trained):
    card = checkpoints.save(NAME, trained, {"config": asdict(TINY), "metrics": {"accuracy": 0.5}})
    files = sorted(p.name for p in checkpoint_dir.iterdir())
    assert files == [f"{NAME}.json", f"{NAME}.kv", f"{NAME}.kv.vectors.npy"]
    assert set(card["files"]) == {f"{NAME}.kv", f"{NAME}.kv.vectors.npy"}
    assert card["sha256"] == checkpoints.files_sha256(card["files"])
    assert card["parameters"] == 20 * 16 and card["train_command"] == f"python -m zoo.train {NAME}"
    kv, loaded_card = checkpoints.load(NAME, "cpu")
    assert isinstance(kv, KeyedVectors) and loaded_card == json.loads(json.dumps(card))
    np.testing.assert_array_equal(kv.vectors, trained.wv.vectors)
    assert kv.index_to_key == trained.wv.index_to_key
    assert list(checkpoints.available()) == [NAME]


@pytest.mark.parametrize("damage, message", [
    ("flip_npy", "vectors.npy is corrupted"),
    ("flip_kv", r"\.kv is corrupted"),
    ("drop_npy", "vectors.npy is missing"),
    ("card_sha", "do not match the card's sha256"),
    ("card_files", "does not list its files"),
])
def test_damaged_gensim_checkpoints_are_refused(checkpoint_dir, trained, damage, message):
    checkpoints.save(NAME, trained, {"config": asdict(TINY), "metrics": {}})
    card_path, npy = checkpoint_dir / f"{NAME}.json", checkpoint_dir / f"{NAME}.kv.vectors.npy"
    card = json.loads(card_path.read_text())
    if damage.startswith("flip"):
        path = npy if damage == "flip_npy" else checkpoint_dir / f"{NAME}.kv"
        payload = bytearray(path.read_bytes())
        payload[-3] ^= 0xFF
        path.write_bytes(bytes(payload))
    elif damage == "drop_npy":
        npy.unlink()
    elif damage == "card_sha":
        card_path.write_text(json.dumps(card | {"sha256": "0" * 64}))
    else:
        card_path.write_text(json.dumps({k: v for k, v in card.items() if k != "files"}))
    with pytest.raises(checkpoints.CheckpointError, match=message) as error:
        checkpoints.load(NAME)
    assert f"python -m zoo.train {NAME}" in str(error.value)


def test_shipped_checkpoint_is_small_and_registered():
    recipe = checkpoints.recipe(NAME)
    assert recipe.config.sg == 1 and recipe.config.negative > 0
    weights, card_path = checkpoints.paths(NAME)
    if not card_path.is_file():
        pytest.skip("word2vec-text is not built")
    card = checkpoints.read_card(NAME)
    assert sum((weights.parent / f).stat().st_size for f in card["files"]) < 25 * 2 ** 20
    shipped, defaults = card["metrics"], card["metrics"]["gensim_defaults"]
    assert shipped["accuracy"] > defaults["accuracy"] and shipped["spearman"] > defaults["spearman"]


# ---- evaluation on tiny fixtures ------------------------------------------------------------

@pytest.fixture
def analogy_vectors():
    """Gender along the first axis, royalty along the second: king - man + woman = queen."""
    words = ["man", "woman", "king", "queen", "boy", "girl", "walk", "walked", "run", "ran"]
    rows = [[1, 0, 0, 0.1], [-1, 0, 0, 0.1], [1, 1, 0, 0], [-1, 1, 0, 0], [1, 0, 0, 0.4], [-1, 0, 0, 0.4],
            [0, 0, 1, 0], [0, 0, 1, 1], [0, 0.2, 1, 0], [0, 0.2, 1, 1]]
    return _kv(words, rows)


def test_analogy_accuracy_counts_answered_questions_and_coverage(tmp_path, analogy_vectors):
    questions = tmp_path / "questions.txt"
    questions.write_text(": family\nman woman king queen\nMAN WOMAN boy girl\nman woman prince princess\n"
                         ": gram7-past-tense\nwalk walked run ran\nrun ran walk walked\nswim swam walk walked\n")
    result = w2v.analogy_accuracy(analogy_vectors, questions)
    assert result["analogy_questions"] == 6 and result["analogy_answered"] == 4
    assert result["analogy_coverage"] == pytest.approx(4 / 6)
    assert result["accuracy"] == 1.0 and result["semantic_accuracy"] == 1.0 and result["syntactic_accuracy"] == 1.0
    sampled = w2v.analogy_accuracy(analogy_vectors, questions, sample=2)
    assert sampled["analogy_questions"] == 2


def test_similarity_correlation_over_pairs_in_the_vocabulary(tmp_path):
    kv = _kv(["cat", "tiger", "dog", "car"], [[1, 0], [0.9, 0.3], [0.6, 0.8], [0, 1]])
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("# Word 1\tWord 2\tHuman\ncat\ttiger\t9\ncat\tdog\t6\ncat\tcar\t1\ncat\tunicorn\t5\n")
    result = w2v.similarity_correlation(kv, pairs)
    assert result["spearman"] == pytest.approx(1.0)
    assert result["similarity_pairs"] == 4 and result["similarity_answered"] == 3
    assert result["similarity_coverage"] == pytest.approx(0.75)


# ---- exploring ----------------------------------------------------------------------------------

def test_lookup_suggestions_and_arithmetic(analogy_vectors, trained):
    assert ws.find_word(analogy_vectors, " King ") == "king" and ws.find_word(analogy_vectors, "kong") is None
    assert ws.suggestions(analogy_vectors, "quen")[0] == "queen"
    assert ws.analogy(analogy_vectors, "king", "man", "woman")[0][0] == "queen"
    assert ws.odd_one_out(trained.wv, ["apple", "pear", "plum", "truck"])[0][0] == "truck"
    sims = ws.similarity_matrix(analogy_vectors, ["man", "woman", "king"])
    np.testing.assert_allclose(np.diag(sims), 1, atol=1e-6)
    np.testing.assert_allclose(sims, sims.T, atol=1e-6)


def test_word_map_brings_neighbours_and_samples_when_too_many(trained):
    points = ws.word_map(trained.wv, ["apple", "car"], n_neighbours=4, method="tsne")
    assert points.coords.shape == (10, 2) and points.note is None
    assert [w for w, chosen in zip(points.words, points.chosen) if chosen] == ["apple", "car"]
    assert set(points.groups) == {"apple", "car"}
    sampled = ws.word_map(trained.wv, ["apple", "car"], n_neighbours=9, method="pca", dims=3, max_points=8)
    assert sampled.coords.shape == (8, 3) and {"apple", "car"} <= set(sampled.words)
    assert sampled.note.startswith("Showing 8 of 20 words")
    with i18n.speaking("ru"):  # the note is said when read, so a map kept in the session follows the language
        assert sampled.note.startswith("Чтобы карта оставалась читаемой, показано 8 из 20 слов")


# ---- word2vec text files ---------------------------------------------------------------------

def test_word2vec_text_round_trip(trained, tmp_path):
    data = vector_files.to_word2vec_text(trained.wv)
    assert data.startswith(b"20 16\n")
    back = vector_files.read_word2vec_text(data, "mine.txt")
    assert back.index_to_key == trained.wv.index_to_key
    np.testing.assert_allclose(back.vectors, trained.wv.vectors, rtol=1e-5, atol=1e-6)
    (tmp_path / "mine.txt").write_bytes(data)
    assert KeyedVectors.load_word2vec_format(str(tmp_path / "mine.txt")).index_to_key == trained.wv.index_to_key


@pytest.mark.parametrize("data, name, message", [
    (b"", "v.txt", "v.txt is empty"),
    (b"\x00\x01binary", "v.txt", "binary file"),
    (b"cat 0.1 0.2\ndog 0.3 0.4\n", "v.txt", "first line of v.txt should be the header"),
    (b"2 x\ncat 0.1\ndog 0.2\n", "v.txt", "should be the header"),
    (b"1 2\ncat 0.1 0.2\n", "v.txt", "between 2 and"),
    (b"2 5000\ncat 0.1\ndog 0.2\n", "v.txt", "1 to 1000 dimensions"),
    (b"3 2\ncat 0.1 0.2\ndog 0.3 0.4\n", "v.txt", "says 3 words, but 2 lines follow"),
    (b"2 2\ncat 0.1 0.2\ndog 0.3\n", "v.txt", r"Line 3 of v.txt \('dog'\) has 1 numbers; the header says 2"),
    (b"2 2\ncat 0.1 0.2\ndog 0.3 abc\n", "v.txt", r"Line 3 .* holds 'abc', which is not a number"),
    (b"2 2\ncat 0.1 0.2\ncat 0.3 0.4\n", "v.txt", "the word 'cat' twice"),
    (b"2 2\ncat 0.1 nan\ndog 0.3 0.4\n", "v.txt", "infinite or NaN"),
    (b"2 2\n", "v.bin", "binary word2vec format"),
])
def test_bad_word2vec_uploads_are_clear_errors(data, name, message):
    with pytest.raises(UploadError, match=message):
        vector_files.read_word2vec_text(data, name)


def test_word2vec_upload_over_the_size_limit(monkeypatch):
    monkeypatch.setenv("ZOO_MAX_UPLOAD_MB", "0.001")
    with pytest.raises(UploadError, match="the limit is 1.0 KB"):
        vector_files.read_word2vec_text(b"2 2\ncat 0.1 0.2\ndog 0.3 0.4\n" + b" " * 2000, "big.txt")
