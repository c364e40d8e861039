"""The 3-D U-Net of Çiçek et al., the volumetric baseline of MultiResUNet.

Çiçek et al., "3D U-Net: learning dense volumetric segmentation from sparse annotation", MICCAI 2016, 424–432;
compared with MultiResUNet 3-D in Ibtehaz & Rahman, Neural Networks 121, 2020 (table of models: 19,078,593
parameters).
"""

from collections.abc import Sequence

from monai.networks.blocks import Convolution
from torch import nn

from custom_networks.nets.unet import EncoderDecoder

__all__ = ["CicekUNet"]


def conv_norm_act_pair(
    spatial_dims: int, in_channels: int, mid_channels: int, out_channels: int, act: str | tuple, norm: str | tuple
) -> nn.Sequential:
    """Two 3×3 convs without bias, each followed by ``norm`` and ``act``: ``in → mid → out`` channels."""
    return nn.Sequential(
        *(
            Convolution(spatial_dims, c_in, c_out, kernel_size=3, act=act, norm=norm, bias=False)
            for c_in, c_out in ((in_channels, mid_channels), (mid_channels, out_channels))
        )
    )


class CicekUNet(EncoderDecoder):
    """3-D U-Net (Çiçek et al. 2016); ``spatial_dims`` generic, returns logits.

    Three poolings; each encoder level and the bottleneck double their filters before pooling (32 → 64, 64 → 128,
    128 → 256, 256 → 512), the transposed convs keep their channels, and each decoder level has two convs at the
    skip's width; every 3×3 conv is followed by BatchNorm and ReLU, and a 1×1 conv gives the logits
    (:class:`~custom_networks.nets.unet.EncoderDecoder`, Xavier initialization). With four input channels and one
    output it has the 19,078,593 parameters of the 3-D U-Net baseline of MultiResUNet in the Keras count (BatchNorm
    running statistics included); [choice]: the count holds with bias-free convs and an affine BatchNorm (as here),
    or with biased convs and Keras' ``scale=False`` BatchNorm; PyTorch's BatchNorm momentum by default.

    Args:
        spatial_dims: number of spatial dimensions (3 in the paper).
        in_channels: number of input channels.
        out_channels: number of output channels (classes).
        features: output filters of each encoder level, outermost first, and of the bottleneck (last).
        act: activation type and arguments.
        norm: normalization type and arguments.
    """

    def __init__(
        self,
        spatial_dims: int,
        in_channels: int,
        out_channels: int,
        features: Sequence[int] = (64, 128, 256, 512),
        act: str | tuple = "relu",
        norm: str | tuple = "batch",
    ):
        def encoder_block(c_in: int, c_out: int) -> nn.Module:
            return conv_norm_act_pair(spatial_dims, c_in, c_out // 2, c_out, act, norm)

        def decoder_block(c_in: int, c_out: int) -> nn.Module:
            return conv_norm_act_pair(spatial_dims, c_in, c_out, c_out, act, norm)

        super().__init__(
            spatial_dims,
            in_channels,
            out_channels,
            features,
            encoder_block,
            decoder_block=decoder_block,
            keep_upsampled_channels=True,
        )
