"""Convolutional LSTM over a sequence of 2-D feature maps (Shi et al. 2015), with Keras ``ConvLSTM2D`` semantics."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn as nn
from monai.networks.layers.factories import Conv
from monai.utils import ensure_tuple_rep

__all__ = ["BidirectionalConvLSTM", "ConvLSTM"]


class ConvLSTM(nn.Module):
    """
    One-directional convolutional LSTM layer returning the whole hidden-state sequence.

    Gates follow Keras ``ConvLSTM2D``: ``i, f, o = sigmoid(W_x * x_t + W_h * h_{t-1} + b)``,
    ``c_t = f c_{t-1} + i tanh(W_xc * x_t + W_hc * h_{t-1} + b_c)``, ``h_t = o tanh(c_t)``, with 'same' padded
    convolutions, a bias on the input convolution only (initialised to 0, the forget gate's to 1) and zero
    initial states. The gate activation is the standard (PyTorch) sigmoid, not Keras' hard sigmoid. Recurrent
    dropout masks ``h_{t-1}`` with one mask drawn per call and kept over all time steps (Keras draws one per gate;
    a shared mask keeps the recurrence a single convolution), active only in training.

    The input convolution runs on all time steps at once; the recurrence then loops over time only, each step
    convolving the whole batch in one call.

    Shi et al., "Convolutional LSTM Network: A Machine Learning Approach for Precipitation Nowcasting",
    NeurIPS 2015, https://arxiv.org/abs/1506.04214.

    Args:
        in_channels: channels of each input frame.
        out_channels: channels of the hidden state (Keras ``filters``).
        kernel_size: 2-D kernel of the input and recurrent convolutions, 'same' padded as in TensorFlow (an even
            size gets its extra zero row/column at the end).
        recurrent_dropout: dropout rate on the hidden state fed back to the gates.
        reverse: scan from the last time step to the first (the output keeps the input's time order).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Sequence[int] | int = 3,
        recurrent_dropout: float = 0.0,
        reverse: bool = False,
    ) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.reverse = reverse
        kernel = ensure_tuple_rep(kernel_size, 2)
        self.pad = nn.ZeroPad2d(((kernel[1] - 1) // 2, kernel[1] // 2, (kernel[0] - 1) // 2, kernel[0] // 2))
        gates = 4 * out_channels  # input, forget, cell, output
        self.input_conv = Conv["conv", 2](in_channels, gates, kernel)
        self.recurrent_conv = Conv["conv", 2](out_channels, gates, kernel, bias=False)
        self.recurrent_dropout = nn.Dropout(recurrent_dropout)
        with torch.no_grad():  # Keras bias initialisation: zeros, forget gate ones
            self.input_conv.bias.zero_()
            self.input_conv.bias[out_channels : 2 * out_channels] = 1.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x: sequence of frames ``(batch, time, in_channels, height, width)``.

        Returns:
            hidden states ``(batch, time, out_channels, height, width)``.
        """
        batch, steps = x.shape[0], x.shape[1]
        gates_x = self.input_conv(self.pad(x.flatten(0, 1)))
        gates_x = gates_x.reshape(batch, steps, gates_x.shape[1], gates_x.shape[2], gates_x.shape[3])
        if self.reverse:
            gates_x = gates_x.flip(1)
        h = torch.zeros_like(gates_x[:, 0, : self.out_channels])
        c = torch.zeros_like(h)
        mask = self.recurrent_dropout(torch.ones_like(h))
        hidden: list[torch.Tensor] = []
        for gates_t in gates_x.unbind(1):  # unbind, not gates_x[:, t]: one gradient tensor, not one per step
            gates = gates_t + self.recurrent_conv(self.pad(h * mask))
            i, f, g, o = gates.chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            hidden.append(h)
        out = torch.stack(hidden, dim=1)
        return out.flip(1) if self.reverse else out


class BidirectionalConvLSTM(nn.Module):
    """
    Forward and reverse :class:`ConvLSTM` over the same sequence, their outputs summed.

    Keras' ``Bidirectional`` concatenates the two directions; Res-CR-Net then sums over that axis, which this
    block does directly.

    Args:
        in_channels: channels of each input frame.
        out_channels: channels of the hidden state of each direction.
        kernel_size: 2-D kernel of the convolutions.
        recurrent_dropout: dropout rate on the hidden state fed back to the gates.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Sequence[int] | int = 3,
        recurrent_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.forward_lstm = ConvLSTM(in_channels, out_channels, kernel_size, recurrent_dropout)
        self.reverse_lstm = ConvLSTM(in_channels, out_channels, kernel_size, recurrent_dropout, reverse=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x: sequence of frames ``(batch, time, in_channels, height, width)``.

        Returns:
            summed hidden states of both directions ``(batch, time, out_channels, height, width)``.
        """
        return self.forward_lstm(x) + self.reverse_lstm(x)
