"""ResDUnet, a baseline of MILDNet, and its cascade of dilated convolutions."""

import pytest
import torch
from torch import nn

from custom_networks.blocks import CascadeDilatedConv
from custom_networks.nets import ResDUnet, ResidualUNet, count_parameters
from tests.nets.checks import (
    assert_gradients_reach_every_parameter,
    assert_loss_falls,
    assert_torchscript_roundtrip,
    assert_xavier_initialized,
)

SMALL = (4, 8, 16)


def test_cascade_sums_every_stage_by_hand():
    """Each stage sees the previous one's output: a corner tap moves a point by (d, d) per stage, so stages with
    dilations 1 and 2 put copies at +1 and +3 besides the input's own."""
    block = CascadeDilatedConv(2, 1, dilations=(1, 2), act=None, norm=None)
    with torch.no_grad():
        for stage in block.stages:
            stage.conv.weight.zero_()
            stage.conv.weight[0, 0, 0, 0] = 1.0
            stage.conv.bias.zero_()
    x = torch.zeros(1, 1, 9, 9)
    x[0, 0, 2, 2] = 1.0
    expected = torch.zeros_like(x)
    for offset in (0, 1, 3):
        expected[0, 0, 2 + offset, 2 + offset] = 1.0
    torch.testing.assert_close(block(x), expected)


def test_parameter_count_by_hand():
    """The residual U-Net with a BatchNorm (2 values per channel) in each of its nine blocks, plus four dilated
    3×3 conv + BatchNorm stages at the 512-channel bridge."""
    block_widths = (32, 64, 128, 256, 512, 256, 128, 64, 32)
    cascade = 4 * (9 * 512 * 512 + 512 + 2 * 512)
    expected = count_parameters(ResidualUNet(2, 3, 1))[0] + 2 * sum(block_widths) + cascade
    assert count_parameters(ResDUnet(2, 3, 1))[0] == expected


def test_structure():
    """Dilations 1, 2, 4, 8 in cascade after the bottleneck's residual block; Xavier-initialized convs."""
    net = ResDUnet(2, 3, 1)
    cascade = net.bottleneck[1]
    assert [stage.conv.dilation for stage in cascade.stages] == [(1, 1), (2, 2), (4, 4), (8, 8)]
    assert len([m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]) == 9 + 4
    assert_xavier_initialized(net.head)


@pytest.mark.parametrize(("spatial_dims", "size"), [(2, (16, 24)), (3, (8, 16, 8))])
def test_output_shape_and_gradients(spatial_dims, size):
    torch.manual_seed(0)
    net = ResDUnet(spatial_dims, 2, 3, features=SMALL, dilations=(1, 2))
    x = torch.rand(2, 2, *size)
    assert net(x).shape == (2, 3, *size)
    assert_gradients_reach_every_parameter(net, x)


def test_trains_and_scripts(tmp_path):
    torch.manual_seed(0)
    x = torch.rand(2, 1, 16, 16)
    assert_loss_falls(ResDUnet(2, 1, 1, features=SMALL), x, (x > 0.5).float(), steps=20)
    assert_torchscript_roundtrip(ResDUnet(2, 1, 1, features=SMALL), x, tmp_path)
