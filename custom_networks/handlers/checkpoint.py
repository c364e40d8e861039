"""Checkpoints that are never half-written or missing, and whose bookkeeping survives a restart."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ignite.handlers import Checkpoint, DiskSaver
from monai.handlers import CheckpointSaver

__all__ = ["AtomicCheckpointSaver", "require_checkpoint"]


class _AtomicDiskSaver(DiskSaver):
    """Ignite's ``DiskSaver`` in atomic mode (temporary file, then rename) that deletes a replaced checkpoint only
    after its successor is on disk; with a fixed ``filename`` every checkpoint goes to that name and the rename
    replaces the previous file. Ignite's ``Checkpoint`` removes the outdated file before saving the new one, which
    would leave no checkpoint at all if the process died in between."""

    def __init__(self, dirname: str | Path, filename: str | None = None) -> None:
        super().__init__(dirname=dirname, atomic=True, require_empty=False)
        self.filename = filename
        self._outdated: list[str] = []

    def __call__(self, checkpoint: Mapping, filename: str, metadata: Mapping | None = None) -> None:
        name = self.filename or filename
        super().__call__(checkpoint, name, metadata)
        for old in self._outdated:
            if old != name and (self.dirname / old).exists():
                super().remove(old)
        self._outdated = []

    def remove(self, filename: str) -> None:
        self._outdated.append(self.filename or filename)


class AtomicCheckpointSaver(CheckpointSaver):
    """MONAI's ``CheckpointSaver`` whose files are written atomically and replaced only once their successor exists,
    with a ``state_dict`` for resuming.

    Each checkpoint is written to a temporary file in ``save_dir`` and renamed to its final name (readable by group and
    others, as Ignite sets them); the file it replaces (``n_saved``, or the fixed ``key_metric_filename``) is deleted
    only after that. A process killed at any moment leaves the previous complete checkpoint, never a truncated file and
    never none. MONAI's own saver writes in place and deletes first.

    ``state_dict()`` / ``load_state_dict()`` hold the files it keeps with their scores (best key metric) or epochs:
    stored in the last checkpoint of a training run, they let a resumed run replace ``model.pt`` only with a better
    model and remove the previous last checkpoint as the uninterrupted run would. Arguments as
    ``monai.handlers.CheckpointSaver``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for checkpoint in self._checkpoints().values():
            if checkpoint is not None:
                fixed_name = getattr(checkpoint.save_handler, "filename", None)
                checkpoint.save_handler = _AtomicDiskSaver(self.save_dir, fixed_name)

    def _checkpoints(self) -> dict[str, Checkpoint | None]:
        return {
            "key_metric": self._key_metric_checkpoint,
            "interval": self._interval_checkpoint,
            "final": self._final_checkpoint,
        }

    def state_dict(self) -> OrderedDict:
        """The ``(priority, filename)`` lists of the checkpoints this saver keeps, by kind."""
        return OrderedDict(
            (name, [] if checkpoint is None else [tuple(item) for item in checkpoint.state_dict()["_saved"]])
            for name, checkpoint in self._checkpoints().items()
        )

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore the lists of :meth:`state_dict` (each only where this saver keeps such checkpoints): the saver then
        replaces those files when it saves better or newer ones."""
        for name, checkpoint in self._checkpoints().items():
            if checkpoint is not None and state_dict.get(name):
                checkpoint.load_state_dict({"_saved": [tuple(item) for item in state_dict[name]]})


def require_checkpoint(path: str | Path) -> str:
    """``path`` if it is a file, for ``CheckpointLoader``'s ``load_path`` in inference and evaluation configs.

    Raises:
        FileNotFoundError: no trained model at ``path``, with how to make or point to one.
    """
    if not Path(path).is_file():
        raise FileNotFoundError(
            f"no trained model at {path}: train the bundle first (`python -m monai.bundle run training "
            "--config_file configs/train.json --dataset_dir DATA_DIR`), copy a trained model.pt there, "
            "or point --ckpt_dir to the folder holding one."
        )
    return str(path)
