"""The training budget: steps follow the number of training windows (issue 24).

A default network trains ``max_steps`` steps, or the steps that take ``max_epochs`` passes
over its training windows when that is fewer; small data sets get smaller batches (a pass
still takes several steps); validation comes about 20 times per budget (60 for a lone
series); the learning-rate schedule spans the budget.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from tsrnn.models.neural import LSTMForecaster
from tsrnn.models.neural.params import PARAMETERS, budget, resolve


def params(**given):
    every = LSTMForecaster(horizon=6).get_params()
    defaults = {p: every[p] for p in PARAMETERS if p != "cell"}
    return {**defaults, **given}


def test_many_windows_train_max_steps_in_full_batches():
    b = budget(params(), n_windows=200_000, n_series=414)  # 0.64 passes at batch 128
    assert (b.steps, b.batch, b.bound, b.val_every) == (1000, 256, "max_steps", 50)
    assert b.passes == pytest.approx(1000 * 256 / 200_000)


def test_a_budget_that_ends_before_one_pass_trains_twice_the_steps():
    """max_steps=None: 1,000 steps, or 2,000 where 1,000 full batches see fewer windows than
    30 series or more hold (M4 Hourly gained on every seed; data passed over several times
    did not, nor did the demo's 12 Beijing stations, whose long series overlap)."""
    hourly = budget(params(), n_windows=313_756, n_series=414)  # M4 Hourly: 0.8 passes
    assert (hourly.steps, hourly.bound, hourly.lr) == (2000, "max_steps", 3e-3)
    assert hourly.passes == pytest.approx(2000 * 256 / 313_756)
    assert budget(params(), n_windows=1000 * 256).steps == 1000  # a whole pass: as before
    assert budget(params(), n_windows=91_000, n_series=1428).steps == 1000  # M3 monthly
    given = budget(params(max_steps=1000), n_windows=313_756, n_series=414)
    assert given.steps == 1000  # a given cap holds
    assert budget(params(batch_size=512), n_windows=313_756, n_series=414).steps == 1000
    assert budget(params(), n_windows=420_000, n_series=12).steps == 1000  # the demo's Beijing


def test_few_windows_are_capped_in_passes_with_smaller_batches():
    b = budget(params(), n_windows=1056, n_series=3)  # three 400-hour series, h = 24
    assert b.bound == "max_epochs"
    assert b.batch == 1056 // 16  # at least 16 steps a pass ...
    assert b.steps == int(np.ceil(30 * 1056 / b.batch))  # ... for max_epochs = 30 passes
    assert b.passes == pytest.approx(30, abs=0.1)
    assert b.val_every == b.steps // 20


def test_a_lone_series_validates_three_times_as_often():
    """Its validation tail is one window: patience's 10 validations wait 160 steps of 1,000,
    not 500, before they end the run (ETTh1 and ETTh2 kept late snapshots that lost)."""
    lone = budget(params(), n_windows=11_300, n_series=1)  # ETTh1's 11,520 hours, h = 96
    assert (lone.steps, lone.val_every) == (1000, 16)
    assert budget(params(), n_windows=11_300 * 12, n_series=12).val_every == 50  # Beijing's
    assert budget(params(val_every=50), n_windows=11_300, n_series=1).val_every == 50  # given


def test_tiny_data_keeps_a_batch_of_32_and_every_window_once_a_pass():
    assert budget(params(), n_windows=100).batch == 32
    assert budget(params(), n_windows=20).batch == 20  # fewer windows than a batch: all


def test_max_epochs_none_and_an_explicit_val_every_restore_the_fixed_budget():
    b = budget(params(max_epochs=None, val_every=50), n_windows=1056)
    assert (b.steps, b.bound, b.val_every) == (1000, "max_steps", 50)
    assert budget(params(max_steps=30), n_windows=1056).steps == 30  # max_steps still caps


def test_fit_on_a_small_panel_trains_the_budget_and_says_so(air, caplog):
    model = LSTMForecaster(horizon=12, hidden_size=8, num_layers=1, patience=None)
    with caplog.at_level(logging.INFO, logger="tsrnn.models.neural"):
        model.fit(air)
    b = model.budget_
    assert b["bound"] == "max_epochs" and b["steps"] < 1000
    assert model.steps_ == b["steps"] == model.history_.step.iloc[-1]
    assert model.history_.step.diff().dropna().max() <= b["val_every"]
    # the one-cycle schedule spans the budget: it has annealed to (almost) nothing at its end
    assert model.history_.lr.iloc[-1] < 1e-3 * 1e-3
    assert f"{b['steps']} steps of batch {b['batch']}" in caplog.text


def test_the_learning_rate_is_higher_where_the_steps_end_training_on_many_series():
    """lr=None: 3e-3 where ``max_steps`` ends training within 15 passes and the panel holds
    30 series or more (M3 monthly and quarterly, M4 Weekly and Hourly gained); 1e-3 for a few
    series (Beijing's 12 stations, ETTh1's one series lost) and where the passes end it or
    nearly (M3 yearly at 30, 150 M3 monthly series at 26.5 lost); a rate given is kept."""
    assert budget(params(), n_windows=313_756, n_series=414).lr == 3e-3  # M4 Hourly
    quarterly = budget(params(), n_windows=18_860, n_series=756)  # M3 quarterly
    assert (quarterly.bound, round(quarterly.passes, 1), quarterly.lr) == ("max_steps", 13.6, 3e-3)
    some_monthly = budget(params(), n_windows=9_677, n_series=150)  # 150 M3 monthly series
    assert (some_monthly.bound, some_monthly.lr) == ("max_steps", 1e-3)
    assert budget(params(), n_windows=105_000, n_series=12).lr == 1e-3  # Beijing
    assert budget(params(), n_windows=14_000, n_series=29).lr == 1e-3
    yearly = budget(params(), n_windows=6_709, n_series=645)  # M3 yearly: 30 passes first
    assert (yearly.bound, yearly.lr) == ("max_epochs", 1e-3)
    assert budget(params(lr=0.01), n_windows=313_756, n_series=414).lr == 0.01
    assert budget(params(lr=0.01), n_windows=1056).lr == 0.01
    with pytest.raises(ValueError, match="lr=0 must be a positive number or None"):
        LSTMForecaster(horizon=6, lr=0).fit(pd.DataFrame({"y": np.arange(50.0)}))


def test_a_fit_on_many_series_reports_and_trains_at_the_higher_rate():
    rng = np.random.default_rng(0)
    t = np.arange(120)
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{i}" for i in range(30)], len(t)),
            "ds": np.tile(t, 30),
            "y": np.concatenate([10 + np.sin(t / 3) + rng.normal(0, 0.1, len(t))] * 30),
        }
    )
    model = LSTMForecaster(
        horizon=6, hidden_size=8, num_layers=1, max_steps=20, random_state=0
    ).fit(frame)
    assert (model.budget_["bound"], model.budget_["lr"]) == ("max_steps", 3e-3)
    # the one-cycle schedule peaks at that rate
    assert model.history_.lr.max() == pytest.approx(3e-3, rel=0.05)
    few = LSTMForecaster(horizon=6, hidden_size=8, num_layers=1, max_steps=20, random_state=0)
    few.fit(frame[frame.unique_id.isin(["s0", "s1"])])
    assert few.budget_["lr"] == 1e-3


def test_max_epochs_must_be_positive(air):
    with pytest.raises(ValueError, match="max_epochs=0 must be a positive number or None"):
        LSTMForecaster(horizon=6, max_epochs=0).fit(air)


def test_without_max_epochs_the_batch_is_batch_size_as_before():
    b = budget(params(max_epochs=None), n_windows=1056)
    assert (b.batch, b.steps) == (256, 1000)


def test_the_naive_inputs_and_skip_are_on_wherever_they_can_work():
    """None (the default) resolves per model: on for the direct head with an input window
    holding the season; off for the recursive head, the skip off for counts (negbin); a
    choice given is kept."""

    def plan(**given):
        return resolve("LSTM", {**params(**given), "cell": "lstm"}, 12, (), ())

    default = plan(horizon=6)
    assert (default.naive_inputs, default.naive_skip) == (True, True)
    recursive = plan(horizon=6, head="recursive")
    assert (recursive.naive_inputs, recursive.naive_skip) == (False, False)
    counts = plan(horizon=6, loss="negbin", scaler="meanabs", window_norm=None)
    assert (counts.naive_inputs, counts.naive_skip) == (True, False)
    short = plan(horizon=6, input_size=8)  # shorter than the season: no seasonal naive input
    assert (short.naive_inputs, short.naive_skip) == (False, False)
    off = plan(horizon=6, naive_inputs=False)
    assert (off.naive_inputs, off.naive_skip) == (False, False)
    assert PARAMETERS["loss"].check("LSTM", "loss", params(horizon=6)["loss"]) == "mae"


def test_the_seasonal_naive_inputs_move_to_the_current_level_on_a_years_season():
    """relevel_seasonal None: on with the seasonal naive inputs of weekly, monthly and
    quarterly data (a year's season; on integer steps a season of 52, 12 or 4); off for
    hourly, daily and business-day data (a day's or a week's season), other integer seasons and yearly data (a season of 1 is the naive
    value), and without the inputs; True asks for it anywhere the inputs are, and without
    them it is refused by name."""

    def plan(season, freq, **given):
        return resolve("LSTM", {**params(**given), "cell": "lstm"}, season, (), (), freq=freq)

    for season, freq in ((52, "W-SUN"), (12, "MS"), (4, "QS-DEC"), (52, 1), (12, None)):
        assert plan(season, freq, horizon=6).relevel_seasonal, (season, freq)
    for season, freq in ((24, "h"), (7, "D"), (5, "B"), (24, 1), (7, 1), (1, "YS"), (1, 1)):
        assert not plan(season, freq, horizon=6).relevel_seasonal, (season, freq)
    assert plan(24, "h", horizon=6, relevel_seasonal=True).relevel_seasonal
    assert not plan(12, "MS", horizon=6, relevel_seasonal=False).relevel_seasonal
    assert not plan(12, "MS", horizon=6, head="recursive").relevel_seasonal
    with pytest.raises(ValueError, match="relevel_seasonal needs naive_inputs=True"):
        plan(12, "MS", horizon=6, naive_inputs=False, relevel_seasonal=True)


def test_calendar_seasons_add_the_longer_cycle_where_the_history_holds_it():
    """``naive_seasons="calendar"``: the season, plus the week of hourly data and the 364 days
    of daily data when the median series holds two cycles and the horizon; integer steps
    with a season of 24 are read as hours. Without the data (``wins``) the default is the
    season alone: the week helped M4 Hourly and hurt Beijing and ETTh1 (benchmarks/RESULTS.md,
    issue 27); with it, see the tests below."""

    def seasons(freq, season, length, **given):
        p = {**params(horizon=48, **{"naive_seasons": "calendar", **given}), "cell": "lstm"}
        plan = resolve("LSTM", p, season, (), (), freq=freq, length=length)
        return plan.seasons, plan.input_size

    assert seasons("h", 24, 960) == ((24, 168), 168)  # M4 Hourly's lengths
    assert seasons("h", 24, 2 * 168 + 47) == ((24,), 96)  # one step short of two weeks + h
    assert seasons(1, 24, 960) == ((24, 168), 168)  # integer hours, season given
    assert seasons("D", 7, 800) == ((7, 364), 364)
    assert seasons("D", 7, 700) == ((7,), 96)
    assert seasons("MS", 12, 10_000) == ((12,), 96)  # months: the year is the season
    assert seasons("h", 24, 960, naive_seasons=None) == ((24,), 96)  # the default
    assert seasons("h", 24, 960, head="recursive")[0] == ()  # no naive inputs, no seasons
    with pytest.raises(ValueError, match='or "calendar"'):
        seasons("h", 24, 960, naive_seasons="weekly")


def test_a_longer_cycle_lengthens_the_window_not_what_the_encoder_reads():
    """The seasonal naive inputs read the whole window (364 steps for the year of daily
    data); the encoder reads the last steps the rule gives without that cycle (28 for a week
    and a horizon of 14, not 364), or all of an ``input_size`` given."""

    def sizes(freq, season, length, horizon, **given):
        p = {**params(horizon=horizon, naive_seasons="calendar", **given), "cell": "lstm"}
        plan = resolve("LSTM", p, season, (), (), freq=freq, length=length)
        return plan.seasons, plan.input_size, plan.encoder_size

    assert sizes("D", 7, 1000, 14) == ((7, 364), 364, 28)
    assert sizes("h", 24, 960, 48) == ((24, 168), 168, 96)  # M4 Hourly
    assert sizes("MS", 12, 200, 18) == ((12,), 36, 36)  # no longer cycle: the window
    assert sizes("D", 7, 1000, 14, input_size=400) == ((7, 364), 400, 400)
    assert sizes("D", 7, 1000, 14, encoder_size=100) == ((7, 364), 364, 100)
    with pytest.raises(ValueError, match="encoder_size=400 exceeds input_size=364"):
        sizes("D", 7, 1000, 14, encoder_size=400)
    with pytest.raises(ValueError, match="forecasts_per_window=29 exceeds the 28 steps"):
        sizes("D", 7, 1000, 14, forecasts_per_window=29)


def test_fit_on_long_hourly_series_reads_the_week_when_asked(beijing):
    model = LSTMForecaster(
        horizon=24, max_steps=2, hidden_size=4, num_layers=1, val_size=0, naive_seasons="calendar"
    )
    model.fit(beijing)
    assert model.plan_.seasons == (24, 168) and model.config_.seasons == (24, 168)
    assert model.plan_.input_size == 168 and model.config_.encoder_steps == 48
    assert LSTMForecaster(horizon=24, max_steps=2).plan(beijing).seasons == (24,)


def hourly(weekly: list[bool], weeks: int = 4, seed: int = 0) -> pd.DataFrame:
    """Hourly series with a daily cycle, noise and, where ``weekly``, quiet weekends."""
    rng = np.random.default_rng(seed)
    t = np.arange(weeks * 168)
    frames = []
    for i, week in enumerate(weekly):
        y = 50 + 10 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 2, len(t))
        if week:
            y = y - 25 * (t % 168 >= 120)
        ds = pd.date_range("2024-01-01", periods=len(t), freq="h")
        frames.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": y}))
    return pd.concat(frames, ignore_index=True)


def test_the_week_joins_the_default_inputs_where_its_naive_beats_the_days():
    """Issue 27: by default the week of hourly data is a seasonal naive input where its own
    seasonal naive beats the day's by a tenth on at least a tenth of the series (27 % of M4
    Hourly's, none of Beijing's or ETTh1's), and the series hold two weeks and the horizon."""
    assert LSTMForecaster(horizon=24).plan(hourly([True, False, False])).seasons == (24, 168)
    assert LSTMForecaster(horizon=24).plan(hourly([True, False, False])).input_size == 168
    # a day alone: the week's naive is as good as the day's, not better
    assert LSTMForecaster(horizon=24).plan(hourly([False] * 3)).seasons == (24,)
    assert LSTMForecaster(horizon=24).plan(hourly([True] * 3, weeks=2)).seasons == (24,)
    no_naive = LSTMForecaster(horizon=24, naive_inputs=False).plan(hourly([True]))
    assert (no_naive.seasons, no_naive.input_size) == ((), 48)  # the week not read at all
    chosen = LSTMForecaster(horizon=24, naive_seasons=[24]).plan(hourly([True]))
    assert chosen.seasons == (24,)  # a choice given is kept


def test_forecasts_from_every_step_the_encoder_reads_of_a_window_holding_the_week():
    """forecasts_per_window counts the steps the encoder reads (48 of the 168)."""
    model = LSTMForecaster(
        horizon=24, naive_seasons="calendar", forecasts_per_window=48, max_steps=3, hidden_size=4
    ).fit(hourly([True, False]))
    assert (model.plan_.input_size, model.config_.encoder_steps) == (168, 48)
    assert np.isfinite(model.history_.loss).all() and model.predict().notna().all().all()


def test_a_cycle_wins_only_where_the_series_keep_it():
    from tsrnn.data.panel import as_panel
    from tsrnn.models.neural.inputs import cycle_wins

    mixed = as_panel(hourly([True, False, False, False]))
    assert cycle_wins(mixed, 24, 168, 24) == 0.25
    rng = np.random.default_rng(1)
    walks = pd.DataFrame(
        {
            "unique_id": np.repeat(["a", "b", "c"], 672),
            "ds": np.tile(pd.date_range("2024-01-01", periods=672, freq="h"), 3),
            "y": rng.normal(size=(3, 672)).cumsum(axis=1).ravel(),
        }
    )
    assert cycle_wins(as_panel(walks), 24, 168, 24) == 0.0  # the longer lag drifts further
    gappy = hourly([True]).assign(y=lambda f: f.y.where(f.index % 5 != 0))
    assert cycle_wins(as_panel(gappy), 24, 168, 24) == 1.0  # gaps are skipped, not zeros
    assert cycle_wins(as_panel(hourly([True], weeks=1)), 24, 168, 24) == 0.0  # too short


def test_the_relative_loss_is_on_for_point_and_quantile_losses():
    """Issue 27: None (the default) weighs series by their spread over their level for the
    point and quantile losses, not for likelihoods; a choice given is kept, and anything but a
    flag is refused by name."""

    def plan(**given):
        return resolve("LSTM", {**params(**given), "cell": "lstm"}, 12, (), ())

    assert plan(horizon=6).relative_loss is True
    assert plan(horizon=6, loss="quantile").relative_loss is True
    assert plan(horizon=6, loss="normal").relative_loss is False
    assert plan(horizon=6, relative_loss=False).relative_loss is False
    assert plan(horizon=6, loss="studentt", relative_loss=True).relative_loss is True
    with pytest.raises(ValueError, match="relative_loss='yes'"):
        plan(horizon=6, relative_loss="yes")


def test_one_series_alone_trains_the_same_with_or_without_the_relative_loss(air):
    """A single series has one weight, so the relative loss changes nothing; with a second
    series of another spread over level it changes the fit."""
    small = {"horizon": 6, "max_steps": 30, "hidden_size": 8, "num_layers": 1, "random_state": 0}
    # the network's own forecasts, not Theta's or ETS's in combination
    small |= {"theta_input": False, "combine_ets": False, "combine_damped": False}

    def forecast(data, relative):
        out = LSTMForecaster(relative_loss=relative, **small).fit(data).predict()
        return out["LSTM"].to_numpy()

    np.testing.assert_array_equal(forecast(air, True), forecast(air, False))
    smooth = air.assign(unique_id="smooth", y=air.y.to_numpy() * 0.1 + 400)
    both = pd.concat([air, smooth], ignore_index=True)
    assert not np.allclose(forecast(both, True), forecast(both, False), rtol=1e-4)
