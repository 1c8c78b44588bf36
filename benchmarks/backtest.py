"""Backtest wall time on M4 Hourly: baselines, and an LSTM with and without refitting.

A 10-window backtest (h = 48, windows tiling the last 480 hours of each of the 414 training
series) for each fast baseline, then for an LSTM: one fit plus one predict (the cost of a single
forecast), the backtest without refitting (one fit, then every window of every series in one
batched pass), and, with ``--refit``, the backtest refitting at every window. Target: the
no-refit neural backtest costs less than 1.2 x one fit plus one predict. Prints one table.

    python benchmarks/backtest.py                # baselines + LSTM without refit
    python benchmarks/backtest.py --refit        # also the LSTM refitted 10 times (slow)
    python benchmarks/backtest.py --refit --no-baselines
    python benchmarks/backtest.py --quick        # 40 series, 3 windows, fewer steps
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import torch

from tsrnn.evaluate.backtest import BacktestResult, backtest
from tsrnn.models.baselines import Naive, Naive2, SeasonalNaive
from tsrnn.models.neural import LSTMForecaster
from tsrnn.models.statistical import SES, Theta

ROOT = Path(__file__).resolve().parents[1]
M4_DIR = ROOT.parent / "shared" / "datasets" / "M4"
H, SEASON = 48, 24


def lstm(steps: int) -> LSTMForecaster:
    return LSTMForecaster(
        horizon=H,
        input_size=2 * H,
        hidden_size=64,
        batch_size=256,
        max_steps=steps,
        val_size=0,
        random_state=0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 series, 3 windows (make bench)")
    parser.add_argument("--refit", action="store_true", help="also time the refitted LSTM")
    parser.add_argument("--steps", type=int, default=None, help="LSTM training steps")
    parser.add_argument("--no-baselines", action="store_true", help="the LSTM runs only")
    args = parser.parse_args()
    from tsrnn.datasets import read_m4

    train, _ = read_m4(M4_DIR, "Hourly")
    n_windows, steps = (3, args.steps or 50) if args.quick else (10, args.steps or 300)
    if args.quick:
        train = train[train.unique_id.isin(train.unique_id.unique()[:40])]
    n_series = train.unique_id.nunique()
    print(
        f"M4 Hourly train: {n_series} series, {len(train):,} points; {n_windows} windows of "
        f"h={H}; torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    rows = []

    def timed(label: str, run: Callable[[], BacktestResult | None]) -> None:
        start = time.perf_counter()
        result = run()
        seconds = time.perf_counter() - start  # scoring (below) is not timed
        extra = ""
        if result is not None:
            score = result.metrics(["smape", "mase"], season=SEASON).iloc[0]
            extra = f"{score.smape:.3f} | {score.mase:.3f}"
        rows.append((label, seconds, extra))
        print(f"| {label} | {seconds:,.1f} | {extra} |", flush=True)

    print("\n| run | wall s | sMAPE | MASE |\n|---|---:|---:|---:|")
    baselines = (
        Naive(),
        SeasonalNaive(season=SEASON),
        Naive2(season=SEASON),
        SES(season=SEASON, n_jobs=2),
        Theta(season=SEASON, n_jobs=2),
    )
    for model in () if args.no_baselines else baselines:
        timed(
            f"{model.name}, refit every window",
            lambda m=model: backtest(m, train, H, n_windows=n_windows),
        )

    if not args.no_baselines:
        timed(
            "SES, fit once, origin moved (refit=False)",
            lambda: backtest(
                SES(season=SEASON, n_jobs=2), train, H, n_windows=n_windows, refit=False
            ),
        )

    # The cost of one forecast: fit on the data before the first cutoff, predict once.
    cut = train.groupby("unique_id").ds.transform("max") - H * n_windows
    history = train[train.ds <= cut]

    def once() -> None:
        lstm(steps).fit(history).predict(H)

    timed(f"LSTM ({steps} steps): one fit + one predict", once)
    single = rows[-1][1]
    timed(
        "LSTM backtest, no refit (one pass)",
        lambda: backtest(lstm(steps), train, H, n_windows=n_windows, refit=False),
    )
    print(
        f"\nno-refit backtest / (one fit + one predict) = {rows[-1][1] / single:.2f} (target < 1.2)"
    )
    if args.refit:
        timed(
            "LSTM backtest, refit every window",
            lambda: backtest(lstm(steps), train, H, n_windows=n_windows),
        )


if __name__ == "__main__":
    main()
