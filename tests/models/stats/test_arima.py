"""Automatic ARIMA: the orders it finds, its forecasts against statsmodels, gaps, fallbacks."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from tsrnn import datasets
from tsrnn.models.stats.arima import (
    ARIMA,
    difference,
    integrate,
    ndiffs,
    nsdiffs,
    seasonal_strength,
)
from tsrnn.models.stats.local import Fallback


def simulate_ar1(n: int = 300, phi: float = 0.7, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    e = rng.normal(size=n + 100)
    x = np.zeros(n + 100)
    for t in range(1, n + 100):
        x[t] = phi * x[t - 1] + e[t]
    return x[100:]  # the burn-in forgets the zero start


def seasonal_random_walk(n: int = 144, m: int = 12, seed: int = 0) -> pd.Series:
    """``y_t = y_{t-12} + e_t`` around a sine pattern, on a monthly calendar (so m = 12)."""
    rng = np.random.default_rng(seed)
    y = np.zeros(n)
    y[:m] = 10 * np.sin(2 * np.pi * np.arange(m) / m)
    for t in range(m, n):
        y[t] = y[t - m] + rng.normal()
    return pd.Series(100 + y, index=pd.date_range("2000-01-01", periods=n, freq="MS"))


def sarimax_forecast(y: np.ndarray, state, h: int) -> tuple[np.ndarray, np.ndarray]:
    """The same order fitted directly by statsmodels, with its own defaults throughout."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = SARIMAX(
            y,
            order=state.order,
            seasonal_order=state.seasonal_order,
            trend="c" if state.constant else "n",
        ).fit(disp=False)
    forecast = fit.get_forecast(h)
    return np.asarray(forecast.predicted_mean), np.asarray(forecast.se_mean)


@pytest.fixture(scope="module")
def log_air() -> pd.DataFrame:
    # Log: the airline data's seasonal swings grow with its level; logs make them additive,
    # which is what a linear (S)ARIMA model describes (Box & Jenkins' airline model).
    air = datasets.load("air_passengers")
    air["y"] = np.log(air["y"])
    return air


@pytest.fixture(scope="module")
def air_model(log_air: pd.DataFrame) -> ARIMA:
    return ARIMA().fit(log_air.iloc[:-24])


# ---------------------------------------------------------------------- the orders found
def test_ar1_is_found_as_ar1():
    # Over seeds 0-49 the search returns exactly (1,0,0) for 26 (most others nest it, e.g.
    # (2,0,1)); this seed is one of the 26, not a cherry-picked oddity of the method.
    model = ARIMA().fit(pd.Series(simulate_ar1(seed=0)))
    assert model.orders_.loc[0, "order"] == (1, 0, 0)
    assert model.orders_.loc[0, "seasonal_order"] == (0, 0, 0, 0)
    phi = model.states_[0].params[int(model.orders_.loc[0, "constant"])]
    assert phi == pytest.approx(0.7, abs=0.1)


def test_random_walk_is_differenced_once():
    walk = np.random.default_rng(0).normal(size=300).cumsum()
    model = ARIMA().fit(pd.Series(walk))
    assert model.orders_.loc[0, "order"][1] == 1


def test_seasonal_random_walk_is_differenced_seasonally():
    model = ARIMA().fit(seasonal_random_walk())
    assert model.season_ == 12  # from the monthly calendar
    _, D, _, m = model.orders_.loc[0, "seasonal_order"]
    assert (D, m) == (1, 12)


def test_exhaustive_search_tries_more_and_agrees_on_ar1():
    y = pd.Series(simulate_ar1(seed=0))
    stepwise = ARIMA().fit(y)
    exhaustive = ARIMA(stepwise=False, max_p=3, max_q=3).fit(y)
    assert exhaustive.orders_.loc[0, "order"] == (1, 0, 0)
    assert exhaustive.orders_.loc[0, "n_models"] > stepwise.orders_.loc[0, "n_models"]


# ---------------------------------------------------------------------- the forecasts
@pytest.mark.parametrize("case", ["ar1", "air"])
def test_forecasts_equal_a_direct_statsmodels_fit(case, log_air, air_model):
    if case == "ar1":
        y = simulate_ar1(seed=0) + 5.0
        model = ARIMA().fit(pd.Series(y))
    else:
        y, model = log_air["y"].to_numpy()[:-24], air_model
    forecast = model.predict(12, quantiles=[0.975])
    mean, se = sarimax_forecast(y, model.states_[0], 12)
    # Both are the same likelihood's maximum, reached from different starts: equal to the
    # optimizer's tolerance, not bitwise.
    np.testing.assert_allclose(forecast["ARIMA"], mean, rtol=1e-4)
    std = (forecast["ARIMA-q0.975"] - forecast["ARIMA"]) / 1.959963984540054
    np.testing.assert_allclose(std, se, rtol=5e-3)


def test_air_passengers_gets_a_seasonal_model_that_beats_seasonal_naive(log_air, air_model):
    P, D, Q, m = air_model.orders_.loc[0, "seasonal_order"]
    assert (D, m) == (1, 12) and P + Q >= 1
    forecast = np.exp(air_model.predict(24)["ARIMA"].to_numpy())
    actual = np.exp(log_air["y"].to_numpy()[-24:])
    last_year = np.exp(log_air["y"].to_numpy()[-36:-24])
    snaive = np.tile(last_year, 2)
    assert np.mean(np.abs(forecast - actual)) < 0.8 * np.mean(np.abs(snaive - actual))


def test_intervals_are_nested_and_widen(air_model):
    levels = [0.05, 0.25, 0.75, 0.95]
    forecast = air_model.predict(24, quantiles=levels)
    columns = [f"ARIMA-q{q:g}" for q in levels]
    q = forecast[columns].to_numpy()
    assert (np.diff(q, axis=1) > 0).all()
    assert (q[:, 1] < forecast["ARIMA"]).all() and (forecast["ARIMA"] < q[:, 2]).all()
    width = q[:, -1] - q[:, 0]
    assert (np.diff(width) >= -1e-12).all() and width[-1] > 1.5 * width[0]


def test_css_method_keeps_the_search_estimates():
    y = pd.Series(simulate_ar1(seed=0))
    ml, css = ARIMA().fit(y), ARIMA(method="css").fit(y)
    assert css.orders_.loc[0, "order"] == ml.orders_.loc[0, "order"]
    a, b = ml.predict(6)["ARIMA"], css.predict(6)["ARIMA"]
    assert np.isfinite(b).all() and not np.array_equal(a, b)
    np.testing.assert_allclose(a, b, atol=0.1)


def test_a_deterministic_series_is_continued_exactly():
    line = pd.Series(5.0 + 2.0 * np.arange(30))
    model = ARIMA().fit(line)
    forecast = model.predict(3, quantiles=[0.9])
    assert model.fallbacks_.empty
    np.testing.assert_allclose(forecast["ARIMA"], [65.0, 67.0, 69.0])
    np.testing.assert_allclose(forecast["ARIMA-q0.9"], forecast["ARIMA"])


# ---------------------------------------------------------------------- gaps, failures, jobs
def test_gaps_are_left_to_the_kalman_filter(log_air):
    assert ARIMA.supports_missing
    gappy = log_air.iloc[:-24].copy()
    gappy.loc[[30, 31, 80, 95], "y"] = np.nan
    model = ARIMA().fit(gappy)
    assert model.fallbacks_.empty
    state = model.states_[0]
    assert np.isnan(state.history).sum() == 4  # not imputed: the likelihood skips them
    mean, _ = sarimax_forecast(gappy["y"].to_numpy(), state, 12)
    np.testing.assert_allclose(model.predict(12)["ARIMA"], mean, rtol=1e-4)


def test_a_three_point_series_falls_back_and_is_recorded():
    frame = pd.DataFrame(
        {
            "unique_id": ["long"] * 300 + ["short"] * 3,
            "ds": list(range(300)) + [0, 1, 2],
            "y": list(simulate_ar1(seed=1)) + [1.0, 2.0, 3.0],
        }
    )
    model = ARIMA().fit(frame)
    assert model.fallbacks_["unique_id"].tolist() == ["short"]
    assert "too short" in model.fallbacks_.loc[0, "reason"]
    assert isinstance(model.states_[1], Fallback)
    assert model.orders_.set_index("unique_id").loc["short", "order"] is None
    forecast = model.predict(4)
    assert forecast.loc[forecast["unique_id"] == "short", "ARIMA"].tolist() == [3.0] * 4


def test_two_jobs_equal_one():
    frame = pd.concat(
        pd.DataFrame({"unique_id": f"s{seed}", "ds": range(200), "y": simulate_ar1(200, seed=seed)})
        for seed in range(3)
    )
    one = ARIMA(n_jobs=1).fit(frame)
    two = ARIMA(n_jobs=2).fit(frame)
    pd.testing.assert_frame_equal(one.orders_, two.orders_)
    pd.testing.assert_frame_equal(one.predict(5, quantiles=[0.1]), two.predict(5, quantiles=[0.1]))


def test_nothing_is_printed_or_warned(capsys, log_air):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = ARIMA().fit(log_air)  # its search meets statsmodels ConvergenceWarnings
        model.predict(6)
    assert caught == []
    assert capsys.readouterr() == ("", "")
    assert isinstance(model.warnings_, dict)


def test_max_length_fits_the_last_points_only(log_air):
    model = ARIMA(max_length=60).fit(log_air)
    assert len(model.states_[0].history) == 60


@pytest.mark.parametrize(
    "params",
    [{"max_p": -1}, {"max_models": 0}, {"ic": "hqic"}, {"method": "mle"}, {"alpha": 1.5}],
)
def test_bad_parameters_are_refused_by_fit_not_init(params, log_air):
    model = ARIMA(**params)
    assert clone(model).get_params() == model.get_params()
    with pytest.raises(ValueError, match=next(iter(params))):
        model.fit(log_air)


# ---------------------------------------------------------------------- the tests it runs
def test_differencing_tests_and_their_inverse():
    rng = np.random.default_rng(0)
    assert ndiffs(rng.normal(size=300)) == 0
    assert ndiffs(rng.normal(size=300).cumsum()) == 1
    assert ndiffs(rng.normal(size=300).cumsum().cumsum()) == 2
    seasonal = seasonal_random_walk().to_numpy()
    assert seasonal_strength(seasonal, 12) > 0.64 and nsdiffs(seasonal, 12) == 1
    assert nsdiffs(rng.normal(size=144), 12) == 0
    assert nsdiffs(seasonal[:20], 12) == 0  # under two seasons: no test, no difference
    y = rng.normal(size=60).cumsum()
    w = difference(y, 1, 1, 12)
    np.testing.assert_allclose(integrate(y[:40], 1, 1, 12, w[40 - 13 :]), y[40:])


def test_failed_likelihood_refits_keep_the_css_estimates(monkeypatch):
    from tsrnn.models.stats import arima

    def failing(*args, **kwargs):
        return arima.Candidate(np.inf, np.empty(0), np.nan)

    monkeypatch.setattr(arima, "_ml", failing)
    model = ARIMA().fit(pd.Series(simulate_ar1(seed=0)))
    assert model.fallbacks_.empty
    assert any("CSS estimates kept" in message for message in model.warnings_)
    assert np.isfinite(model.predict(3)["ARIMA"]).all()


def test_an_explicit_season_on_integer_steps():
    rng = np.random.default_rng(0)
    t = np.arange(24 * 14)
    daily = 50 + 20 * np.sin(2 * np.pi * t / 24) + rng.normal(size=len(t)).cumsum() * 0.3
    model = ARIMA(season=24, method="css").fit(pd.Series(daily))
    _, D, _, m = model.orders_.loc[0, "seasonal_order"]
    assert (D, m) == (1, 24)


def test_short_series_with_a_gap_falls_back_with_finite_intervals():
    fitted = ARIMA().fit(pd.Series([1.0, np.nan, 3.0, 4.0, 5.0]))
    out = fitted.predict(2, quantiles=[0.1, 0.9])
    assert len(fitted.fallbacks_) == 1
    assert np.isfinite(out[["ARIMA", "ARIMA-q0.1", "ARIMA-q0.9"]].to_numpy()).all()
