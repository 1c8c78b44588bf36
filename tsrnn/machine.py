"""What this machine offers the work: the cores a process may use, and how a command splits
them between worker processes and threads."""

from __future__ import annotations

import os


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
