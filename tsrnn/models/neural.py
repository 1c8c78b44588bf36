"""RNN, LSTM and GRU forecasters: one global network over many series, with gaps.

:class:`NeuralForecaster` turns the data layer and :mod:`tsrnn.models.nets` into an estimator:

1. ``fit`` holds out the last ``val_size`` steps of every series for early stopping (a split in
   time, never shuffled into training), then fits everything else on the span before it only:
   a causal imputer for the inputs, a per-series scaler for each target, a standardization of
   each covariate.
2. :class:`~tsrnn.data.windows.Windows` lays the scaled panel out for gathering; every window
   whose input is observed enough (``min_observed``) and whose targets hold an observation is a
   training example. Targets never observed are masked out of the loss (zero gradient); inputs
   carry the observed flag and the time since the last observation, so the network sees the
   gaps instead of guessing them away.
3. :func:`~tsrnn.models.training.train` runs AdamW with a schedule, validation, early stopping
   and the best weights restored.
4. ``predict`` gathers one forecast window per series (the last ``input_size`` steps, padded on
   the left for short series) and runs the network in one batched pass.

Forecasts for the fitted series come from a stored tail of each series (twice the input
window), so a saved model predicts without its training data. ``predict(y=...)`` forecasts any
series from the history given, including series the network never saw.
"""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.utils.validation import check_is_fitted

from tsrnn.data.impute import STRATEGIES, Imputer
from tsrnn.data.panel import ID, TARGET, TIME, Panel
from tsrnn.data.scale import METHODS, WINDOW_METHODS, Scaler
from tsrnn.data.windows import Batch, Origins, Windows
from tsrnn.errors import DataError
from tsrnn.models import inputs
from tsrnn.models.base import (
    Forecaster,
    check_quantiles,
    forecast_frame,
    last_points,
    quantile_column,
)
from tsrnn.models.losses import (
    DISTRIBUTIONS,
    LOSSES,
    POINT,
    compute_loss,
    distribution,
    distribution_quantiles,
    n_params,
    point_of,
)
from tsrnn.models.nets import CELLS, HEADS, NetConfig, RecurrentNet
from tsrnn.models.training import PRECISIONS, SCHEDULES, Progress, TrainConfig, train

log = logging.getLogger(__name__)

_PREDICT_CHUNK = 4096  # forecast windows per pass: bounds memory, not the number of passes
# Window normalization: with fewer observed points a window has no usable spread of its own,
# and no window's scale goes below this fraction of its series' spread.
_MIN_WINDOW_POINTS = 3
_MIN_WINDOW_SCALE = 0.01
# Point-loss intervals: fewer validation errors than this per step pool all steps' errors.
_MIN_ERRORS = 30


@dataclass(frozen=True)
class _Plan:
    """The parameters after validation, resolved against the data (``plan_``)."""

    horizon: int
    input_size: int
    val_size: int
    quantiles: tuple[float, ...]  # levels the quantile head learns (0.5 always among them)
    past: tuple[str, ...]  # past-observed covariates read as inputs (targets included)
    future: tuple[str, ...]  # known-future covariates
    targets: tuple[str, ...]  # extra target columns, forecast jointly with y
    device: str
    precision: str  # training: "fp32", "fp16" (autocast + loss scaling, CUDA) or "bf16"
    seed: int


class NeuralForecaster(Forecaster):
    """A global recurrent forecaster (RNN, LSTM or GRU) with point or probabilistic output.

    Parameters
    ----------
    cell : {"lstm", "gru", "rnn"}, default "lstm"
        The recurrent cell (standard torch cells; see :mod:`tsrnn.models.nets`).
    horizon : int
        Steps forecast per window: ``predict(h)`` gives up to ``horizon`` steps with the direct
        head, any number with the recursive one. Required.
    input_size : int, optional
        Steps of history per window; default ``max(2 * season, 2 * horizon)``.

    **Network**

    hidden_size, num_layers : int, default 64, 2
        Width and depth of the recurrent encoder (and decoder).
    dropout : float, default 0.1
        Dropout between stacked recurrent layers.
    embedding_size : int, default 0
        Width of a learned series-id embedding (0: none). Series unseen in ``fit`` get the
        mean embedding.
    head : {"direct", "recursive"}, default "direct"
        All ``horizon`` steps at once, or a decoder stepping through them.
    scheduled_sampling : float, default 0.0
        Recursive head: chance, per step in training, of feeding back the network's own
        prediction instead of the truth.
    forecasts_per_window : int, default 1
        Direct head, training: forecasts made from each input window, from this many of its
        steps evenly spaced and ending at its last (``input_size``: from every step, as
        NeuralForecast trains its RNNs). The encoder's state at a step has read only the
        steps before it, so each is a forecast of its own next ``horizon`` steps: one pass over
        the window trains them all, many times the signal per step for the head's extra work.
    naive_inputs : bool, default False
        Direct head: each horizon step also reads its targets' naive and seasonal naive
        forecasts (the last input value; the input a whole number of seasons before the step)
        and their observed flags, which the final state alone carries only approximately.
        A large gain on M4 Hourly, mixed on Beijing PM2.5; on the single air-passengers series
        some seeds did worse (MAE 74 against 14-43 without), hence not the default.
    naive_skip : bool, default False
        With ``naive_inputs``: forecast the change from a learned per-step blend of the naive
        and seasonal naive values (equal weights at the start) instead of the value itself. Pays on strongly seasonal
        data (M4 Hourly); on Beijing PM2.5 it did not (the learning test's 7 days).
    naive_seasons : tuple of int or None, default None
        With ``naive_inputs``: the seasons of the seasonal naive inputs, one input each
        (None: ``(season,)``). ``(24, 168)`` gives hourly data a day and a week: on M4 Hourly,
        where last week's value beats yesterday's, it lowered an LSTM's holdout OWA from 0.607
        to 0.543 at 1,000 steps (the longer input alone: 0.607) and from 0.562 to 0.435 at
        3,000. Each needs ``input_size`` >= that season.
    season : int or None, default None
        Season of the seasonal naive input (and of the ``"seasonal"`` imputer); default: the
        data frequency's (24 for hourly). Give it for integer time steps.

    **Output**

    loss : {"mse", "mae", "huber", "quantile", "normal", "studentt", "negbin"}, default "mse"
        Point losses, the pinball loss over ``quantiles`` (non-crossing by construction), or
        the negative log-likelihood of a distribution (``"negbin"`` for non-negative counts;
        it needs ``scaler`` ``"meanabs"`` or ``"none"``).
    quantiles : sequence of float, default (0.1, 0.5, 0.9)
        Levels trained with ``loss="quantile"`` (0.5 is always added: the point forecast).
        ``predict(quantiles=)`` interpolates between trained levels.
    num_samples : int, default 200
        Sample paths for the quantiles of a recursive head with a distribution loss.

    **Data**

    scaler : {"standard", "robust", "minmax", "meanabs", "none"}, default "standard"
        Per-series scaling of every target, fitted on the training span.
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

    **Training**

    lr : float, default 1e-3
    batch_size : int, default 256
    max_steps : int, default 1000
    schedule : {"onecycle", "cosine", "plateau", "constant"}, default "onecycle"
    patience : int or None, default 10
        Validations without improvement before stopping early (None: never).
    val_size : int or None, default None (= horizon)
        Last steps of each series held out for validation; 0 for none (then no early stopping
        and the last weights are kept). At least ``horizon`` when positive.
    val_every : int, default 50
        Steps between validations and progress reports.
    grad_clip : float or None, default 1.0
    weight_decay : float, default 0.0
    random_state : int or None, default 0
        Seed of the initialization, the window order and dropout: the same seed gives the same
        forecasts on the CPU. None draws a fresh seed (recorded in ``plan_``).
    device : str, default "auto"
        ``"auto"`` takes CUDA when present, else the CPU.
    precision : {"auto", "fp32", "fp16", "bf16"}, default "auto"
        Training precision; weights and optimizer state stay float32 and forecasts are always
        computed in float32. ``"fp16"``: float16 autocast with dynamic loss scaling (CUDA
        only). ``"bf16"``: torch's bfloat16 autocast, no loss scaling. On a CPU with bfloat16
        instructions (AVX512-BF16, AMX) an LSTM runs in bfloat16 and trains 1.2-1.6x faster
        than in float32 (a GRU stays float32, an RNN gains little); on CUDA torch runs cuDNN's
        recurrent layers in float16 under any autocast, so there "bf16" is bfloat16 around
        them, without scaling their gradients (the fastest setting on an H200).
        ``"auto"``: ``"fp16"`` on CUDA, ``"fp32"`` on the CPU.
    num_threads : int or None, default None
        CPU threads torch may use while fitting and predicting (None: torch's setting).
    warm_start : bool, default False
        Start ``fit`` from the current weights when the model is fitted already and the new
        data gives the network the same shape (same features, series count with an
        embedding); otherwise from a fresh initialization (logged). Backtests use it to
        fine-tune between refits.
    verbose : bool, default False
        Log progress at INFO level (``logging``; the library never prints).
    callback : callable or None, default None
        Called with a :class:`~tsrnn.models.training.Progress` at every report; raising
        ``KeyboardInterrupt`` in it stops training as Ctrl-C does. Pass a function: ``clone``
        deep-copies parameters, so a bound method would copy its object too.

    Attributes
    ----------
    net_ : RecurrentNet
    config_ : NetConfig
    history_ : pandas.DataFrame
        One row per report: ``step``, ``loss``, ``val_loss``, ``lr``, ``windows_per_s``,
        ``elapsed_s``.
    best_step_ : int
    stop_reason_ : str
        ``"max_steps"``, ``"early_stopping"`` or ``"interrupted"`` (Ctrl-C).
    n_windows_ : dict
        Training and validation windows used.
    residual_std_ : ndarray, shape (horizon, n_targets) or None
        Point losses: the root mean squared validation error per step (pooled over steps
        where a step has fewer than 30 errors), in normalized units; ``predict(quantiles=)``
        makes normal intervals from it. With ``val_size=0`` it is measured on each series'
        last training window: in-sample, so intervals come out too narrow.

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

    def __init__(
        self,
        *,
        cell: str = "lstm",
        horizon: int | None = None,
        input_size: int | None = None,
        hidden_size: int = 64,
        num_layers: int = 2,
        dropout: float = 0.1,
        embedding_size: int = 0,
        head: str = "direct",
        scheduled_sampling: float = 0.0,
        forecasts_per_window: int = 1,
        naive_inputs: bool = False,
        naive_skip: bool = False,
        naive_seasons: tuple[int, ...] | None = None,
        season: int | None = None,
        loss: str = "mse",
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
        lr: float = 1e-3,
        batch_size: int = 256,
        max_steps: int = 1000,
        schedule: str = "onecycle",
        patience: int | None = 10,
        val_size: int | None = None,
        val_every: int = 50,
        grad_clip: float | None = 1.0,
        weight_decay: float = 0.0,
        random_state: int | None = 0,
        device: str = "auto",
        precision: str = "auto",
        num_threads: int | None = None,
        warm_start: bool = False,
        verbose: bool = False,
        callback: Callable[[Progress], None] | None = None,
    ) -> None:
        self.cell = cell
        self.horizon = horizon
        self.input_size = input_size
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
        self.season = season
        self.loss = loss
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
        self.lr = lr
        self.batch_size = batch_size
        self.max_steps = max_steps
        self.schedule = schedule
        self.patience = patience
        self.val_size = val_size
        self.val_every = val_every
        self.grad_clip = grad_clip
        self.weight_decay = weight_decay
        self.random_state = random_state
        self.device = device
        self.precision = precision
        self.num_threads = num_threads
        self.warm_start = warm_start
        self.verbose = verbose
        self.callback = callback

    @property
    def name(self) -> str:
        """Column name of the forecasts: ``"LSTM"``, ``"GRU"`` or ``"RNN"``."""
        return str(self.cell).upper()

    # ------------------------------------------------------------------ input
    def _as_panel(self, y: Any, X: Any, freq: Any = None) -> Panel:
        """A Panel with exactly the covariates asked for (past, future, extra targets)."""
        for field in ("past_covariates", "future_covariates", "targets", "quantiles"):
            value = getattr(self, field)
            if isinstance(value, str):  # a str is a sequence: "x2" would mean ["x", "2"]
                raise ValueError(f"{self.name}: {field}={value!r} must be a list: [{value!r}]")
        past = tuple(self.past_covariates) + tuple(
            t for t in self.targets if t not in self.past_covariates
        )
        return inputs.read_panel(y, X, past, tuple(self.future_covariates), self.name, freq)

    # ------------------------------------------------------------------ fit
    def _fit(self, panel: Panel) -> None:
        plan = self._plan(panel)
        H, L, V = plan.horizon, plan.input_size, plan.val_size
        lengths = panel.lengths
        # The training span of each series ends where its validation tail starts; a series
        # with no observation before that keeps all its points for training (no validation).
        train_end = lengths - V
        seen_before = inputs.observed_before(panel, np.maximum(train_end, 0))
        train_end = np.where((train_end >= 1) & (seen_before > 0), train_end, lengths)

        filled = self._filled(panel, fit_on=panel.drop_last(lengths - train_end))
        scalers = [Scaler(self.scaler).fit(panel, end=train_end)]
        for name in plan.targets:
            scalers.append(Scaler(self.scaler).fit(inputs.target_panel(panel, name), end=train_end))
        cov_loc, cov_scale = inputs.covariate_stats(panel, train_end)
        self.scalers_ = scalers
        self.covariate_names_ = panel.covariate_names
        self.covariate_loc_, self.covariate_scale_ = cov_loc, cov_scale
        if self.loss == "negbin":
            inputs.check_counts(panel, plan.targets, self.name)

        prepared = self._prepare(filled, scalers)
        self.series_spread_ = inputs.series_spread(prepared, train_end, plan.targets)
        windows = Windows(prepared, L, H, calendar=self.calendar, targets=plan.targets)
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
        self.feature_names_ = windows.feature_names
        self.future_names_ = windows.future_names

        device = torch.device(plan.device)
        n_q = len(plan.quantiles) if self.loss == "quantile" else 0
        config = NetConfig(
            cell=self.cell,
            n_features=windows.n_features,
            n_future=windows.n_future_features,
            horizon=H,
            n_targets=1 + len(plan.targets),
            target_columns=(0, *(windows.feature_names.index(t) for t in plan.targets)),
            observed_columns=(
                1,
                *(windows.feature_names.index(f"{t}_observed") for t in plan.targets),
            ),
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            dropout=self.dropout,
            head=self.head,
            loss=self.loss,
            n_params=n_params(self.loss, n_q),
            median_index=plan.quantiles.index(0.5) if n_q else 0,
            n_series=panel.n_series if self.embedding_size else 0,
            embedding_size=self.embedding_size,
            seasons=self._naive_seasons() if self.naive_inputs and self.head == "direct" else (),
            skip=self.naive_skip,
        )
        previous = getattr(self, "net_", None) if self.warm_start else None
        self.config_ = config
        with _torch_session(plan.seed, self.num_threads, device):
            net = RecurrentNet(config).to(device)
            if previous is not None and previous.config == config:
                net.load_state_dict(previous.state_dict())
            elif previous is not None:
                log.info("%s: warm_start ignored, the network's shape changed", self.name)
            self.net_ = net
            windows.to(device)
            series_scale = _series_scales(scalers, device)
            spread = torch.as_tensor(self.series_spread_, device=device)
            loss_of = self._loss_function(net, series_scale, spread, plan)
            batches = inputs.train_batches(windows, train_origins, self.batch_size, plan.seed)
            validate = None
            if len(val_origins):

                def validate() -> float:
                    return inputs.mean_loss(loss_of, windows, val_origins, 4 * self.batch_size)

            result = train(
                net,
                loss_of,
                batches,
                TrainConfig(
                    max_steps=self.max_steps,
                    lr=self.lr,
                    weight_decay=self.weight_decay,
                    schedule=self.schedule,
                    grad_clip=self.grad_clip,
                    patience=self.patience,
                    val_every=self.val_every,
                    precision=plan.precision,
                ),
                validate=validate,
                callback=self._progress,
            )
            self.history_ = result.history
            self.best_step_ = result.best_step
            self.stop_reason_ = result.stop_reason
            self.residual_std_ = None
            if self.loss in POINT:
                check = val_origins if len(val_origins) else train_origins.last(1)
                self.residual_std_ = self._residual_std(windows, check, spread)
        # Forecasts start after the data: scalers and spreads refitted on each whole series (as
        # predict(y=...) does with the history it gets), and a tail of each series, twice the
        # input window (its time-since-observed is then exact up to the cap), imputed as
        # training saw it: predict needs nothing else.
        self.scalers_ = [Scaler(self.scaler).fit(panel)] + [
            Scaler(self.scaler).fit(inputs.target_panel(panel, t)) for t in plan.targets
        ]
        self.series_spread_ = inputs.series_spread(
            self._prepare(filled, self.scalers_), lengths, plan.targets
        )
        self.context_ = inputs.tail(filled, 2 * L)

    def _plan(self, panel: Panel) -> _Plan:
        """Check every parameter (sklearn: in fit, not __init__) and resolve the defaults."""
        name = self.name
        _choice(name, "cell", self.cell, CELLS)
        _choice(name, "head", self.head, HEADS)
        _choice(name, "loss", self.loss, LOSSES)
        _choice(name, "scaler", self.scaler, METHODS)
        _choice(name, "window_norm", self.window_norm, (None, *WINDOW_METHODS))
        _choice(name, "impute", self.impute, STRATEGIES)
        _choice(name, "schedule", self.schedule, SCHEDULES)
        _choice(name, "precision", self.precision, ("auto", *PRECISIONS))
        if self.horizon is None:
            raise ValueError(f"{name}: pass horizon=, the number of steps each window forecasts")
        H = _int(name, "horizon", self.horizon, 1)
        if self.naive_seasons is not None:
            if not self.naive_inputs:
                raise ValueError(f"{name}: naive_seasons needs naive_inputs=True")
            if np.ndim(self.naive_seasons) != 1 or not len(self.naive_seasons):
                raise ValueError(
                    f"{name}: naive_seasons={self.naive_seasons!r} must be a list of seasons, "
                    "e.g. [24, 168]"
                )
            for season in self.naive_seasons:
                _int(name, "naive_seasons", season, 1)
        seasons = self._naive_seasons()
        L = (
            max(2 * self.season_, 2 * H, *seasons)
            if self.input_size is None
            else _int(name, "input_size", self.input_size, 1)
        )
        V = H if self.val_size is None else _int(name, "val_size", self.val_size, 0)
        if 0 < V < H:
            raise ValueError(f"{name}: val_size={V} must be 0 or at least horizon={H}")
        for field, low in (
            ("hidden_size", 1),
            ("num_layers", 1),
            ("embedding_size", 0),
            ("num_samples", 1),
            ("batch_size", 1),
            ("max_steps", 1),
            ("val_every", 1),
        ):
            _int(name, field, getattr(self, field), low)
        if self.patience is not None:
            _int(name, "patience", self.patience, 1)
        for field in ("naive_inputs", "naive_skip", "train_on_imputed"):
            if not isinstance(getattr(self, field), bool | np.bool_):
                raise ValueError(f"{name}: {field}={getattr(self, field)!r}; pass True or False")
        if self.naive_skip and not (self.naive_inputs and self.head == "direct"):
            raise ValueError(f"{name}: naive_skip needs naive_inputs=True and head='direct'")
        if self.naive_inputs and self.head == "direct" and max(seasons) > L:
            raise ValueError(
                f"{name}: input_size={L} is shorter than the season {max(seasons)} of the "
                f"seasonal naive input: raise input_size to at least {max(seasons)}"
            )
        if self.naive_skip and self.loss == "negbin":
            raise ValueError(
                f"{name}: naive_skip shifts the forecast, loss='negbin' needs a positive mean: "
                "drop one of them"
            )
        if self.num_threads is not None:
            _int(name, "num_threads", self.num_threads, 1)
        for field, low, high in (
            ("dropout", 0.0, 0.999),
            ("scheduled_sampling", 0.0, 1.0),
            ("min_observed", 0.0, 1.0),
            ("weight_decay", 0.0, math.inf),
        ):
            value = getattr(self, field)
            if not isinstance(value, int | float) or not low <= value <= high:
                raise ValueError(f"{name}: {field}={value!r} must be a number in [{low}, {high}]")
        if not (isinstance(self.lr, int | float) and self.lr > 0):
            raise ValueError(f"{name}: lr={self.lr!r} must be a positive number")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise ValueError(f"{name}: grad_clip={self.grad_clip!r} must be positive or None")
        if self.scheduled_sampling and self.head != "recursive":
            raise ValueError(f"{name}: scheduled_sampling needs head='recursive'")
        k = _int(name, "forecasts_per_window", self.forecasts_per_window, 1)
        if k > 1 and self.head != "direct":
            raise ValueError(f"{name}: forecasts_per_window={k} needs head='direct'")
        if k > L:
            raise ValueError(
                f"{name}: forecasts_per_window={k} exceeds input_size={L}: at most one per step"
            )
        if self.loss == "negbin" and (
            self.scaler not in ("meanabs", "none") or self.window_norm not in (None, "meanabs")
        ):
            raise ValueError(
                f"{name}: loss='negbin' models counts, so scaling must keep 0 at 0: use "
                "scaler='meanabs' (or 'none') and window_norm=None or 'meanabs'"
            )
        levels = tuple(check_quantiles(sorted(set(check_quantiles(self.quantiles)) | {0.5})))
        if self.schedule == "plateau" and V == 0:
            raise ValueError(f"{name}: schedule='plateau' needs validation: set val_size > 0")
        targets = tuple(self.targets)
        if TARGET in targets or len(set(targets)) != len(targets):
            raise ValueError(
                f"{name}: targets={targets!r} must be distinct covariate columns "
                f"(y is always the first target)"
            )
        overlap = set(self.future_covariates) & (set(self.past_covariates) | set(targets))
        if overlap:
            raise ValueError(f"{name}: {sorted(overlap)} cannot be both future and past/targets")
        device = self.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        try:
            device = str(torch.device(device))
        except RuntimeError as exc:
            raise ValueError(f"{name}: device={self.device!r} is not a torch device") from exc
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(f"{name}: device={self.device!r} but CUDA is not available here")
        precision = self.precision
        if precision == "auto":
            precision = "fp16" if device.startswith("cuda") else "fp32"
        if precision == "fp16" and not device.startswith("cuda"):
            raise ValueError(
                f"{name}: precision='fp16' needs a CUDA device (got {device}); "
                "on a CPU use 'bf16' or 'fp32'"
            )
        seed = self.random_state
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        seed = _int(name, "random_state", seed, 0)
        self.plan_ = _Plan(
            horizon=H,
            input_size=L,
            val_size=V,
            quantiles=levels,
            past=panel.past_covariates,
            future=panel.future_covariates,
            targets=targets,
            device=device,
            precision=precision,
            seed=seed,
        )
        return self.plan_

    def _naive_seasons(self) -> tuple[int, ...]:
        """The seasons of the seasonal naive inputs (``naive_seasons``, else the season)."""
        if self.naive_seasons is None:
            return (self.season_,)
        return tuple(int(m) for m in self.naive_seasons)

    def _filled(self, panel: Panel, fit_on: Panel | None = None) -> Panel:
        """``panel`` imputed by the causal input imputer fitted on ``fit_on`` (default: the
        panel); with ``train_on_imputed`` the filled points count as observed."""
        imputer = Imputer(self.impute, causal=True, season=self.season_)
        filled = imputer.fit(panel if fit_on is None else fit_on).transform(panel)
        if self.train_on_imputed:
            filled = filled.replace(observed=~np.isnan(filled.values))
        return filled

    def _prepare(self, panel: Panel, scalers: list[Scaler]) -> Panel:
        return inputs.prepare(
            panel, scalers, self.plan_.targets, self.covariate_loc_, self.covariate_scale_
        )

    def _inputs(self, batch: Batch, spread_all: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Network inputs and targets of a batch, window-normalized if asked (in place: the
        batch's tensors are scratch space, overwritten by the next gather).

        Returns ``x (B, L, F)``, ``y (B, H, T)``, ``mask (B, H, T)`` and the normalization's
        ``loc`` and ``scale`` ``(B, 1, T)`` (``None`` without it). Each target column of a
        window maps through one affine function, its statistics taken from the observed points
        (imputed values are mapped too; left padding and points staler than the window read 0,
        as without normalization). A window with fewer than 3 observed points, or no spread,
        takes its series' spread (``spread_all[series]``, from the training span), and no
        window's scale is below a hundredth of it: a window holding one value near 0 must not
        blow its targets up by orders of magnitude.
        """
        x, y, mask = batch.x, batch.y, batch.y_mask
        if y.dim() == 2:
            y, mask = y.unsqueeze(-1), mask.unsqueeze(-1)
        if self.window_norm is None:
            return x, y, mask, None, None
        spread = spread_all[batch.series]  # (B, T)
        locs, scales = [], []
        for j, col in enumerate(self.config_.target_columns):
            v = x[..., col]  # (B, L)
            seen = x[..., self.config_.observed_columns[j]]  # observed flag, 1.0 / 0.0
            n = seen.sum(dim=1, keepdim=True)  # (B, 1)
            if self.window_norm == "meanabs":
                loc = torch.zeros_like(n)
                scale = (v.abs() * seen).sum(dim=1, keepdim=True) / n.clamp(min=1.0)
            else:
                loc = (v * seen).sum(dim=1, keepdim=True) / n.clamp(min=1.0)
                dev = (v - loc) * seen
                scale = ((dev * dev).sum(dim=1, keepdim=True) / n.clamp(min=1.0)).sqrt_()
            spread_j = spread[:, j : j + 1]  # (B, 1)
            unreliable = (n < _MIN_WINDOW_POINTS) | (scale <= 1e-6 * spread_j)
            scale = torch.where(unreliable, spread_j, scale)
            scale = torch.maximum(scale, _MIN_WINDOW_SCALE * spread_j)
            v.sub_(loc).div_(scale)
            # Inputs that hold nothing read 0, as without normalization: for the value, padding
            # and points staler than the window (imputed ones keep their values); for an extra
            # target (never imputed), every unobserved point.
            v.masked_fill_(x[..., 2] >= 1.0 if col == 0 else seen < 0.5, 0.0)
            y[..., j].sub_(loc).div_(scale)
            locs.append(loc)
            scales.append(scale)
        B, T = len(x), len(locs)
        loc = locs[0].view(B, 1, 1) if T == 1 else torch.cat(locs, dim=1).view(B, 1, T)
        scale = scales[0].view(B, 1, 1) if T == 1 else torch.cat(scales, dim=1).view(B, 1, T)
        return x, y, mask, loc, scale

    def _loss_function(
        self, net: RecurrentNet, series_scale: torch.Tensor, spread: torch.Tensor, plan: _Plan
    ) -> Callable[[Batch], torch.Tensor]:
        q = torch.tensor(plan.quantiles, device=series_scale.device)
        recursive = self.head == "recursive"
        L, k = plan.input_size, self.forecasts_per_window
        # k input steps evenly spaced over the window, its last step first
        positions = torch.as_tensor(
            L - 1 - (np.arange(k) * L) // k, dtype=torch.int64, device=series_scale.device
        )

        def loss_of(batch: Batch) -> torch.Tensor:
            x, y, mask, _, scale = self._inputs(batch, spread)
            counts_scale = None
            if self.loss == "negbin":  # (B, 1, T) the counts' own units
                counts_scale = series_scale[batch.series].unsqueeze(1)
                counts_scale = counts_scale if scale is None else counts_scale * scale
            if k > 1 and net.training:  # k forecasts per window, flattened to B * k
                params, y, mask = net.forward_every(
                    x, batch.x_future, batch.series, y, mask, positions
                )
                params, y, mask = params.flatten(0, 1), y.flatten(0, 1), mask.flatten(0, 1)
                if counts_scale is not None:
                    counts_scale = counts_scale.repeat_interleave(k, dim=0)
            else:
                # Teacher forcing in training only: validation runs free, as predict does.
                teacher = recursive and net.training
                params = net(
                    x,
                    batch.x_future,
                    batch.series,
                    y_prev=y if teacher else None,
                    mask_prev=mask if teacher else None,
                    sampling=self.scheduled_sampling,
                )
            return compute_loss(self.loss, params.float(), y, mask, quantiles=q, scale=counts_scale)

        return loss_of

    def _residual_std(self, windows: Windows, origins: Origins, spread: torch.Tensor) -> np.ndarray:
        """Spread of the point forecasts' errors over ``origins``, normalized units, (H, T).

        Root mean squared error per step and target where each step has at least
        ``_MIN_ERRORS`` errors; otherwise one pooled value over all steps (a single series'
        one validation window gives one error per step: too few to tell steps apart).
        """
        H, T = self.config_.horizon, self.config_.n_targets
        total = torch.zeros(H, T, dtype=torch.float64)
        count = torch.zeros(H, T, dtype=torch.float64)
        with torch.no_grad():
            for batch in windows.batches(origins, 4 * self.batch_size):
                x, y, mask, _, _ = self._inputs(batch, spread)
                params = self.net_(x, batch.x_future, batch.series).float()
                err = torch.where(mask, point_of(self.loss, params) - y, 0.0) ** 2
                total += err.sum(dim=0).double().cpu()
                count += mask.sum(dim=0).double().cpu()
        per_step = torch.sqrt(total / count.clamp(min=1))
        pooled = torch.sqrt(total.sum(dim=0) / count.sum(dim=0).clamp(min=1))  # (T,)
        return torch.where(count >= _MIN_ERRORS, per_step, pooled).numpy()

    def _progress(self, progress: Progress) -> None:
        if self.verbose:
            val = "" if progress.val_loss is None else f", val {progress.val_loss:.4g}"
            log.info(
                "%s step %d/%d: loss %.4g%s, %.0f windows/s",
                self.name,
                progress.step,
                progress.max_steps,
                progress.loss,
                val,
                progress.windows_per_s,
            )
        if self.callback is not None:
            self.callback(progress)

    # ------------------------------------------------------------------ predict
    def predict(
        self,
        h: int | None = None,
        X_future: Any = None,
        quantiles: Sequence[float] | None = None,
        y: Any = None,
    ) -> pd.DataFrame:
        """Forecast ``h`` steps (default ``horizon``) after the end of every series.

        Parameters
        ----------
        h : int, optional
            Steps to forecast; at most ``horizon`` with the direct head.
        X_future : DataFrame, optional
            Long frame (``unique_id``, ``ds``, the future covariates) covering the ``h`` steps
            after each series' end; required when the model reads future covariates.
        quantiles : sequence of float, optional
            Levels of the ``<model>-q<level>`` columns.
        y : optional
            Series to forecast from instead of the fitted ones (any input ``fit`` accepts):
            their history is imputed and scaled on its own, so series the network never saw
            are forecast too (with the mean series embedding).

        Returns
        -------
        pandas.DataFrame
            ``unique_id``, ``ds``, ``<model>`` (and ``<model>:<target>`` for extra targets),
            plus ``-q<level>`` columns.
        """
        check_is_fitted(self)
        plan = self.plan_
        h = self._steps(h)
        levels = self._levels(quantiles)
        if y is None:
            context, scalers = self.context_, self.scalers_
            rows = pd.Index(self.ids_.astype(str)).get_indexer(context.ids.astype(str))
            spread = self.series_spread_
            index = self.index_
        else:
            context, scalers, rows, spread = self._new_context(y)
            index = last_points(context)
        future_values = self._future_values(X_future, index, h)
        prepared = self._prepare(context, scalers)
        device = torch.device(plan.device)
        with _torch_session(plan.seed, self.num_threads, device):
            windows = Windows(
                prepared,
                plan.input_size,
                h,
                calendar=self.calendar,
                future_values=future_values,
                targets=plan.targets,  # the inputs carry their observed flags
            ).to(device)
            spread_t = torch.as_tensor(spread, device=device)
            point, qs = self._forecast(windows, scalers, rows, spread_t, levels)
        columns = self._columns(point, qs, scalers, np.arange(context.n_series), levels)
        return forecast_frame(index, h, columns)

    def predict_windows(
        self,
        y: Any,
        ends: np.ndarray,
        h: int | None = None,
        quantiles: Sequence[float] | None = None,
    ) -> pd.DataFrame:
        """Forecasts from many cutoffs of every series in one batched pass (a backtest without
        refitting): no per-cutoff imputation, scaling or windowing.

        Parameters
        ----------
        y
            The series (any input ``fit`` accepts), future covariates included.
        ends : int array, shape (n_windows, n_series)
            ``ends[k, s]``: the points of series ``s`` (in ``y``'s order) before the cutoff of
            window ``k``; below 1 for none. Each needs ``ends + h <= length``.
        h : int, optional
            Steps per window (default ``horizon``).
        quantiles : sequence of float, optional

        Returns
        -------
        pandas.DataFrame
            ``unique_id``, ``window``, ``ds`` and the columns of :meth:`predict`.

        Notes
        -----
        Nothing after a cutoff reaches its forecast: inputs are imputed causally, and each
        series is scaled by statistics of its points before its *first* cutoff here. That is
        what differs from ``predict(h, y=history)`` per cutoff, which rescales each history.
        The ``"kalman"`` imputer learns from the values, so it is refused here.
        """
        check_is_fitted(self)
        plan = self.plan_
        h = self._steps(h)
        if self.impute == "kalman":
            raise ValueError(
                f"{self.name}: impute='kalman' learns from the values; forecast each cutoff "
                "with predict(h, y=history) instead"
            )
        levels = self._levels(quantiles)
        panel = self._as_panel(y, None, freq=self.freq_)
        ends = np.asarray(ends, dtype=np.int64)
        lengths = panel.lengths
        if ends.ndim != 2 or ends.shape[1] != panel.n_series:
            raise ValueError(
                f"{self.name}: ends must have shape (n_windows, {panel.n_series}), got {ends.shape}"
            )
        valid = ends >= 1
        if np.any(ends[valid] + h > np.broadcast_to(lengths, ends.shape)[valid]):
            raise ValueError(f"{self.name}: every window needs ends + h <= the series' length")
        # Scaled on each series' points before its first cutoff (all of it where it has none).
        first = np.where(valid.any(axis=0), np.where(valid, ends, lengths).min(axis=0), lengths)
        scalers = [Scaler(self.scaler).fit(panel, end=first)]
        scalers += [
            Scaler(self.scaler).fit(inputs.target_panel(panel, t), end=first) for t in plan.targets
        ]
        filled = self._filled(panel)
        prepared = self._prepare(filled, scalers)
        spread = inputs.series_spread(prepared, first, plan.targets)
        rows = pd.Index(self.ids_.astype(str)).get_indexer(panel.ids.astype(str))
        window, series = np.nonzero(valid)
        pos = ends[window, series]
        device = torch.device(plan.device)
        with _torch_session(plan.seed, self.num_threads, device):
            windows = Windows(
                prepared, plan.input_size, h, calendar=self.calendar, targets=plan.targets
            ).to(device)
            spread_t = torch.as_tensor(spread, device=device)
            point, qs = self._forecast(windows, scalers, rows, spread_t, levels, (series, pos))
        columns = self._columns(point, qs, scalers, series, levels)
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

    def _steps(self, h: int | None) -> int:
        """Steps to forecast (default ``horizon``), checked against what the head can do."""
        horizon = self.plan_.horizon
        h = horizon if h is None else h
        if isinstance(h, bool) or not isinstance(h, int | np.integer) or h < 1:
            raise ValueError(f"{self.name}: horizon h must be a positive integer, got {h!r}")
        if self.config_.head == "direct" and h > horizon:
            raise ValueError(
                f"{self.name}: the direct head forecasts at most horizon={horizon} steps, "
                f"asked for {h}; refit with horizon={h} or use head='recursive'"
            )
        return int(h)

    def _levels(self, quantiles: Sequence[float] | None) -> list[float]:
        """Requested quantile levels, checked against what the model can give."""
        levels = check_quantiles(quantiles)
        if self.loss == "quantile" and levels:
            low, high = self.plan_.quantiles[0], self.plan_.quantiles[-1]
            outside = [q for q in levels if not low <= q <= high]
            if outside:
                raise ValueError(
                    f"{self.name}: quantiles {outside} lie outside the trained levels "
                    f"[{low}, {high}]; refit with quantiles= covering them"
                )
        return levels

    def _columns(
        self,
        point: np.ndarray,
        qs: np.ndarray,
        scalers: list[Scaler],
        series: np.ndarray,
        levels: list[float],
    ) -> dict[str, tuple[np.ndarray, dict[float, np.ndarray]]]:
        """Forecasts back in each target's units: name -> (point, {level: quantile})."""
        columns = {}
        names = [self.name] + [f"{self.name}:{t}" for t in self.plan_.targets]
        for j, (name, scaler) in enumerate(zip(names, scalers, strict=True)):
            p = scaler.inverse_transform_array(point[..., j], series)
            q = {
                lv: scaler.inverse_transform_array(qs[..., j, k], series)
                for k, lv in enumerate(levels)
            }
            columns[name] = (p, q)
        return columns

    def update(self, y: Any) -> NeuralForecaster:
        """A copy whose ``predict()`` forecasts from the histories in ``y`` (what
        ``predict(y=...)`` does once): the weights are kept, each history is imputed and scaled
        on its own, series the network never saw use the mean series embedding."""
        import copy

        check_is_fitted(self)
        context, scalers, _, spread = self._new_context(y)
        new = copy.copy(self)
        new.context_, new.scalers_, new.series_spread_ = context, scalers, spread
        new.index_ = last_points(context)
        new.lengths_ = context.lengths.copy()  # of the stored tails
        return new

    def _new_context(self, y: Any) -> tuple[Panel, list[Scaler], np.ndarray, np.ndarray]:
        """The tail, scalers, fitted-series rows and series spreads of a new history ``y``."""
        panel = self._as_panel(y, None, freq=self.freq_)
        if panel.freq != self.freq_:
            raise DataError(
                f"{self.name}: y has frequency {panel.freq!r}, the model was fitted on "
                f"{self.freq_!r}; resample it to {self.freq_!r}"
            )
        filled = self._filled(panel)
        scalers = [Scaler(self.scaler).fit(panel)]
        scalers += [
            Scaler(self.scaler).fit(inputs.target_panel(panel, t)) for t in self.plan_.targets
        ]
        rows = pd.Index(self.ids_.astype(str)).get_indexer(panel.ids.astype(str))
        spread = inputs.series_spread(
            self._prepare(filled, scalers), panel.lengths, self.plan_.targets
        )
        return inputs.tail(filled, 2 * self.plan_.input_size), scalers, rows, spread

    def _future_values(self, X_future: Any, index: Panel, h: int) -> np.ndarray | None:
        if not self.plan_.future:
            return None
        j = [self.covariate_names_.index(c) for c in self.plan_.future]
        values = inputs.future_values(X_future, index, h, self.plan_.future, self.name)
        return (values - self.covariate_loc_[j]) / self.covariate_scale_[j]

    def _forecast(
        self,
        windows: Windows,
        scalers: list[Scaler],
        rows: np.ndarray,
        spread: torch.Tensor,
        levels: list[float],
        origins: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Point forecasts (n, h, T) and quantiles (n, h, T, Q) in normalized-back, scalers'
        units, from ``origins`` ``(series, position)`` (default: each series' end).

        ``rows[s]`` is series ``s``'s position among the fitted ones (-1: never seen), for
        the series embedding.
        """
        if origins is None:
            ends = windows.forecast_origins()
            origins = (np.arange(len(ends), dtype=np.int64), ends.pos.astype(np.int64))
        series_of, pos_of = origins
        n = len(series_of)
        h, T = windows.horizon, self.config_.n_targets
        point = np.empty((n, h, T), dtype=np.float64)
        qs = np.empty((n, h, T, len(levels)), dtype=np.float64)
        device = windows.device
        series_scale = _series_scales(scalers, device)  # (n, T)
        net = self.net_.eval()
        with torch.no_grad():
            for lo in range(0, n, _PREDICT_CHUNK):
                hi = min(lo + _PREDICT_CHUNK, n)
                which = series_of[lo:hi]
                batch = windows.gather(which, pos_of[lo:hi])
                x, _, _, loc, scale = self._inputs(batch, spread)
                if loc is None:
                    loc = torch.zeros(hi - lo, 1, T, device=device)
                    scale = torch.ones(hi - lo, 1, T, device=device)
                ids = torch.as_tensor(rows[which], device=device)
                counts = series_scale[torch.as_tensor(which, device=device)].unsqueeze(1)
                p, q = self._outputs(net, x, batch.x_future, ids, levels, scale, counts)
                point[lo:hi] = (p * scale + loc).cpu().double().numpy()
                if levels:
                    qs[lo:hi] = (q * scale.unsqueeze(-1) + loc.unsqueeze(-1)).cpu().double().numpy()
        return point, qs

    def _outputs(
        self,
        net: RecurrentNet,
        x: torch.Tensor,
        x_future: torch.Tensor,
        ids: torch.Tensor,
        levels: list[float],
        scale: torch.Tensor,
        series_scale: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalized point forecasts (B, h, T) and quantiles (B, h, T, Q)."""
        loss, c = self.loss, self.config_
        if loss in DISTRIBUTIONS and c.head == "recursive":
            return self._sample_quantiles(net, x, x_future, ids, levels, scale * series_scale)
        params = net(x, x_future, ids).float()  # (B, h, T, P)
        point = point_of(loss, params, c.median_index)
        if not levels:
            return point, point.new_zeros(*point.shape, 0)
        if loss == "quantile":
            trained = torch.tensor(self.plan_.quantiles, device=params.device)
            return point, _interpolate(params, trained, levels)
        if loss in DISTRIBUTIONS:
            total = (scale * series_scale).expand_as(point).cpu().double().numpy()
            qs = distribution_quantiles(loss, params.cpu().numpy(), levels, scale=total)
            if loss == "negbin":
                qs = qs / total[..., None]  # counts back to normalized units
            return point, torch.as_tensor(qs, dtype=torch.float32, device=params.device)
        from scipy.stats import norm

        std = torch.as_tensor(_step_std(self.residual_std_, point.shape[1]), device=params.device)
        z = torch.tensor(norm.ppf(levels), dtype=torch.float32, device=params.device)
        return point, point.unsqueeze(-1) + std.unsqueeze(-1).float() * z

    def _sample_quantiles(
        self,
        net: RecurrentNet,
        x: torch.Tensor,
        x_future: torch.Tensor,
        ids: torch.Tensor,
        levels: list[float],
        total_scale: torch.Tensor,  # (B, 1, T): negbin counts = normalized values * this
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """DeepAR-style: the mean path for the point forecast, sample paths for quantiles."""
        loss = self.loss
        _, state, emb = net.encode(x, ids)
        start, seen = net.last_inputs(x)

        def feed_mean(t: int, params_t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return point_of(loss, params_t), torch.ones_like(start)

        mean = point_of(loss, net.unroll(state, start, seen, x_future, emb, feed_mean))
        if not levels:
            return mean, mean.new_zeros(*mean.shape, 0)
        S = self.num_samples
        rep = lambda t: t.repeat_interleave(S, dim=0)  # noqa: E731 - (B, ...) -> (B*S, ...)
        rep_state = lambda t: t.repeat_interleave(S, dim=1)  # noqa: E731 - (layers, B, hidden)
        state_s = (
            tuple(rep_state(s) for s in state) if isinstance(state, tuple) else rep_state(state)
        )
        emb_s = None if emb is None else rep(emb)
        scale_s = rep(total_scale[:, 0])  # (B*S, T)
        draws: list[torch.Tensor] = []

        def feed_sample(t: int, params_t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            draw = distribution(loss, params_t, scale_s if loss == "negbin" else None).sample()
            if loss == "negbin":
                draw = draw / scale_s  # counts back to normalized units
            draws.append(draw)  # the path's value at step t, fed to step t + 1
            return draw, torch.ones_like(draw)

        net.unroll(state_s, rep(start), rep(seen), rep(x_future), emb_s, feed_sample)
        paths = torch.stack(draws, dim=1).view(len(x), S, len(draws), -1)  # (B, S, h, T)
        q = torch.tensor(levels, dtype=paths.dtype, device=paths.device)
        qs = torch.quantile(paths, q, dim=1).permute(1, 2, 3, 0)  # (B, h, T, Q)
        return mean, qs

    # ------------------------------------------------------------------ persistence
    def save(self, path: str) -> None:
        """Write the fitted model to one file, atomically; read it back with :func:`tsrnn.load`."""
        from tsrnn.models.persistence import save_model

        check_is_fitted(self)
        save_model(self, path)


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
def _choice(model: str, field: str, value: Any, options: Sequence[Any]) -> None:
    if value not in options:
        raise ValueError(f"{model}: {field}={value!r}; choose one of {list(options)}")


def _int(model: str, field: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"{model}: {field}={value!r} must be an integer >= {low}")
    return int(value)


@contextmanager
def _torch_session(seed: int, num_threads: int | None, device: torch.device) -> Iterator[None]:
    """Seed torch for this block only (the caller's random state is restored after)."""
    threads = torch.get_num_threads()
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        if num_threads is not None:
            torch.set_num_threads(num_threads)
        try:
            yield
        finally:
            torch.set_num_threads(threads)


def _series_scales(scalers: list[Scaler], device: torch.device) -> torch.Tensor:
    """(n_series, T) each target's per-series scale, for count likelihoods."""
    return torch.tensor(
        np.stack([s.scale_ for s in scalers], axis=1), dtype=torch.float32, device=device
    )


def _interpolate(params: torch.Tensor, trained: torch.Tensor, levels: list[float]) -> torch.Tensor:
    """Quantiles at ``levels`` by linear interpolation between trained levels (..., Q)."""
    out = []
    for q in levels:
        k = int(
            torch.searchsorted(trained, torch.tensor(q, device=trained.device)).clamp(
                1, len(trained) - 1
            )
        )
        lo, hi = trained[k - 1], trained[k]
        w = ((q - lo) / (hi - lo)).clamp(0, 1)
        out.append(params[..., k - 1] * (1 - w) + params[..., k] * w)
    return torch.stack(out, dim=-1)


def _step_std(std: np.ndarray, h: int) -> np.ndarray:
    """The validation error's spread for ``h`` steps (H, T) -> (h, T); past the validated
    steps (a recursive head asked for more) it widens like a random walk from the last one."""
    H = len(std)
    if h <= H:
        return std[:h]
    growth = np.sqrt(np.arange(H + 1, h + 1) / H)[:, None]
    return np.concatenate([std, std[-1] * growth])
