"""Çiçek et al.'s 3-D U-Net, MultiResUNet's volumetric baseline."""

import pytest
import torch
from torch import nn

from custom_networks.nets import CicekUNet, count_parameters
from tests.nets.checks import assert_gradients_reach_every_parameter, assert_loss_falls, assert_torchscript_roundtrip

SMALL = (8, 16, 32)


def test_parameter_count_matches_paper():
    """MultiResUNet's table of models: 3D U-Net (baseline) 19,078,593 (Keras count, 4 MRI channels, one mask)."""
    assert count_parameters(CicekUNet(3, 4, 1))[1] == 19_078_593


@pytest.mark.parametrize("spatial_dims", [2, 3])
def test_parameter_count_by_hand(spatial_dims):
    """Encoder convs in → c/2 → c, transposed convs c → c, decoder convs (c_up + c_skip) → c_skip → c_skip, 1×1 head;
    3×3 convs bias-free with an affine BatchNorm (2 trainable values and 2 running statistics per channel)."""
    window = 3**spatial_dims
    convs = [(2, 4), (4, 8), (8, 8), (8, 16), (16, 16), (16, 32)]  # two levels and the bottleneck
    convs += [(32 + 16, 16), (16, 16), (16 + 8, 8), (8, 8)]
    weights = sum(window * c_in * c_out for c_in, c_out in convs)
    norms = sum(c_out for _, c_out in convs)
    up = sum(2**spatial_dims * c * c + c for c in (32, 16))
    head = 8 * 3 + 3
    trainable = weights + 2 * norms + up + head
    assert count_parameters(CicekUNet(spatial_dims, 2, 3, features=SMALL)) == (trainable, trainable + 2 * norms)


def test_structure():
    """BatchNorm and ReLU after every 3×3 conv, the transposed convs keep their channels."""
    net = CicekUNet(3, 4, 1)
    convs = [m for m in net.modules() if type(m) is nn.Conv3d and m.kernel_size == (3, 3, 3)]
    assert len(convs) == 14 and all(conv.bias is None for conv in convs)
    assert len([m for m in net.modules() if isinstance(m, nn.BatchNorm3d)]) == 14
    assert [(up.in_channels, up.out_channels) for up in net.upsamples] == [(512, 512), (256, 256), (128, 128)]
    assert [block[0].conv.in_channels for block in net.decoder] == [768, 384, 192]


@pytest.mark.parametrize(("spatial_dims", "size"), [(2, (16, 24)), (3, (8, 16, 8))])
def test_output_shape_and_gradients(spatial_dims, size):
    torch.manual_seed(0)
    net = CicekUNet(spatial_dims, 2, 3, features=SMALL)
    x = torch.rand(2, 2, *size)
    assert net(x).shape == (2, 3, *size)
    assert_gradients_reach_every_parameter(net, x)


def test_bad_size_names_the_multiple():
    with pytest.raises(ValueError, match="multiple of 4"):
        CicekUNet(3, 1, 1, features=SMALL)(torch.rand(1, 1, 8, 8, 6))


def test_trains_and_scripts(tmp_path):
    torch.manual_seed(0)
    x = torch.rand(2, 1, 8, 8, 8)
    assert_loss_falls(CicekUNet(3, 1, 1, features=SMALL), x, (x > 0.5).float(), steps=20)
    assert_torchscript_roundtrip(CicekUNet(3, 1, 1, features=SMALL), x, tmp_path)
