"""Tuning by backtest: every candidate on the same cutoffs, the best refitted on all data."""

import pytest

from tsrnn import (
    ForecastingGridSearch,
    ForecastingOptunaSearch,
    LSTMForecaster,
    SeasonalNaive,
    backtest,
    datasets,
)


@pytest.fixture(scope="module")
def air():
    return datasets.load("air_passengers")


def test_the_search_ranks_candidates_by_their_backtest_and_refits_the_best(air):
    grid = {"season": [1, 4, 6, 12]}
    search = ForecastingGridSearch(SeasonalNaive(), grid, horizon=12, n_windows=3).fit(air)
    table = search.results_
    assert len(table) == 4 and sorted(table["param_season"]) == [1, 4, 6, 12]
    assert table["rank"].tolist() == list(range(1, len(table) + 1))
    assert table["mase"].is_monotonic_increasing
    alone = backtest(SeasonalNaive(season=12), air, 12, n_windows=3).metrics(["mase"])
    assert search.best_score_ == pytest.approx(alone["mase"].iloc[0])
    assert search.best_params_["season"] == 12
    refit = search.best_estimator_
    assert refit.season == 12 and refit.lengths_.tolist() == [len(air)]
    assert search.predict(12).equals(SeasonalNaive(season=12).fit(air).predict(12))


def test_a_network_grid_and_bad_grids(air):
    tiny = {"hidden_size": 8, "num_layers": 1, "max_steps": 3, "batch_size": 16}
    search = ForecastingGridSearch(
        LSTMForecaster(horizon=12, **tiny),
        [{"input_size": [24]}, {"input_size": [36], "loss": ["mse"]}],
        horizon=12,
        n_windows=2,
        metric="smape",
    ).fit(air)
    assert sorted(search.results_["param_input_size"].tolist()) == [24, 36]
    assert search.best_estimator_.input_size == search.best_params_["input_size"]
    with pytest.raises(ValueError, match=r"has no parameter\(s\) \['hiden_size'\]"):
        ForecastingGridSearch(SeasonalNaive(), {"hiden_size": [1]}, horizon=12).fit(air)
    with pytest.raises(ValueError, match="choose a point metric"):
        ForecastingGridSearch(SeasonalNaive(), {"season": [1]}, 12, metric="crps").fit(air)


# ---------------------------------------------------------------------- Optuna
def optuna_or_skip():
    return pytest.importorskip(
        "optuna", reason="optuna is not installed: pip install 'tsrnn[optuna]'"
    )


def test_optuna_chooses_candidates_by_backtest_and_a_seed_repeats_them(air):
    optuna = optuna_or_skip()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = {"season": [1, 4, 6, 12]}
    search = ForecastingOptunaSearch(SeasonalNaive(), space, horizon=12, n_trials=10).fit(air)
    table = search.results_
    assert len(table) == 10 and set(table["param_season"]) <= {1, 4, 6, 12}
    assert table["mase"].is_monotonic_increasing and sorted(table["trial"]) == list(range(10))
    assert search.best_params_ == {"season": 12}
    alone = backtest(SeasonalNaive(season=12), air, 12, n_windows=3).metrics(["mase"])
    assert search.best_score_ == pytest.approx(alone["mase"].iloc[0])
    assert search.best_estimator_.season == 12
    assert len(search.study_.trials) == 10
    again = ForecastingOptunaSearch(SeasonalNaive(), space, horizon=12, n_trials=10).fit(air)
    assert again.results_["param_season"].tolist() == table["param_season"].tolist()


def test_optuna_searches_a_networks_distributions_and_refuses_bad_ones(air):
    optuna_or_skip()
    from optuna.distributions import FloatDistribution, IntDistribution

    tiny = {"num_layers": 1, "max_steps": 3, "batch_size": 16}
    space = {"lr": FloatDistribution(1e-4, 1e-2, log=True), "hidden_size": IntDistribution(4, 16)}
    search = ForecastingOptunaSearch(
        LSTMForecaster(horizon=6, **tiny), space, horizon=6, n_windows=1, n_trials=2
    ).fit(air)
    assert len(search.results_) == 2
    assert 1e-4 <= search.best_params_["lr"] <= 1e-2
    assert search.best_estimator_.hidden_size == search.best_params_["hidden_size"]
    with pytest.raises(ValueError, match=r"param_distributions\['lr'\] is 0.01; give an Optuna"):
        ForecastingOptunaSearch(LSTMForecaster(horizon=6), {"lr": 0.01}, horizon=6).fit(air)
    with pytest.raises(ValueError, match=r"has no parameter\(s\) \['depth'\]"):
        ForecastingOptunaSearch(SeasonalNaive(), {"depth": [1, 2]}, horizon=6).fit(air)
