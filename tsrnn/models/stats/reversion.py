"""Each series' reversion to its recent median: the neural forecaster's partner for data that
wander around a level without a daily cycle that pays (hourly and daily air quality).

From a series' last value ``y_T`` and the median ``m`` of its last ``span`` points, the
forecast ``h`` steps ahead is ``m + (y_T - m) * phi ** h``: an AR(1) of the deviations from
the recent median, ``phi`` their lag-one regression over the series' last ``FIT_SPANS``
spans (each point's deviation from the median of the ``span`` points up to it, least
squares through 0, kept in [0, 1]). A persistent series (``phi`` near 1) keeps its last
value; a series whose episodes pass (``phi`` below 1) decays to its recent level within a few
``1 / (1 - phi)`` steps. The naive forecast is its case ``phi = 1``, which it falls back to
where a series is too short for three deviations.

Gaps are carried forward (a series' first points backward) before anything is read; the
point forecasts are in the data's units, one row a series.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

FIT_SPANS = 20  # the deviations' regression reads the series' last FIT_SPANS * span points


def reversion_forecast(
    values: np.ndarray, offsets: np.ndarray, span: int, horizon: int
) -> np.ndarray:
    """``(n_series, horizon)``: each series' reversion to the median of its last ``span``
    points (see the module), series ``i`` being ``values[offsets[i]:offsets[i + 1]]``."""
    if span < 1 or horizon < 1:
        raise ValueError(f"reversion_forecast: span={span} and horizon={horizon} must be >= 1")
    values = np.asarray(values, dtype=np.float64)
    offsets = np.asarray(offsets, dtype=np.int64)
    steps = np.arange(1, horizon + 1)
    out = np.empty((len(offsets) - 1, horizon))
    for i, y in enumerate(_recent(values, offsets, span)):
        level = np.median(y[-span:])
        out[i] = level + (y[-1] - level) * _phi(y, span) ** steps
    return out


def _recent(values: np.ndarray, offsets: np.ndarray, span: int) -> Iterator[np.ndarray]:
    """Each series' last ``FIT_SPANS * span`` points, gaps carried forward (its first points
    backward)."""
    for start, stop in zip(offsets[:-1], offsets[1:], strict=True):
        recent = pd.Series(np.asarray(values[start:stop], dtype=np.float64)[-FIT_SPANS * span :])
        yield recent.ffill().bfill().to_numpy()


def _phi(y: np.ndarray, span: int) -> float:
    """The lag-one regression of ``y``'s deviations from its trailing ``span``-point median,
    in [0, 1]; 1 (the naive forecast) without three deviations or any spread."""
    trailing = pd.Series(y).rolling(span, min_periods=max(span // 2, 1)).median().to_numpy()
    deviation = (y - trailing)[~np.isnan(trailing)]
    before, after = deviation[:-1], deviation[1:]
    spread = float(before @ before)
    if len(deviation) < 3 or spread <= 0:
        return 1.0
    return float(np.clip((before @ after) / spread, 0.0, 1.0))


def seasonal_wins(
    values: np.ndarray, offsets: np.ndarray, season: int, horizon: int, span: int
) -> float:
    """The share of series on which the seasonal naive forecast beats the naive one: the mean
    absolute error over ``horizon`` steps from origins every ``horizon`` steps over each
    series' last ``FIT_SPANS * span`` points (gaps carried forward). The reversion carries no
    season, so where a day's cycle pays (ozone, load) it is the wrong partner."""
    if season < 2 or len(offsets) < 2:
        return 0.0
    wins = []
    for y in _recent(values, offsets, span):
        origins = np.arange(season - 1, len(y) - horizon, horizon)  # the origin's last point
        if not len(origins):
            continue
        ahead = origins[:, None] + np.arange(1, horizon + 1)  # (origins, horizon)
        naive = np.abs(y[ahead] - y[origins, None]).mean()
        seasonal = np.abs(y[ahead] - y[ahead - season * ((np.arange(horizon) // season) + 1)])
        wins.append(seasonal.mean() < naive)
    return float(np.mean(wins)) if wins else 0.0
