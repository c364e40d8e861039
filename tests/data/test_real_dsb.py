"""The real DSB-2018 sample (100 images of stage1_train), when the shared data folder is present."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.data.checks import ROOT, check_datalist, prepare_quietly

SAMPLE = ROOT.parent / "shared" / "data" / "dsb2018_stage1_train_subset"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (SAMPLE / "stage1_train").is_dir(), reason=f"real DSB-2018 sample not found at {SAMPLE}"),
]


def test_real_dsb_sample(tmp_path: Path):
    data = tmp_path / "data"
    summary = prepare_quietly("dsb2018", SAMPLE, data)
    datalist = check_datalist(data, cases=100, channels=3, label_values={0, 1}, extra_keys=("case", "instances"))
    assert [summary.rows[f"fold {k}"]["cases"] for k in range(5)] == [14] * 5
    assert 0.05 < summary.rows["all"]["nucleus"] < 0.3
    for item in datalist["training"] + datalist["testing"]:
        case = SAMPLE / "stage1_train" / item["case"]
        original = Image.open(case / "images" / f"{item['case']}.png")
        assert original.mode == "RGBA"
        image = Image.open(data / item["image"])
        assert image.mode == "RGB" and image.size == original.size
        assert np.array_equal(np.asarray(image), np.asarray(original)[..., :3])
        union = np.zeros(original.size[::-1], dtype=bool)
        masks = sorted((case / "masks").glob("*.png"))
        for mask in masks:
            union |= np.asarray(Image.open(mask)) > 0
        label = np.asarray(Image.open(data / item["label"]))
        assert label.dtype == np.uint8 and np.array_equal(label, union.astype(np.uint8)), item["case"]
        assert item["instances"] == len(masks)
    assert json.loads((data / "summary.json").read_text())["image_sizes"]["256×256"] == 59
