"""The neural estimators: learning on real data, gaps, global use, covariates, several targets,
validation of parameters, determinism and persistence."""

import logging

import numpy as np
import pandas as pd
import pytest
import torch

from tsrnn import DataError, Panel
from tsrnn.models.neural import GRUForecaster, LSTMForecaster, NeuralForecaster, RNNForecaster
from tsrnn.models.neural.training import TrainingError, bf16_supported
from tsrnn.models.stats.naive import SeasonalNaive

TINY = {"hidden_size": 8, "num_layers": 1, "max_steps": 8, "val_every": 4, "batch_size": 32}


def mae(forecast, actual, column):
    joined = forecast.merge(actual, on=["unique_id", "ds"])
    return float(np.nanmean(np.abs(joined[column] - joined.y)))


# ---------------------------------------------------------------------- it learns
BF16_CPU = pytest.mark.skipif(
    not bf16_supported("cpu"),
    reason="this CPU has no bfloat16 LSTM (oneDNN needs AVX512-BF16 or AMX)",
)


@pytest.mark.parametrize("precision", ["fp32", pytest.param("bf16", marks=BF16_CPU)])
def test_lstm_beats_seasonal_naive_on_held_out_beijing_days(beijing, precision):
    """Seven daily origins over the last week, 24 hours each, all 12 stations; in float32 and
    in bfloat16 mixed precision on the CPU."""
    data = beijing[["unique_id", "ds", "y"]]
    cut = data.ds.max() - pd.Timedelta(days=7)
    model = LSTMForecaster(
        horizon=24,
        input_size=72,
        hidden_size=32,
        max_steps=250,
        lr=3e-3,
        batch_size=128,
        precision=precision,
    ).fit(data[data.ds <= cut])
    assert model.plan_.precision == precision
    lstm, naive = [], []
    for day in range(7):
        origin = cut + pd.Timedelta(days=day)
        history = data[data.ds <= origin]
        actual = data[(data.ds > origin) & (data.ds <= origin + pd.Timedelta(hours=24))]
        lstm.append(mae(model.predict(24, y=history), actual, "LSTM"))
        naive.append(mae(SeasonalNaive().fit(history).predict(24), actual, "SeasonalNaive"))
    assert np.mean(lstm) < 0.8 * np.mean(naive), (lstm, naive)


def test_training_history_is_recorded(air):
    model = GRUForecaster(horizon=12, **TINY).fit(air)
    assert list(model.history_.step) == [4, 8]
    assert np.isfinite(model.history_[["loss", "val_loss", "windows_per_s"]].to_numpy()).all()
    assert model.n_windows_["val"] == 1 and model.n_windows_["train"] > 50
    assert model.stop_reason_ == "max_steps"


def test_choices_say_in_one_place_what_fit_resolved_from_the_data(air):
    from sklearn.exceptions import NotFittedError

    model = LSTMForecaster(horizon=12, **TINY)
    with pytest.raises(NotFittedError):
        _ = model.choices_
    model.fit(air)
    made = model.choices_
    assert made["input_size"] == model.plan_.input_size and made["seasons"] == [12]
    assert made["relevel_seasonal"] is True  # monthly data: a year's season
    assert made["steps"] == model.steps_ == 8 and made["best_step"] == model.best_step_
    assert made["budget_steps"] == model.budget_["steps"] == 8
    assert made["lr"] == model.budget_["lr"] and made["nonnegative"] is True  # all positive
    assert made["theta_weight"] == round(model.config_.theta_weight, 6)
    assert made["combine_damped"] is False and made["damped_weight"] == 0.0  # one series


# ---------------------------------------------------------------------- gaps
def test_half_the_values_missing_still_forecasts_the_level(air):
    """Gaps are neither targets nor zero inputs (the loss masks them exactly:
    ``tests/test_losses.py``): forecasts stay at the series' level."""
    gappy = air.copy()
    gappy.loc[np.random.default_rng(0).random(len(air)) < 0.5, "y"] = np.nan
    model = LSTMForecaster(horizon=12, hidden_size=16, max_steps=150, lr=3e-3, val_size=0)
    forecast = model.fit(gappy).predict(12)
    last_year = air.y.iloc[-12:].mean()
    assert abs(forecast.LSTM.mean() - last_year) < 0.25 * last_year


@pytest.mark.parametrize(
    "options",
    [
        {"forecasts_per_window": 24},
        {"naive_inputs": True, "naive_skip": True},
        {"naive_inputs": True, "naive_skip": True, "naive_seasons": [6, 12]},
    ],
)
def test_training_options_of_the_direct_head_learn_the_seasonal_pattern(air, options):
    """Forecasts from every step of each window, and the naive skip, still learn the last
    year of air passengers better than the seasonal naive (MAE 47.8)."""
    train, test = air.iloc[:-12], air.iloc[-12:]
    model = LSTMForecaster(
        horizon=12, input_size=24, hidden_size=16, max_steps=150, lr=3e-3, val_size=0, **options
    )
    forecast = model.fit(train).predict(12)
    assert np.abs(forecast.LSTM.to_numpy() - test.y.to_numpy()).mean() < 40


def test_train_on_imputed_learns_the_filled_values_as_targets(air):
    """Impute-then-train (the usual practice) learns whatever the imputer wrote: zeros in half
    the points pull the forecasts down; the default, trained on observed targets only, keeps
    the level with the same imputer."""
    gappy = air.copy()
    gappy.loc[np.random.default_rng(0).random(len(air)) < 0.5, "y"] = np.nan
    last_year = air.y.iloc[-12:].mean()
    options = {"horizon": 12, "hidden_size": 16, "max_steps": 150, "lr": 3e-3, "val_size": 0}
    # the naive inputs off: they would read the zeros the imputer wrote as the last value
    options |= {"impute": "zero", "window_norm": None, "naive_inputs": False}
    masked = LSTMForecaster(**options).fit(gappy).predict(12)
    imputed = LSTMForecaster(**options, train_on_imputed=True).fit(gappy).predict(12)
    assert abs(masked.LSTM.mean() - last_year) < 0.25 * last_year
    assert imputed.LSTM.mean() < 0.75 * last_year
    with pytest.raises(ValueError, match="train_on_imputed='yes'; pass True or False"):
        LSTMForecaster(horizon=12, train_on_imputed="yes", **TINY).fit(air)


def test_short_series_are_left_padded_not_rejected(air):
    short = air.iloc[:10].assign(unique_id="short")
    model = LSTMForecaster(horizon=6, input_size=36, **TINY).fit(pd.concat([air, short]))
    out = model.predict(6)
    assert out[out.unique_id == "short"].LSTM.notna().all()
    assert len(model.preprocessor_.context.filled.series_values(1)) == 10


def test_too_short_for_any_window_is_a_clear_error(air):
    with pytest.raises(DataError, match="no training window"):
        LSTMForecaster(horizon=12, **TINY).fit(air.iloc[:20])


# ---------------------------------------------------------------------- global use
def test_unseen_series_are_forecast_from_their_own_history(air):
    model = LSTMForecaster(horizon=12, embedding_size=2, **TINY).fit(air)
    other = air.assign(unique_id="Bigger", y=air.y * 1000.0)
    out = model.predict(12, y=other)
    assert out.unique_id.unique().tolist() == ["Bigger"]
    assert out.ds.iloc[0] == pd.Timestamp("1961-01-01")
    same = model.predict(12, y=air.assign(unique_id="Renamed"))
    # scaling is learned from the history given: the forecast scales with the series
    np.testing.assert_allclose(out.LSTM, 1000.0 * same.LSTM, rtol=1e-4)


@pytest.mark.parametrize("window_norm", ["standard", None])
def test_predicting_with_the_training_data_as_y_matches_stored_context(air, window_norm):
    model = LSTMForecaster(horizon=12, window_norm=window_norm, **TINY).fit(air)
    pd.testing.assert_frame_equal(model.predict(12), model.predict(12, y=air))


def test_predict_accepts_fewer_steps_and_the_recursive_head_more(air):
    direct = LSTMForecaster(horizon=12, **TINY).fit(air)
    assert len(direct.predict(5)) == 5
    pd.testing.assert_frame_equal(direct.predict(5), direct.predict(12).iloc[:5])
    with pytest.raises(ValueError, match="at most horizon=12"):
        direct.predict(13)
    recursive = LSTMForecaster(horizon=12, head="recursive", **TINY).fit(air)
    assert len(recursive.predict(30)) == 30


# ---------------------------------------------------------------------- probabilistic output
@pytest.mark.parametrize(
    "options",
    [
        {"loss": "mse"},
        {"loss": "quantile", "quantiles": (0.05, 0.25, 0.75, 0.95)},
        {"loss": "normal"},
        {"loss": "studentt", "head": "recursive", "num_samples": 50},
        {"loss": "negbin", "scaler": "meanabs", "window_norm": "meanabs"},
        {"loss": "negbin", "scaler": "meanabs", "window_norm": None, "head": "recursive"},
    ],
    ids=lambda o: "-".join(str(v) for v in o.values()),
)
def test_quantiles_are_ordered_and_bracket_the_point_forecast(air, options):
    model = LSTMForecaster(horizon=12, **TINY, **options).fit(air)
    out = model.predict(12, quantiles=[0.05, 0.5, 0.95])
    q = out[["LSTM-q0.05", "LSTM-q0.5", "LSTM-q0.95"]].to_numpy()
    assert np.isfinite(q).all() and (np.diff(q, axis=1) >= 0).all()
    assert (q[:, 0] <= out.LSTM).all() and (q[:, 2] >= out.LSTM).all()
    if options["loss"] == "negbin":
        assert (q >= 0).all()


def test_quantile_levels_beyond_the_trained_ones_are_refused(air):
    model = LSTMForecaster(horizon=6, loss="quantile", quantiles=(0.1, 0.9), **TINY).fit(air)
    model.predict(6, quantiles=[0.2, 0.5, 0.7])  # interpolated between trained levels
    with pytest.raises(ValueError, match="outside the trained levels"):
        model.predict(6, quantiles=[0.01])


# ---------------------------------------------------------------------- covariates, targets
def test_future_covariates_need_x_future_covering_the_horizon(beijing):
    data = beijing[beijing.unique_id.isin(["Dongsi", "Tiantan"])]
    cut = data.ds.max() - pd.Timedelta(hours=24)
    model = LSTMForecaster(
        horizon=24, past_covariates=["DEWP", "PRES"], future_covariates=["TEMP"], **TINY
    ).fit(data[data.ds <= cut])
    assert model.feature_names_[3:5] == ("DEWP", "PRES")
    assert model.feature_names_[-1] == "TEMP" and model.future_names_[-1] == "TEMP"
    future = data[data.ds > cut][["unique_id", "ds", "TEMP"]]
    out = model.predict(24, X_future=future)
    assert out.LSTM.notna().all() and len(out) == 48
    with pytest.raises(DataError, match="pass X_future="):
        model.predict(24)
    with pytest.raises(DataError, match="no value for series 'Tiantan'"):
        model.predict(24, X_future=future.iloc[:-1])


def test_covariates_may_come_in_x_instead_of_y(beijing):
    data = beijing[beijing.unique_id.isin(["Dongsi", "Tiantan"])]
    y, X = data[["unique_id", "ds", "y"]], data[["unique_id", "ds", "DEWP"]]
    joined = LSTMForecaster(horizon=24, past_covariates=["DEWP"], **TINY).fit(data).predict(24)
    separate = LSTMForecaster(horizon=24, past_covariates=["DEWP"], **TINY).fit(y, X).predict(24)
    pd.testing.assert_frame_equal(joined, separate)
    with pytest.raises(DataError, match=r"\['DEWP'\] are in both y and X"):
        LSTMForecaster(horizon=24, past_covariates=["DEWP"], **TINY).fit(data, X)


def test_windows_with_too_little_observed_input_are_skipped(air):
    gappy = air.copy()
    gappy.loc[gappy.index % 3 != 0, "y"] = np.nan  # two of every three months missing
    keep_all = LSTMForecaster(horizon=6, min_observed=0.0, **TINY).fit(gappy)
    strict = LSTMForecaster(horizon=6, min_observed=0.5, **TINY).fit(gappy)
    # about a third of each input is observed: only windows near a series' start (where the
    # left padding does not count against them) reach half
    assert 0 < strict.n_windows_["train"] < keep_all.n_windows_["train"] / 4


def test_unknown_covariate_columns_are_named(beijing):
    with pytest.raises(DataError, match=r"\['HUMIDITY'\] are not in the data"):
        LSTMForecaster(horizon=24, past_covariates=["HUMIDITY"], **TINY).fit(beijing)


def test_several_targets_are_forecast_jointly(beijing):
    data = beijing[beijing.unique_id.isin(["Dongsi", "Tiantan"])][["unique_id", "ds", "y", "TEMP"]]
    model = GRUForecaster(horizon=24, targets=["TEMP"], hidden_size=16, max_steps=150, lr=3e-3).fit(
        data
    )
    assert model.config_.n_targets == 2
    out = model.predict(24, quantiles=[0.1, 0.9])
    assert list(out.columns) == [
        "unique_id",
        "ds",
        "GRU",
        "GRU-q0.1",
        "GRU-q0.9",
        "GRU:TEMP",
        "GRU:TEMP-q0.1",
        "GRU:TEMP-q0.9",
    ]
    # each target comes back in its own units: late-February Beijing temperatures, not PM2.5
    recent = data[data.ds > data.ds.max() - pd.Timedelta(days=7)]
    assert recent.TEMP.min() - 10 < out["GRU:TEMP"].mean() < recent.TEMP.max() + 10
    assert abs(out["GRU:TEMP"].mean() - recent.TEMP.mean()) < abs(
        out.GRU.mean() - recent.TEMP.mean()
    )


# ---------------------------------------------------------------------- parameters
@pytest.mark.parametrize(
    "options, message",
    [
        ({}, "pass horizon="),
        ({"horizon": 6, "loss": "rmse"}, "loss='rmse'; choose one of"),
        ({"horizon": 6, "val_size": 3}, "val_size=3 must be 0 or at least horizon=6"),
        ({"horizon": 6, "loss": "negbin"}, "scaler='meanabs'"),
        ({"horizon": 6, "scheduled_sampling": 0.5}, "needs head='recursive'"),
        ({"horizon": 6, "dropout": 1.5}, r"dropout=1.5 must be a number in \[0.0, 0.999\]"),
        ({"horizon": 6, "device": "cpu", "precision": "fp16"}, "fp16' needs a CUDA device"),
        ({"horizon": 6, "precision": "bfloat16"}, "precision='bfloat16'; choose one of"),
        ({"horizon": 6, "hidden_size": 0}, "hidden_size=0 must be an integer >= 1"),
        ({"horizon": 6, "naive_inputs": False, "naive_skip": True}, "needs naive_inputs=True"),
        ({"horizon": 6, "head": "recursive", "naive_skip": True}, "and head='direct'"),
        (
            {"horizon": 6, "naive_inputs": False, "naive_seasons": [12]},
            "naive_seasons needs naive_inputs=True",
        ),
        (
            {"horizon": 6, "naive_inputs": True, "naive_seasons": 12},
            "naive_seasons=12 must be a list of seasons",
        ),
        (
            {"horizon": 6, "naive_inputs": True, "naive_seasons": 24.0},
            "naive_seasons=24.0 must be a list of seasons",
        ),
        (
            {"horizon": 6, "input_size": 24, "naive_inputs": True, "naive_seasons": [12, 36]},
            "input_size=24 is shorter than the season 36 .* at least 36",
        ),
        ({"horizon": 6, "forecasts_per_window": 4, "head": "recursive"}, "needs head='direct'"),
        ({"horizon": 6, "input_size": 12, "forecasts_per_window": 13}, "at most one per step"),
        ({"horizon": 6, "naive_inputs": 1}, "naive_inputs=1; pass True, False or None"),
    ],
)
def test_bad_parameters_are_refused_in_fit_with_the_fix(air, options, message):
    model = LSTMForecaster(**{**TINY, **options})  # __init__ stores; nothing is checked yet
    with pytest.raises(ValueError, match=message):
        model.fit(air)


@pytest.mark.parametrize("field", ["past_covariates", "targets", "quantiles"])
def test_a_string_where_a_list_belongs_is_refused(beijing, field):
    with pytest.raises(ValueError, match=rf"{field}='TEMP' must be a list: \['TEMP'\]"):
        LSTMForecaster(horizon=24, **{field: "TEMP"}, **TINY).fit(beijing)


def test_the_plateau_schedule_needs_validation(air):
    with pytest.raises(ValueError, match="plateau' needs validation"):
        LSTMForecaster(horizon=6, schedule="plateau", val_size=0, **TINY).fit(air)


def test_a_failed_fit_leaves_the_model_unfitted(air):
    from sklearn.exceptions import NotFittedError

    model = LSTMForecaster(horizon=6, **TINY).fit(air)
    with pytest.raises(DataError):
        model.fit(air.iloc[:5])
    with pytest.raises(NotFittedError):
        model.predict(6)


@pytest.mark.skipif(
    torch.cuda.is_available(), reason="checks the message on a machine without CUDA"
)
def test_asking_for_cuda_without_it_says_so(air):
    with pytest.raises(ValueError, match="CUDA is not available"):
        LSTMForecaster(horizon=6, device="cuda", **TINY).fit(air)


def test_negative_values_are_refused_by_the_count_loss(air):
    data = air.assign(y=air.y - 300)
    model = LSTMForecaster(horizon=6, loss="negbin", scaler="meanabs", window_norm=None, **TINY)
    with pytest.raises(DataError, match="needs counts"):
        model.fit(data)


# ---------------------------------------------------------------------- reproducibility
def test_a_seed_repeats_and_another_seed_differs_without_touching_global_rng(air):
    torch.manual_seed(123)
    expected_draw = torch.rand(1)
    torch.manual_seed(123)
    # the network's own forecasts (8 steps leave it behind Theta, which the combination with
    # Theta's forecast would then give for either seed)
    tiny = {**TINY, "theta_input": False}
    a = RNNForecaster(horizon=6, random_state=1, **tiny).fit(air).predict(6)
    assert torch.rand(1) == expected_draw, "fit must not consume the caller's random stream"
    b = RNNForecaster(horizon=6, random_state=1, **tiny).fit(air).predict(6)
    c = RNNForecaster(horizon=6, random_state=2, **tiny).fit(air).predict(6)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a.RNN, c.RNN)


def test_warm_start_continues_from_the_current_weights(air):
    model = LSTMForecaster(horizon=6, **TINY).fit(air)
    before = {k: v.clone() for k, v in model.net_.state_dict().items()}
    model.set_params(warm_start=True, max_steps=1, lr=1e-12).fit(air)
    after = model.net_.state_dict()
    assert all(torch.allclose(before[k], after[k], atol=1e-6) for k in before)
    cold = LSTMForecaster(horizon=6, **{**TINY, "max_steps": 1, "lr": 1e-12}).fit(air)
    assert not all(
        torch.allclose(before[k], v, atol=1e-6) for k, v in cold.net_.state_dict().items()
    )


def test_update_moves_the_origin_keeping_the_weights(air):
    model = LSTMForecaster(horizon=6, **TINY).fit(air.iloc[:120])
    moved = model.update(air)
    assert moved.net_ is model.net_ and moved.ids_.tolist() == model.ids_.tolist()
    pd.testing.assert_frame_equal(moved.predict(6), model.predict(6, y=air))
    assert model.predict(6).ds.iloc[0] == pd.Timestamp("1959-01-01")  # the original unchanged


def test_a_large_level_keeps_its_digits_through_the_float32_network(air):
    # the network computes in float32 on scaled values; de-scaling is float64, so a series
    # near 1e8 is forecast as precisely as the same series near 0
    # (the Theta input's season is multiplicative, so a shifted series is another input to it)
    near_zero = LSTMForecaster(horizon=6, theta_input=False, **TINY).fit(air).predict(6)
    shifted = LSTMForecaster(horizon=6, theta_input=False, **TINY)
    shifted = shifted.fit(air.assign(y=air.y + 1e8)).predict(6)
    assert shifted.LSTM.dtype == np.float64
    np.testing.assert_allclose(shifted.LSTM - 1e8, near_zero.LSTM, atol=1e-4)


def test_forecasting_from_less_history_than_the_input_window_warns(air, caplog):
    model = LSTMForecaster(horizon=6, input_size=48, **TINY).fit(air)
    caplog.set_level(logging.WARNING, logger="tsrnn")
    model.predict(6)
    assert not caplog.records  # every fitted history is long enough
    two = air.iloc[-2:].assign(unique_id="stub")
    out = model.predict(6, y=pd.concat([air, two]))
    assert out.LSTM.notna().all()
    assert "reads the last 48 points of each series (its input size); 1 of 2 series have fewer" in (
        caplog.text
    )
    assert "'stub', 2 points" in caplog.text


def test_predicting_without_the_fitted_covariates_names_them(beijing):
    data = beijing[beijing.unique_id.isin(["Dongsi", "Tiantan"])]
    model = LSTMForecaster(horizon=24, past_covariates=["TEMP"], **TINY).fit(data)
    with pytest.raises(DataError, match=r"the model was fitted with covariates \['TEMP'\]"):
        model.predict(24, y=data.drop(columns="TEMP"))


def test_presets_are_neural_forecasters_with_their_cell():
    for cls, cell in ((LSTMForecaster, "lstm"), (GRUForecaster, "gru"), (RNNForecaster, "rnn")):
        params = cls(horizon=3).get_params()
        assert "cell" not in params and params["horizon"] == 3
        assert cls().cell == cell and cls().name == cell.upper()
    assert NeuralForecaster(cell="gru").get_params()["cell"] == "gru"


# ---------------------------------------------------------------------- progress and Ctrl-C
def test_progress_reaches_the_callback_and_verbose_logs(air, caplog):
    seen = []
    model = LSTMForecaster(horizon=6, verbose=True, callback=seen.append, **TINY)
    with caplog.at_level(logging.INFO, logger="tsrnn"):
        model.fit(air)
    assert [p.step for p in seen] == [4, 8]
    assert "LSTM step 8/8" in caplog.text


def test_ctrl_c_keeps_a_usable_model(air):
    def interrupt(progress):
        if progress.step == 4:
            raise KeyboardInterrupt

    model = LSTMForecaster(horizon=6, callback=interrupt, **{**TINY, "max_steps": 100})
    model.fit(air)
    assert model.stop_reason_ == "interrupted" and model.best_step_ == 4
    assert model.predict(6).LSTM.notna().all()


def test_a_diverging_run_stops_with_the_step(air):
    # An absurd learning rate without clipping overflows the weights within a few steps.
    model = LSTMForecaster(
        horizon=6,
        lr=1e12,
        grad_clip=None,
        schedule="constant",
        scaler="none",
        window_norm=None,
        **TINY,
    )
    with pytest.raises(TrainingError, match=r"non-finite .* at step \d+"):
        model.fit(air.assign(y=air.y * 1e30))


def test_a_window_with_one_observed_point_does_not_blow_up_its_targets():
    """The origin one step into a series sees a single observed value; the window's own
    spread is then zero, and a scale of |value| ~ 1e-5 would inflate its targets 1e5-fold."""
    t = np.arange(300)
    values = np.sin(2 * np.pi * t / 12).astype(np.float64)
    values[0] = 1e-5
    panel = Panel.from_arrays([values])
    model = LSTMForecaster(
        horizon=6,
        input_size=24,
        max_steps=1,
        val_every=1,
        val_size=0,
        batch_size=4096,
        scaler="none",
        hidden_size=8,
    )
    model.fit(panel)
    assert model.history_.loss.iloc[0] < 100


@pytest.mark.parametrize("loss", ["mae", "quantile"])
def test_a_constant_series_is_forecast_as_its_constant(loss):
    """A series that holds one number gets that number back, with intervals of no width, as
    every statistical model gives it: at 0, at 100 and at a million, with gaps, and from a
    new history. Before, its windows fell back on a unit spread, and the network's output
    moved its forecasts by a few per cent of the level. A series that leaves its number in
    its validation tail keeps a unit spread, so its validation errors stay of the usual size."""
    rng = np.random.default_rng(0)
    days = pd.date_range("2024-01-01", periods=120, freq="D")
    gappy = np.full(120, 3.0)
    gappy[[10, 11, 50]] = np.nan
    starts = np.full(120, 5.0)
    starts[-5:] = [6.0, 8.0, 7.0, 9.0, 12.0]  # in the validation tail (horizon 7)
    columns = {f"walk{i}": 50 + np.cumsum(rng.normal(0, 1, 120)) for i in range(6)}
    columns |= {"zero": np.zeros(120), "hundred": np.full(120, 100.0), "million": np.full(120, 1e6)}
    columns |= {"gappy": gappy, "starts": starts}
    frame = pd.concat(
        [pd.DataFrame({"unique_id": k, "ds": days, "y": v}) for k, v in columns.items()]
    )
    model = LSTMForecaster(horizon=7, loss=loss, random_state=0, **TINY).fit(frame)
    out = model.predict(7, level=[80]).set_index("unique_id")
    for name, value in [("zero", 0.0), ("hundred", 100.0), ("million", 1e6), ("gappy", 3.0)]:
        for column in ("LSTM", "LSTM-lo-80", "LSTM-hi-80"):
            np.testing.assert_allclose(out.loc[name, column], value, rtol=1e-9, atol=1e-9)
    walks = out.loc[out.index.str.startswith("walk")]
    assert (walks["LSTM-hi-80"] - walks["LSTM-lo-80"]).min() > 0.1  # the others keep theirs
    assert model.history_.val_loss.dropna().max() < 100
    new = frame[frame.unique_id == "walk0"].assign(unique_id="new", y=42.0)
    again = model.predict(7, y=new)
    np.testing.assert_allclose(again.LSTM, 42.0, rtol=1e-9)


def test_every_parameter_has_a_rule_in_the_table():
    """A parameter missing from neural_params.PARAMETERS would go unchecked in fit."""
    from tsrnn.models.neural.params import PARAMETERS

    assert set(PARAMETERS) == set(NeuralForecaster().get_params())
    assert set(PARAMETERS) - {"cell"} == set(LSTMForecaster().get_params())


# ---------------------------------------------------------------------- non-negative data
def test_forecasts_of_non_negative_data_stay_non_negative_unless_told(air):
    """Counts with many zeros: the intervals of an untrained-enough network reach below 0;
    the default keeps every forecast and quantile at or above 0, since the data never goes
    below it (the data report says so), and ``nonnegative=False`` leaves them as they are."""
    rng = np.random.default_rng(0)
    counts = air.assign(y=np.where(rng.random(len(air)) < 0.6, 0.0, rng.poisson(3, len(air))))
    options = {"horizon": 12, **TINY}
    levels = [0.05, 0.5, 0.95]
    clipped = LSTMForecaster(**options).fit(counts)
    assert clipped.nonnegative_ == (True,)
    raw = LSTMForecaster(**options, nonnegative=False).fit(counts)
    assert raw.nonnegative_ == (False,)
    low = raw.predict(12, quantiles=levels)["LSTM-q0.05"]
    assert (low < 0).any()  # what the network gives
    out = clipped.predict(12, quantiles=levels)
    values = out[["LSTM", "LSTM-q0.05", "LSTM-q0.5", "LSTM-q0.95"]].to_numpy()
    assert (values >= 0).all() and (np.diff(values[:, 1:], axis=1) >= 0).all()
    assert np.array_equal(out["LSTM-q0.05"], np.maximum(low, 0.0))  # clipped, nothing else
    below = counts.assign(y=counts.y - 1.0)  # one observed value below 0 is enough
    assert LSTMForecaster(**options).fit(below).nonnegative_ == (False,)
    with pytest.raises(ValueError, match="nonnegative='yes'; pass True, False or None"):
        LSTMForecaster(**options, nonnegative="yes").fit(counts)
