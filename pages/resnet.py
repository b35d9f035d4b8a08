"""ResNet page: classify a garment with a residual network, see why residuals matter, and
transfer-learn it to the person's own image folders."""

import streamlit as st

from models.resnet.plain_vs_residual import NETS, compare_training, gradient_table
from models.resnet.transfer import MODES, load_adapted, preview, read_class_arrays, transfer
from zoo import i18n, photos, plots, ui, uploads
from zoo.i18n import t
from zoo.explain.inspection import inspect_image

NAME = "resnet-fashion"


ui.page_intro(t("resnet.title"), t("resnet.intro"))

model, card = ui.shared_model(NAME)
metrics, width, blocks = card["metrics"], card["config"]["width"], card["config"]["blocks"]
st.markdown(t("resnet.architecture", title=card["title"], blocks="/".join(map(str, blocks)), width=width,
               width2=2 * width, width4=4 * width))
st.caption(t("resnet.accuracy", accuracy=metrics["accuracy"], n=metrics["n"], parameters=card["parameters"]))
ui.model_card(card)

ui.view_in_url("resnet_source", "resnet_gallery", "resnet_layer", "resnet_demo_blocks", "resnet_demo_width")
st.header(t("resnet.your_garment"))
image, caption = ui.fashion_image_input("resnet")
if image is not None:
    ui.classifier_views(model, card, image, caption, "resnet", layer_label=t("resnet.stage"))

st.header(t("resnet.why_header"))
st.markdown(t("resnet.why_text"))
a, b, c, d = st.columns(4)
demo_blocks = a.select_slider(t("resnet.depth"), options=[3, 5, 7, 9], value=5,
                              format_func=lambda n: f"{6 * n + 2}", key="resnet_demo_blocks")
demo_width = b.select_slider(t("resnet.width"), options=[4, 8, 16], value=8, key="resnet_demo_width")
demo_steps = c.slider(t("resnet.steps"), 20, 300, 60, step=10, key="resnet_demo_steps")
batch_norm = d.toggle(t("resnet.batch_norm"), value=False, key="resnet_demo_bn")


def draw_comparison(events: list[dict]) -> None:
    names = {f"loss_{kind}": plots.Metric(t(f"resnet.net.{kind}"), t("resnet.loss_axis"), plots.LOSS) for kind in NETS}
    st.plotly_chart(plots.curves(events, list(names), title=t("resnet.loss_title"), x_title=t("resnet.step_axis"),
                                 names=names, height=280), key="resnet_demo_loss")
    last = next((e for e in reversed(events) if "grad_plain" in e), None)
    if last is None:
        return
    st.plotly_chart(plots.lines(range(1, len(last["grad_plain"]) + 1),
                                {t(f"resnet.net.{kind}"): last[f"grad_{kind}"] for kind in NETS}, log_y=True,
                                height=280, title=t("resnet.profile_title", step=last["step"]),
                                x_title=t("resnet.layer_axis"), y_title=t("resnet.gradient_axis")),
                    key="resnet_demo_profile")
    tables = {kind: gradient_table(events, kind) for kind in NETS}
    low = min(t[1].min() for t in tables.values())
    high = max(t[1].max() for t in tables.values())
    for column, kind in zip(st.columns(2), NETS):
        steps, log_norms = tables[kind]
        column.plotly_chart(plots.heatmap(log_norms, steps, range(1, len(log_norms) + 1), zmin=low, zmax=high,
                                          title=t(f"resnet.heat_title.{kind}"), x_title=t("resnet.step_axis"),
                                          y_title=t("resnet.layer_axis"), colorbar=t("resnet.gradient_colorbar")),
                            key=f"resnet_demo_heat_{kind}")


ui.training_panel("resnet_demo", compare_training,
                  dict(blocks=demo_blocks, width=demo_width, batch_norm=batch_norm, steps=demo_steps),
                  download_name=None, draw=draw_comparison, label="comparison")

st.header(t("resnet.transfer_header"))
st.markdown(t("resnet.transfer_text", features=4 * width))
archive = st.file_uploader(t("resnet.zip_upload"), type=["zip"], key="resnet_tl_zip")
if archive is None:
    st.info(t("resnet.upload_to_start"))
    st.stop()
try:
    images, labels, classes = ui.from_upload(archive, read_class_arrays)
except uploads.UploadError as error:
    st.error(str(error))
    st.stop()
counts = t("resnet.list_separator").join(t("resnet.class_count", name=name, count=labels.tolist().count(i))
                                         for i, name in enumerate(classes))
st.caption(t("resnet.images_in_classes", images=len(labels), classes=len(classes), counts=counts))
shown, shown_labels = preview(images, labels)
st.plotly_chart(plots.image_grid(shown, title=t("resnet.preview_title"),
                                 titles=[classes[i] for i in shown_labels], cols=8, colorscale="gray"),
                key="resnet_tl_preview")

a, b, c = st.columns([2, 1, 1])
mode = a.radio(t("resnet.method"), list(MODES), format_func=i18n.as_drawn(lambda code: t(f"resnet.mode.{code}")),
               key="resnet_tl_mode")
lr = b.select_slider(t("resnet.learning_rate"), options=[3e-4, 1e-3, 3e-3, 1e-2], value=3e-3,
                     format_func=lambda v: f"{v:.0e}", key="resnet_tl_lr")
tl_steps = c.slider(t("resnet.steps"), 10, 300, 60, step=10, key="resnet_tl_steps")


def draw_transfer(events: list[dict]) -> None:
    left, right = st.columns(2)
    loss_name = plots.Metric(t("resnet.transfer_loss_name"), t("resnet.transfer_loss_axis"), plots.LOSS)
    left.plotly_chart(plots.curves(events, ["loss"], title=t("resnet.transfer_loss_title"), height=240,
                                   x_title=t("resnet.step_axis"), names={"loss": loss_name}),
                      key="resnet_tl_curve_loss")
    right.plotly_chart(plots.curves(events, ["accuracy"], title=t("resnet.transfer_accuracy_title"), height=240,
                                    x_title=t("resnet.step_axis")),
                       key="resnet_tl_curve_accuracy")
    final = next((e["held_out"] for e in events if "held_out" in e), None)
    if final is not None:
        st.metric(t("resnet.held_out_accuracy"), i18n.number(final["accuracy"], ".1%"))
        columns = {name: t(f"resnet.column.{name}") for name in ("class", "correct", "held_out", "accuracy")}
        st.dataframe([{columns["class"]: name, columns["correct"]: right_, columns["held_out"]: total,
                       columns["accuracy"]: right_ / total if total else None}
                      for name, (right_, total) in final["per_class"].items()],
                     hide_index=True, key="resnet_tl_per_class", column_config={columns["accuracy"]:
                         st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="percent")})


adapted = ui.training_panel(
    "resnet_tl", transfer,
    dict(name=NAME, images=images, labels=labels, classes=classes, mode=mode, lr=lr, steps=tl_steps),
    download_name=f"{NAME}-transfer.safetensors", draw=draw_transfer, label="transfer")
if adapted is None:
    st.stop()
st.caption(t("resnet.adapted_file"))

st.subheader(t("resnet.classify_new"))
if st.session_state.get("resnet_tl_model_for") is not adapted:
    st.session_state["resnet_tl_model"] = load_adapted(adapted)
    st.session_state["resnet_tl_model_for"] = adapted
adapted_model, classes = st.session_state["resnet_tl_model"]
upload = st.file_uploader(t("resnet.image_upload"), type=ui.IMAGE_TYPES, key="resnet_tl_new")
if upload is None:
    st.stop()
try:
    x = ui.from_upload(upload, photos.read_upload)[1].tensor()
except uploads.UploadError as error:
    st.error(str(error))
    st.stop()
look = inspect_image(adapted_model, x)
top = int(look.probs.argmax())
left, middle, right = st.columns([1, 1, 2])
left.plotly_chart(plots.image(x[0].numpy(), t("resnet.model_sees")), key="resnet_tl_seen")
middle.plotly_chart(plots.overlay(x[0].numpy(), look.saliency, t("resnet.saliency")), key="resnet_tl_saliency")
with right:
    st.markdown(f"**{classes[top]}** · {i18n.number(float(look.probs[top]), '.1%')}")
    st.plotly_chart(plots.probability_bars(look.probs, classes, title=t("resnet.adapted_classes")),
                    key="resnet_tl_probs")
