"""Model files: any model's state saved and loaded exactly, no pickled code run, files of
earlier tsrnn versions still loading with the forecasts they gave."""

import json
import logging
import pickle
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import tsrnn
from tsrnn import DataError, datasets
from tsrnn.models.neural import GRUForecaster, LSTMForecaster
from tsrnn.models.stats.arima import ARIMA
from tsrnn.models.stats.naive import Naive2, SeasonalNaive
from tsrnn.models.stats.smoothing import ETS

TINY = {"hidden_size": 8, "num_layers": 1, "max_steps": 8, "val_every": 4, "batch_size": 32}
OLD = Path(__file__).parents[1] / "data" / "models"  # written by tsrnn at 3430968 (make_legacy.py)


def test_save_and_load_give_identical_forecasts(beijing, tmp_path):
    data = beijing[beijing.unique_id.isin(["Dongsi", "Tiantan"])]
    model = GRUForecaster(
        horizon=24,
        past_covariates=["DEWP"],
        targets=["TEMP"],
        loss="quantile",
        embedding_size=2,
        **TINY,
    ).fit(data)
    path = tmp_path / "model.tsrnn"
    model.save(path)
    loaded = tsrnn.load(path)
    assert type(loaded) is GRUForecaster and loaded.get_params() == {
        **model.get_params(),
        "callback": None,
    }
    pd.testing.assert_frame_equal(
        model.predict(24, quantiles=[0.1, 0.9]), loaded.predict(24, quantiles=[0.1, 0.9])
    )
    pd.testing.assert_frame_equal(model.history_, loaded.history_)
    assert loaded.feature_names_ == model.feature_names_  # tuples stay tuples
    assert [p.name for p in tmp_path.iterdir()] == ["model.tsrnn"], "no temporary file left"


def test_a_loaded_model_forecasts_new_histories_and_saves_again(air, tmp_path):
    model = LSTMForecaster(horizon=6, **TINY).fit(air)
    model.save(tmp_path / "a.tsrnn")
    loaded = tsrnn.load(tmp_path / "a.tsrnn")
    history = air.iloc[:-12]
    pd.testing.assert_frame_equal(model.predict(6, y=history), loaded.predict(6, y=history))
    loaded.update(history).save(tmp_path / "b.tsrnn")
    again = tsrnn.load(tmp_path / "b.tsrnn")
    pd.testing.assert_frame_equal(model.predict(6, y=history), again.predict(6))


def test_numpy_typed_parameters_save_and_load(air, tmp_path):
    model = LSTMForecaster(
        horizon=np.int64(6), quantiles=np.array([0.2, 0.8]), loss="quantile", **TINY
    ).fit(air)
    model.save(tmp_path / "m.tsrnn")
    loaded = tsrnn.load(tmp_path / "m.tsrnn")
    assert loaded.get_params()["horizon"] == 6
    pd.testing.assert_frame_equal(model.predict(6), loaded.predict(6))


def test_several_naive_seasons_save_and_load(air, tmp_path):
    model = LSTMForecaster(
        horizon=6, naive_inputs=True, naive_skip=True, naive_seasons=[6, 12], **TINY
    ).fit(air)
    model.save(tmp_path / "m.tsrnn")
    loaded = tsrnn.load(tmp_path / "m.tsrnn")
    assert loaded.config_.seasons == (6, 12) and loaded.get_params()["naive_seasons"] == [6, 12]
    pd.testing.assert_frame_equal(model.predict(6), loaded.predict(6))


@pytest.mark.parametrize("model", [SeasonalNaive(), Naive2()], ids=lambda m: m.name)
def test_baselines_save_and_load_through_the_same_contract(air, tmp_path, model):
    model.fit(air)
    model.save(tmp_path / "b.tsrnn")
    loaded = tsrnn.load(tmp_path / "b.tsrnn")
    assert type(loaded) is type(model)
    pd.testing.assert_frame_equal(
        model.predict(12, quantiles=[0.1, 0.9]), loaded.predict(12, quantiles=[0.1, 0.9])
    )


def test_a_model_holding_statsmodels_fits_says_it_cannot_be_saved(air, tmp_path):
    model = ARIMA().fit(air)
    with pytest.raises(TypeError, match="statsmodels fit per series.*refit"):
        model.save(tmp_path / "arima.tsrnn")
    assert not list(tmp_path.iterdir()), "nothing written"


def test_ets_saves_each_series_selected_model_and_moves_on_after_loading(tmp_path):
    """Automatic ETS keeps each series' form, parameters and history as plain data: the
    loaded model forecasts, with intervals, and updates to longer histories as the fitted
    one does, with no refit; a series that fell back stays a fallback."""
    air = datasets.load("air_passengers")
    flat = air.assign(unique_id="flat", y=5.0)  # constant: ETS falls back to the naive
    panel = pd.concat([air, flat], ignore_index=True)
    train = panel.groupby("unique_id").head(120)
    model = ETS(n_jobs=1).fit(train)
    assert model.fallbacks_["unique_id"].tolist() == ["flat"]
    model.save(tmp_path / "ets.tsrnn")
    loaded = tsrnn.load(tmp_path / "ets.tsrnn")
    pd.testing.assert_frame_equal(loaded.models_, model.models_)
    pd.testing.assert_frame_equal(
        loaded.predict(12, quantiles=[0.1, 0.9]), model.predict(12, quantiles=[0.1, 0.9])
    )
    longer = panel.groupby("unique_id").head(132)
    moved = loaded.update(longer).predict(12)
    pd.testing.assert_frame_equal(moved, model.update(longer).predict(12))
    refitted = ETS(n_jobs=1).fit(longer).predict(12)  # what a refit would give instead
    assert not np.allclose(moved["ETS"].head(12), refitted["ETS"].head(12), rtol=1e-4)
    assert loaded.update(longer).fallbacks_["unique_id"].tolist() == ["flat"]


def test_the_file_holds_tensors_and_json_only(air, tmp_path):
    LSTMForecaster(horizon=6, **TINY).fit(air).save(tmp_path / "m.tsrnn")
    payload = torch.load(tmp_path / "m.tsrnn", weights_only=True)
    assert set(payload) == {"meta", "tensors"}
    meta = json.loads(payload["meta"])
    assert meta["format_version"] == 3 and meta["class"] == "LSTMForecaster"
    assert all(isinstance(t, torch.Tensor) for t in payload["tensors"].values())


def test_loading_never_unpickles_code(tmp_path):
    path = tmp_path / "evil.tsrnn"
    torch.save({"meta": "{}", "tensors": {}, "payload": logging.getLogger}, path)
    with pytest.raises(DataError, match="not a tsrnn model file"):
        tsrnn.load(path)


def test_a_foreign_file_gets_our_one_line_not_torchs_advice(tmp_path):
    """A raw pickle (torch warns about its protocol) and a CSV: one DataError, no warning,
    and never torch's advice to load with weights_only=False, which would run the file."""
    pickled = tmp_path / "foreign.tsrnn"
    pickled.write_bytes(pickle.dumps({"weights": [1.0, 2.0]}, protocol=4))
    text = tmp_path / "data.csv"
    text.write_text("unique_id,ds,y\na,2024-01-01,1\n")
    for path, start in ((pickled, ""), (text, "a text file (data?), ")):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # any warning fails the test
            with pytest.raises(DataError) as caught:
                tsrnn.load(path)
        assert str(caught.value) == (
            f"{path}: {start}not a tsrnn model file, or written by an unknown version; "
            "nothing in it was run"
        )


def rewrite(path, edit) -> None:
    """Rewrite a saved model file as another tsrnn would have written it: ``edit(meta,
    tensors)`` changes the parsed metadata and the tensors in place."""
    payload = torch.load(path, weights_only=True)
    meta = json.loads(payload["meta"])
    edit(meta, payload["tensors"])
    torch.save({**payload, "meta": json.dumps(meta)}, path)


def test_a_file_from_a_newer_format_says_to_upgrade(air, tmp_path):
    model = LSTMForecaster(horizon=6, **TINY).fit(air)
    path = tmp_path / "m.tsrnn"
    model.save(path)
    rewrite(path, lambda meta, _: meta.update(format_version=99, tsrnn_version="9.0"))
    with pytest.raises(DataError, match="written by tsrnn 9.0 .* upgrade tsrnn"):
        tsrnn.load(path)


def test_a_file_of_an_unknown_class_is_named(air, tmp_path):
    path = tmp_path / "m.tsrnn"
    SeasonalNaive().fit(air).save(path)
    rewrite(path, lambda meta, _: meta.update({"class": "Prophet"}))
    with pytest.raises(DataError, match="unknown model class 'Prophet'"):
        tsrnn.load(path)


@pytest.mark.parametrize(
    "name, h",
    [("lstm-format2", 6), ("gru-format2", 24), ("lstm-format1", 6)],
)
def test_files_of_earlier_tsrnn_versions_load_with_the_forecasts_they_gave(name, h):
    """Written before the state contract: format 2 (the naive blend as softmax weights, with
    covariates and an extra target in the GRU), and format 1 (one season, a sigmoid blend
    logit, ``mixed_precision``) holding the same LSTM as format 2."""
    model = tsrnn.load(OLD / f"{name}.tsrnn")
    expected = pd.read_csv(OLD / f"{name.replace('format1', 'format2')}.csv", parse_dates=["ds"])
    got = model.predict(h, quantiles=[0.1, 0.9])
    expected["ds"] = expected.ds.astype(got.ds.dtype)
    pd.testing.assert_frame_equal(got, expected, check_exact=False, atol=1e-4)
    assert model.plan_.precision == "fp32"
