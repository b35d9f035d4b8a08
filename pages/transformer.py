"""Transformer page: prompt a small character transformer, sample from it, see its attention, what
each layer would predict and its positional embeddings, and fine-tune it on your own text."""

import numpy as np
import streamlit as st

from models.transformer import explore, figures
from zoo import checkpoints, i18n, plots, ui
from zoo.data.text import Vocab
from zoo.i18n import t
from zoo.training.char_lm import MIN_FINETUNE_CHARS, REHEARSAL, finetune_charlm

NAME = "transformer-text"
SMALL_MULTIPLES = 48  # characters the all-heads view and the logit lens show: the last ones the model read
PROMPT_CHARS = 1000
"""the most characters the prompt box takes; the model reads only the last `context` of them (a warning says so)"""

ui.page_intro(t("transformer.title"), t("transformer.intro"))

model, card = ui.shared_model(NAME)
config, metrics = card["config"], card["metrics"]
vocab = Vocab(card["vocab"])
context = config["context"]
labels = [f"{figures.SHOWN.get(ch, ch)}" for ch in str(vocab)]
st.markdown(t("transformer.about", layers=config["n_layer"], heads=config["n_head"], width=config["n_embd"],
              vocab=len(vocab), context=context))
st.caption(t("transformer.metrics", bpc=metrics["bits_per_char"], n=metrics["n"], order=metrics["ngram_order"],
             ngram=metrics["ngram_bits_per_char"], parameters=card["parameters"]))
if card.get("note"):
    # the shipped card's note in the reader's language; a card retrained since says its own note, as written
    st.info(t("transformer.card_note") if card["note"] == i18n.catalogue()["transformer.card_note"]["en"]
            else card["note"])
ui.model_card(card)



def quoted(text: str) -> str:
    """Text to quote inside Markdown: visible whitespace, Markdown's special characters escaped."""
    return "".join("\\" + ch if ch in "\\`*_{}[]()<>#+-.!|~$" else ch for ch in figures.shown(text))


ui.view_in_url("transformer_prompt", "transformer_temperature", "transformer_top_k", "transformer_top_p",
               "transformer_length", "transformer_seed", "transformer_layer", "transformer_head")
st.header(t("transformer.prompt.header"))
prompt = st.text_area(t("transformer.prompt.label"),
                      "And God said, Let there be light: and there was light. And God saw the",
                      height=100, key="transformer_prompt", max_chars=PROMPT_CHARS)
if not prompt:
    st.info(t("transformer.prompt.empty"))
    st.stop()
a, b, c = st.columns(3)
temperature = a.slider(t("transformer.prompt.temperature"), 0.0, 2.0, 0.8, step=0.05, key="transformer_temperature",
                       help=t("transformer.prompt.temperature_help"))
top_k = b.slider(t("transformer.prompt.top_k"), 0, len(vocab), 0, key="transformer_top_k",
                 help=t("transformer.prompt.top_k_help"))
top_p = c.slider(t("transformer.prompt.top_p"), 0.05, 1.0, 1.0, step=0.05, key="transformer_top_p",
                 help=t("transformer.prompt.top_p_help"))
view = explore.read_prompt(model, vocab, prompt, temperature, top_k or None, top_p)
if view.cut:
    st.warning(t("transformer.prompt.cut", n=len(prompt), context=context, cut=view.cut, kept=quoted(view.text[:60])))

left, right = st.columns(2)
left.markdown(t("transformer.next.sampled"))
left.plotly_chart(plots.probability_bars(view.probs, labels, title=t("transformer.next.sampled_title"),
                                         label_title=t("transformer.next.character")), key="transformer_probs")
right.markdown(t("transformer.next.raw"))
right.plotly_chart(plots.probability_bars(view.raw_probs, labels, title=t("transformer.next.raw_title"),
                                          label_title=t("transformer.next.character")), key="transformer_raw_probs")

a, b, c = st.columns([2, 1, 1])
length = a.slider(t("transformer.generate.length"), 20, 1000, 200, step=10, key="transformer_length")
seed = b.number_input(t("transformer.generate.seed"), 0, 10 ** 6, 0, key="transformer_seed")
c.button(t("transformer.generate.resample"), key="transformer_resample", help=t("transformer.generate.resample_help"),
         on_click=lambda: st.session_state.update(transformer_seed=st.session_state["transformer_seed"] + 1))
st.markdown(t("transformer.generate.continuation"))
st.code(explore.continue_prompt(model, vocab, prompt, length, temperature, top_k or None, top_p, seed), language=None,
        wrap_lines=True)
ui.why_this_character(NAME, prompt, "transformer")

st.header(t("transformer.attention.header"))
n_layer, n_head = view.attention.shape[:2]
st.markdown(t("transformer.attention.text"))
ATTENTION_VIEWS = {"One head, large": "transformer.attention.view.one", "All heads": "transformer.attention.view.all"}
"""the attention views by their codes (the radio's options), each with its label's key"""
if st.radio(t("transformer.attention.show"), list(ATTENTION_VIEWS), horizontal=True, key="transformer_attention_view",
            format_func=i18n.as_drawn(lambda code: t(ATTENTION_VIEWS[code]))) == "All heads":
    shown = min(len(view.text), SMALL_MULTIPLES)
    if shown < len(view.text):
        st.caption(t("transformer.attention.last_chars", n=shown, text=quoted(view.text[-shown:])))
    maps = view.attention[:, :, -shown:, -shown:].reshape(n_layer * n_head, shown, shown)
    st.plotly_chart(plots.image_grid(maps, title=t("transformer.attention.all_title", n=shown),
                                     titles=[t("transformer.attention.small_title", block=l + 1, head=h + 1)
                                             for l in range(n_layer) for h in range(n_head)],
                                     cols=n_head, height_per_row=190),
                    key="transformer_attention_all")
else:
    a, b = st.columns(2)
    layer = a.select_slider(t("transformer.attention.block"), options=list(range(1, n_layer + 1)), value=1,
                            key="transformer_layer")
    head = b.select_slider(t("transformer.attention.head"), options=list(range(1, n_head + 1)), value=1,
                           key="transformer_head")
    st.plotly_chart(figures.attention_figure(view.attention[layer - 1, head - 1], view.text,
                                             t("transformer.attention.one_title", block=layer, head=head)),
                    key="transformer_attention_one")

st.header(t("transformer.lens.header"))
st.markdown(t("transformer.lens.text"))
st.plotly_chart(figures.lens_figure(view.lens[:, -SMALL_MULTIPLES:], view.text[-SMALL_MULTIPLES:], labels),
                key="transformer_lens")

st.header(t("transformer.positions.header"))
st.markdown(t("transformer.positions.text", last=context - 1))
st.plotly_chart(plots.heatmap(np.round(explore.position_similarity(model), 3), range(context), range(context),
                              title=t("transformer.positions.title"), x_title=t("transformer.positions.axis"),
                              y_title=t("transformer.positions.axis"), colorbar=t("transformer.positions.colorbar"),
                              zmin=-1, zmax=1, height=520),
                key="transformer_positions")

st.header(t("transformer.finetune.header"))
st.markdown(t("transformer.finetune.text", least=MIN_FINETUNE_CHARS, rehearsal=REHEARSAL))
person_text, source = ui.text_input("transformer_data", label=t("transformer.finetune.training_text"))
a, b = st.columns(2)
lr = a.select_slider(t("transformer.finetune.lr"), options=[1e-4, 3e-4, 1e-3, 3e-3], value=3e-4,
                     format_func=lambda v: f"{v:.0e}", key="transformer_lr")
steps = b.slider(t("transformer.finetune.steps"), 10, 500, 100, step=10, key="transformer_steps")
if person_text is None:
    st.info(t("transformer.finetune.need_text"))
    st.stop()
if len(person_text) < MIN_FINETUNE_CHARS:
    st.error(t("transformer.finetune.too_short", source=source[:1].upper() + source[1:], n=len(person_text),
               least=MIN_FINETUNE_CHARS))
    st.stop()
unknown = sum(ch not in vocab.chars for ch in set(person_text))
st.caption(t("transformer.finetune.read_unknown", n=len(person_text), source=source, unknown=unknown) if unknown
           else t("transformer.finetune.read", n=len(person_text), source=source))


def curve_names() -> dict[str, plots.Metric]:
    """The fine-tuning curves' names and axes, in the reader's language."""
    return {"loss": plots.Metric(t("char_lm.chart.loss_name"), t("char_lm.chart.loss_axis"), plots.LOSS),
            "validation_bpc": plots.Metric(t("char_lm.chart.validation_name"), t("char_lm.chart.validation_axis"),
                                           plots.LOSS)}


def draw_finetune(events: list[dict]) -> None:
    final = next((e for e in events if "bpc_after" in e), None)
    before = next((e["bpc_before"] for e in events if "bpc_before" in e), None)
    if before is not None:
        cols = st.columns(4)
        cols[0].metric(t("char_lm.metric.yours_before"), i18n.number(before["yours"], ".3f"))
        cols[2].metric(t("char_lm.metric.original_before"), i18n.number(before["original"], ".3f"))
        if final is not None:
            for col, key in zip(cols[1::2], ["yours", "original"]):
                after = final["bpc_after"][key]
                col.metric(t("char_lm.metric.after"), i18n.number(after, ".3f"),
                           delta=i18n.number(after - before[key], "+.3f"), delta_color="inverse")
            st.caption(final["summary"])
            for warning in final["warnings"]:
                st.warning(warning)
    left, right = st.columns(2)
    with left:
        st.plotly_chart(plots.curves(events, ["loss"], title=t("char_lm.chart.loss_title"), height=240,
                                     names=curve_names()), key="transformer_ft_loss")
        st.plotly_chart(plots.curves(events, ["validation_bpc"], title=t("char_lm.chart.validation_title"),
                                     height=240, names=curve_names()), key="transformer_ft_validation")
    samples = [e for e in events if "sample" in e]
    with right:
        if final is not None:
            st.markdown(t("transformer.finetune.kept_sample", step=final["kept_step"]))
            st.code(final["kept_sample"], language=None, wrap_lines=True)
        elif samples:
            st.markdown(t("transformer.finetune.step_sample", step=samples[-1]["step"]))
            st.code(samples[-1]["sample"], language=None, wrap_lines=True)
        if samples and (final is not None or len(samples) > 1):
            st.caption(t("transformer.finetune.before"))
            st.code(samples[0]["sample"], language=None, wrap_lines=True)


tuned = ui.training_panel("transformer_ft", finetune_charlm, dict(name=NAME, person_text=person_text, lr=lr, steps=steps),
                          download_name=f"{NAME}-finetuned.safetensors", draw=draw_finetune)
if isinstance(tuned, bytes):
    st.subheader(t("transformer.finetune.tuned"))
    if st.session_state.get("transformer_tuned_for") is not tuned:
        st.session_state["transformer_tuned"] = checkpoints.load_state_bytes(
            checkpoints.recipe(NAME).build(config), tuned).eval()
        st.session_state["transformer_tuned_for"] = tuned
    st.code(explore.continue_prompt(st.session_state["transformer_tuned"], vocab, prompt, length, temperature,
                                    top_k or None, top_p, seed), language=None, wrap_lines=True)
