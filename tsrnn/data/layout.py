"""What a CSV file looks like: its format, the kind of each column, and each column's role.

:func:`~tsrnn.read_csv` asks this module three questions before it reads a file in full: how is
it written (delimiter, decimal mark, encoding, compression), what does each column hold (numbers,
whole numbers, dates, text), and which column is the time, the series id, the target, a covariate
or nothing to read. All three are answered from the first bytes and rows, so they cost the same
for any file size; the arguments a caller passes win over every inference. Once the file is read
in full, :func:`parse_times` reads its time column in one format and :func:`locate_bad_number`
names the cell that broke a numeric column.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import logging
import lzma
import os
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tsrnn.errors import DataError

log = logging.getLogger(__name__)

# Cells that mean "no value" in a numeric column; they are read as NaN and counted in the
# report. Anything else that is not a number is an error: guessing would hide a broken file.
# fmt: off
NA_MARKERS = ("", "NA", "N/A", "n/a", "na", "NaN", "nan", "NAN", "null", "NULL", "Null", "None",
              "none", "-", "--", "?", "#N/A", "<NA>")
_NA_LIST = list(NA_MARKERS)
# Column names (lower case, spaces and dashes as underscores) that settle a column's role.
ID_NAMES = frozenset({"unique_id", "id", "series", "series_id", "station", "site", "store", "item",
                      "sensor", "location", "key", "name", "ticker", "symbol", "country", "region"})
TIME_NAMES = frozenset({"ds", "date", "time", "timestamp", "datetime", "date_time", "time_stamp",
                        "period", "step", "time_idx"})
# fmt: on
TARGET_NAMES = frozenset({"y", "value", "target"})
_ROW_NUMBER_NAMES = frozenset({"", "index", "no", "row", "#"})

_DELIMITERS = (",", ";", "\t", "|")
_SNIFF_BYTES = 1 << 16  # enough lines to settle the delimiter and the decimal mark
_SAMPLE_ROWS = 2000  # rows that decide each column's kind (number, integer, date, text)


# ---------------------------------------------------------------------- the file's format
@dataclass(frozen=True)
class Format:
    """How a CSV file is written; :meth:`read` hands it to ``pandas.read_csv``."""

    file: Path
    source: str  # the path as the caller gave it, for messages
    sep: str
    decimal: str
    encoding: str
    compression: str | None = None  # "gzip", "bz2", "xz" or "zip", told by content
    skip: int = 0  # lines before the header: Excel's "sep=;" line

    def read(self, **options: Any) -> Any:
        """``pandas.read_csv`` in this format, blank lines kept: row ``i`` is line
        ``i + 2 + skip``."""
        return pd.read_csv(
            self.file,
            sep=self.sep,
            encoding=self.encoding,
            compression=self.compression,
            skiprows=self.skip or None,
            keep_default_na=False,
            skip_blank_lines=False,
            skipinitialspace=True,
            **options,
        )

    def read_text(self, **options: Any) -> Any:
        """Cells as they are written, nothing read as missing."""
        return self.read(dtype=str, na_filter=False, **options)


def sniff_format(path: str | os.PathLike[str]) -> Format:
    """The file's delimiter, decimal mark and encoding, told from its first bytes."""
    source = str(path)
    file = Path(path)
    if not file.is_file():
        where = "is a folder, not a file" if file.is_dir() else "does not exist"
        raise DataError(
            f"{source}: the file {where}; check the path (working directory: {Path.cwd()})"
        )
    compression = _compression(file, source)
    head, encoding = _head(file, compression)
    if not head.strip():
        raise _empty(source)
    _refuse_other_formats(head, source)
    skip, sep_line = 0, _SEP_LINE.match(head)
    if sep_line:  # Excel's "sep=;" line names the delimiter; the header follows it
        skip, head = 1, head[sep_line.end() :]
    sep, decimal = _sniff(head, source)
    if sep_line:
        sep = sep_line.group(1)
    _refuse_duplicate_names(head, sep, source, skip)
    return Format(file, source, sep, decimal, encoding, compression, skip)


_SEP_LINE = re.compile(r"\A\s*sep=([,;\t|])[ \t]*\r?\n")


def _refuse_other_formats(head: str, source: str) -> None:
    """JSON: say what it is and how to make a CSV of it (binary formats are named by
    :func:`_compression`, from their first bytes)."""
    start = head.lstrip("\ufeff \t\r\n")
    if start[:1] in "[{" and start[:1] and re.match(r"[\[{]\s*[\"{\[\]]", start):
        raise _other_format(source, "JSON", "read_json")


def _other_format(source: str, what: str, reader: str) -> DataError:
    return DataError(
        f"{source}: the file is {what}, not CSV text; tsrnn reads CSV: convert it, e.g. "
        f"pandas.{reader}(path).to_csv('data.csv', index=False)"
    )


# Leading bytes of compressed files, and pandas' name of the compression. The content decides,
# whatever the file's name says: a gzip file named .csv is read as gzip.
_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"PK\x03\x04", "zip"),
)
_OPENERS = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open}
# Files a zip archive may hold for it to be read as one CSV (an Excel workbook holds XML parts).
_ZIPPED_TEXT = (".csv", ".txt", ".tsv", ".dat")


def _compression(file: Path, source: str) -> str | None:
    """The file's compression, told by its first bytes; a zip archive is read only when it
    holds one text file (an Excel workbook is a zip archive too)."""
    with open(file, "rb") as f:
        start = f.read(8)
    # Binary formats, named before any bytes are decoded as text
    if start.startswith(b"PAR1"):
        raise DataError(
            f"{source}: the file is a Parquet file, not CSV text; read it with "
            "tsrnn.read_parquet (the CLI reads it as Parquet by its content)"
        )
    if start.startswith(b"\xd0\xcf\x11\xe0"):
        raise _other_format(source, "an Excel 97-2003 workbook (.xls)", "read_excel")
    kind = next((name for magic, name in _MAGIC if start.startswith(magic)), None)
    if kind == "zip":
        try:
            with zipfile.ZipFile(file) as archive:
                names = [n for n in archive.namelist() if not n.endswith("/")]
        except zipfile.BadZipFile:
            names = []
        if any(n.endswith("/data.pkl") for n in names):
            raise DataError(
                f"{source}: a model file (tsrnn saves models with torch), not CSV data; to "
                f"forecast with it: tsrnn predict {source} DATA"
            )
        if any(n.startswith("xl/") for n in names):
            raise DataError(
                f"{source}: the file is an Excel workbook, not CSV text; export the sheet as "
                "CSV (File > Save As > CSV UTF-8)"
            )
        if len(names) != 1 or not names[0].lower().endswith(_ZIPPED_TEXT):
            raise DataError(
                f"{source}: the file is a zip archive of {len(names)} file(s) "
                f"({', '.join(names[:3])}{', ...' if len(names) > 3 else ''}), not one CSV; "
                "unzip it and pass the CSV file"
            )
    return kind


def _refuse_duplicate_names(head: str, sep: str, source: str, skip: int = 0) -> None:
    """Two columns of one name: pandas would rename the second (``y.1``) and read it silently."""
    header = next(csv.reader(head.splitlines()[:1], delimiter=sep), [])
    seen: dict[str, int] = {}
    for position, name in enumerate((c.strip() for c in header), start=1):
        if name in seen and name:  # unnamed columns (trailing delimiters) are told apart below
            raise DataError(
                f"{source}, line {1 + skip}: column name {name!r} appears twice (columns {seen[name]} "
                f"and {position}); give every column its own name"
            )
        seen[name] = position


def _head(file: Path, compression: str | None) -> tuple[str, str]:
    """The first bytes of the file as text, and the encoding to read it with."""
    if compression == "zip":
        with zipfile.ZipFile(file) as archive:
            name = next(n for n in archive.namelist() if not n.endswith("/"))
            with archive.open(name) as f:
                raw = f.read(_SNIFF_BYTES)
    else:
        with _OPENERS.get(compression or "", open)(file, "rb") as f:
            raw = f.read(_SNIFF_BYTES)
    encoding = _utf16(raw)
    if encoding is not None:  # Excel's "Unicode text", a Windows editor's "Unicode"
        size = len(raw) - len(raw) % 2
        return raw[:size].decode(encoding).lstrip("\ufeff"), encoding
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as err:
        if err.start >= len(raw) - 3:  # a character cut in two at the end of the sample
            return raw[: err.start].decode("utf-8-sig"), "utf-8"
    # Not UTF-8: most likely a spreadsheet export in a Western code page, which latin-1 reads
    # byte for byte (numbers and ASCII names come out right whatever the real code page).
    log.warning("%s is not UTF-8; reading it as latin-1", file)
    return raw.decode("latin-1"), "latin-1"


def _utf16(raw: bytes) -> str | None:
    """``"utf-16"`` for text with a UTF-16 byte-order mark, ``"utf-16-le"``/``"-be"`` for text
    without one whose every other byte is 0 (ASCII written in UTF-16); else None."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    sample = raw[: 2 * 512]
    if len(sample) >= 8 and b"\x00" in sample:
        odd, even = sample[1::2], sample[0::2]
        if odd.count(0) > 0.9 * len(odd) and even.count(0) == 0:
            return "utf-16-le"
        if even.count(0) > 0.9 * len(even) and odd.count(0) == 0:
            return "utf-16-be"
    return None


def _sniff(head: str, source: str) -> tuple[str, str]:
    """The delimiter that splits the header and most lines alike, and the decimal mark."""
    lines = [line for line in head.splitlines() if line.strip()]
    if len(head) >= _SNIFF_BYTES - 3 and len(lines) > 2:
        lines = lines[:-1]  # the last line may be cut short
    lines = lines[:200]
    best, best_score = None, (0.0, 1)
    for sep in _DELIMITERS:
        widths = [len(row) for row in csv.reader(lines, delimiter=sep)]
        score = (sum(w == widths[0] for w in widths) / len(widths), widths[0])
        if widths[0] > 1 and score > best_score:
            best, best_score = sep, score
    if best is None:
        below = {sep: _usual_width(lines[1:], sep) for sep in _DELIMITERS}
        if max(below.values()) > 1:  # a title above the header
            raise DataError(
                f"{source}, line 1: {lines[0][:60]!r} is one field, the lines below hold "
                f"{max(below.values())}: if it is a title, delete it (and any line above the "
                "header), so that the file starts with the column names"
            )
        raise DataError(
            f"{source}: found a single column (tried the delimiters , ; tab |); a CSV needs a "
            "time column and at least one column of values, separated by one of those"
        )
    header = len(next(csv.reader(lines[:1], delimiter=best)))
    if _usual_width(lines[1:], best) > header:  # pandas would make the first column the index
        raise DataError(
            f"{source}, line 1: the header names {header} columns but the lines below hold "
            f"{_usual_width(lines[1:], best)} (the first: {lines[1][:60]!r}); name every column in "
            "the header"
        )
    decimal = "."
    if best != ",":
        cells = [c.strip() for row in csv.reader(lines[1:], delimiter=best) for c in row]
        commas = sum(bool(re.fullmatch(r"[+-]?\d*,\d+", c)) for c in cells)
        points = sum(bool(re.fullmatch(r"[+-]?\d*\.\d+", c)) for c in cells)
        decimal = "," if commas > points else "."
    return best, decimal


def _usual_width(lines: list[str], sep: str) -> int:
    """How many fields 90 % of ``lines`` split into (0 for fewer than 2 lines, or no such
    majority)."""
    if len(lines) < 2:
        return 0
    widths = pd.Series([len(row) for row in csv.reader(lines, delimiter=sep)])
    top = widths.value_counts()
    return int(top.index[0]) if top.iloc[0] >= 0.9 * len(widths) else 0


def read_sample(fmt: Format) -> pd.DataFrame:
    """The first rows as text: enough to tell each column's kind, cheap for any file size."""
    try:
        sample = fmt.read_text(nrows=_SAMPLE_ROWS)
    except pd.errors.EmptyDataError as err:
        raise _empty(fmt.source) from err
    except pd.errors.ParserError as err:
        raise describe_parser_error(fmt.source, err) from err
    if sample.empty:
        raise DataError(
            f"{fmt.source}: has a header ({', '.join(sample.columns)}) but no data rows; "
            "add rows below the header"
        )
    if fmt.skip:  # row i is line i + 2 in every message: count the lines before the header
        sample.index = sample.index + fmt.skip
    return sample


def _empty(source: str) -> DataError:
    return DataError(f"{source}: the file is empty; write a header line and data rows")


def describe_parser_error(source: str, err: Exception) -> DataError:
    """The parser's complaint (it names the line) and what makes a line well formed."""
    text = str(err).replace("Error tokenizing data. C error: ", "").strip()
    return DataError(
        f"{source}: malformed CSV: {text}; every line needs as many fields as the header "
        "(quote fields holding the delimiter)"
    )


def _non_numeric(cells: pd.Series, decimal: str) -> pd.Series:
    """True for cells that are neither a number (with this decimal mark) nor an NA marker."""
    cells = cells.str.strip()
    numbers = cells
    if decimal == ",":  # "1.5" is not a number in a decimal-comma file
        numbers = cells.where(~cells.str.contains(".", regex=False), "x")
        numbers = numbers.str.replace(",", ".", regex=False)
    return ~cells.isin(_NA_LIST) & pd.to_numeric(numbers, errors="coerce").isna()


def infer_kinds(sample: pd.DataFrame, decimal: str) -> dict[str, str]:
    """What each column of the sample holds (see :func:`_kind`)."""
    return {c: _kind(sample[c], decimal) for c in sample.columns}


def _kind(values: pd.Series, decimal: str) -> str:
    """``"integer"``, ``"number"``, ``"datetime"``, ``"text"`` or ``"empty"`` (only NA markers).

    Four in five present cells must agree, so one stray cell in the first rows does not turn a
    numeric column into text: it is reported with its line when the full file is read.
    """
    present = values.str.strip()
    present = present[~present.isin(_NA_LIST)]
    if present.empty:
        return "empty"
    if present.str.fullmatch(r"[+-]?\d+").all():
        return "integer"
    if 1 - _non_numeric(present, decimal).mean() >= 0.8:
        return "number"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dates = pd.to_datetime(present, errors="coerce", format="mixed", utc=True)
    return "datetime" if dates.notna().mean() >= 0.8 else "text"


# ---------------------------------------------------------------------- cells, read in full
def _number_hint(cell: str) -> str:
    """Why a cell that looks like a number is not one: a thousands separator, a percent or a
    currency sign (each written by spreadsheets' display formats).

    >>> _number_hint("1,234"), _number_hint("12%"), _number_hint("$5")
    (' (a thousands separator? write 1234)', ' (a percentage? write 12 or 0.12, without %)', ' (a currency sign? write 5 alone)')
    """
    text = cell.strip()
    if re.fullmatch(r"[+-]?\d{1,3}([,.' \u00a0\u202f]\d{3})+([.,]\d+)?", text):
        digits = re.sub(r"[,.' \u00a0\u202f](?=\d{3}(\D|$))", "", text)
        return f" (a thousands separator? write {digits})"
    if re.fullmatch(r"[+-]?\d+([.,]\d+)?\s*%", text):
        return f" (a percentage? write {text.rstrip('% ')} or {_percent(text)}, without %)"
    money = re.fullmatch(
        r"[$\u20ac\u00a3\u00a5]\s*([+-]?\d+([.,]\d+)?)|([+-]?\d+([.,]\d+)?)\s*[$\u20ac\u00a3\u00a5]",
        text,
    )
    if money:
        return f" (a currency sign? write {money.group(1) or money.group(3)} alone)"
    return ""


def _percent(text: str) -> str:
    value = float(text.rstrip("% ").replace(",", "."))
    return f"{value / 100:g}"


def locate_bad_number(fmt: Format, roles: Roles, err: Exception, chunk_rows: int) -> DataError:
    """Find the first cell of a numeric column that is neither a number nor an NA marker."""
    columns = roles.numeric
    with fmt.read_text(usecols=columns, chunksize=chunk_rows) as reader:
        for chunk in reader:
            found = [
                (int(np.argmax(bad)), c)
                for c in columns
                if (bad := _non_numeric(chunk[c], fmt.decimal).to_numpy()).any()
            ]
            if found:
                k, c = min(found)
                mark = " (this file uses a decimal comma)" if fmt.decimal == "," else ""
                hint = ""
                if roles.auto_covariates and c in roles.past:
                    hint = ", or leave the column out with covariates="
                cell = chunk[c].iloc[k]
                return DataError(
                    f"{fmt.source}, line {chunk.index[k] + 2 + fmt.skip}, column {c!r}: "
                    f"{cell!r} is not a number{mark}{_number_hint(cell)}; clean that cell: "
                    f"write a number, or leave it empty (or NA) for a missing value{hint}"
                )
    return DataError(f"{fmt.source}: a column read as numbers ({columns}) holds text: {err}")


class TimeError(ValueError):
    """A time column that cannot be read as one; ``position`` indexes the distinct strings."""

    def __init__(self, message: str, position: int, other: int | None = None) -> None:
        super().__init__(message)
        self.position = position
        self.other = other  # a second string the message is about, whose line it names too


@dataclass(frozen=True)
class Times:
    """A time column read: the distinct values parsed, and how."""

    index: pd.Index  # DatetimeIndex (tz-naive or UTC) or int64 Index, one per distinct string
    bad: np.ndarray  # positions of strings that could not be read
    note: str = ""  # how the column was read, when that was a decision: for the data report


# Slash, dot or dash dates that begin with a day or a month: 01/02/2024, 1.2.24, 01-02-2024.
_DMY = re.compile(r"\d{1,2}([/.\-])\d{1,2}\1\d{2,4}(?:[ T].*)?")
_OFFSET = re.compile(r".*\d(?:Z|[+-]\d{2}:?\d{2})$")  # ends in a UTC offset or Z


def parse_times(texts: pd.Index, steps: bool, dayfirst: bool | None = None) -> Times:
    """Parse each distinct time string once, in one format for all.

    ``steps``: the column holds numbers, which must be whole time steps (``yyyymmdd`` integers
    are dates). Dates must share one format: the first value's or ISO 8601. Per-element
    guessing is never used: it would read a typo such as ``2024-13-01`` as the 13th of
    January.

    - Dates like ``01/02/2024`` are read day-first or month-first by ``dayfirst``; when it is
      None, by the only reading that gives valid dates or else a regular grid. When both
      readings do, :class:`TimeError` says so and asks for ``dayfirst``.
    - Timestamps with UTC offsets are converted to UTC. When the offsets differ (a change to
      daylight saving time) and every timestamp has the same local time of day, as daily or
      longer data does, each keeps its local date instead and the offsets are dropped:
      in UTC, local midnights would fall off a daily grid.
    - Timestamps with an offset and without one in the same column, and dates past the range
      of nanosecond timestamps (1677-09-21 to 2262-04-11), raise :class:`TimeError`.
    """
    none = np.empty(0, dtype=np.int64)
    if steps:
        numbers = pd.to_numeric(texts, errors="coerce")
        bad = np.flatnonzero(np.isnan(numbers) | (numbers != np.round(numbers)))
        if len(bad):
            return Times(texts, bad)
        if texts.str.fullmatch(r"\d{8}").all():
            dates = pd.to_datetime(texts, format="%Y%m%d", errors="coerce")
            if dates.notna().all():
                return Times(_in_range(pd.DatetimeIndex(dates), texts), none)
        return Times(pd.Index(numbers.astype(np.int64)), none)
    _refuse_mixed_offsets(texts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas warns about format guesses; we check results
        if _DMY.fullmatch(texts[0]):
            return _day_or_month_first(texts, dayfirst)
        for kwargs in ({}, {"format": "ISO8601"}):
            try:
                parsed = pd.DatetimeIndex(pd.to_datetime(texts, **kwargs))
            except (ValueError, TypeError, OverflowError):
                continue
            return Times(_in_range(parsed, texts), np.flatnonzero(parsed.isna()))
        try:  # offsets that differ: pandas reads them only into UTC
            parsed = pd.DatetimeIndex(pd.to_datetime(texts, format="ISO8601", utc=True))
        except (ValueError, TypeError, OverflowError):
            pass
        else:
            return _offsets_that_differ(parsed, texts)
        for kwargs in ({}, {"format": "ISO8601"}):  # name the values that break the format
            parsed = pd.DatetimeIndex(pd.to_datetime(texts, errors="coerce", utc=True, **kwargs))
            if parsed.notna().mean() >= 0.5:
                return Times(_in_range(parsed, texts), np.flatnonzero(parsed.isna()))
    return Times(texts, np.arange(len(texts)))


def _refuse_mixed_offsets(texts: pd.Index) -> None:
    offset = np.fromiter((bool(_OFFSET.fullmatch(t)) for t in texts), bool, len(texts))
    if offset.any() and not offset.all():
        with_, without = int(np.argmax(offset)), int(np.argmax(~offset))
        raise TimeError(
            f"the column mixes time zones: {texts[with_]!r} has a UTC offset but "
            f"{texts[without]!r} (line {{other}}) has none, and the two cannot be ordered on one "
            "clock; write every timestamp with its offset, or none with one",
            with_,
            without,
        )


def _in_range(parsed: pd.DatetimeIndex, texts: pd.Index) -> pd.DatetimeIndex:
    """``parsed`` if every date fits a nanosecond timestamp (as the panel's grid needs)."""
    low, high = pd.Timestamp.min, pd.Timestamp.max
    if parsed.tz is not None:
        low, high = low.tz_localize("UTC"), high.tz_localize("UTC")
    outside = np.flatnonzero(np.asarray((parsed < low) | (parsed > high)))
    if len(outside):
        k = int(outside[0])
        raise TimeError(
            f"{texts[k]!r} is outside the dates tsrnn can hold ({low:%Y-%m-%d} to "
            f"{high:%Y-%m-%d}; {len(outside)} such values); fix the year, or use integer "
            "time steps",
            k,
        )
    return parsed


def _day_or_month_first(texts: pd.Index, dayfirst: bool | None) -> Times:
    """Dates like 01/02/2024, read by ``dayfirst`` or by the only reading that makes sense."""
    formats = _dmy_formats(texts[0])

    def read(first: bool, errors: str = "raise") -> pd.DatetimeIndex:
        # An explicit format is strict: 13/01/2024 is no month-first date (pandas' dayfirst=
        # alone would swap day and month for it, silently).
        return pd.DatetimeIndex(
            pd.to_datetime(texts, format=formats[first], dayfirst=first, errors=errors)
        )

    readings = {}
    for first in (False, True) if dayfirst is None else (dayfirst,):
        try:
            readings[first] = read(first)
        except (ValueError, TypeError, OverflowError):
            continue
    if dayfirst is not None and dayfirst not in readings:
        parsed = read(dayfirst, errors="coerce")
        return Times(parsed, _unread(parsed))
    if len(readings) == 2:  # both are valid dates: the one on a regular grid, if just one is
        regular = {k: _regular(v) for k, v in readings.items()}
        if regular[True] != regular[False]:
            readings = {k: v for k, v in readings.items() if regular[k]}
    if len(readings) == 2 and (readings[True] == readings[False]).all():
        del readings[True]  # every day is also its month (01/01, 02/02): no question
    if len(readings) == 2:
        k = int(np.argmax(readings[True] != readings[False]))
        a, b = readings[False][k], readings[True][k]
        raise TimeError(
            f"{texts[k]!r} reads as {a:%d %B %Y} month-first and as {b:%d %B %Y} day-first, and "
            "both readings fit the file; say which: --dayfirst or --no-dayfirst (dayfirst=True "
            "or False)",
            k,
        )
    if not readings:  # name the values that break the reading most values follow
        parsed = max((read(f, "coerce") for f in (False, True)), key=lambda t: t.notna().sum())
        return Times(parsed, _unread(parsed))
    ((first, parsed),) = readings.items()
    note = ""
    if first and dayfirst is None:
        note = (
            f"read day-first ({texts[0]!r} is {parsed[0]:%d %B %Y}): the only reading that "
            "gives valid dates on a regular grid (--no-dayfirst, dayfirst=False, refuses it)"
        )
    return Times(_in_range(parsed, texts), _unread(parsed), note)


def _dmy_formats(text: str) -> dict[bool, str | None]:
    """The strict month-first (False) and day-first (True) formats of a date like ``text``;
    None (pandas' lenient guess) where its format cannot be told."""
    from pandas.tseries.api import guess_datetime_format

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = guess_datetime_format(text)
    if found is None or "%d" not in found or "%m" not in found:
        return {False: None, True: None}
    swapped = found.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")
    day_first = found.index("%d") < found.index("%m")
    return {day_first: found, not day_first: swapped}


def _unread(parsed: pd.DatetimeIndex) -> np.ndarray:
    """Positions of values that parsed to NaT ("NaT", "NaN" strings)."""
    return np.flatnonzero(parsed.isna())


def _regular(parsed: pd.DatetimeIndex) -> bool:
    """Whether the distinct dates lie on one grid: a pandas frequency, or gaps in a fixed step
    (the smallest step divides every other)."""
    values = parsed.unique().sort_values()
    if len(values) < 3 or pd.infer_freq(values) is not None:
        return True
    steps = np.diff(values.asi8)
    return bool(np.all(steps % steps.min() == 0))


def _offsets_that_differ(utc: pd.DatetimeIndex, texts: pd.Index) -> Times:
    """Timestamps whose UTC offsets differ: in UTC, unless all share one local time of day."""
    offsets = sorted({m.group(0) for t in texts if (m := re.search(r"(Z|[+-]\d{2}:?\d{2})$", t))})
    local = pd.DatetimeIndex(
        pd.to_datetime(
            texts.str.replace(r"(Z|[+-]\d{2}:?\d{2})$", "", regex=True), format="ISO8601"
        )
    )
    shown = ", ".join(offsets[:4]) + (", ..." if len(offsets) > 4 else "")
    if len(set(local.time)) == 1:
        note = (
            f"UTC offsets differ ({shown}) and every timestamp is at the same local time of day: "
            "each is read by its local date, offsets dropped (in UTC, local midnights would "
            "fall off a daily grid)"
        )
        return Times(_in_range(local, texts), _unread(local), note)
    note = f"UTC offsets differ ({shown}): timestamps converted to UTC"
    return Times(_in_range(utc, texts), _unread(utc), note)


# ---------------------------------------------------------------------- column roles
@dataclass
class Roles:
    """The role of each column, and the layout they make."""

    layout: str  # "long", "wide" or "single"
    time: str
    id: str | None
    target: str | None
    series: list[str]  # wide: every series column; single: the target
    past: list[str]
    future: list[str]
    ignored: dict[str, str]
    auto_covariates: bool  # chosen by read_csv, not the caller: errors suggest covariates=

    @property
    def numeric(self) -> list[str]:
        """Columns read as numbers."""
        values = self.series if self.layout == "wide" else [self.target]
        return [*values, *self.past, *self.future]


def column_key(name: str) -> str:
    """A column name as the role lists spell it: lower case, spaces and dashes as ``_``."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def _ambiguous(source: str, role: str, candidates: list[str], argument: str) -> DataError:
    return DataError(
        f"{source}: cannot tell which column is the {role}: {candidates} all qualify; "
        f"pass {argument}= (one of them)"
    )


def infer_roles(
    sample: pd.DataFrame,
    kinds: dict[str, str],
    id_col: str | None,
    time_col: str | None,
    target_col: str | None,
    covariates: list[str] | dict[str, list[str]] | None,
    decimal: str,
    source: str,
) -> Roles:
    """Decide each column's role from the arguments, then names, then contents (see read_csv)."""
    columns = list(sample.columns)
    past, future = _covariate_lists(covariates)
    given = [("id_col", id_col), ("time_col", time_col), ("target_col", target_col)]
    given += [("covariates", c) for c in past + future]
    for argument, name in given:
        if name is not None and name not in columns:
            raise DataError(
                f"{source}: no column {name!r} ({argument}=); the columns are {columns}"
            )
    chosen = [name for _, name in given if name is not None]
    twice = sorted({c for c in chosen if chosen.count(c) > 1})
    if twice:
        raise DataError(f"{source}: column(s) {twice} given two roles; give each column one role")
    ignored = {
        c: "row number"
        for c in columns
        if c not in chosen and _is_row_number(c, sample[c], kinds[c])
    }
    # Trailing delimiters (Excel's "a,b,,"): columns with no name and no values in the sample.
    ignored.update(
        {
            c: "no name, no values"
            for c in columns
            if c not in chosen and c.startswith("Unnamed:") and kinds[c] == "empty"
        }
    )
    free = [c for c in columns if c not in ignored and c not in chosen]

    time = time_col or _pick_time(free, kinds, columns, source)
    free = [c for c in free if c != time]
    id_ = id_col or _pick_id(free, kinds, sample[time], source)
    free = [c for c in free if c != id_]
    # A column named like a target is the target even if its first rows hold stray text:
    # reading it then names the bad cell, which helps more than "no numeric column".
    named = [c for c in free if column_key(c) in TARGET_NAMES and c not in past + future]
    numeric = [c for c in free if kinds[c] in ("integer", "number", "empty") or c in named]
    for c in free:
        if c not in numeric:
            ignored[c] = "dates, not the time column" if kinds[c] == "datetime" else "not numeric"

    target = target_col
    if target is None:
        if len(named) > 1:
            raise _ambiguous(source, "target", named, "target_col")
        candidates = named or [c for c in numeric if c not in past + future]
        if len(candidates) == 1:
            target = candidates[0]
        elif not candidates:
            text = [c for c in free if kinds[c] == "text"]
            raise DataError(
                f"{source}: no numeric column to forecast among {columns}"
                f"{_text_examples(sample, text, decimal)}; the target must hold numbers "
                "(pass target_col= to name it)"
            )
        elif id_ is not None or covariates is not None:
            raise DataError(
                f"{source}: cannot tell which column is the target: {candidates} are all numeric; "
                "pass target_col= (one of them) and covariates= for those to keep as covariates"
            )
        else:  # no id column and several numeric columns: one series per column
            return Roles("wide", time, None, None, candidates, [], [], ignored, False)
    rest = [c for c in numeric if c != target]
    auto = covariates is None
    if auto:
        past = rest
    else:
        ignored.update({c: "not in covariates=" for c in rest if c not in past + future})
    layout = "long" if id_ is not None else "single"
    series = [] if id_ is not None else [target]
    return Roles(layout, time, id_, target, series, past, future, ignored, auto)


def series_by_row(sample: pd.DataFrame, kinds: dict[str, str]) -> bool:
    """True for the M3/M4 competitions' files: one series per row, an id first, then the
    values in columns numbered in order (``id,V1,V2,...`` or ``V1,V2,...`` with ``V1`` the
    id), with no time column. The ids may be numbers where the first column is named as an
    id column is (``id,V1,V2,...`` with ids 1, 2, ...)."""
    columns = list(sample.columns)
    if len(columns) < 3:
        return False
    first = kinds[columns[0]]
    if not (first == "text" or (first == "integer" and _named_as_id(columns[0]))):
        return False
    counted = [re.fullmatch(r"([A-Za-z_]*)(\d+)", c.strip()) for c in columns[1:]]
    if not all(counted) or len({m.group(1) for m in counted}) != 1:
        return False
    numbers = [int(m.group(2)) for m in counted]
    if numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        return False
    # A stray text cell may turn a short sample's column to "text": reading names it later.
    numeric = [kinds[c] in ("integer", "number", "empty") for c in columns[1:]]
    return "datetime" not in {kinds[c] for c in columns[1:]} and np.mean(numeric) >= 0.5


def _text_examples(sample: pd.DataFrame, columns: list[str], decimal: str) -> str:
    """Where the first non-numeric cell of each text column is, to show why it is text."""
    examples = []
    for c in columns:
        text = sample[c][_non_numeric(sample[c], decimal)]
        examples.append(f"{c!r} holds {text.iloc[0]!r} on line {text.index[0] + 2}")
    return " (" + "; ".join(examples) + ")" if examples else ""


def _covariate_lists(covariates: Any) -> tuple[list[str], list[str]]:
    if covariates is None:
        return [], []
    if isinstance(covariates, str):
        raise TypeError(f"covariates= takes a list of column names, got the string {covariates!r}")
    if isinstance(covariates, dict):
        unknown = set(covariates) - {"past", "future"}
        if unknown:
            raise TypeError(
                f"covariates= dict takes the keys 'past' and 'future', got {sorted(unknown)}"
            )
        return list(covariates.get("past", [])), list(covariates.get("future", []))
    return list(covariates), []


def _is_row_number(name: str, values: pd.Series, kind: str) -> bool:
    """An index column a DataFrame was saved with: unnamed or "No"/"index", counting by one."""
    if kind != "integer" or not (
        name.startswith("Unnamed:") or column_key(name) in _ROW_NUMBER_NAMES
    ):
        return False
    present = values[values.str.strip() != ""]  # blank lines
    return bool(np.all(np.diff(present.astype(np.int64).to_numpy()) == 1))


def _pick_time(free: list[str], kinds: dict[str, str], columns: list[str], source: str) -> str:
    named = [c for c in free if column_key(c) in TIME_NAMES]
    if len(named) > 1:
        raise _ambiguous(source, "time", named, "time_col")
    dated = named or [c for c in free if kinds[c] == "datetime"]
    if len(dated) > 1:
        raise _ambiguous(source, "time", dated, "time_col")
    if not dated:
        raise DataError(
            f"{source}: no time column: none is named ds, date, time, timestamp or datetime, and "
            f"none holds dates; pass time_col= (the columns are {columns})"
        )
    return dated[0]


def _named_as_id(name: str) -> bool:
    key = column_key(name)
    return key in ID_NAMES or key.endswith("_id")


def _pick_id(free: list[str], kinds: dict[str, str], times: pd.Series, source: str) -> str | None:
    named = [c for c in free if _named_as_id(c)]
    if len(named) > 1:
        raise DataError(
            f"{source}: cannot tell which column identifies the series: {named} all qualify; "
            "pass id_col= (one of them; to combine several, join them into one column first)"
        )
    if named:
        return named[0]
    text = [c for c in free if kinds[c] == "text" and column_key(c) not in TARGET_NAMES]
    stamps = times[times.str.strip() != ""]  # blank lines repeat nothing
    if len(text) == 1 and stamps.duplicated().any():  # repeated timestamps: several series
        return text[0]
    return None
