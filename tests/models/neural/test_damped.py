"""The point forecast combined with each series' damped-trend forecast (``combine_damped``)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

import tsrnn
from tests.panels import trends
from tsrnn.models.neural import LSTMForecaster
from tsrnn.models.stats.smoothing import Damped


def _damped(history: pd.DataFrame, h: int) -> np.ndarray:
    return Damped(season=12).fit(history).predict(h)["Damped"].to_numpy()


def test_the_point_forecast_takes_the_damped_trends_share_fitted_on_the_validation_tail(
    tmp_path, caplog
):
    data = trends(100)
    with caplog.at_level(logging.INFO, logger="tsrnn.models.neural.forecaster"):
        model = LSTMForecaster(horizon=6, max_steps=5, random_state=0).fit(data)
    assert model.plan_.combine_damped  # on by default for 100 series
    share = model.damped_weight_
    assert share >= 0.5, share  # the trends: the damped trend's forecast is the better one
    assert "of the damped trend's" in caplog.text
    assert model.damped_forecast_.shape == (100, 6)
    # the point forecast is the share's mix of the network's and the damped trend's
    alone = LSTMForecaster(horizon=6, max_steps=5, random_state=0, combine_damped=False).fit(data)
    assert alone.damped_weight_ == 0.0 and alone.damped_forecast_ is None
    damped = _damped(data, 6)
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
    assert loaded.damped_weight_ == share
    pd.testing.assert_frame_equal(loaded.predict(quantiles=[0.1, 0.9]), forecast)


def test_forecasts_from_other_histories_refit_the_damped_trend_on_them():
    data = trends(100)
    model = LSTMForecaster(horizon=6, max_steps=5, random_state=0).fit(data)
    alone = LSTMForecaster(horizon=6, max_steps=5, random_state=0, combine_damped=False)
    alone.fit(data)
    shorter = data.groupby("unique_id").head(30)
    share = model.damped_weight_
    expected = (1 - share) * alone.predict(y=shorter)["LSTM"].to_numpy() + share * _damped(
        shorter, 6
    )
    got = model.predict(y=shorter)
    np.testing.assert_allclose(got["LSTM"].to_numpy(), expected, rtol=1e-5)
    # nothing after a cutoff reaches its forecast: the backtest's windows alike
    ends = np.array([[28] * 100, [34] * 100])
    windows = model.predict_windows(data, ends, h=6)
    first = windows[windows["window"] == 0]
    cut = data.groupby("unique_id").head(28)
    np.testing.assert_allclose(
        first["LSTM"].to_numpy(), model.predict(y=cut)["LSTM"].to_numpy(), rtol=1e-5
    )


def test_the_default_combines_panels_of_50_to_1000_series_with_a_point_loss():
    few = trends(49, length=30)
    assert not LSTMForecaster(horizon=6).plan(few).combine_damped
    assert LSTMForecaster(horizon=6, combine_damped=True).plan(few).combine_damped
    many = trends(50, length=30)
    assert LSTMForecaster(horizon=6).plan(many).combine_damped
    assert not LSTMForecaster(horizon=6).plan(trends(1001, length=20)).combine_damped
    assert not LSTMForecaster(horizon=6, combine_damped=False).plan(many).combine_damped
    assert not LSTMForecaster(horizon=6, loss="quantile").plan(many).combine_damped
    with pytest.raises(ValueError, match="combine_damped combines the direct head's point"):
        LSTMForecaster(horizon=6, loss="quantile", combine_damped=True).plan(many)
    with pytest.raises(ValueError, match="combine_damped"):
        LSTMForecaster(horizon=6, head="recursive", combine_damped=True).plan(many)


def test_series_too_short_for_a_damped_trend_are_said_once_as_this_models(caplog):
    data = trends(100, length=30)
    short = data[data["unique_id"] == "s000"].head(9)  # 3 points before its validation tail
    data = pd.concat([short, data[data["unique_id"] != "s000"]], ignore_index=True)
    with caplog.at_level(logging.INFO):
        model = LSTMForecaster(horizon=6, max_steps=5, combine_damped=True).fit(data)
    assert "Damped fell back" not in caplog.text  # the statistical model's own warning
    assert "LSTM: the damped trend took the naive forecast on 1 of 100 series (s000" in caplog.text
    assert np.isfinite(model.predict()["LSTM"]).all()
