"""torch threads for training on the CPU, on an idle machine and beside a busy process.

A CPU's cores are often shared: a second training, a test suite, a browser. torch's intra-op
threads spin and then wait at a barrier after every small kernel, and an RNN runs one small
kernel per time step, so when another process holds a core, the thread that lost it holds
every step back. This script fits the same LSTM with 1 thread, with all cores and with the default
(``num_threads=None``: one thread per idle core, chosen when the fit starts), first on an
idle machine, then with ``--busy`` CPU-bound processes beside it (each a Python loop that
never sleeps), and prints the training windows/s (the median report interval of
``history_``, so building the windows is left out) and the fit's wall time.

Shapes: ``small``, the default LSTM on three Beijing stations' last 400 hours (hidden 64 x 2,
batch 256, input 48, h 24); ``m4``, the M4 Hourly reference shape on synthetic data
(hidden 64 x 2, batch 128, input 96, h 48); ``wide``, hidden 256 x 2, batch 512, input 96,
h 48, where the matrix products are large enough for threads to pay.

    python benchmarks/threads.py                 # small and m4: 1, 2 and default threads
    python benchmarks/threads.py --quick         # the small shape, 60 steps a fit
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time

import numpy as np
import pandas as pd
import torch

from tsrnn import datasets
from tsrnn.models.neural import LSTMForecaster


def spin(stop) -> None:  # stop: a multiprocessing Event
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x += 1


def shapes() -> dict[str, tuple[pd.DataFrame, dict]]:
    pm = datasets.load("beijing_pm25")[["unique_id", "ds", "y"]]
    ids = pm.unique_id.unique()[:3]
    small = pm[pm.unique_id.isin(ids)].groupby("unique_id").tail(400)
    rng = np.random.default_rng(0)
    t = np.arange(1000)
    synthetic = pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{i}" for i in range(100)], len(t)),
            "ds": np.tile(t, 100),
            "y": (np.sin(2 * np.pi * t / 24)[None] + rng.normal(0, 0.3, (100, len(t)))).ravel(),
        }
    )
    m4 = {"horizon": 48, "season": 24, "input_size": 96, "batch_size": 128}
    wide = {**m4, "hidden_size": 256, "batch_size": 512}
    return {"small": (small, {"horizon": 24}), "m4": (synthetic, m4), "wide": (synthetic, wide)}


def measure(
    frame: pd.DataFrame, params: dict, threads: int | None, steps: int
) -> tuple[float, float, int]:
    model = LSTMForecaster(
        random_state=0,
        num_threads=threads,
        max_steps=steps,
        max_epochs=None,
        val_every=max(steps // 6, 1),
        patience=None,
        **params,
    )
    start = time.perf_counter()
    model.fit(frame)
    wall = time.perf_counter() - start
    return float(model.history_.windows_per_s.iloc[1:].median()), wall, model.threads_


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--busy", type=int, default=1, help="CPU-bound processes beside the fit")
    parser.add_argument("--shapes", default="small,m4", help="small, m4, wide (slow)")
    args = parser.parse_args()
    names = ["small"] if args.quick else args.shapes.split(",")
    steps = 60 if args.quick else args.steps
    cores = os.cpu_count() or 1
    counts = [*sorted({1, cores}), None]  # None: the default, chosen by the fit
    print(f"torch {torch.__version__}, {cores} cores, {steps} steps a fit, busy = {args.busy}")
    data = shapes()
    lines = [
        "| shape | threads | idle windows/s | idle fit s | busy windows/s | busy fit s "
        "| busy / idle |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in names:
        frame, params = data[name]
        results = {}
        for load in ("idle", "busy"):
            stop = multiprocessing.Event()
            workers = [
                multiprocessing.Process(target=spin, args=(stop,), daemon=True)
                for _ in range(args.busy if load == "busy" else 0)
            ]
            for w in workers:
                w.start()
            try:
                for n in counts:
                    results[load, n] = measure(frame, params, n, steps)
            finally:
                stop.set()
                for w in workers:
                    w.join()
        for n in counts:
            (iw, it, ik), (bw, bt, bk) = results["idle", n], results["busy", n]
            label = n if n is not None else f"default ({ik} idle, {bk} busy)"
            line = f"| {name} | {label} | {iw:,.0f} | {it:.1f} | {bw:,.0f} | {bt:.1f} | {bw / iw:.2f} |"
            lines.append(line)
            print(line, flush=True)
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
