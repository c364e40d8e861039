"""Multi-level residual (residual-of-residual) wiring and the MLR block of MILDNet's skip connections.

Gudhe et al., "Multi-level dilated residual network for biomedical image segmentation", Scientific Reports 11,
14105 (2021), Eq. (1) and Fig. 3. https://doi.org/10.1038/s41598-021-93169-w
Zhang et al., "Residual networks of residual networks: multilevel residual networks", IEEE TCSVT 28, 2017.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext

import torch
from monai.networks.blocks import ADN, Convolution
from monai.networks.layers.factories import Conv
from torch import nn
from torch.utils.checkpoint import checkpoint

__all__ = ["MLRBlock", "MLRLevel", "MultiLevelResidual"]


@contextmanager
def _restored_buffers(module: nn.Module) -> Iterator[None]:
    """Undo buffer updates (BatchNorm running statistics) made inside the context."""
    saved = [buffer.clone() for buffer in module.buffers()]
    try:
        yield
    finally:  # also when the checkpoint stops the recomputation early by raising
        with torch.no_grad():
            for buffer, value in zip(module.buffers(), saved, strict=True):
                buffer.copy_(value)


class MultiLevelResidual(nn.Module):
    """Residual-of-residual wiring: a chain of residual levels plus an outer shortcut over the whole chain.

    With ``s`` the shortcut of the input ``x`` (identity, or a 1×1 conv when ``in_channels != out_channels``)::

        y_1 = s + F_1(x);   y_l = y_{l-1} + F_l(y_{l-1}) (l = 2..N);   out = y_N + s  (outer residual, N > 1 only)

    ``F_l`` are the ``levels``; the first maps ``in_channels`` to ``out_channels``, the others keep
    ``out_channels``. With ``post_activation`` every addition, the outer one included, is followed by it, as Eq. (1) of
    the paper writes (``x_{l+1} = f(y_l)``, f = ReLU); the MILDNet blocks do so by default. Without it the block is
    the pre-activation form of He et al. 2016: the levels are BN → ReLU → conv mappings, so the next level's BN → ReLU
    activates the sum. With a single level the outer shortcut would only duplicate the level's own, so it is left out
    ([choice]).

    Args:
        spatial_dims: number of spatial dimensions.
        in_channels: number of input channels.
        out_channels: number of output channels.
        levels: the residual mappings ``F_1 .. F_N`` (at least one).
        post_activation: the activation after each addition (Eq. (1)); None: none.
        gradient_checkpointing: in training mode, recompute the block in the backward pass instead of storing its
            activations (``torch.utils.checkpoint``); BatchNorm running statistics are updated once, as without
            it. Ignored by TorchScript, in eval mode and under ``torch.no_grad``.
    """

    def __init__(
        self,
        spatial_dims: int,
        in_channels: int,
        out_channels: int,
        levels: Sequence[nn.Module],
        gradient_checkpointing: bool = False,
        post_activation: nn.Module | None = None,
    ):
        super().__init__()
        if len(levels) < 1:
            raise ValueError(f"{type(self).__name__} needs at least one level, got {len(levels)}.")
        self.shortcut: nn.Module = nn.Identity()
        if in_channels != out_channels:
            self.shortcut = Conv[Conv.CONV, spatial_dims](in_channels, out_channels, kernel_size=1)
        self.levels = nn.ModuleList(levels)
        self.outer_residual = len(levels) > 1
        self.post_activation: nn.Module = nn.Identity() if post_activation is None else post_activation
        self.gradient_checkpointing = gradient_checkpointing

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.gradient_checkpointing and self.training and torch.is_grad_enabled() and not torch.jit.is_scripting():
            return self._checkpointed(x)
        return self._residual_of_residual(x)

    @torch.jit.unused
    def _checkpointed(self, x: torch.Tensor) -> torch.Tensor:
        """Run the block under ``torch.utils.checkpoint``, undoing the buffer updates of the recomputation."""
        return checkpoint(
            self._residual_of_residual,
            x,
            use_reentrant=False,
            context_fn=lambda: (nullcontext(), _restored_buffers(self)),
        )

    def _residual_of_residual(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = self.shortcut(x)
        y, residual = x, shortcut
        for level in self.levels:
            y = self.post_activation(residual + level(y))
            residual = y
        if self.outer_residual:
            y = self.post_activation(y + shortcut)
        return y


class MLRLevel(nn.Sequential):
    """Residual mapping of one MLR level: BN → ReLU → conv3×3 → BN → ReLU → conv3×3 (convs with bias, [choice]).

    Args:
        spatial_dims: number of spatial dimensions.
        channels: number of input and output channels.
        act: activation type and arguments.
        norm: feature normalization type and arguments.
    """

    def __init__(self, spatial_dims: int, channels: int, act: str | tuple = "relu", norm: str | tuple = "batch"):
        super().__init__()
        self.preact = ADN("NA", channels, act=act, norm=norm, norm_dim=spatial_dims)
        self.conv1 = Convolution(spatial_dims, channels, channels, act=act, norm=norm, adn_ordering="NA")
        self.conv2 = Convolution(spatial_dims, channels, channels, conv_only=True)


class MLRBlock(MultiLevelResidual):
    """MLR block: multi-level residual block placed on every MILDNet skip connection before the concatenation.

    ``levels`` :class:`MLRLevel` residual levels (two 3×3 convs, each preceded by BN → ReLU) and an outer residual
    over all of them (see :class:`MultiLevelResidual`); the channel count is kept.

    Gudhe et al., "Multi-level dilated residual network for biomedical image segmentation", Scientific Reports 11,
    2021, Fig. 3.

    Args:
        spatial_dims: number of spatial dimensions.
        channels: number of input and output channels.
        levels: number of residual levels (2 in the paper).
        act: activation type and arguments.
        norm: feature normalization type and arguments.
        gradient_checkpointing: recompute the block in the backward pass (training only), see
            :class:`MultiLevelResidual`.
        post_activation: ``act`` after every residual addition, as Eq. (1); False: the pre-activation form (see
            :class:`MultiLevelResidual`).
    """

    def __init__(
        self,
        spatial_dims: int,
        channels: int,
        levels: int = 2,
        act: str | tuple = "relu",
        norm: str | tuple = "batch",
        gradient_checkpointing: bool = False,
        post_activation: bool = True,
    ):
        mappings = [MLRLevel(spatial_dims, channels, act, norm) for _ in range(levels)]
        activation = ADN("A", act=act) if post_activation else None
        super().__init__(spatial_dims, channels, channels, mappings, gradient_checkpointing, activation)
