"""Sliding-window inference that stitches only the centre of every window ("patch with context").

Kurian, Lohan et al., "Deep Multi-Scale U-Net Architecture and Label-Noise Robust Training Strategies for
Histopathological Image Segmentation", Sections I, III-D to III-F: whole-slide images predicted patch-wise (1024 px
patches, 50 % overlap) and stitched from the centre crops. Gudhe et al., "Multi-level dilated residual network for
biomedical image segmentation", Scientific Reports 11, 14105 (2021): 256×256 patches with 16 px padding.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from monai.inferers import SlidingWindowInferer
from monai.utils import PytorchPadMode, ensure_tuple_rep, look_up_option

__all__ = ["CenterCropSlidingWindowInferer"]

NetworkOutput = torch.Tensor | tuple[torch.Tensor, ...] | dict[Any, torch.Tensor]


class CenterCropSlidingWindowInferer(SlidingWindowInferer):
    """``SlidingWindowInferer`` that predicts windows with context and keeps only each window's centre crop.

    The network sees windows of ``roi_size``; the outer ``margin`` of every window is context whose prediction is
    discarded: the ROI weight map is 1 on the centre crop (``roi_size - 2 * margin``) and ``margin_weight`` on the
    margin, so where a window centre covers a voxel only centres count (up to ``margin_weight``), and a voxel no
    centre covers still gets the margin predictions instead of a division by zero. The input is first padded by
    ``margin`` (``padding_mode``, reflection by default), so the image border lies in window centres and has context;
    the output is cropped back to the input size (scaled if the network changes the spatial size).

    Args:
        roi_size: window the network sees (patch plus context on each side), one size per spatial dimension.
        margin: context discarded on each side of a window, per dimension or one for all.
        overlap: overlap of adjacent windows as a fraction of ``roi_size`` (MONAI's meaning), per dimension or one
            for all. ``None``: windows step by exactly the centre size, so that the centre crops tile the image.
            Centre crops must leave no gap: ``int(roi_size * (1 - overlap)) <= roi_size - 2 * margin``.
        margin_weight: weight (> 0) of the margin predictions relative to the centre ones.
        sw_batch_size: the batch size to run window slices.
        padding_mode: ``torch.nn.functional.pad`` mode for the margin padding and for padding inputs smaller than a
            window. ``"reflect"`` needs each padding to be smaller than the padded size.
        cval: fill value for ``"constant"`` padding.
        sw_device: device for the window data (default: the device of the inputs).
        device: device for the stitched output (default: the device of the inputs).
        progress: whether to print a ``tqdm`` progress bar.
        cpu_thresh: stitch on cpu when the padded input has more voxels than this.
        buffer_steps: number of sliding-window iterations along ``buffer_dim`` buffered on ``sw_device``.
        buffer_dim: spatial dimension along which buffers are created.
        with_coord: whether to pass the window coordinates (in the margin-padded input) to the network.

    Raises:
        ValueError: when ``roi_size`` has non-positive entries, the margins leave no centre, ``margin_weight`` is not
            positive or ``overlap`` leaves gaps between centre crops.
    """

    def __init__(
        self,
        roi_size: Sequence[int],
        margin: Sequence[int] | int,
        overlap: Sequence[float] | float | None = None,
        margin_weight: float = 1e-6,
        sw_batch_size: int = 1,
        padding_mode: PytorchPadMode | str = PytorchPadMode.REFLECT,
        cval: float = 0.0,
        sw_device: torch.device | str | None = None,
        device: torch.device | str | None = None,
        progress: bool = False,
        cpu_thresh: int | None = None,
        buffer_steps: int | None = None,
        buffer_dim: int = -1,
        with_coord: bool = False,
    ) -> None:
        roi_size = tuple(roi_size)
        margin = ensure_tuple_rep(margin, len(roi_size))
        center = tuple(r - 2 * m for r, m in zip(roi_size, margin, strict=True))
        if min(roi_size) <= 0 or min(margin) < 0 or min(center) <= 0:
            raise ValueError(f"roi_size {roi_size} must be positive and larger than twice the margin {margin}.")
        if margin_weight <= 0:
            raise ValueError(f"margin_weight must be positive, got {margin_weight}.")
        if overlap is None:
            # step = int(roi * (1 - overlap)) = roi - 2 * margin, half a voxel away from float rounding
            overlap = tuple(max(2 * m - 0.5, 0) / r for r, m in zip(roi_size, margin, strict=True))
        overlap = ensure_tuple_rep(overlap, len(roi_size))
        steps = tuple(int(r * (1 - o)) for r, o in zip(roi_size, overlap, strict=True))
        if any(s > c for s, c in zip(steps, center, strict=True)):
            raise ValueError(
                f"overlap {overlap} steps windows by {steps}, more than their centre {center}: the centre crops "
                f"would leave gaps; use overlap >= 2 * margin / roi_size."
            )
        super().__init__(
            roi_size=roi_size,
            sw_batch_size=sw_batch_size,
            overlap=overlap,
            padding_mode=padding_mode,
            cval=cval,
            sw_device=sw_device,
            device=device,
            progress=progress,
            cpu_thresh=cpu_thresh,
            buffer_steps=buffer_steps,
            buffer_dim=buffer_dim,
            with_coord=with_coord,
        )
        self.margin = margin
        self.margin_weight = margin_weight
        self.roi_weight_map = torch.full(roi_size, margin_weight)
        self.roi_weight_map[tuple(slice(m, r - m) for r, m in zip(roi_size, margin, strict=True))] = 1.0

    def __call__(
        self,
        inputs: torch.Tensor,
        network: Callable[..., NetworkOutput],
        *args: Any,
        **kwargs: Any,
    ) -> NetworkOutput:
        """
        Args:
            inputs: input batch (N, C, spatial...).
            network: model (or callable) run on each window.
            args: optional args passed to ``network``.
            kwargs: optional keyword args passed to ``network`` (a ``condition`` tensor is padded like ``inputs``).
        """
        if kwargs.get("condition") is not None:
            kwargs["condition"] = self._pad(kwargs["condition"])
        padded = self._pad(inputs)  # a MetaTensor keeps its metadata, which the stitched outputs receive
        return self._crop(super().__call__(padded, network, *args, **kwargs), padded.shape[2:])

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        pad = [p for m in reversed(self.margin) for p in (m, m)]
        return F.pad(x, pad, mode=look_up_option(self.padding_mode, PytorchPadMode), value=self.cval)

    def _crop(self, outputs: NetworkOutput, padded_size: Sequence[int]) -> NetworkOutput:
        """Remove the margin padding from every output, scaled by the output's size relative to the input's."""
        if isinstance(outputs, Mapping):
            return {k: self._crop(v, padded_size) for k, v in outputs.items()}
        if isinstance(outputs, tuple):
            return tuple(self._crop(v, padded_size) for v in outputs)
        crop = []
        for m, n_in, n_out in zip(self.margin, padded_size, outputs.shape[2:], strict=True):
            m_out = round(m * n_out / n_in)
            crop.append(slice(m_out, n_out - m_out))
        return outputs[(slice(None), slice(None), *crop)]
