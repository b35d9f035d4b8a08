"""Hostile inputs through the real pages (issue 20), each in a fresh process (tests/app/hostile_inputs.py):
every one ends in a clear message within its budget of time and peak memory. The budgets are generous (the
machine is shared); before, on a 2-core machine under a load of 20 (tests/bench/bench_hostile_text.py), 18 MB of
typed text cost 15 s and +335 MB, a 1,000,000-column CSV 12 s, +555 MB and a select box of as many options,
10,000 unknown words more than 300 s of spelling hints, and an uploaded agent was played again on every rerun."""
from models.word2vec.explore import MAX_BOX_WORDS, MAX_SPELLING_HINTS
from tests.app.hostile_inputs import AGENT_RERUNS, measure
from zoo.data.series import MAX_COLUMNS
from zoo.ui import TYPED_TEXT_CHARS

SECONDS = 30
"""the most a hostile run may take, a page already open: 0.2 to 13 s each on the loaded machine above"""
PEAK_RISE_MB = 150
"""the most a hostile run may raise the process's peak memory: each rose 60 MB or less"""


def _within_budget(result: dict) -> None:
    assert "timed_out" not in result, result["timed_out"]
    assert not result["exception"], result["exception"]
    assert result["seconds"] < SECONDS, result
    assert result["peak_rise_mb"] < PEAK_RISE_MB, result


def test_18_mb_of_typed_text_is_cut_to_the_box_with_a_message():
    result = measure("typed_text")
    _within_budget(result)
    assert result["box_chars"] == TYPED_TEXT_CHARS  # the server cut it, whatever the client sent
    assert any("The box is full" in said and "upload it as a .txt file" in said for said in result["said"])
    assert result["rerun_seconds"] < SECONDS and result["rerun_peak_rise_mb"] < PEAK_RISE_MB / 3


def test_a_million_column_csv_is_refused_before_any_select_box():
    result = measure("wide_csv")
    _within_budget(result)
    assert any("1,000,000 columns" in said and f"at most {MAX_COLUMNS}" in said for said in result["said"])
    assert result["most_options"] == 0


def test_ten_thousand_unknown_words_get_a_few_hints_and_a_message():
    result = measure("unknown_words")
    _within_budget(result)
    said = result["said"]
    assert any(f"reads the first {MAX_BOX_WORDS} different words" in s for s in said)
    assert sum("is not in the vocabulary" in s for s in said) == MAX_SPELLING_HINTS
    assert any(s.startswith("Not in the vocabulary either") for s in said)


def test_an_uploaded_agent_is_evaluated_once_however_often_the_page_reruns():
    result = measure("agent_reruns")
    _within_budget(result)
    assert result["evaluations"] == 1
    assert len(result["rerun_seconds"]) == AGENT_RERUNS
    assert max(result["rerun_seconds"]) < 5, result["rerun_seconds"]
    assert result["mean_return_shown"] == "500.0"  # the padded shipped agent plays as well as the shipped one
