"""Parameter counts of a network, in the PyTorch and the Keras convention."""

from torch import nn

__all__ = ["count_parameters"]


def count_parameters(net: nn.Module) -> tuple[int, int]:
    """Return (trainable parameters, trainable + BatchNorm running mean/var values), the Keras "total" convention.

    Keras counts BatchNorm moving mean and variance as (non-trainable) parameters, so papers with Keras code report
    the second number as their model's parameter count.
    """
    trainable = sum(p.numel() for p in net.parameters() if p.requires_grad)
    running = sum(b.numel() for name, b in net.named_buffers() if name.endswith(("running_mean", "running_var")))
    return trainable, trainable + running
