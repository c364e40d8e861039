"""Res-CR-Net residual blocks: atrous separable convolution branches and the row/column ConvLSTM refinement."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn as nn
from monai.networks.blocks import ADN, Convolution
from monai.networks.layers.factories import Conv, Dropout

from custom_networks.blocks.convlstm import ConvLSTM
from custom_networks.blocks.keras_norm import KERAS_BATCH_NORM

__all__ = ["AtrousBranch", "ConvLSTMResBlock", "ConvResBlock", "SeparableConv2d"]

LEAKY_RELU = ("leakyrelu", {"negative_slope": 0.1})


class SeparableConv2d(nn.Sequential):
    """
    Keras ``SeparableConv2D``: depthwise k×k convolution (dilated, no bias), then pointwise 1×1 convolution (bias).

    Args:
        in_channels: number of input channels.
        out_channels: number of output channels.
        kernel_size: odd side of the depthwise kernel.
        dilation: dilation of the depthwise kernel; 'same' padding keeps the spatial size.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, dilation: int = 1) -> None:
        super().__init__()
        padding = dilation * (kernel_size - 1) // 2
        self.add_module(
            "depthwise",
            Conv["conv", 2](
                in_channels,
                in_channels,
                kernel_size,
                padding=padding,
                dilation=dilation,
                groups=in_channels,
                bias=False,
            ),
        )
        self.add_module("pointwise", Conv["conv", 2](in_channels, out_channels, kernel_size=1))


class AtrousBranch(nn.Sequential):
    """
    One branch of a conv res block: SeparableConv → norm → act → SeparableConv, both convs with the same
    kernel size and dilation.

    Args:
        in_channels: number of input channels.
        out_channels: number of output channels.
        kernel_size: odd side of the depthwise kernels.
        dilation: dilation of the depthwise kernels.
        act: activation type and arguments.
        norm: feature normalization type and arguments.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        dilation: int,
        act: str | tuple = LEAKY_RELU,
        norm: str | tuple = KERAS_BATCH_NORM,
    ) -> None:
        super().__init__()
        self.add_module("conv_0", SeparableConv2d(in_channels, out_channels, kernel_size, dilation))
        self.add_module("adn", ADN("NA", out_channels, act=act, norm=norm, norm_dim=2))
        self.add_module("conv_1", SeparableConv2d(out_channels, out_channels, kernel_size, dilation))


class ConvResBlock(nn.Module):
    """
    Res-CR-Net conv res block: parallel atrous separable branches added to a 1×1 conv shortcut, then spatial
    dropout.

    ``out = Dropout2d(norm(Conv1×1(x)) + fuse(branch_j(h)))`` where ``h = act(norm(x))``, or ``h = x`` for the
    stem (``preactivate=False``, the first block of the network, which sees the raw image); ``fuse`` is
    concatenation (each branch has ``out_channels / len(kernel_sizes)`` channels) or addition (each branch has
    ``out_channels``).

    Abdallah et al., "Res-CR-Net, a residual network with a novel architecture optimized for the semantic
    segmentation of microscopy images", Mach. Learn.: Sci. Technol. 1, 045004 (2020),
    https://doi.org/10.1088/2632-2153/aba8e8.

    Args:
        in_channels: number of input channels.
        out_channels: number of output channels.
        kernel_sizes: odd kernel size of each branch.
        dilations: dilation of each branch.
        fusion: ``"concat"`` or ``"add"``, how the branch outputs are merged.
        preactivate: apply norm and act to the branch input; ``False`` gives the stem block.
        dropout: spatial (channel-wise) dropout rate on the block output.
        act: activation type and arguments.
        norm: feature normalization type and arguments.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_sizes: Sequence[int] = (3, 5, 7),
        dilations: Sequence[int] = (1, 3, 5),
        fusion: str = "concat",
        preactivate: bool = True,
        dropout: float = 0.0,
        act: str | tuple = LEAKY_RELU,
        norm: str | tuple = KERAS_BATCH_NORM,
    ) -> None:
        super().__init__()
        if len(kernel_sizes) != len(dilations):
            raise ValueError(f"one dilation per kernel size needed, got {kernel_sizes} and {dilations}.")
        if fusion not in ("concat", "add"):
            raise ValueError(f"fusion must be 'concat' or 'add', got {fusion!r}.")
        self.concat = fusion == "concat"
        branch_channels = out_channels // len(kernel_sizes) if self.concat else out_channels
        if self.concat and branch_channels * len(kernel_sizes) != out_channels:
            raise ValueError(f"out_channels={out_channels} must split evenly over {len(kernel_sizes)} branches.")
        self.preactivation = ADN("NA", in_channels, act=act, norm=norm, norm_dim=2) if preactivate else nn.Identity()
        self.branches = nn.ModuleList(
            AtrousBranch(in_channels, branch_channels, k, d, act, norm)
            for k, d in zip(kernel_sizes, dilations, strict=True)
        )
        self.shortcut = Convolution(2, in_channels, out_channels, kernel_size=1, act=None, norm=norm)
        self.dropout = Dropout[Dropout.DROPOUT, 2](dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.preactivation(x)
        branches = [branch(h) for branch in self.branches]
        residual = torch.cat(branches, dim=1) if self.concat else torch.stack(branches).sum(0)
        return self.dropout(self.shortcut(x) + residual)


class ConvLSTMResBlock(nn.Module):
    """
    Res-CR-Net LSTM res block: two orthogonal bidirectional ConvLSTMs refine a per-pixel class map.

    ``x = act(Conv1×1(x))`` projects to ``out_channels`` (C); each row of ``x`` (a W×C slice, one channel) is a
    time step of a ConvLSTM scanning along H, each column (an H×C slice) one of a ConvLSTM scanning along W; each
    scans forwards and backwards with its own weights, with one filter and a (``kernel_size``, C) kernel, so every
    step mixes neighbouring pixels and all classes. ``out = x + rows + cols``, with each scan's two directions summed.

    The four scans (rows and columns, each in both directions) run as the four groups of one :class:`ConvLSTM`: a
    forward makes max(H, W) recurrent steps, each one grouped convolution over the whole batch and whole rows and
    columns. On a non-square input the shorter scan's frames are zero-padded to max(H, W) and masked, and its extra
    steps come after its own and are dropped, so every scan gives what it gives on its own.

    Abdallah et al., "Res-CR-Net, a residual network with a novel architecture optimized for the semantic
    segmentation of microscopy images", Mach. Learn.: Sci. Technol. 1, 045004 (2020),
    https://doi.org/10.1088/2632-2153/aba8e8.

    Args:
        in_channels: number of input channels.
        out_channels: number of output channels (the classes).
        kernel_size: extent of the ConvLSTM kernels along the scanned slice.
        recurrent_dropout: ConvLSTM recurrent dropout rate (training only).
        act: activation type and arguments after the 1×1 projection.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        recurrent_dropout: float = 0.1,
        act: str | tuple = LEAKY_RELU,
    ) -> None:
        super().__init__()
        self.projection = Convolution(2, in_channels, out_channels, kernel_size=1, act=act, norm=None)
        # groups: rows forwards, rows backwards, columns forwards, columns backwards
        self.scans = ConvLSTM(1, 1, (kernel_size, out_channels), recurrent_dropout, groups=4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.projection(x)  # (B, C, H, W)
        height, width = x.shape[2], x.shape[3]
        size = max(height, width)
        rows = x.permute(0, 2, 3, 1)  # (B, H, W, C): time H, frames W×C
        columns = x.permute(0, 3, 2, 1)  # (B, W, H, C): time W, frames H×C
        sequences = [
            nn.functional.pad(s, (0, 0, 0, size - s.shape[2], 0, size - s.shape[1]))
            for s in (rows, rows.flip(1), columns, columns.flip(1))
        ]
        lengths = torch.tensor([width, width, height, height], device=x.device)
        frame_mask = torch.arange(size, device=x.device) < lengths[:, None]  # (scan, frame position)
        out = self.scans(torch.stack(sequences, dim=2), frame_mask[:, None, :, None])  # (B, size, 4, size, C)
        rows = out[:, :height, 0, :width] + out[:, :height, 1, :width].flip(1)
        columns = out[:, :width, 2, :height] + out[:, :width, 3, :height].flip(1)
        return x + rows.permute(0, 3, 1, 2) + columns.permute(0, 3, 2, 1)
