"""Channels-last kernels and inputs: the format reaches every convolution and the output, the values stay the same."""

import copy

import pytest
import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from custom_networks.nets import MILDNet, MultiResUNet, ResCRNet, is_channels_last, to_channels_last

SMALL = (4, 8, 16, 32, 64)
FORMATS = {2: torch.channels_last, 3: torch.channels_last_3d}
ENCODER_DECODERS = {
    "mildnet": lambda dims: MILDNet(dims, 2, 3, features=SMALL),
    # wide enough that no MultiRes branch has a single channel (whose layout is both contiguous and channels-last)
    "multiresunet": lambda dims: MultiResUNet(dims, 2, 3, features=(8, 16, 32, 64, 128)),
}
SIZES = {2: (32, 48), 3: (16, 16, 32)}
CONVS = (nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.ConvTranspose3d)


def _pair(make, *args) -> tuple[nn.Module, nn.Module]:
    """(contiguous network, channels-last copy with the same weights)."""
    torch.manual_seed(0)
    net = make(*args)
    return net, to_channels_last(copy.deepcopy(net))


def _record_conv_outputs(net: nn.Module) -> list[torch.Tensor]:
    """Outputs of every convolution with more than one output channel (one channel fits both layouts)."""
    outputs: list[torch.Tensor] = []
    for module in net.modules():
        if isinstance(module, CONVS) and module.out_channels > 1:
            module.register_forward_hook(lambda module, args, output: outputs.append(output))
    return outputs


@pytest.fixture
def two_threads():
    """Two torch threads, as the bundles run on this machine: with one, torch's 1×1×1 3-D convolution returns a
    contiguous output from a channels-last input (its kernel choice, not the network's layout)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("spatial_dims", [2, 3])
@pytest.mark.parametrize("name", ENCODER_DECODERS)
def test_channels_last_throughout_with_the_same_output(name, spatial_dims, two_threads):
    net, net_cl = _pair(ENCODER_DECODERS[name], spatial_dims)
    fmt = FORMATS[spatial_dims]
    kernels = [p for p in net_cl.parameters() if p.ndim == spatial_dims + 2]
    assert kernels and all(p.is_contiguous(memory_format=fmt) for p in kernels)
    assert any(not p.is_contiguous() for p in kernels)  # 1x1 kernels are both; the others changed layout
    activations = _record_conv_outputs(net_cl)
    x = torch.rand(2, 2, *SIZES[spatial_dims])  # an ordinary contiguous input
    with torch.no_grad():
        reference, out = net.eval()(x), net_cl.eval()(x)
    assert len(activations) > 10
    assert all(a.is_contiguous(memory_format=fmt) and not a.is_contiguous() for a in activations)
    assert out.is_contiguous(memory_format=fmt) and not out.is_contiguous()
    # untrained MILDNet outputs reach thousands: within 1e-5 of the output's scale
    torch.testing.assert_close(out, reference, rtol=0, atol=1e-5 * max(1.0, reference.abs().max().item()))


def test_disabled_leaves_the_network_untouched():
    torch.manual_seed(0)
    net = MILDNet(2, 2, 3, features=SMALL)
    before = {name: (p.data_ptr(), p.stride()) for name, p in net.named_parameters()}
    assert to_channels_last(net, enabled=False) is net and not is_channels_last(net)
    assert {name: (p.data_ptr(), p.stride()) for name, p in net.named_parameters()} == before
    assert all(p.is_contiguous() for p in net.parameters())
    x = torch.rand(1, 2, 32, 32)
    assert net(x).is_contiguous()


def test_same_state_dict_and_checkpoints_load_channels_last():
    torch.manual_seed(0)
    net = MultiResUNet(2, 2, 3, features=SMALL)
    state = copy.deepcopy(net.state_dict())
    assert not is_channels_last(net)
    assert to_channels_last(net) is net and is_channels_last(net)
    assert list(net.state_dict()) == list(state)
    for name, value in net.state_dict().items():
        torch.testing.assert_close(value, state[name], rtol=0, atol=0)  # same values, only the layout changes
        if value.ndim != 4:
            assert value.is_contiguous(), name
    # a checkpoint saved from a contiguous network loads into the channels-last one and keeps its layout
    torch.manual_seed(1)
    other = MultiResUNet(2, 2, 3, features=SMALL).state_dict()
    net.load_state_dict(other)
    for name, param in net.named_parameters():
        torch.testing.assert_close(param.data, other[name], rtol=0, atol=0)
        if param.ndim == 4:
            assert param.is_contiguous(memory_format=torch.channels_last), name


class _ContiguousCalls(TorchFunctionMode):
    """Counts the ``Tensor.contiguous`` calls (the input conversions of the channels-last hooks) under it."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.count += func is torch.Tensor.contiguous
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("dilation", [1, 2], ids=["conv", "grouped_dilated_conv"])
def test_applying_twice_converts_inputs_once(dilation):
    """Twice: one input conversion per call, for a network and for a grouped dilated convolution (its own hook)."""
    net = nn.Conv2d(4, 4, 3, dilation=dilation, groups=2)
    to_channels_last(to_channels_last(net))
    assert is_channels_last(net)
    with _ContiguousCalls() as calls:
        net(torch.rand(1, 4, 8, 8))
    assert calls.count == 1


def test_copies_are_not_recorded():
    net = to_channels_last(nn.Sequential(nn.Conv2d(2, 4, 3)))
    assert is_channels_last(net) and not is_channels_last(copy.deepcopy(net)) and not is_channels_last(net[0])


def test_rescrnet_trains_channels_last():
    """Res-CR-Net's ConvLSTM permutes and reshapes its activations: forward and backward in training mode (batch
    statistics, dropout off so that both runs are deterministic) give the contiguous network's outputs and
    gradients, and channels-last gradients for the channels-last kernels; in float32 the depthwise atrous
    convolutions get channels-last inputs."""
    net, net_cl = _pair(
        lambda: ResCRNet(3, 4, filters=4, num_conv_blocks=2, num_lstm_blocks=1, dropout=0.0, lstm_dropout=0.0)
    )
    depthwise_inputs: list[torch.Tensor] = []
    for module in net_cl.modules():
        if isinstance(module, nn.Conv2d) and module.groups > 1 and module.dilation[0] > 1:
            module.register_forward_hook(lambda module, args, output: depthwise_inputs.append(args[0]))
    x, target = torch.rand(2, 3, 24, 20), torch.randint(0, 4, (2, 24, 20))
    results = []
    for model in (net, net_cl):
        model.train()
        out = model(x)
        nn.functional.cross_entropy(out, target).backward()
        results.append((out, {n: p.grad for n, p in model.named_parameters()}))
    (reference, grads), (out, grads_cl) = results
    assert out.is_contiguous(memory_format=torch.channels_last)
    # in float32 the atrous depthwise convolutions run channels-last too (their fast layout on the CPU)
    assert depthwise_inputs and all(
        a.is_contiguous(memory_format=torch.channels_last) and not a.is_contiguous() for a in depthwise_inputs
    )
    torch.testing.assert_close(out, reference, rtol=0, atol=1e-5)
    assert len(grads_cl) == len(grads)
    for name, grad in grads_cl.items():
        assert grad is not None and torch.isfinite(grad).all(), name
        torch.testing.assert_close(grad, grads[name], rtol=1e-4, atol=1e-5, msg=name)
        if grad.ndim == 4:
            assert grad.is_contiguous(memory_format=torch.channels_last), name


def test_rescrnet_bf16_gradients_channels_last():
    """bf16 autocast on the CPU: the channels-last Res-CR-Net gets the contiguous network's gradients up to bf16
    rounding. Its atrous depthwise convolutions stay contiguous in bf16, kernel and input: channels-last, PyTorch 2.13
    gives them wrong or NaN weight gradients in bf16, or crashes (``_grouped_dilated``)."""
    net, net_cl = _pair(lambda: ResCRNet(3, 3, filters=8, num_conv_blocks=2, dropout=0.0, lstm_dropout=0.0))
    depthwise = {
        n: m for n, m in net_cl.named_modules() if isinstance(m, nn.Conv2d) and m.groups > 1 and m.dilation[0] > 1
    }
    originals = dict(net.named_modules())
    assert depthwise and all(m.weight.stride() == originals[n].weight.stride() for n, m in depthwise.items())
    depthwise = list(depthwise.values())
    inputs: list[torch.Tensor] = []
    depthwise[0].register_forward_hook(lambda module, args, output: inputs.append(args[0]))
    x, target = torch.rand(4, 3, 32, 32), torch.randint(0, 3, (4, 32, 32))
    grads = []
    for model in (net, net_cl):
        model.train()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = model(x)
        nn.functional.cross_entropy(out.float(), target).backward()
        grads.append({n: p.grad for n, p in model.named_parameters()})
    assert inputs and inputs[0].is_contiguous()
    assert out.is_contiguous(memory_format=torch.channels_last)
    for name, grad in grads[1].items():
        assert torch.isfinite(grad).all(), name
        if grad.ndim == 4:  # kernels (biases before a norm have ~0 gradients, bf16 noise alone)
            reference = grads[0][name]
            torch.testing.assert_close(grad, reference, rtol=0, atol=0.05 * reference.abs().max().item(), msg=name)
