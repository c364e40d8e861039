"""Resuming an interrupted training run from its last checkpoint, exactly where the uninterrupted run would be."""

from __future__ import annotations

import logging
import random
import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ignite.engine import Engine, Events
from ignite.handlers import EarlyStopping
from monai.handlers import CheckpointLoader
from monai.transforms import Randomizable, Transform

from custom_networks.handlers.checkpoint import AtomicCheckpointSaver

__all__ = ["ResumeTraining", "TrainingState", "latest_checkpoint"]

logger = logging.getLogger(__name__)


def latest_checkpoint(ckpt_dir: str | Path, prefix: str = "last") -> Path | None:
    """The ``<prefix>_checkpoint_epoch=N.pt`` (MONAI ``CheckpointSaver`` naming) with the highest N, or None."""
    pattern = re.compile(rf"{re.escape(prefix)}_checkpoint_epoch=(\d+)\.pt")
    found = [(int(m.group(1)), p) for p in Path(ckpt_dir).glob(f"{prefix}_*.pt") if (m := pattern.fullmatch(p.name))]
    return max(found)[1] if found else None


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


class TrainingState:
    """What a training run carries besides network, optimiser, scheduler and trainer, as one checkpoint entry.

    - the evaluator's best key metric and its epoch, and the early-stopping counter and best score, so a resumed
      run stops and reports as the uninterrupted run would;
    - the global random number generators of PyTorch, NumPy and Python and those of the random transforms of
      ``datasets`` (MONAI's ``DataLoader`` seeds them once when it is built if it has no workers, and they advance
      from epoch to epoch), so that with the same seed a resumed run draws the same shuffles, crops and flips as the
      uninterrupted run and ends with the same weights. Worker processes are seeded from PyTorch's generator.

    Stored with plain types and tensors, so MONAI's ``CheckpointLoader`` reads it with ``weights_only=True``.

    Args:
        evaluator: the validation engine whose ``best_metric`` is kept.
        early_stop: Ignite's ``EarlyStopping`` attached to ``evaluator``.
        datasets: datasets whose transforms' generators are kept (the training dataset).
    """

    def __init__(
        self,
        evaluator: Engine | None = None,
        early_stop: EarlyStopping | None = None,
        datasets: Sequence[Any] = (),
    ) -> None:
        self.evaluator = evaluator
        self.early_stop = early_stop
        self.datasets = list(datasets)

    def _transforms(self) -> list[Randomizable]:
        return _random_transforms([getattr(dataset, "transform", None) for dataset in self.datasets])

    def state_dict(self) -> OrderedDict:
        state: OrderedDict = OrderedDict()
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
        if self.evaluator is not None and "best_metric" in state:
            self.evaluator.state.best_metric = state["best_metric"]
            self.evaluator.state.best_metric_epoch = state["best_metric_epoch"]
        if self.early_stop is not None and "early_stop" in state:
            self.early_stop.load_state_dict(state["early_stop"])
        python = state["python_random"]
        random.setstate((python["version"], tuple(python["internal"]), python["gauss"]))
        np.random.set_state(_unpack(state["numpy_random"]))  # noqa: NPY002
        torch.set_rng_state(state["torch_random"])
        transforms = self._transforms()
        if len(transforms) != len(state["transforms"]):
            raise ValueError(
                f"the checkpoint holds the generators of {len(state['transforms'])} random transforms, the training "
                f"pipeline has {len(transforms)}: resume with the configuration the run was started with."
            )
        for transform, transform_state in zip(transforms, state["transforms"], strict=True):
            transform.R.set_state(_unpack(transform_state))


class ResumeTraining:
    """Load the latest ``<prefix>_checkpoint_epoch=N.pt`` of ``ckpt_dir`` into ``load_dict`` when training starts.

    The bundles' ``--resume True``: attached to the trainer, it restores everything the last-checkpoint saver wrote
    (network, optimiser, scheduler, trainer epoch and iteration, best-model bookkeeping, :class:`TrainingState`) with
    MONAI's ``CheckpointLoader``, and the trainer continues with the next epoch up to ``max_epochs``. An epoch that
    was interrupted is run again from its start. Without a checkpoint it logs a warning and training starts from
    scratch, so the same command serves the first start and every restart.

    Args:
        ckpt_dir: folder of the checkpoints.
        load_dict: the objects to restore, keyed as in the saver's ``save_dict``.
        enabled: False makes ``attach`` a no-op (the bundles pass ``@resume``).
        prefix: file prefix of the last-checkpoint saver.
        map_location: where to load tensors (the training device).
        saver: the saver that wrote the checkpoints: told which file was loaded, so that it removes that file when
            it saves the next one (``n_saved``), as in an uninterrupted run.
    """

    def __init__(
        self,
        ckpt_dir: str | Path,
        load_dict: dict[str, Any],
        enabled: bool = True,
        prefix: str = "last",
        map_location: Any = None,
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

    def __call__(self, engine: Engine) -> None:
        path = latest_checkpoint(self.ckpt_dir, self.prefix)
        if path is None:
            logger.warning(
                f"--resume: no {self.prefix}_checkpoint_epoch=N.pt in {self.ckpt_dir}, training starts anew."
            )
            return
        CheckpointLoader(load_path=str(path), load_dict=self.load_dict, map_location=self.map_location)(engine)
        if self.saver is not None:
            self.saver.load_state_dict({"interval": [(engine.state.epoch, path.name)]})
        logger.info(f"resumed from {path}: epoch {engine.state.epoch} of {engine.state.max_epochs} done.")
