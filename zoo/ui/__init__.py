"""The few Streamlit widgets the pages share: the device in the sidebar, each page's view kept in its URL
with a link to copy, cached shared models, the model card, the Fashion-MNIST image input (gallery, upload,
drawing) and the training panel (training.py); every word
in the reader's language (zoo/i18n/ui.toml), choices kept as codes so that a language switch keeps them."""
from __future__ import annotations

import html
import re
import runpy
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import streamlit as st
import torch
from streamlit.runtime.pages_manager import PagesManager
from streamlit.typing import UploadedFile

from zoo import checkpoints, drawing, i18n, photos, plots, uploads
from zoo.data import fashion_mnist
from zoo.data.text import Vocab
from zoo.devices import describe, pick_device
from zoo.explain.inspection import Inspection, inspect_image
from zoo.explain.text import BATCH, MAX_CHARS, CharacterAttribution, integrated_gradients, most_steps
from zoo.i18n import t
from zoo.ui.language import choose_language  # noqa: F401  (the entry point calls it as ui.*)
from zoo.ui.training import POLL_SECONDS, job_session, training_panel  # noqa: F401  (pages call them as ui.*)
from zoo.ui.view_links import keep_view_in_url, page_path, view_in_url  # noqa: F401  (pages call them as ui.*)

ENTRY_POINT = Path(__file__).resolve().parents[2] / "streamlit_app.py"
IMAGE_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"]
UPLOADS_KEPT = 128
"""results derived from uploads that one session keeps (a diffusion fine-tune alone takes 64 images)"""
UPLOADS_BYTES = "32MB"
"""and their most pickled bytes per session: a zip of 2,000 images as 28x28 arrays is 1.5 MB, a photo's
cleaning steps 0.4 MB"""
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


@st.cache_resource(show_spinner=False)
def device_name() -> str:
    return describe(pick_device())


def show_device() -> None:
    st.sidebar.caption(t("app.running_on", device=device_label(device_name())))


_CPU = re.compile(r"CPU \((?:(?P<library>[^,()]+), )?(?P<threads>\d+) threads?\)")


def device_label(device: str) -> str:
    """A device as `zoo.devices.describe` names it ("CPU (2 threads)", "CPU (gensim, 1 thread)", a card's
    "device"), in the reader's language; a GPU's name stays as it is."""
    found = _CPU.fullmatch(device)
    if found is None:
        return device
    threads, library = int(found["threads"]), found["library"]
    number = "one" if threads == 1 else "other"
    if library:
        return t(f"ui.device.cpu_with_{number}", library=library, threads=threads)
    return t(f"ui.device.cpu_{number}", threads=threads)


@st.cache_resource(show_spinner=False)
def _load_shared(name: str) -> tuple[Any, dict]:
    model, card = checkpoints.load(name)
    if isinstance(model, torch.nn.Module):  # gensim's word vectors have no parameters to freeze
        for p in model.parameters():
            p.requires_grad_(False)  # shared by every session: nobody trains it in place
    return model, card


def shared_model(name: str) -> tuple[Any, dict]:
    """The shipped model, loaded once per server process; stops the page with a clear message if missing."""
    try:
        with st.spinner(t("ui.loading_model")):
            return _load_shared(name)
    except checkpoints.CheckpointError as error:
        st.error(str(error))
        st.stop()


def model_card(card: dict) -> None:
    """The card's headline figures and the whole card in an expander."""
    with st.expander(t("ui.card.title", name=card["name"], parameters=card["parameters"])):
        st.markdown(t("ui.card.trained", dataset=card["dataset"], steps=i18n.count("jobs.steps", card["steps"]),
                      device=device_label(card["device"]), minutes=card["wall_time_s"] / 60,
                      train_command=card["train_command"], evaluate_command=card["evaluate_command"]))
        st.json(card, expanded=False)


@st.cache_data(show_spinner=False)
def gallery() -> tuple[np.ndarray, np.ndarray]:
    sample = fashion_mnist.load_sample()
    return sample.images.numpy(), sample.labels.numpy()


def from_upload(upload: UploadedFile, derive: Callable[..., Any], *options: Any) -> Any:
    """`derive(data, name, *options)` of an uploaded file, computed once per upload and options: a rerun
    (any widget touched) reuses it, or the `uploads.UploadError` it raised, which is raised again."""
    with st.spinner(t("ui.upload.reading")):
        result, problem = _derived(upload.file_id, derive.__qualname__, options, i18n.language(), derive, upload)
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
               show_spinner=False)
def _derived(file_id: str, derive_name: str, options: tuple, language: str, _derive: Callable[..., Any],
             _upload: UploadedFile) -> tuple[Any, str | None]:
    """The cache behind `from_upload`, keyed by the upload's id, what is derived, the options (never the
    bytes) and the reader's language (a bad file's sentence is kept in it). Session-scoped: a visitor's uploads are theirs, bounded, kept an hour at most and dropped when
    they leave; a global cache would let one visitor's uploads push out everyone else's."""
    try:
        return _derive(_upload.getvalue(), _upload.name, *options), None
    except uploads.UploadError as error:  # kept too: a bad file is not read again on every rerun
        return None, str(error)
    except MemoryError as error:  # not kept: the server may have the memory on the next try
        raise uploads.UploadError(t("ui.upload.no_memory", name=_upload.name)) from error


def _gallery_input(key: str) -> tuple[torch.Tensor, str]:
    images, labels = gallery()
    names = fashion_mnist.class_names()
    index = st.selectbox(t("ui.gallery.label"), range(len(labels)), key=f"{key}_gallery",
                         format_func=i18n.as_drawn(lambda i: t("ui.gallery.option", index=i, name=names[labels[i]])))
    return (torch.from_numpy(images[index]).float().unsqueeze(0) / 255.0,
            t("ui.gallery.caption", index=index, name=names[labels[index]]))


def _upload_input(key: str) -> tuple[torch.Tensor | None, str]:
    upload = st.file_uploader(t("ui.upload.label"), type=IMAGE_TYPES, key=f"{key}_upload")
    if upload is None:
        st.info(t("ui.upload.prompt"))
        return None, ""
    try:
        squeezed, steps = from_upload(upload, photos.read_upload)
    except uploads.UploadError as error:
        st.error(str(error))
        return None, ""
    if not st.toggle(t("ui.upload.cleanup"), value=True, key=f"{key}_cleanup", help=t("ui.upload.cleanup_help")):
        st.caption(t("ui.upload.cleanup_off"))
        return squeezed, t("ui.upload.not_cleaned", name=upload.name)
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
    st.caption(t("ui.drawing.how"))
    canvas = drawing.as_array(drawing.rasterize(strokes))
    event = st.plotly_chart(plots.drawing_canvas(canvas), key=f"{key}_canvas", on_select="rerun",
                            selection_mode="lasso", config={"displaylogo": False})
    new = drawing.strokes_from_selection(event.selection) if event else []
    if new and new[-1] not in strokes:
        strokes.append(new[-1])
        st.rerun()
    if st.button(t("ui.drawing.clear"), key=f"{key}_clear"):
        strokes.clear()
        st.rerun()
    if not strokes:
        return None, ""
    return photos.to_fashion_tensor(drawing.rasterize(strokes)), t("ui.drawing.caption")


def fashion_image_input(key: str) -> tuple[torch.Tensor | None, str]:
    """Gallery, upload or drawing -> float (1, 28, 28) in [0, 1] and a caption (None if nothing yet)."""
    source = st.radio(t("ui.input.label"), ["Gallery", "Upload", "Draw"], horizontal=True, key=f"{key}_source",
                      format_func=i18n.as_drawn(lambda code: t(f"ui.input.{code.lower()}")))
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


TEXT_SOURCES = {"Type": "ui.text.type", "Upload a .txt file": "ui.text.upload"}
"""the text box's sources: the radio's codes (kept as they were, for links and tests) and their labels' keys"""


def text_input(key: str, label: str | None = None, default: str = "") -> tuple[str | None, str]:
    """Typed or pasted text (up to `typed_text_chars()`; the server cuts a longer one too), or an uploaded .txt
    file -> the text and a caption (None if nothing usable yet); a bad file gets a clear message. `label` (the
    page's, translated) names the choice; by default "Your text"."""
    source = st.radio(label or t("ui.text.label"), list(TEXT_SOURCES), horizontal=True, key=f"{key}_text_source",
                      format_func=i18n.as_drawn(lambda code: t(TEXT_SOURCES[code])))
    if source == "Type":
        limit = typed_text_chars()
        typed = st.text_area(t("ui.text.area"), default, height=120, key=f"{key}_text", max_chars=limit)
        if len(typed) >= limit:
            st.warning(t("ui.text.full", limit=limit))
        return (typed, t("ui.text.typed")) if typed.strip() else (None, "")
    limit_mb = uploads.limits().max_text_bytes / 2 ** 20
    upload = st.file_uploader(t("ui.text.file", limit_mb=limit_mb), type=["txt"], key=f"{key}_text_upload")
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


@st.cache_data(max_entries=64, show_spinner=False)
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
    st.subheader(t("ui.why.title"))
    st.markdown(t("ui.why.intro"))
    left, right = st.columns([1, 2])
    typed = left.text_input(t("ui.why.next"), key=f"{key}_why_next", max_chars=1, help=t("ui.why.next_help"))
    steps = right.select_slider(t("ui.why.steps"), ATTRIBUTION_STEPS, value=32, key=f"{key}_why_steps",
                                help=t("ui.why.steps_help"))
    if typed and typed not in vocab.chars[1:]:
        st.error(t("ui.why.unknown", char=_quoted(typed), n=len(vocab) - 1))
        return
    if steps > most_steps(len(prompt)):
        st.warning(t("ui.why.too_long", steps=i18n.count("jobs.steps", steps), chars=min(len(prompt), MAX_CHARS),
                     most=most_steps(len(prompt))))
        return
    with st.spinner(t("ui.why.computing")):
        found, ms = _attribution(name, prompt, typed or None, steps)
    chars, target = vocab.decode(found.ids), vocab.chars[found.target]
    st.markdown(t("ui.why.probability" if typed else "ui.why.probability_likeliest", char=_quoted(target),
                  probability=found.probability, log_prob=found.log_prob, baseline=found.baseline_log_prob))
    if found.cut:
        st.caption(t("ui.why.cut", most=MAX_CHARS, cut=found.cut))
    title = t("ui.why.chart", char=html.escape(plots.VISIBLE_CHARS.get(target, target)))
    st.plotly_chart(plots.coloured_text(chars, found.attributions.numpy(), title=title, unit=t("ui.why.nats")),
                    key=f"{key}_why_chart")
    total = float(found.attributions.sum())
    st.caption(t("ui.why.completeness", total=total, change=found.log_prob - found.baseline_log_prob,
                 gap=found.relative_gap, steps=steps))
    if found.relative_gap > TRUSTED_GAP:
        st.warning(t("ui.why.untrusted"))
    st.caption(t("ui.why.cost", passes=i18n.count("ui.why.passes", steps), chars=len(chars), batch=BATCH, ms=ms))


def _first_layer_filters(model: torch.nn.Module) -> np.ndarray | None:
    """The (K, kh, kw) kernels of the first convolution that reads the greyscale image, if any."""
    conv = next((m for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.in_channels == 1), None)
    return None if conv is None else conv.weight.detach().cpu().numpy()[:, 0]


LAYER_LABELS = {"Conv layer": "conv", "Stage": "stage"}
"""the layer labels a page may give `classifier_views` (or their names in the reader's language), each named
under ui.layer.*"""


def _layer_words(layer_label: str, layer: int = 0) -> dict[str, str]:
    """A layer label's words for the sentences of `classifier_views`: its name, "{label} {layer}" as a title and
    as what feature maps are "of", and "the last ..." for Grad-CAM; a label it does not know is used as it is."""
    code = i18n.code_of(layer_label, LAYER_LABELS, "ui.layer.{}.name")
    if code is None:
        return dict(name=layer_label, at=f"{layer_label} {layer}", of=f"{layer_label} {layer}", last=layer_label)
    return {form: t(f"ui.layer.{code}.{form}", layer=layer) for form in ("name", "at", "of", "last")}


def classifier_views(model: torch.nn.Module, card: dict, image: torch.Tensor, caption: str, key: str,
                     layer_label: str = "Conv layer") -> Inspection:
    """A Fashion-MNIST classifier's prediction for one image and the "Inside the model" section:
    saliency, Grad-CAM, feature maps per layer (`layer_label` names them: "Conv layer" or "Stage", see
    LAYER_LABELS), first-layer filters and the card's confusion matrix. Shared by the image classifier pages."""
    seen = image[0].numpy()
    look = inspect_image(model, image)
    top = int(np.argmax(look.probs))
    names = fashion_mnist.class_names()
    left, right = st.columns([1, 2])
    with left:
        st.plotly_chart(plots.image(seen, t("ui.views.seen")), key=f"{key}_seen")
        st.caption(caption)
    with right:
        st.subheader(t("ui.views.top", name=names[top], probability=float(look.probs[top])))
        st.plotly_chart(plots.probability_bars(look.probs, names, title=t("ui.views.likeliest"), top=5),
                        key=f"{key}_probs")

    st.header(t("ui.views.inside"))
    st.markdown(t("ui.views.where"))
    a, b = st.columns(2)
    a.plotly_chart(plots.overlay(seen, look.saliency, t("ui.views.saliency")), key=f"{key}_saliency")
    if look.grad_cam is not None:
        b.plotly_chart(plots.overlay(seen, look.grad_cam, t("ui.views.gradcam", last=_layer_words(layer_label)["last"])),
                       key=f"{key}_gradcam")

    if look.feature_maps:
        layer = st.select_slider(_layer_words(layer_label)["name"], options=list(range(1, len(look.feature_maps) + 1)),
                                 value=1, key=f"{key}_layer")
        words = _layer_words(layer_label, layer)
        maps = look.feature_maps[layer - 1]
        shown = min(32, maps.shape[0])  # four rows of eight stay readable
        which = "all" if shown == maps.shape[0] else "some"
        sizes = dict(shown=shown, total=maps.shape[0])
        st.markdown(t(f"ui.views.maps_{which}", of_layer=words["of"], h=maps.shape[1], w=maps.shape[2], **sizes))
        st.plotly_chart(plots.image_grid(maps[:shown], title=t(f"ui.views.maps_title_{which}", at=words["at"], **sizes),
                                         cols=8), key=f"{key}_maps")
        filters = _first_layer_filters(model)
        if layer == 1 and filters is not None:
            st.markdown(t("ui.views.filters"))
            st.plotly_chart(plots.image_grid(filters, title=t("ui.views.filters_title"), cols=16,
                                             height_per_row=70, symmetric=True, gap=0.02), key=f"{key}_filters")

    metrics = card["metrics"]
    if "confusion" in metrics:
        st.markdown(t("ui.views.wrong", n=10_000))
        st.plotly_chart(plots.confusion(np.array(metrics["confusion"]), names, title=t("ui.views.confusion", n=10_000)),
                        key=f"{key}_confusion")
    return look
