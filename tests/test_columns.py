"""Column names in the API as in the CLI: id_col=, time_col=, target_col= (and names that say
their role), and a warning for numeric columns a network was not told to read."""

import logging

import numpy as np
import pandas as pd
import pytest

import tsrnn
from tsrnn import DataError, LSTMForecaster, SeasonalNaive, as_panel


def shops() -> pd.DataFrame:
    times = pd.date_range("2024-01-01", periods=48, freq="h")
    return pd.DataFrame(
        {
            "shop": np.repeat([7, 9], 48),
            "when": np.tile(times, 2),
            "sales": np.arange(96.0),
            "temp": np.linspace(0, 1, 96),
        }
    )


def test_as_panel_reads_named_columns_and_names_that_say_their_role():
    named = as_panel(shops(), id_col="shop", time_col="when", target_col="sales")
    assert named.ids.tolist() == ["7", "9"] and named.lengths.tolist() == [48, 48]
    assert named.covariate_names == ("temp",)
    said = shops().rename(columns={"shop": "id", "when": "time", "sales": "value"})
    assert as_panel(said).values.tolist() == named.values.tolist()
    with pytest.raises(DataError, match=r"no column 'store' \(id_col=\); the columns are"):
        as_panel(shops(), id_col="store")
    with pytest.raises(DataError, match="name the long format's columns with id_col=, time_col="):
        as_panel(shops())  # 'when' is not numeric: not a wide frame


def test_fit_takes_the_names_and_predict_and_a_saved_model_reuse_them(tmp_path):
    names = {"id_col": "shop", "time_col": "when", "target_col": "sales"}
    baseline = SeasonalNaive().fit(shops(), **names)
    assert baseline.predict(2)["unique_id"].tolist() == [7, 7, 9, 9]
    shorter = shops().groupby("shop").head(40)
    assert baseline.predict(2, y=shorter)["ds"].iloc[0] == pd.Timestamp("2024-01-02 16:00")
    network = LSTMForecaster(horizon=2, max_steps=2, past_covariates=["temp"]).fit(shops(), **names)
    network.save(tmp_path / "m.tsrnn")
    again = tsrnn.load(tmp_path / "m.tsrnn").predict(2, y=shorter)
    assert again["ds"].iloc[0] == pd.Timestamp("2024-01-02 16:00") and len(again) == 4


def test_a_network_warns_of_numeric_columns_no_covariate_list_named(caplog):
    frame = shops().rename(columns={"shop": "unique_id", "when": "ds", "sales": "y"})
    with caplog.at_level(logging.WARNING, logger="tsrnn"):
        LSTMForecaster(horizon=2, max_steps=2).fit(frame)
    assert "LSTM ignores the numeric columns ['temp']: name them in past_covariates=" in (
        caplog.text
    )
