"""MONAI's UNet++ as a drop-in baseline: the same network, returning one tensor of logits."""

from collections.abc import Sequence

import torch
from monai.networks.nets import BasicUNetPlusPlus
from torch import nn

from custom_networks.nets.input_checks import check_input

__all__ = ["UNetPlusPlus"]


class UNetPlusPlus(nn.Module):
    """:class:`monai.networks.nets.BasicUNetPlusPlus` without deep supervision, returning its final logits.

    MONAI's UNet++ returns a list of outputs, which a bundle's trainer, loss and inferer cannot take; this wrapper
    returns the tensor so the UNet++ baseline of the MILDNet paper swaps into any bundle through ``network_def``.

    Zhou et al., "UNet++: A Nested U-Net Architecture for Medical Image Segmentation", DLMIA 2018.

    Args:
        spatial_dims: number of spatial dimensions (2 or 3).
        in_channels: number of input channels.
        out_channels: number of output channels (logits).
        features: the six feature numbers of ``BasicUNetPlusPlus`` (four poolings); by default the widths the MILDNet
            paper compares at, 32 … 512 doubling over five levels (MONAI's default is 32, 32, 64, 128, 256), and 32 for
            the full-resolution nested nodes.
        kwargs: other arguments of ``BasicUNetPlusPlus`` (``act``, ``norm``, ``dropout``, ``upsample``, …).
    """

    def __init__(
        self,
        spatial_dims: int,
        in_channels: int,
        out_channels: int,
        features: Sequence[int] = (32, 64, 128, 256, 512, 32),
        **kwargs,
    ):
        super().__init__()
        self.spatial_dims = spatial_dims
        self.in_channels = in_channels
        self.multiple = 16
        self.net = BasicUNetPlusPlus(
            spatial_dims, in_channels, out_channels, features, deep_supervision=False, **kwargs
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.spatial_dims, self.in_channels, self.multiple, "UNetPlusPlus")
        return self.net(x)[0]
