"""Channels-last memory format for a network's convolutions, switched on from a bundle config."""

import weakref

import torch
from torch import nn

__all__ = ["is_channels_last", "to_channels_last"]

_FORMATS = {4: torch.channels_last, 5: torch.channels_last_3d}
_CONVOLUTIONS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
_converted: weakref.WeakSet[nn.Module] = weakref.WeakSet()  # the networks to_channels_last switched


def _channels_last(tensor: torch.Tensor) -> torch.Tensor:
    """A channels-last copy with explicit channels-last strides.

    ``tensor.contiguous(memory_format=...)`` returns a tensor whose strides fit both layouts (a 1×1 kernel, a single
    channel) unchanged, and a convolution with such a kernel and a contiguous input then picks the contiguous layout.
    """
    return torch.empty_like(tensor, memory_format=_FORMATS[tensor.ndim]).copy_(tensor)


def _inputs_channels_last(module: nn.Module, args: tuple) -> tuple:
    """Forward pre-hook: the 4-D / 5-D tensor inputs converted to channels-last (a no-op where they already are)."""
    return tuple(
        a.contiguous(memory_format=_FORMATS[a.ndim]) if isinstance(a, torch.Tensor) and a.ndim in _FORMATS else a
        for a in args
    )


def _float32(tensor: torch.Tensor) -> bool:
    """A convolution of ``tensor`` computes in float32: no autocast on its device and a float32 input."""
    return tensor.dtype == torch.float32 and not torch.is_autocast_enabled(tensor.device.type)


def _inputs_channels_last_in_float32(module: nn.Module, args: tuple) -> tuple:
    """Forward pre-hook of a grouped dilated convolution: its tensor inputs channels-last where it computes in
    float32, contiguous where it computes in reduced precision (autocast or a half-precision input), see
    :func:`_grouped_dilated`."""
    return tuple(
        (a.contiguous(memory_format=_FORMATS[a.ndim]) if _float32(a) else a.contiguous())
        if isinstance(a, torch.Tensor) and a.ndim in _FORMATS
        else a
        for a in args
    )


def _grouped_dilated(module: nn.Module) -> bool:
    """A grouped (e.g. depthwise) and dilated convolution.

    In bfloat16 on the CPU (PyTorch 2.13), the weight gradient of such a convolution comes out wrong, NaN, or the
    process crashes, as soon as its input or its kernel is channels-last (Res-CR-Net's atrous depthwise
    convolutions); contiguous, it is right, and in float32 channels-last is right and faster on the CPU
    (``docs/performance.md``).
    So its kernel stays contiguous (a channels-last input alone selects the channels-last kernels) and its input is
    made channels-last only where it computes in float32. ``tests/nets/test_memory_format.py`` checks the gradients.
    """
    return isinstance(module, _CONVOLUTIONS) and module.groups > 1 and any(d > 1 for d in module.dilation)


def to_channels_last(net: nn.Module, enabled: bool = True) -> nn.Module:
    """Store the 4-D and 5-D parameters of ``net`` (its 2-D / 3-D convolution kernels) channels-last, in place, and
    convert its 4-D / 5-D inputs to channels-last at every call (a forward pre-hook).

    With the kernels and the input channels-last, the convolutions, normalizations, poolings, upsamplings,
    concatenations and residual sums keep the format, so it runs through the network without further conversions
    (an ordinary input and channels-last kernels alone are not enough: a 1×1 convolution or a normalization of the
    input keeps the contiguous layout, and mixed layouts then meet in the sums). On the CPU this speeds up training of
    the 2-D encoder–decoder networks (``docs/performance.md``); outputs are unchanged up to floating-point rounding.
    Grouped and dilated convolutions keep contiguous kernels and run contiguous in reduced precision, because of a
    PyTorch bug in their bfloat16 weight gradients (:func:`_grouped_dilated`); the next convolution brings the format
    back.
    The state dict is unchanged (same keys and values), so checkpoints load either way; applying it twice adds no
    second hook. With ``enabled=False`` the network is returned unchanged.

    Returns:
        ``net``.
    """
    if not enabled:
        return net
    first = not is_channels_last(net)
    for module in net.modules():
        exempt = _grouped_dilated(module)
        if exempt and first:
            module.register_forward_pre_hook(_inputs_channels_last_in_float32)
        for param in module.parameters(recurse=False):
            if param.ndim in _FORMATS and not exempt:
                param.data = _channels_last(param.data)
    if first and not _grouped_dilated(net):
        net.register_forward_pre_hook(_inputs_channels_last)
    _converted.add(net)
    return net


def is_channels_last(net: nn.Module) -> bool:
    """Whether :func:`to_channels_last` switched ``net`` (``enabled=True``) to the channels-last format.

    The record is kept here, not on the module: a copy of a switched network (``copy.deepcopy``, pickling) keeps its
    kernels' layout and its hooks but is not recorded, and switching the copy adds its hooks again (no-ops).
    """
    return net in _converted
