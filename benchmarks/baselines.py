"""Statistical baselines on M4 Hourly: wall time, peak RSS and accuracy beside the published table.

Each method runs in its own subprocess, so its peak RSS is its own: it fits on the 414 train
series and forecasts the 48 test hours (n_jobs = 2) as a one-window backtest on train + test,
which is exactly the M4 protocol. The parent merges the methods' backtests into one, scores
them the M4 way (sMAPE, MASE with m = 24, OWA against tsrnn's Naive2), prints one table and
writes the report (``tsrnn.report.backtest_report.write_report``) with the table beside it in
``benchmark.md``.

    python benchmarks/baselines.py                 # all methods, all 414 series
    python benchmarks/baselines.py --quick         # 40 series, no ARIMA (used by `make bench`)
    python benchmarks/baselines.py --methods Naive2,SES --series 100 --report-dir /tmp/r
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from tsrnn.evaluate.backtest import BacktestResult

ROOT = Path(__file__).resolve().parents[1]
M4_DIR = ROOT.parent / "shared" / "datasets" / "M4"
H, SEASON = 48, 24
KEYS = ["unique_id", "window", "cutoff", "ds", "y"]
METHODS = {
    "Naive": "tsrnn.models.stats.naive:Naive",
    "SeasonalNaive": "tsrnn.models.stats.naive:SeasonalNaive",
    "Naive2": "tsrnn.models.stats.naive:Naive2",
    "SES": "tsrnn.models.stats.smoothing:SES",
    "Holt": "tsrnn.models.stats.smoothing:Holt",
    "Damped": "tsrnn.models.stats.smoothing:Damped",
    "Comb": "tsrnn.models.stats.smoothing:Comb",
    "Theta": "tsrnn.models.stats.smoothing:Theta",
    "ETS": "tsrnn.models.stats.smoothing:ETS",
    "ARIMA": "tsrnn.models.stats.arima:ARIMA",
}
# The M4 organisers' Hourly figures (sMAPE, MASE, OWA), PUBLISHED.md in ../shared/datasets/M4.
PUBLISHED = {
    "Naive": (43.003, 11.608, 3.593),
    "SeasonalNaive": (13.912, 1.193, 0.627),
    "Naive2": (18.383, 2.395, 1.000),
    "SES": (18.094, 2.385, 0.990),
    "Holt": (29.249, 9.356, 2.749),
    "Damped": (19.265, 2.956, 1.141),
    "Theta": (18.138, 2.455, 1.006),
    "Comb": (22.053, 4.582, 1.556),
}


def load(series: int | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    from tsrnn.datasets import read_m4

    train, test = read_m4(M4_DIR, "Hourly")
    if series:
        keep = train["unique_id"].unique()[:series]
        train, test = train[train.unique_id.isin(keep)], test[test.unique_id.isin(keep)]
    return train, test


def m4_history(train: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    """Train and test as one history: a one-window backtest of h = 48 on it fits on the train
    file and forecasts the test file, the M4 protocol. Checks that each test series starts
    right after its train series (``read_m4`` numbers the test steps on)."""
    last = train.groupby("unique_id", sort=False)["ds"].max()
    first = test.groupby("unique_id", sort=False)["ds"].min()
    sizes = test.groupby("unique_id", sort=False).size()
    if not (first.reindex(last.index) == last + 1).all() or not (sizes == H).all():
        raise ValueError("M4: the test steps do not continue the train steps, 48 per series")
    return pd.concat([train, test], ignore_index=True)


def merge_results(results: Sequence[BacktestResult], config: dict | None = None) -> BacktestResult:
    """One result of backtests run separately over the same windows: the models' columns side
    by side, their timings and fallbacks one after the other. ``config`` is the merged
    result's, needed where the runs' configs differ (their refit policies, say)."""
    from tsrnn.evaluate.backtest import BacktestResult

    first = results[0]
    for other in results[1:]:
        same = (
            other.forecasts[KEYS].equals(first.forecasts[KEYS])
            and other.train.equals(first.train)
            and other.skipped.equals(first.skipped)
            and other.horizon == first.horizon
        )
        if not same:
            raise ValueError(f"merge_results: {other.models} ran over other windows or series")
        if config is None and _settings(other.config) != _settings(first.config):
            raise ValueError(f"merge_results: {other.models} ran with another config; pass one")
    models = [m for r in results for m in r.models]
    if len(set(models)) < len(models):
        raise ValueError(f"merge_results: a model name is repeated in {models}")
    fallbacks = [r.fallbacks for r in results if len(r.fallbacks)]
    return BacktestResult(
        forecasts=pd.concat(
            [first.forecasts, *(r.forecasts.drop(columns=KEYS) for r in results[1:])], axis=1
        ),
        models=models,
        horizon=first.horizon,
        timings=pd.concat([r.timings for r in results], ignore_index=True),
        skipped=first.skipped,
        train=first.train,
        config=_merged_config(results, config),
        fallbacks=pd.concat(fallbacks, ignore_index=True) if fallbacks else first.fallbacks,
        histories={name: h for r in results for name, h in r.histories.items()},
        choices=pd.concat(
            [r.choices for r in results if len(r.choices)] or [first.choices], ignore_index=True
        ),
    )


def _settings(config: dict) -> dict:
    """A backtest's config without its recorded call (each run names its own models)."""
    return {k: v for k, v in config.items() if k != "call"}


def _merged_config(results: Sequence[BacktestResult], config: dict | None) -> dict:
    """The merged result's config: the one given, else the runs' shared settings, with every
    run's call recorded (one per line, in order)."""
    merged = dict(results[0].config if config is None else config)
    calls = [r.config["call"] for r in results if r.config.get("call")]
    if calls:
        merged["call"] = "\n".join(dict.fromkeys(calls))
    return merged


def benchmark_note(command: str, wall: float, table: str) -> dict[str, str]:
    """The printed table as ``benchmark.md``, for ``write_report(extra_files=...)``, with what
    it ran on: peak RSS, the published figures and the machine are not part of the regular
    report. A file of the report (listed in its manifest), so a rerun may replace it."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{platform.platform()}, {os.cpu_count()} cores"
    return {
        "benchmark.md": f"`{command}` on {machine}, {stamp}, {wall / 60:.1f} min wall "
        f"(load average {os.getloadavg()[0]:.2f} at the end)\n\n{table}\n"
    }


def peak_rss_mb() -> float:
    """This process's peak resident memory, in MB, from its own start.

    Linux: ``VmHWM`` of ``/proc/self/status``. Not ``ru_maxrss``: a subprocess's counts the
    parent's memory too (Linux keeps the high-water mark across ``exec``, and ``subprocess``
    starts the child from the parent's pages), so every method read at least the parent's
    size. Elsewhere ``ru_maxrss``, with that caveat. The main process only: joblib's worker
    processes are not counted.
    """
    import resource

    try:
        with open("/proc/self/status") as status:
            line = next(x for x in status if x.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024
    except (OSError, StopIteration):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def run_one(method: str, series: int | None, n_jobs: int, out: Path) -> None:
    """Child process: one method's one-window backtest, saved with its timing and peak RSS."""
    import importlib

    from tsrnn.evaluate.backtest import backtest

    module, cls = METHODS[method].split(":")
    estimator_cls = getattr(importlib.import_module(module), cls)
    history = m4_history(*load(series))
    params = estimator_cls().get_params()
    kwargs = {"n_jobs": n_jobs} if "n_jobs" in params else {}
    if "season" in params:  # M4 ships no timestamps: integer time says nothing of the season
        kwargs["season"] = SEASON
    model = estimator_cls(**kwargs)
    result = backtest({method: model}, history, H, n_windows=1, season=SEASON)
    peak = peak_rss_mb()
    result.save(out / method)
    timing = result.timings.iloc[0]
    info = {
        "seconds": float(timing.fit_s + timing.predict_s),
        "peak_rss_mb": peak,
        "fallbacks": len(result.fallbacks),
    }
    (out / f"{method}.json").write_text(json.dumps(info))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated")
    parser.add_argument("--series", type=int, default=None, help="first N series only")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="40 series, no ARIMA")
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=None,
        help="default: reports/m4-hourly-baselines (with --quick: ...-baselines-quick)",
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(args.one, args.series, args.n_jobs, Path(args.out))
        return
    if not M4_DIR.exists():
        print(f"M4 data not found at {M4_DIR} (../shared/datasets/M4); nothing to measure")
        return
    start = time.perf_counter()
    command = shlex.join(["python", "benchmarks/baselines.py", *sys.argv[1:]])
    name = "m4-hourly-baselines-quick" if args.quick else "m4-hourly-baselines"
    folder = args.report_dir or ROOT / "reports" / name
    methods = args.methods.split(",")
    if args.quick:
        args.series = args.series or 40
        methods = [m for m in methods if m != "ARIMA"]
    if "Naive2" not in methods:
        methods.append("Naive2")  # OWA's reference
    from tsrnn.evaluate.backtest import BacktestResult
    from tsrnn.evaluate.metrics import m4_scores
    from tsrnn.report.backtest_report import write_report

    train, test = load(args.series)
    rows, results = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for method in methods:
            cmd = [
                sys.executable,
                __file__,
                "--one",
                method,
                "--out",
                tmp,
                "--n-jobs",
                str(args.n_jobs),
            ]
            if args.series:
                cmd += ["--series", str(args.series)]
            subprocess.run(cmd, check=True)
            info = json.loads((Path(tmp) / f"{method}.json").read_text())
            results.append(BacktestResult.load(Path(tmp) / method))
            rows.append((method, info))
    result = merge_results(results)
    # The table as the M4 organisers scored it: the forecasts against the test file.
    merged = test.merge(result.forecasts[["unique_id", "ds", *methods]], on=["unique_id", "ds"])
    if len(merged) != len(test):
        raise RuntimeError("baselines: the backtest did not forecast exactly the test steps")
    scores = m4_scores(merged, None, train, season=SEASON, models=methods).set_index("model")
    n = train.unique_id.nunique()
    lines = [
        f"M4 Hourly, {n} series, h={H}, m={SEASON}, n_jobs={args.n_jobs}",
        "| method | fit+predict s | peak RSS MB | fallbacks | sMAPE | MASE | OWA | "
        "published sMAPE / MASE / OWA |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for method, info in rows:
        s = scores.loc[method]
        pub = PUBLISHED.get(method)
        pub_text = " / ".join(f"{v:.3f}" for v in pub) if pub and n == 414 else "-"
        lines.append(
            f"| {method} | {info['seconds']:.1f} | {info['peak_rss_mb']:.0f} | "
            f"{info['fallbacks']} | {s.smape:.3f} | {s.mase:.3f} | {s.owa:.3f} | {pub_text} |"
        )
    table = "\n".join(lines)
    print(table)

    # The report scores the same forecasts with the same in-sample scale: the same figures.
    report = result.metrics(["smape", "mase"]).set_index("model").loc[methods]
    scored = scores.loc[methods, ["smape", "mase"]].to_numpy(dtype=float)
    if not np.allclose(report[["smape", "mase"]].to_numpy(dtype=float), scored, rtol=1e-9):
        raise RuntimeError(f"baselines: the report's sMAPE/MASE differ:\n{report}\n{scores}")
    quick = f" (first {n} series)" if n < 414 else ""
    wall = time.perf_counter() - start
    write_report(
        result,
        folder,
        command=command,
        reference="Naive2",  # OWA's reference in the table
        seed=None,  # every method is deterministic
        title=f"M4 Hourly: statistical baselines{quick}",
        extra_files=benchmark_note(command, wall, table),
    )
    print(f"\nreport in {folder} (its sMAPE and MASE equal the table's); wall {wall / 60:.1f} min")


if __name__ == "__main__":
    main()
