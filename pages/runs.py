"""Runs page: every training run of this session, overlaid, smoothed, grouped, exported and repeated, as in
TensorBoard."""
import streamlit as st

from zoo import jobs, ui, uploads
from zoo.runs import curves, figures, files, repeat

SHOWN = 20
"""the newest runs drawn at first; the older ones start hidden"""

ui.page_intro(
    "Runs",
    "Every fine-tune or live training you start on any page of the zoo is recorded here as a run: its page, "
    "checkpoint, settings, time and every metric by step. Overlay runs to compare them, smooth noisy curves, and "
    "repeat a run with other seeds to see how much of a difference between two settings is real and how much is luck.")
st.warning("Runs live in this server's memory while your browser session lasts: closing the tab, or a restart of the "
           "server, loses them, and a restart keeps nobody's runs but those they downloaded. Download yours below "
           "(section 4) to keep them.")

runner = jobs.get_runner()
session = ui.job_session()
own = runner.runs(session)
here = {record.id for record in own}

ui.view_in_url("runs_smoothing", "runs_x", "runs_y", "runs_group")
with st.expander("Compare with a runs file (yours, or a class-mate's)", expanded=not own):
    upload = st.file_uploader(f"A runs file downloaded from this page (.json or .csv, up to "
                              f"{files.MAX_FILE_BYTES / 2 ** 20:.0f} MB)", type=["json", "csv"], key="runs_upload")
    uploaded = []
    if upload is not None:
        try:
            read = ui.from_upload(upload, files.read_runs)
        except uploads.UploadError as error:
            st.error(str(error))
        else:
            uploaded = [record for record in read if record.id not in here]
            mine = len(read) - len(uploaded)
            st.success(f"{len(read)} run{'s' * (len(read) != 1)} read from {upload.name}"
                       + (f"; {mine} of them are runs of yours already here, shown once." if mine else "."))

records = own + uploaded
if not records:
    st.info("No runs yet in this session. Start one, for example a fine-tune of the CNN (section 3 of its page) or a "
            "run of the MLP playground, and come back: a run shows here while it trains.")
    st.page_link("pages/cnn.py", label="Fine-tune the CNN", icon=":material/grid_on:")
    st.stop()

st.header("1. Your runs")
labels = curves.run_labels(records)
rows = curves.table_rows(records, labels, curves.curve_metrics(records))
for row, record in zip(rows, records):
    row["from"] = "this session" if record.id in here else upload.name
st.dataframe(rows, hide_index=True, key="runs_table")
st.caption("Click a column's header to sort by it. Metrics show their last value.")
hidden = st.multiselect("Runs hidden", labels, default=labels[:-SHOWN], key="runs_hidden",
                        help=f"At first all but the newest {SHOWN} are hidden; new runs are drawn as they come.")
shown = [record for record, label in zip(records, labels) if label not in hidden]
shown_labels = [label for label in labels if label not in hidden]
metrics = curves.curve_metrics(shown)
if st.button("Refresh", key="runs_refresh", help="Runs still training add their new steps."):
    st.rerun()

st.header("2. Curves")
left, middle, right, far = st.columns(4)
weight = left.slider("Smoothing", 0.0, 0.99, 0.6, 0.01, key="runs_smoothing",
                     help="TensorBoard's: an exponential moving average, corrected at the start so the first steps "
                          "are not pulled towards zero. The raw values stay, faint.")
x_axis = middle.radio("x axis", list(curves.X_AXES), format_func=lambda key: curves.X_AXES[key][0].upper()
                      + curves.X_AXES[key][1:], key="runs_x")
log_y = right.radio("y scale", ["linear", "log"], horizontal=True, key="runs_y") == "log"
grouped = far.toggle("Group by settings", key="runs_group",
                     help="Runs that differ only by their seed form a group: its mean, with a band from its lowest to "
                          "its highest run (or one standard "
                          "deviation around the mean): a difference between groups smaller than their bands may be luck.")
spread = "min-max"
if grouped:
    spread = far.radio("Band", list(curves.SPREADS), format_func=curves.SPREADS.get, key="runs_spread")
    if x_axis != "step":
        st.caption("Groups are drawn against steps: their runs started at different times.")
if not metrics:
    st.info("The runs drawn have not reported a metric at two steps yet.")
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

st.header("3. Weights over training")
with_histograms = {label: record for record, label in zip(shown, shown_labels) if record.histograms}
if not with_histograms:
    st.info("The image classifiers' fine-tunes (MLP, CNN, ResNet pages) send a histogram of each layer's weights "
            "every time they are scored; none of the runs drawn has.")
else:
    st.markdown("The share of each layer's weights in each bin, step by step, as TensorBoard's histograms: a "
                "fine-tune at a small learning rate barely moves them; a large one spreads them.")
    chosen = st.selectbox("Run", list(with_histograms), key="runs_histogram_run")
    record = with_histograms[chosen]
    layers = list(dict.fromkeys(layer for entry in record.histograms for layer in entry["layers"]))
    columns = st.columns(2)
    for i, layer in enumerate(layers):
        columns[i % 2].plotly_chart(figures.weight_histogram_chart(chosen, layer, record.histograms),
                                    key=f"runs_histogram_{i}")

st.header("4. Keep them")
st.markdown("Download every run above: JSON keeps everything (weight histograms too) and can be uploaded here "
            "again; CSV opens in a spreadsheet, one row per run and step, and can be uploaded too.")
left, right = st.columns(2)
left.download_button("Download all runs (JSON)", lambda: files.to_json(records), file_name="runs.json",
                     mime="application/json", on_click="ignore", key="runs_json")
right.download_button("Download all runs (CSV)", lambda: files.to_csv(records), file_name="runs.csv", mime="text/csv",
                      on_click="ignore", key="runs_csv")


@st.fragment(run_every=ui.POLL_SECONDS)
def follow_repeats() -> None:
    """Submit the next seed once the previous repeat has finished; redraw the page when all have."""
    repeats: repeat.Repeats = st.session_state["runs_repeats"]
    repeats.advance(jobs.get_runner(), ui.job_session())
    if repeats.done:
        st.rerun()
    if repeats.waiting:
        st.caption(f"The next seed waits: {repeats.waiting}")
    running = f", seed {repeats.submitted[-1]} queued or running" if repeats.job_id else ""
    st.caption(f"Repeating with seeds {', '.join(map(str, repeats.submitted + repeats.seeds))}: "
               f"{len(repeats.submitted)} submitted{running}. Keep this page open until they are done; press Refresh "
               "to see their curves so far.")


st.header("5. Repeat a run with other seeds")
st.markdown("One run says little about a setting: another seed (other initial batches, another random subset) "
            "may land elsewhere. Repeat a run of yours and group the runs (section 2) to see its spread.")
if not own:
    st.info("Only runs of this session can be repeated; the runs of a file can be compared, not started again.")
else:
    own_labels = labels[:len(own)]
    chosen = st.selectbox("Run to repeat", own_labels, index=len(own) - 1, key="runs_repeat_run")
    record = own[own_labels.index(chosen)]
    problem = repeat.why_not_repeatable(record)
    if problem:
        st.caption(f"This run cannot be repeated from here. {problem}")
    else:
        times = st.number_input("Times", 1, repeat.MAX_REPEATS, 3, key="runs_repeat_times")
        seeds = repeat.other_seeds(record, int(times))
        busy = "runs_repeats" in st.session_state and not st.session_state["runs_repeats"].done
        if st.button(f"Repeat it with seed{'s' * (len(seeds) > 1)} {', '.join(map(str, seeds))}", key="runs_repeat",
                     disabled=busy, help="One run after another: each is its own job in the server's queue."):
            st.session_state["runs_repeats"] = repeat.Repeats(record, seeds)
if "runs_repeats" in st.session_state and not st.session_state["runs_repeats"].done:
    follow_repeats()
