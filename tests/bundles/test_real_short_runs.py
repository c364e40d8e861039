"""Short runs on real images validate above zero: MultiResUNet's BatchNorm keeps the reference code's eps with
PyTorch's momentum by default (Keras' momentum left the running statistics unsettled, and a bundle trained as a user
would on real nuclei validated at exactly Dice 0 while its training Dice rose). Runs when ../shared/data is present."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from monai.bundle import run
from PIL import Image

from custom_networks.data import prepare
from custom_networks.experiments.postprocessing import choose_postprocessing
from tests.bundles.conftest import CASES

DSB = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "dsb2018_stage1_train_subset" / "stage1_train"
CASE = next(c for c in CASES if c.name == "multiresunet_murphy_nuclei")
KERAS_NORM = ["batch", {"momentum": 0.01, "eps": 0.001}]  # the paper's (Keras') BatchNorm

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not DSB.is_dir(), reason=f"real DSB-2018 sample not found at {DSB}")]


def _murphy_layout_of_dsb_fluorescence(root: Path) -> Path:
    """The DSB sample's grey (fluorescence) images in the Murphy layout: 8-bit DNA images and instance labels."""
    count = 0
    for case in sorted(DSB.iterdir()):
        rgb = np.asarray(Image.open(case / "images" / f"{case.name}.png"))[..., :3]
        masks = sorted((case / "masks").glob("*.png"))
        if not (rgb == rgb[..., :1]).all() or len(masks) > 255:
            continue
        instances = np.zeros(rgb.shape[:2], np.uint8)
        for index, mask in enumerate(masks, 1):
            instances[np.asarray(Image.open(mask)) > 0] = index
        collection = ("gnf", "ic100")[count % 2]
        for folder, array in (("images", rgb[..., 0]), ("labels", instances)):
            (root / folder / collection).mkdir(parents=True, exist_ok=True)
            Image.fromarray(array).save(root / folder / collection / f"dna-{count}.png")
        count += 1
    return root


def _three_epochs(data: Path, bundle_root: Path, **overrides) -> float:
    """Test Dice of the bundle (its widths, 128² inputs) trained for 3 epochs with ``overrides``."""
    settings = {
        "roi_size": [128, 128],
        "num_workers": 0,
        "progress": False,
        "bundle_root": str(bundle_root),
        **overrides,
    }
    run(
        "training",
        config_file=CASE.config("train.json"),
        dataset_dir=str(data),
        max_epochs=3,
        batch_size=4,
        seed=0,
        **settings,
    )
    out = bundle_root / "eval"
    run(config_file=CASE.config("train.json", "evaluate.json"), dataset_dir=str(data), output_dir=str(out), **settings)
    metrics = dict(line.strip().split(",") for line in (out / "metrics.csv").read_text().splitlines() if line.strip())
    return float(metrics["test_mean_dice"])


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, dict[str, tuple[Path, float]]]:
    """(dataset_dir, {"default" / "paper": (bundle_root, test Dice)}) of the Murphy bundle trained 3 epochs on the
    DSB fluorescence images with the default BatchNorm and with Keras' momentum."""
    tmp = tmp_path_factory.mktemp("real_short_runs")
    raw = _murphy_layout_of_dsb_fluorescence(tmp / "raw")
    prepare("murphy", raw, tmp / "data", progress=False, verbose=False)
    runs = {
        name: (tmp / name, _three_epochs(tmp / "data", tmp / name, **overrides))
        for name, overrides in (("default", {}), ("paper", {"norm": KERAS_NORM}))
    }
    return tmp / "data", runs


def test_multiresunet_on_real_nuclei_validates_above_zero_after_three_epochs(trained):
    default, paper = trained[1]["default"][1], trained[1]["paper"][1]
    print(f"test Dice after 3 epochs: default BatchNorm {default:.3f}, Keras momentum {paper:.3f}")
    assert default > 0.3 and default > paper


def test_ensemble_and_postprocessing_on_real_nuclei(trained, tmp_path):
    """Real-data smoke of the fold-ensemble evaluation (the two models as one, with the object-level scores of the
    nuclei bundles) and of the post-processing chosen on the validation fold: every test image scored; a step kept
    only where it raised the validation Dice."""
    data, runs = trained
    settings = {"roi_size": [128, 128], "num_workers": 0, "progress": False}
    out = tmp_path / "ensemble"
    models = [str(root) for root, _ in runs.values()]
    run(
        config_file=CASE.config("train.json", "evaluate.json", "ensemble_evaluate.json"),
        bundle_root=str(tmp_path),
        output_dir=str(out),
        dataset_dir=str(data),
        ensemble_models=models,
        **settings,
    )
    testing = json.loads((data / "datalist.json").read_text())["testing"]
    with open(out / "test_mean_dice_raw.csv") as f:
        dice = [float(row["mean"]) for row in csv.DictReader(f)]
    assert len(dice) == len(testing) and all(0.0 <= d <= 1.0 for d in dice)
    metrics = dict(line.split(",") for line in (out / "metrics.csv").read_text().splitlines() if line.strip())
    for name in ("test_object_f1", "test_dsb_map", "test_aji"):  # the nuclei bundles' object-level scores
        assert 0.0 <= float(metrics[name]) <= 1.0, (name, metrics[name])

    bundle_root = runs["default"][0]
    plan = choose_postprocessing(bundle_root, data, fold=0, bundle=CASE.root, **settings)
    assert plan["validation_cases"] > 0 and (bundle_root / "models" / "postprocessing.json").is_file()
    for label, values in plan["validation_dice"].items():
        assert math.isnan(values["none"]) or values["chosen"] >= values["none"], label
