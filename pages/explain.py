"""Explain page: why an image classifier of the zoo said what it did, by six attribution methods on one colour
scale, each measured for faithfulness and checked against a model with a random top layer, and how little it
takes to flip the prediction."""
import numpy as np
import streamlit as st

from zoo import plots, ui
from zoo.data import fashion_mnist
from zoo.data.errors import DataNotFoundError
from zoo.explain import classifiers, figures
from zoo.explain.attributions import MAX_IG_STEPS, MAX_SMOOTHGRAD_SAMPLES, OCCLUSION_PATCHES, WHAT_EACH_MEASURES, Options
from zoo.explain.comparison import Comparison, as_image, compare_methods, describe_correlation
from zoo.explain.sensitivity import Flip, flip_prediction

KEPT = 16
"""explanations and attacks one session keeps: a rerun with the same image and settings recomputes nothing"""
IG_BASELINES = {"black and blurred": ("black", "blurred"), "black": ("black",), "blurred": ("blurred",)}
IG_STEPS = [8, 16, 32, 64, MAX_IG_STEPS]


@st.cache_resource(show_spinner="Building the classifier to explain, once per server…")
def explained_classifier(name: str):
    return classifiers.as_classifier(name, ui.shared_model(name)[0])


@st.cache_data(scope="session", max_entries=KEPT, ttl="1h", show_spinner="Explaining it by every method, then "
                                                                          "measuring each…")
def explanations(name: str, pixels: np.ndarray, options: Options) -> Comparison:
    return compare_methods(explained_classifier(name), pixels, options)


@st.cache_data(scope="session", max_entries=KEPT, ttl="1h", show_spinner="Attacking the prediction…")
def attack(name: str, pixels: np.ndarray, epsilon: float) -> Flip:
    return flip_prediction(explained_classifier(name), as_image(pixels), epsilon)


ui.page_intro(
    "Explain a prediction",
    "Attribution methods paint the pixels a classifier's answer rests on, but they disagree with each other, and "
    "some paint much the same picture whatever the model has learned. This page runs six of them on your image and "
    "measures each: does removing the pixels it points at really lower the model's confidence, and does its map "
    "change when the model's learned top layer is swapped for a random one?")

ui.view_in_url("explain_model", "explain_source", "explain_gallery", "explain_epsilon")
names = classifiers.image_classifiers()
name = st.selectbox("Classifier", list(names), format_func=lambda n: f"{names[n]} · {n}", key="explain_model")
model, card = ui.shared_model(name)
try:
    classifier = explained_classifier(name)
except DataNotFoundError as error:
    st.error(f"This classifier is fitted on the Fashion-MNIST training images, which are not here: {error}")
    st.stop()
st.caption(classifiers.summary(classifier, card))

st.header("1. The image")
image, caption = ui.fashion_image_input("explain")
if image is None:
    st.stop()
pixels = image[0].numpy()
with st.expander("The methods' settings"):
    a, b, c = st.columns(3)
    baselines = a.radio("Integrated gradients' baseline", list(IG_BASELINES), key="explain_ig_baseline")
    steps = a.select_slider("Integrated gradients' steps", IG_STEPS, value=32, key="explain_ig_steps",
                            help="More steps sum closer to the score's rise.")
    samples = b.slider("SmoothGrad's noisy copies", 5, MAX_SMOOTHGRAD_SAMPLES, 25, step=5, key="explain_sg_n")
    noise = b.slider("SmoothGrad's noise (share of the pixel range)", 0.05, 0.5, 0.15, step=0.05, key="explain_sg_noise")
    patch = c.slider("Occlusion's square (pixels)", *OCCLUSION_PATCHES, 4, key="explain_patch",
                     help="Laid every half its size (every 2 pixels at least): small squares take more passes.")
options = Options(ig_steps=steps, ig_baselines=IG_BASELINES[baselines], smoothgrad_samples=samples,
                  smoothgrad_noise=noise, occlusion_patch=patch, occlusion_stride=max(2, patch // 2))
comparison = explanations(name, pixels, options)
class_name = fashion_mnist.CLASSES[comparison.target]
left, right = st.columns([1, 2])
with left:
    st.plotly_chart(plots.image(pixels, "What the model sees (28x28)"), key="explain_seen")
    st.caption(caption)
with right:
    st.subheader(f"{class_name} · {comparison.probabilities[comparison.target]:.1%}")
    st.plotly_chart(plots.probability_bars(comparison.probabilities, fashion_mnist.CLASSES,
                                           title="The five likeliest classes", top=5), key="explain_probs")

st.header("2. Every method, one colour scale")
st.markdown("Each map is divided by its own largest value, so all share one scale: red pixels count for "
            f"**{class_name}**, blue ones against it. Saliency and SmoothGrad measure sensitivity and Grad-CAM is "
            "rectified, so theirs are never blue.")
st.plotly_chart(figures.attribution_maps(comparison.methods, class_name), key="explain_maps")
st.dataframe([{"method": m.attribution.method, "what it measures": WHAT_EACH_MEASURES[m.attribution.method],
               "images forward": m.attribution.forward, "images backward": m.attribution.backward,
               "milliseconds": round(m.attribution.ms, 1)} for m in comparison.methods], hide_index=True)
st.caption(f"Cost: images passed through the model and the milliseconds of the call that drew these maps, on "
           f"{ui.device_name()}, while other visitors may share it.")
for m in comparison.methods:
    if m.attribution.note:
        st.caption(f"**{m.attribution.method}**: {m.attribution.note}.")

st.header("3. Which map is faithful?")
st.markdown("Black out the pixels in the order a map ranks them (deletion), or reveal them on a black image "
            "(insertion), and read the probability of the class each time. A faithful map makes it fall fast when "
            "its pixels go and rise fast when they come back.")
a, b = st.columns(2)
a.plotly_chart(figures.faithfulness_curves(comparison.methods, class_name, "deletion"), key="explain_deletion")
b.plotly_chart(figures.faithfulness_curves(comparison.methods, class_name, "insertion"), key="explain_insertion")
best = comparison.most_faithful
st.markdown(f"On this image **{best.attribution.method}** is the most faithful: insertion's area minus deletion's is "
            f"{best.curves.score:.2f} (deletion {best.curves.deletion_area:.2f}, insertion "
            f"{best.curves.insertion_area:.2f}). Another image, or another classifier, may crown another method.")

st.header("4. Sanity check: randomise the top layer")
st.markdown("After Adebayo et al. (2018): a copy of the model gets a random top layer, and each method draws its map "
            "again. A map that barely changes did not come from what the model learned.")
st.plotly_chart(figures.randomisation_maps(comparison.methods), key="explain_randomised")
st.markdown("  \n".join(f"**{m.attribution.method}**: {describe_correlation(m.correlation)}" for m in comparison.methods))

st.header("5. How little it takes to flip it")
st.markdown("A gradient attack nudges every pixel a little, never more than epsilon, in the direction that lowers "
            f"the model's belief in **{class_name}**, and stops as soon as another class wins.")
epsilon = st.slider("Epsilon: the most any pixel may change (pixels run from 0 to 1)", 0.01, 0.3, 0.05, step=0.01,
                    key="explain_epsilon")
flip = attack(name, pixels, epsilon)
left, middle, right = st.columns(3)
left.plotly_chart(plots.image(flip.image, "The perturbed image"), key="explain_attacked")
middle.plotly_chart(figures.perturbation(flip.perturbation, epsilon, "What the attack changed"),
                    key="explain_perturbation")
if flip.flipped:
    right.subheader(f"{fashion_mnist.CLASSES[flip.new_class]} · {flip.new_probability:.1%}")
    right.markdown(f"After {flip.steps} steps, with no pixel moved more than {flip.size:.3f}, the model says "
                   f"**{fashion_mnist.CLASSES[flip.new_class]}** instead of {class_name}.")
else:
    right.subheader(f"Still {class_name} · {flip.new_probability:.1%}")
    right.markdown(f"{flip.steps} steps within epsilon {epsilon:.2f} did not flip it: try a larger epsilon.")
