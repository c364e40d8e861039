"""A bundle trained on a user's own data: a folder of images and 0/255 masks prepared with the ``folder`` layout,
and the user's own MONAI datalist passed as ``--dataset_dir`` (README "Train a bundle on your own data")."""

from __future__ import annotations

import json
import os
from pathlib import Path

from monai.bundle import run

from custom_networks.data import prepare, synthesize
from tests.bundles.conftest import CASES, bundle_command, last_line, run_command, run_evaluation

CASE = next(c for c in CASES if c.name == "mildnet_dsb2018_nuclei")


def _train(dataset_dir: Path, bundle_root: Path) -> None:
    run(
        "training",
        config_file=CASE.config("train.json"),
        bundle_root=str(bundle_root),
        dataset_dir=str(dataset_dir),
        max_epochs=1,
        progress=False,
        **CASE.overrides,
    )


def test_a_folder_of_images_and_masks_and_a_users_datalist_train_and_evaluate(tmp_path: Path):
    raw = synthesize("folder", tmp_path / "raw", count=12, size=48)
    prepare("folder", raw, tmp_path / "data", mask_suffix="_mask", progress=False, verbose=False)
    _train(tmp_path / "data", tmp_path / "prepared")
    metrics = run_evaluation(CASE, tmp_path / "data", tmp_path / "prepared", tmp_path / "eval_prepared")
    assert 0.0 <= metrics["test_mean_dice"] <= 1.0

    # the user's own datalist elsewhere, without folds: validation and test lists of their own
    cases = json.loads((tmp_path / "data" / "datalist.json").read_text())["training"]
    own = tmp_path / "own"
    own.mkdir()

    def item(case: dict) -> dict:
        return {k: os.path.relpath(tmp_path / "data" / case[k], own) for k in ("image", "label")}

    datalist = {"training": [item(c) for c in cases[2:]], "validation": [item(c) for c in cases[:2]]}
    datalist["testing"] = datalist["validation"]
    (own / "datalist.json").write_text(json.dumps(datalist))
    _train(own / "datalist.json", tmp_path / "own_bundle")
    assert (tmp_path / "own_bundle" / "models" / "model.pt").is_file()
    metrics = run_evaluation(CASE, own / "datalist.json", tmp_path / "own_bundle", tmp_path / "eval_own")
    assert 0.0 <= metrics["test_mean_dice"] <= 1.0


def test_a_users_datalist_of_0_255_masks_is_named_in_one_line(tmp_path: Path):
    raw = synthesize("folder", tmp_path / "raw", count=6, size=32)
    images = sorted((raw / "images").iterdir())
    items = [{"image": str(p), "label": str(raw / "masks" / f"{p.stem}_mask.png")} for p in images]
    (tmp_path / "mine.json").write_text(json.dumps({"training": items}))
    result = run_command(bundle_command(CASE, tmp_path / "bundle", tmp_path / "mine.json", "train.json", max_epochs=1))
    assert result.returncode != 0
    line = last_line(result.stderr)
    assert line.startswith("error: ") and "_mask.png: label values [255] outside the bundle's classes [0, 1]" in line
    assert "prepare_data.py folder" in line and "Traceback" not in result.stderr
