"""Choosing parameters by backtest: :class:`ForecastingGridSearch`.

Every combination of a scikit-learn :class:`~sklearn.model_selection.ParameterGrid` is a clone
of the model with those parameters, run through the same rolling-origin backtest
(:func:`~tsrnn.evaluate.backtest.backtest`: every candidate on identical cutoffs, each fit
seeing only the data before its cutoff). The candidates are ranked by one metric, and the best
is refitted on all the data, as sktime's ``ForecastingGridSearchCV`` and scikit-learn's
``GridSearchCV(refit=True)`` do.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import ParameterGrid

from tsrnn.data.panel import as_panel


class ForecastingGridSearch:
    """Backtest every parameter combination of ``model`` and keep the best.

    Parameters
    ----------
    model : Forecaster
        Any tsrnn forecaster; cloned for every candidate, never fitted itself.
    param_grid : dict or list of dicts
        Parameter names to the values to try, as :class:`sklearn.model_selection.ParameterGrid`
        takes them (``{"season": [7, 14], "window": [3, 6]}``).
    horizon : int
        Steps forecast from each cutoff.
    n_windows : int, default 3
        Backtest cutoffs per series.
    metric : str, default "mase"
        What ranks the candidates (lower is better): a point metric of
        :func:`tsrnn.evaluate.metrics.evaluate`.
    refit : bool, default True
        Fit the best candidate on all the data (``best_estimator_``).
    backtest_params : dict, optional
        Further :func:`~tsrnn.evaluate.backtest.backtest` arguments (``step``, ``season``,
        ``window``...).

    Attributes
    ----------
    results_ : pandas.DataFrame
        One row per candidate, best first: ``rank``, the metric, ``fit_s`` (the backtest's
        seconds) and one ``param_<name>`` column per parameter.
    best_params_ : dict
    best_score_ : float
    best_estimator_ : Forecaster
        The best candidate fitted on all the data (with ``refit``).

    Examples
    --------
    >>> from tsrnn import datasets
    >>> from tsrnn.models.stats import SeasonalNaive
    >>> air = datasets.load("air_passengers")
    >>> search = ForecastingGridSearch(
    ...     SeasonalNaive(), {"season": [1, 6, 12]}, horizon=12, n_windows=2, metric="mae"
    ... ).fit(air)
    >>> search.best_params_
    {'season': 12}
    >>> search.results_[["rank", "param_season"]].values.tolist()
    [[1, 12], [2, 6], [3, 1]]
    """

    def __init__(
        self,
        model: Any,
        param_grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Sequence[Any]]],
        horizon: int,
        *,
        n_windows: int = 3,
        metric: str = "mase",
        refit: bool = True,
        backtest_params: Mapping[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.param_grid = param_grid
        self.horizon = horizon
        self.n_windows = n_windows
        self.metric = metric
        self.refit = refit
        self.backtest_params = backtest_params

    def fit(self, y: Any) -> ForecastingGridSearch:
        """Backtest every candidate on ``y`` (anything a forecaster's ``fit`` takes)."""
        from tsrnn.evaluate.backtest import backtest
        from tsrnn.evaluate.metrics import POINT_METRICS

        if self.metric not in POINT_METRICS:
            raise ValueError(
                f"ForecastingGridSearch: metric={self.metric!r}; choose a point metric: "
                f"{list(POINT_METRICS)}"
            )
        grid = list(ParameterGrid(self.param_grid))
        known = set(self.model.get_params())
        unknown = sorted({k for params in grid for k in params} - known)
        if unknown:
            raise ValueError(
                f"ForecastingGridSearch: {type(self.model).__name__} has no parameter(s) "
                f"{unknown}; its parameters are {sorted(known)}"
            )
        panel = as_panel(y)  # read once: every candidate backtests the same data
        rows = []
        for params in grid:
            candidate = clone(self.model).set_params(**params)
            start = time.perf_counter()
            result = backtest(
                {"candidate": candidate},
                panel,
                self.horizon,
                n_windows=self.n_windows,
                **dict(self.backtest_params or {}),
            )
            score = float(result.metrics([self.metric], by=None)[self.metric].iloc[0])
            seconds = time.perf_counter() - start
            rows.append(
                {
                    self.metric: score,
                    "fit_s": seconds,
                    **{f"param_{k}": v for k, v in params.items()},
                }
            )
        table = pd.DataFrame(rows)
        order = np.argsort(table[self.metric].to_numpy(), kind="stable")  # NaN last
        table = table.iloc[order].reset_index(drop=True)
        table.insert(0, "rank", np.arange(1, len(table) + 1))
        self.results_ = table
        best = grid[int(order[0])]
        self.best_params_ = dict(best)
        self.best_score_ = float(table[self.metric].iloc[0])
        if self.refit:
            self.best_estimator_ = clone(self.model).set_params(**best).fit(panel)
        return self

    def predict(self, h: int | None = None, **kwargs: Any) -> pd.DataFrame:
        """The refitted best candidate's forecasts (``best_estimator_.predict``)."""
        if not hasattr(self, "best_estimator_"):
            raise ValueError("ForecastingGridSearch: fit it (with refit=True) before predict")
        return self.best_estimator_.predict(h, **kwargs)
