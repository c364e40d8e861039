"""Post-processing chosen on validation: the steps on hand-made masks, the greedy choice on hand-made cases, and a
trained bundle's plan written, evaluated and applied by its evaluation and inference."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from monai.bundle import run
from PIL import Image
from skimage.measure import label as connected_components

from custom_networks.errors import BadValueError
from custom_networks.experiments.postprocessing import choose_postprocessing, class_dice, greedy_plan
from custom_networks.transforms import PostprocessMasks, load_postprocessing
from tests.bundles.conftest import CASES, prepare_and_train

KEEP = {"step": "keep_largest_component", "label": 1}


def _blobs() -> torch.Tensor:
    """A 12×12 label map: a 5×5 square with a one-pixel hole (24 pixels) and a 2×2 square (4 pixels)."""
    x = torch.zeros(1, 12, 12)
    x[0, 1:6, 1:6] = 1
    x[0, 3, 3] = 0
    x[0, 8:10, 8:10] = 1
    return x


def test_steps_on_a_hand_made_mask():
    x = _blobs()
    assert PostprocessMasks([KEEP])(x).sum() == 24
    assert PostprocessMasks([{"step": "remove_small_objects", "label": 1, "min_size": 5}])(x).sum() == 24
    assert PostprocessMasks([{"step": "remove_small_objects", "label": 1, "min_size": 4}])(x).sum() == 28
    assert PostprocessMasks([{"step": "fill_holes", "label": 1}])(x).sum() == 29
    assert PostprocessMasks([])(x) is x
    # one-hot with a second class: filling class 1's hole takes the pixel from class 2; removed pixels go to 0
    one_hot = torch.stack([1 - x[0], x[0], torch.zeros(12, 12)])
    one_hot[:, 3, 3] = torch.tensor([0.0, 0.0, 1.0])
    result = PostprocessMasks([{"step": "fill_holes", "label": 1}, KEEP])(one_hot)
    assert result.sum((1, 2)).tolist() == [144 - 25, 25, 0] and (result.sum(0) == 1).all()
    with pytest.raises(BadValueError, match="needs a 'min_size'"):
        PostprocessMasks([{"step": "remove_small_objects", "label": 1}])
    with pytest.raises(BadValueError, match="is not one of"):
        PostprocessMasks([{"step": "dilate", "label": 1}])


def test_a_step_is_kept_only_when_it_raises_the_validation_dice():
    truth = torch.zeros(12, 12, dtype=torch.int64)
    truth[1:6, 1:6] = 1
    pred = _blobs()[0].to(torch.int64)  # the object with a hole, and a false positive
    steps, trials = greedy_plan([(pred, truth)], [1])
    # Dice 48/53 → keep the largest component (48/49) → fill the hole (1.0); removing small objects adds nothing then
    assert [s["step"] for s in steps] == ["keep_largest_component", "fill_holes"]
    assert trials[0]["before"] == pytest.approx(48 / 53) and trials[0]["dice"] == pytest.approx(48 / 49)
    assert class_dice([(PostprocessMasks(steps)(pred[None])[0], truth)], 1) == 1.0
    # two true objects: keeping only the largest component would lose one, so it is not chosen
    two = truth.clone()
    two[8:10, 8:10] = 1
    steps, _ = greedy_plan([(pred, two)], [1])
    assert [s["step"] for s in steps] == ["fill_holes"]
    assert math.isnan(class_dice([(pred, torch.zeros_like(truth))], 1)), "no true object: undefined"


@pytest.mark.slow
def test_a_trained_bundle_gets_its_plan_and_applies_it(tmp_path: Path):
    case = next(c for c in CASES if c.name == "mildnet_dsb2018_nuclei")
    data, bundle_root = prepare_and_train(case, tmp_path, max_epochs=2)
    chosen = choose_postprocessing(bundle_root, data, fold=0, bundle=case.root, test=True, **case.overrides)
    plan = json.loads((bundle_root / "models" / "postprocessing.json").read_text())
    assert plan == json.loads(json.dumps(chosen)) and plan["validation_cases"] > 0
    assert load_postprocessing(bundle_root / "models") == plan["steps"]
    for label, dice in plan["validation_dice"].items():
        assert math.isnan(dice["none"]) or dice["chosen"] >= dice["none"], label

    # the bundle's evaluation applies the plan: its test Dice is the one recorded as "chosen"
    settings = {"bundle_root": str(bundle_root), "dataset_dir": str(data), "progress": False, **case.overrides}
    run(config_file=case.config("train.json", "evaluate.json"), output_dir=str(tmp_path / "eval"), **settings)
    metrics = dict(line.split(",") for line in (tmp_path / "eval" / "metrics.csv").read_text().splitlines())
    assert float(metrics["test_mean_dice"]) == pytest.approx(plan["test_dice"]["chosen"])

    # and so does inference: with "keep the largest component" every mask has at most one object
    (bundle_root / "models" / "postprocessing.json").write_text(json.dumps({"steps": [KEEP]}))
    run(config_file=case.config("inference.json"), output_dir=str(tmp_path / "pred"), **settings)
    masks = sorted((tmp_path / "pred").glob("*_seg.png"))
    assert masks and all(connected_components(np.asarray(Image.open(m)) > 0).max() <= 1 for m in masks)
