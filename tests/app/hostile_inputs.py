"""Hostile inputs driven through the real pages, each case in a fresh process of its own so that its peak
memory is its own: what the page said, the seconds the hostile run took and how far it raised the
process's peak memory above that of the page already open. tests/app/test_input_budgets.py asserts the
budgets on these figures; tests/bench/bench_hostile_text.py prints them for two checkouts.

    OMP_NUM_THREADS=1 python -m tests.app.hostile_inputs CASE     prints one JSON object
"""
from __future__ import annotations

import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]

TYPED_MB = 18
"""the typed text of the issue: 18 MB cost 4.6 s and +250 MB a rerun"""
CSV_COLUMNS = 1_000_000
UNKNOWN_WORDS = 10_000
AGENT_RERUNS = 3
"""reruns of the DQN page after the agent upload's first run: none may evaluate it again"""
AGENT_HIDDEN = (2048, 2048)
"""an uploaded agent of 16 MB: the shipped (256, 256) agent padded with zeros, so it plays as well as it"""


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def _said(at) -> list[str]:
    """Every error, warning and info the page shows, in order."""
    return [element.value for kind in ("error", "warning", "info") for element in getattr(at, kind)]


def _hostile_run(at, act: Callable[[], None], timeout: float) -> dict:
    """`act()` (which sets the hostile input), then one run of the page: its seconds, the rise of the process's
    peak memory over the page's own, and what the page said (or that the run did not end in `timeout`)."""
    before = _peak_mb()
    started = time.perf_counter()
    act()
    try:
        at.run(timeout=timeout)
    except RuntimeError as error:  # AppTest's timeout
        return {"seconds": time.perf_counter() - started, "peak_rise_mb": _peak_mb() - before,
                "timed_out": str(error)}
    return {"seconds": time.perf_counter() - started, "peak_rise_mb": _peak_mb() - before,
            "exception": [e.value for e in at.exception], "said": _said(at)}


def typed_text(timeout: float) -> dict:
    """18 MB of words typed into the Word2Vec page's text box (zoo.ui.text_input), bypassing the browser's limit."""
    from tests.app.conftest import open_page
    words = "the king spoke to the queen of a far city by the river and the people heard him".split()
    rng = random.Random(0)
    text = "\n".join(" ".join(rng.choice(words) for _ in range(12)) for _ in range(TYPED_MB * 2 ** 20 // 60))
    at = open_page("pages/word2vec.py")
    at.radio(key="w2v_source").set_value("Train on your text").run()
    result = _hostile_run(at, lambda: at.text_area(key="w2v_text").set_value(text), timeout)
    if "said" in result:
        result["box_chars"] = len(at.text_area(key="w2v_text").value)
        rerun = _hostile_run(at, lambda: None, timeout)
        result["rerun_seconds"], result["rerun_peak_rise_mb"] = rerun["seconds"], rerun["peak_rise_mb"]
    return result


def wide_csv(timeout: float) -> dict:
    """A CSV of two rows of 1,000,000 numbers each (8 MB) uploaded to the RNN page's forecast."""
    from tests.app.conftest import open_page
    row = ",".join(["0.5"] * CSV_COLUMNS) + "\n"
    data = (row * 2).encode()
    at = open_page("pages/rnn.py")
    at.radio(key="rnn_fc_source").set_value("My CSV file").run()
    result = _hostile_run(at, lambda: at.file_uploader(key="rnn_fc_csv").upload("wide.csv", data, "text/csv"), timeout)
    if "said" in result:
        result["csv_mb"] = len(data) / 2 ** 20
        result["most_options"] = max((len(box.options) for box in at.selectbox if str(box.key).startswith("rnn_fc")),
                                     default=0)
    return result


def unknown_words(timeout: float) -> dict:
    """10,000 words the vocabulary does not know typed into the Word2Vec page's map box."""
    from tests.app.conftest import open_page
    rng = random.Random(0)
    words = " ".join("".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(8)) for _ in range(UNKNOWN_WORDS))
    at = open_page("pages/word2vec.py")
    return _hostile_run(at, lambda: at.text_input(key="w2v_map_words").set_value(words), timeout)


def agent_reruns(timeout: float) -> dict:
    """A 16 MB agent uploaded to the DQN page, then AGENT_RERUNS more runs of the page: how many times
    its WORLD_EPISODES episodes were played (counted on `models.dqn.explore.world_return`)."""
    import torch

    from models.dqn import explore
    from models.dqn.agent_file import agent_bytes
    from models.dqn.model import QNetwork, QNetworkConfig
    from tests.app.conftest import open_page
    from zoo import checkpoints
    shipped, _ = checkpoints.load("dqn-cartpole", "cpu")
    big = QNetwork(QNetworkConfig(hidden=AGENT_HIDDEN))
    with torch.no_grad():
        for padded, weights in zip(big.parameters(), shipped.parameters()):
            padded.zero_()
            padded[tuple(slice(0, n) for n in weights.shape)] = weights
    payload = agent_bytes(big, {}, "dqn-cartpole")
    at = open_page("pages/dqn.py")
    evaluations = []
    measure = explore.world_return

    def counted(q, *args, **kwargs):
        if tuple(q.config.hidden) == AGENT_HIDDEN:
            evaluations.append(time.perf_counter())
        return measure(q, *args, **kwargs)

    explore.world_return = counted
    result = _hostile_run(at, lambda: at.file_uploader(key="dqn_upload").upload(
        "big-agent.safetensors", payload, "application/octet-stream"), timeout)
    if "said" in result:
        result["agent_mb"] = len(payload) / 2 ** 20
        reruns = [_hostile_run(at, lambda: None, timeout) for _ in range(AGENT_RERUNS)]
        result["rerun_seconds"] = [run["seconds"] for run in reruns]
        result["mean_return_shown"] = next((m.value for m in at.metric if m.label == "Its mean return in its world"),
                                           None)
    result["evaluations"] = len(evaluations)
    return result


CASES: dict[str, Callable[[float], dict]] = {"typed_text": typed_text, "wide_csv": wide_csv,
                                             "unknown_words": unknown_words, "agent_reruns": agent_reruns}


def measure(case: str, root: Path = ROOT, timeout: float = 300) -> dict:
    """Run `case` in a fresh process on the checkout at `root` (its copy of this module and its code, one
    thread as the tests run); its figures, or {"timed_out": ...} when the process itself had to be stopped."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "tests.app.hostile_inputs", case, str(timeout)]
    try:
        done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=timeout + 240)
    except subprocess.TimeoutExpired:
        return {"timed_out": f"the process ran past {timeout + 240:.0f} s"}
    if done.returncode != 0:
        raise RuntimeError(f"{case} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    name, limit = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 300
    print(json.dumps({"case": name, **CASES[name](limit), "peak_mb": _peak_mb()}))
