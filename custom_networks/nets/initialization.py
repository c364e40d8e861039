"""The papers' weight initialisations, for any network: Keras' Glorot-uniform (MultiResUNet's reference code, MILDNet's
"Xavier") and He-normal (Res-CR-Net's authors), with Keras' zero biases and orthogonal recurrent kernels."""

from __future__ import annotations

import math

import torch
from torch import nn

from custom_networks.blocks.convlstm import ConvLSTM
from custom_networks.errors import BadValueError

__all__ = ["INITIALIZATIONS", "initialize"]

#: ``default`` keeps the network's own initialisation (PyTorch's defaults; Xavier-uniform in MILDNet and the U-Net
#: baselines, as MILDNet's paper says), what the bundles use unless told otherwise.
INITIALIZATIONS = ("default", "glorot_uniform", "he_normal")
_WEIGHTED = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d, nn.Linear)


def _he_normal_(weight: torch.Tensor) -> None:
    """Keras' ``he_normal``: a normal of standard deviation sqrt(2 / fan_in) truncated at two deviations."""
    fan_in = nn.init._calculate_fan_in_and_fan_out(weight)[0]
    std = math.sqrt(2.0 / fan_in) / 0.87962566103423978  # Keras scales by the truncated normal's own deviation
    nn.init.trunc_normal_(weight, std=std, a=-2 * std, b=2 * std)


def _orthogonal_recurrent_(lstm: ConvLSTM) -> None:
    """Keras' recurrent default: each group's recurrent kernel orthogonal."""
    with torch.no_grad():
        for kernel in lstm.recurrent_conv.weight.view(lstm.groups, -1, *lstm.recurrent_conv.weight.shape[1:]):
            nn.init.orthogonal_(kernel)


def initialize(network: nn.Module, scheme: str = "default") -> nn.Module:
    """``network`` with the weights of its convolutions and linear layers drawn by ``scheme`` and their biases zeroed
    (Keras' defaults), in place; returned for use in configs. ConvLSTM recurrent kernels become orthogonal and keep
    their forget-gate bias of 1; normalisation layers keep weight 1 and bias 0. ``default`` changes nothing.

    Args:
        network: any network.
        scheme: one of :data:`INITIALIZATIONS`; ``glorot_uniform`` is PyTorch's ``xavier_uniform_``.

    Raises:
        BadValueError: an unknown scheme.
    """
    if scheme not in INITIALIZATIONS:
        raise BadValueError(f"init must be one of {INITIALIZATIONS}, got {scheme!r}.")
    if scheme == "default":
        return network
    lstms = [m for m in network.modules() if isinstance(m, ConvLSTM)]
    recurrent = {id(lstm.recurrent_conv) for lstm in lstms}
    lstm_inputs = {id(lstm.input_conv) for lstm in lstms}
    with torch.no_grad():
        for module in network.modules():
            if not isinstance(module, _WEIGHTED) or id(module) in recurrent:
                continue
            if scheme == "glorot_uniform":
                nn.init.xavier_uniform_(module.weight)
            else:
                _he_normal_(module.weight)
            if module.bias is not None and id(module) not in lstm_inputs:
                module.bias.zero_()
    for lstm in lstms:
        _orthogonal_recurrent_(lstm)
    return network
