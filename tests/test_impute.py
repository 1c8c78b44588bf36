import logging

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from panels import make_panel
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from tsrnn import DataError, Panel
from tsrnn.data.impute import STRATEGIES, Imputer

nan = np.nan


def split(panel, values):
    return [values[panel.offsets[i] : panel.offsets[i + 1]].tolist() for i in range(panel.n_series)]


# Three ragged series whose gaps sit at the boundaries: a trailing gap before a series that
# opens with one. A fill that leaks across a boundary gives a different answer below.
RAGGED = [[nan, 1, nan, 3, nan], [nan, nan, 10, nan, 14], [7, nan, nan]]
EXPECTED = {
    ("zero", False): [[0, 1, 0, 3, 0], [0, 0, 10, 0, 14], [7, 0, 0]],
    ("zero", True): [[nan, 1, 0, 3, 0], [nan, nan, 10, 0, 14], [7, 0, 0]],
    ("ffill", False): [[1, 1, 1, 3, 3], [10, 10, 10, 10, 14], [7, 7, 7]],
    ("ffill", True): [[nan, 1, 1, 3, 3], [nan, nan, 10, 10, 14], [7, 7, 7]],
    ("linear", False): [[1, 1, 2, 3, 3], [10, 10, 10, 12, 14], [7, 7, 7]],
    ("linear", True): [[nan, 1, 1, 3, 3], [nan, nan, 10, 10, 14], [7, 7, 7]],
    ("none", False): RAGGED,
    ("none", True): RAGGED,
}


@pytest.mark.parametrize(("strategy", "causal"), sorted(EXPECTED))
def test_fills_ragged_panel_without_leaking_across_series(strategy, causal):
    panel = make_panel(RAGGED)
    out = Imputer(strategy, causal=causal).fit_transform(panel)
    np.testing.assert_array_equal(np.concatenate(EXPECTED[strategy, causal]), out.values)


@pytest.mark.parametrize(
    ("causal", "expected"),
    [
        # x: seasons of 3; y: nothing earlier at its phase, so linear (or last value if causal).
        (False, [[1, 2, 3, 4, 2, 6, 4, 2, 6, 10], [5, 5, 7, 9, 5]]),
        (True, [[1, 2, 3, 4, 2, 6, 4, 2, 6, 10], [nan, 5, 5, 9, 5]]),
    ],
)
def test_seasonal_takes_the_closest_observed_earlier_season(causal, expected):
    # y[2] would read 6 (x's last value at phase 2) if phases leaked across series.
    panel = make_panel([[1, 2, 3, 4, nan, 6, nan, nan, nan, 10], [nan, 5, nan, 9, nan]])
    out = Imputer("seasonal", causal=causal, season=3).fit_transform(panel)
    np.testing.assert_array_equal(out.values, np.concatenate(expected))


def test_season_defaults_to_the_panel_frequency():
    stamps = pd.date_range("2024-01-01", periods=72, freq="h")
    y = pd.Series(np.tile(np.arange(24.0), 3), index=stamps, name="load")
    y.iloc[[30, 50, 60]] = nan
    imputer = Imputer("seasonal").fit(Panel.from_series(y))
    assert imputer.season_ == 24
    out = imputer.transform(Panel.from_series(y)).values
    np.testing.assert_array_equal(out, np.tile(np.arange(24.0), 3))


def seasonal_series(n=240, period=12, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    truth = 50 + 0.05 * t + 8 * np.sin(2 * np.pi * t / period)
    y = truth + rng.normal(0, 0.3, n)
    y[rng.random(n) < 0.2] = nan
    y[150:170] = nan  # a long gap, more than a season
    y[-1] = truth[-1]
    return truth, y


@pytest.mark.parametrize("causal", [False, True])
def test_kalman_recovers_a_seasonal_signal_better_than_linear(causal):
    truth, y = seasonal_series()
    panel = make_panel([y])
    gaps = ~panel.observed
    gaps[:24] = False  # the causal filter needs a couple of seasons to lock on

    def error(strategy):
        out = Imputer(strategy, causal=causal, season=12).fit_transform(panel).values
        return np.sqrt(np.mean((out[gaps] - truth[gaps]) ** 2))

    assert error("kalman") < 0.5 * error("linear")
    assert error("kalman") < 1.5


def test_kalman_falls_back_to_linear_with_a_warning_for_unfittable_series(caplog):
    truth, y = seasonal_series()
    panel = make_panel([y, [2, nan, 4]])
    with caplog.at_level(logging.WARNING, logger="tsrnn.data.impute"):
        imputer = Imputer("kalman", season=12).fit(panel)
    assert imputer.kalman_["s0"] is not None and imputer.kalman_["s1"] is None
    assert "s1" in caplog.text
    out = imputer.transform(panel)
    assert split(panel, out.values)[1] == [2, 3, 4]
    assert np.isfinite(out.values).all()


def test_kalman_transform_needs_the_series_it_was_fitted_on():
    imputer = Imputer("kalman").fit(make_panel([[1, 2, nan, 4, 5]]))
    other = make_panel([[1, 2, nan, 4, 5], [1, nan, 3, 4]])
    with pytest.raises(DataError, match="s1"):
        imputer.transform(other)


def random_panel(seed, n_series=4):
    rng = np.random.default_rng(seed)
    series = []
    for _ in range(n_series):
        y = rng.normal(10, 3, rng.integers(1, 40)).astype(np.float32)
        y[rng.random(len(y)) < 0.4] = nan
        y[rng.integers(len(y))] = 1.0  # at least one observation
        series.append(y)
    return make_panel(series)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_observed_mask_and_values_are_never_changed(strategy, causal):
    panel = random_panel(1)
    mask, values = panel.observed.copy(), panel.values.copy()
    out = Imputer(strategy, causal=causal, season=3).fit_transform(panel)
    np.testing.assert_array_equal(out.observed, mask)
    np.testing.assert_array_equal(out.values[mask], values[mask])
    np.testing.assert_array_equal(panel.values, values)  # the input panel is left alone
    if strategy != "none" and not causal:
        assert np.isfinite(out.values).all()


@pytest.mark.parametrize("strategy", ["zero", "ffill", "linear", "seasonal"])
def test_imputing_twice_gives_the_same_panel(strategy):
    # Only observed values are read, so values filled earlier (or junk there) change nothing.
    panel = random_panel(2)
    imputer = Imputer(strategy, season=3).fit(panel)
    once = imputer.transform(panel)
    np.testing.assert_array_equal(imputer.transform(once).values, once.values)


# ---------------------------------------------------------------------- causal: no future
@st.composite
def panels_and_cuts(draw):
    """A random ragged panel with gaps, and for each series a cut t and a rewritten future."""
    n_series = draw(st.integers(1, 3))
    series, future, cuts = [], [], []
    for _ in range(n_series):
        length = draw(st.integers(1, 30))
        values = draw(st.lists(st.floats(-100, 100, width=32), min_size=length, max_size=length))
        seen = draw(st.lists(st.booleans(), min_size=length, max_size=length))
        t = draw(st.integers(0, length - 1))
        seen[draw(st.integers(0, t))] = True  # both panels keep an observed point: a valid Panel
        other = draw(st.lists(st.floats(-100, 100, width=32), min_size=length, max_size=length))
        other_seen = draw(st.lists(st.booleans(), min_size=length, max_size=length))
        y = np.where(seen, values, nan)
        z = np.where(np.arange(length) <= t, y, np.where(other_seen, other, nan))
        series.append(y)
        future.append(z)
        cuts.append(t)
    return make_panel(series), make_panel(future), cuts


def assert_past_unchanged(strategy, data, season):
    panel, changed, cuts = data
    imputer = Imputer(strategy, causal=True, season=season).fit(panel)
    a, b = imputer.transform(panel), imputer.transform(changed)
    for i, t in enumerate(cuts):
        lo = panel.offsets[i]
        np.testing.assert_array_equal(a.values[lo : lo + t + 1], b.values[lo : lo + t + 1])


@pytest.mark.parametrize("strategy", ["none", "zero", "ffill", "linear", "seasonal"])
@settings(max_examples=60, deadline=None)
@given(data=panels_and_cuts(), season=st.integers(1, 6))
def test_causal_fill_never_reads_the_future(strategy, data, season):
    assert_past_unchanged(strategy, data, season)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=panels_and_cuts())
def test_causal_kalman_never_reads_the_future(data):
    # The model's variances come from fit; transform with them fixed reads only the past.
    assert_past_unchanged("kalman", data, 4)


# ---------------------------------------------------------------------- estimator contract
def test_parameters_are_checked_in_fit_and_clone_keeps_them():
    imputer = Imputer("cubic")  # stored as given: scikit-learn's clone relies on that
    assert clone(imputer).get_params() == {"strategy": "cubic", "causal": False, "season": None}
    with pytest.raises(ValueError, match="strategy"):
        imputer.fit(make_panel([[1, 2]]))
    with pytest.raises(ValueError, match="season"):
        Imputer("seasonal", season=0).fit(make_panel([[1, 2]]))


def test_transform_before_fit_raises():
    with pytest.raises(NotFittedError):
        Imputer().transform(make_panel([[1, nan, 3]]))


def test_observed_nan_is_a_data_error_naming_the_series():
    panel = make_panel([[1, 2], [3, 4]])
    panel.values[3] = nan  # still marked observed
    with pytest.raises(DataError, match="s1"):
        Imputer().fit(panel)
