"""Home: what the zoo is and which models it has, with their measured figures, each a link to its page."""
import streamlit as st

from zoo import checkpoints, ui

ui.page_intro(
    "🦓 Deep Learning Zoo",
    "Explore the classic deep-learning algorithms hands-on. Every page loads a real pretrained "
    "PyTorch model, runs it on **your own input**, shows what happens **inside the model**, and "
    "lets you **fine-tune** a private copy while the curves update live.")

ui.view_in_url()  # no settings here: the link is the page itself

COLUMNS = {"Page": 1.9, "Model": 2.4, "Held-out figure": 2.4, "Data": 1.3, "Parameters": 1.2, "Trained on": 1.7}
"""the table's columns and their relative widths: every cell wraps, none is cut"""


def headline(metrics: dict) -> str:
    """A card's main held-out figure, in words."""
    if "bits_per_char" in metrics:
        return f"{metrics['bits_per_char']:.3f} bits per character"
    if "spearman" in metrics:
        return f"{metrics['accuracy']:.1%} of analogies, similarity Spearman {metrics['spearman']:.2f}"
    if "checkpoint_accuracy" in metrics:
        return f"{metrics['checkpoint_accuracy']:.0%} accuracy on the {metrics['n_unlabelled']} unlabelled nodes"
    if "linear_probe_accuracy" in metrics:
        return f"{metrics['linear_probe_accuracy']:.1%} linear-probe accuracy, kNN {metrics['knn_accuracy']:.1%}"
    if "accuracy" in metrics:
        return f"{metrics['accuracy']:.2%} accuracy"
    if "fid" in metrics:
        return f"FID {metrics['fid']:.2f} (real images: {metrics['fid_real_floor']:.2f})"
    if "mean_dice" in metrics:
        return f"mean Dice {metrics['mean_dice']:.3f}"
    if "reconstruction_mse" in metrics:
        return f"reconstruction error {metrics['reconstruction_mse']:.4f} per pixel"
    if "mean_return" in metrics:
        return f"mean return {metrics['mean_return']:.1f} of 500 over {metrics['n']} episodes"
    return "–"


st.subheader("The models")
cards = checkpoints.available()
if not cards:
    st.warning("No checkpoints found in checkpoints/: rebuild them with `python -m zoo.train NAME`.")
else:
    st.caption("Each row leads to the model's page.")
    for cell, title in zip(st.columns(list(COLUMNS.values())), COLUMNS):
        cell.markdown(f"**{title}**")
    for name in sorted(cards, key=lambda name: (checkpoints.package(name), name)):
        card = cards[name]
        page, model, figure, data, size, device = st.columns(list(COLUMNS.values()), vertical_alignment="center")
        page.page_link(f"pages/{checkpoints.package(name)}.py")
        model.markdown(f"{card['title']}  \n`{name}`")
        figure.markdown(headline(card["metrics"]))
        data.markdown(card["dataset"])
        size.markdown(f"{card['parameters']:,}")
        device.markdown(card["device"])
st.caption("Figures are measured on held-out data by `python -m zoo.evaluate NAME`; every model card "
           "says how to rebuild its checkpoint.")
