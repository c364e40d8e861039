"""The best model is chosen by the metric ``select_by`` names: the validation Dice by default, the Jaccard index
(``val_mean_iou``) as MultiResUNet's paper selects; the training curves carry both."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from custom_networks.experiments.training_curves import epoch_curves, read_scalars
from tests.bundles.conftest import CASES, prepare_and_train

CASE = next(c for c in CASES if c.name == "mildnet_dsb2018_nuclei")


@pytest.mark.parametrize("select_by", ["val_mean_dice", "val_mean_iou"])
def test_the_best_model_follows_select_by(tmp_path: Path, select_by: str):
    selecting = type(CASE)(**{**CASE.__dict__, "overrides": {**CASE.overrides, "select_by": select_by}})
    _, bundle_root = prepare_and_train(selecting, tmp_path, max_epochs=3)
    scores = read_scalars(bundle_root / "logs", select_by)
    assert sorted(scores) == [1, 2, 3]
    last = torch.load(bundle_root / "models" / "last_checkpoint_epoch=3.pt", map_location="cpu", weights_only=True)
    (best, _), *_ = last["best_model_saver"]["key_metric"]  # (score, Ignite's name; the file is models/model.pt)
    assert best == pytest.approx(max(scores.values()))
    curves = epoch_curves(bundle_root)
    assert [row["epoch"] for row in curves] == [1, 2, 3]
    assert [row[select_by] for row in curves] == pytest.approx([scores[e] for e in (1, 2, 3)])
    assert all(0 <= row["val_mean_iou"] <= row["val_mean_dice"] <= 1 for row in curves)  # IoU <= Dice per case
