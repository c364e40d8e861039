"""Training curves of a bundle run, per epoch, from the TensorBoard logs the bundles write to ``<bundle_root>/logs``:
``train_loss`` per iteration (the trainer's ``TensorBoardStatsHandler``), ``val_mean_dice`` and ``val_mean_iou`` (the
Jaccard index, as MultiResUNet's paper plots it) per validated epoch (the evaluator's)."""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import torch
from tensorboard.backend.event_processing.event_accumulator import SCALARS, EventAccumulator

from custom_networks.handlers import latest_checkpoint

__all__ = ["LOSS_TAG", "VAL_DICE_TAG", "VAL_IOU_TAG", "epoch_curves", "read_scalars"]

LOSS_TAG = "train_loss"
VAL_DICE_TAG = "val_mean_dice"
VAL_IOU_TAG = "val_mean_iou"


def read_scalars(log_dir: Path, tag: str) -> dict[int, float]:
    """step → value of scalar ``tag`` over every event file of ``log_dir``, read in the order they were started: a
    step written again (a resumed run repeats the interrupted epoch) keeps its latest value."""
    values: dict[int, float] = {}
    for path in sorted(Path(log_dir).glob("events.out.tfevents.*")):  # named events.out.tfevents.<start time>.…
        events = EventAccumulator(str(path), size_guidance={SCALARS: 0})  # 0: keep every value
        events.Reload()
        if tag in events.Tags()[SCALARS]:
            values.update((event.step, event.value) for event in events.Scalars(tag))
    return values


def epoch_curves(run_dir: Path) -> list[dict[str, float]]:
    """Per epoch of the run in ``run_dir`` (a bundle root): ``epoch``, ``train_loss`` (mean over the epoch's
    iterations), ``val_mean_dice`` and ``val_mean_iou`` (NaN in epochs without validation, or without that metric).
    Empty before the first epoch has ended.

    Iterations are assigned to epochs with the trainer's ``epoch_length`` from the last checkpoint."""
    checkpoint = latest_checkpoint(Path(run_dir) / "models")
    if checkpoint is None:
        return []
    epoch_length = torch.load(checkpoint, map_location="cpu", weights_only=True)["trainer"]["epoch_length"]
    losses: defaultdict[int, list[float]] = defaultdict(list)
    for iteration, loss in read_scalars(Path(run_dir) / "logs", LOSS_TAG).items():
        losses[(iteration - 1) // epoch_length + 1].append(loss)
    validation = {tag: read_scalars(Path(run_dir) / "logs", tag) for tag in (VAL_DICE_TAG, VAL_IOU_TAG)}
    return [
        {
            "epoch": epoch,
            "train_loss": sum(values) / len(values),
            **{tag: scores.get(epoch, math.nan) for tag, scores in validation.items()},
        }
        for epoch, values in sorted(losses.items())
    ]
