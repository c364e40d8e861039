"""Loss on the centre of each patch only, the margin discarded (MS U-Net)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn as nn
from monai.utils import ensure_tuple_rep

__all__ = ["CenterCropLoss"]


class CenterCropLoss(nn.Module):
    """
    Wraps a loss so that it only sees the centre of each patch: ``input``, ``target`` and the optional per-pixel
    ``weight`` lose ``margin`` voxels on each side of every spatial dimension before the wrapped loss is called.
    Patches are then predicted with overlap and stitched from their centres, so that the border context missing
    from a patch never enters training.

    Kurian, Lohan et al., "Deep Multi-Scale U-Net Architecture and Label-Noise Robust Training Strategies for
    Histopathological Image Segmentation", Sections I and III-D ("center-cropped loss calculation").

    Args:
        loss: the loss to wrap, called as ``loss(input, target)`` or ``loss(input, target, weight=weight)``.
        margin: voxels discarded on each side, one value for all spatial dimensions or one per dimension.
    """

    def __init__(self, loss: Callable[..., torch.Tensor], margin: Sequence[int] | int) -> None:
        super().__init__()
        self.loss = loss
        self.margin = margin

    def forward(self, input: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
        """
        Args:
            input: prediction ``BNH[WD]``.
            target: ground truth ``B?H[WD]``.
            weight: optional per-pixel weight map ``B?H[WD]``, cropped as well and passed on as ``weight=``.

        Raises:
            ValueError: When a margin leaves no voxel along its dimension.
        """
        margins = ensure_tuple_rep(self.margin, input.ndim - 2)
        if any(2 * m >= size for m, size in zip(margins, input.shape[2:], strict=True)):
            raise ValueError(f"margin {self.margin} leaves nothing of spatial shape {tuple(input.shape[2:])}.")
        crop = (..., *(slice(m, size - m) for m, size in zip(margins, input.shape[2:], strict=True)))
        if weight is None:
            return self.loss(input[crop], target[crop])
        return self.loss(input[crop], target[crop], weight=weight[crop])
