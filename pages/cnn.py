"""CNN page: classify a garment with a small convolutional network, look inside, fine-tune it."""
import numpy as np
import streamlit as st

from zoo import plots, ui, uploads
from zoo.classify import inspect_image
from zoo.data import fashion_mnist
from zoo.finetune import fashion_arrays, finetune_classifier

NAME = "cnn-fashion"

st.title("Convolutional neural network")
st.markdown(
    "A CNN slides small learned filters over the image, so the same edge or texture detector "
    "works wherever the pattern appears; pooling then trades position for meaning, layer by layer. "
    "This one has four 3x3 conv layers with batch norm and was trained on the 60,000 Fashion-MNIST "
    "images: give it a garment and watch which filters fire and which pixels decide.")

model, card = ui.shared_model(NAME)
metrics = card["metrics"]
st.caption(f"Test accuracy **{metrics['accuracy']:.2%}** on {metrics['n']:,} held-out images · "
           f"{card['parameters']:,} parameters")
ui.model_card(card)

st.header("1. Your garment")
image, caption = ui.fashion_image_input("cnn")
if image is None:
    st.stop()
seen = image[0].numpy()
look = inspect_image(model, image)
top = int(np.argmax(look.probs))

left, right = st.columns([1, 2])
with left:
    st.plotly_chart(plots.image(seen, "What the model sees (28x28)"), key="cnn_seen")
    st.caption(caption)
with right:
    st.subheader(f"{fashion_mnist.CLASSES[top]} · {look.probs[top]:.1%}")
    st.plotly_chart(plots.probability_bars(look.probs, fashion_mnist.CLASSES, top=5), key="cnn_probs")

st.header("2. Inside the model")
st.markdown("**Where it looks.** Saliency is how much each pixel would change the winning score; "
            "Grad-CAM weighs the last layer's feature maps by their gradient.")
a, b = st.columns(2)
a.plotly_chart(plots.overlay(seen, look.saliency, "Saliency"), key="cnn_saliency")
b.plotly_chart(plots.overlay(seen, look.grad_cam, "Grad-CAM (last conv layer)"), key="cnn_gradcam")

layer = st.select_slider("Conv layer", options=list(range(1, len(look.feature_maps) + 1)), value=1, key="cnn_layer")
maps = look.feature_maps[layer - 1]
st.markdown(f"**Feature maps of conv layer {layer}** ({maps.shape[0]} channels at {maps.shape[1]}x{maps.shape[2]}): "
            "bright where the layer's filter matches this input.")
shown = min(32, maps.shape[0])
st.plotly_chart(plots.image_grid(maps[:shown], cols=8), key="cnn_maps")
if layer == 1:
    filters = model.convs[0][0].weight.detach().cpu().numpy()[:, 0]
    st.markdown("**The learned 3x3 filters of the first layer** (red positive, blue negative weights).")
    st.plotly_chart(plots.image_grid(filters, cols=16, height_per_row=70, symmetric=True, gap=0.02), key="cnn_filters")

st.markdown("**Where it is wrong.** The confusion matrix on the 10,000 test images, as measured for the card: "
            "shirts, T-shirts, pullovers and coats are the hard cases.")
if "confusion" in metrics:
    st.plotly_chart(plots.confusion(np.array(metrics["confusion"]), fashion_mnist.CLASSES), key="cnn_confusion")

st.header("3. Fine-tune it")
st.markdown("Continue training a private copy on a Fashion-MNIST subset or on your own labelled photos; "
            "the shared model stays as it is. Accuracy is measured before and after on held-out images.")
lr = st.select_slider("Learning rate", options=[1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3], value=3e-4,
                      format_func=lambda v: f"{v:.0e}", key="cnn_lr")
steps = st.slider("Steps", 10, 500, 100, step=10, key="cnn_steps")
data = st.radio("Data", ["Fashion-MNIST subset", "My images (zip of class folders)"], horizontal=True, key="cnn_data")
job_kwargs = dict(name=NAME, lr=lr, steps=steps)
if data == "Fashion-MNIST subset":
    job_kwargs["n_train"] = st.slider("Training images", 500, 20000, 2000, step=500, key="cnn_n")
else:
    st.caption("One folder per class, named like the classes (e.g. `sneaker/`, `bag/`, `t-shirt/`), two classes or more.")
    archive = st.file_uploader("Zip of class folders", type=["zip"], key="cnn_zip")
    if archive is None:
        st.stop()
    try:
        job_kwargs["images"], job_kwargs["labels"] = fashion_arrays(uploads.read_class_folders(archive.getvalue(), archive.name))
    except uploads.UploadError as error:
        st.error(str(error))
        st.stop()
    st.caption(f"{len(job_kwargs['labels'])} images in {len(set(job_kwargs['labels'].tolist()))} classes.")
ui.training_panel("cnn_ft", finetune_classifier, job_kwargs, download_name=f"{NAME}-finetuned.safetensors")
