"""ResNet page: classify a garment with a residual network, see why residuals matter, and
transfer-learn it to the person's own image folders."""
import streamlit as st

from models.resnet.plain_vs_residual import NETS, compare_training, gradient_table
from models.resnet.transfer import MODES, load_adapted, preview, read_class_arrays, transfer
from zoo import photos, plots, ui, uploads
from zoo.explain.inspection import inspect_image

NAME = "resnet-fashion"

ui.page_intro(
    "Residual network (ResNet)",
    "A residual block adds its input back to what its two convolutions compute, `y = x + F(x)`, "
    "so each block only learns a correction and the gradient has a shortcut straight back to the "
    "first layers. That is what let He et al. (2016) train networks of over 100 layers.")

model, card = ui.shared_model(NAME)
metrics, width, blocks = card["metrics"], card["config"]["width"], card["config"]["blocks"]
st.markdown(f"This one is a {card['title']}: a 3x3 stem, three stages of {'/'.join(map(str, blocks))} blocks at "
            f"28, 14 and 7 pixels with {width}, {2 * width} and {4 * width} channels, global average pooling "
            "and a linear classifier, trained on the 60,000 Fashion-MNIST images.")
st.caption(f"Test accuracy **{metrics['accuracy']:.2%}** on {metrics['n']:,} held-out images · "
           f"{card['parameters']:,} parameters")
ui.model_card(card)

ui.view_in_url("resnet_source", "resnet_gallery", "resnet_layer", "resnet_demo_blocks", "resnet_demo_width")
st.header("1. Your garment")
image, caption = ui.fashion_image_input("resnet")
if image is not None:
    ui.classifier_views(model, card, image, caption, "resnet", layer_label="Stage")

st.header("3. Why residuals matter")
st.markdown(
    "Train a plain deep network and the residual network of the same depth side by side, on the same "
    "batches. Without batch norm, the plain net's gradient shrinks at every layer on its way back, so its "
    "first layers barely learn and its loss stays near chance (ln 10 ≈ 2.30); the shortcuts carry the "
    "gradient to every layer of the residual net. With batch norm the plain net's gradient no longer "
    "vanishes, but at depth it still trains worse than the residual one given enough steps (the paper's "
    "*degradation* problem).")
a, b, c, d = st.columns(4)
demo_blocks = a.select_slider("Depth (layers)", options=[3, 5, 7, 9], value=5, format_func=lambda n: f"{6 * n + 2}",
                         key="resnet_demo_blocks")
demo_width = b.select_slider("Width", options=[4, 8, 16], value=8, key="resnet_demo_width")
demo_steps = c.slider("Steps", 20, 300, 60, step=10, key="resnet_demo_steps")
batch_norm = d.toggle("Batch norm", value=False, key="resnet_demo_bn")


def draw_comparison(events: list[dict]) -> None:
    st.plotly_chart(plots.curves(events, [f"loss_{kind}" for kind in NETS], title="Training loss of both nets, "
                                 "averaged between reports (chance: ln 10 ≈ 2.30)", height=280), key="resnet_demo_loss")
    last = next((e for e in reversed(events) if "grad_plain" in e), None)
    if last is None:
        return
    st.plotly_chart(plots.lines(range(1, len(last["grad_plain"]) + 1),
                                {f"{kind} net": last[f"grad_{kind}"] for kind in NETS}, log_y=True, height=280,
                                title=f"Gradient norm of each conv layer at step {last['step']} (log scale)",
                                x_title="layer (1 = nearest the input)", y_title="‖∂loss/∂W‖"),
                    key="resnet_demo_profile")
    tables = {kind: gradient_table(events, kind) for kind in NETS}
    low = min(t[1].min() for t in tables.values())
    high = max(t[1].max() for t in tables.values())
    for column, kind in zip(st.columns(2), NETS):
        steps, log_norms = tables[kind]
        column.plotly_chart(plots.heatmap(log_norms, steps, range(1, len(log_norms) + 1), zmin=low, zmax=high,
                                          title=f"{kind.capitalize()} net: log10 gradient norm per layer",
                                          x_title="training step", y_title="layer (1 = nearest the input)",
                                          colorbar="log10 ‖∂loss/∂W‖"),
                            key=f"resnet_demo_heat_{kind}")


ui.training_panel("resnet_demo", compare_training,
                  dict(blocks=demo_blocks, width=demo_width, batch_norm=batch_norm, steps=demo_steps),
                  download_name=None, draw=draw_comparison, label="comparison")

st.header("4. Transfer learning on your own images")
st.markdown(
    "The features the ResNet learned on garments can serve other small greyscale image tasks. Upload a zip "
    "with one folder of images per class (2 to 10 classes, at least two images each, any photo size); "
    "each image becomes a 28x28 greyscale picture like the ones above. A quarter of each class is held out "
    "to measure the adapted model. **Feature extraction** keeps the trained body frozen and fits only a new "
    f"classifier on its {4 * width} pooled features; **full fine-tuning** also adjusts the body, ten times more gently.")
archive = st.file_uploader("Zip of class folders (e.g. `cats/1.jpg`, `dogs/1.jpg`)", type=["zip"], key="resnet_tl_zip")
if archive is None:
    st.info("Upload a zip of class folders to start.")
    st.stop()
try:
    images, labels, classes = ui.from_upload(archive, read_class_arrays)
except uploads.UploadError as error:
    st.error(str(error))
    st.stop()
counts = ", ".join(f"{name} ({labels.tolist().count(i)})" for i, name in enumerate(classes))
st.caption(f"{len(labels)} images in {len(classes)} classes: {counts}.")
shown, shown_labels = preview(images, labels)
st.plotly_chart(plots.image_grid(shown, title="Some of your images as the model sees them (28x28)",
                                 titles=[classes[i] for i in shown_labels], cols=8, colorscale="gray"),
                key="resnet_tl_preview")

a, b, c = st.columns([2, 1, 1])
mode = a.radio("Method", list(MODES), format_func=MODES.get, key="resnet_tl_mode")
lr = b.select_slider("Learning rate", options=[3e-4, 1e-3, 3e-3, 1e-2], value=3e-3,
                     format_func=lambda v: f"{v:.0e}", key="resnet_tl_lr")
tl_steps = c.slider("Steps", 10, 300, 60, step=10, key="resnet_tl_steps")


def draw_transfer(events: list[dict]) -> None:
    left, right = st.columns(2)
    left.plotly_chart(plots.curves(events, ["loss"], title="Training loss on your images", height=240,
                                   names={"loss": plots.Metric("training loss", "cross-entropy (nats)", plots.LOSS)}),
                      key="resnet_tl_curve_loss")
    right.plotly_chart(plots.curves(events, ["accuracy"], title="Accuracy on your held-out images", height=240),
                       key="resnet_tl_curve_accuracy")
    final = next((e["held_out"] for e in events if "held_out" in e), None)
    if final is not None:
        st.metric("Held-out accuracy", f"{final['accuracy']:.1%}")
        st.dataframe([{"class": name, "correct": right_, "held out": total,
                       "accuracy": f"{right_ / total:.0%}" if total else "-"}
                      for name, (right_, total) in final["per_class"].items()],
                     hide_index=True, key="resnet_tl_per_class")


adapted = ui.training_panel(
    "resnet_tl", transfer,
    dict(name=NAME, images=images, labels=labels, classes=classes, mode=mode, lr=lr, steps=tl_steps),
    download_name=f"{NAME}-transfer.safetensors", draw=draw_transfer, label="transfer")
if adapted is None:
    st.stop()
st.caption("The downloaded file holds the adapted weights; its metadata names the base model and your classes "
           "(`models.resnet.transfer.load_adapted(data)` rebuilds it).")

st.subheader("Classify new images with the adapted model")
if st.session_state.get("resnet_tl_model_for") is not adapted:
    st.session_state["resnet_tl_model"] = load_adapted(adapted)
    st.session_state["resnet_tl_model_for"] = adapted
adapted_model, classes = st.session_state["resnet_tl_model"]
upload = st.file_uploader("An image to classify", type=ui.IMAGE_TYPES, key="resnet_tl_new")
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
left.plotly_chart(plots.image(x[0].numpy(), "What the model sees"), key="resnet_tl_seen")
middle.plotly_chart(plots.overlay(x[0].numpy(), look.saliency, "Saliency"), key="resnet_tl_saliency")
with right:
    st.markdown(f"**{classes[top]}** · {look.probs[top]:.1%}")
    st.plotly_chart(plots.probability_bars(look.probs, classes, title="The adapted model's classes"),
                    key="resnet_tl_probs")
