"""The few Streamlit widgets the pages share: the device in the sidebar, cached shared models,
the model card, the Fashion-MNIST image input (gallery, upload, drawing) and the
fine-tuning panel that runs a job through `zoo.jobs` and draws its curves live."""
from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence

import numpy as np
import streamlit as st
import torch
from streamlit.runtime.scriptrunner import get_script_run_ctx

from zoo import checkpoints, drawing, jobs, plots, uploads
from zoo.data import fashion_mnist
from zoo.devices import describe, pick_device

IMAGE_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"]
POLL_SECONDS = 1.0  # at most twice a second (DESIGN); once a second left the 2-core job 0.58x of a bare loop instead of 0.35x


def session_id() -> str:
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx else "no-session"


@st.cache_resource(show_spinner=False)
def device_name() -> str:
    return describe(pick_device())


def show_device() -> None:
    st.sidebar.caption(f"Running on **{device_name()}**")


@st.cache_resource(show_spinner="Loading the pretrained model…")
def _load_shared(name: str) -> tuple[torch.nn.Module, dict]:
    model, card = checkpoints.load(name)
    for p in model.parameters():
        p.requires_grad_(False)  # shared by every session: nobody trains it in place
    return model, card


def shared_model(name: str) -> tuple[torch.nn.Module, dict]:
    """The shipped model, loaded once per server process; stops the page with a clear message if missing."""
    try:
        return _load_shared(name)
    except checkpoints.CheckpointError as error:
        st.error(str(error))
        st.stop()


def model_card(card: dict) -> None:
    """The card's headline figures and the whole card in an expander."""
    with st.expander(f"Model card: {card['name']} ({card['parameters']:,} parameters)"):
        st.markdown(f"Trained on **{card['dataset']}** for {card['steps']:,} steps on {card['device']} "
                    f"in {card['wall_time_s'] / 60:.0f} min. Rebuild: `{card['train_command']}`; "
                    f"re-measure: `{card['evaluate_command']}`.")
        st.json(card, expanded=False)


@st.cache_data(show_spinner=False)
def gallery() -> tuple[np.ndarray, np.ndarray]:
    sample = fashion_mnist.load_sample()
    return sample.images.numpy(), sample.labels.numpy()


def _gallery_input(key: str) -> tuple[torch.Tensor, str]:
    images, labels = gallery()
    index = st.selectbox("Example from the test set", range(len(labels)), key=f"{key}_gallery",
                         format_func=lambda i: f"{i:02d}: {fashion_mnist.CLASSES[labels[i]]}")
    return torch.from_numpy(images[index]).float().unsqueeze(0) / 255.0, f"gallery #{index} ({fashion_mnist.CLASSES[labels[index]]})"


def _upload_input(key: str) -> tuple[torch.Tensor | None, str]:
    upload = st.file_uploader("A photo or drawing of one clothing item (any size or colour)",
                              type=IMAGE_TYPES, key=f"{key}_upload")
    if upload is None:
        st.info("Upload an image to classify it; it is cropped, centred and shrunk to 28x28 like the dataset.")
        return None, ""
    try:
        return uploads.to_fashion_tensor(uploads.load_image(upload.getvalue(), upload.name)), upload.name
    except uploads.UploadError as error:
        st.error(str(error))
        return None, ""


def _drawing_input(key: str) -> tuple[torch.Tensor | None, str]:
    strokes_key = f"{key}_strokes"
    strokes = st.session_state.setdefault(strokes_key, [])
    st.caption("Pick the lasso and draw closed outlines: each is filled in white. Draw the garment's silhouette.")
    canvas = drawing.as_array(drawing.rasterize(strokes))
    event = st.plotly_chart(plots.drawing_canvas(canvas), key=f"{key}_canvas", on_select="rerun",
                            selection_mode="lasso", config={"displaylogo": False})
    new = drawing.strokes_from_selection(event.selection) if event else []
    if new and new[-1] not in strokes:
        strokes.append(new[-1])
        st.rerun()
    if st.button("Clear drawing", key=f"{key}_clear"):
        strokes.clear()
        st.rerun()
    if not strokes:
        return None, ""
    return uploads.to_fashion_tensor(drawing.rasterize(strokes)), "your drawing"


def fashion_image_input(key: str) -> tuple[torch.Tensor | None, str]:
    """Gallery, upload or drawing -> float (1, 28, 28) in [0, 1] and a caption (None if nothing yet)."""
    source = st.radio("Input", ["Gallery", "Upload", "Draw"], horizontal=True, key=f"{key}_source")
    if source == "Gallery":
        return _gallery_input(key)
    if source == "Upload":
        return _upload_input(key)
    return _drawing_input(key)


def _cancel_session_jobs(session: str) -> None:
    jobs.get_runner().cancel_session(session)


@st.cache_resource(scope="session", on_release=_cancel_session_jobs, show_spinner=False)
def _job_guard(session: str) -> str:
    """Held while the browser session lives; its release cancels the session's jobs."""
    return session


def training_panel(key: str, job: Callable[..., Iterator[dict]], job_kwargs: dict[str, Any],
                   metrics: Sequence[str] = ("loss", "accuracy"), download_name: str = "finetuned.safetensors"
                   ) -> bytes | None:
    """Start / cancel a fine-tuning job, draw its curves live, offer its weights; returns them when done."""
    runner = jobs.get_runner()
    session = session_id()
    _job_guard(session)
    job_key, result_key = f"{key}_job", f"{key}_result"
    job_id = st.session_state.get(job_key)
    status = runner.status(job_id) if job_id else None
    running = status is not None and not status.finished
    if status is not None and status.state == "done" and st.session_state.get(result_key) is None:
        st.session_state[result_key] = runner.result(job_id)
    start, cancel, _ = st.columns([1, 1, 3])
    if start.button("Start fine-tuning", key=f"{key}_start", type="primary", disabled=running):
        try:
            st.session_state[job_key] = runner.submit(session, job, **job_kwargs)
            st.session_state.pop(result_key, None)
            st.rerun()
        except jobs.JobLimitError as error:
            st.error(str(error))
    if cancel.button("Cancel", key=f"{key}_cancel", disabled=not running):
        runner.cancel(job_id)
        st.rerun()
    if job_id:
        (_live_progress if running else _final_progress)(key, job_id, metrics)
    result = st.session_state.get(result_key)
    if result is not None:
        st.download_button("Download the fine-tuned weights (.safetensors)", result, file_name=download_name,
                           mime="application/octet-stream", key=f"{key}_download")
    return result


def _progress(key: str, job_id: str, metrics: Sequence[str]) -> jobs.JobStatus:
    runner = jobs.get_runner()
    status = runner.status(job_id)
    events = runner.events(job_id)
    if status.state == "queued":
        st.info(f"Waiting for a free training slot: number {status.position} in the queue.")
    elif status.state == "running":
        steps = max((e["step"] for e in events if "step" in e), default=0)
        st.caption(f"Training… step {steps}, {status.elapsed_s:.0f} s")
    elif status.state == "done":
        st.success("Fine-tuning finished.")
    elif status.state == "cancelled":
        st.warning("Fine-tuning was cancelled.")
    else:
        st.error(status.error or f"Fine-tuning {status.state}.")
    before = next((e["accuracy_before"] for e in events if "accuracy_before" in e), None)
    after = next((e["accuracy_after"] for e in events if "accuracy_after" in e), None)
    if before is not None:
        left, right = st.columns(2)
        left.metric("Held-out accuracy before", f"{before:.1%}")
        if after is not None:
            right.metric("after", f"{after:.1%}", delta=f"{after - before:+.1%}")
    if events:
        cols = st.columns(len(metrics))
        for col, metric in zip(cols, metrics):
            col.plotly_chart(plots.curves(events, [metric], height=240), key=f"{key}_curve_{metric}")
    return status


@st.fragment(run_every=POLL_SECONDS)
def _live_progress(key: str, job_id: str, metrics: Sequence[str]) -> None:
    if _progress(key, job_id, metrics).finished:
        st.rerun()  # the whole page: it collects the result, the buttons and the download appear


def _final_progress(key: str, job_id: str, metrics: Sequence[str]) -> None:
    _progress(key, job_id, metrics)
