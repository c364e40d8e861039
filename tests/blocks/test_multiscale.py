"""MS U-Net's multi-scale down block and its double conv, used on their own."""

import pytest
import torch

from custom_networks.blocks import MultiScaleDownBlock
from custom_networks.blocks.multiscale import DoubleConv


@pytest.mark.parametrize("spatial_dims", [2, 3])
@pytest.mark.parametrize(("out_channels", "expected_channels"), [(9, 9), (7, 6)])
def test_output_halves_the_size_with_three_equal_branches(spatial_dims, out_channels, expected_channels):
    block = MultiScaleDownBlock(spatial_dims, 4, out_channels).eval()
    x = torch.randn(3, 4, *([16] * spatial_dims))
    with torch.no_grad():
        y = block(x)
    assert y.shape == (3, expected_channels, *([8] * spatial_dims))


def test_sizes_that_strides_do_not_divide_are_resized_back():
    # 10 -> pool 5 -> half branch 3, quarter branch 2, both resized back to 5
    block = MultiScaleDownBlock(2, 2, 3).eval()
    with torch.no_grad():
        assert block(torch.randn(1, 2, 10, 12)).shape == (1, 3, 5, 6)


@pytest.mark.parametrize(("stride", "size", "expected"), [(1, 9, 9), (2, 9, 5), (4, 9, 3), (4, 8, 2)])
def test_double_conv_first_conv_is_strided_and_dilated(stride, size, expected):
    conv = DoubleConv(2, 1, 2, stride=stride, dilation=stride)
    assert conv.conv_0.conv.dilation == (stride, stride)
    assert conv.conv_1.conv.stride == (1, 1) and conv.conv_1.conv.dilation == (1, 1)
    with torch.no_grad():
        assert conv.eval()(torch.randn(1, 1, size, size)).shape == (1, 2, expected, expected)


def test_block_is_scriptable():
    block = MultiScaleDownBlock(3, 2, 6).eval()
    x = torch.randn(1, 2, 8, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(torch.jit.script(block)(x), block(x))


def test_too_few_output_channels():
    with pytest.raises(ValueError, match="out_channels >= 3"):
        MultiScaleDownBlock(2, 4, 2)
