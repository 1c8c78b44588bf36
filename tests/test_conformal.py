"""Split-conformal intervals: they cover what they promise on data they were not calibrated on."""

import math

import numpy as np
import pandas as pd
import pytest
from panels import ragged_air
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from tsrnn import datasets
from tsrnn.evaluate.backtest import backtest
from tsrnn.evaluate.conformal import Conformal, ConformalForecaster
from tsrnn.models.stats.naive import HistoricAverage, Naive, SeasonalNaive

H = 6


def ar1(n_series: int, length: int, phi: float = 0.7, seed: int = 0) -> np.ndarray:
    """Stationary AR(1) paths with unit innovations, ``(n_series, length)``."""
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((n_series, length))
    y = np.empty_like(noise)
    y[:, 0] = noise[:, 0] / math.sqrt(1 - phi**2)  # start in the stationary distribution
    for t in range(1, length):
        y[:, t] = phi * y[:, t - 1] + noise[:, t]
    return y


def long_frame(y: np.ndarray) -> pd.DataFrame:
    """Rows of ``y`` as series ``s0000, s0001, ...`` (forecasts come in that order)."""
    n, length = y.shape
    ids = np.repeat([f"s{i:04d}" for i in range(n)], length)
    return pd.DataFrame({"unique_id": ids, "ds": np.tile(np.arange(length), n), "y": y.ravel()})


def covered(forecast: pd.DataFrame, actual: np.ndarray, name: str, level: int) -> np.ndarray:
    lo, hi = (100 - level) / 200, (100 + level) / 200
    return (forecast[f"{name}-q{lo:g}"] <= actual) & (actual <= forecast[f"{name}-q{hi:g}"])


@pytest.fixture(scope="module")
def data():
    """The contract's data: air passengers and a shorter, later copy with a gap."""
    return ragged_air()


# ---------------------------------------------------------------------- coverage
@pytest.mark.parametrize("model", [Naive(), HistoricAverage()], ids=["Naive", "HistoricAverage"])
def test_coverage_on_held_out_series_ends(model):
    """1,000 AR(1) series: calibrate on all but the last H points, score those."""
    y = ar1(1000, 100)
    fitted = Conformal(model, horizon=H, n_windows=10).fit(long_frame(y[:, :-H]))
    forecast = fitted.predict(H)
    actual = y[:, -H:].ravel()
    step = np.tile(np.arange(H), len(y))
    for level in (80, 95):
        hit = covered(forecast, actual, fitted.name, level)
        assert abs(hit.mean() - level / 100) < 0.02, (level, hit.mean())
        per_step = hit.groupby(step).mean()
        assert (abs(per_step - level / 100) < 0.05).all(), (level, per_step.tolist())


def test_coverage_over_later_rolling_origins_of_one_long_series():
    """One AR(1) series of 3,000 points: calibrate on the first half, score the second."""
    y = ar1(1, 3000, seed=1)[0]
    fitted = Conformal(Naive(), horizon=H, n_windows=500).fit(long_frame(y[None, :1500]))
    forecast = fitted.predict(H)
    origins = np.arange(1500, len(y) - H + 1)  # Naive from y[:t] forecasts y[t - 1]
    errors = np.abs(y[origins[:, None] - 1 + np.arange(1, H + 1)] - y[origins - 1, None])
    for level in (80, 95):
        width = (forecast[f"Naive-q{(100 + level) / 200:g}"] - forecast["Naive"]).to_numpy()
        coverage = (errors <= width).mean()
        assert abs(coverage - level / 100) < 0.05, (level, coverage)


def test_scaled_scores_cover_each_scale_absolute_ones_do_not():
    y = ar1(1000, 60, seed=2)
    y[500:] *= 100  # two groups of series, scales 1 and 100
    train, actual = long_frame(y[:, :-H]), y[:, -H:].ravel()
    loud = np.repeat(np.arange(1000) >= 500, H)
    for score in ("absolute", "scaled"):
        fitted = Conformal(Naive(), horizon=H, n_windows=10, score=score).fit(train)
        hit = covered(fitted.predict(H), actual, "Naive", 80)
        quiet_cov, loud_cov = hit[~loud].mean(), hit[loud].mean()
        if score == "scaled":
            assert abs(quiet_cov - 0.8) < 0.04 and abs(loud_cov - 0.8) < 0.04
        else:  # the loud series set the width of all of them
            assert quiet_cov > 0.99 and loud_cov < 0.7


def test_intervals_widen_with_the_step_for_a_random_walk():
    walk = np.cumsum(np.random.default_rng(3).standard_normal(600))
    fitted = Conformal(Naive(), horizon=H, n_windows=200).fit(pd.Series(walk))
    forecast = fitted.predict(H)
    for level in (80, 95):
        width = forecast[f"Naive-q{(100 + level) / 200:g}"] - forecast["Naive"]
        assert (np.diff(width) > 0).all(), width.tolist()
    # sqrt(h) growth of a random walk's h-step error, roughly
    assert 1.8 < width.iloc[-1] / width.iloc[0] < 3.2


def test_quantile_is_the_finite_sample_conformal_order_statistic(data):
    fitted = Conformal(SeasonalNaive(), horizon=3, n_windows=20).fit(data)
    forecast = fitted.predict(3, quantiles=[0.1, 0.9])
    width = (forecast["SeasonalNaive-q0.9"] - forecast["SeasonalNaive"]).to_numpy()
    for j, scores in enumerate(fitted.scores_):
        k = math.ceil((len(scores) + 1) * 0.8)
        assert width[j] == scores[k - 1] and width[j + 3] == scores[k - 1]


def test_unobserved_actuals_are_left_out_of_the_scores():
    y = ar1(1, 200, seed=4)[0]
    y[195] = np.nan  # inside the last calibration windows
    fitted = Conformal(Naive(), horizon=3, n_windows=30).fit(pd.Series(y))
    counts = [len(s) for s in fitted.scores_]
    assert counts == [29, 29, 29]  # each step meets point 195 in exactly one window
    assert all(np.isfinite(s).all() for s in fitted.scores_)


# ---------------------------------------------------------------------- errors
def test_too_few_calibration_scores_for_a_level_is_a_clear_error():
    air = datasets.load("air_passengers")
    with pytest.raises(ValueError, match=r"95% interval at step 1 needs 19 .* there are 10"):
        Conformal(Naive(), horizon=3, n_windows=10).fit(air)
    fitted = Conformal(Naive(), horizon=3, n_windows=10, levels=[80]).fit(air)
    with pytest.raises(ValueError, match="needs 19"):
        fitted.predict(3, quantiles=[0.025])
    assert not hasattr(Conformal(Naive(), horizon=3, n_windows=10), "model_")


def test_horizon_is_required_and_bounds_predict():
    air = datasets.load("air_passengers")
    with pytest.raises(ValueError, match="pass horizon="):
        Conformal(Naive()).fit(air)
    with pytest.raises(ValueError, match="score="):
        Conformal(Naive(), horizon=3, score="relative").fit(air)
    with pytest.raises(ValueError, match="levels must be percentages"):
        Conformal(Naive(), horizon=3, levels=[80, 100]).fit(air)
    fitted = Conformal(Naive(), horizon=3).fit(air)
    with pytest.raises(ValueError, match="calibrated for 1 to 3 steps"):
        fitted.predict(4)


# ---------------------------------------------------------------------- the contract
def test_init_stores_parameters_and_clone_round_trips():
    model = ConformalForecaster(SeasonalNaive(season=4), horizon=H, levels=[50, 90], step=2)
    params = model.get_params()
    assert set(vars(model)) == set(params) - {"model__season"}
    twin = clone(model)
    assert twin is not model and twin.model is not model.model
    assert twin.get_params()["model__season"] == 4 and twin.horizon == H
    assert twin.set_params(model__season=12).model.season == 12
    with pytest.raises(NotFittedError):
        clone(model).predict(H)


def test_fit_returns_self_and_predicts_contract_columns(data):
    est = Conformal(Naive(), horizon=H)
    assert est.fit(data) is est
    assert all(not k.startswith("_") for k in vars(est))
    learned = [k for k in vars(est) if k not in est.get_params()]
    fitted = ["calibration_", "ids_", "index_", "lengths_", "model_", "scale_", "scores_"]
    fitted = sorted(fitted + ["columns_", "freq_", "season_"])  # what the fit template records
    assert sorted(learned) == fitted
    out = est.predict(H, quantiles=[0.9, 0.1, 0.5])
    assert list(out.columns) == [
        "unique_id",
        "ds",
        "Naive",
        "Naive-q0.1",
        "Naive-q0.5",
        "Naive-q0.9",
    ]
    assert len(out) == 2 * H and out.notna().all().all()
    assert out[out.unique_id == "Later"].ds.iloc[0] == pd.Timestamp("1961-01-01")
    assert (out["Naive-q0.5"] == out["Naive"]).all()
    pd.testing.assert_frame_equal(out[["unique_id", "ds", "Naive"]], Naive().fit(data).predict(H))
    default = est.predict(H)  # the bounds of levels=(80, 95)
    bounds = ["Naive-q0.025", "Naive-q0.1", "Naive-q0.9", "Naive-q0.975"]
    assert list(default.columns) == ["unique_id", "ds", "Naive", *bounds]
    assert (np.diff(default[bounds].to_numpy(), axis=1) > 0).all(), "quantiles cross"
    pd.testing.assert_frame_equal(default, clone(est).fit(data).predict(H))


def test_backtests_like_any_forecaster():
    air = datasets.load("air_passengers")
    wrapped = Conformal(SeasonalNaive(), horizon=3, levels=[80])
    result = backtest(wrapped, air, horizon=3, n_windows=2, quantiles=[0.1, 0.9])
    assert result.models == ["SeasonalNaive"]
    frame = result.forecasts
    assert (frame["SeasonalNaive-q0.1"] < frame["SeasonalNaive"]).all()
    assert (frame["SeasonalNaive"] < frame["SeasonalNaive-q0.9"]).all()


def test_update_moves_the_origin_and_keeps_the_calibration(data):
    """A backtest between refits (``refit=False``) forecasts each window from its history with
    the scores calibrated at the fit: nothing is recalibrated, nothing after it leaks in."""
    first = data.groupby("unique_id").head(100)
    est = Conformal(Naive(), horizon=H, levels=(80,)).fit(first)
    moved = est.update(data)
    assert moved.scores_ is est.scores_ and moved.calibration_ is est.calibration_
    out = moved.predict(H)
    later = est.predict(H, y=data)  # predict(y=...) is update, then predict
    pd.testing.assert_frame_equal(out, later)
    last = data.groupby("unique_id").ds.max()
    assert (out.groupby("unique_id").ds.min() > last).all()
