"""M4 Hourly: every statistical baseline and three networks in one report, for a person to
look at (issue 30: the report's plots and tables at many models).

The baselines' forecasts are those of ``reports/m4-hourly-baselines/`` (``python
benchmarks/baselines.py``: Naive, SeasonalNaive, Naive2, SES, Holt, Damped, Comb, Theta, ETS
and ARIMA fitted on the 414 train series; about 40 minutes to refit, ARIMA half of it). The
networks (LSTM, GRU, RNN with their defaults, season 24) are trained here on the same M4
protocol, a one-window backtest of train + test, and the two are checked to forecast the same
series and steps against the same actuals before they are put side by side. The report goes to
``reports/m4-hourly-all/`` and, where Chromium is installed, a screenshot of it to
``reports/m4-hourly-all.png``.

    python benchmarks/m4_report.py           # 414 series (about 10 minutes on 2 cores)
    python benchmarks/m4_report.py --quick   # 40 series, 100 training steps, no screenshot
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from baselines import benchmark_note, m4_history

from tsrnn import registry
from tsrnn.evaluate.backtest import _model_info, backtest
from tsrnn.evaluate.metrics import m4_scores
from tsrnn.models.neural import GRUForecaster, LSTMForecaster, RNNForecaster
from tsrnn.report.backtest_report import write_report

ROOT = Path(__file__).resolve().parents[1]
M4_DIR = ROOT.parent / "shared" / "datasets" / "M4"
BASELINES = ROOT / "reports" / "m4-hourly-baselines"
H, SEASON = 48, 24
KEYS = ["unique_id", "ds"]
REGISTRY_NAME = {
    "Naive": "naive",
    "SeasonalNaive": "snaive",
    "Naive2": "naive2",
    "SES": "ses",
    "Holt": "holt",
    "Damped": "damped",
    "Comb": "comb",
    "Theta": "theta",
    "ETS": "ets",
    "ARIMA": "arima",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 series, 100 steps")
    parser.add_argument("--report-dir", default=None)
    args = parser.parse_args()
    from tsrnn.datasets import read_m4

    train, test = read_m4(M4_DIR, "Hourly")
    if args.quick:
        keep = train.unique_id.unique()[:40]
        train, test = train[train.unique_id.isin(keep)], test[test.unique_id.isin(keep)]
    budget = {"max_steps": 100} if args.quick else {}
    networks = {
        cls.__name__.removesuffix("Forecaster"): cls(
            horizon=H, season=SEASON, random_state=0, **budget
        )
        for cls in (LSTMForecaster, GRUForecaster, RNNForecaster)
    }
    start = time.perf_counter()
    result = backtest(networks, m4_history(train, test), H, n_windows=1, season=SEASON)
    wall = time.perf_counter() - start

    # The baselines' saved forecasts, checked to be the same series, steps and actuals.
    saved = pd.read_csv(BASELINES / "forecasts.csv", dtype={"unique_id": str})
    manifest = json.loads((BASELINES / "manifest.json").read_text())
    frame = result.forecasts
    joined = frame[[*KEYS, "y"]].merge(saved, on=KEYS, how="left", suffixes=("", "_saved"))
    if joined["y_saved"].isna().any() or not (joined["y"] == joined["y_saved"]).all():
        raise SystemExit(f"{BASELINES}: its forecasts are not of the same series and actuals")
    baselines = [m for m in manifest["models"] if m in saved.columns]
    for name in baselines:
        frame[name] = joined[name].to_numpy()
        result.models.append(name)
        model = registry.build(REGISTRY_NAME[name], season=SEASON)
        result.model_info[name] = _model_info(model)
    saved_timings = pd.DataFrame(manifest["timings"]).set_index("model").loc[baselines]
    timings = saved_timings.reset_index().assign(threads=pd.NA)
    result.timings = pd.concat([result.timings, timings], ignore_index=True)

    scores = m4_scores(frame, test, train, season=SEASON, models=result.models)
    lines = ["| model | sMAPE | MASE | OWA | fit + forecast s |", "|---|---:|---:|---:|---:|"]
    seconds = result.timings.set_index("model")
    for row in scores.sort_values("owa").itertuples():
        took = seconds.loc[row.model, "fit_s"] + seconds.loc[row.model, "predict_s"]
        lines.append(
            f"| {row.model} | {row.smape:.3f} | {row.mase:.3f} | {row.owa:.3f} | {took:.1f} |"
        )
    lines.append(
        f"\nnetworks trained here ({wall:.0f} s); the baselines' forecasts and seconds from "
        f"`{manifest['command']}` ({manifest['created']})"
    )
    table = "\n".join(lines)
    print(table)

    folder = ROOT / (args.report_dir or "reports/m4-hourly-all" + ("-quick" if args.quick else ""))
    command = shlex.join(["python", "benchmarks/m4_report.py", *sys.argv[1:]])
    path = write_report(
        result,
        folder,
        command=command,
        seed=0,
        title="M4 Hourly (test): every baseline and three networks",
        extra_files=benchmark_note(command, wall, table),
        force=True,
    )
    print(f"report: {path}")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium and not args.quick:
        shot = folder.with_suffix(".png")
        subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--window-size=1100,8200",  # the whole page, forecasts included
                f"--screenshot={shot}",
                (folder / "report.html").as_uri(),
            ],
            check=True,
            capture_output=True,
        )
        print(f"screenshot: {shot}")


if __name__ == "__main__":
    main()
