"""Graphs for node classification, all offline: four small social networks from networkx, a
stochastic block model, and a person's own edge list (with an optional node-label file).

Every graph is undirected and simple: no self-loops, no repeated edges. A graph without labels of
its own is labelled by its Louvain communities (seeded, so the same every time), and `label_source`
says so. A bad edge list raises `zoo.uploads.UploadError` with one sentence naming the line.

A graph holds what does not change with the reader's language (its name, its classes as the data names
them, codes for where its labels come from); `title`, `class_names` and `label_source` say them in the
reader's language each time they are read (zoo/i18n/graphs.toml), so a graph cached once serves every
language.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

import networkx as nx
import numpy as np
import torch

from zoo import i18n, settings
from zoo.i18n import t
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
TITLES = {"Zachary's karate club": "karate", "Les Misérables": "les_miserables", "Florentine families": "florentine",
          "Davis southern women": "davis"}
"""each built-in graph's name (its key in BUILT_IN) and the key of its title under [title] in graphs.toml"""


@dataclass(frozen=True)
class Graph:
    """An undirected simple graph with one class label per node."""
    name: str
    """the graph's own name (a built-in's key in BUILT_IN, the block model's settings, the uploaded file's name):
    the same in every language, so jobs tell graphs apart by it and cards record it; `title` is the reader's"""
    nodes: list[str]
    """each node's name, in index order"""
    edges: np.ndarray
    """int64 (E, 2), each undirected edge once, smaller index first"""
    labels: np.ndarray
    """int64 (N,) the class of each node"""
    classes: list[str]
    """each class's name as the data gives it ("community 1" where they were found); `class_names` are the reader's"""
    source: str
    """where the labels come from: "attribute", "louvain", "louvain_upload" or "file", a key under [source] in
    graphs.toml (`label_source` says it in words)"""
    details: dict[str, Any] = field(default_factory=dict)
    """what the texts about the graph name: the labels' `attribute` or `file`, the key of a built-in's `title`, the
    block model's `sizes`, `p_in` and `p_out`"""
    class_keys: tuple[str | None, ...] = ()
    """for each class, the key under [class] in graphs.toml that names it for a reader (given the class's
    `number`, from 1), or None where its name is the data's own (a person's label, "Mr. Hi")"""

    @property
    def n(self) -> int:
        return len(self.nodes)

    @property
    def title(self) -> str:
        """The graph's name for the reader: a built-in's or the block model's in the reader's language, else `name`."""
        return t(f"graphs.title.{self.details['title']}", **self.details) if "title" in self.details else self.name

    @property
    def class_names(self) -> list[str]:
        """Each class's name for the reader: a generated or built-in one translated, a person's label as it is."""
        keys = self.class_keys or (None,) * len(self.classes)
        return [t(f"graphs.class.{key}", number=i + 1) if key else name
                for i, (name, key) in enumerate(zip(self.classes, keys))]

    @property
    def label_source(self) -> str:
        """Where the labels come from, in the reader's words."""
        return t(f"graphs.source.{self.source}", **self.details)

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


def from_networkx(g: nx.Graph, name: str, attribute: str | None = None, class_keys: dict[str, str] | None = None,
                  **details: Any) -> Graph:
    """A networkx graph with its node attribute `attribute` as the labels (its Louvain communities when None);
    `class_keys` gives the key under [class] in graphs.toml of the classes a reader sees translated, `details`
    what the texts about the graph name (a built-in's title is found by its name)."""
    nodes = list(g.nodes)
    position = {node: i for i, node in enumerate(nodes)}
    if name in TITLES:
        details["title"] = TITLES[name]
    if attribute is None:
        raw, source = communities(g), "louvain"
        classes = [f"community {c + 1}" for c in range(max(raw) + 1)]
        keys = ("community",) * len(classes)
    else:
        values = [g.nodes[node][attribute] for node in nodes]
        classes = sorted(set(map(str, values)), key=lambda v: [str(x) for x in values].index(v))
        raw, source, details["attribute"] = [classes.index(str(v)) for v in values], "attribute", attribute
        keys = tuple((class_keys or {}).get(c) for c in classes)
    edges = np.array(sorted(tuple(sorted((position[u], position[v]))) for u, v in g.edges if u != v), dtype=np.int64)
    return Graph(name, [str(node) for node in nodes], edges.reshape(-1, 2), np.array(raw, dtype=np.int64), classes,
                 source, details, keys)


def karate_club() -> Graph:
    """Zachary (1977): 34 members of a karate club that split in two; the label is the side each joined, named
    after its leader (the instructor, "Mr. Hi", or the club's officer)."""
    return from_networkx(nx.karate_club_graph(), "Zachary's karate club", "club", {"Officer": "officer"})


def davis_women() -> Graph:
    """Davis et al. (1941): 18 women and the 14 social events each attended (a bipartite graph)."""
    g = nx.davis_southern_women_graph()
    nx.set_node_attributes(g, {node: ("woman", "event")[side] for node, side in g.nodes(data="bipartite")}, "kind")
    return from_networkx(g, "Davis southern women", "kind", {"woman": "woman", "event": "event"})


def title(name: str) -> str:
    """A graph's name for the reader: a built-in's (by its key in BUILT_IN) in the reader's language, else `name`."""
    return t(f"graphs.title.{TITLES[name]}") if name in TITLES else name


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
        raise ValueError(t("graphs.error.blocks", most=MAX_CLASSES))
    if sum(sizes) > max_nodes():
        raise ValueError(t("graphs.error.block_nodes", nodes=sum(sizes), limit=max_nodes()))
    if not (0 <= p_in <= 1 and 0 <= p_out <= 1):
        raise ValueError(t("graphs.error.probabilities"))
    p = np.full((len(sizes), len(sizes)), p_out) + np.eye(len(sizes)) * (p_in - p_out)
    g = nx.stochastic_block_model(sizes, p.tolist(), seed=seed)
    nx.set_node_attributes(g, {node: f"block {b + 1}" for node, b in g.nodes(data="block")}, "block_name")
    sizes_text = "/".join(map(str, sizes))
    return from_networkx(g, f"SBM {sizes_text}, p_in {p_in:g}, p_out {p_out:g}", "block_name",
                         {f"block {b + 1}": "block" for b in range(len(sizes))}, title="sbm", sizes=sizes_text,
                         p_in=p_in, p_out=p_out)


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
        raise UploadError(t("graphs.error.edges", name=name, limit=edge_cap))
    distinct = {cell for _, row in rows for cell in row}
    if len(distinct) < 2:
        raise UploadError(t("graphs.error.one_node" if len(distinct) == 1 else "graphs.error.no_nodes", name=name))
    numeric = any(all(_NUMBER.match(c) for c in row) for _, row in rows)
    position: dict[str, int] = {}
    seen: dict[tuple[int, int], int] = {}
    for line, cells in rows:
        if len(cells) != 2:
            raise UploadError(t("graphs.error.not_two_ids", name=name, line=line, found=len(cells),
                                text=repr(" ".join(cells)[:60])))
        if numeric and (text := next((c for c in cells if not _NUMBER.match(c)), None)) is not None:
            raise UploadError(t("graphs.error.text_id", name=name, line=line, text=repr(text[:40])))
        u, v = (position.setdefault(c, len(position)) for c in cells)
        if len(position) > cap:
            raise UploadError(t("graphs.error.nodes", name=name, line=line, limit=cap))
        if u == v:
            raise UploadError(t("graphs.error.self_loop", name=name, line=line, node=repr(cells[0])))
        key = (min(u, v), max(u, v))
        if key in seen:
            raise UploadError(t("graphs.error.repeated_edge", name=name, line=line, u=cells[0], v=cells[1],
                                first=seen[key]))
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
            raise UploadError(t("graphs.error.not_id_and_label", name=name, line=line, found=len(cells)))
        if cells[0] not in known:
            raise UploadError(t("graphs.error.unknown_node", name=name, line=line, node=repr(cells[0])))
        if cells[0] in found:
            raise UploadError(t("graphs.error.labelled_twice", name=name, line=line, node=repr(cells[0])))
        found[cells[0]] = cells[1]
    missing = [node for node in nodes if node not in found]
    if missing:
        raise UploadError(i18n.count("graphs.error.unlabelled", len(missing), name=name, nodes=", ".join(missing[:5])))
    classes = sorted(set(found.values()), key=list(found.values()).index)
    if not 2 <= len(classes) <= MAX_CLASSES:
        raise UploadError(i18n.count("graphs.error.classes", len(classes), name=name, most=MAX_CLASSES))
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
        if len(classes) < 2:
            raise UploadError(t("graphs.error.one_community", name=edge_name))
        return Graph(edge_name, nodes, edges, labels, classes, "louvain_upload", {}, ("community",) * len(classes))
    labels, classes = read_node_labels(label_data, label_name, nodes)
    return Graph(edge_name, nodes, edges, labels, classes, "file", {"file": label_name})
