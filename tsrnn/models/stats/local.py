"""What the statistical models share: one model per series, fitted in parallel (``n_jobs``),
gaps imputed where the method needs complete data, a fallback to a seasonal naive forecast for
any series the method fails on (recorded in ``fallbacks_``), and statsmodels warnings captured
and summarized instead of sprayed on the terminal.
"""

from __future__ import annotations

import logging
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from tsrnn.data.impute import Imputer
from tsrnn.data.panel import ID, Panel
from tsrnn.errors import DataError
from tsrnn.models.base import Forecaster, last_points
from tsrnn.parallel import map_series

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fallback:
    """A series the method failed on, forecast by the seasonal naive (or naive) method."""

    values: np.ndarray  # the series' observed history (imputed), last season at least
    season: int  # 1: plain naive
    sigma: float  # residual standard deviation of the fallback method
    reason: str

    @property
    def method(self) -> str:
        return "SeasonalNaive" if self.season > 1 else "Naive"

    def to_state(self) -> dict[str, Any]:
        """Plain data for a model file."""
        return {
            "fallback": {
                "values": self.values,
                "season": self.season,
                "sigma": self.sigma,
                "reason": self.reason,
            }
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Fallback:
        """The fallback :meth:`to_state` gave."""
        kept = state["fallback"]
        values = np.asarray(kept["values"], dtype=np.float64)
        return cls(values, int(kept["season"]), float(kept["sigma"]), str(kept["reason"]))


class LocalForecaster(Forecaster):
    """One model per series, fitted in parallel, with a recorded fallback for failures.

    A subclass writes ``_fit_series(y) -> state`` on one series' values (1-D ``float64``, gaps
    imputed unless ``supports_missing``, leading unobserved points dropped) and
    ``_forecast_series(state, h) -> (mean, std)``. Any exception in either, or a non-finite
    forecast, turns that series into a :class:`Fallback` (seasonal naive with the model's
    season when the series spans two seasons, else naive), listed in ``fallbacks_``.

    Attributes
    ----------
    states_ : list
        The fitted model (or :class:`Fallback`) of each series, in ``ids_`` order.
    fallbacks_ : pandas.DataFrame
        ``unique_id``, ``model``, ``fallback``, ``reason``: one row per series that fell back.
    warnings_ : dict of str to int
        Warnings the underlying library raised while fitting, message -> count.
    """

    impute: ClassVar[str] = "linear"  # how gaps are filled for methods that need complete data

    def _fit(self, panel: Panel) -> None:
        histories = self._histories(panel)
        results = map_series(_fit_chunk, self._worker(), histories, getattr(self, "n_jobs", 1))
        self.states_ = [state for state, _ in results]
        self.warnings_ = {}
        self._count_warnings(results, f"fitting {len(histories)} series")
        self._record_fallbacks()

    def _forecast(
        self, h: int, levels: list[float], X_future: Any
    ) -> dict[str, tuple[np.ndarray, dict[float, np.ndarray]]]:
        """Point forecasts alone when no quantile is asked for: what the intervals need
        beyond them (Theta's ARIMA variance, four fifths of its fit) is then never computed."""
        if levels:
            return super()._forecast(h, levels, X_future)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1, "blas"):
            mean, _ = self._predict_each(h, spread=False)
        return {self.name: (mean, {})}

    def _predict(self, h: int) -> tuple[np.ndarray, np.ndarray]:
        from threadpoolctl import threadpool_limits

        self._complete()
        with threadpool_limits(1, "blas"):
            return self._predict_each(h)

    def _complete(self) -> None:
        """Finish, in parallel (``n_jobs``), the states whose intervals still need something
        computed (:meth:`_incomplete`); they keep it for later forecasts."""
        todo = [
            i
            for i, state in enumerate(self.states_)
            if not isinstance(state, Fallback) and self._incomplete(state)
        ]
        if not todo:
            return
        states = [self.states_[i] for i in todo]
        results = map_series(_complete_chunk, self._worker(), states, getattr(self, "n_jobs", 1))
        for i, (state, _) in zip(todo, results, strict=True):
            self.states_[i] = state
        self._count_warnings(results, f"completing the intervals of {len(todo)} series")

    def _count_warnings(self, results: list[tuple[Any, list[str]]], doing: str) -> None:
        counts: Counter[str] = Counter(getattr(self, "warnings_", {}))
        caught: Counter[str] = Counter()
        for _, messages in results:
            caught.update(messages)
        counts.update(caught)
        self.warnings_ = dict(counts)
        if caught:
            log.info(
                "%s: %d warning(s) while %s, e.g. %s",
                self.name,
                sum(caught.values()),
                doing,
                next(iter(caught)),
            )

    def _worker(self) -> LocalForecaster:
        """What a worker process needs to fit a series: the parameters and the season, not the
        fitted attributes of the whole panel (100,000 ids sent with every task cost the main
        process a quarter of the workers' time)."""
        import copy

        worker = copy.copy(self)
        worker.__dict__ = {
            k: v for k, v in self.__dict__.items() if not k.endswith("_") or k == "season_"
        }
        return worker

    def _predict_each(self, h: int, spread: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Each series' forecast (``spread=False``: the mean only, ``std`` all NaN)."""
        mean = np.empty((len(self.states_), h))
        std = np.full((len(self.states_), h), np.nan)
        changed = False
        for i, state in enumerate(self.states_):
            if not isinstance(state, Fallback):
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        if spread:
                            m, s = self._forecast_series(state, h)
                        else:
                            m, s = self._point_series(state, h), np.nan
                    m, s = np.asarray(m, dtype=np.float64), np.asarray(s, dtype=np.float64)
                    if m.shape != (h,) or not np.isfinite(m).all():
                        raise FloatingPointError("non-finite forecast")
                    mean[i], std[i] = m, np.where(np.isfinite(s), s, np.nan)
                    continue
                except Exception as exc:  # a batch never crashes on one series
                    state = self.states_[i] = _fallback(
                        self._history_of(state), self.season_, f"forecast failed: {exc}"
                    )
                    changed = True
            mean[i], std[i] = naive_forecast(state.values, state.season, state.sigma, h)
        if changed:
            self._record_fallbacks()
        return mean, std

    def _update(self, panel: Panel) -> LocalForecaster:
        """A copy forecasting from the longer histories in ``panel`` with the parameters
        already estimated: the origin moves, nothing is re-estimated (a backtest without
        refitting).

        Each series should have been fitted (its history may have grown, not changed before);
        a series the model never saw is fitted now (logged). A series that fell back keeps
        falling back, on its new history.
        """
        import copy

        known = pd.Index(self.ids_.astype(str)).get_indexer(panel.ids.astype(str))
        unseen = np.flatnonzero(known < 0)
        if len(unseen):
            log.info(
                "%s.update: %d series never fitted (%s); fitting them",
                self.name,
                len(unseen),
                ", ".join(repr(str(i)) for i in panel.ids[unseen[:5]]),
            )
        olds = [self.states_[k] if k >= 0 else None for k in known]
        items = list(zip(olds, self._histories(panel), strict=True))
        # The parameters are kept (ETS, ARIMA: 0.1 ms a series; SES to Theta recompute the
        # seasonal adjustment too), so sending the states to workers would cost more than it
        # saves (1,000 series: 1.4 s, not 0.1): here.
        results = _update_chunk(self._worker(), items)
        states = [state for state, _ in results]
        new = copy.copy(self)
        new.states_ = states
        new.ids_ = panel.ids.copy()
        new.lengths_ = panel.lengths.copy()
        new.index_ = last_points(panel)
        new._count_warnings(results, f"updating {len(items)} series")
        new._record_fallbacks()
        return new

    def _get_state(self) -> dict[str, Any]:
        """Not available: each series' fit is a statsmodels object, which a model file
        (tensors and JSON, never pickled code) cannot hold."""
        raise TypeError(
            f"{self.name} keeps a statsmodels fit per series, which a tsrnn model file (tensors "
            "and JSON, no pickled code) cannot hold; refit it on the data instead"
        )

    # ------------------------------------------------------------------ subclass hooks
    def _fit_series(self, y: np.ndarray) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _update_series(self, state: Any, y: np.ndarray) -> Any:
        """``state``'s model on the longer history ``y``, parameters kept. By default a refit
        (in this process: every model here keeps its parameters and overrides this)."""
        return self._fit_series(y)

    def _forecast_series(self, state: Any, h: int) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError  # pragma: no cover - abstract

    def _point_series(self, state: Any, h: int) -> np.ndarray:
        """The mean forecast alone; by default :meth:`_forecast_series`'s."""
        return self._forecast_series(state, h)[0]

    def _incomplete(self, state: Any) -> bool:
        """Whether ``state`` still lacks what its intervals need (by default never)."""
        return False

    def _complete_series(self, state: Any) -> Any:
        """``state`` with what its intervals need (for :meth:`_incomplete` states)."""
        return state  # pragma: no cover - only called for incomplete states

    def _history_of(self, state: Any) -> np.ndarray:
        """The series a fitted state was fitted on (for a fallback decided at predict time)."""
        return np.asarray(state.history, dtype=np.float64)

    # ------------------------------------------------------------------ helpers
    def _histories(self, panel: Panel) -> list[np.ndarray]:
        if not self.supports_missing and not panel.observed.all():
            panel = Imputer(self.impute).fit_transform(panel)
        out = []
        for i in range(panel.n_series):
            values = panel.series_values(i)
            seen = panel.observed[panel.offsets[i] : panel.offsets[i + 1]]
            # A series starts at its first observation; a copy, which a model may keep or alter.
            out.append(values[int(np.argmax(seen)) :].copy())
        return out

    def _record_fallbacks(self) -> None:
        rows = [
            (self.ids_[i], self.name, s.method, s.reason)
            for i, s in enumerate(self.states_)
            if isinstance(s, Fallback)
        ]
        self.fallbacks_ = pd.DataFrame(rows, columns=[ID, "model", "fallback", "reason"])
        if rows:
            log.warning(
                "%s fell back to a naive forecast for %d of %d series (see fallbacks_)",
                self.name,
                len(rows),
                len(self.states_),
            )


def _one_blas_thread() -> Any:
    """A chunk's BLAS limit. One series' fit makes thousands of BLAS calls on a handful of
    parameters; waking OpenBLAS's threads for each made statsmodels fits 4-5 times slower on
    2 cores. It is set once a chunk: setting it costs about 2 ms, a sixth of a Theta fit."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1, "blas")


def _captured(
    work: Callable[[], Any], recover: Callable[[Exception], Any]
) -> tuple[Any, list[str]]:
    """``work()`` with the warnings it raised, as text; where it fails, ``recover(exc)`` (a
    batch never crashes on one series)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = work()
        except Exception as exc:
            result = recover(exc)
    return result, [f"{w.category.__name__}: {w.message}" for w in caught]


def _fit_chunk(model: LocalForecaster, ys: list[np.ndarray]) -> list[tuple[Any, list[str]]]:
    with _one_blas_thread():
        return [_fit_one(model, y, model.season_) for y in ys]


def _update_chunk(
    model: LocalForecaster, items: list[tuple[Any, np.ndarray]]
) -> list[tuple[Any, list[str]]]:
    """Each (fitted state or None, longer history) as :meth:`LocalForecaster._update` makes
    it, with its warnings: the parameters kept, a series never fitted fitted, a fallback
    falling back again on its new history."""

    def update(old: Any, y: np.ndarray) -> tuple[Any, list[str]]:
        if old is None:
            return _fit_one(model, y, model.season_)

        def work() -> Any:
            if isinstance(old, Fallback):
                return _fallback(y, model.season_, old.reason)
            return model._update_series(old, y)

        return _captured(work, lambda exc: _fallback(y, model.season_, f"update failed: {exc}"))

    with _one_blas_thread():
        return [update(old, y) for old, y in items]


def _complete_chunk(model: LocalForecaster, states: list[Any]) -> list[tuple[Any, list[str]]]:
    """Each state completed (:meth:`LocalForecaster._complete_series`), with its warnings; a
    state that fails keeps its gap (its intervals are then NaN)."""

    def complete(state: Any) -> tuple[Any, list[str]]:
        def keep(exc: Exception) -> Any:
            warnings.warn(f"intervals not computed: {exc}", RuntimeWarning, stacklevel=1)
            return state

        return _captured(lambda: model._complete_series(state), keep)

    with _one_blas_thread():
        return [complete(state) for state in states]


def _fit_one(model: LocalForecaster, y: np.ndarray, season: int) -> tuple[Any, list[str]]:
    """Fit one series, capturing warnings; any failure becomes a recorded fallback. (Called
    inside a chunk's BLAS thread limit.)"""

    def fit() -> Any:
        if len(y) < 2:
            raise DataError(f"too short ({len(y)} observed point)")
        return model._fit_series(y)

    return _captured(fit, lambda exc: _fallback(y, season, f"{type(exc).__name__}: {exc}"))


def _fallback(y: np.ndarray, season: int, reason: str) -> Fallback:
    if np.isnan(y).any():  # a model that reads gaps natively hands them on: fill them here
        y = pd.Series(y).interpolate(limit_direction="both").to_numpy()
    m = season if len(y) >= 2 * season and season > 1 else 1
    sigma = _residual_sigma(y, m)
    return Fallback(
        values=np.asarray(y[-m:], dtype=np.float64), season=m, sigma=sigma, reason=reason
    )


def _residual_sigma(y: np.ndarray, m: int) -> float:
    resid = y[m:] - y[:-m] if len(y) > m else np.zeros(1)
    return float(np.sqrt(np.mean(resid**2))) if len(resid) else 0.0


def naive_forecast(
    values: np.ndarray, season: int, sigma: float, h: int
) -> tuple[np.ndarray, np.ndarray]:
    """Seasonal naive point forecasts and their standard deviations (Hyndman & Athanasopoulos).

    ``std_h = sigma * sqrt(k + 1)`` where ``k`` counts the complete seasons before step ``h``
    (for ``season=1``: ``sigma * sqrt(h)``, the random walk).
    """
    last = np.asarray(values, dtype=np.float64)[-season:]
    steps = np.arange(h)
    mean = last[steps % season]
    std = sigma * np.sqrt(steps // season + 1.0)
    return mean, std
