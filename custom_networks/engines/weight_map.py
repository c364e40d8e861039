"""The per-pixel weight map of each training batch handed to the loss, through Ignite's events."""

from __future__ import annotations

from typing import Any

import torch
from ignite.engine import Engine, Events
from torch import nn

__all__ = ["WeightMapHandler", "WeightMapLoss"]


class WeightMapLoss(nn.Module):
    """A loss that takes a per-pixel ``weight=`` map (:class:`custom_networks.losses.TanimotoLoss`,
    :class:`custom_networks.losses.BootstrappedWeightedCELoss`, :class:`custom_networks.losses.CenterCropLoss`), called
    as a ``SupervisedTrainer`` calls its ``loss_function``: ``(pred, label)``, with the weight map of the current batch
    that :class:`WeightMapHandler` sets in :attr:`weight`.

    Args:
        loss: the loss taking ``weight=``.
    """

    def __init__(self, loss: nn.Module) -> None:
        super().__init__()
        self.loss = loss
        self.weight: torch.Tensor | None = None

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """
        Raises:
            RuntimeError: no weight map is set (no :class:`WeightMapHandler` attached to the trainer).
        """
        if self.weight is None:
            raise RuntimeError("WeightMapLoss has no weight map: attach a WeightMapHandler to the trainer.")
        return self.loss(input, target, weight=self.weight)


class WeightMapHandler:
    """Hands the weight map of each training batch to a :class:`WeightMapLoss`: when an iteration starts, it moves
    ``batch[weight_key]`` (e.g. the output of :class:`custom_networks.transforms.ContourWeightsd`) to the trainer's
    device and sets it as the loss's weight map, and it releases the map when the iteration completes. The rest is
    the trainer's own iteration (prepare_batch, inferer, AMP, events) unchanged.

    Args:
        loss: the trainer's ``loss_function``.
        weight_key: batch key of the weight map.

    Example (bundle ``train.json``)::

        "weight_map_loss": {"_target_": "custom_networks.engines.WeightMapLoss", "loss": "@loss"},
        "trainer": {"_target_": "SupervisedTrainer", "loss_function": "@weight_map_loss", ...,
                    "train_handlers": [{"_target_": "custom_networks.engines.WeightMapHandler",
                                        "loss": "@weight_map_loss", "weight_key": "weight"}, ...]}
    """

    def __init__(self, loss: WeightMapLoss, weight_key: str = "weight") -> None:
        self.loss = loss
        self.weight_key = weight_key

    def attach(self, engine: Engine) -> None:
        engine.add_event_handler(Events.ITERATION_STARTED, self.take_weight_map)
        engine.add_event_handler(Events.ITERATION_COMPLETED, self.release_weight_map)

    def take_weight_map(self, engine: Engine) -> None:
        """
        Raises:
            KeyError: the batch has no ``weight_key``.
        """
        batch: dict[str, Any] = engine.state.batch
        if self.weight_key not in batch:
            raise KeyError(f"batch has no weight map '{self.weight_key}' (keys: {sorted(batch)}).")
        non_blocking = getattr(engine, "non_blocking", False)  # a MONAI engine's setting
        self.loss.weight = batch[self.weight_key].to(engine.state.device, non_blocking=non_blocking)

    def release_weight_map(self, engine: Engine) -> None:
        self.loss.weight = None
