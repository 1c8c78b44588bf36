"""Filling the gaps of a Panel: an sklearn-style :class:`Imputer` over every series at once.

Imputation fills ``values`` and never touches ``observed``: a filled point stays unobserved, so
losses and metrics still mask it out. Only observed values are ever read; whatever sits at an
unobserved position (``NaN``, or an earlier imputation) is ignored, so imputing twice gives the
same answer as imputing once.

``causal=True`` fills each point from earlier points only. That is what model inputs at forecast
time use: an input window must not be built from values after its own end. Points before a
series' first observation have no past at all; a causal imputer leaves them ``NaN`` (every
strategy but ``"none"``, which fills nothing), and the windowing layer treats them as padding.

All strategies but ``"kalman"`` run over the whole panel at once with index arithmetic on
``offsets``: the cost is a few passes over ``values`` (plus one stable sort for ``"seasonal"``),
whatever the number of series. ``"kalman"`` is the one per-series loop (see :class:`Imputer`).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from tsrnn.data.frequency import season_length
from tsrnn.data.panel import Panel
from tsrnn.errors import DataError

log = logging.getLogger(__name__)

STRATEGIES = ("none", "zero", "ffill", "linear", "seasonal", "kalman")

# The state-space fit is maximum likelihood, about 0.1 s per 1,000 points of a series; fitting on
# the last stretch only bounds that per series, and variances drift little over longer spans.
_KALMAN_FIT_POINTS = 2000
_KALMAN_MAX_ITER = 50
# A trigonometric season with 2 harmonics keeps the state at 5 numbers whatever the period (a
# dummy season of period 24 would carry 24 and fit about 6 times slower).
_KALMAN_HARMONICS = 2
_KALMAN_MIN_OBSERVED = 3


@dataclass(frozen=True)
class KalmanFit:
    """The state-space model fitted to one series, in that series' standardized units."""

    loc: float  # series mean over the fit span: values are standardized before filtering
    scale: float  # series standard deviation over the fit span (1 where it is 0)
    period: int  # seasonal period of the model; 0: local level only (too short for a season)
    params: np.ndarray  # variances as statsmodels orders them (irregular, level, season)


class Imputer(BaseEstimator):
    """Fill the unobserved points of every series of a Panel.

    Parameters
    ----------
    strategy : {"none", "zero", "ffill", "linear", "seasonal", "kalman"}, default "ffill"
        - ``"none"``: nothing is filled; the model relies on the ``observed`` mask alone.
        - ``"zero"``: unobserved points become 0.
        - ``"ffill"``: the last observed value; points before the first observation take the
          first observed value (a backward fill).
        - ``"linear"``: straight line between the observed neighbours; constant beyond the
          first and last observation.
        - ``"seasonal"``: the value at the same phase of the closest earlier season that was
          observed (``t - season``, else ``t - 2 * season``, ...); where no earlier season was
          observed, ``"linear"``.
        - ``"kalman"``: a local level plus trigonometric seasonal state-space model
          (statsmodels ``UnobservedComponents``) per series, fitted by maximum likelihood in
          :meth:`fit`; :meth:`transform` fills with the smoothed signal. Fitting costs about
          0.1 s per 1,000 points per series (at most the last 2,000 points of each series are
          used); transforming about a tenth of that. A series the model cannot be fitted to
          (fewer than 3 observations, a failed optimization, a non-finite result) is filled
          ``"linear"`` instead and named in a logged warning. Series shorter than two seasons
          get no seasonal component.
    causal : bool, default False
        Fill each point from earlier points only, as model inputs at forecast time must be:
        ``"ffill"`` does not fill backward, ``"linear"`` carries the last observed value
        forward (a line toward a later point would read the future, and extrapolating the last
        slope over a long gap runs away), ``"seasonal"`` uses earlier seasons then the last
        observed value, ``"kalman"`` uses the filtered one-step prediction. Points before a
        series' first observation are left ``NaN``.
    season : int or None, default None
        Season length for ``"seasonal"`` and ``"kalman"``, in steps; ``None`` takes
        :func:`~tsrnn.data.frequency.season_length` of the panel's frequency (24 for hourly, 7
        for daily, 12 for monthly, 1 for integer time, where ``"seasonal"`` is ``"ffill"``).

    Attributes
    ----------
    season_ : int
        The season length used.
    kalman_ : dict of str to KalmanFit or None
        ``"kalman"`` only (empty otherwise): the fitted model of each series by id, ``None``
        where the series is filled ``"linear"``.

    Notes
    -----
    What :meth:`fit` learns comes from the panel it is given: fit on the training span
    (``panel.drop_last(h)``) and transform the longer panel to keep the forecast origin free of
    leakage. Only ``"kalman"`` learns anything from the values (its variances, and the
    mean and spread it standardizes with); :meth:`transform` then keeps them fixed, so a causal
    transform reads no later value of the panel it transforms.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrnn import Panel
    >>> panel = Panel.from_arrays([[1.0, np.nan, 3.0], [5.0, np.nan, np.nan, 8.0]], ids=["a", "b"])
    >>> Imputer("linear").fit_transform(panel).values.tolist()
    [1.0, 2.0, 3.0, 5.0, 6.0, 7.0, 8.0]
    >>> Imputer("linear", causal=True).fit_transform(panel).values.tolist()
    [1.0, 1.0, 3.0, 5.0, 5.0, 5.0, 8.0]
    >>> Imputer("linear").fit_transform(panel).observed.tolist()  # imputed points stay unobserved
    [True, False, True, True, False, False, True]
    """

    def __init__(self, strategy: str = "ffill", causal: bool = False, season: int | None = None):
        self.strategy = strategy
        self.causal = causal
        self.season = season

    def fit(self, panel: Panel, y: None = None) -> Imputer:
        """Check the parameters and the panel; for ``"kalman"``, fit each series' model.

        Parameters
        ----------
        panel : Panel
            The training span: only its observed values are read.
        y : None
            Unused; present for scikit-learn compatibility.

        Returns
        -------
        self : Imputer
        """
        self._check_params()
        _check_panel(panel)
        self.season_ = int(self.season) if self.season is not None else season_length(panel.freq)
        self.kalman_: dict[str, KalmanFit | None] = {}
        if self.strategy == "kalman":
            self.kalman_ = _fit_kalman(panel, self.season_)
        return self

    def transform(self, panel: Panel) -> Panel:
        """A new Panel with the unobserved values filled; ``observed`` is the same array.

        Parameters
        ----------
        panel : Panel
            Any panel for ``"kalman"`` whose series were all in the fitted one (it may be
            longer: the fitted models run on to its end); any panel for the other strategies.

        Returns
        -------
        Panel
            Shares every array with ``panel`` but ``values`` (``"none"`` shares that too).
        """
        check_is_fitted(self)
        _check_panel(panel)
        if self.strategy == "none":
            return panel.replace()
        return panel.replace(values=self._fill(panel))

    def fit_transform(self, panel: Panel, y: None = None) -> Panel:
        """:meth:`fit` then :meth:`transform` on the same panel."""
        return self.fit(panel).transform(panel)

    # ------------------------------------------------------------------ internals
    def _check_params(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"Imputer: strategy={self.strategy!r}; choose one of {STRATEGIES}")
        if not isinstance(self.causal, bool | np.bool_):
            raise ValueError(f"Imputer: causal={self.causal!r}; pass True or False")
        season = self.season
        if season is not None and (
            isinstance(season, bool) or not isinstance(season, int | np.integer) or season < 1
        ):
            raise ValueError(f"Imputer: season={season!r}; pass a positive int or None")

    def _fill(self, panel: Panel) -> np.ndarray:
        grid = _Grid.of(panel)
        observed = panel.observed
        values = np.where(observed, panel.values, np.nan)
        prev = _previous(observed, grid.start)
        nxt = np.full(len(values), -1, dtype=np.int64) if self.causal else _next(observed, grid.end)

        if self.strategy == "zero":
            filled = np.zeros_like(values)
        elif self.strategy == "ffill" or (self.strategy == "linear" and self.causal):
            filled = np.where(prev >= 0, _take(values, prev), _take(values, nxt))
        elif self.strategy == "linear":
            filled = _linear(values, prev, nxt)
        elif self.strategy == "seasonal":
            earlier = _previous_in_phase(observed, grid, self.season_)
            fallback = _take(values, prev) if self.causal else _linear(values, prev, nxt)
            filled = np.where(earlier >= 0, _take(values, earlier), fallback)
        else:  # kalman
            fallback = _take(values, prev) if self.causal else _linear(values, prev, nxt)
            filled = _apply_kalman(panel, values, fallback, self.kalman_, self.causal)

        if self.causal:
            filled[prev < 0] = np.nan  # no past before the first observation
        return np.where(observed, panel.values, filled)


# ---------------------------------------------------------------------- index arithmetic
@dataclass(frozen=True)
class _Grid:
    """Where each point of a panel sits: its series, position, and its series' bounds."""

    series: np.ndarray  # (N,) series number of each point
    pos: np.ndarray  # (N,) position of each point in its series
    start: np.ndarray  # (N,) index of its series' first point
    end: np.ndarray  # (N,) one past its series' last point

    @classmethod
    def of(cls, panel: Panel) -> _Grid:
        lengths = panel.lengths
        series = np.repeat(np.arange(panel.n_series, dtype=np.int64), lengths)
        start = panel.offsets[:-1][series]
        return cls(
            series=series,
            pos=np.arange(len(panel.values), dtype=np.int64) - start,
            start=start,
            end=panel.offsets[1:][series],
        )


def _previous(observed: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Index of the last observed point at or before each point in its group, else -1.

    A running maximum of observed indices; an index before the group's start belongs to an
    earlier group (series), which is what keeps one series' values out of the next.
    """
    idx = np.where(observed, np.arange(len(observed), dtype=np.int64), -1)
    np.maximum.accumulate(idx, out=idx)
    idx[idx < start] = -1
    return idx


def _next(observed: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Index of the first observed point at or after each point in its group, else -1."""
    n = len(observed)
    idx = np.where(observed, np.arange(n, dtype=np.int64), n)
    idx = np.minimum.accumulate(idx[::-1])[::-1].copy()
    idx[idx >= end] = -1
    return idx


def _previous_in_phase(observed: np.ndarray, grid: _Grid, season: int) -> np.ndarray:
    """Index of the last observed point at the same phase of the same series, else -1.

    Points are regrouped by (series, phase) with a stable sort, which keeps each group in time
    order; then it is :func:`_previous` within groups, mapped back.
    """
    n = len(observed)
    key = grid.series * season + grid.pos % season
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    first = np.ones(n, dtype=bool)
    first[1:] = sorted_key[1:] != sorted_key[:-1]
    group_start = np.maximum.accumulate(np.where(first, np.arange(n, dtype=np.int64), 0))
    prev_sorted = _previous(observed[order], group_start)
    out = np.full(n, -1, dtype=np.int64)
    out[order] = np.where(prev_sorted >= 0, order[np.maximum(prev_sorted, 0)], -1)
    return out


def _take(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``values[idx]``, ``NaN`` where ``idx`` is -1."""
    return np.where(idx >= 0, values[np.maximum(idx, 0)], np.nan)


def _linear(values: np.ndarray, prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
    """Interpolate between observed neighbours; constant beyond the first and last."""
    at = np.arange(len(values), dtype=np.int64)
    left, right = _take(values, prev), _take(values, nxt)
    between = (prev >= 0) & (nxt > prev)
    span = np.where(between, nxt - prev, 1)
    weight = np.where(between, (at - prev) / span, 0.0)
    line = left + weight * (right - left)
    return np.where(between, line, np.where(prev >= 0, left, right))


# ---------------------------------------------------------------------- kalman
def _kalman_model(z: np.ndarray, period: int):  # -> UnobservedComponents
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    seasonal = (
        [{"period": period, "harmonics": min(_KALMAN_HARMONICS, period // 2)}] if period else None
    )
    return UnobservedComponents(z, level="llevel", freq_seasonal=seasonal)


def _fit_kalman_series(y: np.ndarray, season: int) -> KalmanFit | None:
    """Fit one series (``NaN`` where unobserved); ``None`` when no usable fit comes out."""
    seen = y[~np.isnan(y)]
    if len(seen) < _KALMAN_MIN_OBSERVED:
        return None
    loc = float(seen.mean())
    scale = float(seen.std()) or 1.0
    z = (y[-_KALMAN_FIT_POINTS:] - loc) / scale
    if np.count_nonzero(~np.isnan(z)) < _KALMAN_MIN_OBSERVED:
        return None
    period = season if season > 1 and len(z) >= 2 * season else 0
    try:
        with warnings.catch_warnings():
            # Convergence and start-parameter warnings would print; the result is checked below.
            warnings.simplefilter("ignore")
            result = _kalman_model(z, period).fit(disp=False, maxiter=_KALMAN_MAX_ITER)
    # statsmodels' optimizers and filters raise many types (LinAlgError, ValueError, ...); any
    # of them means this one series is filled linearly, not that the whole fit stops.
    except Exception as err:
        log.debug("kalman fit failed: %s", err)
        return None
    params = np.asarray(result.params, dtype=np.float64)
    if not np.all(np.isfinite(params)):
        return None
    return KalmanFit(loc=loc, scale=scale, period=period, params=params)


def _fit_kalman(panel: Panel, season: int) -> dict[str, KalmanFit | None]:
    values = np.where(panel.observed, panel.values, np.nan)
    fits = {}
    for i, sid in enumerate(panel.ids):
        fits[str(sid)] = _fit_kalman_series(values[panel.offsets[i] : panel.offsets[i + 1]], season)
    failed = [sid for sid, fit in fits.items() if fit is None]
    if failed:
        log.warning(
            "Imputer(kalman): no state-space fit for %d of %d series (%s%s); they are filled "
            "linearly",
            len(failed),
            len(fits),
            ", ".join(failed[:5]),
            ", ..." if len(failed) > 5 else "",
        )
    return fits


def _apply_kalman(
    panel: Panel,
    values: np.ndarray,
    fallback: np.ndarray,
    fits: dict[str, KalmanFit | None],
    causal: bool,
) -> np.ndarray:
    """Per series: smoothed (or one-step filtered, if causal) signal, else ``fallback``."""
    unknown = [str(s) for s in panel.ids if str(s) not in fits]
    if unknown:
        raise DataError(
            f"Imputer(kalman): series {unknown[:5]} were not in the panel it was fitted on; "
            "fit on a panel holding every series to impute"
        )
    filled = fallback.copy()
    failed = []
    for i, sid in enumerate(panel.ids):
        fit = fits[str(sid)]
        lo, hi = panel.offsets[i], panel.offsets[i + 1]
        if fit is None or panel.observed[lo:hi].all():
            continue
        z = (values[lo:hi] - fit.loc) / fit.scale
        model = _kalman_model(z, fit.period)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if causal:
                # forecasts[t] is the prediction of t from points before t only.
                signal = model.filter(fit.params).filter_results.forecasts[0]
            else:
                signal = model.smooth(fit.params).smoother_results.smoothed_forecasts[0]
        signal = signal * fit.scale + fit.loc
        needed = ~panel.observed[lo:hi]
        if causal:  # before the first observation the output is NaN whatever the filter says
            needed[: np.argmax(panel.observed[lo:hi])] = False
        if not np.all(np.isfinite(signal[needed])):
            failed.append(str(sid))
            continue
        filled[lo:hi] = signal
    if failed:
        log.warning(
            "Imputer(kalman): non-finite state-space output for series %s; filled linearly",
            failed[:5],
        )
    return filled


# ---------------------------------------------------------------------- checks
def _check_panel(panel: Panel) -> None:
    if not isinstance(panel, Panel):
        raise TypeError(
            f"Imputer expects a Panel, got {type(panel).__name__}; convert with tsrnn.as_panel"
        )
    bad = panel.observed & ~np.isfinite(panel.values)
    if bad.any():
        series = np.searchsorted(panel.offsets, np.flatnonzero(bad), side="right") - 1
        raise DataError(
            f"Imputer: series {list(panel.ids[np.unique(series)][:5])} have observed values "
            "that are NaN or infinite; mark them unobserved or fix them"
        )
