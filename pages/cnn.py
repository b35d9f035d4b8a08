"""CNN page: classify a garment with a small convolutional network, look inside, fine-tune it."""
import streamlit as st

from zoo import ui, uploads
from zoo.training.image_classifier import fashion_arrays, finetune_classifier

NAME = "cnn-fashion"

ui.page_intro(
    "Convolutional neural network",
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
ui.classifier_views(model, card, image, caption, "cnn")

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
