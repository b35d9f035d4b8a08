"""RNN / GRU / LSTM page: three character models of one size write text, show their states and
gates, let the gradient through time be compared, fine-tune on the person's text, and an LSTM
or GRU forecasts a time series live."""

import numpy as np
import streamlit as st

from models.rnn import explore, figures, forecast
from zoo import i18n, plots, ui, uploads
from zoo.data import text
from zoo.i18n import t
from zoo.data.series import MAX_COLUMNS, column_label, column_names, read_csv
from zoo.training import char_lm

MODELS = {"LSTM": "lstm-text", "GRU": "gru-text", "Vanilla RNN": "rnn-text"}
"""the cells by their codes (widget options, kept in links) and their checkpoints"""
LOOK_CHARS = 160
"""the most characters the look inside takes: one heat-map column each stays readable"""
SHOWN_UNITS = 48
INSPECT_DEFAULT = 'And he said unto them, "Go ye into all the world (and preach the gospel)." Paris is the capital of France.'



def cell_name(code: str) -> str:
    """A cell's name as the reader's language writes it (LSTM and GRU are the same everywhere)."""
    return t("rnn.vanilla") if code == "Vanilla RNN" else code



ui.page_intro(t("rnn.title"), t("rnn.intro"))

shared = {label: ui.shared_model(name) for label, name in MODELS.items()}
vocabs = {label: text.Vocab(card["vocab"]) for label, (_, card) in shared.items()}
any_card = next(iter(shared.values()))[1]["metrics"]
st.dataframe([{  # numbers stay numbers, so that a click on a column header sorts them as numbers
    t("rnn.cards.cell"): cell_name(label),
    t("rnn.cards.parameters"): card["parameters"],
    t("rnn.cards.hidden"): card["config"]["n_hidden"],
    t("rnn.cards.bpc"): card["metrics"]["bits_per_char"],
    t("rnn.cards.training"): t("rnn.cards.training_value", steps=card["steps"], minutes=card["wall_time_s"] / 60,
                               device=ui.device_label(card["device"])),
} for label, (_, card) in shared.items()], hide_index=True, key="rnn_cards", column_config={
    t("rnn.cards.parameters"): st.column_config.NumberColumn(format="localized"),
    t("rnn.cards.bpc"): st.column_config.NumberColumn(format="%.3f")})
alphabet = len(next(iter(vocabs.values())))
st.caption(t("rnn.cards.caption", n=any_card["n"], vocab=alphabet, uniform=float(np.log2(alphabet)),
             order=any_card["ngram_order"], ngram=any_card["ngram_bits_per_char"]))
if len({card["steps"] for _, card in shared.values()}) > 1:
    st.caption(t("rnn.cards.steps_differ"))
for _, card in shared.values():
    ui.model_card(card)


@st.cache_data(max_entries=64, show_spinner=False)
def write(label: str, prompt: str, n: int, temperature: float, seed: int) -> str:
    model, _ = shared[label]
    return char_lm.generate_text(model, vocabs[label], prompt, n, temperature, seed=seed)


@st.cache_data(max_entries=64, show_spinner=False)
def distributions(label: str, context: str, temperature: float) -> np.ndarray:
    model, _ = shared[label]
    return char_lm.step_distributions(model, vocabs[label].encode(context), temperature).numpy()


# ---- 1. generate ---------------------------------------------------------------------------------
ui.view_in_url("rnn_cell", "rnn_prompt", "rnn_temperature", "rnn_length", "rnn_seed")
st.header(t("rnn.generate.header"))
left, right = st.columns([1, 2])
cell = left.radio(t("rnn.generate.cell"), list(MODELS), format_func=i18n.as_drawn(cell_name), horizontal=True,
                  key="rnn_cell")
prompt = right.text_input(t("rnn.generate.prompt"), "And God said", max_chars=200, key="rnn_prompt")
a, b, c = st.columns(3)
temperature = a.slider(t("rnn.generate.temperature"), 0.0, 1.5, 0.7, step=0.05, key="rnn_temperature",
                       help=t("rnn.generate.temperature_help"))
length = b.slider(t("rnn.generate.length"), 20, 600, 200, step=10, key="rnn_length")
seed = c.number_input(t("rnn.generate.seed"), 0, 10_000, 0, key="rnn_seed")
vocab = vocabs[cell]
if not prompt:
    st.info(t("rnn.generate.no_prompt"))
else:
    unknown = sorted({ch for ch in prompt if vocab.encode(ch)[0] == 0})
    if unknown:
        st.caption(t("rnn.generate.unknown", unknown=text.UNKNOWN, chars=" ".join(map(repr, unknown))))
    with st.spinner(t("rnn.spinner.writing")):
        written = write(cell, prompt, length, temperature, int(seed))
    st.code(prompt + written, language=None, wrap_lines=True)
    st.markdown(t("rnn.generate.could_have", temperature=temperature))
    step = st.slider(t("rnn.generate.step"), 1, len(written), 1, key="rnn_step")
    probs = distributions(cell, prompt + written[:-1], temperature)[len(prompt) + step - 2]
    labels = [repr(figures.shown(ch))[1:-1] for ch in vocab.chars]
    chosen = written[step - 1]
    before = "".join(map(figures.shown, (prompt + written)[max(0, len(prompt) + step - 31):len(prompt) + step - 1]))
    escape = lambda chars: "".join("\\" + ch if ch in "\\`*_[]<>#$~|" else ch for ch in chars)
    st.caption(t("rnn.generate.after", before=escape(before), chosen=escape(figures.shown(chosen)),
                 probability=float(probs[vocab.encode(chosen)[0]])))
    st.plotly_chart(plots.probability_bars(probs, labels, title=t("rnn.generate.bars_title"),
                                           label_title=t("rnn.generate.character"), top=10), key="rnn_next_probs")
    ui.why_this_character(MODELS[cell], prompt, "rnn")


# ---- 2. inside ---------------------------------------------------------------------------------------
def coloured_text(chars: str, activation: np.ndarray) -> str:
    """The text as HTML, each character on a background from blue (-1) through white to red (+1)."""
    spans = []
    for ch, value in zip(chars, np.clip(activation, -1, 1)):
        rgb = "225,112,85" if value > 0 else "9,132,227"
        glyph = "⏎<br>" if ch == "\n" else "\u00a0" if ch == " " else f"&#{ord(ch)};" if ch in "&<>" else ch
        spans.append(f'<span title="{value:+.2f}" style="background:rgba({rgb},{abs(value):.2f});'
                     f'font-family:monospace;font-size:1.05em">{glyph}</span>')
    return "".join(spans)


@st.cache_data(max_entries=32, show_spinner=False)
def inside(label: str, chars: str):
    return explore.look_inside(shared[label][0], vocabs[label].encode(chars))


@st.cache_data(max_entries=32, show_spinner=False)
def gradient_flow(chars: str) -> dict[str, np.ndarray]:
    return {label: explore.gradient_flow(model, vocabs[label].encode(chars)) for label, (model, _) in shared.items()}


st.header(t("rnn.inside.header"))
chars = st.text_area(t("rnn.inside.text", n=LOOK_CHARS), INSPECT_DEFAULT, height=80,
                     key="rnn_look_text", max_chars=LOOK_CHARS)
if len(chars) < 2:
    st.info(t("rnn.inside.too_short"))
else:
    with st.spinner(t("rnn.spinner.reading")):
        look = inside(cell, chars)
    units = look.lively[:SHOWN_UNITS]
    st.markdown(t("rnn.inside.state", cell=cell_name(cell), shown=len(units), total=len(look.hidden)))
    state_columns = st.columns(2 if look.cell is not None else 1)
    state_columns[0].plotly_chart(figures.char_heatmap(look.hidden[units], chars, units, t("rnn.inside.hidden_title"),
                                                       True), key="rnn_hidden_map")
    if look.cell is not None:
        state_columns[1].plotly_chart(figures.char_heatmap(np.tanh(look.cell[units]), chars, units,
                                                           t("rnn.inside.cell_title"), True), key="rnn_cell_map")

    if look.gates:
        st.markdown(t("rnn.inside.gates_lstm") if cell == "LSTM" else t("rnn.inside.gates_gru"))
        st.plotly_chart(figures.gate_means(look.gates, chars), key="rnn_gate_means")
        gate = st.radio(t("rnn.inside.gate"), list(look.gates), horizontal=True, key="rnn_gate",
                        format_func=i18n.as_drawn(lambda code: t(f"rnn.gate.{code}")))
        st.plotly_chart(figures.char_heatmap(look.gates[gate][units], chars, units, t(f"rnn.gate_map.{gate}"),
                                             False),
                        key="rnn_gate_map")
    else:
        st.caption(t("rnn.inside.no_gates"))

    st.subheader(t("rnn.neuron.header"))
    st.markdown(t("rnn.neuron.text"))
    a, b = st.columns([2, 1])
    kinds = ["h"] + (["c"] if look.cell is not None else [])
    unit = a.selectbox(t("rnn.neuron.unit"), [int(u) for u in look.lively], key="rnn_unit")
    kind = b.radio(t("rnn.neuron.show"), kinds, horizontal=True, key="rnn_unit_kind",
                   format_func=i18n.as_drawn(lambda code: t(f"rnn.neuron.kind.{code}")))
    values = look.hidden[unit] if kind != "c" else np.tanh(look.cell[unit])
    st.markdown(coloured_text(chars, values), unsafe_allow_html=True)

    st.subheader(t("rnn.flow.header"))
    st.markdown(t("rnn.flow.text"))
    flow = gradient_flow(chars)
    st.plotly_chart(plots.lines(range(len(chars) - 1), {cell_name(label): norms for label, norms in flow.items()},
                                log_y=True, title=t("rnn.flow.title"), x_title=t("rnn.flow.x"),
                                y_title=t("rnn.flow.y"), height=300), key="rnn_gradient_flow")


# ---- 3. fine-tune ------------------------------------------------------------------------------------
def curve_names() -> dict[str, plots.Metric]:
    """The fine-tuning curves' names and axes, in the reader's language."""
    return {"loss": plots.Metric(t("char_lm.chart.loss_name"), t("char_lm.chart.loss_axis"), plots.LOSS),
            "validation_bpc": plots.Metric(t("char_lm.chart.validation_name"), t("char_lm.chart.validation_axis"),
                                           plots.LOSS)}


def draw_finetune(events: list[dict]) -> None:
    before = next((e["bpc_before"] for e in events if "bpc_before" in e), None)
    final = next((e for e in events if "bpc_after" in e), None)
    if before is not None:
        columns = st.columns(4)
        columns[0].metric(t("char_lm.metric.yours_before"), i18n.number(before["yours"], ".3f"))
        columns[2].metric(t("char_lm.metric.original_before"), i18n.number(before["original"], ".3f"))
        if final is not None:
            after = final["bpc_after"]
            columns[1].metric(t("char_lm.metric.after"), i18n.number(after["yours"], ".3f"),
                              delta=i18n.number(after["yours"] - before["yours"], "+.3f"), delta_color="inverse")
            columns[3].metric(t("char_lm.metric.after"), i18n.number(after["original"], ".3f"),
                              delta=i18n.number(after["original"] - before["original"], "+.3f"), delta_color="inverse")
            st.caption(final["summary"])
            for warning in final["warnings"]:
                st.warning(warning)
    left, right = st.columns(2)
    left.plotly_chart(plots.curves(events, ["loss"], title=t("char_lm.chart.loss_title"), height=240,
                                   names=curve_names()), key="rnn_ft_loss")
    right.plotly_chart(plots.curves(events, ["validation_bpc"], title=t("char_lm.chart.validation_title"),
                                    height=240, names=curve_names()), key="rnn_ft_validation")
    samples = [(e["step"], e["sample"]) for e in events if "sample" in e]
    if samples:
        left, right = st.columns(2)
        left.markdown(t("char_lm.sample.before"))
        left.code(samples[0][1], language=None, wrap_lines=True)
        if final is not None:
            right.markdown(t("char_lm.sample.kept", step=final["kept_step"]))
            right.code(final["kept_sample"], language=None, wrap_lines=True)
        else:
            right.markdown(t("char_lm.sample.at_step", step=samples[-1][0]))
            right.code(samples[-1][1], language=None, wrap_lines=True)


st.header(t("rnn.finetune.header"))
st.markdown(t("rnn.finetune.text", rehearsal=char_lm.REHEARSAL))
a, b, c = st.columns(3)
ft_cell = a.selectbox(t("rnn.finetune.model"), list(MODELS), format_func=i18n.as_drawn(cell_name),
                      key="rnn_ft_cell")
lr = b.select_slider(t("rnn.finetune.lr"), options=[1e-4, 3e-4, 1e-3, 3e-3], value=3e-4,
                     format_func=lambda v: f"{v:.0e}", key="rnn_ft_lr")
ft_steps = c.slider(t("rnn.finetune.steps"), 10, 500, 100, step=10, key="rnn_ft_steps")
person_text, source = ui.text_input("rnn_ft", label=t("rnn.finetune.your_text"))
if person_text is None:
    st.info(t("rnn.finetune.need_text", n=char_lm.MIN_FINETUNE_CHARS))
elif len(person_text) < char_lm.MIN_FINETUNE_CHARS:
    st.warning(t("rnn.finetune.too_short", n=len(person_text), source=source, least=char_lm.MIN_FINETUNE_CHARS))
else:
    st.caption(t("rnn.finetune.read", n=len(person_text), source=source))
    ui.training_panel("rnn_ft", char_lm.finetune_charlm,
                      dict(name=MODELS[ft_cell], person_text=person_text, lr=lr, steps=ft_steps),
                      metrics=("loss",), download_name=f"{MODELS[ft_cell]}-finetuned.safetensors", draw=draw_finetune)


# ---- 4. forecast --------------------------------------------------------------------------------------
@st.cache_data(max_entries=16, show_spinner=False)
def csv_columns(file_id: str, _data: bytes, name: str) -> list[str]:
    """The uploaded CSV's column names, read once per upload (`file_id`)."""
    return column_names(_data, name)


@st.cache_data(max_entries=16, show_spinner=False)
def csv_series(file_id: str, _data: bytes, name: str, value_column: str | None, date_column: str | None,
               language: str):
    """The uploaded series, read once per upload (`file_id`), choice of columns and language (its note is a
    sentence), not on every rerun."""
    return read_csv(_data, name, value_column, date_column)


SERIES_SOURCES = {"Mauna Loa CO2 (shipped)": "rnn.forecast.source.shipped", "My CSV file": "rnn.forecast.source.csv"}
"""the series' sources by their codes (the radio's options), each with its label's key"""
LAST_NUMBERS, NO_DATE = "(last column of numbers)", "(none)"
"""the column boxes' first options, codes beside the file's own column names"""
COLUMN_OPTIONS = {LAST_NUMBERS: "rnn.forecast.last_numbers", NO_DATE: "rnn.forecast.no_date"}


def column_option(option: str) -> str:
    return t(COLUMN_OPTIONS[option]) if option in COLUMN_OPTIONS else column_label(option)


st.header(t("rnn.forecast.header"))
st.markdown(t("rnn.forecast.text"))
series_source = st.radio(t("rnn.forecast.series"), list(SERIES_SOURCES), horizontal=True, key="rnn_fc_source",
                         format_func=i18n.as_drawn(lambda code: t(SERIES_SOURCES[code])))
series = None
if series_source.startswith("Mauna"):
    series = forecast.load_default()
    st.caption(forecast.default_source())
    default_season = forecast.DEFAULT_SEASON
else:
    limit = uploads.limits()
    st.caption(t("rnn.forecast.csv_help", columns=MAX_COLUMNS, mb=limit.max_upload_bytes / 2 ** 20,
                 rows=limit.max_series_rows))
    upload = st.file_uploader(t("rnn.forecast.uploader"), type=["csv", "txt", "tsv"], key="rnn_fc_csv")
    try:
        columns = None if upload is None else csv_columns(upload.file_id, upload.getvalue(), upload.name)
    except uploads.UploadError as error:
        st.error(str(error))
        columns = None
    if columns is not None:
        a, b = st.columns(2)
        value_column = a.selectbox(t("rnn.forecast.value_column"), [LAST_NUMBERS] + columns,
                                   format_func=i18n.as_drawn(column_option), key="rnn_fc_value")
        date_options = [NO_DATE] + columns
        guess = forecast.date_column_guess(columns)
        date_column = b.selectbox(t("rnn.forecast.date_column"), date_options, key="rnn_fc_date",
                                  format_func=i18n.as_drawn(column_option),
                                  index=date_options.index(guess) if guess else 0)
        try:
            with st.spinner(t("rnn.spinner.series")):
                series = csv_series(upload.file_id, upload.getvalue(), upload.name,
                                    None if value_column == LAST_NUMBERS else value_column,
                                    None if date_column == NO_DATE else date_column, i18n.language())
        except uploads.UploadError as error:
            st.error(str(error))
        if series is not None:
            if series.note:
                st.caption(series.note)
            default_season = forecast.guess_season(series.values)

if series is not None:
    n = len(series.values)
    a, b, c, d = st.columns(4)
    horizon = a.slider(t("rnn.forecast.horizon"), 1, max(1, min(60, n // 4)), min(24, max(1, n // 8)),
                       key="rnn_fc_horizon")
    season = b.number_input(t("rnn.forecast.season"), 1, max(1, n // 3), min(default_season, max(1, n // 3)),
                            key="rnn_fc_season", help=t("rnn.forecast.season_help"))
    fc_cell = c.radio(t("rnn.forecast.cell"), ["LSTM", "GRU"], horizontal=True, key="rnn_fc_cell")
    fc_steps = d.slider(t("rnn.forecast.steps"), 20, 1000, 300, step=20, key="rnn_fc_steps")
    st.caption(t("rnn.forecast.values_of", n=n, column=column_label(series.value_column)))
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
            st.plotly_chart(plots.curves(events, ["loss"], title=t("rnn.forecast.loss_title"), height=220, names={
                "loss": plots.Metric(t("rnn.forecast.loss_name"), t("rnn.forecast.loss_axis"), plots.LOSS)}),
                key="rnn_fc_loss")

        if st.session_state.get("rnn_fc_job") is None:
            st.plotly_chart(figures.forecast_figure(series, horizon, baseline, []), key="rnn_fc_preview")
        ui.training_panel("rnn_fc", forecast.forecast_series,
                          dict(values=series.values, horizon=horizon, season=int(season), cell=fc_cell.lower(),
                               steps=fc_steps),
                          download_name=None, draw=draw_forecast, label=t("rnn.forecast.job"))
