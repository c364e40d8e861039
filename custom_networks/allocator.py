"""Reuse of the memory freed on the CPU (glibc's malloc settings), switched on from a bundle config.

PyTorch takes every CPU tensor from the C library's ``malloc``. glibc serves the large blocks a network's activations
need (above its mmap threshold, at most 32 MiB) with fresh ``mmap``-ed pages and unmaps them again on ``free``, and
hands freed memory at the top of its heap back to the system. Every training step then asks the kernel for all its
activations anew, and the kernel zero-fills them page by page on first touch: on the development machine the
memory-bound operators (BatchNorm, ReLU, sums, concatenation) paid for it most, and MultiResUNet's 2-D training step
took 1.74× as long (``docs/performance.md``). :func:`reuse_freed_memory` makes glibc keep freed memory in the process
and hand it out again, as the jemalloc and tcmalloc allocators that PyTorch's CPU tuning guides recommend do; with
``largest_block_mib`` it keeps only blocks up to that size, for less of the speed at hardly any memory beyond glibc's
defaults (the benchmark's ``freed_memory`` section measures both).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

from custom_networks.errors import BadValueError

__all__ = ["LARGEST_BLOCK_MIB", "restore_default_allocation", "reuse_freed_memory", "trim_freed_memory"]

# mallopt parameters and glibc's defaults (malloc.h, mallopt(3))
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_MMAP_MAX = -1, -3, -4
LARGEST_BLOCK_MIB = 32  # glibc's largest M_MMAP_THRESHOLD on 64-bit systems (HEAP_MAX_SIZE / 2)
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


def reuse_freed_memory(enabled: bool = True, largest_block_mib: float | None = None) -> bool:
    """Keep the memory this process frees for its next allocations instead of returning it to the system.

    Serves every allocation from glibc's heap (``M_MMAP_MAX`` 0) and never trims the heap (``M_TRIM_THRESHOLD``
    -1), so the activations of one training step or sliding window reuse the pages of the previous one. The cost is
    memory: the process keeps its peak resident size until it ends, and the heap's fragmentation can raise that peak
    (the benchmark reports both). With ``largest_block_mib`` only blocks up to that size come from the heap
    (``M_MMAP_THRESHOLD``); larger ones are mapped afresh and handed back at once, as by default. It speeds up the
    CPU; on a GPU only the host-side work (data loading) is affected. Process-wide, including data-loader workers
    started afterwards; :func:`restore_default_allocation` undoes it.

    Args:
        enabled: apply the settings; with False glibc is left as it is (the bundles' switch).
        largest_block_mib: the largest block kept, in MiB, at most :data:`LARGEST_BLOCK_MIB`; None keeps every
            block (the bundles' ``reuse_largest_block_mib``).

    Returns:
        whether the settings were applied: False if not ``enabled`` or where the C library is not glibc.

    Raises:
        BadValueError: ``largest_block_mib`` not above 0 or above :data:`LARGEST_BLOCK_MIB`.
    """
    if largest_block_mib is not None and not 0 < largest_block_mib <= LARGEST_BLOCK_MIB:
        raise BadValueError(
            f"reuse_largest_block_mib must be above 0 and at most {LARGEST_BLOCK_MIB} (glibc's largest mmap "
            f"threshold), or null to keep every freed block; got {largest_block_mib}."
        )
    libc = _glibc() if enabled else None
    if libc is None:
        return False
    if largest_block_mib is None:
        served = libc.mallopt(_M_MMAP_MAX, 0)
    else:
        threshold = int(largest_block_mib * 2**20)
        served = libc.mallopt(_M_MMAP_MAX, _DEFAULT_MMAP_MAX) and libc.mallopt(_M_MMAP_THRESHOLD, threshold)
    return bool(served and libc.mallopt(_M_TRIM_THRESHOLD, _NEVER_TRIM))


def restore_default_allocation() -> bool:
    """Set glibc's default limits again and hand the kept memory back (``malloc_trim``), after
    :func:`reuse_freed_memory`. Not exact: glibc's dynamic mmap threshold, which grows with the blocks freed, stops
    adapting once any limit has been set. False where the C library is not glibc."""
    libc = _glibc()
    if libc is None:
        return False
    applied = libc.mallopt(_M_MMAP_MAX, _DEFAULT_MMAP_MAX) and libc.mallopt(_M_TRIM_THRESHOLD, _DEFAULT_TRIM_THRESHOLD)
    return bool(applied) and trim_freed_memory()


def trim_freed_memory() -> bool:
    """Hand the freed memory of glibc's heap back to the system now (``malloc_trim``); False where the C library is
    not glibc."""
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
