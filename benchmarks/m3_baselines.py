"""tsrnn's statistical baselines against the official M3 forecasts, series by series.

The M3 organisers' forecasts (``M3-published-forecasts.csv.gz``: NAIVE2, SINGLE, HOLT,
DAMPEN, COMB S-H-D, THETA) are the reference the neural rows are judged against, so tsrnn's
own Naive2, SES, Holt, Damped, Comb and Theta must make the same forecasts. For each period
this fits them on the full train files, forecasts the standard horizon, and prints per model:
its sMAPE and the official method's on the test files, and how many series agree (every
forecast step within 0.1 %, within 1 %), with the series that differ most.

    python benchmarks/m3_baselines.py                       # every period, every model (9 min on 2 cores)
    python benchmarks/m3_baselines.py --periods Other       # the 174 "other" series (no calendar)
    python benchmarks/m3_baselines.py --periods Monthly --models Naive2 --worst 10

Needs ``../shared/datasets/M3``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets" / "M3"
PERIODS = {"Yearly": 6, "Quarterly": 8, "Monthly": 18, "Other": 8}
# tsrnn model -> the official M3 method it reproduces
OFFICIAL = {
    "Naive2": "NAIVE2",
    "SES": "SINGLE",
    "Holt": "HOLT",
    "Damped": "DAMPEN",
    "Comb": "COMB S-H-D",
    "Theta": "THETA",
}


def official(period: str, ids: np.ndarray, h: int) -> dict[str, np.ndarray]:
    table = pd.read_csv(DATA / "M3-published-forecasts.csv.gz")
    table = table[table.method.isin(OFFICIAL.values())]
    out = {}
    for method, rows in table.groupby("method"):
        rows = rows.set_index("id").reindex(ids)
        if rows.isna().all(axis=1).any():
            continue
        out[str(method)] = rows[[f"F{k}" for k in range(1, h + 1)]].to_numpy(np.float64)
    return out


def ours(model: str, train: pd.DataFrame, h: int, season: dict) -> np.ndarray:
    from tsrnn.models import stats

    forecast = getattr(stats, model)(**season).fit(train).predict(h)
    return _wide(forecast, model)


def _wide(frame: pd.DataFrame, column: str) -> np.ndarray:
    """``(n_series, h)`` values of a long frame, series in sorted order."""
    step = frame.groupby("unique_id").cumcount()
    return (
        frame.assign(step=step)
        .pivot(index="unique_id", columns="step", values=column)
        .to_numpy(np.float64)
    )


def compare(period: str, models: list[str], worst: int) -> Iterator[str]:
    from tsrnn.datasets import read_m3
    from tsrnn.evaluate.metrics import smape

    h = PERIODS[period]
    train, test = read_m3(DATA, period)
    ids = np.sort(train.unique_id.unique())
    y = _wide(test.sort_values(["unique_id", "ds"]), "y")
    reference = official(period, ids, h)
    for model in models:
        method = OFFICIAL[model]
        start = time.perf_counter()
        season = {"season": 1} if period == "Other" else {}  # integer steps: no calendar
        mine = ours(model, train.sort_values(["unique_id", "ds"]), h, season)
        seconds = time.perf_counter() - start
        theirs = reference[method]
        gap = np.max(np.abs(mine - theirs) / np.maximum(np.abs(theirs), 1e-9), axis=1)
        yield (
            f"| {period} | {model} | {method} | {smape(y, mine, axis=1).mean():.3f} | "
            f"{smape(y, theirs, axis=1).mean():.3f} | {np.mean(gap <= 0.001):.1%} | "
            f"{np.mean(gap <= 0.01):.1%} | {seconds:.1f} |"
        )
        for i in np.argsort(-gap)[:worst]:
            yield (
                f"|   | {ids[i]} (n={int((train.unique_id == ids[i]).sum())}) | "
                f"ours {np.round(mine[i][:4], 1).tolist()} | "
                f"theirs {np.round(theirs[i][:4], 1).tolist()} | gap {gap[i]:.1%} | | | |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--periods", default=",".join(PERIODS))
    parser.add_argument("--models", default=",".join(OFFICIAL))
    parser.add_argument("--worst", type=int, default=0, help="list the N most different series")
    args = parser.parse_args()
    if not DATA.exists():
        sys.exit(f"{DATA}: not found (the shared data sets)")
    print(
        "| period | tsrnn | official | sMAPE (tsrnn) | sMAPE (official) | series within 0.1 % "
        "| within 1 % | seconds |\n|---|---|---|---:|---:|---:|---:|---:|"
    )
    for period in args.periods.split(","):
        for line in compare(period, args.models.split(","), args.worst):
            print(line, flush=True)


if __name__ == "__main__":
    main()
