"""Forecast combination: the median (or mean) of several forecasters' forecasts.

Combining forecasts is the oldest reliable gain in forecasting (the M3 and M4 competitions'
combinations beat most of their members); :class:`Ensemble` makes it a model like any other:
it fits a clone of each member on the same data, and forecasts, updates, backtests and saves
as one. Each quantile level is combined like the point forecast, level by level (the median
or mean of the members' quantiles), which keeps the levels in order.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from tsrnn.data.panel import ID, TIME, Panel
from tsrnn.models.base import Forecaster, quantile_column

HOWS = ("median", "mean")


class Ensemble(Forecaster):
    """The median (or mean) of the forecasts of ``models``, fitted together on the same data.

    Parameters
    ----------
    models : sequence of forecasters
        The members (unfitted templates: ``fit`` fits a clone of each), at least two: any
        mix of networks and baselines, or one kind several times (seeds, input sizes). A
        network needs its ``horizon``.
    how : {"median", "mean"}, default "median"
        How the members' forecasts combine, step by step and level by level.

    Attributes
    ----------
    models_ : list of forecasters
        The fitted members, in the order given.

    Examples
    --------
    >>> from tsrnn import datasets
    >>> from tsrnn.models import Ensemble
    >>> from tsrnn.models.stats import Naive2, SeasonalNaive, Drift
    >>> air = datasets.load("air_passengers")
    >>> model = Ensemble([SeasonalNaive(), Naive2(), Drift()]).fit(air)
    >>> model.predict(3)["Ensemble"].round(1).tolist()
    [434.2, 424.7, 438.7]
    """

    def __init__(self, models: Sequence[Forecaster] = (), *, how: str = "median") -> None:
        self.models = models
        self.how = how

    # ------------------------------------------------------------------ the checks
    def _members(self) -> list[Forecaster]:
        models = list(self.models) if isinstance(self.models, list | tuple) else None
        if models is None or len(models) < 2:
            raise ValueError(
                f"Ensemble: models={self.models!r}; give a list of at least two forecasters, "
                "e.g. Ensemble([LSTMForecaster(horizon=12), ETS(), Theta()])"
            )
        for m in models:
            if not isinstance(m, Forecaster):
                raise ValueError(
                    f"Ensemble: {m!r} is not a tsrnn forecaster; members are models such as "
                    "LSTMForecaster(horizon=12) or ETS()"
                )
        if self.how not in HOWS:
            raise ValueError(f"Ensemble: how={self.how!r}; choose one of {list(HOWS)}")
        return models

    def _default_steps(self) -> int | None:
        steps = [m._default_steps() for m in self._held()]
        steps = [s for s in steps if s is not None]
        return min(steps) if steps else None

    def _check_steps(self, h: int) -> None:
        for m in self._held():
            m._check_steps(h)

    def _default_levels(self) -> list[float]:
        return []

    def _check_levels(self, levels: list[float]) -> None:
        for m in self._held():
            if levels and not m.supports_quantiles:
                raise ValueError(
                    f"Ensemble: member {m.name} makes point forecasts only; drop quantiles="
                )
            m._check_levels(levels)

    def _held(self) -> list[Forecaster]:
        """The fitted members (after ``fit``), else the templates."""
        return getattr(self, "models_", None) or self._members()

    # ------------------------------------------------------------------ the template's hooks
    def _fit(self, panel: Panel) -> None:
        members = self._members()
        self.models_ = [clone(m).fit(panel) for m in members]

    def _forecast(
        self, h: int, levels: list[float], X_future: Any
    ) -> dict[str, tuple[np.ndarray, dict[float, np.ndarray]]]:
        points, quantiles = [], {q: [] for q in levels}
        for m in self.models_:
            point, qs = m._forecast(h, levels, X_future)[m.name]
            points.append(np.asarray(point, dtype=np.float64))
            for q in levels:
                quantiles[q].append(np.asarray(qs[q], dtype=np.float64))
        combine = self._combine
        return {self.name: (combine(points), {q: combine(v) for q, v in quantiles.items()})}

    def _combine(self, values: list[np.ndarray]) -> np.ndarray:
        stacked = np.stack(values)
        return np.median(stacked, axis=0) if self.how == "median" else stacked.mean(axis=0)

    def _update(self, panel: Panel) -> Ensemble:
        new = copy.copy(self)
        new.models_ = [m._update(panel) for m in self.models_]
        first = new.models_[0]
        new.ids_, new.lengths_, new.index_ = first.ids_, first.lengths_, first.index_
        return new

    def _predict_windows(
        self, panel: Panel, ends: np.ndarray, starts: np.ndarray, h: int, levels: list[float]
    ) -> pd.DataFrame:
        """Each member's own (batched, where it has one) window forecasts, combined row by
        row."""
        keys = [ID, "window", TIME]
        frames = [m._predict_windows(panel, ends, starts, h, levels) for m in self.models_]
        out = frames[0][keys].reset_index(drop=True)
        # Each member's columns in the first member's row order, aligned once.
        aligned = []
        for m, frame in zip(self.models_, frames, strict=True):
            columns = {
                m.name if q is None else quantile_column(m.name, q): q for q in [None, *levels]
            }
            rows = out.merge(frame[[*keys, *columns]], on=keys, how="left")
            aligned.append(rows[list(columns)].to_numpy(np.float64))  # (rows, 1 + levels)
        combined = self._combine(aligned)
        for j, q in enumerate([None, *levels]):
            out[self.name if q is None else quantile_column(self.name, q)] = combined[:, j]
        fell = [f.attrs["fallbacks"] for f in frames if "fallbacks" in f.attrs]
        if fell:
            out.attrs["fallbacks"] = pd.concat(fell, ignore_index=True)
        return out

    def _to(self, device: str) -> None:
        for m in getattr(self, "models_", []):
            m.to(device)
