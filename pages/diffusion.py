"""Diffusion page: bury a garment in noise step by step, watch the model walk noise back to a garment,
trade steps for time with DDIM, steer with guidance, turn the person's image into a garment (SDEdit),
and fine-tune on one class or on the person's own images."""
import numpy as np
import streamlit as st

from models.diffusion import explore, figures
from models.diffusion.recipe import finetune_diffusion
from zoo import i18n, plots, ui
from zoo.data import fashion_mnist
from zoo.i18n import t

NAME = "diffusion-fashion"
MAX_FINETUNE_IMAGES = 64
SOURCES = ("fashion-mnist", "mine")
"""what a fine-tune trains on: the data set's images of a class, or the person's uploads"""



def setting(value: float | None) -> str:
    """A sampling setting of the model card as the reader's language writes it, "?" where the card lacks it."""
    return "?" if value is None else i18n.number(value, "g")


ui.page_intro(t("diffusion.title"), t("diffusion.intro", steps=1000))
CLASSES = fashion_mnist.class_names()
"""the classes' names in the reader's language, by label (the widgets' values are labels)"""

model, card = ui.shared_model(NAME)
T = model.config.timesteps
m, sampling = card["metrics"], card.get("sampling", {})
st.caption(t("diffusion.card_summary", n=m["fid_samples"], fid=m["fid"], floor=m["fid_real_floor"],
             steps=sampling.get("steps", "?"), guidance=setting(sampling.get("guidance")), covered=m["classes_covered"],
             parameters=card["parameters"], timesteps=T,
             schedule=t(f"diffusion.schedule.{model.config.schedule}")))
ui.model_card(card)


@st.cache_data(max_entries=64, show_spinner=False)
def _denoise(label: int | None, steps: int, guidance: float, seed: int, start: np.ndarray | None = None,
            t_start: int | None = None) -> explore.Trajectory:
    return explore.denoise(ui.shared_model(NAME)[0], label, steps, guidance, seed, start, t_start)


def denoise(label: int | None, steps: int, guidance: float, seed: int, start: np.ndarray | None = None,
            t_start: int | None = None) -> explore.Trajectory:
    with st.spinner(t("diffusion.spinner.denoising")):
        return _denoise(label, steps, guidance, seed, start, t_start)


@st.cache_data(max_entries=32, show_spinner=False)
def _samples(labels: tuple[int, ...], steps: int, guidance: float, seed: int) -> tuple[np.ndarray, float]:
    return explore.samples(ui.shared_model(NAME)[0], list(labels), steps, guidance, seed)


def samples(labels: tuple[int, ...], steps: int, guidance: float, seed: int) -> tuple[np.ndarray, float]:
    with st.spinner(t("diffusion.spinner.sampling")):
        return _samples(labels, steps, guidance, seed)


@st.cache_resource(show_spinner=False)
def _local_seconds_per_image(step_counts: tuple[int, ...], guidance: float) -> dict[int, float]:
    """The card's timing of DDIM, measured once per server on this machine's device."""
    return explore.seconds_per_image(ui.shared_model(NAME)[0], list(step_counts), guidance=guidance)


def local_seconds_per_image(step_counts: tuple[int, ...], guidance: float) -> dict[int, float]:
    with st.spinner(t("diffusion.spinner.timing")):
        return _local_seconds_per_image(step_counts, guidance)


ui.view_in_url("diff_source", "diff_gallery", "diff_t", "diff_class", "diff_guidance", "diff_steps", "diff_seed")
st.header(t("diffusion.forward.header"))
snr = explore.signal_to_noise(model)
st.markdown(t("diffusion.forward.text", first=float(snr[0]), last=float(snr[-1]), t_last=T - 1))
image, caption = ui.fashion_image_input("diff")
if image is None:
    st.info(t("diffusion.forward.no_image"))
else:
    step_t = st.slider(t("diffusion.forward.step"), 0, T - 1, 250, key="diff_t")
    left, middle, right = st.columns([1, 1, 2])
    left.plotly_chart(plots.image(image[0].numpy(), caption, height=240), key="diff_clean")
    middle.plotly_chart(plots.image(explore.noised(model, image, [step_t])[0], t("diffusion.forward.noisy", t=step_t),
                                    height=240), key="diff_noisy")
    right.plotly_chart(figures.signal_to_noise(snr, step_t, height=240), key="diff_snr")
    st.caption(t("diffusion.forward.caption", t=step_t, signal=float((snr[step_t] / (1 + snr[step_t])) ** 0.5),
                 noise=float((1 / (1 + snr[step_t])) ** 0.5), snr=float(snr[step_t])))
    strip = [0, 50, 100, 200, 300, 400, 500, 650, 800, T - 1]
    st.plotly_chart(plots.image_grid(explore.noised(model, image, strip), title=t("diffusion.forward.strip_title"),
                                     titles=[t("diffusion.t_equals", t=s) for s in strip],
                                     cols=len(strip), height_per_row=120, colorscale="gray", zrange=(0, 1)),
                    key="diff_strip")

st.header(t("diffusion.reverse.header"))
st.markdown(t("diffusion.reverse.text"))
a, b, c, d = st.columns(4)
label = a.selectbox(t("diffusion.class"), range(len(CLASSES)), format_func=lambda i: CLASSES[i], index=0,
                    key="diff_class")
guidance = b.slider(t("diffusion.reverse.guidance"), 0.0, 6.0, 2.0, step=0.5, key="diff_guidance")
steps = c.select_slider(t("diffusion.reverse.steps"), options=[5, 10, 15, 25, 50, 100], value=25, key="diff_steps")
seed = int(d.number_input(t("diffusion.seed"), 0, 10_000, 0, key="diff_seed"))
walk = denoise(label, steps, guidance, seed)
st.plotly_chart(plots.animation(walk.side_by_side(), [t("diffusion.t_equals", t=s) for s in walk.timesteps],
                                title=t("diffusion.reverse.title", name=CLASSES[label]),
                                height=380, frame_ms=max(60, 3000 // steps)), key="diff_reverse")
here = ui.device_name()
st.caption(t("diffusion.reverse.caption", n=len(walk.timesteps), seconds=walk.seconds, device=here))
pictures, seconds = samples(tuple([label] * 6), steps, guidance, seed + 1)
st.plotly_chart(plots.image_grid(pictures, title=t("diffusion.reverse.more_title", name=CLASSES[label]), cols=6,
                                 height_per_row=130, colorscale="gray", zrange=(0, 1), gap=0.004), key="diff_samples")
passes_key = "diffusion.reverse.more_caption_one" if guidance in (0.0, 1.0) else "diffusion.reverse.more_caption_two"
st.caption(t(passes_key, name=CLASSES[label], seconds=seconds, device=here, ms=1000 * seconds / 6, guidance=guidance))

st.header(t("diffusion.ddim.header"))
st.markdown(t("diffusion.ddim.text", steps=1000))
curve = m.get("ddim_steps")
if curve:
    counts = sorted(curve, key=int)
    timings = {t("diffusion.ddim.card_device", device=ui.device_label(card["device"])):
               [curve[n]["seconds_per_image"] for n in counts]}
    timed_here = ""
    if here != card["device"]:  # the card's times are another machine's: time this one's too
        local = local_seconds_per_image(tuple(int(n) for n in counts), float(sampling.get("guidance", 1.0)))
        timings[t("diffusion.ddim.this_device", device=ui.device_label(here))] = [local[int(n)] for n in counts]
        timed_here = t("diffusion.ddim.timed_here", device=ui.device_label(here), n=4,
                       first_ms=1000 * local[int(counts[0])], first=int(counts[0]),
                       last_ms=1000 * local[int(counts[-1])], last=int(counts[-1]))
    st.plotly_chart(figures.steps_tradeoff([int(n) for n in counts], [curve[n]["fid"] for n in counts], timings),
                    key="diff_tradeoff")
    st.caption(t("diffusion.ddim.caption", n=m["ddim_steps_samples"], guidance=setting(sampling.get("guidance")),
                 device=ui.device_label(card["device"]), batch=500, timed_here=timed_here))
ladder = [5, 10, 25, 50]
finals = [denoise(label, n, guidance, seed).predicted[-1] for n in ladder]
st.plotly_chart(plots.image_grid(np.stack(finals), title=t("diffusion.ddim.ladder_title"),
                                 titles=[t("diffusion.ddim.ladder_steps", n=n) for n in ladder], cols=len(ladder),
                                 height_per_row=150, colorscale="gray", zrange=(0, 1)), key="diff_ladder")
st.caption(t("diffusion.ddim.ladder_caption"))

st.header(t("diffusion.guidance.header"))
scales = [0.0, 1.0, 4.0]
rows = [samples(tuple([label] * 5), 15, scale, seed + 2)[0] for scale in scales]
st.plotly_chart(plots.image_grid(np.concatenate(rows), title=t("diffusion.guidance.title", n=5, name=CLASSES[label]),
                                 titles=[t("diffusion.guidance.row", scale=s) if i == 0 else "" for s in scales
                                         for i in range(5)],
                                 cols=5, height_per_row=120, colorscale="gray", zrange=(0, 1)), key="diff_guidance_grid")
st.caption(t("diffusion.guidance.caption", n=5, name=CLASSES[label], steps=15))

st.header(t("diffusion.sdedit.header"))
st.markdown(t("diffusion.sdedit.text", start=explore.SDEDIT_STEP, far=800))
if image is None:
    st.info(t("diffusion.sdedit.no_image"))
else:
    a, b = st.columns(2)
    strength = a.slider(t("diffusion.sdedit.strength"), 50, T - 50, explore.SDEDIT_STEP, step=50, key="diff_sdedit_t")
    target = b.selectbox(t("diffusion.sdedit.target"), [None, *range(len(CLASSES))], key="diff_sdedit_class",
                         format_func={None: t("diffusion.sdedit.any"), **dict(enumerate(CLASSES))}.__getitem__)
    edit = denoise(target, 25, 2.0 if target is not None else 0.0, seed, image.numpy(), strength)
    views = {"your": (t("diffusion.sdedit.yours"), image[0].numpy()),
             "noised": (t("diffusion.sdedit.noised", t=strength), edit.noisy[0]),
             "denoised": (t("diffusion.sdedit.denoised"), edit.predicted[-1])}
    for column, (code, (title, pixels)) in zip(st.columns(3), views.items()):
        column.plotly_chart(plots.image(pixels, title, height=240), key=f"diff_sdedit_{code}")

st.header(t("diffusion.finetune.header"))
st.markdown(t("diffusion.finetune.text"))
a, b, c, d = st.columns(4)
source = a.radio(t("diffusion.finetune.source"), SOURCES, key="diff_ft_source",
                 format_func={code: t(f"diffusion.finetune.{code}") for code in SOURCES}.__getitem__)
ft_label = b.selectbox(t("diffusion.class"), range(len(CLASSES)), format_func=lambda i: CLASSES[i], key="diff_ft_class")
lr = c.select_slider(t("diffusion.finetune.lr"), options=[3e-5, 1e-4, 3e-4, 1e-3], value=1e-4,
                     format_func=lambda v: i18n.number(v, ".0e"), key="diff_ft_lr")
ft_steps = d.slider(t("diffusion.steps"), 20, 500, 200, step=20, key="diff_ft_steps")
job_kwargs = dict(name=NAME, lr=lr, steps=ft_steps, label=ft_label)
if source == "mine":
    files = st.file_uploader(t("diffusion.finetune.upload", max=MAX_FINETUNE_IMAGES), type=ui.IMAGE_TYPES,
                             accept_multiple_files=True, key="diff_ft_upload")
    if files and len(files) > MAX_FINETUNE_IMAGES:
        st.warning(t("diffusion.finetune.too_many", n=len(files), max=MAX_FINETUNE_IMAGES))
    pictures, problems = ui.from_uploads((files or [])[:MAX_FINETUNE_IMAGES], explore.garment_image)
    for problem in problems:
        st.error(problem)
    if pictures:
        mine = job_kwargs["images"] = np.stack(pictures)
        st.plotly_chart(plots.image_grid(mine / 255.0, title=t("diffusion.finetune.mine_title"), cols=16,
                                         height_per_row=70, colorscale="gray", zrange=(0, 1), gap=0.003),
                        key="diff_ft_mine")
        st.caption(t("diffusion.finetune.mine_one" if len(mine) == 1 else "diffusion.finetune.mine_many", n=len(mine)))
    else:
        st.info(t("diffusion.finetune.no_uploads"))


def draw_finetune(events: list[dict]) -> None:
    st.plotly_chart(plots.curves(events, ["loss"], title=t("diffusion.finetune.curve_title"),
                                 names={"loss": plots.Metric(t("diffusion.finetune.curve_name"),
                                                             t("diffusion.finetune.curve_axis"), plots.LOSS)},
                                 height=240), key="diff_ft_curve")
    last = next((e for e in reversed(events) if "samples" in e), None)
    if last is not None:
        st.plotly_chart(plots.image_grid(last["samples"] / 255.0, cols=8, height_per_row=90,
                                         title=t("diffusion.finetune.samples_title", step=last["step"],
                                                 name=CLASSES[ft_label], n=8),
                                         colorscale="gray", zrange=(0, 1), gap=0.004), key="diff_ft_samples")


if source == "fashion-mnist" or "images" in job_kwargs:
    ui.training_panel("diff_ft", finetune_diffusion, job_kwargs, metrics=("loss",), draw=draw_finetune,
                      download_name="diffusion-fashion-finetuned.safetensors")
