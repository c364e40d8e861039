"""Every 2-D bundle trains, evaluates and infers through ``monai.bundle`` on a tiny synthetic copy of its raw layout."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from monai.bundle import ConfigParser, run
from monai.data import MetaTensor
from monai.transforms import Compose, LoadImage
from PIL import Image

import custom_networks
from custom_networks.zoo import bundle_names
from tests.bundles.conftest import (
    CASES,
    CASES_2D,
    BundleCase,
    check_checkpoints,
    check_verify_and_export,
    check_workflow_properties,
    infer_other_sizes,
    prepare_and_train,
    run_evaluation,
    run_multi_process_training,
)

pytestmark = pytest.mark.slow
REQUIRED_FILES = [
    "configs/metadata.json",
    "configs/train.json",
    "configs/inference.json",
    "configs/evaluate.json",
    "configs/multi_gpu_train.json",
    "configs/logging.conf",
    "docs/README.md",
    "LICENSE",
    "docs/README.md",
    "docs/data_license.txt",
]


def test_every_bundle_is_tested():
    assert bundle_names() == sorted(c.name for c in CASES)


@pytest.fixture(scope="module", params=CASES_2D, ids=lambda c: c.name)
def trained(request, tmp_path_factory) -> tuple[BundleCase, Path, Path]:
    """(case, dataset_dir, bundle_root) after preparing the synthetic data and training 2 epochs."""
    case: BundleCase = request.param
    data, bundle_root = prepare_and_train(case, tmp_path_factory.mktemp(case.name), max_epochs=2)
    return case, data, bundle_root


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bundle_files(case):
    missing = [f for f in REQUIRED_FILES if not (case.root / f).is_file()]
    assert not missing, f"{case.name} lacks {missing}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_metadata_requires_this_package_version(case):
    """The configs name classes of this version of ``custom_networks`` (e.g. ``AutocastInferer``)."""
    meta = json.loads((case.root / "configs/metadata.json").read_text())
    assert meta["required_packages_version"]["custom-networks"] == custom_networks.__version__


def test_training_writes_loadable_checkpoints(trained):
    case, _, bundle_root = trained
    check_checkpoints(case, bundle_root, epochs=2)


@pytest.mark.parametrize(("workflow_type", "config"), [("train", "train.json"), ("infer", "inference.json")])
def test_workflow_properties(trained, workflow_type, config):
    check_workflow_properties(*trained, workflow_type, config)


def test_evaluate_writes_metrics(trained):
    case, data, bundle_root = trained
    out = bundle_root / "eval"
    metrics = run_evaluation(case, data, bundle_root, out)
    scores = ("test_mean_dice", "test_mean_iou", "test_precision", "test_recall", "test_f1")
    objects = ("test_object_f1", "test_dsb_map", "test_aji")  # the nuclei bundles' object-level scores
    nuclei = case.name in ("mildnet_dsb2018_nuclei", "multiresunet_murphy_nuclei")
    assert nuclei == all(name in metrics for name in objects), sorted(metrics)
    rescrnet = case.name.startswith("rescrnet")  # the paper's Tanimoto coefficient, Dice and IoU, class 0 included
    all_classes = ("test_tanimoto", "test_dice_all_classes", "test_iou_all_classes")
    assert rescrnet == all(name in metrics for name in all_classes), sorted(metrics)
    for name in scores + (objects if nuclei else ()) + (all_classes if rescrnet else ()):
        assert 0.0 <= metrics[name] <= 1.0, (name, metrics[name])
    # empty masks make a case's Hausdorff distance undefined: left out of the mean (never inf), counted as not-NaN
    assert not math.isinf(metrics["test_hausdorff"]) and not math.isinf(metrics["test_hausdorff95"])
    assert not metrics["test_hausdorff"] < metrics["test_hausdorff95"]
    testing = json.loads((data / "datalist.json").read_text())["testing"]
    for name in metrics:  # every metric per case, and a summary with the number of cases its mean covers
        with open(out / f"{name}_raw.csv") as f:
            assert len(list(csv.DictReader(f))) == len(testing), name
        with open(out / f"{name}_summary.csv") as f:
            assert "notnans" in next(csv.reader(f)), name
    if rescrnet:  # class 0 is the first column of the all-classes Dice; the others are test_mean_dice's
        with open(out / "test_dice_all_classes_raw.csv") as f, open(out / "test_mean_dice_raw.csv") as g:
            rows = list(zip(csv.reader(f), csv.reader(g), strict=True))  # filename, class0, …, mean
            assert rows[0] == (
                ["filename", "class0", "class1", "class2", "mean"],
                ["filename", "class0", "class1", "mean"],
            )
            assert all(every[2:-1] == foreground[1:-1] for every, foreground in rows[1:]), rows
    overlays = sorted((out / "overlays").glob("*.png"))
    assert len(overlays) == len(testing)
    image = np.asarray(Image.open(overlays[0]))
    label = np.asarray(Image.open(data / testing[0]["label"]))
    assert image.shape == (*label.shape, 3) and image.std() > 0


def _assert_masks(case: BundleCase, masks: dict[Path, tuple[int, int]]) -> None:
    """Each mask file has its shape and holds the bundle's output values only."""
    for path, shape in masks.items():
        mask = np.asarray(Image.open(path))
        assert mask.shape == shape
        assert set(np.unique(mask).tolist()) <= ({0, 255} if case.out_channels == 1 else set(range(case.out_channels)))


def test_inference_keeps_input_size(trained, tmp_path):
    """A folder of images of other (non-square) sizes gives masks of the same sizes, orientation kept."""
    case, data, bundle_root = trained
    _assert_masks(case, infer_other_sizes(case, bundle_root, tmp_path))
    # the prepared test split is the default input
    run(
        config_file=case.config("inference.json"), bundle_root=str(bundle_root), dataset_dir=str(data), **case.overrides
    )
    testing = json.loads((data / "datalist.json").read_text())["testing"]
    predictions = sorted((bundle_root / "eval/predictions").glob("*_seg.png"))
    assert len(predictions) == len(testing)
    loader = LoadImage(image_only=True)
    assert loader(predictions[0]).shape == loader(data / testing[0]["image"]).shape[:2]


def _perturbed_model(bundle_root: Path, path: Path) -> str:
    """A second member: the trained weights with seeded noise (so that the members disagree)."""
    state = torch.load(bundle_root / "models/model.pt", map_location="cpu", weights_only=True)
    generator = torch.Generator().manual_seed(0)
    for name, value in state.items():  # weights and biases, not BatchNorm's running statistics
        if value.is_floating_point() and "running_" not in name:
            value += 0.5 * torch.randn(value.shape, generator=generator)
    torch.save(state, path)
    return str(path)


def _mean_probability_masks(case: BundleCase, bundle_root: Path, members: list[str], images: list[Path]) -> list:
    """The ensemble's masks computed here: each member's logits by the bundle's own preprocessing, network and
    inferer, the mean of their sigmoid / softmax probabilities, then the bundle's prediction transforms."""
    parser = ConfigParser()
    parser.read_config(case.config("inference.json"))
    parser.update({"bundle_root": str(bundle_root), **{k: v for k, v in case.overrides.items() if k != "batch_size"}})
    preprocessing, network = parser.get_parsed_content("preprocessing"), parser.get_parsed_content("network")
    inferer, activation = parser.get_parsed_content("inferer"), parser.get_parsed_content("output_activation")
    transforms = Compose(parser.get_parsed_content("prediction_transforms"))
    masks = []
    for path in images:
        item = preprocessing({"image": str(path)})
        probabilities = []
        for member in members:
            network.load_state_dict(torch.load(member, map_location="cpu", weights_only=True))
            with torch.no_grad():
                logits = inferer(item["image"][None], network.eval())[0]
            probabilities.append(torch.sigmoid(logits) if activation == "sigmoid" else torch.softmax(logits, 0))
        mean = torch.stack(probabilities).mean(0)
        logits = torch.log(mean / (1 - mean)) if activation == "sigmoid" else torch.log(mean)
        masks.append(transforms({"pred": MetaTensor(logits, meta=item["image"].meta), "image": item["image"]})["pred"])
    return masks


def test_ensemble_evaluation_and_inference(trained, tmp_path):
    """``ensemble_evaluate.json``: an ensemble of the trained model alone scores as the model; one of two disagreeing
    members evaluates every test case, and ``ensemble_inference.json`` writes the masks of the mean of their
    probabilities (recomputed here), in the inputs' sizes."""
    case, data, bundle_root = trained
    single = run_evaluation(case, data, bundle_root, tmp_path / "single")
    alone = run_evaluation(
        case, data, bundle_root, tmp_path / "alone", "ensemble_evaluate.json", ensemble_models=[str(bundle_root)]
    )
    assert alone == pytest.approx(single, abs=1e-6, nan_ok=True)
    members = [str(bundle_root / "models/model.pt"), _perturbed_model(bundle_root, tmp_path / "noisy.pt")]
    pair = run_evaluation(case, data, bundle_root, tmp_path / "pair", "ensemble_evaluate.json", ensemble_models=members)
    assert set(pair) == set(single) and 0.0 <= pair["test_mean_dice"] <= 1.0
    testing = json.loads((data / "datalist.json").read_text())["testing"]
    with open(tmp_path / "pair/test_mean_dice_raw.csv") as f:
        assert len(list(csv.DictReader(f))) == len(testing)
    masks = infer_other_sizes(case, bundle_root, tmp_path, "ensemble_inference.json", ensemble_models=members)
    _assert_masks(case, masks)
    images = [tmp_path / "inputs" / path.name.replace("_seg.png", case.input_ext) for path in masks]
    scale = 255 if case.out_channels == 1 else 1
    expected = _mean_probability_masks(case, bundle_root, members, images)
    for path, mean_mask in zip(masks, expected, strict=True):
        mask = LoadImage(image_only=True)(path).numpy().astype(np.int64)  # MONAI's axes, as the prediction's
        agreement = (mask == mean_mask.squeeze(0).numpy().astype(np.int64) * scale).mean()
        assert agreement > 0.999, (path.name, agreement)  # pixels at probability 0.5 ± rounding may differ
    first_alone = _mean_probability_masks(case, bundle_root, members[:1], images)
    assert any(not torch.equal(a, b) for a, b in zip(first_alone, expected, strict=True)), "the members agree"


def test_verify_net_in_out_and_ckpt_export(trained):
    case, _, bundle_root = trained
    check_verify_and_export(case, bundle_root)


def test_multi_process_training_on_cpu(trained, tmp_path):
    """multi_gpu_train.json under torchrun with 2 CPU processes (gloo) trains and checkpoints once."""
    case, data, _ = trained
    bundle_root = run_multi_process_training(case, data, tmp_path)
    assert (bundle_root / "models/model.pt").is_file()
    assert sorted(p.name for p in (bundle_root / "models").glob("last_*.pt")) == ["last_checkpoint_epoch=1.pt"]


def test_baseline_swaps_in_through_network_def(trained, tmp_path):
    """The documented baseline switch: a whole ``network_def`` override trains the bundle unchanged otherwise."""
    case, data, _ = trained
    network = {
        "_target_": "custom_networks.nets.UNetPlusPlus",
        "spatial_dims": 2,
        "in_channels": case.in_channels,
        "out_channels": case.out_channels,
        "features": [4, 4, 8, 8, 16, 4],
    }
    overrides = {k: v for k, v in case.overrides.items() if k != "features"}
    run(
        "training",
        config_file=case.config("train.json"),
        bundle_root=str(tmp_path),
        dataset_dir=str(data),
        network_def=network,
        max_epochs=1,
        progress=False,
        **overrides,
    )
    assert (tmp_path / "models/model.pt").is_file()
