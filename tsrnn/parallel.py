"""Where per-series work runs: joblib processes on this machine, or a Dask cluster.

The statistical models fit one model per series (:class:`~tsrnn.models.stats.local.
LocalForecaster`); :func:`map_series` hands chunks of those series to workers and gathers the
results in the order of the series. By default the workers are ``n_jobs`` joblib processes.
Inside :func:`parallel_backend` (or ``backtest(..., backend="dask")``) they are the workers of
a ``dask.distributed`` cluster: an existing :class:`~distributed.Client`, a scheduler's
address, or a ``LocalCluster`` started on this machine for the block.

Each chunk of series travels with its own task, once, to one worker: no worker receives the
whole panel, and a task whose worker dies can be run again elsewhere (data scattered with
``client.scatter`` would die with its worker). The results are those of one process, series
for series: the same code fits the same series.

``dask[distributed]`` is the optional extra ``tsrnn[dask]``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

log = logging.getLogger(__name__)

__all__ = ["BACKENDS", "parallel_backend", "map_series"]

BACKENDS = ("joblib", "dask")
CHUNK = 500  # series a task at most
CONNECT_TIMEOUT = "10s"  # to reach a scheduler
_CHUNK_BYTES = 8 << 20  # and about this much data: Dask warns of graphs over 10 MB
_active: ContextVar[_Dask | None] = ContextVar("tsrnn_parallel_backend", default=None)


class _Dask:
    """A Dask client that per-series work goes to while the block runs."""

    def __init__(self, client: Any) -> None:
        self.client = client

    @property
    def address(self) -> str:
        return str(self.client.scheduler.address)

    def workers(self) -> int:
        """Threads across the cluster's workers now (at least 1)."""
        return max(1, sum(self.client.nthreads().values()))

    def map(self, func: Callable[..., list[Any]], worker: Any, chunks: list[list[Any]]) -> list:
        """``func(worker, chunk)`` for each chunk on the cluster, the results in the chunks'
        order. Each result is fetched as soon as its task finishes and its future released
        then, so that a worker holds the results of the chunks it is running, not of every
        chunk it ran (all held until the end, a worker grew by a chunk's results per chunk:
        987 MB at 100,000 Theta series)."""
        from concurrent.futures import CancelledError

        from distributed import KilledWorker, as_completed

        # one task a chunk (pure=False: a fresh key each, never a cached result)
        futures = [self.client.submit(func, worker, chunk, pure=False) for chunk in chunks]
        where = {future.key: i for i, future in enumerate(futures)}
        parts: list[Any] = [None] * len(futures)
        try:
            for future in as_completed(futures):
                parts[where[future.key]] = future.result()
                future.release()
        except KilledWorker as err:
            raise RuntimeError(
                f"Dask: the workers running one chunk of series died {_failures()} "
                f"times in a row ({err}); nothing was returned. A worker that runs out of memory "
                "is killed: give the workers more memory (LocalCluster(memory_limit=...)) or run "
                "fewer series a chunk"
            ) from None
        except CancelledError as err:  # client.restart(), or the cluster shut down
            raise RuntimeError(
                f"Dask: the cluster at {self.address} cancelled the tasks of this run ({err}), "
                "as a restart or a shutdown does; nothing was returned. Run again"
            ) from None
        except OSError as err:  # the scheduler went away
            raise RuntimeError(
                f"Dask: lost the scheduler at {self.address} ({err}); nothing was returned. "
                "Check that the cluster is up, then run again"
            ) from None
        finally:
            for future in futures:
                future.release()  # the rest, after an error (releasing twice is harmless)
        return [result for part in parts for result in part]


def _failures() -> int:
    import dask

    return int(dask.config.get("distributed.scheduler.allowed-failures", 3)) + 1


def _require_dask() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ImportError(
            "backend='dask' needs dask.distributed: pip install 'tsrnn[dask]'"
        ) from None


@contextmanager
def parallel_backend(
    backend: Any = "dask",
    *,
    scheduler: str | None = None,
    n_workers: int | None = None,
) -> Iterator[Any]:
    """Run per-series fits, forecasts and backtests of local models inside the block on
    ``backend``.

    Parameters
    ----------
    backend : "dask", "joblib" or a distributed.Client
        ``"dask"``: the cluster whose scheduler is at ``scheduler``, else the current Dask
        client if there is one, else a ``LocalCluster`` of ``n_workers`` processes (default:
        one per core), one thread each, closed when the block ends. A ``Client``: that
        client. ``"joblib"``: the models' own ``n_jobs`` processes (the default).
    scheduler : str, optional
        The scheduler's address, e.g. ``"tcp://10.0.0.5:8786"``.
    n_workers : int, optional
        Workers of the local cluster (only when one is started).

    Yields the client (None for joblib).

    Examples
    --------
    >>> from tsrnn import datasets, parallel_backend
    >>> from tsrnn.models.stats import Theta
    >>> with parallel_backend("joblib"):
    ...     Theta().fit(datasets.load("air_passengers")).predict(2)["Theta"].round(1).tolist()
    [440.1, 428.4]
    """
    if backend is None or backend == "joblib":
        token = _active.set(None)
        try:
            yield None
        finally:
            _active.reset(token)
        return
    if isinstance(backend, str) and backend != "dask":
        raise ValueError(f"backend={backend!r}: choose one of {list(BACKENDS)} or a Dask Client")
    _require_dask()
    with _client(backend, scheduler, n_workers) as client:
        token = _active.set(_Dask(client))
        try:
            yield client
        finally:
            _active.reset(token)


@contextmanager
def _client(backend: Any, scheduler: str | None, n_workers: int | None) -> Iterator[Any]:
    """The client to use, and whatever this block started for it closed at its end."""
    from distributed import Client

    if not isinstance(backend, str):
        if not isinstance(backend, Client):
            raise TypeError(f"backend={backend!r}: pass 'dask', 'joblib' or a distributed.Client")
        yield backend
        return
    if scheduler:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as err:
            from tsrnn.errors import DataError

            reason = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise DataError(
                f"no Dask scheduler answers at {scheduler} ({reason}); start one (dask "
                "scheduler) or check the address"
            ) from None
        with client:
            yield client
        return
    from distributed import get_client

    try:
        existing = get_client()  # a client this process already made
    except ValueError:
        existing = None
    if existing is not None:
        yield existing
        return
    from tsrnn.machine import default_jobs

    workers = n_workers or default_jobs(1)
    with local_cluster(workers) as client:
        yield client


@contextmanager
def local_cluster(n_workers: int) -> Iterator[Any]:
    """A client of a ``LocalCluster`` of ``n_workers`` processes, one thread each, without the
    workers' sampling profiler (it takes the GIL every 10 ms from fits that are mostly Python,
    statsmodels'), closed at the block's end."""
    import dask
    from distributed import Client, LocalCluster

    log.info("starting a Dask LocalCluster of %d worker process(es)", n_workers)
    with (
        dask.config.set({"distributed.worker.profile.enabled": False}),
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def active() -> str:
    """``"joblib"``, or ``"dask (ADDRESS)"`` inside a Dask block: what a report records."""
    backend = _active.get()
    return "joblib" if backend is None else f"dask ({backend.address})"


def map_series(
    func: Callable[[Any, list[Any]], list[Any]], worker: Any, items: list[Any], n_jobs: Any
) -> list[Any]:
    """``func(worker, chunk)`` over chunks of ``items``, the results in the order of
    ``items``: on the Dask cluster inside :func:`parallel_backend`, else on ``n_jobs`` joblib
    processes (in this process for one). Each task takes a chunk of up to ``CHUNK`` series
    (and about 8 MB), so the model is sent once a chunk, not once a series, and four chunks
    or more a worker even out series that take longer."""
    from joblib import Parallel, delayed, effective_n_jobs

    dask = _active.get()
    workers = dask.workers() if dask is not None else effective_n_jobs(n_jobs)
    if dask is None and (workers == 1 or len(items) < 2):
        return list(func(worker, items))
    chunks = _chunks(items, workers)
    if dask is not None:
        return dask.map(func, worker, chunks)
    parts = Parallel(n_jobs=workers, prefer="processes")(
        delayed(func)(worker, chunk) for chunk in chunks
    )
    return [result for part in parts for result in part]


def _chunks(items: list[Any], workers: int) -> list[list[Any]]:
    if not items:
        return []
    size = max(1, min(CHUNK, -(-len(items) // (4 * workers))))
    per = _nbytes(items[0])
    if per:
        size = max(1, min(size, _CHUNK_BYTES // per))
    return [items[a : a + size] for a in range(0, len(items), size)]


def _nbytes(item: Any) -> int:
    """About how many bytes an item carries (its arrays), for sizing chunks."""
    import numpy as np

    if isinstance(item, np.ndarray):
        return int(item.nbytes)
    if isinstance(item, tuple):  # (a fitted state, its longer history): an update's item
        return sum(_nbytes(part) for part in item)
    history = getattr(item, "history", None)
    return int(history.nbytes) if isinstance(history, np.ndarray) else 0
