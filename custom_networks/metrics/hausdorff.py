"""Hausdorff distance whose undefined cases (an empty mask on one side) are left out of the mean, not infinite."""

from __future__ import annotations

import torch
from monai.metrics import HausdorffDistanceMetric

__all__ = ["FiniteHausdorffDistanceMetric"]


class FiniteHausdorffDistanceMetric(HausdorffDistanceMetric):
    """:class:`monai.metrics.HausdorffDistanceMetric` with ``inf`` (prediction or ground truth empty) recorded as NaN.

    MONAI returns ``inf`` when exactly one of prediction and ground truth is empty, which makes the mean over cases
    infinite. Recorded as NaN, such a case is excluded from the reduction like any other undefined value, and counted:
    ``MetricsSaver``'s ``notnans`` summary gives the number of cases the mean covers, and the per-case CSV shows
    ``nan`` for the others. Use it through ``monai.handlers.IgniteMetricHandler``; arguments as the parent's.
    """

    def _compute_tensor(self, y_pred: torch.Tensor, y: torch.Tensor, **kwargs) -> torch.Tensor:  # type: ignore[override]
        distances = super()._compute_tensor(y_pred, y, **kwargs)
        return torch.where(torch.isinf(distances), torch.full_like(distances, float("nan")), distances)
