"""CNN page: classify a garment with a small convolutional network, look inside, fine-tune it."""

import numpy as np
import streamlit as st

from zoo import i18n, plots, ui, uploads
from zoo.explain import figures
from zoo.explain.comparison import Comparison, compare_methods
from zoo.i18n import t
from zoo.training.image_classifier import (MIN_OWN_IMAGES, VALIDATION_IMAGES, fashion_arrays, finetune_classifier,
                                           own_images_problem)

NAME = "cnn-fashion"
MEASURED_IMAGES = 2000
"""the first test images a fine-tuning run is measured on: 2,000 take the CNN about 2 s on one CPU thread"""


@st.cache_data(scope="session", max_entries=16, ttl="1h", show_spinner=False)
def most_faithful_map(pixels: np.ndarray) -> Comparison:
    """Every attribution method on the image with its deletion and insertion curves, kept per session and image."""
    return compare_methods(ui.shared_model(NAME)[0], pixels, sanity_check=False)


def read_own_images(data: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A zip of class folders named like Fashion-MNIST's classes as uint8 (N, 28, 28) images and labels."""
    return fashion_arrays(uploads.read_class_folders(data, name))



ui.page_intro(t("cnn.title"), t("cnn.intro"))

model, card = ui.shared_model(NAME)
metrics = card["metrics"]
st.caption(t("cnn.accuracy", accuracy=metrics["accuracy"], n=metrics["n"], parameters=card["parameters"]))
ui.model_card(card)

ui.view_in_url("cnn_source", "cnn_gallery", "cnn_layer")
st.header(t("cnn.your_garment"))
image, caption = ui.fashion_image_input("cnn")
if image is None:
    st.stop()
ui.classifier_views(model, card, image, caption, "cnn")

st.subheader(t("cnn.why"))
pixels = image[0].numpy()
with st.spinner(t("cnn.measuring")):
    why = most_faithful_map(pixels)
best = why.most_faithful
st.markdown(t("cnn.most_faithful", n=len(why.methods), method=best.attribution.title))
a, _ = st.columns(2)
a.plotly_chart(figures.evidence_overlay(pixels, best.attribution), key="cnn_why")
st.page_link("pages/explain.py", icon=":material/psychology_alt:",
             label=t("cnn.explain_link"))

st.header(t("cnn.finetune_header"))
st.markdown(t("cnn.finetune_text"))
data = st.radio(t("cnn.data"), ["fashion", "own"], format_func=i18n.as_drawn(lambda code: t(f"cnn.data_option.{code}")),
                horizontal=True, key="cnn_data")
own = data == "own"
if own:
    st.caption(t("cnn.own_split", measured=MEASURED_IMAGES))
else:
    st.caption(t("cnn.fashion_split", validation=VALIDATION_IMAGES, measured=MEASURED_IMAGES,
                 accuracy=metrics["accuracy"], n=metrics["n"]))
lr = st.select_slider(t("cnn.learning_rate"), options=[1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3],
                      value=3e-4 if own else 3e-5, format_func=lambda v: f"{v:.0e}",
                      key="cnn_own_lr" if own else "cnn_lr", help=t("cnn.learning_rate_help"))
steps = st.slider(t("cnn.steps"), 10, 500, 100, step=10, key="cnn_steps")
job_kwargs = dict(name=NAME, lr=lr, steps=steps, n_test=MEASURED_IMAGES)
if not own:
    job_kwargs["n_train"] = st.slider(t("cnn.training_images"), 500, 20000, 2000, step=500, key="cnn_n")
else:
    st.caption(t("cnn.folders_help", min_images=MIN_OWN_IMAGES))
    archive = st.file_uploader(t("cnn.zip_upload"), type=["zip"], key="cnn_zip")
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
    st.caption(t("cnn.images_in_classes", images=len(job_kwargs["labels"]),
                 classes=len(set(job_kwargs["labels"].tolist()))))


def draw_finetune(events: list[dict]) -> None:
    start = events[0].get("before", {})
    final = next((e for e in events if "summary" in e), None)
    if "original" in start:
        left, right, _ = st.columns([1, 1, 2])
        left.metric(t("cnn.original_before", measured=MEASURED_IMAGES), i18n.number(start["original"], ".1%"))
        if final is not None:
            after = final["after"]["original"]
            right.metric(t("cnn.after"), i18n.number(after, ".1%"),
                         delta=i18n.number(after - start["original"], "+.1%"))
    for column, metric in zip(st.columns(3), ["loss", "validation_loss", "accuracy"]):
        column.plotly_chart(plots.curves(events, [metric], title=t(f"image_classifier.chart.{metric}"), height=240),
                            key=f"cnn_ft_{metric}")
    if final is not None:
        st.caption(final["summary"])
        for warning in final["warnings"]:
            st.warning(warning)


ui.training_panel("cnn_ft", finetune_classifier, job_kwargs, download_name=f"{NAME}-finetuned.safetensors",
                  draw=draw_finetune)
