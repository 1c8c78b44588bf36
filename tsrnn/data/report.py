"""The data report: what :func:`tsrnn.read_csv` found in a file and what it did to it.

Reading a CSV makes many small decisions (which column is the time, which rows were merged,
which cells were read as missing). The report states every one of them, so that nothing is done
silently: the CLI's ``tsrnn info`` prints it and ``make demo`` writes it to a file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from tsrnn.data.frequency import Freq, is_tick, season_length, step_nanos
from tsrnn.data.panel import BuildStats, Panel, per_series_count

# Up to this many series are listed one by one in the Markdown summary; more are elided.
_LISTED_SERIES = 12
# The seasonality check looks at this many series at most (evenly spaced through the panel):
# enough for a stable median, cheap on a panel of thousands of series.
_ACF_SERIES = 200


@dataclass(frozen=True)
class SeriesSummary:
    """One series of the panel: where it starts and ends on the grid, and how much was seen."""

    id: str
    start: pd.Timestamp | int
    end: pd.Timestamp | int
    length: int  # grid points, gaps included
    observed: int  # grid points with an observed target value


@dataclass(frozen=True)
class DataReport:
    """What :func:`tsrnn.read_csv` read, inferred and changed; render it with ``str(report)``.

    Every inference (layout, columns, frequency) and every change to the data (gaps inserted,
    duplicates merged, cells read as missing, columns left out) is a field, so a user can check
    what was done instead of trusting it.

    Examples
    --------
    >>> import tempfile, pathlib, tsrnn
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "sales.csv"
    >>> _ = path.write_text("ds,y\\n2024-01-01,1\\n2024-01-02,NA\\n2024-01-04,3\\n")
    >>> report = tsrnn.read_csv(path)[1]
    >>> report.layout, report.freq, report.gaps_inserted, report.coerced_cells
    ('single', 'D', 1, {'y': 1})
    >>> print(report.to_markdown().splitlines()[0])
    # Data report: sales.csv
    """

    path: str
    layout: str  # "long" (id, time, value rows), "wide" (a column per series), "single" or
    # "rows" (a row per series, as the M3/M4 files: an id, then the values; no time column)
    delimiter: str
    decimal: str
    encoding: str  # "utf-8", "utf-16" (by its byte-order mark), or "latin-1" for other files
    id_col: str | None  # None unless long
    time_col: str
    target_col: str | None  # None for wide: each series column is its own target
    series_columns: tuple[str, ...]  # wide and single: the columns read as series
    past_covariates: tuple[str, ...]
    future_covariates: tuple[str, ...]
    ignored_columns: dict[str, str]  # column -> why it was left out
    rows: int  # data lines in the file, blank ones included
    blank_lines: int  # lines with no value at all, skipped
    n_series: int
    freq: Freq
    series_freqs: dict[str, Freq | None]  # per series, only when they differ (else empty)
    season_length: int  # steps per natural cycle of freq (1: none)
    seasonal_acf: float | None  # lag-season autocorrelation around a moving average (None:
    # no series spans three seasons)
    seasonality_confirmed: bool | None  # seasonal_acf above noise level (see _seasonality)
    gaps_inserted: int  # grid points added because their timestamp was not in the file
    missing_target_pct: float  # share of grid points without an observed target, in percent
    duplicates_merged: int  # identical repeated (series, time) rows merged into one
    coerced_cells: dict[str, int]  # per column: NA-marker cells ("NA", "", "-", ...) read as NaN
    constant_series: tuple[str, ...]  # series whose observed values are all equal
    series: tuple[SeriesSummary, ...] = field(repr=False)
    time_note: str = ""  # how the time column was read, when that was a decision (day-first
    # dates, differing UTC offsets); empty when the reading was plain
    nonnegative: bool = False  # every observed target value is >= 0
    compression: str | None = None  # "gzip", "bz2", "xz" or "zip": told by content, not name
    # (Parquet: the codec of its first column, "snappy", "zstd", ...)
    file_format: str = "csv"  # "csv" or "parquet"
    parts: int = 1  # files read: a folder of Parquet parts has several

    # ------------------------------------------------------------------ derived figures
    @property
    def length_min(self) -> int:
        return min(s.length for s in self.series)

    @property
    def length_median(self) -> float:
        return float(np.median([s.length for s in self.series]))

    @property
    def length_max(self) -> int:
        return max(s.length for s in self.series)

    @property
    def start(self) -> pd.Timestamp | int:
        return min(s.start for s in self.series)

    @property
    def end(self) -> pd.Timestamp | int:
        return max(s.end for s in self.series)

    # ------------------------------------------------------------------ renderings
    def to_dict(self) -> dict[str, Any]:
        """Every field as plain JSON types (timestamps as ISO strings).

        ``json.dumps(report.to_dict())`` always works.
        """
        out = {
            name: _plain(getattr(self, name))
            for name in self.__dataclass_fields__
            if name != "series"
        }
        out.update(
            length_min=self.length_min,
            length_median=self.length_median,
            length_max=self.length_max,
            start=_plain(self.start),
            end=_plain(self.end),
            series=[
                {k: _plain(getattr(s, k)) for k in s.__dataclass_fields__} for s in self.series
            ],
        )
        return out

    def series_frame(self) -> pd.DataFrame:
        """One row per series: ``id``, ``start``, ``end``, ``length``, ``observed``."""
        return pd.DataFrame(
            [s.__dict__ for s in self.series], columns=list(SeriesSummary.__dataclass_fields__)
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_markdown(self) -> str:
        """A short readable summary: a table of facts, then the series one per row."""
        name = self.path.replace("\\", "/").rsplit("/", 1)[-1]
        if self.layout == "rows":
            columns = f"one series per row, id `{self.id_col}`, its values in the columns after"
        elif self.layout == "long":
            columns = f"id `{self.id_col}`, time `{self.time_col}`, target `{self.target_col}`"
        else:
            shown = ", ".join(f"`{c}`" for c in self.series_columns[:6])
            more = len(self.series_columns) - 6
            columns = f"time `{self.time_col}`, series {shown}" + (
                f" (+{more})" if more > 0 else ""
            )
        packed = f", {self.compression}-compressed" if self.compression else ""
        if self.file_format == "parquet":
            parts = f", {self.parts:,} files" if self.parts > 1 else ""
            form = f"Parquet{packed}{parts}"
            markers = "nulls and NA markers"
            read = f"{self.rows:,} read"
        else:
            delim = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}[self.delimiter]
            decimal = "decimal comma" if self.decimal == "," else "decimal point"
            form = f"{delim}-delimited, {decimal}, {self.encoding}{packed}"
            read = f"{self.rows:,} read, {self.blank_lines:,} blank lines skipped"
            markers = "NA markers"
        freqs = ""
        if self.series_freqs:
            counts = pd.Series([str(v) for v in self.series_freqs.values()]).value_counts()
            freqs = " (series differ: " + ", ".join(f"{k} x{v}" for k, v in counts.items()) + ")"
        coerced = sum(self.coerced_cells.values())
        clock = any(
            isinstance(t, pd.Timestamp) and t != t.normalize()
            for s in self.series
            for t in (s.start, s.end)
        )
        rows = [
            ("layout", f"{self.layout}: {columns}"),
            ("format", form),
            ("rows", read),
            (
                "series",
                f"{self.n_series:,}; length {self.length_min:,} / {self.length_median:,.0f} / "
                f"{self.length_max:,} (min / median / max)",
            ),
            ("span", f"{_fmt(self.start, clock)} to {_fmt(self.end, clock)}"),
            *([("time column", self.time_note)] if self.time_note else []),
            ("frequency", f"`{self.freq}`{freqs}"),
            ("seasonality", self._seasonality_text()),
            ("gaps inserted", f"{self.gaps_inserted:,} missing timestamps added as NaN"),
            ("missing target", f"{self.missing_target_pct:.2f}% of grid points"),
            ("duplicates merged", f"{self.duplicates_merged:,} identical rows"),
            ("coerced cells", f"{coerced:,} {markers} read as NaN" + _per(self.coerced_cells)),
            ("past covariates", _names(self.past_covariates)),
            ("future covariates", _names(self.future_covariates)),
            (
                "ignored columns",
                ", ".join(f"`{c}` ({why})" for c, why in self.ignored_columns.items()) or "none",
            ),
            ("constant series", _names(self.constant_series, limit=10)),
            (
                "non-negative",
                "yes: every observed value is >= 0, so the networks keep their forecasts and "
                "intervals >= 0 (nonnegative=False turns it off)"
                if self.nonnegative
                else "no: some observed values are negative",
            ),
        ]
        lines = [f"# Data report: {name}", "", "| | |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in rows]
        lines += ["", "| series | start | end | length | missing |", "|---|---|---|---:|---:|"]
        for s in self.series[:_LISTED_SERIES]:
            missing = 100 * (1 - s.observed / s.length)
            lines.append(
                f"| {s.id} | {_fmt(s.start, clock)} | {_fmt(s.end, clock)} | {s.length:,} "
                f"| {missing:.1f}% |"
            )
        if self.n_series > _LISTED_SERIES:
            lines.append(f"| ... {self.n_series - _LISTED_SERIES:,} more | | | | |")
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.to_markdown()

    def _seasonality_text(self) -> str:
        if self.season_length <= 1 and isinstance(self.freq, (int, np.integer)):
            return (
                "none known: integer time steps carry no calendar; give the models the season "
                "(season=; the CLI's --season, e.g. 12 for monthly steps)"
            )
        if self.season_length <= 1:
            return "none expected for this frequency"
        text = f"season length {self.season_length}"
        if self.seasonal_acf is None:
            return text + " (series too short to check)"
        verdict = "confirmed" if self.seasonality_confirmed else "not visible in the data"
        return (
            f"{text}, {verdict} (lag-{self.season_length} autocorrelation {self.seasonal_acf:.2f})"
        )


def make_report(
    panel: Panel, stats: BuildStats, *, coerced_cells: dict[str, int], **found: Any
) -> DataReport:
    """Summarize a freshly read panel; ``found`` holds what the reader inferred (path, columns).

    ``stats`` is what :func:`~tsrnn.data.panel.build_panel` did to the rows; every grid point
    that is not one of those rows (duplicates merged) is a gap it inserted.
    """
    starts_at = panel.offsets[:-1]
    observed = per_series_count(panel.observed, panel.offsets)
    # a fresh panel's unobserved values are NaN, which fmin/fmax skip: no masked copy
    low = np.fmin.reduceat(panel.values, starts_at)
    high = np.fmax.reduceat(panel.values, starts_at)
    # plain lists first: indexing a DatetimeIndex 100,000 times took a second
    series = tuple(
        map(
            SeriesSummary,
            [str(i) for i in panel.ids],
            _scalars(panel.starts),
            _scalars(_ends(panel)),
            panel.lengths.tolist(),
            observed.tolist(),
        )
    )
    distinct = {v for v in stats.series_freqs.values() if v is not None}
    m = season_length(panel.freq)
    return DataReport(
        n_series=panel.n_series,
        freq=panel.freq,
        series_freqs=dict(stats.series_freqs) if len(distinct) > 1 else {},
        season_length=m,
        **_seasonality(panel, m),
        gaps_inserted=len(panel) - int(stats.rows.sum()),
        missing_target_pct=float(100 * (1 - panel.observed.mean())),
        duplicates_merged=stats.duplicates_merged,
        coerced_cells={k: v for k, v in coerced_cells.items() if v},
        constant_series=tuple(str(i) for i in panel.ids[low == high]),
        nonnegative=bool(panel.observed.any() and low.min() >= 0),
        series=series,
        **found,
    )


def _ends(panel: Panel) -> list[Any]:
    last = panel.lengths - 1
    if not panel.is_datetime:
        return list(panel.starts.to_numpy() + last * int(panel.freq))
    if is_tick(panel.freq):
        return list(panel.starts + pd.to_timedelta(last * step_nanos(str(panel.freq)), unit="ns"))
    offset = to_offset(panel.freq)
    return [start + int(n) * offset for start, n in zip(panel.starts, last, strict=True)]


def _seasonality(panel: Panel, m: int) -> dict[str, Any]:
    """Whether the cycle of ``m`` steps shows in the data: ``seasonal_acf`` and its verdict.

    Each series (up to ``_ACF_SERIES`` of those spanning three seasons) minus its centered
    moving average over one season, so that neither a trend nor slow wandering (a random walk)
    passes for a cycle, is correlated with itself ``m`` steps later, gaps skipped pairwise.
    The median over series is confirmed when above noise level: ``2 / sqrt(pairs)``, and at
    least 0.05.
    """
    none = {"seasonal_acf": None, "seasonality_confirmed": None}
    long_enough = np.flatnonzero(panel.lengths >= 3 * m + 1) if m > 1 else []
    if len(long_enough) == 0:
        return none
    pick = np.linspace(0, len(long_enough) - 1, min(_ACF_SERIES, len(long_enough)))
    acfs, pairs = [], []
    for i in long_enough[np.unique(pick.astype(int))]:
        x = panel.series_values(i).astype(np.float64)
        seen = np.isfinite(x)
        total = np.concatenate([[0], np.cumsum(np.where(seen, x, 0.0))])
        count = np.concatenate([[0], np.cumsum(seen)])
        half = m // 2
        lo = np.clip(np.arange(len(x)) - half, 0, None)
        hi = np.clip(np.arange(len(x)) + half + 1, None, len(x))
        with np.errstate(invalid="ignore", divide="ignore"):
            rest = (x - (total[hi] - total[lo]) / (count[hi] - count[lo]))[half : len(x) - half]
        a, b = rest[:-m], rest[m:]
        ok = np.isfinite(a) & np.isfinite(b)
        finite = rest[np.isfinite(rest)]
        if ok.sum() < 2 * m or finite.var() == 0:
            continue
        mu = finite.mean()
        acfs.append(np.mean((a[ok] - mu) * (b[ok] - mu)) / finite.var())
        pairs.append(ok.sum())
    if not acfs:
        return none
    acf = float(np.median(acfs))
    return {
        "seasonal_acf": acf,
        "seasonality_confirmed": bool(acf > max(0.05, 2 / np.sqrt(np.median(pairs)))),
    }


def _scalar(value: Any) -> pd.Timestamp | int:
    return value if isinstance(value, pd.Timestamp) else int(value)


def _scalars(values: Any) -> list[pd.Timestamp | int]:
    """Timestamps or ints of an index or list, as :func:`_scalar` makes one."""
    if isinstance(values, pd.DatetimeIndex):
        # each distinct timestamp boxed once: series mostly share their starts and ends
        codes, distinct = pd.factorize(values)
        boxed = list(distinct)
        return [boxed[c] for c in codes.tolist()]
    return [_scalar(v) for v in values]


def _plain(value: Any) -> Any:
    """A JSON type for a report value."""
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _fmt(value: Any, clock: bool) -> str:
    """A timestamp with its time of day only where the data have one (``clock``)."""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M" if clock else "%Y-%m-%d")
    return str(value)


def _names(names: tuple[str, ...], limit: int = 20) -> str:
    if not names:
        return "none"
    shown = ", ".join(f"`{n}`" for n in names[:limit])
    return shown + (f" (+{len(names) - limit} more)" if len(names) > limit else "")


def _per(counts: dict[str, int]) -> str:
    if not counts:
        return ""
    return " (" + ", ".join(f"`{k}`: {v:,}" for k, v in counts.items()) + ")"
