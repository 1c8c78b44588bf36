"""The statistical baselines: one model per series, what a statistician would have done.

:mod:`.naive` holds the naive family and Naive2, vectorized over the whole panel. The others
fit one model per series through :class:`~tsrnn.models.stats.local.LocalForecaster` (in
parallel, gaps imputed, a seasonal naive fallback for a series a method fails on):
:mod:`.smoothing` (SES, Holt, Damped, Comb, Theta, ETS) and :mod:`.arima`, with their
helpers :mod:`.seasonality` (the classical multiplicative adjustment) and :mod:`.neldermead`.
"""

from tsrnn.models.stats.arima import ARIMA
from tsrnn.models.stats.naive import (
    Drift,
    HistoricAverage,
    Naive,
    Naive2,
    SeasonalNaive,
    WindowAverage,
)
from tsrnn.models.stats.smoothing import ETS, SES, Comb, Damped, Holt, Theta

__all__ = [
    "ARIMA",
    "ETS",
    "SES",
    "Comb",
    "Damped",
    "Drift",
    "HistoricAverage",
    "Holt",
    "Naive",
    "Naive2",
    "SeasonalNaive",
    "Theta",
    "WindowAverage",
]
