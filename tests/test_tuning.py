"""Tuning by backtest: every candidate on the same cutoffs, the best refitted on all data."""

import pytest

from tsrnn import ForecastingGridSearch, LSTMForecaster, SeasonalNaive, backtest, datasets


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
