"""M4 Hourly: tsrnn's Naive, SeasonalNaive and Naive2 against the official forecasts and scores.

The reference is the M4 organisers' own: their submitted benchmark forecasts and the scores in
their evaluation workbook (``../shared/datasets/M4``, see its README.md and PUBLISHED.md).
Forecasts agree to ``rtol=1e-6``; the submission files hold about 10 significant digits, and
tsrnn keeps values in float64, so the Naive2 forecasts agree to about 5e-10.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tsrnn.datasets import read_m4
from tsrnn.evaluate.metrics import mase, owa, smape
from tsrnn.models.stats.naive import Naive, Naive2, SeasonalNaive

M4 = Path(__file__).resolve().parents[3].parent / "shared" / "datasets" / "M4"
if not (M4 / "Hourly-train.csv").exists():
    pytest.skip(
        f"M4 data not found at {M4}: these tests need the shared M4 folder beside the repository",
        allow_module_level=True,
    )

H, M = 48, 24
# Published Hourly (sMAPE, MASE, OWA): "Evaluation and Ranks.xlsx", Point Forecasts-Frequency.
PUBLISHED = {
    "Naive": (43.003, 11.608, 3.593),
    "sNaive": (13.912, 1.193, 0.627),
    "Naive2": (18.383, 2.395, 1.000),
}
MODELS = {
    "Naive": Naive(),
    "sNaive": SeasonalNaive(season=M),
    "Naive2": Naive2(season=M),  # read_m4 has integer time: no frequency to take m from
}


@pytest.fixture(scope="module")
def hourly() -> dict[str, object]:
    """Train/test as (414, ...) arrays in the official files' order, and each model's forecast."""
    train, test = read_m4(M4, "Hourly")
    ids = pd.Index(train["unique_id"].unique())
    forecasts = {}
    for key, model in MODELS.items():
        out = model.fit(train).predict(H)
        # Forecasts fall on the test file's steps, series for series.
        merged = test.merge(out, on=["unique_id", "ds"], how="left", validate="one_to_one")
        assert merged[model.name].notna().all()
        forecasts[key] = merged[model.name].to_numpy().reshape(len(ids), H)
    return {
        "ids": ids,
        "actual": test["y"].to_numpy().reshape(len(ids), H),
        "insample": _left_padded(train, ids),
        "forecasts": forecasts,
        "naive2": MODELS["Naive2"],
    }


def _left_padded(frame: pd.DataFrame, ids: pd.Index) -> np.ndarray:
    """One row per series, the values right-aligned and padded with NaN at the start."""
    row = ids.get_indexer(frame["unique_id"])
    lengths = np.bincount(row)
    width = lengths.max()
    out = np.full((len(ids), width), np.nan)
    col = width - lengths[row] + frame.groupby("unique_id", sort=False).cumcount().to_numpy()
    out[row, col] = frame["y"].to_numpy()
    return out


@pytest.mark.parametrize("key", list(MODELS))
def test_forecasts_match_the_official_submission(hourly, key):
    official = pd.read_csv(M4 / "forecasts" / f"Hourly-submission-{key}.csv", index_col=0)
    assert official.index.equals(hourly["ids"])
    np.testing.assert_allclose(hourly["forecasts"][key], official.to_numpy(), rtol=1e-6, atol=0)


def test_naive2_finds_all_hourly_series_seasonal_but_one(hourly):
    model = hourly["naive2"]
    assert model.ids_[~model.seasonal_].tolist() == ["H272"]


def scores(hourly, key: str) -> tuple[float, float]:
    actual, forecast = hourly["actual"], hourly["forecasts"][key]
    per_series_mase = mase(actual, forecast, insample=hourly["insample"], season=M)
    return float(np.mean(smape(actual, forecast, axis=1))), float(np.mean(per_series_mase))


@pytest.mark.parametrize("key", list(MODELS))
def test_scores_match_the_published_table(hourly, key):
    smape_value, mase_value = scores(hourly, key)
    published_smape, published_mase, published_owa = PUBLISHED[key]
    assert smape_value == pytest.approx(published_smape, abs=5e-4)
    assert mase_value == pytest.approx(published_mase, abs=5e-4)
    # OWA from the averages rounded to 3 decimals, relative to Naive2 (as the workbook does).
    owa_value = owa(smape_value, mase_value, *scores(hourly, "Naive2"))
    assert owa_value == pytest.approx(published_owa, abs=5e-4 + 1e-12)
