"""Memory of the Theta input (``theta_input``): what the default LSTM's fit holds for it.

The Theta input keeps ``horizon`` numbers a point (Theta's forecast from each point), so on a
large panel it outweighs the series themselves. ``params.THETA_VALUES`` turns it off by default
beyond 25 million such numbers, "about 0.5 GB" (20 bytes a number: the imputed panel's float64,
its scaled float64 copy and the windows' float32 rows). This script measures that claim: one
synthetic monthly panel (M4 Monthly's kind: trend, season and a random-walk level per series),
the default ``LSTMForecaster(horizon=18)`` fitted for a few steps with the input on and off,
each in a fresh process, and the peak resident set size (RSS) of each. ``bytes a number`` is
the difference over ``points x horizon``; the script exits with status 1 where it exceeds
:data:`LIMIT`::

    python benchmarks/theta_memory.py            # 12,000 series x 216 points (2.6M points)
    python benchmarks/theta_memory.py --quick    # 3,000 series

The training steps are few (``max_steps`` 20, one validation): the memory is the data's, not
the training's, and the time is the preparation's (Theta's paths, the windows).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

HORIZON = 18
LIMIT = 24.0  # bytes a number above which the claim (about 20) no longer holds


def child(series: int, length: int, theta: bool) -> None:
    """Fit in this process and print one JSON line: seconds, peak RSS, the plan's choice."""
    import numpy as np
    import pandas as pd

    from tsrnn.models.neural import LSTMForecaster

    rng = np.random.default_rng(0)
    t = np.arange(length)
    level = rng.lognormal(8, 1, (series, 1))
    trend = rng.normal(0, 0.003, (series, 1))
    amplitude = rng.uniform(0, 0.3, (series, 1))
    phase = rng.uniform(0, 2 * np.pi, (series, 1))
    y = level * (1 + trend * t) * (1 + amplitude * np.sin(2 * np.pi * t / 12 + phase))
    y *= np.exp(np.cumsum(rng.normal(0, 0.03, (series, length)), axis=1))
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(np.arange(series), length),
            "ds": np.tile(pd.date_range("1990-01-01", periods=length, freq="MS"), series),
            "y": y.ravel(),
        }
    )
    del y
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    model = LSTMForecaster(
        horizon=HORIZON, max_steps=20, val_every=20, random_state=0, theta_input=theta
    ).fit(frame)
    fit_s = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    record = {"fit_s": fit_s, "peak_mb": peak, "before_mb": before, "points": len(frame)}
    record["theta"] = bool(model.plan_.theta_input)
    print(json.dumps(record))


def measure(series: int, length: int, theta: bool) -> dict:
    command = [sys.executable, __file__, "--child", str(series), str(length), str(int(theta))]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3,000 series")
    parser.add_argument("--series", type=int, default=None, help="default 12,000 (quick: 3,000)")
    parser.add_argument(
        "--length", type=int, default=216, help="points a series (M4 Monthly's mean)"
    )
    parser.add_argument("--child", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], bool(args.child[2]))
        return 0
    series = args.series or (3_000 if args.quick else 12_000)
    off, on = (measure(series, args.length, theta) for theta in (False, True))
    assert on["theta"] and not off["theta"], "theta_input was not what the run asked for"
    numbers = on["points"] * HORIZON
    per = (on["peak_mb"] - off["peak_mb"]) * 2**20 / numbers
    print(f"{series:,} monthly series x {args.length} points ({on['points']:,}), h = {HORIZON}:")
    print(f"the Theta input: {numbers:,} numbers ({numbers * 8 / 2**20:,.0f} MB in float64)\n")
    print("| theta_input | peak RSS MB | fit s (20 steps) |")
    print("|---|---:|---:|")
    for name, row in (("off", off), ("on", on)):
        print(f"| {name} | {row['peak_mb']:,.0f} | {row['fit_s']:.1f} |")
    print(f"\n{per:.1f} bytes a number of the Theta input (limit {LIMIT:g})")
    return 0 if per <= LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
