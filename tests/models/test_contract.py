"""The contract every tsrnn forecaster keeps (scikit-learn conventions, long-format output)."""

import inspect

import numpy as np
import pandas as pd
import pytest
from panels import ragged_air
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import tsrnn
from tsrnn import datasets, registry
from tsrnn.models.neural import GRUForecaster, NeuralForecaster, RNNForecaster
from tsrnn.models.stats import SeasonalNaive

H = 6
SMALL_NET = {
    "horizon": H,
    "hidden_size": 8,
    "num_layers": 1,
    "max_steps": 6,
    "val_every": 3,
    "batch_size": 32,
}
# Per registry name, what keeps the suite fast (the networks small, ARIMA's search short).
SMALL = {
    "lstm": SMALL_NET,
    "gru": SMALL_NET,
    "rnn": SMALL_NET,
    "neural": SMALL_NET,
    "window_mean": {"window": 6},
    "arima": {"max_p": 2, "max_q": 2, "max_P": 1, "max_Q": 1},
    "ensemble": {"models": [RNNForecaster(**SMALL_NET), SeasonalNaive()]},
}


def registered() -> list[tuple[str, object]]:
    """Every model the registry names, built through it (the wrapper around a baseline)."""
    out = []
    for e in registry.REGISTRY:
        if e.name == "conformal":
            model = e.cls()(SeasonalNaive(), horizon=H, n_windows=10, levels=(80,))
        else:
            model = registry.build(e.name, SMALL.get(e.name))
        out.append((e.name, model))
    return out


# The registry's models, then options that take other paths through the network.
CASES = registered() + [
    ("gru-quantile", GRUForecaster(**SMALL_NET, loss="quantile")),
    (
        "rnn-recursive-normal",
        RNNForecaster(**SMALL_NET, head="recursive", loss="normal", num_samples=20),
    ),
    (
        "neural-studentt-embedding",
        NeuralForecaster(cell="gru", **SMALL_NET, loss="studentt", embedding_size=2),
    ),
]
IDS = [name for name, _ in CASES]
FORECASTERS = [model for _, model in CASES]
# Models whose fitted state a model file cannot hold (statsmodels fits, a wrapped model).
UNSAVED = ("ses", "holt", "damped", "comb", "theta", "arima", "conformal")


def test_the_suite_covers_every_registered_model():
    assert {e.name for e in registry.REGISTRY} <= set(IDS)


@pytest.fixture(scope="module")
def data():
    """Two ragged monthly series, one with a gap: air passengers and a shorter, later copy."""
    return ragged_air()


@pytest.mark.parametrize("model", FORECASTERS, ids=IDS)
def test_init_stores_parameters_and_clone_round_trips(model):
    params = model.get_params(deep=False)
    assert set(vars(model)) == set(params), "__init__ must only store its parameters"
    signature = inspect.signature(type(model).__init__)
    assert all(
        p.kind is p.KEYWORD_ONLY
        for name, p in signature.parameters.items()
        if name not in ("self", "model", "models")  # a wrapper takes what it wraps first
    ), "parameters are keyword-only"
    twin = clone(model)
    assert plain(twin) == plain(model) and twin is not model
    assert plain(twin.set_params(**params)) == plain(model)


def plain(model) -> dict:
    """A model's parameters, a wrapped model (or an ensemble's members) as its class and
    parameters (a clone is a new object, equal in these)."""

    def value(v):
        if isinstance(v, list | tuple):
            return [value(m) for m in v]
        return (type(v).__name__, plain(v)) if hasattr(v, "get_params") else v

    return {k: value(v) for k, v in model.get_params(deep=False).items()}


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


@pytest.mark.parametrize("name, model", CASES, ids=IDS)
def test_a_saved_model_loads_back_and_forecasts_the_same(name, model, data, tmp_path):
    est = clone(model).fit(data)
    path = tmp_path / "model.tsrnn"
    if name in UNSAVED:
        with pytest.raises(TypeError, match="cannot"):
            est.save(path)
        assert not path.exists()
        return
    est.save(path)
    loaded = tsrnn.load(path)
    assert type(loaded) is type(est) and plain(loaded) == plain(est)
    quantiles = [0.1, 0.9] if est.supports_quantiles else None
    pd.testing.assert_frame_equal(
        loaded.predict(H, quantiles=quantiles), est.predict(H, quantiles=quantiles)
    )


@pytest.mark.parametrize("model", FORECASTERS, ids=IDS)
def test_forecasting_requests_are_checked_once_by_the_template(model, data):
    """Every model refuses the same bad requests with the same words, before any work."""
    est = clone(model).fit(data)
    name = est.name
    with pytest.raises(ValueError, match=f"{name}: horizon h must be a positive integer, got 0"):
        est.predict(0)
    with pytest.raises(ValueError, match="quantiles must be distinct and strictly between 0"):
        est.predict(H, quantiles=[0.5, 1.5])
    ends = np.array([[144, 84]])  # both series' whole length: no room for the h steps after
    with pytest.raises(ValueError, match=f"{name}: every window needs ends \\+ h <= the series"):
        est.predict_windows(data, ends, H)
    with pytest.raises(ValueError, match=r"ends \(and starts\) must have shape \(n_windows, 2\)"):
        est.predict_windows(data, np.array([100, 50]), H)
