"""M3: tsrnn's Naive2 against the M3 organisers' own NAIVE2 forecasts, series by series.

On the yearly series (no season to adjust) the two are the same method, and tsrnn reproduces
every official forecast. On quarterly and monthly series the M3 organisers decided
seasonality differently from the M4 test tsrnn follows (``benchmarks/m3_baselines.py``; the
M4 one reproduces M4 exactly, ``test_naive_m4.py``), so there the check is the score.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tsrnn.datasets import read_m3
from tsrnn.evaluate.metrics import smape
from tsrnn.models.stats.naive import Naive2

M3 = Path(__file__).resolve().parents[3].parent / "shared" / "datasets" / "M3"
if not (M3 / "Yearly-train.csv").exists():
    pytest.skip(
        f"M3 data not found at {M3}: these tests need the shared M3 folder beside the repository",
        allow_module_level=True,
    )


def official(ids: np.ndarray, h: int) -> np.ndarray:
    table = pd.read_csv(M3 / "M3-published-forecasts.csv.gz")
    rows = table[table.method == "NAIVE2"].set_index("id").reindex(ids)
    return rows[[f"F{k}" for k in range(1, h + 1)]].to_numpy(np.float64)


def test_naive2_reproduces_every_official_yearly_forecast():
    train, _ = read_m3(M3, "Yearly")
    forecast = Naive2().fit(train).predict(6)
    ids = forecast.unique_id.unique()
    ours = forecast.Naive2.to_numpy().reshape(len(ids), 6)
    assert len(ids) == 645
    np.testing.assert_allclose(ours, official(ids, 6), rtol=1e-6)


@pytest.mark.parametrize("period, h, ours, theirs", [("Quarterly", 8, 10.029, 9.951)])
def test_naive2_scores_where_the_seasonality_decisions_differ(period, h, ours, theirs):
    train, test = read_m3(M3, period)
    forecast = Naive2().fit(train).predict(h)
    y = test.y.to_numpy().reshape(-1, h)
    f = forecast.Naive2.to_numpy().reshape(-1, h)
    assert forecast.unique_id.unique().tolist() == test.unique_id.unique().tolist()
    assert smape(y, f) == pytest.approx(ours, abs=5e-4)
    ref = official(forecast.unique_id.unique(), h)
    assert smape(y, ref) == pytest.approx(theirs, abs=5e-4)
