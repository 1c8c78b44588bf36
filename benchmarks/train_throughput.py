"""Training throughput of NeuralForecaster.fit against a raw torch loop: prints a table.

For each cell (rnn, gru, lstm) and each configuration

- B=1024, L=96,  H=48, hidden 128, 2 layers
- B=256,  L=168, H=48, hidden 64,  2 layers

it measures the training windows/s of ``NeuralForecaster.fit`` on a synthetic hourly panel
(200 series x 2,000 points, 10% missing: the real window gathering, imputation, scaling and
window normalization run) and of a raw loop feeding pre-built tensors of the same shapes to the
same network (``RecurrentNet(model.config_)``: AdamW (fused on CUDA), forward, MSE, backward,
clip 1.0, step; with ``--precision fp16``, the default on CUDA, float16 autocast and a
GradScaler, with ``bf16`` bfloat16 autocast, as ``fit`` sets them up; fp32 on the CPU
unless asked), and of the plainest hand-written torch loop at equal shapes (``nn.LSTM`` over
the same input width, a linear layer from the last state to the horizon, MSE, AdamW,
clipping: "plain torch", the issue 24 reference; target fit/plain >= 0.95). All are timed over
intervals of ``--interval`` steps after one warm-up interval (for fit: the ``windows_per_s`` of
``history_`` rows after the first, so building the Windows is excluded) and report the median
interval. Target: fit >= 0.9x the raw loop, on the CPU and on a GPU. ``fit s`` is fit's whole
wall time, build included.

Steps default by device (CPU: 4 intervals of 10 steps, about 8 minutes on 2 quiet cores,
``--cells lstm`` about 3; 5-step intervals varied by +-0.1 in the ratios;
CUDA: 4 intervals of 25; ``--quick``: 2 intervals of 3 on the CPU, the small config only, about
15 s; its ratios are noisy). On a shared CPU, RNN and GRU (one small matmul per time step and a
thread barrier each) slow down many-fold when another process takes a core: use ``--threads 1``
there, and compare fit and raw from the same run only.

Usage::

    python benchmarks/train_throughput.py                     # full run
    python benchmarks/train_throughput.py --quick             # small config only, few steps
    python benchmarks/train_throughput.py --cells lstm --device cuda --interval 50
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from tsrnn.data.panel import Panel
from tsrnn.models.neural import NeuralForecaster
from tsrnn.models.neural.losses import compute_loss
from tsrnn.models.neural.nets import RecurrentNet
from tsrnn.models.neural.training import mixed_precision


@dataclass(frozen=True)
class Setup:
    batch: int
    input_size: int
    horizon: int
    hidden: int
    layers: int


CONFIGS = (Setup(1024, 96, 48, 128, 2), Setup(256, 168, 48, 64, 2))


def make_panel(n_series: int, length: int, missing: float, seed: int = 0) -> Panel:
    """Hourly series: a daily cycle plus noise, ``missing`` of the points unobserved."""
    rng = np.random.default_rng(seed)
    t = np.arange(length, dtype=np.float32)
    phase = rng.uniform(0, 2 * np.pi, n_series).astype(np.float32)
    values = np.sin(2 * np.pi * t / 24 + phase[:, None]) + 0.3 * rng.standard_normal(
        (n_series, length), dtype=np.float32
    )
    values = values.ravel().astype(np.float32)
    drop = rng.random(len(values), dtype=np.float32) < missing
    drop[::length] = False  # every series observed at least once
    values[drop] = np.nan
    return Panel(
        values=values,
        observed=~np.isnan(values),
        offsets=np.arange(n_series + 1, dtype=np.int64) * length,
        ids=np.array([f"s{i:04d}" for i in range(n_series)], dtype=object),
        starts=pd.DatetimeIndex(["2020-01-01"] * n_series),
        freq="h",
    )


def fit_rate(
    panel: Panel, cell: str, s: Setup, device: str, precision: str, interval: int, intervals: int
) -> tuple[float, float, NeuralForecaster]:
    """Median windows/s of fit's report intervals after the first, fit's wall time, the model."""
    model = NeuralForecaster(
        cell=cell,
        horizon=s.horizon,
        input_size=s.input_size,
        hidden_size=s.hidden,
        num_layers=s.layers,
        batch_size=s.batch,
        max_steps=interval * (intervals + 1),
        val_size=0,
        patience=None,
        val_every=interval,
        device=device,
        precision=precision,
        random_state=0,
        calendar=True,
        num_threads=torch.get_num_threads(),  # the raw loops' threads, not the idle cores
    )
    start = time.perf_counter()
    model.fit(panel)
    seconds = time.perf_counter() - start
    rates = model.history_["windows_per_s"].iloc[1:]
    return float(statistics.median(rates)), seconds, model


def raw_rate(
    model: NeuralForecaster, s: Setup, device: str, interval: int, intervals: int
) -> float:
    """Median windows/s of a bare loop over pre-built tensors, same network and shapes."""
    dev = torch.device(device)
    c = model.config_
    torch.manual_seed(0)
    net = RecurrentNet(c).to(dev).train()
    B, L, H = s.batch, s.input_size, s.horizon
    x = torch.randn(B, L, c.n_features, device=dev)
    x_future = torch.randn(B, H, c.n_future, device=dev)
    y = torch.randn(B, H, c.n_targets, device=dev)
    mask = torch.ones(B, H, c.n_targets, dtype=torch.bool, device=dev)
    series = torch.zeros(B, dtype=torch.long, device=dev)
    params = [p for p in net.parameters() if p.requires_grad]

    def loss() -> torch.Tensor:
        return compute_loss("mse", net(x, x_future, series).float(), y, mask)

    return loop_rate(loss, params, model, dev, s.batch, interval, intervals)


def loop_rate(
    loss_of: Callable[[], torch.Tensor],
    params: list[torch.Tensor],
    model: NeuralForecaster,
    dev: torch.device,
    batch: int,
    interval: int,
    intervals: int,
) -> float:
    """Median windows/s of training steps on ``loss_of()`` as fit takes them (AdamW, fused on
    CUDA; fit's autocast and loss scaling; clipping at 1.0), over ``intervals`` intervals of
    ``interval`` steps after one warm-up interval (allocator, cuDNN plans, optimizer state)."""
    cuda = dev.type == "cuda"
    optimizer = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.0, fused=True if cuda else None)
    autocast, scaler = mixed_precision(dev, model.plan_.precision)

    def steps(n: int) -> None:
        for _ in range(n):
            with autocast:
                loss = loss_of()
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            scaler.step(optimizer)
            scaler.update()
        if cuda:
            torch.cuda.synchronize(dev)

    steps(interval)
    rates = []
    for _ in range(intervals):
        start = time.perf_counter()
        steps(interval)
        rates.append(interval * batch / (time.perf_counter() - start))
    return float(statistics.median(rates))


def plain_rate(
    model: NeuralForecaster, s: Setup, device: str, interval: int, intervals: int
) -> float:
    """Median windows/s of the plainest torch loop at the same shapes: ``nn.LSTM`` (or GRU,
    RNN) over the same input features, a linear layer from the last state to the horizon,
    MSE, AdamW, clipping; what a user writes by hand, with none of tsrnn's extras (the
    mask, the window normalization, the direct head's inputs)."""
    dev = torch.device(device)
    c = model.config_
    torch.manual_seed(0)
    cells = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}
    rnn = cells[c.cell](
        c.n_features, c.hidden_size, c.num_layers, batch_first=True, dropout=c.dropout
    ).to(dev)
    head = torch.nn.Linear(c.hidden_size, s.horizon).to(dev)
    params = [*rnn.parameters(), *head.parameters()]
    x = torch.randn(s.batch, s.input_size, c.n_features, device=dev)
    y = torch.randn(s.batch, s.horizon, device=dev)

    def loss() -> torch.Tensor:
        out, _ = rnn(x)
        return torch.nn.functional.mse_loss(head(out[:, -1]).float(), y)

    return loop_rate(loss, params, model, dev, s.batch, interval, intervals)


def device_name(device: str) -> str:
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return f"CPU {line.split(':', 1)[1].strip()}"
    except OSError:
        pass
    return f"CPU {platform.processor() or platform.machine()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small config, few steps (make bench)")
    parser.add_argument(
        "--device", default="auto", help='"auto" (CUDA when present), "cpu", "cuda"'
    )
    parser.add_argument("--cells", default="rnn,gru,lstm", help="comma-separated")
    parser.add_argument("--interval", type=int, default=None, help="steps per timed interval")
    parser.add_argument("--steps", type=int, default=None, help="timed steps (after warm-up)")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument(
        "--precision",
        default="auto",
        choices=("auto", "fp32", "fp16", "bf16"),
        help='"auto": fp16 on CUDA, fp32 on the CPU; fp16 needs CUDA',
    )
    args = parser.parse_args()
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    cuda = device.startswith("cuda")
    precision = args.precision if args.precision != "auto" else "fp16" if cuda else "fp32"
    described = {
        "fp32": "fp32",
        "fp16": "fp16 autocast + loss scaling",
        "bf16": "bf16 autocast (cuDNN RNNs in fp16), no loss scaling",
    }
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    interval = args.interval or (25 if cuda else 3 if args.quick else 10)
    intervals = max(args.steps // interval, 1) if args.steps else 2 if args.quick else 4
    configs = CONFIGS[1:] if args.quick else CONFIGS

    name = device_name(device)
    print(
        f"torch {torch.__version__}, device {device} ({name}), {torch.get_num_threads()} "
        f"threads, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
    )
    # The first AdamW imports torch._dynamo (about 1.5 s): pay it here, not in the first fit.
    torch.optim.AdamW([torch.zeros(1, requires_grad=True)])
    t0 = time.perf_counter()
    panel = make_panel(200, 2000, missing=0.1)
    print(
        f"panel: 200 hourly series x 2,000 points, 10% missing ({time.perf_counter() - t0:.2f} s)"
    )
    print(
        f"timed: median of {intervals} x {interval} steps after a {interval}-step warm-up; "
        f"precision {described[precision]}"
    )
    print()
    print(
        "| cell | B | L | H | hidden x layers | fit windows/s | raw windows/s | fit/raw "
        "| plain torch windows/s | fit/plain | fit s | device |"
    )
    print("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for s in configs:
        for cell in args.cells.split(","):
            fit, seconds, model = fit_rate(panel, cell, s, device, precision, interval, intervals)
            raw = raw_rate(model, s, device, interval, intervals)
            plain = plain_rate(model, s, device, interval, intervals)
            print(
                f"| {cell} | {s.batch} | {s.input_size} | {s.horizon} | {s.hidden} x {s.layers} | "
                f"{fit:,.0f} | {raw:,.0f} | {fit / raw:.2f} | {plain:,.0f} | {fit / plain:.2f} | "
                f"{seconds:.1f} | {name} |",
                flush=True,
            )
    print()
    print(f"load average at end {os.getloadavg()[0]:.2f}; total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
