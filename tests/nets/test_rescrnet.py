"""Res-CR-Net: any-size shapes, input validation, training behaviour, paper parameter count, TorchScript and ONNX."""

import pytest
import torch

from custom_networks.nets import ResCRNet, count_parameters
from tests.nets.checks import (
    assert_gradients_reach_every_parameter,
    assert_loss_falls,
    assert_onnx_roundtrip,
    assert_torchscript_roundtrip,
)


def small_net(in_channels: int = 3, out_channels: int = 4, **kwargs) -> ResCRNet:
    torch.manual_seed(0)
    return ResCRNet(in_channels, out_channels, filters=4, num_conv_blocks=2, **kwargs)


@pytest.mark.parametrize("size", [(17, 23), (16, 16), (1, 7)])
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("in_channels", [1, 3])
def test_output_shape_any_size(size, batch, in_channels):
    out = small_net(in_channels)(torch.randn(batch, in_channels, *size))
    assert out.shape == (batch, 4, *size)


def test_paper_configuration():
    net = ResCRNet(3, 4)
    assert count_parameters(net)[0] == 59_165
    with torch.no_grad():
        assert net.eval()(torch.randn(1, 3, 17, 23)).shape == (1, 4, 17, 23)


@pytest.mark.parametrize(
    ("kwargs", "out_channels"),
    [({"fusion": "add"}, 2), ({"num_lstm_blocks": 0}, 2), ({"num_lstm_blocks": 2}, 3)],
)
def test_variants(kwargs, out_channels):
    assert small_net(1, out_channels, **kwargs)(torch.randn(2, 1, 9, 6)).shape == (2, out_channels, 9, 6)


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((1, 1, 16, 16), "expects 3 input channels"),
        ((1, 3, 16, 16, 16), "expects a 4-D input"),
        ((3, 16, 16), "expects a 4-D input"),
    ],
)
def test_bad_input_raises(shape, message):
    with pytest.raises(ValueError, match=message):
        small_net()(torch.randn(*shape))


@pytest.mark.parametrize("kwargs", [{"num_conv_blocks": 0}, {"num_lstm_blocks": -1}])
def test_bad_block_counts_raise(kwargs):
    with pytest.raises(ValueError, match="at least the stem"):
        ResCRNet(3, 4, **kwargs)


def test_gradients_reach_every_parameter():
    assert_gradients_reach_every_parameter(small_net(), torch.randn(2, 3, 12, 9))


@pytest.mark.parametrize("out_channels", [1, 3])
def test_loss_falls(out_channels):
    torch.manual_seed(0)
    x = torch.randn(2, 2, 10, 12)
    labels = (x[:, :1] > 0).long() + (x[:, 1:] > 1).long() if out_channels == 3 else (x[:, :1] > 0).long()
    target = torch.nn.functional.one_hot(labels[:, 0], 3).movedim(-1, 1) if out_channels == 3 else labels
    assert_loss_falls(small_net(2, out_channels), x, target.float())


def test_torchscript_roundtrip(tmp_path):
    assert_torchscript_roundtrip(small_net(), torch.randn(2, 3, 7, 10), tmp_path)


def test_onnx_roundtrip(tmp_path):
    assert_onnx_roundtrip(small_net(), torch.randn(1, 3, 6, 7), tmp_path)
