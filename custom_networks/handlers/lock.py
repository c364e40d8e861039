"""An exclusive lock of a checkpoint folder for one training process, released by the kernel however the process
ends, so a lock left by a killed run is found stale and taken over."""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

from custom_networks.handlers.faults import FolderInUseError

try:
    import fcntl
except ImportError:  # not POSIX: no lock
    fcntl = None

__all__ = ["LOCK_FILE", "FolderLock"]

LOCK_FILE = "training.lock"

logger = logging.getLogger(__name__)

# the locks this process holds, by folder: a run that failed in this process without releasing its lock (an
# in-process `monai.bundle.run`) does not block the next one
_held: dict[Path, FolderLock] = {}


def _holder_text(holder: dict[str, Any]) -> str:
    started = holder.get("started")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)) if isinstance(started, int | float) else "?"
    return (
        f"process {holder.get('pid', '?')} on {holder.get('host', '?')}, started {when}: {holder.get('command', '?')}"
    )


class FolderLock:
    """An exclusive lock of ``folder`` for this process: ``folder/training.lock``, locked with ``flock`` and holding
    who holds it (process id, host, start time, command line).

    The kernel releases an ``flock`` when its process ends, however it ends: a lock file left by a killed run is no
    longer locked, and the next run takes it over (with a warning naming the process that left it). A lock held by a
    running process makes :meth:`acquire` fail at once, naming that process. Without ``fcntl`` (not POSIX) the lock is
    a no-op.

    Args:
        folder: the folder to lock (created if missing).
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_FILE
        self._fd: int | None = None

    def _read(self) -> dict[str, Any]:
        try:
            holder = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # gone, being written, or not ours
            return {}
        return holder if isinstance(holder, dict) else {}

    def _open_locked(self) -> int:
        """A descriptor of the lock file, locked; retries when the file was replaced while it was being locked."""
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise FolderInUseError(
                    f"{self.folder} is in use by another training ({_holder_text(self._read())}): wait for it to end "
                    "or stop it; two trainings there would overwrite each other's checkpoints."
                ) from None
            try:
                if os.stat(self.path).st_ino == os.fstat(fd).st_ino:  # not released and removed meanwhile
                    return fd
            except FileNotFoundError:
                pass
            os.close(fd)

    def acquire(self) -> None:
        """Lock the folder.

        Raises:
            FolderInUseError: another process holds the lock, naming it.
        """
        if fcntl is None or self._fd is not None:
            return
        if (earlier := _held.get(self.folder.resolve())) is not None:
            earlier.release()
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = self._open_locked()
        if stale := self._read():
            logger.warning(
                f"{self.path}: taking over the lock of {_holder_text(stale)}, which ended without releasing it"
            )
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.time(),
            "command": " ".join(sys.orig_argv),
        }
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(holder).encode("utf-8"))
        os.fsync(fd)
        self._fd = fd
        _held[self.folder.resolve()] = self

    def release(self) -> None:
        """Remove the lock file and unlock (nothing if not held)."""
        if self._fd is None:
            return
        try:
            if os.stat(self.path).st_ino == os.fstat(self._fd).st_ino:
                self.path.unlink()
        except FileNotFoundError:
            pass
        os.close(self._fd)
        self._fd = None
        if _held.get(self.folder.resolve()) is self:
            del _held[self.folder.resolve()]
