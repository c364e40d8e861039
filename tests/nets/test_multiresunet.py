"""MultiResUNet: shapes, input validation, training behaviour, paper parameter counts, TorchScript and ONNX."""

import pytest
import torch

from custom_networks.nets import MultiResUNet, count_parameters
from tests.nets.checks import (
    BAD_2D_INPUTS_2_CHANNELS_MULTIPLE_16,
    assert_gradients_reach_every_parameter,
    assert_loss_falls,
    assert_onnx_roundtrip,
    assert_torchscript_roundtrip,
)

SMALL = (4, 8, 16, 32, 64)  # smallest U with non-empty MultiRes units at alpha = 1.67
SIZES = {2: (32, 48), 3: (16, 16, 32)}


def small_net(spatial_dims: int, in_channels: int = 2, out_channels: int = 1) -> MultiResUNet:
    torch.manual_seed(0)
    return MultiResUNet(spatial_dims, in_channels, out_channels, features=SMALL)


@pytest.mark.parametrize("spatial_dims", [2, 3])
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("out_channels", [1, 3])
def test_output_shape(spatial_dims, batch, out_channels):
    net = small_net(spatial_dims, out_channels=out_channels)
    out = net(torch.randn(batch, 2, *SIZES[spatial_dims]))
    assert out.shape == (batch, out_channels, *SIZES[spatial_dims])


def test_paper_configuration_forward_2d():
    net = MultiResUNet(2, in_channels=3, out_channels=2).eval()
    with torch.no_grad():
        assert net(torch.randn(1, 3, 32, 16)).shape == (1, 2, 32, 16)


def test_shallower_net_needs_smaller_multiple():
    net = MultiResUNet(2, 1, 1, features=(4, 8, 16))
    assert net(torch.randn(2, 1, 12, 8)).shape == (2, 1, 12, 8)
    with pytest.raises(ValueError, match="multiple of 4"):
        net(torch.randn(2, 1, 10, 8))


@pytest.mark.parametrize(
    ("shape", "message"),
    BAD_2D_INPUTS_2_CHANNELS_MULTIPLE_16,
)
def test_bad_input_raises(shape, message):
    with pytest.raises(ValueError, match=message):
        small_net(2)(torch.randn(*shape))


def test_needs_two_levels():
    with pytest.raises(ValueError, match="two feature levels"):
        MultiResUNet(2, 1, 1, features=(32,))


@pytest.mark.parametrize("spatial_dims", [2, 3])
def test_gradients_reach_every_parameter(spatial_dims):
    assert_gradients_reach_every_parameter(small_net(spatial_dims), torch.randn(2, 2, *SIZES[spatial_dims]))


@pytest.mark.parametrize("out_channels", [1, 3])
def test_loss_falls(out_channels):
    torch.manual_seed(0)
    x = torch.randn(2, 2, 32, 32)
    if out_channels == 1:
        target = (x[:, :1] > 0).float()
    else:
        labels = (x[:, 0] > 0).long() + (x[:, 1] > 1).long()
        target = torch.nn.functional.one_hot(labels, out_channels).movedim(-1, 1).float()
    assert_loss_falls(small_net(2, out_channels=out_channels), x, target)


@pytest.mark.parametrize(
    ("spatial_dims", "in_channels", "trainable", "total"),
    [(2, 3, 7_238_228, 7_262_750), (3, 4, 18_633_167, 18_657_689)],
)
def test_parameter_count_matches_paper(spatial_dims, in_channels, trainable, total):
    """Paper Table 3 (Keras total = trainable + BatchNorm moving mean/var)."""
    assert count_parameters(MultiResUNet(spatial_dims, in_channels, 1)) == (trainable, total)


@pytest.mark.parametrize("spatial_dims", [2, 3])
def test_torchscript_roundtrip(spatial_dims, tmp_path):
    assert_torchscript_roundtrip(
        small_net(spatial_dims, out_channels=2), torch.randn(2, 2, *SIZES[spatial_dims]), tmp_path
    )


@pytest.mark.slow
@pytest.mark.parametrize("spatial_dims", [2, 3])
def test_onnx_roundtrip(spatial_dims, tmp_path):
    assert_onnx_roundtrip(small_net(spatial_dims, out_channels=2), torch.randn(1, 2, *SIZES[spatial_dims]), tmp_path)


def test_norm_reaches_every_layer_and_keeps_the_parameters():
    """The Keras BatchNorm (momentum 0.01) is the default; another ``norm`` replaces every normalisation layer."""
    keras = MultiResUNet(2, 3, 1, features=(8, 16, 32))
    faster = MultiResUNet(2, 3, 1, features=(8, 16, 32), norm=("batch", {"momentum": 0.1}))
    norms = [m for m in faster.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and all(m.momentum == 0.1 and m.eps == 1e-5 for m in norms)
    assert all(m.momentum == 0.01 for m in keras.modules() if isinstance(m, torch.nn.BatchNorm2d))
    assert count_parameters(faster) == count_parameters(keras)
