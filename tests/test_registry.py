"""The registry names every model once: the CLI, the reports and loading look models up here."""

import pytest
from tsrnn_cli.settings import Settings

from tsrnn import DataError, registry


def test_every_entry_names_a_class_that_maps_back_to_it():
    for e in registry.REGISTRY:
        cls = e.cls()
        assert (cls.__module__, cls.__name__) == (e.module, e.class_name)
        if e.name != "conformal":  # a wrapper needs a model to be built
            assert registry.entry_of(cls()) is e
    assert registry.entry("LSTMForecaster") is registry.entry("lstm")


def test_build_applies_a_default_only_where_the_class_takes_it():
    ets = registry.build("ets", season=12, n_jobs=2)
    assert (ets.season, ets.n_jobs) == (12, 2)
    snaive = registry.build("snaive", season=12, n_jobs=2)  # no n_jobs: not passed
    assert snaive.season == 12
    assert registry.build("ets").n_jobs == 1  # the library's default; the CLI sets its own
    with pytest.raises(DataError, match=r"unknown model parameter\(s\) \['hidden'\] for ETS"):
        registry.build("ets", {"hidden": 3})
    with pytest.raises(DataError, match="unknown model 'lstn'; choose from lstm, gru"):
        registry.entry("lstn")


def test_the_cli_fits_per_series_models_in_two_processes():
    models = Settings.read(None, {}, "models").build("ets,theta,snaive", horizon=6, season=12)
    assert models["ETS"].n_jobs == 2 and models["Theta"].n_jobs == 2
    assert models["SeasonalNaive"].season == 12


def test_a_wrapper_is_a_baseline_when_what_it_wraps_is():
    from tsrnn.evaluate.conformal import ConformalForecaster
    from tsrnn.models.stats import Theta

    assert registry.is_baseline(ConformalForecaster(Theta()))
    assert not registry.is_baseline(object())
