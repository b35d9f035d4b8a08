"""Home: what the zoo is and which models it has, with their measured figures, each a link to its page."""
import streamlit as st

from zoo import checkpoints, i18n, ui
from zoo.i18n import t

ui.page_intro(t("home.title"), t("home.intro"))

ui.view_in_url()  # no settings here: the link is the page itself

COLUMNS = {"page": 1.9, "model": 2.4, "figure": 2.4, "data": 1.3, "parameters": 1.2, "device": 1.7}
"""the table's columns (their headers under home.column.*) and their relative widths: every cell wraps, none is cut"""


def headline(metrics: dict) -> str:
    """A card's main held-out figure, in words."""
    if "bits_per_char" in metrics:
        return t("home.figure.bits_per_char", bpc=metrics["bits_per_char"])
    if "spearman" in metrics:
        return t("home.figure.analogies", accuracy=metrics["accuracy"], spearman=metrics["spearman"])
    if "checkpoint_accuracy" in metrics:
        return t("home.figure.nodes", accuracy=metrics["checkpoint_accuracy"], n=metrics["n_unlabelled"])
    if "linear_probe_accuracy" in metrics:
        return t("home.figure.probe", accuracy=metrics["linear_probe_accuracy"], knn=metrics["knn_accuracy"])
    if "accuracy" in metrics:
        return t("home.figure.accuracy", accuracy=metrics["accuracy"])
    if "fid" in metrics:
        return t("home.figure.fid", fid=metrics["fid"], floor=metrics["fid_real_floor"])
    if "mean_dice" in metrics:
        return t("home.figure.dice", dice=metrics["mean_dice"])
    if "reconstruction_mse" in metrics:
        return t("home.figure.reconstruction", mse=metrics["reconstruction_mse"])
    if "mean_return" in metrics:
        return t("home.figure.return", mean=metrics["mean_return"], n=metrics["n"])
    return "–"


def data_set(name: str) -> str:
    """A card's data set in the reader's language (home.dataset.*), or as the card writes it for one the
    catalogue does not name yet."""
    key = f"home.dataset.{name.replace('-', '_')}"
    return t(key) if key in i18n.catalogue() else name


st.subheader(t("home.models"))
cards = checkpoints.available()
if not cards:
    st.warning(t("home.none"))
else:
    st.caption(t("home.rows"))
    for cell, column in zip(st.columns(list(COLUMNS.values())), COLUMNS):
        cell.markdown(f"**{t(f'home.column.{column}')}**")
    for name in sorted(cards, key=lambda name: (checkpoints.package(name), name)):
        card = cards[name]
        page, model, figure, data, size, device = st.columns(list(COLUMNS.values()), vertical_alignment="center")
        page.page_link(f"pages/{checkpoints.package(name)}.py")
        model.markdown(f"{checkpoints.title(name)}  \n`{name}`")
        figure.markdown(headline(card["metrics"]))
        data.markdown(data_set(card["dataset"]))
        size.markdown(i18n.number(card["parameters"]))
        device.markdown(ui.device_label(card["device"]))
st.caption(t("home.measured"))
