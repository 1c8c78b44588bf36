"""Backtests: cutoffs where they belong, each refit policy, and no leakage from after a cutoff."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from tsrnn import DataError, Panel, datasets
from tsrnn.evaluate.backtest import backtest
from tsrnn.models.neural import LSTMForecaster
from tsrnn.models.stats.arima import ARIMA
from tsrnn.models.stats.naive import HistoricAverage, Naive, SeasonalNaive
from tsrnn.models.stats.smoothing import ETS, SES

TINY = {
    "hidden_size": 8,
    "num_layers": 1,
    "max_steps": 6,
    "val_every": 3,
    "batch_size": 32,
    "val_size": 0,
}


@pytest.fixture(scope="module")
def ragged():
    """Two integer-time series of different lengths and starts: values are their positions."""
    return Panel.from_arrays(
        [np.arange(30.0), 100 + np.arange(20.0)], ids=["long", "short"], starts=[0, 5]
    )


def test_cutoffs_count_back_from_each_series_end(ragged):
    result = backtest(Naive(), ragged, horizon=3, n_windows=3, step=2)
    fc = result.forecasts
    cutoffs = fc.groupby(["unique_id", "window"]).cutoff.first()
    # long: 30 points at times 0..29, windows end before 30-3-4, 30-3-2, 30-3
    assert cutoffs["long"].tolist() == [22, 24, 26]
    # short: 20 points at times 5..24
    assert cutoffs["short"].tolist() == [5 + 12, 5 + 14, 5 + 16]
    # Naive repeats the last value seen: the position of the cutoff
    first = fc.groupby(["unique_id", "window"]).first()
    assert first.loc["long"].Naive.tolist() == [22.0, 24.0, 26.0]
    assert (fc.ds - fc.cutoff).between(1, 3).all()
    assert (
        fc.y.notna().all() and (fc.y == fc.ds - np.where(fc.unique_id == "long", 0, 5 - 100)).all()
    )


def test_sliding_windows_train_on_the_last_points_only(ragged):
    result = backtest(
        HistoricAverage(), ragged, horizon=2, n_windows=2, window="sliding", window_size=4
    )
    long = result.forecasts[result.forecasts.unique_id == "long"].groupby("window").first()
    # the mean of the 4 points before each cutoff (positions 22..25, then 24..27)
    assert long.HistoricAverage.tolist() == [23.5, 25.5]


def test_series_too_short_for_a_window_are_reported_not_dropped(ragged):
    result = backtest(Naive(), ragged, horizon=5, n_windows=4, min_train=6)
    skipped = result.skipped
    # short: 20 points, cutoffs after 0, 5, 10 and 15 of them
    assert skipped.unique_id.tolist() == ["short", "short"] and skipped.window.tolist() == [0, 1]
    assert skipped.reason.tolist() == [
        "0 points before the cutoff, 6 needed",
        "5 points before the cutoff, 6 needed",
    ]
    assert set(result.forecasts[result.forecasts.unique_id == "short"].window) == {2, 3}
    with pytest.raises(DataError, match="no series has 100 points"):
        backtest(Naive(), ragged, horizon=5, min_train=100)


@pytest.mark.parametrize("refit, fits", [(True, 5), (False, 1), (2, 3)])
def test_refit_policies_fit_as_often_as_asked(refit, fits):
    air = datasets.load("air_passengers")
    lstm = LSTMForecaster(horizon=6, num_threads=1, **TINY)
    result = backtest(lstm, air, horizon=6, n_windows=5, refit=refit)
    timing = result.timings.set_index("model").loc["LSTM"]
    assert timing.fits == fits and timing.threads == 1  # the threads the fits trained on
    assert result.forecasts.LSTM.notna().all() and result.forecasts.window.nunique() == 5


@pytest.mark.parametrize(
    "model", [SES(), ETS(model="AAN"), ARIMA(max_p=1, max_q=1)], ids=["SES", "ETS", "ARIMA"]
)
def test_statistical_models_move_their_origin_keeping_their_estimates(model):
    """Without refitting, window k forecasts with the first fit's parameters run on over the
    data before cutoff k: equal to update(history).predict, unlike a refit."""
    air = datasets.load("air_passengers")
    kept = backtest(model, air, horizon=6, n_windows=3, refit=False).forecasts
    refit = backtest(model, air, horizon=6, n_windows=3, refit=True).forecasts
    fitted = clone(model).fit(air.iloc[:126])
    moved = fitted.update(air.iloc[:138]).predict(6)
    name = model.name
    np.testing.assert_allclose(kept[kept.window == 2][name], moved[name], rtol=1e-9)
    np.testing.assert_allclose(kept[kept.window == 0][name], refit[refit.window == 0][name])
    assert not np.allclose(kept[kept.window == 2][name], refit[refit.window == 2][name])


@pytest.mark.parametrize(
    "model, refit",
    [
        (SeasonalNaive(), True),
        (ETS(model="AAN"), False),
        (LSTMForecaster(horizon=6, **TINY), True),
        (LSTMForecaster(horizon=6, **TINY), False),
    ],
    ids=["SeasonalNaive", "ETS-no-refit", "LSTM-refit", "LSTM-no-refit"],
)
def test_nothing_after_a_cutoff_reaches_its_forecasts(model, refit):
    """Garbage after the cutoff of window 1 leaves windows 0 and 1 exactly as they were."""
    air = datasets.load("air_passengers")
    later = air.assign(unique_id="Later", y=air.y * 0.5 + 10).iloc[40:]
    data = pd.concat([air, later], ignore_index=True)
    args = {"horizon": 6, "n_windows": 3, "refit": refit}
    clean = backtest(model, data, **args).forecasts
    cutoffs = clean[clean.window == 1].groupby("unique_id").cutoff.first()
    poisoned = data.copy()
    after = poisoned.ds > poisoned.unique_id.map(cutoffs)
    poisoned.loc[after, "y"] = np.random.default_rng(0).normal(1e6, 1e5, after.sum())
    dirty = backtest(model, poisoned, **args).forecasts
    name = model.name
    keep = clean.window <= 1
    pd.testing.assert_series_equal(clean[keep][name], dirty[dirty.window <= 1][name])
    assert not np.allclose(clean[~keep].y, dirty[dirty.window == 2].y)


def test_metrics_equal_the_hand_computed_ones():
    air = datasets.load("air_passengers")
    result = backtest([Naive(), SeasonalNaive()], air, horizon=12, n_windows=3)
    fc = result.forecasts
    by_window = (fc.Naive - fc.y).abs().groupby(fc.window).mean()
    scores = result.metrics(["mae", "rmse"], by=None).set_index("model")
    assert scores.loc["Naive", "mae"] == pytest.approx(by_window.mean())
    rmse = ((fc.SeasonalNaive - fc.y) ** 2).groupby(fc.window).mean() ** 0.5
    assert scores.loc["SeasonalNaive", "rmse"] == pytest.approx(rmse.mean())
    board = result.leaderboard("mae", reference="Naive")
    assert board.model.tolist() == ["SeasonalNaive", "Naive"] and board.skill.iloc[1] == 0.0
    assert board.skill.iloc[0] == pytest.approx(1 - board.mae.iloc[0] / board.mae.iloc[1])


def test_the_season_of_mase_can_be_set_for_integer_time_steps():
    """M4 Hourly comes with integer time steps: MASE's seasonal naive needs season=24 given."""
    air = datasets.load("air_passengers")
    steps = air.assign(ds=np.arange(len(air)))
    result = backtest([Naive()], steps, horizon=12, n_windows=2, season=12)
    insample = air.y.iloc[:-24].to_numpy()
    fc = result.forecasts
    scale = np.mean(np.abs(insample[12:] - insample[:-12]))
    by_window = ((fc.Naive - fc.y).abs() / scale).groupby(fc.window).mean()
    assert result.metrics(["mase"]).mase.iloc[0] == pytest.approx(by_window.mean())
    plain = backtest([Naive()], steps, horizon=12, n_windows=2).metrics(["mase"]).mase.iloc[0]
    assert plain != pytest.approx(by_window.mean())


def test_models_are_named_by_dict_and_duplicates_refused():
    air = datasets.load("air_passengers")
    result = backtest(
        {"last": Naive(), "season": SeasonalNaive()}, air, horizon=6, quantiles=[0.1, 0.9]
    )
    assert {"last", "last-q0.1", "last-q0.9", "season", "season-q0.9"} <= set(result.forecasts)
    with pytest.raises(ValueError, match="two models are named 'Naive'"):
        backtest([Naive(), Naive()], air, horizon=6)


def test_a_neural_backtest_without_refit_is_one_pass_equal_to_predicting_each_cutoff():
    from sklearn.base import clone

    air = datasets.load("air_passengers")
    model = LSTMForecaster(horizon=6, scaler="none", **TINY)
    result = backtest(model, air, horizon=6, n_windows=3, refit=False, quantiles=[0.1, 0.9])
    fitted = clone(model).fit(air.iloc[: 144 - 6 - 12])  # the data before the first cutoff
    for k, end in enumerate([126, 132, 138]):
        expected = fitted.predict(6, y=air.iloc[:end], quantiles=[0.1, 0.9])
        got = result.forecasts[result.forecasts.window == k]
        for column in ("LSTM", "LSTM-q0.1", "LSTM-q0.9"):
            np.testing.assert_allclose(got[column], expected[column], rtol=1e-5)
        assert got.ds.tolist() == expected.ds.tolist()


def test_warm_start_refits_fine_tune_instead_of_starting_over():
    air = datasets.load("air_passengers")
    model = LSTMForecaster(horizon=6, **{**TINY, "max_steps": 30})
    result = backtest(model, air, horizon=6, n_windows=3, warm_start=3)
    assert result.timings.fits.iloc[0] == 3 and result.config["warm_start"] == 3
    with pytest.raises(ValueError, match=r"\['Naive'\] cannot warm-start"):
        backtest(Naive(), air, horizon=6, warm_start=3)


def test_each_fit_records_what_the_network_resolved_and_the_saved_result_keeps_it(tmp_path):
    air = datasets.load("air_passengers")
    lstm = LSTMForecaster(horizon=6, num_threads=1, **TINY)
    result = backtest([lstm, Naive()], air, horizon=6, n_windows=3, refit=2)
    choices = result.choices
    assert list(choices.model) == ["LSTM", "LSTM"] and list(choices.window) == [0, 2]
    assert list(choices.seasons) == [[12], [12]]  # monthly dates: the year's seasonal naive
    assert (choices.steps == 6).all() and choices.theta_weight.between(0, 1).all()
    loaded = type(result).load(result.save(tmp_path / "bt"))
    pd.testing.assert_frame_equal(loaded.choices, choices)
    assert backtest(Naive(), air, horizon=6).choices.empty  # baselines resolve nothing


def test_a_saved_result_loads_back_equal(tmp_path):
    air = datasets.load("air_passengers")
    result = backtest([Naive(), SeasonalNaive()], air, horizon=6, quantiles=[0.1, 0.9])
    folder = result.save(tmp_path / "bt")
    assert sorted(p.name for p in folder.iterdir()) == [
        "fallbacks.csv",
        "forecasts.csv",
        "result.json",
        "skipped.csv",
        "timings.csv",
        "train.csv",
    ]
    loaded = type(result).load(folder)
    pd.testing.assert_frame_equal(loaded.to_frame(), result.to_frame(), check_dtype=False)
    pd.testing.assert_frame_equal(loaded.metrics(), result.metrics())
    pd.testing.assert_frame_equal(loaded.timings, result.timings)  # threads: empty, typed alike
    assert loaded.models == result.models and loaded.config["freq"] == "MS"
    result.save(folder)  # replaced whole, nothing left over
    assert [p.name for p in tmp_path.iterdir()] == ["bt"]


def test_actuals_and_naive_forecasts_keep_every_digit_also_in_the_saved_csv(tmp_path):
    """Values around 1e8 with decimals: float32 would store 100000005.9 as 100000008.0."""
    frame = pd.DataFrame(
        {
            "unique_id": "big",
            "ds": pd.date_range("2024-01-01", periods=6, freq="D"),
            "y": 100000000.9 + np.arange(6.0),
        }
    )
    result = backtest([Naive(), SeasonalNaive(season=2)], frame, horizon=1, n_windows=2)
    fc = result.forecasts
    assert fc.y.tolist() == [100000004.9, 100000005.9]
    assert fc.Naive.tolist() == [100000003.9, 100000004.9]
    assert fc.SeasonalNaive.tolist() == [100000002.9, 100000003.9]
    result.save(tmp_path / "bt")
    saved = pd.read_csv(tmp_path / "bt" / "forecasts.csv")
    assert saved.y.tolist() == [100000004.9, 100000005.9]
    assert saved.Naive.tolist() == [100000003.9, 100000004.9]


def test_the_leaderboard_tests_each_model_against_the_reference():
    from tsrnn.evaluate.stats import dm_test

    air = datasets.load("air_passengers")
    result = backtest([Naive(), SeasonalNaive()], air, horizon=6, n_windows=10, step=3)
    board = result.leaderboard("mae", reference="Naive").set_index("model")
    assert np.isnan(board.loc["Naive", "p_value"])
    expected = dm_test(result.forecasts, "SeasonalNaive", "Naive", loss="mae", alternative="less")
    assert board.loc["SeasonalNaive", "p_value"] == pytest.approx(expected.p_value)
    assert board.loc["SeasonalNaive", "p_value"] < 0.05  # ten windows: clearly better


def test_update_fits_a_series_it_never_saw_and_keeps_the_others():
    air = datasets.load("air_passengers")
    fitted = SES().fit(air.iloc[:120])
    other = air.assign(unique_id="Other", y=air.y * 2)
    moved = fitted.update(pd.concat([air.iloc[:132], other], ignore_index=True))
    assert moved.ids_.tolist() == ["AirPassengers", "Other"]
    assert moved.states_[0].params == fitted.states_[0].params  # kept, not re-estimated
    assert fitted.ids_.tolist() == ["AirPassengers"]  # the fitted model is left as it was
    assert moved.predict(6).groupby("unique_id").SES.size().tolist() == [6, 6]


def test_fallbacks_of_each_window_are_reported():
    air = datasets.load("air_passengers")
    tiny = pd.DataFrame({"unique_id": "tiny", "ds": air.ds.iloc[-7:], "y": [1.0, 2, 3, 4, 5, 6, 7]})
    data = pd.concat([air, tiny], ignore_index=True)
    result = backtest(ARIMA(max_p=1, max_q=1), data, horizon=3, n_windows=1)
    fell = result.fallbacks
    assert fell.unique_id.tolist() == ["tiny"] and fell.window.tolist() == [0]
    assert "too short for ARIMA" in fell.reason.iloc[0] and fell.model.iloc[0] == "ARIMA"
    assert result.forecasts[result.forecasts.unique_id == "tiny"].ARIMA.notna().all()


def test_windows_older_than_the_longest_series_are_refused_not_allocated():
    """10^9 windows would be arrays of 10^9 rows, all empty but the last few: refused at once,
    saying how many the data holds."""
    air = datasets.load("air_passengers")
    with pytest.raises(
        DataError, match="n_windows=1000000000 windows 12 steps apart: only the last 11"
    ):
        backtest(Naive(), air, horizon=12, n_windows=1_000_000_000)
    assert backtest(Naive(), air, horizon=12, n_windows=11).forecasts.window.nunique() == 11


def test_extra_targets_are_scored_against_their_own_actuals(tmp_path):
    from tsrnn.report.backtest_report import write_report

    df = datasets.load("beijing_pm25")
    df = df[df.unique_id.isin(df.unique_id.unique()[:2])].groupby("unique_id").tail(400)
    network = LSTMForecaster(
        horizon=24, max_steps=4, hidden_size=8, past_covariates=["TEMP"], targets=["TEMP"]
    )
    result = backtest([network, SeasonalNaive()], df, 24, n_windows=2)
    frame = result.forecasts
    assert {"TEMP", "LSTM:TEMP"} <= set(frame.columns)
    truth = df.set_index(["unique_id", "ds"])["TEMP"]
    keys = pd.MultiIndex.from_frame(frame[["unique_id", "ds"]])
    np.testing.assert_array_equal(frame["TEMP"].to_numpy(), truth.reindex(keys).to_numpy())
    scores = result.metrics(["mae", "mase"]).set_index("model")
    expected = (
        (frame["LSTM:TEMP"] - frame["TEMP"])
        .abs()
        .groupby([frame["unique_id"], frame["window"]])
        .mean()
        .mean()
    )
    assert scores.loc["LSTM:TEMP", "mae"] == pytest.approx(expected)
    assert scores.loc["LSTM:TEMP", "mase"] != scores.loc["LSTM", "mase"]
    assert "LSTM:TEMP" not in result.leaderboard("mase")["model"].tolist()
    report = write_report(result, tmp_path / "r")
    assert "| LSTM:TEMP |" in (report / "report.md").read_text()
    assert "LSTM:TEMP" in pd.read_csv(report / "metrics.csv")["model"].tolist()


def test_the_networks_inside_an_ensemble_or_a_conformal_wrapper_record_what_they_resolved():
    from tsrnn.evaluate.conformal import Conformal
    from tsrnn.models import Ensemble

    air = datasets.load("air_passengers")
    lstm = LSTMForecaster(horizon=6, num_threads=1, **TINY)
    pair = Ensemble([lstm, clone(lstm).set_params(random_state=1), Naive()])
    result = backtest({"pair": pair}, air, horizon=6, n_windows=2, refit=False)
    assert list(result.choices.model) == ["pair/LSTM#1", "pair/LSTM#2"]
    assert (result.choices.window == 0).all() and (result.choices.steps == 6).all()
    wrapped = Conformal(lstm, levels=[50], n_windows=4, refit=False)
    result = backtest(wrapped, air, horizon=6, n_windows=1)
    assert list(result.choices.model) == ["LSTM"] and list(result.choices.seasons) == [[12]]
