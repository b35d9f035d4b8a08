"""zoo.explain.text: integrated gradients over a prompt's characters. Completeness on every shipped character
model, the embedding path against `forward`, hand-made models whose true attributions are known, the budgets,
and a shared model left as it was."""
from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from models.rnn.model import CELLS, CharRNN, RNNConfig
from models.transformer.model import CharTransformer, TransformerConfig
from zoo import checkpoints
from zoo.data.text import Vocab
from zoo.explain.text import MAX_CHARS, MAX_STEPS, MAX_WORK, integrated_gradients, most_steps

SHIPPED = ("rnn-text", "gru-text", "lstm-text", "transformer-text")
SHORT = "And God said"
PROMPT = "And God said, Let there be light: and there was light. And God saw the light, that it was good"
V = 23


@pytest.fixture(scope="module", params=SHIPPED)
def shipped(request):
    model, card = checkpoints.load(request.param, "cpu")
    for p in model.parameters():
        p.requires_grad_(False)  # as the app shares it
    return model, Vocab(card["vocab"])


def tiny_models() -> list[nn.Module]:
    torch.manual_seed(0)
    rnns = [CharRNN(RNNConfig(cell=cell, vocab_size=V, n_embd=8, n_hidden=16, n_layer=2)) for cell in CELLS]
    return [m.eval() for m in rnns + [CharTransformer(TransformerConfig(vocab_size=V, context=32, n_layer=2, n_head=2,
                                                                          n_embd=16))]]


@pytest.mark.parametrize("model", tiny_models(), ids=lambda m: getattr(m.config, "cell", "transformer"))
def test_the_embedding_path_gives_the_logits_of_forward(model):
    ids = torch.randint(V, (3, 20))
    assert torch.allclose(model.from_token_embeddings(model.token_embeddings(ids)), model(ids), atol=1e-6)


def test_the_embedding_path_of_each_shipped_model_gives_its_logits(shipped):
    model, vocab = shipped
    ids = vocab.encode(PROMPT)[None]
    assert torch.allclose(model.from_token_embeddings(model.token_embeddings(ids)), model(ids), atol=1e-5)


def test_attributions_add_up_to_the_change_in_log_probability(shipped):
    """Completeness (Sundararajan et al. 2017): with enough steps the sum is within 1% of f(x) - f(baseline). Over a
    dozen characters 1,024 steps are enough for every model; over long prompts the recurrent ones' log-probability
    jumps along the path and no affordable number is (zoo/explain/text.py)."""
    model, vocab = shipped
    ids = vocab.encode(SHORT)
    few, enough = (integrated_gradients(model, ids, steps=steps) for steps in (8, 1024))
    assert enough.target == int(model(ids[None])[0, -1].argmax())
    assert len(enough.attributions) == len(SHORT) and enough.cut == 0
    assert enough.relative_gap < 0.01, (enough.completeness_gap, enough.log_prob, enough.baseline_log_prob)
    assert enough.relative_gap < few.relative_gap


def test_the_transformers_attributions_add_up_over_a_long_prompt_in_few_steps():
    model, card = checkpoints.load("transformer-text", "cpu")
    vocab = Vocab(card["vocab"])
    likeliest = integrated_gradients(model, vocab.encode(PROMPT), steps=32)
    unlikely = integrated_gradients(model, vocab.encode(PROMPT), target=vocab.chars.index("Q"), steps=32)
    assert likeliest.relative_gap < 0.01 and unlikely.relative_gap < 0.01
    assert unlikely.log_prob < likeliest.log_prob


class LastCharacterOnly(nn.Module):
    """The next character's logits are a linear map of the last character's vector: no other character matters."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(1)
        self.embed, self.head = nn.Embedding(V, 6), nn.Linear(6, V)

    def token_embeddings(self, ids):
        return self.embed(ids)

    def from_token_embeddings(self, x):
        return self.head(x)  # (B, T, V): position t sees only character t


class BagOfCharacters(nn.Module):
    """The next character's logits see only the sum of one number per character, s = sum_t w . x_t: through
    that sum, each character's attribution is its own push w . x_t times one factor shared by all."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(2)
        self.embed, self.w, self.out = nn.Embedding(V, 6), nn.Linear(6, 1, bias=False), nn.Linear(1, V)

    def token_embeddings(self, ids):
        return self.embed(ids)

    def from_token_embeddings(self, x):
        return self.out(torch.tanh(self.w(x).cumsum(1)))  # (B, T, V)


def test_only_the_last_character_is_credited_when_only_it_matters():
    model = LastCharacterOnly()
    found = integrated_gradients(model, torch.tensor([3, 7, 7, 1, 12]), target=5, steps=128)
    assert torch.equal(found.attributions[:-1], torch.zeros(4))
    assert found.attributions[-1] == pytest.approx(found.log_prob - found.baseline_log_prob, rel=1e-3)


def test_each_character_is_credited_in_proportion_to_its_push():
    model = BagOfCharacters()
    ids = torch.tensor([4, 9, 4, 2, 15, 6])
    found = integrated_gradients(model, ids, target=0, steps=128)
    with torch.no_grad():
        push = model.w(model.embed(ids))[:, 0]
    factor = found.attributions.sum() / push.sum()
    assert torch.allclose(found.attributions, factor * push, rtol=1e-4, atol=1e-6)
    assert float(found.attributions[0]) == pytest.approx(float(found.attributions[2]))  # same character, same credit
    assert found.relative_gap < 1e-3


def test_a_long_prompt_is_read_from_its_last_characters():
    model = tiny_models()[0]
    found = integrated_gradients(model, torch.randint(V, (MAX_CHARS + 50,)), steps=4)
    assert len(found.attributions) == len(found.ids) == MAX_CHARS and found.cut == 50


def test_bad_requests_are_refused_with_a_sentence():
    model = tiny_models()[0]
    ids = torch.randint(V, (10,))
    with pytest.raises(ValueError, match=f"between 1 and {MAX_STEPS}"):
        integrated_gradients(model, ids, steps=MAX_STEPS + 1)
    with pytest.raises(ValueError, match="non-empty prompt"):
        integrated_gradients(model, ids[:0])
    with pytest.raises(ValueError, match="must be in 0"):
        integrated_gradients(model, ids, target=V)
    long = torch.randint(V, (MAX_CHARS,))
    assert most_steps(MAX_CHARS) * MAX_CHARS <= MAX_WORK < (most_steps(MAX_CHARS) + 1) * MAX_CHARS
    with pytest.raises(ValueError, match=f"at most {most_steps(MAX_CHARS)} steps"):
        integrated_gradients(model, long, steps=most_steps(MAX_CHARS) + 1)


def test_a_shared_model_is_left_as_it_was(shipped):
    model, vocab = shipped
    before = {k: v.clone() for k, v in model.state_dict().items()}
    integrated_gradients(model, vocab.encode(PROMPT), steps=8)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not any(m._forward_hooks or m._forward_pre_hooks or m._backward_hooks for m in model.modules())
    assert not model.training and not any(p.requires_grad or p.grad is not None for p in model.parameters())
