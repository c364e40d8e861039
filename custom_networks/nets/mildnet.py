"""MILDNet: U-Net with multi-level dilated residual (MLDR) blocks and multi-level residual (MLR) skips.

Gudhe et al., "Multi-level dilated residual network for biomedical image segmentation", Scientific Reports 11,
14105 (2021). https://doi.org/10.1038/s41598-021-93169-w
"""

from collections.abc import Sequence

from torch import nn

from custom_networks.blocks import MLDRBlock, MLRBlock
from custom_networks.nets.unet import EncoderDecoder

__all__ = ["MILDNet"]


class MILDNet(EncoderDecoder):
    """MILDNet for 2-D or 3-D segmentation; returns logits (apply sigmoid/softmax outside).

    The classical U-Net topology (:class:`~custom_networks.nets.unet.EncoderDecoder`: 2× max-pool down, 2×
    transposed conv up, concatenation, 1×1 conv head) with every double conv, encoder, bottleneck and decoder,
    replaced by an :class:`~custom_networks.blocks.MLDRBlock` and, with ``use_mlr``, every skip passed through an
    :class:`~custom_networks.blocks.MLRBlock` before the concatenation. Convolutions get Xavier initialization
    (see :class:`~custom_networks.nets.unet.EncoderDecoder`). The paper's "Code availability" names the authors'
    repository, https://gitlab.com/rajgudhe.uef/mildnet; it could not be reached from where this was written, so this
    follows the paper's text, and the [choice] notes here and in the blocks document what the text leaves open.
    Spatial sizes must be multiples of
    ``2 ** (len(features) - 1)`` (16 by default).

    Gudhe et al., "Multi-level dilated residual network for biomedical image segmentation", Scientific Reports 11,
    2021, Fig. 4 and Table 3 (defaults: depth 5, 32 initial filters, dilations (1, 3, 5), 2 levels).

    Args:
        spatial_dims: number of spatial dimensions (2 or 3).
        in_channels: number of input channels.
        out_channels: number of output channels (classes).
        features: filters per level, outermost first; the last one is the bottleneck.
        dilations: dilation rates of the parallel 3×3 convs of the MLDR blocks.
        levels: number of residual levels of both the MLDR and the MLR blocks ([choice]: the paper's single
            "levels" hyper-parameter, 2, applies to both).
        use_mlr: put an MLR block on every skip connection (the paper's ablation compares both).
        fusion: ``"sum"`` ([choice], default) or ``"concat"`` (concatenation + 1×1 conv) of the dilated branches.
        act: activation type and arguments.
        norm: feature normalization type and arguments.
        gradient_checkpointing: in training, recompute every MLDR and MLR block in the backward pass instead of
            storing its activations (less memory, about one more forward pass of compute); same outputs and
            gradients. Ignored by TorchScript and in eval mode.
        post_activation: ``act`` after every residual addition of the MLDR and MLR blocks, as Eq. (1) of the paper
            (default, chosen by the measurement in the package README); False: the pre-activation form, no activation
            after the additions (see :class:`~custom_networks.blocks.mlr.MultiLevelResidual`).
    """

    def __init__(
        self,
        spatial_dims: int,
        in_channels: int,
        out_channels: int,
        features: Sequence[int] = (32, 64, 128, 256, 512),
        dilations: Sequence[int] = (1, 3, 5),
        levels: int = 2,
        use_mlr: bool = True,
        fusion: str = "sum",
        act: str | tuple = "relu",
        norm: str | tuple = "batch",
        gradient_checkpointing: bool = False,
        post_activation: bool = True,
    ):
        def block(c_in: int, c_out: int) -> nn.Module:
            return MLDRBlock(
                spatial_dims, c_in, c_out, dilations, levels, fusion, act, norm, gradient_checkpointing, post_activation
            )

        def skip(channels: int) -> nn.Module:
            return MLRBlock(spatial_dims, channels, levels, act, norm, gradient_checkpointing, post_activation)

        super().__init__(spatial_dims, in_channels, out_channels, features, block, skip if use_mlr else None)
