"""zoo.data.graphs: the built-in graphs, the stochastic block model, edge lists in every format, and a clear
message for every bad edge list or label file."""
import numpy as np
import pytest

from zoo import i18n
from zoo.data import graphs
from zoo.uploads import UploadError

TWO_CLIQUES = b"".join(f"{u},{v}\n".encode() for block in (range(0, 5), range(5, 10))
                       for u in block for v in block if u < v) + b"4,5\n"
"""two 5-cliques (nodes 0-4 and 5-9) joined by the edge 4-5"""


def two_cliques() -> graphs.Graph:
    labels = b"node,label\n" + b"".join(f"{i},{'left' if i < 5 else 'right'}\n".encode() for i in range(10))
    return graphs.read_upload(TWO_CLIQUES, "cliques.csv", labels, "labels.csv")


def assert_simple(graph: graphs.Graph) -> None:
    edges = graph.edges
    assert (edges[:, 0] < edges[:, 1]).all(), "each edge once, smaller index first, no self-loops"
    assert len({tuple(e) for e in edges.tolist()}) == len(edges)
    assert len(graph.labels) == graph.n and graph.labels.max() < len(graph.classes)



def test_the_built_in_graphs_load():
    expected = {"Zachary's karate club": (34, 78), "Les Misérables": (77, 254), "Florentine families": (15, 20),
                "Davis southern women": (32, 89)}
    for name, load in graphs.BUILT_IN.items():
        graph = load()
        assert_simple(graph)
        assert (graph.n, len(graph.edges)) == expected[name]
    karate = graphs.karate_club()
    assert karate.classes == ["Mr. Hi", "Officer"] and np.bincount(karate.labels).tolist() == [17, 17]
    assert karate.labels[0] == 0 and karate.labels[33] == 1
    assert graphs.davis_women().classes == ["woman", "event"]
    assert "Louvain" in graphs.BUILT_IN["Les Misérables"]().label_source
    assert karate.edge_index().shape == (2, 156)



def test_a_graph_keeps_its_data_and_says_it_in_the_readers_language():
    """What a job or a card records stays the same in every language; what a reader sees follows the language."""
    karate, blocks = graphs.karate_club(), graphs.block_model([3, 4], 0.5, 0.1)
    louvain = graphs.read_upload(TWO_CLIQUES, "cliques.csv")
    assert (karate.title, karate.class_names, karate.label_source) == (
        "Zachary's karate club", ["Mr. Hi", "Officer"], "the node attribute 'club'")
    with i18n.speaking("ru"):
        assert karate.name == "Zachary's karate club" and karate.classes == ["Mr. Hi", "Officer"]
        assert karate.class_names == ["Mr. Hi", "Администратор"] and graphs.title(karate.name) == karate.title
        assert blocks.title == "блочная модель 3/4, p_in 0,5, p_out 0,1" and blocks.class_names == ["блок 1", "блок 2"]
        assert louvain.class_names == ["сообщество 1", "сообщество 2"] and "Louvain" in louvain.label_source
    with i18n.speaking("zh"):
        assert graphs.davis_women().class_names == ["女性", "活动"] and two_cliques().label_source == "标签文件 labels.csv"
        with pytest.raises(UploadError, match="第 2 行"):
            graphs.read_edge_list(b"1,2\n2,2\n", "e.csv")


def test_stochastic_block_model():
    graph = graphs.block_model([10, 20], 0.9, 0.0, seed=1)
    assert_simple(graph)
    assert np.bincount(graph.labels).tolist() == [10, 20] and graph.classes == ["block 1", "block 2"]
    assert (graph.labels[graph.edges[:, 0]] == graph.labels[graph.edges[:, 1]]).all()  # p_out 0: no edge between
    for sizes, p_in, p_out in (([10], 0.5, 0.1), ([10, 0], 0.5, 0.1), ([10, 10], 1.5, 0.1)):
        with pytest.raises(ValueError):
            graphs.block_model(sizes, p_in, p_out)



@pytest.mark.parametrize("data", [b"source,target\n1,2\n2,3\n", b"1\t2\n2\t3\n", b"# a comment\n1 2\n\n2   3\n",
                                  b"1;2\n2;3\n"])
def test_edge_lists_in_every_format(data):
    nodes, edges = graphs.read_edge_list(data, "e.csv")
    assert nodes == ["1", "2", "3"] and edges.tolist() == [[0, 1], [1, 2]]



def test_named_nodes_and_a_label_file():
    nodes, edges = graphs.read_edge_list(b"alice bob\nbob carol\n", "names.txt")
    assert nodes == ["alice", "bob", "carol"] and len(edges) == 2
    graph = two_cliques()
    assert graph.n == 10 and len(graph.edges) == 21 and graph.classes == ["left", "right"]
    assert graph.labels.tolist() == [0] * 5 + [1] * 5 and "labels.csv" in graph.label_source
    unlabelled = graphs.read_upload(TWO_CLIQUES, "cliques.csv")
    assert "Louvain" in unlabelled.label_source and len(unlabelled.classes) == 2



@pytest.mark.parametrize("header", [b"source,target", b"Source;Target", b"from to", b"node1\tnode2", b"u,v",
                                    b"person_a,person_b"])
def test_a_header_row_above_named_nodes_is_no_edge(header):
    """A header above named nodes used to be read as an edge: two extra nodes, and a community of their own."""
    nodes, edges = graphs.read_edge_list(header + b"\nalice,bob\nbob,carol\n", "names.csv")
    assert nodes == ["alice", "bob", "carol"] and edges.tolist() == [[0, 1], [1, 2]]


def test_a_first_row_that_is_an_edge_stays_an_edge():
    assert graphs.read_edge_list(b"alice,bob\nbob,carol\n", "e.csv")[0] == ["alice", "bob", "carol"]
    assert graphs.read_edge_list(b"from,to\nto,end\n", "e.csv")[0] == ["from", "to", "end"]  # nodes named like columns
    assert graphs.read_edge_list(b"u,v\nv,w\n", "e.csv")[0] == ["u", "v", "w"]


def test_header_rows_on_both_files_of_named_nodes():
    edges = b"source,target\n" + b"".join(f"{u},{v}\n".encode() for u, v in
                                           [("ann", "bo"), ("bo", "cy"), ("ann", "cy"), ("cy", "di"),
                                            ("di", "ed"), ("ed", "fay"), ("di", "fay")])
    labels = b"node,label\n" + b"".join(f"{n},{'left' if n in ('ann', 'bo', 'cy') else 'right'}\n".encode()
                                        for n in ("ann", "bo", "cy", "di", "ed", "fay"))
    graph = graphs.read_upload(edges, "friends.csv", labels, "sides.csv")
    assert graph.nodes == ["ann", "bo", "cy", "di", "ed", "fay"] and len(graph.edges) == 7
    assert graph.classes == ["left", "right"] and graph.labels.tolist() == [0, 0, 0, 1, 1, 1]
    louvain = graphs.read_upload(edges, "friends.csv")
    assert louvain.n == 6 and len(louvain.classes) == 2  # two triangles, no community of "source" and "target"


@pytest.mark.parametrize("data, message", [
    (b"1,2\n2,2\n", "line 2: node '2' links to itself"),
    (b"1,2\n2,3\n3,2\n", "line 3: the edge 3 - 2 is already on line 2"),
    (b"1,2\n1,2\n", "already on line 1"),
    (b"7\n", "holds 1 node"),
    (b"5 5\n", "holds 1 node"),
    (b"1,2\n2,three\n", "line 2: 'three' is text where a node number belongs"),
    (b"1,2\n2,3,4\n", "line 2: expected two node ids"),
    (b"", "is empty"),
    (b"\x00\x01binary", "binary"),
])
def test_every_bad_edge_list_gets_a_clear_message(data, message):
    with pytest.raises(UploadError, match=message.replace("(", r"\(")):
        graphs.read_edge_list(data, "e.csv")



def test_too_many_nodes_or_edges(monkeypatch):
    path = b"".join(f"{i} {i + 1}\n".encode() for i in range(9))  # 10 nodes, 9 edges
    monkeypatch.setenv("ZOO_MAX_GRAPH_NODES", "5")
    with pytest.raises(UploadError, match="more than 5 nodes"):
        graphs.read_edge_list(path, "e.csv")
    with pytest.raises(ValueError, match="limit is 5"):
        graphs.block_model([3, 3], 0.5, 0.1)
    monkeypatch.setenv("ZOO_MAX_GRAPH_NODES", "100")
    monkeypatch.setenv("ZOO_MAX_GRAPH_EDGES", "8")
    with pytest.raises(UploadError, match="more than 8 edges; the limit is 8"):
        graphs.read_edge_list(path, "e.csv")



@pytest.mark.parametrize("labels, message", [
    (b"0,a\n1,b\n", "no label to 8 nodes"),
    (b"".join(f"{i},a\n".encode() for i in range(10)), "1 distinct label"),
    (b"0,a\n0,b\n", "node '0' already has a label"),
    (b"0,a\n99,b\n", "node '99' is not in the edge list"),
])
def test_bad_label_files(labels, message):
    with pytest.raises(UploadError, match=message):
        graphs.read_upload(TWO_CLIQUES, "cliques.csv", labels, "labels.csv")
