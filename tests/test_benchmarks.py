"""The benchmark scripts' shared helpers, which `make bench` and the RESULTS tables rest on."""

import sys
from pathlib import Path

import pytest

from tsrnn import Naive2, SeasonalNaive, backtest, datasets

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from baselines import merge_results


def test_backtests_run_separately_merge_into_one_with_every_call_recorded():
    air = datasets.load("air_passengers")
    a = backtest(SeasonalNaive(), air, horizon=12, n_windows=2)
    b = backtest(Naive2(), air, horizon=12, n_windows=2)
    merged = merge_results([a, b])
    assert merged.models == ["SeasonalNaive", "Naive2"]
    assert merged.config["call"].splitlines() == [a.config["call"], b.config["call"]]
    assert set(merged.metrics(["mase"]).model) == {"SeasonalNaive", "Naive2"}
    other = backtest(Naive2(), air, horizon=12, n_windows=2, step=6)
    with pytest.raises(ValueError, match="ran over other windows"):
        merge_results([a, other])
    scored_otherwise = backtest(Naive2(), air, horizon=12, n_windows=2, season=4)
    with pytest.raises(ValueError, match="ran with another config"):
        merge_results([a, scored_otherwise])


def test_lr_scale_panels_are_series_of_their_own_and_scored_like_the_library():
    import numpy as np
    from lr_scale import HORIZON, mase, panel_values

    y = panel_values(200, 120)
    assert y.shape == (200, 120)
    assert np.all(y[~np.isnan(y)] > 0) and not np.isnan(y[:, 0]).any()
    assert 0.005 < np.isnan(y).mean() < 0.02  # about 1 % missing, never filled in
    # a larger panel is more series of the kind, not copies: levels span 10 to 100,000
    levels = np.nanmean(y, axis=1)
    assert levels.min() < 100 and levels.max() > 10_000 and len(np.unique(levels)) == 200
    train, actual = y[:, :-HORIZON], y[:, -HORIZON:]
    forecast = np.tile(np.nanmean(train[:, -7:], axis=1, keepdims=True), HORIZON)
    scale = np.nanmean(np.abs(train[:, 7:] - train[:, :-7]), axis=1)
    by_hand = np.mean(np.nanmean(np.abs(actual - forecast), axis=1) / scale)
    assert mase(actual, forecast, train) == pytest.approx(by_hand)


SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"


@pytest.mark.parametrize("name, folder", [("m3-quarterly", "M3"), ("m4-weekly", "M4")])
def test_a_second_origin_forecasts_the_last_horizon_of_train_and_never_sees_the_test(name, folder):
    if not (SHARED / folder).exists():
        pytest.skip(f"needs ../shared/datasets/{folder} (the shared data)")
    import defaults

    official, early = defaults.load(name, True), defaults.load(f"{name}-early", True)
    h = early.horizon
    assert (h, early.season) == (official.horizon, official.season)
    assert early.calendar_season == official.calendar_season
    # the early history is the official one minus its test: the competition test never shows
    lengths = official.history.groupby("unique_id").size() - h
    assert early.history.groupby("unique_id").size().equals(lengths)
    ends = early.history.groupby("unique_id").ds.max()
    official_ends = official.history.groupby("unique_id").ds.apply(lambda ds: ds.iloc[-h - 1])
    assert ends.equals(official_ends)
    # no published rows at this origin: they scored the official test
    assert early.forecasts is None and not early.published and early.n_windows == 1
