"""zoo.jobs.deadline and zoo.jobs.pace in this process: the shared training loop stops early, with its note,
when a job nears its limit (forced by a limit already spent) and never outside a job; the reserve; the pace
of a run from its events and the estimate a person reads before the next. Through real worker processes:
tests/zoo/test_jobs.py."""
import itertools
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from tests.helpers import consume
from zoo.jobs import deadline
from zoo.jobs.pace import Pace, PaceMeter, not_measured, plain_settings
from zoo.training.loop import is_last, make_optimizer, train_steps


class Line(torch.nn.Module):
    """The smallest model with a loss on it."""

    def __init__(self) -> None:
        super().__init__()
        self.fit = torch.nn.Linear(1, 1)

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.mse_loss(self.fit(x), y)


def run_line(steps: int, **kwargs) -> tuple[list[dict], Line]:
    model = Line()
    optimizer, _ = make_optimizer(model, 0.1)
    batches = itertools.repeat((torch.ones(4, 1), torch.zeros(4, 1)))
    events, _ = consume(train_steps(model, batches, optimizer, steps, **kwargs))
    return events, model


def test_outside_a_job_the_loop_runs_every_step():
    assert not deadline.wrap_up_due() and not deadline.overrun()
    events, _ = run_line(5)
    assert [e["step"] for e in events] == [1, 2, 3, 4, 5]
    assert not any(deadline.STOPPED_EARLY in e for e in events) and is_last(events[-1], 5)


def test_a_job_with_no_time_left_stops_after_its_first_step_with_the_note():
    with deadline.limit(0):
        assert deadline.overrun()  # past its limit and not wrapping up: the worker would stop it
        events, model = run_line(5)
        assert not deadline.overrun()  # wrapping up now: given until the runner's hard limit
    assert [e["step"] for e in events] == [1]
    assert events[0][deadline.STOPPED_EARLY] == ("Stopped after 1 of 5 steps to finish within the server's "
                                                 "time limit of 0 s.")
    assert is_last(events[0], 5) and not model.training
    assert not deadline.wrap_up_due()  # the limit ends with the job


def test_a_run_that_must_train_to_the_end_ignores_the_deadline():
    with deadline.limit(0):
        events, _ = run_line(5, may_stop_early=False)
    assert [e["step"] for e in events] == [1, 2, 3, 4, 5]


def test_a_job_with_time_left_keeps_stepping():
    with deadline.limit(60):
        events, _ = run_line(20)
        assert not deadline.wrap_up_due()
    assert len(events) == 20 and not any(deadline.STOPPED_EARLY in e for e in events)


def test_the_reserve_is_the_start_and_a_tenth_of_the_limit_at_most_half():
    assert deadline.reserve_s(5, 300) == pytest.approx(35)
    assert deadline.reserve_s(0.2, 60) == pytest.approx(6.2)
    assert deadline.reserve_s(200, 300) == 150


def test_the_pace_of_a_run_is_timed_between_its_first_and_last_steps():
    meter = PaceMeter({"lr": 0.1})
    meter.start(100.0)
    for step, now in [(0, 101.0), (1, 102.0), (11, 104.0), (11, 105.0)]:  # the last: "after" figures
        meter.observe({"step": step}, now)
    pace = meter.pace(ended=106.0)
    assert (pace.steps, pace.total, pace.steps_per_s) == (11, None, 5.0)
    assert pace.setup_s == pytest.approx(1.8) and pace.finish_s == pytest.approx(2.0)
    assert pace.seconds(50) == pytest.approx(1.8 + 10 + 2)


def test_a_run_that_stopped_early_is_timed_to_its_last_step():
    meter = PaceMeter({})
    meter.start(0.0)
    meter.observe({"step": 1, "total": 100}, 1.0)
    meter.observe({"step": 41, deadline.STOPPED_EARLY: "Stopped after 41 of 100 steps."}, 5.0)
    meter.observe({"step": 100, "accuracy_after": 0.9}, 9.0)  # a recipe's closing event names the steps it asked for
    pace = meter.pace(ended=9.5)
    assert (pace.steps, pace.total, pace.steps_per_s, pace.finish_s) == (41, 100, 10.0, 4.5)


def test_a_run_without_two_steps_has_no_pace():
    meter = PaceMeter({})
    meter.start(0.0)
    meter.observe({"step": 0}, 1.0)
    meter.observe({"step": 1}, 2.0)
    assert meter.pace(ended=3.0) is None


@dataclass(frozen=True)
class Settings:
    kind: str = "gcn"
    hidden: tuple[int, ...] = (16, 16)


@dataclass(frozen=True)
class Graph:
    name: str
    edges: np.ndarray


def test_the_settings_are_the_plain_arguments_without_the_steps_or_the_data():
    kwargs = dict(name="unet-shapes", lr=1e-3, steps=80, new_kind=None, settings=Settings(), images=torch.zeros(2),
                  text="x" * 500, graph=Graph("karate", np.zeros((2, 2))), labelled=[0, 33])
    assert plain_settings(kwargs) == {"name": "unet-shapes", "lr": 1e-3, "new_kind": None, "settings": Settings()}


def test_the_estimate_says_where_it_comes_from_and_when_the_run_will_stop_early():
    pace = Pace(steps=100, total=None, steps_per_s=2.0, setup_s=10.0, finish_s=5.0, settings={"lr": 1e-3})
    fits = pace.estimate({"lr": 1e-3, "steps": 100}, 100, 300, "fine-tuning")
    assert fits == ("About 65 s for 100 steps: 2 steps/s and 15 s of loading and measuring, as measured on "
                    "this server's latest fine-tuning.")
    over = pace.estimate({"lr": 3e-3, "steps": 600}, 600, 300, "fine-tuning")
    assert over.startswith("About 5.2 min for 600 steps: 2 steps/s")
    assert "latest fine-tuning, which had other values of `lr`." in over
    assert "other values of `lr`, `name`, `noise`." in pace.estimate({"lr": 1, "name": "b", "noise": 0.2}, 1, 9, "run")
    assert over.endswith("longer than the server's time limit of 300 s: it will stop after about 500 steps "
                         "and keep what it has learned by then.")
    assert "has not timed this comparison yet" in not_measured(300, "comparison")
    slow = Pace(steps=3, total=None, steps_per_s=0.2, setup_s=25.0, finish_s=0.4, settings={})
    assert slow.estimate({}, 1, 60, "fine-tuning").startswith("About 30 s for 1 step: 0.2 steps/s and 25 s of")
    assert slow.estimate({}, 80, 60, "fine-tuning").endswith("it will stop after about 1 step and keep what it "
                                                             "has learned by then.")
