"""What the network reads: the preprocessor fitted on the training span only, the stored
context, and window normalization that finds its columns by name."""

import numpy as np
import pandas as pd
import pytest
import torch
from panels import make_panel

from tsrnn import Panel
from tsrnn.data.windows import Batch, Windows
from tsrnn.models.neural.preprocess import Preprocessor, WindowNorm


def preprocessor(**changes):
    options = {
        "impute": "ffill",
        "scaler": "standard",
        "season": 12,
        "targets": (),
        "train_on_imputed": False,
        "context_size": 10,
    }
    return Preprocessor(**{**options, **changes})


def test_nothing_after_end_reaches_the_scaling_or_the_inputs_before_it():
    rng = np.random.default_rng(0)
    a = rng.normal(10, 2, size=60)
    b = a.copy()
    b[40:] = 1e6  # a different future
    end = np.array([40])
    pa, pb = (make_panel([s]) for s in (a, b))
    one, two = (preprocessor().fit(p, end).prepare(p, end=end) for p in (pa, pb))
    assert np.allclose(one.scalers[0].loc_, a[:40].mean())
    assert np.array_equal(one.scalers[0].loc_, two.scalers[0].loc_)
    assert np.array_equal(one.spread, two.spread)
    assert np.array_equal(one.panel.values[:40], two.panel.values[:40])


def test_inputs_are_imputed_causally_and_targets_stay_unobserved():
    values = [1.0, 2.0, np.nan, np.nan, 5.0, 6.0]
    panel = make_panel([values])
    prepared = preprocessor(scaler="none").fit(panel, panel.lengths).prepare(panel)
    assert prepared.filled.values.tolist() == [1, 2, 2, 2, 5, 6]  # the last value carried
    assert prepared.filled.observed.tolist() == [True, True, False, False, True, True]
    imputed = preprocessor(scaler="none", train_on_imputed=True).fit(panel, panel.lengths)
    imputed = imputed.prepare(panel)
    assert imputed.filled.observed.all()


def test_the_context_is_each_series_tail_scaled_like_the_whole_series():
    panel = make_panel([np.arange(30.0), np.arange(5.0)])
    pre = preprocessor().fit(panel, panel.lengths)
    pre.remember(panel)
    tail = pre.context.filled
    assert tail.lengths.tolist() == [10, 5]
    assert tail.series_values(0).tolist() == list(range(20, 30))
    assert np.isclose(pre.context.scalers[0].loc_[0], 14.5)  # fitted on all 30 points
    moved = pre.with_context(make_panel([np.arange(40.0), np.arange(8.0)]))
    assert moved.context.filled.series_values(0)[-1] == 39 and pre.context.filled.lengths[0] == 10


def test_the_context_with_the_theta_input_is_the_whole_panel_prepared_then_cut():
    # remember scales the tails alone (not the whole panel's horizon numbers a point): the
    # context is what preparing the whole panel and keeping its tails gave, to the bit
    t = np.arange(72.0)
    rng = np.random.default_rng(1)
    series = [100 + t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, 72), 50 + t[:40]]
    panel = make_panel(series)
    pre = preprocessor(theta_horizon=6, context_size=24).fit(panel, panel.lengths)
    whole = pre.prepare(panel)
    assert whole.filled.covariate_names[-6:] == tuple(f"_theta_{j}" for j in range(1, 7))
    pre.remember(panel)
    context = pre.context
    np.testing.assert_array_equal(context.spread, whole.spread)
    kept = whole.panel.covariates[np.r_[48:72, 72 + 16 : 112]]  # each series' last 24 points
    np.testing.assert_array_equal(context.panel.covariates, kept)
    np.testing.assert_array_equal(context.panel.values, whole.panel.values[np.r_[48:72, 88:112]])


def test_future_covariates_are_standardized_as_in_training():
    frame = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": pd.date_range("2024-01-01", periods=20, freq="D"),
            "y": np.arange(20.0),
            "temp": np.arange(20.0) * 2,
        }
    )
    panel = Panel.from_long(frame, future_covariates=("temp",))
    pre = preprocessor().fit(panel, np.array([10]))  # the first 10 days: 0, 2, ..., 18
    sd = np.arange(0, 20, 2.0).std()
    index = panel.drop_last(2)  # forecasts for the last two days
    values = pre.future_values(frame.tail(2), index, 2, ("temp",), "LSTM")
    assert np.allclose(values.ravel(), (frame.temp.tail(2).to_numpy() - 9) / sd, atol=1e-5)


@pytest.mark.parametrize("method", ["standard", "meanabs"])
def test_window_normalization_reads_its_columns_by_name_not_position(method):
    """The same windows with their feature columns in another order normalize the same."""
    rng = np.random.default_rng(1)
    values = 100 + rng.normal(size=80).cumsum()
    values[[5, 6, 30]] = np.nan
    panel = Panel.from_arrays([values], freq=1)
    windows = Windows(panel, 24, 6, calendar=False)
    names = list(windows.feature_names)
    batch = windows.gather(np.zeros(3, dtype=np.int64), np.array([24, 40, 60]))
    order = list(reversed(range(len(names))))
    shuffled = Batch(batch.x[..., order].clone(), *batch[1:])
    expect = WindowNorm.of(method, names, ())(
        Batch(batch.x.clone(), batch.x_future, batch.y.clone(), *batch[3:]),
        torch.ones(1, 1),
    )
    got = WindowNorm.of(method, [names[i] for i in order], ())(
        Batch(shuffled.x, batch.x_future, batch.y.clone(), *batch[3:]), torch.ones(1, 1)
    )
    assert torch.equal(got[0], expect[0][..., order])
    for a, b in zip(got[1:], expect[1:], strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("scaler", ["standard", "meanabs"])
def test_a_series_at_ten_and_one_at_ten_million_weigh_alike_in_training(air, scaler):
    """Issue 27: training is scale-free. Multiplying one series by 10^7 leaves every other
    series' forecast unchanged and multiplies its own by 10^7: the loss sees each series in
    its own units, as MASE and sMAPE judge them."""
    from tsrnn.models.neural import LSTMForecaster

    other = air.assign(unique_id="B", y=air.y.to_numpy()[::-1] * 0.5 + 30)

    def forecasts(factor):
        data = pd.concat([air, other.assign(y=other.y * factor)], ignore_index=True)
        model = LSTMForecaster(
            horizon=6,
            max_steps=20,
            hidden_size=8,
            num_layers=1,
            scaler=scaler,
            random_state=0,
            combine_ets=False,  # the network's own forecasts, not ETS's fitted by an optimizer
            combine_damped=False,
        )
        out = model.fit(data).predict()
        return [out.loc[out.unique_id == s, "LSTM"].to_numpy() for s in ("AirPassengers", "B")]

    (a1, b1), (a2, b2) = forecasts(1.0), forecasts(1e7)
    np.testing.assert_allclose(a2, a1, rtol=1e-9)
    np.testing.assert_allclose(b2, b1 * 1e7, rtol=1e-9)
