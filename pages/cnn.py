"""CNN page: classify a garment with a small convolutional network, look inside, fine-tune it."""
import numpy as np
import streamlit as st

from zoo import plots, ui, uploads
from zoo.explain import figures
from zoo.explain.comparison import Comparison, compare_methods
from zoo.training.image_classifier import (MIN_OWN_IMAGES, VALIDATION_IMAGES, fashion_arrays, finetune_classifier,
                                           own_images_problem)

NAME = "cnn-fashion"
MEASURED_IMAGES = 2000
"""the first test images a fine-tuning run is measured on: 2,000 take the CNN about 2 s on one CPU thread"""


@st.cache_data(scope="session", max_entries=16, ttl="1h", show_spinner="Measuring which explanation is faithful…")
def most_faithful_map(pixels: np.ndarray) -> Comparison:
    """Every attribution method on the image with its deletion and insertion curves, kept per session and image."""
    return compare_methods(ui.shared_model(NAME)[0], pixels, sanity_check=False)


def read_own_images(data: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A zip of class folders named like Fashion-MNIST's classes as uint8 (N, 28, 28) images and labels."""
    return fashion_arrays(uploads.read_class_folders(data, name))


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

ui.view_in_url("cnn_source", "cnn_gallery", "cnn_layer")
st.header("1. Your garment")
image, caption = ui.fashion_image_input("cnn")
if image is None:
    st.stop()
ui.classifier_views(model, card, image, caption, "cnn")

st.subheader("Why did it say that?")
pixels = image[0].numpy()
why = most_faithful_map(pixels)
best = why.most_faithful
st.markdown(f"Of {len(why.methods)} attribution methods, **{best.attribution.method}** points most faithfully at the "
            "pixels this prediction rests on: blacking them out first lowers the probability fastest, revealing them "
            "first raises it fastest.")
a, _ = st.columns(2)
a.plotly_chart(figures.evidence_overlay(pixels, best.attribution), key="cnn_why")
st.page_link("pages/explain.py", icon=":material/psychology_alt:",
             label="Compare every method, its faithfulness and its sanity check on the Explain page")

st.header("3. Fine-tune it")
st.markdown("Continue training a private copy on a Fashion-MNIST subset or on your own labelled photos; the shared "
            "model stays as it is. Every 25 steps it is scored on validation images (the curves) and the weights that "
            "score best are kept; accuracy before and after is measured on other held-out images.")
data = st.radio("Data", ["Fashion-MNIST subset", "My images (zip of class folders)"], horizontal=True, key="cnn_data")
own = data != "Fashion-MNIST subset"
if own:
    st.caption(f"About 60% of each class's images train it, 20% choose the weights kept and 20% give the accuracy "
               f"before and after. It is also measured on the first {MEASURED_IMAGES:,} Fashion-MNIST test images, to "
               "show what it forgot; half of every batch is Fashion-MNIST to limit that.")
else:
    st.caption(f"The model learned from all 60,000 training images, so only test images are new to it: the last "
               f"{VALIDATION_IMAGES:,} choose the weights kept, the first {MEASURED_IMAGES:,} give the accuracy before "
               f"and after (the card's {metrics['accuracy']:.2%} is on all {metrics['n']:,}). More steps on a few "
               "thousand images it has seen teach it little, so at the default learning rate it stays about where it "
               "was.")
lr = st.select_slider("Learning rate", options=[1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3], value=3e-4 if own else 3e-5,
                      format_func=lambda v: f"{v:.0e}", key="cnn_own_lr" if own else "cnn_lr",
                      help="Your photos are new to it and need larger steps than more of what it has seen.")
steps = st.slider("Steps", 10, 500, 100, step=10, key="cnn_steps")
job_kwargs = dict(name=NAME, lr=lr, steps=steps, n_test=MEASURED_IMAGES)
if not own:
    job_kwargs["n_train"] = st.slider("Training images", 500, 20000, 2000, step=500, key="cnn_n")
else:
    st.caption(f"One folder per class, named like the classes (e.g. `sneaker/`, `bag/`, `t-shirt/`), two classes or "
               f"more, at least {MIN_OWN_IMAGES} images each.")
    archive = st.file_uploader("Zip of class folders", type=["zip"], key="cnn_zip")
    if archive is None:
        st.stop()
    try:
        job_kwargs["images"], job_kwargs["labels"] = ui.from_upload(archive, read_own_images)
    except uploads.UploadError as error:
        st.error(str(error))
        st.stop()
    if problem := own_images_problem(job_kwargs["labels"]):
        st.error(problem)
        st.stop()
    st.caption(f"{len(job_kwargs['labels'])} images in {len(set(job_kwargs['labels'].tolist()))} classes.")


def draw_finetune(events: list[dict]) -> None:
    start = events[0].get("before", {})
    final = next((e for e in events if "summary" in e), None)
    if "original" in start:
        left, right, _ = st.columns([1, 1, 2])
        left.metric(f"Fashion-MNIST test ({MEASURED_IMAGES:,}) before", f"{start['original']:.1%}")
        if final is not None:
            after = final["after"]["original"]
            right.metric("after", f"{after:.1%}", delta=f"{after - start['original']:+.1%}")
    charts = [("loss", "Training loss (nats per image)"), ("validation_loss", "Validation loss (nats per image)"),
              ("accuracy", "Validation accuracy")]
    for column, (metric, title) in zip(st.columns(3), charts):
        column.plotly_chart(plots.curves(events, [metric], title=title, height=240), key=f"cnn_ft_{metric}")
    if final is not None:
        st.caption(final["summary"])
        for warning in final["warnings"]:
            st.warning(warning)


ui.training_panel("cnn_ft", finetune_classifier, job_kwargs, download_name=f"{NAME}-finetuned.safetensors",
                  draw=draw_finetune)
