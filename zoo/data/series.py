"""Univariate time series from a person's CSV: one row per time step, a header row or none,
split by comma, semicolon or tab. Anything unusable raises `zoo.uploads.UploadError` with one
sentence to show, never a traceback; the size limits are `zoo.uploads.limits()` and MAX_COLUMNS,
each applied before the rows it spares are built.
"""
from __future__ import annotations

import csv
import math
import re
from collections import deque
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from zoo.data.lines import each_line
from zoo.i18n import t
from zoo.uploads import UploadError, decode_text, limits

MIN_ROWS = 10
"""the fewest rows `read_csv` accepts by default"""
MAX_COLUMNS = 100
"""the most columns a line may have: a series needs a value column and perhaps a date; a wider line is refused
before it is split (a 1,000,000-column line became a million-option select box)"""
_MISSING = {"", "na", "nan", "n/a", "null", "none", "?"}
_GENERATED = re.compile(r"column (\d+)")
"""the name of a column in a file without a header row: a code, which `column_label` shows in the reader's words"""


@dataclass(frozen=True)
class TimeSeries:
    """A univariate series read from a CSV, in the file's row order."""
    columns: list[str]
    """every column's name, in file order ("column 1", ... when the file has no header row: see `column_label`)"""
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
    columns = header or [_generated(i) for i in range(width)]
    if count < min_rows:
        raise UploadError(t("text.series.too_few_rows." + ("one" if count == 1 else "other"), name=name, count=count,
                            least=min_rows))
    note = None
    if count > limit.max_series_rows:
        note = t("text.series.rows_kept", name=name, count=count, kept=limit.max_series_rows)
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
            raise UploadError(t("text.series.not_a_number", line=line, name=name, column=column_label(column),
                                cell=cell[:20]))
        else:
            values[i] = value
    if missing:
        raise UploadError(t("text.series.missing_values", name=name, column=column_label(column),
                            lines=_lines(missing)))
    return values


def _dates(rows: list[tuple[int, list[str]]], at: int, column: str, name: str) -> list[str]:
    dates = [_cell(row, at) for _, row in rows]
    missing = [line for (line, _), date in zip(rows, dates) if date.lower() in _MISSING]
    if missing:
        raise UploadError(t("text.series.missing_dates", name=name, column=column_label(column), lines=_lines(missing)))
    return dates


def _cell(row: list[str], at: int) -> str:
    """The stripped cell, or "" when the row is too short to have it."""
    return row[at].strip() if at < len(row) else ""


def _column_index(columns: list[str], column: str, name: str) -> int:
    if column not in columns:
        raise UploadError(t("text.series.no_such_column", name=name, column=column_label(column),
                            columns=t("text.series.separator").join(map(column_label, columns))))
    return columns.index(column)


def _value_index(columns: list[str], first_row: list[str], value_column: str | None,
                 date_at: int | None, name: str) -> int:
    """The chosen value column, else the last one whose first cell is a number."""
    if value_column is not None:
        value_at = _column_index(columns, value_column, name)
        if value_at == date_at:
            raise UploadError(t("text.series.value_is_date", column=column_label(value_column), name=name))
        return value_at
    numeric = [i for i, cell in enumerate(first_row[:len(columns)]) if i != date_at and _number(cell) is not None]
    if not numeric:
        raise UploadError(t("text.series.no_numbers", name=name))
    return numeric[-1]


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _lines(numbers: list[int]) -> str:
    """'on line 5', 'on lines 5, 9 and 12', or the first five and how many more, in the reader's language (the
    phrase whole, its preposition included, as the sentences around it take it)."""
    if len(numbers) == 1:
        return t("text.series.lines.one", line=numbers[0])
    separator = t("text.series.separator")
    if len(numbers) > 5:
        return t("text.series.lines.many", lines=separator.join(map(str, numbers[:5])), more=len(numbers) - 5)
    return t("text.series.lines.few", lines=separator.join(map(str, numbers[:-1])), last=numbers[-1])


def _generated(index: int) -> str:
    """The name of column `index` (from 0) in a file without a header row."""
    return f"column {index + 1}"


def column_label(column: str) -> str:
    """A column's name as a reader sees it: a file's own name as written, the name given to a column of a file
    without a header row ("column 3") in the reader's language."""
    generated = _GENERATED.fullmatch(column)
    return t("text.series.column", number=int(generated[1])) if generated else column


def column_names(data: bytes, name: str = "series.csv") -> list[str]:
    """The column names `read_csv` would give the file, so a person can pick among them before it is read
    ([] for a file without a line of text); raises UploadError if `read_csv` would refuse the file whatever
    the columns picked: not text, over ZOO_MAX_UPLOAD_MB, a first line of more than MAX_COLUMNS columns."""
    first = next(_rows(decode_text(data, name, limits().max_upload_bytes, ".csv"), name), None)
    if first is None:
        return []
    return _header(first[1]) or [_generated(i) for i in range(len(first[1]))]


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
        raise UploadError(t("text.series.not_csv", name=name, error=error)) from error


def _narrow_lines(text: str, delimiter: str, name: str) -> Iterator[str]:
    """The text's lines, refusing one that holds MAX_COLUMNS delimiters or more before anything splits it."""
    for number, line in enumerate(each_line(text), 1):
        if (delimiters := line.count(delimiter)) >= MAX_COLUMNS:
            raise UploadError(t("text.series.too_wide", line=number, name=name, columns=delimiters + 1,
                                most=MAX_COLUMNS))
        yield line


def _delimiter(first_line: str) -> str:
    """Comma, semicolon or tab: whichever the first non-blank line holds most of."""
    return max([",", ";", "\t"], key=first_line.count)


def _header(cells: list[str]) -> list[str] | None:
    """The column names if this first row is a header (none of its cells is a number), else None."""
    if any(_number(cell) is not None for cell in cells):
        return None
    return [cell.strip() or _generated(i) for i, cell in enumerate(cells)]
