"""The CNN page with ZOO_JOB_BACKEND=ray: its fine-tune runs on the test session's Ray head (tests/ray_head.py)
through the same page, in a Ray worker, and leaves the shared model alone."""
from pathlib import Path

import torch

from tests.app.conftest import open_page, run_until
from zoo import checkpoints, ui
from zoo.jobs import runner as job_runner

PAGE = "pages/cnn.py"


def test_a_fine_tune_runs_in_a_ray_worker_and_leaves_the_shared_model_alone(ray_head, monkeypatch):
    monkeypatch.setenv("ZOO_JOB_BACKEND", "ray")
    monkeypatch.setenv("RAY_ADDRESS", ray_head.address)
    monkeypatch.setattr(job_runner, "_runner", None)  # the page's get_runner() makes the Ray runner
    at = open_page(PAGE)
    try:
        shared, _ = ui._load_shared("cnn-fashion")
        before = {k: v.clone() for k, v in shared.state_dict().items()}
        at.slider(key="cnn_steps").set_value(10)
        at.slider(key="cnn_n").set_value(500).run()
        at.button(key="cnn_ft_start").click().run()
        assert not at.exception and not at.error
        run_until(at, lambda at: any("finished" in s.value for s in at.success), seconds=180)
        assert at.metric[0].label == "Held-out accuracy before" and at.metric[1].label == "after"
        assert at.download_button(key="cnn_ft_download")

        runner = job_runner.get_runner()
        assert type(runner).__name__ == "RayJobRunner"
        worker = runner._worker_of(at.session_state["cnn_ft_job"])
        title = Path(f"/proc/{worker['pid']}/cmdline").read_bytes().split(b"\0")[0].decode()
        assert title.startswith("ray::") and worker["pid"] in ray_head.pids()  # a worker of the head's raylet
        after = shared.state_dict()
        assert all(torch.equal(before[k], after[k]) for k in before)
        fresh, _ = checkpoints.load("cnn-fashion", "cpu")
        assert all(torch.equal(v.cpu(), after[k].cpu()) for k, v in fresh.state_dict().items())
    finally:
        job_runner.get_runner().shutdown()
