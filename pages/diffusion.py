"""Diffusion page: bury a garment in noise step by step, watch the model walk noise back to a garment,
trade steps for time with DDIM, steer with guidance, turn the person's image into a garment (SDEdit),
and fine-tune on one class or on the person's own images."""
import numpy as np
import streamlit as st

from models.diffusion import explore, figures
from models.diffusion.recipe import finetune_diffusion
from zoo import plots, ui
from zoo.data import fashion_mnist

NAME = "diffusion-fashion"
CLASSES = fashion_mnist.CLASSES
MAX_FINETUNE_IMAGES = 64

ui.page_intro(
    "Diffusion models: DDPM and DDIM",
    "A diffusion model buries training images in Gaussian noise of every strength and trains a U-Net to predict "
    "the noise that was added (Ho et al. 2020). To generate, it starts from pure noise and removes a little of its "
    "predicted noise at each of up to 1,000 steps until a garment is left; DDIM (Song et al. 2021) walks the same "
    "path in a few dozen larger steps.")

model, card = ui.shared_model(NAME)
T = model.config.timesteps
m, sampling = card["metrics"], card.get("sampling", {})
st.caption(f"FID of {m['fid_samples']:,} samples **{m['fid']:.1f}** (real images score {m['fid_real_floor']:.1f}) with "
           f"{sampling.get('steps', '?')} DDIM steps at guidance {sampling.get('guidance', '?')} · {m['classes_covered']} "
           f"of 10 classes covered · a U-Net of {card['parameters']:,} parameters, {T:,} noise steps, "
           f"{model.config.schedule} schedule.")
ui.model_card(card)


@st.cache_data(max_entries=64, show_spinner="Denoising…")
def denoise(label: int | None, steps: int, guidance: float, seed: int, start: np.ndarray | None = None,
            t_start: int | None = None) -> explore.Trajectory:
    return explore.denoise(ui.shared_model(NAME)[0], label, steps, guidance, seed, start, t_start)


@st.cache_data(max_entries=32, show_spinner="Sampling…")
def samples(labels: tuple[int, ...], steps: int, guidance: float, seed: int) -> tuple[np.ndarray, float]:
    return explore.samples(ui.shared_model(NAME)[0], list(labels), steps, guidance, seed)


@st.cache_resource(show_spinner="Timing the sampler on this machine (once)…")
def local_seconds_per_image(step_counts: tuple[int, ...], guidance: float) -> dict[int, float]:
    """The card's timing of DDIM, measured once per server on this machine's device."""
    return explore.seconds_per_image(ui.shared_model(NAME)[0], list(step_counts), guidance=guidance)


ui.view_in_url("diff_source", "diff_gallery", "diff_t", "diff_class", "diff_guidance", "diff_steps", "diff_seed")
st.header("1. Forward: burying a garment in noise")
snr = explore.signal_to_noise(model)
st.markdown("The forward process needs no learning: at step t the image is shrunk to sqrt(ᾱ_t) of itself and "
            "Gaussian noise of variance 1 − ᾱ_t is added, in one jump from the clean image. The signal-to-noise "
            f"ratio ᾱ_t / (1 − ᾱ_t) falls from {snr[0]:,.0f} at t = 0 to {snr[-1]:.0e} at t = {T - 1}.")
image, caption = ui.fashion_image_input("diff")
if image is None:
    st.info("Pick a gallery image, upload one or draw one to watch it being noised (and, in section 5, edited).")
else:
    t = st.slider("Noise step t", 0, T - 1, 250, key="diff_t")
    left, middle, right = st.columns([1, 1, 2])
    left.plotly_chart(plots.image(image[0].numpy(), caption, height=240), key="diff_clean")
    middle.plotly_chart(plots.image(explore.noised(model, image, [t])[0], f"x_t at t = {t}", height=240), key="diff_noisy")
    right.plotly_chart(figures.signal_to_noise(snr, t, height=240), key="diff_snr")
    st.caption(f"x_{t} = {(snr[t] / (1 + snr[t])) ** 0.5:.3f} · x_0 + {(1 / (1 + snr[t])) ** 0.5:.3f} · noise "
               f"(SNR {snr[t]:.3g}). Below, the same noise at growing t.")
    strip = [0, 50, 100, 200, 300, 400, 500, 650, 800, T - 1]
    st.plotly_chart(plots.image_grid(explore.noised(model, image, strip), title="The same noise at growing t",
                                     titles=[f"t = {s}" for s in strip],
                                     cols=len(strip), height_per_row=120, colorscale="gray", zrange=(0, 1)),
                    key="diff_strip")

st.header("2. Reverse: from noise to a garment, step by step")
st.markdown("At each step the U-Net predicts the noise in x_t; subtracting it gives a guess of the clean image "
            "x_0 (right), and DDIM moves x_t (left) part of the way towards that guess. The outline settles first, "
            "the details last. **Guidance** (Ho & Salimans 2022) mixes the model's predictions with and without "
            "the class: 0 ignores the class, 1 asks for it plainly, higher insists on it, at some cost in variety.")
a, b, c, d = st.columns(4)
label = a.selectbox("Class", range(len(CLASSES)), format_func=lambda i: CLASSES[i], index=0, key="diff_class")
guidance = b.slider("Guidance scale", 0.0, 6.0, 2.0, step=0.5, key="diff_guidance")
steps = c.select_slider("DDIM steps", options=[5, 10, 15, 25, 50, 100], value=25, key="diff_steps")
seed = int(d.number_input("Seed", 0, 10_000, 0, key="diff_seed"))
walk = denoise(label, steps, guidance, seed)
st.plotly_chart(plots.animation(walk.side_by_side(), [f"t = {t}" for t in walk.timesteps],
                                title=f"Denoising a {CLASSES[label]}: x_t (left) and the predicted x_0 (right)",
                                height=380, frame_ms=max(60, 3000 // steps)), key="diff_reverse")
here = ui.device_name()
st.caption(f"Left x_t, right the predicted x_0, at each of the {len(walk.timesteps)} steps ({walk.seconds:.2f} s on "
           f"{here}, this machine). Press Play, or drag the slider.")
pictures, seconds = samples(tuple([label] * 6), steps, guidance, seed + 1)
st.plotly_chart(plots.image_grid(pictures, title=f"Six more of class {CLASSES[label]}", cols=6, height_per_row=130,
                                 colorscale="gray", zrange=(0, 1), gap=0.004), key="diff_samples")
passes = "one U-Net pass" if guidance in (0.0, 1.0) else "two U-Net passes"
st.caption(f"Six more of class {CLASSES[label]} with the same settings: {seconds:.2f} s on {here}, this machine, "
           f"{1000 * seconds / 6:,.0f} ms per image ({passes} a step at guidance {guidance:g}).")

st.header("3. Fewer steps, faster: DDIM")
st.markdown("DDIM's update is deterministic and jumps straight between any two noise levels, so the model trained "
            "for 1,000 small steps can sample in far fewer. Each step is one pass of the U-Net (two with guidance), "
            "so time grows with the steps while quality levels off.")
curve = m.get("ddim_steps")
if curve:
    counts = sorted(curve, key=int)
    timings = {f"{card['device']} (model card)": [curve[n]["seconds_per_image"] for n in counts]}
    timed_here = ""
    if here != card["device"]:  # the card's times are another machine's: time this one's too
        local = local_seconds_per_image(tuple(int(n) for n in counts), float(sampling.get("guidance", 1.0)))
        timings[f"{here}, this machine"] = [local[int(n)] for n in counts]
        timed_here = (f" On {here}, this machine, timed once for this server on a batch of 4 images: "
                      f"{1000 * local[int(counts[0])]:,.0f} ms per image at {counts[0]} steps, "
                      f"{1000 * local[int(counts[-1])]:,.0f} ms at {counts[-1]}.")
    st.plotly_chart(figures.steps_tradeoff([int(n) for n in counts], [curve[n]["fid"] for n in counts], timings),
                    key="diff_tradeoff")
    st.caption(f"FID from the model card, {m['ddim_steps_samples']:,} samples per point at guidance "
               f"{sampling.get('guidance', '?')}, timed there on {card['device']} in batches of up to 500."
               + timed_here)
ladder = [5, 10, 25, 50]
finals = [denoise(label, n, guidance, seed).predicted[-1] for n in ladder]
st.plotly_chart(plots.image_grid(np.stack(finals), title="One noise, denoised in more and more steps",
                                 titles=[f"{n} steps" for n in ladder], cols=len(ladder),
                                 height_per_row=150, colorscale="gray", zrange=(0, 1)), key="diff_ladder")
st.caption("The same starting noise and class, denoised in more and more steps.")

st.header("4. Guidance, row by row")
scales = [0.0, 1.0, 4.0]
rows = [samples(tuple([label] * 5), 15, scale, seed + 2)[0] for scale in scales]
st.plotly_chart(plots.image_grid(np.concatenate(rows), title=f"Five noises asked for {CLASSES[label]}, one row per "
                                 "guidance scale", titles=[f"guidance {s:g}" if i == 0 else "" for s in scales
                                                                 for i in range(5)],
                                 cols=5, height_per_row=120, colorscale="gray", zrange=(0, 1)), key="diff_guidance_grid")
st.caption(f"The same five noises asked for class {CLASSES[label]} at growing guidance (15 DDIM steps): at 0 the "
           "class is ignored and garments of any kind come out; higher, they look more alike.")

st.header("5. SDEdit: your image, turned into a garment")
st.markdown("SDEdit (Meng et al. 2022) noises an image to step t and lets the model denoise it: a little noise keeps "
            "your shape and cleans it up, a lot keeps only the rough layout and invents the rest. At the start, "
            f"t = {explore.SDEDIT_STEP}, the garment keeps its kind and outline while the model redraws its details; "
            "to turn it into another class, go to 800 or more.")
if image is None:
    st.info("Pick or upload an image in section 1 to edit it.")
else:
    a, b = st.columns(2)
    strength = a.slider("Noise to step t", 50, T - 50, explore.SDEDIT_STEP, step=50, key="diff_sdedit_t")
    target = b.selectbox("Turn it into", [None, *range(len(CLASSES))], key="diff_sdedit_class",
                         format_func=lambda i: "any garment (no class)" if i is None else CLASSES[i])
    edit = denoise(target, 25, 2.0 if target is not None else 0.0, seed, image.numpy(), strength)
    views = {"your image": image[0].numpy(), f"noised to t = {strength}": edit.noisy[0], "denoised": edit.predicted[-1]}
    for column, (title, pixels) in zip(st.columns(3), views.items()):
        column.plotly_chart(plots.image(pixels, title, height=240), key=f"diff_sdedit_{title.split()[0]}")

st.header("6. Fine-tune on one class or on your images")
st.markdown("A private copy of the model trains for a few hundred steps, on training images of one class or on "
            "images you upload (taught as the class you pick). Samples of that class from fixed noise are redrawn "
            "as it learns; the shared model stays as it is.")
a, b, c, d = st.columns(4)
source = a.radio("Train on", ["Fashion-MNIST images", "My images"], key="diff_ft_source")
ft_label = b.selectbox("Class", range(len(CLASSES)), format_func=lambda i: CLASSES[i], key="diff_ft_class")
lr = c.select_slider("Learning rate", options=[3e-5, 1e-4, 3e-4, 1e-3], value=1e-4, format_func=lambda v: f"{v:.0e}",
                     key="diff_ft_lr")
ft_steps = d.slider("Steps", 20, 500, 200, step=20, key="diff_ft_steps")
job_kwargs = dict(name=NAME, lr=lr, steps=ft_steps, label=ft_label)
if source == "My images":
    files = st.file_uploader(f"Images of garments (up to {MAX_FINETUNE_IMAGES})", type=ui.IMAGE_TYPES,
                             accept_multiple_files=True, key="diff_ft_upload")
    if files and len(files) > MAX_FINETUNE_IMAGES:
        st.warning(f"{len(files)} images uploaded: only the first {MAX_FINETUNE_IMAGES} are used.")
    pictures, problems = ui.from_uploads((files or [])[:MAX_FINETUNE_IMAGES], explore.garment_image)
    for problem in problems:
        st.error(problem)
    if pictures:
        mine = job_kwargs["images"] = np.stack(pictures)
        st.plotly_chart(plots.image_grid(mine / 255.0, title="Your images as the model will see them", cols=16,
                                         height_per_row=70, colorscale="gray", zrange=(0, 1), gap=0.003),
                        key="diff_ft_mine")
        st.caption(f"{len(mine)} image{'s' * (len(mine) != 1)}, as the model will see them.")
    else:
        st.info("Upload one or more images to fine-tune on them.")


def draw_finetune(events: list[dict]) -> None:
    st.plotly_chart(plots.curves(events, ["loss"], title="Training loss: how far the predicted noise is off",
                                 names={"loss": plots.Metric("training loss", "noise prediction error (MSE)", plots.LOSS)},
                                 height=240), key="diff_ft_curve")
    last = next((e for e in reversed(events) if "samples" in e), None)
    if last is not None:
        st.plotly_chart(plots.image_grid(last["samples"] / 255.0, title=f"Step {last['step']}: samples of "
                                         f"{CLASSES[ft_label]} from 8 fixed noises", cols=8, height_per_row=90,
                                         colorscale="gray", zrange=(0, 1), gap=0.004), key="diff_ft_samples")


if source == "Fashion-MNIST images" or "images" in job_kwargs:
    ui.training_panel("diff_ft", finetune_diffusion, job_kwargs, metrics=("loss",), draw=draw_finetune,
                      download_name="diffusion-fashion-finetuned.safetensors")
