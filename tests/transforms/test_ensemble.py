"""The mean of an ensemble's probabilities, handed on as logits, against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import Activations, AsDiscrete

from custom_networks.transforms import MeanEnsembleLogitsd, probability_logits


def test_sigmoid_members_average_probabilities_not_logits():
    """Logits 10, -2, -2: probabilities 1.0, 0.119, 0.119 average to 0.413 (background), while the mean logit 2
    would say foreground."""
    data = {f"pred_{i}": torch.tensor([[[v]]]) for i, v in enumerate([10.0, -2.0, -2.0])}
    out = MeanEnsembleLogitsd(list(data), activation="sigmoid")(data)
    expected = (1 / (1 + math.exp(-10)) + 2 / (1 + math.exp(2))) / 3
    assert torch.sigmoid(out["pred"]).item() == pytest.approx(expected, abs=1e-6)
    assert AsDiscrete(threshold=0.5)(torch.sigmoid(out["pred"])).item() == 0
    assert set(out) == {"pred", "pred_0", "pred_1", "pred_2"}


def test_sigmoid_mean_of_two():
    """Probabilities 0.5 and 0.75: the mean 0.625 is logit ln(0.625 / 0.375) = ln(5/3)."""
    data = {"a": torch.tensor([[0.0]]), "b": torch.tensor([[math.log(3)]])}
    out = MeanEnsembleLogitsd(["a", "b"], output_key="mean")(data)
    assert out["mean"].item() == pytest.approx(math.log(5 / 3), abs=1e-6)


def test_softmax_members_give_the_mean_class_probabilities():
    """Three members, two classes: logits (5, 0) twice and (0, 20): mean probabilities (0.662, 0.338), class 0, while
    the summed logits (10, 20) would say class 1."""
    members = {f"pred_{i}": torch.tensor(v)[:, None, None] for i, v in enumerate([[5.0, 0.0], [5.0, 0.0], [0.0, 20.0]])}
    out = MeanEnsembleLogitsd(list(members), activation="softmax")(members)
    mean = sum(torch.softmax(m, 0) for m in members.values()) / 3
    assert torch.allclose(torch.softmax(out["pred"], 0), mean, atol=1e-6)
    assert mean[0].item() == pytest.approx(2 / 3 * (1 / (1 + math.exp(-5))), abs=1e-6)
    assert out["pred"].argmax(0).item() == 0


def test_one_member_keeps_the_prediction_and_its_metadata():
    logits = MetaTensor(torch.randn(2, 4, 5), meta={"filename_or_obj": "case.png"})
    out = MeanEnsembleLogitsd("pred_0", activation="softmax")({"pred_0": logits})
    assert isinstance(out["pred"], MetaTensor) and out["pred"].meta["filename_or_obj"] == "case.png"
    assert torch.equal(out["pred"].argmax(0), logits.argmax(0))
    assert torch.allclose(Activations(softmax=True)(out["pred"]), torch.softmax(logits, 0), atol=1e-6)


def test_certain_probabilities_stay_finite():
    assert torch.isfinite(probability_logits(torch.tensor([0.0, 1.0]), "sigmoid")).all()
    assert torch.isfinite(probability_logits(torch.tensor([0.0, 1.0]), "softmax")).all()


def test_unknown_activation_and_missing_members():
    with pytest.raises(ValueError, match="tanh"):
        MeanEnsembleLogitsd("pred_0", activation="tanh")
    with pytest.raises(KeyError, match="pred_1"):
        MeanEnsembleLogitsd(["pred_0", "pred_1"])({"pred_0": torch.zeros(1, 2, 2)})
