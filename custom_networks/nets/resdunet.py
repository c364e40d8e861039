"""ResDUnet: U-Net with residual blocks and a cascade of dilated convolutions at its bridge, a baseline of MILDNet.

Amer et al., "ResDUnet: Residual dilated UNet for left ventricle segmentation from echocardiographic images",
EMBC 2020, 2019–2022; compared with MILDNet in Gudhe et al., Scientific Reports 11, 2021 (Table 5).
"""

from collections.abc import Sequence
from functools import partial

from torch import nn

from custom_networks.blocks.cascade_dilation import CascadeDilatedConv
from custom_networks.nets.unet import EncoderDecoder, ResidualConvBlock

__all__ = ["ResDUnet"]


class ResDUnet(EncoderDecoder):
    """ResDUnet for 2-D or 3-D segmentation; returns logits.

    The U-Net topology (:class:`~custom_networks.nets.unet.EncoderDecoder`) with every double conv replaced by a
    BatchNorm :class:`~custom_networks.nets.unet.ResidualConvBlock` and a
    :class:`~custom_networks.blocks.cascade_dilation.CascadeDilatedConv` after the bottleneck's block. The paper's
    text is not among this project's sources: the design follows its abstract ("integrates cascade dilated
    convolution to extract features at different scales, and deploys residual blocks instead of the standard UNet
    blocks") and MILDNet's protocol (its baselines share the widths 32 … 512 and Xavier initialization);
    [choice]: the cascade at the bridge with rates 1, 2, 4, 8, as in D-LinkNet, and BatchNorm after the first
    conv of each residual block.

    Args:
        spatial_dims: number of spatial dimensions (2 or 3).
        in_channels: number of input channels.
        out_channels: number of output channels (classes).
        features: filters per level, outermost first; the last one is the bottleneck.
        dilations: dilation rates of the cascade, in order.
        act: activation type and arguments.
        norm: normalization type and arguments.
    """

    def __init__(
        self,
        spatial_dims: int,
        in_channels: int,
        out_channels: int,
        features: Sequence[int] = (32, 64, 128, 256, 512),
        dilations: Sequence[int] = (1, 2, 4, 8),
        act: str | tuple = "relu",
        norm: str | tuple = "batch",
    ):
        block = partial(ResidualConvBlock, spatial_dims, act=act, norm=norm)

        def bottleneck(c_in: int, c_out: int) -> nn.Module:
            return nn.Sequential(block(c_in, c_out), CascadeDilatedConv(spatial_dims, c_out, dilations, act, norm))

        super().__init__(spatial_dims, in_channels, out_channels, features, block, bottleneck=bottleneck)
