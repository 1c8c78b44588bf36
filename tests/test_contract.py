"""The contract every tsrnn forecaster keeps (scikit-learn conventions, long-format output)."""

import inspect

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from tsrnn import datasets
from tsrnn.models.neural import GRUForecaster, LSTMForecaster, NeuralForecaster, RNNForecaster
from tsrnn.models.stats.arima import ARIMA
from tsrnn.models.stats.naive import (
    Drift,
    HistoricAverage,
    Naive,
    Naive2,
    SeasonalNaive,
    WindowAverage,
)
from tsrnn.models.stats.smoothing import ETS, SES, Comb, Damped, Holt, Theta

SMALL_NET = {
    "horizon": 6,
    "hidden_size": 8,
    "num_layers": 1,
    "max_steps": 6,
    "val_every": 3,
    "batch_size": 32,
}

FORECASTERS = [
    Naive(),
    SeasonalNaive(),
    Drift(),
    HistoricAverage(),
    WindowAverage(window=6),
    Naive2(),
    SES(),
    Holt(),
    Damped(),
    Comb(),
    Theta(),
    ETS(),
    ARIMA(max_p=2, max_q=2, max_P=1, max_Q=1),
    LSTMForecaster(**SMALL_NET),
    GRUForecaster(**SMALL_NET, loss="quantile"),
    RNNForecaster(**SMALL_NET, head="recursive", loss="normal", num_samples=20),
    NeuralForecaster(cell="gru", **SMALL_NET, loss="studentt", embedding_size=2),
]
IDS = [type(f).__name__ for f in FORECASTERS]
IDS[-4:] = ["LSTM", "GRU-quantile", "RNN-recursive-normal", "Neural-studentt-embedding"]
H = 6


@pytest.fixture(scope="module")
def data():
    """Two ragged monthly series, one with a gap: air passengers and a shorter, later copy."""
    air = datasets.load("air_passengers")
    tail = air.iloc[60:].assign(unique_id="Later", y=lambda d: d.y * 0.5 + 10)
    tail.loc[tail.index[20:23], "y"] = np.nan
    return pd.concat([air, tail], ignore_index=True)


@pytest.mark.parametrize("model", FORECASTERS, ids=IDS)
def test_init_stores_parameters_and_clone_round_trips(model):
    params = model.get_params()
    assert set(vars(model)) == set(params), "__init__ must only store its parameters"
    signature = inspect.signature(type(model).__init__)
    assert all(
        p.kind is p.KEYWORD_ONLY for name, p in signature.parameters.items() if name != "self"
    ), "parameters are keyword-only"
    twin = clone(model)
    assert twin.get_params() == params and twin is not model
    assert twin.set_params(**params).get_params() == params


@pytest.mark.parametrize("model", FORECASTERS, ids=IDS)
def test_predict_before_fit_raises_not_fitted(model):
    with pytest.raises(NotFittedError):
        clone(model).predict(H)


@pytest.mark.parametrize("model", FORECASTERS, ids=IDS)
def test_fit_returns_self_and_predicts_long_format(model, data):
    est = clone(model)
    assert est.fit(data) is est
    assert all(not k.startswith("_") for k in vars(est))
    learned = [k for k in vars(est) if k not in est.get_params()]
    assert learned and all(k.endswith("_") for k in learned)
    quantiles = [0.1, 0.5, 0.9] if est.supports_quantiles else None
    out = est.predict(H, quantiles=quantiles)
    name = est.name
    expected_cols = ["unique_id", "ds", name]
    if quantiles:
        expected_cols += [f"{name}-q0.1", f"{name}-q0.5", f"{name}-q0.9"]
    assert list(out.columns) == expected_cols
    assert len(out) == 2 * H and out[name].notna().all()
    later = out[out.unique_id == "Later"]
    assert later.ds.iloc[0] == pd.Timestamp("1961-01-01")
    assert (later.ds.diff().dropna() > pd.Timedelta(0)).all()
    if quantiles:
        q = out[[f"{name}-q0.1", f"{name}-q0.5", f"{name}-q0.9"]].to_numpy()
        assert (np.diff(q, axis=1) >= 0).all(), "quantiles cross"


@pytest.mark.parametrize("model", FORECASTERS, ids=IDS)
def test_same_data_same_forecasts(model, data):
    a = clone(model).fit(data).predict(H)
    b = clone(model).fit(data).predict(H)
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("model", FORECASTERS, ids=IDS)
def test_wide_frame_and_series_inputs(model, data):
    air = datasets.load("air_passengers")
    series = air.set_index("ds")["y"].rename("AirPassengers")
    from_long = clone(model).fit(air).predict(H)
    from_series = clone(model).fit(series).predict(H)
    from_wide = clone(model).fit(series.to_frame()).predict(H)
    pd.testing.assert_frame_equal(from_long, from_series)
    pd.testing.assert_frame_equal(from_long, from_wide)


@pytest.mark.parametrize("model", FORECASTERS, ids=IDS)
def test_update_with_the_fitted_data_changes_nothing(model, data):
    est = clone(model).fit(data)
    pd.testing.assert_frame_equal(est.update(data).predict(H), est.predict(H))
