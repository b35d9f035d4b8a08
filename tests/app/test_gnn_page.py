"""The GNN page through the real entry point: the shipped GCN predicts, a bad edge list is a clear error,
a good one with labels is drawn, and a tiny training run completes with its embedding animation."""
from tests.app.conftest import open_page, run_until

PAGE = "pages/gnn.py"
CLIQUES = b"".join(f"{u} {v}\n".encode() for block in (range(0, 6), range(6, 12))
                   for u in block for v in block if u < v) + b"5 6\n"
LABELS = b"node,label\n" + b"".join(f"{i},{'red' if i < 6 else 'blue'}\n".encode() for i in range(12))


def _keys(at) -> set[str]:
    return {chart.key for chart in at.get("plotly_chart")}


def _finished(at) -> bool:
    return any("finished" in s.value for s in at.success) or bool(at.error)


def test_the_page_loads_and_the_shipped_gcn_predicts():
    at = open_page(PAGE)
    assert not at.error
    assert {"gnn_shipped_graph", "gnn_pick", "gnn_adjacency", "gnn_receptive"} <= _keys(at)
    assert any(c.value.startswith("Accuracy on the 32 unlabelled members") for c in at.caption)
    at.selectbox(key="gnn_source").set_value("Les Misérables").run()
    assert not at.exception and not at.error
    assert any(c.value.startswith("Les Misérables: 77 nodes") for c in at.caption)
    at.slider(key="gnn_rf_layers").set_value(1).run()
    assert any(" within 1 hop of " in c.value for c in at.caption)
    at.radio(key="gnn_label_mode").set_value("Click nodes").run()
    assert any("Label at least one node" in i.value for i in at.info)
    at.multiselect(key="gnn_picked").set_value([0, 11]).run()
    assert not at.exception and any(c.value.startswith("True classes; 2 labelled nodes") for c in at.caption)


def test_a_bad_edge_list_is_a_clear_error_and_a_good_one_works():
    at = open_page(PAGE)
    at.selectbox(key="gnn_source").set_value("Your edge list").run()
    assert at.info and "Upload an edge list" in at.info[0].value
    at.file_uploader(key="gnn_upload").upload("loops.csv", b"1,2\n2,2\n", "text/csv").run()
    assert not at.exception
    assert at.error and "loops.csv, line 2: node '2' links to itself" in at.error[0].value
    assert "gnn_pick" not in _keys(at)
    at.file_uploader(key="gnn_upload").upload("cliques.txt", CLIQUES, "text/plain").run()
    at.file_uploader(key="gnn_label_upload").upload("colours.csv", LABELS, "text/csv").run()
    assert not at.exception and not at.error
    assert any(c.value.startswith("cliques.txt: 12 nodes, 31 edges, 2 classes (red 6, blue 6)") for c in at.caption)
    assert "gnn_pick" in _keys(at)


def test_header_rows_on_a_named_edge_list_and_its_label_file_are_no_data():
    """A `source,target` header above named nodes was read as an edge: 14 nodes and a fake community."""
    pairs = [("ann", "bo"), ("bo", "cy"), ("ann", "cy"), ("cy", "di"), ("di", "ed"), ("ed", "fay"), ("di", "fay")]
    edges = b"source,target\n" + b"".join(f"{u},{v}\n".encode() for u, v in pairs)
    at = open_page(PAGE)
    at.selectbox(key="gnn_source").set_value("Your edge list").run()
    at.file_uploader(key="gnn_upload").upload("friends.csv", edges, "text/csv").run()
    assert not at.exception and not at.error
    assert any(c.value.startswith("friends.csv: 6 nodes, 7 edges, 2 classes") for c in at.caption)
    labels = b"node,label\n" + b"".join(f"{n},{'x' if n < 'd' else 'y'}\n".encode()
                                        for n in ("ann", "bo", "cy", "di", "ed", "fay"))
    at.file_uploader(key="gnn_label_upload").upload("sides.csv", labels, "text/csv").run()
    assert not at.exception and not at.error
    assert any(c.value.startswith("friends.csv: 6 nodes, 7 edges, 2 classes (x 3, y 3)") for c in at.caption)


def test_a_tiny_training_run_completes():
    at = open_page(PAGE)
    at.slider(key="gnn_epochs").set_value(20)
    at.slider(key="gnn_balance").set_value(0.0).run()  # labelled nodes alone, the plain GCN loss
    at.button(key="gnn_train_start").click().run()
    assert not at.exception and not at.error
    run_until(at, _finished, seconds=180)
    assert not at.error
    assert {"gnn_live_graph", "gnn_live_accuracy", "gnn_embedding"} <= _keys(at)
    assert any(m.label == "Accuracy, unlabelled nodes" for m in at.metric)
