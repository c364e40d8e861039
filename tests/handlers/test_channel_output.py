"""Per-channel metrics of multi-label outputs through ``from_engine_channel`` and a real MONAI evaluator."""

import torch
from ignite.engine import Engine
from monai.handlers import MeanDice, from_engine

from custom_networks.handlers import from_engine_channel


def test_one_channel_of_every_item():
    batch = [{"pred": torch.arange(6.0).reshape(3, 2), "label": -torch.arange(6.0).reshape(3, 2)} for _ in range(2)]
    preds, labels = from_engine_channel(["pred", "label"], 1)(batch)
    assert len(preds) == len(labels) == 2
    assert preds[0].tolist() == [[2.0, 3.0]] and labels[1].tolist() == [[-2.0, -3.0]]


def test_per_region_dice_in_an_engine():
    pred = torch.zeros(3, 4, 4)
    label = torch.zeros(3, 4, 4)
    pred[0, :2], label[0, :2] = 1, 1  # region 0: perfect
    pred[1, :2], label[1, 2:] = 1, 1  # region 1: disjoint
    pred[2, :2], label[2, :1] = 1, 1  # region 2: 2·4 / (8 + 4)
    engine = Engine(lambda e, batch: [{"pred": pred, "label": label}])
    for channel in range(3):
        MeanDice(output_transform=from_engine_channel(["pred", "label"], channel)).attach(engine, f"dice{channel}")
    MeanDice(output_transform=from_engine(["pred", "label"])).attach(engine, "mean")
    metrics = engine.run([0]).metrics
    assert [round(metrics[f"dice{c}"], 4) for c in range(3)] == [1.0, 0.0, round(8 / 12, 4)]
    assert abs(metrics["mean"] - (1 + 0 + 8 / 12) / 3) < 1e-6
