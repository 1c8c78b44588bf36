"""The CPU while a network trains (``tsrnn.machine``): with ``held_heap`` freed memory stays for
the next step inside the block, goes back to the kernel after it, and a user's own allocator
settings are left alone; with ``flushed_denormals`` every torch thread reads and writes
numbers below float32's smallest normal one as zero inside the block, and as before after it."""

from __future__ import annotations

import ctypes
import os

import numpy as np
import pandas as pd
import pytest

from tsrnn import LSTMForecaster
from tsrnn.machine import _fenv, _glibc, flushed_denormals, held_heap

BLOCK = 200 << 20  # above every threshold glibc picks by itself (32 MiB at most)


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in [
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        ]
    ]


def _libc():
    libc = _glibc()
    if libc is None or not hasattr(libc, "mallinfo2"):
        pytest.skip(
            "these tests read glibc's counters with mallinfo2 (glibc 2.33 and later); this C "
            "library has none, and held_heap changes nothing but glibc"
        )
    libc.mallinfo2.restype = _MallInfo2
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    return libc


def _mapped_for(libc, size: int) -> int:
    """Bytes glibc maps on its own (outside the heap) while a block of ``size`` is held."""
    before = libc.mallinfo2().hblkhd
    ptr = libc.malloc(size)
    assert ptr
    try:
        ctypes.memset(ptr, 1, size)
        return libc.mallinfo2().hblkhd - before
    finally:
        libc.free(ptr)


def _resident() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.fixture
def quiet_env(monkeypatch):
    for name in (
        "MALLOC_MMAP_THRESHOLD_",
        "MALLOC_TRIM_THRESHOLD_",
        "MALLOC_TOP_PAD_",
        "GLIBC_TUNABLES",
    ):
        monkeypatch.delenv(name, raising=False)


def test_inside_the_block_freed_memory_stays_and_after_it_goes_back(quiet_env):
    libc = _libc()
    assert _mapped_for(libc, BLOCK) >= BLOCK  # glibc's own choice: a block this big is mapped
    with held_heap():
        assert _mapped_for(libc, BLOCK) == 0  # from the heap, so freeing it keeps its pages
        held = _resident()
    assert held - _resident() >= BLOCK // 2  # leaving the block returned the freed pages
    assert _mapped_for(libc, BLOCK) >= BLOCK  # and glibc maps big blocks again


def test_a_users_own_allocator_settings_are_left_alone(quiet_env, monkeypatch):
    libc = _libc()
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")
    with held_heap():
        assert _mapped_for(libc, BLOCK) >= BLOCK


def test_a_fit_holds_the_heap_while_it_trains_and_leaves_it_as_it_found_it(quiet_env):
    libc = _libc()
    index = pd.date_range("2024-01-01", periods=120, freq="h")
    df = pd.DataFrame({"ds": index, "y": np.sin(np.arange(120) / 4.0) + 2.0})
    during = []  # the progress hook runs inside the training loop
    LSTMForecaster(
        horizon=6,
        hidden_size=8,
        max_steps=3,
        random_state=0,
        callback=lambda progress: during.append(_mapped_for(libc, BLOCK)),
    ).fit(df)
    assert during and all(mapped == 0 for mapped in during)
    assert _mapped_for(libc, BLOCK) >= BLOCK


# --------------------------------------------------------------------- subnormal numbers
SUBNORMAL = 1e-39  # below float32's smallest normal number, 1.18e-38


_probe = []  # 4 million subnormal numbers, made once while no thread flushes them


def _subnormals_kept() -> float:
    """Twice a subnormal number, summed over 4 million of them: torch splits the product
    between its threads, so any thread that keeps subnormals leaves its share above 0."""
    return float((_probe[0] * 2.0).abs().sum())


@pytest.fixture
def two_threads():
    import torch

    if _fenv() is None or not torch.set_flush_denormal(False):
        pytest.skip(
            "flushed_denormals sets the threads' modes through glibc (fesetenv) on processors "
            "torch can set (x86 with SSE3, ARM); this machine has neither"
        )
    import sklearn  # noqa: F401 - loads a second OpenMP runtime: the block must pick torch's

    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # a worker thread besides this one, even on one core
    if not _probe:
        _probe.append(torch.full((4_000_000,), SUBNORMAL))
    assert float(_probe[0][-1]) > 0
    _subnormals_kept()  # the worker threads exist before the block sets the mode
    try:
        yield
    finally:
        torch.set_flush_denormal(False)
        torch.set_num_threads(threads)


def test_inside_the_block_every_torch_thread_flushes_subnormals_and_after_it_none(two_threads):
    assert _subnormals_kept() > 0  # the processor's default: subnormals computed
    with flushed_denormals():
        assert _subnormals_kept() == 0.0  # this thread's share and the worker's
    assert _subnormals_kept() > 0


def test_a_users_own_flush_mode_is_kept_after_the_block(two_threads):
    import torch

    torch.set_flush_denormal(True)
    with flushed_denormals():
        assert _subnormals_kept() == 0.0
    assert _subnormals_kept() == 0.0  # every thread flushes still, as the user set it


def test_a_fit_flushes_subnormals_while_it_trains_and_not_after(two_threads):
    index = pd.date_range("2024-01-01", periods=120, freq="h")
    df = pd.DataFrame({"ds": index, "y": np.sin(np.arange(120) / 4.0) + 2.0})
    during = []  # the progress hook runs inside the training loop
    model = LSTMForecaster(
        horizon=6,
        hidden_size=8,
        max_steps=3,
        random_state=0,
        num_threads=2,
        callback=lambda progress: during.append(_subnormals_kept()),
    ).fit(df)
    assert during and all(kept == 0.0 for kept in during)
    assert _subnormals_kept() > 0
    assert np.isfinite(model.predict(6)["LSTM"]).all()
