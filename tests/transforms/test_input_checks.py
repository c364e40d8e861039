"""Input files that cannot be read or do not fit a bundle fail with the file and the problem named."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from monai.transforms import Compose, ScaleIntensityd
from PIL import Image

from custom_networks.transforms import CheckedLoadImaged, CheckInputd, InputFileError, input_error


def _png(path: Path, shape: tuple[int, ...], values: tuple[int, ...] = (0, 255)) -> Path:
    rng = np.random.default_rng(0)
    Image.fromarray(rng.choice(values, size=shape).astype(np.uint8)).save(path)
    return path


def _truncated(source: Path, path: Path) -> Path:
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    rgb = _png(tmp_path / "rgb.png", (16, 12, 3))
    volume = tmp_path / "volume.nii.gz"
    nib.save(nib.Nifti1Image(np.random.default_rng(0).random((8, 8, 8)).astype(np.float32), np.eye(4)), volume)
    (tmp_path / "garbage.png").write_bytes(b"not an image" * 10)
    return {
        "rgb": rgb,
        "grey": _png(tmp_path / "grey.png", (16, 12)),
        "label": _png(tmp_path / "label.png", (16, 12), (0, 1)),
        "label255": _png(tmp_path / "label255.png", (16, 12)),
        "small_label": _png(tmp_path / "small_label.png", (8, 12), (0, 1)),
        "one_row": _png(tmp_path / "one_row.png", (1, 50, 3)),
        "one_column": _png(tmp_path / "one_column.png", (50, 1, 3)),
        "volume": volume,
        "truncated_png": _truncated(rgb, tmp_path / "truncated.png"),
        "truncated_nii": _truncated(volume, tmp_path / "truncated.nii.gz"),
        "garbage": tmp_path / "garbage.png",
        "missing": tmp_path / "missing.png",
    }


@pytest.mark.parametrize("name", ["truncated_png", "truncated_nii", "garbage", "missing"])
def test_unreadable_files_are_named(files, name):
    with pytest.raises(InputFileError, match="cannot read image: .*" + files[name].name):
        CheckedLoadImaged("image", image_only=True)({"image": str(files[name])})


def test_readable_files_load_as_with_monai(files):
    image = CheckedLoadImaged("image", image_only=True, ensure_channel_first=True)({"image": str(files["rgb"])})[
        "image"
    ]
    assert image.shape == (3, 12, 16)


@pytest.mark.parametrize(
    ("image", "label", "message"),
    [
        ("grey", None, "grey.png: expected 3 channel\\(s\\), got 1"),
        ("volume", None, "volume.nii.gz: expected a 2-D image"),
        ("rgb", "label255", "label255.png: label values \\[255\\] outside the bundle's classes \\[0, 1\\]"),
        ("rgb", "small_label", "small_label.png: label of spatial shape \\(12, 8\\) for an image of \\(12, 16\\)"),
        (
            "one_row",
            None,
            "one_row.png: a side of 1 pixel\\(s\\) \\(spatial size \\(50, 1\\)\\) is too small to segment",
        ),
        ("one_column", None, "one_column.png: a side of 1 pixel\\(s\\) \\(spatial size \\(1, 50\\)\\) is too small"),
    ],
)
def test_inputs_that_do_not_fit_are_named(files, image, label, message):
    item = {"image": str(files[image])} | ({"label": str(files[label])} if label else {})
    load = CheckedLoadImaged(list(item), image_only=True, ensure_channel_first=True)
    check = CheckInputd("image", channels=3, spatial_dims=2, label_key="label", label_values=[0, 1])
    with pytest.raises(InputFileError, match=message):
        check(load(item))


def test_fitting_input_passes_unchanged(files):
    item = CheckedLoadImaged(["image", "label"], image_only=True, ensure_channel_first=True)(
        {"image": str(files["rgb"]), "label": str(files["label"])}
    )
    checked = CheckInputd("image", channels=3, spatial_dims=2, label_key="label", label_values=[0, 1])(item)
    assert checked["image"] is item["image"] and checked["label"] is item["label"]
    # inference items have no label; label values are checked only when given
    unlabelled = CheckInputd("image", channels=3, spatial_dims=2, label_key="label")({"image": item["image"]})
    assert list(unlabelled) == ["image"]


def test_error_is_found_behind_monai_compose(files):
    pipeline = Compose([CheckedLoadImaged("image", image_only=True), ScaleIntensityd("image")])
    with pytest.raises(RuntimeError) as caught:
        pipeline({"image": str(files["truncated_png"])})
    found = input_error(caught.value)
    assert isinstance(found, InputFileError) and "truncated.png" in str(found)
    # without an InputFileError in the chain, the innermost cause is reported
    outer = RuntimeError("outer")
    outer.__cause__ = KeyError("inner")
    assert isinstance(input_error(outer), KeyError)
