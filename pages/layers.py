"""Inside the layers: for any torch checkpoint of the zoo, each layer's weights and activations on a batch of
its own data, its dead and saturated units, and maps of its activations that show classes separate with depth."""
import streamlit as st

from zoo import checkpoints, i18n, ui
from zoo.data.errors import DataNotFoundError
from zoo.i18n import t
from zoo.layers import figures
from zoo.layers.analysis import (SATURATED_SHARE, SATURATION_MARGIN, LayerAnalysis, LayerReport, analyse_checkpoint,
                                 evenly_spaced, torch_checkpoints, tsne_map)

MAX_HISTOGRAM_LAYERS = 4
"""layers whose histograms are drawn at once"""
MAX_MAPS = 9
"""layers mapped at once: t-SNE takes about a second or two per layer on this CPU"""
DEFAULT_MAPS = 6


@st.cache_resource(show_spinner=False, max_entries=24)
def layer_analysis(name: str, language: str, _model) -> LayerAnalysis:
    """One analysis per checkpoint, language and server: every visitor reads the same batch through the same
    weights; the batch's description and class names are in `language`."""
    return analyse_checkpoint(name, _model)


@st.cache_data(show_spinner=False, max_entries=256)
def tsne_of(name: str, depth: int, _layer: LayerReport):
    """A layer's t-SNE map (the layer at `depth` of checkpoint NAME), computed once per server."""
    return tsne_map(_layer)


def percent(share: float | None) -> float | None:
    """A share as a percentage for the table (a number, so the column sorts), blank where it does not apply."""
    return None if share is None else round(100 * share, 1)


ui.page_intro(t("layers.intro.title"), t("layers.intro.text"))

ui.view_in_url("layers_checkpoint", "layers_method")
names = torch_checkpoints()
if not names:
    st.warning(t("layers.no_checkpoints"))
    st.stop()
# the options' texts are made in the script's run: a format_func that translated when called would speak the
# language of whichever thread calls it
shown_names = {n: t("layers.checkpoint_option", title=checkpoints.title(n), name=n) for n in names}
name = st.selectbox(t("layers.checkpoint"), names, index=names.index("cnn-fashion") if "cnn-fashion" in names else 0,
                    format_func=shown_names.get, key="layers_checkpoint")
st.caption(t("layers.word2vec_left_out"))
model, _ = ui.shared_model(name)
with st.spinner(t("layers.spinner", name=name)):
    try:
        analysis = layer_analysis(name, i18n.language(), model)
    except (DataNotFoundError, checkpoints.CheckpointError) as error:
        st.error(str(error))
        st.stop()
layers = analysis.layers
layer_option = {i: t("layers.layer_option", depth=i + 1, name=layer.shown_name, kind=layer.shown_kind)
                for i, layer in enumerate(layers)}.get
st.caption(t("layers.batch_caption", description=analysis.description, seconds=analysis.seconds))

st.header(t("layers.header.layers"))
st.markdown(t("layers.layers_text", margin=SATURATION_MARGIN, share=SATURATED_SHARE))
st.dataframe([{t("layers.column.depth"): i + 1, t("layers.column.layer"): layer.shown_name,
               t("layers.column.kind"): layer.shown_kind, t("layers.column.parameters"): layer.parameters,
               t("layers.column.units"): layer.units or None,
               t("layers.column.dead"): percent(layer.dead_share),
               t("layers.column.saturated"): percent(layer.saturated_share),
               t("layers.column.neighbours"): percent(layer.neighbours_agree)} for i, layer in enumerate(layers)],
             hide_index=True, height=min(36 * (len(layers) + 1), 420), key="layers_table")
st.plotly_chart(figures.unit_health(analysis), key="layers_health")

st.header(t("layers.header.histograms"))
drawable = [i for i, layer in enumerate(layers) if layer.weights or layer.activations]
weighted = [i for i in drawable if layers[i].weights]
shown = st.multiselect(t("layers.histogram_layers"), drawable,
                       default=[weighted[j] for j in evenly_spaced(len(weighted), 2)], format_func=layer_option,
                       max_selections=MAX_HISTOGRAM_LAYERS, key=f"layers_histograms_{name}")
for i in sorted(shown):
    st.plotly_chart(figures.layer_histograms(layers[i]), key=f"layers_histogram_{i}")

st.header(t("layers.header.separation"))
st.markdown(t("layers.separation_text"))
st.plotly_chart(figures.class_separation(analysis), key="layers_separation")
mappable = [i for i, layer in enumerate(layers) if layer.components is not None]
method = st.radio(t("layers.map_method"), ["PCA", "t-SNE"], horizontal=True, key="layers_method",
                  help=t("layers.map_method_help"))
by_default = [mappable[j] for j in evenly_spaced(len(mappable), DEFAULT_MAPS)]
chosen = sorted(st.multiselect(t("layers.layers_to_map"), mappable, default=by_default, format_func=layer_option,
                               max_selections=MAX_MAPS, key=f"layers_maps_{name}"))
if not chosen:
    st.info(t("layers.choose_one"))
    st.stop()
if method == "PCA":
    maps = [(t("layers.pca_title", depth=i + 1, name=layers[i].shown_name, explained=layers[i].explained),
             layers[i].components[:, :2]) for i in chosen]
else:
    progress = st.progress(0.0, text=t("layers.tsne_progress"))
    maps = []
    for done, i in enumerate(chosen):
        maps.append((t("layers.tsne_title", depth=i + 1, name=layers[i].shown_name), tsne_of(name, i, layers[i])))
        progress.progress((done + 1) / len(chosen), text=t("layers.tsne_done", done=done + 1, total=len(chosen)))
    progress.empty()
st.plotly_chart(figures.layer_maps(maps, analysis.labels, analysis.classes, method), key="layers_maps")
st.caption(t("layers.maps_caption"))
