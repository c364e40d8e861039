"""Resuming an interrupted training run from its last checkpoint, exactly where the uninterrupted run would be."""

from __future__ import annotations

import json
import logging
import random
import time
import uuid
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ignite.engine import Engine, Events
from ignite.handlers import Checkpoint, EarlyStopping
from monai.transforms import Randomizable, Transform

from custom_networks.handlers.checkpoint import AtomicCheckpointSaver, interval_checkpoints
from custom_networks.handlers.faults import CheckpointError

__all__ = ["RUN_SWITCHES", "ResumeTraining", "TrainingState", "latest_checkpoint", "settings_differences"]

# settings that differ between a run and its resumption by design (a run extended to more epochs, progress bars on or
# off, another path to the same folder)
RUN_SWITCHES = ("resume", "start_over", "max_epochs", "progress", "bundle_root")

logger = logging.getLogger(__name__)


def latest_checkpoint(ckpt_dir: str | Path, prefix: str = "last") -> Path | None:
    """The ``<prefix>_checkpoint_epoch=N.pt`` (MONAI ``CheckpointSaver`` naming, :func:`interval_checkpoints`) with the
    highest N, or None: by the name alone (:class:`ResumeTraining` chooses by what the checkpoints record)."""
    found = interval_checkpoints(ckpt_dir, prefix) if Path(ckpt_dir).is_dir() else []
    return max(found, key=lambda path: int(path.stem.rsplit("=", 1)[1]), default=None)


def _random_transforms(transform: Any, found: list[Randomizable] | None = None) -> list[Randomizable]:
    """Every MONAI random transform in ``transform``, nested ones included (``RandSpatialCropd`` draws from its inner
    ``RandSpatialCrop``), in a fixed order: each owns a NumPy generator."""
    found = [] if found is None else found
    if isinstance(transform, list | tuple):
        for item in transform:
            _random_transforms(item, found)
    elif isinstance(transform, Transform) and all(t is not transform for t in found):
        if isinstance(transform, Randomizable):
            found.append(transform)
        for value in vars(transform).values():
            if isinstance(value, Transform | list | tuple):
                _random_transforms(value, found)
    return found


def _pack(numpy_state: tuple) -> dict[str, Any]:
    """A NumPy ``RandomState`` state as tensors and numbers (``weights_only`` loading refuses NumPy arrays)."""
    _, keys, pos, has_gauss, gauss = numpy_state
    return {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": pos, "has_gauss": has_gauss, "gauss": gauss}


def _unpack(state: Mapping[str, Any]) -> tuple:
    return "MT19937", state["keys"].numpy().astype(np.uint32), state["pos"], state["has_gauss"], state["gauss"]


def _plain(value: Any) -> Any:
    """``value`` as JSON types (numbers, strings, lists, dicts), which ``weights_only`` loading accepts."""
    return json.loads(json.dumps(value, default=str))


def _show(settings: Mapping[str, Any], key: str) -> str:
    return json.dumps(settings[key]) if key in settings else "unset"


def settings_differences(before: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """``"key: <before> then, <now> now"`` for each setting whose value differs (those of :data:`RUN_SWITCHES`
    aside), in the order of ``before`` then ``now``."""
    keys = [k for k in dict.fromkeys([*before, *now]) if k not in RUN_SWITCHES]
    changed = [k for k in keys if k not in before or k not in now or before[k] != now[k]]
    return [f"{k}: {_show(before, k)} then, {_show(now, k)} now" for k in changed]


class TrainingState:
    """What a training run carries besides network, optimiser, scheduler and trainer, as one checkpoint entry.

    - the evaluator's best key metric and its epoch, and the early-stopping counter and best score, so a resumed
      run stops and reports as the uninterrupted run would;
    - the global random number generators of PyTorch, NumPy and Python and those of the random transforms of
      ``datasets`` (MONAI's ``DataLoader`` seeds them once when it is built if it has no workers, and they advance
      from epoch to epoch), so that with the same seed a resumed run draws the same shuffles, crops and flips as the
      uninterrupted run and ends with the same weights. Worker processes are seeded from PyTorch's generator;
    - which run wrote the checkpoint and when (:attr:`run_id`, a new one for each run started from scratch and kept
      when it is resumed; ``saved_at``), so that a resumed run continues its own newest checkpoint;
    - the run's ``settings`` (the bundle's plain settings), so that a checkpoint that does not fit names the
      settings that changed since.

    Stored with plain types and tensors, so MONAI's ``CheckpointLoader`` reads it with ``weights_only=True``.

    Args:
        evaluator: the validation engine whose ``best_metric`` is kept.
        early_stop: Ignite's ``EarlyStopping`` attached to ``evaluator``.
        datasets: datasets whose transforms' generators are kept (the training dataset).
        settings: the settings of the run, by name (JSON values; others are stored as their ``str``).
    """

    def __init__(
        self,
        evaluator: Engine | None = None,
        early_stop: EarlyStopping | None = None,
        datasets: Sequence[Any] = (),
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        self.evaluator = evaluator
        self.early_stop = early_stop
        self.datasets = list(datasets)
        self.settings: dict[str, Any] = _plain(dict(settings or {}))
        self.run_id = uuid.uuid4().hex

    def _transforms(self) -> list[Randomizable]:
        return _random_transforms([getattr(dataset, "transform", None) for dataset in self.datasets])

    def state_dict(self) -> OrderedDict:
        state: OrderedDict = OrderedDict(run_id=self.run_id, saved_at=time.time(), settings=self.settings)
        if self.evaluator is not None:
            state["best_metric"] = float(self.evaluator.state.best_metric)
            state["best_metric_epoch"] = int(self.evaluator.state.best_metric_epoch)
        if self.early_stop is not None:
            state["early_stop"] = dict(self.early_stop.state_dict())
        version, internal, gauss = random.getstate()
        state["python_random"] = {"version": version, "internal": list(internal), "gauss": gauss}
        state["numpy_random"] = _pack(np.random.get_state())  # noqa: NPY002 (the global generator MONAI seeds)
        state["torch_random"] = torch.get_rng_state()
        state["transforms"] = [_pack(t.R.get_state()) for t in self._transforms()]
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue the run of ``state``: its id, metrics, early stopping and generators (this run's settings stay)."""
        self.run_id = state.get("run_id", self.run_id)
        if self.evaluator is not None and "best_metric" in state:
            self.evaluator.state.best_metric = state["best_metric"]
            self.evaluator.state.best_metric_epoch = state["best_metric_epoch"]
        if self.early_stop is not None and "early_stop" in state:
            self.early_stop.load_state_dict(state["early_stop"])
        python = state["python_random"]
        random.setstate((python["version"], tuple(python["internal"]), python["gauss"]))
        np.random.set_state(_unpack(state["numpy_random"]))  # noqa: NPY002
        torch.set_rng_state(state["torch_random"].cpu())
        transforms = self._transforms()
        if len(transforms) != len(state["transforms"]):
            raise ValueError(
                f"the checkpoint holds the generators of {len(state['transforms'])} random transforms, the training "
                f"pipeline has {len(transforms)}: resume with the configuration the run was started with."
            )
        for transform, transform_state in zip(transforms, state["transforms"], strict=True):
            transform.R.set_state(_unpack(transform_state))


def _first_line(error: BaseException) -> str:
    """The type and first sentence of ``error``'s message."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    sentence = lines[0].split(". ")[0].rstrip(".") if lines else ""
    return f"{type(error).__name__}: {sentence}" if sentence else type(error).__name__


@dataclass(frozen=True)
class _Candidate:
    """A last checkpoint found in the folder: its content (None when it cannot be read) or what is wrong with it."""

    path: Path
    checkpoint: Mapping[str, Any] | None = None
    problem: str = ""

    @property
    def state(self) -> Mapping[str, Any]:
        state = (self.checkpoint or {}).get("training_state")
        return state if isinstance(state, Mapping) else {}

    @property
    def saved_at(self) -> float:
        """When it was saved, as it records (the file's time for checkpoints older than the record)."""
        saved_at = self.state.get("saved_at")
        return float(saved_at) if isinstance(saved_at, int | float) else self.path.stat().st_mtime

    @property
    def run_id(self) -> str | None:
        return self.state.get("run_id")

    def step(self, epoch_level: bool = True) -> int:
        trainer = self.checkpoint["trainer"]
        return trainer["iteration"] // trainer["epoch_length"] if epoch_level else trainer["iteration"]


def _module(obj: torch.nn.Module) -> torch.nn.Module:
    """The network inside a (Distributed)DataParallel wrapper, whose keys the checkpoints hold."""
    return obj.module if isinstance(obj, torch.nn.DataParallel | torch.nn.parallel.DistributedDataParallel) else obj


def _tensor_misfit(ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> str:
    """What keeps the tensors ``theirs`` (a checkpoint's) from loading into a network with ``ours``; empty if they
    fit."""
    if not isinstance(theirs, Mapping):
        return f"it holds a {type(theirs).__name__}, not a state dict"
    missing, unexpected = sorted(ours.keys() - theirs.keys()), sorted(theirs.keys() - ours.keys())
    shapes = [k for k in ours if k in theirs and tuple(ours[k].shape) != tuple(getattr(theirs[k], "shape", ()))]
    problems = []
    if shapes:
        key = shapes[0]
        there, here = list(getattr(theirs[key], "shape", ())), list(ours[key].shape)
        problems.append(f"{len(shapes)} tensors of other shapes (e.g. {key}: {there} there, {here} here)")
    if missing:
        problems.append(f"{len(missing)} tensors missing (e.g. {missing[0]})")
    if unexpected:
        problems.append(f"{len(unexpected)} tensors this network does not have (e.g. {unexpected[0]})")
    return ", ".join(problems)


class ResumeTraining:
    """Load the newest last checkpoint of the run in ``ckpt_dir`` into ``load_dict`` when training starts.

    The bundles' ``--resume True``: attached to the trainer, it restores everything the last-checkpoint saver wrote
    (network, optimiser, scheduler, trainer epoch and iteration, best-model bookkeeping, :class:`TrainingState`) and
    the trainer continues with the next epoch up to ``max_epochs``. An epoch that was interrupted is run again from
    its start. Without a checkpoint it logs a warning and training starts from scratch, so the same command serves
    the first start and every restart.

    The checkpoint is chosen by what the files record, not by their names: the newest save (``saved_at`` of the
    :class:`TrainingState`) of the files that load, and only files of that run (``run_id``) count as its earlier
    checkpoints. A corrupt file is skipped with a warning naming it and the checkpoint resumed instead (the saver
    keeps two, so a corrupt newest one falls back to the one before); when none loads, or the chosen one does not fit
    the network, the run stops with :class:`~custom_networks.handlers.faults.CheckpointError`, one line naming the
    file and, for a misfit, the settings that differ from the run that wrote it.

    Args:
        ckpt_dir: folder of the checkpoints.
        load_dict: the objects to restore, keyed as in the saver's ``save_dict``.
        enabled: False makes ``attach`` a no-op (the bundles pass ``@resume``).
        prefix: file prefix of the last-checkpoint saver.
        map_location: where the checkpoint's tensors are loaded before they are copied into the objects (default the
            CPU: the generators' states must be there, the objects copy the rest to their devices).
        saver: the saver that wrote the checkpoints: told which files of the run are on disk, so that it removes them
            when it saves newer ones (``n_saved``), as in an uninterrupted run.
    """

    def __init__(
        self,
        ckpt_dir: str | Path,
        load_dict: dict[str, Any],
        enabled: bool = True,
        prefix: str = "last",
        map_location: Any = "cpu",
        saver: AtomicCheckpointSaver | None = None,
    ) -> None:
        self.ckpt_dir = Path(ckpt_dir)
        self.load_dict = load_dict
        self.enabled = enabled
        self.prefix = prefix
        self.map_location = map_location
        self.saver = saver

    def attach(self, engine: Engine) -> None:
        if self.enabled:
            engine.add_event_handler(Events.STARTED, self)

    def _read(self, path: Path, mmap: bool = True) -> _Candidate:
        """The checkpoint at ``path`` (memory-mapped: its tensors are read only when used), or what is wrong with it."""
        try:
            checkpoint = torch.load(path, map_location=self.map_location, weights_only=True, mmap=mmap)
        except Exception as error:  # whatever the reader says of a damaged file
            return _Candidate(path, problem=_first_line(error))
        if not isinstance(checkpoint, Mapping):
            return _Candidate(path, problem=f"it holds a {type(checkpoint).__name__}, not a training checkpoint")
        if missing := [k for k in self.load_dict if k not in checkpoint]:
            return _Candidate(path, problem=f"not a training checkpoint of this bundle: no {', '.join(missing)}")
        return _Candidate(path, checkpoint)

    def _choose(self) -> tuple[_Candidate, list[_Candidate]] | None:
        """The checkpoint to resume and the run's checkpoints (by step); None when there is none. Warns of corrupt
        files and files of other runs.

        Raises:
            CheckpointError: no checkpoint loads, naming each file and its problem.
        """
        found = [self._read(path) for path in interval_checkpoints(self.ckpt_dir, self.prefix)]
        if not found:
            return None
        readable = sorted((c for c in found if c.checkpoint is not None), key=lambda c: c.saved_at, reverse=True)
        corrupt = [c for c in found if c.checkpoint is None]
        if not readable:
            problems = "; ".join(f"{c.path} is corrupt ({c.problem})" for c in corrupt)
            raise CheckpointError(f"cannot resume: {problems}; start over with --start_over True")
        chosen = readable[0]
        for candidate in corrupt:
            logger.warning(f"{candidate.path} is corrupt ({candidate.problem}): resuming from {chosen.path}")
        for candidate in readable:
            if candidate.run_id != chosen.run_id:
                logger.warning(f"{candidate.path} is of another training run than {chosen.path}, the newest: ignored")
        return chosen, [c for c in readable if c.run_id == chosen.run_id]

    def _settings_now(self) -> Mapping[str, Any] | None:
        return next((o.settings for o in self.load_dict.values() if isinstance(o, TrainingState)), None)

    def _misfit(self, candidate: _Candidate, detail: str) -> CheckpointError:
        """The error of a checkpoint that does not load: the settings that differ from its run's, else ``detail``."""
        now, before = self._settings_now(), candidate.state.get("settings")
        differences = settings_differences(before, now) if now is not None and isinstance(before, Mapping) else []
        why = f"the settings differ from the run that wrote it ({'; '.join(differences)})" if differences else detail
        return CheckpointError(
            f"{candidate.path} does not fit this run: {why}; resume with that run's settings or start over with "
            "--start_over True"
        )

    def _check_networks(self, candidate: _Candidate) -> None:
        """Raise a :class:`CheckpointError` if a network of ``load_dict`` cannot take the checkpoint's tensors."""
        for key, obj in self.load_dict.items():
            if isinstance(obj, torch.nn.Module):
                if problem := _tensor_misfit(_module(obj).state_dict(), candidate.checkpoint[key]):
                    raise self._misfit(candidate, f"{key}: {problem}")

    def _load(self, engine: Engine, candidate: _Candidate) -> None:
        self._check_networks(candidate)
        prior_max_epochs = engine.state.max_epochs  # the trainer's, not the checkpoint's
        try:
            Checkpoint.load_objects(to_load=self.load_dict, checkpoint=dict(candidate.checkpoint))
        except Exception as error:  # an optimiser, scheduler or pipeline of another shape
            raise self._misfit(candidate, _first_line(error)) from error
        if prior_max_epochs is not None and engine.state.epoch > prior_max_epochs:
            raise CheckpointError(
                f"{candidate.path} is at epoch {engine.state.epoch}, past max_epochs {prior_max_epochs}: resume with "
                f"--max_epochs above {engine.state.epoch}"
            )
        engine.state.max_epochs = prior_max_epochs

    def __call__(self, engine: Engine) -> None:
        chosen = self._choose()
        if chosen is None:
            logger.warning(
                f"--resume: no {self.prefix}_checkpoint_epoch=N.pt in {self.ckpt_dir}, training starts anew."
            )
            return
        candidate, run = chosen
        candidate = self._read(candidate.path, mmap=False)  # into memory: the objects may keep its tensors
        if candidate.checkpoint is None:
            raise CheckpointError(f"cannot resume: {candidate.path} is corrupt ({candidate.problem})")
        self._load(engine, candidate)
        now, before = self._settings_now(), candidate.state.get("settings")
        if now is not None and isinstance(before, Mapping) and (differences := settings_differences(before, now)):
            logger.info(f"resuming {candidate.path} with other settings than its run: {'; '.join(differences)}")
        if self.saver is not None:
            level = self.saver.epoch_level
            step = candidate.step(level)
            kept = sorted((c.step(level), c.path.name) for c in run if c.step(level) <= step)
            self.saver.load_state_dict({"interval": kept[-self.saver.n_saved :] if self.saver.n_saved else kept})
        logger.info(f"resumed from {candidate.path}: epoch {engine.state.epoch} of {engine.state.max_epochs} done.")
