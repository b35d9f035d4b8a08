"""Each typed or uploaded input's budget is checked before the expensive work (issue 20): the memory a refused
or cut input costs is measured with tracemalloc; the comments give it and what reading it whole cost before."""
from __future__ import annotations

import tracemalloc
from typing import Callable

import pytest

from models.dqn.env import ENV_ID, make_env
from models.word2vec.explore import MAX_BOX_WORDS, box_words
from zoo import ui
from zoo.data import graphs, series, toy2d
from zoo.data.lines import each_line
from zoo.uploads import UploadError

MB = 2 ** 20


def peak_mb(read: Callable[[], object]) -> float:
    """The most memory Python allocated while `read()` ran, in MB (an exception it raises is expected)."""
    tracemalloc.start()
    try:
        read()
    except (UploadError, toy2d.CSVError):
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak / MB


def test_a_million_column_csv_is_refused_before_it_is_split():
    wide = (",".join(["0.5"] * 1_000_000) + "\n").encode() * 2  # 8 MB; refusing it: 15 MB; splitting both rows took 198 MB
    refusal = f"Line 1 of wide.csv has 1,000,000 columns; .* at most {series.MAX_COLUMNS}"
    for read in (series.column_names, series.read_csv):
        with pytest.raises(UploadError, match=refusal):
            read(wide, "wide.csv")
        assert peak_mb(lambda: read(wide, "wide.csv")) < 40


def test_a_wide_line_further_down_is_refused_with_its_number():
    data = b"date,value\n" + b"2000-01,1\n" * 20 + b"2001-09," + b"1," * 500 + b"1\n"
    with pytest.raises(UploadError, match="Line 22 of s.csv has 502 columns"):
        series.read_csv(data, "s.csv")


def test_rows_over_the_cap_are_dropped_as_they_are_read(monkeypatch):
    monkeypatch.setenv("ZOO_MAX_SERIES_ROWS", "1000")
    data = b"value\n" + b"".join(b"%d.5\n" % i for i in range(50_000))
    read = series.read_csv(data, "long.csv")
    assert read.values[0] == 49_000.5 and len(read.values) == 1000
    assert read.note == "long.csv has 50,000 rows; only the last 1,000 are used."
    assert peak_mb(lambda: series.read_csv(data, "long.csv")) < 4  # 0.6 MB; every row kept, then cut: 15 MB


def test_an_edge_list_over_the_edge_limit_is_refused_before_the_rest_is_split(monkeypatch):
    monkeypatch.setenv("ZOO_MAX_GRAPH_EDGES", "100")
    data = b"".join(b"%d %d\n" % (i, i + 1) for i in range(100_000))
    with pytest.raises(UploadError, match="lists more than 100 edges; the limit is 100"):
        graphs.read_edge_list(data, "e.txt")
    assert peak_mb(lambda: graphs.read_edge_list(data, "e.txt")) < 5  # 1 MB; splitting every line took 35 MB


def test_a_label_file_longer_than_the_graph_is_refused():
    labels = b"node,label\n" + b"".join(b"%d,%s\n" % (i, b"ab"[i % 2:i % 2 + 1]) for i in range(100_000))
    with pytest.raises(UploadError, match="node '3' is not in the edge list"):
        graphs.read_node_labels(labels, "labels.csv", ["0", "1", "2"])


def test_a_points_csv_over_the_row_limit_parses_only_the_rows_it_uses():
    data = b"".join(b"%d.25,%d.5,c%d\n" % (i % 97, i % 89, i % 3) for i in range(50_000))
    points = toy2d.read_csv(data, "p.csv", max_rows=500)
    assert len(points) == 500 and points.note == "p.csv has 50,000 rows; the playground uses a random 500 of them."
    assert peak_mb(lambda: toy2d.read_csv(data, "p.csv", max_rows=500)) < 8  # 5 MB; every row parsed first: 19 MB


def test_lines_come_one_at_a_time_as_a_file_gives_them():
    assert list(each_line("a\n\nb\r\nc")) == ["a\n", "\n", "b\r\n", "c"]
    assert list(each_line("")) == []


def test_a_word_box_reads_its_first_different_words():
    typed = " ".join(f"w{i % 30}" for i in range(10_000))
    words, dropped = box_words(typed)
    assert words == [f"w{i}" for i in range(MAX_BOX_WORDS)]
    assert dropped == [f"w{i}" for i in range(MAX_BOX_WORDS, 30)]
    assert box_words("red green red") == (["red", "green"], [])


def test_the_text_box_budget_follows_a_tighter_text_limit(monkeypatch):
    assert ui.typed_text_chars() == ui.TYPED_TEXT_CHARS
    monkeypatch.setenv("ZOO_MAX_TEXT_MB", "0.05")
    assert ui.typed_text_chars() == int(0.05 * MB)


def test_cartpole_episodes_end_at_500_steps():
    """What bounds an uploaded agent's evaluation: its episodes, however good the agent, stop at 500 steps."""
    assert make_env(ENV_ID).spec.max_episode_steps == 500
