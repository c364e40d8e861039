"""What ``scripts/benchmark.py`` measures with: wall time, peak memory of a call, memory traffic of ATen operators.

Kept apart from the benchmark's sections so that each measure is defined once and can be reused on its own::

    from measurement import PeakMemory, MemoryTrafficMode, median_seconds
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from custom_networks.allocator import trim_freed_memory

__all__ = ["MemoryTrafficMode", "PeakMemory", "median_seconds", "synchronize"]


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work, so that a timer read afterwards includes it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_seconds(fn: Callable[[], Any], device: torch.device, repeats: int) -> float:
    """Median wall seconds of ``repeats`` calls of ``fn``."""
    times = []
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# Operators that allocate without touching the memory (their outputs are written by the next operator).
ALLOCATING_ONLY = ("empty", "empty_like", "empty_strided", "new_empty", "new_empty_strided", "set_", "lift_fresh")


class MemoryTrafficMode(TorchDispatchMode):
    """Counts the bytes every ATen operator run under it reads and writes, as the sizes of its tensor arguments plus
    its tensor outputs (an in-place operator's tensor counts as read and written). Views and allocations are free.

    It models the traffic to main memory as if no operator found its data in a cache: a fused kernel or a cache hit
    moves less, an operator that reads its input several times (a convolution's im2col) more. Use it inside other
    dispatch modes, e.g. ``torch.utils.flop_counter.FlopCounterMode``, to count both in one pass.
    """

    def __init__(self) -> None:
        super().__init__()
        self.bytes = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001 - TorchDispatchMode signature
        out = func(*args, **(kwargs or {}))
        if not func.is_view and func.__name__.split(".")[0] not in ALLOCATING_ONLY:
            tensors = tree_flatten((args, kwargs, out))[0]
            self.bytes += sum(t.numel() * t.element_size() for t in tensors if isinstance(t, torch.Tensor))
        return out


class PeakMemory:
    """Peak memory a block adds to the process: on CUDA ``torch.cuda.max_memory_allocated`` above what was
    allocated before; on Linux the peak resident set size (``VmHWM``, reset through ``/proc/self/clear_refs``) above
    the resident size before, after freeing Python garbage and handing freed heap memory back to the system
    (glibc ``malloc_trim``) so that the block cannot reuse pages already counted. ``mib`` is None where neither
    applies (e.g. macOS).

    Example::

        with PeakMemory(device) as peak:
            train_step()
        print(peak.mib)
    """

    STATUS, CLEAR_REFS = Path("/proc/self/status"), Path("/proc/self/clear_refs")

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.mib: float | None = None
        self._before = 0

    @classmethod
    def _status_kib(cls, field: str) -> int:
        line = next(line for line in cls.STATUS.read_text().splitlines() if line.startswith(f"{field}:"))
        return int(line.split()[1])

    def _cpu_supported(self) -> bool:
        return sys.platform.startswith("linux") and self.STATUS.exists() and self.CLEAR_REFS.exists()

    def __enter__(self) -> PeakMemory:
        gc.collect()
        if self.device.type == "cuda":
            synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._before = torch.cuda.memory_allocated(self.device)
        elif self._cpu_supported():
            trim_freed_memory()
            self.CLEAR_REFS.write_text("5")  # resets VmHWM to the current resident size
            self._before = self._status_kib("VmRSS") * 1024
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.device.type == "cuda":
            synchronize(self.device)
            self.mib = (torch.cuda.max_memory_allocated(self.device) - self._before) / 2**20
        elif self._cpu_supported():
            self.mib = (self._status_kib("VmHWM") * 1024 - self._before) / 2**20
