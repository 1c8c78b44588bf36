"""Each series' reversion to its recent median (the neural forecaster's partner for data that
wander around a level)."""

from __future__ import annotations

import numpy as np
import pytest

from tsrnn.models.stats.reversion import reversion_forecast, seasonal_wins


def _ar1(n: int, phi: float, level: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = np.empty(n)
    y[0] = level
    for t in range(1, n):
        y[t] = level + phi * (y[t - 1] - level) + rng.standard_normal()
    return y


def _panel(*series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.cumsum([0, *(len(s) for s in series)])
    return np.concatenate(series), offsets


def test_an_episode_decays_to_the_recent_median_at_the_series_own_rate():
    calm = _ar1(3000, 0.8, 50.0, seed=0)
    calm[-1] = 80.0  # an episode at the end: 30 above the level
    sticky = _ar1(3000, 0.98, 50.0, seed=1)
    sticky[-1] = 80.0
    values, offsets = _panel(calm, sticky)
    forecast = reversion_forecast(values, offsets, span=200, horizon=24)
    assert forecast.shape == (2, 24)
    for row, y, phi in ((forecast[0], calm, 0.8), (forecast[1], sticky, 0.98)):
        level = np.median(y[-200:])
        # each step keeps the fitted share of the deviation left before it
        ratios = (row[1:] - level) / (row[:-1] - level)
        np.testing.assert_allclose(ratios, ratios[0])
        assert ratios[0] == pytest.approx(phi, abs=0.05)
        assert row[0] == pytest.approx(level + ratios[0] * (80.0 - level))
    # the fast one is back at its level within a day; the slow one has not moved far
    assert abs(forecast[0, -1] - np.median(calm[-200:])) < 0.5
    assert forecast[1, -1] > 60


def test_a_random_walk_keeps_its_last_value():
    rng = np.random.default_rng(2)
    walk = 100 + rng.standard_normal(3000).cumsum()
    forecast = reversion_forecast(*_panel(walk), span=200, horizon=12)[0]
    # phi near 1: the forecast stays within a few percent of the way to the median
    assert np.all(np.abs(forecast - walk[-1]) <= 0.1 * abs(walk[-1] - np.median(walk[-200:])))


def test_series_too_short_for_three_deviations_take_the_naive_forecast():
    values, offsets = _panel(np.array([3.0, 5.0]), np.array([7.0, 7.0, 7.0, 7.0, 7.0]))
    forecast = reversion_forecast(values, offsets, span=4, horizon=3)
    np.testing.assert_array_equal(forecast, [[5.0, 5.0, 5.0], [7.0, 7.0, 7.0]])


def test_gaps_are_carried_forward_and_only_recent_points_are_read():
    y = _ar1(500, 0.5, 10.0, seed=3)
    y[-3:] = np.nan  # the last observed value stands for the gap
    gapped = reversion_forecast(*_panel(y), span=50, horizon=4)[0]
    filled = y.copy()
    filled[-3:] = y[-4]
    np.testing.assert_allclose(gapped, reversion_forecast(*_panel(filled), span=50, horizon=4)[0])
    # points older than FIT_SPANS spans change nothing
    longer = np.concatenate([np.full(5000, 1e6), y])
    np.testing.assert_allclose(
        reversion_forecast(*_panel(longer), span=10, horizon=4)[0],
        reversion_forecast(*_panel(y), span=10, horizon=4)[0],
    )


def test_span_and_horizon_must_be_positive():
    with pytest.raises(ValueError, match="span=0"):
        reversion_forecast(np.ones(5), np.array([0, 5]), span=0, horizon=3)


def test_seasonal_wins_is_the_share_of_series_whose_days_cycle_pays():
    rng = np.random.default_rng(5)
    t = np.arange(2000)
    cycle = 50 + 30 * np.sin(2 * np.pi * t / 24) + rng.standard_normal(2000)
    walk = 50 + rng.standard_normal(2000).cumsum()
    episodes = _ar1(2000, 0.9, 50.0, seed=6)
    values, offsets = _panel(cycle, walk, episodes, cycle[::-1].copy())
    assert seasonal_wins(values, offsets, 24, 24, 200) == 0.5  # the two cycles
    assert seasonal_wins(*_panel(walk, episodes), 24, 12, 200) == 0.0
    assert seasonal_wins(*_panel(cycle), 1, 24, 200) == 0.0  # no season: nothing to pay
