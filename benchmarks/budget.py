"""The training budget rule: steps, passes, fit time and validation loss, before and after.

``NeuralForecaster`` trains ``max_steps`` steps (1,000), or fewer when ``max_epochs`` passes
over the training windows take fewer (issue 24). Each row fits a default LSTM
(``LSTMForecaster(horizon=h, random_state=0)``, plus ``season=`` on integer steps) under a
rule and reports the budget it chose, the fit's wall time, where early stopping ended it and
the best validation loss (the last ``horizon`` steps of each series, the same under every
rule, so the losses compare). ``before``: ``max_epochs=None, val_every=50``, the budget every
fit had until issue 24.

- ``3x400 hourly``: three Beijing stations' last 400 hours (with their gaps), h = 24: the
  small CSV a first user tries (``tsrnn fit gaps.csv --horizon 24``);
- ``M3 monthly``: all 1,428 series, h = 18 (``../shared/datasets/M3``);
- ``M4 Hourly, reference budget``: 414 series, h = 48, input 96, batch 128, 1,000 steps
  (``benchmarks/m4_neural.py``'s peer-library reference point): the rule must leave it as it
  was (``../shared/datasets/M4``);
- ``5x3y daily``: five synthetic daily series of three years (a week's cycle, a year's, noise;
  seeded), h = 14: the year's seasonal naive input makes the window 364 days, while the
  encoder reads the last 28 (``encoder_size``); rule ``whole-window`` has it read all 364,
  as before that rule (not in the default run: about 5 minutes).

    python benchmarks/budget.py            # every row, both rules (about 6 minutes on 2 cores)
    python benchmarks/budget.py --quick    # 3x400 hourly and 300 M3 monthly series
    python benchmarks/budget.py --rules after --sets small
    python benchmarks/budget.py --rules after,whole-window --sets daily
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from tsrnn import datasets
from tsrnn.models.neural import LSTMForecaster

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets"
RULES = {"before": {"max_epochs": None, "val_every": 50}, "after": {}}


def small() -> tuple[pd.DataFrame, dict]:
    pm = datasets.load("beijing_pm25")[["unique_id", "ds", "y"]]
    ids = pm.unique_id.unique()[:3]
    return pm[pm.unique_id.isin(ids)].groupby("unique_id").tail(400), {"horizon": 24}


def m3_monthly(quick: bool) -> tuple[pd.DataFrame, dict]:
    from tsrnn.datasets import read_m3

    train, _ = read_m3(DATA / "M3", "Monthly")
    if quick:
        train = train[train.unique_id.isin(train.unique_id.unique()[:300])]
    return train, {"horizon": 18}


def daily() -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng(0)
    t = np.arange(3 * 365)
    ds = pd.date_range("2021-01-01", periods=len(t), freq="D")
    week = 1 + 0.3 * np.sin(2 * np.pi * t / 7)
    frames = []
    for i in range(5):
        y = 50 * week * (1 + 0.05 * rng.standard_normal(len(t))) + 20 * np.sin(
            2 * np.pi * t / 365.25
        )
        frames.append(pd.DataFrame({"unique_id": f"d{i}", "ds": ds, "y": y}))
    return pd.concat(frames, ignore_index=True), {"horizon": 14}


def m4_hourly() -> tuple[pd.DataFrame, dict]:
    from tsrnn.datasets import read_m4

    train, _ = read_m4(DATA / "M4", "Hourly")
    reference = {"horizon": 48, "season": 24, "input_size": 96, "batch_size": 128}
    return train, reference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rules", default="before,after")
    parser.add_argument("--sets", default="small,m3,m4")
    args = parser.parse_args()
    sets = args.sets.split(",")
    if args.quick:
        sets = [s for s in sets if s != "m4"]
    loaders = {
        "small": ("3x400 hourly", small),
        "m3": (
            "M3 monthly" + (", 300 series" if args.quick else ""),
            lambda: m3_monthly(args.quick),
        ),
        "m4": ("M4 Hourly, reference budget", m4_hourly),
        "daily": ("5x3y daily", daily),
    }
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    lines = [
        "| data | rule | window / encoder steps | train windows | steps | batch | passes | set by "
        "| stopped | best step | fit s | best val loss |",
        "|---|---|---:|---:|---:|---:|---:|---|---|---:|---:|---:|",
    ]
    for key in sets:
        label, load = loaders[key]
        if key in ("m3", "m4") and not (DATA / key.upper()).exists():
            print(f"{label}: skipped, ../shared/datasets/{key.upper()} is absent")
            continue
        frame, params = load()
        for rule in args.rules.split(","):
            given = RULES.get(rule, {})
            if rule == "whole-window":  # the encoder reads the whole input window
                window = LSTMForecaster(random_state=0, **params).plan(frame).input_size
                given = {"encoder_size": window}
            model = LSTMForecaster(random_state=0, **params, **given)
            start = time.perf_counter()
            model.fit(frame)
            wall = time.perf_counter() - start
            b = model.budget_
            line = (
                f"| {label} | {rule} | {model.plan_.input_size} / {model.plan_.encoder_size} "
                f"| {model.n_windows_['train']:,} | {b['steps']:,} | "
                f"{b['batch']} | {b['passes']:.1f} | {b['bound']} | {model.stop_reason_} | "
                f"{model.best_step_} | {wall:.1f} | {model.history_.val_loss.min():.4f} |"
            )
            print(line, flush=True)
            lines.append(line)
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
