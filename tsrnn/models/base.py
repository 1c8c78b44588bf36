"""The estimator contract every forecaster follows, neural or statistical.

scikit-learn conventions: ``__init__`` stores keyword parameters and nothing else; ``fit``
validates, learns state ending in ``_`` and returns ``self``; ``predict`` starts with
``check_is_fitted``; ``clone`` and ``get_params`` work.

One level of template. The public methods live here and only here: :meth:`fit`,
:meth:`predict`, :meth:`update`, :meth:`predict_windows`, :meth:`get_state`/:meth:`set_state`,
:meth:`save` and :meth:`to` turn any input into a :class:`~tsrnn.Panel`, check the request
once (``h``, quantile levels, window ends) and call private hooks. A model writes
``_fit(panel)`` and ``_predict(h)``; where the default does not fit it, also
``_as_panel`` (covariates), ``_forecast`` (columns other than mean and normal quantiles),
``_update``, ``_predict_windows`` (a batched pass), ``_default_steps``/``_check_steps``,
``_default_levels``/``_check_levels``, ``_get_state``/``_set_state`` and ``_to``.

The statistical models' shared template, one model per series, is
:class:`~tsrnn.models.stats.local.LocalForecaster`.
"""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from tsrnn.data.frequency import season_length
from tsrnn.data.panel import ID, TIME, Panel, as_panel, standard_columns

log = logging.getLogger(__name__)


def quantile_column(model: str, q: float) -> str:
    """Name of the column holding quantile ``q`` of ``model``: ``"LSTM-q0.1"``."""
    return f"{model}-q{q:g}"


def interval_quantiles(level: Sequence[float] | None) -> dict[float, tuple[float, float]]:
    """Each central interval level (percent, as Nixtla writes them: 80, 95) and the quantiles
    that bound it.

    >>> interval_quantiles([80, 95])
    {80.0: (0.1, 0.9), 95.0: (0.025, 0.975)}
    """
    if level is None:
        return {}
    if isinstance(level, (int, float)):
        level = [level]
    pairs = {}
    for value in level:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 1 <= value < 100:
            raise ValueError(
                f"level={list(level)}: interval levels are percentages from 1 to 99.9, e.g. "
                "[80, 95] for the 80 % and 95 % intervals"
            )
        pairs[float(value)] = (round(0.5 - value / 200, 10), round(0.5 + value / 200, 10))
    return pairs


def interval_columns(
    frame: pd.DataFrame, pairs: dict[float, tuple[float, float]], keep: Sequence[float] = ()
) -> pd.DataFrame:
    """``<column>-lo-<level>`` and ``<column>-hi-<level>`` beside the forecast columns, from
    their quantile columns; quantile columns that are not in ``keep`` are then dropped."""
    if not pairs:
        return frame
    made = {q for pair in pairs.values() for q in pair}
    points = [c for c in frame.columns if quantile_column(c, next(iter(made))) in frame.columns]
    new = {}
    for column in points:
        for value, (lo, hi) in pairs.items():
            new[f"{column}-lo-{value:g}"] = frame[quantile_column(column, lo)]
            new[f"{column}-hi-{value:g}"] = frame[quantile_column(column, hi)]
    dropped = [quantile_column(c, q) for c in points for q in made if q not in set(keep)]
    return pd.concat([frame.drop(columns=dropped), pd.DataFrame(new, index=frame.index)], axis=1)


def check_horizon(h: Any, what: str) -> int:
    """``h`` as an ``int`` when it is a positive whole number; else ``ValueError`` naming
    ``what`` (``"LSTM: h"``)."""
    if h is None:
        raise ValueError(f"{what} is required: the number of steps to forecast")
    if isinstance(h, bool) or not isinstance(h, int | np.integer) or h < 1:
        raise ValueError(f"{what} must be a positive integer, got {h!r}")
    return int(h)


def check_quantiles(quantiles: Sequence[float] | None) -> list[float]:
    """Sorted quantile levels, each strictly between 0 and 1."""
    if quantiles is None:
        return []
    levels = sorted(float(q) for q in quantiles)
    if any(not 0.0 < q < 1.0 for q in levels) or len(set(levels)) != len(levels):
        raise ValueError(f"quantiles must be distinct and strictly between 0 and 1: {quantiles}")
    return levels


class Forecaster(BaseEstimator):
    """Base of every tsrnn forecaster: the fit/predict template over a Panel.

    Capability flags (class attributes): ``supports_missing`` (the method reads ``NaN`` natively;
    otherwise gaps are imputed for it), ``supports_quantiles`` (``predict(quantiles=...)``
    works), ``is_global`` (one model across all series), ``supports_static`` (it reads static
    attributes, ``static_df``; the others say they ignore them).
    """

    supports_missing: ClassVar[bool] = False
    supports_quantiles: ClassVar[bool] = True
    is_global: ClassVar[bool] = False
    supports_static: ClassVar[bool] = False

    @property
    def name(self) -> str:
        """Column name of this model's forecasts: the class name without ``Forecaster``."""
        return type(self).__name__.removesuffix("Forecaster")

    # ------------------------------------------------------------------ the template
    def fit(
        self,
        y: Any,
        X: Any = None,
        *,
        static_df: pd.DataFrame | None = None,
        id_col: str | None = None,
        time_col: str | None = None,
        target_col: str | None = None,
    ) -> Forecaster:
        """Learn from ``y``: a long or wide DataFrame, a ``pd.Series``, an array or a Panel.

        ``X`` is accepted for a uniform signature; covariates travel as Panel columns.
        ``static_df``: attributes of each series, one row per ``unique_id`` and one column per
        attribute (numbers, strings or categories), for a model that reads them
        (``supports_static``: the networks); the others log that they ignore it.
        ``id_col``, ``time_col`` and ``target_col`` name a long frame's columns when they are
        not ``unique_id``, ``ds`` and ``y`` (names like ``id``, ``time``, ``value`` are
        recognised unasked); ``update`` and ``predict(y=...)`` read the same names.
        """
        columns = {"id_col": id_col, "time_col": time_col, "target_col": target_col}
        y = standard_columns(y, **columns)
        panel = self._as_panel(y, X)
        static = self._learn_static(static_df, panel)
        self.columns_ = {k: v for k, v in columns.items() if v is not None}
        self.freq_ = panel.freq
        self.season_ = self._season(panel)
        self.ids_ = panel.ids.copy()
        self.lengths_ = panel.lengths.copy()
        # Where predict's forecasts go: future_times of each series' last point.
        self.index_ = last_points(panel)
        if self.supports_static:
            self.static_ = static
        try:
            self._fit(panel)
        except BaseException:
            # A failed fit leaves no half-learned state: predict says "not fitted".
            for key in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
                delattr(self, key)
            raise
        return self

    def predict(
        self,
        h: int | None = None,
        X_future: Any = None,
        quantiles: Sequence[float] | None = None,
        y: Any = None,
        level: Sequence[float] | None = None,
        static_df: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Forecast ``h`` steps after the end of every fitted series, in long format.

        Parameters
        ----------
        h : int, optional
            Steps to forecast; a model trained for a horizon (a network) defaults to it.
        X_future : DataFrame, optional
            Known-future covariates over the ``h`` steps (long: ``unique_id``, ``ds``, the
            columns), for a model that reads them; others ignore it.
        quantiles : sequence of float, optional
            Levels of the ``<model>-q<level>`` columns, each strictly between 0 and 1.
        y : optional
            Histories to forecast from instead of the fitted ones (any input ``fit`` takes):
            :meth:`update` on them, then this.
        level : list of float, optional
            Central prediction intervals in percent, as Nixtla's libraries take them: ``[80,
            95]`` adds ``<model>-lo-80``, ``<model>-hi-80``, ``<model>-lo-95`` and
            ``<model>-hi-95`` (the 10 %/90 % and 2.5 %/97.5 % quantiles).
        static_df : DataFrame, optional
            Attributes of the series forecast (as in :meth:`fit`), for a model fitted with
            them: needed for series of ``y`` whose attributes it was never given; rows given
            replace the ones it knew.

        Returns
        -------
        pandas.DataFrame
            ``unique_id``, ``ds``, a column named after the model (and ``<model>:<target>``
            for a network's extra targets), and one ``<model>-q<level>`` column per quantile.
        """
        check_is_fitted(self)
        pairs = interval_quantiles(level)
        if pairs and not self.supports_quantiles:
            raise ValueError(f"{self.name} makes point forecasts only; drop level=")
        keep = self._default_levels() if quantiles is None else list(quantiles)
        wanted = sorted({*keep, *(q for pair in pairs.values() for q in pair)})
        h, levels = self._check_request(h, wanted if pairs else quantiles)
        model = self._origin(y, static_df)
        frame = forecast_frame(model.index_, h, model._forecast(h, levels, X_future))
        return model.index_.as_given(interval_columns(frame, pairs, keep))

    def sample(
        self,
        h: int | None = None,
        n: int = 100,
        *,
        X_future: Any = None,
        y: Any = None,
        static_df: pd.DataFrame | None = None,
        random_state: int | None = 0,
    ) -> pd.DataFrame:
        """``n`` sample paths of the next ``h`` steps of every series, in long format.

        A network with a distribution loss and the recursive head draws DeepAR-style paths,
        each step's draw fed to the next. Every other model (point losses through their
        validation errors, the baselines through their residuals' normal intervals, the
        quantile loss, conformal intervals) samples its own forecast distribution: each
        step's value is its quantile at ``u = Phi(z)``, where ``z`` follows a Gaussian random
        walk scaled to unit variance (``z_t = (e_1 + ... + e_t) / sqrt(t)``), so consecutive
        steps err together as accumulated errors do, and each step's marginal is the model's,
        read at 200 levels (0.25 % to 99.75 %; the tails beyond are cut there; a quantile
        loss's trained levels bound it). Count models (``loss="negbin"``) give integers.

        Parameters
        ----------
        h : int, optional
            Steps (default as :meth:`predict`).
        n : int, default 100
            Paths per series.
        X_future, y, static_df
            As in :meth:`predict`.
        random_state : int or None, default 0
            Seed of the draws: the same seed gives the same paths (None: fresh each call).

        Returns
        -------
        pandas.DataFrame
            ``unique_id``, ``ds``, ``sample`` (0 to ``n - 1``) and one column per output (the
            model's name; ``<model>:<target>`` for extra targets), path after path.
        """
        check_is_fitted(self)
        if not self.supports_quantiles:
            raise ValueError(f"{self.name} makes point forecasts only: it has no paths to draw")
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise ValueError(f"{self.name}: sample n must be a positive integer, got {n!r}")
        h, _ = self._check_request(h, None)
        model = self._origin(y, static_df)
        paths = model._sample_paths(h, int(n), X_future, np.random.default_rng(random_state))
        index = model.index_
        S = index.n_series
        times = np.asarray(index.future_times(h)).reshape(S, 1, h)
        frame = pd.DataFrame(
            {
                ID: np.repeat(index.ids.astype(str), n * h),
                TIME: np.broadcast_to(times, (S, n, h)).ravel(),
                "sample": np.tile(np.repeat(np.arange(n), h), S),
            }
        )
        for name, values in paths.items():
            frame[name] = values.reshape(-1)
        return index.as_given(frame)

    def update(self, y: Any, static_df: pd.DataFrame | None = None) -> Forecaster:
        """This model forecasting from the histories in ``y`` (the same series, observed for
        longer, or new ones): the forecast origin moves to the end of ``y``, nothing is
        refitted that the model can keep. ``static_df`` gives the attributes of series it
        has none of (a model fitted with static attributes needs them for every series)."""
        check_is_fitted(self)
        y = standard_columns(y, **getattr(self, "columns_", {}))
        panel = self._as_panel(y, None, fitted=True)
        return self._with_static(static_df, panel.ids)._update(panel)

    def predict_windows(
        self,
        y: Any,
        ends: np.ndarray,
        h: int | None = None,
        quantiles: Sequence[float] | None = None,
        starts: np.ndarray | None = None,
    ) -> pd.DataFrame:
        """Forecasts from many cutoffs of every series with the fitted parameters (a backtest
        between refits).

        Parameters
        ----------
        y
            The series (any input ``fit`` accepts), observed past the cutoffs.
        ends : int array, shape (n_windows, n_series)
            ``ends[k, s]``: the points of series ``s`` (in ``y``'s order) before the cutoff of
            window ``k``; below 1 for none. Each needs ``ends + h <= length``.
        h : int, optional
            Steps per window (default as :meth:`predict`).
        quantiles : sequence of float, optional
        starts : int array like ``ends``, optional
            Where each window's history starts (default 0: all of it).

        Returns
        -------
        pandas.DataFrame
            ``unique_id``, ``window``, ``ds`` and the columns of :meth:`predict`. Series that
            fell back to a naive method are listed in ``frame.attrs["fallbacks"]``
            (``window``, ``unique_id``, ``fallback``, ``reason``) by models that fall back.
        """
        check_is_fitted(self)
        h, levels = self._check_request(h, quantiles)
        panel = self._as_panel(y, None, fitted=True)
        ends = np.asarray(ends, dtype=np.int64)
        starts = np.zeros_like(ends) if starts is None else np.asarray(starts, dtype=np.int64)
        if ends.ndim != 2 or ends.shape[1] != panel.n_series or starts.shape != ends.shape:
            raise ValueError(
                f"{self.name}: ends (and starts) must have shape (n_windows, {panel.n_series}), "
                f"got {ends.shape}"
            )
        valid = ends >= 1
        if np.any(ends[valid] + h > np.broadcast_to(panel.lengths, ends.shape)[valid]):
            raise ValueError(f"{self.name}: every window needs ends + h <= the series' length")
        return self._predict_windows(panel, ends, starts, h, levels)

    # ------------------------------------------------------------------ state
    def get_state(self) -> dict[str, Any]:
        """The fitted state as plain data: dicts with str keys, lists, numbers, strings, None
        and numeric numpy arrays (what :func:`tsrnn.models.persistence.save_model` writes)."""
        check_is_fitted(self)
        return self._get_state()

    def set_state(self, state: dict[str, Any]) -> Forecaster:
        """Restore what :meth:`get_state` gave; returns the fitted model."""
        self._set_state(state)
        return self

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the fitted model to one file, atomically; read it back with :func:`tsrnn.load`.

        The file holds the parameters and :meth:`get_state`: tensors and JSON, no pickled code.
        """
        from tsrnn.models.persistence import save_model

        params = self.get_params()
        if params.get("callback") is not None:
            log.info(
                "save: the progress callback is not saved (it is code); loaded models have none"
            )
            params["callback"] = None
        save_model(path, type(self).__name__, to_state(params), self.get_state())

    def to(self, device: str) -> Forecaster:
        """Run on ``device`` from now on (models without a network: nothing to move)."""
        self._to(str(device))
        return self

    # ------------------------------------------------------------------ the checks, once
    def _check_request(
        self, h: int | None, quantiles: Sequence[float] | None
    ) -> tuple[int, list[float]]:
        """``h`` (default :meth:`_default_steps`) and the quantile levels (default
        :meth:`_default_levels`), checked once for every forecasting method, with the model's
        own limits (:meth:`_check_steps`, :meth:`_check_levels`)."""
        h = self._default_steps() if h is None else h
        h = check_horizon(h, f"{self.name}: horizon h")
        self._check_steps(h)
        levels = check_quantiles(self._default_levels() if quantiles is None else quantiles)
        if levels and not self.supports_quantiles:
            raise ValueError(f"{self.name} makes point forecasts only; drop quantiles=")
        self._check_levels(levels)
        return h, levels

    def _fitted_on(self, panel: Panel) -> bool:
        """Whether ``panel`` is the data this model was fitted on (same series, same ends)."""
        return (
            np.array_equal(self.ids_.astype(str), panel.ids.astype(str))
            and np.array_equal(self.lengths_, panel.lengths)
            and self.index_.starts.equals(last_points(panel).starts)
        )

    def _origin(self, y: Any, static_df: Any) -> Forecaster:
        """The model forecasting from ``y`` (default: the fitted series) with ``static_df``'s
        attributes known."""
        if y is not None:
            return self.update(y, static_df=static_df)
        return self if static_df is None else self._with_static(static_df, self.ids_)

    def _sample_paths(
        self, h: int, n: int, X_future: Any, rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """Paths ``(n_series, n, h)`` per output column, from the forecast quantiles joined
        by a Gaussian random walk (see :meth:`sample`)."""
        levels = self._sample_levels()
        self._check_levels(levels)
        columns = self._forecast(h, levels, X_future)
        steps = np.sqrt(np.arange(1, h + 1))
        paths = {}
        for name, (point, quantiles) in columns.items():
            table = np.sort(np.stack([quantiles[q] for q in levels], axis=-1), axis=-1)
            walk = np.cumsum(rng.standard_normal((len(point), n, h)), axis=-1) / steps
            paths[name] = inverse_cdf(table, np.asarray(levels), norm.cdf(walk), self._counts())
        return paths

    def _sample_levels(self) -> list[float]:
        """The levels :meth:`sample` reads each step's distribution at."""
        return SAMPLE_LEVELS

    def _counts(self) -> bool:
        """Whether forecasts are counts (sample paths are then whole numbers)."""
        return False

    def _learn_static(self, static_df: Any, panel: Panel) -> Any:
        """``fit``'s encoding of ``static_df`` (None without one, or for a model that reads
        no attributes: it says so)."""
        if static_df is None:
            return None
        if not self.supports_static:
            log.warning("%s reads no static attributes; static_df ignored", self.name)
            return None
        from tsrnn.data.static import StaticFeatures

        return StaticFeatures.fit(static_df, panel.ids, self.name)

    def _with_static(self, static_df: Any, ids: np.ndarray) -> Forecaster:
        """A shallow copy knowing the attributes in ``static_df`` (``self`` when there is
        nothing to add), checked to cover every series in ``ids`` when the model reads any."""
        static = getattr(self, "static_", None) if self.supports_static else None
        if static is None:
            if static_df is not None:
                log.warning("%s was fitted without static attributes; static_df ignored", self.name)
            return self
        if static_df is not None:
            static = static.with_rows(static_df, self.name)
        static.values(ids, self.name)  # every series described, or a DataError naming one
        new = copy.copy(self)
        new.static_ = static
        return new

    def _fitted(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k.endswith("_") and not k.startswith("_")}

    # ------------------------------------------------------------------ what a model writes
    # ``_fit`` and ``_predict`` always; the rest where the default does not fit the model.
    def _fit(self, panel: Panel) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _predict(self, h: int) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
        """Point forecasts and forecast standard deviations, each ``(n_series, h)``.

        Quantiles are ``mean + z_q * std`` (normal forecast errors), nested and widening with
        the horizon wherever ``std`` grows.
        """
        raise NotImplementedError

    def _as_panel(self, y: Any, X: Any, fitted: bool = False) -> Panel:
        """The Panel ``fit`` learns from (``fitted``: one to forecast from, after ``fit``); a
        model reading covariates overrides this."""
        return as_panel(y)

    def _forecast(
        self, h: int, levels: list[float], X_future: Any
    ) -> dict[str, tuple[np.ndarray, dict[float, np.ndarray]]]:
        """The forecast columns of :func:`forecast_frame`: here :meth:`_predict`'s mean and
        normal quantiles around it."""
        mean, std = self._predict(h)
        return {self.name: (mean, {q: mean + norm.ppf(q) * std for q in levels})}

    def _update(self, panel: Panel) -> Forecaster:
        """Here: a fit on ``panel``, which is exactly :meth:`update` for a method with nothing
        to estimate (the naive family)."""
        from sklearn.base import clone

        return clone(self).fit(panel)

    def _predict_windows(
        self, panel: Panel, ends: np.ndarray, starts: np.ndarray, h: int, levels: list[float]
    ) -> pd.DataFrame:
        """Here: a loop, each window forecast after :meth:`_update` on its history (the window
        the model was fitted on by the model itself); a model that can do better (one batched
        pass) writes its own."""
        frames, fell = [], []
        for k in range(len(ends)):
            series = np.flatnonzero(ends[k] >= 1)
            if not len(series):
                continue
            history = panel.span(series, starts[k, series], ends[k, series])
            model = self if self._fitted_on(history) else self._update(history)
            frame = forecast_frame(model.index_, h, model._forecast(h, levels, None))
            frame.insert(1, "window", k)
            frames.append(frame)
            fallbacks = getattr(model, "fallbacks_", None)
            if fallbacks is not None and len(fallbacks):
                fell.append(fallbacks[[ID, "fallback", "reason"]].assign(window=k))
        columns = [ID, "window", TIME]
        out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
        if fell:
            out.attrs["fallbacks"] = pd.concat(fell, ignore_index=True)
        return out

    def _default_steps(self) -> int | None:
        """``h`` when a forecasting call gives none (None: the call must give it)."""
        return None

    def _check_steps(self, h: int) -> None:
        """Refuse an ``h`` the model cannot forecast (here: any positive ``h`` is fine)."""

    def _default_levels(self) -> list[float]:
        """The quantile levels when a forecasting call asks for none (here: none)."""
        return []

    def _check_levels(self, levels: list[float]) -> None:
        """Refuse quantile levels the model cannot give (here: any is fine)."""

    def _get_state(self) -> dict[str, Any]:
        """Here: every fitted attribute (a name ending in ``_``), encoded by :func:`to_state`."""
        return {key: to_state(value, key) for key, value in self._fitted().items()}

    def _set_state(self, state: dict[str, Any]) -> None:
        for key, value in state.items():
            setattr(self, key, from_state(value))

    def _to(self, device: str) -> None:
        """Move what runs on a device (here: nothing)."""

    def _season(self, panel: Panel) -> int:
        season = getattr(self, "season", None)
        if season is None:
            return season_length(panel.freq)
        if isinstance(season, bool) or not isinstance(season, int | np.integer) or season < 1:
            raise ValueError(f"{self.name}: season must be a positive integer, got {season!r}")
        return int(season)


SAMPLE_LEVELS = [round((k + 0.5) / 200, 6) for k in range(200)]  # 0.0025 .. 0.9975


def inverse_cdf(
    table: np.ndarray, levels: np.ndarray, u: np.ndarray, counts: bool = False
) -> np.ndarray:
    """Each step's quantile function at ``u``: ``table`` ``(S, h, G)`` holds the quantiles at
    ``levels`` ``(G,)``, ascending; ``u`` is ``(S, n, h)``; returns ``(S, n, h)``. Linear
    between levels, constant beyond the first and last; for ``counts``, the smallest
    tabulated quantile at or above ``u`` (a step function: whole numbers stay whole).

    >>> table = np.array([[[0.0, 10.0, 20.0]]])
    >>> inverse_cdf(table, np.array([0.25, 0.5, 0.75]), np.array([[[0.1, 0.375, 0.9]]]))
    array([[[ 0.,  5., 20.]]])
    """
    G = len(levels)
    above = np.searchsorted(levels, u)  # first level >= u
    grid = np.broadcast_to(table[:, None], (*u.shape, G))
    hi = np.clip(above, 0, G - 1)
    upper = np.take_along_axis(grid, hi[..., None], axis=-1)[..., 0]
    if counts:
        return upper
    lo = np.clip(above - 1, 0, G - 1)
    lower = np.take_along_axis(grid, lo[..., None], axis=-1)[..., 0]
    gap = levels[hi] - levels[lo]
    w = np.where(gap > 0, (u - levels[lo]) / np.where(gap > 0, gap, 1.0), 0.0)
    return lower + w * (upper - lower)


def forecast_frame(
    index: Panel, h: int, columns: dict[str, tuple[np.ndarray, dict[float, np.ndarray]]]
) -> pd.DataFrame:
    """Forecasts in long format: ``unique_id``, ``ds``, then per output column its point
    forecasts and ``<column>-q<level>`` quantiles.

    ``index`` holds the series (its ``future_times(h)`` are the forecast times); ``columns``
    maps a column name to ``(point (n_series, h), {level: (n_series, h)})``.
    """
    frame = pd.DataFrame({ID: np.repeat(index.ids.astype(str), h), TIME: index.future_times(h)})
    for name, (point, quantiles) in columns.items():
        frame[name] = np.asarray(point, dtype=np.float64).ravel()
        for q, values in quantiles.items():
            frame[quantile_column(name, q)] = np.asarray(values, dtype=np.float64).ravel()
    return frame


def last_points(panel: Panel) -> Panel:
    """Each series reduced to its last point: where forecasts go, without keeping the data
    (nor forgetting the dtypes the user's columns had)."""
    index = points_at(panel.ids, panel.times()[panel.offsets[1:] - 1], panel.freq)
    return index.replace(id_dtype=panel.id_dtype, time_unit=panel.time_unit)


def points_at(ids: np.ndarray, times: pd.Index, freq: Any) -> Panel:
    """One point per series, series ``ids[i]`` at ``times[i]`` (its ``future_times`` follow)."""
    ones = np.ones(len(ids))
    return Panel(
        values=ones,
        observed=ones.astype(bool),
        offsets=np.arange(len(ids) + 1),
        ids=ids,
        starts=times,
        freq=freq,
    )


# ---------------------------------------------------------------------- state as plain data
def to_state(value: Any, name: str = "value") -> Any:
    """``value`` as plain data for a model file: numbers, strings, None, numeric arrays, lists
    and str-keyed dicts pass; tuples, panels, indexes, frames and object arrays are tagged
    (``{"__tuple__": ...}``), as is a forecaster (an ensemble's member: its class, parameters
    and fitted state), so that :func:`from_state` gives them back. Anything else raises
    ``TypeError`` naming ``name``."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biuf":
            return value
        return {"__objects__": [to_state(v, name) for v in value.tolist()]}
    if isinstance(value, tuple):
        return {"__tuple__": [to_state(v, name) for v in value]}
    if isinstance(value, list):
        return [to_state(v, name) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: to_state(v, f"{name}.{k}") for k, v in value.items()}
    if isinstance(value, Panel):
        return {"__panel__": to_state(value.to_state(), name)}
    if isinstance(value, pd.DataFrame):
        columns = {str(c): to_state(value[c].to_numpy(), name) for c in value.columns}
        return {"__frame__": columns}
    if isinstance(value, Forecaster):  # a member of an ensemble: its class, params and state
        model = {"class": type(value).__name__, "params": to_state(value.get_params(False), name)}
        if value._fitted():
            model["state"] = value.get_state()  # already plain data (set_state decodes it)
        return {"__model__": model}
    raise TypeError(f"{name}: a {type(value).__name__} cannot be saved as plain data")


def from_state(value: Any) -> Any:
    """The value :func:`to_state` encoded."""
    if isinstance(value, list):
        return [from_state(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tuple__" in value:
        return tuple(from_state(v) for v in value["__tuple__"])
    if "__objects__" in value:
        return np.asarray(from_state(value["__objects__"]), dtype=object)
    if "__panel__" in value:
        return Panel.from_state(from_state(value["__panel__"]))
    if "__frame__" in value:
        return pd.DataFrame({c: from_state(v) for c, v in value["__frame__"].items()})
    if "__model__" in value:
        from tsrnn.registry import entry  # the registry names every class; it sits above

        saved = value["__model__"]
        model = entry(saved["class"]).cls()(**from_state(saved["params"]))
        return model.set_state(saved["state"]) if "state" in saved else model
    return {k: from_state(v) for k, v in value.items()}
