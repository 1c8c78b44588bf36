"""Per-point input features: time since the last observation, and calendar position.

Both are computed for arbitrary ``(series, position)`` pairs by index arithmetic, so the
windowing layer (:mod:`tsrnn.data.windows`) can precompute them once per point, and forecast
steps beyond a series' end get calendar features too.

Calendar features are ``sin``/``cos`` pairs of the cycles a grid can resolve: those finer than a
year and coarser than the step (hourly data gets hour-of-day, day-of-week and day-of-year; daily
data day-of-week, day-of-month and day-of-year; monthly data month-of-year; integer time none).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.tseries import offsets
from pandas.tseries.frequencies import to_offset

from tsrnn.data.frequency import Freq, is_tick, step_nanos
from tsrnn.data.panel import Panel

_MINUTE = 60 * 10**9
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
_EPOCH = np.datetime64("1970-01-01", "D")  # a Thursday, and a business day


def time_since_observed(panel: Panel) -> np.ndarray:
    """Steps since the last observed point of the same series, for every point of the panel.

    ``0`` at an observed point, ``k`` at a point ``k`` steps after the series' last observation.
    Before a series' first observation the count runs as if the step just before the series'
    start had been observed (``position + 1``): the series' start is where knowledge begins, so
    the value stays finite and grows with staleness like any other gap. No capping or scaling
    here; :func:`scale_time_since` maps counts to ``[0, 1]`` for a network.

    Parameters
    ----------
    panel : Panel

    Returns
    -------
    numpy.ndarray
        ``float32`` of shape ``(len(panel),)``, aligned with ``panel.values`` (exact for gaps
        below 2**24 steps).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> values = np.array([np.nan, 1, np.nan, np.nan, 2, np.nan, np.nan, 3], dtype=np.float32)
    >>> panel = Panel(values, ~np.isnan(values), offsets=[0, 5, 8], ids=["a", "b"],
    ...               starts=pd.Index([0, 0]), freq=1)
    >>> time_since_observed(panel).tolist()
    [1.0, 0.0, 1.0, 2.0, 0.0, 1.0, 2.0, 0.0]
    """
    return steps_since_observed(panel.observed, panel.offsets)


def steps_since_observed(observed: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """:func:`time_since_observed` on bare arrays: a ``bool`` mask and series ``offsets``.

    Examples
    --------
    >>> steps_since_observed(np.array([False, True, False, True, False]), np.array([0, 3, 5]))
    array([1., 0., 1., 0., 1.], dtype=float32)
    """
    index = np.arange(len(observed), dtype=np.int64)
    last = np.where(observed, index, -1)
    # A virtual observation just before each series' start resets the running maximum there:
    # it exceeds every index of the previous series, so no count leaks across series.
    first = np.asarray(offsets[:-1], dtype=np.int64)
    last[first] = np.maximum(last[first], first - 1)
    np.maximum.accumulate(last, out=last)
    return (index - last).astype(np.float32)


def scale_time_since(steps: np.ndarray, cap: int) -> np.ndarray:
    """Map step counts to ``[0, 1]``: ``log1p(min(steps, cap)) / log1p(cap)``.

    The log keeps short gaps distinguishable (0, 1, 2 steps matter most); the cap says when a
    value is simply stale: the windowing layer uses the input length, since a network cannot
    relate a gap longer than its window to anything it sees.

    Examples
    --------
    >>> scale_time_since(np.array([0.0, 1.0, 3.0, 100.0]), cap=3).round(3).tolist()
    [0.0, 0.5, 1.0, 1.0]
    """
    if cap < 1:
        raise ValueError(f"scale_time_since: cap must be at least 1, got {cap}")
    capped = np.minimum(np.asarray(steps, dtype=np.float64), cap)
    return (np.log1p(capped) / np.log1p(cap)).astype(np.float32)


# ---------------------------------------------------------------------- calendar
# (cycle, lo, hi): a cycle is used when lo <= step < hi, the step in (nominal) days. Below hi the
# cycle varies from step to step; from lo its unit is no finer than the step (day of month needs
# whole days: hourly data has day of year for its slow season instead).
_CYCLES = (
    ("minute_of_hour", 0.0, 1 / 24),
    ("hour_of_day", 0.0, 1.0),
    ("day_of_week", 0.0, 7.0),
    ("day_of_month", 1.0, 7.0),
    ("day_of_year", 0.0, 28.0),
    ("month_of_year", 28.0, 365.0),
)


@dataclass(frozen=True)
class _Clock:
    """Time of point ``t`` of series ``s`` as ``units0[s] + t * step`` in one integer unit.

    ``kind`` is ``"ns"`` (nanoseconds: fixed-length steps and weeks), ``"month"`` (months since
    1970-01: months, quarters, years) or ``"bday"`` (business days since 1970-01-01). For
    ``"ns"``, ``utc`` says the units are UTC and must be converted to ``tz`` wall-clock time;
    otherwise they already are wall-clock time.
    """

    kind: str
    units0: np.ndarray  # (n_series,) int64
    step: int
    step_days: float  # nominal step, to choose the features
    utc: bool = False
    tz: object = None


def _clock(starts: pd.Index, freq: Freq) -> _Clock | None:
    """The integer clock of a grid, or ``None`` for integer time and unsupported aliases."""
    if not isinstance(starts, pd.DatetimeIndex) or isinstance(freq, int):
        return None
    offset = to_offset(freq)
    n = int(offset.n)
    tz = starts.tz
    wall = starts.tz_localize(None) if tz is not None else starts
    months = {
        offsets.MonthBegin: 1,
        offsets.MonthEnd: 1,
        offsets.QuarterBegin: 3,
        offsets.QuarterEnd: 3,
        offsets.YearBegin: 12,
        offsets.YearEnd: 12,
    }
    if type(offset) in months:
        units = wall.year.to_numpy(np.int64) * 12 + wall.month.to_numpy(np.int64) - 1 - 1970 * 12
        step = months[type(offset)] * n
        return _Clock("month", units, step, step * 30.44)
    if isinstance(offset, offsets.BusinessDay):
        days = wall.to_numpy().astype("datetime64[D]")
        return _Clock("bday", np.busday_count(_EPOCH, days).astype(np.int64), n, float(n))
    if isinstance(offset, offsets.Week):
        step = 7 * _DAY * n
    elif is_tick(freq):
        step = step_nanos(str(freq))
    else:
        return None
    # Whole-day steps keep the wall-clock time across daylight-saving changes (pandas' date
    # arithmetic), so they count in wall-clock units; shorter steps count in UTC.
    utc = tz is not None and step % _DAY != 0
    units = (starts if utc else wall).as_unit("ns").asi8.astype(np.int64)
    return _Clock("ns", units, step, step / _DAY, utc=utc, tz=tz)


def _names(clock: _Clock | None) -> tuple[str, ...]:
    if clock is None:
        return ()
    return tuple(name for name, lo, hi in _CYCLES if lo <= clock.step_days < hi)


def calendar_names(panel: Panel) -> tuple[str, ...]:
    """Names of the calendar feature columns of a panel, in order (a ``_sin``/``_cos`` pair each).

    Integer time has none, and so have aliases without a fixed integer clock (semi-month,
    business hour, custom business day).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"unique_id": "a", "y": [1.0, 2.0],
    ...                    "ds": pd.to_datetime(["2024-01-01 00:00", "2024-01-01 01:00"])})
    >>> calendar_names(Panel.from_long(df))
    ('hour_of_day_sin', 'hour_of_day_cos', 'day_of_week_sin', 'day_of_week_cos', 'day_of_year_sin', 'day_of_year_cos')
    """
    names = _names(_clock(panel.starts, panel.freq))
    return tuple(f"{name}_{part}" for name in names for part in ("sin", "cos"))


def calendar_features(
    panel: Panel, series: np.ndarray | int, positions: np.ndarray | int
) -> np.ndarray:
    """Calendar features at ``(series, position)`` pairs, any position (before or after the data).

    Positions are steps from each series' start, so ``positions = lengths[series] + h`` gives the
    forecast steps; nothing is looked up in the data. Each cycle (see :func:`calendar_names`)
    contributes ``sin(2 pi k / P)`` and ``cos(2 pi k / P)`` for its 0-based index ``k`` and
    period ``P``: minute of hour (60), hour of day (24), day of week (Monday = 0, 7), day of
    month (its number of days), day of year (365 or 366), month of year (12), all in the
    series' own time zone.

    Parameters
    ----------
    panel : Panel
    series, positions : int or numpy.ndarray
        Broadcast against each other.

    Returns
    -------
    numpy.ndarray
        ``float32`` of shape ``broadcast_shape + (len(calendar_names(panel)),)``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"unique_id": "a", "y": [1.0, 2.0],
    ...                    "ds": pd.to_datetime(["2024-01-01 12:00", "2024-01-01 13:00"])})
    >>> panel = Panel.from_long(df)
    >>> sin, cos = calendar_features(panel, 0, 1)[:2]  # 13:00, hour-of-day
    >>> bool(np.isclose(sin, np.sin(2 * np.pi * 13 / 24)) and np.isclose(cos, np.cos(2 * np.pi * 13 / 24)))
    True
    """
    clock = _clock(panel.starts, panel.freq)
    series, positions = np.broadcast_arrays(
        np.asarray(series, dtype=np.int64), np.asarray(positions, dtype=np.int64)
    )
    names = _names(clock)
    out = np.empty(series.shape + (2 * len(names),), dtype=np.float32)
    if not names:
        return out
    assert clock is not None
    units = clock.units0[series] + positions * clock.step
    for j, (index, period) in enumerate(_fields(clock, units, names)):
        angle = (2 * np.pi) * index / period
        np.sin(angle, out=out[..., 2 * j], casting="unsafe")
        np.cos(angle, out=out[..., 2 * j + 1], casting="unsafe")
    return out


def _fields(clock: _Clock, units: np.ndarray, names: tuple[str, ...]) -> list[tuple]:
    """``(index, period)`` arrays of each named cycle, from the clock's integer units."""
    if clock.kind == "month":  # only month-of-year is ever chosen for month-based grids
        return [(units % 12, 12)]
    if clock.kind == "bday":
        days = np.busday_offset(_EPOCH, units, roll="forward").astype(np.int64)
        ns = days * _DAY
    else:
        ns = units
        if clock.utc:
            local = pd.DatetimeIndex(ns.ravel()).tz_localize("UTC").tz_convert(clock.tz)
            ns = local.tz_localize(None).as_unit("ns").asi8.reshape(ns.shape)
        days = ns // _DAY
    date = days.astype("datetime64[D]")
    out = []
    for name in names:
        if name == "minute_of_hour":
            out.append(((ns // _MINUTE) % 60, 60))
        elif name == "hour_of_day":
            out.append(((ns // _HOUR) % 24, 24))
        elif name == "day_of_week":
            out.append(((days + 3) % 7, 7))  # 1970-01-01 was a Thursday (3 with Monday = 0)
        elif name == "day_of_month":
            month = date.astype("datetime64[M]")
            first = month.astype("datetime64[D]")
            out.append(
                (
                    (date - first).astype(np.int64),
                    _days_until(month + np.timedelta64(1, "M"), first),
                )
            )
        elif name == "day_of_year":
            year = date.astype("datetime64[Y]")
            first = year.astype("datetime64[D]")
            out.append(
                ((date - first).astype(np.int64), _days_until(year + np.timedelta64(1, "Y"), first))
            )
        else:  # month_of_year
            out.append((date.astype("datetime64[M]").astype(np.int64) % 12, 12))
    return out


def _days_until(following: np.ndarray, first: np.ndarray) -> np.ndarray:
    return (following.astype("datetime64[D]") - first).astype(np.int64)


def grid_ordinals(panel: Panel) -> np.ndarray | None:
    """Each series' start as a step count on one grid shared by all series, if there is one.

    ``None`` when series sit on different phases of the grid (an hourly series starting at
    ``:30`` beside one starting at ``:00``) or the grid has no calendar. With a shared grid,
    calendar features depend only on ``ordinal[s] + position``, so one small table indexed by
    that sum serves every series.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"unique_id": ["a", "a", "b"], "y": [1.0, 2.0, 3.0],
    ...                    "ds": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-05"])})
    >>> grid_ordinals(Panel.from_long(df)).tolist()
    [0, 4]
    """
    clock = _clock(panel.starts, panel.freq)
    if clock is None:
        return None
    shift = clock.units0 - clock.units0.min()
    if np.any(shift % clock.step):
        return None
    return shift // clock.step
