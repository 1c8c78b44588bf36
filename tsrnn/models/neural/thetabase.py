"""Theta's forecast from every point of a series, computed causally: a base for the network.

The skip of the direct head forecasts the change from a learned blend of candidate forecasts
(the naive and seasonal naive values). Those read the input window only. The Theta method
(Assimakopoulos & Nikolopoulos, 2000; the Hyndman & Billah 2003 form that tsrnn's
:class:`~tsrnn.models.stats.Theta` fits) reads the whole history: the season from the classical
decomposition, the level from simple exponential smoothing, half the long-run slope as drift.
Where series are short against the horizon (quarterly and monthly competition data), that
history is what a window of a few seasons lacks.

:func:`theta_paths` gives, for every point ``t`` of every series, the ``H`` steps Theta
forecasts from the history up to and including ``t``, and nothing after it:

- the seasonal indices of M4's classical decomposition where its 90 % test finds a season
  (and every value so far is positive), recomputed on the history so far at every point of
  the first few seasons, less often as the history grows (:func:`_anchor`);
- the smoothing weight ``alpha`` that minimizes the one-step squared errors so far, from a
  grid of :data:`ALPHAS` (each weight's levels run as one linear filter);
- the least-squares slope of the seasonally adjusted history so far.

A point's path depends on the points up to it alone, so the history a forecast starts from
gets the path it had inside a longer series (a backtest forecasts each cutoff as one pass over
the whole series does). Theta itself adjusts all the history by its latest indices; here each
point was adjusted by the indices known when it came, so the last point's path lies near
Theta's forecast rather than on it (M3 quarterly: sMAPE 9.25 against 9.19). Series of one
length are computed together, as arrays. :func:`theta_ends` keeps each series' last path
alone: the partner of the network's point forecast where the panel is too large for the input.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from tsrnn.models.stats.seasonality import seasonal_figures, seasonality_tests

ALPHAS = np.linspace(0.05, 1.0, 20)  # the smoothing weights tried (statsmodels optimizes)
# Seasonal indices are recomputed at every point of the first ANCHORS seasons (after two), at
# every second point of the next 2 * ANCHORS, every fourth of the next 4 * ANCHORS, and so on,
# each time from at most MAX_SEASONS seasons of history, so that a long series costs time in
# proportion to its length.
ANCHORS = 8
MAX_SEASONS = 50
# theta_wins: Theta's error at most this share of the naive one to count as beating it (a
# tenth less, as the week's seasonal naive must beat the day's: inputs.CYCLE_MARGIN)
MARGIN = 0.9
SCREEN_SERIES = 500  # theta_wins reads at most this many series
# ... and of each the last SCREEN_POINTS points, or twenty seasons where those are longer
# (the demo's 12 stations of 35,040 hours: 0.6 s instead of 2.4)
SCREEN_POINTS = 5_000
CHUNK = 4_000_000  # numbers in one block of series computed together (bounds temporaries)


def theta_paths(values: np.ndarray, offsets: np.ndarray, season: int, horizon: int) -> np.ndarray:
    """``(len(values), horizon)``: Theta's forecast of the ``horizon`` steps after each point,
    from that series' points up to it. ``values`` are the series laid end to end
    (``offsets[s]:offsets[s + 1]``); a gap after a series' first finite value reads as the
    last value before it (impute first to do better); points before it read ``NaN``."""
    values = np.asarray(values, dtype=np.float64)
    offsets = np.asarray(offsets, dtype=np.int64)
    n_points, H = len(values), int(horizon)
    out = np.full((n_points, H), np.nan)
    lengths = np.diff(offsets)
    series = np.repeat(np.arange(len(lengths)), lengths)
    # The last finite point at or before each point, within its series (gaps: carried).
    last = np.where(np.isfinite(values), np.arange(n_points), -1)
    last = np.maximum.accumulate(last) if n_points else last
    inside = last >= offsets[:-1][series]
    filled = np.where(inside, values[np.maximum(last, 0)], np.nan)
    lead = np.bincount(series[~inside], minlength=len(lengths))  # points before the first
    n = lengths - lead
    for length in np.unique(n[n > 0]):
        group = np.flatnonzero(n == length)
        per = max(1, CHUNK // (int(length) * max(H, len(ALPHAS))))
        for lo in range(0, len(group), per):
            chosen = group[lo : lo + per]
            rows = (offsets[chosen] + lead[chosen])[:, None] + np.arange(length)[None, :]
            out[rows.ravel()] = _paths(filled[rows], season, H).reshape(-1, H)
    return out


def theta_ends(
    values: np.ndarray,
    offsets: np.ndarray,
    season: int,
    horizon: int,
    cuts: np.ndarray | None = None,
) -> np.ndarray:
    """``(n_series, horizon)``: Theta's forecast from each series' last point, as
    :func:`theta_paths` gives it there, computed a block of series at a time so that memory
    stays near :data:`CHUNK` numbers however many series there are (M4 Monthly's 48,000
    series of 216 points would need 187 million numbers for every point's path). Blocks take
    the series in order of length, so that series of one length stay computed together.

    ``cuts`` ``(k, n_series)``: the forecasts from each series' ``cuts[i, s]``-th point
    instead (from 1 to its length), ``(k, n_series, horizon)``, all from one pass: a path
    reads the points up to it alone, so each is the one a series cut there would get."""
    values = np.asarray(values, dtype=np.float64)
    offsets = np.asarray(offsets, dtype=np.int64)
    H = int(horizon)
    lengths = np.diff(offsets)
    at = lengths[None, :] if cuts is None else np.asarray(cuts, dtype=np.int64)
    if at.ndim != 2 or at.shape[1] != len(lengths) or np.any((at < 1) | (at > lengths)):
        raise ValueError(
            f"theta_ends: cuts must be (k, {len(lengths)}) point counts from 1 to each "
            "series' length"
        )
    out = np.full((len(at), len(lengths), H), np.nan)
    order = np.argsort(lengths, kind="stable")
    ends = np.cumsum(lengths[order])  # the points of the sorted series, laid end to end
    lo = 0
    while lo < len(order):
        # as many series as keep the block's paths within CHUNK numbers (at least one)
        before = ends[lo - 1] if lo else 0
        hi = max(lo + 1, int(np.searchsorted(ends, before + max(1, CHUNK // H), side="right")))
        chosen = order[lo:hi]
        sub = np.concatenate([[0], np.cumsum(lengths[chosen])])
        rows = np.repeat(offsets[chosen] - sub[:-1], lengths[chosen]) + np.arange(sub[-1])
        paths = theta_paths(values[rows], sub, season, H)
        out[:, chosen] = paths[sub[:-1] + at[:, chosen] - 1]
        lo = hi
    return out[0] if cuts is None else out


def theta_wins(
    values: np.ndarray,
    offsets: np.ndarray,
    season: int,
    horizon: int,
    most: int = SCREEN_SERIES,
    points: int = SCREEN_POINTS,
) -> float:
    """The share of series on which Theta's forecast from each point (:func:`theta_paths`)
    has a mean absolute error a tenth or more below the naive one's (the point's own value;
    :data:`MARGIN`), over every
    step ``t + j`` (``j`` up to ``horizon``) observed within the series, from each point
    ``t`` after two seasons (after two points without a season). Series too short for one
    such step are not counted; none counted gives 0. Panels of more than ``most`` series are
    read on ``most`` of them, evenly spaced, and each on its last ``points`` points (or twenty
    seasons, where longer): the cost of the paths is bounded, and the recent history decides.

    Where Theta beats the last value so on no series (noise around a wandering level: air
    quality, a transformer's temperature), its path is a near copy of the naive input, and
    which of the two is ahead on a series turns with the span read; where it does (trends and
    seasons read from the whole history: competition data, hourly demand), the network reads
    what its window lacks.

    >>> t = np.arange(120.0)
    >>> round(theta_wins(100 + t + 10 * np.sin(2 * np.pi * t / 12), np.array([0, 120]), 12, 6))
    1
    """
    values = np.asarray(values, dtype=np.float64)
    offsets = np.asarray(offsets, dtype=np.int64)
    n_series = len(offsets) - 1
    chosen = np.unique(np.linspace(0, n_series - 1, min(n_series, most)).round().astype(int))
    keep = max(int(points), 20 * season + horizon)
    rows = [np.arange(max(offsets[s], offsets[s + 1] - keep), offsets[s + 1]) for s in chosen]
    sub = np.concatenate([[0], np.cumsum([len(r) for r in rows])])
    every = theta_paths(values[np.concatenate(rows)], sub, season, horizon)  # one pass
    won = counted = 0
    start = 2 * season if season > 1 else 2
    for i, r in enumerate(rows):
        y, n = values[r], len(r)
        if n <= start + 1:
            continue
        paths = every[sub[i] + start : sub[i + 1]]  # (n - start, H)
        padded = np.concatenate([y, np.full(horizon, np.nan)])
        ahead = np.lib.stride_tricks.sliding_window_view(padded[start + 1 :], horizon)[
            : n - start
        ]  # ahead[i, j - 1] = y[start + i + j]
        theta = np.abs(paths - ahead)
        naive = np.abs(y[start:, None] - ahead)
        both = np.isfinite(theta) & np.isfinite(naive)
        if both.any():
            counted += 1
            won += theta[both].mean() < MARGIN * naive[both].mean()
    return won / counted if counted else 0.0


def _paths(y: np.ndarray, season: int, horizon: int) -> np.ndarray:
    """``(S, n, H)`` paths of ``S`` series of ``n`` points each, ``(S, n)``."""
    seasonal = _seasonal(y, season, horizon)
    # Seasonally adjusted: each point by the index its phase had as known one point before.
    x = y.copy()
    x[:, 1:] = y[:, 1:] / seasonal[:, :-1, 0]
    return _trend(x, horizon) * seasonal


def _seasonal(y: np.ndarray, season: int, horizon: int) -> np.ndarray:
    """``(S, n, H)``: the seasonal index of each step after each point, as known at that point
    (1 where the test finds no season, before two seasons and one point, or after a value
    <= 0: the decomposition is multiplicative)."""
    S, n = y.shape
    out = np.ones((S, n, horizon))
    if season <= 1 or n <= 2 * season:
        return out
    positive = np.minimum.accumulate(y > 0, axis=1)  # every value so far > 0
    anchors = [a for a in range(2 * season, n) if _anchor(a, season)]
    j = np.arange(1, horizon + 1)
    for i, a in enumerate(anchors):
        prefix = y[:, max(0, a + 1 - MAX_SEASONS * season) : a + 1]
        found = positive[:, a] & seasonality_tests(prefix, season)
        if not found.any():
            continue
        p = prefix.shape[1]
        figure = seasonal_figures(prefix[found], season)  # phases relative to the prefix's start
        stop = anchors[i + 1] if i + 1 < len(anchors) else n
        t = np.arange(a, stop)
        # point t + j lies p - 1 - a + t + j points after the prefix's start
        phase = (p - 1 - a + t[:, None] + j[None, :]) % season  # (T, H)
        out[np.flatnonzero(found)[:, None], t[None, :]] = figure[:, phase]
    return out


def _anchor(a: int, season: int) -> bool:
    """Whether the indices are recomputed at point ``a`` (a function of ``a`` alone, so that a
    point's path never depends on how long its series goes on): every point of the first
    :data:`ANCHORS` seasons after two, every second point of the next ``2 * ANCHORS``, every
    fourth of the next ``4 * ANCHORS``, and so on.

    >>> [a for a in range(36, 48) if _anchor(a, 4)]  # season 4: every point up to 39
    [36, 37, 38, 39, 40, 42, 44, 46]
    """
    k = a - 2 * season  # points after the first two seasons
    return k >= 0 and k % 2 ** int(np.log2(1 + k / (ANCHORS * season))) == 0


def _trend(x: np.ndarray, horizon: int, last: bool = False) -> np.ndarray:
    """``(S, n, H)``: Theta's forecast of the seasonally adjusted rows of ``x`` from each point
    (``last``: from the last point only, ``(S, 1, H)``)."""
    S, n = x.shape
    best_error = np.full((S, n), np.inf)
    level = np.empty((S, n))
    alpha = np.empty((S, n))
    for a in ALPHAS:
        # l_0 = x_0, l_t = l_{t-1} + a (x_t - l_{t-1})
        levels = lfilter([a], [1.0, a - 1.0], x, axis=1, zi=(1 - a) * x[:, :1])[0]
        errors = np.zeros((S, n))
        errors[:, 1:] = np.cumsum((x[:, 1:] - levels[:, :-1]) ** 2, axis=1)
        better = errors < best_error  # the first weight of the lowest error wins ties
        best_error = np.where(better, errors, best_error)
        level = np.where(better, levels, level)
        alpha = np.where(better, a, alpha)
    # Least-squares slope of x_0 .. x_t over 0 .. t.
    t = np.arange(n, dtype=np.float64)
    m = t + 1
    st, stt = np.cumsum(t), np.cumsum(t * t)
    sx, stx = np.cumsum(x, axis=1), np.cumsum(t * x, axis=1)
    denom = m * stt - st * st  # 0 at t = 0 only
    slope = np.zeros((S, n))
    slope[:, 1:] = (m[1:] * stx[:, 1:] - st[1:] * sx[:, 1:]) / denom[1:]
    if last:
        level, alpha, slope, m = level[:, -1:], alpha[:, -1:], slope[:, -1:], m[-1:]
    j = np.arange(1, horizon + 1)
    steps = j - 1 + (1 - (1 - alpha[..., None]) ** m[None, :, None]) / alpha[..., None]
    return level[..., None] + 0.5 * slope[..., None] * steps
