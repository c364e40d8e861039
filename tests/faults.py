"""Real faults for the fault-injection tests: a small disk that fills up (a tmpfs, where the machine lets the tests
mount one) and a file size limit (``RLIMIT_FSIZE``, everywhere on Linux): writes past either fail as on a full disk."""

from __future__ import annotations

import resource
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def small_disk(folder: Path, size: int) -> Iterator[Path]:
    """``folder`` as the mount point of a tmpfs of ``size`` bytes (rounded up to pages): writes past it fail with
    ``ENOSPC``, as on a full disk. Skips the test where mounting is not allowed (not root, or a container without
    ``CAP_SYS_ADMIN``)."""
    folder.mkdir(parents=True, exist_ok=True)
    mount = shutil.which("mount")
    if mount is None:
        pytest.skip("no mount command: a small tmpfs cannot be made here")
    result = subprocess.run(
        [mount, "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True, text=True, timeout=30
    )
    if result.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not allowed here: {result.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=30)


def grow_disk(folder: Path, size: int) -> None:
    """Give the tmpfs of :func:`small_disk` at ``folder`` ``size`` bytes (room freed, as a user would)."""
    subprocess.run(["mount", "-o", f"remount,size={size}", str(folder)], check=True, capture_output=True, timeout=30)


def file_size_limit(size: int) -> Callable[[], None]:
    """A ``preexec_fn`` for ``subprocess``: the child may write no file past ``size`` bytes (``RLIMIT_FSIZE``); its
    writes past it fail with ``EFBIG`` (Python ignores the ``SIGXFSZ`` that would otherwise end it)."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    return limit
