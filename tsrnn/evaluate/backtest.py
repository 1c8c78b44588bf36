"""Rolling-origin backtests: every model forecast from the same cutoffs, nothing seen after them.

A backtest is a function of (estimators, data), not a method of a model: each model is
``clone``-d and refitted as the refit policy says, on the data up to each cutoff only.

Cutoffs are counted back from each series' own end, so ragged panels work: window ``k`` (0 is
the oldest) of a series of length ``n`` trains on its points before ``n - horizon - (n_windows
- 1 - k) * step`` and forecasts the ``horizon`` points from there. A series too short for a
window (fewer than ``min_train`` points before that cutoff) sits that window out, and the
result lists it in ``skipped``: nothing is dropped silently.

Refit policies: ``refit=True`` fits at every window; ``refit=False`` fits once, on the data up
to the first cutoff, and moves the origin of that fitted model forward; ``refit=k`` refits every
``k`` windows. Moving the origin keeps what was estimated: a neural model forecasts from the
longer history (all windows in one batched pass), a statistical one runs its fitted parameters
on over it (:meth:`~tsrnn.models.base.Forecaster.update`: ETS and ARIMA filter with the same
parameters, SES/Holt/Damped recompute the seasonal adjustment and keep theirs, Theta keeps its
smoothing weight and recomputes the adjustment, its drift and its level, the naive family,
whose fits are closed-form, recomputes).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from tsrnn import parallel
from tsrnn.data.panel import ID, TARGET, TIME, Panel, as_panel, id_dtype_of, ids_as
from tsrnn.errors import DataError, Interrupted
from tsrnn.files import atomic_folder
from tsrnn.models.base import Forecaster, interval_columns, interval_quantiles
from tsrnn.parallel import parallel_backend

log = logging.getLogger(__name__)

CUTOFF = "cutoff"
# The Diebold-Mariano test of the leaderboard: the ranking metrics it compares in their own
# units, and the fewest forecast windows (its independent units) it runs on.
DM_LOSSES = ("mae", "mse", "rmse", "mase", "rmsse", "smape", "mape")
MIN_DM_WINDOWS = 10
_TABLES = ("forecasts", "train", "skipped", "timings", "fallbacks")
TIMINGS = ("model", "fits", "fit_s", "predict_s", "threads")


@dataclass
class BacktestResult:
    """What a backtest produced.

    Attributes
    ----------
    forecasts : pandas.DataFrame
        ``unique_id``, ``window`` (0 = oldest), ``cutoff`` (the last time each model saw),
        ``ds``, ``y`` (``NaN`` where unobserved), one column per model and its
        ``<model>-q<level>`` columns.
    models : list of str
    horizon : int
    timings : pandas.DataFrame
        Per model: ``fits``, ``fit_s``, ``predict_s`` (wall seconds, all windows) and
        ``threads``: the CPU threads its last fit trained on (a network's ``threads_``;
        empty for models that do not report it).
    fallbacks : pandas.DataFrame
        ``model``, ``window``, ``unique_id``, ``fallback``, ``reason``: series a statistical
        model could not fit and forecast with a naive method instead.
    histories : dict of str to pandas.DataFrame
        Neural models: the training history (``history_``) of the last fit (not saved).
    choices : pandas.DataFrame
        Neural models: what each fit resolved from the data (their ``choices_``: seasons,
        the Theta and damped-trend shares, the learning rate, the steps, ...), one row per
        network and fitted window (``window``: the first window the fit forecasts); an
        ensemble's networks as ``<ensemble>/<member>``, e.g. ``Ensemble/LSTM``.
    skipped : pandas.DataFrame
        ``unique_id``, ``window``, ``reason``: series that sat a window out.
    train : pandas.DataFrame
        Each series' observed history before its first cutoff (``unique_id``, ``ds``, ``y``):
        the in-sample scale of the scaled metrics, free of any later data.
    config : dict
        The backtest's arguments.
    model_info : dict of str to dict
        Per model: ``class``, ``baseline`` (a statistical baseline, by the model registry) and
        ``params`` (its ``get_params()``, as plain data).
    """

    forecasts: pd.DataFrame
    models: list[str]
    horizon: int
    timings: pd.DataFrame
    skipped: pd.DataFrame
    train: pd.DataFrame
    config: dict = field(default_factory=dict)
    fallbacks: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["model", "window", ID, "fallback", "reason"])
    )
    histories: dict = field(default_factory=dict)
    model_info: dict = field(default_factory=dict)
    choices: pd.DataFrame = field(default_factory=lambda: _choices_frame([]))

    @property
    def baselines(self) -> list[str]:
        """The models that are statistical baselines (the registry says which; a saved result
        without that record: the models named as a registered baseline class)."""
        from tsrnn.registry import entry

        def baseline(name: str) -> bool:
            if name in self.model_info:
                return bool(self.model_info[name]["baseline"])
            try:
                return bool(entry(name).baseline)
            except DataError:
                return False

        return [m for m in self.models if baseline(m)]

    @property
    def season(self) -> int:
        """Season of the scaled metrics: the backtest's ``season``, else the frequency's."""
        from tsrnn.data.frequency import season_length

        return self.config.get("season") or season_length(self.config.get("freq", 1))

    def metrics(
        self,
        metrics: Sequence[str] = ("mae", "rmse", "smape", "mape", "mase"),
        by: str | None = None,
        season: int | None = None,
        targets: bool = True,
    ) -> pd.DataFrame:
        """Scores of every model, by :func:`tsrnn.evaluate.metrics.evaluate`.

        ``by=None``: one row per model, the mean over series and windows; ``"series"``: per
        series and window; ``"horizon"``: per step ahead. ``season`` (for ``mase``) defaults
        to the backtest's ``season``, else the season of the data's frequency. With
        ``targets``, each extra target a network forecast (``targets=``) is scored too: rows
        ``<model>:<target>`` against that column's actuals, scaled by its own history.
        MAPE is undefined where the actual is 0: those steps are left out of it, and with
        ``by=None`` the ``n_zero_actuals`` column counts them.
        """
        from tsrnn.evaluate.metrics import INTERVAL_METRICS, evaluate

        if season is None:
            season = self.season
        frame = self.forecasts.drop(columns=["window"])
        table = evaluate(
            frame, train=self.train, models=self.models, metrics=metrics, season=season, by=by
        )
        for value in self.config.get("level") or ():  # the coverage of each interval asked for
            covered = evaluate(frame, models=self.models, metrics=["coverage"], by=by, level=value)
            table[f"coverage-{value:g}"] = covered["coverage"].to_numpy()
        if not targets:
            return table
        extra = []  # each extra target's forecasts against its own actuals and history
        for target in self.config.get("targets") or ():
            columns = [f"{m}:{target}" for m in self.models if f"{m}:{target}" in frame]
            if not columns:
                continue
            point = [m for m in metrics if m not in INTERVAL_METRICS]
            extra.append(
                evaluate(
                    frame.assign(y=frame[target]),
                    train=self.train.assign(y=self.train[target]).dropna(subset=["y"]),
                    models=columns,
                    metrics=point,
                    season=season,
                    by=by,
                )
            )
        return pd.concat([table, *extra], ignore_index=True) if extra else table

    def to_frame(self) -> pd.DataFrame:
        """The forecasts as a long DataFrame (a copy): ``unique_id``, ``window``, ``cutoff``,
        ``ds``, ``y`` and the models' columns."""
        return self.forecasts.copy()

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the result to the folder ``path`` (replaced whole, atomically): ``forecasts``,
        ``train``, ``skipped`` and ``timings`` as CSV, the rest (``choices`` included) in
        ``result.json``."""
        target = Path(path)
        with atomic_folder(target) as tmp:
            for name in _TABLES:
                getattr(self, name).to_csv(tmp / f"{name}.csv", index=False)
            meta = {
                "format": "tsrnn-backtest",
                "format_version": 1,
                "models": self.models,
                "horizon": self.horizon,
                "config": {k: v if k != "freq" else str(v) for k, v in self.config.items()},
                "time": _time_kind(self.forecasts[TIME]),
                "id_dtype": id_dtype_of(self.forecasts[ID]),
                "model_info": self.model_info,
                "choices": self.choices.to_dict(orient="records"),
            }
            (tmp / "result.json").write_text(json.dumps(meta, indent=2, default=str))
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> BacktestResult:
        """Read a result written by :meth:`save`."""
        folder = Path(path)
        try:
            meta = json.loads((folder / "result.json").read_text())
        except FileNotFoundError:
            raise DataError(f"{folder}: no result.json; not a saved backtest") from None
        if meta.get("format") != "tsrnn-backtest" or meta.get("format_version", 99) > 1:
            raise DataError(f"{folder}: not a backtest this tsrnn can read ({meta.get('format')})")
        tables = {name: pd.read_csv(folder / f"{name}.csv") for name in _TABLES}
        for name in ("forecasts", "train"):
            tables[name] = _parse_times(tables[name], meta["time"])
        tables["skipped"] = tables["skipped"].astype({ID: str})
        if meta.get("id_dtype"):  # int ids come back as ints (results before it: text)
            for name in ("forecasts", "train", "skipped"):
                tables[name][ID] = ids_as(tables[name][ID], meta["id_dtype"])
        # results saved before the threads column read with it empty
        timings = tables["timings"].reindex(columns=list(TIMINGS))
        tables["timings"] = timings.astype({"threads": "Int64"})
        config = dict(meta["config"])
        if isinstance(config.get("freq"), str) and config["freq"].lstrip("-").isdigit():
            config["freq"] = int(config["freq"])
        return cls(
            models=meta["models"],
            horizon=meta["horizon"],
            config=config,
            model_info=meta.get("model_info", {}),
            choices=_choices_frame(meta.get("choices", [])),  # results saved before: none
            **tables,
        )

    def n_windows_scored(self) -> int:
        """Forecast windows (series times cutoffs) with at least one actual: the independent
        units of the Diebold-Mariano test."""
        scored = self.forecasts[self.forecasts[TARGET].notna()]
        return int(scored[[ID, CUTOFF]].drop_duplicates().shape[0])

    def dm_note(self) -> str:
        """Why the leaderboard has no p-values, in words, or ``""`` when it has them."""
        n = self.n_windows_scored()
        if n >= MIN_DM_WINDOWS:
            return ""
        return (
            f"no significance test: {n} forecast window{'s' if n != 1 else ''} (series times "
            f"cutoffs), fewer than the {MIN_DM_WINDOWS} a Diebold-Mariano test needs to mean "
            "anything; add series or windows"
        )

    def leaderboard(
        self, metric: str = "mase", reference: str | None = None, season: int | None = None
    ) -> pd.DataFrame:
        """Models ranked by ``metric`` (lower is better). With a ``reference`` model: the skill
        ``1 - metric / metric_reference`` and the p-value of a Diebold-Mariano test (HLN
        correction) that the model's loss is lower than the reference's, on the mean loss of
        each forecast window in the ranking metric's units (scaled errors for ``mase``, so
        that a series at 10 million does not outweigh one at 10). With fewer than
        ``MIN_DM_WINDOWS`` forecast windows (series times cutoffs) there is no p-value: the
        test would mean nothing (:meth:`dm_note` says so in words).
        """
        from tsrnn.evaluate.stats import dm_test

        scores = self.metrics([metric], by=None, season=season, targets=False)[["model", metric]]
        scores = scores.sort_values(metric, kind="stable").reset_index(drop=True)
        if reference is not None:
            if reference not in self.models:
                raise ValueError(f"leaderboard: reference {reference!r} is not among {self.models}")
            base = float(scores.loc[scores.model == reference, metric].iloc[0])
            scores["skill"] = 1.0 - scores[metric] / base
            loss = metric if metric in DM_LOSSES else "mae"
            frame = self.forecasts.drop(columns=["window"])
            few = self.n_windows_scored() < MIN_DM_WINDOWS
            season = self.season if season is None else season
            scores["p_value"] = [
                np.nan
                if model == reference or few
                else _dm_p(dm_test, frame, model, reference, loss, self.train, season)
                for model in scores.model
            ]
        scores.insert(0, "rank", np.arange(1, len(scores) + 1))
        return scores


def dm_loss(result: BacktestResult, model: str, other: str, metric: str) -> float:
    """One-sided Diebold-Mariano p-value that ``model`` beats ``other`` on ``metric``'s
    per-window losses, as the leaderboard tests against its reference (NaN when the test
    cannot run)."""
    from tsrnn.evaluate.stats import dm_test

    loss = metric if metric in DM_LOSSES else "mae"
    frame = result.forecasts.drop(columns=["window"])
    return _dm_p(dm_test, frame, model, other, loss, result.train, result.season)


def _dm_p(
    dm_test: Any,
    frame: pd.DataFrame,
    model: str,
    reference: str,
    loss: str,
    train: pd.DataFrame,
    season: int,
) -> float:
    """One-sided DM p-value (model better than reference); NaN with too few windows."""
    try:
        result = dm_test(
            frame, model, reference, loss=loss, alternative="less", train=train, season=season
        )
        return float(result.p_value)
    except ValueError as exc:
        log.info("leaderboard: no DM test for %s against %s (%s)", model, reference, exc)
        return float("nan")


@dataclass(frozen=True)
class BacktestStep:
    """Where a backtest is: ``model`` is fitting (``phase="fit"``) or has forecast
    (``"done"``) the windows from ``window`` (1-based) of ``n_windows``, its fit ``fit`` of
    ``fits``; ``done`` of ``n_fits`` fits of all models are finished."""

    model: str
    window: int
    n_windows: int
    done: int
    n_fits: int
    phase: str
    fit: int = 1
    fits: int = 1


def backtest(
    models: Any,
    data: Any,
    horizon: int,
    *,
    n_windows: int = 3,
    step: int | None = None,
    refit: bool | int = True,
    window: str = "expanding",
    window_size: int | None = None,
    min_train: int = 2,
    quantiles: Sequence[float] | None = None,
    warm_start: int | None = None,
    season: int | None = None,
    level: Sequence[float] | None = None,
    static_df: pd.DataFrame | None = None,
    progress: Callable[[BacktestStep], None] | None = None,
    backend: Any = None,
    scheduler: str | None = None,
) -> BacktestResult:
    """Forecast ``horizon`` steps from ``n_windows`` rolling cutoffs with every model.

    Parameters
    ----------
    models : estimator, list of estimators, or dict of name to estimator
        Each is ``clone``-d for every fit. Names default to each model's ``name``.
    data
        Anything the estimators' ``fit`` accepts (long or wide DataFrame, Series, Panel).
    horizon : int
        Steps forecast from each cutoff.
    n_windows : int, default 3
        Forecast windows per series.
    step : int, optional
        Steps between consecutive cutoffs (default ``horizon``: windows tile the end).
    refit : bool or int, default True
        ``True``: refit at every window; ``False``: fit once, before the first window; ``k``:
        refit every ``k`` windows. Between refits the model keeps its estimates and forecasts
        from the longer history (see the module notes).
    window : {"expanding", "sliding"}, default "expanding"
        Train on everything before a cutoff, or on its last ``window_size`` points.
    window_size : int, optional
        Training points per series for ``window="sliding"``.
    min_train : int, default 2
        Least number of points before a cutoff for a series to take part in that window.
    quantiles : sequence of float, optional
        Quantile levels forecast by every model.
    warm_start : int, optional
        Neural models: each refit after the first fine-tunes the previous weights for this
        many steps instead of training from scratch.
    season : int, optional
        Season of the scaled metrics (MASE's seasonal naive) in ``metrics`` and the report;
        default: the season of the data's frequency (set it for integer time steps, e.g. 24
        for M4 Hourly).
    level : sequence of float, optional
        Central prediction intervals in percent (``[80, 95]``): the forecasts get
        ``<model>-lo-80`` / ``<model>-hi-80`` columns (beside the quantile columns that
        bound them) and :meth:`BacktestResult.metrics` a ``coverage-80`` column.
    static_df : DataFrame, optional
        Attributes of each series (one row per ``unique_id``), given to every fit of the
        models that read them (the networks); the report records a SHA-256 of it.
    progress : callable, optional
        Called with a :class:`BacktestStep` as each fit starts and as its forecasts are
        done: which model, which window, how many fits of all: what a progress bar needs.
    backend : "joblib", "dask" or a distributed.Client, optional
        Where the models fitted one series at a time (ETS, Theta, ARIMA, ...) run their
        series: their own ``n_jobs`` processes (joblib, the default), or a Dask cluster (see
        :func:`tsrnn.parallel_backend`; the forecasts are the same).
    scheduler : str, optional
        A Dask scheduler's address (it implies ``backend="dask"``); with ``backend="dask"``
        and no address a ``LocalCluster`` is started for the backtest (or the current Dask
        client used).

    Returns
    -------
    BacktestResult

    Raises
    ------
    tsrnn.errors.Interrupted
        When Ctrl-C cut a model's training short: a backtest never scores a model that did
        not finish, so it stops (a ``KeyboardInterrupt``) and returns nothing.

    Examples
    --------
    >>> from tsrnn import datasets
    >>> from tsrnn.models.stats.naive import Naive, SeasonalNaive
    >>> air = datasets.load("air_passengers")
    >>> result = backtest([Naive(), SeasonalNaive()], air, horizon=12, n_windows=2)
    >>> result.forecasts.groupby("window").cutoff.first().astype(str).tolist()
    ['1958-12-01', '1959-12-01']
    >>> result.leaderboard("mae", reference="Naive")[["rank", "model", "skill"]].round(3)
       rank          model  skill
    0     1  SeasonalNaive  0.431
    1     2          Naive  0.000
    """
    named = _named(models)
    panel = as_panel(data)
    h = _positive(horizon, "horizon")
    n_windows = _positive(n_windows, "n_windows")
    step = h if step is None else _positive(step, "step")
    refit_every = _refit_every(refit, n_windows)
    if window not in ("expanding", "sliding"):
        raise ValueError(f"backtest: window={window!r}; choose 'expanding' or 'sliding'")
    if window == "sliding":
        if window_size is None:
            raise ValueError("backtest: window='sliding' needs window_size=, points per fit")
        window_size = _positive(window_size, "window_size")
    if season is not None:
        season = _positive(season, "season")
    pairs = interval_quantiles(level)
    asked = quantiles
    if pairs:  # the quantiles that bound each interval, beside those asked for
        bounds = {q for pair in pairs.values() for q in pair}
        quantiles = sorted(set(quantiles or ()) | bounds)
    if warm_start is not None:
        warm_start = _positive(warm_start, "warm_start")
        cold = [name for name, m in named.items() if "warm_start" not in m.get_params()]
        if cold:
            raise ValueError(f"backtest: {cold} cannot warm-start; drop warm_start=")

    readers = {name for name, m in named.items() if getattr(m, "supports_static", False)}
    if static_df is not None and not readers:
        log.warning("backtest: none of the models reads static attributes; static_df ignored")
    static = {} if static_df is None else {"static_df": static_df}

    starts, ends, usable = cutoffs(panel, h, n_windows, step, window, window_size, min_train)
    skipped = _skipped(panel, usable, ends, min_train)

    if backend is None and scheduler:  # an address says which backend
        backend = "dask"
    with ExitStack() as scope:
        if backend is not None:  # else whatever parallel_backend block this call runs in
            scope.enter_context(parallel_backend(backend, scheduler=scheduler))
        ran_on = parallel.active()
        rows, timings, fallbacks, histories, choices = [], [], [], {}, []
        blocks = [
            block
            for k0 in range(0, n_windows, refit_every)
            if (
                block := [k for k in range(k0, min(k0 + refit_every, n_windows)) if usable[k].any()]
            )
        ]
        n_fits, done = len(blocks) * len(named), 0
        for name, model in named.items():
            fitted, fits, fit_s, predict_s = None, 0, 0.0, 0.0
            for i, block in enumerate(blocks, start=1):
                k_fit = block[0]
                where = (name, k_fit + 1, n_windows)
                if progress is not None:
                    progress(BacktestStep(*where, done, n_fits, "fit", i, len(blocks)))
                series = np.flatnonzero(usable[k_fit])
                history = panel.span(series, starts[k_fit, series], ends[k_fit, series])
                t0 = time.perf_counter()
                if fitted is not None and warm_start is not None:
                    # Fine-tune the previous weights for a few steps instead of starting over.
                    fitted.set_params(warm_start=True, max_steps=warm_start, max_epochs=None)
                    fitted.fit(history, **(static if name in readers else {}))
                else:
                    fitted = clone(model).fit(history, **(static if name in readers else {}))
                if getattr(fitted, "stop_reason_", None) == "interrupted":
                    # Training keeps its best weights on Ctrl-C; scoring them would rank a model
                    # cut short beside finished ones.
                    raise Interrupted(
                        f"{name} was interrupted after {getattr(fitted, 'steps_', '?')} training "
                        f"steps, fitting window {k_fit + 1} of {n_windows}"
                    )
                fits += 1
                t1 = time.perf_counter()
                for label, made in _resolved(name, fitted):
                    choices.append({"model": label, "window": k_fit, **made})
                for k, forecast, fell in _block_forecasts(
                    fitted, panel, usable, starts, ends, block, h, quantiles
                ):
                    if fell is not None and len(fell):
                        fallbacks.append(fell.assign(model=name, window=k))
                    forecast = forecast.rename(
                        columns=lambda c, n=name, m=fitted.name: _rename(c, m, n)
                    )
                    forecast["window"] = k
                    rows.append((name, k, forecast))
                predict_s += time.perf_counter() - t1
                fit_s += t1 - t0
                done += 1
                if progress is not None:
                    progress(BacktestStep(*where, done, n_fits, "done", i, len(blocks)))
            timings.append(
                {
                    "model": name,
                    "fits": fits,
                    "fit_s": fit_s,
                    "predict_s": predict_s,
                    "threads": getattr(fitted, "threads_", None),
                }
            )
            if getattr(fitted, "history_", None) is not None:
                histories[name] = fitted.history_

    # Extra targets a network forecasts beside y (``targets=``): their actuals and histories
    # travel with y's, so that each is scored (``LSTM:TEMP`` against ``TEMP``).
    targets = sorted(
        {t for m in named.values() for t in (m.get_params().get("targets") or ())}
        & set(panel.covariate_names)
    )
    forecasts = _assemble(rows, panel, ends, list(named), targets)
    train = _first_history(panel, usable, starts, ends, targets)
    config = {
        "horizon": h,
        "n_windows": n_windows,
        "step": step,
        "refit": refit,
        "window": window,
        "window_size": window_size,
        "min_train": min_train,
        "quantiles": None if quantiles is None else list(quantiles),
        "warm_start": warm_start,
        "freq": panel.freq,
        "season": season,
        "level": None if not pairs else list(pairs),
        "data_sha256": panel.sha256(),
        "static_sha256": None if static_df is None else _frame_sha256(static_df),
        "targets": targets,
        "backend": ran_on,
        "call": _call(
            named,
            h,
            n_windows,
            step,
            refit,
            window,
            window_size,
            asked,
            pairs,
            {
                "min_train": (min_train, 2),
                "warm_start": (warm_start, None),
                "season": (season, None),
                "static_df": ("static_df" if static else None, None),
            },
        ),
    }
    return BacktestResult(
        # ids and times as the user's data had them (int ids stay ints: merges work)
        forecasts=panel.as_given(interval_columns(forecasts, pairs, keep=quantiles or ())),
        models=list(named),
        horizon=h,
        timings=pd.DataFrame(timings, columns=list(TIMINGS)).astype({"threads": "Int64"}),
        skipped=panel.as_given(skipped),
        train=panel.as_given(train),
        config=config,
        fallbacks=_fallback_frame(fallbacks),
        histories=histories,
        model_info={name: _model_info(model) for name, model in named.items()},
        choices=_choices_frame(choices),
    )


# ---------------------------------------------------------------------- helpers
def _choices_frame(records: list[dict]) -> pd.DataFrame:
    """The networks' ``choices_`` per fitted window: ``model``, ``window`` and the rest; the
    two columns alone where no network was fitted."""
    return pd.DataFrame(records) if records else pd.DataFrame(columns=["model", "window"])


def _resolved(name: str, fitted: Any) -> list[tuple[str, dict]]:
    """What each network in ``fitted`` resolved from the data (its ``choices_``), labelled:
    ``name`` for a network, or one inside a wrapper that writes its columns (conformal);
    ``<name>/<member>`` for an ensemble's members (``LSTM#2`` for the second of two LSTMs).
    Nothing for a baseline."""
    made = getattr(fitted, "choices_", None)
    if made is not None:
        return [(name, made)]
    inner = getattr(fitted, "model_", None)  # a forecaster only in a wrapper
    if isinstance(inner, Forecaster):
        return _resolved(name, inner)
    held = getattr(fitted, "models_", None)  # an ensemble's members (a list)
    members = [m for m in held if isinstance(m, Forecaster)] if isinstance(held, list) else []
    names = [m.name for m in members]
    found: list[tuple[str, dict]] = []
    for i, member in enumerate(members):
        label = member.name
        if names.count(label) > 1:
            label = f"{label}#{names[: i + 1].count(label)}"
        found += _resolved(f"{name}/{label}", member)
    return found


def _time_kind(times: pd.Series) -> dict:
    if pd.api.types.is_datetime64_any_dtype(times):
        tz = getattr(times.dt, "tz", None)
        return {"kind": "datetime", "tz": None if tz is None else str(tz)}
    return {"kind": "int"}


def _parse_times(frame: pd.DataFrame, kind: dict) -> pd.DataFrame:
    frame = frame.astype({ID: str})
    for column in (TIME, CUTOFF):
        if column in frame and kind["kind"] == "datetime":
            frame[column] = pd.to_datetime(frame[column], utc=kind["tz"] is not None)
            if kind["tz"] is not None:
                frame[column] = frame[column].dt.tz_convert(kind["tz"])
    return frame


def _block_forecasts(
    fitted: Any,
    panel: Panel,
    usable: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    block: list[int],
    h: int,
    quantiles: Sequence[float] | None,
) -> list[tuple[int, pd.DataFrame, pd.DataFrame | None]]:
    """``(window, forecast, fallbacks)`` of one fitted model for the windows ``block`` (the
    first is its fit window): one call of the model's ``predict_windows``."""
    block_ends = np.where(usable[block], ends[block], 0)
    frame = fitted.predict_windows(panel, block_ends, h, quantiles=quantiles, starts=starts[block])
    fell = frame.attrs.get("fallbacks")
    frame["window"] = np.asarray(block)[frame["window"].to_numpy()]
    out = []
    for k, part in frame.groupby("window"):
        fallbacks = None
        if fell is not None:
            mine = fell[np.asarray(block)[fell["window"].to_numpy()] == k]
            fallbacks = mine[[ID, "fallback", "reason"]]
        out.append((int(k), part.drop(columns="window").reset_index(drop=True), fallbacks))
    return out


def _call(
    named: dict[str, Any],
    h: int,
    n_windows: int,
    step: int,
    refit: Any,
    window: str,
    window_size: int | None,
    quantiles: Any,
    pairs: dict,
    others: dict[str, tuple[Any, Any]],
) -> str:
    """The Python call that ran the backtest, as a report records it (the models as
    scikit-learn prints them: the parameters that differ from the defaults)."""
    models = ", ".join(f"{name!r}: {_as_called(model)!r}" for name, model in named.items())
    args = [f"{{{models}}}", "data", f"horizon={h}", f"n_windows={n_windows}", f"step={step}"]
    if refit is not True:
        args.append(f"refit={refit!r}")
    if window != "expanding":
        args += [f"window={window!r}", f"window_size={window_size}"]
    if quantiles:
        args.append(f"quantiles={list(quantiles)}")
    if pairs:
        args.append(f"level={[float(v) for v in pairs]}")
    args += [
        f"{k}={v if k == 'static_df' else repr(v)}"
        for k, (v, default) in others.items()
        if v != default
    ]
    return f"tsrnn.backtest({', '.join(args)})"


def _as_called(model: Any) -> Any:
    """The model as the recorded call shows it: without its progress ``callback`` (a hook of
    the caller's, such as the CLI's progress line: an object in memory, not a setting; the
    manifest's parameters leave it out too)."""
    params = model.get_params(deep=False) if hasattr(model, "get_params") else {}
    if params.get("callback") is None:
        return model
    return type(model)(**{**params, "callback": None})


def _frame_sha256(frame: pd.DataFrame) -> str:
    """A SHA-256 of a small frame's columns and values, as written to CSV."""
    import hashlib

    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()


def _model_info(model: Any) -> dict[str, Any]:
    from tsrnn.models.base import to_state
    from tsrnn.registry import is_baseline

    params = {k: v for k, v in model.get_params(deep=False).items() if k != "callback"}
    plain = {}
    for key, value in params.items():
        try:
            plain[key] = _json_ready(to_state(value, key))
        except TypeError:  # an estimator inside a wrapper: its class and parameters
            plain[key] = {"class": type(value).__name__, "params": _model_info(value)["params"]}
    return {"class": type(model).__name__, "baseline": is_baseline(model), "params": plain}


def _json_ready(value: Any) -> Any:
    """Plain data with tuples and arrays as lists (a manifest is read by people)."""
    if isinstance(value, dict):
        if "__tuple__" in value:
            return [_json_ready(v) for v in value["__tuple__"]]
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _fallback_frame(parts: list[pd.DataFrame]) -> pd.DataFrame:
    columns = ["model", "window", ID, "fallback", "reason"]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]


def _named(models: Any) -> dict[str, Any]:
    if isinstance(models, Mapping):
        named = {str(k): v for k, v in models.items()}
    else:
        models = list(models) if isinstance(models, Sequence) else [models]
        named = {}
        for model in models:
            name = model.name
            if name in named:
                raise ValueError(
                    f"backtest: two models are named {name!r}; pass a dict of name to model"
                )
            named[name] = model
    if not named:
        raise ValueError("backtest: no models given")
    return named


def cutoffs(
    panel: Panel,
    horizon: int,
    n_windows: int = 3,
    step: int | None = None,
    window: str = "expanding",
    window_size: int | None = None,
    min_train: int = 2,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each window's training span starts and ends, for every series; checks the
    layout before any model runs (the CLI calls it first).

    Returns ``(starts, ends, usable)``, each of shape ``(n_windows, n_series)``: series ``s``
    trains on its points ``starts[k, s]:ends[k, s]`` for window ``k`` (oldest first), which it
    takes part in where ``usable[k, s]``. Raises :class:`~tsrnn.DataError` when no series has
    ``min_train`` points before any cutoff.
    """
    h = _positive(horizon, "horizon")
    n_windows = _positive(n_windows, "n_windows")
    step = h if step is None else _positive(step, "step")
    lengths = panel.lengths
    longest = int(lengths.max())
    # Windows counted back from the longest series' end; an older one is empty in every series
    # (and asking for 10^9 of them would allocate arrays of that many rows).
    possible = max((longest - h - min_train) // step + 1, 0)

    def no_window() -> DataError:
        return DataError(
            f"backtest: no series has {min_train} points before any cutoff with horizon={h}, "
            f"n_windows={n_windows}, step={step} (longest series: {longest}); use fewer or "
            "shorter windows"
        )

    if possible == 0:
        raise no_window()
    if possible < n_windows:
        raise DataError(
            f"backtest: n_windows={n_windows} windows {step} steps apart: only the last "
            f"{possible} leave {min_train} points before their cutoff in the longest series "
            f"({longest} points), the older ones would be empty in every series; use "
            f"n_windows={possible} or fewer, or a smaller step"
        )
    ends = lengths[None, :] - h - (n_windows - 1 - np.arange(n_windows))[:, None] * step
    if window == "expanding":
        starts = np.zeros_like(ends)
    else:
        starts = np.maximum(ends - _positive(window_size, "window_size"), 0)
    observed = np.concatenate([[0], np.cumsum(panel.observed)])
    seen = (
        observed[panel.offsets[:-1][None, :] + np.clip(ends, 0, lengths)]
        - observed[panel.offsets[:-1][None, :] + np.clip(starts, 0, lengths)]
    )
    usable = (ends - starts >= min_train) & (seen >= 1)
    if not usable.any():
        raise no_window()
    return starts, ends, usable


def _positive(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise DataError(f"backtest: {name}={value!r} must be a positive integer")
    return int(value)


def _refit_every(refit: bool | int, n_windows: int) -> int:
    """Windows between fits: 1 for True, n_windows (one fit) for False, k for an int."""
    if refit is True:
        return 1
    if refit is False:
        return n_windows
    return _positive(refit, "refit")


def _rename(column: str, model: str, name: str) -> str:
    """A model's forecast columns under the name the backtest gives it."""
    if column == model:
        return name
    if column.startswith(f"{model}-q") or column.startswith(f"{model}:"):
        return name + column[len(model) :]
    return column


def _skipped(panel: Panel, usable: np.ndarray, ends: np.ndarray, min_train: int) -> pd.DataFrame:
    k, s = np.nonzero(~usable)
    reasons = [
        f"{max(int(ends[a, b]), 0)} points before the cutoff, {min_train} needed"
        if ends[a, b] < min_train
        else "no observed value before the cutoff"
        for a, b in zip(k, s, strict=True)
    ]
    frame = pd.DataFrame({ID: panel.ids[s].astype(str), "window": k, "reason": reasons})
    if len(frame):
        log.warning("backtest: %d series-window(s) skipped (see result.skipped)", len(frame))
    return frame


def _assemble(
    rows: list[tuple[str, int, pd.DataFrame]],
    panel: Panel,
    ends: np.ndarray,
    names: list[str],
    targets: list[str] = (),  # type: ignore[assignment]
) -> pd.DataFrame:
    """One frame: keys, cutoff and actuals, then every model's columns side by side."""
    merged: pd.DataFrame | None = None
    for name in names:
        parts = [frame for model, _, frame in rows if model == name]
        block = pd.concat(parts, ignore_index=True)
        if merged is None:
            merged = block
        else:
            merged = merged.merge(block, on=[ID, TIME, "window"], how="outer")
    assert merged is not None
    # The actuals from each series' first cutoff on only (every forecast step lies there), not
    # the whole panel as a long frame: 50M rows of 100,000 series would take gigabytes.
    first = np.clip(ends.min(axis=0), 0, panel.lengths)
    tail = panel.span(np.arange(panel.n_series), first, panel.lengths)
    actual = tail.to_long()[[ID, TIME, TARGET, *targets]]
    actual[TARGET] = np.where(tail.observed, tail.values, np.nan)
    merged = merged.merge(actual, on=[ID, TIME], how="left", validate="many_to_one")
    # The cutoff: the last time each series was seen by the window's fits.
    times = panel.times()
    position = {sid: i for i, sid in enumerate(panel.ids.astype(str))}
    index = merged[ID].map(position).to_numpy()
    last = panel.offsets[:-1][index] + ends[merged["window"].to_numpy(), index] - 1
    merged.insert(2, CUTOFF, times[last])
    columns = [ID, "window", CUTOFF, TIME, TARGET, *targets]
    rest = [c for c in merged.columns if c not in columns]
    return (
        merged[columns + rest]
        .sort_values([ID, "window", TIME], kind="stable")
        .reset_index(drop=True)
    )


def _first_history(
    panel: Panel,
    usable: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    targets: list[str] = (),  # type: ignore[assignment]
) -> pd.DataFrame:
    """Each series' observed points before its first usable cutoff (long format), with the
    extra targets' values at them."""
    first = np.argmax(usable, axis=0)  # window index of each series' first usable window
    take = usable.any(axis=0)
    series = np.flatnonzero(take)
    history = panel.span(series, starts[first[series], series], ends[first[series], series])
    return history.to_long(observed_only=True)[[ID, TIME, TARGET, *targets]]
