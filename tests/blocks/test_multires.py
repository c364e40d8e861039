"""MultiRes block, its conv→BN unit and the Res path, used on their own in 2-D and 3-D."""

import pytest
import torch

from custom_networks.blocks import MultiResBlock, ResPath
from custom_networks.blocks.multires import ConvBN

SIZES = {2: (16, 12), 3: (8, 6, 4)}


@pytest.mark.parametrize("spatial_dims", [2, 3])
@pytest.mark.parametrize("batch", [1, 3])
def test_multires_block_shape(spatial_dims, batch):
    block = MultiResBlock(spatial_dims, in_channels=5, features=8)
    out = block(torch.randn(batch, 5, *SIZES[spatial_dims]))
    assert block.out_channels == 2 + 4 + 6
    assert out.shape == (batch, 12, *SIZES[spatial_dims])


@pytest.mark.parametrize(("features", "out_channels"), [(32, 51), (64, 105), (128, 212), (256, 426), (512, 853)])
def test_multires_block_width_follows_reference_code(features, out_channels):
    """int(W*0.167) + int(W*0.333) + int(W*0.5), not floor(W/6) + floor(W/3) + floor(W/2) (differs at 512)."""
    assert MultiResBlock(2, in_channels=1, features=features).out_channels == out_channels


def test_multires_block_rejects_zero_width():
    with pytest.raises(ValueError, match="too small"):
        MultiResBlock(2, in_channels=1, features=2)


@pytest.mark.parametrize("spatial_dims", [2, 3])
@pytest.mark.parametrize("length", [1, 4])
def test_respath_shape(spatial_dims, length):
    path = ResPath(spatial_dims, in_channels=12, out_channels=8, length=length)
    assert len(path) == length
    out = path(torch.randn(3, 12, *SIZES[spatial_dims]))
    assert out.shape == (3, 8, *SIZES[spatial_dims])


def test_respath_rejects_zero_length():
    with pytest.raises(ValueError, match="length"):
        ResPath(2, in_channels=4, out_channels=4, length=0)


def test_conv_bn_has_shift_but_no_scale_and_keras_bn_defaults():
    unit = ConvBN(2, in_channels=3, out_channels=4)
    assert sorted(name for name, _ in unit.named_parameters()) == ["beta", "conv.weight"]
    assert unit.conv.bias is None
    assert unit.norm.momentum == pytest.approx(0.01) and unit.norm.eps == pytest.approx(1e-3)
    with torch.no_grad():
        unit.beta.fill_(-100.0)
    assert not unit(torch.randn(2, 3, 8, 8)).any(), "ReLU after the shifted BatchNorm"
    assert ConvBN(2, 3, 4, act=False)(torch.randn(2, 3, 8, 8)).lt(0).any(), "no activation when act=False"
