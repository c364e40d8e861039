"""Bad input at the bundles' entry points (train, evaluate, inference) stops with the file and the problem named;
a batch inference over a folder reports its bad files and still writes every good output."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from monai.bundle import run
from PIL import Image

from custom_networks.errors import DEBUG_VARIABLE
from custom_networks.transforms import InputFileError, input_error
from tests.bundles.conftest import CASES_2D, BundleCase, last_line, prepare_and_train

pytestmark = pytest.mark.slow
CASE = next(c for c in CASES_2D if c.name == "mildnet_dsb2018_nuclei")


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    """(dataset_dir, bundle_root) of the DSB bundle trained 1 epoch on synthetic data."""
    return prepare_and_train(CASE, tmp_path_factory.mktemp("bad_input"), max_epochs=1)


def _rgb(path: Path, height: int, width: int, channels: tuple[int, ...] = (3,)) -> Path:
    rng = np.random.default_rng(height * width)
    Image.fromarray(rng.integers(0, 255, (height, width, *channels), dtype=np.uint8)).save(path)
    return path


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _run(case: BundleCase, configs: list[str], bundle_root: Path, **overrides) -> None:
    run(config_file=case.config(*configs), bundle_root=str(bundle_root), progress=False, **case.overrides, **overrides)


def test_batch_inference_skips_bad_files_and_writes_the_good_ones(trained, tmp_path):
    """Through the command line, as users run it: exit status 0, a mask per good file (an image smaller than the
    network's window is padded and comes back at its own size), a warning and a CSV row per bad file."""
    _, bundle_root = trained
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    good = {"good.png": (40, 48), "tiny.png": (8, 8)}
    for name, (h, w) in good.items():
        _rgb(inputs / name, h, w)
    _truncate(_rgb(inputs / "truncated.png", 40, 48))
    (inputs / "garbage.png").write_bytes(b"not an image" * 20)
    _rgb(inputs / "grey.png", 40, 48, ())
    _rgb(inputs / "rgba.png", 40, 48, (4,))
    nib.save(nib.Nifti1Image(np.zeros((16, 16, 16), np.float32), np.eye(4)), inputs / "volume.nii.gz")
    out = tmp_path / "predictions"
    overrides = [f"--{k}={v!r}" for k, v in CASE.overrides.items() if k != "batch_size"]
    result = subprocess.run(
        [sys.executable, "-m", "monai.bundle", "run", "--config_file", CASE.config("inference.json")[0]]
        + ["--bundle_root", str(bundle_root), "--input_path", str(inputs), "--output_dir", str(out), *overrides],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for name, shape in good.items():
        assert np.asarray(Image.open(out / name.replace(".png", "_seg.png"))).shape == shape
    assert sorted(p.name for p in out.glob("*_seg.png")) == ["good_seg.png", "tiny_seg.png"]
    with open(out / "skipped_inputs.csv", encoding="utf-8") as f:
        reasons = {Path(row["image"]).name: row["error"] for row in csv.DictReader(f)}
    assert sorted(reasons) == ["garbage.png", "grey.png", "rgba.png", "truncated.png", "volume.nii.gz"]
    assert "cannot read image" in reasons["truncated.png"] and "truncated" in reasons["truncated.png"]
    assert "cannot read image" in reasons["garbage.png"]
    assert "expected 3 channel(s), got 1" in reasons["grey.png"]
    assert "expected 3 channel(s), got 4" in reasons["rgba.png"]
    assert "expected a 2-D image" in reasons["volume.nii.gz"]
    log = result.stdout + result.stderr
    assert all(f"skipping {inputs / name}" in log for name in reasons) and "5 of 7 inputs skipped" in log


def test_inference_with_no_good_file_fails(trained, tmp_path):
    _, bundle_root = trained
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "garbage.png").write_bytes(b"not an image")
    with pytest.raises(RuntimeError) as caught:
        _run(CASE, ["inference.json"], bundle_root, input_path=str(tmp_path / "in"), output_dir=str(tmp_path / "out"))
    assert isinstance(input_error(caught.value), InputFileError)
    assert "none of the 1 inputs can be segmented" in str(input_error(caught.value))


@pytest.mark.parametrize("configs", [["inference.json"], ["train.json", "evaluate.json"]], ids=["infer", "evaluate"])
def test_missing_model_is_named(trained, tmp_path, configs):
    data, bundle_root = trained
    empty = tmp_path / "models"
    with pytest.raises(Exception) as caught:
        _run(CASE, configs, bundle_root, dataset_dir=str(data), ckpt_dir=str(empty), output_dir=str(tmp_path / "out"))
    error = input_error(caught.value)
    assert isinstance(error, FileNotFoundError) and f"{empty / 'model.pt'}: no trained model" in str(error)


ENSEMBLE_CONFIGS = {
    "infer": ["inference.json", "ensemble_inference.json"],
    "evaluate": ["train.json", "evaluate.json", "ensemble_evaluate.json"],
}


@pytest.mark.parametrize("configs", list(ENSEMBLE_CONFIGS))
def test_ensemble_without_models_is_named(trained, tmp_path, configs):
    """No --ensemble_models, a missing one, a folder without a model: each named before anything is loaded."""
    data, bundle_root = trained
    (tmp_path / "empty").mkdir()
    cases = {
        "no models to ensemble": [],
        f"{tmp_path / 'gone.pt'}: no such file or folder": [str(bundle_root), str(tmp_path / "gone.pt")],
        f"{tmp_path / 'empty'}: holds no model.pt": [str(tmp_path / "empty")],
    }
    for message, models in cases.items():
        with pytest.raises(Exception) as caught:
            _run(CASE, ENSEMBLE_CONFIGS[configs], bundle_root, dataset_dir=str(data), ensemble_models=models)
        assert message in str(input_error(caught.value)), message


def _first(data: Path, split: str, key: str) -> Path:
    datalist = json.loads((data / "datalist.json").read_text())
    item = next(i for i in datalist[split] if split == "testing" or i["fold"] != 0)
    return data / item[key]


def _label_255(data: Path, split: str) -> tuple[Path, str]:
    label = _first(data, split, "label")
    mask = np.asarray(Image.open(label))
    Image.fromarray((mask > 0).astype(np.uint8) * 255).save(label)
    return label, r"label values [255] outside the bundle's classes [0, 1]"


def _grey_image(data: Path, split: str) -> tuple[Path, str]:
    image = _first(data, split, "image")
    Image.open(image).convert("L").save(image)
    return image, "expected 3 channel(s), got 1"


def _truncated_image(data: Path, split: str) -> tuple[Path, str]:
    image = _first(data, split, "image")
    _truncate(image)
    return image, "cannot read image"


def _small_label(data: Path, split: str) -> tuple[Path, str]:
    label = _first(data, split, "label")
    Image.open(label).crop((0, 0, 20, 20)).save(label)
    return label, "label of spatial shape (20, 20) for an image of (64, 64)"


BREAKAGES: dict[str, Callable[[Path, str], tuple[Path, str]]] = {
    "label_values": _label_255,
    "channels": _grey_image,
    "truncated": _truncated_image,
    "label_size": _small_label,
}


@pytest.mark.parametrize("breakage", BREAKAGES)
@pytest.mark.parametrize("split", ["training", "testing"])
def test_bad_dataset_files_are_named_by_train_and_evaluate(trained, tmp_path, breakage, split):
    """A prepared dataset edited afterwards: training (its training split) and evaluation (its test split) stop
    before any work with the file and the problem in the error."""
    data, bundle_root = trained
    broken = tmp_path / "data"
    shutil.copytree(data, broken)
    path, message = BREAKAGES[breakage](broken, split)
    if split == "training":
        configs, overrides = ["train.json"], {"bundle_root": tmp_path / "bundle", "max_epochs": 1}
    else:
        configs, overrides = ["train.json", "evaluate.json"], {"output_dir": str(tmp_path / "eval")}
    with pytest.raises(Exception) as caught:
        _run(CASE, configs, overrides.pop("bundle_root", bundle_root), dataset_dir=str(broken), **overrides)
    error = input_error(caught.value)
    assert isinstance(error, InputFileError) and str(path) in str(error) and message in str(error), str(error)


def test_empty_test_split_is_named(trained, tmp_path):
    data, bundle_root = trained
    broken = tmp_path / "data"
    shutil.copytree(data, broken)
    datalist = json.loads((broken / "datalist.json").read_text())
    (broken / "datalist.json").write_text(json.dumps({**datalist, "testing": []}))
    with pytest.raises(Exception) as caught:
        _run(CASE, ["train.json", "evaluate.json"], bundle_root, dataset_dir=str(broken), output_dir=str(tmp_path))
    assert f"{broken / 'datalist.json'}: the testing split (fold 0) is empty" in str(input_error(caught.value))


def _command_line(configs: list[str], bundle_root: Path, env: dict[str, str] | None = None, **overrides) -> tuple:
    """(exit status, stdout + stderr, last line) of ``python -m monai.bundle run`` as a user types it."""
    command = [sys.executable, "-m", "monai.bundle", "run", "--config_file", repr(CASE.config(*configs))]
    command += ["--bundle_root", str(bundle_root), *[f"--{k}={v}" for k, v in overrides.items()]]
    result = subprocess.run(
        command, capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=300, env=env
    )
    output = result.stdout + result.stderr
    return result.returncode, output, last_line(result.stderr or result.stdout)


def test_training_without_a_prepared_dataset_ends_with_one_line(tmp_path):
    """The first mistake of a new user: no --dataset_dir (here one that does not exist). The data is checked when the
    run starts, not while the config is parsed, so MONAI's workflow checks pass without data."""
    missing = tmp_path / "data"
    status, output, line = _command_line(["train.json"], tmp_path / "bundle", dataset_dir=missing, max_epochs=1)
    assert status == 1 and "Traceback" not in output
    assert line.startswith(f"error: {missing / 'datalist.json'}: not found: prepare the dataset first"), line


@pytest.mark.parametrize("configs", [["inference.json"], ["train.json", "evaluate.json"]], ids=["infer", "evaluate"])
def test_a_missing_model_ends_with_one_line(trained, tmp_path, configs):
    data, _ = trained
    status, output, line = _command_line(configs, tmp_path, dataset_dir=data, output_dir=tmp_path / "out")
    assert status == 1 and "Traceback" not in output
    assert line.startswith(f"error: {tmp_path / 'models' / 'model.pt'}: no trained model: train the bundle first"), line


def test_inference_of_a_missing_input_ends_with_one_line(trained, tmp_path):
    _, bundle_root = trained
    status, _, line = _command_line(["inference.json"], bundle_root, input_path=tmp_path / "scans", **CASE.overrides)
    assert status == 1 and line == (
        f"error: {tmp_path / 'scans'}: no such file or folder to segment; pass it as --input_path."
    )


def test_the_debug_variable_shows_the_traceback(tmp_path):
    env = {**os.environ, DEBUG_VARIABLE: "1"}
    status, output, _ = _command_line(["train.json"], tmp_path / "bundle", env, dataset_dir=tmp_path / "data")
    assert status == 1 and "Traceback" in output and "MissingFileError" in output


def test_a_misspelt_override_is_warned_about_with_the_closest_key(tmp_path):
    _, output, _ = _command_line(
        ["train.json"],
        tmp_path / "bundle",
        dataset_dir=tmp_path / "data",
        max_epoch=1,
        **{"train#dataset#cach_rate": 0},
    )
    assert "--max_epoch: no config of the bundle has this key, so it changes nothing; did you mean --max_epochs?" in (
        output
    )
    assert "--train#dataset#cach_rate: no config of the bundle has this key" in output
    assert "did you mean --train#dataset#cache_rate?" in output
    assert "--dataset_dir: no config" not in output and "--bundle_root: no config" not in output
