"""Univariate time series from a person's CSV: one row per time step, a header row or none,
split by comma, semicolon or tab. Anything unusable raises `zoo.uploads.UploadError` with one
sentence to show, never a traceback; the size limits are `zoo.uploads.limits()`.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass

import numpy as np

from zoo.uploads import UploadError, decode_text, limits

MIN_ROWS = 10
"""the fewest rows `read_csv` accepts by default"""
_MISSING = {"", "na", "nan", "n/a", "null", "none", "?"}


@dataclass(frozen=True)
class TimeSeries:
    """A univariate series read from a CSV, in the file's row order."""
    columns: list[str]
    """every column's name, in file order ("column 1", ... when the file has no header row)"""
    value_column: str
    values: np.ndarray
    """float64 (N,)"""
    dates: list[str] | None
    """the date column's cells as written, or None without a date column"""
    note: str | None = None
    """something the person should know about how the file was read, e.g. rows left out"""


def read_csv(
    data: bytes,
    name: str = "series.csv",
    value_column: str | None = None,
    date_column: str | None = None,
    min_rows: int = MIN_ROWS,
) -> TimeSeries:
    """A series from a CSV with one row per time step, a header row or none, split by comma,
    semicolon or tab; raise UploadError for anything we cannot use as is.

    `value_column` defaults to the last column (other than `date_column`) whose first used
    row holds a number. Refused: a file that is not text or over ZOO_MAX_UPLOAD_MB, an unknown
    column, text or infinity in the value column, missing values or dates (their lines named),
    fewer than `min_rows` rows. Over ZOO_MAX_SERIES_ROWS rows (default 100,000), only the last
    that many (the most recent) are kept and checked, and `note` says so."""
    limit = limits()
    text = decode_text(data, name, limit.max_upload_bytes, ".csv")
    lines = text.split("\n")
    first = next((line for line in lines if line.strip()), "")
    reader = csv.reader(lines, delimiter=_delimiter(first))
    try:  # (line number in the file, cells) of every row that is not blank
        rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as error:
        raise UploadError(f"{name} could not be read as CSV: {error}.") from error
    if rows and (header := _header(rows[0][1])) is not None:
        columns = header
        rows.pop(0)
    else:
        columns = [f"column {i + 1}" for i in range(max((len(row) for _, row in rows), default=0))]
    if len(rows) < min_rows:
        raise UploadError(f"{name} has {len(rows)} row{'s' * (len(rows) != 1)} of data; "
                          f"a series needs at least {min_rows}.")
    note = None
    if len(rows) > limit.max_series_rows:
        note = f"{name} has {len(rows):,} rows; only the last {limit.max_series_rows:,} are used."
        rows = rows[-limit.max_series_rows:]
    date_at = None if date_column is None else _column_index(columns, date_column, name)
    value_at = _value_index(columns, rows[0][1], value_column, date_at, name)
    values = _numbers(rows, value_at, columns[value_at], name)
    dates = None if date_at is None else _dates(rows, date_at, columns[date_at], name)
    return TimeSeries(columns, columns[value_at], values, dates, note)


def _numbers(rows: list[tuple[int, list[str]]], at: int, column: str, name: str) -> np.ndarray:
    """Column `at` of every row as float64, refusing text, infinities and gaps."""
    values = np.empty(len(rows))
    missing = []
    for i, (line, row) in enumerate(rows):
        cell = _cell(row, at)
        value = _number(cell)
        if cell.lower() in _MISSING:
            missing.append(line)
        elif value is None or not math.isfinite(value):
            raise UploadError(f"Line {line} of {name}: '{column}' is '{cell[:20]}', "
                              "which is not a number; pick the column of numbers or fix that line.")
        else:
            values[i] = value
    if missing:
        raise UploadError(f"{name} has no '{column}' value on {_lines(missing)}; fill them in or remove those rows.")
    return values


def _dates(rows: list[tuple[int, list[str]]], at: int, column: str, name: str) -> list[str]:
    dates = [_cell(row, at) for _, row in rows]
    missing = [line for (line, _), date in zip(rows, dates) if date.lower() in _MISSING]
    if missing:
        raise UploadError(f"{name} has no '{column}' date on {_lines(missing)}; fill them in or remove those rows.")
    return dates


def _cell(row: list[str], at: int) -> str:
    """The stripped cell, or "" when the row is too short to have it."""
    return row[at].strip() if at < len(row) else ""


def _column_index(columns: list[str], column: str, name: str) -> int:
    if column not in columns:
        raise UploadError(f"{name} has no column '{column}'; its columns are {', '.join(columns)}.")
    return columns.index(column)


def _value_index(columns: list[str], first_row: list[str], value_column: str | None,
                 date_at: int | None, name: str) -> int:
    """The chosen value column, else the last one whose first cell is a number."""
    if value_column is not None:
        value_at = _column_index(columns, value_column, name)
        if value_at == date_at:
            raise UploadError(f"'{value_column}' cannot be both the value and the date column of {name}.")
        return value_at
    numeric = [i for i, cell in enumerate(first_row[:len(columns)]) if i != date_at and _number(cell) is not None]
    if not numeric:
        raise UploadError(f"{name} has no column of numbers; a series needs one number per row.")
    return numeric[-1]


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _lines(numbers: list[int]) -> str:
    """'line 5', 'lines 5, 9 and 12', or the first five and how many more."""
    if len(numbers) == 1:
        return f"line {numbers[0]}"
    if len(numbers) > 5:
        return f"lines {', '.join(map(str, numbers[:5]))} and {len(numbers) - 5:,} more"
    return f"lines {', '.join(map(str, numbers[:-1]))} and {numbers[-1]}"


def column_names(data: bytes) -> list[str]:
    """The column names `read_csv` would give the file (so a person can pick among them before it
    is read), or [] if it is not readable text."""
    try:
        lines = decode_text(data, "the file", limits().max_upload_bytes, ".csv").split("\n")
        first = next(line for line in lines if line.strip())
    except (UploadError, StopIteration):
        return []
    cells = next(csv.reader([first], delimiter=_delimiter(first)))
    return _header(cells) or [f"column {i + 1}" for i in range(len(cells))]


def _delimiter(first_line: str) -> str:
    """Comma, semicolon or tab: whichever the first non-blank line holds most of."""
    return max([",", ";", "\t"], key=first_line.count)


def _header(cells: list[str]) -> list[str] | None:
    """The column names if this first row is a header (none of its cells is a number), else None."""
    if any(_number(cell) is not None for cell in cells):
        return None
    return [cell.strip() or f"column {i + 1}" for i, cell in enumerate(cells)]
