"""The C allocator while a network trains (``tsrnn.machine.held_heap``): freed memory stays for
the next step inside the block, goes back to the kernel after it, and a user's own allocator
settings are left alone."""

from __future__ import annotations

import ctypes
import os

import numpy as np
import pandas as pd
import pytest

from tsrnn import LSTMForecaster
from tsrnn.machine import _glibc, held_heap

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
