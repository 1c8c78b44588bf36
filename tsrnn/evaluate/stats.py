"""Tests of whether one forecast is really more accurate than another.

:func:`diebold_mariano` is the Diebold & Mariano (1995) test of equal predictive accuracy with the
Harvey, Leybourne & Newbold (1997) small-sample correction, computed as R's ``forecast::dm.test``
computes it; :func:`dm_test` runs it on a long (backtest) forecast frame.

References: Diebold & Mariano, "Comparing predictive accuracy", JBES 13(3), 1995. Harvey,
Leybourne & Newbold, "Testing the equality of prediction mean squared errors", IJF 13(2), 1997.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from tsrnn.data.panel import ID, TARGET, TIME
from tsrnn.errors import DataError
from tsrnn.evaluate.metrics import ArrayLike

log = logging.getLogger(__name__)

CUTOFF = "cutoff"
ALTERNATIVES = ("two-sided", "less", "greater")
VARIANCES = ("acf", "bartlett")


@dataclass(frozen=True)
class DMResult:
    """Outcome of a Diebold-Mariano test.

    Attributes
    ----------
    statistic : float
        The DM statistic (HLN-corrected when asked); negative when ``a`` has the smaller loss.
    p_value : float
    n : int
        Loss pairs the test used.
    h : int
        Forecast horizon actually used (1 after the negative-variance fallback).
    alternative : str
    mean_difference : float
        Mean of ``loss_a - loss_b`` over the pairs used.
    dropped : int
        Pairs left out because either loss was missing.
    """

    statistic: float
    p_value: float
    n: int
    h: int
    alternative: str
    mean_difference: float
    dropped: int


def _check(h: int, alternative: str, variance: str) -> None:
    if int(h) != h or h < 1:
        raise ValueError(f"h must be a whole number >= 1, got {h!r}")
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")
    if variance not in VARIANCES:
        raise ValueError(f"variance must be one of {VARIANCES}, got {variance!r}")


def diebold_mariano(
    loss_a: ArrayLike,
    loss_b: ArrayLike,
    h: int = 1,
    alternative: str = "two-sided",
    hln: bool = True,
    variance: str = "acf",
) -> DMResult:
    """Diebold-Mariano test that two forecasts of the same target are equally accurate.

    On ``d_t = loss_a[t] - loss_b[t]``: ``DM = mean(d) / sqrt(V / n)``, with ``V`` the long-run
    variance of ``d`` from its autocovariances (divisor ``n``, as R's ``acf``) up to lag
    ``h - 1``. With ``hln`` the statistic is multiplied by ``sqrt((n + 1 - 2h + h(h-1)/n) / n)``
    and compared with a Student-t on ``n - 1`` degrees of freedom (Harvey et al., 1997);
    otherwise with the standard normal. Without missing values and with ``hln=True`` this is
    R's ``forecast::dm.test(loss_a, loss_b, h=h, power=1, varestimator=variance)`` for
    non-negative losses; at ``h=1`` it equals the paired t-test.

    Parameters
    ----------
    loss_a, loss_b
        Per-period losses (squared or absolute errors, ...) of forecasts ``a`` and ``b``, in time
        order. Pairs with ``NaN`` in either are dropped (counted in ``dropped``); the remaining
        pairs are treated as consecutive.
    h
        Forecast horizon: errors of ``h``-step forecasts are serially correlated up to lag
        ``h - 1``. Needs at least ``h + 1`` pairs (at ``n == h`` the HLN factor is 0).
    alternative
        ``"two-sided"``; ``"less"``: ``a`` has the smaller expected loss (mean ``d`` < 0);
        ``"greater"``: ``b`` has.
    hln
        Apply the Harvey-Leybourne-Newbold small-sample correction and Student-t p-values.
    variance
        ``"acf"``: the unweighted autocovariance sum of Diebold & Mariano (R's default), which
        can be negative for ``h > 1``; ``"bartlett"``: Bartlett weights ``1 - k/h``, never negative.

    Notes
    -----
    - Identical losses (``d`` all 0): no evidence of a difference, so ``p_value`` is 1.0 for every
      alternative, and ``statistic`` is ``NaN`` (0/0), so no one reads a value into it.
    - ``d`` constant but not 0 (``a`` always worse by the same amount): zero variance, so the
      statistic is ``±inf`` and the p-value its limit (0, or 1 for the wrong one-sided side).
    - A long-run variance estimate that is not positive (possible with ``"acf"`` and ``h > 1``)
      falls back to ``h=1``, as R's ``dm.test`` does, with a logged warning; ``h`` in the result
      says so.

    Examples
    --------
    >>> res = diebold_mariano([1.0, 2.0, 0.5, 1.5, 1.0], [2.0, 2.5, 1.0, 2.5, 1.2])
    >>> res.n, round(res.mean_difference, 2), round(res.statistic, 4), round(res.p_value, 4)
    (5, -0.64, -4.0805, 0.0151)
    """
    _check(h, alternative, variance)
    a = np.asarray(loss_a, dtype=np.float64)
    b = np.asarray(loss_b, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"loss_a {a.shape} and loss_b {b.shape} must be 1-D of the same length")
    if np.isinf(a).any() or np.isinf(b).any():
        raise ValueError("losses must be finite (or NaN for a missing pair)")
    d = a - b
    usable = ~np.isnan(d)
    d = d[usable]
    n, h, dropped = len(d), int(h), int((~usable).sum())
    if n < h + 1:
        raise ValueError(
            f"diebold_mariano: n={n} usable loss pairs ({dropped} dropped for NaN) are too few "
            f"for h={h}; it needs at least h + 1 = {h + 1}"
        )
    mean = float(d.mean())

    def result(statistic: float, p_value: float, h_used: int) -> DMResult:
        return DMResult(float(statistic), float(p_value), n, h_used, alternative, mean, dropped)

    if (d == d[0]).all():
        if mean == 0.0:
            return result(np.nan, 1.0, h)
        statistic = np.copysign(np.inf, mean)
    else:
        centred = d - mean
        acov = np.array([centred[k:] @ centred[: n - k] / n for k in range(h)])
        weights = np.ones(h) if variance == "acf" else 1.0 - np.arange(h) / h
        long_run = (acov[0] + 2.0 * (weights[1:] @ acov[1:])) / n
        if long_run <= 0:
            msg = "diebold_mariano: long-run variance %.3g <= 0 at h=%d; using h=1 as R's dm.test does"
            log.warning(msg + " (variance='bartlett' avoids this)", long_run, h)
            return diebold_mariano(a, b, 1, alternative, hln, variance)
        statistic = mean / np.sqrt(long_run)
    if hln:
        statistic *= np.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
        dist = stats.t(df=n - 1)
    else:
        dist = stats.norm()
    if alternative == "two-sided":
        p_value = min(1.0, 2.0 * dist.sf(abs(statistic)))
    elif alternative == "less":
        p_value = dist.cdf(statistic)
    else:
        p_value = dist.sf(statistic)
    return result(statistic, p_value, h)


def dm_test(
    frame: pd.DataFrame,
    model: str,
    reference: str,
    *,
    loss: str = "mse",
    h: int | None = None,
    by: str | None = None,
    alternative: str = "two-sided",
    variance: str = "acf",
    train: pd.DataFrame | None = None,
    season: int = 1,
) -> DMResult | pd.DataFrame:
    """Diebold-Mariano test of ``model`` against ``reference`` on a long forecast frame.

    Per-row losses of both forecast columns against ``y`` (``loss="mse"``: squared error,
    ``"mae"``: absolute error; any point metric of :func:`~tsrnn.evaluate.metrics.row_losses`,
    so that a test of a ranking by ``"mase"`` compares scaled errors, each series divided by
    its in-sample seasonal-naive error from ``train``); a row with a missing actual or forecast
    has no usable pair.

    Pooled (``by=None``): the loss differential is averaged per forecast window, ``(unique_id,
    cutoff)`` (per series without a ``cutoff`` column), and the test runs on those window means
    ordered by cutoff then series, with ``h=1`` unless given. The steps of one window share a
    forecast origin, so their errors are strongly correlated, and series differ in scale and
    length: one value per window makes the test's units the near-independent ones and weighs
    every window alike. Per series (``by="unique_id"``): one test per series on its per-step
    differentials, ordered by cutoff then ``ds``, with ``h`` the horizon (the longest window in
    the frame) unless given; a series with too few pairs for ``h`` (as any series of a frame
    without ``cutoff`` at the default ``h``) gets a ``NaN`` statistic and p-value.

    Parameters
    ----------
    frame
        ``unique_id``, ``ds``, ``y``, optionally ``cutoff``, and the two forecast columns (a
        :class:`~tsrnn.evaluate.backtest.BacktestResult`'s ``forecasts``).
    model, reference
        Forecast columns; ``alternative="less"`` asks whether ``model`` has the smaller loss.
    loss, h, by, alternative, variance
        See above and :func:`diebold_mariano`.

    Returns
    -------
    DMResult, or with ``by`` a DataFrame: ``unique_id``, ``statistic``, ``p_value``, ``n``,
    ``h``, ``mean_difference``, ``dropped``. ``n`` and ``dropped`` count windows when pooled.

    Examples
    --------
    >>> import pandas as pd
    >>> fc = pd.DataFrame({"unique_id": ["a", "a", "b", "b", "c", "c"], "ds": [1, 2] * 3,
    ...                    "y": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    ...                    "Good": [1.0, 2.5, 3.0, 3.0, 5.5, 6.0],
    ...                    "Naive": [0.0, 0.0, 2.0, 2.0, 3.0, 3.0]})
    >>> res = dm_test(fc, "Good", "Naive", loss="mae", alternative="less")
    >>> res.n, res.mean_difference, round(res.p_value, 4)
    (3, -1.5, 0.0296)
    """
    from tsrnn.evaluate.metrics import row_losses

    _check(1 if h is None else h, alternative, variance)
    if by not in (None, ID):
        raise ValueError(f"dm_test: by must be None or {ID!r}, got {by!r}")
    needed = [ID, TIME, TARGET, model, reference]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataError(
            f"dm_test: the frame has no column(s) {missing}; it needs {needed} "
            f"(and optionally {CUTOFF!r})"
        )
    keys, order = ([ID, CUTOFF], [CUTOFF, ID]) if CUTOFF in frame.columns else ([ID], [ID])
    try:
        la = row_losses(frame, model, loss, train, season)
        lb = row_losses(frame, reference, loss, train, season)
    except ValueError as exc:
        raise ValueError(f"dm_test: {exc}") from None
    usable = ~(np.isnan(la) | np.isnan(lb))
    losses = frame[[*keys, TIME]].assign(
        _a=np.where(usable, la, np.nan), _b=np.where(usable, lb, np.nan)
    )
    if by is None:
        windows = losses.groupby(keys, sort=False)[["_a", "_b"]].mean().reset_index()
        windows = windows.sort_values(order, kind="stable")
        h = 1 if h is None else h
        return diebold_mariano(windows["_a"], windows["_b"], h, alternative, True, variance)

    h = int(losses.groupby(keys).size().max()) if h is None else int(h)
    rows = []
    for uid, g in losses.sort_values([*order, TIME], kind="stable").groupby(ID, sort=True):
        n, mean = int(g["_a"].notna().sum()), float((g["_a"] - g["_b"]).mean())
        row = {ID: uid, "statistic": np.nan, "p_value": np.nan, "n": n, "h": h}
        row |= {"mean_difference": mean, "dropped": len(g) - n}
        if n >= h + 1:
            res = diebold_mariano(g["_a"], g["_b"], h, alternative, True, variance)
            row |= {"statistic": res.statistic, "p_value": res.p_value, "h": res.h}
        rows.append(row)
    return pd.DataFrame(rows)
