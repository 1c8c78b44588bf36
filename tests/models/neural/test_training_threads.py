"""torch threads: one per idle core by default, so that training stays fast on a busy CPU
(issue 24); ``num_threads`` and ``tsrnn fit --threads`` choose for themselves."""

from __future__ import annotations

import multiprocessing
import os

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from cli.app import app
from tsrnn.machine import available_cores
from tsrnn.models.neural import LSTMForecaster
from tsrnn.models.neural.training import choose_threads, idle_cores, threads_for

TINY = {"hidden_size": 8, "num_layers": 1, "max_steps": 10, "val_size": 0}
needs_proc_stat = pytest.mark.skipif(
    not os.path.exists("/proc/stat"), reason="reads the CPU's idle time from Linux /proc/stat"
)


def _spin(stop) -> None:  # stop: a multiprocessing Event
    while not stop.is_set():
        sum(range(10_000))


@needs_proc_stat
def test_a_busy_core_is_not_counted_as_idle():
    cores = os.cpu_count() or 1
    stop = multiprocessing.Event()
    spinners = [multiprocessing.Process(target=_spin, args=(stop,)) for _ in range(cores)]
    for s in spinners:
        s.start()
    try:
        busy = idle_cores(interval=0.3)
        threads, why = choose_threads(None, torch.device("cpu"))
    finally:
        stop.set()
        for s in spinners:
            s.join()
    assert busy is not None and busy < 0.75  # every core spins: next to nothing is idle
    assert threads == 1 and "idle" in why


def test_a_core_counts_when_it_is_more_idle_than_busy():
    # 2 cores: a CPU-bound process on one leaves about 1.0 idle; noise leaves 1.6-2.0
    assert [threads_for(idle, 2) for idle in (0.0, 0.4, 1.0, 1.4, 1.6, 2.0)] == [1, 1, 1, 1, 2, 2]
    assert threads_for(7.9, 4) == 4  # never more threads than the cores this process may use


def test_the_default_is_between_one_thread_and_the_cores():
    threads, why = choose_threads(None, torch.device("cpu"))
    assert 1 <= threads <= available_cores()
    assert choose_threads(3, torch.device("cpu")) == (3, "num_threads")


def test_fit_records_its_threads_and_restores_torchs_setting(air):
    before = torch.get_num_threads()
    model = LSTMForecaster(horizon=6, num_threads=1, **TINY).fit(air)
    assert model.threads_ == 1
    assert torch.get_num_threads() == before
    default = LSTMForecaster(horizon=6, **TINY).fit(air)
    assert 1 <= default.threads_ <= available_cores()


@pytest.mark.skipif(available_cores() < 2, reason="needs 2 cores to compare thread counts")
def test_the_thread_count_does_not_change_the_forecasts(air):
    one = LSTMForecaster(horizon=6, num_threads=1, **TINY).fit(air).predict()
    two = LSTMForecaster(horizon=6, num_threads=2, **TINY).fit(air).predict()
    np.testing.assert_array_equal(one.LSTM.to_numpy(), two.LSTM.to_numpy())


def test_cli_fit_takes_threads_and_says_how_many(tmp_path):
    out = tmp_path / "m.tsrnn"
    args = ["fit", "air_passengers", "--horizon", "6", "--max-steps", "5", "--threads", "1"]
    done = CliRunner().invoke(app, [*args, "--out", str(out), "-q"])
    assert done.exit_code == 0, done.output
    assert "1 torch thread(s)" in done.stderr
    bad = CliRunner().invoke(app, [*args[:-1], "0", "--out", str(out), "-q"])
    assert bad.exit_code == 2 and "--threads 0: must be a whole number >= 1" in bad.stderr
