"""Automatic ARIMA: a stepwise order search in the manner of Hyndman & Khandakar (2008).

The search is ``forecast::auto.arima``'s (Hyndman & Khandakar, "Automatic time series
forecasting: the forecast package for R", JSS 27(3), 2008), per series, on statsmodels:

1. ``D`` (seasonal differences, at most ``max_D``): difference while the STL seasonal strength
   ``1 - var(remainder) / var(remainder + seasonal)`` exceeds 0.64 and two seasons remain, as
   ``forecast::nsdiffs(test="seas")`` (STL as R's: seasonal window 11, degree 0).
2. ``d`` (at most ``max_d``): difference while a KPSS level-stationarity test rejects at
   ``alpha`` (``forecast::ndiffs``: truncation lag ``trunc(3 * sqrt(n) / 13)``).
3. Start models ``(2,d,2)(1,D,1)``, ``(0,d,0)(0,D,0)``, ``(1,d,0)(1,D,0)``, ``(0,d,1)(0,D,1)``
   with a constant when ``d + D <= 1`` (the mean, or the drift when ``d + D == 1``), and
   ``(0,d,0)(0,D,0)`` without. Then, from the best model so far, move ``P``/``Q``, then
   ``p``/``q``, by one (each alone and both together) and toggle the constant, taking the first
   move that lowers the criterion (AICc by default), until none does or ``max_models`` are
   tried. Bounds as R's: a parameter per third of the series, ``p, q < m`` when seasonal terms
   may enter. A candidate with an AR or MA root within 1.01 of the unit circle is rejected.
4. The winner is fitted by exact maximum likelihood (statsmodels ``SARIMAX``, a state space
   model, so ``NaN`` gaps are skipped by the Kalman filter) and forecast with
   ``get_forecast(h)``: ``predicted_mean`` and ``se_mean``.

The unit-root tests and the CSS fits below need complete data: they see a linearly
interpolated copy of a series with gaps. The likelihood and the forecasts see the gaps as gaps.

**Cost, and what makes it affordable.** A seasonal ARIMA with ``m = 24`` is a state space model
with 25 to 75 states; one maximum-likelihood fit on 700-960 hourly points takes 0.2 to 40 s
on one core, so a search by exact likelihood over the 30-odd candidates the stepwise search
visits would take minutes per series. Hence:

- the search ranks candidates by conditional sum of squares (CSS, ``n log(sigma2)`` plus the
  penalty, residuals by ``scipy.signal.lfilter``: milliseconds a candidate), as
  ``auto.arima``'s ``approximation``, which is on when the series is longer than 150 or
  ``m > 12``; shorter series are ranked by the exact likelihood, each fit started from its CSS
  estimates (R's "CSS-ML");
- only the winner is then fitted by maximum likelihood, from its CSS estimates. R refits the
  next candidate while a refit has a root near the unit circle. On M4 Hourly the refit's
  seasonal MA root reaches the unit circle for one series in six (a fixed daily profile, once
  seasonally differenced, is an MA unit root), often for the runners-up too, so R's rule
  refits candidate after candidate, seconds each. Here a near-unit *MA* root is accepted at
  this stage (the Kalman filter forecasts such a model exactly); an AR one moves on to the
  next candidate, at most :data:`MAX_REFITS`, after which the CSS estimates are kept (a
  ``RuntimeWarning`` in ``warnings_``);
- a gap-free series is differenced before that fit (``simple_differencing``), which drops
  ``d + m D`` states: the likelihood is the same (the exact diffuse likelihood of an ARIMA model
  is that of its differenced series), only cheaper. Forecasts come from the undifferenced
  model filtered at those parameters. A series with gaps is fitted undifferenced, since
  differencing would widen every gap;
- ``concentrate_scale`` (one parameter fewer), no parameter covariance (``cov_type="none"``:
  its numerical Hessian costs more than the fit), at most ``maxiter`` L-BFGS iterations;
- ``method="css"`` skips the likelihood fit altogether; ``max_length`` fits on the last points
  only (fewer points to filter, but noisier estimates and long cycles unseen: on 40 M4 Hourly
  series the last 480 points scored OWA 0.533 against 0.517 with all, CSS estimates). Neither
  is the default.

Measured on M4 Hourly (414 series, 700-960 points, ``m = 24``, ``h = 48``) on a 2-core machine,
``n_jobs=2``, fit plus predict, by ``benchmarks/arima_m4.py`` (OWA against the official Naive2;
M4's own ``auto.arima`` intervals scored MSIS 7.538):

=======================================  ========  ======  =====  =====  =====
model                                    s/series  sMAPE   MASE   OWA    MSIS
=======================================  ========  ======  =====  =====  =====
statsmodels SARIMA(1,1,1)(0,1,1,24)      1.38      14.340  0.979  0.594  9.301
``ARIMA()``                              2.86      12.371  0.876  0.519  6.936
``ARIMA(maxiter=15)``                    1.36      12.546  0.883  0.526  7.009
``ARIMA(method="css")``                  0.27      12.684  0.888  0.530  7.073
=======================================  ========  ======  =====  =====  =====

Differences from ``auto.arima``: roots are checked per factor (R checks the expanded polynomial
in ``B``, where ``|root| < 1.01`` rejects every seasonal coefficient above ``1.01 ** -24 = 0.79``
at ``m = 24``); near-unit MA roots are accepted after the likelihood refit (above); no Box-Cox
transform; series with fewer than 10 observations are left to the naive fallback.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np
import pandas as pd

from tsrnn.data.panel import ID, Panel
from tsrnn.errors import DataError
from tsrnn.models.stats.local import LocalForecaster

MIN_OBSERVED = 10  # below this, unit-root tests and AICc comparisons mean little
STRENGTH_THRESHOLD = 0.64  # forecast::nsdiffs' seasonal-strength cut-off
MIN_ROOT = 1.01  # auto.arima rejects models with a root closer than this to the unit circle
MAX_REFITS = 3  # maximum-likelihood refits tried, best CSS candidate first
_METHODS = ("ml", "css")
_ONE = np.ones(1)
_ICS = ("aicc", "aic", "bic")


class Spec(NamedTuple):
    """One candidate of the search; ``d``, ``D`` and ``m`` are fixed before it starts."""

    p: int
    q: int
    P: int
    Q: int
    constant: bool


class Candidate(NamedTuple):
    """A fitted candidate: its criterion (``inf`` if inadmissible), parameters and AICc."""

    ic: float
    params: np.ndarray
    aicc: float  # a CSS fit's is approximate: -2 log L taken as n* (log(2 pi sigma2) + 1)


@dataclass(frozen=True)
class ARIMAFit:
    """A series' chosen model: what :meth:`ARIMA._forecast_series` needs, and no results object.

    A statsmodels results object pickles to 0.3-2 MB; the model is rebuilt and filtered at
    ``params`` when forecasting instead (one Kalman pass, 10-200 ms).
    """

    history: np.ndarray  # the series fitted (after max_length), NaN in its gaps
    order: tuple[int, int, int]
    seasonal_order: tuple[int, int, int, int]
    constant: bool
    params: np.ndarray | None  # SARIMAX parameters, sigma2 last; None: exactly deterministic
    aicc: float
    n_models: int  # candidates the search fitted
    drift: float = 0.0  # for a deterministic fit: the constant value of the differenced series


class ARIMA(LocalForecaster):
    """Seasonal ARIMA with automatic order selection (Hyndman-Khandakar stepwise search).

    One model per series: differencing orders by KPSS and seasonal-strength tests, ``p, q, P,
    Q`` and the constant by a stepwise search on an information criterion, the winner fitted by
    exact maximum likelihood with statsmodels ``SARIMAX``. Gaps (``NaN``) are handled by the
    Kalman filter, not imputed. The module docstring details the search and its cost.

    Parameters
    ----------
    season : int, optional
        Season length ``m``; by default from the data's frequency (24 for hourly, 12 for
        monthly, 1 for integer steps).
    max_p, max_q : int
        Largest non-seasonal AR and MA orders.
    max_P, max_Q : int
        Largest seasonal AR and MA orders.
    max_d, max_D : int
        Largest numbers of ordinary and seasonal differences.
    max_order : int
        Largest ``p + q + P + Q`` in the exhaustive search (``stepwise=False``).
    stepwise : bool
        Stepwise search (``True``, fast) or every order within the bounds.
    max_models : int
        Most candidates the stepwise search fits per series (``auto.arima``'s ``nmodels``).
    ic : {"aicc", "aic", "bic"}
        Criterion that ranks candidates.
    method : {"ml", "css"}
        How the chosen model's parameters are estimated: exact maximum likelihood from the
        conditional-sum-of-squares estimates (``"ml"``, ``auto.arima``'s ``"CSS-ML"``), or the
        CSS estimates that ranked it (``"css"``: the search then always ranks by CSS, and no
        likelihood is maximized; on M4 Hourly ten times faster, OWA 0.530 against 0.519).
    approximation : bool, optional
        Rank candidates by conditional sum of squares and fit only the winner by maximum
        likelihood (``True``), or rank them by the exact likelihood (``False``). ``None``:
        approximate when the series has more than 150 points or ``m > 12``, as ``auto.arima``.
    alpha : float
        Level of the KPSS tests that choose ``d``.
    max_length : int, optional
        Fit on at most the last ``max_length`` points of each series (``None``: all).
    maxiter : int
        Most L-BFGS iterations of a maximum-likelihood fit (statsmodels' default, 50). On M4
        Hourly 15 halves the time (OWA 0.526 against 0.519); fits then stop short of the maximum.
    n_jobs : int
        Series fitted in parallel (joblib processes); ``-1`` uses every core.

    Attributes
    ----------
    orders_ : pandas.DataFrame
        One row per series: ``unique_id``, ``order`` ``(p, d, q)``, ``seasonal_order``
        ``(P, D, Q, m)``, ``constant``, ``aicc`` (of the maximum-likelihood fit; with CSS
        estimates, ``-2 log L`` is approximated by ``n (log(2 pi sigma2) + 1)``) and
        ``n_models`` (candidates tried); ``None``/``NaN`` for a series that fell back.
    states_, fallbacks_, warnings_
        As :class:`~tsrnn.models.base.LocalForecaster`.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrnn import datasets
    >>> air = datasets.load("air_passengers")
    >>> air["y"] = np.log(air["y"])
    >>> model = ARIMA().fit(air)
    >>> model.orders_.loc[0, "seasonal_order"]
    (0, 1, 1, 12)
    >>> forecast = model.predict(12, quantiles=[0.1, 0.9])
    >>> list(forecast.columns)
    ['unique_id', 'ds', 'ARIMA', 'ARIMA-q0.1', 'ARIMA-q0.9']
    >>> bool((forecast["ARIMA-q0.1"] < forecast["ARIMA"]).all())
    True
    """

    supports_missing: ClassVar[bool] = True

    def __init__(
        self,
        *,
        season: int | None = None,
        max_p: int = 5,
        max_q: int = 5,
        max_P: int = 2,
        max_Q: int = 2,
        max_d: int = 2,
        max_D: int = 1,
        max_order: int = 5,
        stepwise: bool = True,
        max_models: int = 94,
        ic: str = "aicc",
        method: str = "ml",
        approximation: bool | None = None,
        alpha: float = 0.05,
        max_length: int | None = None,
        maxiter: int = 50,
        n_jobs: int = 1,
    ) -> None:
        self.season = season
        self.max_p = max_p
        self.max_q = max_q
        self.max_P = max_P
        self.max_Q = max_Q
        self.max_d = max_d
        self.max_D = max_D
        self.max_order = max_order
        self.stepwise = stepwise
        self.max_models = max_models
        self.ic = ic
        self.method = method
        self.approximation = approximation
        self.alpha = alpha
        self.max_length = max_length
        self.maxiter = maxiter
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ the template
    def _fit(self, panel: Panel) -> None:
        self._validate()
        super()._fit(panel)
        rows = [
            (uid, s.order, s.seasonal_order, s.constant, s.aicc, s.n_models)
            if isinstance(s, ARIMAFit)
            else (uid, None, None, None, np.nan, 0)
            for uid, s in zip(self.ids_, self.states_, strict=True)
        ]
        self.orders_ = pd.DataFrame(
            rows, columns=[ID, "order", "seasonal_order", "constant", "aicc", "n_models"]
        )

    def _validate(self) -> None:
        for name in ("max_p", "max_q", "max_P", "max_Q", "max_d", "max_D", "max_order"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or value < 0:
                raise ValueError(f"{self.name}: {name} must be an integer >= 0, got {value!r}")
        for name in ("max_models", "maxiter"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{self.name}: {name} must be an integer >= 1, got {value!r}")
        if self.max_length is not None and (
            not isinstance(self.max_length, int | np.integer) or self.max_length < MIN_OBSERVED
        ):
            raise ValueError(
                f"{self.name}: max_length must be None or an integer >= {MIN_OBSERVED}, "
                f"got {self.max_length!r}"
            )
        if self.method not in _METHODS:
            raise ValueError(f"{self.name}: method must be one of {_METHODS}, got {self.method!r}")
        if self.ic not in _ICS:
            raise ValueError(f"{self.name}: ic must be one of {_ICS}, got {self.ic!r}")
        if not 0.0 < self.alpha < 1.0:
            raise ValueError(f"{self.name}: alpha must lie in (0, 1), got {self.alpha!r}")

    # ------------------------------------------------------------------ one series
    def _fit_series(self, y: np.ndarray) -> ARIMAFit:
        if self.max_length is not None:
            y = y[-self.max_length :]
        n_obs = int(np.isfinite(y).sum())
        if n_obs < MIN_OBSERVED:
            raise DataError(f"too short for ARIMA ({n_obs} observed points, {MIN_OBSERVED} needed)")
        x = _interpolate(y)  # the tests and CSS need complete data; the likelihood does not
        m = self.season_
        D = nsdiffs(x, m, self.max_D) if m > 1 else 0
        d = ndiffs(difference(x, 0, D, m), self.alpha, self.max_d)
        w = difference(x, d, D, m)
        if _is_constant(w):  # nothing random left: continue the pattern exactly
            return ARIMAFit(
                y, (0, d, 0), (0, D, 0, m if D else 0), d + D <= 1, None, np.nan, 0, float(w[0])
            )
        # auto.arima's bounds: a third of the series per parameter; p and q stay below the season
        # when seasonal terms can enter, so that lag m is the seasonal terms' alone.
        max_P = min(self.max_P, n_obs // (3 * m)) if m > 1 else 0
        max_Q = min(self.max_Q, n_obs // (3 * m)) if m > 1 else 0
        if m == 1 or (max_P == 0 and max_Q == 0 and D == 0):
            m, max_P, max_Q = 1, 0, 0
        max_p = min(self.max_p, n_obs // 3, m - 1 if max_P else self.max_p)
        max_q = min(self.max_q, n_obs // 3, m - 1 if max_Q else self.max_q)
        limits = Spec(max_p, max_q, max_P, max_Q, d + D <= 1)
        n_star = n_obs - d - m * D
        approximate = True if self.method == "css" else self.approximation
        if approximate is None:
            approximate = len(y) > 150 or m > 12
        refit = self.method == "ml" and approximate  # an exact search's winner is fitted already

        def score(spec: Spec) -> Candidate:
            css = _css(w, spec, m, self.ic, n_star)
            if approximate:
                return css
            # R's "CSS-ML": the exact fit starts where the cheap one ended
            start = css.params if np.isfinite(css.ic) else None
            return _ml(y, d, D, m, spec, self.ic, self.maxiter, start)

        search = _stepwise if self.stepwise else _exhaustive
        tried = search(score, limits, self.max_models, self.max_order)
        ranked = sorted((s for s in tried if np.isfinite(tried[s].ic)), key=lambda s: tried[s].ic)
        if not ranked:
            raise RuntimeError(f"no admissible ARIMA model among {len(tried)} tried")  # fallback
        chosen, fit = ranked[0], tried[ranked[0]]
        # auto.arima refits the approximate winner by maximum likelihood, and the next best
        # while that fails; here a few at most (each refit costs seconds when m = 24), then
        # the winner's CSS estimates are kept.
        for spec in ranked[:MAX_REFITS] if refit else []:
            exact = _ml(y, d, D, m, spec, self.ic, self.maxiter, tried[spec].params, strict=False)
            if np.isfinite(exact.ic):
                chosen, fit = spec, exact
                break
        else:
            if refit:
                warnings.warn(
                    f"maximum-likelihood refits failed; CSS estimates kept for {chosen}",
                    RuntimeWarning,
                    stacklevel=2,
                )
        return ARIMAFit(
            history=y,
            order=(chosen.p, d, chosen.q),
            seasonal_order=(chosen.P, D, chosen.Q, m) if m > 1 else (0, 0, 0, 0),
            constant=chosen.constant,
            params=fit.params,
            aicc=fit.aicc,
            n_models=len(tried),
        )

    def _update_series(self, state: ARIMAFit, y: np.ndarray) -> ARIMAFit:
        # The chosen orders and parameters, filtered over the longer history.
        if self.max_length is not None:
            y = y[-self.max_length :]
        return dataclasses.replace(state, history=y)

    def _forecast_series(self, state: ARIMAFit, h: int) -> tuple[np.ndarray, np.ndarray]:
        if state.params is None:
            d, D, m = state.order[1], state.seasonal_order[1], state.seasonal_order[3]
            mean = integrate(_interpolate(state.history), d, D, m, np.full(h, state.drift))
            return mean, np.zeros(h)
        result = _sarimax(
            state.history, state.order, state.seasonal_order, state.constant, False
        ).filter(state.params, cov_type="none")
        forecast = result.get_forecast(h)
        return np.asarray(forecast.predicted_mean), np.asarray(forecast.se_mean)


# ---------------------------------------------------------------------- differencing orders
def difference(x: np.ndarray, d: int, D: int, m: int) -> np.ndarray:
    """``(1 - B)^d (1 - B^m)^D x``: ``D`` seasonal then ``d`` ordinary differences."""
    for _ in range(D):
        x = x[m:] - x[:-m]
    return np.diff(x, n=d) if d else x


def integrate(history: np.ndarray, d: int, D: int, m: int, w: np.ndarray) -> np.ndarray:
    """The continuation of ``history`` whose ``(d, D)`` differences are ``w`` (inverse of
    :func:`difference`).

    >>> integrate(np.array([1.0, 2.0, 4.0]), 1, 0, 1, np.array([3.0, 3.0]))
    array([ 7., 10.])
    """
    delta = np.array([1.0])
    for _ in range(d):
        delta = np.convolve(delta, [1.0, -1.0])
    for _ in range(D):
        delta = np.convolve(delta, np.r_[1.0, np.zeros(m - 1), -1.0])
    s = len(delta) - 1
    y = np.r_[np.asarray(history, dtype=np.float64)[len(history) - s :], np.zeros(len(w))]
    for t in range(len(w)):  # y_t = w_t - sum_{j=1..s} delta_j y_{t-j}
        y[s + t] = w[t] - np.dot(delta[1:], y[t : s + t][::-1])
    return y[s:]


def ndiffs(x: np.ndarray, alpha: float = 0.05, max_d: int = 2) -> int:
    """Ordinary differences needed for level stationarity, by repeated KPSS tests.

    As ``forecast::ndiffs(test="kpss")``: difference while the test rejects at ``alpha``.

    >>> rng = np.random.default_rng(0)
    >>> ndiffs(rng.normal(size=300)), ndiffs(rng.normal(size=300).cumsum())
    (0, 1)
    """
    from statsmodels.tools.sm_exceptions import InterpolationWarning
    from statsmodels.tsa.stattools import kpss

    d = 0
    while d < max_d and len(x) >= MIN_OBSERVED and not _is_constant(x):
        with warnings.catch_warnings():
            # A statistic beyond the KPSS table only says "clearly (non-)stationary"; the
            # FutureWarning is about the return type, which the unpacking below reads either way.
            warnings.simplefilter("ignore", InterpolationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            _, pvalue, *_ = kpss(x, regression="c", nlags=int(3 * np.sqrt(len(x)) / 13))
        if pvalue >= alpha:
            break
        x, d = np.diff(x), d + 1
    return d


def seasonal_strength(x: np.ndarray, m: int) -> float:
    """STL seasonal strength ``max(0, 1 - var(R) / var(S + R))`` (Wang, Smith & Hyndman, 2006).

    STL as ``forecast::mstl`` runs R's ``stl``: seasonal window 11, locally constant seasonal
    smoothing (``seasonal_deg=0``; statsmodels' default of 1 overfits short subseries).

    >>> t = np.arange(96)
    >>> noise = np.random.default_rng(0).normal(size=96)
    >>> round(seasonal_strength(np.sin(2 * np.pi * t / 12) + 0.1 * noise, 12), 2)
    0.99
    """
    from statsmodels.tsa.seasonal import STL

    fit = STL(x, period=m, seasonal=11, seasonal_deg=0).fit()
    total = np.var(fit.resid + fit.seasonal)
    return float(max(0.0, min(1.0, 1.0 - np.var(fit.resid) / total))) if total > 0 else 0.0


def nsdiffs(x: np.ndarray, m: int, max_D: int = 1) -> int:
    """Seasonal differences needed: while the seasonal strength exceeds 0.64
    (``forecast::nsdiffs(test="seas")``) and the series spans two seasons."""
    for D in range(max_D):
        if m < 2 or len(x) < 2 * m or _is_constant(x):
            return D
        if seasonal_strength(x, m) <= STRENGTH_THRESHOLD:
            return D
        x = x[m:] - x[:-m]
    return max_D


# ---------------------------------------------------------------------- the search
def _stepwise(
    score: Callable[[Spec], Candidate], limits: Spec, max_models: int, max_order: int
) -> dict[Spec, Candidate]:
    """Hyndman-Khandakar: four start models, then first-improvement moves (``auto.arima``'s
    order of moves). Returns ``{spec: Candidate}`` in the order tried."""
    tried: dict[Spec, Candidate] = {}

    def fit(spec: Spec) -> bool:
        """Fit ``spec`` if new and allowed; True if it beats every model so far."""
        if spec in tried or len(tried) >= max_models:
            return False
        best = min((other.ic for other in tried.values()), default=np.inf)
        tried[spec] = score(spec)
        return tried[spec].ic < best

    c = limits.constant
    best = Spec(min(2, limits.p), min(2, limits.q), min(1, limits.P), min(1, limits.Q), c)
    starts = [best, Spec(0, 0, 0, 0, c)]
    if limits.p or limits.P:
        starts.append(Spec(int(limits.p > 0), 0, int(limits.P > 0), 0, c))
    if limits.q or limits.Q:
        starts.append(Spec(0, int(limits.q > 0), 0, int(limits.Q > 0), c))
    if c:
        starts.append(Spec(0, 0, 0, 0, False))
    for spec in starts:
        if fit(spec):
            best = spec
    moves = [(0, 0, -1, 0), (0, 0, 0, -1), (0, 0, 1, 0), (0, 0, 0, 1)]
    moves += [(0, 0, -1, -1), (0, 0, -1, 1), (0, 0, 1, -1), (0, 0, 1, 1)]
    moves += [(-1, 0, 0, 0), (0, -1, 0, 0), (1, 0, 0, 0), (0, 1, 0, 0)]
    moves += [(-1, -1, 0, 0), (-1, 1, 0, 0), (1, -1, 0, 0), (1, 1, 0, 0)]
    improved = True
    while improved and len(tried) < max_models:
        improved = False
        neighbours = [
            Spec(best.p + a, best.q + b, best.P + e, best.Q + f, best.constant)
            for a, b, e, f in moves
        ]
        if limits.constant:
            neighbours.append(best._replace(constant=not best.constant))
        for spec in neighbours:
            if _within(spec, limits) and fit(spec):
                best, improved = spec, True
                break
    return tried


def _exhaustive(
    score: Callable[[Spec], Candidate], limits: Spec, max_models: int, max_order: int
) -> dict[Spec, Candidate]:
    """Every order within the bounds with ``p + q + P + Q <= max_order`` (no cap)."""
    tried: dict[Spec, Candidate] = {}
    for p in range(limits.p + 1):
        for q in range(limits.q + 1):
            for P in range(limits.P + 1):
                for Q in range(limits.Q + 1):
                    if p + q + P + Q > max_order:
                        continue
                    for c in (True, False) if limits.constant else (False,):
                        tried[Spec(p, q, P, Q, c)] = score(Spec(p, q, P, Q, c))
    return tried


def _within(spec: Spec, limits: Spec) -> bool:
    return all(0 <= v <= lim for v, lim in zip(spec[:4], limits[:4], strict=True))


def _criterion(ic: str, loglike: float, k: int, n: int) -> float:
    """AIC, AICc or BIC from a log-likelihood, ``k`` parameters (sigma2 included), ``n`` points."""
    aic = -2.0 * loglike + 2.0 * k
    if ic == "aic":
        return aic
    if ic == "bic":
        return aic + k * (np.log(n) - 2.0)
    return aic + 2.0 * k * (k + 1) / (n - k - 1) if n - k - 1 > 0 else np.inf


def _n_params(spec: Spec) -> int:
    return spec.p + spec.q + spec.P + spec.Q + int(spec.constant) + 1


# ---------------------------------------------------------------------- the two kinds of fit
def _polynomials(spec: Spec, m: int, coef: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expanded AR ``phi(B) Phi(B^m)`` and MA ``theta(B) Theta(B^m)`` polynomials (lag 0 first)
    from coefficients ordered ``phi, theta, Phi, Theta`` in the ARIMA sign convention."""
    p, q, P, Q = spec[:4]
    phi, theta = coef[:p], coef[p : p + q]
    sphi, stheta = coef[p + q : p + q + P], coef[p + q + P : p + q + P + Q]
    # np.concatenate, not np.r_: this runs thousands of times per series
    ar = np.convolve(np.concatenate(([1.0], -phi)), _seasonal(-sphi, m))
    ma = np.convolve(np.concatenate(([1.0], theta)), _seasonal(stheta, m))
    return ar, ma


def _seasonal(coef: np.ndarray, m: int) -> np.ndarray:
    if not len(coef):
        return _ONE
    poly = np.zeros(len(coef) * m + 1)
    poly[0] = 1.0
    poly[m::m] = coef
    return poly


def _admissible(spec: Spec, coef: np.ndarray, ma: bool = True) -> bool:
    """No AR (nor, if ``ma``, MA) factor with a root within :data:`MIN_ROOT` of the unit circle."""
    p, q, P, Q = spec[:4]
    factors = [np.r_[1.0, -coef[:p]], np.r_[1.0, -coef[p + q : p + q + P]]]
    if ma:
        factors += [np.r_[1.0, coef[p : p + q]], np.r_[1.0, coef[p + q + P : p + q + P + Q]]]
    for poly in factors:
        poly = np.trim_zeros(poly, "b")
        if len(poly) > 1 and np.min(np.abs(np.roots(poly[::-1]))) < MIN_ROOT:
            return False
    return True


def _css(w: np.ndarray, spec: Spec, m: int, ic: str, n_star: int) -> Candidate:
    """Conditional-sum-of-squares fit of an ARMA to the differenced series ``w``.

    As R's ``arima(method="CSS")``: residuals from the first point with a full AR history,
    earlier errors zero; coefficients kept stationary and invertible through statsmodels'
    (Monahan) transform. Ranked like ``auto.arima``'s approximation, with ``-2 log L`` taken as
    ``n* (log(2 pi sigma2) + 1)``. The parameters are SARIMAX's, ``sigma2`` last.
    """
    from scipy.optimize import least_squares
    from scipy.signal import lfilter
    from statsmodels.tsa.statespace.tools import constrain_stationary_univariate as constrain

    p, q, P, Q, constant = spec
    n_coef = p + q + P + Q + int(constant)
    if len(w) - (p + m * P) <= n_coef + 1:  # too few points past the AR history
        return Candidate(np.inf, np.zeros(n_coef + 1), np.nan)
    scale = float(np.sqrt(np.mean(w**2))) or 1.0
    z = w / scale  # unit scale: the optimizer's tolerances mean the same everywhere
    bounds = np.cumsum([0, p, q, P, Q])

    def coefficients(u: np.ndarray) -> np.ndarray:
        parts = [u[bounds[i] : bounds[i + 1]] for i in range(4)]
        signs = (1.0, -1.0, 1.0, -1.0)  # an MA polynomial is invertible as -coef is stationary
        return np.concatenate(
            [s * constrain(v) if len(v) else v for s, v in zip(signs, parts, strict=True)]
        )

    def residuals(u: np.ndarray) -> np.ndarray:
        ar, ma = _polynomials(spec, m, coefficients(u))
        mu = u[-1] if constant else 0.0
        return lfilter([1.0], ma, np.convolve(z - mu, ar, mode="valid"))

    u = np.zeros(n_coef)
    if constant:
        u[-1] = np.mean(z)
    if n_coef:
        u = least_squares(residuals, u, method="lm", xtol=1e-6, ftol=1e-6, max_nfev=200).x
    sigma2 = float(np.mean(residuals(u) ** 2)) * scale**2
    coef = coefficients(u)
    params = np.r_[coef, sigma2]
    if constant:  # SARIMAX's intercept is c = mean * phi(1) * Phi(1)
        mean = scale * u[-1]
        c = mean * (1.0 - coef[:p].sum()) * (1.0 - coef[p + q : p + q + P].sum())
        params = np.r_[c, params]
    if not sigma2 > 0 or not _admissible(spec, coef):
        return Candidate(np.inf, params, np.nan)
    loglike = -0.5 * n_star * (np.log(2.0 * np.pi * sigma2) + 1.0)
    k = _n_params(spec)
    return Candidate(
        _criterion(ic, loglike, k, n_star), params, _criterion("aicc", loglike, k, n_star)
    )


def _sarimax(
    y: np.ndarray, order: tuple, seasonal_order: tuple, constant: bool, differenced: bool
) -> Any:
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    return SARIMAX(
        y,
        order=order,
        seasonal_order=seasonal_order,
        trend="c" if constant else "n",
        simple_differencing=differenced,
        # The scale's closed form ignores the diffuse states of an undifferenced model (its llf
        # then differs), so it is concentrated out only where the series was differenced.
        concentrate_scale=differenced,
    )


def _ml(
    y: np.ndarray,
    d: int,
    D: int,
    m: int,
    spec: Spec,
    ic: str,
    maxiter: int,
    start: np.ndarray | None,
    strict: bool = True,
) -> Candidate:
    """Exact maximum-likelihood fit from ``start`` (SARIMAX's parameters, ``sigma2`` last; by
    default statsmodels' own start). The result's parameters are the full model's, ``sigma2``
    last. A fit that fails, or has an AR root near the unit circle (with ``strict``, an MA
    root too), has criterion ``inf``."""
    order = (spec.p, d, spec.q)
    seasonal_order = (spec.P, D, spec.Q, m) if m > 1 else (0, 0, 0, 0)
    gap_free = bool(np.isfinite(y).all())
    model = _sarimax(y, order, seasonal_order, spec.constant, differenced=gap_free)
    if start is not None and gap_free:
        start = start[:-1]  # the scale is concentrated out
    try:
        result = model.fit(
            start_params=start, disp=False, cov_type="none", maxiter=maxiter, low_memory=True
        )
    except (np.linalg.LinAlgError, ValueError, ArithmeticError):  # not chosen, nothing more
        return Candidate(np.inf, np.empty(0), np.nan)
    params = np.asarray(result.params, dtype=np.float64)
    if gap_free:
        params = np.r_[params, result.scale]
    coef = params[int(spec.constant) : -1]
    if not np.isfinite(result.llf) or not _admissible(spec, coef, ma=strict):
        return Candidate(np.inf, params, np.nan)
    k, llf = _n_params(spec), float(result.llf)
    n_star = int(np.isfinite(y).sum()) - d - m * D
    return Candidate(_criterion(ic, llf, k, n_star), params, _criterion("aicc", llf, k, n_star))


def _interpolate(y: np.ndarray) -> np.ndarray:
    """Linear interpolation over gaps, the last observation carried past the end."""
    seen = np.isfinite(y)
    if seen.all():
        return y
    t = np.arange(len(y))
    return np.interp(t, t[seen], y[seen])


def _is_constant(x: np.ndarray) -> bool:
    return len(x) == 0 or bool(np.ptp(x) <= 1e-10 * max(1.0, float(np.max(np.abs(x)))))
