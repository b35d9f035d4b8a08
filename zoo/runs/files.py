"""Runs as files a person downloads, keeps and uploads again (their own, or a class-mate's, to compare).

JSON holds everything: {"format": FORMAT, "version": 1, "runs": [run, ...]}, each run its description, its final
figures, its points column by column ({"step": [...], "time": [...], "metrics": {name: [number or null]}}) and its
weight histograms. CSV is the spreadsheet view: one row per run and step (a run without points has one row), the
run's id on each of its rows and the rest of its description on its first, one column per metric; it has no weight
histograms.

A file read back is checked before it is used: its size before it is parsed (MAX_FILE_BYTES), then while it is
read its runs (MAX_FILE_RUNS) and points (MAX_POINTS a run, MAX_FILE_POINTS in all), and every field's type;
whatever is wrong is said in one sentence (`RunsFileError`).
"""
from __future__ import annotations

import csv
import io
import json
import math
from numbers import Integral, Real
from typing import Any, Iterable, Sequence

from zoo.i18n import t
from zoo.jobs.run_log import MAX_HISTOGRAMS, MAX_POINTS, RunRecord
from zoo.runs.curves import plain_json
from zoo.uploads import UploadError

FORMAT = "deep-learning-zoo runs"
VERSION = 1
MAX_FILE_BYTES = 20 * 2 ** 20
"""the largest runs file read, as the server's upload limit (server.maxUploadSize); 50 runs of 1,000 steps were
4.3 MB of CSV and 5.3 MB of JSON (tests/bench/bench_runs_page.py)"""
MAX_FILE_RUNS = 100
"""runs in one file"""
MAX_FILE_POINTS = 200_000
"""points in one file, all runs together"""
MAX_LAYERS = 64
"""layers of one weight histogram"""
MAX_BINS = 256
"""bins of one layer's histogram"""
DESCRIPTION = ("id", "page", "function", "checkpoint", "settings", "state", "error", "submitted", "started", "ended",
               "final")
"""a run's fields, the first columns of the CSV"""
_STATES = ("queued", "running", "done", "failed", "cancelled", "timed_out", "expired")


class RunsFileError(UploadError):
    """A runs file that cannot be read; the message is one sentence for the person who uploaded it, in their
    language."""


# ---- writing ----------------------------------------------------------------------------------------------

def to_json(records: Sequence[RunRecord]) -> bytes:
    """The runs as a JSON file."""
    runs = []
    for record in records:
        metrics = _metric_names([record])
        runs.append({**_description(record), "points": {
            "step": [p["step"] for p in record.points], "time": [p["time"] for p in record.points],
            "metrics": {m: [p.get(m) for p in record.points] for m in metrics}},
            "histograms": [plain_json(entry) for entry in record.histograms]})
    return json.dumps({"format": FORMAT, "version": VERSION, "runs": runs}, allow_nan=False,
                      default=_json_number).encode()


def to_csv(records: Sequence[RunRecord]) -> bytes:
    """The runs as a CSV file: one row per run and step."""
    metrics = _metric_names(records)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*DESCRIPTION, "step", "time", *metrics])
    for record in records:
        described = [_cell(value) for value in _description(record).values()]
        for i, point in enumerate(record.points or [{}]):
            writer.writerow([*(described if i == 0 else [record.id] + [""] * (len(DESCRIPTION) - 1)),
                             _cell(point.get("step")), _cell(point.get("time")), *(_cell(point.get(m)) for m in metrics)])
    return out.getvalue().encode()


def _description(record: RunRecord) -> dict[str, Any]:
    return {"id": record.id, "page": record.page, "function": record.function, "checkpoint": record.checkpoint,
            "settings": plain_json(record.settings), "state": record.state, "error": record.error,
            "submitted": record.submitted, "started": record.started, "ended": record.ended, "final": record.final}


def _metric_names(records: Iterable[RunRecord]) -> list[str]:
    return list(dict.fromkeys(key for record in records for point in record.points for key in point
                              if key not in ("step", "time")))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, allow_nan=False, default=_json_number)
    if isinstance(value, Real) and not isinstance(value, Integral):
        return repr(float(value))  # numpy's floats too, without "np.float64(...)"
    return str(value)


def _json_number(value: Any) -> int | float:
    """numpy's numbers as JSON's."""
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not a number JSON holds")


# ---- reading ----------------------------------------------------------------------------------------------

def read_runs(data: bytes, name: str) -> list[RunRecord]:
    """The runs of an uploaded file `name` (.json or .csv) of `data`; raises RunsFileError with a sentence."""
    if len(data) > MAX_FILE_BYTES:
        raise RunsFileError(t("runs.file.too_big", name=name, mb=len(data) / 2 ** 20, most=MAX_FILE_BYTES / 2 ** 20))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RunsFileError(t("runs.file.not_utf8", name=name)) from None
    if name.lower().endswith(".json"):
        return from_json(text, name)
    if name.lower().endswith(".csv"):
        return from_csv(text, name)
    raise RunsFileError(t("runs.file.wrong_type", name=name))


def from_json(text: str, name: str = "the file") -> list[RunRecord]:
    """The runs of a JSON runs file's text."""
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        problem = getattr(error, "msg", "nested too deeply")
        raise RunsFileError(t("runs.file.bad_json", name=name, error=problem)) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise RunsFileError(t("runs.file.not_runs_file", name=name, format=FORMAT))
    if document.get("version") != VERSION:
        raise RunsFileError(t("runs.file.version", name=name, version=repr(document.get("version")), expected=VERSION))
    runs = document.get("runs")
    if not isinstance(runs, list):
        raise RunsFileError(t("runs.file.no_list", name=name))
    _check_count(len(runs), name)
    records, points = [], 0
    for i, run in enumerate(runs, 1):
        where = t("runs.file.run_at", i=i, name=name)
        if not isinstance(run, dict):
            raise RunsFileError(t("runs.file.not_object", where=where))
        columns = run.get("points")
        if not isinstance(columns, dict) or not isinstance(columns.get("metrics"), dict):
            raise RunsFileError(t("runs.file.no_points", where=where))
        steps, times = columns.get("step"), columns.get("time")
        series = columns["metrics"]
        if not isinstance(steps, list) or not isinstance(times, list) or len(steps) != len(times) \
                or any(not isinstance(v, list) or len(v) != len(steps) for v in series.values()):
            raise RunsFileError(t("runs.file.lengths", where=where))
        points += len(steps)
        _check_points(len(steps), points, where, name)
        rows = [{"step": steps[j], "time": times[j], **{m: v[j] for m, v in series.items() if v[j] is not None}}
                for j in range(len(steps))]
        records.append(_record(run, rows, _histograms(run.get("histograms", []), where), where))
    return records


def from_csv(text: str, name: str = "the file") -> list[RunRecord]:
    """The runs of a CSV runs file's text."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise RunsFileError(t("runs.file.empty", name=name)) from None
    missing = [column for column in (*DESCRIPTION, "step", "time") if column not in header]
    if missing:
        raise RunsFileError(t("runs.file.no_column", name=name, column=repr(missing[0])))
    metrics = [column for column in header if column not in (*DESCRIPTION, "step", "time")]
    runs: dict[str, tuple[dict, list[dict]]] = {}
    points = 0
    try:
        for line, row in enumerate(reader, 2):
            if len(row) != len(header):
                raise RunsFileError(t("runs.file.row_cells", line=line, name=name, cells=len(row), header=len(header)))
            cells = dict(zip(header, row))
            if cells["id"] not in runs:
                _check_count(len(runs) + 1, name)
                runs[cells["id"]] = ({key: _parse_cell(key, cells[key], line, name) for key in DESCRIPTION}, [])
            if cells["step"] == "":
                continue
            point = {"step": _parse_number(cells["step"], "step", line, name),
                     "time": _parse_number(cells["time"], "time", line, name)}
            point.update({m: _parse_number(cells[m], m, line, name) for m in metrics if cells[m] != ""})
            run_points = runs[cells["id"]][1]
            run_points.append(point)
            points += 1
            _check_points(len(run_points), points, t("runs.file.run_named", run=repr(cells["id"]), name=name), name)
    except csv.Error as error:
        raise RunsFileError(t("runs.file.bad_csv", name=name, error=error)) from None
    return [_record(described, rows, (), t("runs.file.run_named", run=repr(run_id), name=name))
            for run_id, (described, rows) in runs.items()]


def _check_count(runs: int, name: str) -> None:
    if runs > MAX_FILE_RUNS:
        raise RunsFileError(t("runs.file.too_many_runs", name=name, most=MAX_FILE_RUNS))


def _check_points(run_points: int, points: int, where: str, name: str) -> None:
    if run_points > MAX_POINTS:
        raise RunsFileError(t("runs.file.too_many_run_points", where=where, most=MAX_POINTS))
    if points > MAX_FILE_POINTS:
        raise RunsFileError(t("runs.file.too_many_points", name=name, most=MAX_FILE_POINTS))


def _parse_cell(key: str, cell: str, line: int, name: str) -> Any:
    if cell == "":
        return None
    if key in ("settings", "final"):
        try:
            return json.loads(cell)
        except json.JSONDecodeError:
            raise RunsFileError(t("runs.file.cell_not_json", line=line, name=name, field=key)) from None
    if key in ("submitted", "started", "ended"):
        return _parse_number(cell, key, line, name)
    return cell


def _parse_number(cell: str, column: str, line: int, name: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise RunsFileError(t("runs.file.not_number", line=line, name=name, cell=repr(cell[:20]),
                              column=repr(column))) from None
    return int(value) if column == "step" and value.is_integer() else value


def _record(run: dict, rows: list[dict], histograms: Sequence[dict], where: str) -> RunRecord:
    """A RunRecord of a run read from a file, every field's type checked."""
    text = lambda key, optional=False: _typed(run.get(key), str, key, where, optional)
    seconds = lambda key, optional=False: _typed(run.get(key), (int, float), key, where, optional)
    settings = _typed(run.get("settings") or {}, dict, "settings", where)
    final = _typed(run.get("final") or {}, dict, "final", where)
    if not all(_finite(value) for value in final.values()):
        raise RunsFileError(t("runs.file.final_numbers", where=where))
    state = text("state")
    if state not in _STATES:
        raise RunsFileError(t("runs.file.bad_state", where=where, state=repr(state[:20]), states=", ".join(_STATES)))
    for row in rows:
        if not isinstance(row["step"], int) or isinstance(row["step"], bool) or not _finite(row["time"]) \
                or not all(_finite(value) for key, value in row.items() if key not in ("step", "time")):
            raise RunsFileError(t("runs.file.bad_steps", where=where))
    return RunRecord(text("id"), text("page", True) or "", text("function"), text("checkpoint", True), settings, state,
                     seconds("submitted"), seconds("started", True), seconds("ended", True), text("error", True),
                     tuple(rows), {key: float(value) for key, value in final.items()}, tuple(histograms))


def _typed(value: Any, kind: type | tuple, key: str, where: str, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        wanted = {str: "text", dict: "object"}.get(kind, "number")
        raise RunsFileError(t(f"runs.file.must_be.{wanted}", where=where, field=repr(key)))
    return value


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _histograms(entries: Any, where: str) -> tuple[dict, ...]:
    """A run's weight histograms read from JSON, their shape checked."""
    wrong = RunsFileError(t("runs.file.bad_histograms", where=where, entries=MAX_HISTOGRAMS, layers=MAX_LAYERS,
                            bins=MAX_BINS))
    if not isinstance(entries, list) or len(entries) > MAX_HISTOGRAMS:
        raise wrong
    checked = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("step"), int) \
                or not isinstance(entry.get("layers"), dict) or len(entry["layers"]) > MAX_LAYERS:
            raise wrong
        layers = {}
        for layer, histogram in entry["layers"].items():
            if not isinstance(histogram, dict):
                raise wrong
            span, counts = histogram.get("range"), histogram.get("counts")
            if not (isinstance(span, list) and len(span) == 2 and all(map(_finite, span)) and span[0] < span[1]
                    and isinstance(counts, list) and 0 < len(counts) <= MAX_BINS and all(map(_finite, counts))):
                raise wrong
            layers[layer] = {"range": (float(span[0]), float(span[1])), "counts": counts}
        checked.append({"step": entry["step"], "layers": layers})
    return tuple(checked)
