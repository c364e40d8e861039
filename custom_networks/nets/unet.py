"""The U-Net encoder–decoder skeleton and the two baselines built on it: classical U-Net and residual U-Net.

Ronneberger et al., "U-Net: Convolutional networks for biomedical image segmentation", MICCAI 2015.
Baselines as configured in Ibtehaz & Rahman, "MultiResUNet", Neural Networks 121, 2020 (Table 3) and
Gudhe et al., "Multi-level dilated residual network for biomedical image segmentation", Scientific Reports 11,
2021 ("Baseline models").
"""

from collections.abc import Callable, Sequence
from functools import partial

import torch
from monai.networks.blocks import ResidualUnit
from monai.networks.layers.factories import Conv, Pool
from monai.networks.layers.utils import get_act_layer
from monai.networks.nets.basic_unet import TwoConv
from torch import nn

from custom_networks.blocks.mlr import MLRBlock
from custom_networks.nets.input_checks import check_input

__all__ = ["EncoderDecoder", "ResidualConvBlock", "ResidualUNet", "UNet"]


class EncoderDecoder(nn.Module):
    """U-Net skeleton: conv block → 2× max-pool per encoder level, bottleneck block, then per decoder level
    2× transposed conv (kernel 2, stride 2, with bias) to the level's features, concatenation (skip, upsampled;
    [choice], the order of MONAI's BasicUNet) and conv block; a 1×1 conv head returns logits. Each skip may pass
    through a skip block first.

    The networks of this package that share this topology (:class:`UNet`, :class:`ResidualUNet`,
    :class:`~custom_networks.nets.MILDNet`) differ only in ``block`` and ``skip``. Spatial sizes must be multiples
    of ``2 ** (len(features) - 1)``. Every convolution and transposed convolution gets Xavier (Glorot) uniform
    weights and zero biases: the MILDNet paper initializes its convolutional layers with Xavier initialization and
    trains the baselines with the same protocol ([choice]: the uniform variant, Glorot & Bengio's "normalized
    initialization"; the paper only says "Xavier").

    Args:
        spatial_dims: number of spatial dimensions (2 or 3).
        in_channels: number of input channels.
        out_channels: number of output channels (classes).
        features: filters per level, outermost first; the last one is the bottleneck.
        block: ``block(in_channels, out_channels)`` builds the conv block of a level (encoder, bottleneck, decoder).
        skip: ``skip(channels)`` builds the block applied to a skip before the concatenation; identity if None.
        bottleneck: builds the bottleneck block like ``block``; ``block`` if None.
        decoder_block: builds the decoder blocks like ``block``; ``block`` if None.
        keep_upsampled_channels: the transposed convs keep their input's channels (Çiçek et al.'s 3-D U-Net) instead
            of reducing them to the level's features.
    """

    def __init__(
        self,
        spatial_dims: int,
        in_channels: int,
        out_channels: int,
        features: Sequence[int],
        block: Callable[[int, int], nn.Module],
        skip: Callable[[int], nn.Module] | None = None,
        bottleneck: Callable[[int, int], nn.Module] | None = None,
        decoder_block: Callable[[int, int], nn.Module] | None = None,
        keep_upsampled_channels: bool = False,
    ):
        super().__init__()
        if len(features) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least two feature levels, got features={tuple(features)}."
            )
        self.spatial_dims = spatial_dims
        self.in_channels = in_channels
        self.multiple = 2 ** (len(features) - 1)
        self.network_name = type(self).__name__

        outer, deepest = list(features[:-1]), features[-1]
        self.encoder = nn.ModuleList(
            block(c_in, c_out) for c_in, c_out in zip([in_channels] + outer[:-1], outer, strict=True)
        )
        self.pool = Pool[Pool.MAX, spatial_dims](kernel_size=2, stride=2)
        self.bottleneck = (bottleneck or block)(outer[-1], deepest)
        self.skips = nn.ModuleList(nn.Identity() if skip is None else skip(c) for c in outer)

        up_conv = Conv[Conv.CONVTRANS, spatial_dims]
        inner = [deepest] + outer[:0:-1]  # channels entering each decoder level, deepest first
        upsampled = inner if keep_upsampled_channels else outer[::-1]
        self.upsamples = nn.ModuleList(
            up_conv(c_in, c_up, kernel_size=2, stride=2) for c_in, c_up in zip(inner, upsampled, strict=True)
        )
        self.decoder = nn.ModuleList(
            (decoder_block or block)(c + c_up, c) for c, c_up in zip(outer[::-1], upsampled, strict=True)
        )
        self.head = Conv[Conv.CONV, spatial_dims](features[0], out_channels, kernel_size=1)

        conv_types = (Conv[Conv.CONV, spatial_dims], Conv[Conv.CONVTRANS, spatial_dims])
        for module in self.modules():
            if isinstance(module, conv_types):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.spatial_dims, self.in_channels, self.multiple, self.network_name)
        skips: list[torch.Tensor] = []
        for encode, skip in zip(self.encoder, self.skips, strict=True):
            x = encode(x)
            skips.append(skip(x))
            x = self.pool(x)
        x = self.bottleneck(x)
        for upsample, decode in zip(self.upsamples, self.decoder, strict=True):
            x = decode(torch.cat([skips.pop(), upsample(x)], dim=1))
        return self.head(x)


class UNet(EncoderDecoder):
    """Classical U-Net baseline; returns logits (apply sigmoid/softmax outside).

    Every conv block is two 3×3 convs with bias, each followed by ReLU, no normalization
    (:class:`monai.networks.nets.basic_unet.TwoConv`); see :class:`EncoderDecoder` for the topology. With the
    defaults and one input and one output channel it has the 7,759,521 parameters of the U-Net baseline of
    MultiResUNet (Ibtehaz & Rahman 2020, Table 3).

    Ronneberger et al., "U-Net: Convolutional networks for biomedical image segmentation", MICCAI 2015.

    Args:
        spatial_dims: number of spatial dimensions (2 or 3).
        in_channels: number of input channels.
        out_channels: number of output channels (classes).
        features: filters per level, outermost first; the last one is the bottleneck.
        act: activation type and arguments.
        mlr_skips: pass every skip through a MILDNet MLR block (two levels, BatchNorm), the "U-Net with MLR" row of
            the MILDNet paper's ablation (Gudhe et al. 2021, Table 4).
    """

    def __init__(
        self,
        spatial_dims: int,
        in_channels: int,
        out_channels: int,
        features: Sequence[int] = (32, 64, 128, 256, 512),
        act: str | tuple = "relu",
        mlr_skips: bool = False,
    ):
        block = partial(self.conv_block, spatial_dims, act=act)
        skip = partial(MLRBlock, spatial_dims, act=act) if mlr_skips else None
        super().__init__(spatial_dims, in_channels, out_channels, features, block, skip)

    @staticmethod
    def conv_block(spatial_dims: int, in_channels: int, out_channels: int, act: str | tuple) -> nn.Module:
        """The block of every level: two 3×3 convs with bias, each followed by ``act``, no normalization."""
        return TwoConv(spatial_dims, in_channels, out_channels, act=act, norm=None, bias=True)


class ResidualConvBlock(nn.Module):
    """U-Net double conv with a residual shortcut: ``act(conv3×3(act(norm(conv3×3(x)))) + shortcut(x))``.

    Post-addition activation as in He et al. 2016 ([choice]: the MILDNet paper only says "a residual shortcut
    connection in the convolutional block"). The shortcut is the identity, or a 1×1 conv with bias when the
    channel count changes; convs have bias (:class:`monai.networks.blocks.ResidualUnit`, whose last conv is not
    normalized).

    Args:
        spatial_dims: number of spatial dimensions.
        in_channels: number of input channels.
        out_channels: number of output channels.
        act: activation type and arguments.
        norm: normalization after the first conv; none by default (the residual U-Net baseline).
    """

    def __init__(
        self,
        spatial_dims: int,
        in_channels: int,
        out_channels: int,
        act: str | tuple = "relu",
        norm: str | tuple | None = None,
    ):
        super().__init__()
        self.unit = ResidualUnit(
            spatial_dims, in_channels, out_channels, subunits=2, act=act, norm=norm, bias=True, last_conv_only=True
        )
        self.act = get_act_layer(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.unit(x))


class ResidualUNet(UNet):
    """Residual U-Net baseline (the "ResidualU-Net" of the MILDNet paper); returns logits.

    The classical :class:`UNet` (same arguments) with every double conv replaced by a :class:`ResidualConvBlock`.

    Gudhe et al., "Multi-level dilated residual network for biomedical image segmentation", Scientific Reports 11,
    2021, "Baseline models for performance comparison".
    """

    @staticmethod
    def conv_block(spatial_dims: int, in_channels: int, out_channels: int, act: str | tuple) -> nn.Module:
        """The block of every level: :class:`ResidualConvBlock`."""
        return ResidualConvBlock(spatial_dims, in_channels, out_channels, act)
