"""The neural forecaster's parameters: one table of constraints, resolved against the data.

scikit-learn checks parameters in ``fit``, not ``__init__`` (``set_params`` and ``clone``
must store anything). :data:`PARAMETERS` says what each parameter accepts; :func:`resolve`
checks every one against it, then the rules that tie parameters together, and fills the
defaults that depend on the data (input size from the season, the device, the seed) into a
:class:`Plan`. :func:`net_config` and :func:`train_config` turn a plan into what
:mod:`tsrnn.models.neural.nets` and :mod:`tsrnn.models.neural.training` take.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from tsrnn.data.frequency import Freq, calendar_cycles, year_cycle
from tsrnn.data.impute import STRATEGIES
from tsrnn.data.panel import TARGET
from tsrnn.data.scale import METHODS, WINDOW_METHODS
from tsrnn.models.base import check_quantiles
from tsrnn.models.neural.losses import LOSSES, POINT, n_params
from tsrnn.models.neural.nets import CELLS, HEADS, NetConfig
from tsrnn.models.neural.preprocess import target_columns, theta_columns
from tsrnn.models.neural.training import PRECISIONS, SCHEDULES, TrainConfig, bf16_supported


@dataclass(frozen=True)
class Plan:
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
    naive_inputs: bool = False  # the direct head reads the naive forecasts (resolved)
    naive_skip: bool = False  # and forecasts the change from a learned blend of them
    seasons: tuple[int, ...] = ()  # the seasonal naive inputs' seasons (with naive_inputs)
    # those inputs moved to the current level (resolved; model files before it: off)
    relevel_seasonal: bool = False
    relative_loss: bool = False  # series weighed by their windows' spread over level (resolved)
    spread_input: bool = False  # that spread, standardized, as an input (resolved)
    theta_input: bool = False  # Theta's forecast from each step, a candidate too (resolved)
    # the point forecast combined with each series' damped-trend forecast (resolved)
    combine_damped: bool = False
    # ... or with each series' ETS forecast; where both are on, the validation tail picks
    # (resolved; model files before it: off)
    combine_ets: bool = False
    # ... or with each series' reversion to its recent median, offered beside ETS where the
    # season is a day's or a week's and does not pay (resolved; model files before it: off)
    combine_revert: bool = False
    # ... or with Theta's forecast from each series' end, where the Theta input is off by its
    # size (resolved)
    combine_theta: bool = False
    # the window's last steps the encoder reads; the seasonal naive inputs read all of it
    # (0: all, as model files before the rule)
    encoder_size: int = 0
    # after a refit, forecast the mean of the refit's and the first run's networks (resolved)
    combine_runs: bool = False


# ---------------------------------------------------------------------- the table
@dataclass(frozen=True)
class OneOf:
    options: tuple[Any, ...]

    def check(self, model: str, field: str, value: Any) -> Any:
        if value not in self.options:
            raise ValueError(f"{model}: {field}={value!r}; choose one of {list(self.options)}")
        return value


@dataclass(frozen=True)
class Integer:
    low: int
    optional: bool = False  # None allowed (a default resolved later, or "never")

    def check(self, model: str, field: str, value: Any) -> int | None:
        if value is None and self.optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < self.low:
            raise ValueError(f"{model}: {field}={value!r} must be an integer >= {self.low}")
        return int(value)


@dataclass(frozen=True)
class Number:
    low: float
    high: float = math.inf
    strict: bool = False  # low itself excluded
    optional: bool = False

    def check(self, model: str, field: str, value: Any) -> float | None:
        if value is None and self.optional:
            return None
        ok = isinstance(value, int | float | np.number) and not isinstance(value, bool)
        ok = ok and (value > self.low if self.strict else value >= self.low) and value <= self.high
        if not ok:
            if self.strict:
                extra = " or None" if self.optional else ""
                raise ValueError(f"{model}: {field}={value!r} must be a positive number{extra}")
            raise ValueError(
                f"{model}: {field}={value!r} must be a number in [{self.low}, {self.high}]"
            )
        return float(value)


@dataclass(frozen=True)
class Flag:
    optional: bool = False  # None allowed (the data decides)

    def check(self, model: str, field: str, value: Any) -> bool | None:
        if value is None and self.optional:
            return None
        if not isinstance(value, bool | np.bool_):
            either = ", False or None" if self.optional else " or False"
            raise ValueError(f"{model}: {field}={value!r}; pass True{either}")
        return bool(value)


@dataclass(frozen=True)
class Names:
    """A list of column names (or numbers): a bare string would be read letter by letter."""

    def check(self, model: str, field: str, value: Any) -> tuple[Any, ...]:
        if isinstance(value, str):
            raise ValueError(f"{model}: {field}={value!r} must be a list: [{value!r}]")
        return tuple(value)


@dataclass(frozen=True)
class Free:
    """Anything (checked where it is used: a device name, a callback)."""

    def check(self, model: str, field: str, value: Any) -> Any:
        return value


PARAMETERS: Mapping[str, Any] = {
    # the network
    "cell": OneOf(CELLS),
    "horizon": Integer(1, optional=True),  # required: None gets its own message
    "input_size": Integer(1, optional=True),
    "encoder_size": Integer(1, optional=True),
    "hidden_size": Integer(1),
    "num_layers": Integer(1),
    "dropout": Number(0.0, 0.999),
    "embedding_size": Integer(0),
    "head": OneOf(HEADS),
    "scheduled_sampling": Number(0.0, 1.0),
    "forecasts_per_window": Integer(1),
    "naive_inputs": Flag(optional=True),
    "naive_skip": Flag(optional=True),
    "naive_seasons": Free(),  # a list of seasons: checked with naive_inputs below
    "relevel_seasonal": Flag(optional=True),
    "season": Integer(1, optional=True),
    "theta_input": Flag(optional=True),
    "combine_damped": Flag(optional=True),
    "combine_ets": Flag(optional=True),
    "combine_revert": Flag(optional=True),
    "combine_theta": Flag(optional=True),
    "combine_runs": Flag(optional=True),
    # the output
    "loss": OneOf(LOSSES),
    "relative_loss": Flag(optional=True),
    "spread_input": Flag(optional=True),
    "quantiles": Names(),
    "num_samples": Integer(1),
    # the data
    "scaler": OneOf(METHODS),
    "window_norm": OneOf((None, *WINDOW_METHODS)),
    "impute": OneOf(STRATEGIES),
    "train_on_imputed": Flag(),
    "min_observed": Number(0.0, 1.0),
    "calendar": Flag(),
    "past_covariates": Names(),
    "future_covariates": Names(),
    "targets": Names(),
    "nonnegative": Flag(optional=True),
    # training
    "lr": Number(0.0, strict=True, optional=True),
    "batch_size": Integer(1),
    "max_steps": Integer(1, optional=True),
    "max_epochs": Number(0.0, strict=True, optional=True),
    "schedule": OneOf(SCHEDULES),
    "patience": Integer(1, optional=True),
    "val_size": Integer(0, optional=True),
    "val_every": Integer(1, optional=True),
    "refit": Flag(optional=True),
    "grad_clip": Number(0.0, strict=True, optional=True),
    "weight_decay": Number(0.0),
    "random_state": Integer(0, optional=True),
    "device": Free(),
    "precision": OneOf(("auto", *PRECISIONS)),
    "num_threads": Integer(1, optional=True),
    "num_processes": Integer(1, optional=True),
    "warm_start": Flag(),
    "verbose": Flag(),
    "callback": Free(),
}


def check_names(model: str, params: Mapping[str, Any]) -> None:
    """The list-valued parameters, checked before the data is read (a str is a sequence:
    ``"x2"`` would mean ``["x", "2"]``)."""
    for field in ("past_covariates", "future_covariates", "targets", "quantiles"):
        PARAMETERS[field].check(model, field, params[field])


# On integer time steps these seasons are read as a year's quarters, months and weeks: the
# seasonal naive inputs move to the current level there (relevel_seasonal=None).
YEAR_SEASONS = (4, 12, 52)


# ---------------------------------------------------------------------- resolution
def resolve(
    model: str,
    params: Mapping[str, Any],
    season: int,
    past: tuple[str, ...],
    future: tuple[str, ...],
    freq: Freq | None = None,
    length: int | None = None,
    wins: Callable[[int], float] | None = None,
    points: int = 0,
    theta_wins: Callable[[], float] | None = None,
    n_series: int = 0,
    seasonal_wins: Callable[[], float] | None = None,
) -> Plan:
    """Check ``params`` (a forecaster's ``get_params()``) and resolve them into a :class:`Plan`.

    ``season`` is the data's (or the ``season`` parameter's); ``past`` and ``future`` the
    covariates of the panel being fitted; ``freq`` its grid and ``length`` its series' median
    length, from which the default seasonal naive inputs are chosen (:func:`naive_seasons`),
    with ``wins(cycle)``, the share of series on which a longer cycle's seasonal naive beats
    the season's; ``points`` the panel's number of points (the Theta input's memory) and
    ``theta_wins()`` the share of series on which Theta's forecast beats the naive one
    (:func:`~tsrnn.models.neural.thetabase.theta_wins`; None: taken as all); ``n_series``
    the panel's series (the damped combination's range, :data:`DAMPED_SERIES`);
    ``seasonal_wins()`` the share of series on which the seasonal naive forecast beats the
    naive one (:func:`~tsrnn.models.stats.reversion.seasonal_wins`; None: taken as none).
    Raises ``ValueError`` naming the parameter and the fix.
    """
    p = {field: rule.check(model, field, params[field]) for field, rule in PARAMETERS.items()}
    if p["horizon"] is None:
        raise ValueError(f"{model}: pass horizon=, the number of steps each window forecasts")
    H, direct = p["horizon"], p["head"] == "direct"
    seasons = naive_seasons(model, params, season, freq, length, H, wins if direct else None)
    # The window holds the longest season's naive values; the encoder reads the steps the rule
    # gives without the longer calendar cycle (a daily panel reading 28 steps, not 364, fits
    # 8.6 times faster) or the input_size given.
    base = max(2 * season, 2 * H)
    L = max(base, *seasons) if p["input_size"] is None else p["input_size"]
    E = p["encoder_size"]
    if E is None:
        E = L if p["input_size"] is not None else base
    if E > L:
        raise ValueError(
            f"{model}: encoder_size={E} exceeds input_size={L}: the encoder reads the "
            "window's last steps; lower encoder_size or raise input_size"
        )
    V = H if p["val_size"] is None else p["val_size"]
    if 0 < V < H:
        raise ValueError(f"{model}: val_size={V} must be 0 or at least horizon={H}")
    # None (the default): the naive inputs and the skip wherever they can work, the direct
    # head with an input window holding the season; a choice given is checked as given.
    naive = p["naive_inputs"]
    if naive is None:
        naive = direct and max(seasons) <= L
    skip = p["naive_skip"]
    if skip is None:
        skip = naive and direct and p["loss"] != "negbin"
    if skip and not (naive and direct):
        raise ValueError(f"{model}: naive_skip needs naive_inputs=True and head='direct'")
    # a year's season: weeks, months, quarters (not a day's hours or a week's days); on
    # integer steps the season alone speaks, as in calendar_cycles
    if isinstance(freq, str):
        yearly = year_cycle(freq) and max(seasons) > 1
    else:
        yearly = season in YEAR_SEASONS
    relevel = p["relevel_seasonal"]
    if relevel is None:
        relevel = naive and direct and yearly
    if relevel and not (naive and direct):
        raise ValueError(f"{model}: relevel_seasonal needs naive_inputs=True and head='direct'")
    theta, over = p["theta_input"], points * H > THETA_VALUES  # over: the input's memory cap

    def theta_helps() -> bool:  # read only where a rule needs it (the screen costs seconds)
        return theta_wins is None or theta_wins() >= THETA_SHARE

    if theta is None:
        theta = naive and direct and not p["targets"] and not over and theta_helps()
    if theta and not (naive and direct):
        raise ValueError(f"{model}: theta_input needs naive_inputs=True and head='direct'")
    if theta and p["targets"]:
        raise ValueError(
            f"{model}: theta_input gives y alone a Theta forecast; with targets= pass "
            "theta_input=False"
        )
    combinable = direct and p["loss"] in POINT and not p["targets"]
    low, high = DAMPED_SERIES
    damped, ets, partner = p["combine_damped"], p["combine_ets"], p["combine_theta"]
    revert = p["combine_revert"]
    within = combinable and low <= n_series <= high and not partner
    if ets is None:  # ETS is the partner by default, the damped trend where ETS is refused
        ets = within and not damped
    if damped is None:
        damped = within and p["combine_ets"] is False
    if revert is None:  # offered beside them where a day's or a week's season does not pay
        revert = (
            within
            and bool(ets or damped)
            and season > 1
            and not yearly
            and (seasonal_wins is None or seasonal_wins() <= REVERT_SHARE)
        )
    if partner is None:  # past the damped trend's range, where the Theta input is off by its size
        partner = (
            combinable
            and naive
            and not (damped or ets or revert)
            and p["theta_input"] is None
            and over
            and n_series > high
            and theta_helps()
        )
    offered = {
        "combine_damped": damped,
        "combine_ets": ets,
        "combine_revert": revert,
        "combine_theta": partner,
    }
    for name, on in offered.items():
        if on and not combinable:
            raise ValueError(
                f"{model}: {name} combines the direct head's point forecasts of y: it "
                f"needs head='direct', a loss in {POINT} and no targets="
            )
    if partner and (damped or ets or revert):
        raise ValueError(
            f"{model}: combine_theta and combine_damped / combine_ets / combine_revert each "
            "give the point forecast one partner: pass one of them"
        )
    runs, averaged = p["combine_runs"], p["loss"] in (*POINT, "quantile")
    if runs is None:
        runs = averaged
    if runs and not averaged:
        raise ValueError(
            f"{model}: combine_runs averages two networks' forecasts: it needs a loss in "
            f"{(*POINT, 'quantile')}; loss={p['loss']!r} forecasts a distribution's parameters"
        )
    if naive and direct and max(seasons) > L:
        raise ValueError(
            f"{model}: input_size={L} is shorter than the season {max(seasons)} of the "
            f"seasonal naive input: raise input_size to at least {max(seasons)}"
        )
    if skip and p["loss"] == "negbin":
        raise ValueError(
            f"{model}: naive_skip shifts the forecast, loss='negbin' needs a positive mean: "
            "drop one of them"
        )
    if p["scheduled_sampling"] and p["head"] != "recursive":
        raise ValueError(f"{model}: scheduled_sampling needs head='recursive'")
    k = p["forecasts_per_window"]
    if k > 1 and not direct:
        raise ValueError(f"{model}: forecasts_per_window={k} needs head='direct'")
    if k > E:
        raise ValueError(
            f"{model}: forecasts_per_window={k} exceeds the {E} steps the encoder reads "
            "(encoder_size): at most one per step"
        )
    if p["loss"] == "negbin" and (
        p["scaler"] not in ("meanabs", "none") or p["window_norm"] not in (None, "meanabs")
    ):
        raise ValueError(
            f"{model}: loss='negbin' models counts, so scaling must keep 0 at 0: use "
            "scaler='meanabs' (or 'none') and window_norm=None or 'meanabs'"
        )
    levels = tuple(sorted(set(check_quantiles(p["quantiles"])) | {0.5}))
    if p["schedule"] == "plateau" and V == 0:
        raise ValueError(f"{model}: schedule='plateau' needs validation: set val_size > 0")
    targets = p["targets"]
    if TARGET in targets or len(set(targets)) != len(targets):
        raise ValueError(
            f"{model}: targets={targets!r} must be distinct covariate columns "
            f"(y is always the first target)"
        )
    overlap = set(p["future_covariates"]) & (set(p["past_covariates"]) | set(targets))
    if overlap:
        raise ValueError(f"{model}: {sorted(overlap)} cannot be both future and past/targets")
    device = _device(model, p["device"])
    precision = _precision(model, p["precision"], device, p["cell"])
    seed = p["random_state"]
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    relative = (
        p["loss"] in (*POINT, "quantile") if p["relative_loss"] is None else p["relative_loss"]
    )
    return Plan(
        horizon=H,
        input_size=L,
        val_size=V,
        quantiles=levels,
        past=past,
        future=future,
        targets=targets,
        device=device,
        precision=precision,
        seed=seed,
        naive_inputs=bool(naive),
        naive_skip=bool(skip),
        seasons=seasons if naive and direct else (),
        relevel_seasonal=bool(relevel),
        relative_loss=relative,
        spread_input=bool(p["spread_input"]),
        theta_input=bool(theta),
        combine_damped=bool(damped),
        combine_ets=bool(ets),
        combine_revert=bool(revert),
        combine_theta=bool(partner),
        encoder_size=E,
        combine_runs=bool(runs),
    )


# The Theta input keeps H numbers a point (float64 in the panel, float32 in the windows): by
# default it is on up to this many, about 0.5 GB in all (22 bytes a number at the fit's peak:
# benchmarks/theta_memory.py; M4 Hourly: 18 million).
THETA_VALUES = 25_000_000
# ... and where Theta's forecast from each point beats the naive one by a tenth on at least
# this share of the series (thetabase.theta_wins; the week's rule, CYCLE_SHARE, alike): M3
# monthly 60 %, quarterly 52 %, yearly 52 %, M4 Hourly 94 %, where the input helps; M4 Weekly
# 8 %, where it gained 0.010 OWA; Beijing and ETTh1 0 %, where Theta's path is a near copy of
# the last value and the input lost Beijing (benchmarks/RESULTS.md, issue 27).
THETA_SHARE = 0.1


# A longer calendar cycle (the week of hourly data) joins the seasonal naive inputs by default
# where its own seasonal naive beats the season's by a tenth on this share of the series
# (inputs.cycle_wins): 27 % of M4 Hourly's, none of Beijing's or ETTh1's
# (benchmarks/RESULTS.md, issue 27).
CYCLE_SHARE = 0.1


def naive_seasons(
    model: str,
    params: Mapping[str, Any],
    season: int,
    freq: Freq | None = None,
    length: int | None = None,
    horizon: int = 1,
    wins: Callable[[int], float] | None = None,
) -> tuple[int, ...]:
    """The seasons of the seasonal naive inputs: ``naive_seasons`` as given; ``"calendar"``:
    ``season`` and the longer cycle the calendar puts it in
    (:func:`~tsrnn.data.frequency.calendar_cycles`: the week of hourly data, the year of daily
    data) where the series are long enough to learn from it: a median ``length`` of at least
    two cycles plus the horizon. None (the default): ``season``, and that longer cycle where
    the series are long enough and its seasonal naive beats the season's by a tenth on at
    least :data:`CYCLE_SHARE` of them (``wins``; the naive inputs not turned off)."""
    given = params["naive_seasons"]
    if given is not None and params["naive_inputs"] is False:
        raise ValueError(f"{model}: naive_seasons needs naive_inputs=True (or None)")
    calendar = isinstance(given, str) and given == "calendar"
    if calendar or (given is None and wins is not None and params["naive_inputs"] is not False):
        held = [
            c
            for c in calendar_cycles(freq, season)[1:]
            if length is not None and length >= 2 * c + horizon
        ]
        return (season,) + tuple(c for c in held if calendar or wins(c) >= CYCLE_SHARE)
    if given is None:
        return (season,)
    if isinstance(given, str) or np.ndim(given) != 1 or not len(given):
        raise ValueError(
            f"{model}: naive_seasons={given!r} must be a list of seasons, e.g. [24, 168], "
            'or "calendar"'
        )
    return tuple(Integer(1).check(model, "naive_seasons", m) for m in given)


def _device(model: str, requested: Any) -> str:
    device = requested
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = str(torch.device(device))
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"{model}: device={requested!r} is not a torch device") from exc
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"{model}: device={requested!r} but CUDA is not available here")
    return device


def _precision(model: str, requested: str, device: str, cell: str) -> str:
    precision = requested
    if precision == "auto":
        precision = "fp16" if device.startswith("cuda") else "fp32"
    if precision == "fp16" and not device.startswith("cuda"):
        raise ValueError(
            f"{model}: precision='fp16' needs a CUDA device (got {device}); "
            "on a CPU use 'bf16' or 'fp32'"
        )
    # A GRU stays float32 under CPU autocast and an RNN runs in bfloat16 anywhere; oneDNN's
    # bfloat16 LSTM needs AVX512-BF16 or AMX.
    if precision == "bf16" and cell == "lstm" and not bf16_supported(device):
        raise ValueError(
            f"{model}: precision='bf16' needs bfloat16 LSTM kernels, which {device} lacks "
            "(a CPU needs AVX512-BF16 or AMX); use precision='fp32'"
        )
    return precision


# ---------------------------------------------------------------------- configs
def net_config(
    params: Mapping[str, Any],
    plan: Plan,
    feature_names: Sequence[str],
    n_future: int,
    n_series: int,
) -> NetConfig:
    """The network's shape: ``feature_names`` are the input columns (``Windows.feature_names``),
    each target's value and observed flag found by name."""
    quantile = params["loss"] == "quantile"
    n_q = len(plan.quantiles) if quantile else 0
    direct_naive = plan.naive_inputs and params["head"] == "direct"
    values, observed = target_columns(feature_names, plan.targets)
    return NetConfig(
        cell=params["cell"],
        n_features=len(feature_names),
        n_future=n_future,
        horizon=plan.horizon,
        n_targets=1 + len(plan.targets),
        target_columns=values,
        observed_columns=observed,
        hidden_size=params["hidden_size"],
        num_layers=params["num_layers"],
        dropout=params["dropout"],
        head=params["head"],
        loss=params["loss"],
        n_params=n_params(params["loss"], n_q),
        median_index=plan.quantiles.index(0.5) if n_q else 0,
        n_series=n_series if params["embedding_size"] else 0,
        embedding_size=params["embedding_size"],
        seasons=plan.seasons if direct_naive else (),
        relevel=plan.relevel_seasonal and direct_naive,
        skip=plan.naive_skip,
        theta=theta_columns(feature_names) if direct_naive and plan.theta_input else (0, 0),
        encoder_steps=plan.encoder_size if plan.encoder_size < plan.input_size else 0,
    )


@dataclass(frozen=True)
class Budget:
    """How long ``fit`` trains, from the parameters and the number of training windows."""

    steps: int  # optimizer steps at most: the learning-rate schedule spans them
    batch: int  # windows per step (``batch_size``, or all windows when fewer)
    passes: float  # steps x batch / windows: passes over the training windows
    val_every: int  # steps between validations
    bound: str  # which cap set ``steps``: "max_steps" or "max_epochs"
    lr: float  # the peak learning rate: ``lr``, or the rule's (:func:`budget`) for None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


STEPS_PER_PASS = 16  # a pass over few windows still takes this many steps ...
MIN_BATCH = 32  # ... in batches of at least this many windows
VALIDATIONS = 20  # validations per budget when val_every is not given (at most every 50 steps)
# ... and for a lone series, whose validation tail is one window: patience's 10 validations then
# end a run 160 steps after its best of 1,000, not 500. A window is a noisy verdict, and the
# longer wait let it keep a late snapshot of a run that had learned the one series' past
# (ETTh2: training loss 0.51 against 0.92, test MSE 0.246 against the seasonal naive's 0.155;
# with this rule 0.135, and the worst of three seeds 0.156; ETTh1's seeds kept their mean,
# closer together; panels of 12 Beijing stations moved both ways: benchmarks/RESULTS.md).
LONE_VALIDATIONS = 60
# Each validation during training reads at most this many of the validation tail's windows,
# evenly spaced: one a series by default, so panels of more series than this (M4 Monthly's
# 48,000) validate on a sample whose mean loss is still precise to about a percent, instead
# of spending a third of the fit there (benchmarks/RESULTS.md). Theta's share and the
# intervals' spread, fitted once after training, read every window.
VAL_WINDOWS = 10_000
# combine_ets=None (combine_damped=None where ETS is refused): on for panels of this many
# series. From 2: a lone series' validation tail is one forecast, and each cutoff of its
# backtests (ETTh1's 2,785) would refit ETS. Panels of 3-20 M3 series gained on average
# (sMAPE over disjoint draws: 20 quarterly 9.20 to 8.78, yearly 14.62 to 14.33; 10 yearly
# 12.02 to 11.18; 3 quarterly level), Beijing's 12 stations on each of three seeds (MAE
# 22.77 / 26.49 / 30.65 to 22.31 / 24.46 / 27.58); the lower end was 50 while the partner
# was the naive value or the damped trend. Up to 1,000, fitting a partner to every series
# twice costs less than the network's training; larger panels gained least (M3 monthly's
# 1,428 series: sMAPE 13.49 to 13.44 with the damped trend). ETS replaced the damped trend
# as the default partner: M4 Weekly's second origin OWA 0.821 to 0.772 (0.730 to 0.737 at
# the official one), M3 quarterly 8.797 to 8.762 and 8.993 to 8.798 at its second origin,
# M3 yearly 15.720 to 15.313 (18.886 to 19.137 at its second origin). Letting the tail pick
# between the two kept the damped trend on both yearly origins and quarterly's second: the
# worse pick on two of the three (benchmarks/RESULTS.md).
DAMPED_SERIES = (2, 1000)
# ETS as the partner reads each series' last ETS_SEASONS seasons, at least ETS_POINTS points:
# its smoothing weights fitted on decades of weekly data fit today's series no better, and
# the fits of long series cost most (M4 Weekly: OWA 0.737 to 0.727 at the official origin,
# 0.772 at the second either way; benchmarks/RESULTS.md).
ETS_SEASONS, ETS_POINTS = 20, 200
# combine_revert=None: the reversion to the recent median, which carries no season, is offered
# where the seasonal naive beats the naive over the horizon on at most this share of the
# series: Beijing PM2.5 0 %, nitrogen dioxide 8 %, its daily means 33 %, where it gained (2-10 %
# on every seed); not ozone (92 %) or ETTh1 and ETTh2's 14 columns (57 %), where it lost 2-4 %
# to ETS alone; M4 Hourly 99 %, whose tail gave no partner a share (benchmarks/RESULTS.md).
REVERT_SHARE = 0.5
# The point forecast's partners (the flag combine_<key> offers each; where several are on,
# the validation tail picks one) and their names in words.
PARTNERS = {
    "damped": "the damped trend",
    "ets": "ETS",
    "revert": "the reversion to the recent median",
    "theta": "Theta",
}
# combine_theta=None: where the Theta input is off by THETA_VALUES alone (M4 Monthly's
# 48,000 series: 187 million numbers) on a panel past DAMPED_SERIES, the point forecast takes
# a share of Theta's forecast from each series' end instead (thetabase.theta_ends, one pass
# for the validation origins and the ends: 10-15 s of a 100 s fit of 48,000 synthetic series
# of 216 points). M3 monthly with the Theta input off stood in for such a panel: sMAPE
# 13.953 for the network alone, 13.466 with Theta's forecast (benchmarks/RESULTS.md, issue 27).
# lr=None: the peak learning rate. The higher one where the steps end training after few
# passes over the windows of many series; the lower one elsewhere (benchmarks/RESULTS.md,
# issue 27).
LR, LR_HIGH, MANY_SERIES, FEW_PASSES = 1e-3, 3e-3, 30, 15
# max_steps=None: STEPS, or MORE_STEPS where STEPS full batches end before one pass over the
# windows of MANY_SERIES series or more (M4 Hourly gained 8-10 % OWA on each seed, M4 Weekly
# held; the demo's 12 Beijing stations lost 7 %: benchmarks/RESULTS.md).
STEPS, MORE_STEPS = 1000, 2000


def budget(params: Mapping[str, Any], n_windows: int, n_series: int = 1) -> Budget:
    """The training budget for ``n_windows`` training windows from ``n_series`` series.

    ``max_steps`` None: :data:`STEPS`, or :data:`MORE_STEPS` where :data:`STEPS` batches of
    ``batch_size`` end before one pass over the windows of :data:`MANY_SERIES` series or
    more (a few long series give overlapping windows: a pass over them is no measure).
    With ``max_epochs`` (the default): those steps, or fewer when ``max_epochs`` passes over
    the windows take fewer, in batches of ``batch_size`` or smaller for few windows, so that
    a pass still takes :data:`STEPS_PER_PASS` steps (batches of at least :data:`MIN_BATCH`).
    With ``max_epochs=None``: those steps of ``batch_size``.
    ``val_every`` None: about :data:`VALIDATIONS` validations per budget, at most 50 steps
    apart; :data:`LONE_VALIDATIONS` for a single series.

    ``lr`` None: :data:`LR_HIGH` where ``max_steps`` sets the budget at most
    :data:`FEW_PASSES` passes over the windows (training ends long before the data are used
    up) and the panel holds at least :data:`MANY_SERIES` series; :data:`LR` elsewhere. A few
    series (12 stations, one transformer) give windows that overlap and a validation of a
    window per series, where the higher rate's snapshot is a lottery; a set passed over
    nearly or fully ``max_epochs`` times already has what the steps can give it.
    """
    steps, bound, batch = params["max_steps"], "max_steps", params["batch_size"]
    if steps is None:
        unseen = STEPS * batch < n_windows and n_series >= MANY_SERIES
        steps = MORE_STEPS if unseen else STEPS
    epochs = params["max_epochs"]
    if epochs is not None:
        batch = min(batch, max(MIN_BATCH, n_windows // STEPS_PER_PASS))
    batch = min(batch, n_windows)
    if epochs is not None:
        by_passes = max(math.ceil(epochs * n_windows / batch), 1)
        if by_passes < steps:
            steps, bound = by_passes, "max_epochs"
    every = params["val_every"]
    if every is None:
        per_budget = LONE_VALIDATIONS if n_series == 1 else VALIDATIONS
        every = min(max(steps // per_budget, 1), 50)
    lr = params["lr"]
    passes = steps * batch / n_windows
    if lr is None:
        scarce = bound == "max_steps" and passes <= FEW_PASSES
        lr = LR_HIGH if scarce and n_series >= MANY_SERIES else LR
    return Budget(steps, batch, passes, min(every, steps), bound, lr)


REFIT_SHARE = 0.2  # refit=None: the validation tail adds at least this share of windows


@dataclass(frozen=True)
class Refit:
    """The second run of ``fit`` on every window, the validation tail included."""

    steps: int  # its budget: the one-cycle schedule spans them
    windows: int  # its training windows
    reason: str  # why it ran, in words

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def refit_budget(
    choice: bool | None,
    stop_reason: str,
    best_step: int,
    budget_steps: int,
    windows: int,
    all_windows: int,
) -> Refit | None:
    """Whether ``fit`` trains again on all ``all_windows`` windows after a first run on
    ``windows`` (the validation tail held out) with a budget of ``budget_steps`` steps, which
    kept ``best_step``'s weights and ended by ``stop_reason``; None where it does not.

    Where the tail adds at least :data:`REFIT_SHARE` more windows (short series, whose tail is
    their most recent and largest share of data), the refit trains the whole budget, however
    the first run ended: one horizon a series is too little to decide how long to train, and
    on M3 quarterly early stopping ended two seeds of three during the warm-up and left a
    refit of 50 steps. Elsewhere, where early stopping ended the first run, the refit trains
    ``best_step`` steps: a whole schedule as long as the kept weights trained, annealed to its
    end, where the kept weights are a snapshot near the schedule's peak rate. ``choice`` (the
    ``refit`` parameter) None: refit in those two cases; True: wherever there is a tail (for
    the whole budget where nothing above applies: the first run used all of it); False:
    never. Never after an interrupted run.
    """
    more = all_windows - windows
    if choice is False or more <= 0 or stop_reason == "interrupted":
        return None
    share = more / windows
    tail = f"the validation tail adds {share:.0%} more windows"
    given = "" if choice is None else "refit=True; "
    if share >= REFIT_SHARE:
        return Refit(budget_steps, all_windows, given + tail)
    if stop_reason == "early_stopping":
        return Refit(best_step, all_windows, f"{given}early stopping kept step {best_step}")
    if choice:
        return Refit(budget_steps, all_windows, given + tail)
    return None


def train_config(params: Mapping[str, Any], plan: Plan, budget: Budget) -> TrainConfig:
    return TrainConfig(
        max_steps=budget.steps,
        lr=budget.lr,
        weight_decay=params["weight_decay"],
        schedule=params["schedule"],
        grad_clip=params["grad_clip"],
        patience=params["patience"],
        val_every=budget.val_every,
        precision=plan.precision,
    )
