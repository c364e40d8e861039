"""Hausdorff distance whose undefined cases (an empty mask on one side) are left out of the mean, not infinite, and
whose mean over no defined case is undefined (NaN), not 0."""

from __future__ import annotations

import torch
from monai.metrics import HausdorffDistanceMetric
from monai.utils import MetricReduction

from custom_networks.metrics.reduction import reduce_defined

__all__ = ["FiniteHausdorffDistanceMetric"]


class FiniteHausdorffDistanceMetric(HausdorffDistanceMetric):
    """:class:`monai.metrics.HausdorffDistanceMetric` with ``inf`` (prediction or ground truth empty) recorded as NaN.

    MONAI returns ``inf`` when exactly one of prediction and ground truth is empty, which makes the mean over cases
    infinite. Recorded as NaN, such a case is excluded from the reduction like any other undefined value, and counted:
    ``MetricsSaver``'s ``notnans`` summary gives the number of cases the mean covers, and the per-case CSV shows
    ``nan`` for the others. Use it through ``monai.handlers.IgniteMetricHandler``; arguments as the parent's. The
    buffer itself keeps MONAI's ``inf``; :meth:`get_buffer`, which MONAI's ``aggregate`` and the handler read, turns
    it into NaN. A reduction over cases none of which is defined is NaN (MONAI's gives 0, which reads as a perfect
    score in ``metrics.csv``).
    """

    def get_buffer(self) -> torch.Tensor | list[torch.Tensor] | None:
        """The per-case distances with ``inf`` recorded as NaN: what ``aggregate`` reduces and what
        ``IgniteMetricHandler`` saves as the per-case details."""
        buffer = super().get_buffer()
        if isinstance(buffer, torch.Tensor):
            return torch.where(torch.isinf(buffer), torch.full_like(buffer, float("nan")), buffer)
        return buffer

    def aggregate(
        self, reduction: MetricReduction | str | None = None
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """MONAI's reduction of :meth:`get_buffer`, NaN where it covers no defined case."""
        reduced, not_nans = reduce_defined(self.get_buffer(), reduction or self.reduction)
        return (reduced, not_nans) if self.get_not_nans else reduced
