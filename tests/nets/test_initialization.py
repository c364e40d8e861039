"""The papers' initialisations: Keras' Glorot-uniform and He-normal (truncated at two deviations), zero biases,
orthogonal ConvLSTM recurrent kernels with the forget-gate bias kept; through a bundle's ``--init``."""

from __future__ import annotations

import math

import pytest
import torch
from monai.bundle import ConfigParser
from torch import nn

from custom_networks.blocks.convlstm import ConvLSTM
from custom_networks.errors import BadValueError
from custom_networks.nets import ResCRNet, initialize
from custom_networks.zoo import bundles_root


def _layers() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(64, 64, 3), nn.BatchNorm2d(64), nn.ConvTranspose2d(64, 32, 2, stride=2))


def test_glorot_uniform_is_keras_default():
    torch.manual_seed(0)
    network = initialize(_layers(), "glorot_uniform")
    conv, norm, up = network
    limit = math.sqrt(6 / (64 * 9 + 64 * 9))  # fan_in = fan_out = 64 · 3 · 3
    assert conv.weight.abs().max() <= limit and conv.weight.std().item() == pytest.approx(
        limit / math.sqrt(3), rel=0.02
    )
    up_limit = math.sqrt(6 / (32 * 4 + 64 * 4))  # transposed: fan_in = out · 2 · 2, fan_out = in · 2 · 2, as Keras
    assert up.weight.abs().max() <= up_limit and up.weight.abs().max() > 0.95 * up_limit
    assert (conv.bias == 0).all() and (up.bias == 0).all()
    assert (norm.weight == 1).all() and (norm.bias == 0).all()


def test_he_normal_is_truncated_at_two_deviations():
    torch.manual_seed(0)
    conv = initialize(_layers(), "he_normal")[0]
    std = math.sqrt(2 / (64 * 9)) / 0.87962566103423978  # Keras' deviation before truncation
    assert conv.weight.abs().max() <= 2 * std
    assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / (64 * 9)), rel=0.02)  # after: sqrt(2 / fan_in)


def test_convlstm_recurrent_kernels_orthogonal_and_forget_bias_kept():
    network = initialize(ResCRNet(1, 3, filters=4, num_conv_blocks=2), "he_normal")
    lstm = next(m for m in network.modules() if isinstance(m, ConvLSTM))
    for kernel in lstm.recurrent_conv.weight.view(lstm.groups, -1, *lstm.recurrent_conv.weight.shape[1:]):
        rows = kernel.flatten(1)
        gram = rows @ rows.T if rows.shape[0] <= rows.shape[1] else rows.T @ rows
        torch.testing.assert_close(gram, torch.eye(gram.shape[0]), atol=1e-5, rtol=0)
    bias = lstm.input_conv.bias.view(lstm.groups, 4, -1)
    assert (bias[:, 1] == 1).all() and (bias[:, [0, 2, 3]] == 0).all()


def test_default_keeps_the_networks_own_and_unknown_schemes_are_named():
    network = _layers()
    before = [p.clone() for p in network.parameters()]
    assert initialize(network, "default") is network
    assert all(torch.equal(a, b) for a, b in zip(before, network.parameters(), strict=True))
    with pytest.raises(BadValueError, match="init must be one of"):
        initialize(network, "xavier")


def test_a_bundle_trains_from_the_scheme_it_is_given():
    parser = ConfigParser()
    parser.read_config(str(bundles_root() / "multiresunet_murphy_nuclei" / "configs" / "train.json"))
    parser.update({"init": "glorot_uniform", "device": "$torch.device('cpu')", "features": [4, 8, 16, 32, 64]})
    convs = [m for m in parser.get_parsed_content("network").modules() if isinstance(m, nn.Conv2d)]
    conv = max(convs, key=lambda m: m.weight.numel())
    fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(conv.weight)
    # Glorot's deviation, not PyTorch's default sqrt(1 / (3 fan_in)) (0.58x as large for equal fans)
    assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / (fan_in + fan_out)), rel=0.1)
    assert all(m.bias is None or (m.bias == 0).all() for m in convs)
