"""Features: time since the last observation against a loop, calendar features against pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrnn.data.features import (
    calendar_features,
    calendar_names,
    grid_ordinals,
    scale_time_since,
    time_since_observed,
)
from tsrnn.data.panel import Panel


def _panel(starts: list, freq, lengths: list[int], observed_p: float = 0.6, seed: int = 0) -> Panel:
    rng = np.random.default_rng(seed)
    values = rng.standard_normal(sum(lengths)).astype(np.float32)
    values[rng.random(len(values)) > observed_p] = np.nan
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    for i in range(len(lengths)):  # the Panel promises one observed value per series
        if np.isnan(values[offsets[i] : offsets[i + 1]]).all():
            values[offsets[i + 1] - 1] = 1.0
    index = (
        pd.DatetimeIndex(starts)
        if not isinstance(freq, int)
        else pd.Index(np.asarray(starts, dtype=np.int64))
    )
    return Panel(
        values=values,
        observed=~np.isnan(values),
        offsets=offsets,
        ids=np.array([f"s{i:02d}" for i in range(len(lengths))], dtype=object),
        starts=index,
        freq=freq,
    )


# ---------------------------------------------------------------------- time since observed
def _tso_loop(panel: Panel) -> list[float]:
    out = []
    for i in range(panel.n_series):
        last = -1  # a virtual observation just before the start
        for t, seen in enumerate(panel.observed[panel.offsets[i] : panel.offsets[i + 1]]):
            if seen:
                last = t
            out.append(float(t - last))
    return out


@pytest.mark.parametrize("seed", range(5))
def test_time_since_observed_matches_a_loop(seed: int) -> None:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 60, size=8).tolist()
    panel = _panel(["2024-01-01"] * 8, "h", lengths, observed_p=rng.uniform(0.1, 0.9), seed=seed)
    got = time_since_observed(panel)
    assert got.dtype == np.float32 and got.shape == (len(panel),)
    assert got.tolist() == _tso_loop(panel)


def test_time_since_observed_resets_at_each_series_start() -> None:
    # Series b starts unobserved: its count must not continue series a's gap.
    values = np.array([1, np.nan, np.nan, np.nan, 2, np.nan, 3], dtype=np.float32)
    panel = Panel(
        values,
        ~np.isnan(values),
        offsets=[0, 5, 7],
        ids=["a", "b"],
        starts=pd.Index([0, 0]),
        freq=1,
    )
    assert time_since_observed(panel).tolist() == [0, 1, 2, 3, 0, 1, 0]


def test_scale_time_since_is_log_and_capped() -> None:
    got = scale_time_since(np.array([0, 1, 7, 8, 1000]), cap=7)
    expected = np.log1p(np.minimum([0, 1, 7, 8, 1000], 7)) / np.log1p(7)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert got.dtype == np.float32 and got[0] == 0 and got[-1] == 1
    with pytest.raises(ValueError, match="cap"):
        scale_time_since(np.zeros(2), cap=0)


# ---------------------------------------------------------------------- calendar
@pytest.mark.parametrize(
    ("freq", "expected"),
    [
        ("h", ("hour_of_day", "day_of_week", "day_of_year")),
        ("15min", ("minute_of_hour", "hour_of_day", "day_of_week", "day_of_year")),
        ("D", ("day_of_week", "day_of_month", "day_of_year")),
        ("B", ("day_of_week", "day_of_month", "day_of_year")),
        ("W-SUN", ("day_of_year",)),
        ("MS", ("month_of_year",)),
        ("QS-JAN", ("month_of_year",)),
        ("YS", ()),
        (1, ()),
    ],
)
def test_calendar_names_follow_the_step(freq, expected) -> None:
    start = pd.Timestamp("2024-01-01") if not isinstance(freq, int) else 0
    panel = _panel([start], freq, [3])
    assert calendar_names(panel) == tuple(f"{n}_{p}" for n in expected for p in ("sin", "cos"))


def test_hour_13_gives_its_known_sin_cos() -> None:
    panel = _panel(["2024-03-05 10:00"], "h", [4])
    names = calendar_names(panel)
    feats = calendar_features(panel, 0, 3)  # 13:00 on Tuesday 5 March 2024
    by_name = dict(zip(names, feats.tolist(), strict=True))
    assert by_name["hour_of_day_sin"] == pytest.approx(np.sin(2 * np.pi * 13 / 24), abs=1e-6)
    assert by_name["hour_of_day_cos"] == pytest.approx(np.cos(2 * np.pi * 13 / 24), abs=1e-6)
    assert by_name["day_of_week_sin"] == pytest.approx(np.sin(2 * np.pi * 1 / 7), abs=1e-6)
    # 5 March of a leap year: day 64 (0-based) of 366.
    assert by_name["day_of_year_cos"] == pytest.approx(np.cos(2 * np.pi * 64 / 366), abs=1e-6)


def _expected(stamps: pd.DatetimeIndex, names: tuple[str, ...]) -> np.ndarray:
    """Calendar features straight from pandas' timestamp fields."""
    fields = {
        "minute_of_hour": (stamps.minute, 60),
        "hour_of_day": (stamps.hour, 24),
        "day_of_week": (stamps.day_of_week, 7),
        "day_of_month": (stamps.day - 1, stamps.days_in_month),
        "day_of_year": (stamps.day_of_year - 1, np.where(stamps.is_leap_year, 366, 365)),
        "month_of_year": (stamps.month - 1, 12),
    }
    cols = []
    for name in names[::2]:
        k, period = fields[name.removesuffix("_sin")]
        angle = 2 * np.pi * np.asarray(k, dtype=np.float64) / np.asarray(period)
        cols += [np.sin(angle), np.cos(angle)]
    return np.stack(cols, axis=-1)


@pytest.mark.parametrize(
    ("start", "freq"),
    [
        ("2023-12-30 21:00", "h"),
        ("2024-02-27 23:45", "15min"),
        ("1969-12-20", "D"),  # before 1970: floor division, negative days
        ("2023-12-27", "B"),
        ("2023-11-05", "W-SUN"),
        ("2023-10-01", "MS"),
        ("2023-10-31", "ME"),
        ("2023-07-01", "QS-JAN"),
        ("2024-03-30 22:00+01:00", "h"),  # a fixed offset
    ],
)
def test_calendar_features_match_pandas_before_inside_and_after_the_data(start, freq) -> None:
    panel = _panel([start], freq, [20])
    positions = np.arange(-30, 60)  # before the start, the data, and forecast steps
    offset = pd.tseries.frequencies.to_offset(freq)
    stamps = pd.DatetimeIndex([panel.starts[0] + int(p) * offset for p in positions])
    names = calendar_names(panel)
    got = calendar_features(panel, np.zeros_like(positions), positions)
    assert got.shape == (len(positions), len(names)) and got.dtype == np.float32
    np.testing.assert_allclose(got, _expected(stamps, names), atol=1e-6)


def test_calendar_features_are_in_local_time_across_daylight_saving() -> None:
    starts = pd.DatetimeIndex(["2024-03-30 00:00"]).tz_localize("Europe/Berlin")
    panel = _panel(starts, "h", [72])
    positions = np.arange(72)
    stamps = pd.date_range(starts[0], periods=72, freq="h")  # 31 March has 23 local hours
    got = calendar_features(panel, 0, positions)
    np.testing.assert_allclose(got, _expected(stamps, calendar_names(panel)), atol=1e-6)


def test_calendar_features_broadcast_over_series_and_positions() -> None:
    panel = _panel(["2024-01-01", "2024-01-01 05:00"], "h", [10, 10])
    got = calendar_features(panel, np.array([[0], [1]]), np.arange(3))
    assert got.shape == (2, 3, 6)
    np.testing.assert_array_equal(got[1, 0], calendar_features(panel, 0, 5))


def test_grid_ordinals_need_one_phase() -> None:
    aligned = _panel(["2024-01-01 03:00", "2024-01-01 01:00"], "h", [3, 3])
    assert grid_ordinals(aligned).tolist() == [2, 0]
    shifted = _panel(["2024-01-01 03:00", "2024-01-01 01:30"], "h", [3, 3])
    assert grid_ordinals(shifted) is None
    assert grid_ordinals(_panel([0, 5], 1, [3, 3])) is None  # integer time has no calendar
