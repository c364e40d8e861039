"""Bundles run as the papers ran them: the MILDNet paper resizes every DSB-2018 image to 256×256 (the bundle crops
unless ``--resize_to`` is set); MultiResUNet's protocol for ISIC-2018 and ISBI-2012 is its CVC-ClinicDB bundle's, and
its BraTS protocol is ``paper_train.json`` / ``paper_inference.json`` of its 3-D bundle."""

from __future__ import annotations

import json
import math
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
from monai.bundle import ConfigParser, run
from monai.transforms import LoadImage, Orientation
from PIL import Image

from custom_networks.data import datalist_split, prepare, synthesize
from custom_networks.experiments import cross_validate, read_results
from tests.bundles.conftest import CASES, infer_other_sizes, prepare_and_train, run_evaluation

DSB = next(c for c in CASES if c.name == "mildnet_dsb2018_nuclei")
RESIZE = {"resize_to": [32, 32], "roi_size": [32, 32]}


def _train_config(**overrides) -> ConfigParser:
    parser = ConfigParser()
    parser.read_config(DSB.config("train.json"))
    parser.update({**DSB.overrides, **overrides})
    return parser


def _bilinear(array: np.ndarray, size: list[int]) -> torch.Tensor:
    """Channel-first bilinear resize as ``torch.nn.functional.interpolate`` computes it (no corner alignment)."""
    image = torch.as_tensor(array, dtype=torch.float32)[None]
    return torch.nn.functional.interpolate(image, size=size, mode="bilinear", align_corners=False)[0]


def test_resize_to_trains_on_the_whole_resized_image(tmp_path: Path):
    """With --resize_to equal to roi_size and no augmentation a training sample is the whole image resized
    (bilinear, then min-max scaled), and its mask the nearest-neighbour resize of the mask; without it, a crop."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (40, 52, 3), dtype=np.uint8)
    mask = np.zeros((40, 52), dtype=np.uint8)
    mask[10:30, 8:20] = 1
    Image.fromarray(image).save(tmp_path / "image.png")
    Image.fromarray(mask).save(tmp_path / "mask.png")
    item = {"image": str(tmp_path / "image.png"), "label": str(tmp_path / "mask.png")}

    sample = _train_config(augment_prob=0.0, **RESIZE).get_parsed_content("train#preprocessing")(item)
    resized = _bilinear(image.transpose(2, 1, 0), [32, 32])  # MONAI loads PNGs as (W, H)
    expected = (resized - resized.min()) / (resized.max() - resized.min())
    torch.testing.assert_close(sample["image"], expected, rtol=1e-5, atol=1e-5)
    label = torch.as_tensor(mask.T > 0, dtype=torch.float32)[None, None]
    nearest = torch.nn.functional.interpolate(label, size=[32, 32], mode="nearest-exact")[0]
    torch.testing.assert_close(sample["label"], nearest)

    cropped = _train_config(augment_prob=0.0, roi_size=[32, 32]).get_parsed_content("train#preprocessing")(item)
    assert cropped["image"].shape == (3, 32, 32)
    assert not torch.allclose(cropped["image"], expected, atol=1e-3)  # a 32² window of the image, not all of it


def test_resize_to_predicts_at_the_input_size(tmp_path: Path):
    """Trained, evaluated and run for inference with --resize_to: predictions are scored against the 64² test masks
    and written at each input's size."""
    case = type(DSB)(**{**DSB.__dict__, "overrides": {**DSB.overrides, **RESIZE}})
    data, bundle_root = prepare_and_train(case, tmp_path, max_epochs=1)
    metrics = run_evaluation(case, data, bundle_root, tmp_path / "eval")
    assert 0.0 <= metrics["test_mean_dice"] <= 1.0
    for path, shape in infer_other_sizes(case, bundle_root, tmp_path).items():
        assert np.asarray(Image.open(path)).shape == shape


CVC = next(c for c in CASES if c.name == "multiresunet_cvc_clinicdb_endoscopy")


@pytest.mark.parametrize(
    ("dataset", "overrides"),
    [("isic2018", {"roi_size": [64, 48]}), ("isbi2012", {"in_channels": 1, "roi_size": [48, 48]})],
    ids=["isic2018", "isbi2012"],
)
def test_multiresunet_paper_recipe_on_other_datasets(tmp_path: Path, dataset: str, overrides: dict):
    """MultiResUNet's paper protocol for ISIC-2018 and ISBI-2012 is the CVC-ClinicDB bundle's (resize, BCE, Adam, no
    augmentation) with the dataset's folder, channels and size: it trains, and scores at the masks' own size."""
    changes = {
        "dataset": dataset,
        "synth_options": {"count": 12, "size": 64},
        "in_channels": overrides.get("in_channels", 3),
    }
    case = type(CVC)(**{**CVC.__dict__, **changes, "overrides": {**CVC.overrides, **overrides}})
    data, bundle_root = prepare_and_train(case, tmp_path, max_epochs=1)
    metrics = run_evaluation(case, data, bundle_root, tmp_path / "eval")
    assert 0.0 <= metrics["test_mean_dice"] <= 1.0


BRATS = next(c for c in CASES if c.name == "multiresunet3d_brats_mri")
BRATS_SMALL = {**BRATS.overrides, "roi_size": [16, 16, 16], "progress": False}


def test_multiresunet_brats_paper_protocol(tmp_path: Path):
    """paper_train.json / paper_inference.json: whole volumes resized to roi_size, one whole-tumour mask (labels 1, 2,
    4) resized nearest, BCE; evaluation by Dice, IoU and HD95 of that mask; the masks written in each input's
    geometry."""
    synthesize(BRATS.dataset, tmp_path / "raw", seed=0, **BRATS.synth_options)
    prepare(BRATS.dataset, tmp_path / "raw", tmp_path / "data", progress=False, verbose=False)
    data, bundle_root = tmp_path / "data", tmp_path / "bundle"
    common = {"bundle_root": str(bundle_root), "dataset_dir": str(data), **BRATS_SMALL}

    parser = ConfigParser()
    parser.read_config(BRATS.config("train.json", "paper_train.json"))
    parser.update(common)
    item = datalist_split(data, "training", 0)[0]
    sample = parser.get_parsed_content("train#preprocessing")(item)
    label = LoadImage(image_only=True, ensure_channel_first=True)(item["label"])
    whole_tumour = torch.as_tensor(Orientation("RAS")(label).as_tensor() > 0, dtype=torch.float32)[None]
    expected = torch.nn.functional.interpolate(whole_tumour, size=[16, 16, 16], mode="nearest-exact")[0]
    assert sample["image"].shape == (4, 16, 16, 16) and expected.any()
    torch.testing.assert_close(sample["label"], expected)
    assert type(parser.get_parsed_content("loss")) is torch.nn.BCEWithLogitsLoss

    run("training", config_file=BRATS.config("train.json", "paper_train.json"), max_epochs=1, **common)
    run(config_file=BRATS.config("train.json", "paper_train.json", "evaluate.json"), **common)
    metrics = dict(line.split(",") for line in (bundle_root / "eval/metrics.csv").read_text().split())
    assert {"test_mean_dice", "test_mean_iou", "test_hausdorff95"} <= metrics.keys()
    assert not any(name.startswith("test_dice_") for name in metrics)  # no BraTS regions

    inputs = {k: v for k, v in common.items() if k != "batch_size"}
    run(config_file=BRATS.config("inference.json", "paper_inference.json"), **inputs)
    testing = json.loads((data / "datalist.json").read_text())["testing"]
    for case in testing:
        name = Path(case["label"]).name.replace("_seg", "").split(".")[0]
        mask = nib.load(next((bundle_root / "eval/predictions").glob(f"{name}*_seg.nii.gz")))
        assert mask.shape == nib.load(data / case["label"]).shape
        assert set(np.unique(np.asarray(mask.dataobj)).tolist()) <= {0, 1}


def test_unet3d_baseline_in_the_paper_protocol(tmp_path: Path):
    """``cross_validate --protocol_configs paper_train.json``: MultiResUNet and its paper's 3-D U-Net trained and
    evaluated in the paper's BraTS protocol (whole-tumour mask, scored by Dice and IoU)."""
    synthesize(BRATS.dataset, tmp_path / "raw", seed=0, **BRATS.synth_options)
    prepare(BRATS.dataset, tmp_path / "raw", tmp_path / "data", progress=False, verbose=False)
    overrides = {k: v for k, v in BRATS_SMALL.items() if k != "progress"}
    report = cross_validate(
        BRATS.name,
        tmp_path / "data",
        "multiresunet,unet3d",
        0,
        1,
        tmp_path / "report",
        ensemble=False,
        protocol_configs="paper_train.json",
        progress=False,
        **overrides,
    )
    rows = read_results(report / "results.csv")
    assert {row["network"] for row in rows} == {"multiresunet", "unet3d"}
    assert all(0.0 <= row["mean_iou"] <= 1.0 for row in rows if not math.isnan(row["mean_iou"]))
    settings = json.loads((report / "runs/unet3d/fold0/run.json").read_text())
    assert settings["protocol_configs"] == ["paper_train.json"]
    assert "paper_train.json" in (report / "runs/unet3d/fold0/train.log").read_text()
