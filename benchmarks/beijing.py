"""Beijing PM2.5, h = 24: mask-aware vs impute-then-train LSTMs, with and without weather.

Issue text: "Horizon 24, a backtest over the last weeks with >= 10 windows. Compare mask-aware
training (the default) with impute-then-train (the usual practice), with and without the weather
covariates, and all baselines. Metrics: MAE, RMSE, MASE, pinball loss, coverage of the 80 %
interval, DM p-values."

Data: the bundled ``beijing_pm25`` (12 stations, hourly, 2013-03-01 to 2017-02-28, ~2 % of PM2.5
missing). One backtest call holds every model, so all are scored on identical windows and the
Diebold-Mariano tests compare like with like:

- four LSTMs, identical but for two switches: ``LSTM`` trains on observed targets only and is
  told which inputs were imputed (the default, ``train_on_imputed=False``); ``LSTM-imputed``
  imputes (causal forward fill) and trains as if the series were complete; ``+weather`` adds
  TEMP, PRES, DEWP, RAIN and WSPM as past-observed covariates;
- every baseline tsrnn has: Naive, SeasonalNaive, Naive2, Drift, HistoricAverage,
  WindowAverage, SES, Holt, Damped, Comb, Theta, ETS and ARIMA (season 24).

Design, chosen so the full run takes about 10 minutes on one core of a 2-core machine:

- 14 windows of 24 hours, step 24: the last two weeks (cutoffs 2017-02-14 23:00 to 02-27 23:00).
- ``refit=False``: every model is fitted once, on the data before the first cutoff, and its
  origin then moves forward (the LSTMs forecast every window in one batched pass; ETS, ARIMA,
  SES, Holt and Damped run their fitted parameters on over the new data; Theta and the naive
  family, closed-form, recompute). Refitting at all 14 windows would cost 14 times the training
  (an hour and more).
- A sliding training window of one year (8,760 hours) for everyone: a full annual cycle, heating
  season included; exponential smoothing on all four years would cost more for nothing. ARIMA
  fits its parameters on the last 2,016 hours (12 weeks) of it (``max_length``): an exact-
  likelihood seasonal ARIMA on 8,760 points takes ~40 s a series on one core.
- The LSTMs: input 168 hours, hidden 64 x 2 layers, batch 64, 1,000 steps, the pinball loss on
  the quantiles 0.1, 0.5 and 0.9 (the median is the point forecast), the last 168 hours of each
  series' training span held out for early stopping, seed 0; torch on one thread and the
  statistical fits in one process, since other work shares the machine.
- The 80 % interval is the 0.1 to 0.9 quantiles of every model (trained for the LSTMs, the
  baselines' own intervals: normal, or simulated for ETS models with multiplicative parts); the
  pinball loss averages the three levels.

The table (sorted by MASE) gives three one-sided DM p-values, each "this model has the lower
absolute error" (small: it does): against the best baseline by MASE, on the mean error of each
station and window (the report's test, 12 x 14 pairs), then the same on the mean over stations
of each window (14 pairs: the stations of one city share the weather, so the per-station pairs
are not independent; this one is the conservative reading), and, for the LSTM variants, against
the default ``LSTM`` (per station and window). The report (tsrnn.report.backtest_report) goes to
``reports/beijing/`` with this table as ``benchmark.md`` beside it.

    python benchmarks/beijing.py                  # full run: 14 windows, 1,000 steps (~10 min)
    python benchmarks/beijing.py --quick          # make bench: 3 windows, 100 steps, 12 weeks
                                                  # of training, no ARIMA (~1-2 min)
    python benchmarks/beijing.py --windows 28 --steps 2000 --report-dir reports/beijing-long
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import pandas as pd
import torch

# A sibling script: benchmarks/ is on the path of a script run from it.
from baselines import benchmark_note
from threadpoolctl import threadpool_limits

import tsrnn
from tsrnn import datasets
from tsrnn.evaluate.backtest import BacktestResult, backtest
from tsrnn.evaluate.stats import diebold_mariano, dm_test
from tsrnn.models.neural import LSTMForecaster
from tsrnn.models.stats.arima import ARIMA
from tsrnn.models.stats.naive import (
    Drift,
    HistoricAverage,
    Naive,
    Naive2,
    SeasonalNaive,
    WindowAverage,
)
from tsrnn.models.stats.smoothing import ETS, SES, Comb, Damped, Holt, Theta
from tsrnn.report.backtest_report import default_reference, write_report

ROOT = Path(__file__).resolve().parents[1]
H, SEASON = 24, 24
WEATHER = ["TEMP", "PRES", "DEWP", "RAIN", "WSPM"]
QUANTILES = (0.1, 0.5, 0.9)
METRICS = ["mae", "rmse", "mase", "pinball", "coverage"]
DEFAULT = "LSTM"
VAL = 168  # hours of each series held out for early stopping: ~1,700 validation windows


def lstms(args: argparse.Namespace) -> dict[str, LSTMForecaster]:
    """The four variants: mask-aware or impute-then-train, without or with the weather."""
    models = {}
    for weather in (False, True):
        for imputed in (False, True):
            name = DEFAULT + ("-imputed" if imputed else "") + ("+weather" if weather else "")
            models[name] = LSTMForecaster(
                horizon=H,
                input_size=args.input_size,
                hidden_size=args.hidden,
                batch_size=args.batch,
                max_steps=args.steps,
                loss=args.loss,
                quantiles=QUANTILES,
                val_size=VAL,
                train_on_imputed=imputed,
                past_covariates=WEATHER if weather else [],
                random_state=args.seed,
                num_threads=1,
            )
    return models


def baselines(arima: bool, arima_length: int) -> dict:
    """Every baseline of tsrnn, one process each (``n_jobs=1``)."""
    models = [
        Naive(),
        SeasonalNaive(season=SEASON),
        Naive2(season=SEASON),
        Drift(),
        HistoricAverage(),
        WindowAverage(window=SEASON),
        SES(season=SEASON, n_jobs=1),
        Holt(season=SEASON, n_jobs=1),
        Damped(season=SEASON, n_jobs=1),
        Comb(season=SEASON, n_jobs=1),
        Theta(season=SEASON, n_jobs=1),
        ETS(season=SEASON, n_jobs=1),
    ]
    if arima:
        models.append(ARIMA(season=SEASON, max_length=arima_length, n_jobs=1))
    return {m.name: m for m in models}


def city_dm(result: BacktestResult, model: str, reference: str) -> float:
    """One-sided DM p-value on the absolute error averaged over all stations of each window."""
    frame = result.forecasts
    errors = frame[[model, reference]].sub(frame["y"], axis=0).abs()
    daily = errors.groupby(frame["window"]).mean().sort_index()
    try:
        return diebold_mariano(daily[model], daily[reference], alternative="less").p_value
    except ValueError:  # too few windows
        return float("nan")


def series_dm(result: BacktestResult, model: str, reference: str) -> float:
    """One-sided DM p-value on the mean absolute error of each station and window."""
    frame = result.forecasts.drop(columns=["window"])
    try:
        return dm_test(frame, model, reference, loss="mae", alternative="less").p_value
    except ValueError:
        return float("nan")


def p(value: float) -> str:
    if value != value:  # NaN
        return ""
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def table(result: BacktestResult) -> tuple[str, str]:
    """The markdown table of every model, best MASE first, and the reference baseline."""
    scores = result.metrics(METRICS, season=SEASON)
    reference = default_reference(scores, "mase")
    scores = scores.sort_values("mase", kind="stable").set_index("model")
    timings = result.timings.set_index("model")
    lines = [
        f"| model | MAE | RMSE | MASE | pinball | 80% coverage | DM p vs {reference} | "
        f"DM p vs {reference}, city | DM p vs {DEFAULT} | fit s | predict s |",
        "|---|" + "---:|" * 10,
    ]
    for name, s in scores.iterrows():
        own, variant = name == reference, name != DEFAULT and name.startswith(DEFAULT)
        lines.append(
            f"| {name} | {s.mae:.2f} | {s.rmse:.2f} | {s.mase:.3f} | {s.pinball:.2f} | "
            f"{100 * s.coverage:.1f}% | {'ref' if own else p(series_dm(result, name, reference))} "
            f"| {'ref' if own else p(city_dm(result, name, reference))} | "
            f"{p(series_dm(result, name, DEFAULT)) if variant else ''} | "
            f"{timings.fit_s[name]:.1f} | {timings.predict_s[name]:.1f} |"
        )
    return "\n".join(lines), reference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="3 windows, 100 steps, 12 weeks of training, no ARIMA (make bench)",
    )
    parser.add_argument("--windows", type=int, default=None, help="24-hour windows (14)")
    parser.add_argument("--steps", type=int, default=None, help="LSTM training steps (1000)")
    parser.add_argument(
        "--train-size", type=int, default=None, help="hours in each sliding training window"
    )
    parser.add_argument("--input-size", type=int, default=168)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--loss", default="quantile", help='LSTM loss: "quantile", "mse", ...')
    parser.add_argument("--arima-length", type=int, default=2016, help="ARIMA's max_length")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--report-dir", type=Path, default=None)
    args = parser.parse_args()
    n_windows = args.windows or (3 if args.quick else 14)
    args.steps = args.steps or (100 if args.quick else 1000)
    train_size = args.train_size or (2016 if args.quick else 8760)
    folder = args.report_dir or ROOT / "reports" / ("beijing-quick" if args.quick else "beijing")

    start = time.perf_counter()
    data_path = datasets.path("beijing_pm25")
    panel, data_report = tsrnn.read_csv(data_path)
    models = {**lstms(args), **baselines(not args.quick, args.arima_length)}
    print(
        f"beijing_pm25: {panel.n_series} stations, {int(panel.lengths.sum()):,} hours, "
        f"{100 * (1 - panel.observed.mean()):.1f}% of PM2.5 missing; {n_windows} windows of "
        f"h={H}, fitted once on a sliding {train_size}-hour window; LSTMs: {args.steps} steps x "
        f"batch {args.batch}, input {args.input_size}, hidden {args.hidden}, loss {args.loss}; "
        f"torch {torch.__version__} on 1 thread; {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start",
        flush=True,
    )
    # One BLAS thread throughout: the statistical models limit it while fitting but not while
    # moving their origin (LocalForecaster.update), where OpenBLAS's second thread, fighting
    # the other work on the machine, made Theta's updates 9 times slower.
    with threadpool_limits(1):
        result = backtest(
            models,
            panel,
            H,
            n_windows=n_windows,
            step=H,
            refit=False,
            window="sliding",
            window_size=train_size,
            quantiles=QUANTILES,
        )
    text, reference = table(result)
    cutoffs = pd.to_datetime(result.forecasts["cutoff"])
    print(f"\ncutoffs {cutoffs.min():%Y-%m-%d %H:%M} to {cutoffs.max():%Y-%m-%d %H:%M}\n")
    print(text)
    if len(result.skipped):
        print(f"\nskipped: {len(result.skipped)} station-windows (see the report)")
    if len(result.fallbacks):
        print(f"\nfallbacks: {result.fallbacks.groupby('model').size().to_dict()}")

    command = shlex.join(["python", "benchmarks/beijing.py", *sys.argv[1:]])
    wall = time.perf_counter() - start
    write_report(
        result,
        folder,
        data_report=data_report,
        data_path=data_path,
        command=command,
        reference=reference,
        seed=args.seed,
        title=f"Beijing PM2.5, h={H}: mask-aware vs impute-then-train LSTMs and every baseline",
        extra_files=benchmark_note(command, wall, text),
    )
    print(
        f"\nwall {wall / 60:.1f} min; load average {os.getloadavg()[0]:.2f} at the end; "
        f"report in {folder}"
    )


if __name__ == "__main__":
    main()
