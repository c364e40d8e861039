"""MLDR and MLR blocks of MILDNet: shapes, structure, residual-of-residual wiring, dilations, checkpointing."""

import pytest
import torch
from torch import nn

from custom_networks.blocks import MLDRBlock, MLRBlock
from custom_networks.nets import count_parameters


def zero_convs(block: nn.Module) -> nn.Module:
    """Zero the weights and biases of every conv except the 1×1 projection shortcut."""
    with torch.no_grad():
        for name, module in block.named_modules():
            if isinstance(module, (nn.Conv2d, nn.Conv3d)) and not name.startswith("shortcut"):
                module.weight.zero_()
                module.bias.zero_()
    return block


@pytest.mark.parametrize("spatial_dims", [2, 3])
@pytest.mark.parametrize(("in_channels", "out_channels"), [(3, 8), (8, 8), (8, 4)])
@pytest.mark.parametrize("fusion", ["sum", "concat"])
def test_mldr_shape(spatial_dims, in_channels, out_channels, fusion):
    block = MLDRBlock(spatial_dims, in_channels, out_channels, fusion=fusion)
    x = torch.randn(3, in_channels, *(12,) * spatial_dims)
    assert block(x).shape == (3, out_channels, *(12,) * spatial_dims)


@pytest.mark.parametrize("spatial_dims", [2, 3])
@pytest.mark.parametrize("levels", [1, 2, 3])
def test_mlr_shape(spatial_dims, levels):
    x = torch.randn(1, 6, *(8,) * spatial_dims)
    assert MLRBlock(spatial_dims, 6, levels=levels)(x).shape == x.shape


@pytest.mark.parametrize(("in_channels", "out_channels"), [(3, 8), (8, 8)])
@pytest.mark.parametrize("levels", [1, 2, 3])
@pytest.mark.parametrize("dilations", [(1, 3, 5), (1, 2), (2, 4, 8, 16)])
@pytest.mark.parametrize("fusion", ["sum", "concat"])
def test_mldr_parameter_count(in_channels, out_channels, levels, dilations, fusion):
    """Per level: BN (2 per input channel) and one biased 3×3 conv per dilation (+ the 1×1 fusion conv for concat);
    a biased 1×1 projection shortcut only when the channel count changes."""
    branches = len(dilations)
    expected = 0
    for level in range(levels):
        c_in = in_channels if level == 0 else out_channels
        expected += 2 * c_in + branches * (9 * c_in * out_channels + out_channels)
        if fusion == "concat":
            expected += branches * out_channels * out_channels + out_channels
    if in_channels != out_channels:
        expected += in_channels * out_channels + out_channels
    block = MLDRBlock(2, in_channels, out_channels, dilations=dilations, levels=levels, fusion=fusion)
    assert count_parameters(block)[0] == expected


@pytest.mark.parametrize("levels", [1, 2, 3])
def test_mlr_parameter_count(levels):
    """Per level: BN → ReLU → conv3×3 → BN → ReLU → conv3×3, biased convs, channels kept, no projection."""
    c = 5
    assert count_parameters(MLRBlock(3, c, levels=levels))[0] == levels * 2 * (2 * c + 27 * c * c + c)


@pytest.mark.parametrize("spatial_dims", [2, 3])
@pytest.mark.parametrize(("levels", "gain"), [(1, 1.0), (2, 2.0), (3, 2.0)])
@pytest.mark.parametrize("fusion", ["sum", "concat"])
def test_mldr_residual_of_residual_identity(spatial_dims, levels, gain, fusion):
    """With the level convs zeroed every level is an identity, so the block returns its input once through the
    level chain plus once through the outer (residual-of-residual) shortcut; one level has no outer shortcut."""
    block = zero_convs(MLDRBlock(spatial_dims, 4, 4, levels=levels, fusion=fusion, post_activation=False)).train()
    x = torch.randn(2, 4, *(6,) * spatial_dims)
    torch.testing.assert_close(block(x), gain * x)


@pytest.mark.parametrize("spatial_dims", [2, 3])
def test_mldr_projected_identity(spatial_dims):
    """When the channel count changes both shortcuts carry the same 1×1 projection of the input."""
    block = zero_convs(MLDRBlock(spatial_dims, 3, 6, post_activation=False))
    assert isinstance(block.shortcut, (nn.Conv2d, nn.Conv3d)) and block.shortcut.kernel_size == (1,) * spatial_dims
    x = torch.randn(2, 3, *(6,) * spatial_dims)
    torch.testing.assert_close(block(x), 2 * block.shortcut(x))


@pytest.mark.parametrize("spatial_dims", [2, 3])
@pytest.mark.parametrize(("levels", "gain"), [(1, 1.0), (2, 2.0)])
def test_mlr_residual_of_residual_identity(spatial_dims, levels, gain):
    block = zero_convs(MLRBlock(spatial_dims, 4, levels=levels, post_activation=False))
    assert isinstance(block.shortcut, nn.Identity)
    x = torch.randn(2, 4, *(6,) * spatial_dims)
    torch.testing.assert_close(block(x), gain * x)


def _four_channel_block(block_type: str, levels: int, **options) -> nn.Module:
    if block_type == "mldr":
        return MLDRBlock(2, 4, 4, levels=levels, **options)
    return MLRBlock(2, 4, levels=levels, **options)


@pytest.mark.parametrize(("levels", "gain"), [(1, 1.0), (2, 2.0), (3, 2.0)])
@pytest.mark.parametrize("block_type", ["mldr", "mlr"])
def test_post_activation_follows_every_addition(levels, gain, block_type):
    """Eq. (1): x_{l+1} = ReLU(y_l). With identity levels (convs zeroed): y_1 = ReLU(x), every further level keeps
    it, and the outer residual gives ReLU(ReLU(x) + x) = 2 ReLU(x); one level has no outer residual."""
    block = _four_channel_block(block_type, levels)  # Eq. (1) is the default
    assert count_parameters(block) == count_parameters(_four_channel_block(block_type, levels, post_activation=False))
    x = torch.randn(2, 4, 6, 6)
    torch.testing.assert_close(zero_convs(block)(x), gain * torch.relu(x))


@pytest.mark.parametrize(("dilations", "levels"), [((1, 3, 5), 1), ((1, 3, 5), 2), ((1, 2), 2)])
def test_mldr_receptive_field_follows_dilations(dilations, levels):
    """An input pixel reaches output pixels up to levels × max(dilation) away (3×3 kernels), no further (without
    the ReLUs after the additions, which would zero the gradient of an output pixel that happens to be negative)."""
    torch.manual_seed(0)
    block = MLDRBlock(2, 2, 2, dilations=dilations, levels=levels, post_activation=False).eval()
    size, centre = 31, 15
    x = torch.randn(1, 2, size, size, requires_grad=True)
    block(x)[0, :, centre, centre].sum().backward()
    reached = (x.grad.abs().sum(dim=(0, 1)) > 0).nonzero()
    radius = levels * max(dilations)
    assert (reached - centre).abs().max() == radius


def test_concat_fusion_mixes_branches_with_1x1_conv():
    level = MLDRBlock(2, 4, 8, dilations=(1, 2), fusion="concat").levels[0]
    assert level.convs.fuse.in_channels == 16 and level.convs.fuse.kernel_size == (1, 1)
    assert isinstance(MLDRBlock(2, 4, 8, fusion="sum").levels[0].convs.fuse, nn.Identity)


@pytest.mark.parametrize(
    ("kwargs", "message"), [({"fusion": "mean"}, "fusion must be one of"), ({"levels": 0}, "at least one level")]
)
def test_mldr_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MLDRBlock(2, 4, 4, **kwargs)


@pytest.mark.parametrize("block_type", ["mldr", "mlr"])
def test_gradient_checkpointing_matches_plain(block_type):
    """Same outputs, gradients and BatchNorm running statistics; the recomputation really happens in backward."""
    torch.manual_seed(0)

    def build(checkpointing: bool) -> nn.Module:
        if block_type == "mldr":
            return MLDRBlock(2, 3, 6, gradient_checkpointing=checkpointing)
        return MLRBlock(2, 6, gradient_checkpointing=checkpointing)

    plain, checkpointed = build(False), build(True)
    checkpointed.load_state_dict(plain.state_dict())
    calls = []
    checkpointed.levels[0][0].register_forward_hook(lambda *_: calls.append(1))
    x = torch.randn(3, plain.levels[0][0].N.num_features, 10, 10)
    outputs = [net.train()(x) for net in (plain, checkpointed)]
    for out in outputs:
        out.square().sum().backward()
    assert len(calls) == 2
    torch.testing.assert_close(outputs[1], outputs[0])
    for p, q in zip(plain.parameters(), checkpointed.parameters(), strict=True):
        torch.testing.assert_close(q.grad, p.grad)
    for a, b in zip(plain.buffers(), checkpointed.buffers(), strict=True):
        torch.testing.assert_close(b, a)


@pytest.mark.parametrize("spatial_dims", [2, 3])
def test_blocks_torchscript(spatial_dims):
    x = torch.randn(2, 4, *(8,) * spatial_dims)
    for block in (
        MLDRBlock(spatial_dims, 4, 6, fusion="concat", gradient_checkpointing=True),
        MLRBlock(spatial_dims, 4),
    ):
        block.eval()
        with torch.no_grad():
            torch.testing.assert_close(torch.jit.script(block)(x), block(x))
