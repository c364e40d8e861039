"""MONAI's Attention U-Net as a drop-in baseline of MS U-Net: the paper's widths by default and a clear input check.

Oktay et al., "Attention U-Net: Learning where to look for the pancreas", MIDL 2018; compared with MS U-Net in Kurian,
Lohan et al., "Deep learning based approach for segmentation of histopathology images with noisy labels" (Table I).
"""

from collections.abc import Sequence

import torch
from monai.networks.nets import AttentionUnet
from torch import nn

from custom_networks.nets.input_checks import check_input

__all__ = ["AttentionUNet"]


class AttentionUNet(nn.Module):
    """:class:`monai.networks.nets.AttentionUnet` with U-Net-style ``features`` (one stride-2 level per width after the
    first) and an input check naming the size multiple (instead of a shape mismatch deep inside); returns logits.

    The MS U-Net paper does not give its Attention U-Net's widths: [choice], those of the U-Net baselines, 32 … 512
    doubling over five levels. Spatial sizes must be multiples of ``2 ** (len(features) - 1)``.

    Args:
        spatial_dims: number of spatial dimensions (2 or 3).
        in_channels: number of input channels.
        out_channels: number of output channels (classes).
        features: filters per level, outermost first; the last one is the bottleneck.
        dropout: dropout probability of MONAI's blocks.
    """

    def __init__(
        self,
        spatial_dims: int,
        in_channels: int,
        out_channels: int,
        features: Sequence[int] = (32, 64, 128, 256, 512),
        dropout: float = 0.0,
    ):
        super().__init__()
        strides = (2,) * (len(features) - 1)
        self.net = AttentionUnet(
            spatial_dims, in_channels, out_channels, channels=features, strides=strides, dropout=dropout
        )
        self.spatial_dims = spatial_dims
        self.in_channels = in_channels
        self.multiple = 2 ** len(strides)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.spatial_dims, self.in_channels, self.multiple, "AttentionUNet")
        return self.net(x)
