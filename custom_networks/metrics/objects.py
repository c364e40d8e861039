"""Object-level scores of a segmentation of many objects (nuclei), from the connected components of the masks: what
the nuclei challenges count rather than pixels.

- object F1 at IoU 0.5: an object is found when a predicted object overlaps it with IoU > 0.5 (at most one can);
- DSB 2018's mean average precision: TP / (TP + FP + FN) at the IoU thresholds 0.5, 0.55, …, 0.95, averaged
  (Caicedo et al., Nature Methods 16, 2019);
- aggregated Jaccard index, AJI (Kumar et al., IEEE TMI 36, 2017): every true object with the predicted object of
  the largest IoU with it, intersections over unions summed over them, every predicted object matched to none added
  to the union.

A case with no object on either side scores 1 (nothing to find, nothing found).
"""

from __future__ import annotations

import numpy as np
import torch
from monai.metrics import CumulativeIterationMetric
from monai.metrics.utils import do_metric_reduction
from monai.utils import MetricReduction
from skimage.measure import label as connected_components

__all__ = [
    "OBJECT_METRICS",
    "ObjectMetric",
    "aggregated_jaccard_index",
    "average_precision",
    "object_f1",
    "object_scores",
    "overlaps",
]

DSB_THRESHOLDS = tuple(float(t) for t in np.round(np.arange(0.5, 1.0, 0.05), 2))
OBJECT_METRICS = ("object_f1", "dsb_map", "aji")  # the names of ObjectMetric's scores


def overlaps(true: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(intersections of shape (true objects, predicted objects), areas of the true objects, areas of the predicted
    objects) of two label maps (0 background, 1…n the objects)."""
    n_true, n_pred = int(true.max()), int(pred.max())
    joint = np.bincount(true.ravel() * (n_pred + 1) + pred.ravel(), minlength=(n_true + 1) * (n_pred + 1))
    intersections = joint.reshape(n_true + 1, n_pred + 1)[1:, 1:].astype(np.float64)
    areas_true = np.bincount(true.ravel(), minlength=n_true + 1)[1:].astype(np.float64)
    areas_pred = np.bincount(pred.ravel(), minlength=n_pred + 1)[1:].astype(np.float64)
    return intersections, areas_true, areas_pred


def _iou(intersections: np.ndarray, areas_true: np.ndarray, areas_pred: np.ndarray) -> np.ndarray:
    unions = areas_true[:, None] + areas_pred[None, :] - intersections
    return np.divide(intersections, unions, out=np.zeros_like(unions), where=unions > 0)


def _matched(iou: np.ndarray, threshold: float) -> tuple[int, int, int]:
    """(TP, FP, FN) of the matches with IoU above ``threshold`` (above 0.5 a match is one to one)."""
    true_positives = int((iou > threshold).sum())
    n_true, n_pred = iou.shape
    return true_positives, n_pred - true_positives, n_true - true_positives


def object_f1(iou: np.ndarray, threshold: float = 0.5) -> float:
    """F1 of the objects matched with IoU above ``threshold`` (an IoU matrix, true × predicted objects)."""
    tp, fp, fn = _matched(iou, threshold)
    return 1.0 if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)


def average_precision(iou: np.ndarray, thresholds: tuple[float, ...] = DSB_THRESHOLDS) -> float:
    """DSB 2018's score: TP / (TP + FP + FN) averaged over the IoU ``thresholds``."""
    scores = []
    for threshold in thresholds:
        tp, fp, fn = _matched(iou, threshold)
        scores.append(1.0 if tp + fp + fn == 0 else tp / (tp + fp + fn))
    return float(np.mean(scores))


def aggregated_jaccard_index(intersections: np.ndarray, areas_true: np.ndarray, areas_pred: np.ndarray) -> float:
    """AJI of the objects whose :func:`overlaps` are given."""
    n_true, n_pred = intersections.shape
    if n_true == 0:
        return 1.0 if n_pred == 0 else 0.0
    iou = _iou(intersections, areas_true, areas_pred)
    intersection, union, used = 0.0, 0.0, set()
    for i in range(n_true):
        j = int(iou[i].argmax()) if n_pred else -1
        if j >= 0 and intersections[i, j] > 0:
            intersection += intersections[i, j]
            union += areas_true[i] + areas_pred[j] - intersections[i, j]
            used.add(j)
        else:
            union += areas_true[i]
    union += float(sum(areas_pred[j] for j in range(n_pred) if j not in used))
    return intersection / union


def object_scores(true_mask: np.ndarray, pred_mask: np.ndarray) -> dict[str, float]:
    """The scores of :data:`OBJECT_METRICS` of a predicted mask against the true one (objects: their connected
    components, touching along an edge or a corner)."""
    true = connected_components(true_mask > 0, connectivity=true_mask.ndim)
    pred = connected_components(pred_mask > 0, connectivity=pred_mask.ndim)
    intersections, areas_true, areas_pred = overlaps(true, pred)
    iou = _iou(intersections, areas_true, areas_pred)
    return {
        "object_f1": object_f1(iou),
        "dsb_map": average_precision(iou),
        "aji": aggregated_jaccard_index(intersections, areas_true, areas_pred),
    }


class ObjectMetric(CumulativeIterationMetric):
    """One of :data:`OBJECT_METRICS` per case, for MONAI's ``IgniteMetricHandler`` like MONAI's own metrics (the
    per-case values go to the evaluation's CSVs).

    Args:
        metric_name: ``"object_f1"``, ``"dsb_map"`` or ``"aji"``.
        channel: the foreground channel of the binary prediction and label (0 for one output channel).
        reduction: MONAI's reduction of the per-case values.
        get_not_nans: :meth:`aggregate` also returns the number of values reduced.
    """

    def __init__(
        self,
        metric_name: str,
        channel: int = 0,
        reduction: MetricReduction | str = MetricReduction.MEAN,
        get_not_nans: bool = False,
    ) -> None:
        super().__init__()
        if metric_name not in OBJECT_METRICS:
            raise ValueError(f"metric_name must be one of {OBJECT_METRICS}, got {metric_name!r}.")
        self.metric_name, self.channel, self.reduction, self.get_not_nans = (
            metric_name,
            channel,
            reduction,
            get_not_nans,
        )

    def _compute_tensor(self, y_pred: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        if y is None:
            raise ValueError("ObjectMetric needs the label.")
        pred = y_pred[:, self.channel].detach().cpu().numpy()
        true = y[:, self.channel].detach().cpu().numpy()
        scores = [object_scores(t, p)[self.metric_name] for t, p in zip(true, pred, strict=True)]
        return torch.tensor(scores, dtype=torch.float32).unsqueeze(1)

    def aggregate(
        self, reduction: MetricReduction | str | None = None
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        data = self.get_buffer()
        if not isinstance(data, torch.Tensor):
            raise ValueError("the data to aggregate must be a PyTorch Tensor.")
        value, not_nans = do_metric_reduction(data, reduction or self.reduction)
        return (value, not_nans) if self.get_not_nans else value
