"""The ``reduction`` step shared by the losses, as MONAI's losses apply it."""

import torch
from monai.utils import LossReduction

__all__ = ["reduce_loss"]


def reduce_loss(f: torch.Tensor, reduction: str) -> torch.Tensor:
    """Reduce an unreduced loss tensor by ``"mean"``, ``"sum"`` or ``"none"`` (:class:`monai.utils.LossReduction`)."""
    if reduction == LossReduction.MEAN.value:
        return f.mean()
    if reduction == LossReduction.SUM.value:
        return f.sum()
    if reduction == LossReduction.NONE.value:
        return f
    raise ValueError(f'Unsupported reduction: {reduction}, available options are ["mean", "sum", "none"].')
