"""models.transformer: shapes, causal masking, attention weights, logit lens, sampling, prompts
longer than the context, a loss that goes down, the recipe and a checkpoint round trip, and
fine-tuning a tiny checkpoint through zoo.training.char_lm."""
from dataclasses import asdict, replace

import pytest
import torch

from models.transformer.explore import continue_prompt, position_similarity, read_prompt
from models.transformer.model import CharTransformer, TransformerConfig
from tests.helpers import consume
from zoo import checkpoints
from zoo.data import text
from zoo.training.char_lm import CharLMRecipe, CharLMTraining, finetune_charlm, generate
from zoo.training.loop import make_optimizer, train_steps

NAME = "transformer-text"
TINY = TransformerConfig(vocab_size=30, context=16, n_layer=2, n_head=2, n_embd=32)


def _model(config: TransformerConfig = TINY, seed: int = 0) -> CharTransformer:
    torch.manual_seed(seed)
    return CharTransformer(config).eval()


def test_shapes_and_size_of_the_shipped_config():
    recipe = checkpoints.recipe(NAME)
    model = CharTransformer(recipe.config)
    x = torch.randint(recipe.config.vocab_size, (2, 10))
    assert model(x).shape == (2, 10, recipe.config.vocab_size)
    assert sum(p.numel() for p in model.parameters()) < 5_000_000
    assert recipe.training.seq_len <= recipe.config.context and recipe.eval_context <= recipe.config.context
    assert "lm_head.weight" not in model.state_dict()  # the head is the embedding: stored once


def test_changing_a_later_character_leaves_earlier_logits_alone():
    model = _model()
    x = torch.randint(TINY.vocab_size, (1, TINY.context))
    changed = x.clone()
    changed[0, 9] = (x[0, 9] + 1) % TINY.vocab_size
    for run in (model, lambda idx: model.trace(idx).logits):
        before, after = run(x), run(changed)
        assert torch.allclose(before[:, :9], after[:, :9], atol=1e-6)
        assert not torch.allclose(before[:, 9:], after[:, 9:])


def test_attention_rows_are_distributions_over_the_past():
    model = _model()
    attention = model.trace(torch.randint(TINY.vocab_size, (2, 12))).attention
    assert attention.shape == (TINY.n_layer, 2, TINY.n_head, 12, 12)
    assert torch.allclose(attention.sum(-1), torch.ones(attention.shape[:-1]), atol=1e-5)
    assert torch.all(attention.triu(1) == 0)


def test_logit_lens_ends_at_the_model_output_and_starts_at_the_embeddings():
    model = _model()
    x = torch.randint(TINY.vocab_size, (2, 12))
    lens = model.logit_lens(x)
    assert lens.shape == (TINY.n_layer + 1, 2, 12, TINY.vocab_size)
    assert torch.allclose(lens[-1], model(x), atol=1e-5)
    assert torch.allclose(lens[0], model.unembed(model.embed(x)), atol=1e-5)


def test_temperature_zero_is_the_argmax_and_sampling_is_seeded():
    model = _model()
    prompt = torch.randint(TINY.vocab_size, (1, 5))
    out = generate(model, prompt, 8, temperature=0)
    assert out.shape == (1, 13) and torch.equal(out[:, :5], prompt)
    for t in range(5, 13):
        assert out[0, t] == model(out[:, :t])[0, -1].argmax()
    sample = lambda: generate(model, prompt, 8, temperature=1.0, top_k=5, generator=torch.Generator().manual_seed(3))
    assert torch.equal(sample(), sample())


def test_cached_generation_reads_what_it_says_past_the_context():
    model = _model()
    prompt = torch.randint(TINY.vocab_size, (2, 11))
    expected, length = prompt, 0
    for _ in range(30):  # without a cache: the whole context at first, then the last half once it is full
        length = min(expected.shape[1], TINY.context) if length == 0 else (
            TINY.context // 2 if length == TINY.context else length + 1)
        expected = torch.cat([expected, model(expected[:, -length:])[:, -1].argmax(-1, keepdim=True)], dim=1)
    assert torch.equal(generate(model, prompt, 30, temperature=0), expected)


def test_prompts_longer_than_the_context_are_cut():
    model = _model()
    vocab = text.Vocab(text.UNKNOWN + "abcdefghijklmnopqrstuvwxyz .,")
    assert len(vocab) == TINY.vocab_size
    prompt = "the quick brown fox jumps over the lazy dog"
    view = read_prompt(model, vocab, prompt, temperature=0.5, top_k=3)
    assert view.cut == len(prompt) - TINY.context and view.text == prompt[-TINY.context:]
    assert view.attention.shape == (TINY.n_layer, TINY.n_head, TINY.context, TINY.context)
    assert view.lens.shape == (TINY.n_layer + 1, TINY.context, TINY.vocab_size)
    assert view.probs.sum() == pytest.approx(1, abs=1e-5) and (view.probs > 0).sum() <= 3
    assert view.raw_probs.sum() == pytest.approx(1, abs=1e-5) and (view.raw_probs > 0).all()
    assert len(continue_prompt(model, vocab, prompt, 20)) == 20
    assert read_prompt(model, vocab, "ab").cut == 0
    with pytest.raises(ValueError, match="context"):
        model(torch.zeros(1, TINY.context + 1, dtype=torch.long))


def test_positional_similarity_is_a_cosine_matrix():
    similarity = _model().position_similarity()
    assert similarity.shape == (TINY.context, TINY.context)
    assert torch.allclose(similarity.diagonal(), torch.ones(TINY.context), atol=1e-5)
    assert torch.allclose(similarity, similarity.T)


def test_the_page_reads_the_position_similarity_as_an_array():
    model = _model()
    assert torch.equal(torch.from_numpy(position_similarity(model)), model.position_similarity())


def test_a_few_steps_lower_the_loss_on_a_fixed_batch():
    model = _model()
    x = torch.randint(TINY.vocab_size, (4, TINY.context + 1))
    batch = (x[:, :-1], x[:, 1:])
    optimizer, _ = make_optimizer(model, 3e-3)
    events = list(train_steps(model, iter([batch] * 20), optimizer, 20))
    assert events[-1]["loss"] < 0.7 * events[0]["loss"]
    assert not model.training


@pytest.fixture(scope="module")
def vocab() -> text.Vocab:
    return checkpoints.recipe(NAME).vocab()


def _tiny_recipe(vocab_size: int) -> CharLMRecipe:
    shipped = checkpoints.recipe(NAME)
    return replace(shipped, config=replace(TINY, vocab_size=vocab_size),
                   training=CharLMTraining(steps=3, batch_size=2, seq_len=TINY.context), eval_context=TINY.context)


def test_recipe_trains_three_steps_and_round_trips_its_checkpoint(checkpoint_dir, vocab):
    recipe = _tiny_recipe(len(vocab))
    assert recipe.config_dict()["vocab_size"] == len(vocab) and recipe.config_dict()["context"] == TINY.context
    model = recipe.build()
    state = {}
    events = list(recipe.fit(model, torch.device("cpu"), state))
    assert [e["step"] for e in events] == [1, 2, 3] and state["step"] == 3
    card = checkpoints.save(NAME, model.eval(), {"config": recipe.config_dict(), "metrics": {}, **recipe.card_fields()})
    assert card["vocab"] == str(vocab)
    loaded, loaded_card = checkpoints.load(NAME, "cpu")
    x = torch.randint(len(vocab), (2, TINY.context))
    assert torch.equal(loaded(x), model(x))
    assert loaded_card["parameters"] == sum(p.numel() for p in model.parameters())


def test_fine_tuning_a_tiny_checkpoint_measures_before_and_after(checkpoint_dir, vocab):
    recipe = _tiny_recipe(len(vocab))
    torch.manual_seed(0)
    checkpoints.save(NAME, recipe.build().eval(), {"config": recipe.config_dict(), "metrics": {}, "vocab": str(vocab)})
    person_text = "Row, row, row your boat, gently down the stream. Merrily, merrily, life is but a dream.\n" * 40
    events, payload = consume(finetune_charlm(NAME, person_text, lr=3e-3, steps=6, batch_size=4, seq_len=16,
                                               sample_every=3, sample_chars=20, original_chars=2000))
    assert [e["step"] for e in events if "loss" in e] == list(range(1, 7))
    final = events[-1]
    assert set(final["bpc_before"]) == set(final["bpc_after"]) == {"yours", "original"}
    assert final["bpc_after"]["yours"] < final["bpc_before"]["yours"]
    assert sum("sample" in e for e in events) == 3 and events[0]["sample"].startswith("The ")
    tuned = CharTransformer(TransformerConfig(**recipe.config_dict()))
    checkpoints.load_state_bytes(tuned, payload)
    assert asdict(tuned.config)["context"] == TINY.context
