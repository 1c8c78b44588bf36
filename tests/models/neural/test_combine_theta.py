"""The point forecast combined with Theta's forecast from each series' end (``combine_theta``),
where a panel is too large for the Theta input."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

import tsrnn
from tests.panels import trends
from tsrnn.models.neural import LSTMForecaster, params, thetabase
from tsrnn.models.neural.thetabase import theta_ends, theta_paths


def _trends(n_series: int, length: int = 40) -> pd.DataFrame:
    """Seasonal trends of lengths ``length`` to ``length + 9``."""
    return trends(n_series, length, season=0.1, ragged=True)


def test_theta_ends_are_the_last_points_paths_in_blocks_of_any_size(monkeypatch):
    rng = np.random.default_rng(1)
    lengths = rng.integers(5, 80, 40)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    values = 50 + np.cumsum(rng.normal(0, 1, offsets[-1]))
    values[offsets[3] + 2] = np.nan  # a gap: carried, as theta_paths reads it
    every = theta_paths(values, offsets, 12, 6)[offsets[1:] - 1]
    np.testing.assert_allclose(theta_ends(values, offsets, 12, 6), every, rtol=1e-12)
    # from other points, in the same pass: each the path a series cut there would end on
    cuts = np.stack([rng.integers(1, lengths + 1), lengths])
    both = theta_ends(values, offsets, 12, 6, cuts)
    assert both.shape == (2, 40, 6)
    np.testing.assert_allclose(both[1], every, rtol=1e-12)
    cut = np.concatenate([[0], np.cumsum(cuts[0])])
    rows = np.concatenate([np.arange(a, a + n) for a, n in zip(offsets[:-1], cuts[0], strict=True)])
    np.testing.assert_allclose(both[0], theta_ends(values[rows], cut, 12, 6), rtol=1e-12)
    monkeypatch.setattr(thetabase, "CHUNK", 50)  # a block a series or a few
    np.testing.assert_allclose(theta_ends(values, offsets, 12, 6), every, rtol=1e-12)
    np.testing.assert_allclose(theta_ends(values, offsets, 12, 6, cuts), both, rtol=1e-12)
    with pytest.raises(ValueError, match="cuts must be"):
        theta_ends(values, offsets, 12, 6, cuts + 1)  # past the ends


def test_the_default_takes_theta_s_forecast_where_the_theta_input_is_off_by_its_size(
    monkeypatch, caplog
):
    many = _trends(1001, length=20)
    # under the Theta input's size the input is on and no partner is needed
    plan = LSTMForecaster(horizon=6).plan(many)
    assert plan.theta_input and not plan.combine_theta and not plan.combine_ets
    # past it (as M4 Monthly's 48,000 series are) Theta's forecast joins the point forecast
    monkeypatch.setattr(params, "THETA_VALUES", 1000)
    with caplog.at_level(logging.INFO, logger="tsrnn.models.neural.forecaster"):
        plan = LSTMForecaster(horizon=6).plan(many)
    assert not plan.theta_input and plan.combine_theta and not plan.combine_ets
    assert "Theta's forecast from each series' end joins the point forecast" in caplog.text
    # not where the Theta input was turned off, nor within the damped trend's range
    assert not LSTMForecaster(horizon=6, theta_input=False).plan(many).combine_theta
    within = _trends(1000, length=20)
    assert LSTMForecaster(horizon=6).plan(within).combine_ets
    assert not LSTMForecaster(horizon=6).plan(within).combine_theta
    assert not LSTMForecaster(horizon=6, loss="quantile").plan(many).combine_theta
    with pytest.raises(ValueError, match="combine_theta combines the direct head's point"):
        LSTMForecaster(horizon=6, loss="quantile", combine_theta=True).plan(many)
    for local in ("combine_damped", "combine_ets"):
        with pytest.raises(ValueError, match="one partner"):
            LSTMForecaster(horizon=6, combine_theta=True, **{local: True}).plan(within)


def test_the_point_forecast_takes_theta_s_share_fitted_on_the_validation_tail(tmp_path, caplog):
    data = _trends(60)
    kw = {"horizon": 6, "max_steps": 5, "random_state": 0, "theta_input": False}
    kw["combine_damped"] = kw["combine_ets"] = False
    # the seasonal naive values as read: moved to the trends' level, they forecast these
    # seasonal trends well enough that the tail gives Theta no share
    kw["relevel_seasonal"] = False
    with caplog.at_level(logging.INFO, logger="tsrnn.models.neural.forecaster"):
        model = LSTMForecaster(combine_theta=True, **kw).fit(data)
    share = model.damped_weight_
    assert 0.0 < share <= 1.0, share
    assert "the point forecast takes" in caplog.text and "of Theta's forecast" in caplog.text
    assert model.choices_["combine_theta"] and model.choices_["damped_weight"] == share
    alone = LSTMForecaster(combine_theta=False, **kw).fit(data)
    assert alone.damped_weight_ == 0.0
    offsets = np.concatenate([[0], np.cumsum(data.groupby("unique_id").size().to_numpy())])
    theta = theta_ends(data["y"].to_numpy(), offsets, 12, 6).ravel()
    network = alone.predict()["LSTM"].to_numpy()
    forecast = model.predict(quantiles=[0.1, 0.9])
    np.testing.assert_allclose(
        forecast["LSTM"].to_numpy(), (1 - share) * network + share * theta, rtol=1e-5
    )
    assert (forecast["LSTM-q0.1"] < forecast["LSTM"]).all()
    assert (forecast["LSTM"] < forecast["LSTM-q0.9"]).all()
    # other histories get Theta's forecast from their own ends
    shorter = data.groupby("unique_id").head(30)
    cut = np.concatenate([[0], np.cumsum(shorter.groupby("unique_id").size().to_numpy())])
    expected = (1 - share) * alone.predict(y=shorter)["LSTM"].to_numpy() + share * theta_ends(
        shorter["y"].to_numpy(), cut, 12, 6
    ).ravel()
    np.testing.assert_allclose(model.predict(y=shorter)["LSTM"].to_numpy(), expected, rtol=1e-5)
    # saved and loaded with the model
    model.save(tmp_path / "m.tsrnn")
    loaded = tsrnn.load(tmp_path / "m.tsrnn")
    assert loaded.plan_.combine_theta and loaded.damped_weight_ == share
    pd.testing.assert_frame_equal(loaded.predict(quantiles=[0.1, 0.9]), forecast)
