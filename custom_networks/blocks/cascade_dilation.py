"""Cascaded dilated convolutions summed with their input: the bridge of ResDUnet.

Amer et al., "ResDUnet: Residual dilated UNet for left ventricle segmentation from echocardiographic images",
EMBC 2020, 2019–2022; the cascade follows Zhou et al., "D-LinkNet", CVPR Workshops 2018 (its centre block).
"""

from collections.abc import Sequence

import torch
from monai.networks.blocks import Convolution
from torch import nn

__all__ = ["CascadeDilatedConv"]


class CascadeDilatedConv(nn.Module):
    """``x + h_1 + … + h_K`` with ``h_k = act(norm(conv3×3_{d_k}(h_{k-1})))`` and ``h_0 = x``: each stage widens the
    receptive field of the previous one, and every scale reaches the output; the channels and size are kept.

    Args:
        spatial_dims: number of spatial dimensions.
        channels: input and output channels of every stage.
        dilations: dilation rate of each stage, in cascade order.
        act: activation type and arguments.
        norm: normalization type and arguments.
    """

    def __init__(
        self,
        spatial_dims: int,
        channels: int,
        dilations: Sequence[int] = (1, 2, 4, 8),
        act: str | tuple = "relu",
        norm: str | tuple = "batch",
    ):
        super().__init__()
        self.stages = nn.ModuleList(
            Convolution(spatial_dims, channels, channels, kernel_size=3, dilation=d, act=act, norm=norm)
            for d in dilations
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, h = x, x
        for stage in self.stages:
            h = stage(h)
            out = out + h
        return out
