"""The RNN page through the real entry point: generate, look inside, bad uploads, a tiny
fine-tune, and a few steps of forecasting."""
import inspect

import torch

from tests.app.conftest import chart, open_page, run_until
from zoo import checkpoints, ui
from zoo.explain.text import most_steps
from zoo.training import char_lm

PAGE = "pages/rnn.py"
PERSON = ("It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
          "foolishness, it was the epoch of belief, it was the epoch of incredulity. ") * 14


def _finished(at):
    return any("finished" in s.value for s in at.success) or bool(at.error)


def _specs(at):
    return [chart.proto.spec for chart in at.get("plotly_chart") if chart.proto.spec]


def test_loads_generates_and_looks_inside():
    at = open_page(PAGE)
    assert not at.error
    cards = at.dataframe[0].value
    assert cards.shape[0] == 3  # the three cards
    assert cards["parameters"].dtype.kind == "i" and cards["validation bits/char"].dtype.kind == "f"  # sort as numbers
    written = at.code[0].value
    assert written.startswith("And God said") and len(written) == len("And God said") + 200
    specs = _specs(at)
    assert any("Hidden state h" in s for s in specs) and any("Cell state c" in s for s in specs)
    assert any("Each gate's mean" in s and '"forget gate"' in s for s in specs)  # gate means per character
    assert any("Vanilla RNN" in s and "GRU" in s and "LSTM" in s for s in specs)  # gradient flow, all three
    assert at.markdown and any("<span title=" in m.value for m in at.markdown)  # find the neuron

    at.radio(key="rnn_cell").set_value("Vanilla RNN")
    at.slider(key="rnn_temperature").set_value(0.0)
    at.text_input(key="rnn_prompt").set_value("In the beginning").run()
    assert not at.exception and not at.error
    greedy = at.code[0].value
    assert greedy.startswith("In the beginning") and greedy != written
    assert any("no gates" in c.value for c in at.caption)
    at.slider(key="rnn_step").set_value(5).run()
    assert not at.exception
    assert any("(probability 100.0%)" in c.value for c in at.caption)  # temperature 0: the argmax, surely


def test_bad_uploads_show_clear_errors():
    at = open_page(PAGE)
    at.radio(key="rnn_ft_text_source").set_value("Upload a .txt file").run()
    at.file_uploader(key="rnn_ft_text_upload").upload("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00", "text/plain").run()
    assert not at.exception
    assert at.error and "binary" in at.error[0].value
    at.radio(key="rnn_fc_source").set_value("My CSV file").run()
    at.file_uploader(key="rnn_fc_csv").upload("sales.csv", b"month,sales\n" + b"2020-01,high\n" * 20, "text/csv").run()
    assert not at.exception
    assert any("no column of numbers" in e.value for e in at.error)
    assert all(button.key != "rnn_fc_start" for button in at.button)


def test_a_text_and_a_csv_upload_are_read():
    at = open_page(PAGE)
    at.radio(key="rnn_ft_text_source").set_value("Upload a .txt file").run()
    at.file_uploader(key="rnn_ft_text_upload").upload("tale.txt", PERSON.encode(), "text/plain").run()
    assert not at.exception and not at.error
    assert any(c.value.startswith(f"{len(PERSON):,} characters from") for c in at.caption)
    assert any(button.key == "rnn_ft_start" for button in at.button)
    rows = "".join(f"{2000 + i // 12}-{i % 12 + 1:02d},{10 + (i % 12) + i / 10:.2f}\n" for i in range(60))
    at.radio(key="rnn_fc_source").set_value("My CSV file").run()
    at.file_uploader(key="rnn_fc_csv").upload("sales.csv", ("month,sales\n" + rows).encode(), "text/csv").run()
    assert not at.exception and not at.error
    assert any("60 values of 'sales'" in c.value for c in at.caption)
    assert any(button.key == "rnn_fc_start" for button in at.button)


def test_short_text_is_checked_before_fine_tuning():
    at = open_page(PAGE)
    at.text_area(key="rnn_ft_text").set_value("Just a line or two.").run()
    assert not at.exception
    assert any("needs at least 2,000" in w.value for w in at.warning)
    assert all(button.key != "rnn_ft_start" for button in at.button)


def test_a_tiny_fine_tune_completes_and_leaves_the_shared_model_alone():
    at = open_page(PAGE)
    shared, _ = ui._load_shared("lstm-text")
    before = {k: v.clone() for k, v in shared.state_dict().items()}
    at.slider(key="rnn_ft_steps").set_value(10)
    at.text_area(key="rnn_ft_text").set_value(PERSON).run()
    at.button(key="rnn_ft_start").click().run()
    assert not at.exception and not at.error
    run_until(at, _finished, seconds=240)
    assert not at.error
    labels = [m.label for m in at.metric]
    assert labels[:2] == ["Your held-out text: bits/char before", "after"]
    assert any("Sample before" in m.value for m in at.markdown)
    assert any(m.value.startswith("**Sample from the weights kept**") for m in at.markdown)
    assert any(c.value.startswith(("The weights kept", "No step did better")) for c in at.caption)
    assert any('"training loss"' in s for s in _specs(at))  # the curve, by its human name
    assert at.download_button(key="rnn_ft_download")
    assert all(torch.equal(before[k], v) for k, v in shared.state_dict().items())
    fresh, _ = checkpoints.load("lstm-text", "cpu")
    assert all(torch.equal(v.cpu(), shared.state_dict()[k].cpu()) for k, v in fresh.state_dict().items())


def test_the_fine_tune_defaults_are_the_ones_measured():
    """tests/zoo/test_char_lm.py runs the job's defaults on a few typed paragraphs and checks they help."""
    at = open_page(PAGE)
    defaults = inspect.signature(char_lm.finetune_charlm).parameters
    assert at.select_slider(key="rnn_ft_lr").value == defaults["lr"].default
    assert at.slider(key="rnn_ft_steps").value == defaults["steps"].default
    assert at.selectbox(key="rnn_ft_cell").value == "LSTM"


def test_forecasting_runs_a_few_steps():
    at = open_page(PAGE)
    assert any("seasonal naive · MASE" in s for s in _specs(at))  # the baseline before any training
    at.slider(key="rnn_fc_horizon").set_value(12)
    at.slider(key="rnn_fc_steps").set_value(20).run()
    at.button(key="rnn_fc_start").click().run()
    assert not at.exception and not at.error
    run_until(at, _finished, seconds=180)
    assert not at.error and any("Forecast training finished" in s.value for s in at.success)
    assert any("LSTM at step 20 · MASE" in s for s in _specs(at))
    assert "rnn_fc_download" not in [button.key for button in at.download_button]  # no weights


def test_which_characters_made_it_say_that():
    at = open_page(PAGE)
    assert any(element.key == "rnn_why_chart" for element in at.get("plotly_chart"))
    assert any("its likeliest" in m.value for m in at.markdown)
    assert any(c.value.startswith("**Completeness:**") and "apart with 32 steps" in c.value for c in at.caption)
    assert any(c.value.startswith("**Cost:** 32 forward and backward passes over 12 characters") for c in at.caption)
    at.text_input(key="rnn_why_next").set_value("ж").run()
    assert not at.exception
    assert at.error and "is not among the" in at.error[0].value and "can never come next" in at.error[0].value
    at.text_input(key="rnn_why_next").set_value("ab").run()  # the box holds one character (max_chars)
    assert not at.exception and at.text_input(key="rnn_why_next").value == "a"
    at.radio(key="rnn_cell").set_value("GRU")
    at.text_input(key="rnn_why_next").set_value("w").run()
    assert not at.exception and not at.error
    assert any("gives “w” a probability of" in m.value and "its likeliest" not in m.value for m in at.markdown)
    assert "“w” next" in chart(at, "rnn_why_chart").proto.spec


def test_attributions_that_do_not_add_up_are_flagged_and_costly_ones_refused():
    """Over a long prompt the vanilla RNN's log-probability jumps along the path (zoo/explain/text.py): measured
    200-fold off at 32 steps over 200 characters."""
    at = open_page(PAGE)
    at.radio(key="rnn_cell").set_value("Vanilla RNN")
    at.text_input(key="rnn_prompt").set_value(("In the beginning God created the heaven and the earth. " * 4)[:200]).run()
    assert not at.exception and not at.error
    assert any("do not add up, so do not trust these colours" in w.value for w in at.warning)
    at.select_slider(key="rnn_why_steps").set_value(1024).run()
    assert not at.exception
    assert any(f"pick at most {most_steps(200)} steps" in w.value for w in at.warning)
    assert all(element.key != "rnn_why_chart" for element in at.get("plotly_chart"))
