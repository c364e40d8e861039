"""Metrics MONAI lacks for per-case reports: confusion-matrix scores per case, Hausdorff without infinities."""

from .confusion import PerCaseConfusionMatrixMetric
from .hausdorff import FiniteHausdorffDistanceMetric

__all__ = ["FiniteHausdorffDistanceMetric", "PerCaseConfusionMatrixMetric"]
