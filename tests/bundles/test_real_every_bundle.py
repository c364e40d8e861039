"""Every 2-D bundle trained for 3 epochs on real images validates above zero (issue: a bundle validated at exactly
Dice 0 on real nuclei while its training Dice rose, which synthetic data did not show). The real DSB-2018 sample
stands in for each bundle's own dataset: its RGB images for the RGB bundles, their grey level for the one-channel
ones, its nucleus masks as class 1. Runs when ../shared/data is present; the Murphy bundle's run, with both BatchNorm
settings, is ``test_real_short_runs.py``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from monai.bundle import ConfigParser, run
from PIL import Image

from custom_networks.data import prepare
from custom_networks.experiments.training_curves import read_scalars
from tests.bundles.conftest import CASES_2D

DSB = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "dsb2018_stage1_train_subset" / "stage1_train"
CASES = 32  # of the sample's smallest images (256², 59 of 100): 22 training in 5 folds (fold 0 validates), 10 test
BUNDLES = [case for case in CASES_2D if case.name != "multiresunet_murphy_nuclei"]
# the bundles' own settings shrunk to a few CPU seconds per epoch: 128² inputs (MS U-Net's smallest), batches of 2,
# MILDNet's and MultiResUNet's widths 16…256, MS U-Net's a quarter of its own, every image once per epoch
SHRUNK = {"roi_size": [128, 128], "batch_size": 2, "num_workers": 0, "progress": False, "seed": 0, "val_interval": 1}
PER_BUNDLE = {
    "features": [16, 32, 64, 128, 256],  # U-Net-style widths (MILDNet, MultiResUNet)
    "epoch_repeats": 1,  # Res-CR-Net's 15 passes per epoch
    "patches_per_image": 1,  # the patch bundles' windows per image
}

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not DSB.is_dir(), reason=f"real DSB-2018 sample not found at {DSB}")]


@pytest.fixture(scope="module")
def datasets(tmp_path_factory) -> dict[int, Path]:
    """{input channels: prepared dataset}: the CASES smallest images of the sample, RGB, and the same in grey."""
    tmp = tmp_path_factory.mktemp("real_every_bundle")
    raw = tmp / "raw" / "stage1_train"
    raw.mkdir(parents=True)

    def pixels(case: Path) -> int:
        width, height = Image.open(case / "images" / f"{case.name}.png").size
        return width * height

    for case in sorted(DSB.iterdir(), key=lambda case: (pixels(case), case.name))[:CASES]:
        (raw / case.name).symlink_to(case)
    prepare("dsb2018", tmp / "raw", tmp / "rgb", progress=False, verbose=False)
    shutil.copytree(tmp / "rgb", tmp / "grey")
    datalist = json.loads((tmp / "grey" / "datalist.json").read_text())
    for item in datalist["training"] + datalist["testing"]:
        image = tmp / "grey" / item["image"]
        Image.fromarray(np.asarray(Image.open(image).convert("L"))).save(image)
    return {3: tmp / "rgb", 1: tmp / "grey"}


@pytest.mark.parametrize("case", BUNDLES, ids=lambda c: c.name)
def test_three_epochs_on_real_images_validate_above_zero(case, datasets, tmp_path):
    parser = ConfigParser()
    parser.read_config(case.config("train.json"))
    overrides = {**SHRUNK, **{k: v for k, v in PER_BUNDLE.items() if k in parser}}
    if parser["network_def"]["_target_"].endswith("MSUNet"):
        overrides["features"] = [16, 30, 66, 90, 120, 120]  # its six widths, about a quarter
    settings = {"bundle_root": str(tmp_path), "dataset_dir": str(datasets[case.in_channels]), **overrides}
    run("training", config_file=case.config("train.json"), max_epochs=3, **settings)
    validation = read_scalars(tmp_path / "logs", "val_mean_dice")
    run(config_file=case.config("train.json", "evaluate.json"), output_dir=str(tmp_path / "eval"), **settings)
    metrics = dict(line.split(",") for line in (tmp_path / "eval" / "metrics.csv").read_text().split())
    print(f"{case.name}: validation Dice per epoch {validation}, test Dice {float(metrics['test_mean_dice']):.3f}")
    assert sorted(validation) == [1, 2, 3]
    assert max(validation.values()) > 0.0 and float(metrics["test_mean_dice"]) > 0.0
