"""Sample paths for the user: ``model.sample(h, n)``, a long frame with a ``sample`` column,
whose marginals are the model's own forecast distribution."""

import numpy as np
import pandas as pd
import pytest

from tsrnn import ETS, LSTMForecaster, SeasonalNaive, datasets
from tsrnn.evaluate.conformal import ConformalForecaster
from tsrnn.models.base import inverse_cdf

TINY = {"hidden_size": 8, "num_layers": 1, "max_steps": 30, "batch_size": 16, "random_state": 0}


@pytest.fixture(scope="module")
def air():
    return datasets.load("air_passengers")


def path_quantiles(paths, column, levels):
    return paths.groupby("ds")[column].quantile(levels).unstack().to_numpy()


@pytest.mark.parametrize(
    "model",
    [
        SeasonalNaive(),
        ETS(),
        LSTMForecaster(horizon=6, loss="mae", **TINY),
        LSTMForecaster(horizon=6, loss="quantile", quantiles=(0.05, 0.25, 0.5, 0.75, 0.95), **TINY),
        LSTMForecaster(horizon=6, loss="normal", **TINY),
        ConformalForecaster(SeasonalNaive(), horizon=6, n_windows=20),
    ],
    ids=["snaive", "ets", "lstm-mae", "lstm-quantile", "lstm-normal", "conformal"],
)
def test_the_paths_marginals_are_the_forecast_distribution(model, air):
    model.fit(air)
    name = model.name
    paths = model.sample(6, n=4000)
    assert list(paths.columns) == ["unique_id", "ds", "sample", name]
    assert len(paths) == 6 * 4000 and paths["sample"].max() == 3999
    # Conformal quantiles jump at the median (point - s, point, point + s for the smallest
    # score s): its median is not a quantile the paths can hit.
    levels = [0.1, 0.9] if isinstance(model, ConformalForecaster) else [0.1, 0.5, 0.9]
    forecast = model.predict(6, quantiles=levels)
    expected = forecast[[f"{name}-q{q:g}" for q in levels]].to_numpy()
    spread = expected[:, -1] - expected[:, 0]
    drawn = path_quantiles(paths, name, levels)
    # 4,000 draws: each quantile within 10 % of the 80 % interval's width
    assert np.all(np.abs(drawn - expected) <= 0.1 * spread[:, None]), (drawn, expected)


def test_steps_of_a_path_err_together_and_a_seed_repeats_them(air):
    model = SeasonalNaive().fit(air)
    paths = model.sample(12, n=2000)
    wide = paths.pivot(index="sample", columns="ds", values="SeasonalNaive").to_numpy()
    errors = wide - wide.mean(axis=0)
    # a Gaussian random walk scaled per step: corr(z_1, z_2) = sqrt(1/2), corr(z_1, z_12) = 0.29
    assert np.corrcoef(errors[:, 0], errors[:, 1])[0, 1] == pytest.approx(0.71, abs=0.05)
    assert np.corrcoef(errors[:, 0], errors[:, 11])[0, 1] == pytest.approx(0.29, abs=0.06)
    pd.testing.assert_frame_equal(model.sample(12, n=50), model.sample(12, n=50))
    other = model.sample(12, n=50, random_state=1)
    assert not np.allclose(other.SeasonalNaive, model.sample(12, n=50).SeasonalNaive)


def test_deepar_paths_feed_each_draw_to_the_next_step(air):
    model = LSTMForecaster(horizon=6, loss="studentt", head="recursive", **TINY).fit(air)
    paths = model.sample(6, n=2000)
    forecast = model.predict(6, quantiles=[0.1, 0.9])
    drawn = path_quantiles(paths, "LSTM", [0.1, 0.9])
    expected = forecast[["LSTM-q0.1", "LSTM-q0.9"]].to_numpy()
    width = expected[:, 1] - expected[:, 0]
    # predict's quantiles come from its own 200 paths: agreement within their noise
    assert np.all(np.abs(drawn - expected) <= 0.2 * width[:, None]), (drawn, expected)
    pd.testing.assert_frame_equal(model.sample(6, n=20), model.sample(6, n=20))  # seeded


@pytest.mark.parametrize("head", ["direct", "recursive"])
def test_count_models_give_whole_numbers(air, head):
    model = LSTMForecaster(
        horizon=6, loss="negbin", scaler="meanabs", window_norm=None, head=head, **TINY
    ).fit(air)
    paths = model.sample(6, n=300)
    assert (np.round(paths.LSTM) == paths.LSTM).all() and (paths.LSTM >= 0).all()
    forecast = model.predict(6, quantiles=[0.1, 0.9], level=[80])
    for column in ("LSTM-q0.1", "LSTM-q0.9", "LSTM-lo-80", "LSTM-hi-80"):
        assert (forecast[column] == np.round(forecast[column])).all(), column


def test_new_histories_keep_the_users_dtypes(air):
    shops = pd.DataFrame(
        {
            "unique_id": np.repeat([7, 8], 48),
            "ds": np.tile(np.arange(48), 2),
            "y": np.r_[np.arange(48.0), 100 - np.arange(48.0)],
        }
    )
    model = SeasonalNaive(season=12).fit(shops.iloc[:40])  # series 7 only, cut short
    paths = model.sample(4, n=10, y=shops)
    assert paths.unique_id.dtype == np.int64 and paths.ds.dtype == np.int64
    assert sorted(paths.unique_id.unique()) == [7, 8]
    assert paths.ds.min() == 48
    merged = paths.merge(model.predict(4, y=shops), on=["unique_id", "ds"])
    assert len(merged) == len(paths)


def test_bad_sample_counts_are_refused(air):
    model = SeasonalNaive().fit(air)
    for n in (0, 2.5, True):
        with pytest.raises(ValueError, match="sample n must be a positive integer"):
            model.sample(12, n=n)


def test_the_inverse_cdf_interpolates_inside_the_table_and_steps_for_counts():
    table = np.array([[[0.0, 10.0, 20.0]]])
    levels = np.array([0.25, 0.5, 0.75])
    u = np.array([[[0.1, 0.25, 0.375, 0.6, 0.9]]])
    np.testing.assert_allclose(inverse_cdf(table, levels, u), [[[0, 0, 5, 14, 20]]])
    np.testing.assert_allclose(inverse_cdf(table, levels, u, counts=True), [[[0, 0, 10, 20, 20]]])
