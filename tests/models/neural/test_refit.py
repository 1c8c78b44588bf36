"""The refit on every window after the validated run (``refit``): when the data asks for it,
what it trains on and for how long, what it keeps of the first run, and Ctrl-C during it."""

import numpy as np
import pandas as pd
import pytest

import tsrnn
from tsrnn.models.neural import LSTMForecaster
from tsrnn.models.neural.params import REFIT_SHARE, refit_budget

SMALL = {"hidden_size": 8, "num_layers": 1, "batch_size": 32, "max_steps": 40}


def short_monthly(n_series: int = 12, length: int = 40, seed: int = 0) -> pd.DataFrame:
    """Short seasonal monthly series (M3 monthly's shortest are 48 points): their validation
    tail is a large share of their windows."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    frames = []
    for i in range(n_series):
        level = rng.uniform(50, 500)
        season = level * 0.2 * np.sin(2 * np.pi * t / 12 + rng.uniform(0, 6))
        y = level + season + level * 0.01 * t + rng.normal(0, 0.03 * level, length)
        ds = pd.date_range("2000-01-01", periods=length, freq="MS")
        frames.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": y}))
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------------- the rule
def test_a_large_tail_refits_for_the_whole_budget_and_early_stopping_for_the_kept_step():
    many = int(1000 * (1 + REFIT_SHARE))
    # the tail adds REFIT_SHARE or more of the windows (short series): the whole budget of
    # 1,000 steps, whether the first run used it all or early stopping ended it at step 550
    # after keeping a warm-up step (M3 quarterly, seeds 1 and 2)
    for reason, best in (("max_steps", 900), ("early_stopping", 50)):
        large = refit_budget(None, reason, best, 1000, windows=1000, all_windows=many)
        assert (large.steps, large.windows) == (1000, many)
        assert "adds 20% more windows" in large.reason
    # a small tail: early stopping at step 300 kept step 150, a whole schedule of 150 steps
    early = refit_budget(None, "early_stopping", 150, 1000, windows=1000, all_windows=1003)
    assert (early.steps, early.windows) == (150, 1003)
    assert "early stopping kept step 150" in early.reason
    # ... and where the whole budget ran, the validated network is kept
    assert refit_budget(None, "max_steps", 900, 1000, 1000, many - 1) is None


def test_refit_true_and_false_override_the_rule_but_never_without_a_tail_or_after_ctrl_c():
    assert refit_budget(True, "max_steps", 900, 1000, 1000, 1010).steps == 1000
    assert refit_budget(True, "early_stopping", 150, 1000, 1000, 1010).steps == 150
    assert refit_budget(False, "early_stopping", 150, 1000, 1000, 2000) is None
    assert refit_budget(True, "max_steps", 900, 1000, 1000, 1000) is None  # no tail
    assert refit_budget(True, "interrupted", 40, 1000, 1000, 2000) is None


@pytest.mark.parametrize("value", ["yes", 1])
def test_refit_takes_true_false_or_none(value):
    with pytest.raises(ValueError, match=rf"refit={value!r}; pass True, False or None"):
        LSTMForecaster(horizon=6, refit=value).fit(short_monthly(2))


# ---------------------------------------------------------------------- the fit
def test_short_series_refit_on_their_tail_and_keep_the_first_runs_interval_errors():
    data = short_monthly()
    params = {**SMALL, "horizon": 8, "patience": None}
    refitted = LSTMForecaster(**params).fit(data)
    validated = LSTMForecaster(**params, refit=False).fit(data)
    assert validated.refit_ is None
    more = refitted.refit_["windows"] / refitted.n_windows_["train"] - 1
    assert more >= REFIT_SHARE and refitted.refit_["steps"] == refitted.steps_ == 40
    # the first run is the same run; the refit's rows count on from its last step
    first = refitted.history_[refitted.history_.phase == "fit"]
    pd.testing.assert_frame_equal(
        first.drop(columns=["windows_per_s", "elapsed_s"]),
        validated.history_.drop(columns=["windows_per_s", "elapsed_s"]),
    )
    second = refitted.history_[refitted.history_.phase == "refit"]
    assert second.step.iloc[0] > 40 and second.step.iloc[-1] == 80
    assert second.val_loss.isna().all()
    # the intervals come from the first run's out-of-sample errors, not the refit's
    np.testing.assert_array_equal(refitted.residual_std_, validated.residual_std_)
    a, b = refitted.predict(8), validated.predict(8)
    assert not np.allclose(a.LSTM, b.LSTM)


def test_the_refit_is_a_fit_on_every_window_from_the_same_start():
    """Without what the held-out tail changes (the scaling and series spreads fitted before
    it, the series weights, dropout's draws), the refit trains exactly the network a fit
    without validation trains: the same windows, in the same order, from the same
    initialization, for the same steps."""
    data = short_monthly(6)
    same = {**SMALL, "horizon": 8, "patience": None, "max_epochs": None, "dropout": 0.0}
    same |= {"scaler": "none", "window_norm": None, "relative_loss": False, "num_threads": 1}
    same |= {"combine_ets": False, "combine_damped": False}  # no partner fitted on the tail
    refitted = LSTMForecaster(**same, refit=True).fit(data)
    plain = LSTMForecaster(**same, val_size=0).fit(data)
    validated = LSTMForecaster(**same, refit=False).fit(data)
    assert refitted.refit_["windows"] == plain.n_windows_["train"]
    np.testing.assert_array_equal(refitted.predict(8).LSTM, plain.predict(8).LSTM)
    assert not np.allclose(validated.predict(8).LSTM, plain.predict(8).LSTM)


EARLY = {**SMALL, "horizon": 8, "max_epochs": None, "lr": 3e-2, "patience": 1, "val_every": 2}


def test_early_stopping_on_long_series_refits_as_long_as_the_kept_weights_trained():
    data = short_monthly(6, length=240)  # the tail adds 8 windows to some 230 a series
    model = LSTMForecaster(**EARLY).set_params(max_steps=400).fit(data)
    assert model.refit_["windows"] / model.n_windows_["train"] - 1 < REFIT_SHARE
    assert model.stop_reason_ == "early_stopping" and model.steps_ < 400
    assert model.refit_["steps"] == model.best_step_
    assert model.history_.step.iloc[-1] == model.steps_ + model.best_step_
    assert model.predict(8).LSTM.notna().all()


def test_early_stopping_on_short_series_still_refits_for_the_whole_budget():
    model = LSTMForecaster(**EARLY).set_params(max_steps=400).fit(short_monthly(6))
    assert model.refit_["windows"] / model.n_windows_["train"] - 1 >= REFIT_SHARE
    assert model.stop_reason_ == "early_stopping" and model.steps_ < 400
    assert model.refit_["steps"] == model.budget_["steps"] == 400
    assert model.history_.step.iloc[-1] == model.steps_ + 400
    assert model.predict(8).LSTM.notna().all()


def test_ctrl_c_in_the_refit_keeps_the_validated_network():
    data = short_monthly()

    def interrupt(progress):
        if progress.phase == "refit":
            raise KeyboardInterrupt

    params = {**SMALL, "horizon": 8, "patience": None}
    stopped = LSTMForecaster(**params, val_every=5, callback=interrupt).fit(data)
    validated = LSTMForecaster(**params, val_every=5, refit=False).fit(data)
    assert stopped.stop_reason_ == "interrupted" and stopped.refit_ is None
    assert set(stopped.history_.phase) == {"fit"}
    pd.testing.assert_frame_equal(stopped.predict(8), validated.predict(8))


def test_a_saved_refit_model_loads_with_its_record(tmp_path):
    model = LSTMForecaster(**SMALL, horizon=8, patience=None, combine_runs=True)
    model.fit(short_monthly(4))
    assert model.refit_ is not None and "refit" in set(model.history_.phase)
    model.save(tmp_path / "m.tsrnn")
    loaded = tsrnn.load(tmp_path / "m.tsrnn")
    assert loaded.refit_ == model.refit_ and loaded.get_params()["refit"] is None
    assert loaded.first_net_ is not None  # the forecasts below need both networks
    pd.testing.assert_frame_equal(loaded.history_, model.history_)
    pd.testing.assert_frame_equal(loaded.predict(8), model.predict(8))


# ---------------------------------------------------------------------- both runs' networks
def test_after_a_refit_the_forecasts_are_the_mean_of_the_refits_and_the_first_runs():
    data = short_monthly()
    params = {**SMALL, "horizon": 8, "patience": None, "quantiles": [0.1, 0.5, 0.9]}
    both = LSTMForecaster(**params, combine_runs=None).fit(data)  # None: on for a point loss
    refit_only = LSTMForecaster(**params).fit(data)  # the default: the refit's network
    validated = LSTMForecaster(**params, refit=False).fit(data)
    assert both.first_net_ is not None and both.choices_["combine_runs"]
    assert refit_only.first_net_ is None and not refit_only.choices_["combine_runs"]
    assert validated.first_net_ is None  # no refit: one network
    got = both.predict(8, quantiles=[0.1, 0.9])
    a, b = refit_only.predict(8, quantiles=[0.1, 0.9]), validated.predict(8, quantiles=[0.1, 0.9])
    for column in ("LSTM", "LSTM-q0.1", "LSTM-q0.9"):
        np.testing.assert_allclose(got[column], (a[column] + b[column]) / 2, rtol=1e-5)
    assert not np.allclose(got.LSTM, a.LSTM) and not np.allclose(got.LSTM, b.LSTM)


def test_a_distribution_loss_forecasts_with_the_refits_network_alone():
    data = short_monthly(4)
    params = {**SMALL, "horizon": 8, "patience": None, "loss": "normal"}
    assert LSTMForecaster(**params, combine_runs=None).fit(data).first_net_ is None
    with pytest.raises(ValueError, match=r"combine_runs averages two networks' forecasts"):
        LSTMForecaster(**params, combine_runs=True).fit(data)


def test_a_first_run_kept_within_its_warm_up_is_not_averaged_in_unless_asked():
    from tsrnn.models.neural.training import TrainConfig, warmup_steps

    assert warmup_steps(TrainConfig(max_steps=264, lr=1e-3)) == pytest.approx(26.4)
    assert warmup_steps(TrainConfig(max_steps=264, lr=1e-3, schedule="constant")) == 0
    data = short_monthly(6)
    # a rate so high that the first validations are the best: a step within the warm-up
    params = {**SMALL, "horizon": 8, "lr": 5.0, "val_every": 1, "patience": 3}
    rule = LSTMForecaster(**params, combine_runs=None).fit(data)
    assert rule.refit_ is not None and rule.best_step_ <= 4  # 10 % of 40 steps
    assert rule.first_net_ is None and not rule.choices_["combine_runs"]
    forced = LSTMForecaster(**params, combine_runs=True).fit(data)
    assert forced.best_step_ == rule.best_step_ and forced.first_net_ is not None
