"""Per-series models and backtests on a Dask cluster: a real 2-worker LocalCluster (processes),
started here, gives the single-process results series for series; a worker that dies mid-run
gives the same results (its task runs again) or, dying every time, a clear error."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tsrnn import DataError, datasets, parallel_backend
from tsrnn.evaluate.backtest import backtest
from tsrnn.models.stats import ETS, Theta

distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is not installed: pip install 'tsrnn[dask]'"
)


@pytest.fixture(scope="module")
def client():
    """Two worker processes of one thread each, as `tsrnn backtest --backend dask` starts."""
    from tsrnn.parallel import local_cluster

    with local_cluster(2) as client:
        yield client


@pytest.fixture(scope="module")
def beijing() -> pd.DataFrame:
    """The bundled Beijing stations, their last 20 days: 12 hourly series."""
    data = datasets.load("beijing_pm25")
    return data.groupby("unique_id").tail(480)[["unique_id", "ds", "y"]].reset_index(drop=True)


def test_a_backtest_on_the_cluster_equals_the_single_process_one(client, beijing):
    models = [ETS(), Theta()]
    alone = backtest(models, beijing, 24, n_windows=2, level=[80])
    spread = backtest(models, beijing, 24, n_windows=2, level=[80], backend=client)
    pd.testing.assert_frame_equal(alone.forecasts, spread.forecasts)
    pd.testing.assert_frame_equal(alone.metrics(), spread.metrics())
    assert alone.config["backend"] == "joblib"
    assert spread.config["backend"] == f"dask ({client.scheduler.address})"


def test_the_series_go_in_chunks_each_to_one_worker(client, beijing, monkeypatch):
    """Each task carries its own chunk of series (here 2 series a chunk: 6 tasks), never the
    whole panel; the results come back in the order of the series."""
    from tsrnn import parallel

    monkeypatch.setattr(parallel, "CHUNK", 2)
    sizes = []
    submit = client.submit

    def spy(func, worker, chunk, **kwargs):
        sizes.append(len(chunk))
        return submit(func, worker, chunk, **kwargs)

    monkeypatch.setattr(client, "submit", spy)
    with parallel_backend(client):
        spread = Theta().fit(beijing).predict(24, level=[80])
    assert sizes[:6] == [2] * 6  # the fits; then the intervals' variances, also in chunks
    assert sum(sizes) == 2 * 12
    pd.testing.assert_frame_equal(spread, Theta().fit(beijing).predict(24, level=[80]))


class DyingTheta(Theta):
    """Theta whose first fit anywhere kills its worker process (``marker`` records that one
    died); ``always`` kills every worker that fits a series."""

    def __init__(self, *, marker: str = "", always: bool = False, season=None, n_jobs=1):
        super().__init__(season=season, n_jobs=n_jobs)
        self.marker = marker
        self.always = always

    def _fit_series(self, y):
        if self.always:
            os._exit(1)
        try:
            os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return super()._fit_series(y)
        os._exit(1)  # the first attempt: the worker dies mid-task


def test_a_worker_killed_mid_run_is_replaced_and_the_result_is_unchanged(client, beijing, tmp_path):
    marker = tmp_path / "died"
    spread = backtest([DyingTheta(marker=str(marker))], beijing, 24, n_windows=1, backend=client)
    assert marker.exists()  # a worker did die
    alone = backtest([Theta()], beijing, 24, n_windows=1)
    np.testing.assert_array_equal(spread.forecasts["DyingTheta"], alone.forecasts["Theta"])
    client.wait_for_workers(2, timeout=60)


def test_a_task_that_kills_every_worker_ends_in_a_clear_error(client, beijing):
    with pytest.raises(RuntimeError, match=r"Dask: the workers running one chunk of series died"):
        backtest([DyingTheta(always=True)], beijing, 24, n_windows=1, backend=client)
    client.wait_for_workers(2, timeout=60)


def test_the_cli_backtests_on_a_scheduler_and_refuses_bad_backends_in_one_line(
    client, beijing, tmp_path
):
    from cli.app import app

    data = tmp_path / "beijing.csv"
    beijing.to_csv(data, index=False)
    runner = CliRunner()
    common = ["backtest", str(data), "--models", "ets,theta", "--horizon", "24", "--windows", "1"]
    ran = runner.invoke(
        app, [*common, "--report-dir", str(tmp_path / "a"), "--jobs", "1", "--quiet"]
    )
    assert ran.exit_code == 0, ran.output
    address = client.scheduler.address
    spread = runner.invoke(
        app,
        [*common, "--report-dir", str(tmp_path / "b"), "--backend", "dask"]
        + ["--scheduler", address],
    )
    assert spread.exit_code == 0, spread.output
    assert f"the Dask cluster at {address} for ETS, Theta" in spread.output
    one = pd.read_csv(tmp_path / "a" / "forecasts.csv")
    two = pd.read_csv(tmp_path / "b" / "forecasts.csv")
    pd.testing.assert_frame_equal(one, two)
    for flags, expected in (
        (["--backend", "spark"], "--backend spark: choose one of joblib, dask"),
        (["--backend", "joblib", "--scheduler", address], "add --backend dask, or drop"),
        (["--backend", "dask", "--scheduler", address, "--jobs", "2"], "drop --jobs"),
    ):
        bad = runner.invoke(app, [*common, "--report-dir", str(tmp_path / "c"), *flags])
        assert bad.exit_code == 2, bad.output
        assert expected in bad.output and "Traceback" not in bad.output
        assert len(bad.output.strip().splitlines()) == 1


def test_no_scheduler_at_the_address_is_a_data_error_before_any_fit(monkeypatch):
    from tsrnn import parallel

    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT", "1s")
    with (
        pytest.raises(DataError, match=r"no Dask scheduler answers at tcp://127.0.0.1:9"),
        parallel_backend("dask", scheduler="tcp://127.0.0.1:9"),
    ):
        pass  # pragma: no cover - never entered


def test_a_scheduler_address_alone_means_dask_and_errors_in_a_block_stay_the_users(client, beijing):
    address = client.scheduler.address
    result = backtest([Theta()], beijing, 24, n_windows=1, scheduler=address)
    assert result.config["backend"] == f"dask ({address})"
    with pytest.raises(ValueError, match="mine"), parallel_backend("dask"):  # the client here
        raise ValueError("mine")


def _results_held(worker, chunk):
    """A chunk's task: how many finished results its worker holds when it starts."""
    import time

    from distributed import get_worker

    held = len(get_worker().data)
    time.sleep(0.5)  # time for the client to fetch and release the chunks before this one
    return [held] * len(chunk)


def test_a_worker_holds_only_the_results_not_yet_fetched(client):
    """Each chunk's result is fetched and released as its task ends: a worker's memory is
    bounded by its chunk, not by every chunk it ran (then its 6th task would find 5 results)."""
    from tsrnn.parallel import _Dask

    held = _Dask(client).map(_results_held, None, [[i] for i in range(12)])
    assert len(held) == 12
    assert max(held) <= 1, held


def test_updates_stay_here_and_give_the_single_process_forecasts(client, beijing, monkeypatch):
    """A backtest without refits moves each model's origin window after window. ETS keeps its
    parameters and Theta its smoothing weight (0.1-4 ms a series): sending the states to the
    workers would cost more than it saves, so the updates stay in this process while the fits
    go to the workers. The forecasts are the single-process ones."""
    from tsrnn.models.stats import local

    sent = []
    submit = client.submit

    def spy(func, worker, chunk, **kwargs):
        sent.append((type(worker).__name__, func is local._update_chunk, len(chunk)))
        return submit(func, worker, chunk, **kwargs)

    monkeypatch.setattr(client, "submit", spy)
    models = [ETS(), Theta()]
    kw = {"n_windows": 3, "step": 24, "refit": False}
    spread = backtest(models, beijing, 24, backend=client, **kw)
    alone = backtest(models, beijing, 24, **kw)
    pd.testing.assert_frame_equal(alone.forecasts, spread.forecasts)
    assert not any(update for _, update, _ in sent)
    assert {name for name, _, _ in sent} == {"ETS", "Theta"}  # their fits went
