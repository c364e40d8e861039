"""Per-case confusion-matrix scores (precision, recall, F1, …) that MONAI's ``MetricsSaver`` can write per case."""

from __future__ import annotations

import torch
from monai.metrics import CumulativeIterationMetric
from monai.metrics.confusion_matrix import compute_confusion_matrix_metric, get_confusion_matrix
from monai.utils import MetricReduction

from custom_networks.metrics.reduction import reduce_defined

__all__ = ["PerCaseConfusionMatrixMetric"]


class PerCaseConfusionMatrixMetric(CumulativeIterationMetric):
    """A confusion-matrix score (``"precision"``, ``"recall"``, ``"f1 score"``, … in MONAI's names) per case, class.

    MONAI's :class:`monai.metrics.ConfusionMatrixMetric` buffers raw confusion matrices, so its per-case details
    cannot be written by ``MetricsSaver``; this metric buffers the score of every case instead (``(cases, classes)``,
    NaN where the score is undefined, e.g. precision of an empty prediction) and reduces over the defined ones.
    Use it through ``monai.handlers.IgniteMetricHandler``.

    Args:
        metric_name: a score name accepted by :func:`monai.metrics.confusion_matrix.compute_confusion_matrix_metric`.
        include_background: whether to score the first channel.
        reduction: reduction over cases and classes (NaN excluded), see :class:`monai.utils.MetricReduction`.
    """

    def __init__(
        self, metric_name: str, include_background: bool = True, reduction: MetricReduction | str = MetricReduction.MEAN
    ) -> None:
        super().__init__()
        self.metric_name = metric_name
        self.include_background = include_background
        self.reduction = reduction

    def _compute_tensor(self, y_pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        """Scores ``(batch, classes)`` of binarised one-hot predictions ``y_pred`` against one-hot ``y``."""
        matrix = get_confusion_matrix(y_pred, y, include_background=self.include_background)
        return compute_confusion_matrix_metric(self.metric_name, matrix)

    def aggregate(self, reduction: MetricReduction | str | None = None) -> torch.Tensor:
        """The reduction over cases and classes, NaN where it covers no defined value."""
        return reduce_defined(self.get_buffer(), reduction or self.reduction)[0]
