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
