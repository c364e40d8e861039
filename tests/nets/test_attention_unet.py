"""MONAI's Attention U-Net wrapped as MS U-Net's baseline."""

import pytest
import torch
from monai.networks.nets import AttentionUnet

from custom_networks.nets import AttentionUNet, count_parameters
from tests.nets.checks import assert_gradients_reach_every_parameter, assert_torchscript_roundtrip

SMALL = (4, 8, 16)


@pytest.mark.parametrize(("spatial_dims", "size"), [(2, (16, 24)), (3, (8, 16, 8))])
def test_output_shape_and_gradients(spatial_dims, size):
    torch.manual_seed(0)
    net = AttentionUNet(spatial_dims, 2, 3, features=SMALL)
    x = torch.rand(2, 2, *size)
    assert net(x).shape == (2, 3, *size)
    assert_gradients_reach_every_parameter(net, x)


def test_is_monai_attention_unet_with_the_baselines_widths():
    """Same parameters as MONAI's network built with channels 32…512 and four stride-2 levels."""
    monai = AttentionUnet(2, 3, 2, channels=(32, 64, 128, 256, 512), strides=(2, 2, 2, 2))
    assert count_parameters(AttentionUNet(2, 3, 2)) == count_parameters(monai)


def test_bad_size_names_the_multiple():
    with pytest.raises(ValueError, match="AttentionUNet needs every spatial size to be a multiple of 4"):
        AttentionUNet(2, 1, 1, features=SMALL)(torch.rand(1, 1, 30, 32))


def test_scripts(tmp_path):
    torch.manual_seed(0)
    assert_torchscript_roundtrip(AttentionUNet(2, 1, 1, features=SMALL), torch.rand(1, 1, 16, 16), tmp_path)
