"""Each series' relative spread as a network input (``spread_input``): measured in fit on the
training span only, kept with the model, and measured on its own history for a series the
network never saw."""

import numpy as np
import pandas as pd
import pytest

from tsrnn import load
from tsrnn.data.panel import as_panel
from tsrnn.models.neural import LSTMForecaster
from tsrnn.models.neural.inputs import SpreadInputs, series_weights

T, H, L = 48, 4, 8
NET = {
    "horizon": H,
    "input_size": L,
    "hidden_size": 8,
    "max_steps": 30,
    "season": 1,
    "random_state": 0,
    "spread_input": True,
}


def series(name, level, noise, seed, n=T):
    """A series around ``level`` moving by about ``noise`` each step."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "unique_id": name,
            "ds": pd.date_range("2020-01-01", periods=n, freq="D"),
            "y": level + rng.normal(0, noise, n),
        }
    )


@pytest.fixture(scope="module")
def data():
    # smooth (1 % of the level) to wild (50 %): the input tells them apart
    return pd.concat(
        [series(f"s{i}", 100.0, noise, i) for i, noise in enumerate([1, 2, 5, 10, 20, 50])],
        ignore_index=True,
    )


@pytest.fixture(scope="module")
def fitted(data):
    return LSTMForecaster(**NET).fit(data)


def test_the_input_is_the_standardized_log_spread_of_the_training_span(data, fitted):
    spread = fitted.spread_inputs_
    assert "relative_spread" in fitted.feature_names_
    assert "relative_spread" in fitted.future_names_  # the head's steps read it too
    panel = as_panel(data)
    # measured before the validation tail: nothing the early stopping judges on
    train_end = panel.lengths - fitted.plan_.val_size
    logs = np.log(series_weights(panel, train_end, (), L))[:, 0]
    expected = (logs - logs.mean()) / logs.std()
    np.testing.assert_allclose(spread.values(panel)[:, 0], expected, rtol=1e-5, atol=1e-6)
    assert list(np.argsort(spread.values(panel)[:, 0])) == list(range(6))  # smooth to wild


def test_off_by_choice(data):
    model = LSTMForecaster(**{**NET, "spread_input": False}).fit(data)
    assert model.spread_inputs_ is None
    assert "relative_spread" not in model.feature_names_
    on = LSTMForecaster(**NET, relative_loss=False).fit(data)  # the input without the weight
    assert on.spread_inputs_ is not None


def test_an_unseen_series_is_measured_on_its_whole_history_not_its_tail(data, fitted):
    new = series("new", 1000.0, 800.0, 7, n=3 * T)
    forecast = fitted.predict(y=new)
    assert len(forecast) == H and np.isfinite(forecast.LSTM).all()
    updated = fitted.update(new)
    panel = as_panel(new)
    logs = np.log(series_weights(panel, panel.lengths, (), L))[0, 0]
    spread = fitted.spread_inputs_
    expected = (logs - spread.loc[0]) / spread.scale[0]
    got = updated.spread_inputs_.values(panel)[0, 0]
    assert got == pytest.approx(expected, rel=1e-5)
    assert got > spread.table[:, 0].max()  # wilder than every fitted series
    assert fitted.spread_inputs_.ids == spread.ids  # the fitted model is left as it was


def test_a_fitted_series_keeps_its_input_and_scaling_it_changes_nothing(data, fitted):
    spread = fitted.spread_inputs_
    scaled = data.assign(y=data.y * 1000.0, unique_id=data.unique_id + "_k")
    panel = as_panel(data)
    renamed = as_panel(scaled)
    before = spread.values(panel)
    # unseen under new names, measured on the same span as in fit: the same numbers
    train_end = panel.lengths - fitted.plan_.val_size
    np.testing.assert_allclose(spread.values(renamed, train_end), before, rtol=1e-4, atol=1e-5)
    later = as_panel(data.assign(y=np.where(data.ds > data.ds.min() + pd.Timedelta("30D"), 0, 1)))
    np.testing.assert_array_equal(spread.values(later), before)  # kept, as an embedding is


def test_a_backtest_measures_an_unseen_series_before_its_first_cutoff(data):
    spread = LSTMForecaster(**NET).fit(data).spread_inputs_
    new = as_panel(series("new", 100.0, 5.0, 9))
    cutoff = np.array([30])
    early = spread.values(new, cutoff)
    wild = as_panel(
        pd.concat([series("new", 100.0, 5.0, 9, n=30), series("new", 100.0, 90.0, 3, n=T)[30:]])
    )
    np.testing.assert_array_equal(spread.values(wild, cutoff), early)  # the future unseen
    assert spread.values(wild)[0, 0] > early[0, 0]


def test_a_saved_model_keeps_the_inputs(data, fitted, tmp_path):
    new = series("new", 50.0, 20.0, 11)
    updated = fitted.update(new)
    path = tmp_path / "model.pt"
    updated.save(path)
    loaded = load(path)
    assert loaded.spread_inputs_.ids == updated.spread_inputs_.ids  # the new series too
    np.testing.assert_array_equal(loaded.spread_inputs_.table, updated.spread_inputs_.table)
    pd.testing.assert_frame_equal(loaded.predict(), updated.predict())


def test_state_round_trip():
    spread = SpreadInputs(
        ("load",), 8, np.array([0.1, 0.2]), np.array([1.0, 2.0]), ("a",), np.array([[1.0, 2.0]])
    )
    back = SpreadInputs.from_state(spread.to_state())
    assert back.names == ("relative_spread", "load_relative_spread")
    assert back.ids == ("a",) and back.window == 8
    np.testing.assert_array_equal(back.table, spread.table)


def test_one_series_alone_trains_exactly_as_without_the_input(data):
    one = data[data.unique_id == "s2"]
    with_input = LSTMForecaster(**NET).fit(one)
    without = LSTMForecaster(**{**NET, "spread_input": False}).fit(one)
    assert with_input.spread_inputs_ is None
    assert with_input.feature_names_ == without.feature_names_
    pd.testing.assert_frame_equal(with_input.predict(), without.predict())
