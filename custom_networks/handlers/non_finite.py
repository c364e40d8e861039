"""Stop training at the first non-finite loss, saying where, before a broken model reaches a checkpoint."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from ignite.engine import Engine, Events

__all__ = ["StopOnNonFiniteLoss"]


def _loss(output: Any) -> Any:
    """The ``"loss"`` of a ``SupervisedTrainer`` output, a dict or (decollated) a list of dicts sharing it."""
    return (output[0] if isinstance(output, list | tuple) else output)["loss"]


class StopOnNonFiniteLoss:
    """Raise ``FloatingPointError`` when the training loss is NaN or infinite, naming the epoch and iteration.

    Like Ignite's ``TerminateOnNan``, but the run fails (non-zero exit status of ``monai.bundle run``) with a message
    that says where and what to do, instead of ending as if training had finished. Raised at
    ``ITERATION_COMPLETED``, before the epoch completes, so no checkpoint of the broken weights is written: the
    checkpoints of the completed epochs are kept and ``--resume True`` continues from the last one.

    Args:
        output_transform: maps ``engine.state.output`` to the loss (default: its ``"loss"`` entry, as MONAI's
            ``SupervisedTrainer`` writes it, decollated or not).
    """

    def __init__(self, output_transform: Callable[[Any], Any] | None = None) -> None:
        self.output_transform = output_transform or _loss

    def attach(self, engine: Engine) -> None:
        engine.add_event_handler(Events.ITERATION_COMPLETED, self)

    def __call__(self, engine: Engine) -> None:
        loss = self.output_transform(engine.state.output)
        value = float(loss.detach().float().mean()) if isinstance(loss, torch.Tensor) else float(loss)
        if math.isfinite(value):
            return
        state = engine.state
        in_epoch = (state.iteration - 1) % state.epoch_length + 1 if state.epoch_length else state.iteration
        raise FloatingPointError(
            f"training loss is {value} at epoch {state.epoch}, iteration {in_epoch} of {state.epoch_length} "
            f"(global iteration {state.iteration}): training stopped before saving this epoch. The checkpoints of "
            "the completed epochs are kept; find the cause (NaN or Inf in the input data, a learning rate that is "
            "too high, or mixed precision overflowing) and continue with --resume True."
        )
