"""Test-time augmentation by mirroring: the prediction averaged over flipped copies of the input."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from monai.inferers import Inferer

__all__ = ["FlipEnsembleInferer"]


class FlipEnsembleInferer(Inferer):
    """Wraps an inferer (e.g. ``SlidingWindowInferer``): runs it on the input and on its mirror images along each
    entry of ``flip_axes``, flips every output back and returns the mean of the network outputs (logits).

    With ``flip_axes=()`` it is the wrapped inferer unchanged, so a bundle switches test-time flips on and off with
    one list. Mirroring is the test-time augmentation of the BraTS challenge winners (Isensee et al., "nnU-Net for
    Brain Tumor Segmentation", BrainLes 2020, Sec. 2.4).

    Args:
        inferer: the inferer to run on every flipped copy.
        flip_axes: spatial axes to mirror, one entry per extra copy: an int (one axis) or a sequence (several axes
            at once); axis 0 is the first spatial dimension.

    Raises:
        ValueError: an axis is negative.
    """

    def __init__(self, inferer: Inferer, flip_axes: Sequence[int | Sequence[int]] = ()) -> None:
        super().__init__()
        self.inferer = inferer
        self.flip_axes = [(a,) if isinstance(a, int) else tuple(a) for a in flip_axes]
        if any(a < 0 for axes in self.flip_axes for a in axes):
            raise ValueError(f"flip_axes must be spatial axes >= 0, got {list(flip_axes)}.")

    def __call__(
        self, inputs: torch.Tensor, network: Callable[..., torch.Tensor], *args: Any, **kwargs: Any
    ) -> torch.Tensor:
        """
        Args:
            inputs: input batch (N, C, spatial...).
            network: model run by the wrapped inferer.
            args, kwargs: passed to the wrapped inferer.
        """
        total = self.inferer(inputs, network, *args, **kwargs)
        for axes in self.flip_axes:
            if max(axes) >= inputs.ndim - 2:
                raise ValueError(f"flip axes {axes} do not exist in a {inputs.ndim - 2}-D input.")
            dims = [a + 2 for a in axes]
            total = total + torch.flip(self.inferer(torch.flip(inputs, dims), network, *args, **kwargs), dims)
        return total / (len(self.flip_axes) + 1)
