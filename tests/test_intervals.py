"""Prediction intervals as Nixtla names them: ``level=[80, 95]`` gives ``<model>-lo-80`` /
``<model>-hi-80`` columns, in predict, backtests, the conformal wrapper and the CLI."""

import numpy as np
import pandas as pd
import pytest
from tsrnn_cli.app import app
from typer.testing import CliRunner

from tsrnn import ETS, Ensemble, LSTMForecaster, SeasonalNaive, backtest, datasets
from tsrnn.evaluate.conformal import ConformalForecaster
from tsrnn.evaluate.metrics import evaluate

TINY = {"hidden_size": 8, "num_layers": 1, "max_steps": 6, "batch_size": 16}


@pytest.fixture(scope="module")
def air():
    return datasets.load("air_passengers")


@pytest.mark.parametrize(
    "model",
    [
        SeasonalNaive(),
        ETS(),
        LSTMForecaster(horizon=6, **TINY),
        LSTMForecaster(horizon=6, loss="quantile", quantiles=(0.025, 0.1, 0.5, 0.9, 0.975), **TINY),
        Ensemble([SeasonalNaive(), ETS()]),
        ConformalForecaster(SeasonalNaive(), horizon=6, n_windows=20),
    ],
    ids=["snaive", "ets", "lstm", "lstm-quantile", "ensemble", "conformal"],
)
def test_level_gives_lo_hi_columns_from_the_quantiles_that_bound_them(model, air):
    model.fit(air)
    name = model.name
    out = model.predict(6, level=[80, 95])
    q = model.predict(6, quantiles=[0.025, 0.1, 0.9, 0.975])
    for lo, hi, level in ((0.1, 0.9, 80), (0.025, 0.975, 95)):
        np.testing.assert_allclose(out[f"{name}-lo-{level}"], q[f"{name}-q{lo:g}"])
        np.testing.assert_allclose(out[f"{name}-hi-{level}"], q[f"{name}-q{hi:g}"])
        assert (out[f"{name}-lo-{level}"] <= out[f"{name}-hi-{level}"]).all()
    # Only the quantile columns a model gives unasked stay (the conformal wrapper's levels).
    assert (f"{name}-q0.1" in out.columns) == isinstance(model, ConformalForecaster)


def test_level_and_quantiles_together_and_bad_levels(air):
    model = SeasonalNaive().fit(air)
    both = model.predict(3, quantiles=[0.5], level=[80])
    assert both.columns.tolist() == [
        "unique_id",
        "ds",
        "SeasonalNaive",
        "SeasonalNaive-q0.5",
        "SeasonalNaive-lo-80",
        "SeasonalNaive-hi-80",
    ]
    for bad in ([0.8], [100], [120]):
        with pytest.raises(ValueError, match="interval levels are percentages from 1 to 99.9"):
            model.predict(3, level=bad)
    narrow = LSTMForecaster(horizon=3, loss="quantile", **TINY).fit(air)  # trained 0.1 .. 0.9
    with pytest.raises(ValueError, match=r"quantiles \[0.025, 0.975\] lie outside the trained"):
        narrow.predict(3, level=[95])


def test_a_backtest_with_levels_scores_the_coverage_of_each(air):
    result = backtest([SeasonalNaive(), ETS()], air, 12, n_windows=2, level=[80, 95])
    frame = result.forecasts
    assert {"ETS-lo-80", "ETS-hi-80", "ETS-lo-95", "ETS-hi-95"} <= set(frame.columns)
    assert (frame["ETS-lo-95"] == frame["ETS-q0.025"]).all()
    metrics = result.metrics().set_index("model")
    for level in (80, 95):
        alone = evaluate(
            frame.drop(columns="window"), models=["ETS"], metrics=["coverage"], by=None, level=level
        )
        assert metrics.loc["ETS", f"coverage-{level}"] == pytest.approx(alone["coverage"][0])
        inside = frame["y"].between(frame[f"ETS-lo-{level}"], frame[f"ETS-hi-{level}"])
        assert metrics.loc["ETS", f"coverage-{level}"] == pytest.approx(inside.mean())
    assert "ETS-lo-80" not in result.metrics()["model"].tolist()  # not read as a model


def test_the_cli_takes_level_in_percent(tmp_path):
    runner = CliRunner()
    model = tmp_path / "m.tsrnn"
    fit = runner.invoke(
        app, ["fit", "air_passengers", "--max-steps", "4", "-q", "--out", str(model)]
    )
    assert fit.exit_code == 0, fit.output
    done = runner.invoke(app, ["predict", str(model), "air_passengers", "--level", "80,95"])
    assert done.exit_code == 0, done.output
    assert (
        done.stdout.splitlines()[0]
        == "unique_id,ds,LSTM,LSTM-lo-80,LSTM-hi-80,LSTM-lo-95,LSTM-hi-95"
    )
    wrong = runner.invoke(app, ["predict", str(model), "air_passengers", "--level", "0.8,0.95"])
    assert wrong.exit_code == 2 and "levels are percentages; write --level 80,95" in wrong.stderr
    report = tmp_path / "r"
    args = ["backtest", "air_passengers", "--models", "snaive", "--level", "80", "-q"]
    done = runner.invoke(app, [*args, "--report-dir", str(report)])
    assert done.exit_code == 0, done.output
    metrics = pd.read_csv(report / "metrics.csv")
    assert "coverage-80" in metrics.columns
    assert "SeasonalNaive-lo-80" in pd.read_csv(report / "forecasts.csv").columns
