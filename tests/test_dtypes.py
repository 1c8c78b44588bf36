"""Frames come back in the user's dtypes: ids, time resolution and integer steps, so that
``df.merge(forecasts, on=["unique_id", "ds"])`` works as it does with NeuralForecast."""

import numpy as np
import pandas as pd
import pytest

import tsrnn
from tsrnn.evaluate.backtest import BacktestResult, backtest
from tsrnn.models.neural import LSTMForecaster
from tsrnn.models.stats import Naive2, SeasonalNaive

TINY = {"hidden_size": 8, "num_layers": 1, "max_steps": 4, "batch_size": 16}


def hourly(ids, unit: str = "us") -> pd.DataFrame:
    times = pd.date_range("2024-01-01", periods=72, freq="h").as_unit(unit)
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "unique_id": np.repeat(ids, 72),
            "ds": np.tile(times, len(ids)),
            "y": rng.random(72 * len(ids)) + 10,
        }
    )


@pytest.mark.parametrize(
    ("ids", "unit"),
    [
        (np.array([3, 17], dtype=np.int64), "us"),
        (np.array([3, 17], dtype=np.int32), "s"),
        (np.array([1.5, 2.0]), "ns"),
        (pd.Categorical(["north", "south"]), "ms"),
        (pd.Categorical([3, 17]), "us"),
        (np.array(["north", "south"], dtype=object), "us"),
    ],
    ids=["int64", "int32", "float", "category", "int-category", "text"],
)
def test_forecasts_keep_the_id_dtype_and_the_time_resolution(ids, unit):
    df = hourly(ids, unit)
    for model in (SeasonalNaive(), LSTMForecaster(horizon=6, **TINY)):
        forecasts = model.fit(df).predict(6)
        assert forecasts["unique_id"].dtype == df["unique_id"].dtype
        assert forecasts["ds"].dtype == df["ds"].dtype
        merged = df.merge(forecasts, on=["unique_id", "ds"], how="outer")
        assert len(merged) == len(df) + len(forecasts)  # 6 new rows per series, none doubled
        assert merged[model.name].notna().sum() == 12


def test_integer_time_steps_stay_integers():
    df = hourly(np.array([1, 2])).assign(ds=np.tile(np.arange(100, 172), 2))
    forecasts = SeasonalNaive(season=24).fit(df).predict(3)
    assert forecasts["ds"].dtype == np.int64 and forecasts["ds"].tolist()[:3] == [172, 173, 174]
    assert forecasts["unique_id"].dtype == np.int64


def test_a_saved_model_and_a_saved_backtest_keep_the_users_dtypes(tmp_path):
    df = hourly(np.array([3, 17]), "s")
    model = LSTMForecaster(horizon=6, **TINY).fit(df)
    model.save(tmp_path / "m.tsrnn")
    again = tsrnn.load(tmp_path / "m.tsrnn").predict(6)
    assert again["unique_id"].dtype == np.int64 and again["ds"].dtype == "datetime64[s]"
    pd.testing.assert_frame_equal(again, model.predict(6))

    result = backtest({"SeasonalNaive": SeasonalNaive(), "Naive2": Naive2()}, df, 24, n_windows=2)
    for frame in (result.forecasts, result.train):
        assert frame["unique_id"].dtype == np.int64 and frame["ds"].dtype == "datetime64[s]"
    assert len(df.merge(result.forecasts, on=["unique_id", "ds"])) == 2 * 2 * 24
    loaded = BacktestResult.load(result.save(tmp_path / "result"))
    assert loaded.forecasts["unique_id"].dtype == np.int64
    assert result.metrics()["mase"].tolist() == loaded.metrics()["mase"].tolist()
