"""Training and forecast windows: origins by index arithmetic, batches by one gather each.

An *origin* ``(s, t)`` is a forecast made at position ``t`` of series ``s``: its input window is
positions ``[t - L, t)``, its target window ``[t, t + H)``. :class:`Windows` lays the panel out
once as per-point feature rows, with ``L`` zero rows before and ``H`` rows after every series,
so that each window is one contiguous block of rows. A batch is then a handful of
``torch.index_select`` calls on overlapping strided views of those rows, written into
preallocated tensors: no per-window Python, no copy of all windows, and memory that depends on
the number of points, never on the number of windows drawn.

Origins are kept as compact ``int32`` positions per series (:class:`Origins`);
:meth:`Windows.batches` walks them in order, one reused batch at a time (evaluation, forecasts),
and training draws its shuffled batches with :func:`tsrnn.models.neural.inputs.train_batches`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch

from tsrnn.data.features import (
    calendar_features,
    calendar_names,
    grid_ordinals,
    scale_time_since,
    steps_since_observed,
)
from tsrnn.data.panel import Panel
from tsrnn.errors import DataError

# Rows handled per pass when building rows and origins: bounds the temporaries (whole series
# at a time, so a pass may hold more when one series is longer).
CHUNK = 1 << 20


class Batch(NamedTuple):
    """One batch of windows, as torch tensors (``B`` windows, input ``L``, horizon ``H``).

    ``x`` columns, in order (:attr:`Windows.feature_names`): ``value`` (scaled, imputed; 0 where
    unobserved and not imputed, and in left padding), ``observed`` (1/0), ``time_since_observed``
    (:func:`~tsrnn.data.features.scale_time_since` of the steps since the last observation,
    capped at ``L``; 1 in left padding), the past-observed covariates, ``<target>_observed``
    (1/0) for each extra target, the calendar features, the known-future covariates
    (covariates read 0 where missing). ``x_future`` holds the last
    ``Ff`` of those columns, calendar and known-future covariates, over the horizon: the same
    features, ``H`` steps on. Past covariates and the target never appear in it.
    """

    x: torch.Tensor  # (B, L, F) float32
    x_future: torch.Tensor  # (B, H, Ff) float32
    y: torch.Tensor  # (B, H) float32 target (scaled, never imputed), 0 where unobserved;
    #                  (B, H, 1 + T) with T extra ``targets``: the value first, then those
    y_mask: torch.Tensor  # bool, shaped as y, True where the target was observed
    series: torch.Tensor  # (B,) int64 series index: panel.ids[series], a scaler's parameters
    origin: torch.Tensor  # (B,) int64 position of the first target step within its series


@dataclass(frozen=True)
class Origins:
    """A set of origins, grouped by series: compact ``int32`` positions, no per-window objects.

    Origins of series ``s`` are ``pos[bounds[s]:bounds[s + 1]]``, ascending.

    Examples
    --------
    >>> origins = Origins.from_arrays([1, 0, 1], [5, 3, 7], n_series=2)
    >>> len(origins), origins.series.tolist(), origins.pos.tolist()
    (3, [0, 1, 1], [3, 5, 7])
    >>> origins.last(1).pos.tolist(), origins.first().pos.tolist()
    ([3, 7], [3, 5])
    """

    pos: np.ndarray  # (W,) int32 position of the first target step
    bounds: np.ndarray  # (n_series + 1,) int64

    @classmethod
    def from_arrays(
        cls, series: np.ndarray | list[int], pos: np.ndarray | list[int], n_series: int
    ) -> Origins:
        """Origins from parallel ``series`` and ``pos`` arrays (any order)."""
        series = np.asarray(series, dtype=np.int64)
        pos = np.asarray(pos, dtype=np.int64)
        if series.shape != pos.shape or series.ndim != 1:
            raise ValueError("Origins.from_arrays: series and pos must be 1-D of equal length")
        if len(series) and (series.min() < 0 or series.max() >= n_series):
            raise ValueError(f"Origins.from_arrays: series must lie in [0, {n_series})")
        order = np.lexsort((pos, series))
        counts = np.bincount(series, minlength=n_series)
        return cls(pos[order].astype(np.int32), np.concatenate([[0], np.cumsum(counts)]))

    def __len__(self) -> int:
        return len(self.pos)

    @property
    def counts(self) -> np.ndarray:
        """Origins per series, ``int64`` of shape ``(n_series,)``."""
        return np.diff(self.bounds)

    @property
    def series(self) -> np.ndarray:
        """Series of each origin, ``int32`` of shape ``(W,)`` (materialized on each call)."""
        return np.repeat(np.arange(len(self.bounds) - 1, dtype=np.int32), self.counts)

    def take(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(series, pos)`` as ``int64`` arrays for origins at ``index`` (into this set)."""
        index = np.asarray(index, dtype=np.int64)
        series = np.searchsorted(self.bounds, index, side="right") - 1
        return series, self.pos[index].astype(np.int64)

    def first(self) -> Origins:
        """The first origin of each series (none where a series has none)."""
        have = self.counts > 0
        return Origins(self.pos[self.bounds[:-1][have]], np.concatenate([[0], np.cumsum(have)]))

    def last(self, k: int) -> Origins:
        """The last ``k`` origins of each series (fewer where a series has fewer)."""
        return self.split_last(k)[1]

    def split_last(self, k: int) -> tuple[Origins, Origins]:
        """``(rest, last k of each series)``: a validation split by origin count.

        The targets of the last origins of ``rest`` overlap those of the split's first ones;
        for a split without shared targets, cut by time (:meth:`Windows.origins` ``end=``/
        ``start=``) instead.
        """
        rank = self.bounds[1:][self.series] - np.arange(len(self.pos))  # 1 for the last
        tail = rank <= k
        counts = self.counts
        n_tail = np.minimum(counts, k)
        head = Origins(self.pos[~tail], np.concatenate([[0], np.cumsum(counts - n_tail)]))
        return head, Origins(self.pos[tail], np.concatenate([[0], np.cumsum(n_tail)]))


class Windows:
    """The windows of a panel: input length ``L``, horizon ``H``, gathered in batches.

    Pass the panel the network reads: scaled, and causally imputed (values an imputer left
    ``NaN``, e.g. before a series' first observation, read as 0). Targets come from the
    observed points only (imputation never changes those), so one panel serves both.

    Building costs one pass over the panel and keeps ``4 * F`` bytes per point for the input
    rows, 5 for the targets, and ``4 * Ff`` for the future rows (none when the calendar is the
    only future feature and all series share a grid: then one small table serves them all).
    The rows are ``float32``, what the network computes in: the panel's ``float64`` numbers
    are rounded here, and only here (a number beyond float32's range is a
    :class:`~tsrnn.DataError`). Pass scaled values, so that the rounding is relative to each
    series' spread rather than its level.

    Parameters
    ----------
    panel : Panel
        Scaled, imputed values; ``observed`` says which are real.
    input_size : int
        ``L``, steps of history per window.
    horizon : int
        ``H``, steps forecast per window.
    calendar : bool
        Add the calendar features the grid resolves (:func:`~tsrnn.data.features.calendar_names`).
    future_values : numpy.ndarray, optional
        Known-future covariates for the ``H`` steps after each series' end, shape
        ``(n_series, H, n_future_covariates)``, read by :meth:`forecast_origins` windows.
        Without them those steps read ``NaN``, so a model can refuse to forecast blind.
    static : numpy.ndarray, optional
        Attributes of each series, ``(n_series, len(static_names))``, already encoded as
        numbers (:class:`~tsrnn.data.static.StaticFeatures`): the last input columns of every
        step (padding included) and of every horizon step.
    static_names : tuple of str
        Their feature names.
    targets : tuple of str
        Past covariates gathered as targets too (forecast jointly with the value): ``Batch.y``
        and ``Batch.y_mask`` then have shape ``(B, H, 1 + len(targets))``, a covariate's
        target observed where it is not ``NaN``; the inputs gain a ``<target>_observed`` flag
        column each. ``min_observed`` in :meth:`origins` still counts the value's observations.

    Examples
    --------
    >>> from tsrnn import datasets
    >>> from tsrnn.data.scale import Scaler
    >>> panel = Scaler("standard").fit_transform(Panel.from_long(datasets.load("air_passengers")))
    >>> windows = Windows(panel, input_size=24, horizon=12)
    >>> windows.feature_names
    ('value', 'observed', 'time_since_observed', 'month_of_year_sin', 'month_of_year_cos')
    >>> origins = windows.origins(stride=12)  # one origin a year, the last at the data's end
    >>> batch = next(windows.batches(origins, batch_size=8))
    >>> tuple(batch.x.shape), tuple(batch.x_future.shape), tuple(batch.y.shape)
    ((8, 24, 5), (8, 12, 2), (8, 12))

    Series shorter than ``L`` are left-padded: value 0, observed 0, maximally stale.

    >>> import numpy as np
    >>> short = Windows(Panel.from_arrays([np.arange(1.0, 5.0)]), input_size=3, horizon=1)
    >>> short.gather([0], [1]).x[0].tolist()
    [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0]]
    """

    def __init__(
        self,
        panel: Panel,
        input_size: int,
        horizon: int,
        *,
        calendar: bool = True,
        future_values: np.ndarray | None = None,
        static: np.ndarray | None = None,
        static_names: tuple[str, ...] = (),
        targets: tuple[str, ...] = (),
    ) -> None:
        if input_size < 1 or horizon < 1:
            raise ValueError(
                f"Windows: input_size and horizon must be >= 1, got {input_size}, {horizon}"
            )
        # What origins' time bounds read: the grid, not the numbers (the rows below copy
        # those), so a panel's covariates (the Theta input's horizon a point) are not held.
        self.panel = panel.replace(covariates=None, covariate_names=(), future_covariates=())
        self.input_size = L = int(input_size)
        self.horizon = H = int(horizon)
        past = [panel.covariate_names.index(c) for c in panel.past_covariates]
        future = [panel.covariate_names.index(c) for c in panel.future_covariates]
        cal = calendar_names(panel) if calendar else ()
        targets = tuple(targets)
        flags = tuple(f"{t}_observed" for t in targets)
        self.feature_names: tuple[str, ...] = (
            ("value", "observed", "time_since_observed")
            + panel.past_covariates
            + flags
            + cal
            + panel.future_covariates
            + tuple(static_names)
        )
        self.future_names: tuple[str, ...] = cal + panel.future_covariates + tuple(static_names)
        F, Ff, K = len(self.feature_names), len(self.future_names), len(cal)
        n_static = len(static_names)
        if n_static:
            with _float32_rows("the static attributes"):
                static = np.asarray(static, dtype=np.float32)
            if static.shape != (panel.n_series, n_static):
                raise ValueError(
                    f"Windows: static must have shape {(panel.n_series, n_static)} (series, "
                    f"static features), got {None if static is None else static.shape}"
                )
        unknown = [t for t in targets if t not in panel.past_covariates]
        if unknown:
            raise ValueError(
                f"Windows: targets {unknown} are not past covariates of the panel "
                f"{list(panel.past_covariates)}"
            )
        self.targets = targets
        extra = [panel.covariate_names.index(c) for c in targets]
        k = 1 + len(extra)  # target columns: the value, then the extra targets
        if future_values is not None:
            with _float32_rows("future_values"):
                future_values = np.asarray(future_values, dtype=np.float32)
            if future_values.shape != (panel.n_series, H, len(future)):
                raise ValueError(
                    f"Windows: future_values must have shape {(panel.n_series, H, len(future))}"
                    f" (series, horizon, future covariates), got {future_values.shape}"
                )

        S, lengths = panel.n_series, panel.lengths
        self.lengths = lengths
        R = len(panel) + S * (L + H)
        # Row of position 0 of each series; position t of series s is row row0[s] + t.
        self._row0 = panel.offsets[:-1] + np.arange(S, dtype=np.int64) * (L + H) + L
        # With the calendar as the only future feature and one grid for all series, a table
        # indexed by grid ordinal serves every series (unless the series are spread so thinly
        # in time that it would outgrow per-point rows).
        ordinals = grid_ordinals(panel) if K and not future and not n_static else None
        table = int((ordinals + lengths).max()) + H if ordinals is not None else R + 1

        xs = np.zeros((R, F), dtype=np.float32)  # input rows, columns as in feature_names
        xs[:, 2] = 1.0  # padding is as stale as it gets
        ys = np.zeros((R, k), dtype=np.float32)  # targets: one contiguous block per window
        ms = np.zeros((R, k), dtype=bool)
        fs = np.zeros((R, Ff), dtype=np.float32) if table > R else None  # future rows
        c_past, c_flags, c_cal, c_fut = (
            slice(3, 3 + len(past)),
            slice(3 + len(past), 3 + len(past) + len(flags)),
            slice(3 + len(past) + len(flags), F - len(future) - n_static),
            slice(F - len(future) - n_static, F - n_static),
        )
        c_static, f_fut = slice(F - n_static, F), slice(K, Ff - n_static)
        # Whole series at a time, about CHUNK rows per pass, so temporaries stay small. The
        # rows are float32, the network's precision: the panel's float64 numbers are cast here.
        with _float32_rows("the panel's values or covariates"):
            for lo, hi in series_chunks(lengths + L + H):
                a, b = panel.offsets[lo], panel.offsets[hi]
                series, pos = _spans(lo, hi, 0, lengths)
                rows = self._row0[series] + pos
                values, seen = panel.values[a:b], panel.observed[a:b]
                xs[rows, 0] = np.nan_to_num(values, nan=0.0)
                xs[rows, 1] = seen
                since = steps_since_observed(seen, panel.offsets[lo : hi + 1] - a)
                xs[rows, 2] = scale_time_since(since, cap=L)
                covs = np.nan_to_num(panel.covariates[a:b], nan=0.0)
                xs[rows, c_past] = covs[:, past]
                xs[rows, c_fut] = covs[:, future]
                ys[rows, 0] = np.where(seen, values, 0.0)
                ms[rows, 0] = seen
                if extra:
                    raw = panel.covariates[a:b][:, extra]
                    ys[rows, 1:] = np.nan_to_num(raw, nan=0.0)
                    ms[rows, 1:] = ~np.isnan(raw)
                    xs[rows, c_flags] = ~np.isnan(raw)
                if K or n_static:  # padding and data: positions -L .. len - 1
                    series, pos = _spans(lo, hi, -L, lengths)
                    if K:
                        xs[self._row0[series] + pos, c_cal] = calendar_features(panel, series, pos)
                    if n_static:
                        xs[self._row0[series] + pos, c_static] = static[series]
                if fs is not None:  # future rows: positions 0 .. len + H - 1
                    fs[rows, f_fut] = covs[:, future]
                    if K or n_static:
                        series, pos = _spans(lo, hi, 0, lengths + H)
                        at = self._row0[series] + pos
                        if K:
                            fs[at, :K] = calendar_features(panel, series, pos)
                        if n_static:
                            fs[at, Ff - n_static :] = static[series]
        if fs is None:
            anchor = int(np.argmin(ordinals))
            fs = calendar_features(panel, anchor, np.arange(table, dtype=np.int64))
            self._frow0 = ordinals.astype(np.int64)
        else:
            self._frow0 = self._row0
            after = (self._row0 + lengths)[:, None] + np.arange(H)  # (S, H) rows past the end
            fs[after, f_fut] = np.nan if future_values is None else future_values

        # For the origin filters: rows whose value was observed (inputs), rows with any
        # observed target (targets).
        self._seen = ms[:, 0]
        self._seen_target = ms[:, 0] if k == 1 else ms.any(axis=1)
        self._xs = torch.from_numpy(xs)
        self._ys = torch.from_numpy(ys)
        self._ms = torch.from_numpy(ms)
        self._fs = torch.from_numpy(np.ascontiguousarray(fs))
        self._row0_t = torch.from_numpy(self._row0)
        self._frow0_t = torch.from_numpy(np.asarray(self._frow0, dtype=np.int64))
        self._views()

    def _views(self) -> None:
        """Overlapping views: row r of a view is the window of rows starting at r, contiguous
        in memory, so ``index_select`` copies one block per window."""
        L, H, F, Ff = self.input_size, self.horizon, self.n_features, self.n_future_features
        R, k = len(self._xs), self._ys.shape[1]
        self._x_view = self._xs.view(-1).as_strided((R - L + 1, L * F), (F, 1))
        self._y_view = self._ys.view(-1).as_strided((R - H + 1, H * k), (k, 1))
        self._m_view = self._ms.view(-1).as_strided((R - H + 1, H * k), (k, 1))
        rows_f = len(self._fs)
        self._f_view = self._fs.view(-1).as_strided((max(rows_f - H + 1, 0), H * Ff), (Ff, 1))

    @property
    def device(self) -> torch.device:
        """Where the rows live and batches are gathered."""
        return self._xs.device

    def to(self, device: str | torch.device) -> Windows:
        """Move the rows to ``device`` (a GPU: batches are then gathered there, no host copy).

        Returns ``self``. Pass index tensors on that device to :meth:`gather`.
        """
        device = torch.device(device)
        if device != self.device:
            for name in ("_xs", "_ys", "_ms", "_fs", "_row0_t", "_frow0_t"):
                setattr(self, name, getattr(self, name).to(device))
            self._views()
        return self

    def __repr__(self) -> str:
        return (
            f"Windows(input_size={self.input_size}, horizon={self.horizon}, "
            f"{len(self.lengths)} series, F={self.n_features}, Ff={self.n_future_features}, "
            f"{self.nbytes / 2**20:.1f} MiB)"
        )

    # ------------------------------------------------------------------ shape
    @property
    def n_features(self) -> int:
        """``F``, columns of ``Batch.x``."""
        return len(self.feature_names)

    @property
    def n_future_features(self) -> int:
        """``Ff``, columns of ``Batch.x_future``."""
        return len(self.future_names)

    @property
    def nbytes(self) -> int:
        """Memory held for gathering (input, target and future rows), in bytes."""
        return sum(t.numel() * t.element_size() for t in (self._xs, self._ys, self._ms, self._fs))

    # ------------------------------------------------------------------ origins
    def origins(
        self,
        *,
        start: Any = None,
        end: Any = None,
        stride: int = 1,
        min_observed: float = 0.0,
        min_target_observed: int = 1,
        pad: bool = True,
    ) -> Origins:
        """Training origins: every target window ``[t, t + H)`` inside the data and ``[start, end)``.

        Parameters
        ----------
        start, end : time or numpy.ndarray, optional
            Bounds on the target windows: a time in the panel's unit (``Timestamp``, date string
            or ``int``), or an ``int`` array of shape ``(n_series,)`` of positions. ``end=c``
            keeps windows whose targets all lie before ``c`` (training before a cutoff);
            ``start=c`` those whose targets start at ``c`` or later (validation after it).
        stride : int
            Steps between consecutive origins of a series, counted back from its last one.
        min_observed : float
            Least fraction of observed points among the input positions inside the series
            (left padding does not count against a window).
        min_target_observed : int
            Least number of observed targets (1: never a window with nothing to learn from).
        pad : bool
            Allow origins with fewer than ``L`` steps of history (left-padded with zeros).

        Returns
        -------
        Origins
        """
        if stride < 1:
            raise ValueError(f"origins: stride must be >= 1, got {stride}")
        L, H, lengths = self.input_size, self.horizon, self.lengths
        lo = np.maximum(self._positions(start, "start"), 1 if pad else L)
        hi = np.minimum(self._positions(end, "end"), lengths) - H
        count = np.where(hi >= lo, (hi - lo) // stride + 1, 0)
        kept, counts = [], np.zeros(len(lengths), dtype=np.int64)
        for a, b in series_chunks(lengths + L + H):
            # Counted back from each series' last origin, so its freshest window is kept.
            series, k = _spans(a, b, 0, count)
            pos = hi[series] - (count[series] - 1 - k) * stride
            if min_observed > 0 or min_target_observed > 0:
                # Observed counts from a running sum over this chunk's rows (padding included).
                base = self._row0[a] - L
                stop = self._row0[b - 1] + lengths[b - 1] + H
                seen = np.concatenate([[0], np.cumsum(self._seen[base:stop], dtype=np.int32)])
                rows = self._row0[series] + pos - base
                keep = (seen[rows] - seen[rows - L]) / np.minimum(pos, L) >= min_observed
                if self._seen_target is not self._seen:
                    block = self._seen_target[base:stop]
                    seen = np.concatenate([[0], np.cumsum(block, dtype=np.int32)])
                keep &= seen[rows + H] - seen[rows] >= min_target_observed
                series, pos = series[keep], pos[keep]
            kept.append(pos.astype(np.int32))
            counts[a:b] = np.bincount(series - a, minlength=b - a)
        pos = np.concatenate(kept) if kept else np.zeros(0, dtype=np.int32)
        return Origins(pos, np.concatenate([[0], np.cumsum(counts)]))

    def forecast_origins(self) -> Origins:
        """One origin per series at its end: the ``H`` steps after the data (targets unobserved)."""
        n = len(self.lengths)
        return Origins(self.lengths.astype(np.int32), np.arange(n + 1, dtype=np.int64))

    def _positions(self, bound: Any, name: str) -> np.ndarray:
        """Per-series positions of a bound: the first position at or after a time."""
        panel, lengths = self.panel, self.lengths
        if bound is None:
            return np.zeros_like(lengths) if name == "start" else lengths.copy()
        if isinstance(bound, np.ndarray | list | tuple) and np.ndim(bound) == 1:
            bound = np.asarray(bound, dtype=np.int64)
            if bound.shape != lengths.shape:
                raise ValueError(f"origins: {name} positions need shape {lengths.shape}")
            return bound
        return panel.positions_before(bound)

    # ------------------------------------------------------------------ gathering
    def allocate(self, batch_size: int) -> Batch:
        """Fresh output tensors for up to ``batch_size`` windows, to pass to :meth:`gather`."""
        L, H, F, Ff = self.input_size, self.horizon, self.n_features, self.n_future_features
        target = (batch_size, H) if not self.targets else (batch_size, H, 1 + len(self.targets))
        on = {"device": self.device}
        return Batch(
            x=torch.empty(batch_size, L, F, **on),
            x_future=torch.empty(batch_size, H, Ff, **on),
            y=torch.empty(target, **on),
            y_mask=torch.empty(target, dtype=torch.bool, **on),
            series=torch.empty(batch_size, dtype=torch.int64, **on),
            origin=torch.empty(batch_size, dtype=torch.int64, **on),
        )

    def gather(
        self,
        series: np.ndarray | list[int] | torch.Tensor,
        pos: np.ndarray | list[int] | torch.Tensor,
        out: Batch | None = None,
    ) -> Batch:
        """The windows at origins ``(series[i], pos[i])``, ``0 <= pos <= length``.

        Written into ``out`` (from :meth:`allocate`, at least as large) when given; the result's
        tensors are then views of ``out``'s and change with the next gather into it.
        ``int64`` tensors on :attr:`device` are used as they are, unchecked: the fast path for
        a training loop that draws its origins on a GPU.
        """
        if isinstance(series, torch.Tensor) and isinstance(pos, torch.Tensor):
            if out is None:
                out = self.allocate(len(series))
            return self._gather(series, pos, out)
        series = np.asarray(series, dtype=np.int64)
        pos = np.asarray(pos, dtype=np.int64)
        if series.shape != pos.shape or series.ndim != 1:
            raise ValueError("gather: series and pos must be 1-D arrays of equal length")
        if len(series) and (series.min() < 0 or series.max() >= len(self.lengths)):
            raise IndexError(f"gather: series must lie in [0, {len(self.lengths)})")
        if np.any(pos < 0) or np.any(pos > self.lengths[series]):
            raise IndexError("gather: origins must lie in [0, length] of their series")
        if out is None:
            out = self.allocate(len(series))
        elif len(out.x) < len(series):
            raise ValueError(f"gather: out holds {len(out.x)} windows, {len(series)} asked")
        return self._gather(series, pos, out)

    def _gather(
        self, series: np.ndarray | torch.Tensor, pos: np.ndarray | torch.Tensor, out: Batch
    ) -> Batch:
        b, L = len(series), self.input_size
        x, x_future, y, y_mask, s, o = (t[:b] for t in out)
        if isinstance(series, np.ndarray):
            s.copy_(torch.from_numpy(series))
            o.copy_(torch.from_numpy(pos))
            series, pos = s, o
        else:  # index tensors already on the device are the batch's own: no copies
            s, o = series, pos
        rows = self._row0_t[series] + pos  # (B,) row of the first target step
        torch.index_select(self._x_view, 0, rows - L, out=x.view(b, -1))  # (B, L*F)
        torch.index_select(self._y_view, 0, rows, out=y.view(b, -1))  # (B, H*k)
        torch.index_select(self._m_view, 0, rows, out=y_mask.view(b, -1))  # (B, H*k)
        if self.n_future_features:
            frows = self._frow0_t[series] + pos
            torch.index_select(self._f_view, 0, frows, out=x_future.view(b, -1))  # (B, H*Ff)
        return Batch(x, x_future, y, y_mask, s, o)

    def batches(self, origins: Origins, batch_size: int = 1024) -> Iterator[Batch]:
        """Every origin once, in order, ``batch_size`` windows a batch (the last one shorter).

        The output tensors are allocated once and reused: each batch is overwritten by the
        next, so ``clone()`` what must outlive an iteration step. No origins, no batch.
        """
        if batch_size < 1:
            raise ValueError(f"batches: batch_size must be >= 1, got {batch_size}")
        n = len(origins)
        if n == 0:
            return
        out = self.allocate(min(batch_size, n))
        for lo in range(0, n, batch_size):
            index = np.arange(lo, min(lo + batch_size, n), dtype=np.int64)
            yield self._gather(*origins.take(index), out)


@contextmanager
def _float32_rows(what: str) -> Iterator[None]:
    """Casts to the rows' float32 inside this block raise a DataError instead of overflowing
    to ``inf``: a number beyond float32's range (about 3.4e38) must be scaled first."""
    try:
        with np.errstate(over="raise"):
            yield
    except FloatingPointError:
        raise DataError(
            f"Windows: {what} hold a number beyond float32's range (about 3.4e38), which the "
            "network computes in; scale the target (scaler='standard' or 'meanabs') or rescale "
            "that covariate (an infinite covariate value: mark it missing, NaN)"
        ) from None


def series_chunks(rows: np.ndarray) -> Iterator[tuple[int, int]]:
    """Ranges ``[lo, hi)`` of whole series holding about ``CHUNK`` rows each (``rows[s]``)."""
    ends = np.cumsum(rows)
    lo = 0
    while lo < len(rows):
        done = ends[lo - 1] if lo else 0
        hi = max(int(np.searchsorted(ends, done + CHUNK, side="right")), lo + 1)
        yield lo, hi
        lo = hi


def _spans(lo: int, hi: int, first: int, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(series, pos)`` of positions ``first .. end[s] - 1`` of each series ``lo .. hi - 1``."""
    count = end[lo:hi] - first
    series = np.repeat(np.arange(lo, hi, dtype=np.int64), count)
    pos = np.arange(int(count.sum()), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    return series, pos + first
