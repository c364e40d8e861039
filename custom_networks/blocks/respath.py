"""Res path of MultiResUNet: residual conv units along a skip connection.

Ibtehaz & Rahman, "MultiResUNet: Rethinking the U-Net architecture for multimodal biomedical image
segmentation", Neural Networks 121, 2020. https://doi.org/10.1016/j.neunet.2019.08.025
"""

import torch
from monai.networks.layers.factories import Act
from torch import nn

from custom_networks.blocks.keras_norm import KERAS_BATCH_NORM, norm_layer
from custom_networks.blocks.multires import ConvBN

__all__ = ["ResPath", "ResPathUnit"]


class ResPathUnit(nn.Module):
    """One Res path unit: ``BN(ReLU(conv_bn_3x3(x) + conv_bn_1x1(x)))``, convs with ReLU / without activation.

    Args:
        spatial_dims: number of spatial dimensions.
        in_channels: number of input channels.
        out_channels: number of output channels.
        norm: feature normalisation type and arguments (default: BatchNorm with the Keras defaults).
    """

    def __init__(self, spatial_dims: int, in_channels: int, out_channels: int, norm: str | tuple = KERAS_BATCH_NORM):
        super().__init__()
        self.shortcut = ConvBN(spatial_dims, in_channels, out_channels, kernel_size=1, act=False, norm=norm)
        self.conv = ConvBN(spatial_dims, in_channels, out_channels, kernel_size=3, norm=norm)
        self.act = Act[Act.RELU]()
        self.norm = norm_layer(spatial_dims, out_channels, norm=norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.act(self.conv(x) + self.shortcut(x)))


class ResPath(nn.Sequential):
    """Res path: a chain of ``length`` residual units (3×3 convs with 1×1 shortcuts) applied to encoder features
    before they are concatenated in the decoder, to narrow the semantic gap between the two.

    Ibtehaz & Rahman, "MultiResUNet", Neural Networks 121, 2020, Sec. 3.2 and Fig. 4.

    Args:
        spatial_dims: number of spatial dimensions.
        in_channels: number of input channels.
        out_channels: number of filters of every unit.
        length: number of units (4, 3, 2, 1 from the outermost skip inwards in the paper).
        norm: feature normalisation type and arguments (default: BatchNorm with the Keras defaults).
    """

    def __init__(
        self, spatial_dims: int, in_channels: int, out_channels: int, length: int, norm: str | tuple = KERAS_BATCH_NORM
    ):
        if length < 1:
            raise ValueError(f"ResPath length must be at least 1, got {length}.")
        super().__init__(
            *(
                ResPathUnit(spatial_dims, in_channels if i == 0 else out_channels, out_channels, norm)
                for i in range(length)
            )
        )
