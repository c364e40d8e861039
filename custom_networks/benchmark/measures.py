"""What the benchmark measures with: wall time, peak memory of a call, memory traffic of ATen operators, and the
training step and inference of a network timed with them.

Timings are wall-clock seconds read with ``time.perf_counter`` after synchronising the device. The machine limits
are short calls: :func:`autorange_seconds` leaves warm-up and repeat count to ``torch.utils.benchmark.Timer``. A
network step runs for seconds and its first call is a measure of its own (peak memory, compile time), so
:func:`median_seconds` times exactly the ``--repeats`` calls asked for (``timeit.Timer.repeat``) after the caller's
warm-up.
"""

from __future__ import annotations

import functools
import gc
import multiprocessing
import statistics
import sys
import time
import timeit
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils import benchmark

from custom_networks.allocator import trim_freed_memory
from custom_networks.benchmark.dispatch import TorchDispatchMode, tensors_in

__all__ = [
    "MemoryTrafficMode",
    "PeakMemory",
    "StepTimer",
    "add_ratios",
    "in_fresh_process",
    "autorange_seconds",
    "median_seconds",
    "synchronize",
]


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work, so that a clock read afterwards includes it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _synchronized_clock(device: torch.device) -> float:
    synchronize(device)
    return time.perf_counter()


def median_seconds(fn: Callable[[], Any], device: torch.device, repeats: int) -> float:
    """Median wall seconds of ``repeats`` calls of ``fn``, each timed alone, with no warm-up (garbage collection
    stays on, as outside the measurement)."""
    timer = timeit.Timer(fn, setup=gc.enable, timer=functools.partial(_synchronized_clock, device))
    return statistics.median(timer.repeat(repeat=repeats, number=1))


def autorange_seconds(fn: Callable[[], Any], device: torch.device, min_run_time: float) -> float:
    """Median seconds of one call of ``fn``: ``torch.utils.benchmark.Timer.blocked_autorange`` (its warm-up, then
    blocks of calls for at least ``min_run_time`` seconds) with this process's thread count."""
    timer = benchmark.Timer(
        stmt="fn()",
        globals={"fn": fn},
        timer=functools.partial(_synchronized_clock, device),
        num_threads=torch.get_num_threads(),
    )
    return timer.blocked_autorange(min_run_time=min_run_time).median


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
            self.bytes += sum(t.numel() * t.element_size() for t in tensors_in((args, kwargs, out)))
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


class StepTimer:
    """Times a network's training step (forward, MSE loss, backward, Adam step) and inference forward in one
    setting: autocast ``dtype`` (None: fp32), ``inference`` context (``inference_mode``, ``no_grad`` or ``autograd``
    for a plain forward). Each measure first runs one untimed warm-up call under :class:`PeakMemory` (its
    peak memory is reported), then the median of ``repeats`` timed calls."""

    CONTEXTS: dict[str, Callable[[], Any]] = {
        "inference_mode": torch.inference_mode,
        "no_grad": torch.no_grad,
        "autograd": torch.enable_grad,
    }

    def __init__(self, net: nn.Module, x: torch.Tensor, out_channels: int, dtype: torch.dtype | None = None) -> None:
        self.net, self.x, self.dtype = net, x, dtype
        self.target = torch.zeros(x.shape[0], out_channels, *x.shape[2:], device=x.device)
        self.optimizer = torch.optim.Adam(net.parameters(), lr=1e-4)

    def autocast(self) -> torch.autocast:
        """Autocast to ``dtype``, off for fp32."""
        return torch.autocast(self.x.device.type, dtype=self.dtype, enabled=self.dtype is not None)

    def train_step(self) -> None:
        """One optimiser step on the MSE loss against zeros."""
        self.optimizer.zero_grad(set_to_none=True)
        with self.autocast():
            output = self.net(self.x)
        nn.functional.mse_loss(output.float(), self.target).backward()
        self.optimizer.step()

    def measure(self, kind: str, fn: Callable[[], Any], repeats: int) -> dict[str, Any]:
        """``<kind>_s``: median seconds; ``<kind>_first_s``, ``<kind>_peak_mib``: seconds and peak MiB of the
        warm-up call."""
        with PeakMemory(self.x.device) as peak:
            first = median_seconds(fn, self.x.device, 1)
        seconds = median_seconds(fn, self.x.device, repeats)
        return {f"{kind}_s": seconds, f"{kind}_first_s": first, f"{kind}_peak_mib": peak.mib}

    def train(self, repeats: int) -> dict[str, Any]:
        """The training step's times and peak memory."""
        self.net.train()
        return self.measure("train", self.train_step, repeats)

    def infer(self, repeats: int, context: str = "inference_mode") -> dict[str, Any]:
        """The inference forward's times and peak memory under ``context``."""
        self.net.eval()

        def forward() -> None:
            with self.CONTEXTS[context](), self.autocast():
                self.net(self.x)

        return self.measure("infer", forward, repeats)


def in_fresh_process(fn: Callable[..., Any], *args: Any, initializer: Callable[[], None] | None = None) -> Any:
    """``fn(*args)`` in a fresh (spawned) Python process, as a program run of its own would: no memory, allocator
    setting or cache of this process carries over. ``initializer`` runs there first. A process killed on the way (out
    of memory) raises ``concurrent.futures.process.BrokenProcessPool``."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=initializer) as pool:
        return pool.submit(fn, *args).result()


def add_ratios(row: dict[str, Any], baseline: dict[str, Any]) -> None:
    """Speed-ups (``train_speedup``, ``infer_speedup``) and training peak ratio of ``row`` over ``baseline``, the
    row of the same network that the others are compared with."""
    for key in ("train_s", "infer_s"):
        if key in row:
            row[key.replace("_s", "_speedup")] = baseline[key] / row[key]
    if row.get("train_peak_mib") and baseline.get("train_peak_mib"):
        row["train_peak_ratio"] = row["train_peak_mib"] / baseline["train_peak_mib"]
