"""Fault injection on real ``python -m monai.bundle run`` processes with tiny settings: training again over an earlier
run, two trainings on one folder, signals mid-epoch and inside a save, a full disk, truncated and unfitting
checkpoints, and inference over folders of odd images. Each case checks the exit status, the one line that names the
fault, the files left afterwards and that the surviving checkpoints load; the resumption after it completes."""

from __future__ import annotations

import csv
import shutil
import signal
import subprocess
import sys
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pytest
import torch
from monai.bundle import run
from PIL import Image

from tests.bundles.conftest import CASES, bundle_command, last_line, prepared_data, run_command, run_until
from tests.faults import file_size_limit, grow_disk, small_disk

pytestmark = pytest.mark.slow
CASE = next(c for c in CASES if c.name == "mildnet_dsb2018_nuclei")
INJECT = Path(__file__).with_name("inject_fault.py")
CHECKPOINT_KEYS = {"model", "optimizer", "trainer", "best_model_saver", "training_state"}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return prepared_data(CASE, tmp_path_factory.mktemp("faults"))


@pytest.fixture(scope="module")
def trained(data, tmp_path_factory) -> Path:
    """A bundle root trained 2 epochs: model.pt, last_checkpoint_epoch=1.pt and =2.pt."""
    root = tmp_path_factory.mktemp("trained") / "bundle"
    config = CASE.config("train.json")
    run(
        "training",
        config_file=config,
        bundle_root=str(root),
        dataset_dir=str(data),
        max_epochs=2,
        progress=False,
        **CASE.overrides,
    )
    return root


def _copy(trained: Path, dst: Path) -> Path:
    return shutil.copytree(trained, dst, ignore=shutil.ignore_patterns("logs"))


def _names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def _assert_loads(models: Path, *names: str) -> None:
    """The checkpoints ``names`` load as the bundles load them: last checkpoints whole, model.pt into a state dict."""
    for name in names:
        checkpoint = torch.load(models / name, map_location="cpu", weights_only=True)
        if name.startswith("last"):
            assert CHECKPOINT_KEYS <= set(checkpoint), name
        else:
            assert checkpoint and all(isinstance(value, torch.Tensor) for value in checkpoint.values()), name


def _output(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def test_training_again_refuses_and_keeps_the_earlier_run(trained, data, tmp_path):
    root = _copy(trained, tmp_path / "bundle")
    models = root / "models"
    before = {path.name: path.read_bytes() for path in models.iterdir()}
    result = run_command(bundle_command(CASE, root, data, "train.json", max_epochs=1))
    assert result.returncode == 1, _output(result)[-3000:]
    assert last_line(result.stderr) == (
        f"error: {models} already holds a training run (model.pt, last_checkpoint_epoch=1.pt, "
        f"last_checkpoint_epoch=2.pt): continue it with --resume True, or start over with --start_over True (its files "
        f"are kept in {models / 'previous_<time>'})"
    )
    assert "Epoch" not in _output(result)  # refused before any data was loaded
    assert {path.name: path.read_bytes() for path in models.iterdir()} == before


def test_start_over_keeps_the_earlier_run_aside(trained, data, tmp_path):
    root = _copy(trained, tmp_path / "bundle")
    models = root / "models"
    before = {path.name: path.read_bytes() for path in models.iterdir()}
    result = run_command(bundle_command(CASE, root, data, "train.json", max_epochs=1, start_over=True))
    assert result.returncode == 0, _output(result)[-3000:]
    (aside,) = models.glob("previous_*")
    assert {path.name: path.read_bytes() for path in aside.iterdir()} == before
    assert _names(models) == sorted([aside.name, "last_checkpoint_epoch=1.pt", "model.pt"])
    assert (models / "last_checkpoint_epoch=1.pt").read_bytes() != before["last_checkpoint_epoch=1.pt"]
    _assert_loads(models, "last_checkpoint_epoch=1.pt", "model.pt")


def test_resume_continues_its_own_run_not_the_highest_file_name(trained, data, tmp_path):
    """An older run's checkpoint named epoch 9 (as when a new run was started over an old one by hand) is not
    resumed: the newest save is."""
    root = _copy(trained, tmp_path / "bundle")
    models = root / "models"
    other = torch.load(models / "last_checkpoint_epoch=2.pt", weights_only=True)
    other["training_state"] = {**other["training_state"], "run_id": "an older run", "saved_at": 1.0}
    torch.save(other, models / "last_checkpoint_epoch=9.pt")
    result = run_command(bundle_command(CASE, root, data, "train.json", max_epochs=3, resume=True))
    assert result.returncode == 0, _output(result)[-3000:]
    assert f"{models / 'last_checkpoint_epoch=9.pt'} is of another training run" in _output(result)
    assert f"resumed from {models / 'last_checkpoint_epoch=2.pt'}: epoch 2 of 3 done." in _output(result)
    names = ["last_checkpoint_epoch=2.pt", "last_checkpoint_epoch=3.pt", "last_checkpoint_epoch=9.pt", "model.pt"]
    assert _names(models) == names
    _assert_loads(models, *names)


def test_second_training_fails_at_once_and_a_killed_runs_lock_is_taken_over(data, tmp_path):
    root = tmp_path / "bundle"
    models = root / "models"
    first = subprocess.Popen(
        bundle_command(CASE, root, data, "train.json", max_epochs=50),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )
    try:
        for line in first.stdout:
            if "Epoch: 1/50" in line:
                break
        second = run_command(bundle_command(CASE, root, data, "train.json", max_epochs=1))
        assert second.returncode == 1, _output(second)[-3000:]
        message = last_line(second.stderr)
        assert message.startswith(f"error: {models} is in use by another training (process {first.pid} on "), message
        assert message.endswith(
            "wait for it to end or stop it; two trainings there would overwrite each other's checkpoints."
        )
        assert "monai.bundle run training" in message and "Epoch" not in _output(second)
    finally:
        first.kill()
        first.wait()
        first.stdout.close()
    assert (models / "training.lock").is_file()  # left by the killed run

    done = max(int(path.stem.split("=")[1]) for path in models.glob("last_checkpoint_epoch=*.pt"))
    third = run_command(bundle_command(CASE, root, data, "train.json", max_epochs=done + 1, resume=True))
    assert third.returncode == 0, _output(third)[-3000:]
    assert f"taking over the lock of process {first.pid}" in _output(third)
    assert "training.lock" not in _names(models)
    _assert_loads(models, f"last_checkpoint_epoch={done + 1}.pt", "model.pt")


def test_sigint_mid_epoch_stops_cleanly_and_resumes(data, tmp_path):
    root = tmp_path / "bundle"
    models = root / "models"
    command = bundle_command(CASE, root, data, "train.json", max_epochs=3)
    result = run_until(command, "Epoch: 2/3, Iter: 1/", signal.SIGINT)
    assert result.returncode == 1, result.stdout[-3000:]
    assert last_line(result.stdout) == (
        "stopped by signal SIGINT in epoch 2 of 3 (the checkpoints of the completed epochs are kept): resume with "
        "--resume True"
    )
    assert _names(models) == ["last_checkpoint_epoch=1.pt", "model.pt"]
    _assert_loads(models, "last_checkpoint_epoch=1.pt", "model.pt")
    result = run_command(bundle_command(CASE, root, data, "train.json", max_epochs=3, resume=True))
    assert result.returncode == 0, _output(result)[-3000:]
    assert _names(models) == ["last_checkpoint_epoch=2.pt", "last_checkpoint_epoch=3.pt", "model.pt"]


def test_sigterm_inside_a_save_lets_it_complete(data, tmp_path):
    root = tmp_path / "bundle"
    models = root / "models"
    command = bundle_command(CASE, root, data, "train.json", max_epochs=3)
    result = run_command([sys.executable, str(INJECT), "sigterm", "2", *command[3:]])
    assert result.returncode == 1, _output(result)[-3000:]
    assert last_line(result.stderr) == (
        "stopped by signal SIGTERM in epoch 2 of 3 (the checkpoints of the completed epochs are kept): resume with "
        "--resume True"
    )
    assert _names(models) == ["last_checkpoint_epoch=1.pt", "last_checkpoint_epoch=2.pt", "model.pt"]
    _assert_loads(models, "last_checkpoint_epoch=1.pt", "last_checkpoint_epoch=2.pt", "model.pt")
    trainer = torch.load(models / "last_checkpoint_epoch=2.pt", weights_only=True)["trainer"]
    assert trainer["iteration"] == 2 * trainer["epoch_length"]


def test_sigkill_inside_a_save_leaves_a_partial_file_the_next_run_removes(data, tmp_path):
    root = tmp_path / "bundle"
    models = root / "models"
    command = bundle_command(CASE, root, data, "train.json", max_epochs=3)
    result = run_command([sys.executable, str(INJECT), "sigkill", "2", *command[3:]])
    assert result.returncode == -signal.SIGKILL, _output(result)[-3000:]
    partial = models / "last_checkpoint_epoch=2.pt.partial"
    assert _names(models) == ["last_checkpoint_epoch=1.pt", partial.name, "model.pt", "training.lock"]
    _assert_loads(models, "last_checkpoint_epoch=1.pt", "model.pt")

    result = run_command(command + ["--resume=True"])
    assert result.returncode == 0, _output(result)[-3000:]
    assert f"removed {partial}, an unfinished save of an interrupted run" in _output(result)
    assert f"resumed from {models / 'last_checkpoint_epoch=1.pt'}: epoch 1 of 3 done." in _output(result)
    assert _names(models) == ["last_checkpoint_epoch=2.pt", "last_checkpoint_epoch=3.pt", "model.pt"]
    _assert_loads(models, "last_checkpoint_epoch=2.pt", "last_checkpoint_epoch=3.pt", "model.pt")


ROOM = 3 * 2**20  # bytes: room for a new model.pt (1.7 MB here), not for a last checkpoint (5.1 MB)


@pytest.mark.parametrize("mechanism", ["tmpfs", "file size limit"])
def test_full_disk_ends_with_one_line_and_the_next_resume_continues(trained, data, tmp_path, mechanism):
    """The epoch-3 last checkpoint does not fit: on a tmpfs with 3 MB free (``ENOSPC``, a real full disk; skipped
    where mounting is not allowed) or under a 3 MB file size limit (``EFBIG``, ``RLIMIT_FSIZE``)."""
    used = sum(path.stat().st_size + 4096 for path in trained.rglob("*") if path.is_file() and "logs" not in path.parts)
    disk = tmp_path / "disk"
    with small_disk(disk, used + ROOM) if mechanism == "tmpfs" else nullcontext(disk):
        root = _copy(trained, disk / "bundle")
        models = root / "models"
        command = bundle_command(CASE, root, data, "train.json", max_epochs=3, resume=True)
        limit = file_size_limit(ROOM) if mechanism == "file size limit" else None
        result = run_command(command, preexec_fn=limit)
        assert result.returncode == 1, _output(result)[-3000:]
        reason = "disk full" if mechanism == "tmpfs" else "file size limit reached"
        assert last_line(result.stderr) == (
            f"error: {reason} while saving {models / 'last_checkpoint_epoch=3.pt'}; the previous checkpoint "
            f"{models / 'last_checkpoint_epoch=2.pt'} is intact"
        )
        assert "enforce fail" not in last_line(result.stderr)
        assert _names(models) == ["last_checkpoint_epoch=1.pt", "last_checkpoint_epoch=2.pt", "model.pt"]
        _assert_loads(models, "last_checkpoint_epoch=1.pt", "last_checkpoint_epoch=2.pt", "model.pt")

        if mechanism == "tmpfs":
            grow_disk(disk, used + 10 * ROOM)  # room made, as a user would
        result = run_command(command)
        assert result.returncode == 0, _output(result)[-3000:]
        assert _names(models) == ["last_checkpoint_epoch=2.pt", "last_checkpoint_epoch=3.pt", "model.pt"]
        _assert_loads(models, "last_checkpoint_epoch=3.pt")


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def test_truncated_newest_checkpoint_falls_back_to_the_one_before(trained, data, tmp_path):
    root = _copy(trained, tmp_path / "bundle")
    models = root / "models"
    _truncate(models / "last_checkpoint_epoch=2.pt")
    result = run_command(bundle_command(CASE, root, data, "train.json", max_epochs=3, resume=True))
    assert result.returncode == 0, _output(result)[-3000:]
    assert (
        f"{models / 'last_checkpoint_epoch=2.pt'} is corrupt (RuntimeError: PytorchStreamReader failed reading zip "
        f"archive: failed finding central directory): resuming from {models / 'last_checkpoint_epoch=1.pt'}"
    ) in _output(result)
    assert _names(models) == ["last_checkpoint_epoch=2.pt", "last_checkpoint_epoch=3.pt", "model.pt"]
    _assert_loads(models, "last_checkpoint_epoch=2.pt", "last_checkpoint_epoch=3.pt")


def test_no_readable_checkpoint_names_each_file(trained, data, tmp_path):
    root = _copy(trained, tmp_path / "bundle")
    models = root / "models"
    for name in ("last_checkpoint_epoch=1.pt", "last_checkpoint_epoch=2.pt"):
        _truncate(models / name)
    result = run_command(bundle_command(CASE, root, data, "train.json", max_epochs=3, resume=True))
    assert result.returncode == 1, _output(result)[-3000:]
    corrupt = (
        "is corrupt (RuntimeError: PytorchStreamReader failed reading zip archive: failed finding central directory)"
    )
    assert last_line(result.stderr) == (
        f"error: cannot resume: {models / 'last_checkpoint_epoch=1.pt'} {corrupt}; "
        f"{models / 'last_checkpoint_epoch=2.pt'} {corrupt}; start over with --start_over True"
    )
    assert _names(models) == ["last_checkpoint_epoch=1.pt", "last_checkpoint_epoch=2.pt", "model.pt"]


def test_checkpoint_of_other_settings_names_them(trained, data, tmp_path):
    root = _copy(trained, tmp_path / "bundle")
    models = root / "models"
    before = {path.name: path.read_bytes() for path in models.iterdir()}
    command = bundle_command(CASE, root, data, "train.json", max_epochs=3, resume=True, features=[8, 16, 32, 64, 128])
    result = run_command(command)
    assert result.returncode == 1, _output(result)[-3000:]
    assert last_line(result.stderr) == (
        f"error: {models / 'last_checkpoint_epoch=2.pt'} does not fit this run: the settings differ from the run "
        "that wrote it (features: [4, 8, 16, 32, 64] then, [8, 16, 32, 64, 128] now); resume with that run's "
        "settings or start over with --start_over True"
    )
    assert "size mismatch" not in _output(result)
    assert {path.name: path.read_bytes() for path in models.iterdir()} == before


ODD_IMAGES = {  # name: (height, width) of an RGB image, or None for an empty file
    "good.png": (40, 48),
    "one_row.png": (1, 50),
    "one_pixel.png": (1, 1),
    "tiny.png": (2, 2),
    "one_column.png": (50, 1),
    "long.png": (2, 3000),
    "black.png": (32, 32),
    "empty.png": None,
}
SEGMENTED = ["black.png", "good.png", "long.png", "tiny.png"]
TOO_SMALL = ["one_column.png", "one_pixel.png", "one_row.png"]


def _odd_folder(folder: Path, rotation: int) -> dict[str, str]:
    """The odd images in ``folder``, their sorted order rotated by ``rotation``; returns {file name: kind}."""
    folder.mkdir()
    kinds = list(ODD_IMAGES)
    kinds = kinds[rotation:] + kinds[:rotation]
    names = {}
    for position, kind in enumerate(kinds):
        path = folder / f"{position}_{kind}"
        shape = ODD_IMAGES[kind]
        if shape is None:
            path.write_bytes(b"")
        else:
            fill = 0 if kind == "black.png" else np.random.default_rng(position).integers(0, 255, (*shape, 3))
            Image.fromarray(np.full((*shape, 3), fill, dtype=np.uint8)).save(path)
        names[path.name] = kind
    return names


@pytest.mark.parametrize("rotation", range(len(ODD_IMAGES)))
def test_odd_images_are_segmented_or_skipped_in_every_order(trained, tmp_path, rotation):
    """Each odd image at each position of the folder: the others are segmented all the same."""
    names = _odd_folder(tmp_path / "in", rotation)
    out = tmp_path / "out"
    overrides = {k: v for k, v in CASE.overrides.items() if k != "batch_size"}
    config = CASE.config("inference.json")
    run(
        config_file=config,
        bundle_root=str(trained),
        input_path=str(tmp_path / "in"),
        output_dir=str(out),
        progress=False,
        **overrides,
    )
    segmented = {name: kind for name, kind in names.items() if kind in SEGMENTED}
    for name, kind in segmented.items():
        mask = np.asarray(Image.open(out / name.replace(".png", "_seg.png")))
        assert mask.shape == ODD_IMAGES[kind], name
    assert len(list(out.glob("*_seg.png"))) == len(segmented)
    with open(out / "skipped_inputs.csv", encoding="utf-8") as f:
        reasons = {Path(row["image"]).name: row["error"] for row in csv.DictReader(f)}
    assert sorted(names[name] for name in reasons) == sorted([*TOO_SMALL, "empty.png"])
    for name, reason in reasons.items():
        expected = "cannot read image" if names[name] == "empty.png" else "is too small to segment"
        assert expected in reason, reason


def test_inference_never_writes_two_inputs_to_one_name(trained, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in ("x.png", "x.tif"):
        Image.fromarray(rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)).save(folder / name)
    out = tmp_path / "out"
    overrides = [f"--{k}={v!r}" for k, v in CASE.overrides.items() if k != "batch_size"]
    command = [sys.executable, "-m", "monai.bundle", "run", "--config_file", CASE.config("inference.json")[0]]
    result = run_command(
        [*command, "--bundle_root", str(trained), "--input_path", str(folder), "--output_dir", str(out), *overrides]
    )
    assert result.returncode == 0, _output(result)[-3000:]
    assert _names(out) == ["skipped_inputs.csv", "x_seg.png"]
    with open(out / "skipped_inputs.csv", encoding="utf-8") as f:
        (row,) = csv.DictReader(f)
    assert row["image"] == str(folder / "x.tif") and f"would overwrite the mask of {folder / 'x.png'}" in row["error"]
