"""The real ISIC-2017, Kvasir-SEG, Drosophila VNC and MoNuSeg samples, when the shared data folder is present."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.data.checks import ROOT, check_datalist, prepare_quietly

SHARED = ROOT.parent / "shared" / "data"
ISIC2017 = SHARED / "isic2017_part1_validation_subset"
KVASIR = SHARED / "kvasir_seg_sample"
VNC = SHARED / "drosophila_vnc_sstem_gt"
MONUSEG = SHARED / "monuseg2018_test_subset"
# nuclei per tile, from MONUSEG/SOURCE.md
NUCLEI = {
    "TCGA-2Z-A9J9-01A-01-TS1": 575,
    "TCGA-44-2665-01B-06-BS6": 818,
    "TCGA-A6-6782-01A-01-BS1": 441,
    "TCGA-AC-A2FO-01A-01-TS1": 521,
    "TCGA-CU-A0YN-01A-02-BSB": 677,
    "TCGA-EJ-A46H-01A-03-TSC": 466,
    "TCGA-FG-A4MU-01B-01-TS1": 465,
}

pytestmark = pytest.mark.slow


def _absent(folder: Path, inner: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(not (folder / inner).is_dir(), reason=f"real sample not found at {folder}")


def _items(data: Path) -> list[dict]:
    datalist = json.loads((data / "datalist.json").read_text())
    return datalist["training"] + datalist["testing"]


def _pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


@_absent(ISIC2017, "ISIC-2017_Validation_Data")
def test_real_isic2017_validation_subset(tmp_path: Path):
    data = tmp_path / "data"
    summary = prepare_quietly("isic2017", ISIC2017, data)
    check_datalist(data, cases=24, channels=3, label_values={0, 1}, extra_keys=("case", "subset"))
    assert 0.05 < summary.rows["all"]["lesion"] < 0.15
    for item in _items(data):
        assert item["subset"] == "validation"
        image = ISIC2017 / "ISIC-2017_Validation_Data" / f"{item['case']}.jpg"
        assert (data / item["image"]).read_bytes() == image.read_bytes()
        mask = _pixels(ISIC2017 / "ISIC-2017_Validation_Part1_GroundTruth" / f"{item['case']}_segmentation.png")
        assert np.array_equal(_pixels(data / item["label"]), (mask == 255).astype(np.uint8)), item["case"]


@_absent(KVASIR, "Kvasir-SEG")
def test_real_kvasir_seg_sample(tmp_path: Path):
    data = tmp_path / "data"
    summary = prepare_quietly("kvasir_seg", KVASIR, data, num_folds=3)
    check_datalist(data, cases=5, channels=3, label_values={0, 1}, num_folds=3)
    assert 0.15 < summary.rows["all"]["polyp"] < 0.35
    for item in _items(data):
        mask = _pixels(KVASIR / "Kvasir-SEG" / "masks" / f"{item['case']}.jpg")
        assert len(np.unique(mask)) > 2  # JPEG grey levels, as SOURCE.md says
        label = _pixels(data / item["label"])
        assert np.array_equal(label, (mask[..., 0] >= 128).astype(np.uint8)), item["case"]
        assert 0.05 < label.mean() < 0.35


@_absent(KVASIR, "Kvasir-SEG")
def test_real_kvasir_seg_as_an_own_image_folder(tmp_path: Path):
    """A user's own images/ + masks/ folder (#24): Kvasir-SEG's JPEG masks thresholded at 128 by the generic
    ``folder`` layout give the same labels, split and folds as its own converter."""
    folder, own = tmp_path / "folder", tmp_path / "kvasir"
    prepare_quietly("folder", KVASIR / "Kvasir-SEG", folder, threshold=128, num_folds=3)
    prepare_quietly("kvasir_seg", KVASIR, own, num_folds=3)
    check_datalist(folder, cases=5, channels=3, label_values={0, 1}, num_folds=3)
    assert _items(folder) == _items(own)
    for item in _items(folder):
        assert np.array_equal(_pixels(folder / item["label"]), _pixels(own / item["label"])), item["case"]


@_absent(VNC, "stack1")
def test_real_drosophila_vnc_stack_both_mappings(tmp_path: Path):
    membrane = prepare_quietly("drosophila_vnc", VNC, tmp_path / "membrane")
    organelles = prepare_quietly("drosophila_vnc", VNC, tmp_path / "organelles", mapping="organelles")
    check_datalist(tmp_path / "membrane", cases=20, channels=1, label_values={0, 1}, extra_keys=("case", "slice"))
    check_datalist(tmp_path / "organelles", cases=20, channels=1, label_values={0, 1, 2}, extra_keys=("case", "slice"))
    assert 0.15 < membrane.rows["all"]["membrane"] < 0.25
    assert 0.02 < organelles.rows["all"]["mitochondrion"] < 0.08
    assert organelles.rows["all"]["membrane"] == membrane.rows["all"]["membrane"]
    for item in _items(tmp_path / "membrane"):
        cell = _pixels(tmp_path / "membrane" / item["label"])
        classes = _pixels(tmp_path / "organelles" / item["label"])
        assert np.array_equal(cell == 0, classes == 1), item["case"]
        published = _pixels(VNC / "stack1" / "membranes" / f"{item['slice']:02d}.png").astype(bool)
        assert published[cell == 0].all(), "membrane class within the publisher's binary membrane mask"


@_absent(MONUSEG, "MoNuSegTestData")
def test_real_monuseg_test_subset(tmp_path: Path):
    data = tmp_path / "data"
    summary = prepare_quietly("monuseg", MONUSEG, data)
    keys = ("case", "subset", "patient", "instance_map")
    check_datalist(data, cases=7, channels=3, label_values={0, 1}, extra_keys=keys, grouped=True)
    assert 0.15 < summary.rows["all"]["nucleus"] < 0.3
    for item in _items(data):
        label = _pixels(data / item["label"])
        assert label.shape == (1000, 1000) and 0.1 < label.mean() < 0.4, item["case"]
        instances = _pixels(data / item["instance_map"])
        assert len(np.unique(instances)) - 1 == NUCLEI[item["case"]]  # no nucleus hidden by its neighbours
        assert np.array_equal(label, (instances > 0).astype(np.uint8))
