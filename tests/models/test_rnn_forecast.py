"""models.rnn.forecast: the seasonal-naive baseline and MASE, season guessing, the shipped series,
column picking for uploads, and the forecasting job on a tiny series."""
import numpy as np
import pytest

from models.rnn import forecast
from tests.helpers import consume
from zoo.data.series import column_names, read_csv as read_series_csv
from zoo.uploads import UploadError


def monthly(n: int = 120, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """A rising series with a yearly cycle, like CO2."""
    t = np.arange(n)
    return 300 + 0.1 * t + 3 * np.sin(2 * np.pi * t / 12) + noise * np.random.default_rng(seed).standard_normal(n)


def test_seasonal_naive_repeats_the_last_season():
    history = np.arange(10.0)
    assert forecast.seasonal_naive(history, 5, 4).tolist() == [6, 7, 8, 9, 6]
    assert forecast.seasonal_naive(history, 3, 1).tolist() == [9, 9, 9]
    assert forecast.seasonal_naive(history, 2, 50).tolist() == [0, 1]  # a season longer than the history


def test_mase_of_a_perfect_forecast_is_zero():
    history, actual = monthly(60), monthly(72)[60:]
    assert forecast.mase(actual, actual, history, 12) == 0.0


def test_mase_by_hand():
    history = np.array([1.0, 3.0, 2.0, 4.0])  # in-sample naive errors with season 2: |2-1|, |4-3| -> scale 1
    assert forecast.mase([5.0, 5.0], [4.0, 7.0], history, 2) == pytest.approx(1.5)
    assert forecast.mase([5.0], [5.0], np.ones(5), 1) == 0.0
    assert forecast.mase([5.0], [6.0], np.ones(5), 1) == float("inf")


def test_seasonal_naive_is_perfect_on_a_pure_cycle():
    cycle = np.tile([1.0, 5.0, 2.0, 8.0], 10)
    naive = forecast.seasonal_naive(cycle[:-4], 4, 4)
    assert forecast.mase(cycle[-4:], naive, cycle[:-4], 1) == 0.0


def test_guess_season():
    assert forecast.guess_season(monthly(240, noise=0.3)) == 12
    assert forecast.guess_season(np.random.default_rng(0).standard_normal(300).cumsum()) == 1
    assert forecast.guess_season(np.ones(50)) == 1


def test_lengths_are_checked_before_training():
    assert forecast.check_lengths(452, 24, 12) is None
    assert "too few" in forecast.check_lengths(40, 12, 12)
    assert "at least one" in forecast.check_lengths(100, 0, 12)


def test_the_shipped_series_reads_like_an_upload():
    series = forecast.load_default()
    assert series.columns == ["month", "co2_ppm"] and series.value_column == "co2_ppm"
    assert len(series.values) == 452 and series.dates[0] == "1964-05" and series.dates[-1] == "2001-12"
    assert 315 < series.values.min() < series.values.max() < 375
    assert forecast.guess_season(series.values) == forecast.DEFAULT_SEASON == 12
    assert "Mauna Loa" in forecast.default_source() and "statsmodels" in forecast.default_source()


def test_columns_of_an_upload_before_it_is_read():
    assert column_names(b"\xef\xbb\xbfdate;value;note\n2000-01;1;x\n") == ["date", "value", "note"]
    assert column_names(b"1,2\n3,4\n") == ["column 1", "column 2"]
    assert column_names(b"\n\n") == []
    with pytest.raises(UploadError, match="binary"):  # what read_csv would say, before any column is offered
        column_names(b"\x89PNG\x00\x00")
    assert forecast.date_column_guess(["Month", "passengers"]) == "Month"
    assert forecast.date_column_guess(["a", "b"]) is None


@pytest.mark.parametrize("data, message", [
    (b"month,value\n" + b"".join(f"2000-{i:02d},{i}\n".encode() for i in range(1, 12)) + b"2000-12,high\n",
     "not a number"),
    (b"month,value\n2000-01,1\n", "a series needs at least"),
    (b"month,value\n" + b"".join(f"2000-{i:02d},{'' if i == 5 else i}\n".encode() for i in range(1, 13)),
     "no 'value' value on line 6"),
])
def test_bad_csvs_are_upload_errors(data, message):
    with pytest.raises(UploadError, match=message):
        read_series_csv(data, "mine.csv", date_column="month")


def test_forecast_job_on_a_tiny_series():
    values = monthly(120, noise=0.1)
    events, final = consume(forecast.forecast_series(values, horizon=12, season=12, cell="gru", n_hidden=16,
                                                      steps=60, lr=1e-2, batch_size=32, report_every=20))
    first = events[0]
    assert first["step"] == 0 and first["actual"] == values[-12:].tolist() and len(first["naive"]) == 12
    assert first["window"] == forecast.window_length(12, 12) and first["n_windows"] == 120 - 24 - 24
    assert first["cell"] == "GRU"
    assert [e["step"] for e in events if "loss" in e] == list(range(1, 61))
    reports = [e for e in events if "forecast" in e]
    assert [e["step"] for e in reports] == [20, 40, 60] and all(len(e["forecast"]) == 12 for e in reports)
    losses = [e["loss"] for e in events if "loss" in e]
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:5])
    assert final["forecast"] == reports[-1]["forecast"] and np.isfinite(final["mase"])
    assert final["mase_naive"] == pytest.approx(first["mase_naive"])
    assert final["mase"] < 3  # the trend alone makes seasonal naive about 1; a trained net is near it or better


def test_forecast_job_refuses_a_series_too_short():
    with pytest.raises(ValueError, match="too few"):
        next(forecast.forecast_series(monthly(30), horizon=12, season=12))
