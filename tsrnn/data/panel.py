"""The Panel: many series on one regular grid, the one structure every model reads.

Users hand tsrnn long DataFrames (``unique_id``, ``ds``, ``y`` plus covariates), wide DataFrames,
a ``pd.Series`` or arrays; :func:`as_panel` turns any of them into a :class:`Panel`, and nothing
after that re-parses data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from tsrnn.data.frequency import (
    _DAY_NS,
    WEEKDAYS,
    Freq,
    infer_freq,
    is_tick,
    month_alias,
    step_nanos,
)
from tsrnn.errors import DataError

log = logging.getLogger(__name__)

ID, TIME, TARGET = "unique_id", "ds", "y"


@dataclass(eq=False)
class Panel:
    """Many series on one regular grid.

    Guarantees every model may rely on:

    - ``values`` is one contiguous ``float64`` array, series after series; series ``i`` occupies
      ``values[offsets[i]:offsets[i + 1]]``. Every step of the grid between a series' first and
      last timestamp is present: missing timestamps were inserted as ``NaN`` (regularized).
      The user's numbers are kept exactly as given (float64: 15-16 significant digits, so
      ``100000005.9`` stays ``100000005.9``); only the network's inputs are float32, cast
      where windows are gathered (:mod:`tsrnn.data.windows`).
    - ``observed`` is a ``bool`` array of the same shape, ``True`` exactly where a value was
      observed. Imputation fills ``values`` but never flips ``observed``, so a loss or metric can
      always mask out what was never seen.
    - Series are ragged: each has its own start (``starts[i]``) and length; no series is empty,
      each has at least one observed value, and every observed value is finite. Ids are unique
      strings (sorted when built from long or wide data; in the given order from arrays).
    - The grid is ``freq``: a pandas alias for datetime time, or a positive ``int`` step for
      integer time. Point ``t`` of series ``i`` is at ``starts[i] + t * freq``.
    - ``covariates`` is ``float64`` of shape ``(len(values), n_covariates)``, aligned row for
      row with ``values`` (``NaN`` where unobserved); ``covariate_names`` names its columns and
      ``future_covariates`` lists those known in advance (the others are past-observed only).
    - No per-window copies are ever held: windows are gathered from these arrays by index.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"unique_id": ["a", "a", "a", "b", "b"],
    ...                    "ds": pd.to_datetime(["2024-01-01 00:00", "2024-01-01 01:00",
    ...                                          "2024-01-01 03:00", "2024-01-01 00:00",
    ...                                          "2024-01-01 01:00"]),
    ...                    "y": [1.0, 2.0, 4.0, 5.0, 6.0]})
    >>> panel = Panel.from_long(df)
    >>> panel.freq, panel.lengths.tolist(), int(panel.observed.sum())
    ('h', [4, 2], 5)
    """

    values: np.ndarray
    observed: np.ndarray
    offsets: np.ndarray
    ids: np.ndarray
    starts: pd.Index
    freq: Freq
    covariates: np.ndarray = field(default=None)  # type: ignore[assignment]
    covariate_names: tuple[str, ...] = ()
    future_covariates: tuple[str, ...] = ()
    # What the user's columns were, so that frames handed back match them (``merge`` on
    # ``unique_id``/``ds`` works): the id column's dtype by name ("int64", "category", ...;
    # None: text) and the datetime resolution ("s", "ms", "us", "ns"; None: ns or integer steps).
    id_dtype: str | None = None
    time_unit: str | None = None

    def __post_init__(self) -> None:
        # float64 whatever arrives (a float32 array from a model file of an earlier version
        # widens exactly), so every model reads the user's numbers unrounded.
        self.values = np.ascontiguousarray(self.values, dtype=np.float64)
        self.observed = np.ascontiguousarray(self.observed, dtype=bool)
        self.offsets = np.asarray(self.offsets, dtype=np.int64)
        self.ids = np.asarray(self.ids, dtype=object)
        if self.covariates is None:
            self.covariates = np.empty((len(self.values), 0), dtype=np.float64)
        self.covariates = np.ascontiguousarray(self.covariates, dtype=np.float64)
        self.covariate_names = tuple(self.covariate_names)
        if isinstance(self.starts, pd.DatetimeIndex):  # positions are computed in nanoseconds
            self.starts = self.starts.as_unit("ns")
        self.future_covariates = tuple(self.future_covariates)
        n = len(self.values)
        if self.observed.shape != (n,) or self.offsets[-1] != n or self.offsets[0] != 0:
            raise ValueError("Panel: values, observed and offsets disagree in length")
        if np.any(np.diff(self.offsets) <= 0):
            raise ValueError("Panel: every series needs at least one point")
        if len(self.ids) != len(self.offsets) - 1 or len(self.starts) != len(self.ids):
            raise ValueError("Panel: ids, starts and offsets disagree in the number of series")
        if self.covariates.shape != (n, len(self.covariate_names)):
            raise ValueError("Panel: covariates must have one row per value, one column per name")
        unknown = set(self.future_covariates) - set(self.covariate_names)
        if unknown:
            raise ValueError(f"Panel: future covariates {sorted(unknown)} are not covariates")
        if len(set(self.ids.tolist())) != len(self.ids):
            raise DataError("Panel: series ids must be unique")
        empty = ~np.logical_or.reduceat(self.observed, self.offsets[:-1])
        if empty.any():
            raise DataError(
                f"series {list(self.ids[empty][:5])} have no observed value; drop those series "
                "or use a longer span"
            )
        wrong = ~np.isfinite(self.values)  # bool arrays: not a copy of the observed values
        wrong &= self.observed
        if wrong.any():
            bad = np.flatnonzero(wrong)[0]
            series = int(np.searchsorted(self.offsets, bad, side="right") - 1)
            raise DataError(
                f"series {self.ids[series]!r} has a non-finite observed value at position "
                f"{bad - self.offsets[series]}; mark it missing (NaN) or fix it"
            )

    # ------------------------------------------------------------------ shape and access
    @property
    def n_series(self) -> int:
        return len(self.ids)

    @property
    def lengths(self) -> np.ndarray:
        """Length of each series on the grid (gaps included), ``int64`` of shape ``(n_series,)``."""
        return np.diff(self.offsets)

    @property
    def is_datetime(self) -> bool:
        return isinstance(self.starts, pd.DatetimeIndex)

    @property
    def past_covariates(self) -> tuple[str, ...]:
        return tuple(c for c in self.covariate_names if c not in self.future_covariates)

    def __len__(self) -> int:
        return len(self.values)

    def __repr__(self) -> str:
        lengths = self.lengths
        return (
            f"Panel({self.n_series} series, freq={self.freq!r}, lengths {lengths.min()}"
            f"-{lengths.max()}, {1 - self.observed.mean():.1%} missing, "
            f"covariates={list(self.covariate_names)})"
        )

    @property
    def nbytes(self) -> int:
        """Bytes held by the panel's arrays (values, mask, offsets, covariates)."""
        arrays = (self.values, self.observed, self.offsets, self.covariates)
        return int(sum(a.nbytes for a in arrays))

    @property
    def _fixed_steps(self) -> bool:
        """Whether every step is the same number of nanoseconds, so times are arithmetic.

        Daily or longer steps in a time zone follow the wall clock across daylight saving, as
        :func:`pandas.date_range` does, so they are not fixed.
        """
        if not is_tick(self.freq) or not self.is_datetime:
            return False
        return self.starts.tz is None or step_nanos(str(self.freq)) < 86_400 * 10**9

    def positions_before(self, time: Any) -> np.ndarray:
        """How many points of each series lie strictly before ``time``, ``(n_series,) int64``.

        ``time`` is a timestamp (a naive one is read as wall-clock time in the data's zone) or
        an integer time. This is the per-series position of a forecast origin at ``time``.
        """
        lengths = self.lengths
        if not self.is_datetime:
            starts = self.starts.to_numpy()
            return np.clip(-((starts - int(time)) // int(self.freq)), 0, lengths)
        when = pd.Timestamp(time)
        tz = self.starts.tz
        if tz is not None and when.tz is None:
            when = when.tz_localize(tz)
        elif tz is None and when.tz is not None:
            raise DataError(f"time {time!r} has a time zone; the data has none")
        if self._fixed_steps:
            step = step_nanos(str(self.freq))
            return np.clip(-((self.starts.asi8 - when.as_unit("ns").value) // step), 0, lengths)
        return per_series_count(np.asarray(self.times() < when), self.offsets)

    def future_times(self, h: int) -> pd.Index:
        """The ``h`` timestamps after each series' end, series after series (``n_series * h``)."""
        if h < 1:
            raise ValueError(f"horizon must be >= 1, got {h}")
        lengths = self.lengths
        steps = np.tile(np.arange(h, dtype=np.int64), self.n_series) + np.repeat(lengths, h)
        if self.is_datetime:
            self._check_representable(h)
        else:
            return pd.Index(np.repeat(self.starts.to_numpy(), h) + steps * int(self.freq))
        if self._fixed_steps:
            ns = np.repeat(self.starts.asi8, h) + steps * step_nanos(str(self.freq))
            return _stamps(ns, self.starts.tz)
        series = np.repeat(np.arange(self.n_series, dtype=np.int64), h)
        ns = self._grid_nanos(series, steps, lengths + h - 1)
        if ns is None:
            ns = np.concatenate(
                [
                    self.time_index(i, h, shift=int(lengths[i])).as_unit("ns").asi8
                    for i in range(self.n_series)
                ]
            )
        return _stamps(ns, self.starts.tz)

    def _grid_nanos(
        self, series: np.ndarray, steps: np.ndarray, last: np.ndarray
    ) -> np.ndarray | None:
        """Nanoseconds of step ``steps[k]`` of series ``series[k]`` (its start is step 0; step
        ``last[s]`` the last asked of series ``s``) on a calendar grid (months, quarters,
        weeks, days in a time zone), read off one :func:`pandas.date_range` from the earliest
        start: a timestamp of the grid each, not one per point and series (12,000 monthly
        series of 216 points: 0.02 s instead of 16). None where a series' start is not on
        that grid, or the grid would be much longer than the points asked for (series spread
        thinly over centuries): then each series' own range gives the same times."""
        starts, freq = self.starts, self.freq
        first, latest = starts.min(), starts.max()
        try:
            pair = pd.date_range(first, periods=2, freq=freq)
            if pair[0] != first:  # the earliest start is not on the calendar's grid
                return None
            lead = (latest - first) / (pair[1] - pair[0])  # steps between the starts, about
            if lead > 2 * len(steps) + 10_000:
                return None
            ordinal = pd.date_range(first, latest, freq=freq).get_indexer(starts)
            if np.any(ordinal < 0):
                return None
            grid = pd.date_range(first, periods=int((ordinal + last).max()) + 1, freq=freq)
        except (ValueError, OverflowError):  # past pandas' dates: each series' range says so
            return None
        return grid.as_unit("ns").asi8[ordinal[series] + steps]

    def _check_representable(self, h: int) -> None:
        """DataError naming the first series whose ``h`` steps after its end pass the last
        timestamp pandas holds (2262-04-11), with the latest forecast date that fits."""
        limit = pd.Timestamp.max.value  # the last instant pandas holds, in UTC nanoseconds
        offset = pd.tseries.frequencies.to_offset(self.freq)

        def room(end: pd.Timestamp) -> int:  # steps after ``end`` that stay representable
            k, t = 0, end
            while k < h:
                try:  # pandas raises past the limit (in UTC, whatever the time zone)
                    t = t + offset
                    t.as_unit("ns")
                except (OverflowError, ValueError):  # OutOfBoundsDatetime is a ValueError
                    break
                k += 1
            return k

        if self._fixed_steps:
            left = (limit - self.starts.asi8.astype(float)) / step_nanos(str(self.freq))
            late = np.flatnonzero(left - (self.lengths - 1) < h + 1)
        else:
            # Candidates by the step's nominal length (a month: 31 days), checked exactly below.
            base = pd.Timestamp("2000-01-01")
            step_days = ((base + offset) - base) / pd.Timedelta(days=1)
            days_left = (limit - self.starts.asi8.astype(float)) / 86_400e9
            need = (self.lengths - 1 + h) * step_days * 1.1 + 31
            late = np.flatnonzero(need >= days_left)
        for i in late:
            end = self.time_index(int(i))[-1]
            fits = room(end)
            if fits < h:
                last = f"{end + fits * offset} (horizon {fits})" if fits else "none"
                raise DataError(
                    f"series {self.ids[i]!r} ends at {end}: {h} steps after it pass "
                    f"{pd.Timestamp.max.date()}, the last date pandas can hold; the last forecast date "
                    f"that fits is {last}: lower the horizon, or shift the series' dates"
                )

    def point_index(self) -> tuple[np.ndarray, np.ndarray]:
        """Series number and position within its series of every value, each ``(N,) int64``."""
        lengths = self.lengths
        series = np.repeat(np.arange(self.n_series, dtype=np.int64), lengths)
        return series, np.arange(len(self.values), dtype=np.int64) - self.offsets[series]

    def series_values(self, i: int) -> np.ndarray:
        """A view of series ``i``'s values."""
        return self.values[self.offsets[i] : self.offsets[i + 1]]

    def time_index(self, i: int, periods: int | None = None, shift: int = 0) -> pd.Index:
        """Timestamps of series ``i``: its own ``periods`` (default: its length) from ``shift``.

        ``time_index(i, h, shift=length)`` gives the ``h`` steps after the series' end.
        """
        n = int(self.lengths[i]) if periods is None else periods
        start = self.starts[i]
        if not self.is_datetime:
            return pd.Index(start + (shift + np.arange(n)) * int(self.freq), dtype=np.int64)
        if shift:
            start = pd.date_range(start, periods=shift + 1, freq=self.freq)[-1]
        return pd.date_range(start, periods=n, freq=self.freq)

    def times(self) -> pd.Index:
        """Timestamps of every value, aligned with ``values``."""
        lengths = self.lengths
        series, pos = self.point_index()
        if not self.is_datetime:
            return pd.Index(np.repeat(self.starts.to_numpy(), lengths) + pos * int(self.freq))
        if self._fixed_steps:
            ns = np.repeat(self.starts.asi8, lengths) + pos * step_nanos(str(self.freq))
            return _stamps(ns, self.starts.tz)
        ns = self._grid_nanos(series, pos, lengths - 1)
        if ns is None:
            ns = np.concatenate(
                [self.time_index(i).as_unit("ns").asi8 for i in range(self.n_series)]
            )
        return _stamps(ns, self.starts.tz)

    # ------------------------------------------------------------------ new panels from this one
    def replace(self, **changes: Any) -> Panel:
        """A copy with some fields replaced (arrays not replaced are shared, not copied)."""
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        fields.update(changes)
        return Panel(**fields)

    def to_state(self) -> dict[str, Any]:
        """The panel as plain data: numeric arrays, lists and strings (for a model file)."""
        return {
            "values": self.values,
            "observed": self.observed,
            "offsets": self.offsets,
            "covariates": self.covariates,
            "ids": self.ids.tolist(),
            "starts": index_state(self.starts),
            "freq": self.freq,
            "covariate_names": list(self.covariate_names),
            "future_covariates": list(self.future_covariates),
            "id_dtype": self.id_dtype,
            "time_unit": self.time_unit,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Panel:
        """The panel :meth:`to_state` described."""
        return cls(
            values=np.asarray(state["values"]),
            observed=np.asarray(state["observed"]),
            offsets=np.asarray(state["offsets"]),
            ids=np.asarray(state["ids"], dtype=object),
            starts=index_from_state(state["starts"]),
            freq=state["freq"],
            covariates=np.asarray(state["covariates"]),
            covariate_names=tuple(state["covariate_names"]),
            future_covariates=tuple(state["future_covariates"]),
            id_dtype=state.get("id_dtype"),  # model files before it: text ids
            time_unit=state.get("time_unit"),
        )

    def select(self, series: np.ndarray | list[int]) -> Panel:
        """The panel restricted to the series at the given positions, in that order."""
        idx = np.asarray(series, dtype=np.int64)
        rows = _ranges(self.offsets[idx], self.offsets[idx + 1])
        lengths = self.lengths[idx]
        return self.replace(
            values=self.values[rows],
            observed=self.observed[rows],
            covariates=self.covariates[rows],
            offsets=np.concatenate([[0], np.cumsum(lengths)]),
            ids=self.ids[idx],
            starts=self.starts[idx],
        )

    def span(self, series: np.ndarray, start: np.ndarray, end: np.ndarray) -> Panel:
        """Points ``[start[i], end[i])`` of the series at position ``series[i]``, as a new
        Panel (a backtest's history before a cutoff)."""
        sub = self.select(series)
        offsets = sub.offsets[:-1]
        count = np.asarray(end) - np.asarray(start)
        # rows offsets[i] + start[i] .. offsets[i] + end[i] - 1 of each series, in one array
        keep = np.repeat(offsets + start - np.cumsum(count) + count, count) + np.arange(count.sum())
        return sub.replace(
            values=sub.values[keep],
            observed=sub.observed[keep],
            covariates=sub.covariates[keep],
            offsets=np.concatenate([[0], np.cumsum(count)]),
            starts=sub.times()[offsets + start],
        )

    def drop_last(self, n: int | np.ndarray) -> Panel:
        """Each series without its last ``n`` points (per-series ``n`` allowed).

        This is how a forecast origin is set without leakage: what is dropped is invisible to
        everything fitted on the result. Series left with no observed value are an error.
        """
        drop = np.broadcast_to(np.asarray(n, dtype=np.int64), (self.n_series,))
        keep = self.lengths - drop
        if np.any(drop < 0) or np.any(keep < 1):
            short = self.ids[np.flatnonzero(keep < 1)][:5]
            raise DataError(f"drop_last: series {list(short)} would be left empty; use fewer steps")
        rows = _ranges(self.offsets[:-1], self.offsets[:-1] + keep)
        return self.replace(
            values=self.values[rows],
            observed=self.observed[rows],
            covariates=self.covariates[rows],
            offsets=np.concatenate([[0], np.cumsum(keep)]),
        )

    # ------------------------------------------------------------------ conversions
    @classmethod
    def from_long(
        cls,
        df: pd.DataFrame,
        id_col: str = ID,
        time_col: str = TIME,
        target_col: str = TARGET,
        freq: Freq | None = None,
        past_covariates: list[str] | tuple[str, ...] = (),
        future_covariates: list[str] | tuple[str, ...] = (),
    ) -> Panel:
        """Build from a long DataFrame: one row per (series, time), gaps become ``NaN``.

        ``freq`` is inferred when not given. Identical duplicated rows are merged (and logged);
        duplicates with different values raise :class:`~tsrnn.DataError`.
        """
        panel = build_panel(
            df, id_col, time_col, target_col, freq, past_covariates, future_covariates
        )[0]
        return panel.replace(id_dtype=id_dtype_of(df[id_col]), time_unit=_time_unit(df[time_col]))

    @classmethod
    def from_wide(cls, df: pd.DataFrame, freq: Freq | None = None) -> Panel:
        """Build from a wide DataFrame: the index is time, each column one series.

        Leading and trailing ``NaN`` of a column are not part of that series (ragged series).
        """
        long = df.rename_axis(index=TIME, columns=ID).stack(future_stack=True)
        long = long.rename(TARGET).reset_index()
        long = long[long[TARGET].notna()]
        if long.empty:
            raise DataError("wide DataFrame: no column has an observed value")
        panel = build_panel(long, ID, TIME, TARGET, freq)[0]
        return panel.replace(id_dtype=id_dtype_of(long[ID]), time_unit=_time_unit(df.index))

    @classmethod
    def from_series(cls, series: pd.Series, freq: Freq | None = None) -> Panel:
        """Build from a single ``pd.Series`` indexed by time; its name (or ``"y"``) is its id."""
        name = "y" if series.name is None else str(series.name)
        return cls.from_wide(series.to_frame(name), freq=freq)

    @classmethod
    def from_arrays(
        cls,
        arrays: np.ndarray | list[np.ndarray],
        ids: list[str] | None = None,
        starts: list[Any] | None = None,
        freq: Freq = 1,
    ) -> Panel:
        """Build from a 2-D array (one row per series) or a list of 1-D arrays, in that order.

        ``NaN`` marks missing values; leading and trailing ``NaN`` are not part of a series (a
        padded 2-D row), and a leading run moves that series' start forward. Without ``starts``
        every series starts at integer time 0 with step ``freq``.
        """
        rows = [np.asarray(a, dtype=np.float64).ravel() for a in arrays]
        ids_ = [str(i) for i in (ids if ids is not None else range(len(rows)))]
        if len(ids_) != len(rows):
            raise DataError(f"from_arrays: {len(rows)} series but {len(ids_)} ids")
        spans = [np.flatnonzero(~np.isnan(r)) for r in rows]
        empty = [ids_[i] for i, hit in enumerate(spans) if len(hit) == 0]
        if empty:
            raise DataError(f"from_arrays: series {empty[:5]} have no observed value")
        lead = np.array([hit[0] for hit in spans], dtype=np.int64)
        rows = [r[hit[0] : hit[-1] + 1] for r, hit in zip(rows, spans, strict=True)]
        if starts is None:
            starts = [0] * len(rows) if isinstance(freq, int) else None
            if starts is None:
                raise DataError("from_arrays: a datetime freq needs starts=")
        if isinstance(freq, int):
            starts_idx: pd.Index = pd.Index(np.asarray(starts, dtype=np.int64) + lead * freq)
        else:
            starts_idx = pd.DatetimeIndex(
                [
                    pd.date_range(start, periods=k + 1, freq=freq)[-1]
                    for start, k in zip(pd.DatetimeIndex(starts), lead, strict=True)
                ]
            )
        lengths = np.array([len(r) for r in rows], dtype=np.int64)
        values = np.concatenate(rows)
        return cls(
            values=values,
            observed=~np.isnan(values),
            offsets=np.concatenate([[0], np.cumsum(lengths)]),
            ids=np.asarray(ids_, dtype=object),
            starts=starts_idx,
            freq=freq,
        )

    @classmethod
    def concat(cls, panels: list[Panel]) -> Panel:
        """One panel from panels on the same grid with the same covariates, series appended.

        Series ids must be unique across the panels.
        """
        first = panels[0]
        for other in panels[1:]:
            if other.freq != first.freq or other.covariate_names != first.covariate_names:
                raise DataError(
                    f"Panel.concat: grids or covariates differ ({first.freq!r} "
                    f"{list(first.covariate_names)} vs {other.freq!r} "
                    f"{list(other.covariate_names)})"
                )
        lengths = np.concatenate([p.lengths for p in panels])
        return cls(
            values=np.concatenate([p.values for p in panels]),
            observed=np.concatenate([p.observed for p in panels]),
            offsets=np.concatenate([[0], np.cumsum(lengths)]),
            ids=np.concatenate([p.ids for p in panels]),
            starts=first.starts.append([p.starts for p in panels[1:]]),
            freq=first.freq,
            covariates=np.concatenate([p.covariates for p in panels]),
            covariate_names=first.covariate_names,
            future_covariates=first.future_covariates,
            id_dtype=first.id_dtype,
            time_unit=first.time_unit,
        )

    def sha256(self) -> str:
        """A SHA-256 of the data as read: ids, grid, start times, values, observed flags and
        covariates (what a report records when there is no input file to hash)."""
        import hashlib

        digest = hashlib.sha256()
        digest.update("\x1f".join(map(str, self.ids)).encode())
        digest.update(f"{self.freq}|{list(self.covariate_names)}".encode())
        starts = self.starts.asi8 if self.is_datetime else self.starts.to_numpy(np.int64)
        for array in (starts, self.offsets, self.values, self.observed, self.covariates):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()

    def as_given(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` (text ids, nanosecond times: how tsrnn works) with its ``unique_id`` and
        ``ds`` columns in the dtypes the user's data had: int ids stay ints, a ``datetime64[s]``
        column stays in seconds."""
        frame = frame.copy()
        if ID in frame and self.id_dtype is not None:
            frame[ID] = ids_as(frame[ID], self.id_dtype)
        if TIME in frame and self.time_unit not in (None, "ns"):
            times = frame[TIME]
            if pd.api.types.is_datetime64_any_dtype(times):
                frame[TIME] = times.dt.as_unit(self.time_unit)
        return frame

    def to_long(self, dropna: bool = False, observed_only: bool = False) -> pd.DataFrame:
        """Long DataFrame (``unique_id``, ``ds``, ``y`` plus covariates), with text ids and
        nanosecond times (:meth:`as_given` turns them back into the user's dtypes).

        ``observed_only`` keeps only observed points: the exact inverse of :meth:`from_long` for
        input without duplicates; ``dropna`` drops rows whose value is ``NaN`` (imputed values are
        kept). By default every grid point is a row, gaps as ``NaN``.
        """
        frame = pd.DataFrame(
            {
                ID: np.repeat(self.ids.astype(str), self.lengths),
                TIME: self.times(),
                TARGET: self.values,
            }
        )
        for j, name in enumerate(self.covariate_names):
            frame[name] = self.covariates[:, j]
        if observed_only:
            return frame[self.observed].reset_index(drop=True)
        if dropna:
            return frame[~np.isnan(self.values)].reset_index(drop=True)
        return frame

    def to_wide(self) -> pd.DataFrame:
        """Wide DataFrame: index time, one column per series, ``NaN`` outside a series' span."""
        long = self.to_long()
        wide = long.pivot(index=TIME, columns=ID, values=TARGET)
        wide.columns.name = None
        return wide[list(self.ids)]


def standard_columns(
    data: Any,
    id_col: str | None = None,
    time_col: str | None = None,
    target_col: str | None = None,
) -> Any:
    """A long DataFrame with its id, time and target columns renamed ``unique_id``, ``ds`` and
    ``y``: those named here, else the one column whose name says it (``id``, ``series``,
    ``store``...; ``time``, ``date``, ``timestamp``...; ``value``, ``target``), as
    :func:`tsrnn.read_csv` recognises them. Anything else passes unchanged."""
    given = {ID: id_col, TIME: time_col, TARGET: target_col}
    if not isinstance(data, pd.DataFrame):
        if any(v is not None for v in given.values()):
            raise DataError(
                f"id_col=, time_col= and target_col= name columns of a long DataFrame; got a "
                f"{type(data).__name__}"
            )
        return data
    from tsrnn.data.layout import ID_NAMES, TARGET_NAMES, TIME_NAMES, column_key

    columns = list(data.columns)
    for role, name in given.items():
        if name is not None and name not in columns:
            argument = {ID: "id_col", TIME: "time_col", TARGET: "target_col"}[role]
            raise DataError(f"no column {name!r} ({argument}=); the columns are {columns}")
    if all(v is None for v in given.values()) and {ID, TIME, TARGET} <= set(columns):
        return data
    names = {ID: ID_NAMES, TIME: TIME_NAMES, TARGET: TARGET_NAMES}
    rename = {}
    for role, name in given.items():
        if name is None and role not in columns:
            found = [c for c in columns if column_key(str(c)) in names[role]]
            name = found[0] if len(found) == 1 else None
        if name is not None and name != role:
            rename[name] = role
    if not rename:
        return data
    frame = data.rename(columns=rename)
    if not {TIME, TARGET} <= set(frame.columns):  # not long after all: leave it to the caller
        return data
    return frame


def as_panel(
    data: Any,
    freq: Freq | None = None,
    *,
    id_col: str | None = None,
    time_col: str | None = None,
    target_col: str | None = None,
) -> Panel:
    """Turn whatever a user passed (Panel, long or wide DataFrame, Series, array) into a Panel.

    A DataFrame with ``unique_id``, ``ds`` and ``y`` columns is long format (other names: pass
    ``id_col=``, ``time_col=``, ``target_col=``, or use names like ``id``, ``time``, ``value``
    that say the role, see :func:`standard_columns`); its other numeric columns become
    past-observed covariates. Any other DataFrame is wide (index = time).
    """
    if isinstance(data, Panel):
        return data
    data = standard_columns(data, id_col, time_col, target_col)
    if isinstance(data, pd.Series):
        return Panel.from_series(data, freq=freq)
    if isinstance(data, pd.DataFrame):
        if {TIME, TARGET} <= set(data.columns) and ID not in data.columns:
            data = data.assign(**{ID: TARGET})  # one series, long: its id is "y"
        if {ID, TIME, TARGET} <= set(data.columns):
            extra = [
                c
                for c in data.columns
                if c not in (ID, TIME, TARGET) and pd.api.types.is_numeric_dtype(data[c])
            ]
            return Panel.from_long(data, freq=freq, past_covariates=extra)
        text = [c for c in data.columns if not pd.api.types.is_numeric_dtype(data[c])]
        if text:  # a wide frame holds numbers only: this is long data with other names
            raise DataError(
                f"the DataFrame has no {ID}, {TIME} and {TARGET} columns, and column "
                f"{text[0]!r} is not numeric, so it is not wide (one column per series) either: "
                f"name the long format's columns with id_col=, time_col= and target_col= "
                f"(columns: {list(data.columns)})"
            )
        return Panel.from_wide(data, freq=freq)
    if isinstance(data, np.ndarray | list):
        arrays = [data] if np.ndim(data) == 1 else data  # a 1-D array is one series
        return Panel.from_arrays(arrays, freq=freq if freq is not None else 1)
    raise DataError(
        f"cannot make a Panel from {type(data).__name__}: pass a long DataFrame "
        f"({ID}, {TIME}, {TARGET}), a wide DataFrame, a pd.Series or a numpy array"
    )


# ---------------------------------------------------------------------- building from long rows
@dataclass(frozen=True)
class BuildStats:
    """What regularizing long rows onto the grid did, for the data report."""

    rows: np.ndarray  # (n_series,) rows given per series
    duplicates_merged: int  # identical (id, time) rows merged into one
    series_freqs: dict[str, Freq | None]  # frequency inferred per series (None: too short)


def build_panel(
    df: pd.DataFrame,
    id_col: str = ID,
    time_col: str = TIME,
    target_col: str = TARGET,
    freq: Freq | None = None,
    past_covariates: list[str] | tuple[str, ...] = (),
    future_covariates: list[str] | tuple[str, ...] = (),
    source: str = "the DataFrame",
    row_name: str = "row",
) -> tuple[Panel, BuildStats]:
    """Regularize long rows onto one grid, vectorized; also return what that did.

    ``source`` and ``row_name`` word the errors (``read_csv`` passes the file and ``"line"``;
    the DataFrame's index labels are what errors cite as rows).
    """
    missing = [c for c in (id_col, time_col, target_col) if c not in df.columns]
    if missing:
        raise DataError(
            f"{source}: missing column(s) {missing}; columns are {list(df.columns)}. "
            "Name the id, time and target columns (id_col=, time_col=, target_col=)."
        )
    covs = list(past_covariates) + [c for c in future_covariates if c not in past_covariates]
    absent = [c for c in covs if c not in df.columns]
    if absent:
        raise DataError(f"{source}: covariate column(s) {absent} not found")
    if df.empty:
        raise DataError(f"{source}: no rows")

    codes, ids = _id_codes(df[id_col])
    times = df[time_col]
    is_dt = pd.api.types.is_datetime64_any_dtype(times)
    if not is_dt and not pd.api.types.is_integer_dtype(times):
        raise DataError(
            f"{source}: time column {time_col!r} is {times.dtype}, not datetime or integer; "
            "parse it first (pd.to_datetime) or use tsrnn.read_csv"
        )
    if is_dt:
        times = pd.DatetimeIndex(times).as_unit("ns")
        tz = times.tz
        t = times.asi8
    else:
        tz = None
        t = times.to_numpy(dtype=np.int64)
    y = pd.to_numeric(df[target_col], errors="raise").to_numpy(dtype=np.float64)
    cov = df[covs].to_numpy(dtype=np.float64) if covs else np.empty((len(t), 0), np.float64)

    # Rows usually arrive sorted by series and time; only a file that is not pays for a sort.
    # `order` maps back to the input rows, which is how errors cite a row label.
    step_back = (codes[1:] < codes[:-1]) | ((codes[1:] == codes[:-1]) & (t[1:] < t[:-1]))
    if step_back.any():
        order = np.lexsort((t, codes))
        codes, t, y, cov = codes[order], t[order], y[order], cov[order]
    else:
        order = np.arange(len(t))
    del step_back

    def label(k: int) -> Any:
        return df.index[order[k]]

    # Duplicated (series, time): merge identical rows, refuse conflicting ones.
    dup = np.zeros(len(t), dtype=bool)
    dup[1:] = (codes[1:] == codes[:-1]) & (t[1:] == t[:-1])
    merged = int(dup.sum())
    if merged:
        cur = np.flatnonzero(dup)
        prev = cur - 1
        same = _same(y[cur], y[prev]) & np.all(_same(cov[cur], cov[prev]), axis=1)
        if not same.all():
            k = np.flatnonzero(~same)[0]
            when = _fmt_time(t[cur[k]], is_dt, tz)
            raise DataError(
                f"{source}: series {ids[codes[cur[k]]]!r} has two different values at {when} "
                f"({row_name}s {label(prev[k])} and {label(cur[k])}); keep one row per "
                "series and time (aggregate or deduplicate first)"
            )
        keep = ~dup
        codes, t, y, cov, order = codes[keep], t[keep], y[keep], cov[keep], order[keep]
    del dup

    first = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    bounds = np.r_[first, len(t)]
    series_freqs = _series_freqs(ids, t, bounds, is_dt, tz)
    grid = freq if freq is not None else common_freq(series_freqs, source)
    pos = _positions(t, codes, first, grid, is_dt, tz, ids, label, source, row_name)

    lengths = pos[bounds[1:] - 1] + 1  # rows are sorted: a series' last row is its last point
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    at = offsets[codes] + pos
    values = np.full(offsets[-1], np.nan, dtype=np.float64)
    values[at] = y
    covariates = np.full((offsets[-1], len(covs)), np.nan, dtype=np.float64)
    covariates[at] = cov
    observed = ~np.isnan(values)
    empty = ~np.logical_or.reduceat(observed, offsets[:-1])
    if empty.any():
        raise DataError(
            f"{source}: series {list(ids[empty][:5])} have no observed value in {target_col!r}; "
            "drop them or fill their target"
        )
    starts = _stamps(t[first], tz) if is_dt else pd.Index(t[first], dtype=np.int64)
    if merged:
        log.info("%s: merged %d identical duplicated rows", source, merged)
    panel = Panel(
        values=values,
        observed=observed,
        offsets=offsets,
        ids=ids,
        starts=starts,
        freq=grid,
        covariates=covariates,
        covariate_names=tuple(covs),
        future_covariates=tuple(future_covariates),
    )
    stats = BuildStats(rows=np.diff(bounds), duplicates_merged=merged, series_freqs=series_freqs)
    return panel, stats


def id_dtype_of(column: pd.Series) -> str | None:
    """The id dtype :meth:`Panel.as_given` restores: integers, floats and categories by name;
    None for text (tsrnn's own form) and anything else."""
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):  # categories of numbers stay numbers
        inner = dtype.categories.dtype
        numeric = pd.api.types.is_integer_dtype(inner) or pd.api.types.is_float_dtype(inner)
        return f"category[{inner}]" if numeric else "category"
    if pd.api.types.is_bool_dtype(dtype):
        return None
    if pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_float_dtype(dtype):
        return str(dtype)
    return None


def _time_unit(times: Any) -> str | None:
    """The resolution of a datetime column or index ("s", "us", ...); None for integer steps."""
    return pd.DatetimeIndex(times[:1]).unit if times.dtype.kind == "M" else None


def ids_as(ids: pd.Series, name: str) -> pd.Series:
    """Text ids back in the dtype called ``name`` (left as text if they do not convert: ids
    of another frame given to ``predict(y=...)``, say)."""
    try:
        if name == "category":
            return ids.astype("category")
        if name.startswith("category["):
            return ids_as(ids, name[len("category[") : -1]).astype("category")
        return ids.astype(name) if "int" not in name.lower() else ids.astype(np.int64).astype(name)
    except (TypeError, ValueError):
        return ids


def _id_codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``int32`` codes in sorted-id order and the sorted ids, reusing a categorical's codes."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        cats = column.cat.categories.astype(str)
        rank = np.argsort(np.argsort(np.asarray(cats, dtype=object), kind="stable"))
        codes = column.cat.codes.to_numpy()
        if (codes < 0).any():
            raise DataError("series id column has empty cells; every row needs a series id")
        used = np.unique(codes)
        # Sorted ids of the categories in use, and each row's position among them.
        by_rank = np.empty(len(cats), dtype=np.int64)
        by_rank[rank] = np.arange(len(cats))
        kept = np.sort(rank[used])
        remap = np.full(len(cats), -1, dtype=np.int32)
        remap[by_rank[kept]] = np.arange(len(kept), dtype=np.int32)
        return remap[codes], np.asarray(cats, dtype=object)[by_rank[kept]]
    codes, uniques = pd.factorize(column.astype(str), sort=True)
    return codes.astype(np.int32), np.asarray(uniques, dtype=object)


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a == b) | (np.isnan(a) & np.isnan(b))


def _stamps(ns: np.ndarray, tz: Any) -> pd.DatetimeIndex:
    """Timestamps from UTC nanoseconds, in the data's time zone."""
    stamps = pd.DatetimeIndex(ns.view("datetime64[ns]"))
    return stamps.tz_localize("UTC").tz_convert(tz) if tz is not None else stamps


def _fmt_time(value: int, is_dt: bool, tz: Any) -> str:
    return str(_stamps(np.array([value]), tz)[0]) if is_dt else str(value)


def _series_freqs(
    ids: np.ndarray, t: np.ndarray, bounds: np.ndarray, is_dt: bool, tz: Any
) -> dict[str, Freq | None]:
    """Each series' grid (:func:`~tsrnn.data.frequency.infer_freq`), for all series at once
    where that gives the same answer, else one series at a time."""
    out = _steady_freqs(ids, t, bounds, is_dt, tz)
    if out is not None:
        return out
    out = _calendar_freqs(ids, t, bounds) if is_dt and tz is None else {}
    for i in range(len(ids)):
        if ids[i] not in out:
            chunk = t[bounds[i] : bounds[i + 1]]
            out[ids[i]] = infer_freq(_stamps(chunk, tz) if is_dt else chunk)
    return out


def _calendar_freqs(ids: np.ndarray, t: np.ndarray, bounds: np.ndarray) -> dict[str, Freq]:
    """The grids of the series without a gap on a calendar one, all series at once (12,000
    monthly series: 0.2 s instead of 4.3): weeks (every step 7 days), months, quarters or
    years (every step 1, 3 or 12 months, every point at midnight on the first, or every one on
    the last, day of its month), as :func:`~tsrnn.data.frequency.infer_freq` names them. The
    others (gaps, other steps, fewer than two points) are left out, for ``infer_freq``."""
    n = np.diff(bounds)
    if len(t) < 2:
        return {}
    at = bounds[:-1]  # each series' first point; its steps are diffs at..at + n - 2
    inside = np.ones(len(t) - 1, dtype=bool)
    inside[bounds[1:-1] - 1] = False  # the step from one series' end to the next one's start

    def every(flags: np.ndarray, of_steps: bool = False) -> np.ndarray:
        """Whether each series' flags (of its points, or of its steps) all hold."""
        if of_steps:
            flags = np.append(flags | ~inside, True)  # steps across series count as held
        return np.logical_and.reduceat(flags, at)

    months = t.view("datetime64[ns]").astype("datetime64[M]").astype(np.int64)
    first_day = months.astype("datetime64[M]").astype("datetime64[ns]").view(np.int64) == t
    last_day = (t + _DAY_NS).view("datetime64[ns]").astype("datetime64[M]").astype(
        np.int64
    ) != months
    midnight = t % _DAY_NS == 0
    step_days, step_months = np.diff(t), np.diff(months)
    out: dict[str, Freq] = {}
    two = n >= 2
    weekly = two & every(step_days == 7 * _DAY_NS, of_steps=True)
    starts, ends = every(first_day & midnight), every(last_day & midnight)
    anchor = months[at] % 12 + 1  # the month of each series' first point, 1 = January
    for k in (1, 3, 12):
        regular = two & ~weekly & (starts | ends) & every(step_months == k, of_steps=True)
        for i in np.flatnonzero(regular):
            out[ids[i]] = month_alias(k, bool(starts[i]), int(anchor[i]))
    weekdays = _weekday(t[at])
    for i in np.flatnonzero(weekly):
        out[ids[i]] = "W-" + WEEKDAYS[weekdays[i]]
    return out


def _steady_freqs(
    ids: np.ndarray, t: np.ndarray, bounds: np.ndarray, is_dt: bool, tz: Any
) -> dict[str, Freq | None] | None:
    """The common case of many series, vectorized: every step of every series a multiple of
    one step ``d`` that is most of each series' steps (so it is each one's mode, as
    ``infer_freq`` takes it), ``d`` an integer step or a fixed duration under a week (calendar
    frequencies and time zones go one series at a time). None where that does not hold."""
    n = np.diff(bounds)
    if len(ids) < 2 or (is_dt and tz is not None) or np.any(n < 2):
        return None
    diffs = np.diff(t)
    inside = np.ones(len(diffs), dtype=bool)
    inside[bounds[1:-1] - 1] = False  # the step from one series' end to the next one's start
    steps = diffs[inside]
    del diffs, inside
    d = int(steps.min())
    if d <= 0 or (is_dt and d >= 7 * _DAY_NS):
        return None
    other = np.flatnonzero(steps != d)  # the few steps over gaps: only those need a look
    if np.any(steps[other] % d):
        return None
    # steps lie series after series, n - 1 each: the series of each other step
    not_d = np.bincount(np.searchsorted(np.cumsum(n - 1), other, side="right"), minlength=len(ids))
    if np.any((n - 1 - not_d) * 2 <= n - 1):  # d is not a clear majority of some series' steps
        return None
    if is_dt and d == _DAY_NS:
        # infer_freq's business days: ten or more weekdays, never a weekend, some gap (a
        # step over d); only series with a gap need their weekdays looked at
        business = (n >= 10) & (not_d > 0)
        if business.any():
            rows = np.repeat(business, n)
            kept = n[business]
            at = np.concatenate([[0], np.cumsum(kept)[:-1]])
            business[business] = ~np.logical_or.reduceat(_weekend(t[rows]), at)
        return {ids[i]: "B" if business[i] else "D" for i in range(len(ids))}
    return dict.fromkeys(ids, _complete_freq(d, is_dt))


def _weekday(ns: np.ndarray) -> np.ndarray:
    """The day of the week of each UTC-nanosecond instant, Monday = 0."""
    return (ns // _DAY_NS + 3) % 7  # 1970-01-01 was a Thursday


def _weekend(ns: np.ndarray) -> np.ndarray:
    """Whether each UTC-nanosecond instant falls on a Saturday or Sunday."""
    return _weekday(ns) >= 5


def common_freq(series_freqs: dict[str, Freq | None], source: str = "the data") -> Freq:
    """One grid for all series: the finest step every series fits (DataError if none)."""
    known = {k: v for k, v in series_freqs.items() if v is not None}
    if not known:
        bad = [k for k, v in series_freqs.items() if v is None][:5]
        raise DataError(
            f"{source}: cannot infer a frequency: the timestamps of series {bad} fit no regular "
            "grid (or each series has a single point); pass freq= (e.g. 'h', 'D', 'MS')"
        )
    distinct = set(known.values())
    if len(distinct) == 1:
        return distinct.pop()
    if all(isinstance(v, int) for v in distinct):
        grid = int(np.gcd.reduce(np.array(sorted(distinct), dtype=np.int64)))
        _refuse_sparse_grid(known, grid, {v: int(v) for v in distinct}, source)
        return grid
    if all(isinstance(v, str) and is_tick(v) for v in distinct):
        steps = {v: step_nanos(v) for v in distinct}
        step = int(np.gcd.reduce(np.array(list(steps.values()), dtype=np.int64)))
        finest = min(distinct, key=step_nanos)
        if step == step_nanos(finest):
            _refuse_sparse_grid(known, finest, steps, source)
            return finest
    examples = ", ".join(f"{k}: {v}" for k, v in list(known.items())[:6])
    raise DataError(
        f"{source}: series have different frequencies ({examples}); all series of one data set "
        "must share a grid: pass freq= to choose one, or split the file"
    )


# A common grid this many times finer than most series' own leaves them 90 % missing: one odd
# series (a minute grid among hourly ones) would turn the whole panel into gaps.
_SPARSE_RATIO = 10


def _refuse_sparse_grid(
    known: dict[str, Freq], grid: Freq, steps: dict[Freq, int], source: str
) -> None:
    """Refuse a grid that leaves series mostly missing: most of them (one odd series on a
    finer grid than the rest), or a few (a daily series among hourly ones)."""
    ratios = np.array([steps[v] / steps[grid] for v in known.values()])
    if np.median(ratios) < _SPARSE_RATIO:
        coarse = [k for k, r in zip(known, ratios, strict=True) if r >= _SPARSE_RATIO]
        if not coarse:
            return
        theirs = pd.Series([str(known[k]) for k in coarse]).mode()[0]
        share = 100 * (1 - 1 / float(ratios.max()))
        raise DataError(
            f"{source}: series {coarse[:5]} ({len(coarse)} of {len(known)}) are on a "
            f"{theirs!r} grid, the others on {grid!r}: on one {grid!r} grid they would be up to "
            f"{share:.0f}% missing; forecast them in a file of their own, or pass "
            f"freq={grid!r} to keep them on it with the gaps"
        )
    fine = [k for k, v in known.items() if steps[v] / steps[grid] < _SPARSE_RATIO]
    usual = pd.Series([str(v) for v in known.values()]).mode()[0]
    share = 100 * (1 - 1 / float(np.median(ratios)))
    raise DataError(
        f"{source}: series {fine[:5]} ({len(fine)} of {len(known)}) are on a {grid!r} grid, the "
        f"others mostly on {usual!r}: one grid for all would leave most series {share:.0f}% "
        f"missing; drop or resample those series, or pass freq={usual!r} if "
        "their timestamps fit it"
    )


def _positions(
    t: np.ndarray,
    codes: np.ndarray,
    first: np.ndarray,
    grid: Freq,
    is_dt: bool,
    tz: Any,
    ids: np.ndarray,
    label: Callable[[int], Any],
    source: str,
    row_name: str,
) -> np.ndarray:
    """Grid position of every row relative to its series' first timestamp."""
    rel = t - t[first][codes]
    if not is_dt:
        if not isinstance(grid, int):
            raise DataError(f"{source}: integer time needs an integer freq, got {grid!r}")
        step = grid
    elif is_tick(grid) and (tz is None or step_nanos(str(grid)) < 86_400 * 10**9):
        step = step_nanos(str(grid))
    else:
        step = 0  # calendar steps, and days in a time zone (wall clock across daylight saving)
    if step:
        pos = rel // step  # a division by a constant (fast); divmod is 7 times slower
        off = rel - pos * step
    else:
        # Calendar grids (weeks anchored on a day, months, quarters, years): look positions up
        # on one grid spanning all series; a series starting off that grid's anchor is an error.
        stamps = _stamps(t, tz)
        span = pd.date_range(stamps.min(), stamps.max(), freq=grid)
        ordinal = span.get_indexer(stamps)
        off = (ordinal < 0).astype(np.int64)
        pos = ordinal - ordinal[first][codes]
    bad = np.flatnonzero(off)
    if len(bad):
        k = bad[0]
        raise DataError(
            f"{source}: series {ids[codes[k]]!r} at {_fmt_time(t[k], is_dt, tz)} ({row_name} "
            f"{label(k)}) is off its {grid!r} grid ({len(bad)} such row{'s' if len(bad) != 1 else ''}); fix those timestamps "
            "or pass the right freq="
        )
    return pos.astype(np.int64)


def per_series_count(mask: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """How many of each series' entries of ``mask`` are true (``int64``): summed as bytes (a
    reduction over ``bool`` casts element by element, 7 times slower), a few million entries
    at a time (the sum widens its input to int64 first: 400 MB for 50M points at once)."""
    bytes_ = np.asarray(mask, dtype=bool).view(np.uint8)
    starts = np.asarray(offsets[:-1], dtype=np.int64)
    out = np.empty(len(starts), dtype=np.int64)
    i = 0
    while i < len(starts):
        j = int(np.searchsorted(offsets, offsets[i] + _SLICE, side="right")) - 1
        j = min(max(j, i + 1), len(starts))
        a, b = int(offsets[i]), int(offsets[j])
        out[i:j] = np.add.reduceat(bytes_[a:b], starts[i:j] - a, dtype=np.int64)
        i = j
    return out


_SLICE = 1 << 22  # entries a vectorized pass takes at a time where it would widen them all


def _ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(s, e)`` for each pair, without a Python loop."""
    lengths = ends - starts
    total = int(lengths.sum())
    shifts = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return np.arange(total, dtype=np.int64) + shifts


def _last_observed(row: np.ndarray) -> int:
    hits = np.flatnonzero(~np.isnan(row))
    return int(hits[-1]) if len(hits) else -1


# ---------------------------------------------------------------------- rows already sorted
def build_sorted(
    id_codes: np.ndarray,
    ids: np.ndarray,
    time_codes: np.ndarray,
    times: pd.Index,
    target: np.ndarray,
    covariates: dict[str, np.ndarray],
    freq: Freq | None = None,
    future_covariates: tuple[str, ...] = (),
) -> tuple[Panel, BuildStats] | None:
    """:func:`build_panel`'s answer with a fraction of its work, for the common case of a large
    file: rows as codes into their distinct ids and timestamps (as the readers hold them),
    every series' rows together, in id order, in time order on one fixed grid (ticks under a
    week, or integer steps), at least two rows a series, most of each series' steps one step
    of the grid. Nothing is sorted and no per-row timestamp is made; complete series (no gap)
    are the panel as they are.

    None when the rows are anything else (a duplicate, a calendar grid, business days), or
    ``freq`` is not the grid the timestamps are on: :func:`build_panel` then regularizes them,
    and words any error.
    """
    rows = len(id_codes)
    if isinstance(times, pd.DatetimeIndex):
        if times.tz is not None:
            return None
        stamps = times.as_unit("ns").asi8
    elif pd.api.types.is_integer_dtype(times.dtype):
        stamps = times.to_numpy(dtype=np.int64)
    else:
        return None
    if len(stamps) < 2 or rows < 2 or times.hasnans:
        return None
    first_time = int(stamps.min())
    step = int(np.diff(np.sort(stamps)).min())
    if step <= 0:  # two texts of one instant ("2024-01-01", "2024-01-01 00:00")
        return None
    grid = _complete_freq(step, isinstance(times, pd.DatetimeIndex))
    if grid is None or (freq is not None and freq != grid) or np.any((stamps - first_time) % step):
        return None
    at = (stamps - first_time) // step  # each distinct timestamp's place on the grid
    at = at.astype(np.int32 if at.max() < 2**31 else np.int64)

    # The series in sorted-id order (as build_panel orders them): each row's series' rank.
    names = np.asarray(ids, dtype=object).astype(str)
    order = np.argsort(names, kind="stable")
    rank = np.empty(len(ids), dtype=np.int32 if len(ids) < 2**31 else np.int64)
    rank[order] = np.arange(len(ids))
    # Codes given in order of first appearance, as readers give them, are already the ranks
    # and places of a sorted file: then the rows' codes are compared as they are.
    same_rank = bool(np.array_equal(order, np.arange(len(ids))))
    same_place = bool(np.array_equal(at, np.arange(len(at))))

    def slices() -> Any:
        """Each slice's rows (from the row before it), their series and places: a slice at a
        time, as full-length temporaries would cost more than the values."""
        for a in range(0, rows, _SLICE):
            lo, b = max(a - 1, 0), min(rows, a + _SLICE)
            r = id_codes[lo:b] if same_rank else rank[id_codes[lo:b]]
            p = time_codes[lo:b] if same_place else at[time_codes[lo:b]]
            yield a, lo, b, r, p

    # Row k follows row k - 1 as the same series' next step (one place or more on), or as the
    # next series' first row.
    ends, jumps = [], []
    for a, lo, _, r, p in slices():
        new_series = np.diff(r)
        steps = np.diff(p)
        if not np.all((new_series == 1) | ((new_series == 0) & (steps >= 1))):
            return None
        ends.append(lo + 1 + np.flatnonzero(new_series))
        jumps.append(lo + 1 + np.flatnonzero((new_series == 0) & (steps != 1)))
        if a == 0 and r[0] != 0:
            return None
    if rank[id_codes[-1]] != len(ids) - 1:
        return None  # some ids have no row (every rank from 0 to the last is then present)
    firsts = np.concatenate([[0], *ends]).astype(np.int64)  # each series' first row
    counts = np.diff(np.append(firsts, rows))
    if len(counts) != len(ids) or counts.min() < 2:
        return None
    jumped = np.concatenate(jumps)
    over_gaps = np.bincount(
        np.searchsorted(firsts, jumped, side="right") - 1, minlength=len(counts)
    )
    if np.any((counts - 1 - over_gaps) * 2 <= counts - 1):
        return None  # one step is not most of some series' steps: infer_freq would differ
    if grid == "D" and not _weekends_seen(firsts, counts, over_gaps, time_codes, stamps, rows):
        return None  # business days, as infer_freq calls them
    begin = at[time_codes[firsts]].astype(np.int64)
    lengths = at[time_codes[np.append(firsts[1:], rows) - 1]] - begin + 1
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    covs = list(covariates)
    if len(jumped) == 0:  # complete series: the rows are the panel
        values = np.ascontiguousarray(target, dtype=np.float64)
        cov = (
            np.column_stack([covariates[c] for c in covs]).astype(np.float64, copy=False)
            if covs
            else np.empty((rows, 0), dtype=np.float64)
        )
    else:  # each row to its place; the gaps between stay NaN
        values = np.full(offsets[-1], np.nan)
        cov = np.full((offsets[-1], len(covs)), np.nan)
        shift = offsets[:-1] - begin
        for a, _, b, r, p in slices():
            k = a - max(a - 1, 0)  # the slice's own rows, after the row before it
            place = shift[r[k:]] + p[k:]
            values[place] = target[a:b]
            for j, c in enumerate(covs):
                cov[place, j] = covariates[c][a:b]
    observed = ~np.isnan(values)
    if not np.logical_or.reduceat(observed, offsets[:-1]).all():
        return None  # a series with no value: build_panel says which
    first = time_codes[firsts]
    starts = (
        _stamps(stamps[first], None)
        if isinstance(times, pd.DatetimeIndex)
        else pd.Index(stamps[first], dtype=np.int64)
    )
    names_sorted = names[order]
    panel = Panel(
        values=values,
        observed=observed,
        offsets=offsets,
        ids=names_sorted,
        starts=starts,
        freq=grid,
        covariates=cov,
        covariate_names=tuple(covs),
        future_covariates=tuple(future_covariates),
    )
    stats = BuildStats(
        rows=counts, duplicates_merged=0, series_freqs=dict.fromkeys(names_sorted, grid)
    )
    return panel, stats


def _weekends_seen(
    firsts: np.ndarray,
    counts: np.ndarray,
    over_gaps: np.ndarray,
    time_codes: np.ndarray,
    stamps: np.ndarray,
    rows: int,
) -> bool:
    """Whether every daily series that :func:`infer_freq` would look at for business days (ten
    rows or more, a gap) has a Saturday or Sunday, so that all are "D"."""
    look = np.flatnonzero((counts >= 10) & (over_gaps > 0))
    if len(look) == 0:
        return True
    weekend = _weekend(stamps)
    # ten days in a row usually hold a weekend: only series whose first ten rows hold none
    # are looked at whole
    first_ten = weekend[time_codes[firsts[look][:, None] + np.arange(10)]].any(axis=1)
    lasts = np.append(firsts[1:], rows)
    return all(weekend[time_codes[firsts[i] : lasts[i]]].any() for i in look[~first_ten])


def _complete_freq(step: int, is_dt: bool) -> Freq | None:
    """The frequency :func:`infer_freq` gives series that mostly take steps of ``step`` (int
    steps, or nanoseconds of a fixed duration under a week; days are "D" here, business days
    being the caller's to tell); None for others."""
    if not is_dt:
        return step
    if step >= 7 * _DAY_NS:
        return None
    return "D" if step == _DAY_NS else to_offset(pd.Timedelta(step)).freqstr


def index_state(index: pd.Index) -> dict[str, Any]:
    """Time stamps as plain data: int64 nanoseconds and the time zone, or the integers."""
    if isinstance(index, pd.DatetimeIndex):
        tz = None if index.tz is None else str(index.tz)
        return {"kind": "datetime", "tz": tz, "ns": index.as_unit("ns").asi8.copy()}
    return {"kind": "int", "values": index.to_numpy(dtype=np.int64)}


def index_from_state(state: dict[str, Any]) -> pd.Index:
    """The index :func:`index_state` described."""
    if state["kind"] == "int":
        return pd.Index(np.asarray(state["values"], dtype=np.int64))
    index = pd.DatetimeIndex(np.asarray(state["ns"], dtype=np.int64).view("datetime64[ns]"))
    return index.tz_localize("UTC").tz_convert(state["tz"]) if state["tz"] else index
