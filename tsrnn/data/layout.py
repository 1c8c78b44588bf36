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
_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


# ---------------------------------------------------------------------- the file's format
@dataclass(frozen=True)
class Format:
    """How a CSV file is written; :meth:`read` hands it to ``pandas.read_csv``."""

    file: Path
    source: str  # the path as the caller gave it, for messages
    sep: str
    decimal: str
    encoding: str

    def read(self, **options: Any) -> Any:
        """``pandas.read_csv`` in this format, blank lines kept: row ``i`` is line ``i + 2``."""
        return pd.read_csv(
            self.file,
            sep=self.sep,
            encoding=self.encoding,
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
    head, encoding = _head(file)
    if not head.strip():
        raise _empty(source)
    return Format(file, source, *_sniff(head, source), encoding)


def _head(file: Path) -> tuple[str, str]:
    """The first bytes of the file as text, and the encoding to read it with."""
    with _OPENERS.get(file.suffix.lower(), open)(file, "rb") as f:
        raw = f.read(_SNIFF_BYTES)
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as err:
        if err.start >= len(raw) - 3:  # a character cut in two at the end of the sample
            return raw[: err.start].decode("utf-8-sig"), "utf-8"
    # Not UTF-8: most likely a spreadsheet export in a Western code page, which latin-1 reads
    # byte for byte (numbers and ASCII names come out right whatever the real code page).
    log.warning("%s is not UTF-8; reading it as latin-1", file)
    return raw.decode("latin-1"), "latin-1"


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
        raise DataError(
            f"{source}: found a single column (tried the delimiters , ; tab |); a CSV needs a "
            "time column and at least one column of values, separated by one of those"
        )
    decimal = "."
    if best != ",":
        cells = [c.strip() for row in csv.reader(lines[1:], delimiter=best) for c in row]
        commas = sum(bool(re.fullmatch(r"[+-]?\d*,\d+", c)) for c in cells)
        points = sum(bool(re.fullmatch(r"[+-]?\d*\.\d+", c)) for c in cells)
        decimal = "," if commas > points else "."
    return best, decimal


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
                return DataError(
                    f"{fmt.source}, line {chunk.index[k] + 2}, column {c!r}: "
                    f"{chunk[c].iloc[k]!r} is not a number{mark}; clean that cell: write a "
                    f"number, or leave it empty (or NA) for a missing value{hint}"
                )
    return DataError(f"{fmt.source}: a column read as numbers ({columns}) holds text: {err}")


def parse_times(texts: pd.Index, steps: bool) -> tuple[pd.Index, np.ndarray]:
    """Parse each distinct time string once; return the parsed values and the unreadable ones.

    ``steps``: the column holds numbers, which must be whole time steps (``yyyymmdd`` integers
    are dates). Dates must share one format: the first value's, ISO 8601 (offsets converted
    to UTC if they differ), or day-first for values like ``31/01/2024``. Per-element guessing is
    never used: it would read a typo such as ``2024-13-01`` as the 13th of January.
    """
    none = np.empty(0, dtype=np.int64)
    if steps:
        numbers = pd.to_numeric(texts, errors="coerce")
        bad = np.flatnonzero(np.isnan(numbers) | (numbers != np.round(numbers)))
        if len(bad):
            return texts, bad
        if texts.str.fullmatch(r"\d{8}").all():
            dates = pd.to_datetime(texts, format="%Y%m%d", errors="coerce")
            if dates.notna().all():
                return dates, none
        return pd.Index(numbers.astype(np.int64)), none
    attempts: list[dict[str, Any]] = [{}, {"format": "ISO8601"}, {"format": "ISO8601", "utc": True}]
    if re.fullmatch(r"\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}.*", texts[0]):
        attempts.append({"dayfirst": True})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas warns about format guesses; we check results
        for kwargs in attempts:
            try:
                parsed = pd.DatetimeIndex(pd.to_datetime(texts, **kwargs))
            except (ValueError, TypeError, OverflowError):
                continue
            return parsed, np.flatnonzero(parsed.isna())  # "NaT", "NaN" parse to NaT
        for kwargs in attempts[:2]:  # name the values that break the format most values follow
            parsed = pd.DatetimeIndex(pd.to_datetime(texts, errors="coerce", utc=True, **kwargs))
            if parsed.notna().mean() >= 0.5:
                return parsed, np.flatnonzero(parsed.isna())
    return texts, np.arange(len(texts))


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


def _norm(name: str) -> str:
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
    free = [c for c in columns if c not in ignored and c not in chosen]

    time = time_col or _pick_time(free, kinds, columns, source)
    free = [c for c in free if c != time]
    id_ = id_col or _pick_id(free, kinds, sample[time], source)
    free = [c for c in free if c != id_]
    # A column named like a target is the target even if its first rows hold stray text:
    # reading it then names the bad cell, which helps more than "no numeric column".
    named = [c for c in free if _norm(c) in TARGET_NAMES and c not in past + future]
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
    if kind != "integer" or not (name.startswith("Unnamed:") or _norm(name) in _ROW_NUMBER_NAMES):
        return False
    present = values[values.str.strip() != ""]  # blank lines
    return bool(np.all(np.diff(present.astype(np.int64).to_numpy()) == 1))


def _pick_time(free: list[str], kinds: dict[str, str], columns: list[str], source: str) -> str:
    named = [c for c in free if _norm(c) in TIME_NAMES]
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


def _pick_id(free: list[str], kinds: dict[str, str], times: pd.Series, source: str) -> str | None:
    named = [c for c in free if _norm(c) in ID_NAMES or _norm(c).endswith("_id")]
    if len(named) > 1:
        raise DataError(
            f"{source}: cannot tell which column identifies the series: {named} all qualify; "
            "pass id_col= (one of them; to combine several, join them into one column first)"
        )
    if named:
        return named[0]
    text = [c for c in free if kinds[c] == "text" and _norm(c) not in TARGET_NAMES]
    stamps = times[times.str.strip() != ""]  # blank lines repeat nothing
    if len(text) == 1 and stamps.duplicated().any():  # repeated timestamps: several series
        return text[0]
    return None
