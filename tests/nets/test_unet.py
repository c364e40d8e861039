"""U-Net baselines (classical and residual) and their shared encoder–decoder skeleton."""

import pytest
import torch
from torch import nn

from custom_networks.nets import ResidualUNet, UNet, count_parameters
from custom_networks.nets.unet import ResidualConvBlock
from tests.nets.checks import (
    BAD_2D_INPUTS_2_CHANNELS_MULTIPLE_16,
    assert_gradients_reach_every_parameter,
    assert_loss_falls,
    assert_onnx_roundtrip,
    assert_torchscript_roundtrip,
    assert_xavier_initialized,
)

NETS = [UNet, ResidualUNet]
SMALL = (4, 8, 16, 32, 64)
# the normalization layers MONAI's Norm factory builds, 2-D
NORMS = (nn.BatchNorm2d, nn.SyncBatchNorm, nn.InstanceNorm2d, nn.GroupNorm, nn.LayerNorm, nn.LocalResponseNorm)
SIZES = {2: (32, 32), 3: (16, 16, 16)}
PAPER = (32, 64, 128, 256, 512)


def small_net(net_type: type, spatial_dims: int = 2, in_channels: int = 2, out_channels: int = 1) -> nn.Module:
    torch.manual_seed(0)
    return net_type(spatial_dims, in_channels, out_channels, features=SMALL)


def test_unet_parameter_count_matches_paper():
    """The U-Net baseline of MultiResUNet (Table 3): 32…512 filters, 1 input channel, 1 output."""
    assert count_parameters(UNet(2, 1, 1)) == (7_759_521, 7_759_521)


@pytest.mark.parametrize(("spatial_dims", "in_channels", "out_channels"), [(2, 1, 1), (2, 3, 1), (3, 4, 3)])
def test_residual_unet_adds_one_projection_per_block(spatial_dims, in_channels, out_channels):
    """Every block changes the channel count, so each gets a biased 1×1 projection shortcut, nothing else."""
    block_channels = list(zip((in_channels, *PAPER[:-1]), PAPER, strict=True))
    block_channels += [(2 * c, c) for c in PAPER[:-1]]
    projections = sum(c_in * c_out + c_out for c_in, c_out in block_channels)
    unet = count_parameters(UNet(spatial_dims, in_channels, out_channels))[0]
    assert count_parameters(ResidualUNet(spatial_dims, in_channels, out_channels))[0] == unet + projections


@pytest.mark.parametrize("net_type", NETS)
@pytest.mark.parametrize("spatial_dims", [2, 3])
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("out_channels", [1, 3])
def test_output_shape(net_type, spatial_dims, batch, out_channels):
    net = small_net(net_type, spatial_dims, out_channels=out_channels)
    out = net(torch.randn(batch, 2, *SIZES[spatial_dims]))
    assert out.shape == (batch, out_channels, *SIZES[spatial_dims])


def test_unet_structure():
    """Two 3×3 conv + bias + ReLU per block, no normalization, 2×2 max-pool, 2×2 transposed conv, 1×1 head."""
    net = UNet(2, 1, 2)
    assert not [m for m in net.modules() if isinstance(m, NORMS)]
    convs = [m for m in net.modules() if type(m) is nn.Conv2d]
    assert len(convs) == 2 * 9 + 1 and all(c.kernel_size == (3, 3) and c.bias is not None for c in convs[:-1])
    assert net.head.kernel_size == (1, 1) and net.head.out_channels == 2
    assert sum(isinstance(m, nn.ReLU) for m in net.modules()) == 2 * 9
    assert all(up.kernel_size == (2, 2) and up.stride == (2, 2) and up.bias is not None for up in net.upsamples)
    assert all(isinstance(skip, nn.Identity) for skip in net.skips)


@pytest.mark.parametrize("spatial_dims", [2, 3])
def test_residual_block_shortcut(spatial_dims):
    """With its 3×3 convs zeroed the block returns ReLU of its (projected) input."""
    x = torch.randn(2, 4, *(6,) * spatial_dims)
    for out_channels in (4, 6):
        block = ResidualConvBlock(spatial_dims, 4, out_channels)
        with torch.no_grad():
            for conv in block.unit.conv.modules():
                if isinstance(conv, (nn.Conv2d, nn.Conv3d)):
                    conv.weight.zero_()
                    conv.bias.zero_()
        if out_channels == 4:
            assert isinstance(block.unit.residual, nn.Identity)
        torch.testing.assert_close(block(x), torch.relu(block.unit.residual(x)))


@pytest.mark.parametrize("net_type", NETS)
@pytest.mark.parametrize(
    ("shape", "message"),
    BAD_2D_INPUTS_2_CHANNELS_MULTIPLE_16,
)
def test_bad_input_raises(net_type, shape, message):
    with pytest.raises(ValueError, match=f"{net_type.__name__} .*{message}"):
        small_net(net_type)(torch.randn(*shape))


@pytest.mark.parametrize("net_type", NETS)
def test_shallower_net(net_type):
    net = net_type(3, 1, 2, features=(4, 8, 16))
    assert net(torch.randn(1, 1, 8, 12, 4)).shape == (1, 2, 8, 12, 4)
    with pytest.raises(ValueError, match="multiple of 4"):
        net(torch.randn(1, 1, 8, 12, 6))
    with pytest.raises(ValueError, match="two feature levels"):
        net_type(2, 1, 1, features=(8,))


@pytest.mark.parametrize("net_type", NETS)
@pytest.mark.parametrize("spatial_dims", [2, 3])
def test_gradients_reach_every_parameter(net_type, spatial_dims):
    net = small_net(net_type, spatial_dims)
    assert_gradients_reach_every_parameter(net, torch.randn(2, 2, *SIZES[spatial_dims]))


@pytest.mark.parametrize("net_type", NETS)
def test_loss_falls(net_type):
    """Without normalization these deep nets learn slowly: 8…128 filters and 30 steps for a clear margin."""
    torch.manual_seed(0)
    x = torch.randn(2, 2, 32, 32)
    net = net_type(2, 2, 1, features=(8, 16, 32, 64, 128))
    assert_loss_falls(net, x, (x[:, :1] > 0).float(), steps=30)


@pytest.mark.parametrize("net_type", NETS)
def test_xavier_initialization(net_type):
    for conv in small_net(net_type).modules():
        if isinstance(conv, (nn.Conv2d, nn.ConvTranspose2d)):
            assert_xavier_initialized(conv)


@pytest.mark.parametrize("net_type", NETS)
@pytest.mark.parametrize("spatial_dims", [2, 3])
def test_torchscript_roundtrip(net_type, spatial_dims, tmp_path):
    x = torch.randn(2, 2, 16, 32, *((16,) * (spatial_dims - 2)))
    assert_torchscript_roundtrip(small_net(net_type, spatial_dims, out_channels=2), x, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("net_type", NETS)
def test_onnx_roundtrip(net_type, tmp_path):
    assert_onnx_roundtrip(small_net(net_type, out_channels=2), torch.randn(1, 2, 32, 32), tmp_path)
