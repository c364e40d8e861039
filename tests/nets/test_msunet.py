"""MS U-Net: shapes, input checks, parameter count, training behaviour, TorchScript and ONNX."""

import pytest
import torch

from custom_networks.nets import MSUNet, count_parameters
from tests.nets.checks import (
    assert_gradients_reach_every_parameter,
    assert_loss_falls,
    assert_onnx_roundtrip,
    assert_torchscript_roundtrip,
)

SMALL = (3, 6, 6, 6, 6, 6)  # the paper's depth (five down blocks) with few channels: inputs are multiples of 128


def test_paper_configuration_parameter_count():
    trainable, _ = count_parameters(MSUNet(2, 3, 2))
    assert trainable == 19_938_368


@pytest.mark.parametrize(("features", "multiple"), [(SMALL, 128), ((3, 6, 6), 16)])
def test_input_multiple_follows_depth(features, multiple):
    assert MSUNet(2, 1, 1, features=features).multiple == multiple


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize(
    ("spatial_dims", "features", "size"),
    [(2, SMALL, (128, 256)), (3, (3, 6, 6, 6), (32, 32, 64))],
)
def test_output_shape(batch, spatial_dims, features, size):
    net = MSUNet(spatial_dims, 2, 3, features=features).eval()
    with torch.no_grad():
        assert net(torch.randn(batch, 2, *size)).shape == (batch, 3, *size)


@pytest.mark.parametrize(
    ("shape", "match"),
    [
        ((1, 2, 96, 128), "multiple of 128"),
        ((1, 2, 64, 64), "multiple of 128"),
        ((1, 3, 128, 128), "2 input channels"),
        ((1, 2, 128, 128, 128), "4-D input"),
    ],
)
def test_bad_input(shape, match):
    net = MSUNet(2, 2, 1, features=SMALL)
    with pytest.raises(ValueError, match=match):
        net(torch.zeros(shape))


@pytest.mark.parametrize("features", [(3,), (4, 8, 9), (3, 6, 0)])
def test_bad_features(features):
    with pytest.raises(ValueError, match="MSUNet"):
        MSUNet(2, 1, 1, features=features)


# A conv bias followed by batch norm gets only a rounding-error gradient (the norm removes the channel mean), often
# exactly zero: check convs and norms without bias, and biases without norm (leaky, as thin ReLU stacks die unnormed).
@pytest.mark.parametrize("options", [{"bias": False}, {"norm": None, "act": "leakyrelu"}])
def test_gradients_reach_every_parameter(options):
    torch.manual_seed(0)
    assert_gradients_reach_every_parameter(MSUNet(2, 1, 2, features=SMALL, **options), torch.randn(2, 1, 128, 128))


def test_loss_falls():
    torch.manual_seed(0)
    x = torch.randn(2, 1, 32, 32)
    target = torch.nn.functional.one_hot((x > 0).long()[:, 0], 2).movedim(-1, 1).float()
    assert_loss_falls(MSUNet(2, 1, 2, features=(6, 9, 12)), x, target)


@pytest.mark.parametrize(("spatial_dims", "features", "size"), [(2, SMALL, 128), (3, (3, 6, 6), 16)])
def test_torchscript_roundtrip(tmp_path, spatial_dims, features, size):
    torch.manual_seed(0)
    net = MSUNet(spatial_dims, 1, 2, features=features)
    assert_torchscript_roundtrip(net, torch.randn(1, 1, *([size] * spatial_dims)), tmp_path)


@pytest.mark.parametrize(("spatial_dims", "features", "size"), [(2, SMALL, 128), (3, (3, 6, 6), 16)])
def test_onnx_roundtrip(tmp_path, spatial_dims, features, size):
    torch.manual_seed(0)
    net = MSUNet(spatial_dims, 1, 2, features=features)
    assert_onnx_roundtrip(net, torch.randn(1, 1, *([size] * spatial_dims)), tmp_path)
