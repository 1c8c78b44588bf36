"""The neural estimators on a GPU: mixed-precision training, windows gathered on the device, no host
synchronization per step, and a GPU-trained model that loads and forecasts on the CPU.

Skipped without CUDA (CI has none); run on a machine with a GPU: ``pytest tests/test_neural_gpu.py``.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch

import tsrnn
from tsrnn import datasets
from tsrnn.models.neural import GRUForecaster, LSTMForecaster, NeuralForecaster
from tsrnn.models.stats.naive import SeasonalNaive

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.fixture(scope="module")
def beijing():
    data = datasets.load("beijing_pm25")[["unique_id", "ds", "y"]]
    return data[data.ds > data.ds.max() - pd.Timedelta(days=120)].reset_index(drop=True)


@pytest.mark.parametrize("precision", ["auto", "bf16"])
def test_the_gpu_trains_in_mixed_precision_and_still_learns(beijing, precision):
    """ "auto" takes the GPU in float16 with loss scaling; "bf16" (torch's bfloat16 autocast,
    cuDNN's LSTM still in float16, its gradients unscaled) learns as well."""
    cut = beijing.ds.max() - pd.Timedelta(days=7)
    model = LSTMForecaster(
        horizon=24,
        input_size=72,
        hidden_size=32,
        max_steps=250,
        lr=3e-3,
        batch_size=128,
        precision=precision,
    )
    model.fit(beijing[beijing.ds <= cut])
    expected = "fp16" if precision == "auto" else precision
    assert model.plan_.device.startswith("cuda") and model.plan_.precision == expected
    assert next(model.net_.parameters()).is_cuda
    lstm, naive = [], []
    for day in range(7):
        origin = cut + pd.Timedelta(days=day)
        history = beijing[beijing.ds <= origin]
        actual = beijing[(beijing.ds > origin) & (beijing.ds <= origin + pd.Timedelta(hours=24))]
        for frame, column, out in (
            (model.predict(24, y=history), "LSTM", lstm),
            (SeasonalNaive().fit(history).predict(24), "SeasonalNaive", naive),
        ):
            joined = frame.merge(actual, on=["unique_id", "ds"])
            out.append(np.nanmean(np.abs(joined[column] - joined.y)))
    assert np.mean(lstm) < 0.8 * np.mean(naive), (lstm, naive)


@pytest.mark.parametrize(
    "cell, options",
    [
        ("rnn", {}),
        ("gru", {}),
        ("lstm", {}),  # the defaults: the naive inputs and the skip
        ("lstm", {"head": "recursive"}),
        ("lstm", {"forecasts_per_window": 4}),
    ],
)
def test_training_steps_never_wait_for_the_device(beijing, cell, options):
    """Host synchronizations happen at reports only: as many for 60 steps as for 20."""

    def syncs(steps: int) -> int:
        model = NeuralForecaster(
            cell=cell,
            horizon=24,
            hidden_size=32,
            max_steps=steps,
            val_every=steps,
            val_size=0,
            batch_size=256,
            **options,
        )
        torch.cuda.set_sync_debug_mode("warn")
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                model.fit(beijing)
        finally:
            torch.cuda.set_sync_debug_mode("default")
        return sum("synchroniz" in str(w.message) for w in caught)

    assert syncs(60) == syncs(20)


def test_a_gpu_model_loads_on_the_cpu_with_the_same_forecasts(beijing, tmp_path):
    model = GRUForecaster(horizon=24, hidden_size=16, max_steps=50, loss="quantile")
    model.fit(beijing)
    on_gpu = model.predict(24, quantiles=[0.1, 0.9])
    path = tmp_path / "gru.tsrnn"
    model.save(path)
    on_cpu = tsrnn.load(path, device="cpu")
    assert on_cpu.plan_.device == "cpu" and on_cpu.plan_.precision == "fp32"
    cpu_fc = on_cpu.predict(24, quantiles=[0.1, 0.9])
    # float32 forecasts on both, TF32 kernels on the GPU: close, not bit-equal
    cols = ["GRU", "GRU-q0.1", "GRU-q0.9"]
    np.testing.assert_allclose(cpu_fc[cols], on_gpu[cols], rtol=0.05, atol=2.0)
