"""Behavioural checks shared by the network tests: scripting, ONNX, gradients, training, parameter counts."""

import math
from pathlib import Path

import torch
from torch import nn

__all__ = [
    "BAD_2D_INPUTS_2_CHANNELS_MULTIPLE_16",
    "assert_gradients_reach_every_parameter",
    "assert_loss_falls",
    "assert_onnx_roundtrip",
    "assert_torchscript_roundtrip",
    "assert_xavier_initialized",
]


# (input shape, expected message) that a 2-D network with 2 input channels and input multiple 16 must reject.
BAD_2D_INPUTS_2_CHANNELS_MULTIPLE_16 = [
    ((1, 2, 32, 40), "multiple of 16"),
    ((1, 2, 8, 32), "multiple of 16"),
    ((1, 3, 32, 32), "expects 2 input channels"),
    ((1, 2, 32, 32, 32), "expects a 4-D input"),
    ((2, 32, 32), "expects a 4-D input"),
]


def assert_torchscript_roundtrip(net: nn.Module, x: torch.Tensor, tmp_path: Path) -> None:
    """Script, save and reload the network; the reloaded module gives the eager outputs."""
    net = net.eval()
    path = tmp_path / "net.ts"
    torch.jit.script(net).save(str(path))
    loaded = torch.jit.load(str(path))
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), net(x), rtol=1e-4, atol=1e-5)


def assert_onnx_roundtrip(net: nn.Module, x: torch.Tensor, tmp_path: Path) -> None:
    """Export to ONNX and run it with onnxruntime; the outputs match the eager ones."""
    import onnxruntime

    net = net.eval()
    path = tmp_path / "net.onnx"
    torch.onnx.export(net, (x,), str(path), dynamo=True, verbose=False)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    with torch.no_grad():
        torch.testing.assert_close(torch.from_numpy(out), net(x), rtol=1e-3, atol=1e-4)


def assert_gradients_reach_every_parameter(net: nn.Module, x: torch.Tensor) -> None:
    """A backward pass through the sum of the outputs gives every parameter a non-zero gradient."""
    net = net.train()
    net.zero_grad()
    out = net(x)
    (out * torch.randn_like(out)).sum().backward()
    missing = [n for n, p in net.named_parameters() if p.requires_grad and (p.grad is None or not p.grad.abs().sum())]
    assert not missing, f"no gradient reaches: {missing}"


def assert_loss_falls(net: nn.Module, x: torch.Tensor, target: torch.Tensor, steps: int = 10, lr: float = 1e-2) -> None:
    """A few Adam steps on one synthetic batch lower the loss (BCE for one output channel, CE otherwise)."""
    torch.manual_seed(0)
    net = net.train()
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    if target.shape[1] == 1:
        loss_fn = nn.BCEWithLogitsLoss()
    else:
        loss_fn = lambda logits, t: nn.functional.cross_entropy(logits, t.argmax(1))  # noqa: E731
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(net(x), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0], f"loss did not fall: {losses}"


def assert_xavier_initialized(conv: nn.Module) -> None:
    """Zero bias and a kernel within the ``nn.init.xavier_uniform_`` bound sqrt(6 / (fan_in + fan_out)), the fans
    counted as torch does for a kernel (dim 0, dim 1, *window): fan_in = dim 1 × window, fan_out = dim 0 × window."""
    window = conv.weight[0, 0].numel()
    fan_in, fan_out = conv.weight.shape[1] * window, conv.weight.shape[0] * window
    assert conv.weight.abs().max() <= math.sqrt(6 / (fan_in + fan_out))
    assert not conv.bias.any()
