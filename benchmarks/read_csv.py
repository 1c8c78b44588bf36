"""Time and memory of ``tsrnn.read_csv`` on a large long CSV, beside plain ``pandas.read_csv``.

Writes a long CSV (``unique_id, ds, y``; 1,000 hourly series by default, about 0.1% of the
rows dropped so that gaps must be inserted) to a temporary folder, then reads it in a fresh
subprocess per reader, so each peak resident set size (RSS) is that reader's alone::

    python benchmarks/read_csv.py                 # 10M rows (about 330 MB of CSV)
    python benchmarks/read_csv.py --rows 200000   # a quick run
    python benchmarks/read_csv.py --csv /tmp/long.csv   # keep the file: later runs reuse it
    python benchmarks/read_csv.py --batch-rows 0        # also: all rows in one build_panel call

Columns: ``peak RSS`` is the process's high-water mark; ``over import`` subtracts the RSS
after importing the libraries; ``result`` is what the reader hands back (the DataFrame's
``memory_usage(deep=True)``, or the Panel's arrays). ``--batch-rows N`` adds a row for
``tsrnn.read_csv`` handing ``build_panel`` batches of about N rows instead of the default
(``tsrnn.data.io._BATCH_ROWS``); 0 hands it every row in one call.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MB = 1e6


def write_csv(path: Path, rows: int, series: int, seed: int = 0) -> int:
    """A long CSV of ``series`` hourly random walks, ``rows`` in all before gaps; rows written."""
    import numpy as np
    import pandas as pd

    points = max(2, rows // series)
    rng = np.random.default_rng(seed)
    stamps = pd.date_range("2020-01-01", periods=points, freq="h").strftime("%Y-%m-%d %H:%M:%S")
    written = 0
    with path.open("w") as f:
        f.write("unique_id,ds,y\n")
        for s in range(series):
            keep = rng.random(points) > 0.001  # a few missing timestamps per series
            keep[0] = keep[-1] = True
            walk = rng.normal(size=points).cumsum()
            sid = f"s{s:05d}"
            f.write(
                "".join(
                    f"{sid},{t},{v:.3f}\n" for t, v in zip(stamps[keep], walk[keep], strict=True)
                )
            )
            written += int(keep.sum())
    return written


def measure(reader: str, path: str) -> dict[str, float]:
    """Run one reader in this (fresh) process; return its figures.

    ``reader`` is ``pandas``, ``tsrnn``, or ``tsrnn:N`` for batches of about N rows (0: one).
    """
    import pandas as pd

    import tsrnn
    from tsrnn.data import io

    if reader.startswith("tsrnn:"):
        io._BATCH_ROWS = int(reader.split(":")[1]) or sys.maxsize

    base = _peak_mb()  # after imports: what every reader pays before reading
    start = time.perf_counter()
    if reader == "pandas":
        df = pd.read_csv(path)
        seconds = time.perf_counter() - start
        result = df.memory_usage(deep=True).sum() / MB
    else:
        panel, report = tsrnn.read_csv(path)
        seconds = time.perf_counter() - start
        result = (
            sum(a.nbytes for a in (panel.values, panel.observed, panel.covariates, panel.offsets))
            / MB
        )
    return {"seconds": seconds, "peak": _peak_mb(), "base": base, "result": result}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MB  # Linux: KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows before gaps")
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument(
        "--csv", type=Path, help="read this file, writing it first if absent (default: a temp file)"
    )
    parser.add_argument(
        "--batch-rows",
        type=int,
        nargs="+",
        default=[],
        help="also time tsrnn.read_csv with batches of about N rows (0: one build_panel call)",
    )
    parser.add_argument("--measure", nargs=2, metavar=("READER", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return

    with tempfile.TemporaryDirectory() as tmp:
        path = args.csv or Path(tmp) / "long.csv"
        if path.exists():
            rows = sum(1 for _ in path.open()) - 1
            print(f"reusing {path}: {rows:,} rows, {path.stat().st_size / MB:,.0f} MB of CSV")
        else:
            start = time.perf_counter()
            rows = write_csv(path, args.rows, args.series)
            print(
                f"wrote {rows:,} rows, {args.series:,} series, {path.stat().st_size / MB:,.0f} MB "
                f"of CSV in {time.perf_counter() - start:.1f} s"
            )
        print()
        print("| reader | rows | seconds | peak RSS MB | over import MB | result MB |")
        print("|---|---:|---:|---:|---:|---:|")
        labels = {
            "pandas": "pandas.read_csv (defaults) -> DataFrame",
            "tsrnn": "tsrnn.read_csv -> Panel + DataReport",
        }
        for n in args.batch_rows:
            batches = f"batches of {n:,} rows" if n else "one build_panel call"
            labels[f"tsrnn:{n}"] = f"tsrnn.read_csv, {batches}"
        for reader, label in labels.items():
            out = subprocess.run(
                [sys.executable, __file__, "--measure", reader, str(path)],
                check=True,
                capture_output=True,
                text=True,
            )
            m = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"| {label} | {rows:,} | {m['seconds']:.2f} | {m['peak']:,.0f} | "
                f"{m['peak'] - m['base']:,.0f} | {m['result']:,.0f} |"
            )


if __name__ == "__main__":
    main()
