"""Every training loop with its own stepping (not `zoo.training.loop.train_steps`) stops when its job
nears its time limit, with the note, and the job still ends with its final figures and result. The
signal is forced in this process by a limit already spent (`zoo.jobs.deadline.limit(0)`); one file for
all of them, as they share the one rule (train_steps itself: tests/zoo/test_job_deadline.py)."""
import dataclasses
import random

import numpy as np
import torch

from models.dqn import agent_file, recipe as dqn_recipe, training_loop
from models.dqn.env import make_env
from models.dqn.model import QNetwork, QNetworkConfig
from models.gan.model import DCGAN, DCGANConfig
from models.gan.recipe import finetune_gan
from models.gnn import explore as gnn_explore, recipe as gnn_recipe
from models.resnet.plain_vs_residual import compare_training
from models.rnn import forecast
from models.word2vec import recipe as w2v
from tests.helpers import consume
from tests.models import test_gnn, test_word2vec
from zoo import checkpoints
from zoo.jobs.deadline import STOPPED_EARLY, limit


def spent(job) -> tuple[list[dict], object]:
    """Run a job whose time limit is already spent: its loop may take one step, then must wrap up."""
    with limit(0):
        return consume(job)


def noted(events: list[dict]) -> list[dict]:
    return [e for e in events if STOPPED_EARLY in e]


def test_the_gan_fine_tune_stops_and_draws_its_last_samples(checkpoint_dir):
    torch.manual_seed(0)
    tiny = DCGANConfig(noise_dim=8, width=8, embed_dim=4)
    checkpoints.save("dcgan-fashion", DCGAN(tiny).eval(), {"title": "DCGAN", "dataset": "fashion-mnist",
                     "config": vars(tiny), "steps": 0, "device": "CPU", "wall_time_s": 0.0, "metrics": {}})
    events, weights = spent(finetune_gan("dcgan-fashion", steps=50, n_train=200, batch_size=16))
    assert [e["step"] for e in events] == [0, 1]
    assert events[-1][STOPPED_EARLY].startswith("Stopped after 1 of 50 steps")
    assert "samples" in events[-1] and isinstance(weights, bytes)  # the samples of the step it stopped at


def test_the_dqn_loop_and_fine_tune_stop_and_keep_an_agent(checkpoint_dir):
    torch.manual_seed(0)
    events, _ = spent(training_loop.dqn_steps(QNetwork(QNetworkConfig(hidden=(16,))), make_env("CartPole-v1"),
                                              training_loop.DQNSettings(), 1000))
    assert [e["step"] for e in events] == [1]
    assert events[0][STOPPED_EARLY].startswith("Stopped after 1 of 1,000 environment steps")
    tiny = QNetworkConfig(hidden=(16,))
    checkpoints.save("dqn-cartpole", QNetwork(tiny).eval(), {"title": "DQN", "env_id": "CartPole-v1",
                     "config": dataclasses.asdict(tiny), "steps": 0, "device": "CPU", "wall_time_s": 0.0, "metrics": {}})
    events, payload = spent(dqn_recipe.finetune_dqn("dqn-cartpole", {}, steps=700, eval_every=300, eval_episodes=2))
    assert len(noted(events)) == 1 and noted(events)[0]["step"] == 1  # the note reaches the page
    assert "return_after" in events[-1] and agent_file.load_agent(payload)


def test_the_residual_comparison_reports_the_step_it_stops_at():
    events, final = spent(compare_training(blocks=1, width=4, steps=20, n_train=64, batch_size=16, report_every=5))
    assert [e["step"] for e in events] == [0, 1]
    last = events[-1]
    assert last[STOPPED_EARLY].startswith("Stopped after 1 of 20 steps")
    assert {"loss_plain", "loss_residual", "grad_plain", "grad_residual"} <= set(last)
    assert final == {"plain": last["loss_plain"], "residual": last["loss_residual"]}


def test_the_forecast_stops_with_the_forecast_of_its_last_step():
    values = forecast.load_default().values
    events, final = spent(forecast.forecast_series(values, horizon=12, season=12, steps=50, report_every=10))
    assert [e["step"] for e in events] == [0, 1] and STOPPED_EARLY in events[-1]
    assert final["forecast"] == events[-1]["forecast"] and final["mase"] == events[-1]["mase"]


def test_word2vec_stops_after_an_epoch_with_its_vectors():
    rng = random.Random(0)
    text = "\n".join(" ".join(rng.choice(words) for _ in range(12)) for words in [test_word2vec.FRUIT,
                                                                               test_word2vec.VEHICLES] * 500)
    config = w2v.Word2VecConfig(vector_size=8, window=3, min_count=1, epochs=5, negative=5, seed=1, workers=1)
    events, kv = spent(w2v.train_vectors(text, config))
    assert [e["step"] for e in events] == [0, 1]
    assert events[-1][STOPPED_EARLY].startswith("Stopped after 1 of 5 epochs")
    assert set(test_word2vec.FRUIT) <= set(kv.key_to_index)


def test_the_gnn_jobs_stop_between_whole_trainings():
    two_cliques = test_gnn.two_cliques()
    settings = gnn_recipe.Settings(layers=2, epochs=20)
    events, last = spent(gnn_recipe.train_live(two_cliques, [0, 9], settings, frames=4))
    assert [e["step"] for e in events] == [0, 1] and STOPPED_EARLY in events[-1]
    assert np.array_equal(last["probs"], events[-1]["probs"])  # the frame of the step it stopped at
    stopped, _ = spent(gnn_explore.accuracy_vs_labels(two_cliques, settings, repeats=2))
    whole, _ = consume(gnn_explore.accuracy_vs_labels(two_cliques, settings, repeats=2))
    assert len(stopped) == 1 and stopped[0][STOPPED_EARLY].startswith("Stopped after 1 of 6 draws")
    assert {k: stopped[0][k] for k in ("gnn", "mlp")} == {k: whole[0][k] for k in ("gnn", "mlp")}  # trained to the end
    stopped, _ = spent(gnn_explore.over_smoothing(two_cliques, [0, 9], settings, depths=(2, 4)))
    whole, _ = consume(gnn_explore.over_smoothing(two_cliques, [0, 9], settings, depths=(2, 4)))
    assert len(stopped) == 1 and stopped[0][STOPPED_EARLY].startswith("Stopped after 1 of 2 depths")
    assert stopped[0]["accuracy"] == whole[0]["accuracy"] and stopped[0]["distance"] == whole[0]["distance"]
