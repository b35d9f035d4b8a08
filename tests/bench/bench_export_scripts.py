"""Every page's exported script, run for a few steps beside its job (prints figures; not a test).

    python tests/bench/bench_export_scripts.py

For each of the pages' short runs in tests/zoo/test_export.py (SHORT_RUNS): the script's lines, how long the
script and the job took, and whether every number it printed matches the job's events (relative 1e-5, clock
readings aside). The suite repeats only CHECKED_IN_CI of them; this runs them all.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.zoo.test_export import SHORT_RUNS, _assert_same_numbers, _job_events, _run_exported  # noqa: E402


def main() -> None:
    print(f"{'page':<18} {'lines':>6} {'script s':>9} {'job s':>7}  numbers")
    for page, (job, kwargs) in SHORT_RUNS.items():
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            done = _run_exported(job, kwargs, Path(folder))
            script_s = time.perf_counter() - started
            lines = len((Path(folder) / "run.py").read_text().splitlines())
        started = time.perf_counter()
        events = _job_events(job, kwargs)
        job_s = time.perf_counter() - started
        try:
            _assert_same_numbers(done.stdout, events)
            verdict = "match"
        except AssertionError as error:
            verdict = f"DIFFER: {str(error).splitlines()[0]}"
        print(f"{page:<18} {lines:>6} {script_s:>9.1f} {job_s:>7.1f}  {verdict}", flush=True)


if __name__ == "__main__":
    main()
