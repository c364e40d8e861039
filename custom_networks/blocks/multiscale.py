"""Multi-scale down block of MS U-Net: three double convs working at full, half and quarter resolution.

Kurian, Lohan et al., "Deep Multi-Scale U-Net Architecture and Label-Noise Robust Training Strategies for
Histopathological Image Segmentation", Section III-A and Fig. 1.
"""

import torch
import torch.nn.functional as F
from monai.networks.blocks import Convolution
from monai.networks.layers.factories import Pool
from torch import nn

__all__ = ["DoubleConv", "MultiScaleDownBlock", "resize_like"]


def resize_like(x: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Resize ``x`` to the spatial size of ``reference``: (bi/tri)linear by rank, ``align_corners=False``."""
    modes = ["linear", "bilinear", "trilinear"]
    return F.interpolate(x, size=reference.shape[2:], mode=modes[x.dim() - 3], align_corners=False)


class DoubleConv(nn.Sequential):
    """Two 3×3 conv → norm → act layers; only the first conv is strided and dilated (padding = dilation).

    A stride ``s`` gives a spatial size of ``ceil(n / s)``.
    """

    def __init__(
        self,
        spatial_dims: int,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        dilation: int = 1,
        act: str | tuple = ("relu", {"inplace": True}),
        norm: str | tuple = "batch",
        bias: bool = True,
    ):
        """
        Args:
            spatial_dims: number of spatial dimensions.
            in_channels: number of input channels.
            out_channels: number of output channels of both convs.
            stride: stride of the first conv.
            dilation: dilation of the first conv.
            act: activation type and arguments.
            norm: feature normalization type and arguments.
            bias: whether the convs have a bias term.
        """
        super().__init__()
        self.add_module(
            "conv_0",
            Convolution(
                spatial_dims,
                in_channels,
                out_channels,
                strides=stride,
                dilation=dilation,
                act=act,
                norm=norm,
                bias=bias,
            ),
        )
        self.add_module("conv_1", Convolution(spatial_dims, out_channels, out_channels, act=act, norm=norm, bias=bias))


class MultiScaleDownBlock(nn.Module):
    """2×2 max-pool, then three double convs whose first convs have stride = dilation = 1, 2 and 4.

    The half- and quarter-resolution outputs are resized (bi/trilinear) back to the full-resolution output and the
    three are concatenated: ``out_channels // 3`` channels each, ``3 * (out_channels // 3)`` in all, at half the input
    size. The authors' code pools in every branch; one shared pool gives the same result.
    """

    def __init__(
        self,
        spatial_dims: int,
        in_channels: int,
        out_channels: int,
        act: str | tuple = ("relu", {"inplace": True}),
        norm: str | tuple = "batch",
        bias: bool = True,
    ):
        """
        Args:
            spatial_dims: number of spatial dimensions.
            in_channels: number of input channels.
            out_channels: requested output channels; each branch gets ``out_channels // 3``.
            act: activation type and arguments.
            norm: feature normalization type and arguments.
            bias: whether the convs have a bias term.
        """
        super().__init__()
        if out_channels < 3:
            raise ValueError(f"MultiScaleDownBlock needs out_channels >= 3 (three branches), got {out_channels}.")
        branch_channels = out_channels // 3
        self.pool = Pool["max", spatial_dims](kernel_size=2)
        self.full_res = DoubleConv(spatial_dims, in_channels, branch_channels, act=act, norm=norm, bias=bias)
        self.half_res = DoubleConv(spatial_dims, in_channels, branch_channels, 2, 2, act=act, norm=norm, bias=bias)
        self.quarter_res = DoubleConv(spatial_dims, in_channels, branch_channels, 4, 4, act=act, norm=norm, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(x)
        full = self.full_res(x)
        return torch.cat([full, resize_like(self.half_res(x), full), resize_like(self.quarter_res(x), full)], dim=1)
