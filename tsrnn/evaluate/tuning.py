"""Choosing parameters by backtest: :class:`ForecastingGridSearch` and
:class:`ForecastingOptunaSearch`.

Every candidate is a clone of the model with its parameters, run through the same
rolling-origin backtest (:func:`~tsrnn.evaluate.backtest.backtest`: every candidate on
identical cutoffs, each fit seeing only the data before its cutoff). The candidates are ranked
by one metric, and the best is refitted on all the data, as sktime's
``ForecastingGridSearchCV`` and scikit-learn's ``GridSearchCV(refit=True)`` do. The grid search
tries every combination of a scikit-learn :class:`~sklearn.model_selection.ParameterGrid`; the
Optuna search (``pip install 'tsrnn[optuna]'``) lets Optuna's sampler (TPE by default) choose
``n_trials`` candidates from distributions, each informed by the scores before it.
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


class _BacktestSearch:
    """What both searches share: one backtest per candidate, the table, the refit."""

    model: Any
    horizon: int
    n_windows: int
    metric: str
    refit: bool
    backtest_params: Mapping[str, Any] | None

    def _check(self, names: set[str]) -> None:
        from tsrnn.evaluate.metrics import POINT_METRICS

        what = type(self).__name__
        if self.metric not in POINT_METRICS:
            raise ValueError(
                f"{what}: metric={self.metric!r}; choose a point metric: {list(POINT_METRICS)}"
            )
        known = set(self.model.get_params())
        unknown = sorted(names - known)
        if unknown:
            raise ValueError(
                f"{what}: {type(self.model).__name__} has no parameter(s) {unknown}; its "
                f"parameters are {sorted(known)}"
            )

    def _score(self, params: dict[str, Any], panel: Any) -> dict[str, Any]:
        """One candidate's backtest: its row of the results table."""
        from tsrnn.evaluate.backtest import backtest

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
        return {
            self.metric: score,
            "fit_s": time.perf_counter() - start,
            **{f"param_{k}": v for k, v in params.items()},
        }

    def _finish(self, rows: list[dict[str, Any]], tried: list[dict], panel: Any) -> None:
        """Rank the rows (NaN last), keep the best, refit it on all the data."""
        table = pd.DataFrame(rows)
        order = np.argsort(table[self.metric].to_numpy(), kind="stable")
        table = table.iloc[order].reset_index(drop=True)
        table.insert(0, "rank", np.arange(1, len(table) + 1))
        self.results_ = table
        best = tried[int(order[0])]
        self.best_params_ = dict(best)
        self.best_score_ = float(table[self.metric].iloc[0])
        if self.refit:
            self.best_estimator_ = clone(self.model).set_params(**best).fit(panel)

    def predict(self, h: int | None = None, **kwargs: Any) -> pd.DataFrame:
        """The refitted best candidate's forecasts (``best_estimator_.predict``)."""
        if not hasattr(self, "best_estimator_"):
            raise ValueError(f"{type(self).__name__}: fit it (with refit=True) before predict")
        return self.best_estimator_.predict(h, **kwargs)


class ForecastingGridSearch(_BacktestSearch):
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
        grid = list(ParameterGrid(self.param_grid))
        self._check({k for params in grid for k in params})
        panel = as_panel(y)  # read once: every candidate backtests the same data
        self._finish([self._score(params, panel) for params in grid], grid, panel)
        return self


class ForecastingOptunaSearch(_BacktestSearch):
    """Let Optuna choose ``n_trials`` parameter sets of ``model`` by backtest; keep the best.

    Needs optuna (``pip install 'tsrnn[optuna]'``).

    Parameters
    ----------
    model : Forecaster
        Any tsrnn forecaster; cloned for every trial, never fitted itself.
    param_distributions : dict
        Parameter names to Optuna distributions (``optuna.distributions.FloatDistribution(
        1e-4, 1e-2, log=True)``, ``IntDistribution(8, 64)``), or to a list of values to
        choose among (a categorical distribution).
    horizon : int
        Steps forecast from each cutoff.
    n_trials : int, default 20
        Candidates to backtest (fewer when ``timeout`` ends the search first).
    n_windows, metric, refit, backtest_params
        As in :class:`ForecastingGridSearch`.
    sampler : optuna.samplers.BaseSampler, optional
        Default: TPE seeded with ``random_state``.
    random_state : int, default 0
        Seed of the default sampler: the same seed tries the same candidates.
    timeout : float, optional
        Seconds after which no new trial starts.

    Attributes
    ----------
    results_ : pandas.DataFrame
        One row per trial, best first: ``rank``, ``trial``, the metric, ``fit_s`` and one
        ``param_<name>`` column per parameter.
    best_params_, best_score_, best_estimator_
        As in :class:`ForecastingGridSearch`.
    study_ : optuna.study.Study
        The study, for Optuna's own plots and analyses.
    """

    def __init__(
        self,
        model: Any,
        param_distributions: Mapping[str, Any],
        horizon: int,
        *,
        n_trials: int = 20,
        n_windows: int = 3,
        metric: str = "mase",
        refit: bool = True,
        backtest_params: Mapping[str, Any] | None = None,
        sampler: Any = None,
        random_state: int | None = 0,
        timeout: float | None = None,
    ) -> None:
        self.model = model
        self.param_distributions = param_distributions
        self.horizon = horizon
        self.n_trials = n_trials
        self.n_windows = n_windows
        self.metric = metric
        self.refit = refit
        self.backtest_params = backtest_params
        self.sampler = sampler
        self.random_state = random_state
        self.timeout = timeout

    def fit(self, y: Any) -> ForecastingOptunaSearch:
        """Backtest ``n_trials`` candidates on ``y``, each chosen by the sampler from the
        scores before it."""
        try:
            import optuna
        except ImportError:
            raise ImportError(
                "ForecastingOptunaSearch needs optuna: pip install 'tsrnn[optuna]' (or use "
                "ForecastingGridSearch)"
            ) from None
        if (
            isinstance(self.n_trials, bool)
            or not isinstance(self.n_trials, int)
            or (self.n_trials < 1)
        ):
            raise ValueError(
                f"ForecastingOptunaSearch: n_trials must be a positive integer, got "
                f"{self.n_trials!r}"
            )
        self._check(set(self.param_distributions))
        distributions = {
            name: _distribution(optuna, name, value)
            for name, value in self.param_distributions.items()
        }
        panel = as_panel(y)
        sampler = self.sampler or optuna.samplers.TPESampler(seed=self.random_state)
        study = optuna.create_study(direction="minimize", sampler=sampler)
        rows, tried = [], []
        start = time.perf_counter()
        for _ in range(self.n_trials):
            if self.timeout is not None and time.perf_counter() - start > self.timeout:
                break
            trial = study.ask(distributions)
            row = self._score(dict(trial.params), panel)
            score = row[self.metric]
            # A candidate that scored NaN (it failed every window) is a failed trial.
            if np.isfinite(score):
                study.tell(trial, score)
            else:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
            rows.append({"trial": trial.number, **row})
            tried.append(dict(trial.params))
        self.study_ = study
        self._finish(rows, tried, panel)
        return self


def _distribution(optuna: Any, name: str, value: Any) -> Any:
    """An Optuna distribution as given, or a list of values as a categorical one."""
    if isinstance(value, optuna.distributions.BaseDistribution):
        return value
    if isinstance(value, list | tuple) and value:
        return optuna.distributions.CategoricalDistribution(list(value))
    raise ValueError(
        f"ForecastingOptunaSearch: param_distributions[{name!r}] is {value!r}; give an Optuna "
        "distribution (optuna.distributions.IntDistribution(8, 64)) or a non-empty list of "
        "values"
    )
