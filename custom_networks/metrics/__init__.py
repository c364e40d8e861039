"""Metrics MONAI lacks for per-case reports: confusion-matrix scores per case, Hausdorff without infinities."""

from custom_networks.metrics.confusion import PerCaseConfusionMatrixMetric
from custom_networks.metrics.hausdorff import FiniteHausdorffDistanceMetric

__all__ = ["FiniteHausdorffDistanceMetric", "PerCaseConfusionMatrixMetric"]
