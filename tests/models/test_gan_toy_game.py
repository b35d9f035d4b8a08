"""models.gan.toy_game: the targets and their modes, counting a collapse, the frames, a few steps of the game."""
import numpy as np
import plotly.io as pio
import pytest
import torch

from models.gan import figures, toy_game
from zoo.data import toy2d

RING = "Ring of 8 gaussians"


@pytest.fixture(scope="module")
def ring():
    return toy_game.make_target(RING)


def test_ring_is_eight_small_gaussians_on_a_circle(ring):
    assert ring.points.shape == (toy_game.N_REAL, 2) and ring.points.dtype == np.float32
    assert np.allclose(np.linalg.norm(ring.centres, axis=1), toy2d.RING_RADIUS)
    assert len(ring.centres) == 8 and np.bincount(ring.modes).tolist() == [toy_game.N_REAL // 8] * 8
    fresh = toy2d.ring(800, toy_game.NOISE, seed=9).x  # fresh points of the same distribution
    shares = toy_game.mode_shares(fresh, ring)
    assert shares.sum() > 0.97 and np.allclose(shares, 1 / 8, atol=0.02)
    assert toy2d.ring(400).n_classes == 8 and "Ring" not in " ".join(toy2d.GENERATORS)  # the MLP's sets stay


@pytest.mark.parametrize("name, make, k", [("Spiral", toy2d.spiral, 10), ("Two moons", toy2d.two_moons, 6)])
def test_continuous_shapes_get_k_means_modes_that_fresh_data_covers(name, make, k):
    target = toy_game.make_target(name)
    assert target.centres.shape == (k, 2)
    assert np.array_equal(target.centres, toy_game.make_target(name).centres)  # seeded
    shares = toy_game.mode_shares(make(500, toy_game.NOISE, seed=5).x, target)
    assert toy_game.covered(shares).all() and shares.sum() > 0.9
    anywhere = np.random.default_rng(0).uniform(-2, 2, (500, 2)).astype(np.float32)
    assert toy_game.mode_shares(anywhere, target).sum() < 0.3  # between the arms is off the data


def test_a_collapse_is_counted(ring):
    rng = np.random.default_rng(1)
    spread = toy2d.ring(500, 0.05, seed=7).x
    collapsed = ring.centres[rng.choice([0, 3], 500)] + rng.normal(0, 0.05, (500, 2))
    mostly = np.concatenate([collapsed[:480], spread[:20]])  # 20 points over 8 modes: under 1/5 of a fair share
    nowhere = rng.normal(0, 0.1, (500, 2))  # the centre of the ring holds no data
    assert toy_game.covered(toy_game.mode_shares(spread, ring)).sum() == 8
    assert toy_game.covered(toy_game.mode_shares(collapsed, ring)).sum() == 2
    assert toy_game.covered(toy_game.mode_shares(mostly, ring)).sum() == 2
    assert toy_game.mode_shares(nowhere, ring).sum() == 0


def test_snapshot_shapes_and_the_arrows_point_uphill_on_d(ring):
    model, _, _ = toy_game.build(toy_game.GANSettings())
    frame = toy_game.snapshot(model, ring, step=0)
    assert frame["fake"].shape == (toy_game.N_SHOWN, 2) and frame["push"].shape == (toy_game.N_ARROWS, 2)
    assert frame["surface"].shape == (toy_game.GRID, toy_game.GRID) and frame["surface"].dtype == np.float16
    assert 0 <= frame["surface"].min() and frame["surface"].max() <= 1
    assert frame["mode_shares"].shape == (8,) and frame["modes_covered"] == frame["mode_covered"].sum()
    start = torch.from_numpy(frame["fake"][:toy_game.N_ARROWS])
    step = torch.from_numpy(frame["push"])
    moved = start + 1e-3 * step / step.norm(dim=1, keepdim=True)
    with torch.no_grad():
        assert (model.score(moved) > model.score(start)).float().mean() > 0.95
    figure = figures.toy_game_frame(frame, ring.points, ring.centres, toy_game.BOUNDS)
    assert len(figure.data) == 5 and figure.data[-1].marker.color == ("#D63031",) * 8  # nothing covered yet


def test_a_frame_figure_stays_under_24_kb(ring):
    """The page sends the plane whole twice a second: 38 KB a frame before (float64 and float32 arrays,
    all 1,000 real points), 22 KB after."""
    model, _, _ = toy_game.build(toy_game.GANSettings())
    frame = toy_game.snapshot(model, ring, step=1234)
    figure = figures.toy_game_frame(frame, ring.points, ring.centres, toy_game.BOUNDS)
    assert len(pio.to_json(figure, validate=False)) < 24_000
    surface = figure.data[0]
    assert surface.z.dtype == np.uint8 and surface.zmax == 100  # D's verdict in whole percent
    assert np.abs(surface.z - 100 * frame["surface"].astype(np.float32)).max() <= 0.5


def test_d_learns_to_tell_real_from_fake_while_g_stands_still(ring):
    settings = toy_game.GANSettings(g_lr=0.0, d_lr=3e-3)
    frames = list(toy_game.train_run(ring, settings, max_steps=40, frame_seconds=0.0, seconds=1e9))
    assert [f["step"] for f in frames] == list(range(1, 41))
    assert frames[-1]["d_loss"] < 0.8 * frames[0]["d_loss"]
    assert frames[-1]["d_real"] > 0.6 > 0.4 > frames[-1]["d_fake"]


def test_g_moves_its_points_onto_the_data_and_a_run_resumes(ring):
    fresh = toy_game.ToyGame(target=ring).view()
    first = list(toy_game.train_run(ring, toy_game.GANSettings(), max_steps=300, seconds=1e9, frame_seconds=1e9))
    assert len(first) == 1 and first[-1]["step"] == 300  # one frame: the last step's
    assert fresh["on_data"] < 0.05 and first[-1]["on_data"] > 0.1
    more = list(toy_game.train_run(ring, toy_game.GANSettings(), state=first[-1]["state"], step=300, max_steps=5,
                                   seconds=1e9))
    assert more[-1]["step"] == 305
    model, g_optimizer, d_optimizer = toy_game.build(toy_game.GANSettings(), first[-1]["state"])
    assert len(g_optimizer.state) == len(list(model.generator.parameters()))  # both optimisers' moments came back
    assert len(d_optimizer.state) == len(list(model.discriminator.parameters()))


def test_a_run_ends_on_time_with_frames_in_between(ring):
    frames = list(toy_game.train_run(ring, toy_game.GANSettings(), seconds=0.6, frame_seconds=0.1))
    assert len(frames) >= 3 and frames[-1]["elapsed_s"] >= 0.6
    assert all(a["step"] < b["step"] for a, b in zip(frames, frames[1:]))
