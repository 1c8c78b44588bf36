"""Statistical baselines on M4 Hourly: wall time, peak RSS and accuracy beside the published table.

Each method runs in its own subprocess (fit on the 414 train series, forecast h = 48, n_jobs = 2)
so its peak RSS is its own; the parent scores the forecasts the M4 way (sMAPE, MASE with m = 24,
OWA against tsrnn's Naive2) and prints one table.

    python benchmarks/baselines.py                 # all methods, all 414 series
    python benchmarks/baselines.py --quick         # 40 series, no ARIMA (used by `make bench`)
    python benchmarks/baselines.py --methods Naive2,SES --series 100
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
M4_DIR = ROOT.parent / "shared" / "datasets" / "M4"
H, SEASON = 48, 24
METHODS = {
    "Naive": "tsrnn.models.baselines:Naive",
    "SeasonalNaive": "tsrnn.models.baselines:SeasonalNaive",
    "Naive2": "tsrnn.models.baselines:Naive2",
    "SES": "tsrnn.models.statistical:SES",
    "Holt": "tsrnn.models.statistical:Holt",
    "Damped": "tsrnn.models.statistical:Damped",
    "Comb": "tsrnn.models.statistical:Comb",
    "Theta": "tsrnn.models.statistical:Theta",
    "ETS": "tsrnn.models.statistical:ETS",
    "ARIMA": "tsrnn.models.arima:ARIMA",
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


def run_one(method: str, series: int | None, n_jobs: int, out: Path) -> None:
    """Child process: fit + predict one method, write forecasts and timings."""
    import importlib
    import resource

    module, cls = METHODS[method].split(":")
    estimator_cls = getattr(importlib.import_module(module), cls)
    train, _ = load(series)
    params = estimator_cls().get_params()
    kwargs = {"n_jobs": n_jobs} if "n_jobs" in params else {}
    if "season" in params:  # M4 ships no timestamps: integer time says nothing of the season
        kwargs["season"] = SEASON
    start = time.perf_counter()
    model = estimator_cls(**kwargs).fit(train)
    forecasts = model.predict(H)
    seconds = time.perf_counter() - start
    forecasts.rename(columns={model.name: method}).to_csv(out / f"{method}.csv", index=False)
    fallbacks = getattr(model, "fallbacks_", pd.DataFrame())
    # The main process only: joblib's worker processes are not reaped here, so not counted.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    info = {"seconds": seconds, "peak_rss_mb": peak / 1024, "fallbacks": len(fallbacks)}
    (out / f"{method}.json").write_text(json.dumps(info))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated")
    parser.add_argument("--series", type=int, default=None, help="first N series only")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="40 series, no ARIMA")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(args.one, args.series, args.n_jobs, Path(args.out))
        return
    if not M4_DIR.exists():
        print(f"M4 data not found at {M4_DIR} (../shared/datasets/M4); nothing to measure")
        return
    methods = args.methods.split(",")
    if args.quick:
        args.series = args.series or 40
        methods = [m for m in methods if m != "ARIMA"]
    if "Naive2" not in methods:
        methods.append("Naive2")  # OWA's reference
    from tsrnn.evaluate.metrics import m4_scores

    train, test = load(args.series)
    rows = []
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
            fc = pd.read_csv(Path(tmp) / f"{method}.csv")
            rows.append((method, info, fc))
        merged = test.copy()
        for method, _, fc in rows:
            merged = merged.merge(fc[["unique_id", "ds", method]], on=["unique_id", "ds"])
        scores = m4_scores(merged, None, train, season=SEASON, models=[m for m, _, _ in rows])
    scores = scores.set_index("model")
    n = train.unique_id.nunique()
    print(f"M4 Hourly, {n} series, h={H}, m={SEASON}, n_jobs={args.n_jobs}")
    print(
        "| method | fit+predict s | peak RSS MB | fallbacks | sMAPE | MASE | OWA | "
        "published sMAPE / MASE / OWA |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for method, info, _ in rows:
        s = scores.loc[method]
        pub = PUBLISHED.get(method)
        pub_text = " / ".join(f"{v:.3f}" for v in pub) if pub and n == 414 else "-"
        print(
            f"| {method} | {info['seconds']:.1f} | {info['peak_rss_mb']:.0f} | "
            f"{info['fallbacks']} | {s.smape:.3f} | {s.mase:.3f} | {s.owa:.3f} | {pub_text} |"
        )


if __name__ == "__main__":
    main()
