"""Scale: a synthetic panel of many series, read from CSV and Parquet, backtested and trained on.

A long panel of ``--series`` daily series x ``--length`` points (``unique_id, ds, y``; a weekly
season, a random-walk level, noise, levels from 10 to 100,000, about 1 % of the values
missing) is written once as CSV and as Parquet into ``--data-dir`` (reused by later runs);
``--gaps`` leaves the missing values out as rows instead, so the readers put gaps back.
Then each part runs in a fresh process of its own, and this script samples the resident set
size (RSS) of that process and of all its children (the joblib workers) every 0.1 s, so
``peak MB`` is everything the part held at once::

    python benchmarks/scale.py --quick            # 10,000 series x 500, no ETS (make bench)
    python benchmarks/scale.py                    # 100,000 series x 500: 50M rows
    python benchmarks/scale.py --series 2000 --parts theta,ets   # 1 process against 2
    python benchmarks/scale.py --parts theta,theta-dask --jobs-only   # joblib against Dask
    python benchmarks/scale.py --series 10000 --parts theta,theta-dask --jobs-only --repeat 3
    python benchmarks/scale.py --parts read-csv,read-parquet --repeat 3 --gaps

Parts:

- ``read-csv``, ``read-parquet``: ``tsrnn.read_csv`` / ``tsrnn.read_parquet`` of the files,
  beside the panel's own size in memory (values and observed flags);
- ``snaive``, ``theta``, ``ets``: a one-window backtest (horizon 14, refit) of SeasonalNaive,
  Theta and ETS on the Parquet file, with 1 worker process (``n_jobs=1``) and with joblib on
  ``--jobs`` (default 2) processes; ``--jobs-only`` skips the 1-process rows;
- ``theta-dask``, ``ets-dask``: the same backtests with the per-series fits on a Dask
  ``LocalCluster`` of ``--jobs`` worker processes, one thread each (``tsrnn[dask]``; the
  cluster is started before the clock starts); the rows name the largest single worker's
  peak, which a chunk of series bounds;
- ``epoch``: the default LSTM (horizon 14) trained for ``--steps`` steps: windows per second
  over the whole fit and in the training loop alone (``history_``), and from the first the
  time one pass over every training window would take;
- ``epoch-ddp``: the same training with one thread a process, on 1 process and on ``--jobs``
  processes (``num_processes``: DistributedDataParallel over gloo), at the same total batch.

``--repeat N`` runs the parts N times in turn (joblib, Dask, joblib, Dask, ...), so that two
rows compared are measured under the same drift of a shared machine, and the table ends with
each part's median seconds.

Each part prints one JSON line; the table at the end is Markdown for ``RESULTS.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

MB = 1e6
HORIZON = 14


# ---------------------------------------------------------------------- the data
def write_panel(
    folder: Path, series: int, length: int, seed: int = 0, gaps: bool = False
) -> tuple[Path, Path]:
    """The CSV and Parquet files of the synthetic panel (written once, then reused); with
    ``gaps``, the missing values are rows left out (gaps the reader puts back)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    stem = f"panel-{series}x{length}" + ("-gaps" if gaps else "")
    csv, parquet = folder / f"{stem}.csv", folder / f"{stem}.parquet"
    if csv.exists() and parquet.exists():
        return csv, parquet
    rng = np.random.default_rng(seed)
    days = np.arange(length)
    start = np.datetime64("2020-01-06", "s")
    times = start + days.astype("timedelta64[D]")
    names = np.asarray([f"s{i:06d}" for i in range(series)])
    parquet_writer = csv_writer = None
    chunk = max(1, 2_000_000 // length)  # series per chunk: ~2M rows
    try:
        for first in range(0, series, chunk):
            n = min(chunk, series - first)
            level = 10 ** rng.uniform(1, 5, size=(n, 1))
            season = np.sin(2 * np.pi * (days + rng.integers(0, 7, size=(n, 1))) / 7)
            walk = rng.normal(0, 0.01, size=(n, length)).cumsum(axis=1)
            y = level * (1 + 0.2 * season + walk + rng.normal(0, 0.05, size=(n, length)))
            y = np.round(y, 3)
            y[rng.random((n, length)) < 0.01] = np.nan
            y[:, :2] = np.abs(y[:, :2])  # every series starts observed
            ids = pa.DictionaryArray.from_arrays(
                pa.array(np.repeat(np.arange(n, dtype=np.int32), length)),
                pa.array(names[first : first + n]),
            )
            table = pa.table(
                {
                    "unique_id": ids,
                    "ds": pa.array(np.tile(times, n)),
                    "y": pa.array(y.ravel(), from_pandas=True),
                }
            )
            if gaps:
                table = table.filter(pc.is_valid(table.column("y")))
            if parquet_writer is None:
                parquet_writer = pq.ParquetWriter(parquet, table.schema)
                csv_writer = pacsv.CSVWriter(csv, table.schema)
            parquet_writer.write_table(table)
            csv_writer.write_table(table)
    finally:
        if parquet_writer is not None:
            parquet_writer.close()
            csv_writer.close()
    return csv, parquet


# ---------------------------------------------------------------------- the parts
def run_part(part: str, csv: Path, parquet: Path, jobs: int, steps: int) -> dict:
    """One part, in this process; its figures."""
    import numpy as np

    import tsrnn

    if part in ("read-csv", "read-parquet"):
        import psutil
        import pyarrow  # noqa: F401  (imported before the baseline, as read_parquet imports it)

        base = psutil.Process().memory_info().rss
        t0 = time.perf_counter()
        if part == "read-csv":
            panel, _ = tsrnn.read_csv(csv)
        else:
            panel, _ = tsrnn.read_parquet(parquet)
        seconds = time.perf_counter() - t0
        size = panel.values.nbytes + panel.observed.nbytes + panel.offsets.nbytes
        return {"seconds": seconds, "panel_mb": size / MB, "base_mb": base / MB}
    panel, _ = tsrnn.read_parquet(parquet)
    if part in ("epoch", "epoch-ddp"):
        import torch

        from tsrnn import LSTMForecaster

        params = {"horizon": HORIZON, "max_steps": steps, "max_epochs": None, "val_size": 0}
        if part == "epoch-ddp":  # one thread a process, on 1 or jobs processes
            params |= {"num_threads": 1, "num_processes": jobs if jobs > 1 else None}
        else:
            torch.set_num_threads(jobs)
        model = LSTMForecaster(**params)
        t0 = time.perf_counter()
        model.fit(panel)
        seconds = time.perf_counter() - t0
        b = model.budget_
        windows = b["steps"] * b["batch"] / b["passes"]  # training windows in one pass
        rate = b["steps"] * b["batch"] / seconds
        loop = float(model.history_.elapsed_s.iloc[-1])  # the training loop alone
        return {
            "seconds": seconds,
            "steps": b["steps"],
            "windows_per_s": rate,
            "loop_windows_per_s": b["steps"] * b["batch"] / loop,
            "loop_s": loop,
            "epoch_windows": windows,
            "epoch_s": windows / rate,
            "threads": model.threads_,
        }
    from tsrnn import parallel_backend
    from tsrnn.evaluate.backtest import backtest
    from tsrnn.models.stats import ETS, SeasonalNaive, Theta

    name, _, backend = part.partition("-")  # theta-dask: Theta on a Dask LocalCluster
    model = {"snaive": SeasonalNaive, "theta": Theta, "ets": ETS}[name]
    params = {} if name == "snaive" else {"n_jobs": jobs}
    with parallel_backend(backend or "joblib", n_workers=jobs):  # the cluster's start untimed
        t0 = time.perf_counter()
        result = backtest([model(**params)], panel, HORIZON, n_windows=1)
        seconds = time.perf_counter() - t0
    scored = result.metrics()
    return {
        "seconds": seconds,
        "series": int(result.forecasts["unique_id"].nunique()),
        "mase": float(np.nanmean(scored["mase"])) if "mase" in scored else None,
        "fallbacks": len(result.fallbacks),
    }


def measure(part: str, csv: Path, parquet: Path, jobs: int, steps: int, limit: float) -> dict:
    """Run ``part`` in a fresh process; sample its RSS and its children's until it ends."""
    import psutil

    command = [sys.executable, __file__, "--run-part", part, "--csv", str(csv)]
    command += ["--parquet", str(parquet), "--jobs", str(jobs), "--steps", str(steps)]
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    peak, worker_peak, done = 0, 0, threading.Event()

    def sample() -> None:
        nonlocal peak, worker_peak
        parent = psutil.Process(child.pid)
        while not done.is_set():
            try:
                total = 0
                with contextlib.suppress(psutil.Error):
                    total += parent.memory_info().rss
                for p in parent.children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        rss = p.memory_info().rss
                        total += rss
                        worker_peak = max(worker_peak, rss)  # one worker (or nanny) process
                peak = max(peak, total)
            except psutil.Error:
                pass
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, _ = child.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        done.set()
        return {"part": part, "jobs": jobs, "error": f"over {limit:.0f} s"}
    done.set()
    sampler.join()
    if child.returncode:
        return {"part": part, "jobs": jobs, "error": f"exit {child.returncode}"}
    figures = json.loads(out.strip().splitlines()[-1])
    return {
        "part": part,
        "jobs": jobs,
        "wall_s": time.perf_counter() - start,
        "peak_mb": peak / MB,
        "worker_peak_mb": worker_peak / MB,
        **figures,
    }


def medians(rows: list[dict]) -> list[str]:
    """Each part's median seconds over its repeated runs, and each against the first part's."""
    import statistics

    runs: dict[tuple[str, int], list[float]] = {}
    for r in rows:
        if "error" not in r:
            runs.setdefault((r["part"], r["jobs"]), []).append(r["seconds"])
    if not runs or max(len(v) for v in runs.values()) < 2:
        return []
    lines = [
        "",
        "| part | processes | runs | median seconds | against the first |",
        "|---|---:|---:|---:|---:|",
    ]
    first = None
    for (part, jobs), seconds in runs.items():
        median = statistics.median(seconds)
        first = first or median
        spread = ", ".join(f"{s:.1f}" for s in seconds)
        lines.append(f"| {part} | {jobs} | {spread} | {median:.1f} | {median / first - 1:+.1%} |")
    return lines


def table(rows: list[dict], series: int, length: int) -> str:
    lines = [
        f"{series:,} series x {length} points ({series * length / 1e6:.1f}M rows)",
        "",
        "| part | processes | seconds | peak MB | notes |",
        "|---|---:|---:|---:|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['part']} | {r['jobs']} | - | - | {r['error']} |")
            continue
        if r["part"].startswith("read"):
            added = r["peak_mb"] - r["base_mb"]
            procs = 1
            note = (
                f"panel {r['panel_mb']:,.0f} MB; reading adds {added:,.0f} MB to the "
                f"{r['base_mb']:,.0f} MB after imports: {added / r['panel_mb']:.1f}x the panel"
            )
        elif r["part"].startswith("epoch"):
            procs = r["jobs"] if r["part"] == "epoch-ddp" else 1
            note = (
                f"{r['steps']} steps, {r['threads']} thread(s) a process: "
                f"{r['windows_per_s']:,.0f} windows/s over the fit, "
                f"{r['loop_windows_per_s']:,.0f} in the training loop ({r['loop_s']:.1f} s); "
                f"one pass over {r['epoch_windows']:,.0f} windows: {r['epoch_s'] / 60:,.0f} min"
            )
        else:
            procs = 1 if r["part"] == "snaive" else r["jobs"]
            note = f"{r['series']:,} series, MASE {r['mase']:.3f}, {r['fallbacks']} fallbacks"
            if r["part"] != "snaive":
                where = "Dask LocalCluster" if r["part"].endswith("-dask") else "joblib"
                note += f"; {where}, largest worker {r['worker_peak_mb']:,.0f} MB"
        lines.append(
            f"| {r['part']} | {procs} | {r['seconds']:.1f} | {r['peak_mb']:,.0f} | {note} |"
        )
    return "\n".join(lines + medians(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", type=int, default=100_000)
    parser.add_argument("--length", type=int, default=500)
    parser.add_argument(
        "--quick", action="store_true", help="10,000 series; no ETS, no 1-process rows"
    )
    parser.add_argument("--parts", help="comma-separated (default: all; --quick: all but ets)")
    parser.add_argument("--jobs", type=int, default=2, help="processes of the joblib rows")
    parser.add_argument("--jobs-only", action="store_true", help="no 1-process rows")
    parser.add_argument("--steps", type=int, default=200, help="training steps of 'epoch'")
    parser.add_argument("--data-dir", default="/tmp/tsrnn-scale")
    parser.add_argument(
        "--gaps", action="store_true", help="leave the missing values out as rows (gaps)"
    )
    parser.add_argument("--limit", type=float, default=3600, help="seconds per part at most")
    parser.add_argument(
        "--repeat", type=int, default=1, help="run the parts this many times, in turn"
    )
    parser.add_argument("--run-part", help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    parser.add_argument("--parquet", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_part:
        figures = run_part(args.run_part, Path(args.csv), Path(args.parquet), args.jobs, args.steps)
        print(json.dumps(figures))
        return
    series = 10_000 if args.quick else args.series
    parts = args.parts or "read-csv,read-parquet,snaive,theta,theta-dask" + (
        ",epoch" if args.quick else ",ets,epoch"
    )
    jobs_only = args.jobs_only or args.quick
    t0 = time.perf_counter()
    csv, parquet = write_panel(Path(args.data_dir), series, args.length, gaps=args.gaps)
    print(
        f"data: {csv} ({csv.stat().st_size / MB:,.0f} MB), {parquet} "
        f"({parquet.stat().st_size / MB:,.0f} MB), {time.perf_counter() - t0:.0f} s",
        flush=True,
    )
    rows = []
    for part in parts.split(",") * max(1, args.repeat):
        runs = [1]
        if part in ("theta", "ets", "theta-dask", "ets-dask"):
            runs = [args.jobs] if jobs_only else [1, args.jobs]
        if part == "epoch":
            runs = [min(args.jobs, os.cpu_count() or 1)]
        if part == "epoch-ddp":
            runs = [1, args.jobs]
        for jobs in runs:
            row = measure(part, csv, parquet, jobs, args.steps, args.limit)
            print(json.dumps(row), flush=True)
            rows.append(row)
    print()
    print(table(rows, series, args.length))


if __name__ == "__main__":
    main()
