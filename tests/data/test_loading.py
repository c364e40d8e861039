"""Bundles read prepared datalists (per split and fold), image folders and 3-D cases through custom_networks.data."""

import csv
import json
import logging
import os
import shutil
from pathlib import Path

import pytest
from monai.data import FolderLayout
from monai.transforms import Compose, ScaleIntensityd
from PIL import Image

from custom_networks.data import (
    datalist_split,
    inference_items,
    prepare,
    readable_items,
    require_items,
    synthesize,
    volume_items,
    volume_name_formatter,
)
from custom_networks.data.loading import output_name
from custom_networks.transforms import CheckedLoadImaged, CheckInputd, InputFileError


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("loading")
    synthesize("dsb2018", tmp / "raw", count=10, size=32)
    prepare("dsb2018", tmp / "raw", tmp / "data", progress=False, verbose=False)
    return tmp / "data"


def test_splits_partition_the_datalist(dataset):
    datalist = json.loads((dataset / "datalist.json").read_text())
    training, validation = datalist_split(dataset, "training", 1), datalist_split(dataset, "validation", 1)
    assert {i["fold"] for i in validation} == {1} and 1 not in {i["fold"] for i in training}
    assert len(training) + len(validation) == len(datalist["training"])
    testing = datalist_split(dataset, "testing")
    assert len(testing) == len(datalist["testing"])
    assert all(Path(i["image"]).is_absolute() and Path(i["label"]).is_file() for i in training + testing)


def test_a_bundle_requires_items_to_read(dataset, tmp_path):
    items = datalist_split(dataset, "training", 0)
    assert require_items(items, tmp_path / "unused") is items  # MONAI Label's items: no dataset_dir needed
    with pytest.raises(FileNotFoundError, match="prepare the dataset first"):
        require_items([], tmp_path)
    with pytest.raises(ValueError, match="no items to read"):
        require_items([], dataset)


def test_bad_requests_name_the_problem(dataset, tmp_path):
    with pytest.raises(ValueError, match="split must be one of"):
        datalist_split(dataset, "train")
    with pytest.raises(ValueError, match=r"validation split .*\(fold 7\) is empty; folds present: \[0, 1, 2, 3, 4\]"):
        datalist_split(dataset, "validation", 7)
    with pytest.raises(FileNotFoundError, match="prepare_data.py"):
        datalist_split(tmp_path, "training")
    assert datalist_split(tmp_path, "training", missing_ok=True) == []
    with pytest.raises(ValueError, match="is empty"):  # missing_ok is about the datalist only
        datalist_split(dataset, "validation", 7, missing_ok=True)


def _own_datalist(dataset: Path, folder: Path, **lists) -> Path:
    """A user's datalist in ``folder`` (paths relative to it) of the prepared ``dataset``'s cases, split as
    ``lists`` says: key → case indices, or for ``test`` image paths only; ``patient`` keys from ``patients``."""
    cases = json.loads((dataset / "datalist.json").read_text())["training"]
    patients = lists.pop("patients", None)

    def item(i: int) -> dict:
        paths = {k: os.path.relpath(dataset / cases[i][k], folder) for k in ("image", "label")}
        return paths if patients is None else {**paths, "patient": patients[i]}

    data = {key: [item(i)["image"] if key == "test" else item(i) for i in indices] for key, indices in lists.items()}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mine.json").write_text(json.dumps(data))
    return folder / "mine.json"


def test_a_users_own_datalist_is_read_as_it_is(dataset, tmp_path):
    """A MONAI datalist without folds: ``validation`` is fold 0, the training items are spread over folds 1-4
    (seeded), decathlon's ``test`` image list is the testing split; relative paths are the file's."""
    path = _own_datalist(dataset, tmp_path / "elsewhere", training=range(5), validation=[5, 6], test=[0, 1])
    validation = datalist_split(path, "validation", 0)
    assert [Path(i["image"]).name for i in validation] == [Path(i["image"]).name for i in _named(dataset, 5, 6)]
    training = datalist_split(path, "training", 0)
    assert len(training) == 5 and {i["fold"] for i in training} <= {1, 2, 3, 4}
    assert training == datalist_split(path, "training", 0), "the same folds every time"
    assert all(Path(i["image"]).is_file() and Path(i["label"]).is_file() for i in training + validation)
    assert inference_items(path) == [{"image": i["image"]} for i in datalist_split(path, "testing")]
    assert [Path(i["image"]).name for i in inference_items(path)] == [
        Path(i["image"]).name for i in _named(dataset, 0, 1)
    ]

    # no validation list: five folds, the cases of one patient kept together
    path = _own_datalist(dataset, tmp_path / "grouped", training=range(7), patients=list("aabbcde"))
    items = datalist_split(path, "training", 9)
    assert {i["fold"] for i in items} == {0, 1, 2, 3, 4}
    assert len({i["fold"] for i in items if i["patient"] == "a"}) == 1
    with pytest.raises(ValueError, match="the testing split .* is empty"):
        datalist_split(path, "testing")


def test_a_users_datalist_with_a_problem_is_named(dataset, tmp_path):
    path = _own_datalist(dataset, tmp_path, training=range(3))
    data = json.loads(path.read_text())
    data["training"][0]["fold"] = 1
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"mine.json: 1 of 3 training items have a 'fold'; give it to all or none"):
        datalist_split(path, "training")
    path.write_text("{training: []}")
    with pytest.raises(ValueError, match="mine.json: not a JSON datalist"):
        datalist_split(path, "training")
    with pytest.raises(FileNotFoundError, match="other.json: not found: prepare the dataset first"):
        datalist_split(tmp_path / "other.json", "training")


def _named(dataset: Path, *indices: int) -> list[dict]:
    cases = json.loads((dataset / "datalist.json").read_text())["training"]
    return [cases[i] for i in indices]


def test_inference_items(dataset, tmp_path):
    assert [i["image"] for i in inference_items(dataset)] == [i["image"] for i in datalist_split(dataset, "testing")]
    folder = dataset / "images"
    images = inference_items(folder)
    assert len(images) == len(list(folder.glob("*.png"))) and images == sorted(images, key=lambda i: i["image"])
    assert inference_items(images[0]["image"]) == images[:1]
    with pytest.raises(FileNotFoundError, match="no image"):
        inference_items(tmp_path)
    with pytest.raises(FileNotFoundError, match="missing: no such file or folder"):
        inference_items(tmp_path / "missing")
    assert inference_items(tmp_path / "missing", missing_ok=True) == []
    with pytest.raises(FileNotFoundError, match="no image"):  # missing_ok is about the path only
        inference_items(tmp_path, missing_ok=True)


def test_readable_items_skip_and_report_bad_files(dataset, tmp_path, caplog):
    """Unreadable and unfitting files are logged and listed with their reason; the preprocessing stops at the check."""
    folder = tmp_path / "in"
    shutil.copytree(dataset / "images", folder)
    good = inference_items(folder)
    (folder / "garbage.png").write_bytes(b"not a png")
    label = next((dataset / "labels").glob("*.png"))
    shutil.copy(label, folder / "grey.png")  # one channel for a 3-channel network
    after_check = []
    preprocessing = Compose(
        [
            CheckedLoadImaged("image", image_only=True, ensure_channel_first=True),
            CheckInputd("image", channels=3, spatial_dims=2),
            ScaleIntensityd("image"),
        ]
    )
    preprocessing.transforms = (*preprocessing.transforms, after_check.append)
    report = tmp_path / "out" / "skipped_inputs.csv"
    with caplog.at_level(logging.WARNING):
        items = readable_items(inference_items(folder), preprocessing, report.parent)
    assert items == good and not after_check
    with open(report, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [Path(r["image"]).name for r in rows] == ["garbage.png", "grey.png"]
    assert "cannot read" in rows[0]["error"] and "expected 3 channel(s), got 1" in rows[1]["error"]
    assert "2 of" in caplog.text and "skipping" in caplog.text
    # a clean run removes the report of the previous one; nothing readable is an error
    assert readable_items(good, preprocessing, report.parent) == good and not report.exists()
    with pytest.raises(InputFileError, match="none of the 1 inputs"):
        readable_items([{"image": str(folder / "garbage.png")}], preprocessing, report.parent)


def test_readable_items_never_give_two_inputs_one_output_name(dataset, tmp_path):
    """``x.png`` and ``x.tif`` would both be written to ``x_seg.png``: the second is skipped, naming the first."""
    folder = tmp_path / "in"
    folder.mkdir()
    image = next((dataset / "images").glob("*.png"))
    for name in ("x.png", "x.tif", "y.png"):
        Image.open(image).save(folder / name)
    preprocessing = Compose([CheckedLoadImaged("image", image_only=True, ensure_channel_first=True)])
    items = readable_items(inference_items(folder), preprocessing, tmp_path / "out")
    assert [Path(i["image"]).name for i in items] == ["x.png", "y.png"]
    with open(tmp_path / "out" / "skipped_inputs.csv", encoding="utf-8") as f:
        (row,) = csv.DictReader(f)
    assert row == {
        "image": str(folder / "x.tif"),
        "error": f"{folder / 'x.tif'}: its mask would overwrite the mask of {folder / 'x.png'} (both named after 'x'); "
        "rename one",
    }
    assert output_name({"image": str(folder / "v.nii.gz")}) == "v"
    cases = volume_name_formatter(MODALITIES)
    assert output_name({"image": [f"/in/case1/{m}.nii.gz" for m in MODALITIES]}, cases) == "case1"


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


MODALITIES = ("t1", "t1ce", "t2", "flair")


def test_volume_items_cases_files_and_series(tmp_path):
    """Case folders of modality files (any case, t1 not confused with t1ce) or DICOM series folders; 4-D files."""
    for m in MODALITIES:
        _touch(tmp_path / "in" / "BraTS_7" / f"BraTS_7_{m.upper()}.nii.gz")
        _touch(tmp_path / "in" / "dicom_case" / m / "IM0001.dcm")
    _touch(tmp_path / "in" / "four_channels.nrrd")
    _touch(tmp_path / "in" / "notes.txt")
    _touch(tmp_path / "in" / ".hidden" / "x_t1.nii")
    items = volume_items(tmp_path / "in", MODALITIES)
    assert items == [
        {"image": [str(tmp_path / "in" / "BraTS_7" / f"BraTS_7_{m.upper()}.nii.gz") for m in MODALITIES]},
        {"image": [str(tmp_path / "in" / "dicom_case" / m) for m in MODALITIES]},
        {"image": str(tmp_path / "in" / "four_channels.nrrd")},
    ]
    assert volume_items(tmp_path / "in" / "BraTS_7", MODALITIES) == items[:1]  # one case folder
    assert volume_items(tmp_path / "in" / "four_channels.nrrd", MODALITIES) == items[2:]
    assert volume_items(tmp_path / "in") == items[2:]  # without modalities only files are volumes


def test_volume_items_bad_input(dataset, tmp_path):
    assert volume_items(dataset) == [{"image": i["image"]} for i in datalist_split(dataset, "testing")]
    for m in MODALITIES[:2]:
        _touch(tmp_path / "partial" / "case3" / f"case3_{m}.mha")
    with pytest.raises(FileNotFoundError, match=r"case3: the case folder lacks modality t2, flair"):
        volume_items(tmp_path / "partial", MODALITIES)
    _touch(tmp_path / "empty" / "readme.md")
    with pytest.raises(FileNotFoundError, match="no volume .* or case folders with t1, t1ce, t2, flair"):
        volume_items(tmp_path / "empty", MODALITIES)
    with pytest.raises(FileNotFoundError, match="missing: no such file or folder"):
        volume_items(tmp_path / "missing", MODALITIES)
    assert volume_items(tmp_path / "missing", MODALITIES, missing_ok=True) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("/in/BraTS_7/BraTS_7_T1.nii.gz", "/out/BraTS_7_seg"),
        ("/in/dicom_case/t1", "/out/dicom_case_seg"),
        ("/in/case.v2/t1.nrrd", "/out/case.v2_seg"),
        ("/in/four_channels.nii.gz", "/out/four_channels_seg"),
        ("/in/flair_study.mha", "/out/flair_study_seg"),
    ],
)
def test_volume_outputs_are_named_after_the_case(source, expected):
    layout = FolderLayout(output_dir="/out", postfix="seg", extension="", makedirs=False)
    names = volume_name_formatter(MODALITIES)({"filename_or_obj": source}, None)
    assert layout.filename(**names) == expected
