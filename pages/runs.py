"""Runs page: every training run of this session, overlaid, smoothed, grouped, exported and repeated, as in
TensorBoard."""
import streamlit as st

from zoo import i18n, jobs, plots, ui, uploads
from zoo.i18n import t
from zoo.runs import curves, figures, files, repeat

SHOWN = 20
"""the newest runs drawn at first; the older ones start hidden"""



def column_titles(metrics: list[str]) -> dict[str, str]:
    """The runs table's column codes (`curves.table_rows`, "from") and metric keys, titled in the reader's language;
    two metrics of one name are told apart by their keys."""
    titles = {code: t(f"runs.column.{code}") for code in
              ("run", "page", "checkpoint", "state", "seed", "steps", "seconds", "settings", "from")}
    names = [plots.metric(metric).name for metric in metrics]
    for metric, name in zip(metrics, names):
        taken = names.count(name) > 1 or name in titles.values()
        titles[metric] = t("runs.column.metric_key", name=name, field=metric) if taken else name
    return titles


ui.page_intro(t("runs.intro.title"), t("runs.intro.text"))
st.warning(t("runs.warning"))

runner = jobs.get_runner()
session = ui.job_session()
own = runner.runs(session)
here = {record.id for record in own}

ui.view_in_url("runs_smoothing", "runs_x", "runs_y", "runs_group")
with st.expander(t("runs.upload_expander"), expanded=not own):
    upload = st.file_uploader(t("runs.upload", mb=files.MAX_FILE_BYTES / 2 ** 20), type=["json", "csv"],
                              key="runs_upload")
    uploaded = []
    if upload is not None:
        try:
            read = ui.from_upload(upload, files.read_runs)
        except uploads.UploadError as error:
            st.error(str(error))
        else:
            uploaded = [record for record in read if record.id not in here]
            mine = len(read) - len(uploaded)
            if mine:
                st.success(i18n.count("runs.read_mine", len(read), file=upload.name, mine=mine))
            else:
                st.success(i18n.count("runs.read", len(read), file=upload.name))

records = own + uploaded
if not records:
    st.info(t("runs.no_runs"))
    st.page_link("pages/cnn.py", label=t("runs.fine_tune_cnn"), icon=":material/grid_on:")
    st.stop()

st.header(t("runs.header.runs"))
labels = curves.run_labels(records)
ids = [record.id for record in records]
ids = [run_id if ids.index(run_id) == i else f"{run_id}#{i}" for i, run_id in enumerate(ids)]  # a file may repeat one
label_of = dict(zip(ids, labels))
table_metrics = curves.curve_metrics(records)
rows = curves.table_rows(records, labels, table_metrics)
for row, record in zip(rows, records):
    row["from"] = t("runs.this_session") if record.id in here else upload.name
titles = column_titles(table_metrics)
st.dataframe([{titles.get(code, code): value for code, value in row.items()} for row in rows], hide_index=True,
             key="runs_table")
st.caption(t("runs.table_caption"))
hidden = st.multiselect(t("runs.hidden"), ids, default=ids[:-SHOWN], format_func=label_of.get, key="runs_hidden",
                        help=t("runs.hidden_help", shown=SHOWN))
shown = [record for record, run_id in zip(records, ids) if run_id not in hidden]
shown_ids = [run_id for run_id in ids if run_id not in hidden]
shown_labels = [label_of[run_id] for run_id in shown_ids]
metrics = curves.curve_metrics(shown)
if st.button(t("runs.refresh"), key="runs_refresh", help=t("runs.refresh_help")):
    st.rerun()

st.header(t("runs.header.curves"))
left, middle, right, far = st.columns(4)
weight = left.slider(t("runs.smoothing"), 0.0, 0.99, 0.6, 0.01, key="runs_smoothing", help=t("runs.smoothing_help"))
x_axis = middle.radio(t("runs.x_axis"), list(curves.X_AXES),
                      format_func={code: curves.axis_title(code)[0].upper() + curves.axis_title(code)[1:]
                                   for code in curves.X_AXES}.get,
                      key="runs_x")
log_y = right.radio(t("runs.y_scale"), ["linear", "log"], horizontal=True, key="runs_y",
                    format_func={code: t(f"runs.y_option.{code}") for code in ("linear", "log")}.get) == "log"
grouped = far.toggle(t("runs.group"), key="runs_group", help=t("runs.group_help"))
spread = "min-max"
if grouped:
    spread = far.radio(t("runs.band"), list(curves.SPREADS), format_func={code: t(key) for code, key in
                                                                          curves.SPREADS.items()}.get,
                       key="runs_spread")
    if x_axis != "step":
        st.caption(t("runs.groups_by_step"))
if not metrics:
    st.info(t("runs.no_metric"))
groups = curves.groups(shown) if grouped else []
group_names = curves.group_labels(groups)
columns = st.columns(2)
for i, metric in enumerate(metrics):
    if grouped:
        bands = [curves.group_band(group, name, metric, weight, spread) for group, name in zip(groups, group_names)]
        figure = figures.metric_chart(metric, (), [band for band in bands if band is not None], log_y=log_y)
    else:
        lines = [curves.run_curve(record, label, metric, weight, x_axis)
                 for record, label in zip(shown, shown_labels) if any(metric in p for p in record.points)]
        figure = figures.metric_chart(metric, lines, x_axis=x_axis, log_y=log_y)
    columns[i % 2].plotly_chart(figure, key=f"runs_chart_{metric}")

st.header(t("runs.header.histograms"))
with_histograms = {run_id: record for record, run_id in zip(shown, shown_ids) if record.histograms}
if not with_histograms:
    st.info(t("runs.no_histograms"))
else:
    st.markdown(t("runs.histograms_text"))
    chosen = st.selectbox(t("runs.histogram_run"), list(with_histograms), format_func=label_of.get,
                          key="runs_histogram_run")
    record = with_histograms[chosen]
    layers = list(dict.fromkeys(layer for entry in record.histograms for layer in entry["layers"]))
    columns = st.columns(2)
    for i, layer in enumerate(layers):
        columns[i % 2].plotly_chart(figures.weight_histogram_chart(label_of[chosen], layer, record.histograms),
                                    key=f"runs_histogram_{i}")

st.header(t("runs.header.keep"))
st.markdown(t("runs.keep_text"))
left, right = st.columns(2)
left.download_button(t("runs.download_json"), lambda: files.to_json(records), file_name="runs.json",
                     mime="application/json", on_click="ignore", key="runs_json")
right.download_button(t("runs.download_csv"), lambda: files.to_csv(records), file_name="runs.csv", mime="text/csv",
                      on_click="ignore", key="runs_csv")


@st.fragment(run_every=ui.POLL_SECONDS)
def follow_repeats() -> None:
    """Submit the next seed once the previous repeat has finished; redraw the page when all have."""
    repeats: repeat.Repeats = st.session_state["runs_repeats"]
    repeats.advance(jobs.get_runner(), ui.job_session())
    if repeats.done:
        st.rerun()
    if repeats.waiting:
        st.caption(t("runs.waiting", why=repeats.waiting))
    seeds = ", ".join(map(str, repeats.submitted + repeats.seeds))
    if repeats.job_id:
        st.caption(t("runs.repeating_running", seeds=seeds, submitted=len(repeats.submitted),
                     seed=repeats.submitted[-1]))
    else:
        st.caption(t("runs.repeating", seeds=seeds, submitted=len(repeats.submitted)))


st.header(t("runs.header.repeat"))
st.markdown(t("runs.repeat_text"))
if not own:
    st.info(t("runs.only_own"))
else:
    own_ids = ids[:len(own)]
    chosen = st.selectbox(t("runs.repeat_run"), own_ids, index=len(own) - 1, format_func=label_of.get,
                          key="runs_repeat_run")
    record = own[own_ids.index(chosen)]
    problem = repeat.why_not_repeatable(record)
    if problem:
        st.caption(t("runs.cannot_repeat", why=problem))
    else:
        times = st.number_input(t("runs.times"), 1, repeat.MAX_REPEATS, 3, key="runs_repeat_times")
        seeds = repeat.other_seeds(record, int(times))
        busy = "runs_repeats" in st.session_state and not st.session_state["runs_repeats"].done
        if st.button(i18n.count("runs.repeat_button", len(seeds), seeds=", ".join(map(str, seeds))), key="runs_repeat",
                     disabled=busy, help=t("runs.repeat_help")):
            st.session_state["runs_repeats"] = repeat.Repeats(record, seeds)
if "runs_repeats" in st.session_state and not st.session_state["runs_repeats"].done:
    follow_repeats()
