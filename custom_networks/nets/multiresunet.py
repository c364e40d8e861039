"""MultiResUNet: U-Net with MultiRes blocks instead of double convs and Res paths along the skips.

Ibtehaz & Rahman, "MultiResUNet: Rethinking the U-Net architecture for multimodal biomedical image
segmentation", Neural Networks 121, 2020. https://doi.org/10.1016/j.neunet.2019.08.025
"""

from collections.abc import Sequence

import torch
from monai.networks.blocks import UpSample
from monai.networks.layers.factories import Pool
from torch import nn

from custom_networks.blocks import MultiResBlock, ResPath
from custom_networks.blocks.keras_norm import KERAS_BATCH_NORM
from custom_networks.blocks.multires import ConvBN
from custom_networks.nets.input_checks import check_input

__all__ = ["MultiResDown", "MultiResUNet", "MultiResUpCat"]


class MultiResDown(nn.Module):
    """Encoder level: MultiRes block, whose output is max-pooled (2×) for the next level and sent through a
    Res path to the decoder.

    Args:
        spatial_dims: number of spatial dimensions.
        in_channels: number of input channels.
        features: U of this level: MultiRes block width and Res path filters.
        alpha: MultiRes block width scale.
        respath_length: number of Res path units.
        norm: feature normalisation type and arguments.
    """

    def __init__(
        self,
        spatial_dims: int,
        in_channels: int,
        features: int,
        alpha: float,
        respath_length: int,
        norm: str | tuple = KERAS_BATCH_NORM,
    ):
        super().__init__()
        self.block = MultiResBlock(spatial_dims, in_channels, features, alpha, norm)
        self.respath = ResPath(spatial_dims, self.block.out_channels, features, respath_length, norm)
        self.pool = Pool[Pool.MAX, spatial_dims](kernel_size=2)
        self.out_channels = self.block.out_channels

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (pooled block output, skip)."""
        x = self.block(x)
        return self.pool(x), self.respath(x)


class MultiResUpCat(nn.Module):
    """Decoder level: 2× transposed conv (with bias) to ``features`` channels, concatenation (upsampled, skip),
    MultiRes block.

    Args:
        spatial_dims: number of spatial dimensions.
        in_channels: number of channels to upsample.
        skip_channels: number of channels of the (Res path) skip.
        features: U of this level: filters of the transposed conv and of the MultiRes block.
        alpha: MultiRes block width scale.
        norm: feature normalisation type and arguments.
    """

    def __init__(
        self,
        spatial_dims: int,
        in_channels: int,
        skip_channels: int,
        features: int,
        alpha: float,
        norm: str | tuple = KERAS_BATCH_NORM,
    ):
        super().__init__()
        self.upsample = UpSample(spatial_dims, in_channels, features, scale_factor=2, mode="deconv")
        self.block = MultiResBlock(spatial_dims, features + skip_channels, features, alpha, norm)
        self.out_channels = self.block.out_channels

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.block(torch.cat([self.upsample(x), skip], dim=1))


class MultiResUNet(nn.Module):
    """MultiResUNet for 2-D or 3-D segmentation; returns logits (apply sigmoid/softmax outside).

    Each encoder level is a MultiRes block whose output is max-pooled (2×) for the next level and sent through a
    Res path (``depth - level`` units of ``features[level]`` filters, so 4, 3, 2, 1 by default) to the decoder;
    the last entry of ``features`` is the bottleneck. Each decoder level upsamples by a transposed conv,
    concatenates the skip and applies a MultiRes block. The head is a 1×1 conv→BN (BatchNorm without scale) unit.
    The defaults reproduce the paper: 7,238,228 trainable parameters in 2-D (3 → 1 channels), 18,633,167 in 3-D (4 → 1).
    Spatial sizes must be multiples of ``2 ** (len(features) - 1)`` (16 by default).

    Ibtehaz & Rahman, "MultiResUNet: Rethinking the U-Net architecture for multimodal biomedical image
    segmentation", Neural Networks 121, 2020, Sec. 4, Table 1 and Fig. 5.

    Args:
        spatial_dims: number of spatial dimensions (2 or 3).
        in_channels: number of input channels.
        out_channels: number of output channels (classes).
        alpha: width scale W = alpha * U of the MultiRes blocks.
        features: U per level, outermost first; the last one is the bottleneck.
        norm: feature normalisation type and arguments; default BatchNorm with the Keras defaults of the reference
            code (momentum 0.01 in PyTorch's terms, eps 1e-3), whose running statistics settle slowly: short runs
            evaluate better with a momentum of 0.1.
    """

    def __init__(
        self,
        spatial_dims: int,
        in_channels: int,
        out_channels: int,
        alpha: float = 1.67,
        features: Sequence[int] = (32, 64, 128, 256, 512),
        norm: str | tuple = KERAS_BATCH_NORM,
    ):
        super().__init__()
        if len(features) < 2:
            raise ValueError(f"MultiResUNet needs at least two feature levels, got features={tuple(features)}.")
        depth = len(features) - 1
        self.spatial_dims = spatial_dims
        self.in_channels = in_channels
        self.multiple = 2**depth

        self.encoders = nn.ModuleList()
        channels = in_channels
        for level, feat in enumerate(features[:-1]):
            down = MultiResDown(spatial_dims, channels, feat, alpha, depth - level, norm)
            self.encoders.append(down)
            channels = down.out_channels
        self.bottleneck = MultiResBlock(spatial_dims, channels, features[-1], alpha, norm)

        self.decoders = nn.ModuleList()
        channels = self.bottleneck.out_channels
        for feat in reversed(features[:-1]):
            up = MultiResUpCat(spatial_dims, channels, feat, feat, alpha, norm)
            self.decoders.append(up)
            channels = up.out_channels
        self.head = ConvBN(spatial_dims, channels, out_channels, kernel_size=1, act=False, norm=norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.spatial_dims, self.in_channels, self.multiple, "MultiResUNet")
        skips: list[torch.Tensor] = []
        for encoder in self.encoders:
            x, skip = encoder(x)
            skips.append(skip)
        x = self.bottleneck(x)
        for decoder in self.decoders:
            x = decoder(x, skips.pop())
        return self.head(x)
