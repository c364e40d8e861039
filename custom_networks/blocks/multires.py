"""MultiRes block of MultiResUNet and its conv→BN unit.

Ibtehaz & Rahman, "MultiResUNet: Rethinking the U-Net architecture for multimodal biomedical image
segmentation", Neural Networks 121, 2020. https://doi.org/10.1016/j.neunet.2019.08.025
"""

import torch
from monai.networks.layers.factories import Act, Conv
from torch import nn

from custom_networks.blocks.keras_norm import KERAS_BATCH_NORM, norm_layer

__all__ = ["ConvBN", "MultiResBlock"]


class ConvBN(nn.Module):
    """Convolution without bias → BatchNorm without scale (gamma fixed to 1, learnable shift beta) → optional ReLU.

    The ``conv2d_bn`` unit of MultiResUNet. The BatchNorm has no gamma at all (Keras ``scale=False``), so
    neither the optimiser nor the parameter count sees one; beta is the ``beta`` parameter of this module.

    Args:
        spatial_dims: number of spatial dimensions.
        in_channels: number of input channels.
        out_channels: number of output channels.
        kernel_size: convolution kernel size ('same' padding, odd sizes).
        act: apply a ReLU after the normalisation.
        norm: feature normalisation type and arguments (default: BatchNorm with the Keras defaults).
    """

    def __init__(
        self,
        spatial_dims: int,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        act: bool = True,
        norm: str | tuple = KERAS_BATCH_NORM,
    ):
        super().__init__()
        self.conv = Conv[Conv.CONV, spatial_dims](
            in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False
        )
        self.norm = norm_layer(spatial_dims, out_channels, affine=False, norm=norm)
        self.beta = nn.Parameter(torch.zeros(out_channels, *([1] * spatial_dims)))
        self.act = Act[Act.RELU]() if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.norm(self.conv(x)) + self.beta)


class MultiResBlock(nn.Module):
    """MultiRes block: three chained 3×3 conv→BN→ReLU units whose outputs are concatenated (3×3, 5×5 and 7×7
    receptive fields), plus a 1×1 conv→BN shortcut; ``BN(ReLU(BN(concat) + shortcut))``.

    With ``W = alpha * features`` the three units have ``int(W * 0.167)``, ``int(W * 0.333)`` and
    ``int(W * 0.5)`` filters (as in the reference code); their sum is ``out_channels``.

    Ibtehaz & Rahman, "MultiResUNet", Neural Networks 121, 2020, Sec. 3.1 and Fig. 3c.

    Args:
        spatial_dims: number of spatial dimensions.
        in_channels: number of input channels.
        features: U, the filters of the matching U-Net level.
        alpha: scale W = alpha * U of the block width (1.67 in the paper).
        norm: feature normalisation type and arguments (default: BatchNorm with the Keras defaults).
    """

    def __init__(
        self,
        spatial_dims: int,
        in_channels: int,
        features: int,
        alpha: float = 1.67,
        norm: str | tuple = KERAS_BATCH_NORM,
    ):
        super().__init__()
        width = alpha * features
        channels = (int(width * 0.167), int(width * 0.333), int(width * 0.5))
        if min(channels) < 1:
            raise ValueError(f"MultiResBlock width alpha * features = {width} is too small, got filters {channels}.")
        self.out_channels = sum(channels)
        self.shortcut = ConvBN(spatial_dims, in_channels, self.out_channels, kernel_size=1, act=False, norm=norm)
        inputs = (in_channels, *channels[:-1])
        self.convs = nn.ModuleList(ConvBN(spatial_dims, i, o, norm=norm) for i, o in zip(inputs, channels, strict=True))
        self.concat_norm = norm_layer(spatial_dims, self.out_channels, norm=norm)
        self.act = Act[Act.RELU]()
        self.out_norm = norm_layer(spatial_dims, self.out_channels, norm=norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scales = []
        y = x
        for conv in self.convs:
            y = conv(y)
            scales.append(y)
        y = self.concat_norm(torch.cat(scales, dim=1))
        return self.out_norm(self.act(y + self.shortcut(x)))
