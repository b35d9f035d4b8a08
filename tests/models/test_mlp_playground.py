"""models.mlp.playground: the playground's network, its job and its frames, pause and resume from
the frame's state, through the real job runner too, and the figures drawn from a frame."""
import time

import numpy as np
import plotly.io as pio
import pytest
import torch

from models.mlp import figures, playground as pg
from models.mlp.model import FEATURES, PlaygroundConfig, PlaygroundMLP
from zoo import jobs
from zoo.data import toy2d


@pytest.mark.parametrize("features", [("x", "y"), ("x²", "y²"), tuple(FEATURES)])
def test_playground_mlp_shapes(features):
    model = PlaygroundMLP(PlaygroundConfig(features=features, hidden=(5, 3), activation="gelu", n_classes=4))
    points = torch.randn(7, 2)
    assert model(points).shape == (7, 4)
    assert [h.shape for h in model.hidden_activations(points)] == [(7, 5), (7, 3)]
    assert model.inputs(points).shape == (7, len(features))


def test_playground_mlp_without_hidden_layers_and_bad_settings():
    linear = PlaygroundMLP(PlaygroundConfig(hidden=()))
    assert linear(torch.randn(3, 2)).shape == (3, 2) and linear.hidden_activations(torch.randn(3, 2)) == []
    with pytest.raises(ValueError, match="features"):
        PlaygroundMLP(PlaygroundConfig(features=("z",)))
    with pytest.raises(ValueError, match="activation"):
        PlaygroundMLP(PlaygroundConfig(activation="swish"))


def test_parse_hidden():
    assert pg.parse_hidden("8, 8") == (8, 8) and pg.parse_hidden("") == () and pg.parse_hidden("16;4") == (16, 4)
    for bad in ["8, x", "-1", "1.5", "100", "1,1,1,1,1,1,1"]:
        with pytest.raises(ValueError):
            pg.parse_hidden(bad)


@pytest.fixture(scope="module")
def moons():
    train, test = toy2d.split(toy2d.make("Two moons", 200, 0.1), 0.3)
    config = pg.network(train, ("x", "y"), (8, 8), "tanh")
    return config, train, test, pg.Playground.create(config, train, test).bounds


def test_run_yields_frames_with_the_grid_units_and_state(moons):
    config, train, test, bounds = moons
    settings = pg.TrainSettings(lr=0.03, batch_size=16)
    events = list(pg.train_run(config, train, test, settings, bounds, layer=2, max_steps=150, frame_seconds=0.0,
                                  seconds=1e9))
    assert [e["step"] for e in events] == list(range(1, 151))
    last = events[-1]
    assert last["proba"].shape == (2, pg.GRID, pg.GRID) and last["proba"].dtype == np.float16
    assert np.allclose(last["proba"].astype(np.float32).sum(0), 1, atol=1e-2)
    assert last["units"].shape == (8, pg.UNIT_GRID, pg.UNIT_GRID) and last["layer"] == 2
    assert isinstance(last["state"], bytes) and len(last["state"]) < 20_000
    assert last["train_loss"] < 0.6 * events[0]["train_loss"]
    assert last["epoch"] == pytest.approx(150 / (len(train) // 16))


def test_a_run_stops_at_its_time_budget(moons):
    config, train, test, bounds = moons
    start = time.monotonic()
    events = list(pg.train_run(config, train, test, pg.TrainSettings(), bounds, seconds=0.5, frame_seconds=0.1))
    assert time.monotonic() - start < 10 and 2 <= len(events) <= 8
    assert events[-1]["elapsed_s"] >= 0.5 and [e["step"] for e in events] == sorted({e["step"] for e in events})


def test_pause_and_resume_from_the_state_continues_exactly(moons):
    """Adam's moments travel with the weights and batches follow the step, so 60 + 60 steps = 120."""
    config, train, test, bounds = moons
    settings = pg.TrainSettings(lr=0.03, batch_size=16)
    run = lambda **kw: list(pg.train_run(config, train, test, settings, bounds, frame_seconds=0.0, seconds=1e9, **kw))
    unbroken = run(max_steps=120)
    first = run(max_steps=60)
    second = run(state=first[-1]["state"], step=60, max_steps=60)
    assert second[0]["step"] == 61 and second[-1]["step"] == 120
    assert second[-1]["train_loss"] == pytest.approx(unbroken[-1]["train_loss"], rel=1e-4)
    model, _ = pg.build(config, settings, second[-1]["state"])
    reference, _ = pg.build(config, settings, unbroken[-1]["state"])
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(model.state_dict().values(), reference.state_dict().values()))


def test_state_of_another_optimizer_is_ignored(moons):
    config, train, test, bounds = moons
    adam = list(pg.train_run(config, train, test, pg.TrainSettings(), bounds, max_steps=5, seconds=1e9))[-1]["state"]
    model, sgd = pg.build(config, pg.TrainSettings(optimizer="SGD"), adam)
    assert not sgd.state
    assert torch.equal(model.head.weight, pg.build(config, pg.TrainSettings(), adam)[0].head.weight)


def test_one_step_and_view_in_process(moons):
    config, train, test, _ = moons
    playground = pg.Playground.create(config, train, test)
    fresh = playground.view(1)
    assert playground.step == 0 and fresh["proba"].shape == (2, pg.GRID, pg.GRID)
    playground.one_step(pg.TrainSettings(), layer=1)
    assert playground.step == 1 and len(playground.history) == 1 and playground.state is not None
    assert not np.array_equal(playground.view(1)["proba"], fresh["proba"])
    assert playground.view(2)["units"].shape[0] == 8  # another layer: computed from the state


def test_figures_for_two_and_more_classes(moons):
    config, train, test, _ = moons
    playground = pg.Playground.create(config, train, test)
    figure = figures.decision_boundary(playground.view(1)["proba"], playground.bounds, train, test)
    assert figure.data[0].type == "heatmap" and len(figure.data) == 1 + 2 * 2
    blobs_train, blobs_test = toy2d.split(toy2d.make("Gaussian blobs", 120, n_classes=4))
    blobs = pg.Playground.create(pg.network(blobs_train, ("x", "y"), (3,), "relu"), blobs_train, blobs_test)
    view = blobs.view(1)
    shades = figures.decision_boundary(view["proba"], blobs.bounds, blobs_train, blobs_test).data[0]
    band = shades.zmax // 4  # a band of uint8 shades per class
    assert shades.z.dtype == np.uint8 and np.array_equal(shades.z // band, view["proba"].astype(np.float32).argmax(0))
    units = figures.unit_maps(view["units"], signed=False, title="Hidden layer 1").data
    assert len(units) == 1 and np.max(units[0].customdata) == 3  # one tiled map: units 1..3


def test_playground_trains_pauses_and_resumes_through_the_job_runner(moons):
    config, train, test, _ = moons
    runner = jobs.JobRunner(max_jobs=1)
    try:
        playground = pg.Playground.create(config, train, test)
        settings = pg.TrainSettings(lr=0.03)
        playground.start(runner, "test", settings, layer=1)
        deadline = time.monotonic() + 60
        while playground.step < 50:
            assert time.monotonic() < deadline, runner.status(playground.job_id)
            playground.poll(runner)
            time.sleep(0.05)
        job = playground.job_id
        playground.pause(runner)
        assert not playground.running and runner.status(job).state == "cancelled"
        paused_step, paused_loss = playground.step, playground.history[-1]["train_loss"]
        assert playground.frame["state"] == playground.state
        playground.start(runner, "test", settings, layer=1)
        while playground.step == paused_step or not playground.history:
            assert time.monotonic() < deadline
            playground.poll(runner)
            time.sleep(0.05)
        playground.pause(runner)
        resumed = [h for h in playground.history if h["step"] > paused_step]
        assert resumed and resumed[0]["train_loss"] < max(0.3, 2 * paused_loss)  # not back at the start (~0.69)
    finally:
        runner.shutdown()


def test_a_decision_boundary_of_200_points_stays_under_22_kb(moons):
    """The live board sends it whole twice a second: its float32 shades made it 40 KB, uint8 ones 20 KB."""
    config, train, test, _ = moons
    playground = pg.Playground.create(config, train, test)
    figure = figures.decision_boundary(playground.view(1)["proba"], playground.bounds, train, test)
    assert len(pio.to_json(figure, validate=False)) < 22_000
