"""Checkpoints that are never half-written or missing, and whose bookkeeping survives a restart."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ignite.engine import Engine, Events
from ignite.handlers import Checkpoint, DiskSaver

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


class AtomicCheckpointSaver:
    """Checkpoints of a run that are never half-written or missing, and whose bookkeeping survives a restart: the
    best model by a key metric, and/or the whole state every ``save_interval`` epochs (or iterations).

    The subset of ``monai.handlers.CheckpointSaver`` that the bundles use, built on Ignite's public ``Checkpoint`` with
    an atomic save handler: each checkpoint is written to a temporary file in ``save_dir`` and renamed to its final
    name (readable by group and others, as Ignite sets them); the file it replaces (``n_saved``, or the fixed
    ``key_metric_filename``) is deleted only after that. A process killed at any moment leaves the previous complete
    checkpoint, never a truncated file and never none. MONAI's own saver writes in place and deletes first.

    ``state_dict()`` / ``load_state_dict()`` hold the files it keeps with their scores (best key metric) or epochs:
    stored in the last checkpoint of a training run, they let a resumed run replace ``model.pt`` only with a better
    model and remove the previous last checkpoint as the uninterrupted run would.

    Args:
        save_dir: folder of the checkpoints.
        save_dict: the objects to save, by name (one object: its own state dict is the file's content).
        file_prefix: prefix of the file names (``<prefix>_checkpoint_epoch=N.pt``).
        save_key_metric: save the model whenever the key metric is higher than before.
        key_metric_name: name of the key metric in ``engine.state.metrics``; default ``engine.state.key_metric_name``
            (MONAI's engines set it).
        key_metric_filename: fixed file name of the best model (default
            ``<prefix>_checkpoint_key_metric=<score>.pt``).
        epoch_level: ``save_interval`` counts epochs (True) or iterations.
        save_interval: save every N epochs or iterations; 0 saves none.
        n_saved: how many of the interval checkpoints to keep (None: all).
    """

    def __init__(
        self,
        save_dir: str | Path,
        save_dict: dict[str, Any],
        file_prefix: str = "",
        save_key_metric: bool = False,
        key_metric_name: str | None = None,
        key_metric_filename: str | None = None,
        epoch_level: bool = True,
        save_interval: int = 0,
        n_saved: int | None = None,
    ) -> None:
        self.save_dict = save_dict
        self.key_metric_name = key_metric_name
        self.epoch_level = epoch_level
        self.save_interval = save_interval
        self.logger = logging.getLogger(__name__)
        self.key_metric = None
        if save_key_metric:
            self.key_metric = Checkpoint(
                save_dict,
                _AtomicDiskSaver(save_dir, key_metric_filename),
                filename_prefix=file_prefix,
                score_function=self._key_metric_score,
                score_name="key_metric",
            )
        self.interval = None
        if save_interval > 0:
            self.interval = Checkpoint(
                save_dict,
                _AtomicDiskSaver(save_dir),
                filename_prefix=file_prefix,
                score_function=self._step,
                score_name="epoch" if epoch_level else "iteration",
                n_saved=n_saved,
            )

    def _key_metric_score(self, engine: Engine) -> float:
        return float(engine.state.metrics[self.key_metric_name or engine.state.key_metric_name])

    def _step(self, engine: Engine) -> int:
        return engine.state.epoch if self.epoch_level else engine.state.iteration

    def _checkpoints(self) -> dict[str, Checkpoint | None]:
        return {"key_metric": self.key_metric, "interval": self.interval}

    def attach(self, engine: Engine) -> None:
        """Save the best model after every epoch of ``engine`` (an evaluator) and / or the interval checkpoints."""
        if self.key_metric is not None:
            engine.add_event_handler(Events.EPOCH_COMPLETED, self.key_metric)
        if self.interval is not None:
            event = Events.EPOCH_COMPLETED if self.epoch_level else Events.ITERATION_COMPLETED
            engine.add_event_handler(event(every=self.save_interval), self._save_interval)

    def _save_interval(self, engine: Engine) -> None:
        self.interval(engine)
        self.logger.info(f"saved checkpoint {self.interval.last_checkpoint}")

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
