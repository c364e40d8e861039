"""Metrics MONAI lacks for per-case reports: confusion-matrix scores per case, Hausdorff without infinities,
object-level scores of nuclei (F1 at IoU 0.5, DSB mean average precision, AJI), Res-CR-Net's Tanimoto coefficient."""

from custom_networks.metrics.confusion import PerCaseConfusionMatrixMetric
from custom_networks.metrics.hausdorff import FiniteHausdorffDistanceMetric
from custom_networks.metrics.objects import ObjectMetric, object_scores
from custom_networks.metrics.tanimoto import TanimotoMetric

__all__ = [
    "FiniteHausdorffDistanceMetric",
    "ObjectMetric",
    "PerCaseConfusionMatrixMetric",
    "TanimotoMetric",
    "object_scores",
]
