"""Memory of a Panel in float64 (what tsrnn keeps) beside what float32 would take.

A Panel holds ``values`` (float64 since issue 14, so the user's numbers keep every digit), the
``observed`` mask (bool), ``covariates`` (float64) and ``offsets`` (int64, one per series). The
float32 figure casts copies of ``values`` and ``covariates``, which is what the Panel held
before. The requirement is to stay within 2x of float32: without covariates a point costs 9
bytes instead of 5 (1.8x), and each covariate column adds 8 bytes instead of 4, so the ratio
approaches, never reaches, 2. The script exits with status 1 if a ratio reaches 2.

``read_csv`` of each file also runs in a fresh subprocess, so its peak resident set size (RSS)
is its own; ``over import`` subtracts the RSS after ``import tsrnn``, ``traced`` is the peak of
the allocations ``tracemalloc`` saw while reading (numpy and pandas buffers included)::

    python benchmarks/panel_memory.py                      # bundled Beijing + 2M synthetic rows
    python benchmarks/panel_memory.py --rows 10000000      # a larger synthetic file

No torch is imported: the Panel and read_csv need none.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

MB = 2**20
LIMIT = 2.0  # the requirement: float64 panel memory within 2x of float32


def write_synthetic(path: Path, rows: int, series: int, seed: int = 0) -> int:
    """A long CSV of ``series`` hourly random walks around 1e8 with two decimals and one
    covariate, about 1 % of timestamps dropped (gaps); returns the rows written."""
    import numpy as np
    import pandas as pd

    points = max(2, rows // series)
    rng = np.random.default_rng(seed)
    stamps = pd.date_range("2020-01-01", periods=points, freq="h").strftime("%Y-%m-%d %H:%M")
    written = 0
    with path.open("w") as f:
        f.write("unique_id,ds,y,temp\n")
        for s in range(series):
            keep = rng.random(points) > 0.01
            keep[0] = keep[-1] = True
            level = 1e8 + rng.normal(size=points).cumsum()
            temp = rng.normal(15, 5, size=points)
            sid = f"s{s:05d}"
            f.write(
                "".join(
                    f"{sid},{t},{v:.2f},{c:.1f}\n"
                    for t, v, c in zip(stamps[keep], level[keep], temp[keep], strict=True)
                )
            )
            written += int(keep.sum())
    return written


def measure(path: str) -> dict[str, float]:
    """Read ``path`` in this (fresh) process; the panel's bytes and the reading's memory."""
    import numpy as np

    import tsrnn

    base = _peak_mb()
    tracemalloc.start()
    start = time.perf_counter()
    panel, _ = tsrnn.read_csv(path)
    seconds = time.perf_counter() - start
    traced = tracemalloc.get_traced_memory()[1] / MB
    tracemalloc.stop()
    peak = _peak_mb()
    f64 = {
        "values": panel.values.nbytes,
        "observed": panel.observed.nbytes,
        "covariates": panel.covariates.nbytes,
        "offsets": panel.offsets.nbytes,
    }
    f32 = {
        **f64,
        "values": panel.values.astype(np.float32).nbytes,
        "covariates": panel.covariates.astype(np.float32).nbytes,
    }
    assert panel.values.dtype == np.float64 and sum(f64.values()) == panel.nbytes
    return {
        "points": len(panel),
        "series": panel.n_series,
        "covariates": len(panel.covariate_names),
        "f64": f64,
        "f32": f32,
        "seconds": seconds,
        "peak": peak,
        "base": base,
        "traced": traced,
    }


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MB  # Linux: KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000, help="synthetic rows before gaps")
    parser.add_argument("--series", type=int, default=1000, help="synthetic series")
    parser.add_argument("--measure", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return

    from tsrnn import datasets

    with tempfile.TemporaryDirectory() as tmp:
        synthetic = Path(tmp) / "synthetic.csv"
        rows = write_synthetic(synthetic, args.rows, args.series)
        files = {
            "beijing_pm25 (bundled)": datasets.path("beijing_pm25"),
            f"synthetic, {rows:,} rows": synthetic,
        }
        print(
            "| panel | series | points | covariates | float64 MiB (values / observed / "
            "covariates / offsets) | float32 MiB | ratio | values + observed only | "
            "bytes/point f64 vs f32 | "
            "read_csv s | peak RSS MiB | over import | traced MiB |"
        )
        print("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        worst = 0.0
        for label, path in files.items():
            out = subprocess.run(
                [sys.executable, __file__, "--measure", str(path)],
                check=True,
                capture_output=True,
                text=True,
            )
            m = json.loads(out.stdout.strip().splitlines()[-1])
            f64, f32 = sum(m["f64"].values()), sum(m["f32"].values())
            ratio = f64 / f32
            worst = max(worst, ratio)
            bare = (m["f64"]["values"] + m["f64"]["observed"]) / (
                m["f32"]["values"] + m["f32"]["observed"]
            )
            parts = " / ".join(f"{m['f64'][k] / MB:.1f}" for k in m["f64"])
            print(
                f"| {label} | {m['series']:,} | {m['points']:,} | {m['covariates']} | "
                f"{f64 / MB:.1f} ({parts}) | {f32 / MB:.1f} | **{ratio:.2f}x** | {bare:.2f}x | "
                f"{f64 / m['points']:.2f} vs {f32 / m['points']:.2f} | {m['seconds']:.2f} | "
                f"{m['peak']:,.0f} | {m['peak'] - m['base']:,.0f} | {m['traced']:,.0f} |"
            )
    verdict = "within" if worst < LIMIT else "NOT within"
    print(f"\nlargest ratio {worst:.3f}: {verdict} {LIMIT:g}x of float32")
    if worst >= LIMIT:
        sys.exit(1)


if __name__ == "__main__":
    main()
