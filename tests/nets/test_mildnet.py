"""MILDNet: shapes, options, input validation, initialization, training behaviour, checkpointing, TorchScript, ONNX."""

import pytest
import torch
from torch import nn

from custom_networks.blocks import MLDRBlock, MLRBlock
from custom_networks.nets import MILDNet, count_parameters
from tests.nets.checks import (
    BAD_2D_INPUTS_2_CHANNELS_MULTIPLE_16,
    assert_gradients_reach_every_parameter,
    assert_loss_falls,
    assert_onnx_roundtrip,
    assert_torchscript_roundtrip,
    assert_xavier_initialized,
)

SMALL = (4, 8, 16, 32, 64)
SIZES = {2: (32, 32), 3: (16, 16, 16)}


def small_net(spatial_dims: int = 2, in_channels: int = 2, out_channels: int = 1, **kwargs) -> MILDNet:
    torch.manual_seed(0)
    return MILDNet(spatial_dims, in_channels, out_channels, features=SMALL, **kwargs)


@pytest.mark.parametrize("spatial_dims", [2, 3])
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("out_channels", [1, 3])
def test_output_shape(spatial_dims, batch, out_channels):
    """Eval mode: in training, BatchNorm cannot normalize one value per channel (batch 1, 3-D 1×1×1 bottleneck)."""
    net = small_net(spatial_dims, out_channels=out_channels).eval()
    with torch.no_grad():
        out = net(torch.randn(batch, 2, *SIZES[spatial_dims]))
    assert out.shape == (batch, out_channels, *SIZES[spatial_dims])


def test_non_square_input():
    assert small_net()(torch.randn(2, 2, 16, 48)).shape == (2, 1, 16, 48)


OPTIONS = [
    {},
    {"use_mlr": False},
    {"fusion": "concat"},
    {"levels": 1},
    {"levels": 3},
    {"dilations": (2, 4, 8, 16)},
    {"dilations": (1, 2, 4)},
    {"norm": ("group", {"num_groups": 2})},
]


@pytest.mark.parametrize("spatial_dims", [2, 3])
@pytest.mark.parametrize("kwargs", OPTIONS)
def test_options_shape(spatial_dims, kwargs):
    net = small_net(spatial_dims, out_channels=2, **kwargs)
    assert net(torch.randn(3, 2, *SIZES[spatial_dims])).shape == (3, 2, *SIZES[spatial_dims])


def test_options_change_structure():
    default, no_mlr, concat, one_level, three_levels, four_dilations = (
        count_parameters(small_net(**kwargs))[0] for kwargs in OPTIONS[:6]
    )
    assert no_mlr < default < concat and one_level < default < three_levels and default < four_dilations
    for dilations in [(1, 3, 5), (1, 2, 4)]:  # same parameter count, different convolutions
        branches = [block.levels[1].convs.branches for block in small_net(dilations=dilations).decoder]
        assert all([conv.dilation for conv in convs] == [(d, d) for d in dilations] for convs in branches)


@pytest.mark.parametrize("use_mlr", [True, False])
def test_blocks_in_place(use_mlr):
    """An MLDR block per encoder level, bottleneck and decoder level; an MLR block per skip or none."""
    net = small_net(use_mlr=use_mlr, levels=3, dilations=(1, 2))
    mldr = [m for m in net.modules() if isinstance(m, MLDRBlock)]
    mlr = [m for m in net.modules() if isinstance(m, MLRBlock)]
    assert len(mldr) == 9 and len(mlr) == (4 if use_mlr else 0)
    assert all(len(block.levels) == 3 for block in mldr + mlr)
    assert all(len(block.levels[0].convs.branches) == 2 for block in mldr)
    assert [m.in_channels for m in net.upsamples] == [64, 32, 16, 8]


def test_xavier_initialization():
    net = small_net(fusion="concat")
    convs = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert any(isinstance(m, nn.ConvTranspose2d) for m in convs)
    for conv in convs:
        assert_xavier_initialized(conv)


@pytest.mark.parametrize(
    ("shape", "message"),
    BAD_2D_INPUTS_2_CHANNELS_MULTIPLE_16,
)
def test_bad_input_raises(shape, message):
    with pytest.raises(ValueError, match=message):
        small_net()(torch.randn(*shape))


def test_shallower_net_needs_smaller_multiple():
    net = MILDNet(2, 1, 1, features=(4, 8, 16))
    assert net(torch.randn(2, 1, 12, 8)).shape == (2, 1, 12, 8)
    with pytest.raises(ValueError, match="MILDNet needs every spatial size to be a multiple of 4"):
        net(torch.randn(2, 1, 10, 8))


def test_bad_arguments():
    with pytest.raises(ValueError, match="two feature levels"):
        MILDNet(2, 1, 1, features=(32,))
    with pytest.raises(ValueError, match="fusion must be one of"):
        MILDNet(2, 1, 1, features=SMALL, fusion="max")


@pytest.mark.parametrize(("spatial_dims", "kwargs"), [(2, {}), (2, {"fusion": "concat", "use_mlr": False}), (3, {})])
def test_gradients_reach_every_parameter(spatial_dims, kwargs):
    net = small_net(spatial_dims, **kwargs)
    assert_gradients_reach_every_parameter(net, torch.randn(2, 2, *SIZES[spatial_dims]))


@pytest.mark.parametrize("out_channels", [1, 3])
def test_loss_falls(out_channels):
    torch.manual_seed(0)
    x = torch.randn(2, 2, 32, 32)
    labels = (x[:, 0] > 0).long() + (x[:, 1] > 1).long() if out_channels == 3 else (x[:, :1] > 0).long()
    target = nn.functional.one_hot(labels, 3).movedim(-1, 1) if out_channels == 3 else labels
    assert_loss_falls(small_net(out_channels=out_channels), x, target.float())


@pytest.mark.parametrize(
    ("spatial_dims", "in_channels", "out_channels", "trainable", "total"),
    [(2, 3, 1, 25_381_383, 25_391_053), (3, 4, 3, 74_709_195, 74_718_867)],
)
def test_paper_configuration_parameter_count(spatial_dims, in_channels, out_channels, trainable, total):
    """This implementation's count (the paper publishes none): guards against unintended structural changes."""
    net = MILDNet(spatial_dims, in_channels, out_channels)
    assert count_parameters(net) == (trainable, total)


def test_gradient_checkpointing_matches_plain():
    """Same outputs, gradients and BatchNorm statistics as without checkpointing, in 2-D with every option."""
    plain = small_net(out_channels=2, fusion="concat")
    checkpointed = small_net(out_channels=2, fusion="concat", gradient_checkpointing=True)
    checkpointed.load_state_dict(plain.state_dict())
    x = torch.randn(3, 2, 32, 32)
    outputs = [net.train()(x) for net in (plain, checkpointed)]
    for out in outputs:
        (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
    torch.testing.assert_close(outputs[1], outputs[0])
    for (name, p), q in zip(plain.named_parameters(), checkpointed.parameters(), strict=True):
        torch.testing.assert_close(q.grad, p.grad, msg=name)
    for a, b in zip(plain.buffers(), checkpointed.buffers(), strict=True):
        torch.testing.assert_close(b, a)
    with torch.no_grad():
        torch.testing.assert_close(checkpointed.eval()(x), plain.eval()(x))


@pytest.mark.parametrize("spatial_dims", [2, 3])
def test_torchscript_roundtrip(spatial_dims, tmp_path):
    net = small_net(spatial_dims, out_channels=2, gradient_checkpointing=True)
    x = torch.randn(2, 2, 16, 32, *((16,) * (spatial_dims - 2)))
    assert_torchscript_roundtrip(net, x, tmp_path)


@pytest.mark.slow
def test_onnx_roundtrip(tmp_path):
    assert_onnx_roundtrip(small_net(out_channels=2, fusion="concat"), torch.randn(1, 2, 32, 32), tmp_path)
