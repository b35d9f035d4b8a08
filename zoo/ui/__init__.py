"""The few Streamlit widgets the pages share: the device in the sidebar, each page's view kept in its URL
with a link to copy, cached shared models, the model card, the Fashion-MNIST image input (gallery, upload,
drawing) and the fine-tuning panel that runs a job through `zoo.jobs` and draws its curves live."""
from __future__ import annotations

import html
import runpy
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import streamlit as st
import torch
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.typing import UploadedFile

from zoo import checkpoints, drawing, export, jobs, photos, plots, uploads
from zoo.data import fashion_mnist
from zoo.data.text import Vocab
from zoo.devices import describe, pick_device
from zoo.explain.inspection import Inspection, inspect_image
from zoo.explain.text import BATCH, MAX_CHARS, CharacterAttribution, integrated_gradients, most_steps
from zoo.jobs import deadline
from zoo.jobs.pace import not_measured
from zoo.i18n import t
from zoo.ui.language import choose_language  # noqa: F401  (the entry point calls it as ui.*)
from zoo.ui.view_links import keep_view_in_url, page_path, view_in_url  # noqa: F401  (pages call them as ui.*)

ENTRY_POINT = Path(__file__).resolve().parents[2] / "streamlit_app.py"
IMAGE_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"]
UPLOADS_KEPT = 128
"""results derived from uploads that one session keeps (a diffusion fine-tune alone takes 64 images)"""
UPLOADS_BYTES = "32MB"
"""and their most pickled bytes per session: a zip of 2,000 images as 28x28 arrays is 1.5 MB, a photo's
cleaning steps 0.4 MB"""
POLL_SECONDS = 1.0
"""how often a running job's status line is redrawn: at most twice a second (DESIGN); polling everything
once a second left the 2-core job 0.58x of a bare loop instead of 0.35x"""
FIGURES_SECONDS = 3.0
"""how often a running job's figures are redrawn: each redraw is the whole figure set, sent and replotted"""


_FRAMED = "_zoo_framed"


def navigation(pages: dict[str, list[st.Page]]) -> st.Page:
    """The pages by section as links in the sidebar, drawn by the entry point; returns the chosen page.

    Streamlit's own sidebar menu is off (`client.showSidebarNavigation = false`): on a fresh server's
    first visit it first listed every file of the `pages/` folder (its legacy mode, see `page_intro`)."""
    chosen = st.navigation(pages, position="hidden")
    for section, members in pages.items():
        if section:
            st.sidebar.caption(f"**{section}**")
        for page in members:
            st.sidebar.page_link(page, label=page.title, icon=page.icon)
    return chosen


def frame() -> None:
    """What streamlit_app.py adds around every page run: the device in the sidebar, and a mark
    that this run went through the entry point (see `page_intro`)."""
    show_device()
    st.session_state[_FRAMED] = True


def page_intro(title: str, intro: str) -> None:
    """A page's title and its short explanation; every page starts with it.

    Streamlit treats a folder named `pages/` as its legacy multipage layout until the first
    `st.navigation` call, so a fresh server's first visitor to a page's own address (and every
    AppTest run) gets that page run alone, without streamlit_app.py. Such a run hands over to the
    entry point within the same run, which keeps the visitor's click or upload, and stops there.
    """
    if not st.session_state.pop(_FRAMED, False) and PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        runpy.run_path(str(ENTRY_POINT), run_name="__main__")  # the navigation, the sidebar, this page framed
        st.stop()
    st.title(title)
    st.markdown(intro)


def session_id() -> str:
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx else "no-session"


@st.cache_resource(show_spinner=False)
def device_name() -> str:
    return describe(pick_device())


def show_device() -> None:
    st.sidebar.caption(t("app.running_on", device=device_name()))


@st.cache_resource(show_spinner="Loading the pretrained model…")
def _load_shared(name: str) -> tuple[Any, dict]:
    model, card = checkpoints.load(name)
    if isinstance(model, torch.nn.Module):  # gensim's word vectors have no parameters to freeze
        for p in model.parameters():
            p.requires_grad_(False)  # shared by every session: nobody trains it in place
    return model, card


def shared_model(name: str) -> tuple[Any, dict]:
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


def from_upload(upload: UploadedFile, derive: Callable[..., Any], *options: Any) -> Any:
    """`derive(data, name, *options)` of an uploaded file, computed once per upload and options: a rerun
    (any widget touched) reuses it, or the `uploads.UploadError` it raised, which is raised again."""
    result, problem = _derived(upload.file_id, derive.__qualname__, options, derive, upload)
    if problem is not None:
        raise uploads.UploadError(problem)
    return result


def from_uploads(files: Sequence[UploadedFile], derive: Callable[..., Any], *options: Any) -> tuple[list, list[str]]:
    """`from_upload` of each file: the results of those that could be read, and one sentence for each that could not."""
    results, problems = [], []
    for upload in files:
        try:
            results.append(from_upload(upload, derive, *options))
        except uploads.UploadError as error:
            problems.append(str(error))
    return results, problems


@st.cache_data(scope="session", max_entries=UPLOADS_KEPT, max_size=UPLOADS_BYTES, ttl="1h",
               show_spinner="Reading your upload…")
def _derived(file_id: str, derive_name: str, options: tuple, _derive: Callable[..., Any], _upload: UploadedFile
             ) -> tuple[Any, str | None]:
    """The cache behind `from_upload`, keyed by the upload's id, what is derived and the options (never the
    bytes). Session-scoped: a visitor's uploads are theirs, bounded, kept an hour at most and dropped when
    they leave; a global cache would let one visitor's uploads push out everyone else's."""
    try:
        return _derive(_upload.getvalue(), _upload.name, *options), None
    except uploads.UploadError as error:  # kept too: a bad file is not read again on every rerun
        return None, str(error)
    except MemoryError as error:  # not kept: the server may have the memory on the next try
        raise uploads.UploadError(f"{_upload.name} needs more memory than the server has free just now; "
                                  "please try again, or upload a smaller file.") from error


def _gallery_input(key: str) -> tuple[torch.Tensor, str]:
    images, labels = gallery()
    index = st.selectbox("Example from the test set", range(len(labels)), key=f"{key}_gallery",
                         format_func=lambda i: f"{i:02d}: {fashion_mnist.CLASSES[labels[i]]}")
    return torch.from_numpy(images[index]).float().unsqueeze(0) / 255.0, f"gallery #{index} ({fashion_mnist.CLASSES[labels[index]]})"


def _upload_input(key: str) -> tuple[torch.Tensor | None, str]:
    upload = st.file_uploader("A photo or drawing of one clothing item (any size or colour)",
                              type=IMAGE_TYPES, key=f"{key}_upload")
    if upload is None:
        st.info("Upload an image to classify it; the garment is found, cut out, centred and shrunk to 28x28 "
                "like the dataset's.")
        return None, ""
    try:
        squeezed, steps = from_upload(upload, photos.read_upload)
    except uploads.UploadError as error:
        st.error(str(error))
        return None, ""
    if not st.toggle("Clean up the photo", value=True, key=f"{key}_cleanup",
                     help="Find the garment, remove the background and centre it, as Fashion-MNIST's images "
                          "are; off, the whole photo is squeezed to 28x28 as it is."):
        st.caption("Cleaning is off: the model sees the whole photo squeezed to 28x28, background and all.")
        return squeezed, f"{upload.name}, not cleaned up"
    _cleaning_steps(steps, key)
    return steps.tensor(), upload.name


def _cleaning_steps(steps: photos.PhotoSteps, key: str) -> None:
    """The steps that made the upload look like Fashion-MNIST, side by side, and why each was taken."""
    pictures = steps.pictures()
    for number, (column, (title, pixels)) in enumerate(zip(st.columns(len(pictures)), pictures.items()), 1):
        column.plotly_chart(plots.image(photos.thumbnail(pixels), title, height=190), key=f"{key}_cleanup_{number}")
    st.caption(steps.explanation())


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
    return photos.to_fashion_tensor(drawing.rasterize(strokes)), "your drawing"


def fashion_image_input(key: str) -> tuple[torch.Tensor | None, str]:
    """Gallery, upload or drawing -> float (1, 28, 28) in [0, 1] and a caption (None if nothing yet)."""
    source = st.radio("Input", ["Gallery", "Upload", "Draw"], horizontal=True, key=f"{key}_source")
    if source == "Gallery":
        return _gallery_input(key)
    if source == "Upload":
        return _upload_input(key)
    return _drawing_input(key)


TYPED_TEXT_CHARS = 200_000
"""the most characters the text box holds (a long chapter; an uploaded .txt may hold ZOO_MAX_TEXT_MB): every
rerun sends the box's whole text to the server again: 18 MB typed cost 4.6 s and +250 MB a rerun (issue 20)"""


def typed_text_chars() -> int:
    """The text box's budget: TYPED_TEXT_CHARS, or less where ZOO_MAX_TEXT_MB allows an upload fewer bytes."""
    return min(TYPED_TEXT_CHARS, uploads.limits().max_text_bytes)


def text_input(key: str, label: str = "Your text", default: str = "") -> tuple[str | None, str]:
    """Typed or pasted text (up to `typed_text_chars()`; the server cuts a longer one too), or an uploaded .txt
    file -> the text and a caption (None if nothing usable yet); a bad file gets a clear message."""
    source = st.radio(label, ["Type", "Upload a .txt file"], horizontal=True, key=f"{key}_text_source")
    if source == "Type":
        limit = typed_text_chars()
        typed = st.text_area("Type or paste text", default, height=120, key=f"{key}_text", max_chars=limit)
        if len(typed) >= limit:
            st.warning(f"The box is full at its {limit:,} characters: anything past them was cut. "
                       "For a longer text, upload it as a .txt file.")
        return (typed, "your typed text") if typed.strip() else (None, "")
    limit_mb = uploads.limits().max_text_bytes / 2 ** 20
    upload = st.file_uploader(f"A plain-text file (.txt, up to {limit_mb:g} MB)", type=["txt"], key=f"{key}_text_upload")
    if upload is None:
        return None, ""
    try:
        return _uploaded_text(upload.file_id, upload.getvalue(), upload.name), upload.name
    except uploads.UploadError as error:
        st.error(str(error))
        return None, ""


@st.cache_data(max_entries=8, show_spinner=False)
def _uploaded_text(file_id: str, _data: bytes, name: str) -> str:
    """An uploaded .txt decoded and checked once per upload (`file_id`), not on every rerun."""
    return uploads.load_text(_data, name)


ATTRIBUTION_STEPS = (8, 16, 32, 64, 128, 256, 512, 1024)
"""the steps a person may pick along the integrated-gradients path: each is a forward and backward pass"""
TRUSTED_GAP = 0.05
"""attributions whose sum is further than this from the change they explain get a warning"""
_MARKDOWN_SPECIAL = set("\\`*_{}[]()<>#+-.!|~$")


def _quoted(ch: str) -> str:
    """One character to quote in Markdown: visible if blank, escaped if Markdown would read it."""
    ch = plots.VISIBLE_CHARS.get(ch, ch)
    return "\\" + ch if ch in _MARKDOWN_SPECIAL else ch


@st.cache_data(max_entries=64, show_spinner="Integrating gradients along the path from no characters to yours…")
def _attribution(name: str, prompt: str, next_char: str | None, steps: int) -> tuple[CharacterAttribution, float]:
    """`integrated_gradients` of the shared character model `name` (None: its likeliest next character), and the
    milliseconds it took."""
    model, card = _load_shared(name)
    vocab = Vocab(card["vocab"])
    target = None if next_char is None else vocab.chars.index(next_char)
    start = time.perf_counter()
    found = integrated_gradients(model, vocab.encode(prompt), target, steps)
    return found, 1000 * (time.perf_counter() - start)


def why_this_character(name: str, prompt: str, key: str) -> None:
    """The character pages' section "Which characters made it say that?": the next character (the likeliest, or
    one the person types), each prompt character coloured by its integrated-gradients attribution, the
    completeness check and the cost."""
    _, card = shared_model(name)
    vocab = Vocab(card["vocab"])
    st.subheader("Which characters made it say that?")
    st.markdown("Integrated gradients (Sundararajan et al. 2017) slide every character's vector from zero, *no "
                "character*, to its own in small steps, and add up how the log-probability of the next character "
                "changes on the way. Each character gets the nats it added (red) or took away (blue); together they "
                "make up the whole change from no characters to your prompt, which the check below measures.")
    left, right = st.columns([1, 2])
    typed = left.text_input("Next character (empty: the likeliest)", key=f"{key}_why_next", max_chars=1,
                            help="One character of the model's alphabet: which earlier characters made it likely?")
    steps = right.select_slider("Steps along the path", ATTRIBUTION_STEPS, value=32, key=f"{key}_why_steps",
                                help="More steps: attributions that add up more exactly, and a longer wait.")
    if typed and typed not in vocab.chars[1:]:
        st.error(f"“{_quoted(typed)}” is not among the {len(vocab) - 1} characters this model knows, so it can never "
                 "come next: type another.")
        return
    if steps > most_steps(len(prompt)):
        st.warning(f"{steps:,} steps over {min(len(prompt), MAX_CHARS)} characters would keep the server busy too "
                   f"long: pick at most {most_steps(len(prompt)):,} steps for a prompt this long.")
        return
    found, ms = _attribution(name, prompt, typed or None, steps)
    chars, target = vocab.decode(found.ids), vocab.chars[found.target]
    which = "" if typed else ", its likeliest"
    st.markdown(f"After your prompt the model gives “{_quoted(target)}” a probability of **{found.probability:.1%}**"
                f"{which} (log-probability {found.log_prob:.2f} nats; with no characters, {found.baseline_log_prob:.2f}).")
    if found.cut:
        st.caption(f"Only the last {MAX_CHARS} characters are attributed: the first {found.cut:,} are left out, and "
                   "the model reads only these here.")
    title = f"What each character added to the log-probability of “{html.escape(plots.VISIBLE_CHARS.get(target, target))}” next"
    st.plotly_chart(plots.coloured_text(chars, found.attributions.numpy(), title=title, unit="nats"),
                    key=f"{key}_why_chart")
    total = float(found.attributions.sum())
    st.caption(f"**Completeness:** the attributions add up to {total:+.3f} nats, and log p with your prompt minus log p "
               f"with no characters is {found.log_prob - found.baseline_log_prob:+.3f}: {found.relative_gap:.1%} apart "
               f"with {steps} steps.")
    if found.relative_gap > TRUSTED_GAP:
        st.warning("The attributions do not add up, so do not trust these colours: along the path from no characters "
                   "this model's prediction jumps (a recurrent state can amplify a small change character after "
                   "character), and the gradients at the steps taken miss it. More steps or a shorter prompt help.")
    st.caption(f"**Cost:** {steps} forward and backward passes over {len(chars)} characters, {BATCH} at a time, and "
               f"one forward pass for the two ends: {ms:,.0f} ms on this server.")


def _first_layer_filters(model: torch.nn.Module) -> np.ndarray | None:
    """The (K, kh, kw) kernels of the first convolution that reads the greyscale image, if any."""
    conv = next((m for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.in_channels == 1), None)
    return None if conv is None else conv.weight.detach().cpu().numpy()[:, 0]


def classifier_views(model: torch.nn.Module, card: dict, image: torch.Tensor, caption: str, key: str,
                     layer_label: str = "Conv layer") -> Inspection:
    """A Fashion-MNIST classifier's prediction for one image and the "Inside the model" section:
    saliency, Grad-CAM, feature maps per layer (`layer_label` names them), first-layer filters
    and the card's confusion matrix. Shared by the image classifier pages."""
    seen = image[0].numpy()
    look = inspect_image(model, image)
    top = int(np.argmax(look.probs))
    left, right = st.columns([1, 2])
    with left:
        st.plotly_chart(plots.image(seen, "What the model sees (28x28)"), key=f"{key}_seen")
        st.caption(caption)
    with right:
        st.subheader(f"{fashion_mnist.CLASSES[top]} · {look.probs[top]:.1%}")
        st.plotly_chart(plots.probability_bars(look.probs, fashion_mnist.CLASSES, title="The five likeliest classes",
                                               top=5), key=f"{key}_probs")

    st.header("2. Inside the model")
    st.markdown("**Where it looks.** Saliency is how much each pixel would change the winning score; "
                "Grad-CAM weighs the last layer's feature maps by their gradient.")
    a, b = st.columns(2)
    a.plotly_chart(plots.overlay(seen, look.saliency, "Saliency"), key=f"{key}_saliency")
    if look.grad_cam is not None:
        b.plotly_chart(plots.overlay(seen, look.grad_cam, f"Grad-CAM (last {layer_label.lower()})"), key=f"{key}_gradcam")

    if look.feature_maps:
        layer = st.select_slider(layer_label, options=list(range(1, len(look.feature_maps) + 1)), value=1,
                                 key=f"{key}_layer")
        maps = look.feature_maps[layer - 1]
        shown = min(32, maps.shape[0])  # four rows of eight stay readable
        which = (f"all {shown} channels" if shown == maps.shape[0]
                 else f"the first {shown} of its {maps.shape[0]} channels")
        st.markdown(f"**Feature maps of {layer_label.lower()} {layer}**, {which}, each {maps.shape[1]}x"
                    f"{maps.shape[2]}: bright where the channel's filter matches this input.")
        st.plotly_chart(plots.image_grid(maps[:shown], title=f"{layer_label} {layer}: " + (
            f"the first {shown} of {maps.shape[0]} feature maps" if shown < maps.shape[0] else f"its {shown} feature maps"),
            cols=8), key=f"{key}_maps")
        filters = _first_layer_filters(model)
        if layer == 1 and filters is not None:
            st.markdown("**The learned 3x3 filters of the first layer** (red positive, blue negative weights).")
            st.plotly_chart(plots.image_grid(filters, title="First-layer filters (red positive, blue negative)", cols=16,
                                             height_per_row=70, symmetric=True, gap=0.02), key=f"{key}_filters")

    metrics = card["metrics"]
    if "confusion" in metrics:
        st.markdown("**Where it is wrong.** The confusion matrix on the 10,000 test images, as measured for the card: "
                    "shirts, T-shirts, pullovers and coats are the hard cases.")
        st.plotly_chart(plots.confusion(np.array(metrics["confusion"]), fashion_mnist.CLASSES,
                                        title="Confusion matrix on the 10,000 test images"), key=f"{key}_confusion")
    return look


def _cancel_session_jobs(session: str) -> None:
    jobs.get_runner().cancel_session(session)


@st.cache_resource(scope="session", on_release=_cancel_session_jobs, show_spinner=False)
def _job_guard(session: str) -> str:
    """Held while the browser session lives; its release cancels the session's jobs."""
    return session


def job_session() -> str:
    """The session id to submit jobs under; its jobs are cancelled when the browser session ends."""
    return _job_guard(session_id())


def training_panel(key: str, job: Callable[..., Iterator[dict]], job_kwargs: dict[str, Any],
                   metrics: Sequence[str] = ("loss", "accuracy"), download_name: str | None = "finetuned.safetensors",
                   draw: Callable[[list[dict]], None] | None = None, label: str = "fine-tuning") -> Any:
    """Start / cancel a training job, draw its curves live, offer its weights; returns its result when done.

    Before a run it says how long a run of `job_kwargs["steps"]` steps will take, from the pace of
    this job's latest run on this server, and whether it fits the time limit (one that does not stops early
    and keeps what it has learned). `draw(events)`, if given, draws the figures instead of one curve
    per metric (it runs inside the live fragment, so its chart keys must be fixed); `label` names the
    job on the buttons and messages; `download_name=None` offers no download (for jobs whose result is not weights).
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
    if start.button(f"Start {label}", key=f"{key}_start", type="primary", disabled=running):
        try:
            st.session_state[job_key] = runner.submit(session, job, page_path() or key, **job_kwargs)
            st.session_state.pop(run_key, None)
            st.session_state.pop(result_key, None)
            st.rerun()
        except jobs.JobLimitError as error:
            st.error(str(error))
    if cancel.button("Cancel", key=f"{key}_cancel", disabled=not running):
        runner.cancel(job_id)
        st.rerun()
    _script_download(script, key, job, job_kwargs, download_name)
    if not running:
        pace = runner.pace(job)
        if pace is None:
            st.caption(not_measured(runner.job_seconds, label))
        else:
            steps = job_kwargs.get("steps", pace.total or pace.steps)
            st.caption(pace.estimate(job_kwargs, steps, runner.job_seconds, label))
    if running:
        _live_status(job_id, label)
        _live_figures(key, job_id, metrics, draw, label)
    elif run_key in st.session_state:
        status, events = st.session_state[run_key]
        _status(status, events, label)
        _figures(key, events, metrics, draw, label)
    result = st.session_state.get(result_key)
    if isinstance(result, bytes) and download_name:
        st.download_button("Download the fine-tuned weights (.safetensors)", result, file_name=download_name,
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
    saves = " and saves the weights" if download_name else ""
    column.download_button("Download as a Python script", run.data, file_name=run.file_name, mime=run.mime,
                           on_click="ignore", key=f"{key}_script",
                           help=f"One file that repeats this run outside the zoo with these settings: it prints the "
                                f"same numbers{saves}. Its first lines say how to run it.")


def _collect(runner: jobs.JobRunner, key: str, job_id: str) -> None:
    """Keep what the panel needs to redraw a finished run (its status and events) and its result in the
    session, and let the runner drop them."""
    st.session_state[f"{key}_run"] = (runner.status(job_id), runner.events(job_id))
    st.session_state[f"{key}_result"] = runner.result(job_id)
    runner.release(job_id)


def _status(status: jobs.JobStatus, events: list[dict], label: str = "fine-tuning") -> None:
    """Where the run stands, in a sentence."""
    stopped_early = next((e[deadline.STOPPED_EARLY] for e in events if deadline.STOPPED_EARLY in e), None)
    if status.state == "queued":
        st.info(f"Waiting for a free training slot: number {status.position} in the queue.")
    elif status.state == "running" and stopped_early:
        st.caption(f"{stopped_early} Measuring the result… {status.elapsed_s:.0f} s")
    elif status.state == "running":
        steps = max((e["step"] for e in events if "step" in e), default=0)
        st.caption(f"Training… step {steps}, {status.elapsed_s:.0f} s of the {jobs.get_runner().job_seconds:g} s "
                   "time limit")
    elif status.state == "done" and stopped_early:
        st.warning(f"{label.capitalize()} finished early. {stopped_early} What you see below is what it "
                   "had learned by then.")
    elif status.state == "done":
        st.success(f"{label.capitalize()} finished.")
    elif status.state == "cancelled":
        st.warning(f"{label.capitalize()} was cancelled.")
    elif status.state == "expired":
        st.info(status.error)
    else:
        st.error(status.error or f"{label.capitalize()} {status.state}.")


def _figures(key: str, events: list[dict], metrics: Sequence[str], draw: Callable[[list[dict]], None] | None = None,
             label: str = "fine-tuning") -> None:
    """The run's accuracy before and after, if it reports them, and its figures."""
    before = next((e["accuracy_before"] for e in events if "accuracy_before" in e), None)
    after = next((e["accuracy_after"] for e in events if "accuracy_after" in e), None)
    if before is not None:
        left, right = st.columns(2)
        left.metric("Held-out accuracy before", f"{before:.1%}")
        if after is not None:
            right.metric("after", f"{after:.1%}", delta=f"{after - before:+.1%}")
    if events and draw is not None:
        draw(events)
    elif events:
        cols = st.columns(len(metrics))
        for col, metric in zip(cols, metrics):
            col.plotly_chart(plots.curves(events, [metric], title=f"{plots.metric(metric).name.capitalize()} while {label}",
                                          height=240), key=f"{key}_curve_{metric}")


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
