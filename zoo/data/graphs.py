"""Graphs for node classification, all offline: four small social networks from networkx, a
stochastic block model, and a person's own edge list (with an optional node-label file).

Every graph is undirected and simple: no self-loops, no repeated edges. A graph without labels of
its own is labelled by its Louvain communities (seeded, so the same every time), and `label_source`
says so. A bad edge list raises `zoo.uploads.UploadError` with one sentence naming the line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import networkx as nx
import numpy as np
import torch

from zoo import settings
from zoo.data.lines import each_line
from zoo.uploads import UploadError, decode_text, limits

DEFAULT_MAX_NODES = 2000
"""an uploaded or generated graph may have at most this many nodes (ZOO_MAX_GRAPH_NODES)"""
DEFAULT_MAX_EDGES = 20_000
"""and at most this many edges (ZOO_MAX_GRAPH_EDGES): every one is drawn in the browser"""
MAX_CLASSES = 10
_SPLIT = re.compile(r"[,;\t ]+")
_NUMBER = re.compile(r"^-?\d+$")
_COLUMN_NAME = re.compile(r"^(source|target|from|to|src|dst|dest|destination|head|tail|start|end|node|vertex|id|"
                          r"name|u|v|user|person|member|actor|item)[ _-]?(\d|[ab]|id|name|node)?$", re.I)
"""what a header row of an edge list names its two columns: source, target, from, to, node1, node_b, ..."""


@dataclass(frozen=True)
class Graph:
    """An undirected simple graph with one class label per node."""
    name: str
    nodes: list[str]
    """each node's name, in index order"""
    edges: np.ndarray
    """int64 (E, 2), each undirected edge once, smaller index first"""
    labels: np.ndarray
    """int64 (N,) the class of each node"""
    classes: list[str]
    label_source: str
    """where the labels come from, in words"""

    @property
    def n(self) -> int:
        return len(self.nodes)

    def edge_index(self) -> torch.Tensor:
        """(2, 2E) both directions of every edge, as PyTorch Geometric takes them."""
        e = torch.as_tensor(self.edges, dtype=torch.long).reshape(-1, 2).T
        return torch.cat([e, e.flip(0)], dim=1)

    def to_networkx(self) -> nx.Graph:
        g = nx.Graph()
        g.add_nodes_from(range(self.n))
        g.add_edges_from(self.edges.tolist())
        return g


def max_nodes() -> int:
    """ZOO_MAX_GRAPH_NODES, else DEFAULT_MAX_NODES; read on every call."""
    return settings.count("ZOO_MAX_GRAPH_NODES", DEFAULT_MAX_NODES, minimum=2)


def max_edges() -> int:
    """ZOO_MAX_GRAPH_EDGES, else DEFAULT_MAX_EDGES; read on every call."""
    return settings.count("ZOO_MAX_GRAPH_EDGES", DEFAULT_MAX_EDGES, minimum=2)


def communities(g: nx.Graph, seed: int = 0) -> list[int]:
    """Each node's Louvain community (Blondel et al. 2008), largest community first, at most MAX_CLASSES
    (smaller ones join the last)."""
    found = sorted(nx.community.louvain_communities(g, seed=seed), key=lambda c: (-len(c), min(c)))
    index = {node: min(i, MAX_CLASSES - 1) for i, members in enumerate(found) for node in members}
    return [index[node] for node in g.nodes]


def from_networkx(g: nx.Graph, name: str, attribute: str | None = None) -> Graph:
    """A networkx graph with its node attribute `attribute` as the labels (its Louvain communities when None)."""
    nodes = list(g.nodes)
    position = {node: i for i, node in enumerate(nodes)}
    if attribute is None:
        raw, source = communities(g), "Louvain communities (seed 0): the graph has no labels of its own"
        classes = [f"community {c + 1}" for c in range(max(raw) + 1)]
    else:
        values = [g.nodes[node][attribute] for node in nodes]
        classes = sorted(set(map(str, values)), key=lambda v: [str(x) for x in values].index(v))
        raw, source = [classes.index(str(v)) for v in values], f"the node attribute {attribute!r}"
    edges = np.array(sorted(tuple(sorted((position[u], position[v]))) for u, v in g.edges if u != v), dtype=np.int64)
    return Graph(name, [str(node) for node in nodes], edges.reshape(-1, 2), np.array(raw, dtype=np.int64), classes,
                 source)


def karate_club() -> Graph:
    """Zachary (1977): 34 members of a karate club that split in two; the label is the side each joined."""
    return from_networkx(nx.karate_club_graph(), "Zachary's karate club", "club")


def davis_women() -> Graph:
    """Davis et al. (1941): 18 women and the 14 social events each attended (a bipartite graph)."""
    g = nx.davis_southern_women_graph()
    nx.set_node_attributes(g, {node: ("woman", "event")[side] for node, side in g.nodes(data="bipartite")}, "kind")
    return from_networkx(g, "Davis southern women", "kind")


BUILT_IN: dict[str, Callable[[], Graph]] = {
    "Zachary's karate club": karate_club,
    "Les Misérables": lambda: from_networkx(nx.les_miserables_graph(), "Les Misérables"),
    "Florentine families": lambda: from_networkx(nx.florentine_families_graph(), "Florentine families"),
    "Davis southern women": davis_women,
}


def block_model(sizes: list[int], p_in: float, p_out: float, seed: int = 0) -> Graph:
    """A stochastic block model (Holland et al. 1983): blocks of `sizes` nodes, an edge inside a block with
    probability `p_in` and between blocks with `p_out`; the label is the block. Isolated nodes stay."""
    if not 2 <= len(sizes) <= MAX_CLASSES or min(sizes) < 1:
        raise ValueError(f"give between 2 and {MAX_CLASSES} blocks of at least one node each")
    if sum(sizes) > max_nodes():
        raise ValueError(f"the blocks hold {sum(sizes):,} nodes; the limit is {max_nodes():,}")
    if not (0 <= p_in <= 1 and 0 <= p_out <= 1):
        raise ValueError("p_in and p_out are probabilities, between 0 and 1")
    p = np.full((len(sizes), len(sizes)), p_out) + np.eye(len(sizes)) * (p_in - p_out)
    g = nx.stochastic_block_model(sizes, p.tolist(), seed=seed)
    nx.set_node_attributes(g, {node: f"block {b + 1}" for node, b in g.nodes(data="block")}, "block_name")
    return from_networkx(g, f"SBM {'/'.join(map(str, sizes))}, p_in {p_in:g}, p_out {p_out:g}", "block_name")


def _rows(text: str, most: int) -> list[tuple[int, list[str]]]:
    """(line number, cells) of the lines that hold something and are not # comments, the first `most` + 1
    only: one past `most` is enough to refuse the file, and the lines after it are never split."""
    rows = []
    for i, line in enumerate(each_line(text), 1):
        if line.strip() and not line.lstrip().startswith("#"):
            rows.append((i, _SPLIT.split(line.strip())))
            if len(rows) > most:
                break
    return rows


def _is_header(cells: list[str], rest: list[tuple[int, list[str]]]) -> bool:
    """A first row that names the columns: words above rows of numbers, or above named nodes column names
    (`_COLUMN_NAME`) that no other line uses as a node."""
    if not rest or all(_NUMBER.match(c) for c in cells):
        return False
    if all(_NUMBER.match(c) for _, row in rest[:20] for c in row[:2]):
        return True
    elsewhere = {cell for _, row in rest for cell in row}
    return all(_COLUMN_NAME.match(c) and c not in elsewhere for c in cells)


def read_edge_list(data: bytes, name: str = "edges.csv") -> tuple[list[str], np.ndarray]:
    """Node names (in order of appearance) and int64 (E, 2) edges from a two-column edge list: comma, tab,
    semicolon or space separated, an optional header row (`_is_header`), # comments. Node ids are whole
    numbers, or names when no line holds only numbers. Refused, the line named: a row without exactly two ids, a
    text id among numbers, a self-loop, an edge given twice (either way round), fewer than two nodes,
    more than ZOO_MAX_GRAPH_NODES nodes or ZOO_MAX_GRAPH_EDGES edges (counted before the lines past them are read)."""
    cap, edge_cap = max_nodes(), max_edges()
    rows = _rows(decode_text(data, name, limits().max_upload_bytes, ".csv"), edge_cap + 1)  # a header besides
    if rows and _is_header(rows[0][1], rows[1:]):
        rows.pop(0)
    if len(rows) > edge_cap:
        raise UploadError(f"{name} lists more than {edge_cap:,} edges; the limit is {edge_cap:,} "
                          "(ZOO_MAX_GRAPH_EDGES).")
    distinct = {cell for _, row in rows for cell in row}
    if len(distinct) < 2:
        raise UploadError(f"{name} holds {len(distinct)} node{'s' * (len(distinct) != 1)}; a graph needs at "
                          "least two nodes and an edge between them.")
    numeric = any(all(_NUMBER.match(c) for c in row) for _, row in rows)
    position: dict[str, int] = {}
    seen: dict[tuple[int, int], int] = {}
    for line, cells in rows:
        if len(cells) != 2:
            raise UploadError(f"{name}, line {line}: expected two node ids (source and target), found "
                              f"{len(cells)} value{'s' * (len(cells) != 1)}: {' '.join(cells)[:60]!r}.")
        if numeric and (text := next((c for c in cells if not _NUMBER.match(c)), None)) is not None:
            raise UploadError(f"{name}, line {line}: {text[:40]!r} is text where a node number belongs "
                              "(the other lines use whole numbers).")
        u, v = (position.setdefault(c, len(position)) for c in cells)
        if len(position) > cap:
            raise UploadError(f"{name} has more than {cap:,} nodes (line {line}); the limit is {cap:,} "
                              "(ZOO_MAX_GRAPH_NODES).")
        if u == v:
            raise UploadError(f"{name}, line {line}: node {cells[0]!r} links to itself; remove self-loops.")
        key = (min(u, v), max(u, v))
        if key in seen:
            raise UploadError(f"{name}, line {line}: the edge {cells[0]} - {cells[1]} is already on line "
                              f"{seen[key]}; list each edge once (the graph is undirected).")
        seen[key] = line
    return list(position), np.array(sorted(seen), dtype=np.int64).reshape(-1, 2)


def read_node_labels(data: bytes, name: str, nodes: list[str]) -> tuple[np.ndarray, list[str]]:
    """Each node's class from a two-column file (node id, label; an optional header, whose first cell is no
    node of the edge list): every node needs exactly one label, and there may be 2 to MAX_CLASSES classes."""
    rows = _rows(decode_text(data, name, limits().max_upload_bytes, ".csv"), len(nodes) + 1)  # more cannot all fit
    if rows and rows[0][1][0] not in nodes:
        rows.pop(0)  # a header
    known, found = set(nodes), {}
    for line, cells in rows:
        if len(cells) != 2:
            raise UploadError(f"{name}, line {line}: expected a node id and its label, found {len(cells)} values.")
        if cells[0] not in known:
            raise UploadError(f"{name}, line {line}: node {cells[0]!r} is not in the edge list.")
        if cells[0] in found:
            raise UploadError(f"{name}, line {line}: node {cells[0]!r} already has a label.")
        found[cells[0]] = cells[1]
    missing = [node for node in nodes if node not in found]
    if missing:
        raise UploadError(f"{name} gives no label to {len(missing)} node{'s' * (len(missing) != 1)} of the edge "
                          f"list, e.g. {', '.join(missing[:5])}.")
    classes = sorted(set(found.values()), key=list(found.values()).index)
    if not 2 <= len(classes) <= MAX_CLASSES:
        raise UploadError(f"{name} has {len(classes)} distinct label{'s' * (len(classes) != 1)}; "
                          f"node classification needs 2 to {MAX_CLASSES}.")
    return np.array([classes.index(found[node]) for node in nodes], dtype=np.int64), classes


def read_upload(edge_data: bytes, edge_name: str, label_data: bytes | None = None,
                label_name: str = "labels.csv") -> Graph:
    """A person's graph: their edge list, labelled by their label file or else by Louvain communities."""
    nodes, edges = read_edge_list(edge_data, edge_name)
    if label_data is None:
        g = nx.Graph()
        g.add_nodes_from(range(len(nodes)))
        g.add_edges_from(edges.tolist())
        labels = np.array(communities(g), dtype=np.int64)
        classes = [f"community {c + 1}" for c in range(int(labels.max()) + 1)]
        source = "Louvain communities (seed 0): no label file was given"
        if len(classes) < 2:
            raise UploadError(f"{edge_name} forms a single community; upload a label file with 2 or more classes.")
    else:
        labels, classes = read_node_labels(label_data, label_name, nodes)
        source = f"the label file {label_name}"
    return Graph(edge_name, nodes, edges, labels, classes, source)
