"""Theta's forecast from every point (the network's Theta input): what the network is told."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from tsrnn import datasets
from tsrnn.models.neural import LSTMForecaster
from tsrnn.models.neural.decode import THETA_WEIGHTS, settled_share
from tsrnn.models.neural.thetabase import theta_paths, theta_wins
from tsrnn.models.stats import Theta


def _air() -> pd.DataFrame:
    return datasets.load("air_passengers")


def test_the_last_point_forecasts_near_the_theta_model():
    air = _air()
    y = air["y"].to_numpy()
    paths = theta_paths(y, np.array([0, len(y)]), 12, 12)
    theta = Theta(season=12).fit(air).predict(12)["Theta"].to_numpy()
    # each point adjusted by the indices known when it came, where Theta adjusts all of them
    # by the latest; and the smoothing weight from a grid: within half a percent here
    np.testing.assert_allclose(paths[-1], theta, rtol=5e-3)


def test_a_history_cut_short_gets_the_paths_it_had_inside_the_longer_one():
    # what makes a backtest's one pass over a series equal to forecasting each cutoff
    rng = np.random.default_rng(0)
    t = np.arange(3000)
    y = 50 + 10 * np.sin(2 * np.pi * t / 24) + np.cumsum(rng.normal(0, 0.3, len(t)))
    whole = theta_paths(y, np.array([0, len(y)]), 24, 48)
    for cut in (100, 777, 2001):
        part = theta_paths(y[:cut], np.array([0, cut]), 24, 48)
        np.testing.assert_allclose(part, whole[:cut], rtol=1e-12, atol=1e-9)


def test_each_point_reads_only_the_history_up_to_it():
    y = _air()["y"].to_numpy()
    changed = y.copy()
    changed[100:] *= 3.0  # a different future after point 99
    changed[120] = -1.0  # with a value that rules out a multiplicative season from there
    offsets = np.array([0, len(y)])
    before, after = theta_paths(y, offsets, 12, 6), theta_paths(changed, offsets, 12, 6)
    np.testing.assert_array_equal(before[:100], after[:100])
    assert not np.allclose(before[100:], after[100:])


def test_series_are_independent_and_leading_gaps_read_nan():
    y = _air()["y"].to_numpy()
    late = np.concatenate([[np.nan] * 5, y[:60]])
    values = np.concatenate([y, late])
    offsets = np.array([0, len(y), len(y) + len(late)])
    paths = theta_paths(values, offsets, 12, 4)
    np.testing.assert_array_equal(paths[: len(y)], theta_paths(y, offsets[:2], 12, 4))
    second = paths[len(y) :]
    assert np.isnan(second[:5]).all()
    np.testing.assert_allclose(second[5:], theta_paths(y[:60], np.array([0, 60]), 12, 4))


def test_a_gap_inside_a_series_carries_the_last_value():
    y = np.arange(1.0, 41.0)
    holed = y.copy()
    holed[20] = np.nan
    filled = y.copy()
    filled[20] = filled[19]
    offsets = np.array([0, 40])
    np.testing.assert_array_equal(
        theta_paths(holed, offsets, 4, 3), theta_paths(filled, offsets, 4, 3)
    )


def test_a_value_at_or_below_zero_stops_the_seasonal_adjustment_from_there():
    t = np.arange(120.0)
    y = 50 + 0.2 * t + 15 * np.sin(2 * np.pi * t / 12)
    offsets = np.array([0, 120])
    plain = theta_paths(y, offsets, 1, 3)  # season 1: never adjusted
    assert not np.allclose(theta_paths(y, offsets, 12, 3)[60:], plain[60:])  # seasonal here
    zeroed = y.copy()
    zeroed[40] = 0.0  # multiplicative: no season from point 40 on (none was found before it)
    paths = theta_paths(zeroed, offsets, 12, 3)
    np.testing.assert_allclose(paths[40:], theta_paths(zeroed, offsets, 1, 3)[40:])


def test_a_trend_is_followed_with_half_its_slope():
    y = 2.0 * np.arange(60.0)
    paths = theta_paths(y, np.array([0, 60]), 12, 3)
    assert np.isfinite(paths).all()
    # Theta's drift, half the slope of 2 a step, from a level that has caught up with the line
    assert paths[-1, 2] - paths[-1, 0] == pytest.approx(2.0, rel=0.05)


def test_the_forecaster_reads_it_by_default_and_the_switch_turns_it_off():
    air = _air()
    on = LSTMForecaster(horizon=6, max_steps=5, random_state=0).fit(air)
    assert on.plan_.theta_input and on.config_.theta != (0, 0)
    assert sum(name.startswith("_theta_") for name in on.feature_names_) == 6
    # the head's blend: the seasonal naive, Theta's forecast and the naive value
    assert on.net_.blend.shape[-1] == 3
    off = LSTMForecaster(horizon=6, max_steps=5, random_state=0, theta_input=False).fit(air)
    assert off.config_.theta == (0, 0) and off.net_.blend.shape[-1] == 2
    assert not any(name.startswith("_theta_") for name in off.feature_names_)
    recursive = LSTMForecaster(horizon=6, max_steps=5, head="recursive").fit(air)
    assert not recursive.plan_.theta_input


def test_theta_input_needs_the_naive_inputs():
    with pytest.raises(ValueError, match="theta_input needs naive_inputs=True"):
        LSTMForecaster(horizon=6, max_steps=5, head="recursive", theta_input=True).fit(_air())


def test_extra_targets_leave_it_out_and_asking_for_both_is_refused():
    data = datasets.load("beijing_pm25")
    data = data[data.unique_id.isin(["Dongsi", "Tiantan"])].groupby("unique_id").tail(400)
    model = LSTMForecaster(horizon=6, max_steps=5, targets=["TEMP"]).fit(data)
    assert not model.plan_.theta_input and model.config_.theta == (0, 0)
    with pytest.raises(ValueError, match="theta_input gives y alone a Theta forecast"):
        LSTMForecaster(horizon=6, max_steps=5, targets=["TEMP"], theta_input=True).fit(data)


def _walks(n_series: int, length: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100 + np.cumsum(rng.normal(size=(n_series, length)), axis=1)


def test_theta_beats_the_last_value_on_trends_and_seasons_and_not_on_random_walks():
    t = np.arange(120.0)
    seasonal = np.stack([100 + k * t + 10 * np.sin(2 * np.pi * t / 12) for k in (0.5, 1, 2)])
    offsets = np.arange(4) * 120
    assert theta_wins(seasonal.ravel(), offsets, 12, 6) == 1.0
    # a random walk's best forecast is its last value: Theta is never a tenth ahead of it
    walks = _walks(40, 300)
    assert theta_wins(walks.ravel(), np.arange(41) * 300, 24, 12) == 0.0
    # half of each: half the series
    mixed = np.concatenate([seasonal.ravel(), walks[:3].ravel()])
    assert theta_wins(mixed, np.concatenate([offsets, 360 + offsets[1:] * 300 // 120]), 12, 6) == (
        0.5
    )


def test_series_too_short_to_tell_are_not_counted_and_many_are_read_evenly_spaced():
    t = np.arange(120.0)
    trend = 100 + 2 * t + 10 * np.sin(2 * np.pi * t / 12)
    # a 20-point series holds no step after two seasons of 12: it counts neither way
    values = np.concatenate([trend, trend[:20]])
    assert theta_wins(values, np.array([0, 120, 140]), 12, 6) == 1.0
    assert theta_wins(trend[:20], np.array([0, 20]), 12, 6) == 0.0
    # of 9 series (trends at even places, walks at odd), 3 read: the 1st, 5th and 9th
    walks = _walks(4, 120)
    rows = [trend if i % 2 == 0 else walks[i // 2] for i in range(9)]
    offsets = np.arange(10) * 120
    assert theta_wins(np.concatenate(rows), offsets, 12, 6, most=3) == 1.0
    assert theta_wins(np.concatenate(rows), offsets, 12, 6) == 5 / 9


def test_long_series_are_read_on_their_recent_points():
    # 4,000 points of a regular season (Theta far ahead), then 6,000 of a random walk: the
    # screen reads the last 5,000 points by default, all of the walk
    t = np.arange(4000.0)
    early = 100 + 0.01 * t + 10 * np.sin(2 * np.pi * t / 24)
    late = early[-1] + np.cumsum(np.random.default_rng(1).normal(size=6000))
    y = np.concatenate([early, late])
    offsets = np.array([0, len(y)])
    assert theta_wins(y, offsets, 24, 12, points=len(y)) == 1.0  # the whole history
    assert theta_wins(y, offsets, 24, 12) == 0.0
    # never fewer than twenty seasons: 10 points would hold no step after two seasons
    assert theta_wins(early, np.array([0, 4000]), 24, 12, points=10) == 1.0


def test_the_forecaster_leaves_it_out_where_theta_does_not_beat_the_last_value(caplog):
    walks = _walks(4, 300)
    data = pd.DataFrame(
        {
            "unique_id": np.repeat(["a", "b", "c", "d"], 300),
            "ds": np.tile(pd.date_range("2024-01-01", periods=300, freq="h"), 4),
            "y": walks.ravel(),
        }
    )
    with caplog.at_level("INFO", logger="tsrnn.models.neural.forecaster"):
        plan = LSTMForecaster(horizon=12).plan(data)
    assert plan.naive_inputs and not plan.theta_input
    assert "beats the naive one by a tenth on 0% of the series, under 10%" in caplog.text
    assert LSTMForecaster(horizon=12, theta_input=True).plan(data).theta_input


def test_the_point_forecast_takes_theta_s_share_fitted_on_the_validation_tail(tmp_path):
    import tsrnn

    air = _air()
    model = LSTMForecaster(horizon=12, max_steps=60, random_state=0).fit(air)
    share = model.config_.theta_weight
    assert 0.0 <= share <= 1.0 and model.net_.config.theta_weight == share
    # saved and loaded with the model
    model.save(tmp_path / "m.tsrnn")
    loaded = tsrnn.load(tmp_path / "m.tsrnn")
    assert loaded.config_.theta_weight == share
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())
    # all of it: the forecast is Theta's from the last point
    model.net_.config = replace(model.net_.config, theta_weight=1.0)
    y = air["y"].to_numpy()
    theta = theta_paths(y, np.array([0, len(y)]), 12, 12)[-1]
    np.testing.assert_allclose(model.predict()["LSTM"].to_numpy(), theta, rtol=1e-4)
    # chosen on the validation tail: a regular season, which Theta forecasts all but exactly,
    # against a network of 5 steps: all of Theta's
    t = np.arange(240)
    season = pd.DataFrame(
        {
            "unique_id": "s",
            "ds": pd.date_range("2000-01-01", periods=240, freq="MS"),
            "y": 100 + 10 * np.sin(2 * np.pi * t / 12),
        }
    )
    assert LSTMForecaster(horizon=12, max_steps=5).fit(season).config_.theta_weight == 1.0
    # none of it, where no Theta input is read, and for a loss other than a point one
    off = LSTMForecaster(horizon=12, max_steps=5, theta_input=False).fit(air)
    assert off.config_.theta_weight == 0.0
    quantile = LSTMForecaster(horizon=12, max_steps=5, loss="quantile").fit(air)
    assert quantile.config_.theta_weight == 0.0


def _tail_losses(best: float, partner: float) -> torch.Tensor:
    """Validation losses per share of THETA_WEIGHTS, relative to the network's alone (share
    0): lowest at ``best``, ``partner`` for the partner alone (share 1)."""
    low = 1.0 if best == 0 else partner if best == 1 else 0.9 * min(1.0, partner)
    return torch.as_tensor(np.interp(THETA_WEIGHTS, [0.0, best, 1.0], [1.0, low, partner]))


@pytest.mark.parametrize(
    ("best", "partner", "share"),
    [
        (0.8, 0.9, 0.65),  # about as good: half-way to an even mix
        (0.0, 1.4, 0.25),  # ... even where the tail picks none of it
        (0.6, 1.1, 0.55),
        (0.2, 3.0, 0.2),  # much worse alone (M4 Hourly's partners): the tail's share
        (1.0, 0.05, 1.0),  # much better alone (a regular season, Theta's all but exact)
        (0.0, 1.6, 0.0),  # past the ratio: none, where the combination does not pay
    ],
)
def test_a_partner_about_as_good_as_the_network_moves_its_share_half_way_to_even(
    best, partner, share
):
    losses = _tail_losses(best, partner)
    assert float(THETA_WEIGHTS[int(torch.argmin(losses))]) == pytest.approx(best)
    assert settled_share(losses) == pytest.approx(share)
