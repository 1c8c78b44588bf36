"""Window gathering throughput and memory: prints a table.

1,000 hourly series x 10,000 points (10% missing at random), batches of B=1024 windows with
L=168 input steps and H=48 horizon steps, value + observed mask + time since observed + calendar
features (hour of day, day of week, day of year). Reports windows gathered per second, peak
RSS, the Panel's size (float64 values since issue 14) against bare float32 values + bool mask, and RSS after gathering two very
different numbers of batches (memory must not grow with the windows drawn).

Usage::

    python benchmarks/windows.py           # full run (about a minute)
    python benchmarks/windows.py --quick   # short run, used by `make bench`
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import resource
import sys
import time
from collections.abc import Iterator

import numpy as np
import pandas as pd
import psutil
import torch

from tsrnn.data.panel import Panel
from tsrnn.data.windows import Batch, Windows
from tsrnn.models.neural.inputs import train_batches

B, L, H = 1024, 168, 48


def make_panel(n_series: int, length: int, missing: float, seed: int = 0) -> Panel:
    rng = np.random.default_rng(seed)
    values = rng.standard_normal(n_series * length, dtype=np.float32)
    values[rng.random(len(values), dtype=np.float32) < missing] = np.nan
    values[::length] = 0.0  # every series observed at least once
    return Panel(
        values=values,
        observed=~np.isnan(values),
        offsets=np.arange(n_series + 1, dtype=np.int64) * length,
        ids=np.array([f"s{i:04d}" for i in range(n_series)], dtype=object),
        starts=pd.DatetimeIndex(["2020-01-01"] * n_series),
        freq="h",
    )


def panel_nbytes(panel: Panel) -> int:
    arrays = (panel.values, panel.observed, panel.offsets, panel.covariates, panel.ids)
    return (
        sum(a.nbytes for a in arrays)
        + panel.starts.nbytes
        + sum(sys.getsizeof(i) for i in panel.ids)
    )


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10  # KiB on Linux


def gather(batches: Iterator[Batch], n: int) -> tuple[int, float]:
    """Draw ``n`` batches; return the windows gathered and the seconds it took."""
    count = 0
    start = time.perf_counter()
    for batch in itertools.islice(batches, n):
        count += len(batch.series)
    return count, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (make bench)")
    args = parser.parse_args()
    n_small, n_large, repeats = (20, 1000, 3) if args.quick else (100, 25_000, 5)

    rows: list[tuple[str, str]] = [
        ("load average (1 min) at start", f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"),
        ("RSS after imports (python, numpy, pandas, torch)", f"{rss_mb():.0f} MiB"),
    ]
    t0 = time.perf_counter()
    panel = make_panel(1000, 10_000, missing=0.1)
    n = len(panel)
    rows.append(("panel", f"{panel.n_series} series x {n // panel.n_series} points, hourly"))
    rows.append(("build panel", f"{time.perf_counter() - t0:.2f} s"))

    t0 = time.perf_counter()
    windows = Windows(panel, input_size=L, horizon=H)
    rows.append(("build Windows (precomputed rows)", f"{time.perf_counter() - t0:.2f} s"))
    t0 = time.perf_counter()
    origins = windows.origins()
    rows.append(("origins (stride 1)", f"{len(origins):,} in {time.perf_counter() - t0:.2f} s"))
    rows.append(
        (
            "x features (F) / x_future (Ff)",
            f"{windows.n_features} / {windows.n_future_features}: {', '.join(windows.feature_names)}",
        )
    )

    # training's own batches: shuffled epochs, each a fresh permutation
    batches = train_batches(windows, origins, B, seed=0)
    t0 = time.perf_counter()
    next(batches)  # index tensors, the first epoch's permutation, warm caches and allocator
    rows.append(
        ("index tensors + epoch shuffle (once per epoch)", f"{time.perf_counter() - t0:.2f} s")
    )
    per_run = 100 if args.quick else 1000
    threads = torch.get_num_threads()
    # Both thread counts: two threads are faster on a quiet machine, one is steadier when other
    # processes compete for the cores (a parallel copy waits for its slowest thread).
    for t in sorted({threads, 1}, reverse=True):
        torch.set_num_threads(t)
        rates = []
        for _ in range(repeats):
            count, seconds = gather(batches, per_run)
            rates.append(count / seconds)
        rows.append(
            (
                f"windows/s, B={B} L={L} H={H}, {t} torch thread{'s' if t > 1 else ''}",
                f"{np.median(rates):,.0f} median of {repeats} x {per_run} batches "
                f"(min {min(rates):,.0f}, max {max(rates):,.0f})",
            )
        )
    torch.set_num_threads(threads)

    values_mask = n * (4 + 1)
    pn = panel_nbytes(panel)
    rows.append(
        (
            "Panel nbytes / float32 values + mask",
            f"{pn / 2**20:.1f} MiB / {values_mask / 2**20:.1f} MiB = {pn / values_mask:.2f}x "
            "(target <= 2x)",
        )
    )
    rows.append(
        (
            "Windows rows (input+target+future)",
            f"{windows.nbytes / 2**20:.1f} MiB = {windows.nbytes / n:.1f} B/point",
        )
    )
    rows.append(("origins", f"{(origins.pos.nbytes + origins.bounds.nbytes) / 2**20:.1f} MiB"))

    gc.collect()
    count, _ = gather(batches, n_small)
    gc.collect()
    small = rss_mb()
    rows.append((f"RSS after {count:,} more windows ({n_small} batches)", f"{small:.0f} MiB"))
    count, _ = gather(batches, n_large)
    gc.collect()
    large = rss_mb()
    rows.append((f"RSS after {count:,} more windows ({n_large} batches)", f"{large:.0f} MiB"))
    rows.append(("RSS growth", f"{large - small:+.0f} MiB"))
    rows.append(("peak RSS", f"{peak_rss_mb():.0f} MiB"))

    width = max(len(k) for k, _ in rows)
    print(f"{'metric':<{width}} | value")
    print(f"{'-' * width}-|-{'-' * 40}")
    for key, value in rows:
        print(f"{key:<{width}} | {value}")


if __name__ == "__main__":
    main()
