"""The training panel every page with a job shares: Start and Cancel, how long a run will take, its curves
drawn live while it runs in `zoo.jobs`, its weights and its script (`zoo.export`) to download; and the session
a job runs under, whose jobs end with the browser session."""
from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from zoo import export, i18n, jobs, plots
from zoo.i18n import t
from zoo.jobs import deadline
from zoo.jobs.pace import not_measured
from zoo.ui.view_links import page_path

POLL_SECONDS = 1.0
"""how often a running job's status line is redrawn: at most twice a second (DESIGN); polling everything
once a second left the 2-core job 0.58x of a bare loop instead of 0.35x"""
FIGURES_SECONDS = 3.0
"""how often a running job's figures are redrawn: each redraw is the whole figure set, sent and replotted"""



def session_id() -> str:
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx else "no-session"


def _cancel_session_jobs(session: str) -> None:
    jobs.get_runner().cancel_session(session)


@st.cache_resource(scope="session", on_release=_cancel_session_jobs, show_spinner=False)
def _job_guard(session: str) -> str:
    """Held while the browser session lives; its release cancels the session's jobs."""
    return session


def job_session() -> str:
    """The session id to submit jobs under; its jobs are cancelled when the browser session ends."""
    return _job_guard(session_id())


JOB_LABELS = {"fine-tuning": "fine_tuning", "training": "training", "forecast training": "forecast_training",
              "comparison": "comparison", "measurement": "measurement", "transfer": "transfer"}
"""the labels a page may give `training_panel` (or their names in the reader's language): each is named in the
reader's language under ui.job.*"""


def _job_name(label: str, capital: bool = False) -> str:
    """The job's name in the reader's language ("fine-tuning" -> "дообучение"); a label it does not know as it is."""
    code = i18n.code_of(label, JOB_LABELS, "ui.job.{}.name")
    name = t(f"ui.job.{code}.name") if code else label
    return name[:1].upper() + name[1:] if capital else name


def _job_during(label: str) -> str:
    """"while fine-tuning", in the reader's language, for a chart's title."""
    code = i18n.code_of(label, JOB_LABELS, "ui.job.{}.name")
    return t(f"ui.job.{code}.during") if code else t("ui.job.during_other", job=label)


def training_panel(key: str, job: Callable[..., Iterator[dict]], job_kwargs: dict[str, Any],
                   metrics: Sequence[str] = ("loss", "accuracy"), download_name: str | None = "finetuned.safetensors",
                   draw: Callable[[list[dict]], None] | None = None, label: str = "fine-tuning") -> Any:
    """Start / cancel a training job, draw its curves live, offer its weights; returns its result when done.

    Before a run it says how long a run of `job_kwargs["steps"]` steps will take, from the pace of
    this job's latest run on this server, and whether it fits the time limit (one that does not stops early
    and keeps what it has learned). `draw(events)`, if given, draws the figures instead of one curve
    per metric (it runs inside the live fragment, so its chart keys must be fixed); `label` names the
    job on the buttons and messages (one of JOB_LABELS, which the panel translates); `download_name=None` offers no download (for jobs whose result is not weights).
    Beside the buttons, the run as a Python script that repeats it outside the app (`zoo.export`).
    A finished run's status, events and result move into the session (`{key}_run`, `{key}_result`) and the
    runner forgets them; a run the runner no longer knows ends with a sentence, and Start is free again.
    The runner records the run under this page (`page_path`) among the session's runs, for the Runs page.
    """
    runner = jobs.get_runner()
    session = job_session()
    job_key, run_key, result_key = f"{key}_job", f"{key}_run", f"{key}_result"
    job_id = st.session_state.get(job_key)
    if job_id and run_key not in st.session_state and runner.status(job_id).finished:
        _collect(runner, key, job_id)
    running = job_id is not None and run_key not in st.session_state
    start, cancel, script, _ = st.columns([1, 1, 1.4, 1.6])
    if start.button(t("ui.panel.start", job=_job_name(label)), key=f"{key}_start", type="primary", disabled=running):
        try:
            st.session_state[job_key] = runner.submit(session, job, page_path() or key, **job_kwargs)
            st.session_state.pop(run_key, None)
            st.session_state.pop(result_key, None)
            st.rerun()
        except jobs.JobLimitError as error:
            st.error(str(error))
    if cancel.button(t("ui.panel.cancel"), key=f"{key}_cancel", disabled=not running):
        runner.cancel(job_id)
        st.rerun()
    _script_download(script, key, job, job_kwargs, download_name)
    if not running:
        pace = runner.pace(job)
        if pace is None:
            st.caption(not_measured(runner.job_seconds, _job_name(label)))
        else:
            steps = job_kwargs.get("steps", pace.total or pace.steps)
            st.caption(pace.estimate(job_kwargs, steps, runner.job_seconds, _job_name(label)))
    if running:
        _live_status(job_id, label)
        _live_figures(key, job_id, metrics, draw, label)
    elif run_key in st.session_state:
        status, events = st.session_state[run_key]
        _status(status, events, label)
        _figures(key, events, metrics, draw, label)
    result = st.session_state.get(result_key)
    if isinstance(result, bytes) and download_name:
        st.download_button(t("ui.panel.download_weights"), result, file_name=download_name,
                           mime="application/octet-stream", key=f"{key}_download")
    return result


def _script_download(column: Any, key: str, job: Callable[..., Iterator[dict]], job_kwargs: dict[str, Any],
                     download_name: str | None) -> None:
    """A button that downloads the run with the current settings as a Python script (a zip when it needs sidecar
    files), written only when clicked; or, for a run that cannot be written, the sentence why."""
    stem = download_name.removesuffix(".safetensors") if download_name else key
    try:
        run = export.export_run(job, job_kwargs, page_path() or key, stem, download_name)
    except export.NotExportable as reason:
        st.caption(str(reason))
        return
    column.download_button(t("ui.panel.script"), run.data, file_name=run.file_name, mime=run.mime,
                           on_click="ignore", key=f"{key}_script",
                           help=t("ui.panel.script_help_weights" if download_name else "ui.panel.script_help"))


def _collect(runner: jobs.JobRunner, key: str, job_id: str) -> None:
    """Keep what the panel needs to redraw a finished run (its status and events) and its result in the
    session, and let the runner drop them."""
    st.session_state[f"{key}_run"] = (runner.status(job_id), runner.events(job_id))
    st.session_state[f"{key}_result"] = runner.result(job_id)
    runner.release(job_id)


def _status(status: jobs.JobStatus, events: list[dict], label: str = "fine-tuning") -> None:
    """Where the run stands, in a sentence."""
    stopped_early = next((e[deadline.STOPPED_EARLY] for e in events if deadline.STOPPED_EARLY in e), None)
    job = _job_name(label, capital=True)
    if status.state == "queued":
        st.info(t("ui.panel.queued", position=status.position))
    elif status.state == "running" and stopped_early:
        st.caption(t("ui.panel.measuring", stopped=stopped_early, elapsed=status.elapsed_s))
    elif status.state == "running":
        steps = max((e["step"] for e in events if "step" in e), default=0)
        st.caption(t("ui.panel.running", step=steps, elapsed=status.elapsed_s, limit=jobs.get_runner().job_seconds))
    elif status.state == "done" and stopped_early:
        st.warning(t("ui.panel.finished_early", job=job, stopped=stopped_early))
    elif status.state == "done":
        st.success(t("ui.panel.finished", job=job))
    elif status.state == "cancelled":
        st.warning(t("ui.panel.cancelled", job=job))
    elif status.state == "expired":
        st.info(status.error)
    else:
        st.error(status.error or t("ui.panel.timed_out" if status.state == "timed_out" else "ui.panel.failed", job=job))


def _figures(key: str, events: list[dict], metrics: Sequence[str], draw: Callable[[list[dict]], None] | None = None,
             label: str = "fine-tuning") -> None:
    """The run's accuracy before and after, if it reports them, and its figures."""
    before = next((e["accuracy_before"] for e in events if "accuracy_before" in e), None)
    after = next((e["accuracy_after"] for e in events if "accuracy_after" in e), None)
    if before is not None:
        left, right = st.columns(2)
        left.metric(t("ui.panel.before"), i18n.number(before, ".1%"))
        if after is not None:
            right.metric(t("ui.panel.after"), i18n.number(after, ".1%"), delta=i18n.number(after - before, "+.1%"))
    if events and draw is not None:
        draw(events)
    elif events:
        cols = st.columns(len(metrics))
        for col, metric in zip(cols, metrics):
            title = t("ui.panel.curve_title", metric=plots.metric(metric).name, during=_job_during(label))
            col.plotly_chart(plots.curves(events, [metric], title=title[:1].upper() + title[1:], height=240),
                             key=f"{key}_curve_{metric}")


@st.fragment(run_every=POLL_SECONDS)
def _live_status(job_id: str, label: str = "fine-tuning") -> None:
    """A running job's status line, redrawn often and cheaply; the whole page reruns once the job ends."""
    runner = jobs.get_runner()
    status = runner.status(job_id)
    _status(status, runner.events(job_id), label)
    if status.finished:
        st.rerun()  # the whole page: it collects the run, the buttons and the download appear


@st.fragment(run_every=FIGURES_SECONDS)
def _live_figures(key: str, job_id: str, metrics: Sequence[str], draw: Callable[[list[dict]], None] | None = None,
                  label: str = "fine-tuning") -> None:
    """A running job's figures, redrawn less often than its status line: sent and replotted whole every
    second, they were most of what watching a CNN fine-tune cost (tests/bench/bench_live_views.py)."""
    _figures(key, jobs.get_runner().events(job_id), metrics, draw, label)
