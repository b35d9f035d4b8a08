"""Word2Vec page: explore word vectors (neighbours, analogies, odd one out, a map, similarities),
train new ones on the person's own text, or upload a word2vec-format file to explore."""
from typing import Any, Callable

import streamlit as st

from models.word2vec.explore import (ALIKE, MAX_BOX_WORDS, MAX_SPELLING_HINTS, analogy, box_words, example_words,
                                     find_word, neighbours, odd_one_out, similarity_matrix, suggestions,
                                     typical_similarity, word_map)
from models.word2vec.figures import map_figure
from models.word2vec.recipe import Word2VecConfig, check_text, default_workers, short_text_warning, train_vectors
from models.word2vec.vector_files import read_word2vec_text, to_word2vec_text
from zoo import plots, ui, uploads
from zoo.i18n import t

NAME = "word2vec-text"
SOURCES = {"Shipped: KJV + Wikipedia": "shipped", "Train on your text": "train", "Upload a word2vec file": "upload"}
"""the sources of vectors: each option's code (kept in links) and its key under [source] in word2vec.toml"""
SHIPPED_WORDS = {"w2v_word": "king", "w2v_analogy_0": "king", "w2v_analogy_1": "man", "w2v_analogy_2": "woman",
                 "w2v_odd": "red green blue horse", "w2v_map_words": "king queen god water fire city"}
"""what the word boxes hold for the shipped vectors; other vectors get words of their own vocabulary"""
WORD_CHARS = 50
"""the most characters a box for one word takes: the longest English words have about 45"""
WORDS_CHARS = 300
"""the most characters a box of several words takes: MAX_BOX_WORDS words and room to spare"""


def listed(words: list[str]) -> str:
    """Words of the vocabulary named in a sentence: each as code, since they are the vectors' data, not prose."""
    return ", ".join(f"`{word}`" for word in words)

for box in SHIPPED_WORDS:  # hidden while a text trains, a box lost its word in the browser but not on the server,
    if box in st.session_state:  # and showed "king" while the warning beside it named what had been typed
        st.session_state[box] = st.session_state[box]

ui.page_intro("Word2Vec", t("word2vec.intro"))


shipped, card = ui.shared_model(NAME)
metrics, defaults, config = card["metrics"], card["metrics"].get("gensim_defaults", {}), card["config"]
words = card.get("data", {}).get("splits", {}).get("train", {}).get("words")
st.markdown(t("word2vec.shipped.sized" if words else "word2vec.shipped.unsized", dims=config["vector_size"],
               vocabulary=metrics["vocabulary"], min_count=config["min_count"], millions=(words or 0) / 1e6,
               window=config["window"], negative=config["negative"], epochs=config["epochs"]))
if defaults:
    st.caption(t("word2vec.shipped.metrics", accuracy=metrics["accuracy"], answered=metrics["analogy_answered"],
                 coverage=metrics["analogy_coverage"], questions=metrics["analogy_questions"],
                 spearman=metrics["spearman"], pairs=metrics["similarity_coverage"],
                 default_accuracy=defaults["accuracy"], default_spearman=defaults["spearman"]))
ui.model_card(card)


def known(kv: Any, word: str) -> str | None:
    """The word as the vocabulary spells it; an unknown word gets a warning with the nearest spellings."""
    found = find_word(kv, word)
    if found is None and word.strip():
        near = suggestions(kv, word)
        st.warning(t("word2vec.unknown.near" if near else "word2vec.unknown.none", word=word.strip(),
                     near=listed(near)))
    return found


def word_box(kv: Any, label: str, key: str) -> tuple[list[str], list[str]]:
    """A box of several words: what was typed (the first MAX_BOX_WORDS different words) and the words the
    vocabulary knows among them, each once. Words dropped or unknown are named; only the first
    MAX_SPELLING_HINTS unknown ones are looked up for their nearest spellings."""
    typed, dropped = box_words(st.text_input(label, key=key, max_chars=WORDS_CHARS, help=t("word2vec.english_help")))
    if dropped:
        st.warning(t("word2vec.dropped.more" if len(dropped) > 5 else "word2vec.dropped.all", most=MAX_BOX_WORDS,
                     words=listed(dropped[:5]), more=len(dropped) - 5))
    found = [find_word(kv, word) for word in typed]
    unknown = [word for word, spelling in zip(typed, found) if spelling is None]
    for word in unknown[:MAX_SPELLING_HINTS]:
        known(kv, word)
    if more := unknown[MAX_SPELLING_HINTS:]:
        st.warning(t("word2vec.unknown.more", words=listed(more)))
    return typed, list(dict.fromkeys(spelling for spelling in found if spelling))


def word_defaults(kv: Any) -> dict[str, str]:
    """The word boxes' words for `kv`: the shipped examples, or the most frequent meaningful words of its own."""
    if kv is shipped:
        return SHIPPED_WORDS
    words = example_words(kv, 6)
    pick = lambda i: words[i % len(words)]
    return {"w2v_word": pick(0), "w2v_analogy_0": pick(0), "w2v_analogy_1": pick(1), "w2v_analogy_2": pick(2),
            "w2v_odd": " ".join(words[:4]), "w2v_map_words": " ".join(words)}


def memo(key: str, args: tuple, compute: Callable[[], Any]) -> Any:
    """`compute()` once per session while `args` stay the same (reruns redraw without recomputing)."""
    held = st.session_state.get(key)
    if held is None or held[0] != args:
        st.session_state[key] = held = (args, compute())
    return held[1]


def scores_table(rows: list[tuple[str, float]], key: str, label: str | None = None) -> None:
    """Words and their scores; the columns are named in the reader's language (cosine similarity by default)."""
    label, word = label or t("word2vec.column.cosine"), t("word2vec.column.word")
    st.dataframe([{word: w, label: s} for w, s in rows], hide_index=True, key=key, column_config={
        label: st.column_config.ProgressColumn(label, min_value=-1.0, max_value=1.0, format="%.3f")})


def draw_training(events: list[dict]) -> None:
    first, epochs = events[0], [e for e in events if "words_per_s" in e]
    done = epochs[-1]["step"] if epochs else 0
    st.progress(done / first["total"], text=t("word2vec.training.speed", epoch=done, total=first["total"],
                                               speed=epochs[-1]["words_per_s"]) if epochs else
                t("word2vec.training.epoch", epoch=done, total=first["total"]))
    st.caption(t("word2vec.training.size", words=first["words"], vocabulary=first["vocabulary"]))
    if epochs:
        loss = plots.Metric(t("word2vec.training.loss"), t("word2vec.training.loss_axis"), plots.LOSS)
        st.plotly_chart(plots.curves(epochs, ["loss"], title=t("word2vec.training.chart"),
                                     x_title=t("word2vec.training.epoch_axis"), names={"loss": loss}, height=240),
                        key="w2v_train_loss")
        st.caption(t("word2vec.training.loss_note"))


ui.view_in_url("w2v_source", "w2v_word", "w2v_n", "w2v_map_n", "w2v_map_method", "w2v_map_dims")
st.header(t("word2vec.vectors.header"))
source_names = {option: t(f"word2vec.source.{code}") for option, code in SOURCES.items()}  # built on every run: keeps its language
source = SOURCES[st.radio(t("word2vec.vectors.explore"), list(SOURCES), horizontal=True, key="w2v_source",
                          format_func=source_names.__getitem__)]
kv = shipped
if source == "train":
    st.markdown(t("word2vec.train.intro"))
    text, caption = ui.text_input("w2v", label=t("word2vec.train.your_text"))
    a, b, c, d = st.columns(4)
    config = Word2VecConfig(
        vector_size=a.select_slider(t("word2vec.train.dimensions"), [10, 25, 50, 100], value=50, key="w2v_dims"),
        window=b.slider(t("word2vec.train.window"), 2, 10, 5, key="w2v_window",
                        help=t("word2vec.train.window_help")),
        min_count=c.slider(t("word2vec.train.min_count"), 1, 10, 2, key="w2v_min_count",
                           help=t("word2vec.train.min_count_help")),
        epochs=d.slider(t("word2vec.train.epochs"), 1, 100, 50, key="w2v_epochs",
                        help=t("word2vec.train.epochs_help", short=1000, long=32000)),
        negative=5, workers=default_workers())
    if text is None:
        st.info(t("word2vec.train.no_text"))
        st.stop()
    try:
        corpus = check_text(text, config.min_count)
    except ValueError as error:
        st.error(str(error))
        st.stop()
    if too_short := short_text_warning(corpus):
        st.warning(too_short)
    trained = ui.training_panel("w2v_train", train_vectors, dict(text=text, config=config), download_name=None,
                                draw=draw_training, label="training")
    if trained is None:
        st.stop()
    kv = trained
    st.download_button(t("word2vec.train.download"),
                       memo("w2v_export", (id(trained),), lambda: to_word2vec_text(trained)),
                       file_name="my-word2vec.txt", mime="text/plain", key="w2v_download")
elif source == "upload":
    limit_mb = uploads.limits().max_upload_bytes / 2 ** 20
    upload = st.file_uploader(t("word2vec.upload.label", mb=limit_mb), type=["txt", "vec"], key="w2v_upload")
    if upload is None:
        st.info(t("word2vec.upload.none"))
        st.stop()
    try:
        kv = memo("w2v_uploaded", (upload.file_id,), lambda: read_word2vec_text(upload.getvalue(), upload.name))
    except uploads.UploadError as error:
        st.error(str(error))
        st.stop()
st.caption(t("word2vec.exploring", words=len(kv), dims=kv.vector_size))
median, high = memo("w2v_alike", (id(kv),), lambda: typical_similarity(kv))
if median > ALIKE:
    st.warning(t("word2vec.alike", median=median, high=high))
vocabulary = (len(kv), kv.vector_size, tuple(kv.index_to_key[:10]))
if st.session_state.get("w2v_words_for") != vocabulary:  # new vectors: words they know in every box
    st.session_state.update(word_defaults(kv), w2v_words_for=vocabulary)

st.header(t("word2vec.words.header"))
left, right = st.columns([1, 2])
word = left.text_input(t("word2vec.words.word"), key="w2v_word", max_chars=WORD_CHARS, help=t("word2vec.english_help"))
n = left.slider(t("word2vec.words.neighbours"), 5, 30, 10, key="w2v_n")
with right:
    if found := known(kv, word):
        st.markdown(t("word2vec.words.nearest", word=found))
        scores_table(neighbours(kv, found, n), "w2v_neighbours")

st.subheader(t("word2vec.analogy.header"))
a, b, c = st.columns(3)
terms = [col.text_input(t(f"word2vec.analogy.{term}"), key=f"w2v_analogy_{i}", max_chars=WORD_CHARS,
                        help=t("word2vec.english_help"))
         for i, (col, term) in enumerate(zip((a, b, c), ("a", "b", "c")))]
found_terms = [known(kv, term) for term in terms]
if all(found_terms):
    st.markdown(f"**`{found_terms[0]}` − `{found_terms[1]}` + `{found_terms[2]}`** ≈")
    scores_table(analogy(kv, *found_terms), "w2v_analogy")

st.subheader(t("word2vec.odd.header"))
typed, odd_words = word_box(kv, t("word2vec.odd.words"), "w2v_odd")
if len(odd_words) >= 3:
    ranked = odd_one_out(kv, odd_words)
    st.markdown(t("word2vec.odd.result", word=ranked[0][0]))
    scores_table(ranked, "w2v_odd_scores", t("word2vec.column.to_average"))
elif typed:
    st.info(t("word2vec.odd.too_few"))

st.header(t("word2vec.map.header"))
st.markdown(t("word2vec.map.intro"))
_, map_words = word_box(kv, t("word2vec.map.words"), "w2v_map_words")
a, b, c = st.columns(3)
n_map = a.slider(t("word2vec.map.neighbours"), 0, 30, 8, key="w2v_map_n")
method = b.radio(t("word2vec.map.method"), ["PCA", "t-SNE"], horizontal=True, key="w2v_map_method")
dims_names = {option: t(f"word2vec.map.dims_{option[0]}") for option in ("2-D", "3-D")}
dims = c.radio(t("word2vec.map.dimensions"), list(dims_names), horizontal=True, key="w2v_map_dims",
               format_func=dims_names.__getitem__)
if map_words:
    points = memo("w2v_map", (id(kv), tuple(map_words), n_map, method, dims),
                  lambda: word_map(kv, map_words, n_map, method.lower().replace("-", ""), int(dims[0])))
    if points.note:
        st.caption(points.note)
    st.plotly_chart(map_figure(points, method), key="w2v_map_chart")

    heat_words = list(dict.fromkeys(w for m in map_words for w in [m, *(x for x, _ in neighbours(kv, m, 3))]))[:40]
    st.markdown(t("word2vec.heat.intro", most=40))
    st.plotly_chart(plots.heatmap(similarity_matrix(kv, heat_words), heat_words, heat_words, zmin=-1, zmax=1,
                                  title=t("word2vec.heat.title"), x_title=t("word2vec.heat.word"),
                                  y_title=t("word2vec.heat.word"), colorbar=t("word2vec.heat.colorbar"),
                                  height=max(360, 18 * len(heat_words) + 160)), key="w2v_heat")
else:
    st.info(t("word2vec.map.no_words"))
