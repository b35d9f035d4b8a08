"""Stop a Ray head under a running job and report, as one JSON line, what the runner made of it: run by
tests/zoo/test_ray_runner.py in a process of its own (a process has one Ray Client connection) as
`python -m tests.zoo.ray_head_stop TEMP_DIR [--next-run]`, with RAY_CLIENT_RECONNECT_GRACE_PERIOD set as it wants;
with --next-run it also submits a job after that and waits for what becomes of it (refused or failed, with a
sentence: the runner's next connection times out after about 30 s)."""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from tests.ray_head import CLIENT_ENV, start_head
from tests.zoo.jobs_fixtures import forever


def main(temp_dir: Path, next_run: bool) -> dict:
    os.environ.update(CLIENT_ENV)
    from zoo.jobs.ray_runner import ClusterUnreachable, RayJobRunner, lost
    head = start_head(temp_dir)
    try:
        runner = RayJobRunner(address=head.address, preload=())
        job = runner.submit("a", forever, sleep=0.1)
        while runner.status(job).n_events < 3:
            time.sleep(0.05)
    finally:
        stopped = time.monotonic()
        head.stop()
    while not runner.status(job).finished:
        time.sleep(0.1)
    status = runner.status(job)
    report = {"state": status.state, "error": status.error, "expected_error": lost(head.address),
              "failed_after_s": time.monotonic() - stopped}
    if not next_run:
        return report
    try:  # refused at once if the runner has tried to connect again by now, else queued and failed then
        after = runner.submit("b", forever)
        while not runner.status(after).finished:
            time.sleep(0.1)
        outcome = runner.status(after).error
    except ClusterUnreachable as exc:
        outcome = str(exc)
    return {**report, "next_run": outcome, "next_run_after_s": time.monotonic() - stopped}


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), "--next-run" in sys.argv[2:])))
