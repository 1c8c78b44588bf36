"""Tests for tsrnn.models.stats.seasonality: M4's seasonality test and classical decomposition."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.tsa.seasonal import seasonal_decompose
from statsmodels.tsa.stattools import acf as statsmodels_acf

from tsrnn.models.stats.seasonality import (
    acf,
    deseasonalize,
    r_max_lag,
    seasonal_indices,
    seasonality_test,
)

# Four seasons of a pattern around a flat level 10: its 2 x 4 moving average is exactly 10.
PATTERN = np.array([0.5, 1.0, 1.5, 1.0])
FLAT_SEASONAL = 10 * np.tile(PATTERN, 4)


def noisy_seasonal(n: int, m: int, seed: int = 0) -> np.ndarray:
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    return (50 + 0.2 * t) * (1 + 0.3 * np.sin(2 * np.pi * t / m)) + rng.normal(0, 1, n)


def test_acf_matches_hand_values_and_statsmodels():
    # Deviations from the mean 2 are -1, 1, -1, ...: sum of squares 6, five lag-1 products of
    # -1 and four lag-2 products of +1.
    assert acf(np.array([1.0, 3, 1, 3, 1, 3]), 2) == pytest.approx([-5 / 6, 4 / 6])
    y = noisy_seasonal(100, 12)
    assert acf(y, 30) == pytest.approx(statsmodels_acf(y, nlags=30, fft=False)[1:], rel=1e-12)
    assert acf(np.full(10, 3.0), 3).tolist() == [0.0, 0.0, 0.0]  # a constant: never seasonal


def test_seasonality_test_by_hand_on_a_seasonal_pattern():
    # Deviations -5, 0, 5, 0 repeated: r = (0, -0.875, 0, 0.75); the limit at lag 4 is
    # 1.645 * sqrt((1 + 2 * 0.875^2) / 16) = 0.6543, below r_4.
    assert acf(FLAT_SEASONAL, 4) == pytest.approx([0.0, -0.875, 0.0, 0.75])
    limit = 1.645 * np.sqrt((1 + 2 * 0.875**2) / 16)
    assert limit == pytest.approx(0.6543, abs=1e-4)
    assert seasonality_test(FLAT_SEASONAL, 4)


def test_seasonality_test_by_hand_below_the_limit():
    # r_2 = 4/6 against 1.645 * sqrt((1 + 2 * (5/6)^2) / 6) = 1.038: not significant.
    assert not seasonality_test(np.array([1.0, 3, 1, 3, 1, 3]), 2)


def test_seasonality_test_squares_r1_as_the_r_benchmark_code_does():
    # The M4 Python script (ML_benchmarks.py) adds r_1 unsquared to the limit; the R code that
    # made the official benchmark forecasts squares it. This series tells the two apart.
    t = np.arange(24)
    y = (t // 2 + np.array([0, 0, 3, 3])[t % 4]).astype(float)
    r = acf(y, 4)
    r_limit = 1.645 * np.sqrt((1 + 2 * np.sum(r[:3] ** 2)) / 24)
    python_limit = 1.645 * np.sqrt((1 + 2 * (r[0] + np.sum(r[1:3] ** 2))) / 24)
    assert r_limit < r[3] < python_limit
    assert seasonality_test(y, 4)


def test_short_or_non_seasonal_series_are_not_seasonal():
    assert not seasonality_test(FLAT_SEASONAL[:11], 4)  # fewer than three seasons
    assert not seasonality_test(FLAT_SEASONAL, 1)
    assert not seasonality_test(np.random.default_rng(1).normal(10, 1, 200), 12)


def test_seasonality_test_needs_lag_m_within_r_acf_default_lags():
    # R's acf computes floor(10 log10 n) lags; the M4 code reads r_m as NA (not seasonal) when
    # m is beyond them: for hourly data (m = 24) below 252 points.
    assert (r_max_lag(251), r_max_lag(252)) == (23, 24)
    day = 10 + np.sin(2 * np.pi * np.arange(24) / 24)
    assert not seasonality_test(np.tile(day, 11)[:251], 24)
    assert seasonality_test(np.tile(day, 11)[:252], 24)


@pytest.mark.parametrize(("n", "m"), [(96, 12), (70, 7), (100, 12), (61, 4)])
def test_seasonal_indices_match_statsmodels_multiplicative_decomposition(n, m):
    y = noisy_seasonal(n, m)
    expected = seasonal_decompose(y, model="multiplicative", period=m).seasonal
    np.testing.assert_allclose(seasonal_indices(y, m), expected, rtol=1e-12)


def test_seasonal_indices_by_hand():
    # Even m = 2: trend (0.25, 0.5, 0.25)-weighted = 3 inside; ratios 4/3 and 2/3 by phase.
    got = seasonal_indices(np.array([2.0, 4, 2, 4, 2, 4]), 2)
    np.testing.assert_allclose(got, [2 / 3, 4 / 3] * 3)
    np.testing.assert_allclose(seasonal_indices(FLAT_SEASONAL, 4), np.tile(PATTERN, 4))


def test_deseasonalize_adjusts_and_continues_the_season_past_the_end():
    y = FLAT_SEASONAL[:15]  # ends on phase 2: the forecast starts at phase 3
    adj = deseasonalize(y, 4)
    assert adj.seasonal
    np.testing.assert_allclose(adj.adjusted, 10.0)
    np.testing.assert_allclose(adj.indices * adj.adjusted, y)
    np.testing.assert_allclose(adj.reseasonalize(np.full(6, 10.0)), [10, 5, 10, 15, 10, 5])
    both = adj.reseasonalize(np.ones((5, 2)))  # (h, ...) forecasts, e.g. quantiles
    np.testing.assert_allclose(both[:, 1], PATTERN[[3, 0, 1, 2, 3]])


def test_deseasonalize_leaves_non_seasonal_non_positive_or_short_series_alone():
    noise = np.random.default_rng(2).normal(10, 1, 60)
    for y, m in [(noise, 12), (FLAT_SEASONAL - 6, 4), (FLAT_SEASONAL[:8], 4), (noise, 1)]:
        adj = deseasonalize(y, m)
        assert not adj.seasonal
        np.testing.assert_array_equal(adj.adjusted, y)
        np.testing.assert_array_equal(adj.reseasonalize(np.ones(7)), np.ones(7))


def test_deseasonalize_without_the_test_always_decomposes():
    y = np.random.default_rng(3).normal(10, 1, 40)
    assert not deseasonalize(y, 4).seasonal
    assert deseasonalize(y, 4, test=False).seasonal


def test_deseasonalize_refuses_gaps():
    y = FLAT_SEASONAL.copy()
    y[5] = np.nan
    with pytest.raises(ValueError, match="impute"):
        deseasonalize(y, 4)
