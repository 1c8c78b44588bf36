"""Putting series on a common scale: a per-series :class:`Scaler`.

A global model sees many series at once; scaling each by its own location and spread lets one
set of weights serve series of very different sizes. :class:`Scaler` learns one
``(loc, scale)`` per series from a panel's training span and maps whole panels (and forecast
arrays) to and from that scale. ``WINDOW_METHODS`` names the per-window normalizations the
neural models apply on the fly (in :mod:`tsrnn.models.neural`).

It follows one rule for degenerate data, so nothing downstream meets ``NaN`` or ``inf``: a
spread that is zero, not finite or negligible next to the location (below ``1e-6 * |loc|`` or
``1e-12``: a constant span, a single observed value, an IQR of zero) is replaced by ``|loc|``,
and by 1 where that is negligible too. A constant series thus maps to 0 (or to itself when it is
0). With no observed point at all, ``loc`` is 0 and ``scale`` 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from tsrnn.data.panel import Panel
from tsrnn.errors import DataError

METHODS = ("standard", "minmax", "robust", "meanabs", "none")
WINDOW_METHODS = ("standard", "meanabs")

# Below these a spread is noise: the network reads scaled values as float32 (about 7
# significant digits), so a spread under 1e-6 of the level is lost to rounding there, and
# dividing by less than 1e-12 risks overflow.
_REL_TOL = 1e-6
_ABS_TOL = 1e-12


class Scaler(BaseEstimator):
    """Per-series location and scale, learned on the training span, applied to whole panels.

    Parameters
    ----------
    method : {"standard", "minmax", "robust", "meanabs", "none"}, default "standard"
        - ``"standard"``: mean and standard deviation (``ddof=0``);
        - ``"minmax"``: minimum and range, mapping the fit span onto [0, 1];
        - ``"robust"``: median and interquartile range (linear quantiles, as ``np.quantile``);
        - ``"meanabs"``: location 0 and the mean absolute value, the usual choice for
          scale-free global models (it keeps 0 at 0 and the sign of every value);
        - ``"none"``: location 0, scale 1.

        Statistics use observed values only (``NaN`` and imputed points are ignored). A
        degenerate spread (constant span, one observed value) falls back to ``|loc|``, then to
        1 (see the module notes), so output is always finite.

    Attributes
    ----------
    ids_ : ndarray of str, shape (n_series,)
        The fitted series, in the order of ``loc_`` and ``scale_``.
    loc_ : ndarray of float64, shape (n_series,)
    scale_ : ndarray of float64, shape (n_series,)
        Positive and finite; ``scaled = (value - loc_) / scale_``.

    Notes
    -----
    Only targets are scaled; covariates are left as they are (scaling them is the feature
    layer's job). :meth:`transform` looks series up by id, so a panel holding a subset of the
    fitted series, or them in another order (:meth:`Panel.select`), is scaled correctly.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrnn import Panel
    >>> panel = Panel.from_arrays([[1.0, np.nan, 3.0, 100.0], [4.0, 4.0]], ids=["a", "b"])
    >>> scaler = Scaler("minmax").fit(panel.drop_last([1, 0]))  # "a"'s last point is unseen
    >>> scaler.loc_.tolist(), scaler.scale_.tolist()  # "b" is constant: scale falls back to 4
    ([1.0, 4.0], [2.0, 4.0])
    >>> scaled = scaler.transform(panel)
    >>> scaled.values.tolist()
    [0.0, nan, 1.0, 49.5, 0.0, 0.0]
    >>> scaler.inverse_transform(scaled).values.tolist()
    [1.0, nan, 3.0, 100.0, 4.0, 4.0]
    >>> scaler.inverse_transform_array(np.array([[0.5, 1.0]]), series=[0]).tolist()
    [[2.0, 3.0]]
    """

    def __init__(self, method: str = "standard"):
        self.method = method

    def fit(
        self, panel: Panel, y: None = None, end: int | np.ndarray | list[int] | None = None
    ) -> Scaler:
        """Learn each series' location and scale from its observed values.

        Parameters
        ----------
        panel : Panel
            Pass the training span only (``panel.drop_last(h)``), or pass the whole panel with
            ``end``.
        y : None
            Unused; present for scikit-learn compatibility.
        end : int or array of int, shape (n_series,), optional
            Use only the first ``end`` points of each series (``end = panel.lengths - h`` is the
            same as fitting on ``panel.drop_last(h)``). ``end`` beyond a series' length means
            the whole series.

        Returns
        -------
        self : Scaler

        Raises
        ------
        DataError
            When a series has no observed value in its fit span.
        """
        if self.method not in METHODS:
            raise ValueError(f"Scaler: method={self.method!r}; choose one of {METHODS}")
        _check_panel(panel)
        series = np.repeat(np.arange(panel.n_series, dtype=np.int64), panel.lengths)
        use = panel.observed
        if end is not None:
            limit = np.broadcast_to(np.asarray(end), (panel.n_series,))
            if not np.issubdtype(limit.dtype, np.integer) or np.any(limit < 0):
                raise ValueError("Scaler.fit: end must be non-negative integers (points to use)")
            pos = np.arange(len(panel.values), dtype=np.int64) - panel.offsets[:-1][series]
            use = use & (pos < limit[series])
        counts = np.bincount(series[use], minlength=panel.n_series)
        if np.any(counts == 0):
            empty = list(panel.ids[counts == 0][:5])
            raise DataError(
                f"Scaler: series {empty} have no observed value in the fit span; drop them or "
                "fit on a longer span"
            )
        loc, scale = _series_stats(panel, use, series, counts, self.method)
        self.ids_ = panel.ids.astype(str)
        self.loc_ = loc
        self.scale_ = _safe_scale(loc, scale)
        return self

    def transform(self, panel: Panel) -> Panel:
        """A new Panel with ``values`` scaled (``observed`` and covariates shared, unchanged).

        In float64, like every Panel: :meth:`inverse_transform` gives the values back to
        within a few float64 roundings (``1e8 + 0.9`` comes back as itself, to ``1e-7``).
        """
        loc, scale = self._per_point(panel)
        return panel.replace(values=(panel.values - loc) / scale)

    def inverse_transform(self, panel: Panel) -> Panel:
        """Undo :meth:`transform`: ``values * scale + loc`` for each series of ``panel``."""
        loc, scale = self._per_point(panel)
        return panel.replace(values=panel.values * scale + loc)

    def fit_transform(
        self, panel: Panel, y: None = None, end: int | np.ndarray | list[int] | None = None
    ) -> Panel:
        """Fit on the span up to ``end`` (all of ``panel`` by default), then scale all of it."""
        return self.fit(panel, end=end).transform(panel)

    def inverse_transform_array(self, x: np.ndarray, series: np.ndarray | list[int]) -> np.ndarray:
        """Map model outputs back to the original scale.

        Parameters
        ----------
        x : ndarray, shape (n, H) or (n, H, Q)
            Scaled forecasts: row ``k`` belongs to fitted series ``series[k]``; any trailing
            axes (horizons, quantiles) are scaled alike.
        series : array of int, shape (n,)
            Positions of the series in the fitted panel (in ``ids_`` order).

        Returns
        -------
        ndarray
            Same shape as ``x``, float64 whatever ``x``'s dtype: a network's float32 output
            is widened before ``loc_`` is added, so a series around ``1e8`` keeps the digits
            below its seventh.
        """
        check_is_fitted(self)
        x = np.asarray(x)
        rows = np.asarray(series, dtype=np.int64)
        if x.ndim < 1 or rows.shape != (x.shape[0],):
            raise ValueError(
                f"Scaler.inverse_transform_array: series has shape {rows.shape}, needs "
                f"({x.shape[0] if x.ndim else '?'},): one position per row of x"
            )
        if np.any((rows < 0) | (rows >= len(self.ids_))):
            raise ValueError(
                f"Scaler.inverse_transform_array: series positions must be in [0, "
                f"{len(self.ids_)}), the fitted series"
            )
        shape = (len(rows),) + (1,) * (x.ndim - 1)
        x = x.astype(np.float64, copy=False)
        return x * self.scale_[rows].reshape(shape) + self.loc_[rows].reshape(shape)

    def _per_point(self, panel: Panel) -> tuple[np.ndarray, np.ndarray]:
        """``loc`` and ``scale`` repeated for every point of ``panel``, found by series id."""
        check_is_fitted(self)
        _check_panel(panel)
        ids = panel.ids.astype(str)
        if len(ids) == len(self.ids_) and np.array_equal(ids, self.ids_):
            rows = np.arange(len(ids))
        else:
            rows = pd.Index(self.ids_).get_indexer(ids)
            if np.any(rows < 0):
                raise DataError(
                    f"Scaler: series {list(ids[rows < 0][:5])} were not in the panel it was "
                    "fitted on; fit on a panel holding every series to scale"
                )
        lengths = panel.lengths
        return np.repeat(self.loc_[rows], lengths), np.repeat(self.scale_[rows], lengths)


def _check_panel(panel: Panel) -> None:
    if not isinstance(panel, Panel):
        raise TypeError(
            f"Scaler expects a Panel, got {type(panel).__name__}; convert with tsrnn.as_panel"
        )


def _series_stats(
    panel: Panel, use: np.ndarray, series: np.ndarray, counts: np.ndarray, method: str
) -> tuple[np.ndarray, np.ndarray]:
    """Per-series ``(loc, raw scale)`` over the points in ``use``, all series at once.

    A constant span's location is its value exactly (a float64 mean or interpolated median of
    copies of one number can be an ulp off it), so a constant series maps to exactly 0 and
    its spread to exactly 0.
    """
    n = len(counts)
    x = panel.values[use]
    s = series[use]
    if method == "none":
        return np.zeros(n), np.ones(n)
    if method == "meanabs":
        return np.zeros(n), np.bincount(s, weights=np.abs(x), minlength=n) / counts
    # Every series is non-empty, so reduceat over the offsets sees exactly its own points.
    starts = panel.offsets[:-1]
    low = np.minimum.reduceat(np.where(use, panel.values, np.inf), starts)
    high = np.maximum.reduceat(np.where(use, panel.values, -np.inf), starts)
    if method == "minmax":
        return low, high - low
    constant = low == high
    if method == "standard":
        mean = np.where(constant, low, np.bincount(s, weights=x, minlength=n) / counts)
        var = np.bincount(s, weights=(x - mean[s]) ** 2, minlength=n) / counts
        return mean, np.sqrt(var)
    # robust: points sorted by (series, value) put each series' order statistics side by side.
    sorted_x = x[np.lexsort((x, s))]
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    q25, median, q75 = (_sorted_quantile(sorted_x, first, counts, q) for q in (0.25, 0.5, 0.75))
    return np.where(constant, low, median), np.where(constant, 0.0, q75 - q25)


def _sorted_quantile(
    sorted_x: np.ndarray, first: np.ndarray, counts: np.ndarray, q: float
) -> np.ndarray:
    """Linear-interpolated quantile ``q`` of each run ``sorted_x[first:first + counts]``."""
    at = q * (counts - 1)
    lo = np.floor(at).astype(np.int64)
    hi = np.minimum(lo + 1, counts - 1)
    frac = at - lo
    return sorted_x[first + lo] * (1 - frac) + sorted_x[first + hi] * frac


def _safe_scale(loc: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The degenerate-spread rule of the module notes, for numpy arrays."""
    size = np.abs(loc)
    bad = ~np.isfinite(scale) | (scale <= np.maximum(_REL_TOL * size, _ABS_TOL))
    fallback = np.where(size > _ABS_TOL, size, 1.0)
    return np.where(bad, fallback, scale)
