"""models.dqn: the replay buffer, the double-DQN target, a short run that beats a random policy, the recipe
through the CLI, changed physics, the agent file, the fine-tuning job and the episode animation."""
import json

import numpy as np
import pytest
import torch
from safetensors.torch import save as save_tensors

from models.dqn import agent_file, explore, recipe, training_loop
from models.dqn.env import make_env
from models.dqn.figures import episode_figure, q_landscape
from models.dqn.model import QNetwork, QNetworkConfig, double_dqn_target
from models.dqn.recipe import DQNRecipe, DQNTraining
from tests.helpers import consume, rss_bytes
from zoo import checkpoints, evaluate, i18n, train

ENV = "CartPole-v1"
TINY = QNetworkConfig(hidden=(16,))


def test_replay_buffer_keeps_the_last_transitions_and_samples_them():
    buffer = training_loop.ReplayBuffer(capacity=5, obs_dim=2, seed=0)
    for i in range(7):
        buffer.add(np.array([i, -i], np.float32), i % 2, float(i), np.array([i + 1, 0], np.float32), i == 6)
    assert len(buffer) == 5
    assert sorted(buffer.rewards.tolist()) == [2.0, 3.0, 4.0, 5.0, 6.0]  # 0 and 1 were overwritten
    obs, actions, rewards, next_obs, terminated = buffer.sample(64)
    assert obs.shape == next_obs.shape == (64, 2) and obs.dtype == torch.float32
    assert actions.dtype == torch.int64 and terminated.dtype == torch.bool
    assert set(rewards.tolist()) <= {2.0, 3.0, 4.0, 5.0, 6.0} and len(set(rewards.tolist())) > 1
    assert torch.equal(obs[:, 0], rewards) and torch.equal(next_obs[:, 0], rewards + 1)  # transitions stay whole
    assert torch.equal(terminated, rewards == 6.0) and torch.equal(actions, rewards.long() % 2)


def _linear(weight: list[list[float]]) -> torch.nn.Linear:
    layer = torch.nn.Linear(2, 2, bias=False)
    layer.weight.data = torch.tensor(weight)
    return layer


def test_double_dqn_target_lets_the_online_net_choose_and_the_target_net_score():
    online = _linear([[1.0, 0.0], [0.0, 1.0]])  # Q(s, a) = s[a]
    target = _linear([[10.0, 0.0], [0.0, -10.0]])
    next_obs = torch.tensor([[1.0, 2.0], [3.0, 1.0], [1.0, 2.0]])
    rewards, terminated = torch.tensor([1.0, 1.0, 1.0]), torch.tensor([False, False, True])
    y = double_dqn_target(online, target, rewards, next_obs, terminated, gamma=0.5)
    # row 0: online picks action 1, target scores it -20; row 1: action 0, scored 30; row 2 ended: just r
    assert y.tolist() == pytest.approx([1.0 + 0.5 * -20.0, 1.0 + 0.5 * 30.0, 1.0])
    plain_dqn = rewards + 0.5 * target(next_obs).max(1).values  # the max DQN would take instead
    assert plain_dqn[0] > y[0]


def test_loss_is_huber_on_the_taken_actions():
    torch.manual_seed(0)
    q, target = QNetwork(TINY), QNetwork(TINY)
    obs, next_obs = torch.randn(8, 4), torch.randn(8, 4)
    actions, rewards, terminated = torch.randint(0, 2, (8,)), torch.ones(8), torch.zeros(8, dtype=torch.bool)
    y = double_dqn_target(q, target, rewards, next_obs, terminated, 0.99)
    expected = torch.nn.functional.smooth_l1_loss(q(obs)[torch.arange(8), actions], y)
    assert q.loss(obs, actions, rewards, next_obs, terminated, target, 0.99).item() == pytest.approx(expected.item())


def test_short_dqn_run_beats_a_random_policy():
    torch.manual_seed(0)
    q = QNetwork(QNetworkConfig(hidden=(64, 64)))
    settings = training_loop.DQNSettings(learning_starts=500, train_freq=64, gradient_steps=32,
                                         exploration_fraction=0.3)
    events = list(training_loop.dqn_steps(q, make_env(ENV), settings, 4000, seed=0))
    assert [e["step"] for e in events] == list(range(1, 4001))
    assert events[0]["epsilon"] == pytest.approx(1.0, abs=1e-3) and events[-1]["epsilon"] == pytest.approx(0.04)
    assert any("loss" in e for e in events) and all("loss" not in e for e in events[:500])
    seeds = range(100, 110)
    greedy = training_loop.evaluate_returns(q, ENV, seeds).mean()
    random = np.mean([explore.play_episode(q, ENV, s, policy="random").ret for s in seeds])
    assert greedy > 3 * random, (greedy, random)


def test_evaluation_is_seeded_and_matches_played_episodes():
    torch.manual_seed(0)
    q = QNetwork(TINY)
    returns = training_loop.evaluate_returns(q, ENV, [3, 4, 5])
    assert returns.tolist() == training_loop.evaluate_returns(q, ENV, [3, 4, 5]).tolist()
    episodes = [explore.play_episode(q, ENV, s) for s in (3, 4, 5)]
    assert returns.tolist() == [e.ret for e in episodes]
    e = episodes[0]
    assert e.states.shape == (len(e.actions) + 1, 4) and e.q_values.shape == (len(e.actions) + 1, 2)
    assert np.array_equal(e.actions, e.q_values[:-1].argmax(1)) and e.ret == len(e.actions)
    with pytest.raises(ValueError, match="policy"):
        explore.play_episode(q, ENV, 0, policy="clever")


def test_changed_physics_reach_the_simulation():
    env = make_env(ENV, {"masspole": 0.5, "length": 1.0, "force_mag": 4.0})
    cartpole = env.unwrapped
    assert cartpole.total_mass == pytest.approx(1.5) and cartpole.polemass_length == pytest.approx(0.5)
    assert cartpole.force_mag == 4.0
    start = env.reset(seed=0)[0]
    standard = make_env(ENV)
    assert np.array_equal(standard.reset(seed=0)[0], start)
    assert not np.allclose(env.step(1)[0], standard.step(1)[0])
    with pytest.raises(ValueError, match="unknown physics"):
        make_env(ENV, {"friction": 1.0})


def tiny_recipe() -> DQNRecipe:
    training = DQNTraining(total_steps=600, learning_starts=200, train_freq=100, gradient_steps=4, eval_every=300,
                           eval_episodes=2)
    return DQNRecipe(QNetwork, TINY, title="DQN (CartPole)", training=training)


@pytest.fixture
def tiny_dqn(checkpoint_dir, monkeypatch):
    """dqn-cartpole as a tiny agent trained 600 steps, written by the real `zoo.train` CLI."""
    monkeypatch.setitem(checkpoints.registry(), "dqn-cartpole", tiny_recipe())
    train.main(["dqn-cartpole", "--device", "cpu"])
    return checkpoints.load("dqn-cartpole", "cpu")


def test_train_cli_writes_a_card_with_the_learning_curve_and_evaluate_re_measures_it(tiny_dqn, capsys):
    model, card = tiny_dqn
    assert card["env_id"] == ENV and card["steps"] == 600 and card["config"]["hidden"] == [16]
    assert [p["step"] for p in card["learning_curve"]] == [300, 600]
    assert card["kept_step"] in (300, 600)
    assert card["kept_eval_return"] == max(p["eval_return"] for p in card["learning_curve"])
    assert card["metrics"]["n"] == 100 and 8 <= card["metrics"]["mean_return"] <= 500
    q = model(torch.zeros(3, 4))
    assert q.shape == (3, 2) and q.dtype == torch.float32
    capsys.readouterr()
    evaluate.main(["dqn-cartpole", "--limit", "5", "--json"])
    measured = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert measured["n"] == 5 and set(measured) == set(card["metrics"])


def test_agent_file_round_trip_and_clear_errors():
    torch.manual_seed(0)
    q = QNetwork(TINY)
    payload = agent_file.agent_bytes(q, {"gravity": 20.0}, "dqn-cartpole")
    back, meta = agent_file.load_agent(payload)
    assert meta["physics"]["gravity"] == 20.0 and meta["physics"]["length"] == 0.5 and meta["base"] == "dqn-cartpole"
    assert all(torch.equal(v, back.state_dict()[k]) for k, v in q.state_dict().items())
    with pytest.raises(agent_file.AgentFileError, match="junk.bin is not an agent file"):
        agent_file.load_agent(b"\x00\x01 not safetensors at all", "junk.bin")
    with pytest.raises(agent_file.AgentFileError, match="not a DQN agent"):
        agent_file.load_agent(save_tensors({"w": torch.zeros(2)}), "other.safetensors")
    with pytest.raises(agent_file.AgentFileError, match="damaged agent file: its weights do not fit"):
        agent_file.load_agent(_tampered(q, config=json.dumps({"hidden": [17]})))
    with pytest.raises(agent_file.AgentFileError, match="not a CartPole agent"):  # refused before it is built
        agent_file.load_agent(_tampered(q, config=json.dumps({"hidden": [10 ** 9]})))
    with pytest.raises(agent_file.AgentFileError, match="above 0"):  # a cart of no mass would divide by zero
        agent_file.load_agent(agent_file.agent_bytes(q, {"masscart": -0.1}, "x"))


def test_an_agent_file_is_refused_in_the_readers_language():
    q = QNetwork(TINY)
    with i18n.speaking("ru"):
        with pytest.raises(agent_file.AgentFileError, match="junk.bin — не файл агента"):
            agent_file.load_agent(b"\x00\x01 not safetensors at all", "junk.bin")
        with pytest.raises(agent_file.AgentFileError, match="больше 0"):  # check_physics's sentence, inside
            agent_file.load_agent(agent_file.agent_bytes(q, {"masscart": -0.1}, "x"), "x")
    with i18n.speaking("zh"):
        with pytest.raises(agent_file.AgentFileError, match="元数据缺失或格式有误"):  # not Python's own words
            agent_file.load_agent(_tampered(q, config="not json"), "x")


def test_an_agent_file_that_asks_for_a_huge_network_is_refused_before_anything_is_built():
    """A 2.7 KB file whose metadata asked for 40 layers of 2048 units once cost 626 MB, and 400 layers
    a crash; now the layers are counted first and the shapes checked on the meta device."""
    q = QNetwork(TINY)
    rss = rss_bytes()
    for hidden in ([2048] * 40, [2048] * 400, [1] * 100_000):
        with pytest.raises(agent_file.AgentFileError, match="not a CartPole agent"):
            agent_file.load_agent(_tampered(q, config=json.dumps({"hidden": hidden})))
    with pytest.raises(agent_file.AgentFileError, match="do not fit"):  # within the limits, but not these weights
        agent_file.load_agent(_tampered(q, config=json.dumps({"hidden": [2048] * 8})))
    with pytest.raises(agent_file.AgentFileError, match="do not fit"):  # the right shapes in the wrong dtype
        meta = checkpoints.read_metadata(agent_file.agent_bytes(q, {}, "dqn-cartpole"))
        agent_file.load_agent(save_tensors({k: v.double() for k, v in q.state_dict().items()}, metadata=meta))
    assert rss_bytes() - rss < 50 * 2 ** 20


def _tampered(q: QNetwork, **metadata: str) -> bytes:
    """An agent file of `q` with some of its metadata replaced."""
    meta = checkpoints.read_metadata(agent_file.agent_bytes(q, {}, "dqn-cartpole")) | metadata
    return save_tensors(q.state_dict(), metadata=meta)


def test_fine_tune_job_reports_returns_replays_and_returns_an_agent(tiny_dqn):
    physics = {"length": 1.0, "gravity": 12.0}
    events, payload = consume(recipe.finetune_dqn("dqn-cartpole", physics, steps=700, eval_every=300, eval_episodes=2,
                                                  replay_seconds=0.0))
    assert events[0]["step"] == 0 and events[0]["episodes"] == explore.WORLD_EPISODES
    assert events[0]["physics"] == physics
    before, _ = tiny_dqn  # the page's figure for this agent in this world: the same number
    assert events[0]["return_before"] == explore.world_return(before, ENV, physics)
    assert "return_after" in events[-1] and events[-1]["step"] == 700 and events[-1]["kept_step"] in (0, 300, 600)
    middle = events[1:-1]
    assert all(e.keys() >= {"step", "epsilon", "elapsed_s"} for e in middle)
    assert any("loss" in e for e in middle) and any("episode_return" in e for e in middle)
    assert [e["step"] for e in middle if "eval_return" in e] == [300, 600]
    replay = next(e["replay"] for e in middle if "replay" in e)
    episode = explore.Episode(**replay)
    assert len(episode.states) == len(episode.actions) + 1 == len(episode.q_values) and episode.ret == len(episode.actions)
    tuned, meta = agent_file.load_agent(payload)
    assert events[-1]["return_after"] == explore.world_return(tuned, ENV, physics)
    assert meta["physics"]["length"] == 1.0 and meta["physics"]["gravity"] == 12.0 and meta["physics"]["masscart"] == 1.0


def test_episode_animation_and_q_landscape():
    torch.manual_seed(0)
    q = QNetwork(TINY)
    episode = explore.play_episode(q, ENV, 0, policy="random")
    fig = episode_figure(episode, "The agent, seed 0")
    assert len(fig.frames) == len(episode.states)
    assert fig.layout.sliders[0].steps[-1].label == f"{len(episode.actions)}: fell"
    with i18n.speaking("ru"):  # the actions, the end and the axes in the reader's language
        ru = episode_figure(episode, "Агент, зерно 0")
    assert ru.layout.sliders[0].steps[-1].label == f"{len(episode.actions)}: упал"
    assert {trace.name for trace in ru.data if trace.name} == {"Q(толчок влево)", "Q(толчок вправо)", "выбранное"}
    long = explore.Episode(np.zeros((501, 4), np.float32), np.zeros((501, 2), np.float32),
                           np.zeros(500, np.int64), 500.0, False)
    frames = episode_figure(long, "A long episode", max_frames=100).frames
    assert len(frames) <= 101 and frames[-1].name == "500"
    thetas, dots = np.linspace(-0.2, 0.2, 5), np.linspace(-1, 1, 3)
    values = explore.q_grid(q, thetas, dots)
    assert values.shape == (3, 5, 2)
    assert values[1, 2] == pytest.approx(q(torch.zeros(1, 4))[0].detach().numpy(), abs=1e-6)
    assert len(q_landscape(values[..., 1] - values[..., 0], values.max(-1), thetas, dots, episode.states).data) == 4
