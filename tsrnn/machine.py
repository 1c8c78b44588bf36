"""What this machine offers the work: the cores a process may use, and how a command splits
them between worker processes and threads."""

from __future__ import annotations

import os
from dataclasses import dataclass


def available_cores() -> int:
    """The CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS, Windows
        return os.cpu_count() or 1


def default_jobs(threads_per_job: int = 1, cores: int | None = None) -> int:
    """Worker processes that, at ``threads_per_job`` threads each, fill the cores without
    exceeding them (at least one).

    >>> default_jobs(cores=16), default_jobs(4, cores=16), default_jobs(4, cores=2)
    (16, 4, 1)
    """
    cores = available_cores() if cores is None else cores
    return max(cores // max(threads_per_job, 1), 1)


@dataclass(frozen=True)
class Launch:
    """Where a launcher (``torchrun``) put this process: its rank among ``world``, and among
    the ``local_world`` processes of this machine."""

    rank: int
    world: int
    local_rank: int
    local_world: int


def launched() -> Launch | None:
    """The rank ``torchrun`` gave this process (``RANK``, ``WORLD_SIZE`` > 1 and
    ``MASTER_ADDR`` in the environment), None when no launcher started it; read without
    importing torch, so the command line can ask it.

    >>> launched() is None  # a plain process
    True
    """
    env = os.environ
    world = int(env.get("WORLD_SIZE", "1") or 1)
    if world < 2 or "RANK" not in env or "MASTER_ADDR" not in env:
        return None
    rank = int(env["RANK"])
    local = int(env.get("LOCAL_RANK", rank))
    return Launch(rank, world, local, int(env.get("LOCAL_WORLD_SIZE", world)))
