"""The point forecast combined with each series' damped-trend or ETS forecast
(``combine_damped``, ``combine_ets``), the validation tail picking between them."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

import tsrnn
from tests.panels import trends
from tsrnn.models.neural import LSTMForecaster
from tsrnn.models.stats.smoothing import ETS, Damped

ALONE = {"combine_damped": False, "combine_ets": False}  # the network without a partner
N = 20  # series: the partners work from two series up, and each costs fits


def _damped(history: pd.DataFrame, h: int) -> np.ndarray:
    return Damped(season=12).fit(history).predict(h)["Damped"].to_numpy()


def _ets(history: pd.DataFrame, h: int) -> np.ndarray:
    return ETS(season=12).fit(history).predict(h)["ETS"].to_numpy()


def _noisy(data: pd.DataFrame) -> pd.DataFrame:
    """The trends with 1 % noise: a straight line ETS would forecast without error (and
    intervals of no width)."""
    rng = np.random.default_rng(1)
    return data.assign(y=data["y"] * (1 + 0.01 * rng.standard_normal(len(data))))


@pytest.mark.parametrize(
    ("kind", "given", "name", "forecast"),
    [
        ("damped", {"combine_damped": True}, "the damped trend's", _damped),
        ("ets", {"combine_ets": True}, "ETS's", _ets),
    ],
)
def test_the_point_forecast_takes_the_partners_share_fitted_on_the_validation_tail(
    tmp_path, caplog, kind, given, name, forecast
):
    data = _noisy(trends(N))
    with caplog.at_level(logging.INFO, logger="tsrnn.models.neural.forecaster"):
        model = LSTMForecaster(horizon=6, max_steps=5, random_state=0, **given).fit(data)
    # the one partner given: the other is off
    assert model.plan_.combine_damped == (kind == "damped")
    assert model.plan_.combine_ets == (kind == "ets")
    assert model.partner_ == kind and list(model.partner_losses_) == [kind]
    share = model.damped_weight_
    assert share >= 0.5, share  # the trends: each series' own model is the better forecast
    assert f"of {name} forecast" in caplog.text and "picks" not in caplog.text
    assert model.choices_["partner"] == kind
    assert model.damped_forecast_.shape == (N, 6)
    # the point forecast is the share's mix of the network's and the partner's
    alone = LSTMForecaster(horizon=6, max_steps=5, random_state=0, **ALONE).fit(data)
    assert alone.damped_weight_ == 0.0 and alone.damped_forecast_ is None
    assert alone.partner_ is None and alone.choices_["partner"] is None
    damped = forecast(data, 6)
    network = alone.predict()["LSTM"].to_numpy()
    forecast = model.predict(quantiles=[0.1, 0.9])
    np.testing.assert_allclose(
        forecast["LSTM"].to_numpy(), (1 - share) * network + share * damped, rtol=1e-5
    )
    # the interval moves with the point, around the combined forecast
    assert (forecast["LSTM-q0.1"] < forecast["LSTM"]).all()
    assert (forecast["LSTM"] < forecast["LSTM-q0.9"]).all()
    # saved and loaded with the model
    model.save(tmp_path / "m.tsrnn")
    loaded = tsrnn.load(tmp_path / "m.tsrnn")
    assert loaded.damped_weight_ == share and loaded.partner_ == kind
    pd.testing.assert_frame_equal(loaded.predict(quantiles=[0.1, 0.9]), forecast)


def test_with_both_partners_the_validation_tail_picks_the_one_whose_best_share_errs_least(
    caplog,
):
    data = trends(N, season=0.2)
    both = {"combine_damped": True, "combine_ets": True}
    with caplog.at_level(logging.INFO, logger="tsrnn.models.neural.forecaster"):
        model = LSTMForecaster(horizon=6, max_steps=5, random_state=0, **both).fit(data)
    assert model.plan_.combine_damped and model.plan_.combine_ets
    losses = model.partner_losses_
    assert set(losses) == {"damped", "ets"}
    assert model.partner_ == min(losses, key=losses.get)
    assert losses[model.partner_] < 1.0  # the combination beat the network alone
    assert "the validation tail picks" in caplog.text
    # the pick's share and forecast: what the partner given alone gives the same network
    given = {"damped": {"combine_damped": True}, "ets": {"combine_ets": True}}[model.partner_]
    alone = LSTMForecaster(horizon=6, max_steps=5, random_state=0, **given).fit(data)
    assert model.damped_weight_ == alone.damped_weight_
    pd.testing.assert_frame_equal(model.predict(), alone.predict())


@pytest.mark.parametrize(
    ("given", "forecast"), [({"combine_damped": True}, _damped), ({"combine_ets": True}, _ets)]
)
def test_forecasts_from_other_histories_refit_the_partner_on_them(given, forecast):
    data = trends(N)
    model = LSTMForecaster(horizon=6, max_steps=5, random_state=0, **given).fit(data)
    alone = LSTMForecaster(horizon=6, max_steps=5, random_state=0, **ALONE)
    alone.fit(data)
    shorter = data.groupby("unique_id").head(30)
    share = model.damped_weight_
    expected = (1 - share) * alone.predict(y=shorter)["LSTM"].to_numpy() + share * forecast(
        shorter, 6
    )
    got = model.predict(y=shorter)
    np.testing.assert_allclose(got["LSTM"].to_numpy(), expected, rtol=1e-5)
    # nothing after a cutoff reaches its forecast: the backtest's windows alike
    ends = np.array([[28] * N, [34] * N])
    windows = model.predict_windows(data, ends, h=6)
    first = windows[windows["window"] == 0]
    cut = data.groupby("unique_id").head(28)
    np.testing.assert_allclose(
        first["LSTM"].to_numpy(), model.predict(y=cut)["LSTM"].to_numpy(), rtol=1e-5
    )


def _partners(plan) -> tuple[bool, bool]:
    return plan.combine_damped, plan.combine_ets


def test_the_default_combines_panels_of_2_to_1000_series_with_ets_and_a_point_loss():
    lone = trends(1, length=30)
    assert _partners(LSTMForecaster(horizon=6).plan(lone)) == (False, False)
    assert _partners(LSTMForecaster(horizon=6, combine_damped=True).plan(lone)) == (True, False)
    assert _partners(LSTMForecaster(horizon=6, combine_ets=True).plan(lone)) == (False, True)
    many = trends(2, length=30)
    assert _partners(LSTMForecaster(horizon=6).plan(many)) == (False, True)
    assert _partners(LSTMForecaster(horizon=6).plan(trends(1001, length=20))) == (False, False)
    # ETS refused gives the damped trend back; the damped trend given alone is the only one
    assert _partners(LSTMForecaster(horizon=6, combine_ets=False).plan(many)) == (True, False)
    assert _partners(LSTMForecaster(horizon=6, combine_damped=True).plan(many)) == (True, False)
    assert _partners(LSTMForecaster(horizon=6, combine_damped=False).plan(many)) == (False, True)
    assert _partners(LSTMForecaster(horizon=6, **ALONE).plan(many)) == (False, False)
    assert _partners(LSTMForecaster(horizon=6, loss="quantile").plan(many)) == (False, False)
    for name in ALONE:
        with pytest.raises(ValueError, match=f"{name} combines the direct head's point"):
            LSTMForecaster(horizon=6, loss="quantile", **{name: True}).plan(many)
        with pytest.raises(ValueError, match=name):
            LSTMForecaster(horizon=6, head="recursive", **{name: True}).plan(many)


def test_a_panel_of_three_series_is_combined_with_ets_by_default(caplog):
    """The smallest panels too: nothing given, three series take each series' ETS as the
    partner, fitted on the validation tail and refitted on the whole series."""
    data = _noisy(trends(3))
    with caplog.at_level(logging.INFO, logger="tsrnn.models.neural.forecaster"):
        model = LSTMForecaster(horizon=6, max_steps=5, random_state=0).fit(data)
    assert model.plan_.combine_ets and not model.plan_.combine_damped
    assert model.partner_ == "ets" and model.choices_["partner"] == "ets"
    assert "of ETS's forecast" in caplog.text
    share = model.damped_weight_
    assert share > 0, share  # the trends: ETS forecasts them closely
    alone = LSTMForecaster(horizon=6, max_steps=5, random_state=0, **ALONE).fit(data)
    expected = (1 - share) * alone.predict()["LSTM"].to_numpy() + share * _ets(data, 6)
    np.testing.assert_allclose(model.predict()["LSTM"].to_numpy(), expected, rtol=1e-5)


def test_series_too_short_for_a_damped_trend_are_said_once_as_this_models(caplog):
    data = trends(100, length=30)
    short = data[data["unique_id"] == "s000"].head(9)  # 3 points before its validation tail
    data = pd.concat([short, data[data["unique_id"] != "s000"]], ignore_index=True)
    with caplog.at_level(logging.INFO):
        model = LSTMForecaster(horizon=6, max_steps=5, combine_damped=True).fit(data)
    assert "Damped fell back" not in caplog.text  # the statistical model's own warning
    assert "LSTM: the damped trend took the naive forecast on 1 of 100 series (s000" in caplog.text
    assert np.isfinite(model.predict()["LSTM"]).all()


def test_ets_as_the_partner_reads_each_series_last_seasons(monkeypatch):
    from tsrnn.models.neural import forecaster

    monkeypatch.setattr(forecaster, "ETS_SEASONS", 2)  # 24 months ...
    monkeypatch.setattr(forecaster, "ETS_POINTS", 20)  # ... being more than 20 points
    data = _noisy(trends(N))  # 40 months each
    model = LSTMForecaster(horizon=6, max_steps=5, random_state=0, combine_ets=True).fit(data)
    share = model.damped_weight_
    assert share > 0, share
    alone = LSTMForecaster(horizon=6, max_steps=5, random_state=0, **ALONE).fit(data)
    recent = data.groupby("unique_id").tail(24)
    expected = (1 - share) * alone.predict()["LSTM"].to_numpy() + share * _ets(recent, 6)
    np.testing.assert_allclose(model.predict()["LSTM"].to_numpy(), expected, rtol=1e-5)
    # and not the whole series: its forecast differs
    assert not np.allclose(_ets(recent, 6), _ets(data, 6), rtol=1e-3)


def _episodes(n_series: int, length: int = 300, integer: bool = False) -> pd.DataFrame:
    """Hourly readings around a level of 50 (an AR(1) of 0.9 a step) with a day's cycle, each
    series ending in an episode 40 above its level: what the reversion forecasts."""
    rng = np.random.default_rng(4)
    frames = []
    for i in range(n_series):
        y = np.empty(length)
        y[0] = 0.0
        for t in range(1, length):
            y[t] = 0.9 * y[t - 1] + 3 * rng.standard_normal()
        y[-3:] += 40.0
        t = np.arange(length)
        ds = t if integer else pd.date_range("2024-01-01", periods=length, freq="h")
        y = 50 + 5 * np.sin(2 * np.pi * t / 24) + y
        frames.append(pd.DataFrame({"unique_id": f"r{i:02d}", "ds": ds, "y": y}))
    return pd.concat(frames, ignore_index=True)


def _reversion(history: pd.DataFrame, h: int) -> np.ndarray:
    from tsrnn.models.stats.reversion import reversion_forecast

    sizes = history.groupby("unique_id", sort=True).size().to_numpy()
    values = history.sort_values(["unique_id", "ds"])["y"].to_numpy()
    return reversion_forecast(values, np.cumsum([0, *sizes]), 480, h).ravel()


def test_the_reversion_is_offered_beside_ets_where_the_season_is_a_days_or_a_weeks():
    def offered(data, **given):
        plan = LSTMForecaster(horizon=6, **given).plan(data)
        return plan.combine_ets, plan.combine_revert

    hourly = _episodes(2, length=120)
    assert offered(hourly) == (True, True)
    assert offered(_episodes(2, length=120, integer=True), season=24) == (True, True)
    days = pd.bdate_range("2024-01-01", periods=120)  # business days: a week of five
    assert offered(hourly.assign(ds=np.tile(days, 2))) == (True, True)
    # where a day's cycle pays (the seasonal naive beats the naive on most series), ETS alone
    cycles = hourly.assign(y=50 + 40 * np.sin(2 * np.pi * np.tile(np.arange(120), 2) / 24))
    assert offered(cycles) == (True, False)
    assert offered(cycles, combine_revert=True) == (True, True)
    # a year's season (months, or 12 integer steps) and yearly data: ETS alone
    assert offered(trends(2, length=30)) == (True, False)
    assert offered(_episodes(2, length=120, integer=True), season=12) == (True, False)
    assert offered(_episodes(2, length=120, integer=True)) == (True, False)  # season 1
    # a lone series has no partner; the partners refused refuse it too; given, it is on
    assert offered(_episodes(1, length=120)) == (False, False)
    assert offered(hourly, **ALONE) == (False, False)
    assert offered(hourly, combine_revert=False) == (True, False)
    assert offered(trends(2, length=30), combine_revert=True) == (True, True)
    with pytest.raises(ValueError, match="combine_revert each give the point forecast one"):
        LSTMForecaster(horizon=6, combine_theta=True, combine_revert=True).plan(hourly)
    with pytest.raises(ValueError, match="combine_revert combines the direct head's point"):
        LSTMForecaster(horizon=6, loss="quantile", combine_revert=True).plan(hourly)


def test_the_reversion_as_the_partner_of_hourly_readings(tmp_path):
    data = _episodes(N)
    given = {"combine_revert": True, **ALONE}
    model = LSTMForecaster(horizon=6, max_steps=5, random_state=0, **given).fit(data)
    assert model.partner_ == "revert" and list(model.partner_losses_) == ["revert"]
    assert model.choices_["combine_revert"] and model.choices_["partner"] == "revert"
    share = model.damped_weight_
    assert share >= 0.5, share  # the episodes pass: the network of five steps does not know
    alone = LSTMForecaster(horizon=6, max_steps=5, random_state=0, **ALONE).fit(data)
    network = alone.predict()["LSTM"].to_numpy()
    forecast = model.predict()
    np.testing.assert_allclose(
        forecast["LSTM"].to_numpy(), (1 - share) * network + share * _reversion(data, 6), rtol=1e-5
    )
    model.save(tmp_path / "m.tsrnn")
    loaded = tsrnn.load(tmp_path / "m.tsrnn")
    assert loaded.partner_ == "revert"
    pd.testing.assert_frame_equal(loaded.predict(), forecast)
    # from another history, the reversion is read from it
    shorter = data.groupby("unique_id").head(250)
    expected = (1 - share) * alone.predict(y=shorter)["LSTM"].to_numpy() + share * _reversion(
        shorter, 6
    )
    np.testing.assert_allclose(model.predict(y=shorter)["LSTM"].to_numpy(), expected, rtol=1e-5)


def test_by_default_the_tail_picks_between_ets_and_the_reversion_on_hourly_data(caplog):
    data = _episodes(4)
    with caplog.at_level(logging.INFO, logger="tsrnn.models.neural.forecaster"):
        model = LSTMForecaster(horizon=6, max_steps=5, random_state=0).fit(data)
    losses = model.partner_losses_
    assert set(losses) == {"ets", "revert"}
    assert model.partner_ == min(losses, key=losses.get)
    assert "the validation tail picks" in caplog.text
    assert "of the reversion to the recent median's forecast" in caplog.text
