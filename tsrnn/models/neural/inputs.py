"""What a recurrent network reads: panels prepared for it, and the batches drawn from them.

The estimator (:mod:`tsrnn.models.neural`) calls these in order: :func:`read_panel` builds a
Panel with exactly the covariates asked for; the training span is cut (:func:`observed_before`);
:func:`covariate_stats` and per-series scalers (:func:`target_panel` for extra targets) are
fitted on it; :func:`prepare` applies them; :func:`train_batches` and :func:`loss_sums` draw
from the resulting windows; :func:`tail` keeps what ``predict`` needs of each series;
:func:`future_values` reads known-future covariates for the forecast steps.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import torch

from tsrnn.data.panel import ID, TARGET, TIME, Panel, as_panel
from tsrnn.data.scale import Scaler
from tsrnn.data.windows import Batch, Origins, Windows, series_chunks
from tsrnn.errors import DataError

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------- panels
def read_panel(
    y: Any,
    X: Any,
    past: tuple[str, ...],
    future: tuple[str, ...],
    model: str,
    freq: Any = None,
    fitted: bool = False,
) -> Panel:
    """A Panel from any input ``fit`` accepts, holding exactly the ``past`` and ``future``
    covariates: columns of a long ``y``, of a long ``X`` joined to it, or of a Panel; on the
    grid ``freq`` when given (inferred otherwise). ``fitted``: the covariates are those a
    fitted model was trained with (the data must bring them, the model cannot change)."""
    wanted = past + future
    fix = "fix past_covariates=/future_covariates=/targets="
    if fitted:
        fix = f"the model was fitted with covariates {list(wanted)}: give the data those columns"
    if isinstance(y, pd.DataFrame) and {ID, TIME, TARGET} <= set(y.columns):
        frame = y if X is None else merge_covariates(y, X)
        missing = [c for c in wanted if c not in frame.columns]
        if missing:
            raise DataError(
                f"{model}: covariate columns {missing} are not in the data (columns: "
                f"{list(frame.columns)}); {fix}"
            )
        ignored = [
            c
            for c in frame.columns
            if c not in (ID, TIME, TARGET)
            and c not in wanted
            and pd.api.types.is_numeric_dtype(frame[c])
        ]
        if ignored and not fitted:  # said once, when fitting
            log.warning(
                "%s ignores the numeric columns %s: name them in past_covariates= (or "
                "future_covariates=) to use them",
                model,
                ignored,
            )
        return Panel.from_long(frame, freq=freq, past_covariates=past, future_covariates=future)
    if wanted and not isinstance(y, Panel):
        raise DataError(
            f"{model}: covariates {list(wanted)} need a long DataFrame (unique_id, ds, y and "
            "the covariate columns) or a Panel holding them"
        )
    panel = as_panel(y, freq=freq)
    if isinstance(y, Panel):
        missing = [c for c in wanted if c not in panel.covariate_names]
        if missing:
            raise DataError(
                f"{model}: covariate columns {missing} are not in the data (its covariates: "
                f"{list(panel.covariate_names)}); {fix}"
            )
        keep = [panel.covariate_names.index(c) for c in wanted]
        return panel.replace(
            covariates=panel.covariates[:, keep], covariate_names=wanted, future_covariates=future
        )
    if panel.covariate_names:  # a long frame's extra columns, none asked for
        panel = panel.replace(covariates=None, covariate_names=(), future_covariates=())
    return panel


def merge_covariates(y: pd.DataFrame, X: pd.DataFrame) -> pd.DataFrame:
    """``y`` with the columns of a long ``X`` (``unique_id``, ``ds``, covariates) joined on."""
    if not {ID, TIME} <= set(X.columns):
        raise DataError(
            f"X must be a long frame with {ID} and {TIME} columns, got {list(X.columns)}"
        )
    extra = [c for c in X.columns if c not in (ID, TIME)]
    clash = [c for c in extra if c in y.columns]
    if clash:
        raise DataError(f"columns {clash} are in both y and X; keep one")
    return y.merge(X, on=[ID, TIME], how="left", validate="one_to_one")


def observed_before(panel: Panel, end: np.ndarray) -> np.ndarray:
    """Observed points among the first ``end[s]`` of each series."""
    series, pos = panel.point_index()
    use = panel.observed & (pos < end[series])
    return np.bincount(series[use], minlength=panel.n_series)


def target_panel(panel: Panel, name: str) -> Panel:
    """A covariate column as the values of a panel (to scale it per series like y)."""
    column = panel.covariates[:, panel.covariate_names.index(name)]
    try:
        return panel.replace(values=column, observed=~np.isnan(column))
    except DataError as exc:
        raise DataError(f"target column {name!r}: {exc}") from None


def covariate_stats(panel: Panel, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each covariate over the first ``end[s]`` points of each
    series (1 for a constant or empty column), pooled over series; ``float64``, so that a
    covariate around ``1e8`` is centred without losing its lower digits."""
    if not panel.covariate_names:
        return np.zeros(0), np.ones(0)
    series, pos = panel.point_index()
    rows = panel.covariates[pos < end[series]]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column: handled below
        loc = np.nanmean(rows, axis=0)
        scale = np.nanstd(rows, axis=0)
    loc = np.where(np.isfinite(loc), loc, 0.0)
    scale = np.where(np.isfinite(scale) & (scale > 1e-12), scale, 1.0)
    return loc, scale


def prepare(
    panel: Panel,
    scalers: list[Scaler],
    targets: tuple[str, ...],
    covariate_loc: np.ndarray,
    covariate_scale: np.ndarray,
) -> Panel:
    """Values scaled by ``scalers[0]``, covariates standardized, and each extra target column
    scaled per series by its own scaler (``scalers[1:]``, in ``targets`` order); all in
    float64 (the windows round to the network's float32 once, from there)."""
    scaled = scalers[0].transform(panel)
    if not panel.covariate_names:
        return scaled
    covs = panel.covariates - covariate_loc  # one new array, divided in place
    covs /= covariate_scale
    for scaler, name in zip(scalers[1:], targets, strict=True):
        j = panel.covariate_names.index(name)
        column = scaler.transform(target_panel(panel, name)).values
        covs[:, j] = np.where(np.isnan(panel.covariates[:, j]), np.nan, column)
    return scaled.replace(covariates=covs)


# The spread of a series whose observed values are all one number (two or more of them): a
# window of it has no spread of its own and falls back on this, so that the network's output,
# multiplied by it, leaves the forecast and its intervals on that number (as every statistical
# model's are) instead of a few per cent of the level away.
CONSTANT_SPREAD = 1e-12
# One number, up to rounding: a standard deviation at most this share of the mean's size (a
# constant 0.1, scaled, keeps a spread of about 1e-17 from its mean's last bit)
FLAT = 1e-9


def series_spread(panel: Panel, end: np.ndarray, targets: tuple[str, ...]) -> np.ndarray:
    """Each series' spread: the standard deviation of its observed values (the value, then
    each extra target) in the first ``end[s]`` points, ``(n_series, 1 + T)`` ``float32``.
    Where those are one number (:data:`FLAT`; observed twice or more): :data:`CONSTANT_SPREAD`
    if the whole series is, else 1 (a series that leaves its number after ``end``: its
    validation windows must not weigh a trillion times more). 1 where it is undefined (one
    value, none). Window normalization falls back on it."""
    means, sd, counts = _moments(panel, end, targets)
    flat = (counts >= 2) & (sd <= FLAT * np.abs(means))
    whole = flat
    if np.any(end < panel.lengths):
        means_all, sd_all, _ = _moments(panel, panel.lengths, targets)
        whole = flat & (sd_all <= FLAT * np.abs(means_all))
    spread = np.where(np.isfinite(sd) & (sd > 0), sd, 1.0)
    spread = np.where(flat, np.where(whole, CONSTANT_SPREAD, 1.0), spread)
    return spread.astype(np.float32)


CYCLE_MARGIN = 0.9  # a longer cycle wins where its naive error is at most this share


def cycle_wins(panel: Panel, season: int, cycle: int, skip_last: int) -> float:
    """The share of ``panel``'s series on which the seasonal naive forecast of the longer
    ``cycle`` (``y[t - cycle]``) beats that of ``season`` (``y[t - season]``) by a tenth or
    more (mean absolute errors, :data:`CYCLE_MARGIN`), over each series' points from
    ``cycle`` on, its last ``skip_last`` (the validation tail) left out; series too short to
    tell count as not won.

    A cycle that wins so on a series is a real one there: where the season is all there is,
    both errors are alike, and on a random walk the longer lag's error is the larger."""
    won, values, offsets = 0, panel.values, panel.offsets
    for s in range(panel.n_series):
        y = values[offsets[s] : offsets[s + 1] - skip_last]
        if len(y) <= cycle:
            continue
        long_err = np.abs(y[cycle:] - y[:-cycle])
        short_err = np.abs(y[cycle:] - y[cycle - season : len(y) - season])
        both = ~(np.isnan(long_err) | np.isnan(short_err))
        if both.sum() >= season and long_err[both].mean() < CYCLE_MARGIN * short_err[both].mean():
            won += 1
    return won / max(panel.n_series, 1)


MIN_WEIGHT = 0.01  # a series' relative loss weight at least: a near-constant one still trains


def series_weights(
    panel: Panel, end: np.ndarray, targets: tuple[str, ...], window: int
) -> np.ndarray:
    """Each series' weight in a relative loss, ``(n_series, 1 + T)`` ``float32`` (the value,
    then each extra target): the mean, over its training windows, of each window's spread
    over its level (the standard deviation of its observed values over their absolute mean,
    at most 1), read from the first ``end[s]`` points in windows of ``window`` points (and
    the shorter ones at the start holding at least half as many observed values, and 3).

    A series whose windows' spread is a tenth of their level weighs a tenth of one around 0:
    since the network sees each window divided by its spread, this makes errors count as
    shares of the level, as sMAPE and MAPE count them. A window's spread, unlike the whole
    series', holds no long trend. At least :data:`MIN_WEIGHT` (a near-constant series still
    trains); 1 for a series with no such window. Scaling a series leaves its weight as it was.
    """
    columns = _target_values(panel, targets)
    means, sds, _ = _moments(panel, end, targets)
    out = np.ones((panel.n_series, len(columns)))
    offsets = panel.offsets
    for lo, hi in series_chunks(panel.lengths):  # whole series, about a million points a time
        rows = slice(offsets[lo], offsets[hi])
        for j, values in enumerate(columns):
            out[lo:hi, j] = _window_ratios(
                values[rows],
                offsets[lo : hi + 1] - offsets[lo],
                end[lo:hi],
                means[lo:hi, j],
                sds[lo:hi, j],
                window,
            )
    return np.clip(out, MIN_WEIGHT, 1.0).astype(np.float32)


@dataclass(frozen=True, eq=False)
class SpreadInputs:
    """Each series' relative spread as a network input: the log of its
    :func:`series_weights` (how large its windows' spread is against their level),
    standardized by the mean and spread of those logs over the fitted series.

    Window normalization divides each window by its spread, so the network no longer sees
    how far a series lies from 0 in those units: a window that moves 1 % of its level and
    one that moves 50 % look alike. This input gives that back, one number per series and
    target, known to every input and horizon step (as a static attribute is). It keeps
    each series' number it has been given, as the network keeps its embedding; a series it
    never saw gets its own from its history (:meth:`values`).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"unique_id": ["a"] * 8 + ["b"] * 8,
    ...                       "ds": list(pd.date_range("2020", periods=8, freq="D")) * 2,
    ...                       "y": [10, 11, 9, 10, 12, 10, 9, 11] + [1, 3, 0.5, 2, 4, 1, 3, 2]})
    >>> panel = as_panel(frame)
    >>> weights = series_weights(panel, panel.lengths, (), 4)
    >>> spread = SpreadInputs.fit(weights, panel.ids, (), 4)
    >>> spread.names
    ('relative_spread',)
    >>> spread.values(panel, panel.lengths).round(3).tolist()  # b moves more against its level
    [[-1.0], [1.0]]
    """

    targets: tuple[str, ...]  # extra targets: one column each after the value's
    window: int  # the windows the spread is measured over (the input size)
    loc: np.ndarray  # (1 + T,) mean of the logs over the fitted series
    scale: np.ndarray  # (1 + T,) their standard deviation (1 where they are all alike)
    ids: tuple[str, ...]  # series whose input is known ...
    table: np.ndarray  # ... (len(ids), 1 + T), standardized

    @property
    def names(self) -> tuple[str, ...]:
        """The network's input names."""
        return ("relative_spread",) + tuple(f"{t}_relative_spread" for t in self.targets)

    @classmethod
    def fit(
        cls, weights: np.ndarray, ids: Any, targets: tuple[str, ...], window: int
    ) -> SpreadInputs:
        """Learned from the fitted series' :func:`series_weights` (measured over windows of
        ``window`` points) and their ids."""
        logs = np.log(weights).astype(np.float64)
        loc = logs.mean(axis=0)
        scale = logs.std(axis=0)
        scale = np.where(scale > 1e-6, scale, 1.0)
        ids = tuple(str(i) for i in ids)
        return cls(tuple(targets), int(window), loc, scale, ids, (logs - loc) / scale)

    def values(self, panel: Panel, end: np.ndarray | None = None) -> np.ndarray:
        """The input of each series of ``panel``, ``(n_series, 1 + T)`` ``float32``: the kept
        one, else measured on its first ``end[s]`` points (default: all of them)."""
        rows = pd.Index(self.ids).get_indexer([str(i) for i in panel.ids])
        out = self.table[np.maximum(rows, 0)]
        unseen = rows < 0
        if unseen.any():
            end = panel.lengths if end is None else end
            logs = np.log(series_weights(panel, end, self.targets, self.window))
            out[unseen] = ((logs - self.loc) / self.scale)[unseen]
        return out.astype(np.float32)

    def knowing(self, panel: Panel) -> SpreadInputs:
        """A copy that also keeps the inputs of ``panel``'s series it never saw, measured on
        their whole histories (``update``)."""
        rows = pd.Index(self.ids).get_indexer([str(i) for i in panel.ids])
        unseen = np.flatnonzero(rows < 0)
        if not len(unseen):
            return self
        values = self.values(panel)[unseen].astype(np.float64)
        ids = self.ids + tuple(str(panel.ids[i]) for i in unseen)
        return replace(self, ids=ids, table=np.concatenate([self.table, values]))

    def to_state(self) -> dict[str, Any]:
        """Plain data for a model file."""
        return {
            "targets": list(self.targets),
            "window": self.window,
            "loc": self.loc,
            "scale": self.scale,
            "ids": list(self.ids),
            "table": self.table,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SpreadInputs:
        return cls(
            tuple(state["targets"]),
            int(state["window"]),
            np.asarray(state["loc"], dtype=np.float64),
            np.asarray(state["scale"], dtype=np.float64),
            tuple(state["ids"]),
            np.asarray(state["table"], dtype=np.float64).reshape(len(state["ids"]), -1),
        )


def _window_ratios(
    values: np.ndarray,
    offsets: np.ndarray,
    end: np.ndarray,
    means: np.ndarray,
    sds: np.ndarray,
    window: int,
) -> np.ndarray:
    """:func:`series_weights` of consecutive series: ``values`` (NaN: unobserved), their
    ``offsets`` (n + 1), ``end``, and the means and standard deviations of their observed
    training values (n)."""
    n_series = len(end)
    series = np.repeat(np.arange(n_series), np.diff(offsets))
    index = np.arange(len(values))
    pos = index - offsets[:-1][series]
    start = np.maximum(index - window + 1, offsets[:-1][series])  # each window's first point
    use = (pos < end[series]) & ~np.isnan(values)
    # In each series' own units (its mean at 0, its spread 1), so that running sums over
    # series of any size lose no digits; a constant series' windows have no spread.
    unit = np.where(sds > 0, sds, 1.0)
    z = np.where(use, (values - means[series]) / unit[series], 0.0)

    def window_sums(x: np.ndarray) -> np.ndarray:
        total = np.concatenate([[0.0], np.cumsum(x)])
        return total[index + 1] - total[start]

    count = window_sums(use.astype(np.float64))
    kept = use & (count >= max(3, window // 2))  # windows ending at an observed point
    count = np.maximum(count, 1.0)
    mean = window_sums(z) / count
    sd = np.sqrt(np.maximum(window_sums(z * z) / count - mean * mean, 0.0))
    level = np.abs(mean + (means / unit)[series])
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(level > sd, sd / level, 1.0)
    windows = np.bincount(series[kept], minlength=n_series)
    total = np.bincount(series[kept], weights=ratio[kept], minlength=n_series)
    return np.where(windows > 0, total / np.maximum(windows, 1), 1.0)


def _target_values(panel: Panel, targets: tuple[str, ...]) -> list[np.ndarray]:
    """The value (NaN where unobserved), then each extra target's column."""
    columns = [np.where(panel.observed, panel.values, np.nan)]
    return columns + [panel.covariates[:, panel.covariate_names.index(t)] for t in targets]


def _moments(
    panel: Panel, end: np.ndarray, targets: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, standard deviation and count of each series' observed values (the value, then
    each extra target) in its first ``end[s]`` points, ``(n_series, 1 + T)``: ``float64``
    (0 and 0 for a series with none), then ``int64``."""
    series, pos = panel.point_index()
    columns = _target_values(panel, targets)
    means = np.empty((panel.n_series, len(columns)))
    sds = np.empty_like(means)
    counts = np.empty(means.shape, dtype=np.int64)
    for j, values in enumerate(columns):
        use = (pos < end[series]) & ~np.isnan(values)
        s, v = series[use], values[use].astype(np.float64)
        counts[:, j] = np.bincount(s, minlength=panel.n_series)
        n = np.maximum(counts[:, j], 1)
        mean = np.bincount(s, weights=v, minlength=panel.n_series) / n
        means[:, j] = mean
        sds[:, j] = np.sqrt(
            np.bincount(s, weights=(v - mean[s]) ** 2, minlength=panel.n_series) / n
        )
    return means, sds, counts


def check_counts(panel: Panel, targets: tuple[str, ...], model: str) -> None:
    """Refuse negative values in any target of a count model."""
    columns = [("y", panel.values[panel.observed])]
    for t in targets:
        col = panel.covariates[:, panel.covariate_names.index(t)]
        columns.append((t, col[~np.isnan(col)]))
    for name, values in columns:
        if np.any(values < 0):
            raise DataError(
                f"{model}: loss='negbin' needs counts, but {name!r} has negative values; use "
                "loss='normal' or 'studentt'"
            )


def tail(panel: Panel, k: int) -> Panel:
    """The last ``k`` points of each series, from its last observation at the latest."""
    lengths = panel.lengths
    series, pos = panel.point_index()
    last_seen = np.zeros(panel.n_series, dtype=np.int64)
    np.maximum.at(last_seen, series[panel.observed], pos[panel.observed])
    first = np.minimum(np.maximum(lengths - k, 0), last_seen)
    keep = pos >= first[series]
    return panel.replace(
        values=panel.values[keep],
        observed=panel.observed[keep],
        covariates=panel.covariates[keep],
        offsets=np.concatenate([[0], np.cumsum(lengths - first)]),
        starts=panel.times()[panel.offsets[:-1] + first],
    )


def future_values(
    X_future: Any, index: Panel, h: int, future: tuple[str, ...], model: str
) -> np.ndarray:
    """Known-future covariates for the ``h`` steps after each series of ``index``:
    ``(n_series, h, len(future))`` from a long ``X_future``, which must cover every step."""
    if not isinstance(X_future, pd.DataFrame):
        raise DataError(
            f"{model} reads known-future covariates {list(future)}: pass X_future=, a long "
            f"frame with unique_id, ds and those columns for the {h} steps after each series' end"
        )
    missing = [c for c in (ID, TIME, *future) if c not in X_future.columns]
    if missing:
        raise DataError(f"{model}: X_future lacks columns {missing}")
    want = pd.DataFrame({ID: np.repeat(index.ids.astype(str), h), TIME: index.future_times(h)})
    given = X_future.assign(**{ID: X_future[ID].astype(str)})
    merged = want.merge(given, on=[ID, TIME], how="left", validate="one_to_one")
    values = merged[list(future)].to_numpy(dtype=np.float64)
    if np.isnan(values).any():
        rows = np.isnan(values).any(axis=1)
        bad = merged[rows].iloc[0]
        raise DataError(
            f"{model}: X_future has no value for series {bad[ID]!r} at {bad[TIME]} "
            f"({int(rows.sum())} rows missing); it must cover the {h} steps after each series' end"
        )
    return values.reshape(index.n_series, h, len(future))


# ---------------------------------------------------------------------- batches
def train_batches(
    windows: Windows,
    origins: Origins,
    batch_size: int,
    seed: int,
    rank: int = 0,
    world: int = 1,
) -> Iterator[Batch]:
    """Endless shuffled batches: epoch after epoch without replacement, drawn on the device.

    The origins live on the windows' device as two index tensors, so a GPU run never
    copies indices from the host; on the CPU each batch's indices are sorted, which makes the
    gather walk memory forward. Training on ``world`` processes, every rank draws the same
    batches (one ``seed``) and takes its share of each, every ``world``-th window from
    ``rank`` on: disjoint shares that make up the batch one process would train on.
    """
    device = windows.device
    series, pos = origins.take(np.arange(len(origins)))
    # int32 on the CPU (memory), int64 on a GPU (no cast kernel per step)
    dtype = np.int32 if device.type == "cpu" else np.int64
    series_t = torch.from_numpy(series.astype(dtype)).to(device)
    pos_t = torch.from_numpy(pos.astype(dtype)).to(device)
    generator = torch.Generator(device=device).manual_seed(seed)
    n, b = len(origins), min(batch_size, len(origins))
    out = windows.allocate(-(-b // world))
    while True:
        order = torch.randperm(n, generator=generator, device=device)
        for i in range(0, n - b + 1, b):
            index = order[i : i + b]
            if world > 1:
                index = index[rank::world]
            if device.type == "cpu":
                index = index.sort().values
            yield windows.gather(series_t[index].long(), pos_t[index].long(), out)


def loss_sums(
    loss_of: Callable[[Batch], torch.Tensor],
    windows: Windows,
    origins: Origins,
    batch_size: int,
    count_of: Callable[[Batch], float],
) -> tuple[float, float]:
    """The loss over ``origins`` times what it averages over, and that count: ``total /
    count`` is the loss over all of them, and ranks add theirs up. ``count_of(batch)``: what
    the batch's loss averages over (its observed targets, or their weights)."""
    total, count = 0.0, 0.0
    for batch in windows.batches(origins, batch_size):
        n = count_of(batch)
        total += float(loss_of(batch)) * n
        count += n
    return total, count


def shard(origins: Origins, rank: int, world: int) -> Origins:
    """Every ``world``-th origin from ``rank`` on: one rank's share of a set of origins."""
    if world == 1:
        return origins
    series, pos = origins.take(np.arange(rank, len(origins), world))
    return Origins.from_arrays(series, pos, len(origins.bounds) - 1)


def spread_out(origins: Origins, most: int) -> Origins:
    """At most ``most`` of ``origins``, evenly spaced over them (series after series); all of
    them where there are no more."""
    if len(origins) <= most:
        return origins
    chosen = np.unique(np.linspace(0, len(origins) - 1, most).round().astype(np.int64))
    series, pos = origins.take(chosen)
    return Origins.from_arrays(series, pos, len(origins.bounds) - 1)


def no_origins(n_series: int) -> Origins:
    """An empty set of origins (no validation)."""
    return Origins(np.zeros(0, dtype=np.int32), np.zeros(n_series + 1, dtype=np.int64))
