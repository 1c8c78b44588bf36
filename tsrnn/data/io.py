"""Reading a CSV file into a :class:`~tsrnn.Panel`, with a report of what was inferred and done.

:func:`read_csv` learns the file's format and its columns' roles from its first rows
(:mod:`tsrnn.data.layout`), reads only the columns it needs in compact dtypes, and hands the rows
to :func:`~tsrnn.data.panel.build_panel`, the one regularizer, a bounded batch of series at a
time, so that reading a large file costs little more memory than the finished panel. Rows
already sorted by series and time skip most of its work (:func:`~tsrnn.data.panel.build_sorted`).
Bad input raises :class:`~tsrnn.DataError` naming the file, the line (numbered as in a text
editor: the header is line 1), the column and the fix.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals
from pandas.tseries.frequencies import to_offset

from tsrnn.data.frequency import Freq
from tsrnn.data.layout import (
    NA_MARKERS,
    Format,
    Roles,
    TimeError,
    describe_parser_error,
    infer_kinds,
    infer_roles,
    locate_bad_number,
    parse_times,
    read_sample,
    series_by_row,
    sniff_format,
)
from tsrnn.data.panel import BuildStats, Panel, build_panel, build_sorted, common_freq
from tsrnn.data.report import DataReport, make_report
from tsrnn.errors import DataError

__all__ = ["DataReport", "NA_MARKERS", "read_csv"]

log = logging.getLogger(__name__)

_CHUNK_ROWS = 500_000  # rows parsed at a time: bounds the parser's own buffers
# Rows regularized per build_panel call, in batches of whole series. build_panel keeps about 50
# bytes a row of temporaries (int64 times, row order, grid positions) besides the frame it is
# given, so one call on a whole file costs far more than reading it. On 10M rows of 1,000 hourly
# series (`benchmarks/read_csv.py --batch-rows 0`), peak RSS: 890-930 MB with one call, 320-350
# MB with batches of 500k rows (about 345 at 1M, 380 at 2M); at 500k the reading sets the peak.
_BATCH_ROWS = 500_000


def read_csv(
    path: str | os.PathLike[str],
    id_col: str | None = None,
    time_col: str | None = None,
    target_col: str | None = None,
    freq: Freq | None = None,
    covariates: list[str] | dict[str, list[str]] | None = None,
    dayfirst: bool | None = None,
) -> tuple[Panel, DataReport]:
    """Read a CSV file (long, wide, single series, or one series per row) into a Panel, and
    report what was done.

    The delimiter (``,`` ``;`` tab ``|``) and a decimal comma (``;``-delimited files with
    values like ``1,5``) are detected; ``.gz``, ``.bz2`` and ``.xz`` files are read directly.
    Column roles are inferred as follows; any argument given wins over inference.

    - **time**: the column named ``ds``, ``date``, ``time``, ``timestamp``, ``datetime``,
      ``date_time``, ``time_stamp``, ``period``, ``step`` or ``time_idx`` (any case, spaces as
      ``_``), else the one column holding dates. Whole numbers are integer time steps
      (``yyyymmdd`` numbers are dates). Dates must share one format. Dates such as
      ``01/02/2024`` are read day-first when only that reading gives valid dates on a regular
      grid; when both readings do, ``dayfirst`` must say which. Differing UTC offsets (a
      change to summer time) are converted to UTC, except that timestamps all at one local
      time of day (daily data) keep their local dates; ``report.time_note`` says so.
    - **id** (long layout): the column named ``unique_id``, ``id``, ``series``, ``station``,
      ``site``, ``store``, ``item``, ``sensor``, ``location``, ``key``, ``name``, ``ticker``,
      ``symbol``, ``country``, ``region`` or ending in ``_id``; else, when timestamps repeat in
      the first rows and exactly one column holds text, that column.
    - **target**: the column named ``y``, ``value`` or ``target``, else the one numeric column
      left. Without an id column, a target found so (or given by ``target_col`` or found by
      elimination after ``covariates``) makes a **single** series named after its column;
      several numeric columns and none of those make a **wide** file: each column is a series,
      and empty cells before its first and after its last value are outside it.
    - **one series per row** (the M3/M4 competitions' files): when no role is given, the
      first column holds text ids and the others are numeric and named in counted order
      (``id,V1,V2,...``; ``V1,V2,...`` with ``V1`` the ids), each row is a series: its cells
      are integer time steps 1, 2, ... (the columns' numbers where the names are bare numbers,
      such as years), empty cells after its last value pad the row and are not part of it,
      empty cells before it are missing values. ``report.layout`` is ``"rows"``. Integer
      steps give no season: pass one to the models.
    - **covariates** (long and single): ``None`` makes every other numeric column a
      past-observed covariate; a list names the past-observed ones; ``{"past": [...],
      "future": [...]}`` also marks those known in advance. Numeric columns not named, text
      columns and saved row numbers (an unnamed, ``No`` or ``index`` column counting by one)
      are left out and listed in ``report.ignored_columns``.

    Cells of numeric columns equal to one of :data:`NA_MARKERS` (``""``, ``NA``, ``null``,
    ``nan``, ``-``, ``?``, ...) are read as missing and counted in ``report.coerced_cells``.
    Each series is regularized onto its grid (``freq``, inferred when not given): missing
    timestamps become ``NaN`` with ``observed`` False, identical duplicated rows are merged.
    Blank lines are skipped and counted; no other line is ever dropped. Errors cite lines as a
    text editor numbers them (the header is line 1).

    Parameters
    ----------
    path : str or path-like
        The CSV file.
    id_col, time_col, target_col : str, optional
        Column roles, overriding inference. Passing ``id_col`` makes the layout long.
    freq : str or int, optional
        The grid: a pandas alias (``"h"``, ``"D"``, ``"MS"``) or an integer step.
    covariates : list of str or dict, optional
        See above.
    dayfirst : bool, optional
        Read dates like ``01/02/2024`` as 1 February (True) or 2 January (False); default:
        the only reading that fits, else an error asking for this.

    Returns
    -------
    panel : Panel
    report : DataReport
        Layout, columns, lengths, span, frequency, gaps, missing values, duplicates, coerced
        cells, constant series, seasonality and ignored columns; ``str(report)`` is Markdown.

    Raises
    ------
    DataError
        For a missing, empty or malformed file, unknown or ambiguous columns, cells that are
        neither numbers nor NA markers, infinite values, unreadable or missing timestamps,
        conflicting duplicates, timestamps that fit no grid, and series with no value. The
        message names the file, line, column and series, and what to do.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "air.csv"
    >>> _ = path.write_text(
    ...     "station,ds,pm25,wd\\n"
    ...     "A,2024-01-01 00:00,10,NW\\nA,2024-01-01 01:00,11,NW\\nA,2024-01-01 03:00,12,NE\\n"
    ...     "B,2024-01-01 00:00,NA,SE\\nB,2024-01-01 01:00,7,SE\\n")
    >>> panel, report = read_csv(path)
    >>> report.layout, report.id_col, report.target_col, str(panel.freq)
    ('long', 'station', 'pm25', 'h')
    >>> panel.lengths.tolist(), report.gaps_inserted, report.coerced_cells
    ([4, 2], 1, {'pm25': 1})
    >>> report.ignored_columns
    {'wd': 'not numeric'}
    """
    fmt = sniff_format(path)
    sample = read_sample(fmt)
    kinds = infer_kinds(sample, fmt.decimal)
    asked = (id_col, time_col, target_col, covariates)
    by_row = all(a is None for a in asked) and series_by_row(sample, kinds)
    if by_row:
        table, roles = _read_rows(fmt, list(sample.columns))
    else:
        roles = infer_roles(
            sample, kinds, id_col, time_col, target_col, covariates, fmt.decimal, fmt.source
        )
        table = _read(fmt, roles, kinds, dayfirst)
        if len(table.lines) == 1 and freq is None:
            raise DataError(
                f"{fmt.source}: the file has one data row (line {table.lines[0]}): a series "
                "needs at least two points to have a frequency, and many more to forecast; add "
                "its history"
            )
    panel, report = panel_and_report(
        table,
        roles,
        freq,
        fmt.source,
        delimiter=fmt.sep,
        decimal=fmt.decimal,
        encoding=fmt.encoding,
        compression=fmt.compression,
    )
    if by_row:
        report = replace(report, layout="rows", time_col="(the column order)")
    return panel, report


def panel_and_report(
    table: _Table, roles: Roles, freq: Freq | None, source: str, **found: Any
) -> tuple[Panel, DataReport]:
    """What every reader does once it has the columns (:class:`_Table`): check ``freq``,
    regularize the series into a Panel and summarize it; ``found`` is what the reader alone
    knows of the file (its format)."""
    freq = _check_freq(freq, table.times, source)
    coerced = _coerced_cells(table, roles)
    try:
        panel, stats = _build(table, roles, freq, source)
    except DataError as err:
        raise _with_id_hint(err, table, roles) from None
    rows, blank, time_note = table.rows, table.blank, table.time_note
    del table  # the panel holds everything now; free the columns before summarizing
    report = make_report(
        panel,
        stats,
        coerced_cells=coerced,
        path=source,
        layout=roles.layout,
        id_col=roles.id if roles.layout == "long" else None,
        time_col=roles.time,
        target_col=roles.target,
        series_columns=tuple(roles.series),
        past_covariates=tuple(roles.past),
        future_covariates=tuple(roles.future),
        ignored_columns=roles.ignored,
        rows=rows,
        blank_lines=blank,
        time_note=time_note,
        **found,
    )
    log.info("read %s: %s", source, panel)
    return panel, report


# ---------------------------------------------------------------------- reading the columns
@dataclass
class _Table:
    """The columns a panel needs, compact: codes for id and time; numbers as ``float64``, the
    Panel's dtype, so that no digit of a value is lost between the file and the models."""

    lines: pd.Index  # (n,) file line of each row, for error messages
    time_codes: np.ndarray  # (n,) position in ``times``
    times: pd.Index  # distinct timestamps, parsed once each (DatetimeIndex or int64 Index)
    id_codes: np.ndarray  # (n,) position in ``ids`` (all 0 without an id column)
    ids: np.ndarray  # distinct series ids, str
    numbers: dict[str, np.ndarray]  # (n,) float64 per numeric column, NaN where missing
    rows: int  # data lines in the file, blank ones included
    blank: int  # blank lines skipped
    time_note: str = ""  # how the time column was read, when that was a decision
    row_name: str = "line"  # how errors number the rows: a CSV file's lines, a Parquet file's rows
    id_dtype: Any = None  # the ids' categorical dtype, made once (for all rows at once)

    def release(self) -> None:
        """Drop the row arrays, keeping the counts, once nothing needs the rows any more."""
        self.numbers = {}
        self.id_codes = self.time_codes = np.empty(0, dtype=np.int32)
        self.lines = pd.RangeIndex(0)


def _read(fmt: Format, roles: Roles, kinds: dict[str, str], dayfirst: bool | None) -> _Table:
    """Read the needed columns in chunks; check ids, timestamps and numbers line by line."""
    source = fmt.source
    long = roles.layout == "long"
    numeric = roles.numeric
    usecols = [roles.time, *([roles.id] if long else []), *numeric]
    time_parts: list[pd.Categorical] = []
    id_parts = _Parts(np.int32)
    id_table: dict[str, int] = {}
    number_parts = {c: _Parts(np.float64) for c in numeric}
    try:
        reader = fmt.read(
            decimal=fmt.decimal,
            usecols=usecols,
            # Each distinct timestamp string is kept once (a category), each id once (codes):
            # a 10M-row file of 1,000 series costs a few bytes a row, not two Python strings.
            # Ids are read as text because categories would turn "007" into 7.
            dtype={
                roles.time: "category",
                **({roles.id: object} if long else {}),
                **dict.fromkeys(numeric, "float64"),
            },
            na_values=dict.fromkeys(numeric, list(NA_MARKERS)),
            chunksize=_CHUNK_ROWS,
        )
        with reader, warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # overflow to inf: refused below
            for chunk in reader:
                time_parts.append(_as_text(chunk[roles.time].array))
                if long:
                    id_parts.append(_encode(chunk[roles.id].to_numpy(), id_table))
                for c in numeric:
                    number_parts[c].append(chunk[c].to_numpy())
                del chunk
    except pd.errors.ParserError as err:
        raise describe_parser_error(source, err) from err
    except UnicodeDecodeError as err:
        raise DataError(
            f"{source}: not {fmt.encoding} text past its first lines ({err.reason}); save it as UTF-8"
        ) from err
    except ValueError as err:  # a numeric column holds text: find the line to name it
        raise locate_bad_number(fmt, roles, err, _CHUNK_ROWS) from None

    time_cat = time_parts[0] if len(time_parts) == 1 else union_categoricals(time_parts)
    del time_parts
    numbers = {c: number_parts.pop(c).join() for c in numeric}
    if long:
        id_codes = id_parts.join()
        ids = np.fromiter(id_table, dtype=object, count=len(id_table))
    else:  # one series, named after its column; wide files name series by column instead
        id_codes = np.zeros(len(time_cat), dtype=np.int8)
        ids = np.asarray([roles.target or ""], dtype=object)
    del id_parts, id_table
    rows = len(time_cat)
    first = 2 + fmt.skip  # the header is line 1, or 2 after Excel's "sep=;" line
    lines: pd.Index = pd.RangeIndex(first, rows + first)

    # A blank line is a row with nothing in it; anything else must be complete.
    no_time = _is_empty(time_cat)
    no_id = id_codes == _code_of(ids, "") if long else np.zeros(rows, dtype=bool)
    blank = no_time & no_id if long else no_time.copy()
    for values in numbers.values():
        blank &= np.isnan(values)
    n_blank = int(blank.sum())
    if n_blank == rows:
        raise DataError(f"{source}: has a header but no data rows; add rows below the header")
    if n_blank:
        keep = ~blank
        lines, id_codes, no_time, no_id = lines[keep], id_codes[keep], no_time[keep], no_id[keep]
        time_cat = time_cat[keep].remove_unused_categories()
        numbers = {c: v[keep] for c, v in numbers.items()}
    if long:
        _refuse_missing(no_id, lines, f"no series id in column {roles.id!r}", source)
        _refuse_na_ids(ids, id_codes, lines, roles.id, source)
    _refuse_missing(no_time, lines, f"no timestamp in column {roles.time!r}", source)
    del no_time, no_id, blank
    steps = kinds[roles.time] in ("integer", "number")
    try:
        parsed = parse_times(time_cat.categories, steps, dayfirst)
    except TimeError as err:
        k = int(np.flatnonzero(time_cat.codes == err.position)[0])
        message = str(err)
        if err.other is not None:  # the line of the second example the message shows
            other = lines[int(np.flatnonzero(time_cat.codes == err.other)[0])]
            message = message.replace("{other}", str(other))
        raise DataError(f"{source}, line {lines[k]}, column {roles.time!r}: {message}") from None
    times, bad = parsed.index, parsed.bad
    if len(bad):
        k = int(np.flatnonzero(np.isin(time_cat.codes, bad))[0])
        what = "an integer time step" if steps else "a timestamp"
        zone = re.search(r"\s([A-Z]{2,5})$", str(time_cat[k]).strip())
        if zone and zone.group(1) not in ("AM", "PM"):
            what += (
                f" (the time-zone name {zone.group(1)} is not read: write a UTC offset such as "
                "+01:00, or none)"
            )
        raise DataError(
            f"{source}, line {lines[k]}, column {roles.time!r}: cannot read "
            f"{time_cat[k]!r} as {what}; write every timestamp in one format "
            "(e.g. 2024-01-31 or 2024-01-31 13:00) or pass time_col= if this is not the time"
        )
    for c, values in numbers.items():
        infinite = np.flatnonzero(np.isinf(values))
        if len(infinite):
            raise DataError(
                f"{source}, line {lines[infinite[0]]}, column {c!r}: infinite value (inf, or a "
                f"number beyond float64's range, about 1.8e308; {len(infinite)} such cell{'s' if len(infinite) != 1 else ''}); "
                "replace it with a finite number, or leave the cell empty for a missing value"
            )
    codes = np.asarray(time_cat.codes)
    return _Table(lines, codes, times, id_codes, ids, numbers, rows, n_blank, parsed.note)


ROWS_NOTE = (
    "one series per row (the M3/M4 files' layout): the first column holds the ids, the values "
    "follow in time order as integer steps (1, 2, ..., or the columns' numbers where they are "
    "bare numbers); the empty cells after a row's last value pad it, empty cells before that "
    "are missing values"
)


def _read_rows(fmt: Format, columns: list[str]) -> tuple[_Table, Roles]:
    """A file of one series per row (:func:`~tsrnn.data.layout.series_by_row`) as the long
    table of its cells: step ``k`` of a row is its ``k``-th value column."""
    source, id_name, value_names = fmt.source, columns[0], columns[1:]
    roles = Roles("long", "step", id_name, "value", [], [], [], {}, False)
    try:
        frame = fmt.read(
            decimal=fmt.decimal,
            dtype={id_name: object, **dict.fromkeys(value_names, "float64")},
            na_values=dict.fromkeys(value_names, list(NA_MARKERS)),
        )
    except pd.errors.ParserError as err:
        raise describe_parser_error(source, err) from err
    except ValueError as err:  # a value cell holds text: find the line to name it
        cells = Roles("wide", id_name, None, None, value_names, [], [], {}, False)
        raise locate_bad_number(fmt, cells, err, _CHUNK_ROWS) from None
    first = 2 + fmt.skip
    ids = frame[id_name].fillna("").astype(str).str.strip().to_numpy(dtype=object)
    values = frame[value_names].to_numpy(dtype=np.float64)
    seen = ~np.isnan(values)
    blank = (ids == "") & ~seen.any(axis=1)
    lines = np.arange(first, first + len(frame))
    _refuse_missing((ids == "") & ~blank, lines, f"no series id in column {id_name!r}", source)
    keep = ~blank
    ids, values, seen, lines = ids[keep], values[keep], seen[keep], lines[keep]
    if not len(ids):
        raise DataError(f"{source}: has a header but no data rows; add rows below the header")
    again = pd.Series(ids).duplicated()
    if again.any():
        k = int(np.flatnonzero(again.to_numpy())[0])
        before = lines[int(np.flatnonzero(ids == ids[k])[0])]
        raise DataError(
            f"{source}, line {lines[k]}: series {ids[k]!r} has a row already (line {before}); "
            "give each series one row"
        )
    infinite = np.argwhere(np.isinf(values))
    if len(infinite):
        r, c = infinite[0]
        raise DataError(
            f"{source}, line {lines[r]}, column {value_names[c]!r}: infinite value; replace it "
            "with a finite number, or leave the cell empty for a missing value"
        )
    empty = np.flatnonzero(~seen.any(axis=1))
    if len(empty):
        k = int(empty[0])
        raise DataError(
            f"{source}, line {lines[k]}: series {ids[k]!r} has no value; give it its values "
            f"or drop the row ({len(empty)} such row{'s' if len(empty) != 1 else ''})"
        )
    # A row ends at its last value; the empty cells after it pad the row to the file's width.
    ends = values.shape[1] - np.argmax(seen[:, ::-1], axis=1)
    inside = np.arange(values.shape[1])[None, :] < ends[:, None]
    row, step = np.nonzero(inside)
    table = _Table(
        lines=pd.Index(lines[row]),
        time_codes=step.astype(np.int32),
        times=pd.Index(np.arange(values.shape[1], dtype=np.int64) + _first_step(value_names)),
        id_codes=row.astype(np.int32),
        ids=ids,
        numbers={"value": values[row, step]},
        rows=len(frame),
        blank=int(blank.sum()),
        time_note=ROWS_NOTE,
    )
    return table, roles


def _first_step(names: list[str]) -> int:
    """The step of a row's first value: the number its column is named by where the names are
    bare numbers (years: ``country,1990,1991,...``), else 1 (``V1``, ``V2``, ...)."""
    first = names[0].strip()
    return int(first) if first.isdigit() else 1


def _as_text(cat: pd.Categorical) -> pd.Categorical:
    """Categories as strings: pandas infers numbers for all-numeric chunks, and chunks must agree."""
    if cat.categories.dtype == "str":
        return cat
    return cat.rename_categories(cat.categories.astype(str))


def _encode(values: np.ndarray, table: dict[str, int]) -> np.ndarray:
    """Codes of a chunk's ids in ``table``, adding ids not seen before (int32)."""
    codes, uniques = pd.factorize(values)
    known = np.fromiter(
        (table.setdefault(u, len(table)) for u in uniques), dtype=np.int32, count=len(uniques)
    )
    return known[codes]


def _code_of(ids: np.ndarray, value: str) -> int:
    hits = np.flatnonzero(ids == value)
    return int(hits[0]) if len(hits) else -1


def _is_empty(cat: pd.Categorical) -> np.ndarray:
    code = cat.categories.get_indexer([""])[0]
    return np.asarray(cat.codes == code) if code >= 0 else np.zeros(len(cat), dtype=bool)


def _refuse_missing(missing: np.ndarray, lines: pd.Index, what: str, source: str) -> None:
    rows = np.flatnonzero(missing)
    if len(rows):
        raise DataError(
            f"{source}, line {lines[rows[0]]}: {what} ({len(rows)} such lines); fill it in "
            "or remove the line"
        )


def _refuse_na_ids(
    ids: np.ndarray, codes: np.ndarray, lines: pd.Index, column: str, source: str
) -> None:
    """An id written as a missing-value marker (``NA``, ``null``, ...) is no id, as the same
    word is no value in the numeric columns: refuse its rows rather than make it a name."""
    markers = [k for k, name in enumerate(ids) if name != "" and name in NA_MARKERS]
    rows = np.flatnonzero(np.isin(codes, markers))
    if len(rows):
        word = ids[codes[rows[0]]]
        raise DataError(
            f"{source}, line {lines[rows[0]]}: series id {word!r} in column {column!r} is a "
            f"missing-value marker, as it is in the value columns ({len(rows)} such lines); "
            f"give those rows a real id (if {word!r} names a series, write it e.g. "
            f"{word + '_'!r})"
        )


def _check_freq(freq: Freq | None, times: pd.Index, source: str) -> Freq | None:
    """``freq`` checked against the time column; ``"5"`` (as a command line gives it) -> 5."""
    if freq is None:
        return None
    if not isinstance(times, pd.DatetimeIndex):
        if isinstance(freq, str) and freq.isdigit():
            freq = int(freq)
        if not isinstance(freq, int) or isinstance(freq, bool) or freq <= 0:
            raise DataError(
                f"{source}: the time column holds integer steps, so freq= must be a positive "
                f"integer, not {freq!r}"
            )
        return freq
    if isinstance(freq, int):
        raise DataError(
            f"{source}: freq={freq!r} is an integer step but the time column holds dates; pass "
            "a pandas alias such as 'h', 'D' or 'MS'"
        )
    try:
        to_offset(freq)
    except ValueError as err:
        raise DataError(
            f"{source}: freq={freq!r} is not a pandas frequency alias (e.g. 'h', 'D', 'W-SUN', "
            "'MS')"
        ) from err
    return freq


def _coerced_cells(table: _Table, roles: Roles) -> dict[str, int]:
    """NA-marker cells per numeric column (in a wide file, only those inside a series' span)."""
    if roles.layout != "wide":
        return {c: int(np.isnan(table.numbers[c]).sum()) for c in roles.numeric}
    spans = {c: _span(table.numbers[c]) for c in roles.series}
    return {c: int(np.isnan(table.numbers[c][span]).sum()) for c, span in spans.items()}


# ---------------------------------------------------------------------- building the panel
def _build(table: _Table, roles: Roles, freq: Freq | None, source: str) -> tuple[Panel, BuildStats]:
    """Regularize a batch of whole series at a time, then join the pieces.

    A batch whose own grid is not the one common to all series is built again on that grid.
    A batch that fails alone (its series fit no grid by themselves, say) sends all series
    through one call, which settles the grid, or words the error, exactly as for a small file.
    Long rows already sorted by series and time on one fixed grid skip all that.
    """
    if roles.layout != "wide":
        sorted_ = build_sorted(
            table.id_codes,
            table.ids,
            table.time_codes,
            table.times,
            table.numbers[roles.target],
            {c: table.numbers[c] for c in dict.fromkeys([*roles.past, *roles.future])},
            freq,
            tuple(roles.future),
        )
        if sorted_ is not None:
            table.release()  # the panel holds what it needs: free the rows before the report
            return sorted_
    batches = _batches(table, roles)
    rows = _batch_rows(table, batches) if roles.layout == "long" else [None] * len(batches)
    try:
        built = [
            _build_batch(table, roles, batch, freq, source, r)
            for batch, r in zip(batches, rows, strict=True)
        ]
    except DataError:
        if freq is not None or len(batches) == 1:
            raise  # on a given grid, a batch's error is the file's error
        log.info("%s: a batch failed alone; regularizing all series at once", source)
        return _build_batch(table, roles, None, freq, source)
    if len(built) == 1:
        return built[0]
    series_freqs = {k: v for _, stats in built for k, v in stats.series_freqs.items()}
    grid = freq if freq is not None else common_freq(series_freqs, source)
    built = [
        piece if piece[0].freq == grid else _build_batch(table, roles, batch, grid, source, r)
        for piece, batch, r in zip(built, batches, rows, strict=True)
    ]
    table.release()  # the pieces hold the data now: make room to join them
    stats = BuildStats(
        rows=np.concatenate([s.rows for _, s in built]),
        duplicates_merged=sum(s.duplicates_merged for _, s in built),
        series_freqs=series_freqs,
    )
    return Panel.concat([panel for panel, _ in built]), stats


def _batches(table: _Table, roles: Roles) -> list[Any]:
    """Whole series in id order (as build_panel sorts them), about ``_BATCH_ROWS`` rows each.

    ``[None]`` when all rows make one batch.
    """
    if roles.layout == "wide":
        names = sorted(roles.series)
        per = max(1, _BATCH_ROWS // len(table.lines))
        batches: list[Any] = [names[i : i + per] for i in range(0, len(names), per)]
    else:
        counts = count_codes(table.id_codes, len(table.ids))
        order = np.argsort(table.ids, kind="stable")
        order = order[counts[order] > 0]
        batch = (np.cumsum(counts[order]) - counts[order]) // _BATCH_ROWS
        batches = [order[batch == b] for b in np.unique(batch)]
    return batches if len(batches) > 1 else [None]


def _batch_rows(table: _Table, batches: list[Any]) -> list[Any]:
    """The rows of each batch of series, found once for all batches: a slice where the file
    holds each batch's series together (as a sorted file does), else the rows in file order
    from one stable sort. (Looking up each batch's rows in the whole file made reading
    100,000 series quadratic: 19 of its 34 s.)"""
    if batches == [None]:
        return [None]
    which = np.empty(len(table.ids), dtype=np.int16 if len(batches) < 2**15 else np.int32)
    for b, ids in enumerate(batches):
        which[ids] = b
    per_row = which[table.id_codes]
    if len(per_row) < 2 or bool(np.all(per_row[1:] >= per_row[:-1])):
        # needles of the rows' dtype: other ones would make searchsorted copy all rows to int64
        ends = np.searchsorted(per_row, np.arange(len(batches), dtype=per_row.dtype), side="right")
        starts = np.concatenate([[0], ends[:-1]])
        return [slice(int(a), int(b)) for a, b in zip(starts, ends, strict=True)]
    order = np.argsort(per_row, kind="stable")
    bounds = np.searchsorted(per_row[order], np.arange(len(batches) + 1, dtype=per_row.dtype))
    return [order[bounds[b] : bounds[b + 1]] for b in range(len(batches))]


def _build_batch(
    table: _Table,
    roles: Roles,
    batch: Any,
    freq: Freq | None,
    source: str,
    rows: Any = None,
) -> tuple[Panel, BuildStats]:
    """build_panel on the rows of some series (``None``: all; ``rows``: their rows, when
    known), indexed by file line."""
    if roles.layout == "wide":
        frame = _wide_frame(table, roles, sorted(roles.series) if batch is None else batch, source)
    else:
        frame = _long_frame(table, roles, batch, rows)
    return build_panel(
        frame,
        _id_name(roles),
        roles.time,
        "value" if roles.layout == "wide" else roles.target,
        freq,
        roles.past,
        roles.future,
        source=source,
        row_name=table.row_name,
    )


def _id_name(roles: Roles) -> str:
    if roles.id is not None:
        return roles.id
    taken = {roles.time, roles.target, *roles.past, *roles.future}
    return "unique_id" if "unique_id" not in taken else "__series__"


def _long_frame(
    table: _Table, roles: Roles, batch: np.ndarray | None, rows: Any = None
) -> pd.DataFrame:
    """The rows of some series; ids as a categorical, whose codes build_panel reuses."""
    if rows is None:
        rows = slice(None)
        if batch is not None:
            member = np.zeros(len(table.ids), dtype=bool)
            member[batch] = True
            rows = np.flatnonzero(member[table.id_codes])
    if batch is None:
        if table.id_dtype is None:  # made once: checking 100,000 categories takes time
            table.id_dtype = pd.CategoricalDtype(table.ids)
        codes, dtype = table.id_codes[rows], table.id_dtype
    else:  # the batch's own ids as the categories: build_panel then sorts those only
        local = np.full(len(table.ids), -1, dtype=np.int32)
        local[batch] = np.arange(len(batch), dtype=np.int32)
        codes, dtype = local[table.id_codes[rows]], pd.CategoricalDtype(table.ids[batch])
    columns = {
        _id_name(roles): pd.Categorical.from_codes(codes, dtype=dtype, validate=False),
        roles.time: table.times.take(table.time_codes[rows]),
    }
    for c in roles.numeric:
        columns[c] = table.numbers[c][rows]
    return pd.DataFrame(columns, index=table.lines[rows], copy=False)


def _wide_frame(table: _Table, roles: Roles, names: list[str], source: str) -> pd.DataFrame:
    """Long rows of wide columns; empty cells before and after a series are not part of it."""
    spans = [_span(table.numbers[c]) for c in names]
    for c, span in zip(names, spans, strict=True):
        if span.stop == 0:
            raise DataError(
                f"{source}: column {c!r} has no value (every cell is empty or an NA marker), so "
                f"series {c!r} would be empty; drop the column or fill it in"
            )
    rows = np.concatenate([np.arange(span.start, span.stop) for span in spans])
    return pd.DataFrame(
        {
            _id_name(roles): pd.Categorical.from_codes(
                np.repeat(np.arange(len(names)), [span.stop - span.start for span in spans]),
                categories=names,
            ),
            roles.time: table.times.take(table.time_codes[rows]),
            "value": np.concatenate(
                [table.numbers[c][span] for c, span in zip(names, spans, strict=True)]
            ),
        },
        index=table.lines[rows],
        copy=False,
    )


def _span(values: np.ndarray) -> slice:
    """A wide column's rows from its first value to its last (empty without a value)."""
    seen = np.flatnonzero(~np.isnan(values))
    return slice(int(seen[0]), int(seen[-1]) + 1) if len(seen) else slice(0, 0)


class _Parts:
    """A column read a chunk at a time. Chunks are joined into blocks of about ``_BLOCK``
    bytes as they come: small arrays come and go on the heap, which reuses their room, while
    a block is a mapping of its own that goes back to the system whole when freed, so that
    :meth:`join` can let each go as it is copied in."""

    def __init__(self, dtype: Any) -> None:
        self.dtype = dtype
        self.blocks: list[np.ndarray] = []
        self.parts: list[np.ndarray] = []
        self.size = 0

    def append(self, part: np.ndarray) -> None:
        self.parts.append(part)
        self.size += part.nbytes
        if self.size >= _BLOCK:
            self._seal()

    def _seal(self) -> None:
        if self.parts:
            self.blocks.append(np.concatenate(self.parts))
            self.parts, self.size = [], 0

    def join(self) -> np.ndarray:
        self._seal()
        if not self.blocks:
            return np.empty(0, dtype=self.dtype)
        return _join(self.blocks)


_BLOCK = 64 << 20


def _join(parts: list[np.ndarray]) -> np.ndarray:
    """``np.concatenate(parts)``, emptying ``parts`` as it goes: the result's pages are
    touched only as each part is copied in and let go, so the parts and the whole are never
    both held in full (a 50M-row column: 400 MB, not 800)."""
    out = np.empty(sum(len(p) for p in parts), dtype=parts[0].dtype if parts else np.float64)
    parts.reverse()
    at = 0
    while parts:
        part = parts.pop()
        out[at : at + len(part)] = part
        at += len(part)
        del part
    return out


def count_codes(codes: np.ndarray, n: int) -> np.ndarray:
    """``np.bincount(codes, minlength=n)`` a slice at a time: bincount turns small integer
    codes into int64 first, 400 MB for 50M rows at once."""
    counts = np.zeros(n, dtype=np.int64)
    step = 1 << 22
    for a in range(0, len(codes), step):
        counts += np.bincount(codes[a : a + step], minlength=n)
    return counts


def _with_id_hint(err: DataError, table: _Table, roles: Roles) -> DataError:
    """Repeated timestamps without an id column usually mean an id column was not recognized."""
    if roles.layout == "long" or count_codes(table.time_codes, len(table.times)).max() < 2:
        return err
    text = [c for c, why in roles.ignored.items() if why == "not numeric"]
    return DataError(
        f"{err}. If the file holds several series, name the column that identifies them with "
        "id_col=" + (f" (text columns: {text})" if text else "")
    )
