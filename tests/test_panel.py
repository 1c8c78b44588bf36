import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsrnn import DataError, Panel, as_panel


def long_frame():
    return pd.DataFrame(
        {
            "unique_id": ["b", "a", "a", "a", "b"],
            "ds": pd.to_datetime(
                [
                    "2024-01-01 00:00",
                    "2024-01-01 00:00",
                    "2024-01-01 01:00",
                    "2024-01-01 03:00",
                    "2024-01-01 01:00",
                ]
            ),
            "y": [5.0, 1.0, 2.0, 4.0, 6.0],
            "temp": [10.0, 20.0, 21.0, 23.0, 11.0],
        }
    )


def test_from_long_regularizes_gaps_to_nan_and_masks_them():
    panel = Panel.from_long(long_frame(), past_covariates=["temp"])
    assert panel.freq == "h"
    assert list(panel.ids) == ["a", "b"]
    assert panel.lengths.tolist() == [4, 2]
    np.testing.assert_array_equal(panel.series_values(0), [1, 2, np.nan, 4])
    assert panel.observed.tolist() == [True, True, False, True, True, True]
    assert panel.values.dtype == np.float64 and panel.values.flags.c_contiguous
    assert panel.covariates.dtype == np.float64
    np.testing.assert_array_equal(panel.covariates[:, 0], [20, 21, np.nan, 23, 10, 11])
    assert panel.past_covariates == ("temp",)


def test_long_round_trip_is_exact():
    df = long_frame()
    back = Panel.from_long(df, past_covariates=["temp"]).to_long(observed_only=True)
    expected = df.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(back, expected, check_dtype=False)


def test_wide_round_trip_keeps_ragged_series():
    panel = Panel.from_long(long_frame())
    wide = panel.to_wide()
    assert list(wide.columns) == ["a", "b"]
    assert np.isnan(wide.loc["2024-01-01 03:00", "b"])  # b ended at 01:00: not part of b
    again = Panel.from_wide(wide)
    assert again.lengths.tolist() == [4, 2]
    np.testing.assert_array_equal(again.values, panel.values)
    np.testing.assert_array_equal(again.observed, panel.observed)


def test_series_and_array_inputs():
    s = pd.Series(
        np.arange(36.0), index=pd.date_range("2020-01-01", periods=36, freq="MS"), name="sales"
    )
    panel = as_panel(s)
    assert panel.freq == "MS" and list(panel.ids) == ["sales"]
    assert panel.time_index(0, 2, shift=36).tolist() == [
        pd.Timestamp("2023-01-01"),
        pd.Timestamp("2023-02-01"),
    ]
    arrays = as_panel(np.array([[1.0, 2.0, np.nan], [3.0, np.nan, 5.0]]))
    assert arrays.lengths.tolist() == [2, 3]  # trailing NaN is not part of a series
    assert arrays.freq == 1 and arrays.time_index(1).tolist() == [0, 1, 2]


def test_calendar_frequency_with_gap_and_time_zone():
    df = pd.DataFrame(
        {
            "unique_id": "x",
            "ds": pd.to_datetime(["2020-01-01", "2020-02-01", "2020-05-01"]),
            "y": [1.0, 2.0, 3.0],
        }
    )
    panel = Panel.from_long(df)
    assert panel.freq == "MS" and panel.lengths.tolist() == [5]
    tz = long_frame().assign(ds=lambda d: d.ds.dt.tz_localize("Europe/Berlin"))
    back = Panel.from_long(tz).to_long(observed_only=True)
    assert str(back.ds.dt.tz) == "Europe/Berlin"
    assert back.ds.iloc[0] == pd.Timestamp("2024-01-01 00:00", tz="Europe/Berlin")


def test_conflicting_duplicates_name_series_time_and_rows():
    df = pd.concat([long_frame(), long_frame().iloc[[1]].assign(y=9.0)], ignore_index=True)
    with pytest.raises(
        DataError,
        match=r"series 'a' has two different values at 2024-01-01 "
        r"00:00:00 \(rows 1 and 5\)",
    ):
        Panel.from_long(df)


def test_identical_duplicates_are_merged():
    df = pd.concat([long_frame(), long_frame().iloc[[1]]], ignore_index=True)
    assert Panel.from_long(df).observed.sum() == 5


def test_off_grid_row_is_named():
    df = long_frame()
    df.loc[3, "ds"] = pd.Timestamp("2024-01-01 03:30")
    with pytest.raises(DataError, match=r"series 'a' at 2024-01-01 03:30:00 \(row 3\) is off"):
        Panel.from_long(df, freq="h")


def test_series_without_observation_is_refused():
    df = long_frame()
    df.loc[df.unique_id == "b", "y"] = np.nan
    with pytest.raises(DataError, match=r"\['b'\] have no observed value"):
        Panel.from_long(df)


def test_drop_last_sets_an_origin_per_series():
    panel = Panel.from_long(long_frame())
    cut = panel.drop_last(np.array([2, 1]))
    assert cut.lengths.tolist() == [2, 1]
    np.testing.assert_array_equal(cut.values, [1, 2, 5])
    with pytest.raises(DataError, match="left empty"):
        panel.drop_last(2)


def test_select_reorders_series_and_their_arrays():
    panel = Panel.from_long(long_frame(), past_covariates=["temp"])
    sub = panel.select([1, 0])
    assert list(sub.ids) == ["b", "a"]
    np.testing.assert_array_equal(sub.covariates[:2, 0], [10, 11])
    assert sub.starts[1] == panel.starts[0]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.lists(st.one_of(st.none(), st.floats(-1e6, 1e6)), min_size=1, max_size=30),
        min_size=1,
        max_size=6,
    ),
    st.integers(0, 1000),
)
def test_long_round_trip_random_ragged_panels(series, offset):
    rows = []
    for i, vals in enumerate(series):
        for t, v in enumerate(vals):
            if v is not None:
                rows.append((f"s{i}", offset + i + t, v))
    if not rows:
        return
    df = pd.DataFrame(rows, columns=["unique_id", "ds", "y"])
    panel = Panel.from_long(df, freq=1)
    back = panel.to_long(observed_only=True)
    expected = df.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    np.testing.assert_array_equal(back.unique_id, expected.unique_id)
    np.testing.assert_array_equal(back.ds, expected.ds)
    np.testing.assert_array_equal(back.y, expected.y)  # float64: the values given, unrounded
    assert panel.observed.sum() == len(df)


def test_categorical_ids_and_unsorted_rows_give_the_same_panel():
    df = long_frame()
    cat = df.assign(unique_id=pd.Categorical(df.unique_id, categories=["z", "b", "a"]))
    shuffled = df.sample(frac=1.0, random_state=3)
    expected = Panel.from_long(df.sort_values(["unique_id", "ds"]))
    for variant in (cat, shuffled):
        panel = Panel.from_long(variant)
        assert list(panel.ids) == ["a", "b"]  # unused category "z" is no series
        np.testing.assert_array_equal(panel.values, expected.values)
        np.testing.assert_array_equal(panel.offsets, expected.offsets)


def test_concat_appends_series_and_refuses_mismatched_grids():
    panel = Panel.from_long(long_frame())
    a, b = panel.select([0]), panel.select([1])
    joined = Panel.concat([a, b])
    np.testing.assert_array_equal(joined.values, panel.values)
    assert list(joined.ids) == ["a", "b"] and joined.starts.equals(panel.starts)
    other = Panel.from_arrays([[1.0, 2.0]], ids=["c"])
    with pytest.raises(DataError, match="grids or covariates differ"):
        Panel.concat([a, other])
    with pytest.raises(DataError, match="unique"):
        Panel.concat([a, a])


def test_non_finite_observed_value_is_refused():
    df = long_frame()
    df.loc[2, "y"] = np.inf
    with pytest.raises(DataError, match="series 'a' has a non-finite observed value at position 1"):
        Panel.from_long(df)


def test_positions_before_a_time_per_series():
    panel = Panel.from_long(long_frame())  # a: 00:00-03:00, b: 00:00-01:00
    assert panel.positions_before("2024-01-01 02:00").tolist() == [2, 2]
    assert panel.positions_before("2023-12-31").tolist() == [0, 0]
    assert panel.positions_before("2024-01-01 02:30").tolist() == [3, 2]
    monthly = Panel.from_series(
        pd.Series(1.0, index=pd.date_range("2020-01-01", periods=12, freq="MS"))
    )
    assert monthly.positions_before("2020-03-15").tolist() == [3]
    ints = Panel.from_arrays([[1.0, 2.0, 3.0]], starts=[10], freq=5)
    assert ints.positions_before(20).tolist() == [2]


def test_daily_times_follow_the_wall_clock_across_daylight_saving():
    stamps = pd.date_range("2024-03-29", periods=4, freq="D", tz="Europe/Berlin")
    panel = Panel.from_long(pd.DataFrame({"unique_id": "x", "ds": stamps, "y": 1.0}))
    assert panel.times().equals(pd.DatetimeIndex(stamps).as_unit("ns"))
    assert panel.times().equals(panel.time_index(0))


@pytest.mark.parametrize(
    ("freq", "tz"),
    [("MS", None), ("QS-OCT", None), ("YE-DEC", None), ("W-SUN", None), ("B", None)]
    + [("D", "Europe/Berlin"), ("MS", "America/New_York")],
)
def test_calendar_times_of_many_series_are_each_series_own(freq, tz):
    # one shared calendar grid gives the times of every series (what the fit, the backtest
    # and the forecast frames read), not a date range per series: the same stamps
    rng = np.random.default_rng(0)
    grid = pd.date_range("1850-01-01", periods=400, freq=freq, tz=tz)
    frames = []
    for i in range(30):
        start, n = rng.integers(0, 200), rng.integers(20, 150)
        frames.append(pd.DataFrame({"unique_id": f"s{i}", "ds": grid[start : start + n], "y": 1.0}))
    panel = Panel.from_long(pd.concat(frames))
    assert panel._grid_nanos(*panel.point_index(), panel.lengths - 1) is not None  # one grid
    each = [panel.time_index(i) for i in range(panel.n_series)]
    assert panel.times().equals(each[0].append(each[1:]).as_unit("ns"))
    after = [panel.time_index(i, 3, shift=int(panel.lengths[i])) for i in range(panel.n_series)]
    assert panel.future_times(3).equals(after[0].append(after[1:]).as_unit("ns"))


@pytest.mark.parametrize("freq", ["h", "MS", 3])
def test_future_times_continue_each_series(freq):
    if freq == 3:
        panel = Panel.from_arrays([[1.0, 2.0], [3.0, 4.0, 5.0]], starts=[0, 6], freq=3)
    else:
        idx = pd.date_range("2024-01-01", periods=5, freq=freq)
        df = pd.DataFrame({"unique_id": ["a"] * 5 + ["b"] * 3, "ds": idx.append(idx[:3]), "y": 1.0})
        panel = Panel.from_long(df)
    expected = np.concatenate(
        [panel.time_index(i, 2, shift=int(panel.lengths[i])) for i in range(panel.n_series)]
    )
    np.testing.assert_array_equal(panel.future_times(2), expected)


def test_a_one_dimensional_array_is_one_series():
    panel = as_panel(np.array([1.0, 2.0, np.nan, 4.0]))
    assert panel.n_series == 1 and panel.lengths.tolist() == [4]


def test_state_of_an_earlier_float32_panel_loads_as_float64_unchanged():
    """Model files of earlier versions hold float32 arrays; they widen exactly."""
    panel = Panel.from_long(long_frame(), past_covariates=["temp"])
    state = panel.to_state()
    old = {**state, "values": state["values"].astype(np.float32)}
    old["covariates"] = state["covariates"].astype(np.float32)
    back = Panel.from_state(old)
    assert back.values.dtype == np.float64 and back.covariates.dtype == np.float64
    np.testing.assert_array_equal(back.values, panel.values)
    np.testing.assert_array_equal(back.covariates, panel.covariates)
    again = Panel.from_state(panel.to_state())
    np.testing.assert_array_equal(again.values, panel.values)


@pytest.mark.parametrize(
    ("freq", "end", "fits"),
    [
        ("MS", "2262-03-01", "2262-04-01 00:00:00 (horizon 1)"),
        ("h", "2262-04-11 20:00", "2262-04-11 23:00:00 (horizon 3)"),
    ],
)
def test_forecast_dates_past_2262_name_the_series_and_the_last_date_that_fits(freq, end, fits):
    # Any time zone forecasts as before: the check's limit is UTC's, on the data's clock.
    for tz in ("America/New_York", "Asia/Tokyo"):
        west = pd.date_range("2024-01-01", periods=30, freq=freq, tz=tz)
        frame = pd.DataFrame({"unique_id": "a", "ds": west, "y": 1.0})
        assert len(as_panel(frame).future_times(6)) == 6
    times = pd.date_range(end=end, periods=30, freq=freq)
    early = pd.date_range("2024-01-01", periods=30, freq=freq)
    frame = pd.concat(
        [
            pd.DataFrame({"unique_id": "early", "ds": early, "y": 1.0}),
            pd.DataFrame({"unique_id": "late", "ds": times, "y": 1.0}),
        ]
    )
    panel = as_panel(frame)
    assert len(panel.future_times(1)) == 2
    with pytest.raises(DataError) as caught:
        panel.future_times(6)
    assert str(caught.value).startswith(f"series 'late' ends at {pd.Timestamp(end)}: 6 steps")
    assert f"the last forecast date that fits is {fits}" in str(caught.value)


def test_all_series_grids_at_once_equal_one_series_at_a_time():
    """The vectorized grid inference of many series (hourly, daily, business days, integer
    steps, gaps of every density) gives what infer_freq gives each series alone."""
    from tsrnn.data import panel as P
    from tsrnn.data.frequency import infer_freq

    rng = np.random.default_rng(1)
    fast = 0
    for _ in range(300):
        kind = rng.choice(["h", "D", "B", "15min", "int", "mixed"])
        parts = []
        for _ in range(rng.integers(2, 6)):
            n = int(rng.integers(2, 40))
            if kind == "int":
                x = np.arange(n) * 3
            else:
                freq = kind if kind != "mixed" else rng.choice(["h", "D", "2h"])
                x = pd.date_range("2024-01-01", periods=n, freq=freq).asi8
            keep = rng.random(n) > rng.choice([0, 0.1, 0.6])
            keep[:2] = True
            parts.append(np.unique(x[keep]))
        ids = np.array([f"s{i}" for i in range(len(parts))], dtype=object)
        t = np.concatenate(parts).astype(np.int64)
        bounds = np.concatenate([[0], np.cumsum([len(p) for p in parts])])
        is_dt = kind != "int"
        alone = {
            ids[i]: infer_freq(
                P._stamps(t[bounds[i] : bounds[i + 1]], None)
                if is_dt
                else t[bounds[i] : bounds[i + 1]]
            )
            for i in range(len(ids))
        }
        assert P._series_freqs(ids, t, bounds, is_dt, None) == alone
        fast += P._steady_freqs(ids, t, bounds, is_dt, None) is not None
    assert fast > 100  # the vectorized path did most of the regular cases


def test_calendar_grids_of_all_series_at_once_equal_one_series_at_a_time():
    """Weeks, months, quarters and years without gaps are named all at once; gaps, month
    days that are neither the first nor the last, times of day and single points go to
    infer_freq: either way each series gets what infer_freq gives it alone."""
    from tsrnn.data import panel as P
    from tsrnn.data.frequency import infer_freq

    rng = np.random.default_rng(2)
    decided = 0
    kinds = ["MS", "ME", "QS-JAN", "QS-NOV", "QE-DEC", "QE-AUG", "YS-JUL", "YE-DEC", "W-SUN"]
    kinds += ["W-WED", "SMS"]
    for _ in range(200):
        parts = []
        for _ in range(rng.integers(2, 6)):
            n = int(rng.integers(1, 30))
            start = pd.Timestamp("1900-01-01") + pd.Timedelta(days=int(rng.integers(0, 30_000)))
            x = pd.date_range(start, periods=n, freq=rng.choice(kinds)).as_unit("ns").asi8
            if rng.random() < 0.2:
                x = x + int(rng.choice([3_600, 86_400 * 3])) * 10**9  # off midnight, mid-month
            if rng.random() < 0.3 and n > 3:
                x = np.delete(x, 1)  # a gap
            parts.append(x)
        ids = np.array([f"s{i}" for i in range(len(parts))], dtype=object)
        t = np.concatenate(parts).astype(np.int64)
        bounds = np.concatenate([[0], np.cumsum([len(p) for p in parts])])
        alone = {
            ids[i]: infer_freq(P._stamps(t[bounds[i] : bounds[i + 1]], None))
            for i in range(len(ids))
        }
        assert P._series_freqs(ids, t, bounds, True, None) == alone
        quick = P._calendar_freqs(ids, t, bounds)
        assert all(alone[k] == v for k, v in quick.items())
        decided += len(quick)
    assert decided > 300  # the vectorized path named most series


def test_counts_per_series_go_past_a_byte():
    """Observed points are counted as bytes summed into int64: 300 in a series is 300."""
    from tsrnn.data.panel import per_series_count

    mask = np.r_[np.ones(300, bool), np.zeros(5, bool), [True, False, True]]
    offsets = np.array([0, 300, 305, 308])
    assert per_series_count(mask, offsets).tolist() == [300, 0, 2]
    # many series, a slice of them at a time (a series longer than a slice too)
    from tsrnn.data import panel as panel_module

    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 50, size=400)
    lengths[7] = 300
    offsets = np.r_[0, np.cumsum(lengths)]
    mask = rng.random(offsets[-1]) < 0.7
    expected = [int(mask[a:b].sum()) for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
    for size in (1 << 22, 64, 1):
        panel_module._SLICE = size
        try:
            assert per_series_count(mask, offsets).tolist() == expected
        finally:
            panel_module._SLICE = 1 << 22
