"""Split-conformal prediction intervals from backtest residuals, for any forecaster.

:class:`ConformalForecaster` wraps an estimator. ``fit`` backtests it on the training data
(``n_windows`` rolling cutoffs ``step`` apart, :func:`~tsrnn.evaluate.backtest.backtest`) and
keeps, for every step ``h`` ahead, the calibration scores ``|y - yhat|`` of all series and
windows (missing actuals left out); then it fits the model on all the data. ``predict`` returns
the model's point forecasts and, for coverage ``L``, the interval ``yhat ± q_h`` where ``q_h`` is
the ``k``-th smallest of the ``n_h`` step-``h`` scores, ``k = ceil((n_h + 1) L / 100)``: the
finite-sample split-conformal quantile (Vovk et al.; Stankeviciute et al. 2021 for per-step
calibration of multi-step forecasts). The intervals are distribution-free but assume the scores
are exchangeable, which time series only approximate: they are right on average over cutoffs
and series, not conditionally on the current state.

Intervals are reported as quantile columns, as the contract asks: the ``L`` % interval is
``<model>-q<(1 - L/100)/2>`` and ``<model>-q<(1 + L/100)/2>`` (``L = 80``: ``q0.1`` and
``q0.9``). Any quantile ``q`` works, as the bound of the ``|1 - 2q|`` interval, so they nest and
never cross; they are true quantiles only for errors symmetric about the point forecast.

``score="scaled"`` divides each series' residuals by its in-sample scale (the mean absolute
one-step difference before its first cutoff, the MASE scale) and multiplies ``q_h`` back per
series: use it for panels whose series differ in scale, where pooled absolute residuals would
give every series the interval of the loudest. A series with a zero or undefined scale (constant,
or in no calibration window) then gets ``NaN`` intervals.
"""

from __future__ import annotations

import copy
import logging
import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from tsrnn.data.panel import ID, TARGET, TIME, Panel
from tsrnn.evaluate.backtest import backtest
from tsrnn.evaluate.metrics import naive_scale
from tsrnn.models.base import Forecaster

log = logging.getLogger(__name__)


class ConformalForecaster(Forecaster):
    """Wrap ``model`` with split-conformal prediction intervals calibrated per step ahead.

    Parameters
    ----------
    model : Forecaster
        Any tsrnn estimator; ``clone``-d for every fit, never fitted itself.
    horizon : int, optional
        Steps calibrated (``predict`` forecasts at most this many). Default: the model's own
        ``horizon`` parameter (the neural forecasters have one); required otherwise.
    levels : sequence of float, default (80, 95)
        Interval coverages in percent returned by ``predict`` when no ``quantiles`` are asked.
        ``fit`` checks that there are enough scores for each (``L = 95`` needs 19 per step).
    n_windows : int, default 20
        Calibration cutoffs per series: with one series, 19 is the least for a 95 % interval.
    step : int, default 1
        Steps between cutoffs. ``1`` gives the most scores from a short history; the windows
        overlap, so neighbouring scores are correlated, which widens the spread of the
        realized coverage but not its expectation.
    refit : bool or int, default True
        Refit policy of the calibration backtest (``False`` or ``k`` need a global model).
    score : {"absolute", "scaled"}, default "absolute"
        ``|y - yhat|`` pooled over series, or divided by each series' in-sample scale.

    Attributes
    ----------
    model_ : Forecaster
        The model fitted on all the data; it makes the point forecasts.
    scores_ : list of ndarray
        Sorted calibration scores of step ``h`` at index ``h - 1``.
    scale_ : pandas.Series or None
        ``score="scaled"``: each calibrated series' scale (index ``unique_id``); else ``None``.
    calibration_ : BacktestResult
        The calibration backtest.

    Examples
    --------
    >>> from tsrnn import datasets
    >>> from tsrnn.evaluate.conformal import Conformal
    >>> from tsrnn.models.stats.naive import SeasonalNaive
    >>> air = datasets.load("air_passengers")
    >>> model = Conformal(SeasonalNaive(), horizon=3, levels=[80]).fit(air)
    >>> [len(s) for s in model.scores_]  # 20 windows of one series: 20 scores per step
    [20, 20, 20]
    >>> model.predict(3).iloc[:, 2:]  # 80 %: the 17th smallest of 20 scores, 63
       SeasonalNaive  SeasonalNaive-q0.1  SeasonalNaive-q0.9
    0          417.0               354.0               480.0
    1          391.0               328.0               454.0
    2          419.0               356.0               482.0
    """

    def __init__(
        self,
        model: Forecaster,
        *,
        horizon: int | None = None,
        levels: Sequence[float] = (80, 95),
        n_windows: int = 20,
        step: int = 1,
        refit: bool | int = True,
        score: str = "absolute",
    ) -> None:
        self.model = model
        self.horizon = horizon
        self.levels = levels
        self.n_windows = n_windows
        self.step = step
        self.refit = refit
        self.score = score

    @property
    def name(self) -> str:
        """The wrapped model's name: the columns are those the model itself would write."""
        return self.model.name

    # ------------------------------------------------------------------ the template's hooks
    def _as_panel(self, y: Any, X: Any, fitted: bool = False) -> Panel:
        """The data as the wrapped model reads it (its covariates included)."""
        return (self.model_ if fitted else self.model)._as_panel(y, X, fitted=fitted)

    def _fit(self, panel: Panel) -> None:
        """Calibrate on a backtest of ``panel``, then fit the model on all of it."""
        horizon = self.horizon if self.horizon is not None else getattr(self.model, "horizon", None)
        if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
            raise ValueError(
                f"Conformal({self.name}): horizon={horizon!r}; pass horizon=, the positive "
                "number of steps to calibrate (predict forecasts at most that many)"
            )
        if self.score not in ("absolute", "scaled"):
            raise ValueError(f"Conformal: score={self.score!r}; choose 'absolute' or 'scaled'")
        coverages = [_coverage(level) for level in self.levels]
        result = backtest(
            self.model,
            panel,
            int(horizon),
            n_windows=self.n_windows,
            step=self.step,
            refit=self.refit,
        )
        frame = result.forecasts  # sorted by unique_id, window, ds
        error = np.abs(frame[TARGET] - frame[result.models[0]]).to_numpy(dtype=np.float64)
        scale = None
        if self.score == "scaled":
            train = result.train.sort_values([ID, TIME], kind="stable")
            scale = train.groupby(ID)[TARGET].agg(lambda s: naive_scale(s.to_numpy()))
            error = error / frame[ID].map(scale).to_numpy(dtype=np.float64)
        ahead = frame.groupby([ID, "window"], sort=False).cumcount().to_numpy()
        ok = np.isfinite(error)  # an unobserved actual, or a series without a scale
        scores = [np.sort(error[ok & (ahead == j)]) for j in range(int(horizon))]
        for coverage in coverages:
            _conformal_quantile(scores, coverage, self.name)  # raises if too few scores
        self.model_ = clone(self.model).fit(panel)
        self.scores_, self.scale_, self.calibration_ = scores, scale, result

    def _default_steps(self) -> int:
        return len(self.scores_)

    def _sample_levels(self) -> list[float]:
        """The levels whose intervals the calibration scores support (with ``n`` scores a
        step, coverage up to ``n / (n + 1)``): ``sample`` cuts the tails there."""
        n = min(len(s) for s in self.scores_)
        widest = n / (n + 1) - 1e-9
        inside = [q for q in super()._sample_levels() if abs(1.0 - 2.0 * q) <= widest]
        edge = round((1.0 - widest) / 2.0, 9)
        return sorted({edge, round(1.0 - edge, 9), *inside})

    def _check_steps(self, h: int) -> None:
        if h > len(self.scores_):
            raise ValueError(
                f"Conformal({self.name}): h={h!r}; calibrated for 1 to {len(self.scores_)} "
                "steps (refit with a larger horizon= for more)"
            )

    def _default_levels(self) -> list[float]:
        """No quantiles asked for: the bounds of the intervals of ``levels``."""
        half = [(1.0 - _coverage(level)) / 2.0 for level in self.levels]
        return [round(q, 12) for q in half] + [round(1.0 - q, 12) for q in half]

    def _forecast(
        self, h: int, levels: list[float], X_future: Any
    ) -> dict[str, tuple[np.ndarray, dict[float, np.ndarray]]]:
        """Point forecasts of ``model_`` and conformal quantiles, ``h <= horizon`` steps."""
        columns = self.model_._forecast(h, [], X_future)
        point = columns[self.name][0]
        scale = np.ones(len(point))
        if self.scale_ is not None:  # series in no calibration window have no scale: NaN
            ids = pd.Series(self.index_.ids.astype(str))
            scale = ids.map(self.scale_).to_numpy(dtype=np.float64)
            if np.isnan(scale).any():
                log.warning("Conformal(%s): NaN intervals for series without a scale", self.name)
        quantiles = {}
        for q in levels:
            width = _conformal_quantile(self.scores_[:h], abs(1.0 - 2.0 * q), self.name)
            sign = 1.0 if q > 0.5 else -1.0
            quantiles[q] = point + sign * width[None, :] * scale[:, None]
        return {**columns, self.name: (point, quantiles)}

    def _get_state(self) -> dict[str, Any]:
        raise TypeError(
            f"Conformal({self.name}) holds a fitted model and its calibration backtest, which a "
            "tsrnn model file cannot hold yet; save the wrapped model, or refit the wrapper"
        )

    def _update(self, panel: Panel) -> ConformalForecaster:
        """The wrapped model moved to the histories in ``panel``, with the calibration kept."""
        new = copy.copy(self)
        new.model_ = self.model_._update(panel)
        new.ids_, new.lengths_, new.index_ = (
            new.model_.ids_,
            new.model_.lengths_,
            new.model_.index_,
        )
        return new


Conformal = ConformalForecaster


def _coverage(level: float) -> float:
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0 < level < 100:
        raise ValueError(f"Conformal: levels must be percentages in (0, 100), got {level!r}")
    return float(level) / 100.0


def _conformal_quantile(scores: list[np.ndarray], coverage: float, name: str) -> np.ndarray:
    """Per step, the ``ceil((n + 1) * coverage)``-th smallest score (0 for coverage 0)."""
    out = np.zeros(len(scores))
    for j, s in enumerate(scores):
        k = math.ceil((len(s) + 1) * coverage - 1e-9)  # the 1e-9 absorbs 0.95 * 20 = 19.000...1
        if k > len(s):
            need = math.ceil(coverage / (1.0 - coverage) - 1e-9)
            raise ValueError(
                f"Conformal({name}): a {coverage * 100:g}% interval at step {j + 1} needs {need} "
                f"calibration scores, there are {len(s)}; add calibration windows (n_windows=) "
                "or series, or ask for a lower level"
            )
        out[j] = s[k - 1] if k > 0 else 0.0
    return out
