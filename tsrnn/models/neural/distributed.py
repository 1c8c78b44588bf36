"""One network trained on several processes: torch.distributed's DistributedDataParallel.

``fit(num_processes=N)`` on one machine: this process is rank 0, and :func:`launch` starts
ranks ``1 .. N-1`` with ``torch.multiprocessing`` (spawn), each given a copy of the estimator
and the panel. Every rank prepares the same windows (the same code on the same data), and
:func:`wrap` puts the network in ``DistributedDataParallel``: rank 0's initial weights are
broadcast, and after every backward pass the ranks' gradients are averaged, so the weights
stay the same everywhere. Each step every rank draws the same shuffled batch of
``batch_size`` windows (one seed) and trains on its own share of it (every ``N``-th window
from its rank on, :func:`~tsrnn.models.neural.inputs.train_batches`), each rank's loss
weighed by its share of the batch's observed targets (:func:`share`): at the same total
batch the steps are those of one process, up to the order of floating-point sums and the
dropout masks. Validation is split the same way and summed across the ranks
(:func:`all_sum`), so every rank takes the same early-stopping decision. Rank 0 keeps the
fitted model, in the same format as a fit on one process; the other ranks end with training.

The processes talk through gloo on the CPU and NCCL on CUDA (rank ``r`` on ``cuda:r``). A
rank that fails ends the run: its error is raised in rank 0, naming it; one that ends before
it starts (a script that fits without ``if __name__ == "__main__":``) ends it at once; and a
rank that stops answering ends it after :data:`TIMEOUT` (the process group's timeout), never
a hang.

Several machines: start one process per rank with ``torchrun``, which sets ``RANK``,
``WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT``; :func:`from_environment` joins that
group, and every rank fits (rank 0 is the one whose model to keep). The README's "Scaling
out" section gives the command.
"""

from __future__ import annotations

import inspect
import multiprocessing
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from tsrnn.machine import Launch, launched

TIMEOUT = timedelta(minutes=5)  # a rank silent this long ends the run (the group's timeout)


class DistributedError(RuntimeError):
    """A rank of a training on several processes failed; the message names it."""


@dataclass(frozen=True)
class Rank:
    """Where this process stands in a training on several processes."""

    rank: int
    world: int
    device: str  # this rank's torch device
    keep: bool = True  # whether it keeps the fitted model (rank 0, torchrun's ranks)


def backend_of(device: str) -> str:
    """torch.distributed's backend for ``device``: NCCL on CUDA, gloo elsewhere."""
    return "nccl" if torch.device(device).type == "cuda" else "gloo"


def rank_device(device: str, rank: int, world: int, model: str) -> str:
    """Rank ``rank``'s device: the CPU for a CPU fit, ``cuda:rank`` for a CUDA one (NCCL
    needs a GPU per process)."""
    if torch.device(device).type != "cuda":
        return device
    gpus = torch.cuda.device_count()
    if world > gpus:
        raise ValueError(
            f"{model}: num_processes={world} on CUDA needs a GPU per process and this machine "
            f"has {gpus}: lower num_processes= or train on device='cpu'"
        )
    return f"cuda:{rank}"


def from_environment() -> Launch | None:
    """The group this process belongs to: one already initialized, or one ``torchrun``
    describes in the environment (:func:`tsrnn.machine.launched`); None otherwise."""
    if dist.is_available() and dist.is_initialized():
        rank, world = dist.get_rank(), dist.get_world_size()
        local = int(os.environ.get("LOCAL_RANK", rank))
        return Launch(rank, world, local, int(os.environ.get("LOCAL_WORLD_SIZE", world)))
    return launched()


@contextmanager
def joined(device: str) -> Iterator[None]:
    """The torchrun group of the environment, initialized for the block if nobody has."""
    if dist.is_initialized():
        yield
        return
    dist.init_process_group(backend_of(device), init_method="env://", timeout=TIMEOUT)
    try:
        yield
    finally:
        dist.destroy_process_group()


@contextmanager
def launch(
    target: Callable[..., None], args: tuple, world: int, device: str, model: str
) -> Iterator[None]:
    """Start ranks ``1 .. world-1`` running ``target(rank, world, *args)`` and make this process
    rank 0 of their group for the block.

    A daemonic process (a pool's or a Dask worker) may not start processes: refused in
    words, before anything starts. When the block ends, training is over everywhere (its last
    step and validation were collective), so the started ranks are stopped, their work done.
    When it fails because the group did (a peer gone, or silent past :data:`TIMEOUT`), the
    error names the rank that failed and its own error; any other error of this process is
    raised as it is.
    """
    if multiprocessing.current_process().daemon:  # where multiprocessing would assert
        raise ValueError(
            f"{model}: num_processes={world} in a daemonic process "
            f"({multiprocessing.current_process().name}: a multiprocessing pool's or a Dask "
            "worker), which may not start processes; leave num_processes= unset inside "
            "workers, or run the fit from a main process"
        )
    port, timeout = _free_port(), TIMEOUT
    started = multiprocessing.get_context("spawn").SimpleQueue()  # each rank's "I run"
    context = torch.multiprocessing.start_processes(
        _rank_main,
        args=(target, args, world, port, device, timeout, started),
        nprocs=world - 1,
        join=False,
        start_method="spawn",
    )
    try:
        _await_start(context, started, world, timeout, model)
        dist.init_process_group(
            backend_of(device),
            init_method=f"tcp://127.0.0.1:{port}",
            rank=0,
            world_size=world,
            timeout=timeout,
        )
        yield
    except DistributedError:
        raise
    except RuntimeError as err:
        if not _from_the_group(err):
            raise  # this process's own error (a non-finite loss, ...), as it is
        failed = _failed_rank(context)  # a rank that died first is the cause
        if failed is not None:
            raise DistributedError(f"{model}: training on {world} processes: {failed}") from err
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DistributedError(
            f"{model}: training on {world} processes: no answer from the other processes "
            f"within {timeout} ({first}); the run is stopped"
        ) from err
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
        _stop(context)


def _rank_main(
    index: int,
    target: Callable[..., None],
    args: tuple,
    world: int,
    port: int,
    device: str,
    timeout: timedelta,
    started: Any,
) -> None:
    """A started rank: say it runs, join the group, run ``target``, leave. Ctrl-C is rank
    0's to handle (the terminal sends it to every process): it stops the others when it
    stops."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    rank = index + 1
    started.put(rank)
    dist.init_process_group(
        backend_of(device),
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=world,
        timeout=timeout,
    )
    try:
        target(rank, world, *args)
    finally:
        dist.destroy_process_group()


def _await_start(context: Any, started: Any, world: int, timeout: timedelta, model: str) -> None:
    """Wait until every started rank runs (its imports done, its copy of the estimator and
    the panel read). A rank that ends before ends the run at once, naming it: the group would
    wait for it past its timeout. One that exits with an error is most often a script that
    fits at its top level: spawned processes import the script again, so they fit again,
    which multiprocessing refuses; one ended by a signal most often ran out of memory."""
    waiting, deadline = world - 1, time.monotonic() + timeout.total_seconds()
    while True:
        while waiting and not started.empty():
            started.get()
            waiting -= 1
        if not waiting:
            return
        ended = [p.exitcode for p in context.processes if p.exitcode is not None]
        if ended:
            failed = _failed_rank(context) or "a rank failed"
            why = (
                "a script that fits on several processes must fit under "
                '`if __name__ == "__main__":`, since every started process imports the '
                "script again (the rank's own error is printed above)"
                if ended[0] >= 0
                else "each process holds a copy of the panel: was memory short?"
            )
            raise DistributedError(
                f"{model}: training on {world} processes: {failed}, before it started "
                f"training; {why}"
            )
        if time.monotonic() > deadline:
            raise DistributedError(
                f"{model}: training on {world} processes: {waiting} started process(es) "
                f"did not start within {timeout}; the run is stopped"
            )
        time.sleep(0.02)


def _from_the_group(err: RuntimeError) -> bool:
    """Whether ``err`` is the process group's: a peer gone or silent (gloo raises plain
    RuntimeErrors for some of these)."""
    if isinstance(err, dist.DistError):
        return True
    text = str(err)
    return any(word in text for word in ("gloo", "NCCL", "Connection reset", "Timed out"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _failed_rank(context: Any) -> str | None:
    """The first started rank that failed, described (waiting up to a few seconds for it to
    exit: rank 0's error may come from its peer closing the connection as it died)."""
    try:
        context.join(timeout=5)
    except Exception as err:
        return _describe(err)
    return None


def _describe(err: BaseException) -> str:
    """One line: which rank failed and its error's last line."""
    rank = getattr(err, "error_index", None)
    name = f"rank {rank + 1}" if rank is not None else "a rank"
    if isinstance(err, torch.multiprocessing.ProcessExitedException):  # no error of its own
        if err.signal_name:
            return f"{name} was ended by {err.signal_name}"
        return f"{name} ended with exit code {err.exit_code}"
    text = str(err).strip().splitlines()
    # a rank's exception: its traceback, the error last
    last = next((line for line in reversed(text) if line.strip()), type(err).__name__)
    return f"{name} failed: {last.strip()}"


def _stop(context: Any) -> None:
    """Stop the started ranks and remove the files a failed rank wrote its error to (torch
    names one per rank in the temporary folder and leaves it there once read)."""
    for process in context.processes:
        if process.is_alive():
            process.terminate()
    for process in context.processes:
        process.join(timeout=10)
    for path in getattr(context, "error_files", ()):
        with suppress(OSError):
            os.remove(path)


class _Calls(nn.Module):
    """DistributedDataParallel runs its module's ``forward``: this one's calls the network's
    ``forward`` or ``forward_every`` (training with ``forecasts_per_window``), named."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.net, method)(*args, **kwargs)


def wrap(net: nn.Module, rank: Rank) -> Callable[..., Any]:
    """``call(method, *args)``: ``net``'s method through DistributedDataParallel, which
    broadcasts rank 0's weights now and averages the gradients after each backward pass."""
    device = torch.device(rank.device)
    ids = [device.index] if device.type == "cuda" else None
    # The network's buffers are constants (column indices): no need to sync them every step.
    DDP = nn.parallel.DistributedDataParallel
    quiet = "forward_sync_buffers" in inspect.signature(DDP.__init__).parameters  # torch >= 2.13
    sync = {"forward_sync_buffers": False} if quiet else {"broadcast_buffers": False}
    return DDP(_Calls(net), device_ids=ids, **sync)


def share(count: torch.Tensor) -> torch.Tensor:
    """This rank's ``count`` over the ranks' mean count (one all-reduce): the weight that turns
    its masked mean loss into its part of the mean over all ranks' targets, once
    DistributedDataParallel averages the gradients."""
    counts = count.detach().to(torch.float32).reshape(1)
    total = counts.clone()
    dist.all_reduce(total)
    return counts[0] * dist.get_world_size() / total[0].clamp(min=1.0)


def all_sum(*values: float, device: str) -> list[float]:
    """Each value summed over the ranks (float64)."""
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()
