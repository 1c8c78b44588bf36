"""One network trained on two CPU processes (torch.distributed, gloo): the same training as one
process within a stated tolerance, repeatable from its seed, saved in the same format; a rank
that fails, stops answering or ends before it starts ends the run with an error naming it,
never a hang."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch.distributed as dist
from typer.testing import CliRunner

from tsrnn import datasets
from tsrnn import load as load_model
from tsrnn.models.neural import LSTMForecaster
from tsrnn.models.neural import distributed as ddp

pytestmark = pytest.mark.skipif(
    not dist.is_available() or not dist.is_gloo_available(),
    reason="this torch build has no torch.distributed with gloo",
)

# Measured (benchmarks/RESULTS.md, issue 33): two processes against one, the same seed and
# total batch, no dropout, 22 steps: validation losses and forecasts within 1.5e-6 relative.
RTOL = 1e-4


@pytest.fixture(scope="module")
def stations() -> pd.DataFrame:
    """The bundled Beijing stations, their last 30 days: 12 hourly series with gaps."""
    data = datasets.load("beijing_pm25")
    return data.groupby("unique_id").tail(720)[["unique_id", "ds", "y"]].reset_index(drop=True)


def small(**params) -> LSTMForecaster:
    base = {
        "horizon": 24,
        "input_size": 48,
        "hidden_size": 16,
        "num_layers": 1,
        "max_steps": 40,
        "max_epochs": None,
        "batch_size": 64,
        "num_threads": 1,
        "random_state": 0,
    }
    return LSTMForecaster(**{**base, **params})


def test_two_processes_train_what_one_trains_repeatably_in_the_same_file_format(stations, tmp_path):
    # with the refit on every window after the validated run: both runs on both ranks
    one = small(refit=True).fit(stations)
    two = small(num_processes=2, refit=True).fit(stations)
    again = small(num_processes=2, refit=True).fit(stations)
    # the same steps, validated at the same points, to within the tolerance
    assert two.steps_ == one.steps_ and two.refit_ == one.refit_ is not None
    np.testing.assert_allclose(two.history_.val_loss, one.history_.val_loss, rtol=RTOL)
    f1, f2 = one.predict(24), two.predict(24)
    np.testing.assert_allclose(f2["LSTM"], f1["LSTM"], rtol=RTOL)
    # the seed makes the two-process run repeat
    pd.testing.assert_frame_equal(again.predict(24), f2)
    # the model file is a plain fitted model
    path = tmp_path / "two.tsrnn"
    two.save(path)
    loaded = load_model(path)
    pd.testing.assert_frame_equal(loaded.predict(24), f2)
    assert loaded.num_processes == 2 and loaded.net_.__class__.__name__ == "RecurrentNet"


class FailingLSTM(LSTMForecaster):
    """An LSTM whose rank 1 raises before training."""

    hang = False  # HangingLSTM: rank 1 goes silent instead

    def _fit_on(self, panel, rank, threads):
        if rank is not None and rank.rank == 1:
            if self.hang:
                time.sleep(600)
            raise RuntimeError("rank one broke on purpose")
        super()._fit_on(panel, rank, threads)


class HangingLSTM(FailingLSTM):
    hang = True


def test_a_rank_that_fails_ends_the_run_with_its_error(stations):
    def error_files() -> set[Path]:  # where torch has a failed rank write its error
        return set(Path(tempfile.gettempdir()).glob("pytorch-errorfile-*"))

    before = error_files()
    model = FailingLSTM(**small(num_processes=2).get_params())
    with pytest.raises(ddp.DistributedError, match=r"rank 1 failed: .*rank one broke on purpose"):
        model.fit(stations)
    assert not hasattr(model, "net_")  # nothing half-fitted left
    assert error_files() <= before  # the rank's error file read, then removed


def test_a_rank_that_stops_answering_ends_the_run_after_the_timeout(stations, monkeypatch):
    from datetime import timedelta

    monkeypatch.setattr(ddp, "TIMEOUT", timedelta(seconds=5))
    model = HangingLSTM(**small(num_processes=2).get_params())
    start = time.perf_counter()
    with pytest.raises(ddp.DistributedError, match=r"no answer .* within 0:00:05"):
        model.fit(stations)
    assert time.perf_counter() - start < 60


def test_a_script_fitting_at_its_top_level_is_stopped_at_once_in_words(stations, tmp_path):
    """Spawned ranks import the user's script again; without the main guard they fit again,
    which multiprocessing refuses, and rank 0 once waited for them past any timeout."""
    import subprocess
    import sys

    data = tmp_path / "stations.csv"
    stations.head(400).to_csv(data, index=False)
    script = tmp_path / "fit.py"
    script.write_text(
        "import pandas as pd\n"
        "from tsrnn.models.neural import LSTMForecaster\n"
        f"data = pd.read_csv({str(data)!r}, parse_dates=['ds'])\n"
        "LSTMForecaster(horizon=24, input_size=48, hidden_size=8, max_steps=5,\n"
        "               num_threads=1, num_processes=2).fit(data)\n"
    )
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 1
    assert time.perf_counter() - start < 120  # not the group's 5-minute timeout
    last = done.stderr.strip().splitlines()[-1]
    assert "DistributedError: LSTM: training on 2 processes: rank 1 ended with exit code" in last
    assert 'must fit under `if __name__ == "__main__":`' in last


def test_the_cli_fits_on_two_processes(stations, tmp_path):
    from cli.app import app

    data = tmp_path / "stations.csv"
    stations.to_csv(data, index=False)
    out = tmp_path / "model.tsrnn"
    result = CliRunner().invoke(
        app,
        [
            "fit",
            str(data),
            "--horizon",
            "24",
            "--input-size",
            "48",
            "--max-steps",
            "20",
            "--hidden-size",
            "16",
            "--threads",
            "1",
            "--processes",
            "2",
            "--quiet",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "1 torch thread(s) on each of 2 processes" in result.output
    assert load_model(out).num_processes == 2
    bad = CliRunner().invoke(app, ["fit", str(data), "--processes", "0", "--out", str(out)])
    assert bad.exit_code == 2 and "--processes" in bad.output


def test_under_torchrun_every_rank_trains_and_rank_0_alone_reports_and_saves(stations, tmp_path):
    """`torchrun --nproc-per-node 2 tsrnn fit ...`: the two processes join the group torchrun
    describes and train one network; one data report, one summary, one model file."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    tsrnn = Path(sys.executable).with_name("tsrnn")
    if not tsrnn.exists():
        pytest.skip(f"no tsrnn command beside {sys.executable} (pip install -e . makes it)")
    data = tmp_path / "stations.csv"
    stations.to_csv(data, index=False)
    out = tmp_path / "model.tsrnn"
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2"]
    command += ["--master-port", str(ddp._free_port()), str(tsrnn), "fit", str(data)]
    command += ["--horizon", "24", "--input-size", "48", "--max-steps", "20"]
    command += ["--hidden-size", "16", "--threads", "1", "--out", str(out)]
    # the whole budget, whatever the validation says (20 tiny steps seldom beat the first)
    config = tmp_path / "fit.toml"
    config.write_text("[model]\npatience = 1000\n")
    command += ["--config", str(config)]
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE")}
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("# Data report") == 1  # printed by rank 0 only
    assert done.stderr.count("saved ") == 1
    model = load_model(out)
    assert model.num_processes is None and model.steps_ == 20


def test_cuda_ranks_take_nccl_and_a_gpu_each():
    """NCCL on CUDA, a GPU per process (rank r on cuda:r); more processes than GPUs is refused
    before anything starts. (A run on several GPUs needs such a machine: not tested here.)"""
    import torch

    assert ddp.backend_of("cpu") == "gloo" and ddp.backend_of("cuda:0") == "nccl"
    assert ddp.rank_device("cpu", 1, 2, "LSTM") == "cpu"
    gpus = torch.cuda.device_count()
    with pytest.raises(ValueError, match=rf"num_processes={gpus + 1} on CUDA needs a GPU per"):
        ddp.rank_device("cuda", 0, gpus + 1, "LSTM")
    if gpus >= 2:
        assert ddp.rank_device("cuda", 1, 2, "LSTM") == "cuda:1"


def _fit_in_a_pool_worker(data: pd.DataFrame) -> str:
    """A fit asking for 2 processes, in a daemonic multiprocessing pool worker: its error."""
    try:
        small(num_processes=2).fit(data)
    except ValueError as err:
        return str(err)
    return "no error"


def test_a_daemonic_worker_asking_for_processes_is_refused_in_words(stations):
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:  # its workers are daemonic
        message = pool.apply(_fit_in_a_pool_worker, (stations.head(400),))
    assert "num_processes=2 in a daemonic process" in message
    assert "leave num_processes= unset inside workers" in message
