"""M4-style seasonal adjustment: the 90 % autocorrelation test and classical decomposition.

This is how the M4 organisers' benchmarks (Naive2, SES, Holt, Damped, Comb, Theta) treat
seasonality (Makridakis, Spiliotis & Assimakopoulos, IJF 36(1), 2020, and their R code): test
for seasonality at lag ``m``; if seasonal, divide the series by the seasonal indices of a
classical multiplicative decomposition, forecast the adjusted series, and multiply the forecasts
by the last ``m`` indices, repeated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def acf(y: np.ndarray, lags: int) -> np.ndarray:
    """Sample autocorrelations at lags ``1..lags`` (the usual biased estimator, as R's ``acf``)."""
    x = np.asarray(y, dtype=np.float64) - np.mean(y)
    denom = np.dot(x, x)
    if denom == 0:
        return np.zeros(lags)
    return np.array([np.dot(x[k:], x[:-k]) / denom for k in range(1, lags + 1)])


def seasonality_test(y: np.ndarray, season: int) -> bool:
    """M4's test: is ``|r_m|`` above its 90 % one-sided limit under white noise?

    The limit is ``1.645 * sqrt((1 + 2 * sum_{k<m} r_k^2) / n)``; series shorter than three
    seasons are not seasonal.

    >>> t = np.arange(120)
    >>> seasonality_test(10 + np.sin(2 * np.pi * t / 12), 12)
    True
    >>> seasonality_test(np.random.default_rng(0).normal(size=120), 12)
    False
    """
    n = len(y)
    if season <= 1 or n < 3 * season:
        return False
    r = acf(y, season)
    limit = 1.645 * np.sqrt((1.0 + 2.0 * np.sum(r[: season - 1] ** 2)) / n)
    return bool(abs(r[season - 1]) > limit)


def seasonal_indices(y: np.ndarray, season: int) -> np.ndarray:
    """Multiplicative seasonal indices of a classical decomposition, one per point of ``y``.

    As R's ``decompose(type = "multiplicative")``: a centred moving average of order ``m``
    (``2 x m`` for even ``m``) as the trend, the mean ratio ``y / trend`` at each phase,
    normalized to average 1. Phase 0 is the series' first point.
    """
    y = np.asarray(y, dtype=np.float64)
    n, m = len(y), season
    # Even m: a 2 x m moving average, so the window stays centred on a point.
    weights = np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m
    half = len(weights) // 2
    trend = np.full(n, np.nan)
    trend[half : n - half] = np.convolve(y, weights, mode="valid")
    ratio = y / trend
    phase = np.arange(n) % m
    figure = np.array([np.nanmean(ratio[phase == p]) for p in range(m)])
    figure /= figure.mean()
    return figure[phase]


@dataclass(frozen=True)
class Adjustment:
    """A series' seasonal adjustment: ``adjusted = y / indices``; forecasts times ``future``."""

    adjusted: np.ndarray
    indices: np.ndarray  # (n,) in-sample seasonal indices (ones when not seasonal)
    last: np.ndarray  # (m,) the last season's indices, repeated over the forecast horizon
    seasonal: bool

    def reseasonalize(self, forecast: np.ndarray) -> np.ndarray:
        """Multiply forecasts (``(h,)`` or ``(h, ...)``) by the continuing seasonal indices."""
        h = len(forecast)
        factors = np.resize(self.last, h)
        return forecast * factors.reshape((h,) + (1,) * (np.ndim(forecast) - 1))


def deseasonalize(y: np.ndarray, season: int, test: bool = True) -> Adjustment:
    """Seasonally adjust ``y`` the M4 way (only if ``test`` is off or the test finds a season).

    Multiplicative decomposition needs positive data: a series with a value ``<= 0`` is left
    unadjusted.

    >>> t = np.arange(48)
    >>> y = (100 + t) * (1 + 0.2 * np.sin(2 * np.pi * t / 12))
    >>> adj = deseasonalize(y, 12)
    >>> adj.seasonal, adj.last.shape
    (True, (12,))
    """
    y = np.asarray(y, dtype=np.float64)
    ok = season > 1 and len(y) >= 2 * season + 1 and bool(np.all(y > 0))
    if ok and (not test or seasonality_test(y, season)):
        indices = seasonal_indices(y, season)
        return Adjustment(y / indices, indices, indices[-season:], True)
    ones = np.ones(len(y))
    return Adjustment(y, ones, np.ones(max(season, 1)), False)
