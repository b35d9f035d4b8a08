"""Forecasting a univariate series with a small LSTM or GRU, trained live, against the
seasonal-naive baseline, both scored by MASE (Hyndman & Koehler 2006).

The last `horizon` values are held out. The network reads a window of the series' steps
(first differences, scaled) and predicts the change from the window's last value to each of
the next `horizon` values at once, so a trend or a level outside the training range costs it
nothing. MASE divides a forecast's mean absolute error by that of the one-season-back
forecast inside the training part: below 1 beats it, 0 is perfect.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from models.rnn.model import ForecasterConfig, SeriesForecaster
from zoo.data import series
from zoo.devices import pick_device
from zoo.i18n import t
from zoo.training.loop import is_last, make_optimizer, train_steps

DEFAULT_SERIES = Path(__file__).resolve().parents[2] / "assets" / "mauna_loa_co2_monthly.csv"
DEFAULT_SEASON = 12
MIN_WINDOWS = 16
"""the fewest training windows a series must give for the network to learn anything"""
_DATE_NAME = re.compile(r"date|time|month|year|day|week|period|quarter", re.I)


def default_source() -> str:
    """Where the shipped series comes from, in the reader's language."""
    return t("rnn.forecast.default_source")


def load_default() -> series.TimeSeries:
    """The shipped series, read through the same validation as an upload."""
    return series.read_csv(DEFAULT_SERIES.read_bytes(), DEFAULT_SERIES.name, "co2_ppm", "month")


def date_column_guess(columns: list[str]) -> str | None:
    """The first column whose name says it holds dates or times, if any."""
    return next((c for c in columns if _DATE_NAME.search(c)), None)


def guess_season(values: np.ndarray, max_lag: int = 400) -> int:
    """The lag (2 .. max_lag, at most a third of the series) where the autocorrelation of the
    series' steps peaks, if it is clearly positive; else 1 (no season: naive = last value)."""
    steps = np.diff(values)
    steps = steps - steps.mean()
    top = min(max_lag, len(steps) // 3)
    if top < 2 or not steps.any():
        return 1
    acf = np.array([np.dot(steps[:-lag], steps[lag:]) for lag in range(2, top + 1)]) / np.dot(steps, steps)
    best = int(np.argmax(acf))
    return best + 2 if acf[best] > 0.2 else 1


def seasonal_naive(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Each future value is the last observed value one season (`season` steps) before it."""
    season = max(1, min(season, len(history)))
    last_season = history[-season:]
    return np.array([last_season[h % season] for h in range(horizon)])


def mase(actual: np.ndarray, forecast: np.ndarray, history: np.ndarray, season: int) -> float:
    """Mean absolute error of `forecast`, over that of the seasonal-naive forecast inside `history`."""
    season = season if len(history) > season else 1
    scale = np.mean(np.abs(history[season:] - history[:-season]))
    error = np.mean(np.abs(np.asarray(actual, float) - np.asarray(forecast, float)))
    if scale == 0:
        return 0.0 if error == 0 else float("inf")
    return float(error / scale)


def window_length(season: int, horizon: int) -> int:
    """Steps the network reads: two seasons, and at least twice the horizon, between 12 and 256."""
    return int(np.clip(max(2 * season, 2 * horizon, 12), 12, 256))


def check_lengths(n: int, horizon: int, season: int) -> str | None:
    """Why a series of `n` values cannot be forecast `horizon` steps ahead, or None if it can."""
    if horizon < 1:
        return t("rnn.forecast.horizon_too_small")
    windows = n - horizon - window_length(season, horizon) - horizon
    if windows < MIN_WINDOWS:
        return t("rnn.forecast.too_few", n=n, horizon=horizon, windows=MIN_WINDOWS,
                 length=window_length(season, horizon))
    return None


class Windows:
    """The training windows of a series, cut on demand: a window ending at value `end` holds the
    `length` scaled steps up to it; its target, the scaled change from it to each of the next
    `horizon` values."""

    def __init__(self, history: np.ndarray, length: int, horizon: int, scale: float):
        self.values = torch.tensor((history - history[-1]) / scale, dtype=torch.float64)  # float64: big levels keep their small steps
        self.steps = torch.diff(self.values)  # steps[i] = values[i + 1] - values[i]
        self.ends = torch.arange(length, len(history) - horizon)
        self.length, self.horizon = length, horizon

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(self, ends: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs (B, length, 1) and targets (B, horizon) of the windows ending at `ends` (B,)."""
        x = self.steps[ends[:, None] + torch.arange(-self.length, 0)]
        y = self.values[ends[:, None] + torch.arange(1, self.horizon + 1)] - self.values[ends][:, None]
        return x[..., None].float(), y.float()

    def batches(self, batch_size: int, generator: torch.Generator) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Endless random batches of training windows."""
        while True:
            yield self[self.ends[torch.randint(len(self), (batch_size,), generator=generator)]]


def forecast_series(values: np.ndarray, horizon: int, season: int, cell: str = "lstm", n_hidden: int = 64,
                    steps: int = 300, lr: float = 3e-3, batch_size: int = 64, report_every: int = 10,
                    seed: int = 0) -> Iterator[dict]:
    """Job: hold out the last `horizon` values, train a forecaster on the rest and report its
    forecast of the held-out values every `report_every` steps beside the seasonal-naive one.

    Yields {step: 0, actual, naive, mase_naive, window, n_windows} first, then {step, loss}
    per step, with {forecast, mase} at each report; returns the final forecast and both MASEs."""
    values = np.asarray(values, dtype=np.float64)
    problem = check_lengths(len(values), horizon, season)
    if problem:
        raise ValueError(problem)
    torch.manual_seed(seed)
    device = pick_device()
    history, actual = values[:-horizon], values[-horizon:]
    length = window_length(season, horizon)
    scale = float(np.std(np.diff(history))) or 1.0
    windows = Windows(history, length, horizon, scale)
    naive = seasonal_naive(history, horizon, season)
    mase_naive = mase(actual, naive, history, season)
    yield {"step": 0, "actual": actual.tolist(), "naive": naive.tolist(), "mase_naive": mase_naive,
           "window": length, "n_windows": len(windows), "cell": cell.upper()}

    model = SeriesForecaster(ForecasterConfig(cell=cell, n_hidden=n_hidden, horizon=horizon)).to(device)
    last_window = windows.steps[-length:][None, :, None].float()  # (1, length, 1): the steps up to the last value

    @torch.no_grad()
    def predict() -> np.ndarray:
        model.eval()
        return history[-1] + scale * model(last_window.to(device))[0].double().cpu().numpy()

    optimizer, _ = make_optimizer(model, lr)
    forecast = predict()
    batches = windows.batches(batch_size, torch.Generator().manual_seed(seed))
    for event in train_steps(model, batches, optimizer, steps):
        if event["step"] % report_every == 0 or is_last(event, steps):
            forecast = predict()
            event.update(forecast=forecast.tolist(), mase=mase(actual, forecast, history, season))
        yield event
    return {"forecast": forecast.tolist(), "mase": mase(actual, forecast, history, season), "mase_naive": mase_naive}
