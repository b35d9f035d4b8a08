"""models.rnn: shapes, a loss that goes down, greedy decoding, equal budgets, the replayed cells
(states, gates, gradient through time) against the fused modules, and a checkpoint round trip."""
from dataclasses import asdict, replace

import pytest
import torch

from models.rnn.explore import gradient_flow, look_inside
from models.rnn.model import CELLS, GATES, CharRNN, ForecasterConfig, RNNConfig, SeriesForecaster
from zoo import checkpoints
from zoo.training.char_lm import CharLMRecipe, CharLMTraining, generate
from zoo.training.loop import make_optimizer, train_steps

V = 23
SHIPPED = ("rnn-text", "gru-text", "lstm-text")


def tiny(cell: str, n_layer: int = 1) -> CharRNN:
    torch.manual_seed(0)
    return CharRNN(RNNConfig(cell=cell, vocab_size=V, n_embd=8, n_hidden=16, n_layer=n_layer)).eval()


@pytest.mark.parametrize("cell", CELLS)
def test_shapes(cell):
    model = tiny(cell, n_layer=2)
    idx = torch.randint(V, (3, 10))
    assert model(idx).shape == (3, 10, V)
    logits, state = model.run(idx)
    h = state[0] if cell == "lstm" else state
    assert logits.shape == (3, 10, V) and h.shape == (2, 3, 16)
    assert generate(model, idx, 7).shape == (3, 17)
    assert torch.equal(generate(model, idx, 7)[:, :10], idx)


@pytest.mark.parametrize("cell", CELLS)
def test_a_few_steps_lower_the_loss(cell):
    model = tiny(cell)
    ids = torch.arange(40) % 5  # a repeating pattern
    batch = (torch.stack([ids[i:i + 16] for i in range(8)]), torch.stack([ids[i + 1:i + 17] for i in range(8)]))
    optimizer, _ = make_optimizer(model, 1e-2)
    events = list(train_steps(model, iter([batch] * 40), optimizer, 40))
    assert events[-1]["loss"] < 0.5 * events[0]["loss"]
    assert not model.training


@pytest.mark.parametrize("cell", CELLS)
def test_temperature_zero_is_greedy_and_the_state_is_carried(cell):
    model = tiny(cell)
    idx = torch.randint(V, (2, 5))
    out = generate(model, idx, 12, temperature=0.0)
    expected = idx
    for _ in range(12):  # re-reading the whole text each time: what carrying the state must equal
        expected = torch.cat([expected, model(expected)[:, -1].argmax(-1, keepdim=True)], 1)
    assert torch.equal(out, expected)


def test_sampling_is_reproducible_with_a_generator():
    model = tiny("gru")
    idx = torch.randint(V, (1, 4))
    draw = lambda seed: generate(model, idx, 30, temperature=1.0, top_k=5,
                                 generator=torch.Generator().manual_seed(seed))
    assert torch.equal(draw(1), draw(1)) and not torch.equal(draw(1), draw(2))


def test_shipped_models_have_the_same_parameter_budget():
    counts = {}
    for name in SHIPPED:
        recipe = checkpoints.recipe(name)
        assert recipe.config.n_layer == 1 and recipe.training.grad_clip
        counts[name] = sum(p.numel() for p in CharRNN(replace(recipe.config, vocab_size=114)).parameters())
    assert max(counts.values()) <= 1.05 * min(counts.values()), counts
    assert all(n < 5_000_000 for n in counts.values())
    assert {checkpoints.recipe(name).config.cell for name in SHIPPED} == set(CELLS)


@pytest.mark.parametrize("cell", CELLS)
def test_replayed_cells_match_the_fused_modules(cell):
    model = tiny(cell, n_layer=2)
    idx = torch.randint(V, (14,))
    trace = model.trace(idx)
    assert torch.allclose(trace.logits, model(idx[None])[0], atol=1e-5)
    _, state = model.run(idx[None])
    h_last = state[0] if cell == "lstm" else state  # (n_layer, 1, H)
    assert torch.allclose(trace.hidden[:, -1], h_last[:, 0], atol=1e-5)
    if cell == "lstm":
        assert torch.allclose(trace.cell[:, -1], state[1][:, 0], atol=1e-5)
    else:
        assert trace.cell is None
    assert set(trace.gates) == set(GATES[cell])
    for gate in trace.gates.values():
        assert gate.shape == (2, 14, 16) and gate.min() >= 0 and gate.max() <= 1
    assert trace.hidden.abs().max() <= 1


def test_lstm_forget_gates_start_open():
    trace = tiny("lstm").trace(torch.randint(V, (20,)))
    assert trace.gates["forget"].mean() > 0.65  # sigmoid(1 + small) rather than sigmoid(0)


@pytest.mark.parametrize("cell", CELLS)
def test_gradient_through_time(cell):
    model = tiny(cell)
    for p in model.parameters():
        p.requires_grad_(False)  # as the page's shared model: the gradient still reaches the states
    idx = torch.randint(V, (25,))
    norms = model.gradient_through_time(idx)
    assert norms.shape == (24,) and (norms >= 0).all() and norms[-1] > 0
    assert all(p.grad is None for p in model.parameters())


def test_the_vanilla_rnns_gradient_fades_back_through_time():
    model = tiny("rnn")
    norms = model.gradient_through_time(torch.randint(V, (40,)))
    assert norms[0] < 1e-3 * norms[-1]


def test_look_inside_gives_units_by_characters():
    model = tiny("lstm")
    look = look_inside(model, torch.randint(V, (9,)))
    assert look.hidden.shape == look.cell.shape == (16, 9)
    assert set(look.gates) == {"input", "forget", "output"} and look.gates["input"].shape == (16, 9)
    assert sorted(look.lively.tolist()) == list(range(16))
    stds = look.hidden.std(axis=1)
    assert stds[look.lively[0]] == stds.max()


def test_gradient_flow_runs_back_from_the_last_prediction():
    model = tiny("gru")
    idx = torch.randint(V, (12,))
    flow = gradient_flow(model, idx)
    assert flow.shape == (11,) and torch.equal(torch.from_numpy(flow.copy()), model.gradient_through_time(idx).flip(0))


def test_unknown_cells_are_refused():
    with pytest.raises(ValueError, match="unknown cell"):
        CharRNN(RNNConfig(cell="transformer"))
    with pytest.raises(ValueError, match="'lstm' or 'gru'"):
        SeriesForecaster(ForecasterConfig(cell="rnn"))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_forecaster_shapes(cell):
    model = SeriesForecaster(ForecasterConfig(cell=cell, n_hidden=8, horizon=5))
    x = torch.randn(4, 30, 1)
    assert model(x).shape == (4, 5)
    assert model.loss(x, torch.zeros(4, 5)).ndim == 0


def test_checkpoint_round_trip(checkpoint_dir):
    config = RNNConfig(cell="gru", vocab_size=V, n_embd=8, n_hidden=16)
    model = CharRNN(config).eval()
    checkpoints.save("gru-text", model, {"title": "GRU", "dataset": "kjv-wikipedia", "config": asdict(config),
                                         "metrics": {"bits_per_char": 4.5}, "vocab": "x"})
    loaded, card = checkpoints.load("gru-text", "cpu")
    assert isinstance(loaded, CharRNN) and loaded.config == config and not loaded.training
    idx = torch.randint(V, (2, 12))
    assert torch.equal(loaded(idx), model(idx))
    assert card["parameters"] == sum(p.numel() for p in model.parameters())


def test_recipe_trains_a_tiny_model_and_resumes():
    recipe = CharLMRecipe(CharRNN, RNNConfig(cell="lstm", n_embd=8, n_hidden=16), title="tiny",
                          training=CharLMTraining(steps=4, batch_size=4, seq_len=16, grad_clip=1.0))
    model = recipe.build()
    assert model.config.vocab_size == len(recipe.vocab())
    state: dict = {}
    events = []
    for event in recipe.fit(model, torch.device("cpu"), state):
        events.append(event)
        if event["step"] == 2:
            break
    resumed = recipe.build()
    events += list(recipe.fit(resumed, torch.device("cpu"), state))
    assert [e["step"] for e in events] == [1, 2, 3, 4] and all(e["total"] == 4 for e in events)
