"""The reduction of per-case metric values in which undefined cases (NaN) are left out, and a mean over none is NaN."""

from __future__ import annotations

import torch
from monai.metrics import do_metric_reduction
from monai.utils import MetricReduction

__all__ = ["reduce_defined"]


def reduce_defined(
    data: torch.Tensor | list[torch.Tensor] | None, reduction: MetricReduction | str
) -> tuple[torch.Tensor, torch.Tensor]:
    """MONAI's ``do_metric_reduction`` of a metric's buffer (NaN left out), with NaN where the reduction covers no
    defined value: MONAI gives 0 there, which reads as a score in ``metrics.csv`` (a Hausdorff distance of 0 when
    every prediction was empty). Returns (reduced values, number of defined values)."""
    if not isinstance(data, torch.Tensor):
        raise ValueError("the data to aggregate must be a PyTorch Tensor.")
    reduced, not_nans = do_metric_reduction(data, reduction)
    return torch.where(not_nans > 0, reduced, torch.full_like(reduced, float("nan"))), not_nans
