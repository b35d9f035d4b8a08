"""Uploaded text and time-series CSVs: good files decode, every bad kind gets one clear UploadError."""
import io
import random

import numpy as np
import pytest
from PIL import Image

from zoo.data.series import MIN_ROWS as MIN_SERIES_ROWS, read_csv as read_series_csv
from zoo.uploads import UploadError, limits, load_text


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    return buffer.getvalue()


def series_csv(n: int = 12, header: str = "month,sunspots", sep: str = ",") -> bytes:
    rows = [header] if header else []
    rows += [f"2000-{i + 1:03d}{sep}{10 + i * 0.5}" for i in range(n)]
    return "\n".join(rows).encode()


# --- load_text ----------------------------------------------------------------------------

def test_utf8_text_loads_with_unix_line_ends():
    data = "\ufeffCaf\u00e9 na\u00efve \u2014 \u201cquoted\u201d\r\nsecond line\rthird".encode("utf-8")
    assert load_text(data, "notes.txt") == "Caf\u00e9 na\u00efve \u2014 \u201cquoted\u201d\nsecond line\nthird"


def test_latin1_text_falls_back_and_keeps_its_accents():
    assert load_text("Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e, \u00bd".encode("latin-1"), "old.TXT") == \
        "Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e, \u00bd"


def test_windows_curly_quotes_decode_as_quotes():
    assert load_text(b"\x93Hello,\x94 she said \x96 twice.", "word.txt") == "\u201cHello,\u201d she said \u2013 twice."


def test_default_text_limit_is_two_megabytes(monkeypatch):
    monkeypatch.delenv("ZOO_MAX_TEXT_MB", raising=False)
    assert limits().max_text_bytes == 2 * 1024 * 1024


def test_empty_file_is_refused():
    with pytest.raises(UploadError, match=r"^story\.txt is empty\.$"):
        load_text(b"", "story.txt")


@pytest.mark.parametrize("data", [b"   \n\n\t  \r\n", "\ufeff \u00a0\n".encode("utf-8")])
def test_whitespace_only_is_refused(data):
    with pytest.raises(UploadError, match="only blank space"):
        load_text(data, "blank.txt")


def test_one_repeated_character_is_refused():
    with pytest.raises(UploadError, match="just the character 'a' repeated"):
        load_text(b"aaaa aaaa\naaaaaaaa", "a.txt")


def test_too_few_different_characters_are_refused():
    with pytest.raises(UploadError, match=r"only 2 different characters \('a', 'b'\)"):
        load_text(b"abba baab " * 50, "ab.txt")


@pytest.mark.parametrize("data", [png(), b"PK\x03\x04\x14\x00\x00\x00zip", "text".encode("utf-16")])
def test_binary_with_nul_bytes_is_refused(data):
    with pytest.raises(UploadError, match=r"binary file, not text; save it as plain text \(\.txt, UTF-8\)"):
        load_text(data, "photo.txt")


def test_binary_without_nul_bytes_is_refused():
    data = bytes(b for b in random.Random(0).randbytes(2000) if b)
    with pytest.raises(UploadError, match="binary"):
        load_text(data, "noise.txt")


def test_a_few_form_feeds_and_tabs_are_still_text():
    assert load_text(b"Chapter 1\tpage\n\x0cChapter 2 goes on and on.", "book.txt").startswith("Chapter 1\t")


def test_file_over_the_text_limit_is_refused(monkeypatch):
    monkeypatch.setenv("ZOO_MAX_TEXT_MB", "0.001")
    with pytest.raises(UploadError, match=r"big\.txt is 2\.1 KB; the limit is 1\.0 KB per \.txt file"):
        load_text(b"The quick brown fox. " * 100, "big.txt")


def test_other_file_types_are_refused():
    with pytest.raises(UploadError, match=r"essay\.docx is not a \.txt file"):
        load_text(b"plain words", "essay.docx")


# --- read_series_csv ----------------------------------------------------------------------

def test_series_with_header_picks_the_number_column():
    series = read_series_csv(series_csv(), "sun.csv", date_column="month")
    assert series.columns == ["month", "sunspots"] and series.value_column == "sunspots"
    assert series.values.dtype == np.float64 and series.values[:3].tolist() == [10.0, 10.5, 11.0]
    assert series.dates[:2] == ["2000-001", "2000-002"] and series.note is None


def test_series_without_header_or_dates():
    series = read_series_csv(b"\n".join(str(v).encode() for v in range(15)) + b"\n\n", "plain.csv")
    assert series.columns == ["column 1"] and series.value_column == "column 1"
    assert series.values.tolist() == list(range(15)) and series.dates is None


@pytest.mark.parametrize("sep", [";", "\t"])
def test_semicolon_and_tab_separated_files(sep):
    series = read_series_csv(series_csv(header=f"month{sep}sunspots", sep=sep), "sun.csv")
    assert series.columns == ["month", "sunspots"] and len(series.values) == 12


def test_value_column_by_name_and_last_number_column_by_default():
    data = b"year,value,flag\n" + b"\n".join(f"{1900 + i},{i * 2},{i % 2}".encode() for i in range(12))
    assert read_series_csv(data, "x.csv").value_column == "flag"
    series = read_series_csv(data, "x.csv", value_column="value", date_column="year")
    assert series.values[-1] == 22 and series.dates[-1] == "1911"


def test_unknown_column_lists_the_columns():
    with pytest.raises(UploadError, match="has no column 'spots'; its columns are month, sunspots"):
        read_series_csv(series_csv(), "sun.csv", value_column="spots")


def test_same_column_for_values_and_dates_is_refused():
    with pytest.raises(UploadError, match="both the value and the date column"):
        read_series_csv(series_csv(), "sun.csv", value_column="sunspots", date_column="sunspots")


@pytest.mark.parametrize("cell", ["high", "1,5", "inf"])
def test_text_in_the_value_column_names_the_line(cell):
    data = series_csv().replace(b"2000-003,11.0", f'2000-003,"{cell}"'.encode())
    with pytest.raises(UploadError, match=f"Line 4 of sun.csv: 'sunspots' is '{cell}', which is not a number"):
        read_series_csv(data, "sun.csv")


def test_a_column_of_text_only_is_not_a_series():
    with pytest.raises(UploadError, match="no column of numbers"):
        read_series_csv(b"name,city\n" + b"ann,rome\n" * 12, "people.csv")


def test_missing_values_name_their_lines():
    data = series_csv().replace(b"2000-002,10.5", b"2000-002,").replace(b"2000-005,12.0", b"2000-005,NA")
    with pytest.raises(UploadError, match="no 'sunspots' value on lines 3 and 6; fill them in"):
        read_series_csv(data, "sun.csv")


def test_many_missing_values_are_summed_up():
    data = b"v\n1\n" + b"\n".join(b"1" if i % 3 else b"nan" for i in range(60))
    with pytest.raises(UploadError, match=r"lines 3, 6, 9, 12, 15 and 15 more"):
        read_series_csv(data, "gaps.csv")


def test_short_rows_count_as_missing_values():
    data = series_csv() + b"\n2000-013"
    with pytest.raises(UploadError, match="on line 14;"):
        read_series_csv(data, "sun.csv")


def test_missing_dates_name_their_lines():
    data = series_csv().replace(b"2000-004,", b",")
    with pytest.raises(UploadError, match="no 'month' date on line 5"):
        read_series_csv(data, "sun.csv", date_column="month")


@pytest.mark.parametrize("n", [0, 1, MIN_SERIES_ROWS - 1])
def test_too_few_rows_are_refused(n):
    with pytest.raises(UploadError, match=f"{n} rows? of data; a series needs at least {MIN_SERIES_ROWS}"):
        read_series_csv(series_csv(n), "short.csv")
    assert len(read_series_csv(series_csv(3), "short.csv", min_rows=3).values) == 3


def test_rows_over_the_cap_keep_the_most_recent(monkeypatch):
    monkeypatch.setenv("ZOO_MAX_SERIES_ROWS", "50")
    data = b"v\nnot a number\n" + b"\n".join(str(i).encode() for i in range(1, 200))
    series = read_series_csv(data, "long.csv")
    assert series.values.tolist() == list(range(150, 200))
    assert series.note == "long.csv has 200 rows; only the last 50 are used."
    assert limits().max_series_rows == 50


def test_default_row_cap_is_a_hundred_thousand(monkeypatch):
    monkeypatch.delenv("ZOO_MAX_SERIES_ROWS", raising=False)
    assert limits().max_series_rows == 100_000


def test_binary_csv_is_refused():
    with pytest.raises(UploadError, match=r"binary file, not text; save it as plain text \(\.csv"):
        read_series_csv(png(), "data.csv")


def test_csv_over_the_upload_limit_is_refused(monkeypatch):
    monkeypatch.setenv("ZOO_MAX_UPLOAD_MB", "0.0001")
    with pytest.raises(UploadError, match=r"the limit is 104 bytes per \.csv file"):
        read_series_csv(series_csv(), "sun.csv")


def test_unreadable_csv_is_refused():
    with pytest.raises(UploadError, match="could not be read as CSV"):
        read_series_csv(b"v\n" + b'"' + b"x" * 200_000 + b'"\n1', "huge-cell.csv")
