"""Tests for tsrnn.models.stats.naive: the naive family and M4's Naive2, by hand."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from statsmodels.tsa.seasonal import seasonal_decompose

from tsrnn import Panel, datasets
from tsrnn.models.stats.naive import (
    Drift,
    HistoricAverage,
    Naive,
    Naive2,
    SeasonalNaive,
    WindowAverage,
)

NAN = np.nan
MODELS = [
    Naive(),
    SeasonalNaive(season=3),
    Drift(),
    HistoricAverage(),
    WindowAverage(window=4),
    Naive2(season=4),
]
IDS = [type(m).__name__ for m in MODELS]


def panel(*series: list[float], freq: str | int = 1, start: object = 0) -> Panel:
    """A panel holding the series exactly as given: leading and trailing NaN kept as gaps."""
    values = np.concatenate([np.asarray(s, dtype=np.float64) for s in series])
    lengths = [len(s) for s in series]
    starts = (
        pd.Index([start] * len(series))
        if isinstance(freq, int)
        else pd.DatetimeIndex([start] * len(series))
    )
    return Panel(
        values=values,
        observed=~np.isnan(values),
        offsets=np.r_[0, np.cumsum(lengths)],
        ids=[f"s{i}" for i in range(len(series))],
        starts=starts,
        freq=freq,
    )


def forecast(model, data, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Point forecasts and standard deviations, ``(n_series, h)``, read off ``predict``."""
    out = model.fit(data).predict(h, quantiles=[norm.cdf(1.0)])
    n = len(out) // h
    mean = out[model.name].to_numpy().reshape(n, h)
    std = out[f"{model.name}-q{norm.cdf(1.0):g}"].to_numpy().reshape(n, h) - mean
    return mean, std


def seasonal_with_noise(n: int, m: int, seed: int = 0) -> np.ndarray:
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    return (100 + t) * (1 + 0.3 * np.sin(2 * np.pi * t / m)) + rng.normal(0, 2, n)


# ---------------------------------------------------------------------- hand-computed forecasts
def test_naive_by_hand():
    mean, std = forecast(Naive(), panel([1, 3, 2, 5]), 3)
    sigma = np.sqrt((2**2 + 1**2 + 3**2) / 3)  # one-step differences 2, -1, 3
    np.testing.assert_allclose(mean, [[5, 5, 5]])
    np.testing.assert_allclose(std, [sigma * np.sqrt([1, 2, 3])], rtol=1e-6)


def test_seasonal_naive_by_hand():
    y = [1, 2, 3, 2, 4, 6, 3, 5, 7]
    mean, std = forecast(SeasonalNaive(season=3), panel(y), 7)
    sigma = np.sqrt((1 + 4 + 9 + 1 + 1 + 1) / 6)  # seasonal differences 1, 2, 3, 1, 1, 1
    np.testing.assert_allclose(mean, [[3, 5, 7, 3, 5, 7, 3]])
    k = np.array([0, 0, 0, 1, 1, 1, 2])  # complete seasons before each step
    np.testing.assert_allclose(std, [sigma * np.sqrt(k + 1)], rtol=1e-6)


def test_naive_and_seasonal_naive_forecast_large_values_exactly():
    """A series around 1e8 with decimals: float32 would forecast 100000008.0."""
    frame = pd.DataFrame(
        {
            "unique_id": "big",
            "ds": pd.date_range("2024-01-01", periods=6, freq="D"),
            "y": [100000000.9, 100000001.9, 100000002.9, 100000003.9, 100000004.9, 100000005.9],
        }
    )
    assert Naive().fit(frame).predict(2)["Naive"].tolist() == [100000005.9] * 2
    seasonal = SeasonalNaive(season=3).fit(frame).predict(4)["SeasonalNaive"].tolist()
    assert seasonal == [100000003.9, 100000004.9, 100000005.9, 100000003.9]


def test_seasonal_naive_continues_the_phase_of_a_series_ending_mid_season():
    # Seven points, m = 3: the next steps are at phases 1, 2, 0.
    mean, _ = forecast(SeasonalNaive(season=3), panel([1, 2, 3, 2, 4, 6, 3]), 4)
    np.testing.assert_allclose(mean, [[4, 6, 3, 4]])


def test_drift_by_hand():
    mean, std = forecast(Drift(), panel([1, 2, 4, 7]), 2)
    # slope (7 - 1) / 3 = 2; residuals 1 - 2, 2 - 2, 3 - 2: sigma^2 = 2 / (3 - 1) = 1.
    np.testing.assert_allclose(mean, [[9, 11]])
    np.testing.assert_allclose(std, [np.sqrt([1 * (1 + 1 / 3), 2 * (1 + 2 / 3)])], rtol=1e-6)


def test_historic_and_window_average_by_hand():
    mean, std = forecast(HistoricAverage(), panel([2, 4, 6, 8]), 3)
    np.testing.assert_allclose(mean, [[5, 5, 5]])
    np.testing.assert_allclose(std, np.sqrt(20 / 3 * (1 + 1 / 4)), rtol=1e-6)
    mean, std = forecast(WindowAverage(window=2), panel([2, 4, 6, 8]), 3)
    np.testing.assert_allclose(mean, [[7, 7, 7]])
    np.testing.assert_allclose(std, np.sqrt(2 * (1 + 1 / 2)), rtol=1e-6)
    # A window longer than the series averages all of it.
    np.testing.assert_allclose(forecast(WindowAverage(window=9), panel([2, 4, 6, 8]), 1)[0], 5)


def test_naive2_by_hand_on_a_seasonal_series():
    # Level 10 times a pattern: the indices are the pattern, the adjusted series is flat 10,
    # and the forecast continues the pattern from the phase after the end (15 points: phase 3).
    pattern = np.array([0.5, 1.0, 1.5, 1.0])
    y = 10 * np.tile(pattern, 4)[:15]
    model = Naive2(season=4)
    mean, std = forecast(model, panel(y), 6)
    assert model.seasonal_.tolist() == [True]
    np.testing.assert_allclose(mean, [[10, 5, 10, 15, 10, 5]], rtol=1e-6)
    np.testing.assert_allclose(std, 0, atol=1e-5)  # the adjusted series never moves


def test_naive2_matches_a_statsmodels_decomposition_with_intervals():
    y = seasonal_with_noise(100, 12)
    model = Naive2(season=12)
    mean, std = forecast(model, panel(y), 30)
    assert model.seasonal_.tolist() == [True]
    indices = seasonal_decompose(y, model="multiplicative", period=12).seasonal
    adjusted = y / indices
    future = np.resize(indices[-12:], 30)
    sigma = np.sqrt(np.mean(np.diff(adjusted) ** 2))
    np.testing.assert_allclose(mean, [adjusted[-1] * future], rtol=1e-9)
    np.testing.assert_allclose(std, [sigma * np.sqrt(np.arange(1, 31)) * future], rtol=1e-6)


def test_naive2_is_naive_where_the_test_finds_no_season():
    y = 100 + np.random.default_rng(4).normal(0, 3, 80)
    model = Naive2(season=12)
    got = forecast(model, panel(y), 15)
    assert model.seasonal_.tolist() == [False]
    np.testing.assert_allclose(got, forecast(Naive(), panel(y), 15), rtol=1e-12)
    # m = 1 (integer time, by default): never seasonal.
    np.testing.assert_allclose(
        forecast(Naive2(), panel(seasonal_with_noise(60, 12)), 5),
        forecast(Naive(), panel(seasonal_with_noise(60, 12)), 5),
    )


# ---------------------------------------------------------------------- intervals
@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_intervals_are_nested_centred_and_widen_with_the_horizon(model):
    y = seasonal_with_noise(60, 4, seed=5)
    y[[10, 11, 30]] = np.nan
    levels = [0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975]
    out = model.fit(panel(y)).predict(13, quantiles=levels)
    q = out[[f"{model.name}-q{level:g}" for level in levels]].to_numpy()
    assert np.isfinite(q).all()
    assert (np.diff(q, axis=1) > 0).all(), "each wider interval contains the narrower"
    np.testing.assert_allclose(q[:, 3], out[model.name])
    width = q[:, -1] - q[:, 0]
    if isinstance(model, Naive2):  # the naive interval of the adjusted series, reseasonalized
        width = width / model.factors_[0, np.arange(13) % 4]
    assert (np.diff(width) >= -1e-9).all()
    if isinstance(model, Naive | Drift | Naive2):
        assert (np.diff(width) > 0).all()


# ---------------------------------------------------------------------- missing values
def test_naive_reads_the_last_observed_value_and_widens_over_a_trailing_gap():
    mean, std = forecast(Naive(), panel([1, 3, 2, 5, NAN, NAN]), 2)
    sigma = np.sqrt(14 / 3)
    np.testing.assert_allclose(mean, [[5, 5]])
    np.testing.assert_allclose(std, [sigma * np.sqrt([3, 4])], rtol=1e-6)


def test_naive_residuals_skip_pairs_across_a_gap():
    mean, std = forecast(Naive(), panel([1, 3, NAN, 5, 6]), 1)
    np.testing.assert_allclose(mean, [[6]])
    np.testing.assert_allclose(std, [[np.sqrt((2**2 + 1**2) / 2)]], rtol=1e-6)


def test_seasonal_naive_takes_an_older_season_where_the_last_has_a_gap():
    mean, std = forecast(SeasonalNaive(season=3), panel([1, 2, 3, 2, NAN, 6]), 3)
    sigma = np.sqrt((1**2 + 3**2) / 2)  # observed pairs (2, 1) and (6, 3)
    np.testing.assert_allclose(mean, [[2, 2, 6]])  # phase 1 from the first season
    np.testing.assert_allclose(std, [sigma * np.sqrt([1, 2, 1])], rtol=1e-6)


def test_drift_with_gaps_spans_first_to_last_observation():
    mean, std = forecast(Drift(), panel([1, NAN, 5, 7, 9.5, NAN]), 2)
    slope = (9.5 - 1) / 4
    resid = np.array([2, 2.5]) - slope  # the two observed one-step differences
    sigma = np.sqrt(np.sum(resid**2) / 1)
    steps = np.array([2, 3])  # past the last observation at position 4
    np.testing.assert_allclose(mean, [9.5 + steps * slope])
    np.testing.assert_allclose(std, [sigma * np.sqrt(steps * (1 + steps / 4))], rtol=1e-6)


def test_averages_use_observed_values_only():
    y = [NAN, 2, NAN, 4, 9, NAN]
    np.testing.assert_allclose(forecast(HistoricAverage(), panel(y), 2)[0], 5)
    np.testing.assert_allclose(forecast(WindowAverage(window=2), panel(y), 2)[0], 6.5)


def test_naive2_imputes_for_the_decomposition_and_starts_from_the_last_observation():
    y = seasonal_with_noise(100, 12)
    y[[40, 41, 42]] = np.nan
    y[-3:] = np.nan  # a trailing gap: the forecast starts from position 96
    model = Naive2(season=12)
    mean, std = forecast(model, panel(y), 12)
    filled = pd.Series(y[:97]).interpolate().to_numpy()
    filled = np.r_[filled, np.repeat(filled[-1], 3)]  # "linear" is constant past the end
    indices = seasonal_decompose(filled, model="multiplicative", period=12).seasonal
    adjusted = filled / indices
    future = np.resize(indices[-12:], 12)
    np.testing.assert_allclose(mean, [adjusted[96] * future], rtol=1e-6)
    seen = ~np.isnan(y)
    steps = np.diff(adjusted)[seen[1:] & seen[:-1]]
    sigma = np.sqrt(np.mean(steps**2))
    np.testing.assert_allclose(std, [sigma * np.sqrt(np.arange(4, 16)) * future], rtol=1e-5)


def test_leading_gaps_are_not_part_of_a_series():
    y = seasonal_with_noise(80, 4)
    for model in MODELS:
        padded = forecast(model, panel(np.r_[[NAN] * 5, y]), 6)
        np.testing.assert_allclose(padded, forecast(model, panel(y), 6), rtol=1e-6)


# ---------------------------------------------------------------------- panels
@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_ragged_panel_gives_each_series_its_own_forecast(model):
    series = [seasonal_with_noise(n, 4, seed=n) for n in (7, 31, 64)]
    series[1][[3, 4, 20]] = np.nan
    series[2][-2:] = np.nan
    together = forecast(model, panel(*series), 9)
    for i, y in enumerate(series):
        alone = forecast(model, panel(y), 9)
        np.testing.assert_allclose(together[0][i], alone[0][0], rtol=1e-12)
        np.testing.assert_allclose(together[1][i], alone[1][0], rtol=1e-12)


def test_forecasts_are_long_format_named_after_the_model_on_the_calendar():
    air = datasets.load("air_passengers")
    for model in MODELS:
        out = model.fit(air).predict(2, quantiles=[0.1])
        name = type(model).__name__
        assert list(out.columns) == ["unique_id", "ds", name, f"{name}-q0.1"]
        assert out["ds"].tolist() == [pd.Timestamp("1961-01-01"), pd.Timestamp("1961-02-01")]


def test_intervals_are_nan_where_no_residual_exists(caplog):
    with caplog.at_level(logging.WARNING, logger="tsrnn.models.stats.naive"):
        mean, std = forecast(Naive(), panel([4.0], [1, 2, 3]), 2)
    np.testing.assert_allclose(mean, [[4, 4], [3, 3]])
    assert np.isnan(std[0]).all() and np.isfinite(std[1]).all()
    assert "1 series" in caplog.text and "s0" in caplog.text


def test_seasonal_naive_on_a_series_shorter_than_a_season():
    model = SeasonalNaive(season=4)
    mean, std = forecast(model, panel([1, 2]), 5)
    # Phases 2 and 3 were never observed: the last value stands in, without an interval.
    np.testing.assert_allclose(mean, [[2, 2, 1, 2, 2]])
    assert np.isnan(std).all()  # no seasonal difference to estimate sigma from


# ---------------------------------------------------------------------- parameters
@pytest.mark.parametrize(
    ("freq", "season"), [("h", 24), ("MS", 12), ("D", 7), ("W-SUN", 52), (1, 1)]
)
def test_season_defaults_from_the_frequency(freq, season):
    start = "2023-01-01" if isinstance(freq, str) else 0  # a Sunday and a month start
    data = panel(np.arange(1.0, 200.0), freq=freq, start=start)
    for model in (SeasonalNaive(), Naive2(), WindowAverage()):
        model.fit(data)
        assert model.season_ == season
    assert WindowAverage().fit(data).window_ == season
    assert SeasonalNaive(season=5).fit(data).season_ == 5


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (SeasonalNaive(season=0), "season must be a positive integer, got 0"),
        (SeasonalNaive(season=2.5), "season must be a positive integer, got 2.5"),
        (Naive2(season=-1), "Naive2: season must be a positive integer"),
        (WindowAverage(window=0), "WindowAverage: window must be a positive integer, got 0"),
        (WindowAverage(window="3"), "window must be a positive integer, got '3'"),
        (WindowAverage(window=True), "window must be a positive integer, got True"),
    ],
)
def test_bad_parameters_fail_in_fit_with_a_clear_message(model, message):
    with pytest.raises(ValueError, match=message):
        model.fit(panel([1, 2, 3]))


@pytest.mark.parametrize("h", [0, -1, 2.0])
def test_bad_horizon_is_refused(h):
    with pytest.raises(ValueError, match="horizon h must be a positive integer"):
        Naive().fit(panel([1, 2, 3])).predict(h)
