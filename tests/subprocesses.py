"""Running the repository's scripts as users do, in a subprocess from the repository root."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_script(
    *args: str | Path, timeout: float = 600, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess:
    """``python *args`` from the repository root with its output captured as UTF-8; asserts that it succeeded."""
    result = subprocess.run(
        [sys.executable, *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


BLOCK_PAGES = 16384  # a 64 MiB float32 tensor in 4 KiB pages: above glibc's largest mmap threshold (32 MiB)

# Python source for a fresh interpreter: faults_of_block() allocates and writes a 64 MiB tensor (or ``mib`` MiB),
# returning the page faults it cost; faults_of_second_block() frees one and allocates one again, returning the faults
# of the second
# (custom_networks.allocator.reuse_freed_memory: none while the process keeps freed memory, every page with glibc's
# defaults).
SECOND_BLOCK_FAULTS = """
import resource
import torch

def faults_of_block(mib=64):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    torch.ones(mib * 2**18)  # float32, written, then freed at once
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

def faults_of_second_block(mib=64):
    for _ in range(3):  # the last round counts: the heap may first have to settle around the block
        faults_of_block(mib)
        faults = faults_of_block(mib)
    return faults
"""
