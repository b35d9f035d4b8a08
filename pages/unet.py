"""U-Net page: segment a generated scene or the person's own image, look at the encoder and decoder
feature maps, zero the skip connections to see what they carry, and fine-tune on a new shape or noise."""
import numpy as np
import streamlit as st

from models.unet.explore import SKIP_EVAL_SCENES, read_upload, scene_dice, segment_image, skip_dice, skip_flags
from models.unet.figures import label_overlay
from models.unet.recipe import finetune_unet, load_finetuned
from zoo import plots, ui, uploads
from zoo.data import shapes

NAME = "unet-shapes"

ui.page_intro(
    "U-Net: segmentation",
    "A U-Net labels every pixel: its encoder shrinks the image step by step into coarse maps that know *what* is "
    "there, and its decoder grows them back to full size, at each step concatenating the encoder's map of the same "
    "size through a *skip connection* so it also knows *exactly where*. That shape, a U of convolutions with "
    "bridges across, is Ronneberger et al.'s (2015) network for cell images, and it is still the backbone of "
    "medical segmentation and of diffusion models.")

model, card = ui.shared_model(NAME)
classes, config, metrics = card["classes"], card["config"], card["metrics"]
depth, width = config["depth"], config["width"]
size = card["data"]["size"]
n_shapes = len(classes) - 1
st.markdown(f"This one has {depth} levels down and up, {width} to {width * 2 ** depth} channels, and was trained on "
            f"generated {size}x{size} scenes of {', '.join(f'{c}s' for c in classes[1:])} on textured, noisy "
            "backgrounds, overlapping each other, with their exact masks.")
st.caption(f"Held-out mean Dice **{metrics['mean_dice']:.3f}** (IoU {metrics['mean_iou']:.3f}) over the {n_shapes} shape "
           f"classes on {metrics['n']:,} scenes it never saw · " + " · ".join(
               f"{name} {metrics[f'dice_{name}']:.3f}" for name in classes[1:]) + f" · {card['parameters']:,} parameters")
ui.model_card(card)


@st.cache_data(show_spinner="Measuring on the held-out scenes…", max_entries=16)
def held_out_skip_dice(zeroed_levels: tuple[int, ...]) -> dict:
    return skip_dice(model, zeroed_levels, classes)


def show_segmentation(image: np.ndarray, truth: np.ndarray | None, caption: str) -> None:
    """Sections 1 to 3 for one input: the mask and confidence, the feature maps, the skip connections."""
    seen = segment_image(model, image)
    st.caption(caption)
    columns = st.columns(3 if truth is None else 4)
    columns[0].plotly_chart(plots.image(image, "Input"), key="unet_input")
    columns[1].plotly_chart(label_overlay(image, seen.labels, classes, "Predicted mask"), key="unet_mask")
    columns[2].plotly_chart(plots.image(seen.confidence, "Confidence", colorscale=plots.HEAT), key="unet_confidence")
    if truth is not None:
        columns[3].plotly_chart(label_overlay(image, truth, classes, "True mask"), key="unet_truth")
        dice = scene_dice(seen.labels, truth, len(classes))
        present = [(name, d) for name, d in zip(classes[1:], dice[1:]) if not np.isnan(d)]
        if present:
            st.markdown("**Dice on this scene** (2 × overlap / (predicted + true pixels), 1 is perfect): "
                        + " · ".join(f"{name} {d:.3f}" for name, d in present))
    st.caption("Confidence is the probability the model gives its chosen class: it drops along edges and where "
               "one shape hides another, the pixels it is least sure of.")

    st.header("2. Inside the U-Net")
    st.markdown(
        "Going down, each level sees a wider patch at half the resolution: the first finds edges and brightness, "
        f"the bottom one knows roughly which shape is where, at 1/{2 ** depth} of the size. Going up, each decoder "
        "level combines the coarse answer with the encoder's sharp map of the same level.")
    level = st.select_slider("Level", options=list(range(1, depth + 2)), value=1, key="unet_level",
                             format_func=lambda i: f"{i} (bottom)" if i == depth + 1 else str(i))
    left, right = st.columns(2)
    encoder = seen.encoder[level - 1]
    left.markdown(f"**Encoder, level {level}**: {encoder.shape[0]} maps of {encoder.shape[1]}x{encoder.shape[2]}"
                  + (" (what its skip connection hands across)" if level <= depth else " (the bottleneck)")
                  + (", the first 16 shown" if encoder.shape[0] > 16 else ""))
    left.plotly_chart(plots.image_grid(encoder[:16], title=f"Encoder, level {level}", cols=4, height_per_row=110),
                      key="unet_encoder_maps")
    if level <= depth:
        decoder = seen.decoder[depth - level]
        right.markdown(f"**Decoder, level {level}**: {decoder.shape[0]} maps of {decoder.shape[1]}x{decoder.shape[2]}, "
                       "after merging the skip connection" + (", the first 16 shown" if decoder.shape[0] > 16 else ""))
        right.plotly_chart(plots.image_grid(decoder[:16], title=f"Decoder, level {level}", cols=4, height_per_row=110),
                           key="unet_decoder_maps")
    else:
        right.markdown("The bottom level has no decoder of its own: the decoder starts by scaling it up.")

    st.header("3. What the skip connections carry")
    st.markdown(
        "Zero a skip connection and its decoder level receives nothing from the encoder: it must rebuild that "
        "level's detail from the coarse path alone. Compare the masks, and the mean Dice measured on "
        f"{SKIP_EVAL_SCENES} held-out scenes with and without.")
    zero = st.toggle("Zero skip connections", key="unet_zero_skips")
    zeroed = st.multiselect("Levels to zero", list(range(1, depth + 1)), default=list(range(1, depth + 1)),
                            key="unet_skip_levels", format_func=lambda i: f"level {i} ({size >> (i - 1)}x"
                                                                         f"{size >> (i - 1)}, {width << (i - 1)} channels)")
    if zero and not zeroed:
        st.info("Pick at least one level to zero.")
    elif zero:
        without = segment_image(model, image, skip_flags(zeroed, depth))
        left, right = st.columns(2)
        left.plotly_chart(label_overlay(image, seen.labels, classes, "All skip connections"), key="unet_skips_on")
        right.plotly_chart(label_overlay(image, without.labels, classes,
                                         f"Level {', '.join(map(str, sorted(zeroed)))} zeroed"),
                           key="unet_skips_off")
        measured = held_out_skip_dice(tuple(sorted(zeroed)))
        a, b = st.columns(2)
        a.metric("Held-out mean Dice, all skips", f"{measured['with']['mean_dice']:.3f}")
        b.metric("with those zeroed", f"{measured['without']['mean_dice']:.3f}", delta=f"{-measured['drop']:+.3f}")


ui.view_in_url("unet_source", "unet_seed", "unet_noise", "unet_level")
st.header("1. A scene to segment")
source = st.radio("Input", ["Generated scene", "Your image"], horizontal=True, key="unet_source")
if source == "Generated scene":
    a, b, c = st.columns([1, 1, 2])
    seed = a.number_input("Scene seed", 0, shapes.HELD_OUT_SEED - 1, 7, key="unet_seed",
                          help="Every seed draws its own scene; the held-out scenes the card measures use other seeds.")
    b.button("New scene", key="unet_new_scene",
             on_click=lambda: st.session_state.update(unet_seed=(st.session_state["unet_seed"] + 1) % shapes.HELD_OUT_SEED))
    noise = c.slider("Pixel noise", 0.0, 0.4, shapes.DEFAULT_NOISE, step=0.02, key="unet_noise",
                     help=f"Standard deviation of the noise added to every pixel; the model was trained at "
                          f"{shapes.DEFAULT_NOISE}. Push it up to see where it breaks.")
    scene = shapes.scene(int(seed), size, noise=noise)
    show_segmentation(scene.image, scene.mask,
                      f"Scene {seed}: " + ", ".join(s.kind for s in scene.shapes) + " (drawn in that order).")
else:
    upload = st.file_uploader("A picture of simple shapes (a drawing, a photo, a screenshot)", type=ui.IMAGE_TYPES,
                              key="unet_upload")
    if upload is None:
        st.info(f"Upload an image: it is cropped to a square, made greyscale and shrunk to {size}x{size}. The model has "
                "only ever seen circles, squares and triangles, so filled shapes on a plain background work best.")
    else:
        try:
            image, note = ui.from_upload(upload, read_upload, size)
        except uploads.UploadError as error:
            st.error(str(error))
        else:
            show_segmentation(image, None, note)

st.header("4. Fine-tune it")
st.markdown(
    "Continue training a private copy (the shared model stays as it is). Teach it a **new shape**: the output "
    "layer gets one more class, which starts never predicted, and the scenes now include that shape. Or train "
    "it on a **noisier world** than it knew. Mean Dice is measured on held-out scenes of the new kind as it trains.")
task = st.radio("Teach it", ["A new shape", "A noisier world"], horizontal=True, key="unet_ft_task")
a, b, c = st.columns(3)
if task == "A new shape":
    new_kind = a.selectbox("New shape", shapes.EXTRA_KINDS, key="unet_ft_kind")
    ft_noise = shapes.DEFAULT_NOISE
else:
    new_kind = None
    ft_noise = a.slider("Noise level", 0.1, 0.4, 0.25, step=0.05, key="unet_ft_noise")
lr = b.select_slider("Learning rate", options=[1e-4, 3e-4, 1e-3, 3e-3], value=1e-3,
                     format_func=lambda v: f"{v:.0e}", key="unet_ft_lr")
steps = c.slider("Steps", 10, 300, 80, step=10, key="unet_ft_steps")
ft_kinds = tuple(classes[1:]) + ((new_kind,) if new_kind else ())
ft_classes = shapes.class_names(ft_kinds)
examples = [shapes.scene(i, size, noise=ft_noise, kinds=ft_kinds) for i in range(4)]
st.caption("Training scenes look like these:")
for i, (column, example) in enumerate(zip(st.columns(4), examples)):
    column.plotly_chart(label_overlay(example.image, example.mask, ft_classes, f"Training scene {i + 1}"),
                        key=f"unet_ft_example_{i}")


def draw_finetune(events: list[dict]) -> None:
    before = next((e["dice_before"] for e in events if "dice_before" in e), None)
    after = next((e["dice_after"] for e in events if "dice_after" in e), None)
    if before is not None:
        names = next(e["classes"] for e in events if "classes" in e)
        shown = ["mean"] + list(names[1:])
        cols = st.columns(len(shown))
        for col, name in zip(cols, shown):
            key = "mean_dice" if name == "mean" else f"dice_{name}"
            value = (after or before)[key]
            col.metric(f"Dice, {name}" + (" (after)" if after else " (before)"), f"{value:.3f}",
                       delta=f"{value - before[key]:+.3f}" if after else None)
    left, right = st.columns(2)
    left.plotly_chart(plots.curves(events, ["loss"], title="Training loss", height=260), key="unet_ft_loss")
    right.plotly_chart(plots.curves(events, ["dice"], title="Mean Dice on held-out scenes of the new kind", height=260),
                       key="unet_ft_dice")


tuned = ui.training_panel("unet_ft", finetune_unet, dict(name=NAME, lr=lr, steps=steps, new_kind=new_kind, noise=ft_noise),
                          metrics=("loss", "dice"), draw=draw_finetune, download_name=f"{NAME}-finetuned.safetensors")
if isinstance(tuned, bytes):
    if st.session_state.get("unet_tuned_for") is not tuned:
        st.session_state["unet_tuned"] = load_finetuned(tuned)
        st.session_state["unet_tuned_for"] = tuned
    tuned_model, meta = st.session_state["unet_tuned"]
    tuned_classes, tuned_kinds = meta["classes"], meta["classes"][1:]
    st.subheader("Shipped and fine-tuned, side by side")
    extra = [kind for kind in tuned_kinds if kind not in classes]
    st.caption(f"A held-out scene like those it was fine-tuned on (noise {meta['noise']:g}"
               + (f", with {extra[0]}s" if extra else "") + "). The shipped model has no class for a new shape, "
               "so it calls it whichever old shape it resembles.")
    example = shapes.scene(shapes.HELD_OUT_SEED + int(st.session_state.get("unet_seed", 0)), size,
                           noise=meta["noise"], kinds=tuned_kinds)
    a, b, c = st.columns(3)
    a.plotly_chart(label_overlay(example.image, example.mask, tuned_classes, "True mask"), key="unet_cmp_truth")
    b.plotly_chart(label_overlay(example.image, segment_image(model, example.image).labels, classes,
                                 "Shipped model"), key="unet_cmp_shipped")
    c.plotly_chart(label_overlay(example.image, segment_image(tuned_model, example.image).labels, tuned_classes,
                                 "Fine-tuned"), key="unet_cmp_tuned")
