"""The DQN page through the real entry point: an episode played beside a random one, the Q landscape,
changed physics, a tiny live fine-tune that leaves the shared agent alone, and the person's own agent
file uploaded, good and bad."""
import torch

from models.dqn.agent_file import agent_bytes
from tests.app.conftest import metric, open_page, run_until
from zoo import checkpoints, ui

PAGE = "pages/dqn.py"
NAME = "dqn-cartpole"


def _keys(at) -> set[str]:
    return {chart.key for chart in at.get("plotly_chart")}


def _finished(at) -> bool:
    return any("finished" in s.value for s in at.success) or bool(at.error)



def test_page_plays_an_episode_beside_a_random_policy_and_shows_the_q_landscape():
    at = open_page(PAGE)
    assert not at.error
    assert {"dqn_learning_curve", "dqn_episode", "dqn_random_episode", "dqn_landscape", "dqn_world_episode"} <= _keys(at)
    assert metric(at, "The agent's return") == "500"
    assert int(metric(at, "A random policy's return")) < 100
    chart = next(c for c in at.get("plotly_chart") if c.key == "dqn_episode")
    assert '"frames"' in chart.proto.spec and "Play" in chart.proto.spec
    at.number_input(key="dqn_seed").set_value(3).run()
    assert not at.exception and metric(at, "The agent's return") == "500"


def test_weaker_push_makes_the_agent_fail():
    at = open_page(PAGE)
    assert float(metric(at, "The agent's mean return in the standard world")) > 450
    at.slider(key="dqn_force_mag").set_value(2.0).run()
    assert not at.exception
    assert float(metric(at, "The agent's mean return in your world")) < 300


def test_tiny_fine_tune_completes_and_leaves_the_shared_agent_alone():
    at = open_page(PAGE)
    shared, _ = ui._load_shared(NAME)
    before = {k: v.clone() for k, v in shared.state_dict().items()}
    at.slider(key="dqn_length").set_value(3.0)
    at.select_slider(key="dqn_ft_steps").set_value(500).run()
    at.button(key="dqn_ft_start").click().run()
    assert not at.exception and not at.error
    run_until(at, _finished, seconds=300)
    assert not at.error
    assert {"dqn_ft_returns", "dqn_ft_epsilon", "dqn_ft_loss", "dqn_ft_replay", "dqn_tuned_episode"} <= _keys(at)
    assert any(m.label.startswith("after (the weights of step") for m in at.metric)
    # the same agent in the same world: one figure, not 43.5 above and 41.4 "before" below
    assert metric(at, "Mean return before fine-tuning") == metric(at, "The agent's mean return in your world")
    assert any("in the world above: *before* is the figure shown there" in c.value for c in at.caption)
    assert at.download_button(key="dqn_ft_download")
    assert all(torch.equal(before[k], v) for k, v in shared.state_dict().items())


def test_an_uploaded_agent_plays_and_junk_is_a_clear_error():
    at = open_page(PAGE)
    model, _ = checkpoints.load(NAME, "cpu")
    good = agent_bytes(model, {"length": 1.5}, NAME)
    at.file_uploader(key="dqn_upload").upload("my-agent.safetensors", good, "application/octet-stream").run()
    assert not at.exception and not at.error
    assert any("my-agent.safetensors" in s.value and "pole length 3 m" in s.value for s in at.success)
    assert "dqn_own_episode" in _keys(at)
    at.file_uploader(key="dqn_upload").upload("junk.safetensors", b"\x00junk bytes\xff" * 10,
                                               "application/octet-stream").run()
    assert not at.exception
    assert at.error and "junk.safetensors is not an agent file" in at.error[0].value
    assert "dqn_own_episode" not in _keys(at)
