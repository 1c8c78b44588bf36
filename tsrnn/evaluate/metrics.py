"""Forecast accuracy metrics, as the forecasting literature defines them.

Array functions take actuals ``y`` and forecasts of the same shape ``(..., H)`` (one row per series
or window, one column per horizon step). Rules that hold for every metric:

- Missing actuals (``NaN`` in ``y``) are excluded, never zero-filled.
- A metric that is undefined for a row (no observed actual; a zero scale) is ``NaN`` for that row;
  aggregates (:func:`evaluate`) average over the defined rows and report how many were excluded in
  an ``n_undefined`` column, so nothing is dropped silently.
- Zero denominators: sMAPE counts a step with ``y == yhat == 0`` as error 0 (M4 convention); MAPE
  skips steps with ``y == 0``; MASE/RMSSE/MSIS fall back from the seasonal to the one-step naive
  scale when the seasonal one is 0 (a series constant within each season), and are undefined
  when that is 0 too (a constant series).

``M4`` definitions (Makridakis, Spiliotis & Assimakopoulos, IJF 36(1), 2020): sMAPE in percent,
MASE scaled by the in-sample seasonal-naive MAE, OWA from the *averages* of sMAPE and MASE over a
frequency, relative to Naive2, MSIS scaled like MASE.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

ArrayLike = np.ndarray | Sequence[float] | pd.Series


def _pair(y: ArrayLike, yhat: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=np.float64)
    yhat = np.asarray(yhat, dtype=np.float64)
    if y.shape != yhat.shape:
        raise ValueError(f"actuals {y.shape} and forecasts {yhat.shape} differ in shape")
    return y, yhat, ~np.isnan(y)


def _mean(values: np.ndarray, mask: np.ndarray, axis: int | None) -> np.ndarray | float:
    """Mean of ``values`` where ``mask``; ``NaN`` where nothing is left."""
    total = np.where(mask, values, 0.0).sum(axis=axis)
    count = mask.sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return float(out) if np.ndim(out) == 0 else out


def _point(name: str, y: ArrayLike, yhat: ArrayLike, axis: int | None) -> np.ndarray | float:
    y, yhat, ok = _pair(y, yhat)
    loss = _step_losses(name, y, yhat, None, None)
    return _mean(loss, ok & ~np.isnan(loss), axis)


def mae(y: ArrayLike, yhat: ArrayLike, axis: int | None = None) -> np.ndarray | float:
    """Mean absolute error over observed actuals.

    >>> mae([1.0, 2.0, float("nan")], [2.0, 2.0, 9.0])
    0.5
    """
    return _point("mae", y, yhat, axis)


def mse(y: ArrayLike, yhat: ArrayLike, axis: int | None = None) -> np.ndarray | float:
    """Mean squared error over observed actuals."""
    return _point("mse", y, yhat, axis)


def rmse(y: ArrayLike, yhat: ArrayLike, axis: int | None = None) -> np.ndarray | float:
    """Root mean squared error over observed actuals."""
    out = np.sqrt(mse(y, yhat, axis))
    return float(out) if np.ndim(out) == 0 else out


def bias(y: ArrayLike, yhat: ArrayLike, axis: int | None = None) -> np.ndarray | float:
    """Mean of ``yhat - y``: positive when the forecasts run high.

    >>> bias([1.0, 2.0], [2.0, 4.0])
    1.5
    """
    return _point("bias", y, yhat, axis)


def mape(y: ArrayLike, yhat: ArrayLike, axis: int | None = None) -> np.ndarray | float:
    """Mean absolute percentage error, in percent; steps with ``y == 0`` are skipped.

    >>> mape([100.0, 0.0, 200.0], [110.0, 5.0, 150.0])
    17.5
    """
    return _point("mape", y, yhat, axis)


def smape(y: ArrayLike, yhat: ArrayLike, axis: int | None = None) -> np.ndarray | float:
    """Symmetric MAPE as M4 defines it, in percent (0 to 200): ``200 |y - ŷ| / (|y| + |ŷ|)``.

    A step where both are 0 counts as error 0.

    >>> round(smape([100.0, 0.0], [50.0, 0.0]), 4)
    33.3333
    """
    return _point("smape", y, yhat, axis)


def naive_scale(insample: ArrayLike, season: int = 1, power: int = 1) -> np.ndarray | float:
    """In-sample mean of ``|x_t - x_{t-m}|**power`` per row (NaN-aware), the MASE/RMSSE scale.

    Falls back to ``season=1`` for rows whose seasonal scale is 0 or undefined (too short); rows
    where that is 0 too (constant series) get ``NaN``. ``insample`` is 1-D (one series) or 2-D
    (rows of equal length; pad ragged rows with ``NaN`` at the start).

    >>> naive_scale([1.0, 2.0, 4.0, 7.0])
    2.0
    """
    x = np.asarray(insample, dtype=np.float64)
    one = x.ndim == 1
    x = np.atleast_2d(x)

    def lagged(m: int) -> np.ndarray:
        if x.shape[1] <= m:
            return np.full(x.shape[0], np.nan)
        diff = np.abs(x[:, m:] - x[:, :-m]) ** power
        return np.asarray(_mean(diff, ~np.isnan(diff), axis=1), dtype=np.float64)

    scale = lagged(season)
    if season > 1:
        bad = ~(scale > 0)
        if bad.any():
            scale = np.where(bad, lagged(1), scale)
    scale = np.where(scale > 0, scale, np.nan)
    return float(scale[0]) if one else scale


def mase(y: ArrayLike, yhat: ArrayLike, insample: ArrayLike, season: int = 1) -> np.ndarray | float:
    """Mean absolute scaled error (M4): MAE over the in-sample seasonal-naive MAE.

    ``y``/``yhat`` are ``(H,)`` with a 1-D ``insample``, or ``(n, H)`` with ``(n, T)``.

    >>> mase([3.0, 5.0], [4.0, 4.0], insample=[1.0, 2.0, 3.0])
    1.0
    """
    return _scaled(mae, y, yhat, insample, season, power=1)


def rmsse(
    y: ArrayLike, yhat: ArrayLike, insample: ArrayLike, season: int = 1
) -> np.ndarray | float:
    """Root mean squared scaled error (M5): ``sqrt(MSE / in-sample mean squared naive diff)``.

    >>> rmsse([3.0, 5.0], [4.0, 4.0], insample=[1.0, 2.0, 3.0])
    1.0
    """
    out = np.sqrt(_scaled(mse, y, yhat, insample, season, power=2))
    return float(out) if np.ndim(out) == 0 else out


def _scaled(
    metric: Callable[..., np.ndarray | float],
    y: ArrayLike,
    yhat: ArrayLike,
    insample: ArrayLike,
    season: int,
    power: int,
) -> np.ndarray | float:
    axis = None if np.ndim(y) == 1 else -1
    out = np.asarray(metric(y, yhat, axis=axis)) / naive_scale(insample, season, power)
    return float(out) if np.ndim(out) == 0 else out


def owa(
    smape_value: float,
    mase_value: float,
    smape_naive2: float,
    mase_naive2: float,
    decimals: int | None = 3,
) -> float:
    """Overall weighted average (M4): ``(sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2) / 2``.

    The inputs are averages over all series of a frequency, not per-series values. The M4
    organisers computed OWA from averages rounded to 3 decimals (``decimals=3``, the default,
    reproduces the published table; ``None`` uses them unrounded).

    >>> round(owa(13.912, 1.193, 18.383, 2.395), 3)  # M4 Hourly sNaive
    0.627
    """
    values = np.array([smape_value, mase_value, smape_naive2, mase_naive2], dtype=np.float64)
    if decimals is not None:
        values = np.round(values, decimals)
    s, m, s2, m2 = values
    return float(0.5 * (s / s2 + m / m2))


def pinball(
    y: ArrayLike, q_pred: ArrayLike, quantiles: Sequence[float], axis: int | None = None
) -> np.ndarray | float:
    """Pinball (quantile) loss, averaged over quantile levels and observed steps.

    ``q_pred`` has the shape of ``y`` plus a last axis of ``len(quantiles)``.

    >>> round(pinball([10.0], [[8.0, 12.0]], quantiles=[0.1, 0.9]), 6)
    0.2
    """
    y = np.asarray(y, dtype=np.float64)
    q = np.asarray(q_pred, dtype=np.float64)
    levels = np.asarray(quantiles, dtype=np.float64)
    if q.shape != (*y.shape, len(levels)):
        raise ValueError(f"quantile forecasts {q.shape} must be {(*y.shape, len(levels))}")
    diff = y[..., None] - q
    loss = np.maximum(levels * diff, (levels - 1.0) * diff).mean(axis=-1)
    return _mean(loss, ~np.isnan(y), axis)


def crps(
    y: ArrayLike, q_pred: ArrayLike, quantiles: Sequence[float], axis: int | None = None
) -> np.ndarray | float:
    """CRPS approximated from quantiles: twice the mean pinball loss over the levels.

    Exact in the limit of many evenly spaced levels; with the usual 9 deciles it is the
    quantity GluonTS and NeuralForecast report.
    """
    return 2.0 * np.asarray(pinball(y, q_pred, quantiles, axis))


def scaled_crps(
    y: ArrayLike, q_pred: ArrayLike, quantiles: Sequence[float], axis: int | None = None
) -> np.ndarray | float:
    """CRPS divided by the mean absolute actual (the "weighted quantile loss" of GluonTS)."""
    y_arr = np.asarray(y, dtype=np.float64)
    level = _mean(np.abs(y_arr), ~np.isnan(y_arr), axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.asarray(crps(y, q_pred, quantiles, axis)) / np.where(level > 0, level, np.nan)
    return float(out) if np.ndim(out) == 0 else out


def coverage(
    y: ArrayLike, lower: ArrayLike, upper: ArrayLike, axis: int | None = None
) -> np.ndarray | float:
    """Share of observed actuals inside ``[lower, upper]`` (0 to 1).

    >>> coverage([1.0, 5.0, 3.0], [0.0, 0.0, 0.0], [2.0, 2.0, 4.0])
    0.6666666666666666
    """
    y, lo, ok = _pair(y, lower)
    hi = np.asarray(upper, dtype=np.float64)
    return _mean(((y >= lo) & (y <= hi)).astype(np.float64), ok, axis)


def interval_width(
    y: ArrayLike, lower: ArrayLike, upper: ArrayLike, axis: int | None = None
) -> np.ndarray | float:
    """Mean width ``upper - lower`` over the steps with an observed actual."""
    y, lo, ok = _pair(y, lower)
    return _mean(np.asarray(upper, dtype=np.float64) - lo, ok, axis)


def msis(
    y: ArrayLike,
    lower: ArrayLike,
    upper: ArrayLike,
    insample: ArrayLike,
    season: int = 1,
    alpha: float = 0.05,
) -> np.ndarray | float:
    """Mean scaled interval score (M4) of a ``1 - alpha`` interval, scaled like MASE.

    ``(U - L) + 2/alpha (L - y) 1{y < L} + 2/alpha (y - U) 1{y > U}``, averaged over steps and
    divided by the in-sample seasonal-naive MAE.

    >>> msis([5.0], [4.0], [6.0], insample=[1.0, 2.0, 3.0], alpha=0.05)
    2.0
    """
    y, lo, ok = _pair(y, lower)
    hi = np.asarray(upper, dtype=np.float64)
    score = (hi - lo) + (2.0 / alpha) * ((lo - y) * (y < lo) + (y - hi) * (y > hi))
    axis = None if y.ndim == 1 else -1
    out = np.asarray(_mean(score, ok, axis)) / naive_scale(insample, season)
    return float(out) if np.ndim(out) == 0 else out


# ---------------------------------------------------------------------- on forecast DataFrames
POINT_METRICS = ("mae", "mse", "rmse", "bias", "mape", "smape", "mase", "rmsse")
INTERVAL_METRICS = ("pinball", "crps", "coverage", "width", "msis")

# Each metric as a per-step loss, averaged over the observed steps of a group, then (for the
# root metrics) square-rooted. Scaled metrics divide by the series' in-sample scale first.
_ROOT = {"rmse": "mse", "rmsse": "msse"}


def _step_losses(
    name: str,
    y: np.ndarray,
    yhat: np.ndarray,
    scale1: np.ndarray | None,
    scale2: np.ndarray | None,
) -> np.ndarray:
    err = yhat - y
    with np.errstate(invalid="ignore", divide="ignore"):
        if name == "mae":
            return np.abs(err)
        if name == "mse":
            return err**2
        if name == "bias":
            return err
        if name == "mape":
            return np.where(y != 0, 100.0 * np.abs(err / y), np.nan)
        if name == "smape":
            denom = np.abs(y) + np.abs(yhat)
            return np.where(denom > 0, 200.0 * np.abs(err) / denom, 0.0)
        if name == "mase":
            return np.abs(err) / scale1
        if name == "msse":
            return err**2 / scale2
    raise ValueError(name)  # pragma: no cover - names are checked by evaluate


def row_losses(
    frame: pd.DataFrame,
    column: str,
    metric: str,
    train: pd.DataFrame | None = None,
    season: int = 1,
) -> np.ndarray:
    """The loss of each row of forecast ``column`` (against ``y``) that ``metric`` averages:
    absolute errors for ``mae``, squared ones for ``mse``/``rmse``, each divided by its
    series' in-sample seasonal-naive error (from ``train``) for ``mase``/``rmsse``, and so on:
    the units a test of the ranking by ``metric`` must compare."""
    name = {"rmse": "mse", "rmsse": "msse"}.get(metric, metric)
    if name not in ("mae", "mse", "mape", "smape", "mase", "msse"):
        raise ValueError(f"row_losses: no per-row loss for metric {metric!r}")
    y = frame["y"].to_numpy(dtype=np.float64)
    yhat = frame[column].to_numpy(dtype=np.float64)
    scale = None
    if name in ("mase", "msse"):
        if train is None:
            raise ValueError(f"row_losses: {metric} needs the in-sample data: pass train=")
        power = 1 if name == "mase" else 2
        scale = series_scale(frame["unique_id"], train, season, power)
    return _step_losses(name, y, yhat, scale, scale)


def series_scale(
    ids: pd.Series,
    train: pd.DataFrame,
    season: int,
    power: int,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
) -> np.ndarray:
    """For each row's series (``ids``), the in-sample seasonal-naive error of ``train`` (mean
    absolute with ``power=1``, mean squared with 2): what MASE, RMSSE and MSIS divide by.
    :func:`naive_scale` of each series, all series in one pass (a backtest report asks for it
    dozens of times: 12,000 series took 0.7 s a call one series at a time)."""
    ordered = train.sort_values([id_col, time_col], kind="stable")
    codes, names = pd.factorize(ordered[id_col], sort=False)  # contiguous: sorted by id
    x = ordered[target_col].to_numpy(dtype=np.float64)
    first = np.concatenate([[0], np.flatnonzero(np.diff(codes)) + 1])
    pos = np.arange(len(x)) - first[codes]

    def lagged(m: int) -> np.ndarray:
        """The mean over each series of its observed ``|x_t - x_{t-m}| ** power``."""
        diff = np.abs(x[m:] - x[: len(x) - m]) ** power
        ok = (pos[m:] >= m) & ~np.isnan(diff)  # both points in the series, both observed
        total = np.bincount(codes[m:][ok], weights=diff[ok], minlength=len(names))
        count = np.bincount(codes[m:][ok], minlength=len(names))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / np.maximum(count, 1), np.nan)

    scale = lagged(season)
    if season > 1:  # too short for the season, or flat at it: the step's scale
        scale = np.where(scale > 0, scale, lagged(1))
    per_series = pd.Series(np.where(scale > 0, scale, np.nan), index=names)
    return ids.map(per_series).to_numpy(dtype=np.float64)


def _interval_losses(
    name: str,
    y: np.ndarray,
    q: np.ndarray,
    levels: list[float],
    level: float,
    scale1: np.ndarray,
) -> np.ndarray:
    alpha = 1.0 - level / 100.0
    if name in ("pinball", "crps"):
        lv = np.asarray(levels)
        diff = y[:, None] - q
        loss = np.maximum(lv * diff, (lv - 1.0) * diff).mean(axis=1)
        return loss if name == "pinball" else 2.0 * loss
    try:
        lo = q[:, levels.index(round(alpha / 2, 10))]
        hi = q[:, levels.index(round(1 - alpha / 2, 10))]
    except ValueError:
        raise ValueError(
            f"evaluate: {name} at level {level} needs the quantiles {alpha / 2:g} and "
            f"{1 - alpha / 2:g}; forecast them (quantiles=...) or pass another level="
        ) from None
    if name == "coverage":
        return ((y >= lo) & (y <= hi)).astype(np.float64)
    if name == "width":
        return hi - lo
    score = (hi - lo) + (2.0 / alpha) * ((lo - y) * (y < lo) + (y - hi) * (y > hi))
    return score / scale1  # msis


def evaluate(
    forecasts: pd.DataFrame,
    actuals: pd.DataFrame | None = None,
    train: pd.DataFrame | None = None,
    models: Sequence[str] | None = None,
    metrics: Sequence[str] = ("mae", "rmse", "smape", "mase"),
    season: int = 1,
    by: str | None = "series",
    level: float = 80.0,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
) -> pd.DataFrame:
    """Score the forecast columns of a long DataFrame per series, per horizon step, or overall.

    Parameters
    ----------
    forecasts
        Long forecasts: ``unique_id``, ``ds``, optionally ``cutoff`` (backtests), one column
        per model and ``<model>-q<level>`` quantile columns; with a ``y`` column or ``actuals``.
    actuals
        Long actuals (``unique_id``, ``ds``, ``y``), merged in when given.
    train
        Long in-sample data (``unique_id``, ``ds``, ``y``): the scale of ``mase``, ``rmsse`` and
        ``msis`` (the in-sample seasonal-naive error, with ``season``).
    models
        Forecast columns to score (default: every numeric column that is not ``y``, a key or a
        quantile column).
    metrics
        Names from :data:`POINT_METRICS` and :data:`INTERVAL_METRICS`. ``pinball`` and ``crps``
        use every quantile column of a model; ``coverage``, ``width`` and ``msis`` use the
        central interval at ``level`` percent (quantiles ``(1 - level/100)/2`` and its mirror).
    by
        ``"series"``: one row per series (and cutoff) and model; ``"horizon"``: one row per step
        ahead (counted within each series and cutoff) and model, averaged over series;
        ``None``: the mean over series of the per-series values (the M4 way), with
        ``n_series`` and ``n_undefined`` (series where some metric was undefined and excluded).

    Examples
    --------
    >>> import pandas as pd
    >>> fc = pd.DataFrame({"unique_id": ["a", "a", "b", "b"], "ds": [3, 4, 3, 4],
    ...                    "y": [3.0, 5.0, 10.0, 10.0], "Naive": [2.0, 2.0, 9.0, 9.0]})
    >>> train = pd.DataFrame({"unique_id": ["a", "a", "b", "b"], "ds": [1, 2, 1, 2],
    ...                       "y": [1.0, 2.0, 8.0, 9.0]})
    >>> evaluate(fc, train=train, metrics=["mae", "mase"], by=None)
       model  mae  mase  n_series  n_undefined
    0  Naive  1.5   1.5         2            0
    """
    frame = forecasts
    if actuals is not None:
        frame = frame.drop(columns=[target_col], errors="ignore").merge(
            actuals[[id_col, time_col, target_col]],
            on=[id_col, time_col],
            how="left",
            validate="many_to_one",
        )
    if target_col not in frame.columns:
        raise ValueError(f"evaluate: no {target_col!r} column in the forecasts; pass actuals=")
    unknown = [m for m in metrics if m not in POINT_METRICS + INTERVAL_METRICS]
    if unknown:
        raise ValueError(
            f"evaluate: unknown metric(s) {unknown}; choose from {POINT_METRICS + INTERVAL_METRICS}"
        )
    keys = [c for c in (id_col, "cutoff") if c in frame.columns]
    if models is None:
        models = [
            c
            for c in frame.columns
            if c not in (id_col, time_col, target_col, "cutoff")
            and "-q" not in c
            and "-lo-" not in c
            and "-hi-" not in c
            and pd.api.types.is_numeric_dtype(frame[c])
        ]
    scaled = {"mase", "rmsse", "msis"} & set(metrics)
    if scaled and train is None:
        raise ValueError(f"evaluate: {sorted(scaled)} need the in-sample data: pass train=")
    if by not in ("series", "horizon", None):
        raise ValueError(f"evaluate: by must be 'series', 'horizon' or None, got {by!r}")

    frame = frame.sort_values([*keys, time_col], kind="stable").reset_index(drop=True)
    step = frame.groupby(keys, sort=False).cumcount().to_numpy() + 1
    y = frame[target_col].to_numpy(dtype=np.float64)
    observed = ~np.isnan(y)
    scale1 = scale2 = np.full(len(frame), np.nan)
    if train is not None:
        columns = {"id_col": id_col, "time_col": time_col, "target_col": target_col}
        if {"mase", "msis"} & set(metrics):
            scale1 = series_scale(frame[id_col], train, season, 1, **columns)
        if "rmsse" in metrics:
            scale2 = series_scale(frame[id_col], train, season, 2, **columns)

    group_keys = keys if by in ("series", None) else ["step"]
    parts = []
    for model in models:
        yhat = frame[model].to_numpy(dtype=np.float64)
        qcols = _quantile_columns(frame, model)
        levels = sorted(qcols)
        losses = pd.DataFrame({k: frame[k] for k in keys})
        losses["step"] = step
        for name in metrics:
            if name in INTERVAL_METRICS:
                if not qcols:
                    raise ValueError(f"evaluate: {name} needs quantile columns of {model!r}")
                q = frame[[qcols[lv] for lv in levels]].to_numpy(dtype=np.float64)
                loss = _interval_losses(name, y, q, levels, level, scale1)
            else:
                loss = _step_losses(_ROOT.get(name, name), y, yhat, scale1, scale2)
            losses[name] = np.where(observed, loss, np.nan)
        table = losses.groupby(group_keys, sort=False)[list(metrics)].mean()
        for name in _ROOT:
            if name in table:
                table[name] = np.sqrt(table[name])
        table = table.reset_index()
        if by is None:
            defined = table[list(metrics)]
            row = {"model": model, **defined.mean().to_dict(), "n_series": len(table)}
            row["n_undefined"] = int(defined.isna().any(axis=1).sum())
            if "mape" in metrics:  # MAPE is undefined where the actual is 0: say how often
                row["n_zero_actuals"] = int(np.sum(observed & (y == 0)))
            parts.append(pd.DataFrame([row]))
        else:
            table.insert(0, "model", model)
            parts.append(table)
    return pd.concat(parts, ignore_index=True)


def _quantile_columns(frame: pd.DataFrame, model: str) -> dict[float, str]:
    prefix = f"{model}-q"
    return {float(c[len(prefix) :]): c for c in frame.columns if c.startswith(prefix)}


def m4_scores(
    forecasts: pd.DataFrame,
    actuals: pd.DataFrame,
    train: pd.DataFrame,
    season: int,
    naive2: str = "Naive2",
    models: Sequence[str] | None = None,
) -> pd.DataFrame:
    """sMAPE, MASE and OWA of each model exactly as the M4 competition scored them.

    sMAPE and MASE are averaged over series; OWA compares those averages (rounded to 3
    decimals, as the organisers' workbook did) with the ``naive2`` column's.
    """
    table = evaluate(
        forecasts, actuals, train, models=models, metrics=["smape", "mase"], season=season, by=None
    ).set_index("model")
    if naive2 not in table.index:
        raise ValueError(f"m4_scores: OWA needs a {naive2!r} forecast column")
    ref = table.loc[naive2]
    table["owa"] = [owa(r.smape, r.mase, ref.smape, ref.mase) for r in table.itertuples()]
    return table[["smape", "mase", "owa", "n_series", "n_undefined"]].reset_index()
