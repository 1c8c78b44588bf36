"""What this machine offers the work: the cores a process may use, how a command splits
them between worker processes and threads, and how the C allocator and the floating-point
unit are set while a network trains."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
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


# glibc's mallopt parameters (malloc.h) and what held_heap sets them to.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_HELD = 1 << 30  # while training: blocks up to 1 GiB come from the heap, which keeps 1 GiB free
_MMAP_AFTER, _TRIM_AFTER = 32 << 20, 64 << 20  # after: where glibc's own thresholds settle
# A user's own allocator settings win: with any of these set, held_heap changes nothing.
_USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")
_heap_lock = threading.Lock()
_heap_users = 0


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    """The process's C library where it is glibc (Linux), None elsewhere."""
    try:  # "glibc 2.36"; musl and other systems have no such name
        version = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (AttributeError, ValueError, OSError):
        version = ""
    if not sys.platform.startswith("linux") or not version.startswith("glibc"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt, libc.malloc_trim  # noqa: B018 - both must exist
    except (OSError, AttributeError):
        return None
    return libc


def _user_tuned() -> bool:
    env = os.environ
    return any(k in env for k in _USER_SETTINGS) or "glibc.malloc" in env.get("GLIBC_TUNABLES", "")


@contextmanager
def held_heap() -> Iterator[None]:
    """While a network trains on the CPU, keep the memory each step frees for the next step.

    glibc hands a block over 128 KiB-32 MiB back to the kernel when it is freed (``mmap``, or a
    trim of the heap's top), so each step of training faults its activations' pages in again:
    a third of the demo's time went to the kernel, not to torch (``make demo`` took 114 s
    without this block, 73 s with it, for the same forecasts). Inside this block, blocks up to
    1 GiB come from the heap and the heap keeps up to 1 GiB free; on leaving the last such
    block, the thresholds go back to where glibc's own settle (32 MiB / 64 MiB) and the free
    memory is returned (``malloc_trim``). Freed blocks stay in the heap during the fit, so its
    peak memory grows a little (2-16 % measured) and falls back after it.

    Nothing changes on other C libraries (macOS, Windows, musl), or where the user set glibc's
    allocator through the environment (``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``,
    ``MALLOC_TOP_PAD_`` or ``GLIBC_TUNABLES``), or under another allocator (jemalloc, tcmalloc
    through ``LD_PRELOAD``: glibc's settings are then unused). Threads share the setting: the
    last fit to end restores it.
    """
    global _heap_users
    libc = _glibc()
    if libc is None or _user_tuned():
        yield
        return
    with _heap_lock:
        if _heap_users == 0:
            libc.mallopt(_M_MMAP_THRESHOLD, _HELD)
            libc.mallopt(_M_TRIM_THRESHOLD, _HELD)
        _heap_users += 1
    try:
        yield
    finally:
        with _heap_lock:
            _heap_users -= 1
            if _heap_users == 0:
                libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_AFTER)
                libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_AFTER)
                libc.malloc_trim(0)


# glibc's fenv_t is 32 bytes on x86-64 (28 on i386, 8 on aarch64): room to spare.
_FENV_BYTES = 128


@functools.cache
def _fenv() -> ctypes.CDLL | None:
    """glibc's math library (``fegetenv``, ``fesetenv``), None off glibc."""
    if _glibc() is None:
        return None
    try:
        libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
        libm.fegetenv, libm.fesetenv  # noqa: B018 - both must exist
    except (OSError, AttributeError):
        return None
    return libm


@functools.cache
def _openmp() -> ctypes.CDLL | None:
    """The OpenMP runtime torch's CPU threads run on, where it speaks GNU's interface
    (``libgomp``, or Intel's ``libiomp5``, which offers it too); None where it cannot be told.
    Other packages load runtimes of their own (scikit-learn bundles a libgomp): torch's is the
    one whose ``omp_get_max_threads`` torch's own library resolves to. Called once torch is
    imported."""

    def loaded(*names: str) -> list[str]:
        with open("/proc/self/maps") as maps:
            return sorted({line.split()[-1] for line in maps if any(n in line for n in names)})

    def address(lib: ctypes.CDLL) -> int | None:
        return ctypes.cast(lib.omp_get_max_threads, ctypes.c_void_p).value

    noload = os.RTLD_NOLOAD | os.RTLD_LAZY  # the copies already loaded: nothing new
    try:
        torch_cpu = [ctypes.CDLL(path, mode=noload) for path in loaded("libtorch_cpu")]
        targets = {address(lib) for lib in torch_cpu}  # found through its dependencies
        candidates = loaded("libgomp", "libiomp")
    except (OSError, AttributeError):
        return None
    for path in candidates:
        try:
            lib = ctypes.CDLL(path, mode=noload)
            if address(lib) not in targets:
                continue
            lib.GOMP_parallel.argtypes = (ctypes.c_void_p,) * 2 + (ctypes.c_uint,) * 2
        except (OSError, AttributeError):
            continue  # another runtime, or one without GNU's interface
        lib.GOMP_parallel.restype = None
        return lib
    return None


@contextmanager
def flushed_denormals() -> Iterator[None]:
    """While a network trains on the CPU, round numbers below float32's smallest normal one
    (1.2e-38) to zero, on this thread and on torch's worker threads.

    Back-propagation through a long window shrinks the recurrent gradients step by step until,
    early in training, some fall into that subnormal range, where x86 processors compute each
    operation many times slower: ETTh2's fit (one series, h = 96) ran its first 50 steps at a
    tenth of its later speed. Flushed, those gradients are 0 a little sooner than they would
    be anyway; its losses and forecasts do not change in the digits the benchmark prints, and
    its row takes 148 s instead of 199 (benchmarks/RESULTS.md).

    The floating-point unit's mode is set per thread: torch's worker threads get this
    thread's through one parallel region of its OpenMP runtime (``fesetenv`` run on each),
    and on leaving, every thread gets this thread's mode from before the block. Nothing
    changes off glibc (macOS, Windows, musl), on a processor torch cannot set
    (``torch.set_flush_denormal`` returns False), or for threads of another runtime.
    """
    import torch

    libm = _fenv()
    before = (ctypes.c_char * _FENV_BYTES)()
    if libm is None or libm.fegetenv(before) != 0 or not torch.set_flush_denormal(True):
        yield
        return
    during = (ctypes.c_char * _FENV_BYTES)()
    libm.fegetenv(during)
    gomp, threads = _openmp(), torch.get_num_threads()
    fesetenv = ctypes.cast(libm.fesetenv, ctypes.c_void_p)
    if gomp is not None and threads > 1:
        gomp.GOMP_parallel(fesetenv, ctypes.addressof(during), threads, 0)
    try:
        yield
    finally:
        libm.fesetenv(before)
        if gomp is not None and threads > 1:
            gomp.GOMP_parallel(fesetenv, ctypes.addressof(before), threads, 0)


@contextmanager
def training_cpu() -> Iterator[None]:
    """How the CPU is set while a network trains on it: :func:`held_heap` and
    :func:`flushed_denormals`."""
    with held_heap(), flushed_denormals():
        yield
