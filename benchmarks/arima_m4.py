"""Automatic ARIMA on M4 Hourly: accuracy (sMAPE, MASE, OWA, MSIS) and wall-clock time.

Fits ``tsrnn.models.stats.arima.ARIMA(season=24)`` to every (or every k-th) M4 Hourly series, forecasts
the 48 test hours and scores them as the M4 organisers did; OWA is relative to the official
Naive2 forecasts of the same series. ``--reference`` also times a fixed statsmodels
SARIMA(1,1,1)(0,1,1,24) per series (statsmodels' defaults) on the same series.

ARIMA runs as a one-window backtest of h = 48 on train + test (the M4 protocol exactly), beside
tsrnn's Naive2, and the report of that backtest goes to ``reports/m4-hourly-arima/`` with the
printed table in ``benchmark.md`` (the SARIMA reference is in the table only).

    python benchmarks/arima_m4.py                      # all 414 series, n_jobs=2
    python benchmarks/arima_m4.py --method css         # the fast CSS fit (a few minutes)
    python benchmarks/arima_m4.py --series 40 --reference --method css --method ml
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

# A sibling script: benchmarks/ is on the path of a script run from it.
from baselines import benchmark_note, m4_history
from joblib import Parallel, delayed

from tsrnn.datasets import read_m4
from tsrnn.evaluate.backtest import backtest
from tsrnn.evaluate.metrics import mase, msis, owa, smape
from tsrnn.models.stats.arima import ARIMA, MIN_ROOT, ARIMAFit, Spec, _admissible
from tsrnn.models.stats.naive import Naive2
from tsrnn.report.backtest_report import write_report

ROOT = Path(__file__).resolve().parents[1]
M4 = ROOT.parent / "shared" / "datasets" / "M4"
H, M = 48, 24
QUANTILES = [0.025, 0.975]  # the 95 % interval of MSIS


class KeptARIMA(ARIMA):
    """ARIMA that keeps its fitted instances: the backtest fits a clone and returns only the
    forecasts, and the orders and roots printed below are the fitted model's."""

    fitted: ClassVar[list[ARIMA]] = []

    def fit(self, y: Any, X: Any = None) -> KeptARIMA:
        super().fit(y, X)
        KeptARIMA.fitted.append(self)
        return self


def reference_sarima(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SARIMA(1,1,1)(0,1,1,24) with statsmodels' defaults: mean and 95 % interval bounds."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = SARIMAX(y, order=(1, 1, 1), seasonal_order=(0, 1, 1, M)).fit(disp=False)
        forecast = fit.get_forecast(H)
        interval = forecast.conf_int(alpha=0.05)
    return np.asarray(forecast.predicted_mean), np.asarray(interval)


def near_unit_ma(model: ARIMA) -> int:
    """Series whose fitted model has an MA root the search would have rejected."""
    count = 0
    for state in model.states_:
        if isinstance(state, ARIMAFit) and state.params is not None:
            (p, _, q), (P, _, Q, _) = state.order, state.seasonal_order
            coef = state.params[int(state.constant) : -1]
            spec = Spec(p, q, P, Q, state.constant)
            count += _admissible(spec, coef, ma=False) and not _admissible(spec, coef)
    return count


def score(name: str, seconds: float, mean, lower, upper, actual, insample, naive2) -> dict:
    s = np.mean([smape(a, f) for a, f in zip(actual, mean, strict=True)])
    m = np.mean([mase(a, f, x, M) for a, f, x in zip(actual, mean, insample, strict=True)])
    s2 = np.mean([smape(a, f) for a, f in zip(actual, naive2, strict=True)])
    m2 = np.mean([mase(a, f, x, M) for a, f, x in zip(actual, naive2, insample, strict=True)])
    bounds = zip(actual, lower, upper, insample, strict=True)
    interval = np.mean([msis(a, lo, hi, x, M) for a, lo, hi, x in bounds])
    return {
        "method": name,
        "series": len(actual),
        "seconds": round(seconds, 1),
        "s/series": round(seconds / len(actual), 2),
        "sMAPE": round(s, 3),
        "MASE": round(m, 3),
        "OWA": round(owa(s, m, s2, m2, decimals=None), 3),
        "MSIS": round(interval, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--series", type=int, default=414, help="every k-th series, about this many"
    )
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--method", action="append", choices=["ml", "css"], help="default: ml")
    parser.add_argument("--max-length", type=int, default=None)
    parser.add_argument("--maxiter", type=int, default=50, help="L-BFGS iterations (method ml)")
    parser.add_argument("--reference", action="store_true", help="also SARIMA(1,1,1)(0,1,1,24)")
    parser.add_argument("--m4", type=Path, default=M4)
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=ROOT / "reports" / "m4-hourly-arima",
        help="default: reports/m4-hourly-arima",
    )
    args = parser.parse_args()
    start_all = time.perf_counter()
    command = shlex.join(["python", "benchmarks/arima_m4.py", *sys.argv[1:]])

    train, test = read_m4(args.m4, "Hourly")
    ids = train["unique_id"].unique()
    ids = sorted(ids[:: max(1, len(ids) // args.series)][: args.series])  # the Panel's order
    train = train[train["unique_id"].isin(ids)]
    test = test[test["unique_id"].isin(ids)]
    insample = [g["y"].to_numpy() for _, g in train.groupby("unique_id")]
    actual = np.stack([g["y"].to_numpy() for _, g in test.groupby("unique_id")])
    naive2 = pd.read_csv(args.m4 / "forecasts" / "Hourly-submission-Naive2.csv", index_col=0)
    naive2 = naive2.loc[ids].to_numpy(dtype=np.float64)[:, :H]

    rows = []
    if args.reference:
        start = time.perf_counter()
        out = Parallel(n_jobs=args.n_jobs)(delayed(reference_sarima)(y) for y in insample)
        seconds = time.perf_counter() - start
        mean = np.stack([o[0] for o in out])
        lower, upper = np.stack([o[1][:, 0] for o in out]), np.stack([o[1][:, 1] for o in out])
        rows.append(
            score("SARIMA(1,1,1)(0,1,1,24)", seconds, mean, lower, upper, actual, insample, naive2)
        )
    methods = args.method or ["ml"]
    models = {
        f"ARIMA({method})": KeptARIMA(
            season=M,
            method=method,
            max_length=args.max_length,
            maxiter=args.maxiter,
            n_jobs=args.n_jobs,
        )
        for method in methods
    }
    # The M4 protocol as a one-window backtest: fit on the train steps, forecast the 48 test
    # steps; tsrnn's Naive2 beside it is the report's reference (the table's is the official).
    result = backtest(
        {**models, "Naive2": Naive2(season=M)},
        m4_history(train, test),
        H,
        n_windows=1,
        quantiles=QUANTILES,
        season=M,
    )
    forecasts = result.forecasts
    if list(forecasts["unique_id"].unique()) != ids or len(forecasts) != len(ids) * H:
        raise RuntimeError("arima_m4: the backtest did not forecast the test steps of each series")
    timings = result.timings.set_index("model")
    for column, method, model in zip(models, methods, KeptARIMA.fitted, strict=True):
        assert list(model.ids_) == ids
        fit_s, predict_s = timings.loc[column, ["fit_s", "predict_s"]]
        wide = [
            forecasts[c].to_numpy().reshape(len(ids), H)
            for c in (column, *(f"{column}-q{q}" for q in QUANTILES))
        ]
        name = f"ARIMA(method={method!r}, max_length={args.max_length}, maxiter={args.maxiter})"
        row = score(name, fit_s + predict_s, *wide, actual, insample, naive2)
        row["predict s"] = round(predict_s, 1)
        row["fallbacks"] = int((result.fallbacks["model"] == column).sum())
        rows.append(row)
        orders = model.orders_
        seasonal = orders["seasonal_order"].dropna()
        print(
            f"{name}: D=1 in {sum(s[1] for s in seasonal)}/{len(orders)}, "
            f"mean models tried {orders['n_models'].mean():.1f}, "
            f"P=2 in {sum(s[0] == 2 for s in seasonal)}, Q=2 in {sum(s[2] == 2 for s in seasonal)}, "
            f"an MA root within {MIN_ROOT} of the unit circle in {near_unit_ma(model)}"
        )
        # The report scores the same forecasts on the same in-sample scale as the table.
        report = result.metrics(["smape", "mase"]).set_index("model").loc[column]
        if not np.allclose([report.smape, report.mase], [row["sMAPE"], row["MASE"]], atol=5e-4):
            raise RuntimeError(f"arima_m4: the report's sMAPE/MASE differ for {column}: {report}")
    table = pd.DataFrame(rows).astype(object).fillna("").astype(str)
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(row) + " |" for row in table.itertuples(index=False)]
    text = "\n".join(lines)
    print(text)

    n = len(ids)
    wall = time.perf_counter() - start_all
    write_report(
        result,
        args.report_dir,
        command=command,
        reference="Naive2",
        seed=None,  # the search and the fits are deterministic
        title=f"M4 Hourly: automatic ARIMA ({', '.join(methods)}; {n} series) against Naive2",
        extra_files=benchmark_note(command, wall, text),
    )
    print(f"\nreport in {args.report_dir}; wall {wall / 60:.1f} min")


if __name__ == "__main__":
    main()
