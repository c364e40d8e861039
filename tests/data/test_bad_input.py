"""Bad input fails with the file and the problem named, leaves DATA_DIR as it was, and makes the CLI exit ≠ 0."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

import nibabel as nib
import numpy as np
import pytest
import tifffile
from PIL import Image

from custom_networks.data import SYNTHETIC_PALETTE, DataPreparationError, synthesize
from tests.data.checks import leftovers, prepare_quietly, run_cli, snapshot

SYNTH = {
    "folder": {"count": 8},
    "dsb2018": {"count": 8},
    "isic2018": {"count": 8},
    "lgg": {"count": 8, "slices": 2},
    "cvc_clinicdb": {"count": 8},
    "isbi2012": {"count": 8},
    "glas2015": {"count": 16},
    "brats": {"count": 7, "size": 16},
    "brats-decathlon": {"count": 7, "size": 16, "layout": "decathlon"},
    "multiclass_microscopy": {"count": 8},
    "murphy": {"count": 8},
    "isic2017": {"count": 8},
    "kvasir_seg": {"count": 8},
    "drosophila_vnc": {"count": 8},
    "monuseg": {"count": 8},
}
OPTIONS = {
    "multiclass_microscopy": {"palette": [list(c) for c in SYNTHETIC_PALETTE]},
    "folder": {"mask_suffix": "_mask"},
}


def _first(raw: Path, pattern: str) -> Path:
    return sorted(raw.glob(pattern))[0]


def _rewrite(path: Path, change: Callable[[np.ndarray], np.ndarray]) -> Path:
    """Apply ``change`` to an image file's pixels, keeping its format."""
    if path.name.endswith(".nii.gz"):
        img = nib.load(path)
        nib.save(nib.Nifti1Image(change(np.asanyarray(img.dataobj)), img.affine), path)
    elif path.suffix == ".tif":
        tifffile.imwrite(path, change(tifffile.imread(path)))
    else:
        Image.fromarray(change(np.asarray(Image.open(path)))).save(path)
    return path


def _delete(path: Path) -> Path:
    shutil.rmtree(path) if path.is_dir() else path.unlink()
    return path


def _garbage(path: Path) -> Path:
    path.write_bytes(b"\x89PNG\r\n\x1a\n this is not an image")
    return path


def _grade_row_missing(raw: Path) -> Path:
    grades = raw / "Grade.csv"
    grades.write_text("".join(line for line in grades.open() if not line.startswith("train_2,")))
    return grades


def _image_deleted(pattern: str, label_of: Callable[[Path], Path]) -> Callable[[Path], Path]:
    """Break a raw copy by deleting its first image matching ``pattern``; its label, ``label_of(image)``, is at
    fault."""
    return lambda raw: label_of(_delete(_first(raw, pattern)))


def _isic_mask(truth: str) -> Callable[[Path], Path]:
    return lambda image: image.parents[1] / truth / f"{image.stem}_segmentation.png"


def _edit_regions(raw: Path, change: Callable[[list[ElementTree.Element]], None]) -> Path:
    """Apply ``change`` to the ``Region`` elements of the first MoNuSeg XML."""
    path = _first(raw, "MoNuSegTestData/*.xml")
    tree = ElementTree.parse(path)
    change(tree.getroot().findall("Annotation/Regions/Region"))
    tree.write(path, encoding="utf-8")
    return path


def _two_vertices(regions: list[ElementTree.Element]) -> None:
    vertices = regions[0].find("Vertices")
    for vertex in list(vertices)[2:]:
        vertices.remove(vertex)


def _text_coordinate(regions: list[ElementTree.Element]) -> None:
    regions[1].find("Vertices/Vertex").set("X", "12,5")


# id → (dataset, break the raw copy and return the file at fault, expected problem)
CASES = {
    "folder-mask-missing": (
        "folder",
        lambda r: r / "images" / _delete(_first(r, "masks/*.png")).name.replace("_mask", ""),
        "image has no label",
    ),
    "folder-grey-levels": (
        "folder",
        lambda r: _rewrite(_first(r, "masks/*.png"), lambda a: np.where(a > 0, 128, 0).astype(np.uint8)),
        "do not look like class indices; pass --num_classes, or --palette",
    ),
    "dsb-masks-missing": ("dsb2018", lambda r: _delete(_first(r, "stage1_train/*/masks")).parent, "has no label"),
    "isic-label-missing": (
        "isic2018",
        lambda r: _delete(_first(r, "*GroundTruth/*.png")),
        "has no label",
    ),
    "isic-image-missing": (
        "isic2018",
        _image_deleted("*Input/*.jpg", _isic_mask("ISIC2018_Task1_Training_GroundTruth")),
        "label has no matching image",
    ),
    "dsb-unreadable-mask": ("dsb2018", lambda r: _garbage(_first(r, "stage1_train/*/masks/*.png")), "unreadable file"),
    "lgg-unreadable-image": ("lgg", lambda r: _garbage(_first(r, "kaggle_3m/*/*_1.tif")), "unreadable file"),
    "lgg-size-mismatch": (
        "lgg",
        lambda r: _rewrite(_first(r, "kaggle_3m/*/*_1_mask.tif"), lambda a: a[:-4]),
        "size mismatch",
    ),
    "cvc-label-values": (
        "cvc_clinicdb",
        lambda r: _rewrite(_first(r, "Ground Truth/*.tif"), lambda a: np.where(a > 0, 128, 0).astype(np.uint8)),
        "unexpected label values",
    ),
    "dsb-instance-values": (
        "dsb2018",
        lambda r: _rewrite(_first(r, "stage1_train/*/masks/*.png"), lambda a: (a // 2).astype(np.uint8)),
        "unexpected label values",
    ),
    "lgg-gray-image": (
        "lgg",
        lambda r: _rewrite(_first(r, "kaggle_3m/*/*_2.tif"), lambda a: np.ascontiguousarray(a[..., 0])),
        "wrong channel count",
    ),
    "isbi-page-count": (
        "isbi2012",
        lambda r: _rewrite(r / "train-labels.tif", lambda a: a[:-1]),
        "size mismatch",
    ),
    "isbi-page-label-values": (
        "isbi2012",
        lambda r: _rewrite(r / "train-labels.tif", lambda a: np.where(a == 0, 128, a).astype(np.uint8)),
        "page 0: unexpected label values",
    ),
    "glas-grade-row-missing": ("glas2015", _grade_row_missing, "no row for train_2"),
    "brats-modality-missing": (
        "brats",
        lambda r: _delete(_first(r, "*/*_t1ce.nii.gz")).parent,
        "missing t1ce volume",
    ),
    "brats-modality-size": (
        "brats",
        lambda r: _rewrite(_first(r, "*/*_t2.nii.gz"), lambda a: a[:, :, :-2]),
        "size mismatch",
    ),
    "brats-seg-values": (
        "brats",
        lambda r: _rewrite(_first(r, "*/*_seg.nii.gz"), lambda a: np.where(a == 4, 3, a).astype(np.uint8)),
        "unexpected label values 3",
    ),
    "decathlon-channels": (
        "brats-decathlon",
        lambda r: _rewrite(_first(r, "imagesTr/BRATS_*.nii.gz"), lambda a: a[..., :3]),
        "wrong channel count",
    ),
    "decathlon-label-values": (
        "brats-decathlon",
        lambda r: _rewrite(_first(r, "labelsTr/BRATS_*.nii.gz"), lambda a: np.where(a == 3, 5, a).astype(np.uint8)),
        "unexpected label values 5",
    ),
    "multiclass-foreign-colour": (
        "multiclass_microscopy",
        lambda r: _rewrite(_first(r, "masks/*.png"), lambda a: np.where(a == 255, 254, a).astype(np.uint8)),
        "not in the palette",
    ),
    "murphy-collection-unlabelled": (
        "murphy",
        lambda r: _delete(r / "labels" / "ic100").parent.parent / "images" / "ic100",
        "has no labels",
    ),
    "isic2017-image-missing": (
        "isic2017",
        _image_deleted("*_Data/*.jpg", _isic_mask("ISIC-2017_Validation_Part1_GroundTruth")),
        "label has no matching image",
    ),
    "kvasir-image-missing": (
        "kvasir_seg",
        _image_deleted("Kvasir-SEG/images/*.jpg", lambda image: image.parents[1] / "masks" / image.name),
        "label has no matching image",
    ),
    "drosophila-unknown-map-value": (
        "drosophila_vnc",
        lambda r: _rewrite(
            r / "stack1/labels/labels00000003.png", lambda a: np.where(a == 255, 200, a).astype(np.uint8)
        ),
        "unexpected label values 200 (allowed: 0, 32, 64, 96, 128, 159, 191, 223, 255)",
    ),
    "drosophila-section-missing": (
        "drosophila_vnc",
        _image_deleted("stack1/raw/*.tif", lambda raw: raw.parents[1] / "labels" / f"labels{int(raw.stem):08d}.png"),
        "label has no matching image",
    ),
    "monuseg-two-vertices": ("monuseg", lambda r: _edit_regions(r, _two_vertices), "region 2: 2 vertices"),
    "monuseg-text-coordinate": ("monuseg", lambda r: _edit_regions(r, _text_coordinate), "region 3: non-numeric"),
    "monuseg-xml-missing": (
        "monuseg",
        lambda r: _delete(_first(r, "MoNuSegTestData/*.xml")).with_suffix(".tif"),
        "image has no label",
    ),
    "monuseg-unreadable-xml": ("monuseg", lambda r: _garbage(_first(r, "MoNuSegTestData/*.xml")), "unreadable file"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_named_and_data_dir_untouched(tmp_path: Path, case: str):
    key, breaks, problem = CASES[case]
    dataset = key.split("-")[0]
    raw = synthesize(dataset, tmp_path / "raw", **{"size": 24, **SYNTH[key]})
    data = tmp_path / "data"
    prepare_quietly(dataset, raw, data, **OPTIONS.get(dataset, {}))
    before = snapshot(data)
    culprit = breaks(raw)
    with pytest.raises(DataPreparationError) as error:
        prepare_quietly(dataset, raw, data, **OPTIONS.get(dataset, {}))
    message = str(error.value)
    assert problem in message and culprit.name in message, message
    assert snapshot(data) == before
    assert leftovers(data) == []


def test_empty_or_missing_source_is_an_error(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataPreparationError, match="no dsb2018 data found"):
        prepare_quietly("dsb2018", tmp_path / "empty", tmp_path / "data")
    with pytest.raises(DataPreparationError, match="source folder does not exist"):
        prepare_quietly("dsb2018", tmp_path / "nowhere", tmp_path / "data")
    assert not (tmp_path / "data").exists() and leftovers(tmp_path / "data") == []


def test_unknown_mapping_is_an_error_naming_the_choices(tmp_path: Path):
    raw = synthesize("drosophila_vnc", tmp_path / "raw", count=8, size=24)
    prepare_quietly("drosophila_vnc", raw, tmp_path / "data")
    before = snapshot(tmp_path / "data")
    with pytest.raises(DataPreparationError, match="--mapping must be one of membrane, organelles, got 'nuclei'"):
        prepare_quietly("drosophila_vnc", raw, tmp_path / "data", mapping="nuclei")
    with pytest.raises(DataPreparationError, match="--block must be an integer >= 1"):
        prepare_quietly("drosophila_vnc", raw, tmp_path / "data", block=0)
    assert snapshot(tmp_path / "data") == before and leftovers(tmp_path / "data") == []


def test_colour_masks_without_palette_are_an_error(tmp_path: Path):
    raw = synthesize("multiclass_microscopy", tmp_path / "raw", count=8, size=24)
    with pytest.raises(DataPreparationError, match="img_000.png: wrong channel count: colour-coded mask, but no"):
        prepare_quietly("multiclass_microscopy", raw, tmp_path / "data")


def test_unknown_dataset_or_option_is_an_error(tmp_path: Path):
    with pytest.raises(DataPreparationError, match="unknown dataset"):
        prepare_quietly("mnist", tmp_path, tmp_path / "data")
    with pytest.raises(DataPreparationError, match="--threshold"):
        prepare_quietly("isic2018", tmp_path, tmp_path / "data", treshold=3)


def test_cli_bad_input_exits_nonzero_with_a_short_message(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    result = run_cli("dsb2018", "--src", tmp_path / "empty", "--dst", tmp_path / "data", cwd=tmp_path)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: {tmp_path / 'empty'}") and "empty" in last
    assert "Traceback" not in result.stderr and not (tmp_path / "data").exists()

    raw = synthesize("isic2018", tmp_path / "raw", count=8, size=24)
    prepare_quietly("isic2018", raw, tmp_path / "data")
    before = snapshot(tmp_path / "data")
    bad = _garbage(_first(raw, "*GroundTruth/*.png"))
    result = run_cli("isic2018", "--src", raw, "--dst", tmp_path / "data", "--progress=False", cwd=tmp_path)
    assert result.returncode != 0
    assert bad.name in result.stderr and "unreadable file" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(tmp_path / "data") == before
    assert json.loads((tmp_path / "data" / "datalist.json").read_text())["numTest"] == 2
