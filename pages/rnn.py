"""RNN / GRU / LSTM page: three character models of one size write text, show their states and
gates, let the gradient through time be compared, fine-tune on the person's text, and an LSTM
or GRU forecasts a time series live."""
import html

import numpy as np
import streamlit as st

from models.rnn import explore, figures, forecast
from zoo import plots, ui, uploads
from zoo.data import text
from zoo.data.series import MAX_COLUMNS, column_names, read_csv
from zoo.training import char_lm

MODELS = {"LSTM": "lstm-text", "GRU": "gru-text", "Vanilla RNN": "rnn-text"}
LOOK_CHARS = 160
"""the most characters the look inside takes: one heat-map column each stays readable"""
SHOWN_UNITS = 48
INSPECT_DEFAULT = 'And he said unto them, "Go ye into all the world (and preach the gospel)." Paris is the capital of France.'

ui.page_intro(
    "Recurrent networks: RNN, GRU and LSTM",
    "A recurrent network reads text one character at a time and carries a state vector from each "
    "character to the next: everything it remembers must fit in that state. A **vanilla RNN** "
    "rewrites its whole state at every step, `h = tanh(W x + U h)`, so what it saw long ago fades, and "
    "so does the gradient that should teach it. The **LSTM** (Hochreiter & Schmidhuber 1997) adds a "
    "cell state that gates only *add to* or *forget*; the **GRU** (Cho et al. 2014) does the same with "
    "two gates and no separate cell. The three models below have the same number of parameters (within 1%) and "
    "read the same English text (the King James Bible and Wikipedia articles).")

shared = {label: ui.shared_model(name) for label, name in MODELS.items()}
vocabs = {label: text.Vocab(card["vocab"]) for label, (_, card) in shared.items()}
any_card = next(iter(shared.values()))[1]["metrics"]
st.dataframe([{
    "cell": label,
    "parameters": f"{card['parameters']:,}",
    "hidden units": card["config"]["n_hidden"],
    "validation bits/char": round(card["metrics"]["bits_per_char"], 3),
    "training": f"{card['steps']:,} steps, {card['wall_time_s'] / 60:.0f} min on {card['device']}",
} for label, (_, card) in shared.items()], hide_index=True, key="rnn_cards")
st.caption(f"Bits per character on the {any_card['n']:,}-character validation split: lower is better; a uniform "
           f"guess over the {len(next(iter(vocabs.values()))):,} characters would be "
           f"{np.log2(len(next(iter(vocabs.values())))):.2f}. The best smoothed character n-gram (Kneser-Ney, "
           f"order {any_card['ngram_order']}) on the same split: **{any_card['ngram_bits_per_char']:.3f}**.")
if len({card["steps"] for _, card in shared.values()}) > 1:
    st.caption("The cells did not all train for the same number of steps (the *training* column), and a longer "
               "run alone lowers bits per character: compare them with that in mind.")
for _, card in shared.values():
    ui.model_card(card)


@st.cache_data(max_entries=64, show_spinner="Writing…")
def write(label: str, prompt: str, n: int, temperature: float, seed: int) -> str:
    model, _ = shared[label]
    return char_lm.generate_text(model, vocabs[label], prompt, n, temperature, seed=seed)


@st.cache_data(max_entries=64, show_spinner=False)
def distributions(label: str, context: str, temperature: float) -> np.ndarray:
    model, _ = shared[label]
    return char_lm.step_distributions(model, vocabs[label].encode(context), temperature).numpy()


# ---- 1. generate ---------------------------------------------------------------------------------
ui.view_in_url("rnn_cell", "rnn_prompt", "rnn_temperature", "rnn_length", "rnn_seed")
st.header("1. Let it write")
left, right = st.columns([1, 2])
cell = left.radio("Cell", list(MODELS), horizontal=True, key="rnn_cell")
prompt = right.text_input("Prompt", "And God said", max_chars=200, key="rnn_prompt")
a, b, c = st.columns(3)
temperature = a.slider("Temperature", 0.0, 1.5, 0.7, step=0.05, key="rnn_temperature",
                       help="0 always takes the likeliest character; higher is bolder")
length = b.slider("Characters to write", 20, 600, 200, step=10, key="rnn_length")
seed = c.number_input("Seed", 0, 10_000, 0, key="rnn_seed")
vocab = vocabs[cell]
if not prompt:
    st.info("Type a prompt for the model to continue.")
else:
    unknown = sorted({ch for ch in prompt if vocab.encode(ch)[0] == 0})
    if unknown:
        st.caption(f"Not in the model's alphabet, read as '{text.UNKNOWN}': {' '.join(map(repr, unknown))}")
    written = write(cell, prompt, length, temperature, int(seed))
    st.code(prompt + written, language=None, wrap_lines=True)
    st.markdown("**What it could have written.** The distribution it drew each character from "
                f"(temperature {temperature:g} applied).")
    step = st.slider("Generated character", 1, len(written), 1, key="rnn_step")
    probs = distributions(cell, prompt + written[:-1], temperature)[len(prompt) + step - 2]
    labels = [repr(figures.shown(ch))[1:-1] for ch in vocab.chars]
    chosen = written[step - 1]
    before = "".join(map(figures.shown, (prompt + written)[max(0, len(prompt) + step - 31):len(prompt) + step - 1]))
    escape = lambda chars: "".join("\\" + ch if ch in "\\`*_[]<>#$~|" else ch for ch in chars)
    st.caption(f"After “…{escape(before)}” it wrote “{escape(figures.shown(chosen))}” "
               f"(probability {probs[vocab.encode(chosen)[0]]:.1%}).")
    st.plotly_chart(plots.probability_bars(probs, labels, title="The ten likeliest next characters",
                                           label_title="character", top=10), key="rnn_next_probs")
    ui.why_this_character(MODELS[cell], prompt, "rnn")


# ---- 2. inside ---------------------------------------------------------------------------------------
def coloured_text(chars: str, activation: np.ndarray) -> str:
    """The text as HTML, each character on a background from blue (-1) through white to red (+1)."""
    spans = []
    for ch, value in zip(chars, np.clip(activation, -1, 1)):
        rgb = "225,112,85" if value > 0 else "9,132,227"
        glyph = "⏎<br>" if ch == "\n" else html.escape(ch).replace(" ", "&nbsp;")
        spans.append(f'<span title="{value:+.2f}" style="background:rgba({rgb},{abs(value):.2f});'
                     f'font-family:monospace;font-size:1.05em">{glyph}</span>')
    return "".join(spans)


@st.cache_data(max_entries=32, show_spinner="Reading it character by character…")
def inside(label: str, chars: str):
    return explore.look_inside(shared[label][0], vocabs[label].encode(chars))


@st.cache_data(max_entries=32, show_spinner=False)
def gradient_flow(chars: str) -> dict[str, np.ndarray]:
    return {label: explore.gradient_flow(model, vocabs[label].encode(chars)) for label, (model, _) in shared.items()}


st.header("2. Inside the model")
chars = st.text_area(f"Text to look inside (up to {LOOK_CHARS} characters)", INSPECT_DEFAULT, height=80,
                     key="rnn_look_text", max_chars=LOOK_CHARS)
if len(chars) < 2:
    st.info("Type at least two characters to look inside the model.")
else:
    look = inside(cell, chars)
    units = look.lively[:SHOWN_UNITS]
    st.markdown(f"**The {cell}'s state after each character**: the {len(units)} of its "
                f"{len(look.hidden)} units whose state changes most over this text, red positive, blue negative.")
    state_columns = st.columns(2 if look.cell is not None else 1)
    state_columns[0].plotly_chart(figures.char_heatmap(look.hidden[units], chars, units, "Hidden state h", True),
                                  key="rnn_hidden_map")
    if look.cell is not None:
        state_columns[1].plotly_chart(figures.char_heatmap(np.tanh(look.cell[units]), chars, units,
                                                           "Cell state c (through tanh)", True), key="rnn_cell_map")

    if look.gates:
        st.markdown("**Gates per character**, each in [0, 1]: "
                    + ("the input gate lets new content into the cell, the forget gate keeps the old, the output "
                       "gate shows the cell in h." if cell == "LSTM" else
                       "the update gate keeps the old state (1) or takes the new candidate (0); the reset gate "
                       "decides how much of the old state the candidate may see."))
        st.plotly_chart(figures.gate_means(look.gates, chars), key="rnn_gate_means")
        gate = st.radio("Gate", list(look.gates), horizontal=True, key="rnn_gate")
        st.plotly_chart(figures.char_heatmap(look.gates[gate][units], chars, units, f"The {gate} gate of each unit",
                                             False),
                        key="rnn_gate_map")
    else:
        st.caption("A vanilla RNN has no gates: its whole state is rewritten at every character.")

    st.subheader("Find the neuron")
    st.markdown("Karpathy et al. (2015) found single units that track quotes, brackets or the position in a "
                "line. Pick a unit and see the text coloured by its value after each character.")
    a, b = st.columns([2, 1])
    kinds = ["hidden state h"] + (["cell state c (tanh)"] if look.cell is not None else [])
    unit = a.selectbox("Unit (the liveliest on this text first)", [int(u) for u in look.lively], key="rnn_unit")
    kind = b.radio("Show", kinds, horizontal=True, key="rnn_unit_kind")
    values = look.hidden[unit] if kind == kinds[0] else np.tanh(look.cell[unit])
    st.markdown(coloured_text(chars, values), unsafe_allow_html=True)

    st.subheader("Gradient flow back through time")
    st.markdown("How strongly the loss of predicting the **last** character reaches back to the state at each "
                "earlier character: the norm of ∂loss/∂hₜ (log scale). In the vanilla RNN it shrinks by a roughly "
                "constant factor per step, so it learns little from far back; the gated cells keep it alive.")
    flow = gradient_flow(chars)
    st.plotly_chart(plots.lines(range(len(chars) - 1), flow, log_y=True, title="Gradient norm reaching back "
                                "through time (log scale)",
                                x_title="steps back from the state that predicts the last character",
                                y_title="‖∂loss/∂hₜ‖", height=300), key="rnn_gradient_flow")


# ---- 3. fine-tune ------------------------------------------------------------------------------------
def draw_finetune(events: list[dict]) -> None:
    before = next((e["bpc_before"] for e in events if "bpc_before" in e), None)
    final = next((e for e in events if "bpc_after" in e), None)
    if before is not None:
        columns = st.columns(4)
        columns[0].metric("Your held-out text: bits/char before", f"{before['yours']:.3f}")
        columns[2].metric("Original validation: before", f"{before['original']:.3f}")
        if final is not None:
            after = final["bpc_after"]
            columns[1].metric("after", f"{after['yours']:.3f}", delta=f"{after['yours'] - before['yours']:+.3f}",
                              delta_color="inverse")
            columns[3].metric("after", f"{after['original']:.3f}",
                              delta=f"{after['original'] - before['original']:+.3f}", delta_color="inverse")
            st.caption(final["summary"])
            for warning in final["warnings"]:
                st.warning(warning)
    left, right = st.columns(2)
    left.plotly_chart(plots.curves(events, ["loss"], title="Training loss on your text", height=240, names={
        "loss": plots.Metric("training loss", "cross-entropy (nats per character)", plots.LOSS)}), key="rnn_ft_loss")
    right.plotly_chart(plots.curves(events, ["validation_bpc"], title="Bits per character on your validation piece",
                                    height=240), key="rnn_ft_validation")
    samples = [(e["step"], e["sample"]) for e in events if "sample" in e]
    if samples:
        left, right = st.columns(2)
        left.markdown("**Sample before**")
        left.code(samples[0][1], language=None, wrap_lines=True)
        if final is not None:
            right.markdown(f"**Sample from the weights kept** (step {final['kept_step']})")
            right.code(final["kept_sample"], language=None, wrap_lines=True)
        else:
            right.markdown(f"**Sample at step {samples[-1][0]}**")
            right.code(samples[-1][1], language=None, wrap_lines=True)


st.header("3. Fine-tune on your text")
st.markdown(
    "Continue training a private copy on your own text; the shared model stays as it is. Your text is cut in three: it "
    f"trains on the first eight tenths, mixed with the original text ({char_lm.REHEARSAL:.0%} of every batch) so it "
    "keeps what it knew. Every 10 steps the ninth tenth scores it: the weights that score best are kept, and the run "
    "stops once the score stops improving. The last tenth, which it never trains on, and the original validation text "
    "measure it before and after: what it learned and what it forgot. A few paragraphs teach it little; a chapter or "
    "more teaches it your text's style.")
a, b, c = st.columns(3)
ft_cell = a.selectbox("Model", list(MODELS), key="rnn_ft_cell")
lr = b.select_slider("Learning rate", options=[1e-4, 3e-4, 1e-3, 3e-3], value=3e-4, format_func=lambda v: f"{v:.0e}",
                     key="rnn_ft_lr")
ft_steps = c.slider("Steps", 10, 500, 100, step=10, key="rnn_ft_steps")
person_text, source = ui.text_input("rnn_ft", label="Your text")
if person_text is None:
    st.info(f"Type, paste or upload at least {char_lm.MIN_FINETUNE_CHARS:,} characters of text to fine-tune on.")
elif len(person_text) < char_lm.MIN_FINETUNE_CHARS:
    st.warning(f"That is {len(person_text):,} characters ({source}); fine-tuning needs at least "
               f"{char_lm.MIN_FINETUNE_CHARS:,}: a tenth chooses the weights kept and a tenth measures them.")
else:
    st.caption(f"{len(person_text):,} characters from {source}.")
    ui.training_panel("rnn_ft", char_lm.finetune_charlm,
                      dict(name=MODELS[ft_cell], person_text=person_text, lr=lr, steps=ft_steps),
                      metrics=("loss",), download_name=f"{MODELS[ft_cell]}-finetuned.safetensors", draw=draw_finetune)


# ---- 4. forecast --------------------------------------------------------------------------------------
@st.cache_data(max_entries=16, show_spinner=False)
def csv_columns(file_id: str, _data: bytes, name: str) -> list[str]:
    """The uploaded CSV's column names, read once per upload (`file_id`)."""
    return column_names(_data, name)


@st.cache_data(max_entries=16, show_spinner="Reading your series…")
def csv_series(file_id: str, _data: bytes, name: str, value_column: str | None, date_column: str | None):
    """The uploaded series, read once per upload (`file_id`) and choice of columns, not on every rerun."""
    return read_csv(_data, name, value_column, date_column)


st.header("4. Forecast a time series")
st.markdown("An LSTM or GRU reads a window of the series and predicts the next *horizon* values at once. The last "
            "*horizon* values are held out and it never sees them; its forecast is scored against them beside the "
            "**seasonal-naive** forecast (each value repeats the one a season earlier) by MASE, the mean absolute "
            "error over that of the seasonal-naive forecast in the training part: below 1 is better than it.")
series_source = st.radio("Series", ["Mauna Loa CO2 (shipped)", "My CSV file"], horizontal=True, key="rnn_fc_source")
series = None
if series_source.startswith("Mauna"):
    series = forecast.load_default()
    st.caption(forecast.DEFAULT_SOURCE)
    default_season = forecast.DEFAULT_SEASON
else:
    limit = uploads.limits()
    st.caption(f"One row per time step, a column of numbers and optionally a date column (at most {MAX_COLUMNS} "
               f"columns), comma, semicolon or tab separated, up to {limit.max_upload_bytes / 2 ** 20:g} MB; over "
               f"{limit.max_series_rows:,} rows only the latest are used.")
    upload = st.file_uploader("A CSV file", type=["csv", "txt", "tsv"], key="rnn_fc_csv")
    try:
        columns = None if upload is None else csv_columns(upload.file_id, upload.getvalue(), upload.name)
    except uploads.UploadError as error:
        st.error(str(error))
        columns = None
    if columns is not None:
        a, b = st.columns(2)
        value_column = a.selectbox("Value column", ["(last column of numbers)"] + columns, key="rnn_fc_value")
        date_options = ["(none)"] + columns
        guess = forecast.date_column_guess(columns)
        date_column = b.selectbox("Date column (optional)", date_options, key="rnn_fc_date",
                                  index=date_options.index(guess) if guess else 0)
        try:
            series = csv_series(upload.file_id, upload.getvalue(), upload.name,
                                None if value_column.startswith("(") else value_column,
                                None if date_column == "(none)" else date_column)
        except uploads.UploadError as error:
            st.error(str(error))
        if series is not None:
            if series.note:
                st.caption(series.note)
            default_season = forecast.guess_season(series.values)

if series is not None:
    n = len(series.values)
    a, b, c, d = st.columns(4)
    horizon = a.slider("Horizon (steps held out)", 1, max(1, min(60, n // 4)), min(24, max(1, n // 8)),
                       key="rnn_fc_horizon")
    season = b.number_input("Season length (steps)", 1, max(1, n // 3), min(default_season, max(1, n // 3)),
                            key="rnn_fc_season", help="12 for monthly data with a yearly cycle; 1 for none")
    fc_cell = c.radio("Cell", ["LSTM", "GRU"], horizontal=True, key="rnn_fc_cell")
    fc_steps = d.slider("Training steps", 20, 1000, 300, step=20, key="rnn_fc_steps")
    st.caption(f"{n:,} values of '{series.value_column}'.")
    problem = forecast.check_lengths(n, horizon, int(season))
    if problem:
        st.warning(problem)
    else:
        history = series.values[:-horizon]
        naive = forecast.seasonal_naive(history, horizon, int(season))
        baseline = {"naive": naive.tolist(),
                    "mase_naive": forecast.mase(series.values[-horizon:], naive, history, int(season))}

        def draw_forecast(events: list[dict]) -> None:
            st.plotly_chart(figures.forecast_figure(series, horizon, baseline, events), key="rnn_fc_chart")
            st.plotly_chart(plots.curves(events, ["loss"], title="Training loss", height=220, names={
                "loss": plots.Metric("training loss", "MSE of the scaled changes", plots.LOSS)}), key="rnn_fc_loss")

        if st.session_state.get("rnn_fc_job") is None:
            st.plotly_chart(figures.forecast_figure(series, horizon, baseline, []), key="rnn_fc_preview")
        ui.training_panel("rnn_fc", forecast.forecast_series,
                          dict(values=series.values, horizon=horizon, season=int(season), cell=fc_cell.lower(),
                               steps=fc_steps),
                          download_name=None, draw=draw_forecast, label="forecast training")
