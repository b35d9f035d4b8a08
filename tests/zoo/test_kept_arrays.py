"""zoo.kept_arrays: arrays computed once, read back by the next process."""
import numpy as np

from zoo import kept_arrays


def test_arrays_are_kept_for_the_next_process_by_their_sources_and_a_broken_file_is_computed_again(
        tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    calls = []

    def compute():
        calls.append(1)
        return {"fid": np.array(1.5), "mean": np.arange(3.0)}

    first = kept_arrays.kept("floor", ["weights-sha", "data-sha"], compute)
    again = kept_arrays.kept("floor", ["weights-sha", "data-sha"], compute)
    assert len(calls) == 1 and float(again["fid"]) == 1.5 and np.array_equal(again["mean"], first["mean"])
    kept_arrays.kept("floor", ["other-weights-sha", "data-sha"], compute)
    assert len(calls) == 2
    files = sorted((tmp_path / "deep-learning-zoo" / "computed").glob("floor-*.npz"))
    assert len(files) == 2
    files[0].write_bytes(b"not an npz file")
    kept_arrays.kept("floor", ["weights-sha", "data-sha"], compute)
    kept_arrays.kept("floor", ["other-weights-sha", "data-sha"], compute)
    assert len(calls) == 3
