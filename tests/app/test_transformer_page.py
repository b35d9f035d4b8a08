"""The Transformer page through the real entry point: prompt, generate, attention views, a prompt
longer than the context, bad training text, and a tiny fine-tune that leaves the shared model alone."""
import inspect

import pytest
import torch

from tests.app.conftest import open_page, run_until
from tests.typed_text import PRIDE_AND_PREJUDICE
from zoo import checkpoints, ui
from zoo.training.char_lm import finetune_charlm

PAGE = "pages/transformer.py"
NAME = "transformer-text"
PERSON_TEXT = "".join(f"Verse {i}: the little lamp on the hill burns {i % 7} hours, and the sparrow sings at noon.\n"
                      for i in range(40))


def _specs(at) -> list[str]:
    return [chart.proto.spec for chart in at.get("plotly_chart") if chart.proto.spec]


def _finished(at) -> bool:
    return any("finished" in s.value for s in at.success) or bool(at.error)


def test_prompt_shows_the_model_inside_and_generates():
    at = open_page(PAGE)
    assert not at.error and not at.warning
    keys = {chart.key for chart in at.get("plotly_chart")}
    assert {"transformer_probs", "transformer_raw_probs", "transformer_attention_one", "transformer_lens",
            "transformer_positions"} <= keys
    assert len(at.code[0].value) == 200  # a continuation is there from the start
    at.slider(key="transformer_length").set_value(30)
    at.slider(key="transformer_temperature").set_value(0.0).run()
    greedy = at.code[0].value
    assert len(greedy) == 30
    at.button(key="transformer_resample").click().run()
    assert not at.exception and at.number_input(key="transformer_seed").value == 1
    assert at.code[0].value == greedy  # temperature 0: the argmax, whatever the seed
    at.slider(key="transformer_temperature").set_value(1.5).run()
    sampled = at.code[0].value
    at.button(key="transformer_resample").click().run()
    assert at.code[0].value != sampled
    at.radio(key="transformer_attention_view").set_value("All heads").run()
    assert not at.exception
    config = checkpoints.read_card(NAME)["config"]
    specs = _specs(at)
    assert sum("block 1 · head 1" in spec for spec in specs) == 1
    assert sum(f"block {config['n_layer']} · head {config['n_head']}" in spec for spec in specs) == 1


def test_a_prompt_longer_than_the_context_is_cut_with_a_note():
    at = open_page(PAGE)
    context = checkpoints.read_card(NAME)["config"]["context"]
    at.text_area(key="transformer_prompt").set_value("In the beginning was the Word. " * (context // 10)).run()
    assert not at.exception and not at.error
    assert at.warning and "were cut" in at.warning[0].value and f"the {context} this model can read" in at.warning[0].value
    assert len(at.code[0].value) == 200


def test_bad_training_text_shows_a_clear_message():
    at = open_page(PAGE)
    at.text_area(key="transformer_data_text").set_value("far too short").run()
    assert not at.exception
    assert at.error and "at least" in at.error[0].value
    at.radio(key="transformer_data_text_source").set_value("Upload a .txt file").run()
    at.file_uploader(key="transformer_data_text_upload").upload("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00", "text/plain").run()
    assert not at.exception
    assert at.error and "photo.txt" in at.error[0].value and "binary" in at.error[0].value
    assert all(button.key != "transformer_ft_start" for button in at.button)


@pytest.mark.slow(seconds=50)
def test_tiny_fine_tune_completes_and_leaves_the_shared_model_alone():
    at = open_page(PAGE)
    shared, _ = ui._load_shared(NAME)
    before = {k: v.clone() for k, v in shared.state_dict().items()}
    at.radio(key="transformer_data_text_source").set_value("Upload a .txt file").run()
    at.file_uploader(key="transformer_data_text_upload").upload("lamp.txt", PERSON_TEXT.encode(), "text/plain").run()
    assert not at.exception and not at.error
    at.slider(key="transformer_steps").set_value(10).run()
    at.button(key="transformer_ft_start").click().run()
    assert not at.exception and not at.error
    run_until(at, _finished, seconds=240)
    assert not at.error
    labels = [m.label for m in at.metric]
    assert labels == ["Your held-out text: bits/char before", "after", "Original validation: before", "after"]
    assert any(m.value.startswith("**Sample from the weights kept**") for m in at.markdown)
    assert any('"training loss"' in spec for spec in _specs(at))  # the curve, by its human name
    assert at.download_button(key="transformer_ft_download")
    assert any(s.value == "Your fine-tuned model continues the prompt" for s in at.subheader)
    assert len(at.code[-1].value) == 200
    after = shared.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_the_fine_tune_defaults_are_the_ones_measured():
    """tests/zoo/test_char_lm.py runs the job's defaults on a few typed paragraphs and checks they help."""
    at = open_page(PAGE)
    defaults = inspect.signature(finetune_charlm).parameters
    assert at.select_slider(key="transformer_lr").value == defaults["lr"].default
    assert at.slider(key="transformer_steps").value == defaults["steps"].default


@pytest.mark.slow(seconds=55)
def test_a_fine_tune_that_makes_the_model_worse_says_so_and_why():
    at = open_page(PAGE)
    at.text_area(key="transformer_data_text").set_value(PRIDE_AND_PREJUDICE)
    at.select_slider(key="transformer_lr").set_value(3e-3)
    at.slider(key="transformer_steps").set_value(20).run()
    at.button(key="transformer_ft_start").click().run()
    assert not at.exception and not at.error
    run_until(at, _finished, seconds=240)
    assert not at.error
    warnings = [w.value for w in at.warning]
    assert any("worse on your held-out text" in w and "overfit your short text" in w for w in warnings)
    assert any("worse on the original validation text" in w and "forgot" in w for w in warnings)


def test_which_characters_made_it_say_that():
    at = open_page(PAGE)
    assert any(chart.key == "transformer_why_chart" for chart in at.get("plotly_chart"))
    assert any(c.value.startswith("**Completeness:**") for c in at.caption)
    at.text_input(key="transformer_why_next").set_value("ж").run()
    assert not at.exception
    assert at.error and "“ж” is not among the" in at.error[0].value
    at.text_input(key="transformer_why_next").set_value(" ")
    at.select_slider(key="transformer_why_steps").set_value(64).run()
    assert not at.exception and not at.error
    assert any("gives “␣” a probability of" in m.value for m in at.markdown)
    assert any("apart with 64 steps" in c.value for c in at.caption)
    at.text_area(key="transformer_prompt").set_value("And God said, Let there be light. " * 8).run()
    assert not at.exception and not at.error
    assert any("the first 72 are left out" in c.value for c in at.caption)
