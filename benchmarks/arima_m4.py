"""Automatic ARIMA on M4 Hourly: accuracy (sMAPE, MASE, OWA, MSIS) and wall-clock time.

Fits ``tsrnn.models.arima.ARIMA(season=24)`` to every (or every k-th) M4 Hourly series, forecasts
the 48 test hours and scores them as the M4 organisers did; OWA is relative to the official
Naive2 forecasts of the same series. ``--reference`` also times a fixed statsmodels
SARIMA(1,1,1)(0,1,1,24) per series (statsmodels' defaults) on the same series.

    python benchmarks/arima_m4.py                      # all 414 series, n_jobs=2
    python benchmarks/arima_m4.py --series 40 --reference --method css --method ml
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from tsrnn.datasets import read_m4
from tsrnn.evaluate.metrics import mase, msis, owa, smape
from tsrnn.models.arima import ARIMA, MIN_ROOT, ARIMAFit, Spec, _admissible

M4 = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "M4"
H, M = 48, 24


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
    args = parser.parse_args()

    train, test = read_m4(args.m4, "Hourly")
    ids = train["unique_id"].unique()
    ids = sorted(ids[:: max(1, len(ids) // args.series)][: args.series])  # the Panel's order
    train = train[train["unique_id"].isin(ids)]
    insample = [g["y"].to_numpy() for _, g in train.groupby("unique_id")]
    actual = np.stack(
        [g["y"].to_numpy() for _, g in test[test["unique_id"].isin(ids)].groupby("unique_id")]
    )
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
    for method in args.method or ["ml"]:
        model = ARIMA(
            season=M,
            method=method,
            max_length=args.max_length,
            maxiter=args.maxiter,
            n_jobs=args.n_jobs,
        )
        start = time.perf_counter()
        model.fit(train)
        fitted = time.perf_counter()
        forecast = model.predict(H, quantiles=[0.025, 0.975])
        assert list(model.ids_) == ids
        seconds = time.perf_counter() - start
        wide = {c: forecast[c].to_numpy().reshape(len(ids), H) for c in forecast.columns[2:]}
        name = f"ARIMA(method={method!r}, max_length={args.max_length}, maxiter={args.maxiter})"
        row = score(name, seconds, *wide.values(), actual, insample, naive2)
        row["predict s"] = round(seconds - (fitted - start), 1)
        row["fallbacks"] = len(model.fallbacks_)
        rows.append(row)
        orders = model.orders_
        seasonal = orders["seasonal_order"].dropna()
        print(
            f"{name}: D=1 in {sum(s[1] for s in seasonal)}/{len(orders)}, "
            f"mean models tried {orders['n_models'].mean():.1f}, "
            f"P=2 in {sum(s[0] == 2 for s in seasonal)}, Q=2 in {sum(s[2] == 2 for s in seasonal)}, "
            f"an MA root within {MIN_ROOT} of the unit circle in {near_unit_ma(model)}"
        )
    table = pd.DataFrame(rows).astype(object).fillna("").astype(str)
    print("| " + " | ".join(table.columns) + " |")
    print("|" + "---|" * len(table.columns))
    for row in table.itertuples(index=False):
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
