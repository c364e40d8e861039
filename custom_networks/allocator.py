"""Reuse of the memory freed on the CPU (glibc's malloc settings), switched on from a bundle config.

PyTorch takes every CPU tensor from the C library's ``malloc``. glibc serves the large blocks a network's activations
need (above its mmap threshold, at most 32 MiB) with fresh ``mmap``-ed pages and unmaps them again on ``free``, and
hands freed memory at the top of its heap back to the system. Every training step then asks the kernel for all its
activations anew, and the kernel zero-fills them page by page on first touch: on the development machine the
memory-bound operators (BatchNorm, ReLU, sums, concatenation) paid for it most, and MultiResUNet's 2-D training step
took 1.74× as long (``docs/performance.md``). :func:`reuse_freed_memory` makes glibc keep freed memory in the process
and hand it out again, as the jemalloc and tcmalloc allocators that PyTorch's CPU tuning guides recommend do.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

__all__ = ["reuse_freed_memory", "trim_freed_memory"]

# mallopt parameters and glibc's defaults (malloc.h, mallopt(3))
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4
_DEFAULT_TRIM_THRESHOLD, _DEFAULT_MMAP_MAX = 128 * 1024, 65536
_NEVER_TRIM = -1  # "setting M_TRIM_THRESHOLD to -1 disables trimming completely" (mallopt(3))


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    """The C library if it is glibc (it has ``mallopt`` and ``malloc_trim``), else None (macOS, Windows, musl)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    libc = ctypes.CDLL(name)
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def reuse_freed_memory(enabled: bool = True) -> bool:
    """Keep the memory this process frees for its next allocations instead of returning it to the system.

    Serves every allocation from glibc's heap (``M_MMAP_MAX`` 0) and never trims the heap (``M_TRIM_THRESHOLD``
    -1), so the activations of one training step or sliding window reuse the pages of the previous one. The cost is
    memory: the process keeps its peak resident size until it ends, and the heap's fragmentation can raise that peak
    (the benchmark reports both). It speeds up the CPU; on a GPU only the host-side work (data loading) is affected.
    Process-wide, including data-loader workers started afterwards.

    With ``enabled=False`` glibc's default limits are set again and the kept memory is handed back
    (``malloc_trim``); glibc's dynamic mmap threshold, which grows with the blocks freed, stops adapting once any
    limit has been set, so the defaults are not restored exactly.

    Args:
        enabled: keep freed memory (True) or restore glibc's defaults (False).

    Returns:
        whether the settings were applied: False where the C library is not glibc, which is then left as it is.
    """
    libc = _glibc()
    if libc is None:
        return False
    mmap_max, trim_threshold = (0, _NEVER_TRIM) if enabled else (_DEFAULT_MMAP_MAX, _DEFAULT_TRIM_THRESHOLD)
    applied = libc.mallopt(_M_MMAP_MAX, mmap_max) and libc.mallopt(_M_TRIM_THRESHOLD, trim_threshold)
    if not enabled:
        trim_freed_memory()
    return bool(applied)


def trim_freed_memory() -> bool:
    """Hand the freed memory of glibc's heap back to the system now (``malloc_trim``); False where the C library is
    not glibc."""
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
