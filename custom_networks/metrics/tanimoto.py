"""Res-CR-Net's headline score, the Tanimoto coefficient with complement, per case and class for the evaluation."""

from __future__ import annotations

import torch
from monai.metrics import CumulativeIterationMetric
from monai.utils import MetricReduction

from custom_networks.losses.tanimoto import TanimotoLoss
from custom_networks.metrics.reduction import reduce_defined

__all__ = ["TanimotoMetric"]


class TanimotoMetric(CumulativeIterationMetric):
    """The Tanimoto coefficient with complement, T̃(p, t) = (T(p, t) + T(1 − p, 1 − t)) / 2 with
    T(p, t) = Σ p·t / Σ (p² + t² − p·t), of binarised one-hot predictions, per case and class, without smoothing. On
    binary masks T is the Jaccard index, so T̃ is the mean of the class's IoU and its complement's. A class in neither
    mask is undefined (NaN) and left out of the mean, as for the other per-case metrics.

    Abdallah et al., "Res-CR-Net, a residual network with a novel architecture optimized for the semantic segmentation
    of microscopy images", Mach. Learn.: Sci. Technol. 1, 045004 (2020): the score of its results (91.6 % EM, 90.7 %
    FM), the coefficient of its loss (:class:`~custom_networks.losses.TanimotoLoss`).

    Args:
        include_background: score channel 0 too; in Res-CR-Net's masks it is a labelled class ("other", "gaps").
        reduction: reduction over cases and classes (NaN excluded), see :class:`monai.utils.MetricReduction`.
    """

    def __init__(
        self, include_background: bool = True, reduction: MetricReduction | str = MetricReduction.MEAN
    ) -> None:
        super().__init__()
        self.coefficient_loss = TanimotoLoss(
            include_background=include_background, smooth=0.0, batch=False, per_class=True, reduction="none"
        )
        self.reduction = reduction

    def _compute_tensor(self, y_pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        """Coefficients ``(batch, classes)`` of one-hot predictions ``y_pred`` against one-hot ``y``."""
        loss = self.coefficient_loss(y_pred.float(), y.float())
        return (1.0 - loss).reshape(loss.shape[0], loss.shape[1])

    def aggregate(self, reduction: MetricReduction | str | None = None) -> torch.Tensor:
        """The reduction over cases and classes, NaN where it covers no defined value."""
        return reduce_defined(self.get_buffer(), reduction or self.reduction)[0]
