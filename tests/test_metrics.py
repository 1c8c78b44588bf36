from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tsrnn.evaluate import metrics as M

nan = np.nan
M4 = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "M4"


def test_point_metrics_by_hand():
    y, f = np.array([2.0, 4.0, nan, 10.0]), np.array([3.0, 2.0, 100.0, 10.0])
    assert M.mae(y, f) == pytest.approx(1.0)  # (1 + 2 + 0) / 3: the missing actual is skipped
    assert M.mse(y, f) == pytest.approx(5 / 3)
    assert M.rmse(y, f) == pytest.approx(np.sqrt(5 / 3))
    assert M.bias(y, f) == pytest.approx(-1 / 3)
    assert M.mape(y, f) == pytest.approx((50 + 50 + 0) / 3)
    assert M.smape(y, f) == pytest.approx((200 * 1 / 5 + 200 * 2 / 6 + 0) / 3)


def test_row_wise_metrics_and_all_missing_row():
    y = np.array([[1.0, 2.0], [nan, nan]])
    f = np.array([[2.0, 2.0], [0.0, 0.0]])
    out = M.mae(y, f, axis=1)
    assert out[0] == 0.5 and np.isnan(out[1])


def test_zero_denominator_rules():
    assert M.smape([0.0, 2.0], [0.0, 2.0]) == 0.0  # 0/0 counts as a perfect step
    assert M.mape([0.0, 4.0], [1.0, 2.0]) == 50.0  # y == 0 is skipped
    # MASE: a series constant within each season falls back to the one-step scale ...
    seasonal_flat = np.tile([1.0, 5.0], 6)
    assert M.naive_scale(seasonal_flat, season=2) == pytest.approx(4.0)
    # ... and a constant series has no scale: undefined, not inf.
    assert np.isnan(M.mase([2.0], [3.0], insample=np.ones(10), season=2))


def test_mase_and_rmsse_m4_definition():
    insample = np.array([1.0, 3.0, 2.0, 6.0, 4.0, 9.0])
    # seasonal naive (m=2) in-sample MAE: |2-1|, |6-3|, |4-2|, |9-6| -> 2.25
    assert M.naive_scale(insample, season=2) == pytest.approx(2.25)
    assert M.mase([5.0, 10.0], [4.0, 12.0], insample, season=2) == pytest.approx(1.5 / 2.25)
    msse_scale = np.mean(np.array([1.0, 3.0, 2.0, 3.0]) ** 2)
    assert M.rmsse([5.0, 10.0], [4.0, 12.0], insample, season=2) == pytest.approx(
        np.sqrt(2.5 / msse_scale)
    )


def test_owa_reproduces_the_published_rounding():
    # M4 Hourly sNaive: the workbook's 0.627 comes from averages rounded to 3 decimals.
    assert M.owa(13.912, 1.193, 18.383, 2.395) == pytest.approx(0.627454, abs=1e-6)
    assert M.owa(13.9124, 1.19349, 18.3834, 2.39512, decimals=None) == pytest.approx(
        0.5 * (13.9124 / 18.3834 + 1.19349 / 2.39512), abs=1e-4
    )


def test_quantile_metrics_by_hand():
    y = np.array([10.0, 20.0])
    q = np.array([[8.0, 12.0], [21.0, 25.0]])  # levels 0.1, 0.9
    # step 1 (y inside): 0.1 * 2 and 0.1 * 2 -> 0.2; step 2 (y below both): 0.9 * 1 and
    # 0.1 * 5 -> 0.7
    assert M.pinball(y, q, [0.1, 0.9]) == pytest.approx((0.2 + 0.7) / 2)
    assert M.crps(y, q, [0.1, 0.9]) == pytest.approx(0.2 + 0.7)
    assert M.scaled_crps(y, q, [0.1, 0.9]) == pytest.approx((0.2 + 0.7) / 15)
    assert M.coverage(y, q[:, 0], q[:, 1]) == 0.5
    assert M.interval_width(y, q[:, 0], q[:, 1]) == 4.0
    # MSIS, alpha 0.2: step 2 misses by 1 below -> 4 + 2/0.2 * 1 = 14; step 1: width 4
    assert M.msis(y, q[:, 0], q[:, 1], insample=[1.0, 2.0], alpha=0.2) == pytest.approx(9.0)


def frames():
    fc = pd.DataFrame(
        {
            "unique_id": ["a", "a", "b", "b", "c", "c"],
            "ds": [3, 4, 3, 4, 3, 4],
            "Model": [2.0, 2.0, 9.0, 9.0, 1.0, 1.0],
            "Model-q0.1": [1.0, 1.0, 8.0, 8.0, 0.0, 0.0],
            "Model-q0.9": [3.0, 3.0, 10.0, 10.0, 2.0, 2.0],
        }
    )
    actuals = pd.DataFrame(
        {"unique_id": fc.unique_id, "ds": fc.ds, "y": [3.0, 5.0, 10.0, nan, 1.0, 1.0]}
    )
    train = pd.DataFrame(
        {
            "unique_id": ["a", "a", "b", "b", "c", "c"],
            "ds": [1, 2, 1, 2, 1, 2],
            "y": [1.0, 2.0, 8.0, 9.0, 1.0, 1.0],  # c is constant: no MASE scale
        }
    )
    return fc, actuals, train


def test_evaluate_per_series_per_horizon_and_overall():
    fc, actuals, train = frames()
    per_series = M.evaluate(fc, actuals, train, metrics=["mae", "mase", "rmse"])
    a = per_series.set_index("unique_id").loc["a"]
    assert a["mae"] == 2.0 and a["mase"] == 2.0 and a["rmse"] == pytest.approx(np.sqrt(5))
    b = per_series.set_index("unique_id").loc["b"]
    assert b["mae"] == 1.0  # the missing actual at ds 4 is excluded
    assert np.isnan(per_series.set_index("unique_id").loc["c", "mase"])
    overall = M.evaluate(fc, actuals, train, metrics=["mae", "mase"], by=None).iloc[0]
    assert overall["mae"] == pytest.approx(1.0)
    assert overall["mase"] == pytest.approx(1.5)  # mean of a (2.0) and b (1.0); c undefined
    assert overall["n_series"] == 3 and overall["n_undefined"] == 1
    horizon = M.evaluate(fc, actuals, train, metrics=["mae"], by="horizon")
    assert horizon["step"].tolist() == [1, 2]
    assert horizon["mae"].tolist() == pytest.approx([(1 + 1 + 0) / 3, (3 + 0) / 2])


def test_evaluate_interval_metrics_and_clear_errors():
    fc, actuals, train = frames()
    out = M.evaluate(fc, actuals, train, metrics=["coverage", "width", "pinball"], by=None)
    # inside: a@3 (3 in [1,3]), b@3, c@3, c@4; outside: a@4 -> 4 of 5 observed steps per series
    assert out.loc[0, "coverage"] == pytest.approx(np.mean([0.5, 1.0, 1.0]))
    assert out.loc[0, "width"] == pytest.approx(2.0)
    with pytest.raises(ValueError, match="needs the quantiles 0.025 and 0.975"):
        M.evaluate(fc, actuals, train, metrics=["coverage"], level=95)
    with pytest.raises(ValueError, match="unknown metric"):
        M.evaluate(fc, actuals, metrics=["r2"])
    with pytest.raises(ValueError, match="pass train="):
        M.evaluate(fc, actuals, metrics=["mase"])


def m4_official(frequency, names):
    from tsrnn.datasets import read_m4

    train, test = read_m4(M4, frequency)
    h = int(test.groupby("unique_id").size().iloc[0])
    fc = test.copy()
    for name in names:
        wide = pd.read_csv(M4 / "forecasts" / f"{frequency}-submission-{name}.csv", index_col=0)
        fc[name] = wide.iloc[:, :h].to_numpy().ravel()  # same series order as the test file
    return fc, train


@pytest.mark.skipif(not M4.exists(), reason=f"M4 data not found at {M4} (../shared)")
def test_m4_scores_reproduce_the_published_hourly_table():
    fc, train = m4_official("Hourly", ["Naive", "sNaive", "Naive2", "SES"])
    table = M.m4_scores(fc, None, train, season=24).set_index("model").round(3)
    published = {
        "Naive": (43.003, 11.608, 3.593),
        "sNaive": (13.912, 1.193, 0.627),
        "Naive2": (18.383, 2.395, 1.000),
        "SES": (18.094, 2.385, 0.990),
    }
    for name, (smape, mase, owa) in published.items():
        assert tuple(table.loc[name, ["smape", "mase", "owa"]]) == (smape, mase, owa), name


@pytest.mark.parametrize(("season", "power"), [(1, 1), (12, 1), (2, 2)])
def test_series_scale_is_each_series_naive_scale(season, power):
    # all series in one pass: each one's scale as naive_scale gives it alone, whatever the
    # row order, the gaps, the lengths (shorter than the season: the step's), flat series
    rng = np.random.default_rng(0)
    frames = []
    for i in range(200):
        n = int(rng.integers(1, 40))
        y = rng.normal(0, 1, n).cumsum()
        y[rng.random(n) < 0.1] = np.nan
        if i % 50 == 0:
            y[:] = 3.0  # no scale at all: NaN
        if i % 37 == 0:
            y = np.tile([1.0, 2.0], n)[:n]  # flat at season 2
        frames.append(pd.DataFrame({"unique_id": f"s{i:03d}", "ds": np.arange(n), "y": y}))
    train = pd.concat(frames).sample(frac=1, random_state=0)  # rows in any order
    ids = pd.Series([f"s{i:03d}" for i in rng.permutation(200)])
    each = [M.naive_scale(frames[int(i[1:])]["y"].to_numpy(), season, power) for i in ids]
    got = M.series_scale(ids, train, season, power)
    np.testing.assert_allclose(got, each, rtol=1e-12)
    assert np.isnan(got).sum() == np.isnan(each).sum() > 0
