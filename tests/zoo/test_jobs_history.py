"""zoo.jobs.history in this process: a job's kept events stay within their count and byte budgets whatever
the job sends, keep the first event and the newest, keep their places for `since`, and keep only the newest
live frame whole. Through real worker processes: tests/zoo/test_jobs.py."""
import pickle

import numpy as np

from zoo.jobs.history import LIVE_FRAME, EventHistory


def add(history: EventHistory, event: dict) -> None:
    history.add(event, len(pickle.dumps(event)))


def test_a_long_history_keeps_an_even_sample_of_the_whole_run_with_the_first_and_the_newest():
    history = EventHistory(max_events=100)
    add(history, {"step": 0, "accuracy_before": 0.5})
    for step in range(1, 1000):
        add(history, {"step": step, "loss": 1 / step})
    steps = [e["step"] for e in history.since()]
    assert history.received == 1000 and 50 <= len(steps) <= 100
    assert steps[:3] == [0, 16, 32] and steps[-3:] == [997, 998, 999]
    assert set(b - a for a, b in zip(steps, steps[1:-3])) == {16}  # evenly spaced over the whole run


def test_the_bytes_kept_stay_within_the_budget_whatever_the_job_sends():
    history = EventHistory(max_bytes=10 << 20)
    for step in range(300):
        add(history, {"step": step, "blob": np.zeros(1 << 20, np.uint8)})
    kept = history.since()
    assert history.nbytes <= 10 << 20 and sum(e["blob"].nbytes for e in kept) <= 10 << 20
    assert kept[0]["step"] == 0 and kept[-1]["step"] == 299


def test_events_over_the_budget_leave_the_first_and_the_newest_few():
    history = EventHistory(max_bytes=1 << 20)
    for step in range(10):
        add(history, {"step": step, "blob": np.zeros(2 << 20, np.uint8)})
    assert [e["step"] for e in history.since()] == [0, 7, 8, 9]


def test_since_counts_every_event_received_also_those_thinned_away():
    history = EventHistory(max_events=10)
    for step in range(50):
        add(history, {"step": step})
    kept = [e["step"] for e in history.since()]
    assert kept == [0, 8, 16, 24, 32, 40, 47, 48, 49]
    assert [e["step"] for e in history.since(45)] == [47, 48, 49]
    assert [e["step"] for e in history.since(40, 48)] == [s for s in kept if 40 <= s < 48]
    assert history.since(50) == []


def test_a_superseded_live_frame_keeps_only_its_numbers_and_short_strings():
    history = EventHistory()
    for step in (1, 2, 3):
        add(history, {"step": step, "loss": np.float32(1 / step), "name": "ring", "text": "x" * 1000,
                      "state": b"weights" * 1000, "picture": np.zeros(10_000), "shares": [0.5, 0.5],
                      LIVE_FRAME: True})
    add(history, {"step": 3, "accuracy_after": 0.9})  # an ordinary event after the last frame
    first, second, third, last = history.since()
    assert first == {"step": 1, "loss": np.float32(1.0), "name": "ring", LIVE_FRAME: True}
    assert second.keys() == first.keys()
    assert third["state"] == b"weights" * 1000 and third["picture"].shape == (10_000,)
    assert last == {"step": 3, "accuracy_after": 0.9}
    assert history.nbytes < 110_000  # one frame's picture and weights, not three


def test_the_newest_frame_stays_whole_through_thinning():
    history = EventHistory(max_events=20)
    for step in range(100):
        add(history, {"step": step, "state": b"w", "picture": np.zeros(10), LIVE_FRAME: True})
        if step % 7 == 0:
            add(history, {"step": step, "sample": "text"})
    assert [e["step"] for e in history.since() if "picture" in e] == [99]
    assert all(e.keys() == {"step", LIVE_FRAME} for e in history.since() if "sample" not in e and e["step"] != 99)


def test_a_closed_history_keeps_nothing_but_counts_on():
    history = EventHistory()
    add(history, {"step": 1})
    history.close()
    add(history, {"step": 2})
    assert (history.since(), history.nbytes, history.received) == ([], 0, 2)
