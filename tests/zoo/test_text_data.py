"""zoo.data.text: where the corpus comes from, its fixed splits, the character vocabulary, batches."""
import hashlib
import re
import shutil
import sys

import pytest
import torch

from zoo.data import DataNotFoundError, text

VERSES = "".join(f"Verse {i} of the book, and the LORD spake.\n" for i in range(400))
ARTICLES = "\n\n".join(f"Article {i}\nIt is about topic {i * 7}, which matters." for i in range(300))


def clear_caches():
    for cached in (text.load_source, text.load, text.splits_info):
        cached.cache_clear()


@pytest.fixture
def fake_corpus(tmp_path, monkeypatch):
    """Small stand-ins for both sources in $ZOO_DATA_DIR/text, and an empty user cache."""
    (tmp_path / "data" / "text").mkdir(parents=True)
    (tmp_path / "data" / "text" / "kjv.txt").write_text(VERSES, encoding="utf-8")
    (tmp_path / "data" / "text" / "wikipedia.txt").write_text(ARTICLES, encoding="utf-8")
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    clear_caches()
    yield {"kjv": VERSES, "wikipedia": ARTICLES}
    clear_caches()


@pytest.fixture
def no_sources(tmp_path, monkeypatch):
    """Nothing built anywhere: every source has to be made from what is installed."""
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    clear_caches()
    yield
    clear_caches()


# --- sources and splits -------------------------------------------------------------------

def test_zoo_data_dir_comes_before_the_cache(fake_corpus, tmp_path):
    assert text.search_dirs()[0] == tmp_path / "data" / "text"
    assert text.search_dirs()[-1] == text.cache_dir() == tmp_path / "cache" / "deep-learning-zoo" / "text"
    assert text.load_source("kjv") == VERSES


def test_splits_are_contiguous_disjoint_pieces_of_each_source(fake_corpus):
    info = text.splits_info()
    for name, source in fake_corpus.items():
        ranges = [info["splits"][split]["ranges"][name] for split in text.SPLITS]
        assert ranges[0][0] == 0 and ranges[-1][1] == len(source)
        assert all(earlier[1] == later[0] for earlier, later in zip(ranges, ranges[1:]))
        assert all(source[start].isspace() for start, _ in ranges[1:])  # cut at whitespace
        assert abs(ranges[0][1] / len(source) - 0.9) < 0.01
    for split in text.SPLITS:
        ranges = info["splits"][split]["ranges"]
        pieces = [source[ranges[name][0]:ranges[name][1]] for name, source in fake_corpus.items()]
        assert text.load(split) == text.JOIN.join(pieces)
        assert info["splits"][split]["characters"] == len(text.load(split))


def test_splits_info_records_sources_and_digests(fake_corpus):
    info = text.splits_info()
    assert info["name"] == text.NAME and list(info["sources"]) == ["kjv", "wikipedia"]
    assert info["sources"]["kjv"]["words"] == len(VERSES.split())
    assert info["sources"]["wikipedia"]["sha256"] == hashlib.sha256(ARTICLES.encode()).hexdigest()
    assert info["sha256"] == hashlib.sha256((VERSES + text.JOIN + ARTICLES).encode()).hexdigest()


def test_splits_are_the_same_every_time(fake_corpus):
    first = {split: text.load(split) for split in text.SPLITS}
    clear_caches()
    assert {split: text.load(split) for split in text.SPLITS} == first
    with pytest.raises(ValueError, match="split must be"):
        text.load("dev")


def test_a_built_source_is_cached_and_not_built_again(no_sources, monkeypatch):
    builds = []

    def build():
        builds.append(1)
        return "In the beginning.\n"

    monkeypatch.setattr(text, "_build_kjv", build)
    assert text.load_source("kjv") == "In the beginning.\n"
    clear_caches()
    assert text.load_source("kjv") == "In the beginning.\n" and len(builds) == 1
    assert (text.cache_dir() / "kjv.txt").is_file() and not list(text.cache_dir().glob("*.tmp"))


def test_missing_bible_says_what_to_install(no_sources, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda command: None)
    with pytest.raises(DataNotFoundError, match=r"apt-get install bible-kjv.*ZOO_DATA_DIR"):
        text.load("train")


def test_missing_gensim_says_what_to_install(no_sources, monkeypatch):
    monkeypatch.setitem(sys.modules, "gensim.corpora.wikicorpus", None)  # import fails as if absent
    with pytest.raises(DataNotFoundError, match=r"pip install gensim==4\.4\.0.*ZOO_DATA_DIR"):
        text.load_source("wikipedia")


@pytest.mark.skipif(shutil.which("bible") is None, reason="needs Debian's bible-kjv")
def test_bible_is_the_same_plain_text_every_time():
    bible = text._build_kjv()
    assert bible.startswith("In the beginning God created the heaven and the earth.\n")
    assert bible.endswith("The grace of our Lord Jesus Christ be with you all. Amen.\n")
    assert bible.count("\n") == 31102 and not re.search(r"\d+:\d+", bible)
    assert text._build_kjv() == bible


def test_wiki_markup_left_by_gensim_is_removed():
    filtered = ("'''Anarchism''' is a ''political'' philosophy.\n\n\n\n==History==\n"
                "* Godwin   wrote.\n{| class=table\n| cell |}\n")
    assert text._plain_text(filtered) == "Anarchism is a political philosophy.\n\nHistory\nGodwin wrote."


# --- vocabulary ---------------------------------------------------------------------------

def test_vocab_keeps_characters_seen_often_enough():
    vocab = text.Vocab.build("abcab\nba" + "z", min_count=2)
    assert str(vocab) == text.UNKNOWN + "ab" and len(vocab) == 3
    assert str(text.Vocab.build("aab", min_count=1)) == text.UNKNOWN + "ab"


def test_vocab_round_trips_through_its_string():
    vocab = text.Vocab.build(ARTICLES)
    assert text.Vocab(str(vocab)) == vocab
    ids = vocab.encode("Article 12")
    assert ids.dtype == torch.int64 and ids.shape == (10,)
    assert vocab.decode(ids) == "Article 12" and vocab.decode(ids.tolist()) == "Article 12"


def test_unknown_characters_become_id_zero():
    vocab = text.Vocab(text.UNKNOWN + "ab\u00e9")
    assert vocab.encode("a\u2603b\u00e9\U0001F600").tolist() == [1, 0, 2, 3, 0]
    assert vocab.replace_unknown("a\u2603") == "a" + text.UNKNOWN
    assert vocab.encode("").shape == (0,)


@pytest.mark.parametrize("chars", ["abc", text.UNKNOWN + "abca"])
def test_a_malformed_vocab_string_is_refused(chars):
    with pytest.raises(ValueError, match="UNKNOWN"):
        text.Vocab(chars)


# --- batches ------------------------------------------------------------------------------

def test_batches_are_shifted_by_one_and_rows_continue():
    ids = torch.arange(1000)
    stream = text.batches(ids, batch_size=4, seq_len=8)
    x, y = next(stream)
    assert x.shape == y.shape == (4, 8) and x.dtype == torch.int64
    assert torch.equal(y, x + 1)
    x_next, _ = next(stream)
    assert torch.equal(x_next[:, 0], x[:, -1] + 1)  # row b goes on where it stopped
    assert len(set(x[:, 0].tolist())) == 4


def test_batches_stay_inside_the_text_for_many_epochs():
    ids = torch.arange(203)
    per_epoch = text.steps_per_epoch(len(ids), 3, 10)
    stream = text.batches(ids, 3, 10, seed=5)
    for _ in range(per_epoch * 20):
        x, y = next(stream)
        assert int(y.max()) < len(ids)


def test_batches_resume_from_a_step():
    ids = torch.randint(0, 50, (777,))
    stream = text.batches(ids, 2, 16, seed=3)
    seen = [next(stream) for _ in range(40)]
    resumed = text.batches(ids, 2, 16, seed=3, start_step=25)
    for x, y in seen[25:]:
        x2, y2 = next(resumed)
        assert torch.equal(x, x2) and torch.equal(y, y2)


def test_too_short_a_text_for_the_batch_shape_is_refused():
    with pytest.raises(ValueError, match="at least 40"):
        next(text.batches(torch.arange(39), batch_size=3, seq_len=10))


# --- the real corpus ----------------------------------------------------------------------

def test_the_real_corpus_has_over_a_million_words(monkeypatch):
    """Builds the corpus into the user cache the first time (a few seconds), reads it after."""
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    clear_caches()
    try:
        info = text.splits_info()
    except DataNotFoundError as error:
        pytest.skip(str(error))
    finally:
        clear_caches()
    assert sum(source["words"] for source in info["sources"].values()) > 1_000_000
    assert info["sources"]["kjv"]["words"] > 750_000 and info["sources"]["wikipedia"]["words"] > 400_000
    assert info["splits"]["validation"]["characters"] > 300_000
