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
