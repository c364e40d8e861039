"""Every supported raw layout, built synthetically, prepares into a datalist that honours the contract."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import tifffile
from PIL import Image

from custom_networks.data import SYNTHETIC_PALETTE, synthesize
from tests.data.checks import check_datalist, check_grouping, load, prepare_quietly

SIZE = 32
PALETTE = [list(c) for c in SYNTHETIC_PALETTE]
MONUSEG_KEYS = ("case", "subset", "patient", "instance_map")

# name → (dataset, synthesize options, prepare options, cases, channels, label values, extra keys, grouped by)
LAYOUTS = {
    "folder": ("folder", {"count": 10}, {"mask_suffix": "_mask"}, 10, 3, {0, 1}, ("case",), None),
    "folder-index-grey": (
        "folder",
        {"count": 10, "classes": 3, "grey": True, "mask_suffix": ""},
        {},
        10,
        1,
        {0, 1, 2},
        ("case",),
        None,
    ),
    "isbi2012": ("isbi2012", {"count": 10}, {}, 10, 1, {0, 1}, ("case",), None),
    "isbi2012-png": ("isbi2012", {"count": 10, "layout": "png"}, {}, 10, 1, {0, 1}, ("case",), None),
    "isic2018": ("isic2018", {"count": 10}, {}, 10, 3, {0, 1}, ("case",), None),
    "glas2015": ("glas2015", {"count": 20}, {}, 20, 3, {0, 1}, ("case", "subset", "patient", "grade"), "patient"),
    "dsb2018": ("dsb2018", {"count": 10}, {}, 10, 3, {0, 1}, ("case", "instances"), None),
    "lgg": ("lgg", {"count": 8, "slices": 3}, {}, 24, 3, {0, 1}, ("case", "patient", "slice"), "patient"),
    "murphy": ("murphy", {"count": 10}, {}, 10, 1, {0, 1}, ("case", "collection"), None),
    "cvc_clinicdb": ("cvc_clinicdb", {"count": 10}, {}, 10, 3, {0, 1}, ("case",), None),
    "cvc_clinicdb-png": ("cvc_clinicdb", {"count": 10, "fmt": "png"}, {}, 10, 3, {0, 1}, ("case",), None),
    "brats": ("brats", {"count": 7, "size": 24, "depth": 16}, {}, 7, 4, {0, 1, 2, 4}, ("case", "patient"), "patient"),
    "brats-decathlon": (
        "brats",
        {"count": 7, "size": 24, "depth": 16, "layout": "decathlon"},
        {},
        7,
        4,
        {0, 1, 2, 4},
        ("case", "patient"),
        "patient",
    ),
    "wsi_tiles": ("wsi_tiles", {"count": 10}, {}, 10, 3, {0, 1}, ("case",), None),
    "multiclass-colour": (
        "multiclass_microscopy",
        {"count": 10},
        {"palette": PALETTE},
        10,
        1,
        {0, 1, 2},
        ("case",),
        None,
    ),
    "multiclass-index": (
        "multiclass_microscopy",
        {"count": 10, "colour": False},
        {"num_classes": 3},
        10,
        1,
        {0, 1, 2},
        ("case",),
        None,
    ),
    "isic2017": ("isic2017", {"count": 10}, {}, 10, 3, {0, 1}, ("case", "subset"), None),
    "isic2017-all": ("isic2017", {"count": 12, "layout": "all"}, {}, 12, 3, {0, 1}, ("case", "subset"), None),
    "kvasir_seg": ("kvasir_seg", {"count": 10}, {}, 10, 3, {0, 1}, ("case",), None),
    "drosophila_vnc": ("drosophila_vnc", {"count": 10}, {}, 10, 1, {0, 1}, ("case", "slice"), None),
    "drosophila_vnc-organelles": (
        "drosophila_vnc",
        {"count": 10},
        {"mapping": "organelles"},
        10,
        1,
        {0, 1, 2},
        ("case", "slice"),
        None,
    ),
    "monuseg": ("monuseg", {"count": 10}, {}, 10, 3, {0, 1}, MONUSEG_KEYS, "patient"),
    "monuseg-training": ("monuseg", {"count": 10, "layout": "training"}, {}, 10, 3, {0, 1}, MONUSEG_KEYS, "patient"),
}


def _make(tmp_path: Path, key: str) -> tuple[Path, Path, dict]:
    dataset, synth, options, cases, channels, values, extra, group = LAYOUTS[key]
    raw = synthesize(dataset, tmp_path / "raw", **{"size": SIZE, **synth})
    prepare_quietly(dataset, raw, tmp_path / "data", **options)
    datalist = check_datalist(
        tmp_path / "data",
        cases=cases,
        channels=channels,
        label_values=values,
        extra_keys=extra,
        grouped=group is not None,
    )
    if group is not None:
        check_grouping(datalist, group)
    return raw, tmp_path / "data", datalist


@pytest.mark.parametrize("key", list(LAYOUTS))
def test_layout_prepares_to_contract(tmp_path: Path, key: str):
    _, data, datalist = _make(tmp_path, key)
    labels = np.concatenate([load(data / item["label"]).ravel() for item in datalist["training"]])
    assert set(np.unique(labels).astype(int)) == LAYOUTS[key][5], "every class occurs in the training labels"
    summary = json.loads((data / "summary.json").read_text())
    assert summary["splits"]["all"]["cases"] == LAYOUTS[key][3]


def test_isbi_pages_become_pngs_with_cell_as_one(tmp_path: Path):
    raw, data, datalist = _make(tmp_path, "isbi2012")
    volume, labels = tifffile.imread(raw / "train-volume.tif"), tifffile.imread(raw / "train-labels.tif")
    assert (raw / "test-volume.tif").is_file()  # present in the release, unlabelled, not used
    for item in datalist["training"] + datalist["testing"]:
        page = int(item["case"].split("_")[1])
        assert np.array_equal(np.asarray(Image.open(data / item["image"])), volume[page])
        assert np.array_equal(np.asarray(Image.open(data / item["label"])), labels[page] // 255)
    prepare_quietly("isbi2012", raw, tmp_path / "membrane", foreground="membrane")
    flipped = json.loads((tmp_path / "membrane" / "datalist.json").read_text())
    assert flipped["labels"] == {"0": "cell", "1": "membrane"}
    first = flipped["training"][0]
    original = np.asarray(Image.open(data / first["label"]))
    assert np.array_equal(np.asarray(Image.open(tmp_path / "membrane" / first["label"])), 1 - original)


def test_dsb_label_is_union_of_instances_and_alpha_dropped(tmp_path: Path):
    raw, data, datalist = _make(tmp_path, "dsb2018")
    for item in datalist["training"] + datalist["testing"]:
        case = raw / "stage1_train" / item["case"]
        rgba = np.asarray(Image.open(case / "images" / f"{item['case']}.png"))
        assert rgba.shape[-1] == 4
        masks = [np.asarray(Image.open(p)) for p in sorted((case / "masks").glob("*.png"))]
        assert item["instances"] == len(masks)
        assert np.array_equal(np.asarray(Image.open(data / item["image"])), rgba[..., :3])
        assert np.array_equal(np.asarray(Image.open(data / item["label"])), np.any(masks, axis=0).astype(np.uint8))


def test_lgg_keeps_patients_whole(tmp_path: Path):
    _, data, datalist = _make(tmp_path, "lgg")
    items = datalist["training"] + datalist["testing"]
    assert {item["slice"] for item in items} == {1, 2, 3}
    assert len({item["patient"] for item in datalist["testing"]}) == 2  # 30 % of 8 patients, whole
    per_patient = {}
    for item in items:
        per_patient.setdefault(item["patient"], []).append(item)
    assert all(len(slices) == 3 for slices in per_patient.values())


def test_glas_groups_by_patient_unless_told_not_to(tmp_path: Path):
    raw, data, datalist = _make(tmp_path, "glas2015")
    items = datalist["training"] + datalist["testing"]
    assert {item["subset"] for item in items} == {"train", "testA", "testB"}
    assert {item["grade"] for item in items} == {"benign", "malignant"}
    prepare_quietly("glas2015", raw, tmp_path / "by_image", group_by_patient=False)
    by_image = json.loads((tmp_path / "by_image" / "datalist.json").read_text())
    assert len(by_image["testing"]) == 6


def test_brats_layouts_give_the_same_cases(tmp_path: Path):
    """Decathlon channels are reordered to T1, T1ce, T2, FLAIR and its labels mapped to 0/1/2/4: the synthetic
    Decathlon copy holds the same volumes as the per-case copy, so both preparations must agree voxel for voxel."""
    raw, data, datalist = _make(tmp_path / "cases", "brats")
    _, dec_data, dec_datalist = _make(tmp_path / "decathlon", "brats-decathlon")
    assert datalist["modality"] == {"0": "T1", "1": "T1ce", "2": "T2", "3": "FLAIR"}
    for item, dec_item in zip(datalist["training"], dec_datalist["training"], strict=True):
        case = item["case"]
        image = np.asanyarray(nib.load(data / item["image"]).dataobj)
        assert image.shape == (24, 24, 16, 4)
        for channel, modality in enumerate(("t1", "t1ce", "t2", "flair")):
            assert np.array_equal(image[..., channel], nib.load(raw / case / f"{case}_{modality}.nii.gz").get_fdata())
        assert (data / item["label"]).read_bytes() == (raw / case / f"{case}_seg.nii.gz").read_bytes()  # kept as is
        dec_image = np.asanyarray(nib.load(dec_data / dec_item["image"]).dataobj)
        assert np.array_equal(dec_image, image.astype(np.float32))
        dec_label = np.asanyarray(nib.load(dec_data / dec_item["label"]).dataobj)
        assert np.array_equal(dec_label, np.asanyarray(nib.load(data / item["label"]).dataobj))


def test_multiclass_colour_and_index_masks_agree(tmp_path: Path):
    _, colour_data, colour = _make(tmp_path / "colour", "multiclass-colour")
    _, index_data, index = _make(tmp_path / "index", "multiclass-index")
    for a, b in zip(colour["training"], index["training"], strict=True):
        assert np.array_equal(load(colour_data / a["label"]), load(index_data / b["label"]))
    palette_file = tmp_path / "palette.json"
    palette_file.write_text(json.dumps(PALETTE))
    raw = tmp_path / "colour" / "raw"
    prepare_quietly(
        "multiclass_microscopy", raw, tmp_path / "from_file", palette=str(palette_file), class_names=list("abc")
    )
    assert json.loads((tmp_path / "from_file" / "datalist.json").read_text())["labels"] == {
        "0": "a",
        "1": "b",
        "2": "c",
    }


def test_copyable_images_are_copied_and_others_converted(tmp_path: Path):
    raw, data, datalist = _make(tmp_path, "wsi_tiles")
    for item in datalist["training"] + datalist["testing"]:
        source = next((raw / "images").glob(f"{item['case']}.*"))
        assert item["image"].endswith(".png")
        if source.suffix == ".png":
            assert (data / item["image"]).read_bytes() == source.read_bytes()
        else:
            assert np.array_equal(np.asarray(Image.open(data / item["image"])), tifffile.imread(source))
    raw, data, datalist = _make(tmp_path / "isic", "isic2018")
    item = datalist["training"][0]
    assert (data / item["image"]).read_bytes() == (
        raw / "ISIC2018_Task1-2_Training_Input" / f"{item['case']}.jpg"
    ).read_bytes()


def test_murphy_names_carry_the_collection(tmp_path: Path):
    _, _, datalist = _make(tmp_path, "murphy")
    items = datalist["training"] + datalist["testing"]
    assert {item["collection"] for item in items} == {"gnf", "ic100"}
    assert all(item["case"].startswith(item["collection"] + "_dna-") for item in items)
