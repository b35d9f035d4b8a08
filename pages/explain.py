"""Explain page: why an image classifier of the zoo said what it did, by six attribution methods on one colour
scale, each measured for faithfulness and checked against a model with a random top layer, and how little it
takes to flip the prediction."""
import numpy as np
import streamlit as st

from zoo import plots, ui
from zoo.data import fashion_mnist
from zoo.data.errors import DataNotFoundError
from zoo.explain import classifiers, figures
from zoo.explain.attributions import MAX_IG_STEPS, MAX_SMOOTHGRAD_SAMPLES, OCCLUSION_PATCHES, Options, what_it_measures
from zoo.explain.comparison import Comparison, as_image, compare_methods, describe_correlation
from zoo.explain.sensitivity import Flip, flip_prediction
from zoo.i18n import t

KEPT = 16
"""explanations and attacks one session keeps: a rerun with the same image and settings recomputes nothing"""
IG_BASELINES = {"both": ("black", "blurred"), "black": ("black",), "blurred": ("blurred",)}
"""the baselines of integrated gradients a person may pick, by code (explain.toml's ig_baseline_option.*)"""
IG_STEPS = [8, 16, 32, 64, MAX_IG_STEPS]


@st.cache_resource(show_spinner=False)
def _explained_classifier(name: str):
    return classifiers.as_classifier(name, ui.shared_model(name)[0])


def explained_classifier(name: str):
    with st.spinner(t("explain.spinner.classifier")):
        return _explained_classifier(name)


@st.cache_data(scope="session", max_entries=KEPT, ttl="1h", show_spinner=False)
def _explanations(name: str, pixels: np.ndarray, options: Options) -> Comparison:
    return compare_methods(_explained_classifier(name), pixels, options)


def explanations(name: str, pixels: np.ndarray, options: Options) -> Comparison:
    """Every method on the image, measured; language-free (its notes speak when read), so kept across a switch."""
    with st.spinner(t("explain.spinner.explaining")):
        return _explanations(name, pixels, options)


@st.cache_data(scope="session", max_entries=KEPT, ttl="1h", show_spinner=False)
def _attack(name: str, pixels: np.ndarray, epsilon: float) -> Flip:
    return flip_prediction(_explained_classifier(name), as_image(pixels), epsilon)


def attack(name: str, pixels: np.ndarray, epsilon: float) -> Flip:
    with st.spinner(t("explain.spinner.attacking")):
        return _attack(name, pixels, epsilon)


ui.page_intro(t("explain.intro.title"), t("explain.intro.text"))

ui.view_in_url("explain_model", "explain_source", "explain_gallery", "explain_epsilon")
names = classifiers.image_classifiers()
# the options' texts are made here, in the script's run (a format_func that translated when called would speak
# the language of whichever thread calls it)
shown_names = {n: t("explain.classifier_option", title=title, name=n) for n, title in names.items()}
name = st.selectbox(t("explain.classifier"), list(names), format_func=shown_names.get, key="explain_model")
model, card = ui.shared_model(name)
try:
    classifier = explained_classifier(name)
except DataNotFoundError as error:
    st.error(t("explain.no_training_data", error=error))
    st.stop()
st.caption(classifiers.summary(classifier, card))

st.header(t("explain.header.image"))
image, caption = ui.fashion_image_input("explain")
if image is None:
    st.stop()
pixels = image[0].numpy()
with st.expander(t("explain.settings")):
    a, b, c = st.columns(3)
    baselines = a.radio(t("explain.ig_baseline"), list(IG_BASELINES), key="explain_ig_baseline",
                        format_func={code: t(f"explain.ig_baseline_option.{code}") for code in IG_BASELINES}.get)
    steps = a.select_slider(t("explain.ig_steps"), IG_STEPS, value=32, key="explain_ig_steps",
                            help=t("explain.ig_steps_help"))
    samples = b.slider(t("explain.sg_samples"), 5, MAX_SMOOTHGRAD_SAMPLES, 25, step=5, key="explain_sg_n")
    noise = b.slider(t("explain.sg_noise"), 0.05, 0.5, 0.15, step=0.05, key="explain_sg_noise")
    patch = c.slider(t("explain.patch"), *OCCLUSION_PATCHES, 4, key="explain_patch", help=t("explain.patch_help"))
options = Options(ig_steps=steps, ig_baselines=IG_BASELINES[baselines], smoothgrad_samples=samples,
                  smoothgrad_noise=noise, occlusion_patch=patch, occlusion_stride=max(2, patch // 2))
comparison = explanations(name, pixels, options)
class_names = fashion_mnist.class_names()
class_name = class_names[comparison.target]
left, right = st.columns([1, 2])
with left:
    st.plotly_chart(plots.image(pixels, t("explain.seen_title")), key="explain_seen")
    st.caption(caption)
with right:
    st.subheader(t("explain.prediction", class_name=class_name,
                   probability=comparison.probabilities[comparison.target]))
    st.plotly_chart(plots.probability_bars(comparison.probabilities, class_names, title=t("explain.probs_title"),
                                           top=5), key="explain_probs")

st.header(t("explain.header.methods"))
st.markdown(t("explain.methods_text", class_name=class_name))
st.plotly_chart(figures.attribution_maps(comparison.methods, class_name), key="explain_maps")
st.dataframe([{t("explain.column.method"): m.attribution.title,
               t("explain.column.measures"): what_it_measures(m.attribution.method),
               t("explain.column.forward"): m.attribution.forward, t("explain.column.backward"): m.attribution.backward,
               t("explain.column.ms"): round(m.attribution.ms, 1)} for m in comparison.methods],
             hide_index=True)
st.caption(t("explain.cost", device=ui.device_label(ui.device_name())))
for m in comparison.methods:
    if m.attribution.note:
        st.caption(t("explain.note", method=m.attribution.title, note=m.attribution.note))

st.header(t("explain.header.faithful"))
st.markdown(t("explain.faithful_text"))
a, b = st.columns(2)
a.plotly_chart(figures.faithfulness_curves(comparison.methods, class_name, "deletion"), key="explain_deletion")
b.plotly_chart(figures.faithfulness_curves(comparison.methods, class_name, "insertion"), key="explain_insertion")
best = comparison.most_faithful
st.markdown(t("explain.best", method=best.attribution.title, score=best.curves.score,
              deletion=best.curves.deletion_area, insertion=best.curves.insertion_area))

st.header(t("explain.header.sanity"))
st.markdown(t("explain.sanity_text"))
st.plotly_chart(figures.randomisation_maps(comparison.methods), key="explain_randomised")
st.markdown("  \n".join(t("explain.verdict_line", method=m.attribution.title,
                          verdict=describe_correlation(m.correlation)) for m in comparison.methods))

st.header(t("explain.header.flip"))
st.markdown(t("explain.flip_text", class_name=class_name))
epsilon = st.slider(t("explain.epsilon"), 0.01, 0.3, 0.05, step=0.01, key="explain_epsilon")
flip = attack(name, pixels, epsilon)
left, middle, right = st.columns(3)
left.plotly_chart(plots.image(flip.image, t("explain.attacked_title")), key="explain_attacked")
middle.plotly_chart(figures.perturbation(flip.perturbation, epsilon, t("explain.perturbation_title")),
                    key="explain_perturbation")
if flip.flipped:
    new_class = class_names[flip.new_class]
    right.subheader(t("explain.prediction", class_name=new_class, probability=flip.new_probability))
    right.markdown(t("explain.flipped", steps=flip.steps, size=flip.size, new_class=new_class, class_name=class_name))
else:
    right.subheader(t("explain.still", class_name=class_name, probability=flip.new_probability))
    right.markdown(t("explain.not_flipped", steps=flip.steps, epsilon=epsilon))
