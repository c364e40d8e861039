"""Bundles run as the papers ran them: the MILDNet paper resizes every DSB-2018 image to 256×256 (the bundle crops
unless ``--resize_to`` is set); MultiResUNet's protocol for ISIC-2018 and ISBI-2012 is its CVC-ClinicDB bundle's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from monai.bundle import ConfigParser
from PIL import Image

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
