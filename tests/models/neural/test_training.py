"""The training loop: it learns, stops early keeping the best weights, names a NaN's step,
survives Ctrl-C and reports progress."""

import itertools
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from tsrnn.models.neural import training
from tsrnn.models.neural.training import (
    SCHEDULES,
    TrainConfig,
    TrainingError,
    bf16_supported,
    mixed_precision,
    train,
)


def regression(seed=0):
    """A linear problem: y = x @ w + noise, batches of 32."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(4, 1, generator=g)

    def batches():
        while True:
            x = torch.randn(32, 4, generator=g)
            yield SimpleNamespace(x=x, y=x @ w + 0.01 * torch.randn(32, 1, generator=g))

    torch.manual_seed(seed)
    net = nn.Linear(4, 1)

    def loss_of(batch):
        return ((net(batch.x) - batch.y) ** 2).mean()

    x_val = torch.randn(256, 4, generator=g)
    y_val = x_val @ w

    def validate():
        return ((net(x_val) - y_val) ** 2).mean().item()

    return net, loss_of, batches(), validate


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_every_schedule_learns(schedule):
    net, loss_of, batches, validate = regression()
    before = validate()
    config = TrainConfig(max_steps=200, lr=0.05, schedule=schedule, val_every=20, patience=None)
    result = train(net, loss_of, batches, config, validate=validate)
    assert validate() < 0.01 * before
    assert result.stop_reason == "max_steps"
    assert list(result.history.columns) == [
        "step",
        "loss",
        "val_loss",
        "lr",
        "windows_per_s",
        "elapsed_s",
    ]
    assert result.history.step.tolist() == list(range(20, 201, 20))


def test_early_stopping_restores_the_best_weights():
    net, loss_of, batches, _ = regression()
    scores = iter([5.0, 1.0, 3.0, 4.0, 6.0, 7.0])
    kept = {}

    def validate():  # best at the second validation, then worse and worse
        score = next(scores)
        kept[score] = net.weight.detach().clone()
        return score

    config = TrainConfig(max_steps=1000, lr=0.05, val_every=10, patience=3)
    result = train(net, loss_of, batches, config, validate=validate)
    assert result.stop_reason == "early_stopping"
    assert result.best_step == 20
    assert len(result.history) == 5  # stopped after three validations without improvement
    torch.testing.assert_close(net.weight, kept[1.0])


def test_a_non_finite_loss_names_its_step():
    net, loss_of, batches, _ = regression()
    steps = itertools.count(1)

    def poisoned(batch):
        loss = loss_of(batch)
        return loss * float("nan") if next(steps) == 7 else loss

    with pytest.raises(TrainingError, match="at step 7"):
        train(net, poisoned, batches, TrainConfig(max_steps=50, lr=0.01, val_every=10))


def test_ctrl_c_ends_training_cleanly_with_the_best_weights():
    net, loss_of, batches, validate = regression()
    seen = []

    def callback(progress):
        seen.append(progress)
        if progress.step == 30:
            raise KeyboardInterrupt

    config = TrainConfig(max_steps=1000, lr=0.05, val_every=10)
    result = train(net, loss_of, batches, config, validate=validate, callback=callback)
    assert result.stop_reason == "interrupted"
    assert [p.step for p in seen] == [10, 20, 30]
    assert seen[-1].max_steps == 1000 and seen[-1].windows_per_s > 0
    assert seen[-1].best_val_loss == min(p.val_loss for p in seen)
    assert not net.training


def test_without_validation_the_last_weights_are_kept():
    net, loss_of, batches, _ = regression()
    result = train(net, loss_of, batches, TrainConfig(max_steps=30, lr=0.05, val_every=10))
    assert result.best_step == 30
    assert result.history.val_loss.isna().all()


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("steps", range(1, 13))
def test_every_schedule_runs_for_any_number_of_steps(schedule, steps):
    net, loss_of, batches, validate = regression()
    config = TrainConfig(max_steps=steps, lr=0.01, schedule=schedule, val_every=1)
    result = train(net, loss_of, batches, config, validate=validate)
    assert result.history.step.tolist() == list(range(1, steps + 1))


@pytest.mark.parametrize(
    "precision, autocast_dtype, scaled",
    [("fp32", None, False), ("bf16", torch.bfloat16, False), ("fp16", None, False)],
)
def test_precision_sets_the_autocast_and_scales_only_float16_on_cuda(
    precision, autocast_dtype, scaled
):
    """On the CPU: bfloat16 autocast for "bf16", nothing for "fp32", and "fp16" (CUDA only: the
    estimator refuses it on a CPU) falls back to float32 rather than unscaled float16."""
    autocast, scaler = mixed_precision(torch.device("cpu"), precision)
    layer = nn.Linear(4, 2)
    with autocast:
        out = layer(torch.randn(3, 4))
    assert out.dtype == (autocast_dtype or torch.float32)
    assert scaler.is_enabled() is scaled


def test_an_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="precision='half'; choose one of"):
        mixed_precision(torch.device("cpu"), "half")


def _bf16_lstm_step_runs() -> bool:
    lstm = nn.LSTM(3, 5, batch_first=True)
    try:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out, _ = lstm(torch.randn(4, 6, 3))
        out.float().square().mean().backward()
    except RuntimeError:
        return False
    return True


def test_bf16_supported_says_whether_a_bfloat16_lstm_step_runs():
    training._bf16_supported.cache_clear()  # probe afresh, to see it leave the RNG alone
    state = torch.get_rng_state()
    answer = bf16_supported("cpu")
    assert isinstance(answer, bool)
    assert torch.equal(torch.get_rng_state(), state)  # the probe leaves seeded runs alone
    assert bf16_supported(torch.device("cpu")) is answer
    assert answer is _bf16_lstm_step_runs()
    if not torch.cuda.is_available():
        assert bf16_supported("cuda") is False
