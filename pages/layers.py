"""Inside the layers: for any torch checkpoint of the zoo, each layer's weights and activations on a batch of
its own data, its dead and saturated units, and maps of its activations that show classes separate with depth."""
import streamlit as st

from zoo import checkpoints, ui
from zoo.data.errors import DataNotFoundError
from zoo.layers import figures
from zoo.layers.analysis import (SATURATED_SHARE, SATURATION_MARGIN, LayerAnalysis, LayerReport, analyse_checkpoint,
                                 evenly_spaced, torch_checkpoints, tsne_map)

MAX_HISTOGRAM_LAYERS = 4
"""layers whose histograms are drawn at once"""
MAX_MAPS = 9
"""layers mapped at once: t-SNE takes about a second or two per layer on this CPU"""
DEFAULT_MAPS = 6


@st.cache_resource(show_spinner=False, max_entries=8)
def layer_analysis(name: str, _model) -> LayerAnalysis:
    """One analysis per checkpoint and server: every visitor reads the same batch through the same weights."""
    return analyse_checkpoint(name, _model)


@st.cache_data(show_spinner=False, max_entries=256)
def tsne_of(name: str, layer_name: str, _layer: LayerReport):
    """A layer's t-SNE map, computed once per server."""
    return tsne_map(_layer)


def percent(share: float | None) -> float | None:
    """A share as a percentage for the table, blank where it does not apply."""
    return None if share is None else round(100 * share, 1)


ui.page_intro(
    "Inside the layers",
    "Pick any network of the zoo and see what each of its layers does to a batch of its own test data: the "
    "weights it learned, the values it outputs, and how many of its units are **dead** (a ReLU that never fires "
    "learns nothing more) or **saturated** (a tanh or sigmoid stuck at its limits passes almost no gradient back). "
    "The maps place every input by its activations at each depth and colour it by its class: in a network that "
    "learned, the classes pull apart layer after layer.")

ui.view_in_url("layers_checkpoint", "layers_method")
names = torch_checkpoints()
if not names:
    st.warning("No torch checkpoints found in checkpoints/: rebuild them with `python -m zoo.train NAME`.")
    st.stop()
name = st.selectbox("Checkpoint", names, index=names.index("cnn-fashion") if "cnn-fashion" in names else 0,
                    format_func=lambda n: f"{checkpoints.recipe(n).title} ({n})", key="layers_checkpoint")
st.caption("The word vectors of `word2vec-text` are left out: gensim's table of vectors has no layers to look into.")
model, _ = ui.shared_model(name)
with st.spinner(f"Running a batch of {name}'s data through it, layer by layer…"):
    try:
        analysis = layer_analysis(name, model)
    except (DataNotFoundError, checkpoints.CheckpointError) as error:
        st.error(str(error))
        st.stop()
layers = analysis.layers
st.caption(f"The batch: {analysis.description} Analysed in {analysis.seconds:.1f} s on this server, once for every "
           "visitor.")

st.header("1. The layers")
st.markdown("Every layer the batch passes through, in the order it reaches it: a layer with weights together with "
            "the norm and activation that follow it, and the output of each of the model's blocks (where "
            "activations applied inside a block show). A unit is a channel of a feature map or a feature of a "
            "vector. **Dead**: zero on every input of the batch. **Saturated** (tanh, sigmoid and recurrent states "
            f"only): within {SATURATION_MARGIN} of its limits on at least {SATURATED_SHARE:.0%} of its outputs.")
st.dataframe([{"depth": i + 1, "layer": layer.name, "kind": layer.kind, "parameters": layer.parameters,
               "units": layer.units or None, "dead %": percent(layer.dead_share),
               "saturated %": percent(layer.saturated_share),
               "same-class neighbour %": percent(layer.neighbours_agree)} for i, layer in enumerate(layers)],
             hide_index=True, height=min(36 * (len(layers) + 1), 420), key="layers_table")
st.plotly_chart(figures.unit_health(analysis), key="layers_health")

st.header("2. Weights and activations")
drawable = [i for i, layer in enumerate(layers) if layer.weights or layer.activations]
weighted = [i for i in drawable if layers[i].weights]
shown = st.multiselect("Layers", drawable, default=[weighted[j] for j in evenly_spaced(len(weighted), 2)],
                       format_func=lambda i: f"{i + 1}. {layers[i].name} ({layers[i].kind})",
                       max_selections=MAX_HISTOGRAM_LAYERS, key=f"layers_histograms_{name}")
for i in sorted(shown):
    st.plotly_chart(figures.layer_histograms(layers[i]), key=f"layers_histogram_{i}")

st.header("3. Classes separating with depth")
st.markdown("For each layer, the share of inputs whose nearest neighbour (by the layer's activations, on their "
            "first 50 principal axes) has the same class; then maps of the layers you choose.")
st.plotly_chart(figures.class_separation(analysis), key="layers_separation")
mappable = [i for i, layer in enumerate(layers) if layer.components is not None]
method = st.radio("Map", ["PCA", "t-SNE"], horizontal=True, key="layers_method",
                  help="PCA: the two directions along which the inputs vary most (instant). t-SNE: keeps each "
                       "input's nearest neighbours together (a second or two per layer, computed once per server).")
by_default = [mappable[j] for j in evenly_spaced(len(mappable), DEFAULT_MAPS)]
chosen = sorted(st.multiselect("Layers to map", mappable, default=by_default,
                               format_func=lambda i: f"{i + 1}. {layers[i].name} ({layers[i].kind})",
                               max_selections=MAX_MAPS, key=f"layers_maps_{name}"))
if not chosen:
    st.info("Choose at least one layer to map.")
    st.stop()
if method == "PCA":
    maps = [(f"{i + 1}. {layers[i].name} · {layers[i].explained:.0%} of variance", layers[i].components[:, :2])
            for i in chosen]
else:
    progress = st.progress(0.0, text="t-SNE, layer by layer…")
    maps = []
    for done, i in enumerate(chosen):
        maps.append((f"{i + 1}. {layers[i].name}", tsne_of(name, layers[i].name, layers[i])))
        progress.progress((done + 1) / len(chosen), text=f"t-SNE: {done + 1} of {len(chosen)} layers")
    progress.empty()
st.plotly_chart(figures.layer_maps(maps, analysis.labels, analysis.classes, method), key="layers_maps")
st.caption("PCA shows the two directions of largest variance, which may not be the ones that tell the classes "
           "apart; t-SNE keeps near neighbours together but its distances between clusters mean little.")
