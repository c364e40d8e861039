"""``machine_limits``: the reference limits the other sections are compared with.

Dense matrix multiplication throughput (``torch.mm`` of two n × n matrices, n = 4096, 256 with ``--quick``; 2n³
floating-point operations per product) in fp32 and, where the device runs it, bf16; and memory-copy bandwidth
(``Tensor.copy_`` of a 256 MiB fp32 buffer, 4 MiB with ``--quick``; bytes read plus bytes written per second).
Median seconds per call from ``torch.utils.benchmark.Timer.blocked_autorange``: its warm-up, then blocks of calls for
at least 2 s (0.1 s with ``--quick``). Each limit is measured once per process; ``network_steps`` reuses them.
"""

from __future__ import annotations

import functools

import torch

from custom_networks.benchmark.measures import autorange_seconds
from custom_networks.benchmark.settings import BenchmarkSettings, Row

__all__ = ["COLUMNS", "copy_gbytes_per_s", "machine_limits", "matmul_gflops"]

MATMUL_SIZE, QUICK_MATMUL_SIZE = 4096, 256
COPY_MIB, QUICK_COPY_MIB = 256, 4
MIN_RUN_TIME, QUICK_MIN_RUN_TIME = 2.0, 0.1

COLUMNS = [
    ("measure", "Measure"),
    ("size", "Size (n or elements)"),
    ("seconds", "Seconds (median)"),
    ("gflops", "GFLOP/s"),
    ("gbytes_per_s", "GB/s"),
]


def bf16_matmul_supported(device: torch.device) -> bool:
    """Whether the device multiplies bf16 matrices (CUDA: compute capability ≥ 8.0; CPU: a bf16 ``torch.mm`` runs)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    try:
        torch.mm(torch.ones(2, 2, dtype=torch.bfloat16), torch.ones(2, 2, dtype=torch.bfloat16))
    except RuntimeError:
        return False
    return True


@functools.cache
def matmul_seconds(device: torch.device, n: int, dtype: torch.dtype, min_run_time: float) -> float:
    """Median seconds of one n × n by n × n ``torch.mm``."""
    a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
    return autorange_seconds(lambda: torch.mm(a, b), device, min_run_time)


@functools.cache
def copy_seconds(device: torch.device, numel: int, min_run_time: float) -> float:
    """Median seconds of copying ``numel`` fp32 values into another buffer."""
    source, target = torch.randn(numel, device=device), torch.empty(numel, device=device)
    return autorange_seconds(lambda: target.copy_(source), device, min_run_time)


def _min_run_time(run: BenchmarkSettings) -> float:
    return QUICK_MIN_RUN_TIME if run.quick else MIN_RUN_TIME


def matmul_row(run: BenchmarkSettings, dtype: torch.dtype) -> Row:
    """The dense matmul reference in ``dtype``: seconds and GFLOP/s of ``torch.mm`` (2n³ operations)."""
    n = QUICK_MATMUL_SIZE if run.quick else MATMUL_SIZE
    seconds = matmul_seconds(run.device, n, dtype, _min_run_time(run))
    return {
        "measure": f"matmul {str(dtype).removeprefix('torch.')}",
        "size": n,
        "seconds": seconds,
        "gflops": 2 * n**3 / seconds / 1e9,
    }


def copy_row(run: BenchmarkSettings) -> Row:
    """The memory-bandwidth reference: seconds and GB/s read plus written by ``Tensor.copy_`` of fp32 values."""
    numel = (QUICK_COPY_MIB if run.quick else COPY_MIB) * 2**20 // 4
    seconds = copy_seconds(run.device, numel, _min_run_time(run))
    return {"measure": "memory copy fp32", "size": numel, "seconds": seconds, "gbytes_per_s": 8 * numel / seconds / 1e9}


def matmul_gflops(run: BenchmarkSettings) -> float:
    """GFLOP/s of the fp32 matmul reference."""
    return matmul_row(run, torch.float32)["gflops"]


def copy_gbytes_per_s(run: BenchmarkSettings) -> float:
    """GB/s of the memory-copy reference."""
    return copy_row(run)["gbytes_per_s"]


def machine_limits(run: BenchmarkSettings) -> list[Row]:
    """Dense matmul FLOP/s (fp32, bf16 where supported) and memory-copy bandwidth of the device."""
    dtypes = [torch.float32] + ([torch.bfloat16] if bf16_matmul_supported(run.device) else [])
    rows = [matmul_row(run, dtype) for dtype in dtypes] + [copy_row(run)]
    return [{"section": "machine_limits", **row} for row in rows]
