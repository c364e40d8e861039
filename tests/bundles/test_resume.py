"""Interrupted training: a real ``monai.bundle run`` killed with SIGKILL, or stopped with SIGTERM, mid-epoch resumes
with ``--resume True`` to the weights and metrics of the uninterrupted run; a non-finite loss stops training with a
clear message and keeps the last good checkpoint."""

from __future__ import annotations

import csv
import json
import signal
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch

from custom_networks.data import prepare, synthesize
from tests.bundles.conftest import CASES, bundle_command, last_line, prepared_data, run_command, run_until

pytestmark = pytest.mark.slow
EPOCHS = 4
CASE_2D = next(c for c in CASES if c.name == "mildnet_dsb2018_nuclei")
CASE_3D = next(c for c in CASES if c.name == "multiresunet3d_brats_mri")


def _weights(path: Path) -> dict[str, torch.Tensor]:
    state = torch.load(path, map_location="cpu", weights_only=True)
    return state.get("model", state)


def _assert_same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, f"{len(different)} tensors differ, e.g. {different[:3]}"


@pytest.fixture(scope="module")
def dsb_data(tmp_path_factory) -> Path:
    return prepared_data(CASE_2D, tmp_path_factory.mktemp("resume"))


TRAIN = {"max_epochs": EPOCHS, "seed": 3}


@pytest.fixture(scope="module")
def uninterrupted(dsb_data, tmp_path_factory) -> Path:
    """The bundle root of the run that nothing interrupts."""
    root = tmp_path_factory.mktemp("uninterrupted")
    result = run_command(bundle_command(CASE_2D, root, dsb_data, "train.json", **TRAIN))
    assert result.returncode == 0, result.stderr[-3000:]
    return root


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_interrupted_run_resumes_to_the_uninterrupted_result(dsb_data, uninterrupted, tmp_path, signum):
    """Killed (SIGKILL: the lock file stays, stale) or stopped (SIGTERM: exit status 1, the message last) in the
    middle of epoch 3: the epoch-1 and epoch-2 states are on disk, complete; resumed, the run ends as the
    uninterrupted one."""
    resumed = tmp_path / "resumed"
    result = run_until(
        bundle_command(CASE_2D, resumed, dsb_data, "train.json", **TRAIN), f"Epoch: 3/{EPOCHS}, Iter: 1/", signum
    )
    models = resumed / "models"
    checkpoints = ["last_checkpoint_epoch=1.pt", "last_checkpoint_epoch=2.pt", "model.pt"]
    if signum == signal.SIGKILL:
        assert result.returncode == -signal.SIGKILL, result.stdout[-3000:]
        assert sorted(p.name for p in models.iterdir()) == [*checkpoints, "training.lock"]
    else:
        assert result.returncode == 1, result.stdout[-3000:]
        assert last_line(result.stdout) == (
            f"stopped by signal SIGTERM in epoch 3 of {EPOCHS} (the checkpoints of the completed epochs are kept): "
            "resume with --resume True"
        )
        assert sorted(p.name for p in models.iterdir()) == checkpoints
    epoch2 = _weights(models / "last_checkpoint_epoch=2.pt")

    result = run_command(bundle_command(CASE_2D, resumed, dsb_data, "train.json", resume=True, **TRAIN))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "resumed from" in result.stderr + result.stdout
    assert "Epoch: 3/4, Iter: 1/" in result.stdout + result.stderr  # epoch 3 ran again from its start
    assert sorted(p.name for p in models.iterdir()) == [
        f"last_checkpoint_epoch={EPOCHS - 1}.pt",
        f"last_checkpoint_epoch={EPOCHS}.pt",
        "model.pt",
    ]

    final = _weights(models / f"last_checkpoint_epoch={EPOCHS}.pt")
    assert any(not torch.equal(final[k], epoch2[k]) for k in final), "epochs 3-4 changed nothing"
    _assert_same_weights(final, _weights(uninterrupted / "models" / f"last_checkpoint_epoch={EPOCHS}.pt"))
    _assert_same_weights(_weights(models / "model.pt"), _weights(uninterrupted / "models" / "model.pt"))
    states = [
        torch.load(r / "models" / f"last_checkpoint_epoch={EPOCHS}.pt", weights_only=True)
        for r in (uninterrupted, resumed)
    ]
    assert states[0]["training_state"]["best_metric"] == states[1]["training_state"]["best_metric"]
    assert states[0]["training_state"]["early_stop"] == states[1]["training_state"]["early_stop"]
    if signum == signal.SIGTERM:
        return  # the metrics are compared once

    # the same seed gives the same test metrics
    metrics = []
    for root in (uninterrupted, resumed):
        result = run_command(
            bundle_command(CASE_2D, root, dsb_data, "train.json", "evaluate.json", output_dir=str(root / "eval"))
        )
        assert result.returncode == 0, result.stderr[-3000:]
        with open(root / "eval" / "metrics.csv") as f:
            metrics.append(dict(csv.reader(f)))
    evaluated = json.loads((CASE_2D.root / "configs/evaluate.json").read_text())
    expected = {*evaluated["validate#key_metric"], *evaluated["validate#additional_metrics"]}
    assert metrics[0] == metrics[1] and set(metrics[0]) == expected


def test_resume_without_checkpoint_starts_anew(dsb_data, tmp_path):
    result = run_command(bundle_command(CASE_2D, tmp_path, dsb_data, "train.json", max_epochs=1, resume=True))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "no last_checkpoint_epoch=N.pt" in result.stdout + result.stderr
    assert (tmp_path / "models" / "last_checkpoint_epoch=1.pt").is_file()


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    """A training volume with a NaN voxel (a hole in the data) after one clean epoch: epoch 2 stops at the first
    iteration that sees it, naming epoch and iteration, and the epoch-1 checkpoint stays as it was."""
    synthesize(CASE_3D.dataset, tmp_path / "raw", seed=0, **CASE_3D.synth_options)
    data = tmp_path / "data"
    prepare(CASE_3D.dataset, tmp_path / "raw", data, progress=False, verbose=False)
    bundle = tmp_path / "bundle"
    result = run_command(bundle_command(CASE_3D, bundle, data, "train.json", max_epochs=1))
    assert result.returncode == 0, result.stderr[-3000:]
    good = (bundle / "models" / "last_checkpoint_epoch=1.pt").read_bytes()

    for image in sorted((data / "images").glob("*.nii.gz")):  # every training candidate: whichever is drawn first
        volume = nib.load(image)
        array = np.asarray(volume.dataobj).astype(np.float32)
        array[4, 4, 4, 0] = np.nan
        nib.save(nib.Nifti1Image(array, volume.affine), image)
    result = run_command(bundle_command(CASE_3D, bundle, data, "train.json", max_epochs=2, resume=True))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "training loss is nan at epoch 2, iteration 1 of" in output, output[-3000:]
    assert sorted(p.name for p in (bundle / "models").iterdir()) == ["last_checkpoint_epoch=1.pt", "model.pt"]
    assert (bundle / "models" / "last_checkpoint_epoch=1.pt").read_bytes() == good
    assert all(
        torch.isfinite(v).all() for v in _weights(bundle / "models" / "model.pt").values() if v.is_floating_point()
    )
