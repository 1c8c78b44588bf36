"""RNN, LSTM and GRU forecasters: one global network over many series, with gaps.

:class:`NeuralForecaster` composes the parts of the model layer into an estimator:

1. :mod:`~tsrnn.models.neural.params` checks the parameters and resolves them, against the
   data, into a :class:`~tsrnn.models.neural.params.Plan`, the network's shape and the
   training configuration.
2. ``fit`` holds out the last ``val_size`` steps of every series for early stopping (a split in
   time, never shuffled into training). A :class:`~tsrnn.models.neural.preprocess.Preprocessor`
   fitted on the span before it imputes the inputs causally, scales each target per series
   and standardizes the covariates.
3. :class:`~tsrnn.data.windows.Windows` lays the scaled panel out for gathering; every window
   whose input is observed enough (``min_observed``) and whose targets hold an observation is a
   training example. Targets never observed are masked out of the loss (zero gradient); inputs
   carry the observed flag and the time since the last observation, so the network sees the
   gaps instead of guessing them away. :class:`~tsrnn.models.neural.preprocess.WindowNorm` normalizes
   each window by its own values.
4. :func:`~tsrnn.models.neural.training.train` runs AdamW with a schedule, validation, early stopping
   and the best weights restored.
5. ``predict`` gathers one forecast window per series from the preprocessor's stored tail of
   each series, and a :class:`~tsrnn.models.neural.decode.Decoder` turns the network's outputs into
   point forecasts and quantiles.

A saved model therefore predicts without its training data. ``predict(y=...)`` forecasts any
series from the history given, including series the network never saw; ``predict_windows``
forecasts many cutoffs of every series in one batched pass (a backtest between refits).
"""

from __future__ import annotations

import copy
import functools
import inspect
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, replace
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.utils.validation import check_is_fitted

from tsrnn.data.panel import ID, TIME, Panel
from tsrnn.data.scale import Scaler
from tsrnn.data.static import StaticFeatures
from tsrnn.data.windows import Batch, Origins, Windows
from tsrnn.errors import DataError
from tsrnn.models.base import (
    Forecaster,
    from_state,
    last_points,
    quantile_column,
    to_state,
)
from tsrnn.models.neural import distributed, inputs, thetabase
from tsrnn.models.neural import params as rules
from tsrnn.models.neural.decode import (
    Decoder,
    damped_weight,
    residual_std,
    series_scales,
    theta_weight,
)
from tsrnn.models.neural.losses import DISTRIBUTIONS, POINT, compute_loss, denominator
from tsrnn.models.neural.nets import MeanNet, NetConfig, RecurrentNet
from tsrnn.models.neural.params import (
    ETS_POINTS,
    ETS_SEASONS,
    PARTNERS,
    THETA_SHARE,
    VAL_WINDOWS,
    Plan,
    budget,
    check_names,
    net_config,
    refit_budget,
    resolve,
    train_config,
)
from tsrnn.models.neural.preprocess import Preprocessor, WindowNorm
from tsrnn.models.neural.training import Progress, choose_threads, train, warmup_steps
from tsrnn.models.stats.reversion import reversion_forecast, seasonal_wins

log = logging.getLogger(__name__)


def _recent_points(season: int) -> int:
    """The recent points the partners read: :data:`ETS_SEASONS` seasons, at least
    :data:`ETS_POINTS` (ETS's fits; the reversion's median and its screen)."""
    return max(ETS_SEASONS * season, ETS_POINTS)


_STATE_VERSION = 3  # of get_state's layout (1-2: model files before the state contract)
# Fitted attributes that are not plain data: get_state encodes them itself.
_OWN_STATE = (
    "net_",
    "first_net_",
    "config_",
    "plan_",
    "preprocessor_",
    "static_",
    "spread_inputs_",
)


class NeuralForecaster(Forecaster):
    """A global recurrent forecaster (RNN, LSTM or GRU) with point or probabilistic output.

    Parameters
    ----------
    cell : {"lstm", "gru", "rnn"}, default "lstm"
        The recurrent cell (standard torch cells; see :mod:`tsrnn.models.neural.nets`).
    horizon : int
        Steps forecast per window: ``predict(h)`` gives up to ``horizon`` steps with the direct
        head, any number with the recursive one. Required.
    input_size : int, optional
        Steps of history per window; default ``max(2 * season, 2 * horizon)``, and at least
        the longest season of the seasonal naive inputs (``naive_seasons``). Windows of
        series shorter than that are padded (and masked), so short series still train.
    encoder_size : int, optional
        The window's last steps the recurrent encoder reads; the seasonal naive inputs read
        the whole window. Default: ``max(2 * season, 2 * horizon)`` where ``input_size`` is
        left to the rule, so a longer calendar cycle among the naive inputs (the week of
        hourly data, the year of daily data) lengthens the window, not the recurrence (five
        daily series of three years: 25.5 s reading 28 steps, 219 s reading all 364,
        ``benchmarks/budget.py``); all of ``input_size`` where it is given.

    **Network**

    hidden_size, num_layers : int, default 64, 2
        Width and depth of the recurrent encoder (and decoder).
    dropout : float, default 0.1
        Dropout between stacked recurrent layers.
    embedding_size : int, default 0
        Width of a learned series-id embedding (0: none). Series unseen in ``fit`` get the
        mean embedding. To describe series by what is known of them (a store's region, a
        sensor's type), seen or not, pass their attributes instead: ``fit(df, static_df=...)``
        (:class:`~tsrnn.data.static.StaticFeatures`), and ``predict(y=new, static_df=...)``
        for new series.
    head : {"direct", "recursive"}, default "direct"
        All ``horizon`` steps at once, or a decoder stepping through them.
    scheduled_sampling : float, default 0.0
        Recursive head: chance, per step in training, of feeding back the network's own
        prediction instead of the truth.
    forecasts_per_window : int, default 1
        Direct head, training: forecasts made from each input window, from this many of its
        steps the encoder reads, evenly spaced and ending at the window's last (as many as
        ``encoder_size``: from every step, as NeuralForecast trains its RNNs). The encoder's
        state at a step has read only the steps before it, so each is a forecast of its own
        next ``horizon`` steps: one pass over the window trains them all, many times the
        signal per step for the head's extra work.
    naive_inputs : bool or None, default None
        Direct head: each horizon step also reads its targets' naive and seasonal naive
        forecasts (the last input value; the input a whole number of seasons before the step)
        and their observed flags, which the final state alone carries only approximately.
        None: on wherever it can work (the direct head, an input window holding the season).
    naive_skip : bool or None, default None
        With ``naive_inputs``: forecast the change from a learned per-step blend of the naive
        and seasonal naive values (equal weights at the start) instead of the value itself.
        None: on with the naive inputs (not with ``loss="negbin"``, which needs a positive
        mean). With the MAE loss the two lowered the quick defaults table's ratio to the best
        statistical method on M3 monthly (1.33 to 1.15), quarterly (1.25 to 1.21), yearly
        (1.19 to 0.96) and Beijing (1.10 to 1.03), and raised M4 Weekly's (0.99 to 1.11):
        ``benchmarks/RESULTS.md``, issue 27.
    naive_seasons : tuple of int or None, default None
        With ``naive_inputs``: the seasons of the seasonal naive inputs, one input each.
        ``"calendar"``: ``season`` and, where the median series holds two of it plus the
        horizon, the longer cycle the calendar puts it in
        (:func:`tsrnn.data.frequency.calendar_cycles`): a week for hourly and sub-hourly data
        (``season`` 24, 48, 96 on integer steps), 364 days for daily data. None (the default):
        ``season``, and that longer cycle where the series hold it too and its own seasonal
        naive beats the season's by a tenth on at least a tenth of the series
        (:func:`~tsrnn.models.neural.inputs.cycle_wins`): 27 % of M4 Hourly's series, where
        the week lowered the quick defaults table's OWA (0.632 to 0.541), none of Beijing's
        or ETTh1's, where it raised the errors (Beijing's MAE 24.0 to 31.0, ETTh1's MSE 0.055
        to 0.068) and the default stays the day. ``(24, 168)`` gives hourly data a day and a
        week: on M4 Hourly, where last week's value beats yesterday's, it lowered an LSTM's
        holdout OWA from 0.607 to 0.543 at 1,000 steps (the longer input alone: 0.607) and
        from 0.562 to 0.435 at 3,000. Each needs ``input_size`` >= that season.
    relevel_seasonal : bool or None, default None
        With ``naive_inputs``: each seasonal naive value moved to the current level, by how
        much the level changed over a season: the mean of the window's last ``w`` steps less
        the mean of the ``w`` steps a season earlier (``w`` the shorter of season and
        horizon; nothing where the window does not reach back that far). Last year's shape
        at this year's level is the candidate ETS's seasonal states give, where the plain
        seasonal naive value carries last year's level too. None: on where the season is a
        year (weekly, monthly and quarterly data; on integer time steps a season of 52, 12
        or 4, ``params.YEAR_SEASONS``); off for a day's hours, where yesterday's level
        change is noise (M4 Hourly's OWA 0.404 to 0.433 with it), and for daily and
        business-day data (``data.frequency.year_cycle``).
        Seed 0: M4 Weekly's OWA 0.727 to 0.715 (second origin 0.772 to 0.764), M3 monthly's
        sMAPE 13.515 to 13.445 (second origin 13.890 to 13.982) (``benchmarks/RESULTS.md``,
        issue 27).
    season : int or None, default None
        Season of the seasonal naive input (and of the ``"seasonal"`` imputer); default: the
        data frequency's (24 for hourly). Give it for integer time steps.
    theta_input : bool or None, default None
        With ``naive_inputs``: each input step also reads the ``horizon`` steps the Theta
        method forecasts from it, fitted on the series' whole history up to that step and
        nothing after (:mod:`tsrnn.models.neural.thetabase`), and the head takes the window's
        last one as one more candidate of the skip's blend. The naive values read the input
        window only; Theta reads the season, the level and the long-run slope from all the
        history a series has, which a window of a few seasons lacks. After training, a point
        forecast (``loss`` "mae", "mse" or "huber") becomes ``(1 - w) * network + w *
        Theta``, with the share ``w`` (0 to 1 by 0.05; ``config_.theta_weight``) of the
        lowest loss over the validation tail, forecasts the network was not trained on (none
        without a tail, ``val_size=0``), moved half-way to 0.5 where Theta alone is about as
        good as the network alone there (``decode.settled_share``): the two err differently,
        and their combination beats both (M3 quarterly, seed 0: sMAPE 8.84 against 9.22 for
        the network alone). It keeps
        ``horizon`` numbers a point. None: on with the naive inputs, where no ``targets`` are
        given (it forecasts ``y`` alone), the panel's points times ``horizon`` stay within
        ``params.THETA_VALUES`` (25 million, about 0.5 GB), and Theta's forecast beats the
        naive one by a tenth on at least a tenth of the series
        (:func:`~tsrnn.models.neural.thetabase.theta_wins`: 52-94 % of the M3 and M4 Hourly
        series, where the input helps; none of Beijing's or ETTh1's, whose series wander
        around a level and where it lost Beijing). The log says why it is off.
    combine_damped : bool or None, default None
        After training, a point forecast of the direct head becomes ``(1 - v) * network + v
        * damped``, where ``damped`` is each series' own damped-trend forecast (M4's Damped
        benchmark, :class:`~tsrnn.models.stats.smoothing.Damped`, fitted on that series'
        points alone) and the share ``v`` (``damped_weight_``, 0 to 1 by 0.05) is chosen as
        Theta's is, on the validation tail: the network's forecasts from before the tail
        against a damped trend fitted on the points before it. A global network learns from
        many series; on a small panel each series' own trend is worth more (the quick M3
        subsets of 100-150 series: sMAPE 15.30 to 14.86 monthly, 10.83 to 10.31 quarterly).
        The intervals are measured on the combined forecast. Forecasts from other histories
        (``predict(y=...)``, backtests) fit the damped trend on each of them. None: on for
        panels of ``params.DAMPED_SERIES`` (2 to 1,000) series with a point loss where
        ``combine_ets=False`` refuses ETS, the default partner: a lone series' tail is one
        forecast (and each cutoff of its backtests would refit the partner), more series
        cost a fit each for what gained least.
    combine_ets : bool or None, default None
        As ``combine_damped``, with each series' automatic ETS forecast as the partner
        (:class:`~tsrnn.models.stats.smoothing.ETS`, its form chosen by AICc, seasonal where
        the series spans two seasons, fitted on each series' last 20 seasons, at least 200
        points: ``params.ETS_SEASONS``, ``params.ETS_POINTS``). The damped trend reads a
        season only through M4's seasonality test, which a year of weekly data rarely
        passes; ETS's seasonal states carry last year's shape at this year's level (M4
        Weekly at a second origin: OWA 0.821 with the damped trend, 0.772 with ETS). None:
        on for panels of ``params.DAMPED_SERIES`` series with a point loss, unless
        ``combine_damped=True`` is given alone. With both ``combine_damped=True`` and
        ``combine_ets=True``, each is fitted on the points before the validation tail and
        the tail picks the one whose best share errs least (``partner_``,
        ``partner_losses_``; the log says which); the other is not fitted again.
    combine_revert : bool or None, default None
        As ``combine_damped``, with each series' reversion to its recent median as the
        partner (:func:`~tsrnn.models.stats.reversion.reversion_forecast`: the median of its
        last 20 seasons, at least 200 points, plus the last value's deviation from it decaying
        at the rate the series' own deviations decay). Readings that wander around a level
        (air quality) return to it after an episode; a network reading two days of
        hours extends the episode's run, and ETS carries the level on. None: offered beside
        the default partner where the season is a day's or a week's (hourly and daily data;
        on integer steps a season above 1 outside ``params.YEAR_SEASONS``) and does not pay:
        the seasonal naive beats the naive on at most half of the series
        (``params.REVERT_SHARE``; ozone's daily cycle and ETT's lost with it), the validation
        tail picking between them (Beijing PM2.5, 12 stations, seeds 0-2: MAE 22.31 / 24.46
        / 27.58 with ETS, 21.73 / 23.87 / 27.25 with both offered, the tail picking the
        reversion on each). Not with ``combine_theta``.
    combine_theta : bool or None, default None
        As ``combine_damped``, with Theta's forecast from each series' end as the partner
        (:func:`~tsrnn.models.neural.thetabase.theta_ends`, the Theta input's path at the
        last point; ``damped_weight_`` and ``damped_forecast_`` hold its share and
        forecast). None: on where the Theta input is off by its size alone
        (``params.THETA_VALUES``) on a panel past the damped trend's range (M4 Monthly's
        48,000 series): there the network would otherwise have no Theta at all. M3 monthly
        with the Theta input off: sMAPE 13.953 for the network alone, 13.466 with Theta's
        forecast as the partner. Not with ``combine_damped`` or ``combine_ets``.
    combine_runs : bool or None, default False
        Where a refit ran (see ``refit``), forecast the mean of two networks: the refit's and
        the first run's, kept at its best validation (``first_net_``). Both are trained
        already, so the pair costs a second forward pass per forecast, not a second
        training: an ensemble of two members for free. None: on for a point or quantile
        loss (the mean of two forecasts, step by step and level by level), off for a
        distribution loss, and off where the first run kept a step within its schedule's
        warm-up (a network kept while its learning rate still rose has barely trained: the
        log says so); True: wherever a refit ran; True with a distribution loss is an
        error (its outputs are a distribution's parameters, not forecasts). Without a refit
        the network forecasts alone. Off by default: on the quick table's samples (seeds
        0-2) it gained M3 quarterly 1.6 % and M4 Weekly and Hourly 2-3 %, but on the full
        sets it moved M3 monthly, quarterly, yearly and other by 0.1 % either way and lost
        Beijing 4 % (``benchmarks/RESULTS.md``, issue 27).

    **Output**

    loss : {"mse", "mae", "huber", "quantile", "normal", "studentt", "negbin"}, default "mae"
        Point losses, the pinball loss over ``quantiles`` (non-crossing by construction), or
        the negative log-likelihood of a distribution (``"negbin"`` for non-negative counts;
        it needs ``scaler`` ``"meanabs"`` or ``"none"``).
    relative_loss : bool or None, default None
        Weigh each series in the loss by the spread of its input windows over their level
        (the mean over its training windows of their standard deviation over their absolute
        mean, at most 1): the network sees every window divided by its spread, which makes
        a smooth series count many times a noisy one; with this weight errors count about
        as shares of each series' level, as sMAPE and MAPE judge them. Series around 0
        weigh 1, and one series alone trains as without. None: on for the point and
        quantile losses (``inputs.series_weights``). On every series of M3 monthly it
        lowered the default LSTM's sMAPE from 14.90 to 14.42, and M4 Weekly's OWA from
        0.760 to 0.740: ``benchmarks/RESULTS.md``, issue 27.
    spread_input : bool or None, default None
        Give the network each series' relative spread (the log of its ``relative_loss``
        weight, standardized over the fitted series) as an input of every step, as a static
        attribute is given: window normalization hides how much a series moves against its
        level, and this says it (:class:`~tsrnn.models.neural.inputs.SpreadInputs`). A
        series keeps the number measured in ``fit``; one the network never saw gets its own
        from the history it is given; where the fitted series are alike (one alone), the
        input would say nothing and is left out. None: off. It lowered the default LSTM's
        sMAPE on M3 monthly from 14.14-14.24 to 13.98-14.01 (seeds 0-2) and M4 Hourly's OWA
        by 3 %, but raised M3 quarterly's, M4 Weekly's and Beijing's errors:
        ``benchmarks/RESULTS.md``, issue 27.
    quantiles : sequence of float, default (0.1, 0.5, 0.9)
        Levels trained with ``loss="quantile"`` (0.5 is always added: the point forecast).
        ``predict(quantiles=)`` interpolates between trained levels.
    num_samples : int, default 200
        Sample paths for the quantiles of a recursive head with a distribution loss.

    **Data**

    scaler : {"standard", "robust", "minmax", "meanabs", "none"}, default "standard"
        Per-series scaling of every target, fitted on the training span. With any of them
        but ``"none"`` training is scale-free: multiplying a series by 10^7 multiplies its
        forecasts by 10^7 and changes no other series' (a series at 10 and one at 10
        million weigh alike in the loss, as MASE and sMAPE weigh them).
    window_norm : {"standard", "meanabs", None}, default "standard"
        Also normalize each input window by its own observed values (and its targets alike).
    impute : {"ffill", "linear", "seasonal", "kalman", "zero", "none"}, default "ffill"
        Causal imputation of input gaps (a ``"linear"`` input imputer carries the last value
        forward: it must not read the future). Targets are never imputed unless
        ``train_on_imputed``.
    train_on_imputed : bool, default False
        Impute, then train as if the series were complete (the usual practice elsewhere):
        imputed points count as observed, as inputs and as targets in the loss. The default
        trains on observed targets only and tells the network which inputs were imputed.
    min_observed : float, default 0.1
        Training windows need at least this fraction of their input observed.
    calendar : bool, default True
        Calendar features of the grid (hour of day, day of week, ...) as inputs.
    past_covariates, future_covariates : sequence of str, default ()
        Covariate columns of a long ``y`` (or of ``X``) read as inputs: past-observed ones over
        the input window, known-future ones also over the horizon (``predict`` then needs
        ``X_future``).
    targets : sequence of str, default ()
        Further columns forecast jointly with ``y`` by the same network (one output per target;
        they are read as inputs too). Forecasts appear as ``<model>:<column>``.
    nonnegative : bool or None, default None
        Keep the forecasts and quantiles of a target at or above 0. None: for each target
        whose observed training values are all >= 0 (counts, prices, concentrations; the data
        report says so); True: always; False: never. ``nonnegative_`` records the choice.

    **Training**

    lr : float or None, default None
        The peak learning rate of the schedule. None: 3e-3 where ``max_steps`` ends training
        within 15 passes over the windows and the panel holds 30 series or more, 1e-3
        elsewhere (``budget_["lr"]`` says which). At the default 1,000 steps the higher rate
        gains M4 Hourly 17 % OWA, and all of M3 monthly and quarterly 0.1-0.4 sMAPE a seed;
        it loses on the 12 Beijing stations and the one ETTh1 series (a validation of a
        window per series makes its snapshot a lottery), on M3 yearly (30 passes done in 787
        steps) and on 150 M3 monthly series (26.5 passes).
    batch_size : int, default 256
        Training windows per step; with ``max_epochs``, fewer windows than 16 batches' worth
        train in smaller batches (at least 32 windows): ``budget_["batch"]``.
    max_steps : int or None, default None
        Optimizer steps at most. None: 1,000, or 2,000 where 1,000 steps of ``batch_size``
        end before one pass over the training windows of 30 series or more
        (``budget_["steps"]`` says which): M4 Hourly's 414 series (0.8 passes at 1,000 steps)
        gained 8-10 % OWA from the second thousand on every seed, M4 Weekly held its score;
        the 12 Beijing stations of the demo (0.6 passes) lost 7 %, and data passed over
        several times gained nothing from more steps (M3 monthly level, M3 quarterly worse).
    max_epochs : float or None, default 30
        Passes over the training windows at most: the budget is ``max_steps`` steps or the
        steps that take ``max_epochs`` passes, whichever is fewer (``budget_`` says which), so
        a small data set trains in seconds and a large one for ``max_steps`` (three 400-hour
        series: 480 steps of 66 windows, 5-7 s on 2 cores, against 1,000 steps of 256 and 46 s
        before the rule; M4 Hourly: 1,000 steps, as before). None: ``max_steps`` steps of
        ``batch_size``, the fixed budget of earlier versions. The learning-rate schedule
        spans the budget, and early stopping may end training sooner.
    schedule : {"onecycle", "cosine", "plateau", "constant"}, default "onecycle"
    patience : int or None, default 10
        Validations without improvement before stopping early (None: never).
    val_size : int or None, default None (= horizon)
        Last steps of each series held out for validation; 0 for none (then no early stopping
        and the last weights are kept). At least ``horizon`` when positive. Each validation
        during training reads at most ``params.VAL_WINDOWS`` (10,000) of its windows, evenly
        spaced: a panel of more series validates on a sample of them.
    val_every : int or None, default None
        Steps between validations and progress reports; None: about 20 validations per
        budget, at most 50 steps apart (50 for 1,000 steps).
    refit : bool or None, default None
        After training with the validation tail held out, train the network again from the
        same initialization on every window, the tail included, and keep that network. Where
        the tail adds at least 20 % more training windows (short series: a 48-point monthly
        series holds 18 of its 30 training points there), the refit trains the whole budget
        however the first run ended (one horizon a series is too little to decide how long
        to train); elsewhere, where early stopping ended the first run, it trains for the
        step early stopping kept (a whole schedule of that length, annealed). None: in those
        two cases; True: wherever there is a tail; False: never (the validated network is
        kept). With ``combine_runs`` the forecasts average the refit's network and the
        validated one. The normal intervals (``residual_std_``) keep the first run's
        out-of-sample errors. ``refit_`` records what ran. On every series of M3 monthly it
        lowered the default LSTM's sMAPE from 14.42 to 14.14; on quarterly, seeds 0-2, from
        9.97 (seed 0) to 9.70 / 9.63 / 9.81; Beijing's MAE over seeds 0-2 from 27.5 to 24.2
        on average, at up to twice the fit time; Weekly and Hourly do not refit:
        ``benchmarks/RESULTS.md``, issue 27.
    grad_clip : float or None, default 1.0
    weight_decay : float, default 0.0
    random_state : int or None, default 0
        Seed of the initialization, the window order and dropout: the same seed gives the same
        forecasts on the CPU. None draws a fresh seed (recorded in ``plan_``).
    device : str, default "auto"
        ``"auto"`` takes CUDA when present, else the CPU.
    precision : {"auto", "fp32", "fp16", "bf16"}, default "auto"
        Training precision; weights and optimizer state stay float32, the network forecasts in
        float32 and its forecasts are de-scaled in float64 (the data stay float64). ``"fp16"``: float16 autocast with dynamic loss scaling (CUDA
        only). ``"bf16"``: torch's bfloat16 autocast, no loss scaling. On a CPU with bfloat16
        instructions (AVX512-BF16, AMX) an LSTM runs in bfloat16 and trains 1.2-1.6x faster
        than in float32 (a GRU stays float32, an RNN gains little); on CUDA torch runs cuDNN's
        recurrent layers in float16 under any autocast, so there "bf16" is bfloat16 around
        them, without scaling their gradients (the fastest setting on an H200).
        ``"auto"``: ``"fp16"`` on CUDA, ``"fp32"`` on the CPU.
    num_threads : int or None, default None
        CPU threads torch may use while fitting and predicting. None: one per core that other
        work leaves idle when the fit starts (at least 1), so that training stays fast on a
        busy machine; torch's setting on a GPU (:func:`~tsrnn.models.neural.training.choose_threads`).
        ``threads_`` and the fit log say how many; the thread count does not change the
        numbers on the CPUs tried here.
    num_processes : int or None, default None
        Train one network on this many processes of this machine (DistributedDataParallel;
        gloo on the CPU, NCCL on CUDA with a GPU each): each trains on its share of every
        batch of ``batch_size`` windows, the gradients averaged, so the steps are those of one
        process up to floating-point order and dropout masks. ``num_threads`` is then per
        process (default: its share of the idle cores). The fitted model is the same as one
        process's fit. Started processes import the calling script again (``spawn``): run it
        under ``if __name__ == "__main__":``. None: one process, or, under ``torchrun``, the
        group torchrun started (several machines: :mod:`tsrnn.models.neural.distributed`).
        A daemonic process (a ``multiprocessing`` pool's or a Dask worker) may not start
        processes, so there ``fit`` refuses a count above 1 before training.
    warm_start : bool, default False
        Start ``fit`` from the current weights when the model is fitted already and the new
        data gives the network the same shape (same features, series count with an
        embedding); otherwise from a fresh initialization (logged). Backtests use it to
        fine-tune between refits.
    verbose : bool, default False
        Log progress at INFO level (``logging``; the library never prints).
    callback : callable or None, default None
        Called with a :class:`~tsrnn.models.neural.training.Progress` at every report; raising
        ``KeyboardInterrupt`` in it stops training as Ctrl-C does. Pass a function: ``clone``
        deep-copies parameters, so a bound method would copy its object too.

    Attributes
    ----------
    net_ : RecurrentNet
    config_ : NetConfig
    history_ : pandas.DataFrame
        One row per report: ``step``, ``loss``, ``val_loss``, ``lr``, ``windows_per_s``,
        ``elapsed_s`` and ``phase`` (``"fit"``, or ``"refit"`` for the refit's rows, whose
        steps count on from the first run's last).
    best_step_ : int
        The first run's step whose weights it kept (the best validation loss).
    stop_reason_ : str
        How the first run ended: ``"max_steps"``, ``"early_stopping"`` or ``"interrupted"``
        (Ctrl-C; also when the refit is interrupted, which keeps the first run's network).
    steps_ : int
        Training steps the first run took (``max_steps`` unless stopped early or interrupted).
    refit_ : dict or None
        The refit on every window (see ``refit``): its ``steps``, ``windows`` and ``reason``;
        None where the fit kept the first run's network.
    first_net_ : RecurrentNet or None
        The first run's validated network where the forecasts average it with the refit's
        (``net_``; see ``combine_runs``); None where ``net_`` forecasts alone.
    n_windows_ : dict
        Training and validation windows used.
    threads_ : int
        torch threads the fit ran on (see ``num_threads``).
    nonnegative_ : tuple of bool
        Per target (``y`` first), whether forecasts are kept >= 0 (see ``nonnegative``).
    budget_ : dict
        The training budget: ``steps``, ``batch``, ``passes`` (over the training windows),
        ``val_every``, ``bound`` (``"max_steps"`` or ``"max_epochs"``: which cap set it) and
        ``lr`` (the peak learning rate, resolved where ``lr=None``).
    residual_std_ : ndarray, shape (horizon, n_targets) or None
        Point losses: the root mean squared validation error per step (pooled over steps
        where a step has fewer than 30 errors), in normalized units; ``predict(quantiles=)``
        makes normal intervals from it. With ``val_size=0`` it is measured on each series'
        last training window: in-sample, so intervals come out too narrow.
    damped_weight_ : float
        The share of the partner's forecast in the point forecast (0 without a partner; see
        ``combine_damped``, ``combine_ets``, ``combine_revert`` and ``combine_theta``).
    partner_ : str or None
        The partner: ``"damped"``, ``"ets"``, ``"revert"`` or ``"theta"`` (None where no
        partner was fitted).
    partner_losses_ : dict
        Each partner tried, with the validation tail's loss at its best share relative to
        the network's alone (below 1: the combination helps); the lowest picks ``partner_``.
    damped_forecast_ : ndarray, shape (n_series, horizon) or None
        Each series' forecast from its end by the partner, in the data's units (None where
        the share is 0).
    choices_ : dict
        What ``fit`` resolved from the data, in one place (see the property).

    Examples
    --------
    >>> from tsrnn import datasets
    >>> from tsrnn.models.neural import LSTMForecaster
    >>> air = datasets.load("air_passengers")
    >>> model = LSTMForecaster(horizon=12, hidden_size=16, max_steps=20, window_norm="standard")
    >>> forecast = model.fit(air).predict(12, quantiles=[0.1, 0.9])
    >>> list(forecast.columns), len(forecast)
    (['unique_id', 'ds', 'LSTM', 'LSTM-q0.1', 'LSTM-q0.9'], 12)
    """

    supports_missing = True
    supports_quantiles = True
    is_global = True
    supports_static = True

    def __init__(
        self,
        *,
        cell: str = "lstm",
        horizon: int | None = None,
        input_size: int | None = None,
        encoder_size: int | None = None,
        hidden_size: int = 64,
        num_layers: int = 2,
        dropout: float = 0.1,
        embedding_size: int = 0,
        head: str = "direct",
        scheduled_sampling: float = 0.0,
        forecasts_per_window: int = 1,
        naive_inputs: bool | None = None,
        naive_skip: bool | None = None,
        naive_seasons: tuple[int, ...] | None = None,
        relevel_seasonal: bool | None = None,
        season: int | None = None,
        theta_input: bool | None = None,
        combine_damped: bool | None = None,
        combine_ets: bool | None = None,
        combine_revert: bool | None = None,
        combine_theta: bool | None = None,
        combine_runs: bool | None = False,
        loss: str = "mae",
        relative_loss: bool | None = None,
        spread_input: bool | None = None,
        quantiles: Sequence[float] = (0.1, 0.5, 0.9),
        num_samples: int = 200,
        scaler: str = "standard",
        window_norm: str | None = "standard",
        impute: str = "ffill",
        train_on_imputed: bool = False,
        min_observed: float = 0.1,
        calendar: bool = True,
        past_covariates: Sequence[str] = (),
        future_covariates: Sequence[str] = (),
        targets: Sequence[str] = (),
        nonnegative: bool | None = None,
        lr: float | None = None,
        batch_size: int = 256,
        max_steps: int | None = None,
        max_epochs: float | None = 30,
        schedule: str = "onecycle",
        patience: int | None = 10,
        val_size: int | None = None,
        val_every: int | None = None,
        refit: bool | None = None,
        grad_clip: float | None = 1.0,
        weight_decay: float = 0.0,
        random_state: int | None = 0,
        device: str = "auto",
        precision: str = "auto",
        num_threads: int | None = None,
        num_processes: int | None = None,
        warm_start: bool = False,
        verbose: bool = False,
        callback: Callable[[Progress], None] | None = None,
    ) -> None:
        self.cell = cell
        self.horizon = horizon
        self.input_size = input_size
        self.encoder_size = encoder_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.embedding_size = embedding_size
        self.head = head
        self.scheduled_sampling = scheduled_sampling
        self.forecasts_per_window = forecasts_per_window
        self.naive_inputs = naive_inputs
        self.naive_skip = naive_skip
        self.naive_seasons = naive_seasons
        self.relevel_seasonal = relevel_seasonal
        self.season = season
        self.loss = loss
        self.relative_loss = relative_loss
        self.spread_input = spread_input
        self.theta_input = theta_input
        self.combine_damped = combine_damped
        self.combine_ets = combine_ets
        self.combine_revert = combine_revert
        self.combine_theta = combine_theta
        self.combine_runs = combine_runs
        self.quantiles = quantiles
        self.num_samples = num_samples
        self.scaler = scaler
        self.window_norm = window_norm
        self.impute = impute
        self.train_on_imputed = train_on_imputed
        self.min_observed = min_observed
        self.calendar = calendar
        self.past_covariates = past_covariates
        self.future_covariates = future_covariates
        self.targets = targets
        self.nonnegative = nonnegative
        self.lr = lr
        self.batch_size = batch_size
        self.max_steps = max_steps
        self.max_epochs = max_epochs
        self.schedule = schedule
        self.patience = patience
        self.val_size = val_size
        self.val_every = val_every
        self.refit = refit
        self.grad_clip = grad_clip
        self.weight_decay = weight_decay
        self.random_state = random_state
        self.device = device
        self.precision = precision
        self.num_threads = num_threads
        self.num_processes = num_processes
        self.warm_start = warm_start
        self.verbose = verbose
        self.callback = callback

    @property
    def name(self) -> str:
        """Column name of the forecasts: ``"LSTM"``, ``"GRU"`` or ``"RNN"``."""
        return str(self.cell).upper()

    @property
    def choices_(self) -> dict[str, Any]:
        """What ``fit`` resolved from the data where the parameters left it open, as plain
        values: the input window and the steps the encoder reads, the seasonal naive inputs'
        seasons, whether they are moved to the current level, whether the Theta input, each
        partner and the relative loss are on, the partner fitted on the validation tail, the
        shares of Theta's and the partner's forecasts in the point forecast, whether
        forecasts are kept >= 0, the peak learning rate, the budget's steps, the first run's
        steps and kept step, the refit's steps (None: no refit), and whether the forecasts
        average the refit's network and the first run's (``combine_runs``). The backtest
        records them per window."""
        check_is_fitted(self, "plan_")
        plan, refit = self.plan_, getattr(self, "refit_", None)
        return {
            "input_size": plan.input_size,
            "encoder_size": plan.encoder_size or plan.input_size,
            "seasons": list(plan.seasons),
            "relevel_seasonal": plan.relevel_seasonal,
            "theta_input": plan.theta_input,
            "theta_weight": round(float(self.config_.theta_weight), 6),
            "combine_damped": plan.combine_damped,
            "combine_ets": plan.combine_ets,
            "combine_revert": getattr(plan, "combine_revert", False),
            "combine_theta": plan.combine_theta,
            "partner": self._fitted_partner(),
            "damped_weight": round(float(getattr(self, "damped_weight_", 0.0) or 0.0), 6),
            "relative_loss": plan.relative_loss,
            "nonnegative": bool(self.nonnegative_[0]),
            "lr": float(self.budget_["lr"]),
            "budget_steps": int(self.budget_["steps"]),
            "steps": int(self.steps_),
            "best_step": int(self.best_step_),
            "refit_steps": None if refit is None else int(refit["steps"]),
            "combine_runs": getattr(self, "first_net_", None) is not None,
        }

    def _params(self) -> dict[str, Any]:
        """Every parameter, ``cell`` included (a class attribute of the presets)."""
        return {**self.get_params(deep=False), "cell": self.cell}

    # ------------------------------------------------------------------ fit
    def _as_panel(self, y: Any, X: Any, fitted: bool = False) -> Panel:
        """A Panel with exactly the covariates asked for (past, future, extra targets); after
        ``fit``, on the fitted frequency."""
        check_names(self.name, self._params())
        past = tuple(self.past_covariates) + tuple(
            t for t in self.targets if t not in self.past_covariates
        )
        future = tuple(self.future_covariates)
        freq = self.freq_ if fitted else None
        return inputs.read_panel(y, X, past, future, self.name, freq, fitted)

    def plan(self, y: Any, X: Any = None) -> Plan:
        """The parameters checked and resolved against the data ``fit`` would get, without
        fitting (what ``fit`` stores as ``plan_``); raises ``ValueError`` naming the fix."""
        panel = self._as_panel(y, X)
        return self._resolve(panel, self._season(panel))

    def _resolve(self, panel: Panel, season: int) -> Plan:
        past, future = panel.past_covariates, panel.future_covariates
        length = int(np.median(panel.lengths))
        params = self._params()
        tail = params["horizon"] if params["val_size"] is None else params["val_size"]

        def wins(cycle: int) -> float:
            return inputs.cycle_wins(panel, season, cycle, tail or 0)

        @functools.cache  # read once: by resolve where the rule needs it, then by the log
        def theta_share() -> float:
            return thetabase.theta_wins(panel.values, panel.offsets, season, params["horizon"])

        def seasonal_share() -> float:  # read only where the reversion's rule needs it
            span = _recent_points(season)
            return seasonal_wins(panel.values, panel.offsets, season, params["horizon"], span)

        plan = resolve(
            self.name,
            params,
            season,
            past,
            future,
            panel.freq,
            length,
            wins,
            len(panel),
            theta_share,
            panel.n_series,
            seasonal_share,
        )
        if params["theta_input"] is None and plan.naive_inputs and not plan.theta_input:
            if plan.targets:
                why = "it forecasts y alone, and targets= are given"
            elif len(panel) * plan.horizon > rules.THETA_VALUES:  # the rule's own cap
                why = (
                    f"{len(panel)} points x horizon {plan.horizon} exceed {rules.THETA_VALUES:,} "
                    "numbers (pass theta_input=True to have it)"
                )
                if plan.combine_theta:
                    why += "; Theta's forecast from each series' end joins the point forecast"
            else:
                why = (
                    f"Theta's forecast beats the naive one by a tenth on {theta_share():.0%} of "
                    f"the series, under {THETA_SHARE:.0%} (pass theta_input=True to have it)"
                )
            log.info("%s: theta_input off: %s", self.name, why)
        longest = int(panel.lengths.max())
        if plan.horizon >= longest:  # checked here, before windows are laid out for it
            raise DataError(
                f"{self.name}: horizon={plan.horizon} leaves no training window: a window needs "
                f"horizon + 1 = {plan.horizon + 1} steps and the longest series has {longest}; "
                "lower horizon="
            )
        if self.input_size is not None and plan.input_size > longest:
            # A longer window reads padding only, and 10^9 steps would not fit in memory.
            raise DataError(
                f"{self.name}: input_size={plan.input_size} is longer than the longest series "
                f"({longest} points): the network would read padding; lower input_size= to "
                f"at most {longest}"
            )
        return plan

    def _fit(self, panel: Panel) -> None:
        plan = self.plan_ = self._resolve(panel, self.season_)
        group = distributed.from_environment()  # a torchrun rank, or a group joined already
        if group is not None:
            if self.num_processes not in (None, group.world):
                raise ValueError(
                    f"{self.name}: num_processes={self.num_processes} but this process is rank "
                    f"{group.rank} of a group of {group.world} (torchrun): leave "
                    "num_processes= unset"
                )
            here = group.local_world
            device = distributed.rank_device(plan.device, group.local_rank, here, self.name)
            with distributed.joined(device):
                rank = distributed.Rank(group.rank, group.world, device)
                self._fit_on(panel, rank, self._threads_for(here))
            return
        world = self.num_processes or 1
        if world == 1:
            self._fit_on(panel, None, None)
            return
        device = distributed.rank_device(plan.device, 0, world, self.name)
        threads = self._threads_for(world)
        others = self._rank_copy(threads)
        with distributed.launch(_fit_rank, (others, panel), world, plan.device, self.name):
            self._fit_on(panel, distributed.Rank(0, world, device), threads)

    def _threads_for(self, ranks: int) -> int | None:
        """Each of ``ranks`` processes on this machine: ``num_threads``, else its share of
        the idle cores (at least one)."""
        if self.num_threads is not None or torch.device(self.plan_.device).type != "cpu":
            return self.num_threads
        threads, _ = choose_threads(None, torch.device("cpu"))
        return max(threads // ranks, 1)

    def _rank_copy(self, threads: int | None) -> NeuralForecaster:
        """What a started rank gets: this estimator as ``fit`` left it before training (the
        plan, and so the seed, included), without what it cannot or need not carry: the
        callback, progress logs, the weights (rank 0's are broadcast)."""
        other = copy.copy(self)
        other.callback, other.verbose, other.num_threads = None, False, threads
        for weights in ("net_", "first_net_"):
            if hasattr(other, weights):
                delattr(other, weights)
        return other

    def _fit_on(self, panel: Panel, rank: distributed.Rank | None, threads: int | None) -> None:
        """Train on ``panel``: alone (``rank`` None) or as one rank of several processes."""
        params = self._params()
        plan = self.plan_
        if rank is not None:
            plan = replace(plan, device=rank.device)
        H, L, V = plan.horizon, plan.input_size, plan.val_size
        r, world = (rank.rank, rank.world) if rank is not None else (0, 1)
        lengths = panel.lengths
        # The training span of each series ends where its validation tail starts; a series
        # with no observation before that keeps all its points for training (no validation).
        train_end = lengths - V
        seen_before = inputs.observed_before(panel, np.maximum(train_end, 0))
        train_end = np.where((train_end >= 1) & (seen_before > 0), train_end, lengths)

        pre = self._preprocessor(plan).fit(panel, train_end)
        filled = pre.impute_inputs(panel, fit_on=panel.drop_last(lengths - train_end))
        if self.loss == "negbin":
            inputs.check_counts(panel, plan.targets, self.name)
        prepared = pre.prepare(panel, end=train_end, filled=filled)
        weights, alike = None, True  # series alike (one alone) train exactly as without both
        if plan.relative_loss or plan.spread_input:
            weights = inputs.series_weights(panel, train_end, plan.targets, L)
            alike = bool(np.all(weights == weights[0]))
        self.spread_inputs_ = None
        if plan.spread_input and alike:
            log.info("%s: spread_input left out: the series are alike (one alone)", self.name)
        elif plan.spread_input:
            self.spread_inputs_ = inputs.SpreadInputs.fit(weights, panel.ids, plan.targets, L)
        windows = Windows(
            prepared.panel,
            L,
            H,
            calendar=self.calendar,
            targets=plan.targets,
            **self._static_inputs(panel),
        )
        scalers, series_spread = prepared.scalers, prepared.spread
        del prepared  # the scaled panel: the windows hold their float32 rows of it
        train_origins = windows.origins(end=train_end, min_observed=self.min_observed)
        val_origins = windows.origins(start=train_end) if V else inputs.no_origins(panel.n_series)
        if len(train_origins) == 0:
            raise DataError(
                f"{self.name}: no training window: every series needs at least horizon + 1 = "
                f"{H + 1} steps before its last val_size={V} (longest: {int(lengths.max())}) and "
                f"{self.min_observed:.0%} of each input observed; lower horizon=, val_size= or "
                "min_observed="
            )
        self.n_windows_ = {"train": len(train_origins), "val": len(val_origins)}
        plan_budget = budget(params, len(train_origins), panel.n_series)
        self.budget_ = plan_budget.as_dict()
        log.info(
            "%s: %d training windows, %d steps of batch %d (%.1f passes, set by %s), lr %g",
            self.name,
            len(train_origins),
            plan_budget.steps,
            plan_budget.batch,
            plan_budget.passes,
            plan_budget.bound,
            plan_budget.lr,
        )
        self.feature_names_ = windows.feature_names
        self.future_names_ = windows.future_names
        config = net_config(
            params,
            plan,
            windows.feature_names,
            windows.n_future_features,
            panel.n_series,
        )
        norm = self._norm()
        previous = getattr(self, "net_", None) if self.warm_start else None
        self.config_ = config
        self.nonnegative_ = self._nonnegative(panel, plan)
        device = torch.device(plan.device)
        if threads is None or self.num_threads is not None:
            threads, why = choose_threads(self.num_threads, device)
        else:
            why = f"its share of the idle cores, one of {world} processes"
        self.threads_ = threads
        log.info("%s: %d torch thread(s) (%s)", self.name, threads, why)
        if plan_budget.batch < world:
            raise ValueError(
                f"{self.name}: num_processes={world} needs at least {world} training windows "
                f"a step; this fit has {plan_budget.batch}: lower num_processes="
            )
        with _torch_session(plan.seed, threads, device):
            net = RecurrentNet(config).to(device)
            # the same shape: the same config but for the share of Theta fitted after training
            if previous is not None and replace(previous.config, theta_weight=0.0) == config:
                net.load_state_dict(previous.state_dict())
            elif previous is not None:
                log.info("%s: warm_start ignored, the network's shape changed", self.name)
            self.net_ = net
            call = None
            if rank is not None:
                call = distributed.wrap(net, rank)  # rank 0's weights, broadcast
                torch.manual_seed(plan.seed + r)  # each rank's own dropout masks
            initial = copy.deepcopy(net.state_dict())  # a refit starts where the fit did
            windows.to(device)
            spread = torch.as_tensor(series_spread, device=device)
            counts_scale = series_scales(scalers, device)
            weights = (
                None if alike or not plan.relative_loss else torch.as_tensor(weights, device=device)
            )
            loss_of = _loss_function(net, norm, counts_scale, weights, spread, params, plan, call)
            batches = inputs.train_batches(
                windows, train_origins, plan_budget.batch, plan.seed, r, world
            )
            validate = None
            if len(val_origins):
                mine = inputs.shard(inputs.spread_out(val_origins, VAL_WINDOWS), r, world)

                def count_of(batch: Batch) -> float:
                    """What the batch's loss averages: its observed targets, or their weights."""
                    mask = batch.y_mask if batch.y_mask.dim() == 3 else batch.y_mask.unsqueeze(-1)
                    return float(denominator(self.loss, mask, _batch_weight(weights, batch)))

                def validate() -> float:
                    total, count = inputs.loss_sums(
                        loss_of, windows, mine, 4 * self.batch_size, count_of
                    )
                    if rank is not None:  # every rank gets the same loss, so the same decision
                        total, count = distributed.all_sum(total, count, device=plan.device)
                    return total / count if count > 0 else 0.0

            training = train_config(params, plan, plan_budget)
            result = train(
                net,
                loss_of,
                batches,
                training,
                validate=validate,
                callback=self._progress if r == 0 else None,
                world=world,
            )
            keep = rank is None or rank.keep
            residual = None  # measured out of sample, so before a refit sees the tail
            combine = 0.0  # the share of Theta's forecast in the point forecast
            if keep and self.loss in POINT and plan.theta_input and len(val_origins):
                combine, tried = theta_weight(
                    net, norm, windows, val_origins, spread, 4 * self.batch_size
                )
                log.info(
                    "%s: the point forecast takes %.0f %% of Theta's (validation loss %.3f of "
                    "the network's alone; all of Theta's: %.3f)",
                    self.name,
                    100 * combine,
                    tried.min(),
                    tried[-1],
                )
            damped = 0.0  # the share of the partner's forecast in the point forecast
            ends = None  # Theta's forecast from each series' end, where it is the partner
            self.partner_, self.partner_losses_ = None, {}
            if keep and self.loss in POINT:
                check = val_origins if len(val_origins) else train_origins.last(1)
                net.config = replace(net.config, theta_weight=combine)  # what predict gives
                offered = [k for k in PARTNERS if getattr(plan, f"combine_{k}")]
                if offered and len(val_origins):
                    first = val_origins.first()
                    fits = {}  # each partner's (share, losses, spread) and end forecasts
                    for kind in offered:
                        forecasts, at_ends = self._damped_from(panel, first, scalers[0], H, kind)
                        got = damped_weight(
                            net,
                            norm,
                            windows,
                            first,
                            spread,
                            4 * self.batch_size,
                            torch.as_tensor(forecasts, dtype=torch.float32),
                        )
                        fits[kind] = (got, at_ends)
                        self.partner_losses_[kind] = float(got[1].min())
                        log.info(
                            "%s: the point forecast takes %.0f %% of %s's forecast "
                            "(validation loss %.3f of the network's alone; all of it: %.3f)",
                            self.name,
                            100 * got[0],
                            PARTNERS[kind],
                            got[1].min(),
                            got[1][-1],
                        )
                    losses = self.partner_losses_  # the lowest picks (the first of equals)
                    self.partner_ = min(losses, key=losses.__getitem__)
                    (damped, tried, residual), ends = fits[self.partner_]
                    if len(offered) > 1:
                        log.info(
                            "%s: the validation tail picks %s as the partner (the lowest "
                            "loss of the shares tried)",
                            self.name,
                            PARTNERS[self.partner_],
                        )
                else:
                    residual = residual_std(net, norm, windows, check, spread, 4 * self.batch_size)
                net.config = replace(net.config, theta_weight=0.0)  # the refit trains without
            everything = windows.origins(min_observed=self.min_observed) if V else train_origins
            again = refit_budget(
                self.refit,
                result.stop_reason,
                result.best_step,
                plan_budget.steps,
                len(train_origins),
                len(everything),
            )
            history = result.history.assign(phase="fit")
            stop_reason = result.stop_reason
            if again is not None:
                log.info(
                    "%s: refit on all %d windows, the validation tail included, for %d steps (%s)",
                    self.name,
                    again.windows,
                    again.steps,
                    again.reason,
                )
                validated = copy.deepcopy(net.state_dict())
                net.load_state_dict(initial)
                torch.manual_seed(plan.seed + r)
                second_budget = replace(
                    plan_budget,
                    steps=again.steps,
                    val_every=min(plan_budget.val_every, again.steps),
                )
                second = train(
                    net,
                    loss_of,
                    inputs.train_batches(
                        windows, everything, plan_budget.batch, plan.seed, r, world
                    ),
                    train_config(params, plan, second_budget),
                    callback=self._refit_progress if r == 0 else None,
                    world=world,
                )
                if second.stop_reason == "interrupted":  # keep the network validated
                    net.load_state_dict(validated)
                    stop_reason, again = "interrupted", None
                else:
                    rows = second.history.assign(phase="refit")
                    rows["step"] += result.steps
                    history = pd.concat([history, rows], ignore_index=True)
            if not keep:
                return  # a started rank: its share of the training is done
            net.config = self.config_ = replace(net.config, theta_weight=combine)
            first = None  # the first run's validated network, which the forecasts average in
            if again is not None and plan.combine_runs:
                warm = warmup_steps(training)
                if self.combine_runs is None and result.best_step <= warm:
                    # a network kept while its learning rate still rose has barely trained
                    log.info(
                        "%s: forecasts from the refit's network alone: the first run kept "
                        "step %d, within its schedule's warm-up (%.0f steps)",
                        self.name,
                        result.best_step,
                        warm,
                    )
                else:
                    first = RecurrentNet(net.config).to(device)
                    first.load_state_dict(validated)
            self.first_net_ = first
            self.history_ = history
            self.best_step_ = result.best_step
            self.stop_reason_ = stop_reason
            self.steps_ = result.steps
            self.refit_ = None if again is None else again.as_dict()
            self.residual_std_ = residual
            self.damped_weight_ = damped
            if damped and ends is None:
                ends = self._damped(panel, H)
            self.damped_forecast_ = ends if damped else None
        # Forecasts start after the data: each target rescaled on each whole series (as
        # predict(y=...) does with the history it gets), inputs imputed as training saw them.
        pre.remember(panel, filled)
        self.preprocessor_ = pre

    def _fitted_partner(self) -> str | None:
        """The partner fitted on the validation tail (its share may be 0), None where none
        was; model files before ``combine_ets`` say it only where its share is above 0."""
        fitted = getattr(self, "partner_", None) is not None or getattr(self, "damped_weight_", 0.0)
        return self._partner_kind() if fitted else None

    def _partner_kind(self) -> str:
        """The fitted partner of the point forecast, a key of :data:`PARTNERS` (model files
        before ``combine_ets``: Theta's where ``combine_theta``, else the damped trend)."""
        kind = getattr(self, "partner_", None)
        if kind is None:
            kind = "theta" if self.plan_.combine_theta else "damped"
        return kind

    def _damped(self, panel: Panel, h: int, kind: str | None = None) -> np.ndarray:
        """Each series' forecast of ``h`` steps from its end by the partner ``kind`` (default:
        the fitted one), ``(n_series, h)`` in the data's units: ``"damped"``,
        :class:`~tsrnn.models.stats.smoothing.Damped` (M4's benchmark, on the seasonally
        adjusted series), or ``"ets"``, :class:`~tsrnn.models.stats.smoothing.ETS` (chosen
        by AICc, on the last ``params.ETS_SEASONS`` seasons, at least ``params.ETS_POINTS``
        points), fitted on each series' points alone; ``"theta"``, Theta's
        (:func:`~tsrnn.models.neural.thetabase.theta_ends`); ``"revert"``, each series'
        reversion to the median of as many recent points as ETS reads
        (:func:`~tsrnn.models.stats.reversion.reversion_forecast`)."""
        from tsrnn.models.stats.smoothing import ETS, Damped

        kind = self._partner_kind() if kind is None else kind
        if kind == "theta":
            return thetabase.theta_ends(panel.values, panel.offsets, self.season_, h)
        if kind == "revert":
            return reversion_forecast(panel.values, panel.offsets, _recent_points(self.season_), h)

        local = logging.getLogger("tsrnn.models.stats.local")
        level = local.level
        local.setLevel(logging.ERROR)  # its fallbacks are said below, as this model's
        try:
            # one process a core the fit ran on: 4.4-5.7 s instead of 8 s for M3's 756
            # quarterly series (the network is not training while it runs)
            jobs = max(1, int(getattr(self, "threads_", 1) or 1))
            if kind == "ets":  # the recent seasons alone (params.ETS_SEASONS)
                most = _recent_points(self.season_)
                if len(panel.lengths) and panel.lengths.max() > most:
                    panel = inputs.tail(panel, most)
                model = ETS(season=self.season_, n_jobs=jobs).fit(panel)
            else:
                model = Damped(season=self.season_, n_jobs=jobs).fit(panel)
        finally:
            local.setLevel(level)
        fell = model.fallbacks_
        if len(fell):
            log.info(
                "%s: %s took the naive forecast on %d of %d series (%s: %s)",
                self.name,
                "ETS" if kind == "ets" else "the damped trend",
                len(fell),
                panel.n_series,
                fell[ID].iloc[0],
                fell["reason"].iloc[0],
            )
        return model._forecast(h, [], None)[model.name][0]

    def _damped_from(
        self, panel: Panel, origins: Origins, scaler: Scaler, h: int, kind: str
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The partner ``kind``'s forecasts (see :meth:`_damped`) from ``origins`` (at most
        one a series), each from the series' points before it, in ``scaler``'s units,
        ``(n_series, h)``: ``nan`` for a series without an origin. With Theta's, also each
        series' forecast from its end, as :meth:`_damped` gives it, in the data's units: one
        pass of its paths gives both. None with the others' (a fit of each series)."""
        series = np.flatnonzero(origins.counts > 0)
        out = np.full((panel.n_series, h), np.nan)
        loc, scale = scaler.loc_[series, None], scaler.scale_[series, None]
        ends = None
        if kind == "theta":
            cuts = np.stack([panel.lengths, panel.lengths])
            cuts[0, series] = origins.pos
            both = thetabase.theta_ends(panel.values, panel.offsets, self.season_, h, cuts)
            at_origins, ends = both[0, series], both[1]
        else:
            part = panel.select(series)
            part = part.drop_last(part.lengths - origins.pos.astype(np.int64))
            at_origins = self._damped(part, h, kind)
        out[series] = (at_origins - loc) / scale
        return out, ends

    def _refit_progress(self, progress: Progress) -> None:
        self._progress(replace(progress, phase="refit"))

    def _threads(self, device: torch.device) -> int:
        """Forecasting: ``num_threads``, else the fit's choice (sampling the CPU's load for
        every predict would cost more than most forecasts)."""
        if self.num_threads is not None or device.type != "cpu":
            return choose_threads(self.num_threads, device)[0]
        return getattr(self, "threads_", None) or torch.get_num_threads()

    def _preprocessor(self, plan: Plan) -> Preprocessor:
        return Preprocessor(
            impute=self.impute,
            scaler=self.scaler,
            season=self.season_,
            targets=plan.targets,
            train_on_imputed=self.train_on_imputed,
            context_size=2 * plan.input_size,
            theta_horizon=plan.horizon if plan.theta_input else 0,
        )

    def _norm(self) -> WindowNorm:
        return WindowNorm.of(self.window_norm, self.feature_names_, self.plan_.targets)

    def _decoder(self) -> Decoder:
        first = getattr(self, "first_net_", None)
        net = self.net_ if first is None else MeanNet([self.net_, first])
        return Decoder(
            net, self._norm(), self.plan_.quantiles, self.num_samples, self.residual_std_
        )

    def _progress(self, progress: Progress) -> None:
        if self.verbose:
            val = "" if progress.val_loss is None else f", val {progress.val_loss:.4g}"
            log.info(
                "%s %sstep %d/%d: loss %.4g%s, %.0f windows/s",
                self.name,
                "refit " if progress.phase == "refit" else "",
                progress.step,
                progress.max_steps,
                progress.loss,
                val,
                progress.windows_per_s,
            )
        if self.callback is not None:
            self.callback(progress)

    # ------------------------------------------------------------------ predict
    def _forecast(
        self, h: int, levels: list[float], X_future: Any
    ) -> dict[str, tuple[np.ndarray, dict[float, np.ndarray]]]:
        """The network's forecasts from the stored context (the fitted series' tails, or those
        :meth:`update` prepared): ``<model>`` (and ``<model>:<target>`` for extra targets),
        with the trained quantiles or sample paths' levels, in each target's units. Future
        covariates come from ``X_future``, required when the model reads them."""
        plan = self.plan_
        pre = self.preprocessor_
        context = pre.context
        future = pre.future_values(X_future, self.index_, h, plan.future, self.name)
        device = torch.device(plan.device)
        with _torch_session(plan.seed, self._threads(device), device):
            windows = Windows(
                context.panel,
                plan.input_size,
                h,
                calendar=self.calendar,
                future_values=future,
                targets=plan.targets,  # the inputs carry their observed flags
                **self._static_inputs(context.panel),
            ).to(device)
            spread = torch.as_tensor(context.spread, device=device)
            rows = self._rows(context.panel)
            point, qs = self._decoder().forecast(windows, context.scalers, rows, spread, levels)
        n = context.panel.n_series
        damped = getattr(self, "damped_forecast_", None)  # model files before it: none
        damped = None if damped is None else damped[:, :h]
        return self._columns(point, qs, context.scalers, np.arange(n), levels, damped)

    def _sample_paths(
        self, h: int, n: int, X_future: Any, rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """A recursive head with a distribution loss draws DeepAR-style paths; every other
        network samples its forecast distribution as the base class does."""
        if not (self.loss in DISTRIBUTIONS and self.config_.head == "recursive"):
            return super()._sample_paths(h, n, X_future, rng)
        plan = self.plan_
        pre = self.preprocessor_
        context = pre.context
        future = pre.future_values(X_future, self.index_, h, plan.future, self.name)
        device = torch.device(plan.device)
        seed = int(rng.integers(2**31 - 1))
        with _torch_session(seed, self._threads(device), device):
            windows = Windows(
                context.panel,
                plan.input_size,
                h,
                calendar=self.calendar,
                future_values=future,
                targets=plan.targets,
                **self._static_inputs(context.panel),
            ).to(device)
            spread = torch.as_tensor(context.spread, device=device)
            rows = self._rows(context.panel)
            drawn = self._decoder().paths(windows, context.scalers, rows, spread, n)
        series = np.arange(context.panel.n_series)
        names = [self.name] + [f"{self.name}:{t}" for t in plan.targets]
        keep = getattr(self, "nonnegative_", ())
        paths = {}
        for j, (name, scaler) in enumerate(zip(names, context.scalers, strict=True)):
            # (S, n, h) -> (S, h, n): the scaler maps rows of series, trailing axes alike
            values = scaler.inverse_transform_array(drawn[..., j].transpose(0, 2, 1), series)
            values = values.transpose(0, 2, 1)
            if j < len(keep) and keep[j]:
                values = np.maximum(values, 0.0)
            paths[name] = np.round(values) if self._counts() else values
        return paths

    def _sample_levels(self) -> list[float]:
        """The quantile loss gives levels within its trained ones only."""
        if self.loss != "quantile":
            return super()._sample_levels()
        low, high = self.plan_.quantiles[0], self.plan_.quantiles[-1]
        return sorted({low, high, *(q for q in super()._sample_levels() if low <= q <= high)})

    def _counts(self) -> bool:
        return self.loss == "negbin"

    def _predict_windows(
        self, panel: Panel, ends: np.ndarray, starts: np.ndarray, h: int, levels: list[float]
    ) -> pd.DataFrame:
        """Forecasts from many cutoffs of every series in one batched pass: no per-cutoff
        imputation, scaling or windowing.

        Nothing after a cutoff reaches its forecast: inputs are imputed causally, and each
        series is scaled by statistics of its points before its *first* cutoff here. That is
        what differs from ``predict(h, y=history)`` per cutoff, which rescales each history.
        ``starts`` is not needed: the network reads the last ``input_size`` points. The
        ``"kalman"`` imputer learns from the values, so with it each cutoff's history is
        imputed on its own (the loop of the base class).
        """
        if self.impute == "kalman" or getattr(self, "damped_forecast_", None) is not None:
            # the damped trend is fitted on each cutoff's history: the loop of the base class
            return super()._predict_windows(panel, ends, starts, h, levels)
        plan = self.plan_
        lengths = panel.lengths
        valid = ends >= 1
        # Scaled on each series' points before its first cutoff (all of it where it has none).
        first = np.where(valid.any(axis=0), np.where(valid, ends, lengths).min(axis=0), lengths)
        prepared = self.preprocessor_.prepare(panel, end=first)
        rows = self._rows(panel)
        window, series = np.nonzero(valid)
        pos = ends[window, series]
        device = torch.device(plan.device)
        with _torch_session(plan.seed, self._threads(device), device):
            windows = Windows(
                prepared.panel,
                plan.input_size,
                h,
                calendar=self.calendar,
                targets=plan.targets,
                **self._static_inputs(panel, end=first),
            ).to(device)
            spread = torch.as_tensor(prepared.spread, device=device)
            point, qs = self._decoder().forecast(
                windows, prepared.scalers, rows, spread, levels, (series, pos)
            )
        columns = self._columns(point, qs, prepared.scalers, series, levels)
        times = panel.times()
        at = (panel.offsets[:-1][series] + pos)[:, None] + np.arange(h)
        frame = pd.DataFrame(
            {
                ID: np.repeat(panel.ids[series].astype(str), h),
                "window": np.repeat(window, h),
                TIME: times[at.ravel()],
            }
        )
        for name, (p, q) in columns.items():
            frame[name] = p.ravel()
            for level, values in q.items():
                frame[quantile_column(name, level)] = values.ravel()
        return frame

    def _update(self, panel: Panel) -> NeuralForecaster:
        """A copy forecasting from the histories in ``panel``: the weights are kept, each
        history is imputed and scaled on its own, series the network never saw use the mean
        series embedding."""
        if panel.freq != self.freq_:
            raise DataError(
                f"{self.name}: y has frequency {panel.freq!r}, the model was fitted on "
                f"{self.freq_!r}; resample it to {self.freq_!r}"
            )
        self._warn_short(panel)
        new = copy.copy(self)
        new.preprocessor_ = self.preprocessor_.with_context(panel)
        spread = getattr(self, "spread_inputs_", None)
        if spread is not None:  # measured on the whole history, not its tail
            new.spread_inputs_ = spread.knowing(panel)
        new.index_ = last_points(panel)
        new.lengths_ = new.preprocessor_.context.panel.lengths.copy()  # of the stored tails
        if getattr(self, "damped_forecast_", None) is not None:  # fitted on the new histories
            new.damped_forecast_ = self._damped(panel, self.plan_.horizon)
        return new

    def _warn_short(self, panel: Panel) -> None:
        """Say so when histories are shorter than the input window: the network then reads
        mostly padding, and its forecasts rest on a few points."""
        L = self.plan_.input_size
        seen = np.add.reduceat(panel.observed, panel.offsets[:-1])
        short = np.flatnonzero(seen < L)
        if len(short):
            k = short[np.argmin(seen[short])]
            log.warning(
                "%s reads the last %d points of each series (its input size); %d of %d series "
                "have fewer observed points (shortest: %r, %d points): the network reads padding "
                "for the rest, so their forecasts rest on little history",
                self.name,
                L,
                len(short),
                panel.n_series,
                str(panel.ids[k]),
                int(seen[k]),
            )

    def _static_inputs(self, panel: Panel, end: np.ndarray | None = None) -> dict[str, Any]:
        """The inputs of ``panel``'s series that hold for all their steps, for
        :class:`Windows`: the encoded static attributes, then the relative spread (measured
        on the first ``end[s]`` points of a series the network never saw); none when the
        model was fitted without them."""
        columns, names = [], []
        static = getattr(self, "static_", None)
        if static is not None:
            columns.append(static.values(panel.ids, self.name))
            names.extend(static.names)
        spread = getattr(self, "spread_inputs_", None)
        if spread is not None:
            columns.append(spread.values(panel, end))
            names.extend(spread.names)
        if not names:
            return {}
        return {"static": np.hstack(columns), "static_names": tuple(names)}

    def _rows(self, panel: Panel) -> np.ndarray:
        """Each series' row among the fitted ones (-1: never seen), for the embedding."""
        return pd.Index(self.ids_.astype(str)).get_indexer(panel.ids.astype(str))

    def _default_steps(self) -> int:
        return self.plan_.horizon

    def _check_steps(self, h: int) -> None:
        horizon = self.plan_.horizon
        if self.config_.head == "direct" and h > horizon:
            raise ValueError(
                f"{self.name}: the direct head forecasts at most horizon={horizon} steps, "
                f"asked for {h}; refit with horizon={h} or use head='recursive'"
            )

    def _check_levels(self, levels: list[float]) -> None:
        if self.loss == "quantile" and levels:
            low, high = self.plan_.quantiles[0], self.plan_.quantiles[-1]
            outside = [q for q in levels if not low <= q <= high]
            if outside:
                raise ValueError(
                    f"{self.name}: quantiles {outside} lie outside the trained levels "
                    f"[{low}, {high}]; refit with quantiles= covering them"
                )

    def _nonnegative(self, panel: Panel, plan: Plan) -> tuple[bool, ...]:
        """Per target (``y`` first): whether its forecasts are kept at or above 0."""
        if self.nonnegative is not None:
            return (bool(self.nonnegative),) * (1 + len(plan.targets))
        observed = [panel.values[panel.observed]]
        for t in plan.targets:
            column = panel.covariates[:, panel.covariate_names.index(t)]
            observed.append(column[~np.isnan(column)])
        return tuple(bool(len(v) and v.min() >= 0) for v in observed)

    def _columns(
        self,
        point: np.ndarray,
        qs: np.ndarray,
        scalers: list[Scaler],
        series: np.ndarray,
        levels: list[float],
        damped: np.ndarray | None = None,
    ) -> dict[str, tuple[np.ndarray, dict[float, np.ndarray]]]:
        """Forecasts back in each target's units: name -> (point, {level: quantile}); with
        ``damped`` (each row's damped-trend forecast, in y's units), y's point forecast and
        quantiles move by ``damped_weight_`` of its difference from the network's point."""
        columns = {}
        names = [self.name] + [f"{self.name}:{t}" for t in self.plan_.targets]
        keep = getattr(self, "nonnegative_", ())  # model files before it: as they forecast
        for j, (name, scaler) in enumerate(zip(names, scalers, strict=True)):
            p = scaler.inverse_transform_array(point[..., j], series)
            q = {
                lv: scaler.inverse_transform_array(qs[..., j, k], series)
                for k, lv in enumerate(levels)
            }
            if j == 0 and damped is not None:
                shift = self.damped_weight_ * (damped - p)
                p, q = p + shift, {lv: v + shift for lv, v in q.items()}
            if j < len(keep) and keep[j]:  # clipping keeps the quantiles in order
                p, q = np.maximum(p, 0.0), {lv: np.maximum(v, 0.0) for lv, v in q.items()}
            if self._counts():  # a count distribution's quantiles are whole numbers
                q = {lv: np.round(v) for lv, v in q.items()}
            columns[name] = (p, q)
        return columns

    # ------------------------------------------------------------------ state
    def _get_state(self) -> dict[str, Any]:
        """The weights, the network's shape, the plan, the preprocessor's scalers and stored
        tails, and every other fitted attribute, as plain data."""
        rest = {k: v for k, v in self._fitted().items() if k not in _OWN_STATE}
        first = getattr(self, "first_net_", None)  # models pickled before combine_runs: none
        return {
            "version": _STATE_VERSION,
            "net": _weights(self.net_),
            "first_net": None if first is None else _weights(first),
            "config": to_state(self.config_.to_dict()),
            "plan": to_state(asdict(self.plan_)),
            "preprocessor": to_state(self.preprocessor_.get_state()),
            "static": None if self.static_ is None else to_state(self.static_.to_state()),
            "spread_inputs": None
            if self.spread_inputs_ is None
            else to_state(self.spread_inputs_.to_state()),
            **{k: to_state(v, k) for k, v in rest.items()},
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_state`'s state (or an older model file's, converted), on the
        device it was trained on, or the CPU where that GPU is missing."""
        if "legacy" in state:
            from tsrnn.models.legacy import neural_state

            state = neural_state(**state["legacy"])
        own = ("version", *(name.removesuffix("_") for name in _OWN_STATE))
        super()._set_state({k: v for k, v in state.items() if k not in own})
        self.plan_ = Plan(**from_state(state["plan"]))
        self.config_ = NetConfig(**from_state(state["config"]))
        static = state.get("static")  # model files before static attributes have none
        self.static_ = None if static is None else StaticFeatures.from_state(from_state(static))
        spread = state.get("spread_inputs")  # model files before the input have none
        self.spread_inputs_ = (
            None if spread is None else inputs.SpreadInputs.from_state(from_state(spread))
        )
        self.net_ = _network(self.config_, state["net"])
        first = state.get("first_net")  # model files before combine_runs have none
        self.first_net_ = None if first is None else _network(self.config_, first)
        pre = self._preprocessor(self.plan_)
        self.preprocessor_ = pre.set_state(from_state(state["preprocessor"]))
        device = self.plan_.device
        if device.startswith("cuda") and not torch.cuda.is_available():
            log.info("this model was trained on %s; running it on the CPU here", device)
            device = "cpu"
        self._to(device)

    def _to(self, device: str) -> None:
        """The network on ``device`` from now on (training precision ``"fp16"`` becomes
        ``"fp32"`` off CUDA)."""
        device = str(torch.device(device))
        precision = self.plan_.precision
        if precision == "fp16" and not device.startswith("cuda"):
            precision = "fp32"
        self.plan_ = replace(self.plan_, device=device, precision=precision)
        self.net_ = self.net_.to(device)
        if getattr(self, "first_net_", None) is not None:
            self.first_net_ = self.first_net_.to(device)


def _network(config: NetConfig, weights: dict[str, torch.Tensor]) -> RecurrentNet:
    """A network of ``config``'s shape holding ``weights``, for forecasting."""
    net = RecurrentNet(config)
    net.load_state_dict(weights)
    return net.eval()


def _weights(net: RecurrentNet) -> dict[str, torch.Tensor]:
    """A network's weights on the CPU, as a model file holds them."""
    return {k: v.detach().cpu() for k, v in net.state_dict().items()}


def _batch_weight(weights: torch.Tensor | None, batch: Batch) -> torch.Tensor | None:
    """Each window's series weights in the loss, (B, 1, T) (None: all alike)."""
    return None if weights is None else weights[batch.series].unsqueeze(1)


def _loss_function(
    net: RecurrentNet,
    norm: WindowNorm,
    series_scale: torch.Tensor,
    weights: torch.Tensor | None,
    spread: torch.Tensor,
    params: dict[str, Any],
    plan: Plan,
    call: Callable[..., Any] | None = None,
) -> Callable[[Batch], torch.Tensor]:
    """The training (and validation) loss of a batch; ``call(method, *args)`` runs the
    network's methods where it is trained on several processes
    (:func:`~tsrnn.models.neural.distributed.wrap`). ``series_scale`` and ``weights``
    (n_series, T): each series' scale (count likelihoods) and its weight in the loss (None:
    all alike)."""

    def run(method: str, *args: Any, **kwargs: Any) -> Any:
        if call is None:
            return getattr(net, method)(*args, **kwargs)
        return call(method, *args, **kwargs)

    loss, k = params["loss"], params["forecasts_per_window"]
    q = torch.tensor(plan.quantiles, device=series_scale.device)
    recursive = params["head"] == "recursive"
    L = plan.input_size
    E = plan.encoder_size or L
    # k input steps evenly spaced over those the encoder reads, the window's last step first
    positions = torch.as_tensor(
        L - 1 - (np.arange(k) * E) // k, dtype=torch.int64, device=series_scale.device
    )

    def loss_of(batch: Batch) -> torch.Tensor:
        x, y, mask, _, scale = norm(batch, spread)
        weight = _batch_weight(weights, batch)
        counts_scale = None
        if loss == "negbin":  # (B, 1, T) the counts' own units
            counts_scale = series_scale[batch.series].unsqueeze(1)
            counts_scale = counts_scale if scale is None else counts_scale * scale
        if k > 1 and net.training:  # k forecasts per window, flattened to B * k
            out, y, mask = run("forward_every", x, batch.x_future, batch.series, y, mask, positions)
            out, y, mask = out.flatten(0, 1), y.flatten(0, 1), mask.flatten(0, 1)
            if counts_scale is not None:
                counts_scale = counts_scale.repeat_interleave(k, dim=0)
            if weight is not None:
                weight = weight.repeat_interleave(k, dim=0)
        else:
            # Teacher forcing in training only: validation runs free, as predict does.
            teacher = recursive and net.training
            out = run(
                "forward",
                x,
                batch.x_future,
                batch.series,
                y_prev=y if teacher else None,
                mask_prev=mask if teacher else None,
                sampling=params["scheduled_sampling"],
            )
        value = compute_loss(
            loss, out.float(), y, mask, quantiles=q, scale=counts_scale, weight=weight
        )
        if call is not None and net.training:
            # DistributedDataParallel averages the ranks' gradients: weigh each rank's mean by
            # its share of the batch's observed targets (or their weights), so the step is the
            # whole batch's mean.
            value = value * distributed.share(denominator(loss, mask, weight))
        return value

    return loss_of


def _fit_rank(rank: int, world: int, model: NeuralForecaster, panel: Panel) -> None:
    """A started rank of ``fit(num_processes=...)``: train with the others (its model is
    dropped; rank 0 keeps the fitted one)."""
    device = distributed.rank_device(model.plan_.device, rank, world, model.name)
    model._fit_on(panel, distributed.Rank(rank, world, device, keep=False), model.num_threads)


# ---------------------------------------------------------------------- presets
def _preset_init() -> Callable[..., None]:
    """``__init__`` of a preset: NeuralForecaster's keyword parameters without ``cell``
    (a class attribute there), so ``get_params`` and ``clone`` see exactly these."""
    full = inspect.signature(NeuralForecaster.__init__)
    signature = full.replace(parameters=[p for n, p in full.parameters.items() if n != "cell"])

    def __init__(self, **params: Any) -> None:
        bound = signature.bind(self, **params)
        bound.apply_defaults()
        for name, value in bound.arguments.items():
            if name != "self":
                setattr(self, name, value)

    __init__.__signature__ = signature  # type: ignore[attr-defined]
    return __init__


class LSTMForecaster(NeuralForecaster):
    """:class:`NeuralForecaster` with ``cell="lstm"``: the same parameters, less ``cell``."""

    cell = "lstm"
    __init__ = _preset_init()


class GRUForecaster(NeuralForecaster):
    """:class:`NeuralForecaster` with ``cell="gru"``: the same parameters, less ``cell``."""

    cell = "gru"
    __init__ = _preset_init()


class RNNForecaster(NeuralForecaster):
    """:class:`NeuralForecaster` with ``cell="rnn"`` (Elman, tanh): the same parameters,
    less ``cell``."""

    cell = "rnn"
    __init__ = _preset_init()


# ---------------------------------------------------------------------- helpers
@contextmanager
def _torch_session(seed: int, num_threads: int, device: torch.device) -> Iterator[None]:
    """Seed torch and set its threads for this block only (the caller's random state and
    thread count are restored after)."""
    threads = torch.get_num_threads()
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        if num_threads != threads:
            torch.set_num_threads(num_threads)
        try:
            yield
        finally:
            torch.set_num_threads(threads)
