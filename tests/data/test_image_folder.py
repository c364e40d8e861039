"""The ``folder`` layout: a user's own images/ + masks/ (or labels/), binary or index masks, grey or RGB images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from custom_networks.data import DataPreparationError, synthesize
from tests.data.checks import check_datalist, prepare_quietly


def _write(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def _own_data(root: Path, count: int = 8, masks: str = "masks", grey_every: int = 0) -> None:
    """``count`` 20×24 images (RGB; grey where ``i % grey_every == 0``) with 0/1 masks of a bright square."""
    for i in range(count):
        mask = np.zeros((20, 24), np.uint8)
        mask[4 : 10 + i % 4, 5:15] = 1
        rgb = np.dstack([mask * 150 + 40, mask * 90 + 60, np.full_like(mask, 80 + i)]).astype(np.uint8)
        _write(root / "images" / f"case{i}.png", rgb[..., 0] if grey_every and i % grey_every == 0 else rgb)
        _write(root / masks / f"case{i}.png", mask)


def test_labels_folder_and_zero_one_masks_are_read_as_they_are(tmp_path: Path):
    _own_data(tmp_path / "raw", masks="labels")
    prepare_quietly("folder", tmp_path / "raw", tmp_path / "data", num_folds=3)
    datalist = check_datalist(tmp_path / "data", cases=8, channels=3, label_values={0, 1}, num_folds=3)
    item = datalist["training"][0]
    source = np.asarray(Image.open(tmp_path / "raw" / "labels" / f"{item['case']}.png"))
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "data" / item["label"])), source)
    image = tmp_path / "data" / item["image"]
    assert image.read_bytes() == (tmp_path / "raw" / "images" / f"{item['case']}.png").read_bytes(), "copied as is"


def test_mixed_channel_counts_need_a_choice(tmp_path: Path):
    _own_data(tmp_path / "raw", grey_every=3)
    with pytest.raises(DataPreparationError, match=r"case1.png: 3-channel image, but case0.png has 1: .*--channels 1"):
        prepare_quietly("folder", tmp_path / "raw", tmp_path / "data", num_folds=3)
    assert not (tmp_path / "data").exists()

    prepare_quietly("folder", tmp_path / "raw", tmp_path / "grey", num_folds=3, channels=1)
    check_datalist(tmp_path / "grey", cases=8, channels=1, label_values={0, 1}, num_folds=3)
    rgb = np.asarray(Image.open(tmp_path / "raw" / "images" / "case1.png")).astype(float)
    grey = np.asarray(Image.open(tmp_path / "grey" / "images" / "case1.png"))
    r, g, b = rgb[0, 0]  # background pixel: (40, 60, 81)
    assert grey[0, 0] == round(0.299 * r + 0.587 * g + 0.114 * b) == 56  # 11.96 + 35.22 + 9.23

    prepare_quietly("folder", tmp_path / "raw", tmp_path / "rgb", num_folds=3, channels=3)
    check_datalist(tmp_path / "rgb", cases=8, channels=3, label_values={0, 1}, num_folds=3)
    made_rgb = np.asarray(Image.open(tmp_path / "rgb" / "images" / "case0.png"))
    source = np.asarray(Image.open(tmp_path / "raw" / "images" / "case0.png"))
    assert made_rgb.shape == (20, 24, 3) and (made_rgb == source[..., None]).all()


def test_noisy_masks_are_thresholded_and_colour_masks_need_a_palette(tmp_path: Path):
    raw = synthesize("folder", tmp_path / "raw", count=8, size=32)
    for mask in (raw / "masks").glob("*.png"):  # JPEG-like noise around 0 and 255
        values = np.asarray(Image.open(mask)).astype(int)
        Image.fromarray(np.clip(values + np.where(values > 0, -9, 7), 0, 255).astype(np.uint8)).save(mask)
    with pytest.raises(DataPreparationError, match="do not look like class indices"):
        prepare_quietly("folder", raw, tmp_path / "data", mask_suffix="_mask")
    prepare_quietly("folder", raw, tmp_path / "data", mask_suffix="_mask", threshold=127)
    check_datalist(tmp_path / "data", cases=8, channels=3, label_values={0, 1})

    mask = next((raw / "masks").glob("*.png"))
    values = np.asarray(Image.open(mask))
    Image.fromarray(np.dstack([values, values // 2, values]).astype(np.uint8)).save(mask)
    with pytest.raises(DataPreparationError, match=f"{mask.name}: wrong channel count: colour-coded mask, but no"):
        prepare_quietly("folder", raw, tmp_path / "data", mask_suffix="_mask", threshold=127)
    with pytest.raises(DataPreparationError, match="--channels must be 1 or 3"):
        prepare_quietly("folder", raw, tmp_path / "data", channels=4)
