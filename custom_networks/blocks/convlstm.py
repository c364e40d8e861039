"""Convolutional LSTM over a sequence of 2-D feature maps (Shi et al. 2015), with Keras ``ConvLSTM2D`` semantics."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn as nn
from monai.networks.layers.factories import Conv
from monai.utils import ensure_tuple_rep

__all__ = ["ConvLSTM"]


class ConvLSTM(nn.Module):
    """
    Convolutional LSTM layer returning the whole hidden-state sequence; ``groups`` independent LSTMs side by side.

    Gates follow Keras ``ConvLSTM2D``: ``i, f, o = sigmoid(W_x * x_t + W_h * h_{t-1} + b)``,
    ``c_t = f c_{t-1} + i tanh(W_xc * x_t + W_hc * h_{t-1} + b_c)``, ``h_t = o tanh(c_t)``, with 'same' padded
    convolutions, a bias on the input convolution only (initialised to 0, the forget gate's to 1) and zero
    initial states. The gate activation is the standard (PyTorch) sigmoid, not Keras' hard sigmoid. Recurrent
    dropout masks ``h_{t-1}`` with one mask drawn per call and kept over all time steps (Keras draws one per gate;
    a shared mask keeps the recurrence a single convolution), active only in training.

    The input convolution runs on all time steps at once; the recurrence then loops over time only, each step
    convolving the whole batch in one call. With ``groups`` > 1, that many LSTMs with their own weights (e.g. the
    scan directions of Res-CR-Net) share the loop as the channel groups of grouped convolutions: the input's channels
    are ``groups`` blocks of ``in_channels`` and the output's ``groups`` blocks of ``out_channels``.

    Shi et al., "Convolutional LSTM Network: A Machine Learning Approach for Precipitation Nowcasting",
    NeurIPS 2015, https://arxiv.org/abs/1506.04214.

    Args:
        in_channels: channels of each input frame, per group.
        out_channels: channels of the hidden state (Keras ``filters``), per group.
        kernel_size: 2-D kernel of the input and recurrent convolutions, 'same' padded as in TensorFlow (an even
            size gets its extra zero row/column at the end).
        recurrent_dropout: dropout rate on the hidden state fed back to the gates.
        groups: number of independent LSTMs.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Sequence[int] | int = 3,
        recurrent_dropout: float = 0.0,
        groups: int = 1,
    ) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.groups = groups
        kernel = ensure_tuple_rep(kernel_size, 2)
        self.pad = nn.ZeroPad2d(((kernel[1] - 1) // 2, kernel[1] // 2, (kernel[0] - 1) // 2, kernel[0] // 2))
        gates = 4 * out_channels  # input, forget, cell, output
        self.input_conv = Conv["conv", 2](groups * in_channels, groups * gates, kernel, groups=groups)
        self.recurrent_conv = Conv["conv", 2](groups * out_channels, groups * gates, kernel, groups=groups, bias=False)
        self.recurrent_dropout = nn.Dropout(recurrent_dropout)
        with torch.no_grad():  # Keras bias initialisation: zeros, forget gate ones
            self.input_conv.bias.zero_()
            self.input_conv.bias.view(groups, 4, out_channels)[:, 1] = 1.0

    def forward(self, x: torch.Tensor, frame_mask: torch.Tensor | None = None) -> torch.Tensor:
        """
        Args:
            x: sequence of frames ``(batch, time, groups * in_channels, height, width)``.
            frame_mask: optional 0/1 mask, broadcastable to ``(batch, groups, out_channels, height, width)``,
                that multiplies the hidden state fed back to the gates: zero where a group's frames are padding, so
                that a group scanning frames zero-padded to a larger size gets the same values in its unpadded part.

        Returns:
            hidden states ``(batch, time, groups * out_channels, height, width)``.
        """
        batch, steps = x.shape[0], x.shape[1]
        gates_x = self.input_conv(self.pad(x.flatten(0, 1)))
        height, width = gates_x.shape[2], gates_x.shape[3]
        gates_x = gates_x.reshape(batch, steps, self.groups, 4, self.out_channels, height, width)
        h = torch.zeros_like(gates_x[:, 0, :, 0])  # (batch, groups, out_channels, height, width)
        c = torch.zeros_like(h)
        mask = self.recurrent_dropout(torch.ones_like(h))
        if frame_mask is not None:
            mask = mask * frame_mask.to(mask.dtype)
        hidden: list[torch.Tensor] = []
        for gates_t in gates_x.unbind(1):  # unbind, not gates_x[:, t]: one gradient tensor, not one per step
            recurrent = self.recurrent_conv(self.pad((h * mask).flatten(1, 2)))
            gates = gates_t + recurrent.reshape(gates_t.shape)
            i, f, g, o = gates.unbind(2)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            hidden.append(h)
        return torch.stack(hidden, dim=1).flatten(2, 3)
