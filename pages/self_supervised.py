"""Self-supervised page: a representation learned from Fashion-MNIST without its labels (SimCLR), what "the same
garment" means to it, the map of its features, how few labels a probe needs on them, the similarity matrix its
loss sees, and a live fine-tune on Fashion-MNIST or the person's own unlabelled images."""
import numpy as np
import streamlit as st

from models.self_supervised import explore, figures
from models.self_supervised.augment import AugmentStrengths
from models.self_supervised.recipe import MIN_OWN_IMAGES, MONITOR_QUERIES, finetune_simclr
from zoo import plots, ui, uploads
from zoo.data import fashion_mnist

NAME = "simclr-fashion"
CLASSES = fashion_mnist.CLASSES
MAX_OWN_IMAGES = 64
"""the most of the person's images a fine-tune takes: each is read and kept once per upload (`ui.from_uploads`)"""
PROBE_LABELS = [1, 2, 5, 10, 20, 50, 100]
"""the labelled images per class the live probe offers (100 per class: 1,000 images, under a second)"""

ui.page_intro(
    "Self-supervised learning: SimCLR",
    "SimCLR (Chen et al. 2020) trains an encoder with no labels at all: it shows the encoder two randomly distorted "
    "views of each image and teaches it to pick the view's partner out of a batch of other images, so the "
    "features keep what survives the distortions, the garment, and drop the rest. Labels come only afterwards, "
    "to measure the features: a linear classifier on top of them needs far fewer labels than a network trained "
    "from scratch.")

model, card = ui.shared_model(NAME)
m = card["metrics"]
st.caption(f"On {m['n']:,} test images: linear probe **{m['linear_probe_accuracy']:.1%}**, kNN **{m['knn_accuracy']:.1%}** "
           f"(an untrained encoder of the same shape: {m['random_encoder']['linear_probe_accuracy']:.1%} and "
           f"{m['random_encoder']['knn_accuracy']:.1%}) · trained for {card['steps']:,} steps on the 60,000 training "
           f"images, labels unused · {card['parameters']:,} parameters.")
ui.model_card(card)


@st.cache_resource(show_spinner="Encoding the test images (once for this server)…")
def test_set() -> explore.TestSet:
    return explore.test_set(ui.shared_model(NAME)[0])


@st.cache_resource(show_spinner="Placing the test images on the map (once for this server; t-SNE takes about 20 s)…")
def feature_map(method: str) -> explore.FeatureMap:
    return explore.feature_map(test_set(), method)


@st.cache_data(max_entries=64, show_spinner="Fitting the probe…")
def probe_with_few_labels(per_class: int, seed: int) -> explore.ProbeResult:
    return explore.probe_with_few_labels(ui.shared_model(NAME)[0], per_class, seed, test_set())


def probe_on_zip(data: bytes, name: str) -> explore.ProbeResult:
    """A probe on the person's zip of class folders, fitted once per upload."""
    images, labels = explore.labelled_images(data, name)
    return explore.probe(ui.shared_model(NAME)[0], images, labels, test_set())


test = test_set()
if not test.complete:
    st.warning("Fashion-MNIST is not installed, so the map and the probes use the 100 test images shipped in assets/; "
               "see the README for how to get the dataset.")

ui.view_in_url("ssl_source", "ssl_gallery", "ssl_crop", "ssl_rotation", "ssl_map_method", "ssl_probe_k", "ssl_probe_seed")
st.header("1. Two views of one garment")
st.markdown("Training never sees a label. It sees two random views of each image and must tell that they belong "
            "together: whatever the augmentations change (position, size, mirror, brightness, sharpness, a missing "
            "patch) the encoder learns to ignore. Move the sliders to see what the model was told is \"the same "
            "thing\"; the card's strengths are the defaults.")
image, caption = ui.fashion_image_input("ssl")
trained = AugmentStrengths()
with st.expander("Augmentation strengths", expanded=True):
    a, b, c, d = st.columns(4)
    strengths = AugmentStrengths(
        crop_scale=a.slider("Smallest crop (share of the area)", 0.1, 1.0, trained.crop_scale, step=0.05, key="ssl_crop"),
        flip=a.slider("Chance of a mirror", 0.0, 1.0, trained.flip, step=0.1, key="ssl_flip"),
        rotation=b.slider("Largest rotation (degrees)", 0.0, 45.0, trained.rotation, step=5.0, key="ssl_rotation"),
        brightness=b.slider("Brightness change (±)", 0.0, 0.9, trained.brightness, step=0.1, key="ssl_brightness"),
        contrast=c.slider("Contrast change (±)", 0.0, 0.9, trained.contrast, step=0.1, key="ssl_contrast"),
        blur=c.slider("Chance of a blur", 0.0, 1.0, trained.blur, step=0.1, key="ssl_blur"),
        erase=d.slider("Chance of an erased patch", 0.0, 1.0, trained.erase, step=0.05, key="ssl_erase"))
    if d.button("Draw two new views", key="ssl_redraw"):
        st.session_state["ssl_views_seed"] = st.session_state.get("ssl_views_seed", 0) + 1
if image is None:
    st.info("Pick a gallery image, upload one or draw one to see its views, its place on the map and its neighbours.")
else:
    first, second = explore.two_views(image.unsqueeze(0), strengths, st.session_state.get("ssl_views_seed", 0))
    pictures = {"your image": image[0].numpy(), "view 1": first[0], "view 2": second[0]}
    for column, (title, pixels) in zip(st.columns(3), pictures.items()):
        column.plotly_chart(plots.image(pixels, title, height=230), key=f"ssl_view_{title.split()[-1]}")
    agreement = explore.views_agreement(model, first[0], second[0])
    st.caption(f"{caption}. The encoder finds the two views **{agreement:.2f}** alike (cosine similarity of their "
               f"features, 1 is the same direction); two different test images score {test.typical_similarity():.2f} "
               "on average.")

st.header("2. The map it learned without labels")
st.markdown(f"Each dot is one of the first {min(explore.MAP_POINTS, len(test.labels)):,} test images, placed by its "
            "features alone and coloured by its class, which the encoder never saw. Garments of a kind gather all "
            "the same: the labels were not needed to find them. PCA shows the two directions along which the "
            "features vary most; t-SNE keeps each image near its nearest neighbours, at the cost of distances "
            "between groups.")
method = st.radio("Map", ["PCA", "t-SNE"], horizontal=True, key="ssl_map_method")
shown = feature_map(method.lower().replace("-", ""))
marks = {}
if image is not None:
    yours = explore.embed(model, image.unsqueeze(0))
    marks["your image"] = tuple(shown.place(yours)[0])
st.plotly_chart(figures.feature_map(shown.coords, shown.labels, CLASSES, marks, method), key="ssl_map")
if method == "t-SNE" and marks:
    st.caption(f"t-SNE places only the images it was given: yours sits at the mean place of its "
               f"{explore.PLACE_NEIGHBOURS} most similar images on the map.")
if image is not None:
    index, similarity = explore.nearest_neighbours(test.features, yours, 8)
    st.plotly_chart(plots.image_grid(test.images[index[0]] / 255.0, title=f"The 8 test images nearest yours, of "
                                     f"{len(test.labels):,}", titles=[f"{CLASSES[test.labels[i]]} · {s:.2f}"
                                                                      for i, s in zip(index[0], similarity[0])],
                                     cols=8, height_per_row=150, colorscale="gray", zrange=(0, 1)), key="ssl_neighbours")
    st.caption("Each with its class and its cosine similarity to your image (a gallery image is one of the test images, "
               "so it comes first, at 1.00). kNN accuracy on the card is this "
               "neighbourhood's vote: 200 neighbours among the 60,000 training images, each weighed by similarity.")

st.header("3. Labels are cheap now")
table = m["label_efficiency"]
st.markdown("With the encoder frozen, a linear probe (a logistic regression on its features) learns the classes "
            "from a handful of labels. The chart is the card's measurement on the test set: the probe on SimCLR's "
            "features, the same encoder architecture trained from scratch on the same labelled images, and an "
            "untrained encoder's features as the floor. Train a probe yourself: pick how many labels per class, or "
            "upload labelled images of your own.")
source = st.radio("Labels", ["Drawn from the training set", "My images (zip of class folders)"], horizontal=True,
                  key="ssl_probe_source")
probes = []
if source == "Drawn from the training set":
    a, b = st.columns([3, 1])
    per_class = a.select_slider("Labelled images per class", PROBE_LABELS, value=10, key="ssl_probe_k")
    draw = int(b.number_input("Draw", 0, 1000, 0, key="ssl_probe_seed", help="which random images get labelled"))
    if test.complete:
        result = probe_with_few_labels(per_class, draw)
        probes.append((f"your probe: {per_class} per class", per_class, result.accuracy))
    else:
        st.info("A probe on drawn labels needs the Fashion-MNIST training images, which are not installed.")
else:
    st.caption("One folder per class, named like the classes (e.g. `sneaker/`, `bag/`, `t-shirt/`), two classes or more. "
               "The probe is measured on the test images of the classes you give.")
    archive = st.file_uploader("Zip of class folders", type=["zip"], key="ssl_probe_zip")
    result = None
    if archive is not None:
        try:
            result = ui.from_upload(archive, probe_on_zip)
            probes.append((f"your probe: {result.labelled} of your images", result.per_class, result.accuracy))
        except uploads.UploadError as error:
            st.error(str(error))
st.plotly_chart(figures.label_efficiency(table, m["linear_probe_accuracy"], probes), key="ssl_label_efficiency")
if probes:
    classes = "all 10 classes" if result.classes == 10 else f"your {result.classes} classes"
    st.metric(f"Your probe on {result.labelled:,} labelled images ({result.per_class:.3g} per class), measured on "
              f"{result.measured_on:,} test images of {classes}", f"{result.accuracy:.1%}")
ten = table.get("10_per_class")
if ten:
    st.caption(f"The card, with 10 labels per class: SimCLR's probe {ten['self_supervised']:.1%}, the encoder trained "
               f"from scratch on them {ten['supervised']:.1%}, the untrained encoder {ten['random_encoder']:.1%} "
               f"(mean of {len(ten['draws']['supervised'])} draw{'s' * (len(ten['draws']['supervised']) != 1)}).")

st.header("4. What the loss sees")
st.markdown("NT-Xent, the contrastive loss, compares every view of a batch with every other through the projection "
            "head. Row i is the first view of image i, column j the second view of image j: the partners sit on the "
            "diagonal. Each row becomes a softmax of similarity / temperature, and the loss is how little of it "
            "lands on the diagonal. A low temperature sharpens each row onto its most similar candidates, so the "
            "hardest negatives weigh most.")
a, b = st.columns(2)
batch_size = a.slider("Images in the batch", 4, 16, 8, key="ssl_batch")
temperature = b.select_slider("Temperature", sorted({0.05, 0.1, 0.2, 0.5, 1.0, 2.0, model.config.temperature}),
                              value=model.config.temperature,
                              key="ssl_temperature", help=f"the encoder trained at {model.config.temperature}")
batch, names = explore.one_of_each_class(batch_size)
seen = explore.similarity_matrix(model, batch, temperature, strengths, st.session_state.get("ssl_views_seed", 0))
left, right = st.columns(2)
left.plotly_chart(plots.heatmap(seen.cosine, names, names, title="Cosine similarity of the views",
                                x_title="second view of image", y_title="first view of image", colorbar="cosine",
                                zmin=-1, zmax=1, height=420), key="ssl_cosine")
right.plotly_chart(plots.heatmap(seen.partner_probability, names, names,
                                 title=f"Chance of being named the partner (T = {temperature:g})",
                                 x_title="second view of image", y_title="first view of image", colorbar="chance",
                                 zmin=0, zmax=1, height=420), key="ssl_partner")
st.caption(f"NT-Xent loss of this batch at temperature {temperature:g}: **{seen.loss:.3f}** nats per view; on average "
           f"{seen.partner_share:.0%} of a row's chance falls on its partner. The views use the strengths of section 1 "
           "(a new draw there draws these anew).")

st.header("5. Keep training it")
st.markdown("Continue the contrastive training of a private copy, on Fashion-MNIST training images or on your own "
            "unlabelled images; the shared encoder stays as it is. Every 25 steps the copy's kNN accuracy is "
            f"measured on {MONITOR_QUERIES:,} test images, so you see whether more training without labels helps.")
a, b, c = st.columns(3)
own = a.radio("Train on", ["Fashion-MNIST images", "My images"], key="ssl_ft_source") == "My images"
lr = b.select_slider("Learning rate", [1e-5, 3e-5, 1e-4, 3e-4, 1e-3], value=1e-4, format_func=lambda v: f"{v:.0e}",
                     key="ssl_ft_lr")
steps = c.slider("Steps", 10, 300, 50, step=10, key="ssl_ft_steps")
job_kwargs = dict(name=NAME, lr=lr, steps=steps, temperature=temperature)
st.caption(f"At the temperature chosen in section 4 ({temperature:g}).")
ready = True
if own:
    files = st.file_uploader(f"Images of garments, no labels needed ({MIN_OWN_IMAGES} to {MAX_OWN_IMAGES})",
                             type=ui.IMAGE_TYPES, accept_multiple_files=True, key="ssl_ft_upload")
    if files and len(files) > MAX_OWN_IMAGES:
        st.warning(f"{len(files)} images uploaded: only the first {MAX_OWN_IMAGES} are used.")
    pictures, problems = ui.from_uploads((files or [])[:MAX_OWN_IMAGES], explore.own_image)
    for problem in problems:
        st.error(problem)
    ready = len(pictures) >= MIN_OWN_IMAGES
    if pictures:
        job_kwargs["images"] = np.stack(pictures)
        st.plotly_chart(plots.image_grid(job_kwargs["images"] / 255.0, title="Your images as the encoder will see them",
                                         cols=16, height_per_row=70, colorscale="gray", zrange=(0, 1), gap=0.003),
                        key="ssl_ft_mine")
    if not ready:
        st.info(f"Upload at least {MIN_OWN_IMAGES} images ({len(pictures)} so far): each image's negatives are the "
                "other images of its batch.")
else:
    job_kwargs["n_train"] = st.slider("Training images", 500, 20000, 2000, step=500, key="ssl_ft_n")

KNN = plots.Metric("kNN accuracy", "kNN accuracy on test images", plots.PROBABILITY)
LOSS = plots.Metric("training loss", "NT-Xent loss (nats per view)", plots.LOSS)


def draw_finetune(events: list[dict]) -> None:
    left, right = st.columns(2)
    left.plotly_chart(plots.curves(events, ["loss"], title="Contrastive loss while it trains", names={"loss": LOSS},
                                   height=260), key="ssl_ft_loss")
    right.plotly_chart(plots.curves(events, ["knn_accuracy"], title="kNN accuracy of its features",
                                    names={"knn_accuracy": KNN}, height=260), key="ssl_ft_knn")
    measured = [e["knn_accuracy"] for e in events if "knn_accuracy" in e]
    if len(measured) > 1:
        st.caption(f"kNN accuracy {measured[0]:.1%} before, {measured[-1]:.1%} at the last measurement.")


if ready:
    ui.training_panel("ssl_ft", finetune_simclr, job_kwargs, metrics=("loss", "knn_accuracy"), draw=draw_finetune,
                      download_name=f"{NAME}-finetuned.safetensors")
    st.caption("The download holds the whole model: the encoder's weights are the `encoder.` entries, the projection "
               "head's the `projector.` ones.")
