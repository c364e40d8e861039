"""Res-CR-Net blocks: separable convs, conv res blocks (stem and regular), ConvLSTM scans and the LSTM res block."""

import pytest
import torch

from custom_networks.benchmark.dispatch import TorchDispatchMode, tensors_in
from custom_networks.blocks import ConvLSTMResBlock, ConvResBlock
from custom_networks.blocks.convlstm import ConvLSTM
from custom_networks.blocks.rescr import SeparableConv2d
from custom_networks.nets import count_parameters
from tests.nets.checks import assert_gradients_reach_every_parameter


def rows_as_sequence(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, H, 1, W, C): the row scan of the LSTM res block, time = H."""
    return x.permute(0, 2, 3, 1).unsqueeze(2)


def test_separable_conv_is_depthwise_then_pointwise():
    conv = SeparableConv2d(3, 16, kernel_size=5, dilation=3)
    assert count_parameters(conv)[0] == 25 * 3 + 3 * 16 + 16  # depthwise without bias, pointwise with bias
    assert conv(torch.randn(2, 3, 17, 23)).shape == (2, 16, 17, 23)


@pytest.mark.parametrize(("fusion", "branch_params"), [("concat", 16), ("add", 48)])
def test_conv_res_block_shapes_and_fusion(fusion, branch_params):
    block = ConvResBlock(8, 48, fusion=fusion)
    assert block(torch.randn(3, 8, 17, 23)).shape == (3, 48, 17, 23)
    assert all(branch.conv_1.pointwise.out_channels == branch_params for branch in block.branches)


def test_stem_has_no_preactivation():
    stem, block = ConvResBlock(3, 48, preactivate=False), ConvResBlock(3, 48)
    assert count_parameters(block)[0] - count_parameters(stem)[0] == 2 * 3  # the BN gamma/beta on the input
    assert stem(torch.randn(1, 3, 9, 5)).shape == (1, 48, 9, 5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"out_channels": 10}, "split evenly"),
        ({"dilations": (1, 3)}, "one dilation per kernel size"),
        ({"fusion": "sum"}, "fusion must be"),
    ],
)
def test_conv_res_block_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ConvResBlock(**{"in_channels": 4, "out_channels": 12, **kwargs})


def test_conv_res_block_spatial_dropout_only_in_training():
    torch.manual_seed(0)
    block = ConvResBlock(4, 12, dropout=0.5)
    x = torch.randn(2, 4, 8, 8)
    block.eval()
    torch.testing.assert_close(block(x), block(x))
    block.train()
    out = block(x)
    dropped = out.flatten(2).abs().sum(-1) == 0  # whole channels zeroed
    assert dropped.any() and not dropped.all()


def test_blocks_usable_on_their_own():
    x = torch.randn(2, 5, 11, 7)
    for block in (ConvResBlock(5, 12, kernel_sizes=(3, 5), dilations=(1, 2)), ConvLSTMResBlock(5, 3)):
        assert_gradients_reach_every_parameter(block, x)
        torch.jit.script(block.eval())(x)


@pytest.mark.parametrize("shape", [(1, 6, 17, 23), (3, 6, 8, 8), (2, 6, 1, 5)])
def test_lstm_res_block_shape(shape):
    assert ConvLSTMResBlock(6, 4)(torch.randn(*shape)).shape == (shape[0], 4, *shape[2:])


def test_lstm_res_block_parameters():
    # 1x1 conv (48 -> 4) and four one-filter ConvLSTM scans with (3, 4) kernels, 100 parameters each
    assert count_parameters(ConvLSTMResBlock(48, 4))[0] == 48 * 4 + 4 + 4 * (2 * 4 * 3 * 4 + 4)


def test_convlstm_keeps_frame_size_for_even_kernels():
    lstm = ConvLSTM(1, 2, kernel_size=(3, 4))
    assert lstm(torch.randn(2, 5, 1, 7, 4)).shape == (2, 5, 2, 7, 4)


def test_convlstm_forget_bias_starts_at_one():
    bias = ConvLSTM(1, 2, groups=3).input_conv.bias.view(3, 4, 2)  # (group, gate i f g o, channel)
    torch.testing.assert_close(bias[:, 1], torch.ones(3, 2))
    torch.testing.assert_close(bias[:, [0, 2, 3]], torch.zeros(3, 3, 2))


def test_scan_propagates_forward_in_time_only():
    torch.manual_seed(0)
    lstm = ConvLSTM(1, 1, kernel_size=(3, 4)).eval()
    x = torch.randn(2, 4, 9, 6)  # (B, C, H, W): 9 rows = 9 time steps
    at_start, at_end = x.clone(), x.clone()
    at_start[:, :, 0] += 1.0
    at_end[:, :, -1] += 1.0
    with torch.no_grad():
        out, out_start, out_end = (lstm(rows_as_sequence(t)) for t in (x, at_start, at_end))
    assert not torch.allclose(out_start[:, -1], out[:, -1])  # the first row reaches the last one
    assert not torch.allclose(out_end[:, -1], out[:, -1])
    torch.testing.assert_close(out_end[:, :-1], out[:, :-1])  # nothing flows against the scan


def single_lstm(lstm: ConvLSTM, group: int, in_channels: int) -> ConvLSTM:
    """A one-group ConvLSTM with the weights of ``group`` of ``lstm``."""
    single = ConvLSTM(in_channels, lstm.out_channels, lstm.input_conv.kernel_size).eval()
    gates = slice(group * 4 * lstm.out_channels, (group + 1) * 4 * lstm.out_channels)
    with torch.no_grad():
        single.input_conv.weight.copy_(lstm.input_conv.weight[gates])
        single.input_conv.bias.copy_(lstm.input_conv.bias[gates])
        single.recurrent_conv.weight.copy_(lstm.recurrent_conv.weight[gates])
    return single


def test_groups_are_independent_lstms():
    torch.manual_seed(0)
    lstm = ConvLSTM(2, 3, kernel_size=3, groups=2).eval()
    x = torch.randn(2, 5, 4, 6, 7)  # two groups of 2 input channels
    with torch.no_grad():
        out = lstm(x)
        expected = [single_lstm(lstm, g, 2)(x[:, :, 2 * g : 2 * g + 2]) for g in range(2)]
    assert out.shape == (2, 5, 6, 6, 7)
    torch.testing.assert_close(out, torch.cat(expected, dim=2))


@pytest.mark.parametrize("shape", [(2, 4, 7, 10), (2, 4, 10, 7), (1, 4, 6, 6)])
def test_lstm_res_block_scans_rows_and_columns_both_ways(shape):
    """The block's single 4-group scan equals four separate ConvLSTMs: rows and columns, forwards and backwards,
    also on non-square inputs, whose shorter scan runs padded and masked."""
    torch.manual_seed(0)
    block = ConvLSTMResBlock(4, 3).eval()
    x = torch.randn(*shape)
    with torch.no_grad():
        projected = block.projection(x)
        rows = rows_as_sequence(projected)  # (B, H, 1, W, C)
        columns = projected.permute(0, 3, 2, 1).unsqueeze(2)  # (B, W, 1, H, C)
        scans = [single_lstm(block.scans, g, 1) for g in range(4)]
        row_sum = scans[0](rows) + scans[1](rows.flip(1)).flip(1)
        column_sum = scans[2](columns) + scans[3](columns.flip(1)).flip(1)
        expected = projected + row_sum.squeeze(2).permute(0, 3, 1, 2) + column_sum.squeeze(2).permute(0, 3, 2, 1)
        torch.testing.assert_close(block(x), expected)


def test_batched_scan_equals_scanning_each_element():
    torch.manual_seed(0)
    x = torch.randn(3, 4, 10, 7)
    lstm, block = ConvLSTM(1, 1, kernel_size=(3, 4), groups=1).eval(), ConvLSTMResBlock(4, 4).eval()
    with torch.no_grad():
        for module, inputs in ((lstm, rows_as_sequence(x)), (block, x)):
            separate = torch.cat([module(inputs[i : i + 1]) for i in range(3)])
            torch.testing.assert_close(module(inputs), separate)


def test_scan_steps_once_per_row_and_column_for_the_whole_batch():
    """The recurrence loops over rows and columns together: each step convolves every batch element, the four
    scans (rows and columns, both directions) and every pixel of a row or column at once, so a forward makes
    max(H, W) recurrent convolutions, never one per pixel."""
    calls: list[tuple[int, ...]] = []
    block = ConvLSTMResBlock(4, 3).eval()
    block.scans.recurrent_conv.register_forward_hook(lambda _, args, __: calls.append(tuple(args[0].shape)))
    with torch.no_grad():
        block(torch.randn(5, 4, 6, 9))
    assert len(calls) == max(6, 9)
    # a step's frames: the batch, the four scans, a padded row or column (9 long, padded to 11), the 3 classes padded
    assert set(calls) == {(5, 4, 11, 5)}


class _ElementsWritten(TorchDispatchMode):
    """Counts the elements of every tensor the ATen operators return."""

    def __init__(self) -> None:
        super().__init__()
        self.elements = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        self.elements += sum(t.numel() for t in tensors_in(out))
        return out


def _backward_elements(steps: int) -> int:
    torch.manual_seed(0)
    lstm = ConvLSTM(1, 2)
    out = lstm(torch.randn(2, steps, 1, 6, 6, requires_grad=True))
    with _ElementsWritten() as counter:
        out.sum().backward()
    return counter.elements


def test_backward_work_grows_linearly_with_the_sequence():
    """Each step's gradient goes to its own slice of the input gates: 4× the steps, about 4× the elements written
    in the backward pass (indexing one step at a time would write a whole-sequence gradient per step: 16×)."""
    assert _backward_elements(32) < 5 * _backward_elements(8)


def test_recurrent_dropout_only_in_training():
    torch.manual_seed(0)
    lstm = ConvLSTM(1, 2, recurrent_dropout=0.5)
    x = torch.randn(2, 6, 1, 5, 5)
    assert not torch.allclose(lstm(x), lstm(x))
    reference = ConvLSTM(1, 2).eval()  # same weights, no dropout
    reference.load_state_dict(lstm.state_dict())
    torch.testing.assert_close(lstm.eval()(x), reference(x))
