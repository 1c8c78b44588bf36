"""How tsrnn's defaults fare across kinds of data: one accuracy table over the shared data sets.

Every rule about defaults is measured here, on data nobody tuned on, beside what a
statistician would have done. Each data set runs its standard protocol as one backtest
(``tsrnn.evaluate.backtest``) with the same models on identical windows:

- ``LSTM`` and ``GRU``: ``LSTMForecaster(horizon=h, random_state=seed)``, nothing else (on
  integer time steps, where no frequency says it, also ``season=``, as a date column would);
- ``SeasonalNaive``, ``Naive2``, ``ETS`` and ``Theta`` with their defaults (``n_jobs=2``);
- the published entries beside them: the M3 methods' submitted forecasts (Theta,
  ForecastPro), scored on the very same series; the M4 organisers' Naive2, Theta and best
  rows for the frequency (all series: comparable in the full run only); ETTh1's univariate
  LTSF-Linear rows (DLinear, NLinear, ARIMA).

| data set | protocol | metrics (first: the ratio's) |
|---|---|---|
| m3-monthly / -quarterly / -yearly | forecast h = 18 / 8 / 6 from the end of train | sMAPE, MASE (m = 12/4/1) |
| m4-weekly / m4-hourly | h = 13 / 48 from the end of train (integer steps, m = 1/24; the models' season 52/24, as weekly/hourly dates give) | OWA, sMAPE, MASE |
| beijing | bundled 12 stations, h = 24, the last days' windows, one year's sliding training, fitted once | MAE, MASE |
| etth1 | OT alone, standardized by the train rows, h = 96, every test window (stride 1), fitted once on the rows before the test | MSE, MAE |
| m3-other (held out) | M3's 174 "other" series, h = 8 from the end of train (integer steps, no calendar: m = 1) | sMAPE, MASE |
| etth2 (held out) | ETTh2's OT, the etth1 protocol | MSE, MAE |
| beijing-daily (held out) | the beijing stations' daily means (days with 20 of 24 hours), h = 14, the last 4 fortnights, refitted on all days before each | MASE (m = 7), MAE |
| beijing-o3 / beijing-no2 (held out) | ozone / nitrogen dioxide at the same 12 stations (`shared/datasets/beijing_air`), h = 24, the last 28 days' windows, one year's sliding training, fitted once | MAE, MASE (m = 24) |
| m3-monthly-early / -quarterly-early / -yearly-early (second origin) | the M3 train files alone: forecast their last h = 18 / 8 / 6 points from the points before | sMAPE, MASE |
| m4-weekly-early / m4-hourly-early (second origin) | the M4 train files alone, likewise (h = 13 / 48) | OWA, sMAPE, MASE |

The first seven are the development sets every default was tuned on. The five held out were
never used to choose a rule (beijing-daily: no rule was chosen on daily data; ozone and
nitrogen dioxide are other pollutants, with a daily cycle PM2.5 lacks): they answer
whether the rules carry to data they were not fitted to, before an independent run on data
outside the repository does. The ``-early`` sets are development data at a second
origin, one horizon before the official one: a rule that fits the competitions' test periods
alone, rather than the kind of data, shows there. The full run includes the held-out and the
second-origin sets; ``--quick`` runs the development sets unless ``--sets`` names others.

Columns: the metrics, ``ratio`` (the first metric over the best statistical row's, so below
1 beats every baseline), fit + predict seconds and the peak RSS of the process that ran the
model (``VmHWM``: each data set loads in a subprocess of its own, and each model runs in a
process forked from it, so every figure counts Python, the libraries and the data once). Each data set also gets a regular
backtest report, ``reports/defaults[-quick]/<data set>/``; the tables go to
``reports/defaults[-quick]/benchmark.md``.

    python benchmarks/defaults.py --quick        # seeded subsample: 100-150 series per M set,
                                                 # 3 Beijing windows, ETTh1 every 96th window
                                                 # on 2 months of training; no GRU
    python benchmarks/defaults.py                # everything (the documented full run)
    python benchmarks/defaults.py --sets m3-monthly,beijing --models LSTM,SeasonalNaive

Needs ``../shared/datasets`` (M3, M4, ETT, beijing_air); the sets whose folders are absent
are skipped, saying so.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

# Sibling scripts: benchmarks/ is on the path of a script run from it.
from baselines import benchmark_note, merge_results, peak_rss_mb

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets"
NEURAL = ("LSTM", "GRU")
STATISTICAL = ("SeasonalNaive", "Naive2", "ETS", "Theta")
MODELS = (*NEURAL, *STATISTICAL)
SETS = (
    "m3-monthly",
    "m3-quarterly",
    "m3-yearly",
    "m4-weekly",
    "m4-hourly",
    "beijing",
    "etth1",
)
HELD_OUT = ("m3-other", "etth2", "beijing-daily", "beijing-o3", "beijing-no2")  # never tuned on
EARLIER = tuple(f"{name}-early" for name in SETS[:5])  # the M3 and M4 sets at a second origin
EVERY = SETS + HELD_OUT + EARLIER
QUICK_SERIES = {"m3-monthly": 150, "m3-quarterly": 100, "m3-yearly": 100, "m3-other": 100}
QUICK_SERIES |= {"m4-weekly": 60, "m4-hourly": 60}
QUICK_SERIES |= {f"{name}-early": QUICK_SERIES[name] for name in SETS[:5]}
SUBSAMPLE_SEED = 0  # the quick run's series: a fixed draw
QUICK_ETT_ROWS = 1440  # the quick run's ETTh1 training span: the 2 months before the test
QUICK_ETT_STEP = 96  # and every 96th test window
DAY_HOURS = 20  # beijing-daily: the hours a day's mean needs
AIR_DAYS = 28  # beijing-o3 / -no2: the test days (7 in the quick run)
POLLUTANTS = {"beijing-o3": "O3", "beijing-no2": "NO2"}
# Rows scored from the members' forecasts: the CLI's default ensemble (`--models ensemble`),
# the median of the network and the two strongest statistical methods; its forecasts are the
# median of theirs (the same fits, the same seeds), and its time theirs added.
COMBINED = {"Ensemble": ("LSTM", "ETS", "Theta")}
QUICK_MODELS = ("LSTM", *STATISTICAL)  # the GRU only in the full run (ETTh1's took 622 s)


@dataclass
class Spec:
    """One data set: the history the backtest runs on and how it is scored."""

    name: str
    history: pd.DataFrame  # long: unique_id, ds, y (train and test)
    horizon: int
    season: int  # MASE's (and the models' when ``integer``)
    metrics: tuple[str, ...]  # the first is the ratio's
    integer: bool = False  # integer time steps: the models are told the calendar's season
    calendar_season: int | None = None  # that season, where it is not MASE's (M4 Weekly: 52)
    n_windows: int = 1
    step: int | None = None
    refit: bool = True
    window: str = "expanding"
    window_size: int | None = None
    published: dict[str, dict[str, float]] = field(default_factory=dict)  # row -> metric
    published_note: str = ""
    forecasts: pd.DataFrame | None = None  # published forecasts: unique_id, ds, <row> ...
    note: str = ""


# ---------------------------------------------------------------------- the data sets
def _subsample(train: pd.DataFrame, test: pd.DataFrame, n: int | None):
    if n is None:
        return train, test
    ids = train["unique_id"].unique()
    keep = np.random.default_rng(SUBSAMPLE_SEED).choice(ids, size=min(n, len(ids)), replace=False)
    return train[train.unique_id.isin(keep)], test[test.unique_id.isin(keep)]


def m3(period: str, n: int | None, early: bool = False) -> Spec:
    """M3's ``period`` series, forecast from the end of train; ``early``: from one horizon
    before it, the last ``h`` points of train as the test (no published forecasts there)."""
    from tsrnn.datasets import read_m3

    h, m = {"Monthly": (18, 12), "Quarterly": (8, 4), "Yearly": (6, 1), "Other": (8, 1)}[period]
    train, test = _subsample(*read_m3(DATA / "M3", period), n)
    if early:
        note = f"M3 {period}: {train.unique_id.nunique()} series"
        return _second_origin(f"m3-{period.lower()}", train, h, m, ("smape", "mase"), note)
    published = pd.read_csv(DATA / "M3" / "M3-published-forecasts.csv.gz")
    published = published[published.method.isin(["THETA", "ForecastPro"])]
    published = published[published.id.isin(train.unique_id.unique())]
    long = published.melt(["method", "id"], [f"F{k}" for k in range(1, h + 1)], "step", "f")
    long["k"] = long["step"].str[1:].astype(int) - 1
    long = long.pivot_table(index=["id", "k"], columns="method", values="f").reset_index()
    steps = test.assign(k=test.groupby("unique_id").cumcount())
    forecasts = steps.merge(long, left_on=["unique_id", "k"], right_on=["id", "k"])
    forecasts = forecasts.rename(columns={"THETA": "Theta (M3)", "ForecastPro": "ForecastPro (M3)"})
    return Spec(
        name=f"m3-{period.lower()}",
        history=pd.concat([train, test], ignore_index=True),
        horizon=h,
        season=m,
        metrics=("smape", "mase"),
        integer=period == "Other",  # no calendar: the models are told season 1
        forecasts=forecasts[["unique_id", "ds", "Theta (M3)", "ForecastPro (M3)"]],
        published_note="the submitted M3 forecasts, scored here on the same series",
        note=f"M3 {period}: {train.unique_id.nunique()} series, h = {h}, m = {m}",
    )


def m4(frequency: str, n: int | None, early: bool = False) -> Spec:
    """M4's ``frequency`` series, forecast from the end of train; ``early``: from one horizon
    before it, the last ``h`` points of train as the test (the organisers' rows do not apply)."""
    from tsrnn.datasets import read_m4

    h, m = {"Weekly": (13, 1), "Hourly": (48, 24)}[frequency]
    # What a weekly or hourly date column gives a model (season_length "W" / "h"); M4's MASE
    # keeps m = 1 for weekly data, as the organisers scored it.
    calendar = {"Weekly": 52, "Hourly": 24}[frequency]
    full_train, test = read_m4(DATA / "M4", frequency)
    total = full_train.unique_id.nunique()
    train, test = _subsample(full_train, test, n)
    if early:
        note = f"M4 {frequency}: {train.unique_id.nunique()} of {total} series"
        metrics = ("owa", "smape", "mase")
        return _second_origin(
            f"m4-{frequency.lower()}",
            train,
            h,
            m,
            metrics,
            note,
            integer=True,
            calendar_season=calendar,
        )
    table = pd.read_csv(DATA / "M4" / "results" / "point_forecasts_by_frequency.csv")
    table = table.rename(columns=str.lower).set_index("method")
    table.columns = [
        c.replace("smape", "sMAPE")
        .replace("mase", "MASE")
        .replace("owa", "OWA")
        .replace("_weekly", "_Weekly")
        .replace("_hourly", "_Hourly")
        for c in table.columns
    ]
    owa = table[f"OWA_{frequency}"].drop(["Naive2", "Theta"], errors="ignore")
    best = str(owa.astype(float).idxmin())
    published = {}
    for row in ("Naive2", "Theta", best):
        label = f"{row} (M4)" if row in ("Naive2", "Theta") else f"M4 best: {row} (M4)"
        published[label] = {
            "owa": float(table.loc[row, f"OWA_{frequency}"]),
            "smape": float(table.loc[row, f"sMAPE_{frequency}"]),
            "mase": float(table.loc[row, f"MASE_{frequency}"]),
        }
    return Spec(
        name=f"m4-{frequency.lower()}",
        history=pd.concat([train, test], ignore_index=True),
        horizon=h,
        season=m,
        metrics=("owa", "smape", "mase"),
        integer=True,
        calendar_season=calendar,
        published=published,
        published_note=f"the M4 organisers' figures over all {total} series",
        note=(
            f"M4 {frequency}: {train.unique_id.nunique()} of {total} series, h = {h}, m = {m}"
            + (f" (the models' season: {calendar}, a year of weeks)" if calendar != m else "")
        ),
    )


def _second_origin(
    name: str, train: pd.DataFrame, h: int, m: int, metrics: tuple[str, ...], note: str, **kw
) -> Spec:
    """A competition set at one horizon before its official origin: the train file alone, its
    last ``h`` points the test (the test file and the published rows do not apply)."""
    return Spec(
        name=f"{name}-early",
        history=train,
        horizon=h,
        season=m,
        metrics=metrics,
        note=f"{note} at a second origin: the last h = {h} train points forecast from the "
        f"points before, m = {m}",
        **kw,
    )


def beijing(quick: bool) -> Spec:
    from tsrnn import datasets

    frame = datasets.load("beijing_pm25")[["unique_id", "ds", "y"]]
    return _stations("beijing", frame, 3 if quick else 7, "Beijing PM2.5")


def _stations(name: str, history: pd.DataFrame, days: int, what: str) -> Spec:
    """Beijing's protocol: 12 stations, h = 24, the last ``days`` days as windows, one year's
    sliding training, fitted once."""
    return Spec(
        name=name,
        history=history,
        horizon=24,
        season=24,
        metrics=("mae", "mase"),
        n_windows=days,
        step=24,
        refit=False,
        window="sliding",
        window_size=8760,
        note=f"{what}: 12 stations, h = 24, the last {days} days as windows, one year's sliding "
        "training, fitted once",
    )


def beijing_daily(quick: bool) -> Spec:
    """The bundled stations as daily means (held out): the one set of real daily data."""
    from tsrnn import datasets

    frame = datasets.load("beijing_pm25")[["unique_id", "ds", "y"]]
    hours = frame.groupby(["unique_id", frame["ds"].dt.floor("D")])["y"]
    # a day's mean where at least 20 of its 24 hours are observed; missing otherwise
    daily = hours.mean().where(hours.count() >= DAY_HOURS).reset_index()
    windows = 2 if quick else 4
    return Spec(
        name="beijing-daily",
        history=daily,
        horizon=14,
        season=7,
        metrics=("mase", "mae"),
        n_windows=windows,
        step=14,
        note=f"Beijing PM2.5 daily means (days with at least {DAY_HOURS} of 24 hours): 12 "
        f"stations, h = 14, m = 7, the last {windows} fortnights as windows, refitted on all "
        "days before each",
    )


def beijing_air(name: str, quick: bool) -> Spec:
    """Another pollutant of the bundled stations (held out), from the shared raw files."""
    column = POLLUTANTS[name]
    parts = []
    for path in sorted((DATA / "beijing_air").glob("PRSA_Data_*.csv.gz")):
        raw = pd.read_csv(path, usecols=["year", "month", "day", "hour", "station", column])
        ds = pd.to_datetime(raw[["year", "month", "day", "hour"]])
        parts.append(pd.DataFrame({"unique_id": raw["station"], "ds": ds, "y": raw[column]}))
    history = pd.concat(parts, ignore_index=True)  # NA: unobserved hours, kept as gaps
    return _stations(name, history, 7 if quick else AIR_DAYS, f"Beijing {column}")


LTSF_ETTH1 = {  # PUBLISHED.md A: univariate, input 96, horizon 96 (ETTh2's are not copied)
    "DLinear (LTSF)": {"mse": 0.056, "mae": 0.180},
    "NLinear (LTSF)": {"mse": 0.053, "mae": 0.177},
    "ARIMA (LTSF)": {"mse": 0.058, "mae": 0.184},
}


def ett(name: str, quick: bool) -> Spec:
    frame = pd.read_csv(DATA / "ETT" / f"ETT{name[3:]}.csv", usecols=["date", "OT"], nrows=14400)
    y = frame["OT"].to_numpy(dtype=np.float64)
    train = y[:8640]
    y = (y - train.mean()) / train.std()  # sklearn's StandardScaler: population std
    history = pd.DataFrame({"unique_id": "OT", "ds": pd.to_datetime(frame["date"]), "y": y})
    h, step = 96, QUICK_ETT_STEP if quick else 1
    windows = (14400 - 11520 - h) // step + 1
    rows = QUICK_ETT_ROWS if quick else None  # the quick run trains on the last rows only
    return Spec(
        name=name,
        history=history,
        horizon=h,
        season=24,
        metrics=("mse", "mae"),
        n_windows=windows,
        step=step,
        refit=False,
        window="sliding" if rows else "expanding",
        window_size=rows,
        published=LTSF_ETTH1 if name == "etth1" else {},
        published_note="LTSF-Linear's univariate table, every test window"
        + (f" (this run: every {step}th, a shorter training span)" if quick else ""),
        note=f"ETT{name[3:]} OT, standardized by the train rows, h = 96, {windows} test windows "
        f"(stride {step}), fitted once on rows " + (f"{11520 - rows}-11519" if rows else "0-11519"),
    )


def load(name: str, quick: bool) -> Spec:
    n = QUICK_SERIES.get(name) if quick else None
    base, early = name.removesuffix("-early"), name.endswith("-early")
    if base.startswith("m3-"):
        return m3(base[3:].capitalize(), n, early)
    if base.startswith("m4-"):
        return m4(base[3:].capitalize(), n, early)
    if name == "beijing-daily":
        return beijing_daily(quick)
    if name in POLLUTANTS:
        return beijing_air(name, quick)
    return beijing(quick) if name == "beijing" else ett(name, quick)


def available(name: str) -> bool:
    folder = {"m3": "M3", "m4": "M4", "etth1": "ETT", "etth2": "ETT"}.get(name.split("-")[0])
    folder = "beijing_air" if name in POLLUTANTS else folder
    return folder is None or (DATA / folder).exists()


# ---------------------------------------------------------------------- one model, one process
def build(model: str, spec: Spec, seed: int, params: dict | None = None):
    # Integer steps: the models get the season a date column would give them (52 for
    # weekly data), whatever m the protocol's MASE uses (M4: 1 for weekly data).
    season = {"season": spec.calendar_season or spec.season} if spec.integer else {}
    if model in NEURAL:  # torch is imported by the networks' processes only
        from tsrnn.models.neural import GRUForecaster, LSTMForecaster

        cls = LSTMForecaster if model == "LSTM" else GRUForecaster
        return cls(horizon=spec.horizon, random_state=seed, **{**season, **(params or {})})
    from tsrnn.models.stats import ETS, Naive2, SeasonalNaive, Theta

    cls = {"SeasonalNaive": SeasonalNaive, "Naive2": Naive2, "ETS": ETS, "Theta": Theta}[model]
    jobs = {"n_jobs": 2} if model in ("ETS", "Theta") else {}
    return cls(**season, **jobs)


def run_set(
    name: str, models: list[str], quick: bool, seed: int, out: Path, params: dict | None = None
) -> None:
    """Child process of one data set: load it once, then each model's backtest in a process
    forked from this one (its own peak RSS, no second start-up of Python and the data)."""
    from tsrnn.evaluate import backtest  # noqa: F401  (imported once, before the forks)
    from tsrnn.models import stats  # noqa: F401

    spec = load(name, quick)
    for model in models:
        if not hasattr(os, "fork"):  # not Linux or macOS: the model in a process of its own
            subprocess.run(set_command(name, [model], out, seed, quick, params), check=True)
            continue
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:  # the child: run, then leave without the parent's clean-up
            code = 1
            try:
                run_one(spec, model, seed, out, params)
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                stop_workers()
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{name}: {model} failed (exit {os.waitstatus_to_exitcode(status)})")


def set_command(
    name: str, models: list[str], out: Path | str, seed: int, quick: bool, params: dict | None
) -> list[str]:
    """The command line of a data set's child process (``--set``)."""
    cmd = [sys.executable, __file__, "--set", name, "--models", ",".join(models)]
    cmd += ["--out", str(out), "--seed", str(seed)] + (["--quick"] if quick else [])
    return cmd + (["--params", json.dumps(params)] if params else [])


def stop_workers() -> None:
    """Stop joblib's worker processes (ETS and Theta run with ``n_jobs=2``) before a forked
    child leaves: ``os._exit`` skips the clean-up that would, and the idle workers would
    linger for minutes holding the terminal's pipe. Benchmark code, so it may read loky's
    module-level executor."""
    loky = sys.modules.get("joblib.externals.loky.reusable_executor")
    executor = getattr(loky, "_executor", None)
    if executor is not None:
        executor.shutdown(wait=True)


def run_one(spec: Spec, model: str, seed: int, out: Path, params: dict | None = None) -> None:
    """One model's backtest on one data set, saved with its time, threads and peak RSS."""
    from tsrnn.evaluate.backtest import backtest

    result = backtest(
        {model: build(model, spec, seed, params)},
        spec.history,
        spec.horizon,
        n_windows=spec.n_windows,
        step=spec.step,
        refit=spec.refit,
        window=spec.window,
        window_size=spec.window_size,
        season=spec.season,
    )
    peak = peak_rss_mb()
    result.save(out / model)
    timing = result.timings.iloc[0]
    threads = None if pd.isna(timing.threads) else int(timing.threads)
    info = {"seconds": float(timing.fit_s + timing.predict_s), "peak_rss_mb": peak}
    history = result.histories.get(model)  # a network's; the baselines have none
    info["refit"] = bool(history is not None and (history.phase == "refit").any())
    (out / f"{model}.json").write_text(json.dumps(info | {"threads": threads}))


def resolved(choices: pd.DataFrame) -> str:
    """A network's last fit, what it resolved from the data: the seasonal naive inputs'
    seasons, Theta's share and the partner's (the damped trend's, ETS's, the reversion's or
    Theta's end forecast's: the one the validation tail picked), the kept step ("" for a baseline)."""
    if not len(choices):
        return ""
    last = choices.iloc[-1]
    kind = last.get("partner")
    if not isinstance(kind, str):  # none fitted: name the one offered
        offered = [k for k in ("theta", "ets") if last.get(f"combine_{k}", False)]
        kind = offered[0] if offered else "damped"
    partner = {
        "damped": "the damped trend's",
        "ets": "ETS's",
        "revert": "the reversion's",
        "theta": "Theta's end forecast's",
    }
    partner = partner[kind]
    return (
        f"; seasons {list(last.seasons)}, Theta's share {last.theta_weight:.2f}, {partner} "
        f"{last.damped_weight:.2f}, kept step {last.best_step} of {last.steps}"
    )


# ---------------------------------------------------------------------- scoring
def score(result, spec: Spec) -> pd.DataFrame:
    """One row per model (and per published row): the spec's metrics."""
    from tsrnn.evaluate.metrics import evaluate, owa

    basic = [m for m in spec.metrics if m != "owa"]
    frame = result.forecasts.drop(columns=["window"])
    models = list(result.models)
    for name, members in COMBINED.items():  # exactly what fitting the ensemble would give
        if set(members) <= set(models):
            frame[name] = frame[list(members)].median(axis=1)
            models.append(name)
    if spec.forecasts is not None:  # published forecasts of the same series and steps
        frame = frame.merge(spec.forecasts, on=["unique_id", "ds"], how="left")
        extra = [c for c in spec.forecasts.columns if c not in ("unique_id", "ds")]
        if frame[extra].isna().any().any():
            raise RuntimeError(f"{spec.name}: published forecasts miss some of the test steps")
        models += extra
    table = evaluate(
        frame, train=result.train, models=models, metrics=basic, season=spec.season, by=None
    ).set_index("model")[basic]
    if "owa" in spec.metrics:
        ref = table.loc["Naive2"]
        table["owa"] = [owa(r.smape, r.mase, ref.smape, ref.mase) for r in table.itertuples()]
    for label, values in spec.published.items():
        table.loc[label, list(values)] = list(values.values())
    return table[list(spec.metrics)]


def combined_info(model: str, info: dict[str, dict]) -> dict | None:
    """A combination's run: its members' seconds added, the largest peak RSS, the threads of
    the network among them."""
    runs = [info.get(m) for m in COMBINED.get(model, ())]
    if not runs or None in runs:
        return None
    return {
        "seconds": sum(r["seconds"] for r in runs),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "threads": runs[0].get("threads"),
    }


def table_lines(spec: Spec, scores: pd.DataFrame, info: dict[str, dict]) -> list[str]:
    first = spec.metrics[0]
    best = scores.loc[[m for m in STATISTICAL if m in scores.index], first].min()
    names = {"smape": "sMAPE", "owa": "OWA"}
    head = " | ".join(names.get(m, m.upper()) for m in spec.metrics)
    lines = [
        f"### {spec.name}: {spec.note}",
        "",
        f"| model | {head} | ratio | fit+predict s | peak RSS MB | threads |",
        "|---|" + "---:|" * (len(spec.metrics) + 4),
    ]
    for model, row in scores.iterrows():
        cells = " | ".join(f"{row[m]:.3f}" for m in spec.metrics)
        run = info.get(model) or combined_info(model, info)
        timing = (
            f"{run['seconds']:.1f} | {run['peak_rss_mb']:.0f} | {run.get('threads') or '-'}"
            if run
            else "- | - | -"
        )
        lines.append(f"| {model} | {cells} | {row[first] / best:.3f} | {timing} |")
    if spec.published or spec.forecasts is not None:
        lines.append(f"\nPublished rows: {spec.published_note}.")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="seeded subsample (make bench)")
    parser.add_argument(
        "--sets",
        default=None,
        help="comma-separated data sets (default: all; --quick: the development sets)",
    )
    parser.add_argument(
        "--models", default=None, help="comma-separated (default: all; --quick: all but GRU)"
    )
    parser.add_argument("--seed", type=int, default=0, help="the networks' random_state")
    parser.add_argument("--report-dir", type=Path, default=None)
    parser.add_argument(
        "--params",
        default=None,
        help="what-if runs: JSON parameters for the networks, e.g. '{\"naive_inputs\": true}' "
        "(not the defaults: give a --report-dir of its own)",
    )
    parser.add_argument("--set", help=argparse.SUPPRESS)  # a child process: one data set
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    params = None
    if args.params is not None:
        if args.report_dir is None and not args.set:
            parser.error("--params: give a --report-dir of its own (the defaults' stay theirs)")
        try:
            params = json.loads(args.params)
        except json.JSONDecodeError as exc:
            parser.error(f"--params: not JSON ({exc})")
    if args.set:
        run_set(args.set, args.models.split(","), args.quick, args.seed, Path(args.out), params)
        return
    start = time.perf_counter()
    command = shlex.join(["python", "benchmarks/defaults.py", *sys.argv[1:]])
    folder = args.report_dir or ROOT / "reports" / ("defaults-quick" if args.quick else "defaults")
    chosen = args.models or ",".join(QUICK_MODELS if args.quick else MODELS)
    models = [m.strip() for m in chosen.split(",")]
    unknown = sorted(set(models) - set(MODELS))
    if unknown:
        parser.error(f"--models: unknown {unknown}; choose from {list(MODELS)}")
    if "Naive2" not in models:
        models.append("Naive2")  # OWA's reference
    from tsrnn.report.backtest_report import write_report

    sets = args.sets or ",".join(SETS if args.quick else EVERY)
    for name in (s.strip() for s in sets.split(",")):
        if name not in EVERY:
            parser.error(f"--sets: unknown {name!r}; choose from {list(EVERY)}")
        if not available(name):
            print(f"{name}: skipped, ../shared/datasets lacks its folder")
            continue
        spec = load(name, args.quick)
        print(f"{name}: {spec.note}", flush=True)
        results, info = [], {}
        with tempfile.TemporaryDirectory() as tmp:
            command_line = set_command(name, models, tmp, args.seed, args.quick, params)
            subprocess.run(command_line, check=True)
            from tsrnn.evaluate.backtest import BacktestResult

            for model in models:
                info[model] = json.loads((Path(tmp) / f"{model}.json").read_text())
                results.append(BacktestResult.load(Path(tmp) / model))
                threads = info[model]["threads"]
                print(
                    f"  {model}: {info[model]['seconds']:.1f} s"
                    + (f", {threads} thread(s)" if threads else "")
                    + (", refit on every window" if info[model].get("refit") else "")
                    + resolved(results[-1].choices),
                    flush=True,
                )
        result = merge_results(results)
        scores = score(result, spec)
        lines = table_lines(spec, scores, info)
        print("\n".join(lines) + "\n", flush=True)
        first = spec.metrics[0]
        best = scores.loc[[m for m in STATISTICAL if m in scores.index], first].min()
        ratios = (scores[first] / best).rename(name).to_frame()
        write_report(
            result,
            folder / name,
            command=command,
            seed=args.seed,
            reference="SeasonalNaive" if "SeasonalNaive" in models else "Naive2",
            title=f"Defaults: {spec.note}",
            extra_files={"benchmark.md": "\n".join(lines) + "\n", "ratios.csv": ratios.to_csv()},
        )
    wall = time.perf_counter() - start
    overview = summarize(folder)
    print(overview)
    note = benchmark_note(command, wall, overview)["benchmark.md"]
    (folder / "benchmark.md").write_text(note)
    print(f"\nreports in {folder}; wall {wall / 60:.1f} min")


def summarize(folder: Path) -> str:
    """The ratio table over every data set reported in ``folder`` (a rerun of some sets
    keeps the others), then each set's table."""
    names = [s for s in EVERY if (folder / s / "ratios.csv").exists()]
    if not names:
        return "no data set ran"
    ratios = pd.concat([pd.read_csv(folder / s / "ratios.csv", index_col=0) for s in names], axis=1)
    head = "| model | " + " | ".join(names) + " |\n|---|" + "---:|" * len(names)
    body = [
        f"| {model} | " + " | ".join("-" if np.isnan(v) else f"{v:.3f}" for v in row) + " |"
        for model, row in ratios.iterrows()
    ]
    title = "## Ratio to the best statistical row (first metric; below 1 beats them all)"
    tables = [(folder / s / "benchmark.md").read_text().strip() for s in names]
    return "\n\n".join([title, "\n".join([head, *body]), *tables])


if __name__ == "__main__":
    main()
