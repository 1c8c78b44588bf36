"""Backtest wall time and peak RSS on M4 Hourly: baselines, and an LSTM with and without refitting.

A 10-window backtest (h = 48, windows tiling the last 480 hours of each of the 414 training
series) for each fast baseline, then for an LSTM: one fit plus one predict (the cost of a single
forecast), the backtest without refitting (one fit, then every window of every series in one
batched pass), and, with ``--refit``, the backtest refitting at every window. Target: the
no-refit neural backtest costs less than 1.2 x one fit plus one predict.

Each run is a subprocess of its own, so its peak RSS is its own (its main process: joblib's
workers are not counted). Prints one table, merges the runs' backtests into one report
(``tsrnn.report.backtest_report.write_report``) and writes the table beside it in
``benchmark.md``.

    python benchmarks/backtest.py                # baselines + LSTM without refit
    python benchmarks/backtest.py --refit        # also the LSTM refitted 10 times (slow)
    python benchmarks/backtest.py --refit --no-baselines
    python benchmarks/backtest.py --quick        # 40 series, 3 windows, fewer steps
"""

from __future__ import annotations

import argparse
import importlib
import json
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

# A sibling script: benchmarks/ is on the path of a script run from it.
from baselines import benchmark_note, merge_results, peak_rss_mb

if TYPE_CHECKING:
    from tsrnn.evaluate.backtest import BacktestResult
    from tsrnn.models.neural import LSTMForecaster

ROOT = Path(__file__).resolve().parents[1]
M4_DIR = ROOT.parent / "shared" / "datasets" / "M4"
H, SEASON, SEED = 48, 24, 0
ONCE = "LSTM, one fit"  # the run that is no backtest: the cost of a single forecast


def lstm(steps: int) -> LSTMForecaster:
    from tsrnn.models.neural import LSTMForecaster  # torch only in the runs that need it

    return LSTMForecaster(
        horizon=H,
        input_size=2 * H,
        hidden_size=64,
        batch_size=256,
        max_steps=steps,
        val_size=0,
        random_state=SEED,
    )


def load(quick: bool) -> pd.DataFrame:
    from tsrnn.datasets import read_m4

    train, _ = read_m4(M4_DIR, "Hourly")
    if quick:
        train = train[train.unique_id.isin(train.unique_id.unique()[:40])]
    return train


Run = Callable[[], "BacktestResult | None"]


def plan(
    train: pd.DataFrame, n_windows: int, steps: int, baselines: bool, refit: bool
) -> dict[str, tuple[str, Callable[[], Run]]]:
    """Each run by the name of its model in the report: (its label in the table, its setup).

    A setup imports what its run needs and builds the model, and returns the run, which alone
    is timed; so a run's peak RSS holds only what it needs (no torch in a baseline's) and its
    time no import.
    """

    def run(name: str, make: Callable[[], object], refit: bool = True) -> Callable[[], Run]:
        def setup() -> Run:
            from tsrnn.evaluate.backtest import backtest

            model = {name: make()}
            return lambda: backtest(
                model, train, H, n_windows=n_windows, refit=refit, season=SEASON
            )

        return setup

    def baseline(cls: str, **kwargs: object) -> Callable[[], object]:
        def make() -> object:
            module = "baselines" if "Naive" in cls else "statistical"
            return getattr(importlib.import_module(f"tsrnn.models.{module}"), cls)(**kwargs)

        return make

    runs: dict[str, tuple[str, Callable[[], Run]]] = {}
    if baselines:
        for cls, kwargs in (
            ("Naive", {}),
            ("SeasonalNaive", {"season": SEASON}),
            ("Naive2", {"season": SEASON}),
            ("SES", {"season": SEASON, "n_jobs": 2}),
            ("Theta", {"season": SEASON, "n_jobs": 2}),
        ):
            runs[cls] = (f"{cls}, refit every window", run(cls, baseline(cls, **kwargs)))
        runs["SES (fit once)"] = (
            "SES, fit once, origin moved (refit=False)",
            run("SES (fit once)", baseline("SES", season=SEASON, n_jobs=2), refit=False),
        )

    # The cost of one forecast: fit on the data before the first cutoff, predict once.
    cut = train.groupby("unique_id").ds.transform("max") - H * n_windows
    history = train[train.ds <= cut]

    def once() -> Run:
        lstm(steps)  # imports torch outside the timed run

        def forecast() -> None:
            lstm(steps).fit(history).predict(H)

        return forecast

    runs[ONCE] = (f"LSTM ({steps} steps): one fit + one predict", once)
    runs["LSTM (fit once)"] = (
        "LSTM backtest, no refit (one pass)",
        run("LSTM (fit once)", lambda: lstm(steps), refit=False),
    )
    if refit:
        runs["LSTM (refit)"] = (
            "LSTM backtest, refit every window",
            run("LSTM (refit)", lambda: lstm(steps)),
        )
    return runs


def run_one(name: str, args: argparse.Namespace, n_windows: int, steps: int, out: Path) -> None:
    """Child process: one run, its result saved with its wall time and peak RSS."""
    train = load(args.quick)
    _, setup = plan(train, n_windows, steps, True, True)[name]
    run = setup()
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    peak = peak_rss_mb()  # the main process only: joblib's workers are not counted
    if result is not None:
        result.save(out / name)
        for model, frame in result.histories.items():  # not saved with the result
            frame.to_csv(out / f"{model}.history.csv", index=False)
    (out / f"{name}.json").write_text(json.dumps({"seconds": seconds, "peak_rss_mb": peak}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 series, 3 windows (make bench)")
    parser.add_argument("--refit", action="store_true", help="also time the refitted LSTM")
    parser.add_argument("--steps", type=int, default=None, help="LSTM training steps")
    parser.add_argument("--no-baselines", action="store_true", help="the LSTM runs only")
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=None,
        help="default: reports/m4-hourly-backtest (with --quick: ...-backtest-quick)",
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    n_windows, steps = (3, args.steps or 50) if args.quick else (10, args.steps or 300)
    if args.one:
        run_one(args.one, args, n_windows, steps, Path(args.out))
        return
    import torch

    from tsrnn.evaluate.backtest import BacktestResult
    from tsrnn.report.backtest_report import write_report

    start_all = time.perf_counter()
    command = shlex.join(["python", "benchmarks/backtest.py", *sys.argv[1:]])
    name = "m4-hourly-backtest-quick" if args.quick else "m4-hourly-backtest"
    folder = args.report_dir or ROOT / "reports" / name
    train = load(args.quick)
    n_series = train.unique_id.nunique()
    print(
        f"M4 Hourly train: {n_series} series, {len(train):,} points; {n_windows} windows of "
        f"h={H}; torch {torch.__version__}, {torch.get_num_threads()} threads; one subprocess "
        "per run",
        flush=True,
    )
    runs = plan(train, n_windows, steps, not args.no_baselines, args.refit)
    lines = ["| run | wall s | peak RSS MB | sMAPE | MASE |", "|---|---:|---:|---:|---:|"]
    print("\n" + "\n".join(lines), flush=True)
    seconds, results, histories = {}, [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for run, (label, _) in runs.items():
            cmd = [sys.executable, __file__, "--one", run, "--out", tmp]
            cmd += [*(["--quick"] if args.quick else []), "--steps", str(steps)]
            subprocess.run(cmd, check=True)
            info = json.loads((Path(tmp) / f"{run}.json").read_text())
            seconds[run] = info["seconds"]
            extra = " | "
            if run != ONCE:
                result = BacktestResult.load(Path(tmp) / run)
                results.append(result)
                score = result.metrics(["smape", "mase"]).iloc[0]  # scoring is not timed
                extra = f"{score.smape:.3f} | {score.mase:.3f}"
                file = Path(tmp) / f"{run}.history.csv"
                if file.exists():
                    histories[run] = pd.read_csv(file)
            lines.append(
                f"| {label} | {info['seconds']:,.1f} | {info['peak_rss_mb']:.0f} | {extra} |"
            )
            print(lines[-1], flush=True)
    ratio = seconds["LSTM (fit once)"] / seconds[ONCE]
    lines.append(f"\nno-refit backtest / (one fit + one predict) = {ratio:.2f} (target < 1.2)")
    print(lines[-1])

    refits = {model: r.config["refit"] for r in results for model in r.models}
    config = dict(results[0].config)
    once = [m for m, refit in refits.items() if refit is False]
    config["refit"] = "every window" + (f"; once: {', '.join(once)}" if once else "")
    result = merge_results(results, config)
    result.histories = histories
    wall = time.perf_counter() - start_all
    write_report(
        result,
        folder,
        command=command,
        reference=None,  # the best baseline, what the LSTM has to beat
        seed=SEED,
        title=f"M4 Hourly: {n_windows}-window backtest of baselines and an LSTM ({n_series} series)",
        extra_files=benchmark_note(command, wall, "\n".join(lines)),
    )
    print(f"\nreport in {folder}; wall {wall / 60:.1f} min")


if __name__ == "__main__":
    main()
