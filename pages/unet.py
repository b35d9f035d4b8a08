"""U-Net page: segment a generated scene or the person's own image, look at the encoder and decoder
feature maps, zero the skip connections to see what they carry, and fine-tune on a new shape or noise."""
import numpy as np
import streamlit as st

from models.unet.explore import SKIP_EVAL_SCENES, read_upload, scene_dice, segment_image, skip_dice, skip_flags
from models.unet.figures import label_overlay
from models.unet.recipe import finetune_unet, load_finetuned
from zoo import i18n, plots, ui, uploads
from zoo.data import shapes
from zoo.i18n import t

NAME = "unet-shapes"

ui.page_intro(t("unet.title"), t("unet.intro"))

model, card = ui.shared_model(NAME)
classes, config, metrics = card["classes"], card["config"], card["metrics"]
depth, width = config["depth"], config["width"]
size = card["data"]["size"]
names = shapes.display_names(classes)
"""the classes as a reader names them; `classes` stay the codes of the masks and the card's metrics"""
st.markdown(t("unet.this_one", depth=depth, width=width, top_width=width * 2 ** depth, size=size,
              kinds=shapes.kinds_listed(classes[1:])))
st.caption(t("unet.card_figures", dice=metrics["mean_dice"], iou=metrics["mean_iou"], n_shapes=len(classes) - 1,
             n=metrics["n"], parameters=card["parameters"],
             per_class=" · ".join(t("unet.class_dice", name=shapes.display_name(name), dice=metrics[f"dice_{name}"])
                                  for name in classes[1:])))
ui.model_card(card)


@st.cache_data(show_spinner=False, max_entries=16)
def held_out_skip_dice(zeroed_levels: tuple[int, ...]) -> dict:
    return skip_dice(model, zeroed_levels, classes)


def show_segmentation(image: np.ndarray, truth: np.ndarray | None, caption: str) -> None:
    """Sections 1 to 3 for one input: the mask and confidence, the feature maps, the skip connections."""
    seen = segment_image(model, image)
    st.caption(caption)
    columns = st.columns(3 if truth is None else 4)
    columns[0].plotly_chart(plots.image(image, t("unet.input")), key="unet_input")
    columns[1].plotly_chart(label_overlay(image, seen.labels, names, t("unet.predicted_mask")), key="unet_mask")
    columns[2].plotly_chart(plots.image(seen.confidence, t("unet.confidence"), colorscale=plots.HEAT),
                            key="unet_confidence")
    if truth is not None:
        columns[3].plotly_chart(label_overlay(image, truth, names, t("unet.true_mask")), key="unet_truth")
        dice = scene_dice(seen.labels, truth, len(classes))
        present = [(name, d) for name, d in zip(names[1:], dice[1:]) if not np.isnan(d)]
        if present:
            st.markdown(t("unet.scene_dice", per_class=" · ".join(t("unet.class_dice", name=name, dice=d)
                                                                  for name, d in present)))
    st.caption(t("unet.confidence_caption"))

    st.header(t("unet.inside.header"))
    st.markdown(t("unet.inside.text", scale=2 ** depth))
    levels = {i: t("unet.inside.bottom", level=i) if i == depth + 1 else str(i) for i in range(1, depth + 2)}
    level = st.select_slider(t("unet.inside.level"), options=list(levels), value=1, key="unet_level",
                             format_func=levels.get)
    left, right = st.columns(2)
    encoder = seen.encoder[level - 1]
    maps = dict(level=level, maps=encoder.shape[0], height=encoder.shape[1], width=encoder.shape[2])
    left.markdown(t("unet.inside.encoder_skip" if level <= depth else "unet.inside.encoder_bottleneck", **maps)
                  + (" " + t("unet.inside.first_shown", n=16) if encoder.shape[0] > 16 else ""))
    left.plotly_chart(plots.image_grid(encoder[:16], title=t("unet.inside.encoder_title", level=level), cols=4,
                                       height_per_row=110), key="unet_encoder_maps")
    if level <= depth:
        decoder = seen.decoder[depth - level]
        right.markdown(t("unet.inside.decoder", level=level, maps=decoder.shape[0], height=decoder.shape[1],
                         width=decoder.shape[2])
                       + (" " + t("unet.inside.first_shown", n=16) if decoder.shape[0] > 16 else ""))
        right.plotly_chart(plots.image_grid(decoder[:16], title=t("unet.inside.decoder_title", level=level), cols=4,
                                            height_per_row=110), key="unet_decoder_maps")
    else:
        right.markdown(t("unet.inside.no_decoder"))

    st.header(t("unet.skips.header"))
    st.markdown(t("unet.skips.text", n=SKIP_EVAL_SCENES))
    zero = st.toggle(t("unet.skips.zero"), key="unet_zero_skips")
    skip_levels = {i: t("unet.skips.level_option", level=i, side=size >> (i - 1), channels=width << (i - 1))
                   for i in range(1, depth + 1)}
    zeroed = st.multiselect(t("unet.skips.levels"), list(skip_levels), default=list(skip_levels),
                            key="unet_skip_levels", format_func=skip_levels.get)
    if zero and not zeroed:
        st.info(t("unet.skips.pick_one"))
    elif zero:
        without = segment_image(model, image, skip_flags(zeroed, depth))
        left, right = st.columns(2)
        left.plotly_chart(label_overlay(image, seen.labels, names, t("unet.skips.all")), key="unet_skips_on")
        right.plotly_chart(label_overlay(image, without.labels, names,
                                         t("unet.skips.zeroed", levels=", ".join(map(str, sorted(zeroed))))),
                           key="unet_skips_off")
        with st.spinner(t("unet.skips.measuring")):
            measured = held_out_skip_dice(tuple(sorted(zeroed)))
        a, b = st.columns(2)
        a.metric(t("unet.skips.dice_all"), i18n.number(measured["with"]["mean_dice"], ".3f"))
        b.metric(t("unet.skips.dice_zeroed"), i18n.number(measured["without"]["mean_dice"], ".3f"),
                 delta=i18n.number(-measured["drop"], "+.3f"))


# Choice widgets show their codes through dicts built here, in the reader's language: a format_func that called
# t later would run where no session speaks (AppTest formats a widget's value outside the script run).
ui.view_in_url("unet_source", "unet_seed", "unet_noise", "unet_level")
st.header(t("unet.scene.header"))
sources = {code: t(f"unet.scene.source_option.{code}") for code in ("generated", "upload")}
source = st.radio(t("unet.scene.source"), list(sources), horizontal=True, key="unet_source", format_func=sources.get)
if source == "generated":
    a, b, c = st.columns([1, 1, 2])
    seed = a.number_input(t("unet.scene.seed"), 0, shapes.HELD_OUT_SEED - 1, 7, key="unet_seed",
                          help=t("unet.scene.seed_help"))
    b.button(t("unet.scene.new"), key="unet_new_scene",
             on_click=lambda: st.session_state.update(unet_seed=(st.session_state["unet_seed"] + 1) % shapes.HELD_OUT_SEED))
    noise = c.slider(t("unet.scene.noise"), 0.0, 0.4, shapes.DEFAULT_NOISE, step=0.02, key="unet_noise",
                     help=t("unet.scene.noise_help", noise=shapes.DEFAULT_NOISE))
    scene = shapes.scene(int(seed), size, noise=noise)
    show_segmentation(scene.image, scene.mask,
                      t("unet.scene.caption", seed=seed,
                        shapes=shapes.listed([shapes.display_name(s.kind) for s in scene.shapes])))
else:
    upload = st.file_uploader(t("unet.upload.label"), type=ui.IMAGE_TYPES, key="unet_upload")
    if upload is None:
        st.info(t("unet.upload.info", size=size))
    else:
        try:
            image, note = ui.from_upload(upload, read_upload, size, i18n.language())
        except uploads.UploadError as error:
            st.error(str(error))
        else:
            show_segmentation(image, None, note)

st.header(t("unet.ft.header"))
st.markdown(t("unet.ft.text"))
tasks = {code: t(f"unet.ft.task_option.{code}") for code in ("shape", "noise")}
task = st.radio(t("unet.ft.task"), list(tasks), horizontal=True, key="unet_ft_task", format_func=tasks.get)
a, b, c = st.columns(3)
if task == "shape":
    extra_kinds = dict(zip(shapes.EXTRA_KINDS, shapes.display_names(shapes.EXTRA_KINDS)))
    new_kind = a.selectbox(t("unet.ft.new_kind"), list(extra_kinds), key="unet_ft_kind", format_func=extra_kinds.get)
    ft_noise = shapes.DEFAULT_NOISE
else:
    new_kind = None
    ft_noise = a.slider(t("unet.ft.noise"), 0.1, 0.4, 0.25, step=0.05, key="unet_ft_noise")
rates = {v: i18n.number(v, ".0e") for v in (1e-4, 3e-4, 1e-3, 3e-3)}
lr = b.select_slider(t("unet.ft.lr"), options=list(rates), value=1e-3, format_func=rates.get, key="unet_ft_lr")
steps = c.slider(t("unet.ft.steps"), 10, 300, 80, step=10, key="unet_ft_steps")
ft_kinds = tuple(classes[1:]) + ((new_kind,) if new_kind else ())
ft_names = shapes.display_names(shapes.class_names(ft_kinds))
examples = [shapes.scene(i, size, noise=ft_noise, kinds=ft_kinds) for i in range(4)]
st.caption(t("unet.ft.examples"))
for i, (column, example) in enumerate(zip(st.columns(4), examples)):
    column.plotly_chart(label_overlay(example.image, example.mask, ft_names, t("unet.ft.example_title", i=i + 1)),
                        key=f"unet_ft_example_{i}")


def draw_finetune(events: list[dict]) -> None:
    before = next((e["dice_before"] for e in events if "dice_before" in e), None)
    after = next((e["dice_after"] for e in events if "dice_after" in e), None)
    if before is not None:
        tuned_classes = next(e["classes"] for e in events if "classes" in e)
        shown = ["mean"] + list(tuned_classes[1:])
        cols = st.columns(len(shown))
        for col, name in zip(cols, shown):
            key = "mean_dice" if name == "mean" else f"dice_{name}"
            value = (after or before)[key]
            label = t("unet.ft.mean") if name == "mean" else shapes.display_name(name)
            col.metric(t("unet.ft.dice_after" if after else "unet.ft.dice_before", name=label),
                       i18n.number(value, ".3f"), delta=i18n.number(value - before[key], "+.3f") if after else None)
    left, right = st.columns(2)
    left.plotly_chart(plots.curves(events, ["loss"], title=t("unet.ft.loss_title"), height=260), key="unet_ft_loss")
    right.plotly_chart(plots.curves(events, ["dice"], title=t("unet.ft.dice_title"), height=260),
                       key="unet_ft_dice")


tuned = ui.training_panel("unet_ft", finetune_unet, dict(name=NAME, lr=lr, steps=steps, new_kind=new_kind, noise=ft_noise),
                          metrics=("loss", "dice"), draw=draw_finetune, download_name=f"{NAME}-finetuned.safetensors")
if isinstance(tuned, bytes):
    if st.session_state.get("unet_tuned_for") is not tuned:
        st.session_state["unet_tuned"] = load_finetuned(tuned)
        st.session_state["unet_tuned_for"] = tuned
    tuned_model, meta = st.session_state["unet_tuned"]
    tuned_names, tuned_kinds = shapes.display_names(meta["classes"]), meta["classes"][1:]
    st.subheader(t("unet.cmp.header"))
    extra = [kind for kind in tuned_kinds if kind not in classes]
    st.caption(t("unet.cmp.caption_new_kind", noise=meta["noise"], kind=shapes.display_name(extra[0])) if extra
               else t("unet.cmp.caption", noise=meta["noise"]))
    example = shapes.scene(shapes.HELD_OUT_SEED + int(st.session_state.get("unet_seed", 0)), size,
                           noise=meta["noise"], kinds=tuned_kinds)
    a, b, c = st.columns(3)
    a.plotly_chart(label_overlay(example.image, example.mask, tuned_names, t("unet.true_mask")), key="unet_cmp_truth")
    b.plotly_chart(label_overlay(example.image, segment_image(model, example.image).labels, names,
                                 t("unet.cmp.shipped")), key="unet_cmp_shipped")
    c.plotly_chart(label_overlay(example.image, segment_image(tuned_model, example.image).labels, tuned_names,
                                 t("unet.cmp.tuned")), key="unet_cmp_tuned")
