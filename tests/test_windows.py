"""Windows: every gathered window equals a plain-loop reference, on ragged panels with gaps."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tsrnn import DataError
from tsrnn.data.features import calendar_features, calendar_names
from tsrnn.data.panel import Panel
from tsrnn.data.windows import Batch, Origins, Windows


def random_panel(
    seed: int,
    n_series: int = 6,
    freq: str | int = "h",
    aligned: bool = True,
    covariates: bool = True,
    max_length: int = 40,
) -> Panel:
    """Ragged series with gaps, leading gaps, imputed-looking values at some gaps, covariates."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, max_length, size=n_series)
    values, observed = [], []
    for n in lengths:
        seen = rng.random(n) < rng.uniform(0.2, 1.0)
        seen[rng.integers(n)] = True
        v = rng.standard_normal(n).astype(np.float32)
        # Unobserved points: some NaN (left by a causal imputer), some filled (imputed).
        v[~seen] = np.where(rng.random((~seen).sum()) < 0.5, np.nan, 9.0)
        values.append(v)
        observed.append(seen)
    n_points = int(lengths.sum())
    names = ("temp", "promo", "load") if covariates else ()
    cov = rng.standard_normal((n_points, len(names))).astype(np.float32)
    cov[rng.random(cov.shape) < 0.1] = np.nan
    if isinstance(freq, int):
        starts: pd.Index = pd.Index(rng.integers(-5, 5, size=n_series) * freq)
    else:
        step = pd.tseries.frequencies.to_offset(freq)
        base = pd.Timestamp("2023-12-31 20:00") if freq == "h" else pd.Timestamp("2023-12-25")
        starts = pd.DatetimeIndex([base + int(k) * step for k in rng.integers(0, 30, n_series)])
        if not aligned:
            starts = starts + pd.to_timedelta(rng.integers(0, 2, n_series) * 30, unit="min")
    return Panel(
        values=np.concatenate(values),
        observed=np.concatenate(observed),
        offsets=np.concatenate([[0], np.cumsum(lengths)]),
        ids=np.array([f"s{i}" for i in range(n_series)], dtype=object),
        starts=starts,
        freq=freq,
        covariates=cov,
        covariate_names=names,
        future_covariates=("promo",) if covariates else (),
    )


# ---------------------------------------------------------------------- the reference
def _nan0(v: float) -> float:
    return 0.0 if math.isnan(v) else float(v)


def reference_window(
    panel: Panel, s: int, t: int, L: int, H: int, calendar: bool = True, future_values=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """x, x_future, y, y_mask of origin (s, t), one point at a time."""
    lo, n = panel.offsets[s], panel.lengths[s]
    v, seen, cov = panel.values[lo : lo + n], panel.observed[lo : lo + n], panel.covariates[lo:]
    past = [panel.covariate_names.index(c) for c in panel.past_covariates]
    fut = [panel.covariate_names.index(c) for c in panel.future_covariates]
    use_cal = calendar and bool(calendar_names(panel))

    def cal(p: int) -> list[float]:
        return calendar_features(panel, s, p).tolist() if use_cal else []

    since, last = [], -1
    for p in range(n):
        last = p if seen[p] else last
        since.append(p - last)
    x = []
    for p in range(t - L, t):
        if p < 0:
            x.append([0.0, 0.0, 1.0] + [0.0] * len(past) + cal(p) + [0.0] * len(fut))
            continue
        stale = math.log1p(min(since[p], L)) / math.log1p(L)
        row = [_nan0(v[p]), float(seen[p]), stale] + [_nan0(cov[p, k]) for k in past]
        x.append(row + cal(p) + [_nan0(cov[p, k]) for k in fut])
    x_future, y, mask = [], [], []
    for p in range(t, t + H):
        if p < n:
            y.append(float(v[p]) if seen[p] else 0.0)
            mask.append(bool(seen[p]))
            known = [_nan0(cov[p, k]) for k in fut]
        else:  # beyond the data: a forecast
            y.append(0.0)
            mask.append(False)
            known = [
                math.nan if future_values is None else float(future_values[s, p - n, j])
                for j in range(len(fut))
            ]
        x_future.append(cal(p) + known)
    F = 3 + len(past) + len(cal(0)) + len(fut)
    return (
        np.array(x, dtype=np.float64).reshape(L, F),
        np.array(x_future, dtype=np.float64).reshape(H, F - 3 - len(past)),
        np.array(y),
        np.array(mask),
    )


def reference_origins(
    panel: Panel,
    L: int,
    H: int,
    start=None,
    end=None,
    stride: int = 1,
    min_observed: float = 0.0,
    min_target_observed: int = 1,
    pad: bool = True,
) -> list[tuple[int, int]]:
    out = []
    for s in range(panel.n_series):
        n = int(panel.lengths[s])
        seen = panel.observed[panel.offsets[s] : panel.offsets[s] + n]
        times = list(panel.time_index(s))
        first = 0 if start is None else sum(1 for when in times if when < start)
        stop = n if end is None else sum(1 for when in times if when < end)
        last = min(stop, n) - H
        candidates = []
        t = last
        while t >= max(first, 1 if pad else L):
            candidates.append(t)
            t -= stride
        for t in sorted(candidates):
            if sum(seen[max(t - L, 0) : t]) / min(L, t) < min_observed:
                continue
            if sum(seen[t : t + H]) < min_target_observed:
                continue
            out.append((s, t))
    return out


def assert_batch_matches(
    batch: Batch, panel: Panel, L: int, H: int, calendar=True, future_values=None
) -> None:
    for i in range(len(batch.series)):
        s, t = int(batch.series[i]), int(batch.origin[i])
        x, xf, y, mask = reference_window(panel, s, t, L, H, calendar, future_values)
        where = f"origin ({s}, {t})"
        np.testing.assert_allclose(batch.x[i].numpy(), x, atol=2e-6, err_msg=where)
        np.testing.assert_allclose(batch.x_future[i].numpy(), xf, atol=2e-6, err_msg=where)
        np.testing.assert_array_equal(batch.y[i].numpy(), y.astype(np.float32), err_msg=where)
        np.testing.assert_array_equal(batch.y_mask[i].numpy(), mask, err_msg=where)


def _pairs(origins: Origins) -> list[tuple[int, int]]:
    return list(zip(origins.series.tolist(), origins.pos.tolist(), strict=True))


# ---------------------------------------------------------------------- contents
CASES = [
    # seed, freq, aligned, L, H, stride, min_observed, pad
    (0, "h", True, 5, 3, 1, 0.0, True),
    (1, "h", False, 12, 2, 2, 0.0, True),  # series on different phases: per-point calendar
    (2, "D", True, 1, 1, 1, 0.5, True),
    (3, "h", True, 8, 4, 3, 0.3, False),
    (4, 1, True, 6, 5, 1, 0.0, True),  # integer time: no calendar
    (5, "MS", True, 4, 2, 1, 0.25, True),
]


@pytest.mark.parametrize(("seed", "freq", "aligned", "L", "H", "stride", "min_obs", "pad"), CASES)
def test_every_window_equals_the_loop_reference(seed, freq, aligned, L, H, stride, min_obs, pad):
    panel = random_panel(seed, freq=freq, aligned=aligned)
    windows = Windows(panel, L, H)
    origins = windows.origins(stride=stride, min_observed=min_obs, pad=pad)
    assert _pairs(origins) == reference_origins(
        panel, L, H, stride=stride, min_observed=min_obs, pad=pad
    )
    batches = list(windows.batches(origins, batch_size=len(origins)))
    assert len(batches) == 1
    assert_batch_matches(batches[0], panel, L, H)
    assert windows.feature_names[:3] == ("value", "observed", "time_since_observed")
    assert batches[0].x.shape == (len(origins), L, windows.n_features)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    L=st.integers(1, 9),
    H=st.integers(1, 6),
    stride=st.integers(1, 4),
    min_obs=st.sampled_from([0.0, 0.2, 0.5, 1.0]),
    min_target=st.integers(0, 2),
    pad=st.booleans(),
    aligned=st.booleans(),
)
def test_random_panels_and_options_match_the_reference(
    seed, L, H, stride, min_obs, min_target, pad, aligned
) -> None:
    panel = random_panel(seed, n_series=4, aligned=aligned, max_length=25)
    windows = Windows(panel, L, H)
    options = {"stride": stride, "min_observed": min_obs, "pad": pad}
    origins = windows.origins(**options, min_target_observed=min_target)
    reference = reference_origins(panel, L, H, **options, min_target_observed=min_target)
    assert _pairs(origins) == reference
    if len(origins):
        assert_batch_matches(next(windows.batches(origins, batch_size=len(origins))), panel, L, H)


def test_left_padding_is_zero_value_zero_mask_and_stale() -> None:
    panel = Panel.from_arrays([np.arange(1.0, 4.0)])  # three points, integer time
    windows = Windows(panel, input_size=5, horizon=1)
    batch = windows.gather([0], [2])  # two real inputs, three padding steps
    x = batch.x[0]
    assert x[:3, 0].tolist() == [0, 0, 0] and x[:3, 1].tolist() == [0, 0, 0]
    assert x[:3, 2].tolist() == [1, 1, 1]
    assert x[3:, 0].tolist() == [1, 2] and x[3:, 1].tolist() == [1, 1]
    assert batch.y.tolist() == [[3.0]]


def test_min_observed_ignores_padding_and_targets_need_one_observation() -> None:
    values = np.array([1.0, np.nan, np.nan, np.nan, 5.0, np.nan, 7.0, np.nan], dtype=np.float32)
    panel = Panel(values, ~np.isnan(values), [0, 8], ["a"], pd.Index([0]), 1)
    windows = Windows(panel, input_size=4, horizon=1)
    # Default: every origin whose single target is observed.
    assert windows.origins().pos.tolist() == [4, 6]
    # Origin 1 sees 1 of 1 input (padding is not held against it), 2 sees 1 of 2, 7 sees 2
    # of 4; origin 6 (1 of 4) falls short.
    assert windows.origins(min_observed=0.5, min_target_observed=0).pos.tolist() == [1, 2, 7]


@pytest.mark.parametrize("seed", [0, 1])
def test_time_range_bounds_keep_targets_inside(seed: int) -> None:
    panel = random_panel(seed + 10, n_series=5)
    L, H = 6, 3
    windows = Windows(panel, L, H)
    cut = panel.starts.min() + pd.Timedelta(hours=25)
    train = windows.origins(end=cut)
    valid = windows.origins(start=cut)
    assert _pairs(train) == reference_origins(panel, L, H, end=cut)
    assert _pairs(valid) == reference_origins(panel, L, H, start=cut)
    # No leakage: every training target is before the cut, every validation target after it.
    for origins, before in ((train, True), (valid, False)):
        for s, t in _pairs(origins):
            times = panel.time_index(s, periods=H, shift=t)
            assert (times < cut).all() if before else (times >= cut).all()
    both = windows.origins(start=str(cut - pd.Timedelta(hours=4)), end=cut + pd.Timedelta(hours=9))
    reference = reference_origins(
        panel, L, H, start=cut - pd.Timedelta(hours=4), end=cut + pd.Timedelta(hours=9)
    )
    assert _pairs(both) == reference


def test_position_bounds_per_series_and_integer_time() -> None:
    panel = random_panel(7, freq=3, n_series=4)
    windows = Windows(panel, 4, 2)
    end = np.maximum(panel.lengths - 5, 0)
    got = windows.origins(end=end)
    expected = [(s, t) for s, t in _pairs(windows.origins()) if t + 2 <= end[s]]
    assert _pairs(got) == expected
    time_cut = int(panel.starts.min()) + 3 * 10
    assert _pairs(windows.origins(start=time_cut)) == reference_origins(panel, 4, 2, start=time_cut)


def test_split_last_takes_the_last_k_of_each_series() -> None:
    panel = random_panel(3)
    origins = Windows(panel, 4, 2).origins()
    head, tail = origins.split_last(2)
    assert len(head) + len(tail) == len(origins)
    for s in range(panel.n_series):
        pos = origins.pos[origins.bounds[s] : origins.bounds[s + 1]].tolist()
        assert tail.pos[tail.bounds[s] : tail.bounds[s + 1]].tolist() == pos[-2:]
        assert head.pos[head.bounds[s] : head.bounds[s + 1]].tolist() == pos[:-2]
    assert _pairs(origins.last(2)) == _pairs(tail)


# ---------------------------------------------------------------------- covariates, forecasting
def test_past_covariates_never_reach_the_horizon() -> None:
    panel = random_panel(8)
    covs = panel.covariates.copy()
    covs[:, panel.covariate_names.index("temp")] = 1e6  # unmistakable
    covs[:, panel.covariate_names.index("load")] = -1e6
    panel = panel.replace(covariates=covs)
    windows = Windows(panel, 5, 4)
    assert windows.future_names == (*calendar_names(panel), "promo")
    origins = windows.origins(pad=False)  # padding would read 0 for the past covariates
    batch = windows.gather(*origins.take(np.arange(len(origins))))
    assert batch.x_future.abs().max() < 1e5  # neither past covariate appears over the horizon
    past_cols = [windows.feature_names.index(c) for c in ("temp", "load")]
    assert (batch.x[:, :, past_cols].abs() == 1e6).all()


@pytest.mark.parametrize("with_future", [False, True])
def test_forecast_origins_read_beyond_the_data(with_future: bool) -> None:
    panel = random_panel(9, aligned=False)
    L, H = 7, 5
    future = (
        np.random.default_rng(0).standard_normal((panel.n_series, H, 1)) if with_future else None
    )
    windows = Windows(panel, L, H, future_values=future)
    origins = windows.forecast_origins()
    assert origins.pos.tolist() == panel.lengths.tolist()
    batch = next(windows.batches(origins, batch_size=64))
    assert not batch.y_mask.any() and (batch.y == 0).all()
    assert_batch_matches(batch, panel, L, H, future_values=future)
    assert torch.isnan(batch.x_future[:, :, -1]).all() != with_future


def test_calendar_table_and_per_point_rows_agree() -> None:
    # No future covariate and one grid: a shared table; with one: per-point rows.
    panel = random_panel(11)
    shared = Windows(panel.replace(future_covariates=()), 6, 4)
    per_point = Windows(panel, 6, 4)
    assert len(shared._fs) < len(per_point._fs)
    origins = per_point.origins()
    index = np.arange(len(origins))
    a = shared.gather(*origins.take(index)).x_future
    b = per_point.gather(*origins.take(index)).x_future[:, :, :-1]
    torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize("with_future", [False, True])
def test_static_attributes_are_the_last_columns_of_every_step_and_horizon_step(
    with_future: bool,
) -> None:
    panel = random_panel(13, aligned=False)
    if not with_future:
        panel = panel.replace(future_covariates=())
    static = np.arange(panel.n_series * 2, dtype=np.float64).reshape(-1, 2) + 0.5
    plain = Windows(panel, 6, 3)
    windows = Windows(panel, 6, 3, static=static, static_names=("static:a", "static:b=x"))
    assert windows.feature_names == (*plain.feature_names, "static:a", "static:b=x")
    assert windows.future_names == (*plain.future_names, "static:a", "static:b=x")
    origins = windows.origins()  # left padding included: it carries the attributes too
    index = np.arange(len(origins))
    series, _ = origins.take(index)
    batch, reference = windows.gather(*origins.take(index)), plain.gather(*origins.take(index))
    expected = torch.as_tensor(static[series], dtype=torch.float32)[:, None, :]
    torch.testing.assert_close(batch.x[:, :, -2:], expected.expand(-1, 6, -1))
    torch.testing.assert_close(batch.x_future[:, :, -2:], expected.expand(-1, 3, -1))
    # Everything else is what the windows without attributes gather.
    torch.testing.assert_close(batch.x[:, :, :-2], reference.x, equal_nan=True)
    torch.testing.assert_close(batch.x_future[:, :, :-2], reference.x_future, equal_nan=True)
    ahead = next(windows.batches(windows.forecast_origins(), batch_size=64))
    torch.testing.assert_close(
        ahead.x_future[:, :, -2:],
        torch.as_tensor(static, dtype=torch.float32)[:, None, :].expand(-1, 3, -1),
    )
    with pytest.raises(ValueError, match="static must have shape"):
        Windows(panel, 6, 3, static=static[:1], static_names=("static:a", "static:b=x"))


def test_calendar_can_be_switched_off() -> None:
    panel = random_panel(12, covariates=False)
    windows = Windows(panel, 4, 2, calendar=False)
    assert windows.feature_names == ("value", "observed", "time_since_observed")
    batch = windows.gather([0], [1])
    assert batch.x_future.shape == (1, 2, 0)
    assert_batch_matches(batch, panel, 4, 2, calendar=False)


# ---------------------------------------------------------------------- gathering and sampling
def test_batches_reuse_their_buffers() -> None:
    panel = random_panel(13)
    windows = Windows(panel, 5, 2)
    pointers = {b.x.data_ptr() for b in windows.batches(windows.origins(), batch_size=8)}
    assert len(pointers) == 1


def test_gather_refuses_origins_outside_a_series() -> None:
    panel = random_panel(14)
    windows = Windows(panel, 5, 2)
    with pytest.raises(IndexError):
        windows.gather([0], [int(panel.lengths[0]) + 1])
    with pytest.raises(IndexError):
        windows.gather([panel.n_series], [1])
    with pytest.raises(ValueError, match="out holds"):
        windows.gather([0, 0], [1, 1], out=windows.allocate(1))


@pytest.mark.parametrize("batch_size", [1, 7, 10_000])
def test_batches_cover_every_origin_once_in_order(batch_size: int) -> None:
    panel = random_panel(15)
    windows = Windows(panel, 5, 2)
    origins = windows.origins()
    batches = [tuple(t.clone() for t in b) for b in windows.batches(origins, batch_size)]
    sizes = [len(b[4]) for b in batches]
    assert sizes[:-1] == [batch_size] * (len(sizes) - 1) and 0 < sizes[-1] <= batch_size
    series = torch.cat([b[4] for b in batches]).numpy()
    pos = torch.cat([b[5] for b in batches]).numpy()
    expected = origins.take(np.arange(len(origins)))
    np.testing.assert_array_equal(series, expected[0])
    np.testing.assert_array_equal(pos, expected[1])
    whole = windows.gather(*expected)
    for k, name in enumerate(Batch._fields):
        torch.testing.assert_close(
            torch.cat([b[k] for b in batches]), whole[k], rtol=0, atol=0, equal_nan=True, msg=name
        )
    assert list(windows.batches(Origins.from_arrays([], [], panel.n_series), 4)) == []
    with pytest.raises(ValueError, match="batch_size"):
        next(windows.batches(origins, 0))


def test_shapes_and_dtypes_of_a_batch() -> None:
    panel = random_panel(17)
    windows = Windows(panel, 10, 4)
    batch = windows.gather([0, 1], [1, 1])
    F, Ff = windows.n_features, windows.n_future_features
    assert batch.x.shape == (2, 10, F) and batch.x.dtype == torch.float32
    assert batch.x_future.shape == (2, 4, Ff) and batch.y.shape == (2, 4)
    assert batch.y_mask.dtype == torch.bool and batch.series.dtype == torch.int64
    assert batch.origin.tolist() == [1, 1] and batch.series.tolist() == [0, 1]
    assert not torch.isnan(batch.x).any()
    assert windows.nbytes > 0


def test_the_panels_float64_values_are_rounded_to_float32_once() -> None:
    values = 1.0 / 3.0 + np.arange(6.0)  # not float32 numbers
    windows = Windows(Panel.from_arrays([values]), 3, 2, calendar=False)
    batch = windows.gather([0], [3])
    np.testing.assert_array_equal(batch.x[0, :, 0].numpy(), values[:3].astype(np.float32))
    np.testing.assert_array_equal(batch.y[0].numpy(), values[3:5].astype(np.float32))


def test_a_number_beyond_float32s_range_is_refused_not_made_infinite() -> None:
    with pytest.raises(DataError, match="beyond float32's range"):
        Windows(Panel.from_arrays([[1.0, 3.5e39, 2.0]]), 2, 1, calendar=False)


# ---------------------------------------------------------------------- several targets, tensors
def test_extra_targets_are_gathered_beside_the_value() -> None:
    panel = random_panel(12)
    j = panel.covariate_names.index("temp")
    covs = panel.covariates.copy()
    covs[::7, j] = np.nan  # a covariate target has gaps of its own
    panel = panel.replace(covariates=covs)
    L, H = 5, 3
    windows = Windows(panel, L, H, targets=("temp",))
    plain = Windows(panel, L, H)
    origins = windows.origins()
    index = np.arange(len(origins))
    batch = windows.gather(*origins.take(index))
    reference = plain.gather(*origins.take(index))
    assert batch.y.shape == (len(origins), H, 2) and batch.y_mask.shape == batch.y.shape
    torch.testing.assert_close(batch.y[..., 0], reference.y, rtol=0, atol=0)
    assert torch.equal(batch.y_mask[..., 0], reference.y_mask)
    flag = windows.feature_names.index("temp_observed")
    series, pos = origins.take(index)
    for k in range(0, len(index), 17):
        start = panel.offsets[series[k]] + pos[k]
        inputs = panel.covariates[max(start - L, panel.offsets[series[k]]) : start, j]
        assert batch.x[k, L - len(inputs) :, flag].tolist() == (~np.isnan(inputs)).tolist()
        expected = panel.covariates[start : start + H, j]
        assert batch.y_mask[k, :, 1].tolist() == (~np.isnan(expected)).tolist()
        seen = ~np.isnan(expected)
        assert np.array_equal(batch.y[k, :, 1].numpy()[seen], expected[seen])
        assert (batch.y[k, :, 1].numpy()[~seen] == 0).all()
    # an extra target's observations count as targets, never as observed inputs
    strict = {"min_observed": 0.9, "min_target_observed": 1}
    assert _pairs(windows.origins(**strict)) == _pairs(plain.origins(**strict))
    with pytest.raises(ValueError, match="not past covariates"):
        Windows(panel, L, H, targets=("promo",))  # a known-future covariate is no target


def test_gathering_from_index_tensors_equals_gathering_from_arrays() -> None:
    panel = random_panel(13)
    windows = Windows(panel, 6, 4).to("cpu")
    origins = windows.origins()
    series, pos = origins.take(np.arange(0, len(origins), 3))
    a = windows.gather(series, pos)
    b = windows.gather(torch.from_numpy(series), torch.from_numpy(pos))
    for x, y in zip(a, b, strict=True):
        assert torch.equal(x, y)
