"""A run's curves as the Runs page draws them: smoothed with TensorBoard's debiased exponential moving average,
against steps, time since the run started or wall time, and runs with the same settings grouped into their mean
and spread on a common step grid."""
from __future__ import annotations

import dataclasses
import json
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from scipy.signal import lfilter

from zoo import i18n
from zoo.i18n import t
from zoo.jobs.run_log import RunRecord

X_AXES = {"step": "runs.x_title.step", "relative": "runs.x_title.relative", "wall": "runs.x_title.wall"}
"""the x axes a curve can be drawn against, and the catalogue keys of their titles"""
GRID_POINTS = 500
"""the most steps of a group's common grid"""
SPREADS = {"min-max": "runs.spread.min-max", "std": "runs.spread.std"}
"""how a group's band can be drawn, and the catalogue keys of their names"""


def axis_title(x_axis: str) -> str:
    """The title of the x axis `x_axis` (a key of X_AXES) in the reader's language."""
    return t(X_AXES[x_axis])


def page_title(record: RunRecord) -> str:
    """The title of the page that started the run, in the reader's language (its url path, or its job function's
    name, when the navigation has no such page)."""
    key = f"app.page.{record.page}"
    if record.page and key in i18n.catalogue():
        return t(key)
    return (record.page or record.function.rsplit(".", 1)[-1]).replace("_", "-")


def state_name(state: str) -> str:
    """A job's state ("done") as the reader's language says it."""
    key = f"runs.state.{state}"
    return t(key) if key in i18n.catalogue() else state


@dataclass(frozen=True)
class Curve:
    """One run's metric, ready to draw: x (steps, seconds, or wall seconds), raw and smoothed values."""
    label: str
    x: np.ndarray
    raw: np.ndarray
    smoothed: np.ndarray


@dataclass(frozen=True)
class Band:
    """A group of runs' metric on a common step grid: the mean, and the spread around it."""
    label: str
    x: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    runs: int


def smooth(values: Sequence[float], weight: float) -> np.ndarray:
    """TensorBoard's smoothing: an exponential moving average with weight `weight` in [0, 1), divided by
    1 - weight^n after n values so the first ones are not pulled towards 0. Non-finite values stay as they are
    and are skipped."""
    values = np.asarray(values, dtype=np.float64)
    out = values.copy()
    finite = np.isfinite(values)
    if weight <= 0 or not finite.any():
        return out
    average = lfilter([1 - weight], [1, -weight], values[finite])  # last = weight * last + (1 - weight) * y
    out[finite] = average / (1 - weight ** np.arange(1, len(average) + 1))
    return out


def metric_points(record: RunRecord, metric: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The run's (steps, wall times, values) of `metric`, in order."""
    rows = [(p["step"], p["time"], p[metric]) for p in record.points if metric in p]
    array = np.array(rows, dtype=np.float64).reshape(-1, 3)
    return array[:, 0], array[:, 1], array[:, 2]


def curve_metrics(records: Sequence[RunRecord]) -> list[str]:
    """The metrics that some run reported at two steps or more (a curve), in the order they first appear."""
    found: dict[str, None] = {}
    for record in records:
        for key, n in Counter(key for point in record.points for key in point).items():
            if n >= 2 and key not in ("step", "time"):
                found.setdefault(key)
    return list(found)


def run_curve(record: RunRecord, label: str, metric: str, weight: float, x_axis: str = "step") -> Curve:
    """The run's `metric` smoothed with `weight`, against `x_axis` (a key of X_AXES)."""
    steps, times, values = metric_points(record, metric)
    x = {"step": steps, "wall": times,
         "relative": times - (record.started or (times[0] if len(times) else 0.0))}[x_axis]
    return Curve(label, x, values, smooth(values, weight))


def settings_key(record: RunRecord) -> str:
    """What runs share when they differ only by their seed: function, checkpoint and every other setting."""
    settings = {key: value for key, value in record.settings.items() if key != "seed"}
    return json.dumps([record.function, record.checkpoint, plain_json(settings)], sort_keys=True)


def groups(records: Sequence[RunRecord]) -> list[list[RunRecord]]:
    """The runs grouped by `settings_key`, in the order each group's first run appears."""
    found: dict[str, list[RunRecord]] = {}
    for record in records:
        found.setdefault(settings_key(record), []).append(record)
    return list(found.values())


def group_band(records: Sequence[RunRecord], label: str, metric: str, weight: float, spread: str = "min-max") -> Band | None:
    """The group's smoothed `metric` on a common grid of steps (those of its runs where every run has begun and
    none has ended, at most GRID_POINTS), each run interpolated linearly; None if no two steps are shared."""
    curves = [run_curve(record, label, metric, weight) for record in records]
    curves = [curve for curve in curves if len(curve.x) >= 1]
    if not curves:
        return None
    low, high = max(c.x[0] for c in curves), min(c.x[-1] for c in curves)
    grid = np.unique(np.concatenate([c.x[(c.x >= low) & (c.x <= high)] for c in curves]))
    if len(grid) > GRID_POINTS:
        grid = grid[np.linspace(0, len(grid) - 1, GRID_POINTS).round().astype(int)]
    if len(grid) < 2:
        return None
    values = np.stack([np.interp(grid, c.x, c.smoothed) for c in curves])
    mean = values.mean(0)
    if spread == "std":
        deviation = values.std(0)
        return Band(label, grid, mean, mean - deviation, mean + deviation, len(curves))
    return Band(label, grid, mean, values.min(0), values.max(0), len(curves))


def run_labels(records: Sequence[RunRecord]) -> list[str]:
    """A short, distinct name per run: its page, its submit time and its seed ("CNN 07:12:05 seed 1")."""
    labels = []
    for record in records:
        when = time.strftime('%H:%M:%S', time.gmtime(record.submitted))
        if "seed" in record.settings:
            labels.append(t("runs.label_seed", page=page_title(record), time=when, seed=record.settings["seed"]))
        else:
            labels.append(t("runs.label", page=page_title(record), time=when))
    seen: Counter[str] = Counter()
    for i, label in enumerate(labels):
        seen[label] += 1
        if seen[label] > 1:
            labels[i] = f"{label} ({seen[label]})"
    return labels


def group_labels(grouped: Sequence[Sequence[RunRecord]]) -> list[str]:
    """A name per group: its page and the settings in which it differs from the other groups (by their keyword
    names, as the run records them)."""
    shared = [{key: value for key, value in plain_json(group[0].settings).items() if key != "seed"} for group in grouped]
    differing = sorted({key for settings in shared for key in settings
                        if any(other.get(key) != settings.get(key) for other in shared)})
    labels = []
    for group, settings in zip(grouped, shared):
        what = " · ".join(f"{key}={_short(settings.get(key))}" for key in differing)  # as code: keyword=value
        if what:
            labels.append(i18n.count("runs.group_label_settings", len(group), page=page_title(group[0]), settings=what))
        else:
            labels.append(i18n.count("runs.group_label", len(group), page=page_title(group[0])))
    return labels


def table_rows(records: Sequence[RunRecord], labels: Sequence[str], metrics: Sequence[str]) -> list[dict[str, Any]]:
    """One row per run for the runs table, by column code (`runs.column.*`; a metric by its key): what ran (its
    page's title), how it ended (its state in the reader's language), when, and the last value of each metric."""
    rows = []
    for record, label in zip(records, labels):
        ended = record.ended or (record.points[-1]["time"] if record.points else None)
        row = {"run": label, "page": page_title(record), "checkpoint": record.checkpoint or "",
               "state": state_name(record.state),
               "seed": record.settings.get("seed"), "steps": record.points[-1]["step"] if record.points else 0,
               "seconds": round(ended - record.started, 1) if record.started and ended else None,
               "settings": ", ".join(f"{key} {_short(value)}" for key, value in plain_json(record.settings).items()
                                     if key != "seed")}
        last = {key: value for point in record.points for key, value in point.items()}
        for metric in metrics:
            row[metric] = last.get(metric, record.final.get(metric))
        rows.append(row)
    return rows


def plain_json(value: Any) -> Any:
    """A setting as JSON holds it: dataclasses as dicts, tuples as lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: plain_json(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(key): plain_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_json(item) for item in value]
    return value


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)
