"""Multi-level dilated residual (MLDR) block of MILDNet, which replaces every U-Net double conv.

Gudhe et al., "Multi-level dilated residual network for biomedical image segmentation", Scientific Reports 11,
14105 (2021), Eqs. (1)-(2) and Fig. 2. https://doi.org/10.1038/s41598-021-93169-w
"""

from collections.abc import Sequence

import torch
from monai.networks.blocks import ADN
from monai.networks.layers.factories import Conv
from torch import nn

from custom_networks.blocks.mlr import MultiLevelResidual

__all__ = ["FUSIONS", "MLDRBlock", "MLDRLevel", "ParallelDilatedConv"]

FUSIONS = ("sum", "concat")


class ParallelDilatedConv(nn.Module):
    """Parallel 3×3 convolutions with different dilation rates (padding = dilation), fused into one output.

    ``fusion="sum"`` adds the branch outputs; ``fusion="concat"`` concatenates them and mixes them with a 1×1 conv.
    Every conv has a bias ([choice], PyTorch's default; with the sum the branch biases act as one).

    Args:
        spatial_dims: number of spatial dimensions.
        in_channels: number of input channels.
        out_channels: number of output channels of each branch and of the fused output.
        dilations: one branch per dilation rate.
        fusion: ``"sum"`` or ``"concat"``.
    """

    def __init__(
        self, spatial_dims: int, in_channels: int, out_channels: int, dilations: Sequence[int], fusion: str = "sum"
    ):
        super().__init__()
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, got {fusion!r}.")
        if len(dilations) < 1:
            raise ValueError("ParallelDilatedConv needs at least one dilation rate.")
        conv = Conv[Conv.CONV, spatial_dims]
        self.branches = nn.ModuleList(
            conv(in_channels, out_channels, kernel_size=3, padding=d, dilation=d) for d in dilations
        )
        self.concat = fusion == "concat"
        self.fuse = conv(len(dilations) * out_channels, out_channels, kernel_size=1) if self.concat else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs = [branch(x) for branch in self.branches]
        if self.concat:
            return self.fuse(torch.cat(outputs, dim=1))
        fused = outputs[0]
        for out in outputs[1:]:
            fused = fused + out
        return fused


class MLDRLevel(nn.Sequential):
    """Residual mapping of one MLDR level: BN → ReLU → :class:`ParallelDilatedConv`.

    Args:
        spatial_dims: number of spatial dimensions.
        in_channels: number of input channels.
        out_channels: number of output channels.
        dilations: dilation rates of the parallel 3×3 convs.
        fusion: ``"sum"`` or ``"concat"``, how the parallel branches are merged.
        act: activation type and arguments.
        norm: feature normalization type and arguments.
    """

    def __init__(
        self,
        spatial_dims: int,
        in_channels: int,
        out_channels: int,
        dilations: Sequence[int],
        fusion: str = "sum",
        act: str | tuple = "relu",
        norm: str | tuple = "batch",
    ):
        super().__init__()
        self.preact = ADN("NA", in_channels, act=act, norm=norm, norm_dim=spatial_dims)
        self.convs = ParallelDilatedConv(spatial_dims, in_channels, out_channels, dilations, fusion)


class MLDRBlock(MultiLevelResidual):
    """MLDR block: ``levels`` residual levels of BN → ReLU → parallel dilated 3×3 convs, plus an outer residual.

    Each level adds its input to the fused output of parallel 3×3 convs with dilations ``dilations`` applied to the
    pre-activated (BN → ReLU) input; the block also adds its own input to the output of the last level
    (residual-of-residual, see :class:`~custom_networks.blocks.mlr.MultiLevelResidual`). When
    ``in_channels != out_channels`` both the first level's shortcut and the outer one are the same 1×1 conv
    projection of the input ([choice]), and the first level's dilated convs map ``in_channels`` to
    ``out_channels``. The branches are fused by a sum by default ([choice]; ``fusion="concat"``: concatenation
    followed by a 1×1 conv). As the paper describes every level as BN → ReLU → convs, the first block of MILDNet
    pre-activates the raw input image; its linear shortcut projection still sees the image unchanged.

    Gudhe et al., "Multi-level dilated residual network for biomedical image segmentation", Scientific Reports 11,
    2021, Fig. 2.

    Args:
        spatial_dims: number of spatial dimensions.
        in_channels: number of input channels.
        out_channels: number of output channels (filters of every conv).
        dilations: dilation rates of the parallel convs ((1, 3, 5) in the paper).
        levels: number of residual levels (2 in the paper).
        fusion: ``"sum"`` or ``"concat"``, how the parallel branches are merged.
        act: activation type and arguments.
        norm: feature normalization type and arguments.
        gradient_checkpointing: recompute the block in the backward pass (training only), see
            :class:`~custom_networks.blocks.mlr.MultiLevelResidual`.
        post_activation: ``act`` after every residual addition, as Eq. (1); False: the pre-activation form (see
            :class:`~custom_networks.blocks.mlr.MultiLevelResidual`).
    """

    def __init__(
        self,
        spatial_dims: int,
        in_channels: int,
        out_channels: int,
        dilations: Sequence[int] = (1, 3, 5),
        levels: int = 2,
        fusion: str = "sum",
        act: str | tuple = "relu",
        norm: str | tuple = "batch",
        gradient_checkpointing: bool = False,
        post_activation: bool = True,
    ):
        mappings = [
            MLDRLevel(
                spatial_dims, in_channels if level == 0 else out_channels, out_channels, dilations, fusion, act, norm
            )
            for level in range(levels)
        ]
        activation = ADN("A", act=act) if post_activation else None
        super().__init__(spatial_dims, in_channels, out_channels, mappings, gradient_checkpointing, activation)
