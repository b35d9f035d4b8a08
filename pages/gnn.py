"""GNN page: classify the nodes of a graph from a few labelled ones with a GCN, GAT or GraphSAGE;
watch the embedding move as it trains, compare with label propagation and a features-only MLP,
and look inside: the normalised adjacency, a node's receptive field, over-smoothing with depth."""
import hashlib

import numpy as np
import streamlit as st

from models.gnn import explore, figures, recipe
from zoo import plots, ui, uploads
from zoo.data import graphs

NAME = "gcn-karate"
KINDS = {"GCN": "gcn", "GAT": "gat", "GraphSAGE": "sage"}
FEATURES = {"structural (personalised PageRank profile)": "structural", "identity (one-hot per node)": "identity"}
SOURCES = [*graphs.BUILT_IN, "Stochastic block model", "Your edge list"]

ui.page_intro(
    "Graph neural networks: node classification",
    "A graph neural network passes messages along the edges: each layer replaces every node's features by a "
    "mix of its own and its neighbours', so after L layers a node knows about everything within L hops. That "
    "is what lets it classify the nodes of a graph from a handful of labels (Kipf & Welling 2017): the labels "
    "spread through the graph, and the network learns how. Label a few nodes, train, and see what message "
    "passing adds over a network that sees each node's features alone.")

st.header("1. A GCN trained on the karate club")
model, card = ui.shared_model(NAME)
metrics = card["metrics"]
karate = graphs.karate_club()


@st.cache_data(show_spinner="Laying out the graph…", max_entries=32)
def node_positions(_graph: graphs.Graph, key: str) -> np.ndarray:
    return explore.layout(_graph)


@st.cache_data(show_spinner="Reading your graph…", max_entries=16)
def uploaded_graph(edge_id: str, _edges: bytes, edge_name: str, label_id: str | None, _labels: bytes | None,
                   label_name: str) -> graphs.Graph:
    """The person's graph, read (and its communities found) once per pair of uploads (`file_id`s), not every rerun."""
    return graphs.read_upload(_edges, edge_name, _labels, label_name)


def graph_key(graph: graphs.Graph) -> str:
    """Names a graph by its content, for caches and for noticing that the person switched graphs."""
    digest = hashlib.sha256(graph.edges.tobytes() + "\n".join(graph.nodes).encode() + graph.labels.tobytes())
    return f"{graph.name}:{digest.hexdigest()[:16]}"


st.markdown(
    f"Zachary's karate club: {karate.n} members, an edge where two met outside the club. The club split in two "
    f"after a quarrel between the instructor (Mr. Hi, node 0) and the administrator (node 33). This "
    f"{card['config']['layers']}-layer GCN was told only those two leaders' sides and predicts everyone else's. "
    "Colour is the predicted side, paler where the model is less sure; the ringed nodes are the labelled ones.")
shipped_probs, _ = recipe.predict(model, karate, card["training"]["features"])
st.plotly_chart(figures.graph(node_positions(karate, graph_key(karate)), karate.edges, karate.nodes, karate.classes,
                              shipped_probs.argmax(1), "The karate club: each member's predicted side",
                              shipped_probs.max(1), karate.labels, card["training"]["labelled"]),
                key="gnn_shipped_graph")
st.caption(f"Accuracy on the {metrics['n_unlabelled']} unlabelled members **{metrics['checkpoint_accuracy']:.0%}** · "
           f"with one random member of each side labelled instead, a fresh GCN scores **{metrics['accuracy']:.0%}** "
           f"on average over {metrics['draws']} draws (label propagation {metrics['label_propagation_accuracy']:.0%}, "
           f"features-only MLP {metrics['mlp_accuracy']:.0%}) · {card['parameters']:,} parameters")
ui.model_card(card)

ui.view_in_url("gnn_source", "gnn_p_in", "gnn_p_out", "gnn_sbm_seed", "gnn_label_mode", "gnn_k", "gnn_label_seed",
               "gnn_kind", "gnn_layers", "gnn_features", "gnn_epochs")
st.header("2. Pick a graph")
source = st.selectbox("Graph", SOURCES, key="gnn_source")
if source in graphs.BUILT_IN:
    graph = graphs.BUILT_IN[source]()
elif source == "Stochastic block model":
    a, b, c, d = st.columns(4)
    sizes_text = a.text_input("Block sizes", "20, 20, 20", key="gnn_sbm_sizes", max_chars=80, help="comma-separated")
    p_in = b.slider("p_in (edge inside a block)", 0.0, 1.0, 0.3, 0.01, key="gnn_p_in")
    p_out = c.slider("p_out (edge between blocks)", 0.0, 1.0, 0.02, 0.01, key="gnn_p_out")
    seed = d.number_input("Seed", 0, 10_000, 0, key="gnn_sbm_seed")
    try:
        sizes = [int(s) for s in sizes_text.replace(";", ",").split(",") if s.strip()]
    except ValueError:
        st.error("Block sizes must be whole numbers separated by commas, e.g. 20, 20, 20.")
        st.stop()
    try:
        graph = graphs.block_model(sizes, p_in, p_out, int(seed))
    except ValueError as error:
        st.error(f"{str(error)[0].upper()}{str(error)[1:]}.")
        st.stop()
else:
    st.markdown(f"An edge list: one edge per line, two node ids (numbers or names) split by a comma, tab or "
                "spaces, and optionally a header row that names the columns (`source,target`, `from,to`, "
                f"`node1,node2`). At most {graphs.max_nodes():,} nodes and {graphs.max_edges():,} edges, no "
                "self-loops, each edge once. Optionally a label file: one line per node, its id and its class, "
                "under an optional header such as `node,label`.")
    left, right = st.columns(2)
    edge_file = left.file_uploader("Edge list", type=["csv", "tsv", "txt", "edges"], key="gnn_upload")
    label_file = right.file_uploader("Node labels (optional)", type=["csv", "tsv", "txt"], key="gnn_label_upload")
    if edge_file is None:
        st.info("Upload an edge list to classify its nodes.")
        st.stop()
    try:
        graph = uploaded_graph(edge_file.file_id, edge_file.getvalue(), edge_file.name,
                               None if label_file is None else label_file.file_id,
                               None if label_file is None else label_file.getvalue(),
                               "labels.csv" if label_file is None else label_file.name)
    except uploads.UploadError as error:
        st.error(str(error))
        st.stop()

key = graph_key(graph)
positions = node_positions(graph, key)
counts = np.bincount(graph.labels, minlength=len(graph.classes))
st.caption(f"{graph.name}: {graph.n:,} nodes, {len(graph.edges):,} edges, {len(graph.classes)} classes ("
           + ", ".join(f"{name} {count}" for name, count in zip(graph.classes, counts)) + f"); labels: "
           f"{graph.label_source}.")

st.header("3. Label a few nodes and train")
if st.session_state.get("gnn_graph") != key:
    st.session_state["gnn_graph"], st.session_state["gnn_picked"] = key, []
mode = st.radio("Labelled nodes", ["k per class at random", "Click nodes"], horizontal=True, key="gnn_label_mode")
if mode == "k per class at random":
    a, b = st.columns(2)
    per_class = a.slider("Labels per class", 1, 10, 1, key="gnn_k")
    label_seed = b.number_input("Draw", 0, 10_000, 0, key="gnn_label_seed", help="another draw, other nodes")
    labelled = recipe.draw_labelled(graph.labels, per_class, int(label_seed))
else:
    labelled = st.session_state.setdefault("gnn_picked", [])  # Streamlit drops it while the list is hidden
    st.caption("Click a node to reveal its class to the model; remove it from the list below to hide it again.")
truth_figure = figures.graph(positions, graph.edges, graph.nodes, graph.classes, graph.labels,
                             f"{graph.name}: the true classes, labelled nodes ringed", labelled=labelled)
event = st.plotly_chart(truth_figure, key="gnn_pick", on_select="rerun", selection_mode="points")
st.caption(f"True classes; {len(labelled)} labelled node{'s' * (len(labelled) != 1)} ringed.")
if mode == "Click nodes":
    points = event.selection.points if event else []
    clicked = sorted({p["point_index"] for p in points if p.get("curve_number") == 1})  # trace 1: the nodes
    if clicked and clicked != st.session_state.get("gnn_seen_click"):  # a new click, not the one still selected
        st.session_state["gnn_seen_click"] = clicked
        st.session_state["gnn_picked"] = sorted(set(labelled) | set(clicked))
        st.rerun()
    st.multiselect("Labelled nodes", range(graph.n), format_func=lambda i: graph.nodes[i], key="gnn_picked")

a, b, c, d = st.columns(4)
settings = recipe.Settings(kind=KINDS[a.selectbox("Network", list(KINDS), key="gnn_kind")],
                           layers=b.slider("Layers", 2, 4, 3, key="gnn_layers"),
                           features=FEATURES[c.selectbox("Node features", list(FEATURES), key="gnn_features")],
                           epochs=d.slider("Epochs", 20, 500, 200, step=10, key="gnn_epochs"),
                           balance=st.slider("Class-balance weight", 0.0, 2.0, 1.0, 0.25, key="gnn_balance",
                                             help="0 trains on the labelled nodes alone"))
st.markdown("The *identity* features tell a node nothing but who it is: anything it learns comes through the "
            "edges. The *structural* ones describe where random walks from the node end up, a summary of its "
            "place in the graph that even a network without message passing can use. The *class-balance* term "
            "asks the predictions over all nodes to split between the classes as the labels do, so that a "
            "single unlucky label cannot pull most of the graph to its side (it applies to the MLP too).")


def this_run(events: list[dict]) -> list[int] | None:
    """The labelled nodes of a run on the current graph, or None for a run on another graph."""
    start = events[0]
    return start["labelled"] if (start.get("graph"), start.get("n")) == (graph.name, graph.n) else None


def draw_training(events: list[dict]) -> None:
    run_labelled = this_run(events)
    if run_labelled is None:
        st.info("That run was on another graph: start training to train on this one.")
        return
    frames = [e for e in events if "embedding" in e]
    last = frames[-1]
    probs = last["probs"].astype(np.float32)
    cols = st.columns(3)
    cols[0].metric("Epoch", f"{last['step']}")
    cols[1].metric("Accuracy, unlabelled nodes", f"{last['accuracy']:.0%}")
    cols[2].metric("Loss, labelled nodes", f"{events[-1]['loss']:.3f}" if "loss" in events[-1] else "–")
    left, right = st.columns([3, 2])
    left.plotly_chart(figures.graph(positions, graph.edges, graph.nodes, graph.classes, probs.argmax(1),
                                    f"Epoch {last['step']}: the predicted classes", probs.max(1), graph.labels,
                                    run_labelled), key="gnn_live_graph")
    unlabelled = {"accuracy": plots.Metric("accuracy", "accuracy, unlabelled nodes", plots.PROBABILITY),
                  "loss": plots.Metric("loss", "cross-entropy, labelled nodes (nats)", plots.LOSS)}
    right.plotly_chart(plots.curves(frames, ["accuracy"], title="Accuracy on the unlabelled nodes", x_title="epoch",
                                    names=unlabelled, height=240), key="gnn_live_accuracy")
    right.plotly_chart(plots.curves(events, ["loss"], title="Training loss on the labelled nodes", x_title="epoch",
                                    names=unlabelled, height=240), key="gnn_live_loss")
    if last["step"] == events[-1].get("total"):
        st.markdown("**The 2-D embedding of every node over training** (the last layer's two units, coloured by "
                    "true class): press Play and watch the classes pull apart.")
        st.plotly_chart(figures.embedding_animation([(f["step"], f["embedding"].astype(np.float32)) for f in frames],
                                                    graph.labels, graph.classes, graph.nodes, run_labelled),
                        key="gnn_embedding")


if not labelled:
    st.info("Label at least one node to train.")
else:
    ui.training_panel("gnn_train", recipe.train_live, dict(graph=graph, labelled=list(labelled), settings=settings),
                      draw=draw_training, download_name=None, label="training")

st.header("4. What message passing adds")
st.markdown(
    "Accuracy on the unlabelled nodes against the number of labels per class, for three methods on the same "
    "random draws: your network; **label propagation**, which spreads the labels along the edges and learns "
    "nothing; and an **MLP** with the same layers and features but no edges. Where the MLP trails, the graph is "
    "doing the work.")


def draw_comparison(events: list[dict]) -> None:
    if events[0].get("graph") != graph.name:
        st.info("That comparison was on another graph: start it again for this one.")
        return
    table = explore.summary(events, "per_class")
    names = {"gnn": next(k for k, v in KINDS.items() if v == settings.kind), "label_propagation": "label propagation",
             "mlp": "MLP (features only)"}
    st.plotly_chart(plots.lines(list(table), {names[m]: [row[m] for row in table.values()] for m in names},
                                title="Accuracy against the number of labels", x_title="labelled nodes per class",
                                y_title="accuracy, unlabelled nodes", kind=plots.PROBABILITY),
                    key="gnn_compare_chart")


ui.training_panel("gnn_compare", explore.accuracy_vs_labels, dict(graph=graph, settings=settings),
                  draw=draw_comparison, download_name=None, label="comparison")

st.header("5. Inside the model")
st.markdown("**The normalised adjacency** D^-1/2 (A + I) D^-1/2, what every GCN layer multiplies the features by: "
            "row i says how much of each node's features node i takes in. A node with few neighbours keeps much of "
            "itself; a hub spreads thin. Nodes are sorted by class, so communities show as blocks.")
adjacency, shown = explore.adjacency_by_class(graph)
st.plotly_chart(figures.adjacency(adjacency, shown), key="gnn_adjacency")
if graph.n > explore.MAX_ADJACENCY_SHOWN:
    st.caption(f"The first {explore.MAX_ADJACENCY_SHOWN} of {graph.n:,} nodes, by class.")

st.markdown("**A node's receptive field.** After one layer a node has heard from its neighbours, after two from "
            "theirs: its output depends on exactly the nodes within that many hops.")
a, b = st.columns(2)
node = a.selectbox("Node", range(graph.n), format_func=lambda i: graph.nodes[i], key="gnn_rf_node")
depth = b.slider("Layers", 1, 6, 2, key="gnn_rf_layers")
distance = explore.hops(graph, node)
st.plotly_chart(figures.receptive_field(positions, graph.edges, graph.nodes, distance, depth), key="gnn_receptive")
st.caption(f"{int(((distance >= 0) & (distance <= depth)).sum())} of {graph.n} nodes within {depth} "
           f"hop{'s' * (depth != 1)} of {graph.nodes[node]}.")

st.markdown(
    "**Over-smoothing.** Each layer averages a node with its neighbours; stack many and every node's "
    "representation drifts toward the same average, so the classes blur together. This trains a fresh network "
    "of each depth from 2 to 8 on your labelled nodes and measures its accuracy, and how different the nodes "
    "look in its last hidden layer: the mean cosine distance between every pair (Chen et al. 2020; 0 means every "
    "node looks alike), before training, when only the graph has mixed them, and after.")


def draw_depth(events: list[dict]) -> None:
    rows = [e for e in events if "layers" in e]
    if rows and rows[0]["graph"] != graph.name:
        st.info("That measurement was on another graph: start it again for this one.")
    elif rows:
        st.plotly_chart(plots.curves(rows, ["accuracy", "distance_untrained", "distance"], x_key="layers",
                                     title="Accuracy and how different the nodes look, by depth",
                                     x_title="graph convolution layers", height=240, names={
                                         "accuracy": plots.Metric("accuracy", "accuracy, unlabelled nodes",
                                                                  plots.PROBABILITY)}),
                        key="gnn_depth_chart")


if labelled:
    ui.training_panel("gnn_depth", explore.over_smoothing, dict(graph=graph, labelled=list(labelled),
                                                                settings=settings),
                      draw=draw_depth, download_name=None, label="measurement")
