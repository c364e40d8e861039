"""SupervisedTrainer iteration that hands a per-pixel weight map of the batch to the loss."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from monai.engines import SupervisedTrainer

__all__ = ["WeightMapIteration"]


class WeightMapIteration:
    """
    ``iteration_update`` for :py:class:`monai.engines.SupervisedTrainer` that passes a per-pixel weight map from
    the batch to the loss: for the duration of one iteration the trainer's loss function is called as
    ``loss_function(pred, label, weight=batch[weight_key])`` (the map moved to the trainer's device); the rest is
    the trainer's own iteration (prepare_batch, inferer, AMP, gradient accumulation, events) unchanged. The same
    pattern as MONAI's ``monai.apps.deepgrow.interaction.Interaction``.

    The loss must accept ``weight=``, as :py:class:`custom_networks.losses.TanimotoLoss`,
    :py:class:`custom_networks.losses.BootstrappedWeightedCELoss` and
    :py:class:`custom_networks.losses.CenterCropLoss` do.

    Args:
        weight_key: batch key of the weight map, e.g. the output key of
            :py:class:`custom_networks.transforms.ContourWeightsd`.

    Example (bundle ``train.json``)::

        "trainer": {"_target_": "SupervisedTrainer", "loss_function": "@loss", ...,
                    "iteration_update": {"_target_": "custom_networks.engines.WeightMapIteration",
                                         "weight_key": "weight"}}
    """

    def __init__(self, weight_key: str = "weight") -> None:
        self.weight_key = weight_key

    def __call__(self, engine: SupervisedTrainer, batchdata: dict[str, torch.Tensor]) -> dict:
        """
        Args:
            engine: the ``SupervisedTrainer`` running the iteration.
            batchdata: the batch, a dictionary holding ``weight_key``.

        Raises:
            KeyError: When the batch has no ``weight_key``.
        """
        if self.weight_key not in batchdata:
            raise KeyError(f"batch has no weight map '{self.weight_key}' (keys: {sorted(batchdata)}).")
        weight = batchdata[self.weight_key].to(engine.state.device, non_blocking=engine.non_blocking)
        loss_function = engine.loss_function
        engine.loss_function = partial(loss_function, weight=weight)
        try:
            return engine._iteration(engine, batchdata)
        finally:
            engine.loss_function = loss_function
