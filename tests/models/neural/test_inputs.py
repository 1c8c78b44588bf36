"""What the network trains on, per series: the relative loss's series weights, and the spread
that window normalization falls back on."""

import numpy as np
import pandas as pd

from tsrnn.data import windows
from tsrnn.data.panel import as_panel
from tsrnn.models.neural.inputs import (
    CONSTANT_SPREAD,
    MIN_WEIGHT,
    series_spread,
    series_weights,
    spread_out,
)


def panel_of(columns):
    rows = [
        pd.DataFrame({"unique_id": name, "ds": np.arange(len(values)), "y": values})
        for name, values in columns.items()
    ]
    return as_panel(pd.concat(rows, ignore_index=True))


def reference(values, end, window):
    """One series, step by step: the mean over windows ending at each observed training
    point (with at least max(3, window // 2) observed values) of sd / |mean|, 1 where the
    mean is not above the sd; 1 without a window; clipped to [MIN_WEIGHT, 1]."""
    v = np.asarray(values[:end], dtype=np.float64)
    ratios = []
    for p in range(len(v)):
        seen = v[max(0, p - window + 1) : p + 1]
        seen = seen[~np.isnan(seen)]
        if np.isnan(v[p]) or len(seen) < max(3, window // 2):
            continue
        level, sd = abs(seen.mean()), seen.std()
        ratios.append(sd / level if level > sd else 1.0)
    return float(np.clip(np.mean(ratios) if ratios else 1.0, MIN_WEIGHT, 1.0))


def test_series_weigh_by_their_windows_spread_over_their_level(monkeypatch):
    """Issue 27: each series' weight in the relative loss is the mean over its training
    windows of their spread over their level: as a plain loop computes it, over gaps and only
    up to ``end``; the same for a series ten million times larger; 1 around 0; the floor for
    a constant series; and the same when the panel is read in small chunks."""
    rng = np.random.default_rng(0)
    level = 100 + np.arange(40.0)  # a trend the windows' spread holds little of
    noisy = level + rng.normal(0, 20, 40)
    gappy = level * (1 + 0.05 * np.sin(np.arange(40)))
    gappy[[3, 4, 17]] = np.nan
    columns = {
        "a": noisy,
        "b": noisy * 1e7,
        "c": rng.normal(0, 3, 40),  # around 0
        "d": np.full(40, 5.0),  # constant
        "e": gappy,
        "f": [1.0, 2.0, np.nan, 4.0, 5.0],  # too short for a window of 8 at end 3
    }
    panel = panel_of(columns)
    end = np.array([30, 30, 40, 40, 35, 3])
    got = series_weights(panel, end, (), 8)
    assert got.shape == (6, 1) and got.dtype == np.float32
    expect = [reference(columns[s], e, 8) for s, e in zip(panel.ids, end, strict=True)]
    np.testing.assert_allclose(got[:, 0], expect, rtol=1e-5)
    assert got[0, 0] == got[1, 0] and 0.1 < got[0, 0] < 0.3
    assert got[2, 0] > 0.95 and got[3, 0] == np.float32(MIN_WEIGHT) and got[5, 0] == 1.0
    monkeypatch.setattr(windows, "CHUNK", 50)  # about a series a chunk
    np.testing.assert_array_equal(series_weights(panel, end, (), 8), got)


def test_validation_windows_beyond_the_cap_are_a_sample_spread_over_the_series():
    # one origin in each of 50 series: a cap of 10 keeps 10 series, from the first to the last
    origins = windows.Origins.from_arrays(np.arange(50), np.full(50, 7), n_series=50)
    kept = spread_out(origins, 10)
    assert len(kept) == 10 and kept.series.tolist() == [0, 5, 11, 16, 22, 27, 33, 38, 44, 49]
    assert set(kept.pos.tolist()) == {7} and len(kept.bounds) == 51
    assert spread_out(origins, 50) is origins  # no more than the cap: all of them


def test_a_series_of_one_number_falls_back_on_a_spread_of_almost_nothing():
    """Window normalization multiplies the network's output by this spread where a window has
    none of its own: almost nothing for a series of one number (exactly, or up to rounding, as
    0.1 is), so its forecast stays on that number; 1 where it is undefined (one value) or where
    the series leaves its number after the span read (its validation tail)."""
    leaves = np.r_[np.full(30, 0.1), [0.2, 0.4]]
    gappy = np.full(32, 7.0)
    gappy[[2, 9]] = np.nan
    columns = {
        "a": np.arange(32.0),
        "b": np.full(32, 0.1),
        "c": np.zeros(32),
        "d": gappy,
        "e": np.r_[[4.0], np.full(31, np.nan)],
        "f": leaves,
        "g": 1e-10 * np.random.default_rng(0).normal(size=32),  # tiny, not flat
    }
    panel = panel_of(columns)
    end = np.full(7, 30)
    got = series_spread(panel, end, ())[:, 0]
    assert got[0] == np.float32(np.arange(30.0).std())
    np.testing.assert_array_equal(got[1:4], np.float32(CONSTANT_SPREAD))
    assert got[4] == 1.0 and got[5] == 1.0 and 1e-11 < got[6] < 1e-9
    # read to their ends, the series that leaves its number has a spread of its own
    whole = series_spread(panel, panel.lengths, ())[:, 0]
    assert whole[5] == np.float32(leaves.std()) and whole[1] == np.float32(CONSTANT_SPREAD)
