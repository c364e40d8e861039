"""MS U-Net: a U-Net whose encoder blocks extract features at three scales.

Kurian, Lohan et al., "Deep Multi-Scale U-Net Architecture and Label-Noise Robust Training Strategies for
Histopathological Image Segmentation", Section III-A and Fig. 1.
"""

from collections.abc import Sequence

import torch
from monai.networks.layers.factories import Conv
from torch import nn

from custom_networks.blocks.multiscale import DoubleConv, MultiScaleDownBlock, resize_like
from custom_networks.nets.input_checks import check_input

__all__ = ["MSUNet", "MSUpBlock"]


class MSUpBlock(nn.Module):
    """Bi/trilinear upsampling to the skip's size (×2 for valid inputs), concatenation ``(skip, up)``, double conv."""

    def __init__(
        self,
        spatial_dims: int,
        in_channels: int,
        skip_channels: int,
        out_channels: int,
        act: str | tuple = ("relu", {"inplace": True}),
        norm: str | tuple = "batch",
        bias: bool = True,
    ):
        """
        Args:
            spatial_dims: number of spatial dimensions.
            in_channels: number of channels of the input to upsample.
            skip_channels: number of channels of the encoder feature map.
            out_channels: number of output channels.
            act: activation type and arguments.
            norm: feature normalization type and arguments.
            bias: whether the convs have a bias term.
        """
        super().__init__()
        self.conv = DoubleConv(spatial_dims, skip_channels + in_channels, out_channels, act=act, norm=norm, bias=bias)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.cat([skip, resize_like(x, skip)], dim=1))


class MSUNet(nn.Module):
    """MS U-Net: double-conv stem, multi-scale down blocks, bi/trilinear up blocks, 1×1 conv head; returns logits.

    The depth is ``len(features) - 1`` (five down blocks by default). Every spatial input size must be a multiple of
    ``4 * 2**depth`` (128 by default), so that the quarter-resolution branch after the last pool still has exactly a
    quarter of its size (at least one voxel). At exactly that minimum the branch is a single voxel, which batch norm
    cannot train on with a batch of one: train with batches of 2 or more, or with larger inputs.

    Args:
        spatial_dims: number of spatial dimensions (2 or 3).
        in_channels: number of input channels.
        out_channels: number of output channels (logits).
        features: channels of the stem, then of each down block (each a multiple of 3: three equal branches);
            the decoder mirrors them. Defaults to the authors' configuration.
        act: activation type and arguments.
        norm: feature normalization type and arguments.
        bias: whether the 3×3 convs have a bias term (the head always has one).
    """

    def __init__(
        self,
        spatial_dims: int,
        in_channels: int,
        out_channels: int,
        features: Sequence[int] = (63, 120, 270, 360, 480, 480),
        act: str | tuple = ("relu", {"inplace": True}),
        norm: str | tuple = "batch",
        bias: bool = True,
    ):
        super().__init__()
        if len(features) < 2:
            raise ValueError(f"MSUNet needs at least two features (stem and one down block), got {list(features)}.")
        if any(f < 1 for f in features) or any(f % 3 for f in features[1:]):
            raise ValueError(
                f"MSUNet features must be positive and, after the stem, multiples of 3 (three equal branches per down "
                f"block), got {list(features)}."
            )
        self.spatial_dims = spatial_dims
        self.in_channels = in_channels
        self.multiple = 4 * 2 ** (len(features) - 1)
        self.stem = DoubleConv(spatial_dims, in_channels, features[0], act=act, norm=norm, bias=bias)
        self.downs = nn.ModuleList(
            MultiScaleDownBlock(spatial_dims, f_in, f_out, act=act, norm=norm, bias=bias)
            for f_in, f_out in zip(features[:-1], features[1:], strict=True)
        )
        self.ups = nn.ModuleList(
            MSUpBlock(spatial_dims, f_in, f_out, f_out, act=act, norm=norm, bias=bias)
            for f_in, f_out in zip(features[:0:-1], features[-2::-1], strict=True)
        )
        self.head = Conv["conv", spatial_dims](features[0], out_channels, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.spatial_dims, self.in_channels, self.multiple, "MSUNet")
        x = self.stem(x)
        skips: list[torch.Tensor] = []
        for down in self.downs:
            skips.append(x)
            x = down(x)
        for up in self.ups:
            x = up(x, skips.pop())
        return self.head(x)
