"""Self-supervised page: a representation learned from Fashion-MNIST without its labels (SimCLR), what "the same
garment" means to it, the map of its features, how few labels a probe needs on them, the similarity matrix its
loss sees, and a live fine-tune on Fashion-MNIST or the person's own unlabelled images."""
import numpy as np
import streamlit as st

from models.self_supervised import explore, figures
from models.self_supervised.augment import AugmentStrengths
from models.self_supervised.probes import KNN_K
from models.self_supervised.recipe import EVAL_EVERY, MIN_OWN_IMAGES, MONITOR_QUERIES, TRAINING_IMAGES, finetune_simclr
from zoo import i18n, plots, ui, uploads
from zoo.data import fashion_mnist
from zoo.i18n import t

NAME = "simclr-fashion"
CLASSES = fashion_mnist.class_names()
MAX_OWN_IMAGES = 64
"""the most of the person's images a fine-tune takes: each is read and kept once per upload (`ui.from_uploads`)"""
PROBE_LABELS = [1, 2, 5, 10, 20, 50, 100]
"""the labelled images per class the live probe offers (100 per class: 1,000 images, under a second)"""

ui.page_intro(t("self_supervised.title"), t("self_supervised.intro"))

model, card = ui.shared_model(NAME)
m = card["metrics"]
st.caption(t("self_supervised.card_caption", n=m["n"], probe=m["linear_probe_accuracy"], knn=m["knn_accuracy"],
             random_probe=m["random_encoder"]["linear_probe_accuracy"], random_knn=m["random_encoder"]["knn_accuracy"],
             steps=card["steps"], train=TRAINING_IMAGES, parameters=card["parameters"]))
ui.model_card(card)


@st.cache_resource(show_spinner=False)
def _test_set() -> explore.TestSet:
    return explore.test_set(ui.shared_model(NAME)[0])


def test_set() -> explore.TestSet:
    with st.spinner(t("self_supervised.spinner.test_set")):
        return _test_set()


@st.cache_resource(show_spinner=False)
def _feature_map(method: str) -> explore.FeatureMap:
    return explore.feature_map(test_set(), method)


def feature_map(method: str) -> explore.FeatureMap:
    with st.spinner(t("self_supervised.spinner.map")):
        return _feature_map(method)


@st.cache_data(max_entries=64, show_spinner=False)
def _probe_with_few_labels(per_class: int, seed: int) -> explore.ProbeResult:
    return explore.probe_with_few_labels(ui.shared_model(NAME)[0], per_class, seed, test_set())


def probe_with_few_labels(per_class: int, seed: int) -> explore.ProbeResult:
    with st.spinner(t("self_supervised.spinner.probe")):
        return _probe_with_few_labels(per_class, seed)


def probe_on_zip(data: bytes, name: str) -> explore.ProbeResult:
    """A probe on the person's zip of class folders, fitted once per upload."""
    images, labels = explore.labelled_images(data, name)
    return explore.probe(ui.shared_model(NAME)[0], images, labels, test_set())


test = test_set()
if not test.complete:
    st.warning(t("self_supervised.sample_only"))

ui.view_in_url("ssl_source", "ssl_gallery", "ssl_crop", "ssl_rotation", "ssl_map_method", "ssl_probe_k", "ssl_probe_seed")
st.header(t("self_supervised.views.header"))
st.markdown(t("self_supervised.views.text"))
image, caption = ui.fashion_image_input("ssl")
trained = AugmentStrengths()
with st.expander(t("self_supervised.views.strengths"), expanded=True):
    a, b, c, d = st.columns(4)
    strengths = AugmentStrengths(
        crop_scale=a.slider(t("self_supervised.views.crop"), 0.1, 1.0, trained.crop_scale, step=0.05, key="ssl_crop"),
        flip=a.slider(t("self_supervised.views.flip"), 0.0, 1.0, trained.flip, step=0.1, key="ssl_flip"),
        rotation=b.slider(t("self_supervised.views.rotation"), 0.0, 45.0, trained.rotation, step=5.0,
                          key="ssl_rotation"),
        brightness=b.slider(t("self_supervised.views.brightness"), 0.0, 0.9, trained.brightness, step=0.1,
                            key="ssl_brightness"),
        contrast=c.slider(t("self_supervised.views.contrast"), 0.0, 0.9, trained.contrast, step=0.1,
                          key="ssl_contrast"),
        blur=c.slider(t("self_supervised.views.blur"), 0.0, 1.0, trained.blur, step=0.1, key="ssl_blur"),
        erase=d.slider(t("self_supervised.views.erase"), 0.0, 1.0, trained.erase, step=0.05, key="ssl_erase"))
    if d.button(t("self_supervised.views.redraw"), key="ssl_redraw"):
        st.session_state["ssl_views_seed"] = st.session_state.get("ssl_views_seed", 0) + 1
if image is None:
    st.info(t("self_supervised.views.pick"))
else:
    first, second = explore.two_views(image.unsqueeze(0), strengths, st.session_state.get("ssl_views_seed", 0))
    pictures = {"image": (t("self_supervised.views.yours"), image[0].numpy()),
                "1": (t("self_supervised.views.first"), first[0]), "2": (t("self_supervised.views.second"), second[0])}
    for column, (code, (title, pixels)) in zip(st.columns(3), pictures.items()):
        column.plotly_chart(plots.image(pixels, title, height=230), key=f"ssl_view_{code}")
    agreement = explore.views_agreement(model, first[0], second[0])
    st.caption(t("self_supervised.views.agreement", caption=caption, agreement=agreement,
                 typical=test.typical_similarity()))

st.header(t("self_supervised.map.header"))
st.markdown(t("self_supervised.map.text", points=min(explore.MAP_POINTS, len(test.labels))))
method = st.radio(t("self_supervised.map.method"), ["PCA", "t-SNE"], horizontal=True, key="ssl_map_method")
shown = feature_map(method.lower().replace("-", ""))
marks = {}
if image is not None:
    yours = explore.embed(model, image.unsqueeze(0))
    marks[t("self_supervised.views.yours")] = tuple(shown.place(yours)[0])
st.plotly_chart(figures.feature_map(shown.coords, shown.labels, CLASSES, marks, method), key="ssl_map")
if method == "t-SNE" and marks:
    st.caption(t("self_supervised.map.tsne_caption", k=explore.PLACE_NEIGHBOURS))
if image is not None:
    index, similarity = explore.nearest_neighbours(test.features, yours, 8)
    st.plotly_chart(plots.image_grid(test.images[index[0]] / 255.0,
                                     title=t("self_supervised.neighbours.title", k=len(index[0]),
                                             total=len(test.labels)),
                                     titles=[f"{CLASSES[test.labels[i]]} · {i18n.number(s, '.2f')}"
                                             for i, s in zip(index[0], similarity[0])],
                                     cols=8, height_per_row=150, colorscale="gray", zrange=(0, 1)), key="ssl_neighbours")
    st.caption(t("self_supervised.neighbours.caption", k=KNN_K, train=TRAINING_IMAGES))

st.header(t("self_supervised.probe.header"))
table = m["label_efficiency"]
st.markdown(t("self_supervised.probe.text"))
label_sources = {code: t(f"self_supervised.probe.source_option.{code}") for code in ("drawn", "zip")}
source = st.radio(t("self_supervised.probe.source"), list(label_sources), horizontal=True, key="ssl_probe_source",
                  format_func=label_sources.get)  # labels made in this run: the widget keeps its code across a switch
probes = []
if source == "drawn":
    a, b = st.columns([3, 1])
    per_class = a.select_slider(t("self_supervised.probe.per_class"), PROBE_LABELS, value=10, key="ssl_probe_k")
    draw = int(b.number_input(t("self_supervised.probe.draw"), 0, 1000, 0, key="ssl_probe_seed",
                              help=t("self_supervised.probe.draw_help")))
    if test.complete:
        result = probe_with_few_labels(per_class, draw)
        probes.append((t("self_supervised.probe.yours_drawn", per_class=per_class), per_class, result.accuracy))
    else:
        st.info(t("self_supervised.probe.needs_training_set"))
else:
    st.caption(t("self_supervised.probe.zip_caption"))
    archive = st.file_uploader(t("self_supervised.probe.zip_upload"), type=["zip"], key="ssl_probe_zip")
    result = None
    if archive is not None:
        try:
            result = ui.from_upload(archive, probe_on_zip)
            probes.append((t("self_supervised.probe.yours_zip", labelled=result.labelled), result.per_class,
                           result.accuracy))
        except uploads.UploadError as error:
            st.error(str(error))
st.plotly_chart(figures.label_efficiency(table, m["linear_probe_accuracy"], probes), key="ssl_label_efficiency")
if probes:
    which = "all" if result.classes == 10 else "yours"
    st.metric(t(f"self_supervised.probe.metric.{which}", labelled=result.labelled, per_class=result.per_class,
                measured=result.measured_on, classes=result.classes), i18n.number(result.accuracy, ".1%"))
ten = table.get("10_per_class")
if ten:
    draws = len(ten["draws"]["supervised"])
    st.caption(t("self_supervised.probe.card", per_class=10, ssl=ten["self_supervised"], supervised=ten["supervised"],
                 random=ten["random_encoder"], draws=i18n.count("self_supervised.probe.draws", draws)))

st.header(t("self_supervised.loss.header"))
st.markdown(t("self_supervised.loss.text"))
a, b = st.columns(2)
batch_size = a.slider(t("self_supervised.loss.batch"), 4, 16, 8, key="ssl_batch")
temperature = b.select_slider(t("self_supervised.loss.temperature"),
                              sorted({0.05, 0.1, 0.2, 0.5, 1.0, 2.0, model.config.temperature}),
                              value=model.config.temperature, key="ssl_temperature",
                              help=t("self_supervised.loss.temperature_help", temperature=model.config.temperature))
batch, names = explore.one_of_each_class(batch_size)
seen = explore.similarity_matrix(model, batch, temperature, strengths, st.session_state.get("ssl_views_seed", 0))
left, right = st.columns(2)
views_axes = dict(x_title=t("self_supervised.loss.second_view"), y_title=t("self_supervised.loss.first_view"),
                  height=420)
left.plotly_chart(plots.heatmap(seen.cosine, names, names, title=t("self_supervised.loss.cosine_title"),
                                colorbar=t("self_supervised.loss.cosine"), zmin=-1, zmax=1, **views_axes),
                  key="ssl_cosine")
right.plotly_chart(plots.heatmap(seen.partner_probability, names, names,
                                 title=t("self_supervised.loss.partner_title", temperature=temperature),
                                 colorbar=t("self_supervised.loss.chance"), zmin=0, zmax=1, **views_axes),
                   key="ssl_partner")
st.caption(t("self_supervised.loss.caption", temperature=temperature, loss=seen.loss, share=seen.partner_share))

st.header(t("self_supervised.finetune.header"))
st.markdown(t("self_supervised.finetune.text", every=EVAL_EVERY, queries=MONITOR_QUERIES))
a, b, c = st.columns(3)
image_sources = {code: t(f"self_supervised.finetune.source_option.{code}") for code in ("fashion", "mine")}
own = a.radio(t("self_supervised.finetune.source"), list(image_sources), key="ssl_ft_source",
              format_func=image_sources.get) == "mine"
lr = b.select_slider(t("self_supervised.finetune.lr"), [1e-5, 3e-5, 1e-4, 3e-4, 1e-3], value=1e-4,
                     format_func=lambda v: f"{v:.0e}", key="ssl_ft_lr")
steps = c.slider(t("self_supervised.finetune.steps"), 10, 300, 50, step=10, key="ssl_ft_steps")
job_kwargs = dict(name=NAME, lr=lr, steps=steps, temperature=temperature)
st.caption(t("self_supervised.finetune.temperature", temperature=temperature))
ready = True
if own:
    files = st.file_uploader(t("self_supervised.finetune.upload", min=MIN_OWN_IMAGES, max=MAX_OWN_IMAGES),
                             type=ui.IMAGE_TYPES, accept_multiple_files=True, key="ssl_ft_upload")
    if files and len(files) > MAX_OWN_IMAGES:
        st.warning(t("self_supervised.finetune.too_many", count=len(files), max=MAX_OWN_IMAGES))
    pictures, problems = ui.from_uploads((files or [])[:MAX_OWN_IMAGES], explore.own_image)
    for problem in problems:
        st.error(problem)
    ready = len(pictures) >= MIN_OWN_IMAGES
    if pictures:
        job_kwargs["images"] = np.stack(pictures)
        st.plotly_chart(plots.image_grid(job_kwargs["images"] / 255.0, title=t("self_supervised.finetune.mine_title"),
                                         cols=16, height_per_row=70, colorscale="gray", zrange=(0, 1), gap=0.003),
                        key="ssl_ft_mine")
    if not ready:
        st.info(t("self_supervised.finetune.too_few", min=MIN_OWN_IMAGES, count=len(pictures)))
else:
    job_kwargs["n_train"] = st.slider(t("self_supervised.finetune.n_train"), 500, 20000, 2000, step=500, key="ssl_ft_n")


def draw_finetune(events: list[dict]) -> None:
    knn = plots.Metric(t("self_supervised.finetune.knn_name"), t("self_supervised.finetune.knn_axis"),
                       plots.PROBABILITY)
    loss = plots.Metric(t("self_supervised.finetune.loss_name"), t("self_supervised.finetune.loss_axis"), plots.LOSS)
    left, right = st.columns(2)
    left.plotly_chart(plots.curves(events, ["loss"], title=t("self_supervised.finetune.loss_title"),
                                   names={"loss": loss}, height=260), key="ssl_ft_loss")
    right.plotly_chart(plots.curves(events, ["knn_accuracy"], title=t("self_supervised.finetune.knn_title"),
                                    names={"knn_accuracy": knn}, height=260), key="ssl_ft_knn")
    measured = [e["knn_accuracy"] for e in events if "knn_accuracy" in e]
    if len(measured) > 1:
        st.caption(t("self_supervised.finetune.knn_caption", before=measured[0], last=measured[-1]))


if ready:
    ui.training_panel("ssl_ft", finetune_simclr, job_kwargs, metrics=("loss", "knn_accuracy"), draw=draw_finetune,
                      download_name=f"{NAME}-finetuned.safetensors")
    st.caption(t("self_supervised.finetune.download_caption"))
