"""The benchmark scripts' shared helpers, which `make bench` and the RESULTS tables rest on."""

import sys
from pathlib import Path

import pytest

from tsrnn import Naive2, SeasonalNaive, backtest, datasets

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from baselines import merge_results


def test_backtests_run_separately_merge_into_one_with_every_call_recorded():
    air = datasets.load("air_passengers")
    a = backtest(SeasonalNaive(), air, horizon=12, n_windows=2)
    b = backtest(Naive2(), air, horizon=12, n_windows=2)
    merged = merge_results([a, b])
    assert merged.models == ["SeasonalNaive", "Naive2"]
    assert merged.config["call"].splitlines() == [a.config["call"], b.config["call"]]
    assert set(merged.metrics(["mase"]).model) == {"SeasonalNaive", "Naive2"}
    other = backtest(Naive2(), air, horizon=12, n_windows=2, step=6)
    with pytest.raises(ValueError, match="ran over other windows"):
        merge_results([a, other])
    scored_otherwise = backtest(Naive2(), air, horizon=12, n_windows=2, season=4)
    with pytest.raises(ValueError, match="ran with another config"):
        merge_results([a, scored_otherwise])
