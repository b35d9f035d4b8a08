"""Home: what the zoo is and which models it has, with their measured figures."""
import streamlit as st

from zoo import checkpoints, ui

ui.page_intro(
    "🦓 Deep Learning Zoo",
    "Explore the classic deep-learning algorithms hands-on. Every page loads a real pretrained "
    "PyTorch model, runs it on **your own input**, shows what happens **inside the model**, and "
    "lets you **fine-tune** a private copy while the curves update live.")



def headline(metrics: dict) -> str:
    """A card's main held-out figure, in words."""
    if "bits_per_char" in metrics:
        return f"{metrics['bits_per_char']:.3f} bits per character"
    if "spearman" in metrics:
        return f"{metrics['accuracy']:.1%} of analogies, similarity Spearman {metrics['spearman']:.2f}"
    if "accuracy" in metrics:
        return f"{metrics['accuracy']:.2%} accuracy"
    if "fid" in metrics:
        return f"FID {metrics['fid']:.2f} (real images: {metrics['fid_real_floor']:.2f})"
    if "mean_dice" in metrics:
        return f"mean Dice {metrics['mean_dice']:.3f}"
    if "reconstruction_mse" in metrics:
        return f"reconstruction error {metrics['reconstruction_mse']:.4f} per pixel"
    return ""


st.subheader("The models")
rows = [{
    "page": card["title"],
    "checkpoint": name,
    "dataset": card["dataset"],
    "parameters": f"{card['parameters']:,}",
    "held-out figure": headline(card["metrics"]),
    "trained on": card["device"],
} for name, card in checkpoints.available().items()]
if rows:
    st.dataframe(rows, hide_index=True)
else:
    st.warning("No checkpoints found in checkpoints/: rebuild them with `python -m zoo.train NAME`.")
st.caption("Figures are measured on held-out data by `python -m zoo.evaluate NAME`; every model card "
           "says how to rebuild its checkpoint.")
st.markdown("Pick a page in the sidebar to start.")
