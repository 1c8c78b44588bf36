"""Reading Parquet into a :class:`~tsrnn.Panel`: the same roles, checks and report as a CSV file.

:func:`read_parquet` reads one Parquet file or a folder of Parquet parts (as Spark, Dask and
pandas write them; ``key=value`` folders give a column) with pyarrow, column by column: only
the columns a panel needs are read, series ids come back as dictionary codes, never as one
string per row, and each distinct timestamp is converted once. Column roles are inferred as
:func:`~tsrnn.read_csv` infers them, from the names and, for text columns, from the first
rows; typed columns say what they hold. From there the rows go through the same regularizer,
the same batches and the same data report as a CSV file's, and bad input raises the same
:class:`~tsrnn.DataError`, naming the file, the row (the first data row is row 1, across a
folder's parts in file-name order), the column and the fix.

pyarrow is the optional extra ``tsrnn[parquet]``; without it :func:`read_parquet` says how to
install it.
"""

from __future__ import annotations

import os
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tsrnn.data.frequency import Freq
from tsrnn.data.io import _Table, panel_and_report
from tsrnn.data.layout import (
    NA_MARKERS,
    Roles,
    TimeError,
    _kind,
    _number_hint,
    infer_roles,
    parse_times,
)
from tsrnn.data.panel import Panel
from tsrnn.data.report import DataReport
from tsrnn.errors import DataError
from tsrnn.machine import available_cores

__all__ = ["PARQUET_SUFFIXES", "is_parquet", "read_parquet"]


PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
_SAMPLE_ROWS = 200  # rows whose text tells a text column's kind (as read_csv's sample)
_EXACT = 2**53  # integers above this are not all float64 numbers


def is_parquet(path: str | os.PathLike[str]) -> bool:
    """A ``.parquet`` (``.pq``, ``.parq``) file, a file that begins as Parquet does (``PAR1``,
    whatever its name), or a folder holding Parquet files."""
    p = Path(path)
    if p.is_dir():
        return any(f.suffix.lower() in PARQUET_SUFFIXES for f in p.rglob("*") if f.is_file())
    if p.suffix.lower() in PARQUET_SUFFIXES:
        return True
    try:
        with p.open("rb") as f:
            return f.read(4) == b"PAR1"
    except OSError:
        return False


def read_parquet(
    path: str | os.PathLike[str],
    id_col: str | None = None,
    time_col: str | None = None,
    target_col: str | None = None,
    freq: Freq | None = None,
    covariates: list[str] | dict[str, list[str]] | None = None,
    dayfirst: bool | None = None,
) -> tuple[Panel, DataReport]:
    """Read a Parquet file, or a folder of Parquet parts, into a Panel, and report what was done.

    Takes the arguments of :func:`~tsrnn.read_csv` and infers the roles the same way: the
    long layout (an id, a time and a target column), a single series, or a wide file (one
    column per series). Typed columns need no guessing: integer and floating columns are
    numbers, timestamp and date columns are times (a time zone is converted to UTC), and
    integer time columns are time steps (``yyyymmdd`` numbers are dates). Text columns are
    read as a CSV file's cells: numbers written as text are numbers, ``NA`` and the other
    markers are missing. Nulls are missing values (counted in ``report.coerced_cells``).

    Raises
    ------
    DataError
        For a missing path, a file that is not Parquet (or is damaged), unknown or ambiguous
        columns, columns of the wrong type (text that is not a number, true/false values,
        integers beyond float64's exact range), missing ids or timestamps, infinite values,
        and everything :func:`~tsrnn.read_csv` refuses after reading. The message names the
        file, the row, the column and what to do.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pandas as pd
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "sales.parquet"
    >>> pd.DataFrame({
    ...     "store": ["A", "A", "A", "B", "B"],
    ...     "ds": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-04"] + ["2024-01-01", "2024-01-02"]),
    ...     "sales": [10.0, 11.0, 12.0, None, 7.0],
    ... }).to_parquet(path)
    >>> panel, report = read_parquet(path)
    >>> report.layout, report.id_col, report.target_col, str(panel.freq)
    ('long', 'store', 'sales', 'D')
    >>> panel.lengths.tolist(), report.gaps_inserted, report.coerced_cells
    ([4, 2], 1, {'sales': 1})
    """
    pa, ds = _pyarrow()
    source = str(path)
    dataset, files = _open(path, source, pa, ds)
    sample = _sample(dataset, source, pa)
    kinds = {c: _kind_of(dataset.schema.field(c).type, sample[c], pa) for c in sample.columns}
    roles = infer_roles(sample, kinds, id_col, time_col, target_col, covariates, ".", source)
    if roles.layout == "long" and pa.types.is_string(dataset.schema.field(roles.id).type):
        dataset = _dataset(files, Path(path), source, pa, ds, (roles.id,))
    table = _read(dataset, roles, kinds, dayfirst, source, pa)
    if len(table.lines) == 1 and freq is None:
        raise DataError(
            f"{source}: has one data row: a series needs at least two points to have a "
            "frequency, and many more to forecast; add its history"
        )
    return panel_and_report(
        table,
        roles,
        freq,
        source,
        delimiter="",
        decimal=".",
        encoding="",
        compression=_compression(files, pa),
        file_format="parquet",
        parts=len(files),
    )


# ---------------------------------------------------------------------- opening
def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.dataset as ds
    except ImportError:  # pragma: no cover - the extra is installed in development
        raise DataError(
            "reading Parquet needs pyarrow: pip install 'tsrnn[parquet]' (or pip install "
            "pyarrow), or save the data as CSV"
        ) from None
    return pa, ds


def _open(path: Any, source: str, pa: Any, ds: Any) -> tuple[Any, list[str]]:
    """The dataset of a file or a folder's parts (file-name order), and its files."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"{source}: no such file or folder; check the path")
    if p.is_dir():
        files = sorted(
            str(f) for f in p.rglob("*") if f.is_file() and f.suffix.lower() in PARQUET_SUFFIXES
        )
        if not files:
            raise DataError(
                f"{source}: the folder holds no .parquet files; point at a Parquet file or a "
                "folder of Parquet parts"
            )
    else:
        files = [str(p)]
    return _dataset(files, p, source, pa, ds), files


def _dataset(files: list[str], path: Path, source: str, pa: Any, ds: Any, text: tuple = ()) -> Any:
    """The files as one dataset; the ``text`` columns read as dictionaries (codes and the
    distinct strings, never one string per row)."""
    try:
        return ds.dataset(
            files,
            format=ds.ParquetFileFormat(read_options={"dictionary_columns": list(text)}),
            partitioning=ds.HivePartitioning.discover(infer_dictionary=True),
            partition_base_dir=str(path) if path.is_dir() else None,
        )
    except (pa.ArrowInvalid, OSError) as err:
        raise _unreadable(source, err) from None


def _unreadable(source: str, err: Exception) -> DataError:
    reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return DataError(
        f"{source}: not a readable Parquet file ({reason}); check that it was written "
        "completely, or read it with the tool that wrote it and save it again"
    )


def _sample(dataset: Any, source: str, pa: Any) -> pd.DataFrame:
    """The first rows as text, as read_csv's sample is: what infer_roles reads."""
    import pyarrow.parquet as pq

    columns = dataset.schema.names
    try:
        first = pq.ParquetFile(dataset.files[0])
        if first.schema_arrow.names == columns and first.metadata.num_rows:
            # the first rows of the first file: not a whole row group (a million rows)
            batch = next(first.iter_batches(batch_size=_SAMPLE_ROWS))
            head = pa.Table.from_batches([batch])
        else:  # key=value folders add columns that only the dataset knows
            head = dataset.head(_SAMPLE_ROWS)
    except (pa.ArrowInvalid, OSError) as err:
        raise _unreadable(source, err) from None
    if not columns:
        raise DataError(f"{source}: the file has no columns; write the data with its columns")
    if head.num_rows == 0:
        raise DataError(
            f"{source}: has columns ({', '.join(columns)}) but no rows; write the data rows"
        )
    twice = sorted({c for c in columns if columns.count(c) > 1})
    if twice:
        raise DataError(f"{source}: column names {twice} repeat; give each column its own name")
    frame = head.to_pandas()
    del head
    pa.default_memory_pool().release_unused()  # the first row group's pages
    text = {}
    for c in columns:
        values = frame[c]
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(object)
        text[c] = values.map(lambda v: "" if _missing(v) else str(v)).astype(str)
    return pd.DataFrame(text, index=pd.RangeIndex(len(frame)))


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT


def _kind_of(type_: Any, sample: pd.Series, pa: Any) -> str:
    """What a column holds, from its Parquet type; text columns as read_csv reads text."""
    t = pa.types
    if t.is_dictionary(type_):
        type_ = type_.value_type
    if t.is_integer(type_):
        return "integer"
    if t.is_floating(type_) or t.is_decimal(type_):
        return "number"
    if t.is_timestamp(type_) or t.is_date(type_):
        return "datetime"
    if t.is_null(type_):
        return "empty"
    if t.is_string(type_) or t.is_large_string(type_):
        return _kind(sample, ".")
    return "text"  # booleans, binary, lists, structs: not numbers nor times


def _compression(files: list[str], pa: Any) -> str | None:
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(files[0]).metadata
        codec = meta.row_group(0).column(0).compression if meta.num_row_groups else None
    except (pa.ArrowInvalid, OSError):
        return None
    return None if codec in (None, "UNCOMPRESSED") else str(codec).lower()


# ---------------------------------------------------------------------- reading the columns
def _read(
    dataset: Any, roles: Roles, kinds: dict[str, str], dayfirst: bool | None, source: str, pa: Any
) -> _Table:
    """The needed columns only, one at a time, each converted piece by piece (as the file's
    row groups come) into one array: ids and times as codes, numbers as float64 with NaN where
    missing. Each piece is let go once converted, so arrow holds at most one column."""
    long = roles.layout == "long"
    pool = pa.default_memory_pool()

    def take(name: str) -> Any:
        """One column's pieces, a row group at a time (Parquet reads each column's pages
        alone), in the files' order; the next groups are read on other threads meanwhile."""
        groups = (g for f in dataset.get_fragments() for g in f.split_by_row_group())

        def read(group: Any) -> list[Any]:
            return group.to_table(columns=[name], schema=dataset.schema).column(name).chunks

        try:
            for chunks in _read_ahead(read, groups, available_cores()):
                yield from chunks
        except (pa.ArrowInvalid, OSError) as err:
            raise _unreadable(source, err) from None
        pool.release_unused()  # hand back what arrow kept of the column's pages

    rows = dataset.count_rows()
    lines: pd.Index = pd.RangeIndex(1, rows + 1)

    numbers = {}
    for c in roles.numeric:
        numbers[c] = _numbers(take(c), rows, c, source, pa)
    if long:
        id_codes, ids = _ids(take(roles.id), rows, roles.id, source, pa)
    else:
        id_codes = np.zeros(rows, dtype=np.int8)
        ids = np.asarray([roles.target or ""], dtype=object)
    time_codes, times, note = _times(
        take(roles.time),
        dataset.schema.field(roles.time).type,
        rows,
        roles.time,
        kinds[roles.time],
        dayfirst,
        source,
        pa,
    )
    pool.release_unused()
    return _Table(lines, time_codes, times, id_codes, ids, numbers, rows, 0, note, "row")


def _read_ahead(read: Any, items: Any, workers: int) -> Any:
    """``read(item)`` for each item, in order, with up to ``workers`` reads running at once
    on threads (arrow lets go of the GIL while it decodes), never more ahead than that."""
    if workers <= 1:
        yield from map(read, items)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as threads:
        pending: deque[Any] = deque()
        for item in items:
            pending.append(threads.submit(read, item))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _pieces(chunks: Any) -> Any:
    """Each piece with the row it starts at (0-based)."""
    start = 0
    for piece in chunks:
        yield start, piece
        start += len(piece)


def _first_row(mask: np.ndarray, start: int = 0) -> int:
    """The 1-based row of the first true entry of ``mask``, a piece starting at ``start``."""
    return start + int(np.flatnonzero(mask)[0]) + 1


def _no_nulls(piece: Any, start: int, what: str, name: str, source: str) -> None:
    """Refuse a null id or timestamp, naming its row."""
    if piece.null_count:
        k = _first_row(np.asarray(piece.is_null().to_numpy(zero_copy_only=False)), start)
        raise DataError(
            f"{source}, row {k}: no {what} in column {name!r}; fill it in or remove the row"
        )


def _encode(
    chunks: Any, rows: int, keys: Any, pa: Any, refuse_nulls: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Codes of every row into a column's distinct values, and those values (as ``keys``
    makes them of a piece's dictionary, in order of first appearance). Each piece is
    dictionary-encoded alone (a stored dictionary is used as it is, once where pieces repeat
    it); one factorization of the pieces' dictionaries then unifies the codes.
    ``refuse_nulls(piece, start)`` checks each piece first."""
    local = np.empty(rows, dtype=np.int32)
    parts: list[np.ndarray] = []
    total = base = 0
    last = None
    for start, piece in _pieces(chunks):
        if refuse_nulls is not None:
            refuse_nulls(piece, start)
        if not pa.types.is_dictionary(piece.type):
            piece = piece.dictionary_encode()
        words = piece.dictionary
        if last is None or not words.equals(last):
            parts.append(keys(words))
            last, base = words, total
            total += len(words)
        into = local[start : start + len(piece)]
        into[:] = piece.indices.to_numpy(zero_copy_only=False)
        into += base
    if not parts:
        return local, np.zeros(0, dtype=object)
    which, distinct = pd.factorize(np.concatenate(parts), use_na_sentinel=False)
    which = _compact(which)
    if np.array_equal(which, np.arange(len(which))):
        # the pieces' values are new in each dictionary (or one dictionary serves all): the
        # codes are already the distinct values' positions
        return local.astype(which.dtype, copy=False), np.asarray(distinct)
    codes = np.empty(rows, dtype=which.dtype)
    step = 1 << 22
    for a in range(0, rows, step):  # the gather in slices: no second full-length int64 array
        # mode="wrap" (the codes are in range): "raise" and "clip" are 5 times slower
        np.take(which, local[a : a + step], out=codes[a : a + step], mode="wrap")
    return codes, np.asarray(distinct)


def _ids(chunks: Any, rows: int, name: str, source: str, pa: Any) -> tuple[np.ndarray, Any]:
    """Codes and the distinct ids as text; a null or empty id is refused."""

    def refuse(piece: Any, start: int) -> None:
        _no_nulls(piece, start, "series id", name, source)

    codes, distinct = _encode(chunks, rows, lambda w: w.to_numpy(zero_copy_only=False), pa, refuse)
    ids = np.asarray([str(v) for v in distinct], dtype=object)
    empty = np.flatnonzero(ids == "")
    if len(empty):
        raise DataError(
            f"{source}, row {_first_row(codes == empty[0])}: no series id in column {name!r} "
            "(an empty text); fill it in or remove the row"
        )
    return codes, ids


def _numbers(chunks: Any, rows: int, name: str, source: str, pa: Any) -> np.ndarray:
    """A value column as float64, NaN where null, piece by piece; refuses what is not a
    number."""
    values = np.empty(rows, dtype=np.float64)
    for start, piece in _pieces(chunks):
        values[start : start + len(piece)] = _number_piece(piece, start, name, source, pa)
    return values


def _number_piece(piece: Any, start: int, name: str, source: str, pa: Any) -> np.ndarray:
    t = pa.types
    type_ = piece.type.value_type if t.is_dictionary(piece.type) else piece.type
    if t.is_dictionary(piece.type):
        piece = piece.cast(type_)
    if t.is_integer(type_):
        values = (
            piece.to_numpy().astype(np.float64)
            if not piece.null_count
            else piece.cast(pa.float64()).to_numpy(zero_copy_only=False)
        )
        big = np.abs(values) > _EXACT
        if big.any():
            k = _first_row(big)
            raise DataError(
                f"{source}, row {start + k}, column {name!r}: the integer {int(values[k - 1])} is "
                "beyond 2**53, past which float64 (the values' type) cannot hold every integer; "
                "scale the column down (e.g. to thousands) so nothing is rounded"
            )
    elif t.is_floating(type_) or t.is_decimal(type_):
        values = piece.cast(pa.float64()).to_numpy(zero_copy_only=False)
    elif t.is_string(type_) or t.is_large_string(type_):
        values = _text_numbers(piece, start, name, source)
    elif t.is_null(type_):
        values = np.full(len(piece), np.nan)
    else:
        what = "true/false values" if t.is_boolean(type_) else f"values of type {type_}"
        raise DataError(
            f"{source}, column {name!r}: holds {what}, not numbers; write it as numbers (0 and "
            "1 for true/false), or leave it out with covariates= / target_col="
        )
    values = np.asarray(values, dtype=np.float64)
    infinite = np.isinf(values)
    if infinite.any():
        raise DataError(
            f"{source}, row {_first_row(infinite, start)}, column {name!r}: infinite value; "
            "replace it with a finite number, or leave it null for a missing value"
        )
    return values


def _text_numbers(piece: Any, start: int, name: str, source: str) -> np.ndarray:
    """Numbers written as text, read as a CSV cell is (NA markers are missing)."""
    encoded = piece.dictionary_encode()
    words = pd.Series(encoded.dictionary.to_pandas(), dtype=object)
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    stripped = words.str.strip()
    numbers = pd.to_numeric(stripped.where(~stripped.isin(NA_MARKERS)), errors="coerce")
    bad = np.flatnonzero(numbers.isna().to_numpy() & ~stripped.isin(NA_MARKERS).to_numpy())
    if len(bad):
        k = _first_row(np.isin(codes, bad))  # nulls are -1: never among them
        word = words.iloc[codes[k - 1]]
        raise DataError(
            f"{source}, row {start + k}, column {name!r}: {word!r} is not a number"
            f"{_number_hint(word)}; write numbers only, or leave the cell null for a missing value"
        )
    table = numbers.to_numpy(dtype=np.float64)
    out = np.full(len(codes), np.nan)
    seen = codes >= 0
    out[seen] = table[codes[seen]]
    return out


def _times(
    chunks: Any,
    type_: Any,
    rows: int,
    name: str,
    kind: str,
    dayfirst: bool | None,
    source: str,
    pa: Any,
) -> tuple[np.ndarray, pd.Index, str]:
    """Codes into the distinct times (parsed once each), and a note on how they were read."""
    t = pa.types

    def refuse(piece: Any, start: int) -> None:
        _no_nulls(piece, start, "timestamp", name, source)

    type_ = type_.value_type if t.is_dictionary(type_) else type_
    note = ""
    if t.is_timestamp(type_) and type_.tz is not None:
        note = f"timestamps in time zone {type_.tz} converted to UTC"
    if t.is_timestamp(type_) or t.is_date(type_):

        def nanoseconds(words: Any) -> np.ndarray:
            """The stored instants (UTC for a zone) as int64 nanoseconds."""
            try:
                stamps = words.cast(pa.timestamp("ns", tz=getattr(words.type, "tz", None)))
            except (pa.ArrowInvalid, OSError, ValueError) as err:
                raise DataError(
                    f"{source}, column {name!r}: a timestamp beyond 1677-09-21 to 2262-04-11, "
                    f"the range of nanosecond timestamps ({err}); correct it"
                ) from None
            return stamps.cast(pa.int64()).to_numpy(zero_copy_only=False)

        codes, distinct = _encode(chunks, rows, nanoseconds, pa, refuse)
        return codes, pd.DatetimeIndex(distinct.astype(np.int64).view("datetime64[ns]")), note
    codes, distinct = _encode(chunks, rows, lambda w: w.to_numpy(zero_copy_only=False), pa, refuse)
    if t.is_floating(type_):
        texts = pd.Index([f"{v:.17g}" for v in distinct], dtype=object)
    else:
        texts = pd.Index([str(v) for v in distinct], dtype=object)
    steps = kind in ("integer", "number") or t.is_integer(type_) or t.is_floating(type_)
    try:
        parsed = parse_times(texts.astype(str), steps, dayfirst)
    except TimeError as err:
        k = _first_row(codes == err.position)
        message = str(err)
        if err.other is not None:
            message = message.replace("{other}", str(_first_row(codes == err.other)))
        message = message.replace("line ", "row ")
        raise DataError(f"{source}, row {k}, column {name!r}: {message}") from None
    if len(parsed.bad):
        k = _first_row(np.isin(codes, parsed.bad))
        what = "an integer time step" if steps else "a timestamp"
        raise DataError(
            f"{source}, row {k}, column {name!r}: cannot read {texts[codes[k - 1]]!r} as "
            f"{what}; write every timestamp in one format (or store the column as a Parquet "
            "timestamp), or pass time_col= if this is not the time"
        )
    return codes, parsed.index, parsed.note or note


def _compact(codes: np.ndarray) -> np.ndarray:
    """Codes in the smallest integer type that holds them (int16 for under 32,768 distinct
    values: 500 timestamps of 50M rows take 100 MB, not 200)."""
    top = int(codes.max()) if len(codes) else 0
    return codes.astype(np.int16 if top < 2**15 else np.int32, copy=False)
