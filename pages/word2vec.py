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

NAME = "word2vec-text"
SOURCES = ["Shipped: KJV + Wikipedia", "Train on your text", "Upload a word2vec file"]
SHIPPED_WORDS = {"w2v_word": "king", "w2v_analogy_0": "king", "w2v_analogy_1": "man", "w2v_analogy_2": "woman",
                 "w2v_odd": "red green blue horse", "w2v_map_words": "king queen god water fire city"}
"""what the word boxes hold for the shipped vectors; other vectors get words of their own vocabulary"""
WORD_CHARS = 50
"""the most characters a box for one word takes: the longest English words have about 45"""
WORDS_CHARS = 300
"""the most characters a box of several words takes: MAX_BOX_WORDS words and room to spare"""

for box in SHIPPED_WORDS:  # hidden while a text trains, a box lost its word in the browser but not on the server,
    if box in st.session_state:  # and showed "king" while the warning beside it named what had been typed
        st.session_state[box] = st.session_state[box]

ui.page_intro(
    "Word2Vec",
    "Word2Vec gives every word a vector so that words used in similar contexts get similar vectors: "
    "skip-gram learns them by predicting, for each word, the words around it, and negative sampling "
    "makes that cheap by telling real context words apart from a few random ones. Directions in the "
    "space end up meaning something: *king − man + woman* lands near *queen* when the corpus is big enough.")


shipped, card = ui.shared_model(NAME)
metrics, defaults, config = card["metrics"], card["metrics"].get("gensim_defaults", {}), card["config"]
words = card.get("data", {}).get("splits", {}).get("train", {}).get("words")
st.markdown(
    f"The shipped vectors: {config['vector_size']} dimensions for each of the {metrics['vocabulary']:,} words seen at "
    f"least {config['min_count']} times in the {f'{words / 1e6:.1f}M-word ' if words else ''}training split of the "
    f"King James Bible and a Wikipedia sample; skip-gram, window {config['window']}, {config['negative']} negative "
    f"samples, {config['epochs']} epochs.")
if defaults:
    st.caption(f"Analogies **{metrics['accuracy']:.1%}** of the {metrics['analogy_answered']:,} questions in the "
               f"vocabulary ({metrics['analogy_coverage']:.0%} of {metrics['analogy_questions']:,}) · word similarity "
               f"Spearman **{metrics['spearman']:.2f}** ({metrics['similarity_coverage']:.0%} of the pairs) · gensim's "
               f"defaults on the same text: {defaults['accuracy']:.1%} and {defaults['spearman']:.2f}")
ui.model_card(card)


def known(kv: Any, word: str) -> str | None:
    """The word as the vocabulary spells it; an unknown word gets a warning with the nearest spellings."""
    found = find_word(kv, word)
    if found is None and word.strip():
        near = suggestions(kv, word)
        st.warning(f"**{word.strip()}** is not in the vocabulary"
                   + (f"; nearest spellings: {', '.join(near)}." if near else ", and nothing is spelled like it."))
    return found


def word_box(kv: Any, label: str, key: str) -> tuple[list[str], list[str]]:
    """A box of several words: what was typed (the first MAX_BOX_WORDS different words) and the words the
    vocabulary knows among them, each once. Words dropped or unknown are named; only the first
    MAX_SPELLING_HINTS unknown ones are looked up for their nearest spellings."""
    typed, dropped = box_words(st.text_input(label, key=key, max_chars=WORDS_CHARS))
    if dropped:
        named = ", ".join(dropped[:5]) + (f" and {len(dropped) - 5:,} more" if len(dropped) > 5 else "")
        st.warning(f"This box reads the first {MAX_BOX_WORDS} different words; the rest were dropped: {named}.")
    found = [find_word(kv, word) for word in typed]
    unknown = [word for word, spelling in zip(typed, found) if spelling is None]
    for word in unknown[:MAX_SPELLING_HINTS]:
        known(kv, word)
    if more := unknown[MAX_SPELLING_HINTS:]:
        st.warning(f"Not in the vocabulary either: {', '.join(more)}.")
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


def scores_table(rows: list[tuple[str, float]], key: str, label: str = "cosine similarity") -> None:
    st.dataframe([{"word": w, label: s} for w, s in rows], hide_index=True, key=key, column_config={
        label: st.column_config.ProgressColumn(label, min_value=-1.0, max_value=1.0, format="%.3f")})


def draw_training(events: list[dict]) -> None:
    first, epochs = events[0], [e for e in events if "words_per_s" in e]
    done = epochs[-1]["step"] if epochs else 0
    speed = f" · {epochs[-1]['words_per_s']:,.0f} words/s" if epochs else ""
    st.progress(done / first["total"], text=f"Epoch {done} of {first['total']}{speed}")
    st.caption(f"{first['words']:,} words of text, a vocabulary of {first['vocabulary']:,} words.")
    if epochs:
        st.plotly_chart(plots.curves(epochs, ["loss"], title="Loss per trained word, by epoch", x_title="epoch",
                                     names={"loss": plots.Metric("loss", "loss per trained word", plots.LOSS)},
                                     height=240),
                        key="w2v_train_loss")
        st.caption("gensim's running loss: on a long text it falls at first and may then creep up while the "
                   "vectors keep improving, so judge them by their neighbours.")


ui.view_in_url("w2v_source", "w2v_word", "w2v_n", "w2v_map_n", "w2v_map_method", "w2v_map_dims")
st.header("1. The vectors")
source = st.radio("Explore", SOURCES, horizontal=True, key="w2v_source")
kv = shipped
if source == SOURCES[1]:
    st.markdown("Train fresh vectors on your own text: a few pages give a toy model, a book a useful one. "
                "Words are lower-cased runs of letters and each line is a sentence.")
    text, caption = ui.text_input("w2v")
    a, b, c, d = st.columns(4)
    config = Word2VecConfig(
        vector_size=a.select_slider("Dimensions", [10, 25, 50, 100], value=50, key="w2v_dims"),
        window=b.slider("Window", 2, 10, 5, key="w2v_window"),
        min_count=c.slider("Minimum count", 1, 10, 2, key="w2v_min_count"),
        epochs=d.slider("Epochs", 1, 100, 50, key="w2v_epochs",
                        help="a short text needs many passes: 50 beat 20 on every text from 1,000 words to 32,000"),
        negative=5, workers=default_workers())
    if text is None:
        st.info("Type, paste or upload some text to train on.")
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
    st.download_button("Download your vectors (word2vec text format)",
                       memo("w2v_export", (id(trained),), lambda: to_word2vec_text(trained)),
                       file_name="my-word2vec.txt", mime="text/plain", key="w2v_download")
elif source == SOURCES[2]:
    limit_mb = uploads.limits().max_upload_bytes / 2 ** 20
    upload = st.file_uploader(f"A word2vec text-format file (first line \"<words> <dimensions>\", up to {limit_mb:g} MB)",
                              type=["txt", "vec"], key="w2v_upload")
    if upload is None:
        st.info("Upload vectors in word2vec text format, e.g. ones you downloaded after training on your text.")
        st.stop()
    try:
        kv = memo("w2v_uploaded", (upload.file_id,), lambda: read_word2vec_text(upload.getvalue(), upload.name))
    except uploads.UploadError as error:
        st.error(str(error))
        st.stop()
st.caption(f"Exploring {len(kv):,} words of {kv.vector_size} dimensions.")
median, high = memo("w2v_alike", (id(kv),), lambda: typical_similarity(kv))
if median > ALIKE:
    st.warning(f"These vectors have hardly separated: two words picked at random have a cosine similarity of "
               f"{median:.3f} (95% of pairs up to {high:.3f}), so every word looks like every other and the "
               "neighbours below are close to arbitrary. More text spreads them out.")
vocabulary = (len(kv), kv.vector_size, tuple(kv.index_to_key[:10]))
if st.session_state.get("w2v_words_for") != vocabulary:  # new vectors: words they know in every box
    st.session_state.update(word_defaults(kv), w2v_words_for=vocabulary)

st.header("2. Neighbours, analogies, odd one out")
left, right = st.columns([1, 2])
word = left.text_input("A word", key="w2v_word", max_chars=WORD_CHARS)
n = left.slider("Neighbours", 5, 30, 10, key="w2v_n")
with right:
    if found := known(kv, word):
        st.markdown(f"**Nearest to {found}** by cosine similarity")
        scores_table(neighbours(kv, found, n), "w2v_neighbours")

st.subheader("Analogy: a − b + c")
a, b, c = st.columns(3)
terms = [col.text_input(label, key=f"w2v_analogy_{i}", max_chars=WORD_CHARS)
         for i, (col, label) in enumerate(zip((a, b, c), ("a", "minus b", "plus c")))]
found_terms = [known(kv, t) for t in terms]
if all(found_terms):
    st.markdown(f"**{found_terms[0]} − {found_terms[1]} + {found_terms[2]}** ≈")
    scores_table(analogy(kv, *found_terms), "w2v_analogy")

st.subheader("Odd one out")
typed, odd_words = word_box(kv, "Three or more words", "w2v_odd")
if len(odd_words) >= 3:
    ranked = odd_one_out(kv, odd_words)
    st.markdown(f"The odd one out is **{ranked[0][0]}**: the least similar to the average of the words.")
    scores_table(ranked, "w2v_odd_scores", "similarity to the average")
elif typed:
    st.info("Give at least three words the vocabulary knows.")

st.header("3. A map of the words")
st.markdown("Pick words; each brings its nearest neighbours. **PCA** shows the directions along which these "
            "vectors vary most (distances are faithful, clusters may overlap); **t-SNE** keeps each word's "
            "nearest neighbours near it (clusters are faithful, distances between them are not).")
_, map_words = word_box(kv, "Words", "w2v_map_words")
a, b, c = st.columns(3)
n_map = a.slider("Neighbours of each", 0, 30, 8, key="w2v_map_n")
method = b.radio("Method", ["PCA", "t-SNE"], horizontal=True, key="w2v_map_method")
dims = c.radio("Dimensions", ["2-D", "3-D"], horizontal=True, key="w2v_map_dims")
if map_words:
    points = memo("w2v_map", (id(kv), tuple(map_words), n_map, method, dims),
                  lambda: word_map(kv, map_words, n_map, method.lower().replace("-", ""), int(dims[0])))
    if points.note:
        st.caption(points.note)
    st.plotly_chart(map_figure(points, method), key="w2v_map_chart")

    heat_words = list(dict.fromkeys(w for m in map_words for w in [m, *(x for x, _ in neighbours(kv, m, 3))]))[:40]
    st.markdown("**Cosine similarity** between the words and their three nearest neighbours (at most 40 words)")
    st.plotly_chart(plots.heatmap(similarity_matrix(kv, heat_words), heat_words, heat_words, zmin=-1, zmax=1,
                                  title="Cosine similarity between the words", x_title="word", y_title="word",
                                  colorbar="cosine", height=max(360, 18 * len(heat_words) + 160)), key="w2v_heat")
else:
    st.info("Type some words the vocabulary knows.")
