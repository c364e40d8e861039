"""Checkpoints that are never half-written or missing, and whose bookkeeping survives a restart."""

from __future__ import annotations

import logging
import os
import re
import stat
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

import torch
from ignite.engine import Engine, Events
from ignite.handlers import Checkpoint
from ignite.handlers.checkpoint import BaseSaveHandler

from custom_networks.errors import MissingFileError
from custom_networks.handlers.faults import DiskFullError, disk_full_cause
from custom_networks.handlers.signals import signals_held

__all__ = [
    "PARTIAL_SUFFIX",
    "AtomicCheckpointSaver",
    "AtomicFileSaver",
    "interval_checkpoints",
    "remove_partial_files",
    "require_checkpoint",
    "write_atomically",
]

PARTIAL_SUFFIX = ".partial"  # a checkpoint being written: <name>.partial, renamed to <name> when complete

logger = logging.getLogger(__name__)


class AtomicFileSaver(BaseSaveHandler):
    """Ignite save handler that writes each checkpoint completely or not at all, and deletes a replaced one only after
    its successor is on disk (Ignite's ``Checkpoint`` asks to remove the outdated file before saving the new one, which
    would leave no checkpoint at all if the process died in between).

    A checkpoint is written to ``<name>.partial`` in ``dirname``, flushed to the disk and renamed to its name (readable
    by group and others, as Ignite sets them). A failed or interrupted write removes the partial file; one left by a
    killed process is removed by :func:`remove_partial_files` when the next run starts. SIGTERM and SIGINT wait until
    the save is complete (:func:`~custom_networks.handlers.signals.signals_held`). A write that finds no room (disk
    full, quota, file size limit) raises :class:`~custom_networks.handlers.faults.DiskFullError`, whatever
    ``torch.save`` makes of it.

    Args:
        dirname: folder of the checkpoints (created if missing).
        filename: fixed name of every checkpoint (the best model's ``model.pt``), replacing the previous one; default:
            the name Ignite gives.
    """

    def __init__(self, dirname: str | Path, filename: str | None = None) -> None:
        self.dirname = Path(dirname)
        self.filename = filename
        self._outdated: list[str] = []

    def __call__(self, checkpoint: Mapping, filename: str, metadata: Mapping | None = None) -> None:
        name = self.filename or filename
        with signals_held():
            self.dirname.mkdir(parents=True, exist_ok=True)
            write_atomically(checkpoint, self.dirname / name)
            for old in self._outdated:
                if old != name:
                    (self.dirname / old).unlink(missing_ok=True)
            self._outdated = []

    def remove(self, filename: str) -> None:
        """Delete ``filename`` once the next checkpoint is written."""
        self._outdated.append(self.filename or filename)


class _WriteErrors:
    """A binary file whose writes remember their ``OSError``: ``torch.save`` turns one into a ``RuntimeError`` of
    its zip writer that does not say why."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.error: OSError | None = None

    def write(self, data: Any) -> int:
        try:
            return self.file.write(data)
        except OSError as error:
            self.error = error
            raise

    def flush(self) -> None:
        self.file.flush()


def write_atomically(checkpoint: Any, path: str | Path) -> None:
    """``torch.save(checkpoint, path)`` through ``<path>.partial``, flushed to the disk and renamed: ``path`` is the
    complete new file or, if anything fails (the partial file is then removed), its previous content.

    Raises:
        DiskFullError: a write found no room (``ENOSPC``, ``EDQUOT``, ``EFBIG``).
    """
    path = Path(path)
    partial = path.with_name(path.name + PARTIAL_SUFFIX)
    try:
        with open(partial, "wb") as file:
            writer = _WriteErrors(file)
            try:
                torch.save(checkpoint, writer)
            except Exception:
                if writer.error is not None:
                    raise writer.error from None
                raise
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
    except BaseException as error:
        partial.unlink(missing_ok=True)
        if (no_room := disk_full_cause(error)) is not None:
            raise DiskFullError(path, no_room.errno) from error
        raise
    os.chmod(path, os.stat(path).st_mode | stat.S_IRGRP | stat.S_IROTH)
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Flush the folder's entries (the rename) to the disk, where the system allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_partial_files(folder: str | Path) -> list[Path]:
    """Delete the unfinished saves (``*.partial``) a killed process left in ``folder``; returns them."""
    found = sorted(Path(folder).glob(f"*{PARTIAL_SUFFIX}")) if Path(folder).is_dir() else []
    for path in found:
        path.unlink(missing_ok=True)
        logger.warning(f"removed {path}, an unfinished save of an interrupted run")
    return found


class AtomicCheckpointSaver:
    """Checkpoints of a run that are never half-written or missing, and whose bookkeeping survives a restart: the
    best model by a key metric, and/or the whole state every ``save_interval`` epochs (or iterations).

    The subset of ``monai.handlers.CheckpointSaver`` that the bundles use, built on Ignite's public ``Checkpoint`` with
    an :class:`AtomicFileSaver`: each checkpoint is written to ``<name>.partial`` in ``save_dir`` and renamed to its
    name when complete; the file it replaces (``n_saved``, or the fixed ``key_metric_filename``) is deleted only after
    that. A process killed at any moment leaves the previous complete checkpoints, never a truncated file and never
    none; SIGTERM and SIGINT wait for a save to complete. A save that finds no room (disk full, quota, file size limit)
    ends the run with :class:`~custom_networks.handlers.faults.DiskFullError`, naming the file and the previous
    checkpoint, which is intact. MONAI's own saver writes in place and deletes first.

    ``state_dict()`` / ``load_state_dict()`` hold the files it keeps with their scores (best key metric) or epochs:
    stored in the last checkpoint of a training run, they let a resumed run replace ``model.pt`` only with a better
    model and remove the previous last checkpoints as the uninterrupted run would.

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
        self.save_dir = Path(save_dir)
        self.save_dict = save_dict
        self.key_metric_name = key_metric_name
        self.epoch_level = epoch_level
        self.save_interval = save_interval
        self.n_saved = n_saved
        self.key_metric = None
        if save_key_metric:
            self.key_metric = Checkpoint(
                save_dict,
                AtomicFileSaver(save_dir, key_metric_filename),
                filename_prefix=file_prefix,
                score_function=self._key_metric_score,
                score_name="key_metric",
            )
        self.interval = None
        if save_interval > 0:
            self.interval = Checkpoint(
                save_dict,
                AtomicFileSaver(save_dir),
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
            engine.add_event_handler(Events.EPOCH_COMPLETED, self._save_key_metric)
        if self.interval is not None:
            event = Events.EPOCH_COMPLETED if self.epoch_level else Events.ITERATION_COMPLETED
            engine.add_event_handler(event(every=self.save_interval), self._save_interval)

    def _newest(self, checkpoint: Checkpoint) -> Path | None:
        """The newest file ``checkpoint`` keeps, if it is on disk."""
        saved = checkpoint.state_dict()["_saved"]
        path = self.save_dir / saved[-1][1] if saved else None
        if isinstance(checkpoint.save_handler, AtomicFileSaver) and checkpoint.save_handler.filename:
            path = self.save_dir / checkpoint.save_handler.filename
        return path if path is not None and path.is_file() else None

    def _save(self, checkpoint: Checkpoint, engine: Engine) -> None:
        """Run ``checkpoint``; a write that found no room raises :class:`DiskFullError` naming the previous file."""
        previous = self._newest(checkpoint)
        try:
            checkpoint(engine)
        except DiskFullError as error:
            error.previous = previous
            raise

    def _save_key_metric(self, engine: Engine) -> None:
        self._save(self.key_metric, engine)

    def _save_interval(self, engine: Engine) -> None:
        self._save(self.interval, engine)
        logger.info(f"saved checkpoint {self.save_dir / self.interval.state_dict()['_saved'][-1][1]}")

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


def interval_checkpoints(folder: str | Path, prefix: str = "last") -> list[Path]:
    """The ``<prefix>_checkpoint_epoch=N.pt`` (or ``iteration=N``) files in ``folder``, by name."""
    pattern = re.compile(rf"{re.escape(prefix)}_checkpoint_(epoch|iteration)=\d+\.pt")
    return sorted(p for p in Path(folder).glob(f"{prefix}_checkpoint_*.pt") if pattern.fullmatch(p.name))


def require_checkpoint(path: str | Path) -> str:
    """``path`` if it is a file: the evaluation and inference configs check their trained model first when they run.

    Raises:
        MissingFileError: no trained model at ``path``, with how to make or point to one.
    """
    if not Path(path).is_file():
        raise MissingFileError(
            f"{path}: no trained model: train the bundle first (`python -m monai.bundle run training "
            "--config_file configs/train.json --dataset_dir DATA_DIR`), copy a trained model.pt there, "
            "or point --ckpt_dir to the folder holding one."
        )
    return str(path)
