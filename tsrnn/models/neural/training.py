"""The training loop: AdamW, a learning-rate schedule, early stopping on a time-based split.

One function, :func:`train`, read top to bottom: draw a batch, compute the loss, step, and every
``val_every`` steps measure the validation loss, keep the best weights, report progress through
a callback and decide whether to stop. It knows nothing about series or windows: the estimator
hands it a network, a loss function of a batch, an endless iterator of training batches and a
validation function.

Stopping, whichever comes first: ``max_steps``; ``patience`` validations in a row without a new
best validation loss; Ctrl-C (training ends cleanly, keeping the best weights so far); a
non-finite training loss, which raises :class:`TrainingError` naming the step. With validation
the best weights are restored at the end, otherwise the last ones are kept.

On a GPU the loop never waits for the device between reports: each step's loss is written into
a small buffer on the device, read (and checked for the first non-finite step) once per report;
AdamW is the fused CUDA kernel, which also takes mixed precision's loss scaling without a host
round trip. Mixed precision is float16 autocast with dynamic loss scaling (``GradScaler``;
CUDA only) or bfloat16 autocast without scaling. Under either autocast dtype torch runs cuDNN's
recurrent layers in float16 (a true bfloat16 cuDNN LSTM measured 4x slower than float16 on an
H200), so on a GPU "bf16" means bfloat16 around float16 recurrent layers with unscaled
gradients; on a CPU an LSTM runs in bfloat16 too (oneDNN), but only where the processor has
bfloat16 instructions (AVX512-BF16, AMX): :func:`bf16_supported` tells. Weights and optimizer
state stay float32.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from tsrnn.machine import available_cores, training_cpu

log = logging.getLogger(__name__)

SCHEDULES = ("onecycle", "cosine", "plateau", "constant")
PRECISIONS = ("fp32", "fp16", "bf16")


class TrainingError(RuntimeError):
    """Training cannot go on (a non-finite loss); the message names the step and what to try."""


@dataclass(frozen=True)
class TrainConfig:
    """How to train (the estimator builds it from its parameters)."""

    max_steps: int  # optimizer steps at most
    lr: float  # peak learning rate
    weight_decay: float = 0.0  # AdamW's decoupled weight decay
    schedule: str = "onecycle"  # "onecycle", "cosine" (linear warm-up), "plateau", "constant"
    warmup: float = 0.1  # fraction of max_steps spent warming up (onecycle, cosine)
    grad_clip: float | None = 1.0  # clip the global gradient norm; None: never
    patience: int | None = 10  # validations without improvement before stopping; None: never
    val_every: int = 50  # steps between validations (and progress reports)
    precision: str = "fp32"  # "fp32"; "fp16": autocast + loss scaling (CUDA); "bf16": autocast


@dataclass(frozen=True)
class Progress:
    """What the callback hears after every report."""

    step: int
    max_steps: int
    loss: float  # mean training loss since the previous report
    val_loss: float | None
    best_val_loss: float | None
    lr: float
    windows_per_s: float  # training windows per second since the previous report
    elapsed_s: float
    phase: str = "fit"  # or "refit": the estimator's second run on every window


@dataclass(frozen=True)
class TrainResult:
    history: pd.DataFrame  # one row per report: step, loss, val_loss, lr, windows_per_s, elapsed_s
    best_step: int  # step whose weights were kept
    stop_reason: str  # "max_steps", "early_stopping", "interrupted"
    steps: int = 0  # optimizer updates applied (at Ctrl-C, the one it broke into is not)


def train(
    net: nn.Module,
    loss_of: Callable[[object], torch.Tensor],
    batches: Iterator,
    config: TrainConfig,
    validate: Callable[[], float] | None = None,
    callback: Callable[[Progress], None] | None = None,
    world: int = 1,
) -> TrainResult:
    """Train ``net`` in place; see the module notes for when it stops.

    ``loss_of(batch)`` returns a scalar loss whose gradient reaches ``net``'s parameters;
    ``batches`` yields training batches (with a ``y`` attribute: its first dimension is the
    number of windows); ``validate()`` returns the validation loss (``net`` is put in eval mode
    around it). ``world``: processes training together, each on its share of every batch
    (the windows per second reported count them all).
    """
    params = [p for p in net.parameters() if p.requires_grad]
    device = next(net.parameters()).device
    cuda = device.type == "cuda"
    optimizer = torch.optim.AdamW(
        params, lr=config.lr, weight_decay=config.weight_decay, fused=True if cuda else None
    )
    scheduler = _scheduler(optimizer, config)
    autocast, scaler = mixed_precision(device, config.precision)

    rows: list[dict] = []
    best_val, best_step, best_state = math.inf, 0, None
    stale, stop_reason = 0, "max_steps"
    losses = torch.zeros(config.val_every, device=device)  # this report's step losses
    windows, first = 0, 1  # windows since the last report, its first step
    start = tick = time.perf_counter()
    step = done = 0  # the step running, and the last one whose update was applied
    # on the CPU, the memory a step frees stays for the next, and subnormal numbers are
    # flushed to zero (tsrnn.machine.training_cpu)
    with contextlib.nullcontext() if cuda else training_cpu():
        net.train()
        try:
            for step in range(1, config.max_steps + 1):
                batch = next(batches)
                with autocast:
                    loss = loss_of(batch)
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                if config.grad_clip is not None:
                    scaler.unscale_(optimizer)
                    nn.utils.clip_grad_norm_(params, config.grad_clip)
                scaler.step(optimizer)
                scaler.update()
                done = step
                if config.schedule != "plateau":
                    scheduler.step()
                losses[step - first] = loss.detach()
                windows += len(batch.y) * world
                if not cuda and not math.isfinite(float(losses[step - first])):
                    _raise_non_finite(step, config)  # free on the CPU: name it at once
                if step - first + 1 < config.val_every and step != config.max_steps:
                    continue
                seen = losses[: step - first + 1].double().cpu().numpy()  # one wait per report
                bad = np.flatnonzero(~np.isfinite(seen))
                if len(bad):
                    _raise_non_finite(first + int(bad[0]), config)
                now = time.perf_counter()
                val = None
                if validate is not None:
                    net.eval()
                    with torch.no_grad(), autocast:
                        val = float(validate())
                    net.train()
                    if config.schedule == "plateau":
                        scheduler.step(val)
                    if val < best_val:
                        best_val, best_step, stale = val, step, 0
                        best_state = copy.deepcopy(net.state_dict())
                    else:
                        stale += 1
                row = {
                    "step": step,
                    "loss": float(seen.mean()),
                    "val_loss": val,
                    "lr": optimizer.param_groups[0]["lr"],
                    "windows_per_s": windows / max(now - tick, 1e-9),
                    "elapsed_s": now - start,
                }
                rows.append(row)
                if callback is not None:
                    best = best_val if best_state is not None else None
                    callback(
                        Progress(
                            step=step,
                            max_steps=config.max_steps,
                            loss=row["loss"],
                            val_loss=val,
                            best_val_loss=best,
                            lr=row["lr"],
                            windows_per_s=row["windows_per_s"],
                            elapsed_s=row["elapsed_s"],
                        )
                    )
                log.debug("step %d: loss %.5g, val %s", step, row["loss"], val)
                windows, first, tick = 0, step + 1, time.perf_counter()
                if config.patience is not None and stale >= config.patience:
                    stop_reason = "early_stopping"
                    break
        except KeyboardInterrupt:
            stop_reason = "interrupted"
            log.warning("training interrupted after step %d; keeping the best weights so far", done)
    net.eval()
    if best_state is not None:
        net.load_state_dict(best_state)
    else:
        best_step = done
    history = pd.DataFrame(
        rows, columns=["step", "loss", "val_loss", "lr", "windows_per_s", "elapsed_s"]
    ).astype({"val_loss": float})  # NaN where not validated
    return TrainResult(history, best_step, stop_reason, steps=done)


def mixed_precision(
    device: torch.device, precision: str
) -> tuple[torch.autocast, torch.amp.GradScaler]:
    """The autocast context and the loss scaler of ``precision`` ("fp32", "fp16" or "bf16") on
    ``device``: float16 is scaled (CUDA only), bfloat16 and float32 are not."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision={precision!r}; choose one of {PRECISIONS}")
    half = precision == "fp16" and device.type == "cuda"
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    autocast = torch.autocast(device.type, dtype=dtype, enabled=half or precision == "bf16")
    return autocast, torch.amp.GradScaler(device.type, enabled=half)


def bf16_supported(device: torch.device | str) -> bool:
    """Whether ``precision="bf16"`` can train an LSTM on ``device``.

    On CUDA: ``torch.cuda.is_bf16_supported()`` for that device (False without CUDA). On the CPU
    (and any other device): a tiny ``nn.LSTM`` forward and backward under bfloat16 autocast,
    once per device; oneDNN's bfloat16 LSTM needs AVX512-BF16 or AMX and raises
    ``RuntimeError`` ("could not create a primitive descriptor ...") on other processors. The
    probe runs in a forked RNG state, so seeded training is the same with or without it. A GRU
    is not autocast on the CPU (it stays float32) and an RNN runs in bfloat16 everywhere, so
    only the LSTM needs this check; the answer is cached per device.

    Examples
    --------
    >>> bf16_supported("cpu") in (True, False)
    True
    """
    return _bf16_supported(str(torch.device(device)))


@functools.cache
def _bf16_supported(device: str) -> bool:
    where = torch.device(device)
    if where.type == "cuda":
        if not torch.cuda.is_available():
            return False
        with torch.cuda.device(where):
            return bool(torch.cuda.is_bf16_supported())
    try:
        with torch.random.fork_rng(devices=[]), torch.enable_grad():
            lstm = nn.LSTM(4, 8, batch_first=True).to(where)
            x = torch.ones(2, 3, 4, device=where)
            with torch.autocast(where.type, dtype=torch.bfloat16):
                out, _ = lstm(x)
            out.float().sum().backward()
    except RuntimeError as exc:
        log.debug("bfloat16 LSTM unavailable on %s: %s", device, exc)
        return False
    return True


def _raise_non_finite(step: int, config: TrainConfig) -> None:
    raise TrainingError(
        f"training loss became non-finite (nan or inf) at step {step} (lr={config.lr:g}); "
        "lower lr=, keep grad_clip= on, or look for extreme values in the data"
    )


def warmup_steps(config: TrainConfig) -> float:
    """The steps over which ``config``'s schedule raises the learning rate (0: none)."""
    n = config.max_steps
    if config.schedule == "onecycle" and n >= 4:
        return _onecycle_share(config) * n
    if config.schedule == "cosine":
        return _cosine_warmup(config)
    return 0


def _onecycle_share(config: TrainConfig) -> float:
    """The share of a one-cycle schedule that warms up. torch's one-cycle divides by the
    length of each phase: both stay at least a step long (at 10 steps a 10 % warm-up would
    end at step 0)."""
    return min(max(config.warmup, 2.0 / config.max_steps), 0.5)


def _cosine_warmup(config: TrainConfig) -> int:
    """The steps a cosine schedule warms up over."""
    return max(int(config.warmup * config.max_steps), 1)


def _scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig):
    n, lr = config.max_steps, config.lr
    if config.schedule not in SCHEDULES:
        raise ValueError(f"schedule={config.schedule!r}; choose one of {SCHEDULES}")
    if config.schedule == "onecycle" and n >= 4:
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=lr, total_steps=n, pct_start=_onecycle_share(config)
        )
    if config.schedule == "cosine":
        warm = _cosine_warmup(config)

        def factor(step: int) -> float:
            if step < warm:
                return (step + 1) / warm
            return 0.5 * (1 + math.cos(math.pi * min((step - warm) / max(n - warm, 1), 1.0)))

        return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    if config.schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=2)
    # "constant", and one-cycle over 1-3 steps, where a schedule means nothing
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)  # constant


def idle_cores(interval: float = 0.2) -> float | None:
    """How many cores other processes leave idle, measured over ``interval`` seconds (Linux:
    ``/proc/stat``, less this process's own CPU time, so that its threads still spinning
    after earlier work do not count; elsewhere the cores less the load average; None where
    neither exists)."""

    def sample() -> tuple[int, int, float]:
        with open("/proc/stat") as stat:
            fields = [int(x) for x in stat.readline().split()[1:]]
        own = os.times()
        # idle + iowait, all but guest time (in clock ticks), this process's CPU seconds
        return fields[3] + fields[4], sum(fields[:8]), own.user + own.system

    cores = os.cpu_count() or 1
    try:
        idle0, total0, own0 = sample()
        time.sleep(interval)
        idle1, total1, own1 = sample()
        ticks = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        try:
            return max(cores - os.getloadavg()[0], 0.0)
        except (AttributeError, OSError):
            return None
    total = max(total1 - total0, 1)
    others = max(total - (idle1 - idle0) - (own1 - own0) * ticks, 0)
    return cores * (1 - min(others / total, 1.0))


def choose_threads(requested: int | None, device: torch.device) -> tuple[int, str]:
    """torch's intra-op threads for training or forecasting on ``device``, and why.

    ``requested`` (``num_threads``) wins. On the CPU, otherwise, one thread per core that other
    work leaves idle when the fit starts (at least one, at most the cores this process may
    use): torch's threads wait at a barrier after every kernel, an RNN's every time step, so
    a thread whose core another process holds slows every step down. On 2 cores beside one
    CPU-bound process, 2 threads trained the default LSTM at a quarter of their idle speed and
    at half the speed of 1 thread, while on the idle machine 2 threads were 1.25-1.9x faster
    than 1 (``benchmarks/threads.py``). On a GPU, torch's own setting (the host threads only
    launch kernels).
    """
    if requested is not None:
        return requested, "num_threads"
    if device.type != "cpu":
        return torch.get_num_threads(), f"torch's setting on {device.type}"
    cores = available_cores()
    idle = idle_cores()
    if idle is None:
        return torch.get_num_threads(), "torch's setting (the CPU's load is unknown here)"
    return threads_for(idle, cores), f"{idle:.1f} of {os.cpu_count()} cores idle"


def threads_for(idle: float, cores: int) -> int:
    """One thread per core that is more idle than busy (at least one, at most ``cores``): a
    short burst of other work (a few clock ticks of the measure) costs no thread, a process
    holding a core does."""
    return min(max(int(idle + 0.5), 1), cores)
