"""The time grid: inferring a series' frequency and the season length it implies.

A grid is either a pandas frequency alias (``"h"``, ``"D"``, ``"W-SUN"``, ``"MS"``, ...) or, for
integer time, a positive ``int`` step. Inference works on series with gaps, where
:func:`pandas.infer_freq` gives up: the most common spacing is taken as the step, and every
other spacing must be a whole number of steps (the missing points become gaps).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

Freq = str | int

_DAY_NS = 86_400 * 10**9

# Season length (steps per natural cycle) by the base of a frequency alias, divided by its
# multiple where that still gives a whole number: "h" -> 24, "2h" -> 12, "15min" -> 96 per day.
_CYCLE = {
    "s": ("min", 60),
    "min": ("h", 60),
    "h": ("D", 24),
    "D": ("W", 7),
    "B": ("W", 5),
    "W": ("Y", 52),
    "M": ("Y", 12),
    "Q": ("Y", 4),
    "Y": ("Y", 1),
}


def _base(freq: str) -> tuple[str, int]:
    """Split an alias into its base unit and multiple: ``"15min"`` -> ``("min", 15)``."""
    offset = to_offset(freq)
    name = offset.rule_code  # "min", "h", "D", "W-SUN", "MS", "ME", "QS-JAN", "YE-DEC", "B"
    for key in ("min", "h", "s", "D", "B"):
        if name == key:
            return key, offset.n
    for key in ("W", "M", "Q", "Y"):
        if name.startswith(key):
            return key, offset.n
    raise ValueError(f"frequency {freq!r} has no season length rule")


def season_length(freq: Freq | None) -> int:
    """Steps per natural cycle of a grid: 24 for hourly, 7 for daily, 12 for monthly, 1 if none.

    Examples
    --------
    >>> season_length("h"), season_length("D"), season_length("MS"), season_length(1)
    (24, 7, 12, 1)
    >>> season_length("30min")
    48
    """
    if freq is None or isinstance(freq, int):
        return 1
    try:
        base, n = _base(freq)
    except ValueError:
        return 1
    if base == "min" and n > 1 and 1440 % n == 0:  # sub-hourly data cycles daily
        return 1440 // n
    if base == "s" and n > 1 and 3600 % n == 0:
        return 3600 // n
    cycle = _CYCLE[base][1]
    return cycle // n if cycle % n == 0 and cycle // n > 1 else (cycle if n == 1 else 1)


def year_cycle(freq: Freq | None) -> bool:
    """Whether a calendar grid's natural cycle is a year: weeks, months and quarters (not
    yearly data, whose season is 1; not hours, days or business days, whose cycle is a day or
    a week; not integer steps, which carry no calendar).

    Examples
    --------
    >>> [year_cycle(f) for f in ("W-SUN", "MS", "QS-OCT", "YS", "h", "D", "B", 1)]
    [True, True, True, False, False, False, False, False]
    """
    if freq is None or isinstance(freq, int):
        return False
    try:
        base, _ = _base(freq)
    except ValueError:
        return False
    return base != "Y" and _CYCLE[base][0] == "Y"


# Seasons that count the steps of a day on integer time (hours, half and quarter hours): the
# only ones read as a day when no calendar says so. A day of 7 steps is a week of days.
_DAY_STEPS = (24, 48, 96)


def calendar_cycles(freq: Freq | None, season: int) -> tuple[int, ...]:
    """``season`` and the longer cycle the calendar puts it in: the week of a day's steps,
    the year (52 weeks, so weekdays stay aligned) of a week's days.

    A sub-daily grid whose season is its day gets the week (``7 * season``); a daily grid
    whose season is 7 gets 364 steps. On integer time the season alone speaks: 24, 48 and 96
    are read as a day of hours, half hours and quarter hours, 7 as a week of days. Any other
    season is its own only cycle.

    >>> calendar_cycles("h", 24), calendar_cycles("30min", 48), calendar_cycles("D", 7)
    ((24, 168), (48, 336), (7, 364))
    >>> calendar_cycles("MS", 12), calendar_cycles("h", 12), calendar_cycles("min", 60)
    ((12,), (12,), (60,))
    >>> calendar_cycles(1, 24), calendar_cycles(1, 12), calendar_cycles("W-SUN", 52)
    ((24, 168), (12,), (52,))
    """
    if isinstance(freq, str):
        try:
            step = step_nanos(freq)
        except (ValueError, TypeError):  # calendar steps: weeks, months, quarters, years
            return (season,)
        if step < _DAY_NS and season > 1 and season * step == _DAY_NS:
            return (season, 7 * season)
        if step == _DAY_NS and season == 7:
            return (7, 364)
        return (season,)
    if season in _DAY_STEPS:
        return (season, 7 * season)
    if season == 7:
        return (7, 364)
    return (season,)


def is_tick(freq: Freq) -> bool:
    """True for fixed-length steps (seconds to days), where positions are plain arithmetic."""
    if isinstance(freq, int):
        return True
    try:
        pd.Timedelta(to_offset(freq))
    except (ValueError, TypeError):
        return False
    return True


def step_nanos(freq: str) -> int:
    """Length of one step of a fixed-length frequency, in nanoseconds."""
    return int(pd.Timedelta(to_offset(freq)).value)


WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def month_alias(months: int, start: bool, anchor: int) -> str:
    """The alias of a grid of ``months`` (1, 3 or 12) months per step, on the first day of
    each month (``start``) or the last, whose first point falls in month ``anchor`` (1 =
    January). Quarterly and yearly aliases carry the month the year (of quarters) starts or
    ends in.

    >>> month_alias(1, True, 5), month_alias(3, True, 11), month_alias(3, False, 2)
    ('MS', 'QS-FEB', 'QE-NOV')
    """
    if months == 1:
        return "MS" if start else "ME"
    base = "Q" if months == 3 else "Y"
    if start:
        return f"{base}S-{_MONTHS[(anchor - 1) % months]}"
    return f"{base}E-{_MONTHS[(anchor - 1) % months + 12 - months]}"


def _calendar_freq(times: pd.DatetimeIndex, days: float) -> str | None:
    """Weekly, monthly, quarterly or yearly alias for timestamps spaced ``days`` apart."""
    midnight = bool((times.normalize() == times).all())
    if 6.5 < days < 7.5:
        weekdays = np.unique(times.day_of_week)
        if len(weekdays) == 1:
            return "W-" + WEEKDAYS[weekdays[0]]
        return None
    if not midnight:
        return None
    checks = ((27 < days < 32, 1), (88 < days < 93, 3), (364 < days < 367, 12))
    months = next((k for ok, k in checks if ok), None)
    if months is None or not (times.is_month_start.all() or times.is_month_end.all()):
        return None
    return month_alias(months, bool(times.is_month_start.all()), times[0].month)


def infer_freq(times: pd.DatetimeIndex | np.ndarray) -> Freq | None:
    """Infer the grid of one series' sorted, unique timestamps, tolerating gaps.

    Returns a pandas alias for datetimes, an ``int`` step for integer time, or ``None`` when the
    spacing fits no frequency (or there are fewer than two timestamps).

    Examples
    --------
    >>> import pandas as pd
    >>> infer_freq(pd.DatetimeIndex(["2024-01-01 00:00", "2024-01-01 01:00", "2024-01-01 05:00"]))
    'h'
    >>> infer_freq(pd.to_datetime(["2024-01-01", "2024-02-01", "2024-05-01"]))
    'MS'
    >>> infer_freq(np.array([3, 6, 12]))
    3
    """
    if len(times) < 2:
        return None
    if not isinstance(times, pd.DatetimeIndex):
        diffs = np.diff(np.asarray(times, dtype=np.int64))
        step = int(_mode(diffs))
        if step <= 0 or np.any(diffs % step):
            return None
        return step
    times = times.as_unit("ns")  # pandas >= 3 may parse to other units
    if times.tz is not None:
        # Sub-daily steps are fixed in UTC; daily and longer ones follow the wall clock across
        # daylight saving (a "day" may last 23 or 25 hours).
        utc = infer_freq(times.tz_convert("UTC").tz_localize(None))
        if utc is not None and is_tick(utc) and step_nanos(str(utc)) < _DAY_NS:
            return utc
        return infer_freq(times.tz_localize(None))
    diffs = np.diff(times.asi8)
    step = int(_mode(diffs))
    if step <= 0:
        return None
    if step % _DAY_NS == 0 and step // _DAY_NS >= 7:
        return _calendar_freq(times, step / _DAY_NS)
    if np.any(diffs % step):
        return None
    if step == _DAY_NS:
        # Ten or more weekdays and never a weekend: business days (Friday -> Monday is no gap).
        weekdays_only = len(times) >= 10 and not (times.day_of_week >= 5).any()
        return "B" if weekdays_only and (diffs > step).any() else "D"
    return to_offset(pd.Timedelta(step)).freqstr


def _mode(diffs: np.ndarray) -> int:
    values, counts = np.unique(diffs, return_counts=True)
    # The most common spacing; ties go to the smaller one (finer grid, gaps where needed).
    return values[np.argmax(counts)]
