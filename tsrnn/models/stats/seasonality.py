"""M4-style seasonal adjustment: the 90 % autocorrelation test and classical decomposition.

This is how the M4 organisers' statistical benchmarks (Naive2, SES, Holt, Damped, Comb, Theta)
treat seasonality (Makridakis, Spiliotis & Assimakopoulos, IJF 36(1), 2020, and their R code,
``Benchmarks and Evaluation.R`` in ``Mcompetitions/M4-methods``): test for seasonality at lag
``m``; if seasonal, divide the series by the seasonal indices of a classical multiplicative
decomposition (R's ``decompose``), forecast the adjusted series, and multiply the forecasts by
the last ``m`` indices, repeated.

It follows the R code, which made the official benchmark forecasts, not the Python script of
the same repository (``ML_benchmarks.py``, used for the MLP and RNN benchmarks): that one adds
``r_1`` unsquared to the test's limit, as its own comment admits. On M4 Hourly the two tests
agree on all 414 series, and Naive2 built on this module reproduces the official Naive2
forecasts to the digits the submission file holds (``tests/models/stats/test_naive_m4.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

# One-sided 90 % normal quantile, as the M4 code writes it (not scipy's 1.6448536...).
_TCRIT = 1.645


def acf(y: np.ndarray, lags: int) -> np.ndarray:
    """Sample autocorrelations at lags ``1..lags`` (the usual biased estimator, as R's ``acf``).

    >>> acf(np.array([1.0, 3.0, 1.0, 3.0, 1.0, 3.0]), 2).round(4).tolist()
    [-0.8333, 0.6667]
    """
    x = np.asarray(y, dtype=np.float64) - np.mean(y)
    denom = np.dot(x, x)
    if denom == 0:
        return np.zeros(lags)
    return np.array([np.dot(x[k:], x[:-k]) / denom for k in range(1, lags + 1)])


def r_max_lag(n: int) -> int:
    """How many autocorrelations R's ``acf`` computes by default: ``floor(10 log10 n)``.

    >>> r_max_lag(700), r_max_lag(251), r_max_lag(252)
    (28, 23, 24)
    """
    return min(int(np.floor(10 * np.log10(n))), n - 1) if n > 1 else 0


def seasonality_test(y: np.ndarray, season: int) -> bool:
    """M4's test: is ``|r_m|`` above its 90 % one-sided limit under white noise?

    The limit is ``1.645 * sqrt((1 + 2 * sum_{k<m} r_k^2) / n)`` (Bartlett's variance of
    ``r_m``). Not seasonal: series shorter than three seasons, and, as in the M4 R code, series
    for which R's ``acf`` does not reach lag ``m`` with its default number of lags
    (:func:`r_max_lag`; ``r_m`` is then ``NA`` and the R test says ``FALSE``): for ``m = 24``
    that is any series shorter than 252 points, for ``m = 52`` shorter than 158,490.

    >>> t = np.arange(120)
    >>> seasonality_test(10 + np.sin(2 * np.pi * t / 12), 12)
    True
    >>> seasonality_test(np.random.default_rng(0).normal(size=120), 12)
    False
    """
    n = len(y)
    if season <= 1 or n < 3 * season or season > r_max_lag(n):
        return False
    r = acf(y, season)
    limit = _TCRIT * np.sqrt((1.0 + 2.0 * np.sum(r[: season - 1] ** 2)) / n)
    return bool(abs(r[season - 1]) > limit)


def seasonality_tests(y: np.ndarray, season: int) -> np.ndarray:
    """:func:`seasonality_test` of each row of ``y`` (series of one length) at once, ``(S,)``
    bool (for many series; the one-series functions keep their own arithmetic, which the
    baselines' published scores were reproduced with)."""
    S, n = y.shape
    if season <= 1 or n < 3 * season or season > r_max_lag(n):
        return np.zeros(S, dtype=bool)
    x = y - y.mean(axis=1, keepdims=True)
    denom = np.einsum("ij,ij->i", x, x)
    r = np.stack([np.einsum("ij,ij->i", x[:, k:], x[:, :-k]) for k in range(1, season + 1)], 1)
    r = np.where(denom[:, None] > 0, r / np.where(denom > 0, denom, 1.0)[:, None], 0.0)
    limit = _TCRIT * np.sqrt((1.0 + 2.0 * np.sum(r[:, : season - 1] ** 2, axis=1)) / n)
    return np.abs(r[:, season - 1]) > limit


def seasonal_indices(y: np.ndarray, season: int) -> np.ndarray:
    """Multiplicative seasonal indices of a classical decomposition, one per point of ``y``.

    As R's ``decompose(type = "multiplicative")`` (and statsmodels' ``seasonal_decompose``): a
    centred moving average of order ``m`` (``2 x m`` for even ``m``) as the trend, the mean ratio
    ``y / trend`` at each phase, normalized to average 1. Phase 0 is the series' first point.

    >>> seasonal_indices(np.array([2.0, 4.0, 2.0, 4.0, 2.0, 4.0]), 2).round(4).tolist()
    [0.6667, 1.3333, 0.6667, 1.3333, 0.6667, 1.3333]
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


def seasonal_figures(y: np.ndarray, season: int) -> np.ndarray:
    """The index of each phase (phase 0: each row's first point) of :func:`seasonal_indices`,
    for each row of ``y`` (series of one length, at least ``season + 1`` points), ``(S, m)``."""
    m = season
    weights = np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m
    half = len(weights) // 2
    trend = sliding_window_view(y, len(weights), axis=1) @ weights  # points half .. n - half - 1
    ratio = y[:, half : y.shape[1] - half] / trend
    phase = np.arange(half, y.shape[1] - half) % m
    figure = np.stack([ratio[:, phase == k].mean(axis=1) for k in range(m)], axis=1)
    return figure / figure.mean(axis=1, keepdims=True)


@dataclass(frozen=True)
class Adjustment:
    """A series' seasonal adjustment: ``adjusted = y / indices``; forecasts times ``last``."""

    adjusted: np.ndarray
    indices: np.ndarray  # (n,) in-sample seasonal indices (ones when not seasonal)
    last: np.ndarray  # (m,) the last season's indices, repeated over the forecast horizon
    seasonal: bool

    def for_forecasts(self) -> Adjustment:
        """What :meth:`reseasonalize` reads, without the in-sample arrays (to keep for many
        series)."""
        empty = np.empty(0)
        return Adjustment(empty, empty, self.last, self.seasonal)

    def reseasonalize(self, forecast: np.ndarray) -> np.ndarray:
        """Multiply forecasts (``(h,)`` or ``(h, ...)``) by the continuing seasonal indices."""
        h = len(forecast)
        factors = np.resize(self.last, h)
        return forecast * factors.reshape((h,) + (1,) * (np.ndim(forecast) - 1))


def deseasonalize(y: np.ndarray, season: int, test: bool = True) -> Adjustment:
    """Seasonally adjust ``y`` the M4 way (only if ``test`` is off or the test finds a season).

    ``y`` must be complete (impute gaps first). Multiplicative decomposition needs positive
    data: a series with a value ``<= 0`` is left unadjusted (every M4 series is positive, so
    this never departs from the M4 code there), as is one shorter than two seasons plus one.

    >>> t = np.arange(48)
    >>> y = (100 + t) * (1 + 0.2 * np.sin(2 * np.pi * t / 12))
    >>> adj = deseasonalize(y, 12)
    >>> adj.seasonal, adj.last.shape
    (True, (12,))
    """
    y = np.asarray(y, dtype=np.float64)
    if not np.isfinite(y).all():
        raise ValueError("deseasonalize needs a complete, finite series: impute the gaps first")
    ok = season > 1 and len(y) >= 2 * season + 1 and bool(np.all(y > 0))
    if ok and (not test or seasonality_test(y, season)):
        indices = seasonal_indices(y, season)
        return Adjustment(y / indices, indices, indices[-season:], True)
    ones = np.ones(len(y))
    return Adjustment(y, ones, np.ones(max(season, 1)), False)
