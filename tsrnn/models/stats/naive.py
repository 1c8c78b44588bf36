"""The naive family and M4's Naive2: the baselines every other forecaster is judged beside.

All but :class:`Naive2` forecast the whole panel at once, by index arithmetic on ``offsets``
(no loop over series); Naive2 decomposes each series on its own.

Prediction intervals follow Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*
(3rd ed., §5.5): normal errors whose standard deviation at step ``h`` is

================  =====================================  ======================================
method            std of the h-step forecast             ``sigma``: in-sample residuals, divisor
================  =====================================  ======================================
Naive             ``sigma * sqrt(h)``                    ``y_t - y_{t-1}``, ``n``
SeasonalNaive     ``sigma * sqrt(k + 1)``,               ``y_t - y_{t-m}``, ``n``
                  ``k = (h - 1) // m``
Drift             ``sigma * sqrt(h * (1 + h / (T-1)))``  ``y_t - y_{t-1} - slope``, ``n - 1``
HistoricAverage   ``sigma * sqrt(1 + 1 / T)``            ``y_t - mean``, ``n - 1``
================  =====================================  ======================================

``n`` counts residuals; the divisors are those of R's ``forecast`` and ``fable`` (one degree of
freedom per estimated parameter). fpp3's table writes ``h / T`` for the drift: ``T - 1`` (the
steps the slope was estimated over) is the exact variance of a random walk's estimated drift,
which is what R's ``rwf`` uses. :class:`WindowAverage` is :class:`HistoricAverage` on the last
``window`` observations; :class:`Naive2` is the naive interval of the seasonally adjusted series,
multiplied by the seasonal indices like the point forecast.

Missing values need no imputation in the naive family: a method reads observed values only.
The naive forecast is the last *observed* value (the seasonal naive: the last observed value at
the same phase), residuals come from pairs of observed points, averages are over observed
values. A gap at the end of a series widens the interval: the random walk kept walking while
nobody looked, so a forecast ``h`` steps past the end is ``h + gap`` steps past its value.
Naive2 imputes gaps linearly before decomposing (a decomposition needs a complete series) and
then forecasts, like Naive, from the last observed (adjusted) value.

Where ``sigma`` is undefined (too few observed values for a residual) the interval is ``NaN``;
``fit`` logs a warning naming those series.
"""

from __future__ import annotations

import logging
from typing import ClassVar

import numpy as np

from tsrnn.data.impute import Imputer
from tsrnn.data.panel import Panel
from tsrnn.models.base import Forecaster
from tsrnn.models.stats.seasonality import deseasonalize

log = logging.getLogger(__name__)


class Naive(Forecaster):
    """Random walk: every future value is the last observed value.

    Attributes
    ----------
    last_ : ndarray of shape (n_series, 1)
        The last observed value of each series.
    age_ : ndarray of shape (n_series, 1)
        Steps from that value to the first forecast step (1 when the series ends observed).
    sigma_ : ndarray of shape (n_series,)
        Root mean square of the observed one-step differences (``NaN``: none observed).

    Examples
    --------
    >>> from tsrnn import datasets
    >>> from tsrnn.models.stats.naive import Naive
    >>> air = datasets.load("air_passengers")
    >>> forecast = Naive().fit(air).predict(3, quantiles=[0.1, 0.9])
    >>> forecast["Naive"].tolist()
    [432.0, 432.0, 432.0]
    >>> forecast["Naive-q0.9"].round(1).tolist()  # 432 + 1.2816 * sigma * sqrt(h)
    [475.2, 493.1, 506.8]
    """

    supports_missing: ClassVar[bool] = True

    def __init__(self) -> None:
        pass

    def _fit(self, panel: Panel) -> None:
        self.last_, self.age_, self.sigma_ = _fit_seasonal_naive(panel, 1, self.name)

    def _predict(self, h: int) -> tuple[np.ndarray, np.ndarray]:
        return _predict_seasonal_naive(self.last_, self.age_, self.sigma_, h)


class SeasonalNaive(Forecaster):
    """Each future value is the last observed value at the same phase of the season.

    Parameters
    ----------
    season : int or None, default None
        Season length ``m``. ``None``: the natural cycle of the data's frequency (24 for hourly
        data, 12 for monthly, 7 for daily, 1 (plain naive) for integer time).

    Attributes
    ----------
    season_ : int
        The season length used.
    last_ : ndarray of shape (n_series, season_)
        Column ``j`` holds the forecast for steps ``j + 1, j + 1 + m, ...``: the last observed
        value at that phase. A phase never observed (a series shorter than a season, or with a
        gap at that phase everywhere) takes the series' last observed value, with a ``NaN``
        interval.
    age_ : ndarray of shape (n_series, season_)
        Steps from that value to step ``j + 1`` (``m`` when the last season was observed).
    sigma_ : ndarray of shape (n_series,)
        Root mean square of the observed seasonal differences ``y_t - y_{t-m}``.

    Examples
    --------
    >>> from tsrnn import datasets
    >>> from tsrnn.models.stats.naive import SeasonalNaive
    >>> air = datasets.load("air_passengers")
    >>> model = SeasonalNaive().fit(air)  # monthly data: m = 12
    >>> model.season_, model.predict(3)["SeasonalNaive"].tolist()
    (12, [417.0, 391.0, 419.0])
    """

    supports_missing: ClassVar[bool] = True

    def __init__(self, *, season: int | None = None) -> None:
        self.season = season

    def _fit(self, panel: Panel) -> None:
        self.last_, self.age_, self.sigma_ = _fit_seasonal_naive(panel, self.season_, self.name)

    def _predict(self, h: int) -> tuple[np.ndarray, np.ndarray]:
        return _predict_seasonal_naive(self.last_, self.age_, self.sigma_, h)


class Drift(Forecaster):
    """Random walk with drift: the line through the first and last observed values, extended.

    The forecast ``h`` steps after the last observation ``y_T`` is
    ``y_T + h * (y_T - y_1) / (T - 1)``.

    Attributes
    ----------
    last_ : ndarray of shape (n_series,)
        The last observed value.
    slope_ : ndarray of shape (n_series,)
        The drift per step (0 for a series with one observed value).
    span_ : ndarray of shape (n_series,)
        Steps between the first and last observed values, ``T - 1`` without gaps.
    gap_ : ndarray of shape (n_series,)
        Unobserved steps after the last observed value.
    sigma_ : ndarray of shape (n_series,)
        Standard deviation of the observed one-step differences about the drift.

    Examples
    --------
    >>> from tsrnn import datasets
    >>> from tsrnn.models.stats.naive import Drift
    >>> air = datasets.load("air_passengers")
    >>> Drift().fit(air).predict(2)["Drift"].round(3).tolist()  # 432 + h * 320 / 143
    [434.238, 436.476]
    """

    supports_missing: ClassVar[bool] = True

    def __init__(self) -> None:
        pass

    def _fit(self, panel: Panel) -> None:
        pos = panel.point_index()[1]
        y = panel.values
        first, last = _first_observed(panel), _last_observed(panel)
        self.span_ = pos[last] - pos[first]
        with np.errstate(invalid="ignore", divide="ignore"):
            self.slope_ = np.where(self.span_ > 0, (y[last] - y[first]) / self.span_, 0.0)
        self.last_ = y[last]
        self.gap_ = panel.lengths - 1 - pos[last]
        series, diff = _lag_differences(panel, 1)
        self.sigma_ = _root_mean_square(series, diff - self.slope_[series], panel.n_series, 1)
        _log_undefined(self.name, self.sigma_, panel.ids)

    def _predict(self, h: int) -> tuple[np.ndarray, np.ndarray]:
        steps = self.gap_[:, None] + np.arange(1, h + 1)  # (n_series, h) steps after y_T
        mean = self.last_[:, None] + steps * self.slope_[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            spread = steps * (1.0 + steps / self.span_[:, None])
        std = self.sigma_[:, None] * np.sqrt(np.where(self.span_[:, None] > 0, spread, np.nan))
        return mean, std


class HistoricAverage(Forecaster):
    """Every future value is the mean of all observed values.

    Attributes
    ----------
    mean_ : ndarray of shape (n_series,)
        The mean of the observed values.
    count_ : ndarray of shape (n_series,)
        How many values were observed (``T``).
    sigma_ : ndarray of shape (n_series,)
        Their standard deviation (divisor ``T - 1``).

    Examples
    --------
    >>> from tsrnn import datasets
    >>> from tsrnn.models.stats.naive import HistoricAverage
    >>> air = datasets.load("air_passengers")
    >>> HistoricAverage().fit(air).predict(1)["HistoricAverage"].round(3).tolist()
    [280.299]
    """

    supports_missing: ClassVar[bool] = True

    def __init__(self) -> None:
        pass

    def _fit(self, panel: Panel) -> None:
        self.mean_, self.count_, self.sigma_ = _average(panel, panel.observed, self.name)

    def _predict(self, h: int) -> tuple[np.ndarray, np.ndarray]:
        return _predict_average(self.mean_, self.count_, self.sigma_, h)


class WindowAverage(Forecaster):
    """Every future value is the mean of the last ``window`` observed values.

    Parameters
    ----------
    window : int or None, default None
        How many of the latest observed values to average. ``None``: one season of the data's
        frequency (24 for hourly data, 12 for monthly); 1, the naive forecast, for integer time.
        A gap does not shorten the window: it reaches back past it to ``window`` observations.

    Attributes
    ----------
    window_ : int
        The window used.
    mean_, count_, sigma_ : ndarray of shape (n_series,)
        Mean, number (at most ``window_``) and standard deviation of the averaged values; the
        interval is :class:`HistoricAverage`'s on those values.

    Examples
    --------
    >>> from tsrnn import datasets
    >>> from tsrnn.models.stats.naive import WindowAverage
    >>> air = datasets.load("air_passengers")
    >>> model = WindowAverage(window=3).fit(air)  # the mean of 461, 390 and 432
    >>> model.predict(1)["WindowAverage"].round(3).tolist()
    [427.667]
    """

    supports_missing: ClassVar[bool] = True

    def __init__(self, *, window: int | None = None) -> None:
        self.window = window

    def _fit(self, panel: Panel) -> None:
        window = self.window
        if window is None:
            window = self.season_
        elif isinstance(window, bool) or not isinstance(window, int | np.integer) or window < 1:
            raise ValueError(f"{self.name}: window must be a positive integer, got {window!r}")
        self.window_ = int(window)
        obs = panel.observed
        # Each observed point's rank among its series' observed points, counted from the end.
        seen = np.cumsum(obs)
        series = panel.point_index()[0]
        from_end = seen[panel.offsets[1:] - 1][series] - seen + 1
        in_window = obs & (from_end <= self.window_)
        self.mean_, self.count_, self.sigma_ = _average(panel, in_window, self.name)

    def _predict(self, h: int) -> tuple[np.ndarray, np.ndarray]:
        return _predict_average(self.mean_, self.count_, self.sigma_, h)


class Naive2(Forecaster):
    """M4's Naive2: the naive forecast of the seasonally adjusted series, re-seasonalized.

    As the M4 organisers' R code defines it: a series is seasonal when its lag-``m``
    autocorrelation passes the 90 % test (:func:`~tsrnn.models.stats.seasonality.seasonality_test`);
    a seasonal series is divided by the indices of a classical multiplicative decomposition,
    its last adjusted value is carried forward and multiplied by the last season's indices,
    repeated. A series that is not seasonal (or too short, or not positive) gets the plain
    naive forecast. On M4 Hourly this reproduces the official Naive2 forecasts
    (``tests/models/stats/test_naive_m4.py``).

    Gaps are imputed linearly for the decomposition; the forecast starts from the last observed
    value, adjusted. The interval is the naive one on the adjusted series, times the indices.

    Parameters
    ----------
    season : int or None, default None
        Season length ``m``. ``None``: the natural cycle of the data's frequency (M4 used 24
        for hourly, 12 monthly, 4 quarterly and 1 for daily, weekly and yearly data).

    Attributes
    ----------
    season_ : int
        The season length used.
    seasonal_ : ndarray of bool, shape (n_series,)
        Whether each series was found seasonal and adjusted.
    level_ : ndarray of shape (n_series,)
        The last observed value of the adjusted series.
    factors_ : ndarray of shape (n_series, season_)
        Seasonal index of forecast steps ``j + 1, j + 1 + m, ...`` (ones if not seasonal).
    age_ : ndarray of shape (n_series,)
        Steps from the last observed value to the first forecast step.
    sigma_ : ndarray of shape (n_series,)
        Root mean square of the adjusted series' observed one-step differences.

    Examples
    --------
    >>> from tsrnn import datasets
    >>> from tsrnn.models.stats.naive import Naive2
    >>> air = datasets.load("air_passengers")
    >>> model = Naive2().fit(air)
    >>> model.seasonal_.tolist(), model.predict(3)["Naive2"].round(1).tolist()
    ([True], [437.5, 424.7, 484.2])
    """

    supports_missing: ClassVar[bool] = True

    def __init__(self, *, season: int | None = None) -> None:
        self.season = season

    def _fit(self, panel: Panel) -> None:
        m = self.season_
        # Only a decomposition needs complete data; the imputed points are never read as
        # observations (the level and the residuals come from observed points only).
        filled = panel if panel.observed.all() else Imputer("linear").fit_transform(panel)
        first, last = _first_observed(panel), _last_observed(panel)
        n = panel.n_series
        self.seasonal_ = np.zeros(n, dtype=bool)
        self.level_ = np.empty(n)
        self.factors_ = np.ones((n, m))
        self.sigma_ = np.full(n, np.nan)
        for i in range(n):
            start, end = first[i], panel.offsets[i + 1]  # a series starts at its first observation
            adjustment = deseasonalize(filled.values[start:end].astype(np.float64), m)
            adjusted = adjustment.adjusted
            seen = panel.observed[start:end]
            self.seasonal_[i] = adjustment.seasonal
            self.level_[i] = adjusted[last[i] - start]
            self.factors_[i] = np.resize(adjustment.last, m)
            steps = np.diff(adjusted)[seen[1:] & seen[:-1]]
            if len(steps):
                self.sigma_[i] = np.sqrt(np.mean(steps**2))
        self.age_ = panel.offsets[1:] - last
        _log_undefined(self.name, self.sigma_, panel.ids)

    def _predict(self, h: int) -> tuple[np.ndarray, np.ndarray]:
        steps = np.arange(h)
        factors = self.factors_[:, steps % self.season_]  # (n_series, h)
        mean = self.level_[:, None] * factors
        std = self.sigma_[:, None] * np.sqrt(self.age_[:, None] + steps) * factors
        return mean, std


# ---------------------------------------------------------------------- vectorized pieces
def _first_observed(panel: Panel) -> np.ndarray:
    """Index into ``values`` of each series' first observed point."""
    idx = np.where(panel.observed, np.arange(len(panel)), len(panel))
    return np.minimum.reduceat(idx, panel.offsets[:-1])


def _last_observed(panel: Panel) -> np.ndarray:
    """Index into ``values`` of each series' last observed point."""
    idx = np.where(panel.observed, np.arange(len(panel)), -1)
    return np.maximum.reduceat(idx, panel.offsets[:-1])


def _lag_differences(panel: Panel, lag: int) -> tuple[np.ndarray, np.ndarray]:
    """``y_t - y_{t-lag}`` within each series where both were observed, with each one's series."""
    series, pos = panel.point_index()
    at = np.flatnonzero(pos >= lag)
    at = at[panel.observed[at] & panel.observed[at - lag]]
    y = panel.values
    return series[at], y[at] - y[at - lag]


def _root_mean_square(
    series: np.ndarray, resid: np.ndarray, n_series: int, dof: int = 0
) -> np.ndarray:
    """Per series ``sqrt(sum(resid^2) / (count - dof))``; ``NaN`` where that count is < 1."""
    total = np.bincount(series, weights=resid**2, minlength=n_series)
    count = np.bincount(series, minlength=n_series) - dof
    return np.where(count > 0, np.sqrt(total / np.maximum(count, 1)), np.nan)


def _fit_seasonal_naive(
    panel: Panel, m: int, name: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Last observed value and its age at each phase of the next season, and ``sigma``."""
    series, pos = panel.point_index()
    n = panel.n_series
    seen = np.flatnonzero(panel.observed)
    latest = np.full(n * m, -1, dtype=np.int64)
    np.maximum.at(latest, series[seen] * m + pos[seen] % m, seen)
    lengths = panel.lengths
    ahead = np.arange(m)
    # Forecast step j + 1 sits at position length + j of its series, at phase (length + j) % m.
    source = latest[np.arange(n)[:, None] * m + (lengths[:, None] + ahead) % m]  # (n, m)
    never = source < 0
    source = np.where(never, _last_observed(panel)[:, None], source)
    last = panel.values[source]
    age = (lengths[:, None] + ahead - pos[source]).astype(np.float64)
    age[never] = np.nan
    diff_series, diff = _lag_differences(panel, m)
    sigma = _root_mean_square(diff_series, diff, n)
    _log_undefined(name, np.where(never.any(axis=1), np.nan, sigma), panel.ids)
    return last, age, sigma


def _predict_seasonal_naive(
    last: np.ndarray, age: np.ndarray, sigma: np.ndarray, h: int
) -> tuple[np.ndarray, np.ndarray]:
    m = last.shape[1]
    steps = np.arange(h)
    phase = steps % m
    # A seasonal random walk moves once per season between a value and its forecast.
    seasons = (age[:, phase] + steps - phase) / m  # (n_series, h)
    return last[:, phase], sigma[:, None] * np.sqrt(seasons)


def _average(panel: Panel, use: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, count and standard deviation (divisor count - 1) of the values where ``use``."""
    at = np.flatnonzero(use)
    series = panel.point_index()[0][at]
    y = panel.values[at]
    n = panel.n_series
    count = np.bincount(series, minlength=n)
    mean = np.bincount(series, weights=y, minlength=n) / count  # every series has a value
    sigma = _root_mean_square(series, y - mean[series], n, dof=1)
    _log_undefined(name, sigma, panel.ids)
    return mean, count, sigma


def _predict_average(
    mean: np.ndarray, count: np.ndarray, sigma: np.ndarray, h: int
) -> tuple[np.ndarray, np.ndarray]:
    std = sigma * np.sqrt(1.0 + 1.0 / count)
    return np.repeat(mean[:, None], h, axis=1), np.repeat(std[:, None], h, axis=1)


def _log_undefined(name: str, sigma: np.ndarray, ids: np.ndarray) -> None:
    bad = np.flatnonzero(np.isnan(sigma))
    if len(bad):
        log.warning(
            "%s: %d series have too few observed values for a residual standard deviation; "
            "their prediction intervals are NaN (e.g. %s)",
            name,
            len(bad),
            list(ids[bad][:5]),
        )
