"""The ensemble: the median (or mean) of its members' forecasts, a model like any other."""

import numpy as np
import pytest
from sklearn.base import clone

from tsrnn import registry
from tsrnn.models import Ensemble
from tsrnn.models.neural import LSTMForecaster
from tsrnn.models.stats import Drift, Naive2, SeasonalNaive

LEVELS = [0.1, 0.9]


def members():
    return [SeasonalNaive(), Naive2(), Drift()]


@pytest.mark.parametrize("how, combine", [("median", np.median), ("mean", np.mean)])
def test_forecasts_and_quantiles_combine_the_members_level_by_level(air, how, combine):
    model = Ensemble(members(), how=how).fit(air)
    got = model.predict(12, quantiles=LEVELS)
    alone = [m.fit(air).predict(12, quantiles=LEVELS) for m in members()]
    for suffix in ("", "-q0.1", "-q0.9"):
        each = [f[f"{m.name}{suffix}"] for m, f in zip(members(), alone, strict=True)]
        np.testing.assert_allclose(got[f"Ensemble{suffix}"], combine(each, axis=0))
    assert (got["Ensemble-q0.1"] <= got["Ensemble"]).all()
    assert (got["Ensemble"] <= got["Ensemble-q0.9"]).all()
    assert [type(m) for m in model.models_] == [SeasonalNaive, Naive2, Drift]
    assert all(
        m is not t for m, t in zip(model.models_, model.models, strict=True)
    )  # fitted clones


def test_window_forecasts_combine_each_members_batched_windows(air):
    model = Ensemble(members()).fit(air.iloc[:-24])
    ends = np.array([[120], [126], [132]])
    got = model.predict_windows(air, ends, h=6)
    each = [m.fit(air.iloc[:-24]).predict_windows(air, ends, h=6) for m in members()]
    expected = np.median([f[m.name] for m, f in zip(members(), each, strict=True)], axis=0)
    np.testing.assert_allclose(got["Ensemble"], expected)
    assert got["window"].tolist() == sorted(got["window"].tolist()) and len(got) == 18


def test_clone_and_params_hold_the_members_unfitted(air):
    net = LSTMForecaster(horizon=6, max_steps=2, hidden_size=4, num_layers=1)
    model = Ensemble([net, SeasonalNaive()], how="mean")
    twin = clone(model)
    assert twin.models[0] is not net and twin.models[0].get_params() == net.get_params()
    assert model.get_params()["how"] == "mean"
    assert model.fit(air).predict().shape[0] == 6  # the network's horizon is the default h


@pytest.mark.parametrize(
    "given, message",
    [
        ({"models": [SeasonalNaive()]}, "at least two forecasters"),
        ({"models": "lstm,ets"}, "at least two forecasters"),
        ({"models": [SeasonalNaive(), "ets"]}, "'ets' is not a tsrnn forecaster"),
        ({"models": members(), "how": "max"}, "how='max'; choose one of"),
    ],
)
def test_bad_members_or_combination_are_refused_before_fitting(air, given, message):
    with pytest.raises(ValueError, match=message):
        Ensemble(**given).fit(air)


def test_an_ensemble_of_baselines_is_a_baseline_one_with_a_network_is_not():
    assert registry.is_baseline(Ensemble(members()))
    assert not registry.is_baseline(Ensemble([LSTMForecaster(horizon=6), SeasonalNaive()]))


def test_a_member_reads_the_covariates_of_the_frame_it_is_given(beijing):
    """A network member with past covariates finds them in the data the ensemble fits on."""
    two = beijing[beijing.unique_id.isin(beijing.unique_id.unique()[:2])]
    data = two.groupby("unique_id").tail(300)
    net = LSTMForecaster(
        horizon=24, max_steps=3, hidden_size=4, num_layers=1, past_covariates=["TEMP"]
    )
    model = Ensemble([net, SeasonalNaive()]).fit(data)
    assert "TEMP" in model.models_[0].feature_names_
    assert model.predict().shape == (48, 3)
