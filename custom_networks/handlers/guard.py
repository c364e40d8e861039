"""One training run in its checkpoint folder, guarded against the mistakes that lose a model or leave half-written
files, and ending every fault with one line."""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

import torch
from ignite.engine import Engine, Events

from custom_networks.handlers.checkpoint import interval_checkpoints, remove_partial_files
from custom_networks.handlers.faults import EarlierRunError, TrainingFault, training_fault
from custom_networks.handlers.lock import FolderLock
from custom_networks.handlers.signals import SignalStop

__all__ = ["TrainingGuard"]

logger = logging.getLogger(__name__)


def _is_first_process() -> bool:
    """This is the only training process, or the first of a ``torch.distributed`` group."""
    distributed = torch.distributed.is_available() and torch.distributed.is_initialized()
    return not distributed or torch.distributed.get_rank() == 0


class TrainingGuard:
    """A training run that owns its checkpoint folder, overwrites no earlier run, leaves no half-written file and
    ends every fault with one line.

    :meth:`claim` (the bundles call it first when they run, before any data is loaded):

    - locks ``ckpt_dir`` (:class:`~custom_networks.handlers.lock.FolderLock`): a second training there fails at once,
      naming the process that runs; a lock left by a killed run is taken over;
    - refuses to start when ``ckpt_dir`` holds an earlier run (its best model or last checkpoints) and the run neither
      resumes nor starts over, naming the files and both ways on; ``start_over`` moves the earlier run's last
      checkpoints to ``ckpt_dir/previous_<time>/`` and copies its best model there (the best model stays in place, for
      inference and MONAI Label, until this run saves its own); a resumption with nothing to resume is refused too;
    - removes the unfinished saves (``*.partial``) of a killed run;
    - handles SIGTERM and SIGINT (:class:`~custom_networks.handlers.signals.SignalStop`).

    :meth:`run` runs the trainer: a signal received in a training iteration (from fetching its batch on) ends the run
    when that iteration is complete, anywhere else at once (a checkpoint save is completed first); nothing of an
    unfinished epoch is saved, a warning says how far the run got and the process ends with exit status 1 and
    "stopped by signal ..., resume with --resume True". A fault of the run
    (:class:`~custom_networks.handlers.faults.TrainingFault`: folder in use, earlier run, corrupt or unfitting
    checkpoint, disk full) ends the process with exit status 1 and ``error: <message>`` as its last line, whatever
    MONAI and Ignite wrapped around it.

    In a ``torch.distributed`` group only the first process locks, checks and cleans the folder (it alone saves); every
    process handles the signals.

    Args:
        ckpt_dir: folder of the checkpoints.
        resume: the run continues the one in ``ckpt_dir`` (``--resume True``).
        start_over: the run starts from scratch, the earlier one's files set aside (``--start_over True``).
        prefix: file prefix of the last checkpoints (``<prefix>_checkpoint_epoch=N.pt``).
        best_model: file name of the best model.
    """

    def __init__(
        self,
        ckpt_dir: str | Path,
        resume: bool = False,
        start_over: bool = False,
        prefix: str = "last",
        best_model: str = "model.pt",
    ) -> None:
        self.ckpt_dir = Path(ckpt_dir)
        self.resume = resume
        self.start_over = start_over
        self.prefix = prefix
        self.best_model = best_model
        self.lock = FolderLock(self.ckpt_dir)
        self.stop = SignalStop(self._stopped)
        self.trainer: Engine | None = None

    def claim(self) -> None:
        """Lock the folder, check it for an earlier run (setting it aside with ``start_over``), remove unfinished
        saves and handle the signals.

        Raises:
            SystemExit: ``error: <message>`` of the :class:`TrainingFault` (folder in use, earlier run).
        """
        try:
            if self.resume and self.start_over:
                raise TrainingFault("--resume True and --start_over True contradict each other: choose one")
            if _is_first_process():
                self.lock.acquire()
                remove_partial_files(self.ckpt_dir)
                self._check_earlier_run()
        except TrainingFault as fault:
            self.release()
            raise SystemExit(f"error: {fault}") from fault
        self.stop.install()

    def run(self, trainer: Engine) -> None:
        """Run ``trainer`` to its end, stopping at a signal; release the folder afterwards.

        Raises:
            TrainingStopped: a signal stopped the run (a ``SystemExit``).
            SystemExit: ``error: <message>`` of the :class:`TrainingFault` that ended the run.
        """
        self.trainer = trainer
        trainer.add_event_handler(Events.GET_BATCH_STARTED, self._hold_signals)
        trainer.add_event_handler(Events.ITERATION_COMPLETED, self._release_signals)
        try:
            trainer.run()
        except Exception as error:
            if self.stop.received is not None:  # e.g. DataLoader workers that the same signal (Ctrl-C) ended
                raise self.stop.stopped() from error
            if (fault := training_fault(error)) is None or not isinstance(fault, TrainingFault):
                raise
            raise SystemExit(f"error: {fault}") from error
        finally:
            self.release()
        if self.stop.received is not None:
            raise self.stop.stopped()

    def release(self) -> None:
        """Unlock the folder and restore the previous signal handlers."""
        self.stop.uninstall()
        self.lock.release()

    def _earlier_run(self) -> list[Path]:
        best = self.ckpt_dir / self.best_model
        return ([best] if best.is_file() else []) + interval_checkpoints(self.ckpt_dir, self.prefix)

    def _check_earlier_run(self) -> None:
        files = self._earlier_run()
        if not files:
            return
        names = ", ".join(path.name for path in files)
        aside = f"{self.ckpt_dir / 'previous_<time>'}"
        if self.start_over:
            self._set_aside(files)
        elif not self.resume:
            raise EarlierRunError(
                f"{self.ckpt_dir} already holds a training run ({names}): continue it with --resume True, or start "
                f"over with --start_over True (its files are kept in {aside})"
            )
        elif not interval_checkpoints(self.ckpt_dir, self.prefix):
            raise EarlierRunError(
                f"nothing to resume in {self.ckpt_dir}: it holds {names} but no {self.prefix}_checkpoint_epoch=N.pt; "
                f"start over with --start_over True (its files are kept in {aside})"
            )

    def _set_aside(self, files: list[Path]) -> None:
        """Move the earlier run's last checkpoints to a new ``previous_<time>`` folder and copy its best model there."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        folder, n = self.ckpt_dir / f"previous_{stamp}", 1
        while folder.exists():
            folder, n = self.ckpt_dir / f"previous_{stamp}_{n}", n + 1
        folder.mkdir()
        for path in files:
            if path.name == self.best_model:
                shutil.copy2(path, folder / path.name)
            else:
                os.replace(path, folder / path.name)
        logger.warning(
            f"--start_over: the earlier run's {', '.join(p.name for p in files)} kept in {folder} ({self.best_model} "
            "stays in place until this run saves its first best model)"
        )

    def _hold_signals(self, engine: Engine) -> None:
        self.stop.hold()

    def _release_signals(self, engine: Engine) -> None:
        self.stop.release()
        if self.stop.received is not None:
            engine.terminate(skip_completed=True)

    def _stopped(self, signal_name: str) -> str:
        """The message of a run stopped by ``signal_name``, logged as a warning."""
        state = self.trainer.state if self.trainer is not None else None
        if state is None or not state.epoch:
            where = "before training started (nothing saved)"
        else:
            where = f"in epoch {state.epoch} of {state.max_epochs} (the checkpoints of the completed epochs are kept)"
        message = f"stopped by signal {signal_name} {where}: resume with --resume True"
        logger.warning(message)
        return message
