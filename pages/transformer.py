"""Transformer page: prompt a small character transformer, sample from it, see its attention, what
each layer would predict and its positional embeddings, and fine-tune it on your own text."""
import numpy as np
import streamlit as st

from models.transformer import explore, figures
from zoo import checkpoints, plots, ui
from zoo.data.text import Vocab
from zoo.training.char_lm import MIN_FINETUNE_CHARS, REHEARSAL, finetune_charlm

NAME = "transformer-text"
SMALL_MULTIPLES = 48  # characters the all-heads view and the logit lens show: the last ones the model read
PROMPT_CHARS = 1000
"""the most characters the prompt box takes; the model reads only the last `context` of them (a warning says so)"""

ui.page_intro(
    "Transformer",
    "A transformer reads all the characters at once. In each block, every position asks a question (a *query*) "
    "and looks at the earlier positions whose *keys* match it; what it reads back from them (their *values*), "
    "weighted by that attention, is added to its own running representation, the *residual stream*; an MLP "
    "then transforms each position on its own. Several heads ask different questions in parallel. Nothing "
    "is recurrent: the order of the characters comes only from a learned vector added per position. "
    "This decoder-only model (as in GPT) predicts the next character and may only look back.")

model, card = ui.shared_model(NAME)
config, metrics = card["config"], card["metrics"]
vocab = Vocab(card["vocab"])
context = config["context"]
labels = [f"{figures.SHOWN.get(ch, ch)}" for ch in str(vocab)]
st.markdown(f"This one has {config['n_layer']} blocks of {config['n_head']} heads, a {config['n_embd']}-wide residual "
            f"stream and a {len(vocab)}-character vocabulary; it reads up to {context} characters. It was trained on "
            "the same King James Bible and Wikipedia text, with the same split, as the recurrent models.")
st.caption(f"Validation **{metrics['bits_per_char']:.3f} bits per character** on {metrics['n']:,} held-out characters "
           f"(best smoothed n-gram, order {metrics['ngram_order']}: {metrics['ngram_bits_per_char']:.3f}) · "
           f"{card['parameters']:,} parameters")
if card.get("note"):
    st.info(card["note"])
ui.model_card(card)


def quoted(text: str) -> str:
    """Text to quote inside Markdown: visible whitespace, Markdown's special characters escaped."""
    return "".join("\\" + ch if ch in "\\`*_{}[]()<>#+-.!|~$" else ch for ch in figures.shown(text))


ui.view_in_url("transformer_prompt", "transformer_temperature", "transformer_top_k", "transformer_top_p",
               "transformer_length", "transformer_seed", "transformer_layer", "transformer_head")
st.header("1. Your prompt")
prompt = st.text_area("Prompt", "And God said, Let there be light: and there was light. And God saw the",
                      height=100, key="transformer_prompt", max_chars=PROMPT_CHARS)
if not prompt:
    st.info("Type a prompt: the model continues it one character at a time.")
    st.stop()
a, b, c = st.columns(3)
temperature = a.slider("Temperature", 0.0, 2.0, 0.8, step=0.05, key="transformer_temperature",
                       help="Divides the logits: below 1 sharpens the distribution, above 1 flattens it; 0 always "
                            "takes the likeliest character.")
top_k = b.slider("Top-k (0: off)", 0, len(vocab), 0, key="transformer_top_k",
                 help="Keep only the k likeliest characters.")
top_p = c.slider("Top-p", 0.05, 1.0, 1.0, step=0.05, key="transformer_top_p",
                 help="Keep the fewest likeliest characters whose probabilities add up to p (nucleus sampling).")
view = explore.read_prompt(model, vocab, prompt, temperature, top_k or None, top_p)
if view.cut:
    st.warning(f"Your prompt has {len(prompt):,} characters, more than the {context} this model can read, so the first "
               f"{view.cut:,} were cut. It reads only “…{quoted(view.text[:60])}…”.")

left, right = st.columns(2)
left.markdown("**Next character**, as it will be sampled (temperature, top-k and top-p applied)")
left.plotly_chart(plots.probability_bars(view.probs, labels, title="As it will be sampled", label_title="character"),
                  key="transformer_probs")
right.markdown("**The model's own distribution** (temperature 1, nothing cut off)")
right.plotly_chart(plots.probability_bars(view.raw_probs, labels, title="The model's own distribution",
                                          label_title="character"), key="transformer_raw_probs")

a, b, c = st.columns([2, 1, 1])
length = a.slider("Characters to generate", 20, 1000, 200, step=10, key="transformer_length")
seed = b.number_input("Seed", 0, 10 ** 6, 0, key="transformer_seed")
c.button("New sample", key="transformer_resample", help="Sample again with the next seed.",
         on_click=lambda: st.session_state.update(transformer_seed=st.session_state["transformer_seed"] + 1))
st.markdown("**Its continuation:**")
st.code(explore.continue_prompt(model, vocab, prompt, length, temperature, top_k or None, top_p, seed), language=None,
        wrap_lines=True)
ui.why_this_character(NAME, prompt, "transformer")

st.header("2. Attention")
n_layer, n_head = view.attention.shape[:2]
st.markdown(
    "Each row is one position of your prompt reading the ones before it (the triangle above the diagonal is "
    "empty: a decoder may not look ahead); the colour is how much of the row's attention, which adds up to 1, "
    "goes to each earlier character. Look for heads that always read the character just before, heads that "
    "find the start of the current word, and heads that find an earlier copy of what comes next.")
if st.radio("Show", ["One head, large", "All heads"], horizontal=True, key="transformer_attention_view") == "All heads":
    t = min(len(view.text), SMALL_MULTIPLES)
    if t < len(view.text):
        st.caption(f"The last {t} characters the model read: “{quoted(view.text[-t:])}”.")
    maps = view.attention[:, :, -t:, -t:].reshape(n_layer * n_head, t, t)
    st.plotly_chart(plots.image_grid(maps, title=f"Every head's attention over the last {t} characters",
                                     titles=[f"block {l + 1} · head {h + 1}" for l in range(n_layer)
                                                   for h in range(n_head)], cols=n_head, height_per_row=190),
                    key="transformer_attention_all")
else:
    a, b = st.columns(2)
    layer = a.select_slider("Block", options=list(range(1, n_layer + 1)), value=1, key="transformer_layer")
    head = b.select_slider("Head", options=list(range(1, n_head + 1)), value=1, key="transformer_head")
    st.plotly_chart(figures.attention_figure(view.attention[layer - 1, head - 1], view.text,
                                             f"Block {layer}, head {head}"), key="transformer_attention_one")

st.header("3. What each layer would predict (logit lens)")
st.markdown(
    "Every block adds to the residual stream. Pushing the stream through the final norm and the output head "
    "early shows what the model would predict if it stopped there: the embeddings alone give a guess from the "
    "current character only, and each block sharpens it with what attention found. The last row is the model's "
    "real prediction.")
st.plotly_chart(figures.lens_figure(view.lens[:, -SMALL_MULTIPLES:], view.text[-SMALL_MULTIPLES:], labels),
                key="transformer_lens")

st.header("4. Positional embeddings")
st.markdown(
    f"The model knows where a character is only through one learned vector per position (0 to {context - 1}). "
    "Their cosine similarity shows what it learned about order: neighbouring positions end up alike, so "
    "attention can find the characters just before a position wherever it is.")
st.plotly_chart(plots.heatmap(np.round(explore.position_similarity(model), 3), range(context), range(context),
                              title="Cosine similarity between the positional embeddings", x_title="position",
                              y_title="position", colorbar="cosine", zmin=-1, zmax=1, height=520),
                key="transformer_positions")

st.header("5. Fine-tune it on your text")
st.markdown(
    f"Continue training a private copy on your own text (at least {MIN_FINETUNE_CHARS:,} characters); the shared model "
    f"stays as it is. Your text is cut in three: it trains on the first eight tenths, mixed with the original text "
    f"({REHEARSAL:.0%} of every batch) so it keeps what it knew. Every 10 steps the ninth tenth scores it: the weights "
    "that score best are kept, and the run stops once the score stops improving. The last tenth, which it never trains "
    "on, and the original validation text measure it before and after: what it learned and what it forgot. A few "
    "paragraphs teach it little; a chapter or more teaches it your text's style.")
person_text, source = ui.text_input("transformer_data", label="Training text")
a, b = st.columns(2)
lr = a.select_slider("Learning rate", options=[1e-4, 3e-4, 1e-3, 3e-3], value=3e-4,
                     format_func=lambda v: f"{v:.0e}", key="transformer_lr")
steps = b.slider("Steps", 10, 500, 100, step=10, key="transformer_steps")
if person_text is None:
    st.info("Type, paste or upload some text to fine-tune on: a book chapter, song lyrics, code, your own writing.")
    st.stop()
if len(person_text) < MIN_FINETUNE_CHARS:
    st.error(f"{source.capitalize()} has {len(person_text):,} characters; fine-tuning needs at least "
             f"{MIN_FINETUNE_CHARS:,}.")
    st.stop()
unknown = sum(ch not in vocab.chars for ch in set(person_text))
st.caption(f"{len(person_text):,} characters from {source}"
           + (f"; {unknown} kinds of character are outside the model's vocabulary and read as �." if unknown else "."))


def draw_finetune(events: list[dict]) -> None:
    final = next((e for e in events if "bpc_after" in e), None)
    before = next((e["bpc_before"] for e in events if "bpc_before" in e), None)
    if before is not None:
        cols = st.columns(4)
        cols[0].metric("Your held-out text: bits/char before", f"{before['yours']:.3f}")
        cols[2].metric("Original validation: before", f"{before['original']:.3f}")
        if final is not None:
            for col, key in zip(cols[1::2], ["yours", "original"]):
                after = final["bpc_after"][key]
                col.metric("after", f"{after:.3f}", delta=f"{after - before[key]:+.3f}", delta_color="inverse")
            st.caption(final["summary"])
            for warning in final["warnings"]:
                st.warning(warning)
    left, right = st.columns(2)
    with left:
        st.plotly_chart(plots.curves(events, ["loss"], title="Training loss on your text", height=240, names={
            "loss": plots.Metric("training loss", "cross-entropy (nats per character)", plots.LOSS)}),
                        key="transformer_ft_loss")
        st.plotly_chart(plots.curves(events, ["validation_bpc"], title="Bits per character on your validation piece",
                                     height=240), key="transformer_ft_validation")
    samples = [e for e in events if "sample" in e]
    with right:
        if final is not None:
            st.markdown(f"**Sample from the weights kept** (step {final['kept_step']}, temperature 0.8)")
            st.code(final["kept_sample"], language=None, wrap_lines=True)
        elif samples:
            st.markdown(f"**Sample at step {samples[-1]['step']}** (temperature 0.8)")
            st.code(samples[-1]["sample"], language=None, wrap_lines=True)
        if samples and (final is not None or len(samples) > 1):
            st.caption("Before fine-tuning:")
            st.code(samples[0]["sample"], language=None, wrap_lines=True)


tuned = ui.training_panel("transformer_ft", finetune_charlm, dict(name=NAME, person_text=person_text, lr=lr, steps=steps),
                          download_name=f"{NAME}-finetuned.safetensors", draw=draw_finetune)
if isinstance(tuned, bytes):
    st.subheader("Your fine-tuned model continues the prompt")
    if st.session_state.get("transformer_tuned_for") is not tuned:
        st.session_state["transformer_tuned"] = checkpoints.load_state_bytes(
            checkpoints.recipe(NAME).build(config), tuned).eval()
        st.session_state["transformer_tuned_for"] = tuned
    st.code(explore.continue_prompt(st.session_state["transformer_tuned"], vocab, prompt, length, temperature,
                                    top_k or None, top_p, seed), language=None, wrap_lines=True)
