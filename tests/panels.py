"""Panels for tests, built exactly as given."""

import numpy as np
import pandas as pd

from tsrnn import Panel


def make_panel(series, freq=1):
    """A Panel exactly as given: leading and trailing gaps kept (``Panel.from_arrays`` trims)."""
    rows = [np.asarray(s, dtype=np.float64) for s in series]
    values = np.concatenate(rows)
    return Panel(
        values=values,
        observed=~np.isnan(values),
        offsets=np.concatenate([[0], np.cumsum([len(r) for r in rows])]),
        ids=[f"s{i}" for i in range(len(rows))],
        starts=pd.Index(np.zeros(len(rows), dtype=np.int64)),
        freq=freq,
    )


def ragged_air():
    """Two ragged monthly series, one with a gap: air passengers and a shorter, later copy
    (the models' contract data, and the conformal wrapper's)."""
    from tsrnn import datasets

    air = datasets.load("air_passengers")
    tail = air.iloc[60:].assign(unique_id="Later", y=lambda d: d.y * 0.5 + 10)
    tail.loc[tail.index[20:23], "y"] = np.nan
    return pd.concat([air, tail], ignore_index=True)


def trends(n_series, length=40, season=0.0, ragged=False):
    """Monthly trends at levels from 10 to 10^5 (slopes of 0.5-2 % a month), times a yearly
    sine of amplitude ``season``; ``ragged``: series ``i`` is ``length + i % 10`` long.

    A damped trend forecasts the straight ones closely; a network of a few steps (its naive
    blend) lags them by a slope a step (the partners' tests)."""
    rng = np.random.default_rng(0)
    frames = []
    for i in range(n_series):
        n = length + (i % 10 if ragged else 0)
        t = np.arange(n)
        level = 10.0 ** rng.uniform(1, 5)
        y = level * (1 + rng.uniform(0.005, 0.02) * t) * (1 + season * np.sin(2 * np.pi * t / 12))
        frames.append(
            pd.DataFrame(
                {
                    "unique_id": f"s{i:03d}",
                    "ds": pd.date_range("2000-01-01", periods=n, freq="MS"),
                    "y": y,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
