"""Res-CR-Net: atrous separable conv res blocks and a ConvLSTM res block at full resolution, no encoder-decoder."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn as nn
from monai.networks.blocks import Convolution

from custom_networks.blocks.keras_norm import KERAS_BATCH_NORM
from custom_networks.blocks.rescr import LEAKY_RELU, ConvLSTMResBlock, ConvResBlock
from custom_networks.nets.input_checks import check_input

__all__ = ["ResCRNet"]


class ResCRNet(nn.Module):
    """
    Res-CR-Net for 2-D segmentation of images of any size: a stem and conv res blocks (parallel atrous separable
    branches, spatial dropout after each) followed by LSTM res blocks that project to the classes and refine them
    with row- and column-scanning bidirectional ConvLSTMs. Every layer keeps the input's H×W.

    Abdallah et al., "Res-CR-Net, a residual network with a novel architecture optimized for the semantic
    segmentation of microscopy images", Mach. Learn.: Sci. Technol. 1, 045004 (2020),
    https://doi.org/10.1088/2632-2153/aba8e8.

    Args:
        in_channels: number of input channels.
        out_channels: number of classes.
        filters: channels of each atrous branch.
        num_conv_blocks: conv res blocks, the stem included.
        num_lstm_blocks: LSTM res blocks; with 0, a 1×1 conv and the activation project to the classes instead
            (as in the authors' code).
        kernel_sizes: odd kernel size of each atrous branch.
        dilations: dilation of each atrous branch.
        fusion: ``"concat"`` (conv blocks have ``filters * len(kernel_sizes)`` channels) or ``"add"``
            (``filters`` channels), how the branches are merged.
        dropout: spatial dropout rate after each conv res block.
        lstm_dropout: ConvLSTM recurrent dropout rate.
        act: activation type and arguments.
        norm: feature normalization type and arguments.

    Returns raw logits ``(batch, out_channels, H, W)``; apply softmax outside.

    Example::

        >>> net = ResCRNet(in_channels=3, out_channels=4)  # 59,165 parameters, as the authors' Keras model
        >>> net(torch.rand(2, 3, 37, 50)).shape
        torch.Size([2, 4, 37, 50])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        filters: int = 16,
        num_conv_blocks: int = 6,
        num_lstm_blocks: int = 1,
        kernel_sizes: Sequence[int] = (3, 5, 7),
        dilations: Sequence[int] = (1, 3, 5),
        fusion: str = "concat",
        dropout: float = 0.05,
        lstm_dropout: float = 0.1,
        act: str | tuple = LEAKY_RELU,
        norm: str | tuple = KERAS_BATCH_NORM,
    ) -> None:
        super().__init__()
        if num_conv_blocks < 1 or num_lstm_blocks < 0:
            raise ValueError(
                f"needs at least the stem and no negative block count, got num_conv_blocks={num_conv_blocks}, "
                f"num_lstm_blocks={num_lstm_blocks}."
            )
        self.in_channels = in_channels
        features = filters * len(kernel_sizes) if fusion == "concat" else filters
        self.conv_blocks = nn.Sequential(
            *(
                ConvResBlock(
                    in_channels if i == 0 else features,
                    features,
                    kernel_sizes,
                    dilations,
                    fusion,
                    preactivate=i > 0,
                    dropout=dropout,
                    act=act,
                    norm=norm,
                )
                for i in range(num_conv_blocks)
            )
        )
        if num_lstm_blocks > 0:
            self.head: nn.Module = nn.Sequential(
                *(
                    ConvLSTMResBlock(features if i == 0 else out_channels, out_channels, 3, lstm_dropout, act)
                    for i in range(num_lstm_blocks)
                )
            )
        else:
            self.head = Convolution(2, features, out_channels, kernel_size=1, act=act, norm=None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, 2, self.in_channels, 1, "ResCRNet")
        return self.head(self.conv_blocks(x))
