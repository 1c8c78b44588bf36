"""Static covariates: a ``static_df`` of series attributes read by the networks, so that a
series unseen in fit is described by its attributes instead of the mean embedding."""

import logging

import numpy as np
import pandas as pd
import pytest

from tsrnn import DataError, backtest, load
from tsrnn.data.static import StaticFeatures
from tsrnn.models.neural import LSTMForecaster
from tsrnn.models.stats.naive import SeasonalNaive

T, H = 60, 6
NET = {
    "horizon": H,
    "input_size": 2,
    "hidden_size": 16,
    "max_steps": 300,
    "season": 1,
    "naive_inputs": False,
    "random_state": 0,
    "refit": False,  # the network validated at its best step (the refit: test_refit.py)
}


def trending(names, directions, seed):
    """Series that climb or fall one unit a step under noise of sd 3: two points (the input
    window) cannot tell the direction; the attribute ``trend`` does."""
    rng = np.random.default_rng(seed)
    frames = [
        pd.DataFrame(
            {"unique_id": n, "ds": np.arange(T), "y": 50 + d * np.arange(T) + rng.normal(0, 3, T)}
        )
        for n, d in zip(names, directions, strict=True)
    ]
    static = pd.DataFrame(
        {
            "unique_id": names,
            "trend": ["up" if d > 0 else "down" for d in directions],
            "weight": rng.normal(size=len(names)),  # numeric, and irrelevant
        }
    )
    return pd.concat(frames, ignore_index=True), static


@pytest.fixture(scope="module")
def panel():
    names = [f"s{i}" for i in range(40)]
    return trending(names, [1 if i % 2 == 0 else -1 for i in range(40)], seed=0)


@pytest.fixture(scope="module")
def fitted(panel):
    data, static = panel
    return LSTMForecaster(**NET).fit(data, static_df=static)


def test_the_attribute_decides_where_a_new_series_goes(panel, fitted):
    data, _ = panel
    new, new_static = trending(["new_up", "new_down"], [1, -1], seed=1)
    truth = {"new_up": 50 + np.arange(T, T + H), "new_down": 50 - np.arange(T, T + H)}
    forecast = fitted.predict(y=new, static_df=new_static)
    # The same network without attributes gives unseen series the mean embedding.
    blind = LSTMForecaster(**NET, embedding_size=4).fit(data).predict(y=new)
    errors = {}
    for name, frame in (("static", forecast), ("embedding", blind)):
        errors[name] = np.mean(
            [np.abs(frame[frame.unique_id == s].LSTM.to_numpy() - truth[s]).mean() for s in truth]
        )
    up = forecast[forecast.unique_id == "new_up"].LSTM.to_numpy()
    down = forecast[forecast.unique_id == "new_down"].LSTM.to_numpy()
    assert up[-1] - up[0] > 2 and down[-1] - down[0] < -2  # each goes its own way
    assert errors["static"] < 0.6 * errors["embedding"], errors


def test_changing_a_fitted_series_attribute_changes_its_forecast(fitted):
    _, static = trending(["s0"], [1], seed=0)
    flipped = static.assign(trend="down")
    before = fitted.predict()
    after = fitted.predict(static_df=flipped)
    s0 = before.unique_id == "s0"
    assert after[s0].LSTM.iloc[-1] < before[s0].LSTM.iloc[-1] - 2
    pd.testing.assert_frame_equal(after[~s0], before[~s0])  # the others keep theirs
    pd.testing.assert_frame_equal(fitted.predict(), before)  # the model itself is unchanged


def test_a_series_without_attributes_is_refused_by_name(panel, fitted):
    data, static = panel
    new, _ = trending(["stranger"], [1], seed=2)
    with pytest.raises(DataError, match=r"no static attributes for 1 series \(first: 'stranger'\)"):
        fitted.predict(y=new)
    with pytest.raises(DataError, match=r"no row for 1 of the 40 fitted series \(first: 's3'\)"):
        LSTMForecaster(**NET).fit(data, static_df=static[static.unique_id != "s3"])
    with pytest.raises(DataError, match=r"lacks the columns \['weight'\]"):
        fitted.predict(static_df=static.drop(columns="weight"))


def test_a_saved_model_keeps_the_attributes(fitted, tmp_path):
    fitted.save(tmp_path / "m.tsrnn")
    loaded = load(tmp_path / "m.tsrnn")
    assert loaded.static_.names == fitted.static_.names
    pd.testing.assert_frame_equal(loaded.predict(), fitted.predict())
    new, new_static = trending(["new"], [1], seed=3)
    pd.testing.assert_frame_equal(
        loaded.predict(y=new, static_df=new_static), fitted.predict(y=new, static_df=new_static)
    )


def test_a_backtest_gives_every_fit_the_attributes(panel):
    data, static = panel
    result = backtest(
        {"LSTM": LSTMForecaster(**{**NET, "max_steps": 20}), "SN": SeasonalNaive()},
        data,
        horizon=H,
        n_windows=2,
        season=1,
        static_df=static,
    )
    assert set(result.forecasts.columns) >= {"LSTM", "SN"}
    assert "static_df=static_df" in result.config["call"]
    assert len(result.config["static_sha256"]) == 64


def test_a_model_that_reads_no_attributes_says_it_ignores_them(panel, caplog):
    data, static = panel
    caplog.set_level(logging.WARNING, logger="tsrnn")
    SeasonalNaive(season=1).fit(data, static_df=static)
    assert "SeasonalNaive reads no static attributes; static_df ignored" in caplog.text


# ---------------------------------------------------------------------- the encoding
def test_numbers_are_standardized_and_categories_one_hot_over_the_fitted_levels(caplog):
    static = pd.DataFrame(
        {
            "unique_id": [1, 2, 3],
            "size": [1, 2, 3],
            "open": [True, False, True],
            "region": pd.Categorical(["n", "s", "n"]),
        }
    )
    features = StaticFeatures.fit(static, [1, 2], "LSTM")  # series 3 has a row, not fitted
    assert features.names == ("static:size", "static:open", "static:region=n", "static:region=s")
    np.testing.assert_allclose(features.values([1, 2], "LSTM"), [[-1, 1, 1, 0], [1, -1, 0, 1]])
    np.testing.assert_allclose(features.values([3], "LSTM"), [[3, 1, 1, 0]])  # known too
    caplog.set_level(logging.WARNING, logger="tsrnn")
    later = features.with_rows(
        pd.DataFrame({"unique_id": [4], "size": [2], "open": [False], "region": ["e"]}), "LSTM"
    )
    assert "levels never seen in fit ('e')" in caplog.text
    np.testing.assert_allclose(later.values([4], "LSTM"), [[1, -1, 0, 0]])
    keyed = StaticFeatures.fit(static.set_index("unique_id"), [1, 2, 3], "LSTM")
    assert keyed.ids == ("1", "2", "3")


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (
            pd.DataFrame({"unique_id": ["a", "b"], "size": [1.0, np.nan]}),
            r"column 'size' of series 'b' is missing",
        ),
        (
            pd.DataFrame({"unique_id": ["a", "b"], "size": [1.0, np.inf]}),
            r"column 'size' of series 'b' is inf, not a finite number",
        ),
        (
            pd.DataFrame({"unique_id": ["a", "b"], "kind": ["x", None]}),
            r"column 'kind' of series 'b' is missing",
        ),
        (
            pd.DataFrame({"unique_id": ["a", "a"], "size": [1.0, 2.0]}),
            r"more than one row for series 'a'",
        ),
        (
            pd.DataFrame({"unique_id": ["a", "b"], "opened": pd.to_datetime(["2020", "2021"])}),
            r"column 'opened' holds dates",
        ),
        (pd.DataFrame({"id": ["a", "b"], "size": [1.0, 2.0]}), r"no 'unique_id' column"),
        (pd.DataFrame({"unique_id": ["a", "b"]}), r"no attribute columns"),
        ([1, 2], r"must be a DataFrame"),
    ],
)
def test_bad_attributes_are_named(frame, message):
    with pytest.raises(DataError, match=message):
        StaticFeatures.fit(frame, ["a", "b"], "LSTM")
