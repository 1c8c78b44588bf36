"""Does the default learning rate hold from 100 to 100,000 series? (issue 27, point 2)

A synthetic panel of ``--sizes`` daily-like series (``--length`` points each; a weekly season
of its own strength and phase, a trend, a random-walk level, noise, levels from 10 to 100,000,
1 % of the values missing; every series drawn from its own parameters, so a larger panel is
more series of the same kind, not more copies) is cut ``HORIZON`` steps before its end. The
default LSTM (``LSTMForecaster(horizon=14, season=7, lr=...)``, everything else its default) is
fitted on the rest at each of ``--lrs`` (``rule``: ``lr=None``, the rate the defaults choose
from the budget, printed) and forecasts the held-out steps; the table gives its
MASE (season 7, scaled by the training part) beside the seasonal naive forecast's, and the
training budget the defaults chose (steps, batch, passes over the windows) with the step
whose weights early stopping kept::

    python benchmarks/lr_scale.py --quick      # 100 and 1,000 series: about 5 minutes
    python benchmarks/lr_scale.py              # 100 to 100,000 series: about 15 minutes
    python benchmarks/lr_scale.py --sizes 100,10000 --lrs rule,1e-3   # the rule beside a rate

The default holds where its row is the best of its panel size, or within the spread that
the seed alone gives (``--seeds 0,1`` runs each row with both).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

HORIZON = 14
SEASON = 7


def panel_values(series: int, length: int, seed: int = 0) -> np.ndarray:
    """(series, length) values of the synthetic panel, NaN where missing."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    n = (series, 1)
    level = 10 ** rng.uniform(1, 5, size=n)
    season = rng.uniform(0, 0.3, size=n) * np.sin(
        2 * np.pi * (t + rng.integers(0, SEASON, size=n)) / SEASON
    )
    trend = rng.normal(0, 0.001, size=n) * t
    walk = (rng.uniform(0.002, 0.02, size=n) * rng.normal(size=(series, length))).cumsum(axis=1)
    noise = rng.uniform(0.01, 0.1, size=n) * rng.normal(size=(series, length))
    y = level * np.maximum(1 + season + trend + walk + noise, 0.05)
    y[rng.random((series, length)) < 0.01] = np.nan
    y[:, 0] = level[:, 0]  # every series starts observed
    return y


def mase(actual: np.ndarray, forecast: np.ndarray, train: np.ndarray) -> float:
    """The series' mean MASE (season 7; missing actuals and in-sample gaps left out)."""
    from tsrnn.evaluate import metrics

    return float(np.mean(metrics.mase(actual, forecast, train, season=SEASON)))


def run(series: int, length: int, lr: float | None, seed: int) -> dict:
    from tsrnn import LSTMForecaster
    from tsrnn.data.panel import Panel

    y = panel_values(series, length)
    train, actual = y[:, :-HORIZON], y[:, -HORIZON:]
    panel = Panel.from_arrays(train)
    model = LSTMForecaster(horizon=HORIZON, season=SEASON, lr=lr, random_state=seed)
    t0 = time.perf_counter()
    model.fit(panel)
    forecast = model.predict()["LSTM"].to_numpy().reshape(series, HORIZON)
    seconds = time.perf_counter() - t0
    last = train[:, -SEASON:]  # a gap in the last season takes that season's mean
    last = np.where(np.isnan(last), np.nanmean(last, axis=1, keepdims=True), last)
    snaive = np.tile(last, HORIZON // SEASON + 1)[:, :HORIZON]
    b = model.budget_
    return {
        "series": series,
        "lr": f"{b['lr']:g}" + (" (rule)" if lr is None else ""),
        "seed": seed,
        "lstm": mase(actual, forecast, train),
        "snaive": mase(actual, snaive, train),
        "steps": b["steps"],
        "batch": b["batch"],
        "passes": b["passes"],
        "best_step": model.best_step_,
        "stop": model.stop_reason_,
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,1000,10000,100000", help="series per panel")
    parser.add_argument(
        "--lrs", default="3e-4,1e-3,3e-3", help="learning rates; rule: lr=None, the default"
    )
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--length", type=int, default=200, help="points a series")
    parser.add_argument("--quick", action="store_true", help="100 and 1,000 series only")
    args = parser.parse_args()
    sizes = [100, 1000] if args.quick else [int(s) for s in args.sizes.split(",")]
    lrs = [None if v == "rule" else float(v) for v in args.lrs.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    print(
        "| series | lr | seed | LSTM MASE | seasonal naive MASE | steps x batch | passes "
        "| best step | stop | fit + predict s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    for series in sizes:
        for lr in lrs:
            for seed in seeds:
                r = run(series, args.length, lr, seed)
                print(
                    f"| {r['series']:,} | {r['lr']} | {r['seed']} | {r['lstm']:.3f} "
                    f"| {r['snaive']:.3f} | {r['steps']:,} x {r['batch']} | {r['passes']:.2f} "
                    f"| {r['best_step']:,} | {r['stop']} | {r['seconds']:.0f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
