"""Per-case confusion scores and the finite Hausdorff distance, against hand-computed values and empty masks."""

import math

import pytest
import torch

from custom_networks.metrics import FiniteHausdorffDistanceMetric, PerCaseConfusionMatrixMetric, TanimotoMetric


def cases() -> tuple[torch.Tensor, torch.Tensor]:
    """(pred, label) for 3 cases: a 3×3 square inside a 4×4 one; empty prediction; empty ground truth."""
    pred, label = torch.zeros(3, 1, 8, 8), torch.zeros(3, 1, 8, 8)
    pred[0, 0, 2:5, 2:5] = 1
    label[0, 0, 2:6, 2:6] = 1
    label[1, 0, 1:3, 1:3] = 1
    pred[2, 0, 4:6, 4:6] = 1
    return pred, label


@pytest.mark.parametrize(
    ("name", "expected"),
    [("precision", [1.0, math.nan, 0.0]), ("recall", [9 / 16, 0.0, math.nan]), ("f1 score", [18 / 25, 0.0, 0.0])],
)
def test_per_case_scores(name, expected):
    metric = PerCaseConfusionMatrixMetric(name)
    metric(*cases())
    torch.testing.assert_close(metric.get_buffer().flatten(), torch.tensor(expected), equal_nan=True)
    defined = [v for v in expected if not math.isnan(v)]
    assert metric.aggregate().item() == pytest.approx(sum(defined) / len(defined))


def test_scores_per_class_without_background():
    pred = torch.nn.functional.one_hot(torch.tensor([[0, 1], [2, 2]]), 3).permute(2, 0, 1)[None].float()
    label = torch.nn.functional.one_hot(torch.tensor([[0, 1], [1, 2]]), 3).permute(2, 0, 1)[None].float()
    metric = PerCaseConfusionMatrixMetric("precision", include_background=False)
    metric(pred, label)
    torch.testing.assert_close(metric.get_buffer(), torch.tensor([[1.0, 0.5]]))


def test_hausdorff_leaves_empty_cases_out_of_the_mean():
    metric = FiniteHausdorffDistanceMetric(include_background=True)
    metric(*cases())
    distances = metric.get_buffer().flatten()
    assert distances[0].item() == pytest.approx(math.sqrt(2))  # the corner (5, 5) to (4, 4)
    assert torch.isnan(distances[1:]).all()
    assert metric.aggregate().item() == pytest.approx(math.sqrt(2))


def test_a_mean_over_no_defined_case_is_undefined_not_zero():
    """Every prediction empty: each case's Hausdorff distance and precision is undefined, and so is their mean (MONAI's
    reduction gives 0, which metrics.csv would report as a perfect distance)."""
    pred, label = cases()
    empty = torch.zeros_like(pred)
    hausdorff = FiniteHausdorffDistanceMetric(include_background=True, get_not_nans=True)
    hausdorff(empty[1:], label[1:])  # case 1: empty prediction; case 2: both empty
    mean, defined = hausdorff.aggregate()
    assert math.isnan(mean.item()) and defined.item() == 0
    precision = PerCaseConfusionMatrixMetric("precision")
    precision(empty, label)
    assert math.isnan(precision.aggregate().item())
    per_class = PerCaseConfusionMatrixMetric("recall", reduction="mean_batch")
    per_class(pred, label)  # recall: 9/16, 0, undefined
    torch.testing.assert_close(per_class.aggregate(), torch.tensor([(9 / 16 + 0) / 2]))


def test_tanimoto_coefficient_with_complement_by_hand():
    """Res-CR-Net's score on one 4×4 case: class 1 predicted on 3 pixels, true on 4, 2 shared → T = 2 / 5 (its IoU);
    the complement shares 11 of 14 pixels → T̃ = (2/5 + 11/14) / 2 for class 1 and, being its complement, class 0;
    class 2, in neither mask, is undefined and left out of the mean."""
    truth, pred = torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 4)
    truth[0, 1, 0, :] = 1
    pred[0, 1, 0, :2] = 1
    pred[0, 1, 1, 0] = 1
    truth[0, 0], pred[0, 0] = 1 - truth[0, 1], 1 - pred[0, 1]
    metric = TanimotoMetric()
    metric(pred, truth)
    expected = (2 / 5 + 11 / 14) / 2
    torch.testing.assert_close(metric.get_buffer(), torch.tensor([[expected, expected, math.nan]]), equal_nan=True)
    assert metric.aggregate().item() == pytest.approx(expected)
    without_background = TanimotoMetric(include_background=False)
    without_background(pred, truth)
    assert without_background.get_buffer().shape == (1, 2)
    perfect = TanimotoMetric()
    perfect(truth, truth)
    assert perfect.aggregate().item() == 1.0
