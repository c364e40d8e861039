"""Object-level scores against hand-computed cases (custom_networks.metrics.objects)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from custom_networks.metrics import ObjectMetric, object_scores


def _masks() -> tuple[np.ndarray, np.ndarray]:
    """True objects A (4×4 = 16 px) and B (2×2 = 4 px); predicted A' (A shifted by one row: 12 px shared, IoU
    12 / 20 = 0.6), B missed, and C (2×2), a false object."""
    true, pred = np.zeros((16, 16), np.uint8), np.zeros((16, 16), np.uint8)
    true[1:5, 1:5] = 1  # A
    true[10:12, 10:12] = 1  # B
    pred[2:6, 1:5] = 1  # A'
    pred[10:12, 1:3] = 1  # C
    return true, pred


def test_hand_computed_scores():
    scores = object_scores(*_masks())
    assert scores["object_f1"] == pytest.approx(2 * 1 / (2 * 1 + 1 + 1))  # TP A, FP C, FN B
    # IoU 0.6 is above the thresholds 0.5 and 0.55 only: 1 / (1 + 1 + 1) there, 0 / (0 + 2 + 2) at the eight others
    assert scores["dsb_map"] == pytest.approx(2 * (1 / 3) / 10)
    # A with A' (12 over 20), B unmatched (its 4 px in the union), C unused (its 4 px in the union)
    assert scores["aji"] == pytest.approx(12 / (20 + 4 + 4))


def test_perfect_empty_and_all_wrong_cases():
    true, _ = _masks()
    assert object_scores(true, true) == {"object_f1": 1.0, "dsb_map": 1.0, "aji": 1.0}
    empty = np.zeros_like(true)
    assert object_scores(empty, empty) == {"object_f1": 1.0, "dsb_map": 1.0, "aji": 1.0}
    assert object_scores(empty, true) == {"object_f1": 0.0, "dsb_map": 0.0, "aji": 0.0}
    assert object_scores(true, empty) == {"object_f1": 0.0, "dsb_map": 0.0, "aji": 0.0}


def test_touching_objects_count_once_and_separate_objects_twice():
    """Connected components: diagonal neighbours are one object, a gap of one pixel makes two."""
    true = np.zeros((8, 8), np.uint8)
    true[1, 1] = true[2, 2] = 1  # one object, touching at a corner
    true[5, 5] = true[5, 7] = 1  # two objects
    pred = true.copy()
    pred[5, 7] = 0  # one of the two missed
    scores = object_scores(true, pred)
    assert scores["object_f1"] == pytest.approx(2 * 2 / (2 * 2 + 0 + 1))


def test_metric_gives_one_value_per_case_and_their_mean():
    true, pred = _masks()
    metric = ObjectMetric("aji")
    metric(
        y_pred=torch.from_numpy(np.stack([pred, true]))[:, None], y=torch.from_numpy(np.stack([true, true]))[:, None]
    )
    assert metric.get_buffer().squeeze(1).tolist() == pytest.approx([12 / 28, 1.0])
    assert metric.aggregate().item() == pytest.approx((12 / 28 + 1) / 2)
    with pytest.raises(ValueError, match="metric_name must be one of"):
        ObjectMetric("dice")
