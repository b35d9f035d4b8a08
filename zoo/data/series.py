"""Univariate time series from a person's CSV: one row per time step, a header row or none,
split by comma, semicolon or tab. Anything unusable raises `zoo.uploads.UploadError` with one
sentence to show, never a traceback; the size limits are `zoo.uploads.limits()` and MAX_COLUMNS,
each applied before the rows it spares are built.
"""
from __future__ import annotations

import csv
import math
from collections import deque
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from zoo.data.lines import each_line
from zoo.uploads import UploadError, decode_text, limits

MIN_ROWS = 10
"""the fewest rows `read_csv` accepts by default"""
MAX_COLUMNS = 100
"""the most columns a line may have: a series needs a value column and perhaps a date; a wider line is refused
before it is split (a 1,000,000-column line became a million-option select box)"""
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
    fewer than `min_rows` rows, a line of more than MAX_COLUMNS columns. Over ZOO_MAX_SERIES_ROWS rows
    (default 100,000), only the last that many (the most recent) are kept and checked, and `note` says so:
    the rows are read one at a time and only those kept stay in memory."""
    limit = limits()
    text = decode_text(data, name, limit.max_upload_bytes, ".csv")
    reading = _rows(text, name)
    first = next(reading, None)
    header = None if first is None else _header(first[1])
    kept: deque[tuple[int, list[str]]] = deque([] if header is not None or first is None else [first],
                                               maxlen=limit.max_series_rows)
    count, width = len(kept), len(first[1]) if kept else 0
    for row in reading:
        kept.append(row)
        count, width = count + 1, max(width, len(row[1]))
    columns = header or [f"column {i + 1}" for i in range(width)]
    if count < min_rows:
        raise UploadError(f"{name} has {count} row{'s' * (count != 1)} of data; a series needs at least {min_rows}.")
    note = None
    if count > limit.max_series_rows:
        note = f"{name} has {count:,} rows; only the last {limit.max_series_rows:,} are used."
    rows = list(kept)
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


def column_names(data: bytes, name: str = "series.csv") -> list[str]:
    """The column names `read_csv` would give the file, so a person can pick among them before it is read
    ([] for a file without a line of text); raises UploadError if `read_csv` would refuse the file whatever
    the columns picked: not text, over ZOO_MAX_UPLOAD_MB, a first line of more than MAX_COLUMNS columns."""
    first = next(_rows(decode_text(data, name, limits().max_upload_bytes, ".csv"), name), None)
    if first is None:
        return []
    return _header(first[1]) or [f"column {i + 1}" for i in range(len(first[1]))]


def _rows(text: str, name: str) -> Iterator[tuple[int, list[str]]]:
    """(line number in the file, cells) of each row that is not blank, one at a time, split by the delimiter
    of the first non-blank line; a line of more than MAX_COLUMNS columns raises UploadError unsplit."""
    first = next((line for line in each_line(text) if line.strip()), "")
    delimiter = _delimiter(first)
    reader = csv.reader(_narrow_lines(text, delimiter, name), delimiter=delimiter)
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                yield reader.line_num, row
    except csv.Error as error:
        raise UploadError(f"{name} could not be read as CSV: {error}.") from error


def _narrow_lines(text: str, delimiter: str, name: str) -> Iterator[str]:
    """The text's lines, refusing one that holds MAX_COLUMNS delimiters or more before anything splits it."""
    for number, line in enumerate(each_line(text), 1):
        if (delimiters := line.count(delimiter)) >= MAX_COLUMNS:
            raise UploadError(f"Line {number} of {name} has {delimiters + 1:,} columns; a series file may have at "
                              f"most {MAX_COLUMNS}: one row per time step, a column of numbers and perhaps a date.")
        yield line


def _delimiter(first_line: str) -> str:
    """Comma, semicolon or tab: whichever the first non-blank line holds most of."""
    return max([",", ";", "\t"], key=first_line.count)


def _header(cells: list[str]) -> list[str] | None:
    """The column names if this first row is a header (none of its cells is a number), else None."""
    if any(_number(cell) is not None for cell in cells):
        return None
    return [cell.strip() or f"column {i + 1}" for i, cell in enumerate(cells)]
