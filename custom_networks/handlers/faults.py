"""The faults that end a training run, each with a one-line message naming the file or folder and the problem."""

from __future__ import annotations

import errno
from pathlib import Path

from custom_networks.errors import UserError, exception_chain

__all__ = [
    "CheckpointError",
    "DiskFullError",
    "EarlierRunError",
    "FolderInUseError",
    "TrainingFault",
    "TrainingStopped",
    "disk_full_cause",
    "training_fault",
]

# the errors of a write that found no room: no space or quota left on the device, or past the process's file size
# limit (RLIMIT_FSIZE)
NO_ROOM = {errno.ENOSPC: "disk full", errno.EDQUOT: "disk quota exceeded", errno.EFBIG: "file size limit reached"}


class TrainingFault(UserError, RuntimeError):
    """A fault that ends a training run; its message is one line naming the file or folder and the problem."""


class FolderInUseError(TrainingFault):
    """Another training process holds the checkpoint folder."""


class EarlierRunError(TrainingFault):
    """The checkpoint folder holds an earlier run that this one would overwrite."""


class CheckpointError(TrainingFault):
    """A checkpoint that cannot be resumed from: corrupt, of another run, or not fitting the network."""


class DiskFullError(TrainingFault):
    """A checkpoint could not be written for lack of room; the previous one is intact.

    Args:
        path: the checkpoint that was being written.
        code: the ``errno`` of the failed write (``ENOSPC``, ``EDQUOT`` or ``EFBIG``).
        previous: the newest complete checkpoint of the same kind, if any.
    """

    def __init__(self, path: str | Path, code: int, previous: str | Path | None = None) -> None:
        super().__init__(str(path), code, previous)
        self.path, self.code, self.previous = Path(path), code, None if previous is None else Path(previous)

    def __str__(self) -> str:
        if self.previous is None:
            kept = "no earlier checkpoint was saved"
        elif self.previous == self.path:
            kept = "its previous version is intact"
        else:
            kept = f"the previous checkpoint {self.previous} is intact"
        return f"{NO_ROOM.get(self.code, 'no room')} while saving {self.path}; {kept}"


class TrainingStopped(SystemExit):
    """Training stopped by SIGTERM or SIGINT between two steps, with nothing half-written.

    A ``SystemExit``: raised from a signal handler wherever the run is (loading data, validating), it passes every
    ``except Exception`` on its way out, and the process ends with exit status 1 and this message as its last line.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.code)


def training_fault(error: BaseException) -> TrainingFault | TrainingStopped | None:
    """The :class:`TrainingFault` or :class:`TrainingStopped` behind ``error`` (MONAI and Ignite wrap exceptions
    raised in config expressions and handlers), or None."""
    return next((e for e in exception_chain(error) if isinstance(e, TrainingFault | TrainingStopped)), None)


def disk_full_cause(error: BaseException) -> OSError | None:
    """The ``OSError`` of a write that found no room behind ``error`` (``torch.save`` reports it as an unrelated
    ``RuntimeError`` of its zip writer), or None."""
    return next((e for e in exception_chain(error) if isinstance(e, OSError) and e.errno in NO_ROOM), None)
