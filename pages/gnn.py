"""GNN page: classify the nodes of a graph from a few labelled ones with a GCN, GAT or GraphSAGE;
watch the embedding move as it trains, compare with label propagation and a features-only MLP,
and look inside: the normalised adjacency, a node's receptive field, over-smoothing with depth."""
import hashlib

import numpy as np
import streamlit as st

from models.gnn import explore, figures, recipe
from zoo import i18n, plots, ui, uploads
from zoo.data import graphs
from zoo.i18n import t

NAME = "gcn-karate"
KINDS = {"GCN": "gcn", "GAT": "gat", "GraphSAGE": "sage"}
"""each network's option (kept in links) and the recipe's kind, also its key under [kind]"""
FEATURES = {"structural (personalised PageRank profile)": "structural", "identity (one-hot per node)": "identity"}
"""each option's code (kept in links) and the recipe's name for the features, also their key under [features]"""
SOURCES = [*graphs.BUILT_IN, "Stochastic block model", "Your edge list"]
"""the graphs to pick from, by code (kept in links): the built-in graphs' names, then these two"""
MODES = {"k per class at random": "random", "Click nodes": "click"}
"""how the labelled nodes are chosen: each option's code (kept in links) and its key under [label_mode]"""


def shown(options: dict[str, str], key: str) -> dict[str, str]:
    """Each option's text in the reader's language, from its code's key under `key`: a widget's format_func,
    built on every run (a lookup, not a call of t later, so it keeps the language of the run that drew it)."""
    return {option: t(f"{key}.{code}") for option, code in options.items()}


ui.page_intro(t("gnn.title"), t("gnn.intro"))

st.header(t("gnn.shipped.header"))
model, card = ui.shared_model(NAME)
metrics = card["metrics"]
karate = graphs.karate_club()


@st.cache_data(show_spinner=False, max_entries=32)
def node_positions(_graph: graphs.Graph, key: str) -> np.ndarray:
    return explore.layout(_graph)


def laid_out(graph: graphs.Graph, key: str) -> np.ndarray:
    """The graph's node positions, with a word for the reader while a big graph is laid out."""
    with st.spinner(t("gnn.laying_out")):
        return node_positions(graph, key)


@st.cache_data(show_spinner=False, max_entries=16)
def uploaded_graph(edge_id: str, _edges: bytes, edge_name: str, label_id: str | None, _labels: bytes | None,
                   label_name: str) -> graphs.Graph:
    """The person's graph, read (and its communities found) once per pair of uploads (`file_id`s), not every rerun."""
    return graphs.read_upload(_edges, edge_name, _labels, label_name)


def graph_key(graph: graphs.Graph) -> str:
    """Names a graph by its content, for caches and for noticing that the person switched graphs."""
    digest = hashlib.sha256(graph.edges.tobytes() + "\n".join(graph.nodes).encode() + graph.labels.tobytes())
    return f"{graph.name}:{digest.hexdigest()[:16]}"


st.markdown(t("gnn.shipped.intro", members=karate.n, layers=card["config"]["layers"]))
shipped_probs, _ = recipe.predict(model, karate, card["training"]["features"])
st.plotly_chart(figures.graph(laid_out(karate, graph_key(karate)), karate.edges, karate.nodes, karate.class_names,
                              shipped_probs.argmax(1), t("gnn.shipped.chart"),
                              shipped_probs.max(1), karate.labels, card["training"]["labelled"]),
                key="gnn_shipped_graph")
st.caption(t("gnn.shipped.metrics", unlabelled=metrics["n_unlabelled"], accuracy=metrics["checkpoint_accuracy"],
             fresh=metrics["accuracy"], draws=metrics["draws"], propagation=metrics["label_propagation_accuracy"],
             mlp=metrics["mlp_accuracy"], parameters=card["parameters"]))
ui.model_card(card)

ui.view_in_url("gnn_source", "gnn_p_in", "gnn_p_out", "gnn_sbm_seed", "gnn_label_mode", "gnn_k", "gnn_label_seed",
               "gnn_kind", "gnn_layers", "gnn_features", "gnn_epochs")
st.header(t("gnn.pick.header"))
source_names = {source: graphs.title(source) for source in graphs.BUILT_IN} | shown(
    {"Stochastic block model": "sbm", "Your edge list": "upload"}, "gnn.source")
source = st.selectbox(t("gnn.pick.graph"), SOURCES, key="gnn_source", format_func=source_names.__getitem__)
if source in graphs.BUILT_IN:
    graph = graphs.BUILT_IN[source]()
elif source == "Stochastic block model":
    a, b, c, d = st.columns(4)
    sizes_text = a.text_input(t("gnn.sbm.sizes"), "20, 20, 20", key="gnn_sbm_sizes", max_chars=80,
                              help=t("gnn.sbm.sizes_help"))
    p_in = b.slider(t("gnn.sbm.p_in"), 0.0, 1.0, 0.3, 0.01, key="gnn_p_in")
    p_out = c.slider(t("gnn.sbm.p_out"), 0.0, 1.0, 0.02, 0.01, key="gnn_p_out")
    seed = d.number_input(t("gnn.sbm.seed"), 0, 10_000, 0, key="gnn_sbm_seed")
    try:
        sizes = [int(s) for s in sizes_text.replace(";", ",").split(",") if s.strip()]
    except ValueError:
        st.error(t("gnn.sbm.bad_sizes"))
        st.stop()
    try:
        graph = graphs.block_model(sizes, p_in, p_out, int(seed))
    except ValueError as error:
        st.error(str(error))
        st.stop()
else:
    st.markdown(t("gnn.upload.intro", nodes=graphs.max_nodes(), edges=graphs.max_edges()))
    left, right = st.columns(2)
    edge_file = left.file_uploader(t("gnn.upload.edges"), type=["csv", "tsv", "txt", "edges"], key="gnn_upload")
    label_file = right.file_uploader(t("gnn.upload.labels"), type=["csv", "tsv", "txt"], key="gnn_label_upload")
    if edge_file is None:
        st.info(t("gnn.upload.none"))
        st.stop()
    try:
        with st.spinner(t("gnn.upload.reading")):
            graph = uploaded_graph(edge_file.file_id, edge_file.getvalue(), edge_file.name,
                                   None if label_file is None else label_file.file_id,
                                   None if label_file is None else label_file.getvalue(),
                                   "labels.csv" if label_file is None else label_file.name)
    except uploads.UploadError as error:
        st.error(str(error))
        st.stop()

key = graph_key(graph)
positions = laid_out(graph, key)
counts = np.bincount(graph.labels, minlength=len(graph.classes))
class_names = graph.class_names
st.caption(t("gnn.pick.summary", graph=graph.title, nodes=graph.n, edges=len(graph.edges), classes=len(class_names),
             counts=t("gnn.list_separator").join(t("gnn.pick.class_count", name=name, count=int(count))
                                                 for name, count in zip(class_names, counts)),
             source=graph.label_source))

st.header(t("gnn.label.header"))
if st.session_state.get("gnn_graph") != key:
    st.session_state["gnn_graph"], st.session_state["gnn_picked"] = key, []
mode = MODES[st.radio(t("gnn.label.mode"), list(MODES), horizontal=True, key="gnn_label_mode",
                      format_func=shown(MODES, "gnn.label_mode").__getitem__)]
if mode == "random":
    a, b = st.columns(2)
    per_class = a.slider(t("gnn.label.per_class"), 1, 10, 1, key="gnn_k")
    label_seed = b.number_input(t("gnn.label.draw"), 0, 10_000, 0, key="gnn_label_seed", help=t("gnn.label.draw_help"))
    labelled = recipe.draw_labelled(graph.labels, per_class, int(label_seed))
else:
    labelled = st.session_state.setdefault("gnn_picked", [])  # Streamlit drops it while the list is hidden
    st.caption(t("gnn.label.click_help"))
truth_figure = figures.graph(positions, graph.edges, graph.nodes, class_names, graph.labels,
                             t("gnn.label.chart", graph=graph.title), labelled=labelled)
event = st.plotly_chart(truth_figure, key="gnn_pick", on_select="rerun", selection_mode="points")
st.caption(i18n.count("gnn.label.ringed", len(labelled)))
if mode == "click":
    points = event.selection.points if event else []
    clicked = sorted({p["point_index"] for p in points if p.get("curve_number") == 1})  # trace 1: the nodes
    if clicked and clicked != st.session_state.get("gnn_seen_click"):  # a new click, not the one still selected
        st.session_state["gnn_seen_click"] = clicked
        st.session_state["gnn_picked"] = sorted(set(labelled) | set(clicked))
        st.rerun()
    st.multiselect(t("gnn.label.picked"), range(graph.n), format_func=lambda i: graph.nodes[i], key="gnn_picked")

a, b, c, d = st.columns(4)
kind_names = shown(KINDS, "gnn.kind")
settings = recipe.Settings(kind=KINDS[a.selectbox(t("gnn.settings.network"), list(KINDS), key="gnn_kind",
                                                  format_func=kind_names.__getitem__)],
                           layers=b.slider(t("gnn.settings.layers"), 2, 4, 3, key="gnn_layers"),
                           features=FEATURES[c.selectbox(t("gnn.settings.features"), list(FEATURES), key="gnn_features",
                                                         format_func=shown(FEATURES, "gnn.features").__getitem__)],
                           epochs=d.slider(t("gnn.settings.epochs"), 20, 500, 200, step=10, key="gnn_epochs"),
                           balance=st.slider(t("gnn.settings.balance"), 0.0, 2.0, 1.0, 0.25, key="gnn_balance",
                                             help=t("gnn.settings.balance_help")))
st.markdown(t("gnn.settings.explained"))


def this_run(events: list[dict]) -> list[int] | None:
    """The labelled nodes of a run on the current graph, or None for a run on another graph."""
    start = events[0]
    return start["labelled"] if (start.get("graph"), start.get("n")) == (graph.name, graph.n) else None


def draw_training(events: list[dict]) -> None:
    run_labelled = this_run(events)
    if run_labelled is None:
        st.info(t("gnn.train.other_graph"))
        return
    frames = [e for e in events if "embedding" in e]
    last = frames[-1]
    probs = last["probs"].astype(np.float32)
    cols = st.columns(3)
    cols[0].metric(t("gnn.train.epoch"), i18n.number(last["step"]))
    cols[1].metric(t("gnn.train.accuracy"), i18n.number(last["accuracy"], ".0%"))
    cols[2].metric(t("gnn.train.loss"), i18n.number(events[-1]["loss"], ".3f") if "loss" in events[-1] else "–")
    left, right = st.columns([3, 2])
    left.plotly_chart(figures.graph(positions, graph.edges, graph.nodes, class_names, probs.argmax(1),
                                    t("gnn.train.chart", epoch=last["step"]), probs.max(1), graph.labels,
                                    run_labelled), key="gnn_live_graph")
    unlabelled = {"accuracy": plots.Metric(t("gnn.train.accuracy_name"), t("gnn.accuracy_axis"), plots.PROBABILITY),
                  "loss": plots.Metric(t("gnn.train.loss_name"), t("gnn.train.loss_axis"), plots.LOSS)}
    right.plotly_chart(plots.curves(frames, ["accuracy"], title=t("gnn.train.accuracy_chart"),
                                    x_title=t("gnn.train.epoch_axis"), names=unlabelled, height=240),
                       key="gnn_live_accuracy")
    right.plotly_chart(plots.curves(events, ["loss"], title=t("gnn.train.loss_chart"), x_title=t("gnn.train.epoch_axis"),
                                    names=unlabelled, height=240), key="gnn_live_loss")
    if last["step"] == events[-1].get("total"):
        st.markdown(t("gnn.train.embedding"))
        st.plotly_chart(figures.embedding_animation([(f["step"], f["embedding"].astype(np.float32)) for f in frames],
                                                    graph.labels, class_names, graph.nodes, run_labelled),
                        key="gnn_embedding")


if not labelled:
    st.info(t("gnn.train.no_labels"))
else:
    ui.training_panel("gnn_train", recipe.train_live, dict(graph=graph, labelled=list(labelled), settings=settings),
                      draw=draw_training, download_name=None, label="training")

st.header(t("gnn.compare.header"))
st.markdown(t("gnn.compare.intro"))


def draw_comparison(events: list[dict]) -> None:
    if events[0].get("graph") != graph.name:
        st.info(t("gnn.compare.other_graph"))
        return
    table = explore.summary(events, "per_class")
    names = {"gnn": next(name for option, name in kind_names.items() if KINDS[option] == settings.kind),
             "label_propagation": t("gnn.compare.propagation"), "mlp": t("gnn.compare.mlp")}
    st.plotly_chart(plots.lines(list(table), {names[m]: [row[m] for row in table.values()] for m in names},
                                title=t("gnn.compare.chart"), x_title=t("gnn.compare.x"),
                                y_title=t("gnn.accuracy_axis"), kind=plots.PROBABILITY),
                    key="gnn_compare_chart")


ui.training_panel("gnn_compare", explore.accuracy_vs_labels, dict(graph=graph, settings=settings),
                  draw=draw_comparison, download_name=None, label="comparison")

st.header(t("gnn.inside.header"))
st.markdown(t("gnn.inside.adjacency"))
adjacency, shown = explore.adjacency_by_class(graph)
st.plotly_chart(figures.adjacency(adjacency, shown), key="gnn_adjacency")
if graph.n > explore.MAX_ADJACENCY_SHOWN:
    st.caption(t("gnn.inside.adjacency_shown", shown=explore.MAX_ADJACENCY_SHOWN, nodes=graph.n))

st.markdown(t("gnn.inside.receptive"))
a, b = st.columns(2)
node = a.selectbox(t("gnn.inside.node"), range(graph.n), format_func=lambda i: graph.nodes[i], key="gnn_rf_node")
depth = b.slider(t("gnn.inside.layers"), 1, 6, 2, key="gnn_rf_layers")
distance = explore.hops(graph, node)
st.plotly_chart(figures.receptive_field(positions, graph.edges, graph.nodes, distance, depth), key="gnn_receptive")
st.caption(i18n.count("gnn.inside.within", depth, node=graph.nodes[node],
                       inside=int(((distance >= 0) & (distance <= depth)).sum()), nodes=graph.n))

st.markdown(t("gnn.inside.smoothing"))


def draw_depth(events: list[dict]) -> None:
    rows = [e for e in events if "layers" in e]
    if rows and rows[0]["graph"] != graph.name:
        st.info(t("gnn.inside.other_graph"))
    elif rows:
        distance_axis = t("gnn.inside.distance_axis")
        st.plotly_chart(plots.curves(rows, ["accuracy", "distance_untrained", "distance"], x_key="layers",
                                     title=t("gnn.inside.depth_chart"), x_title=t("gnn.inside.depth_axis"),
                                     height=240, names={
                                         "accuracy": plots.Metric(t("gnn.train.accuracy_name"), t("gnn.accuracy_axis"),
                                                                  plots.PROBABILITY),
                                         "distance_untrained": plots.Metric(t("gnn.inside.untrained"), distance_axis,
                                                                            plots.VALUE),
                                         "distance": plots.Metric(t("gnn.inside.trained"), distance_axis,
                                                                  plots.VALUE)}),
                        key="gnn_depth_chart")


if labelled:
    ui.training_panel("gnn_depth", explore.over_smoothing, dict(graph=graph, labelled=list(labelled),
                                                                settings=settings),
                      draw=draw_depth, download_name=None, label="measurement")
