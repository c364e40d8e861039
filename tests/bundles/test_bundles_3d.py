"""Every 3-D bundle trains, evaluates and infers whole volumes through ``monai.bundle`` on tiny synthetic BraTS data.

One bundle is prepared from the BraTS case-folder layout, the other from the Decathlon Task01 layout, so both raw
layouts and both bundles go the whole way: prepare → train → evaluate (per-region CSVs) → infer (NIfTI, NRRD,
MetaImage and DICOM series inputs, label volumes in the input's geometry) → export, and train under ``torchrun``.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
from monai.bundle import run
from monai.transforms import LoadImage

from custom_networks.transforms import InputFileError, input_error
from tests.bundles.conftest import (
    CASES_3D,
    BundleCase,
    check_checkpoints,
    check_verify_and_export,
    check_workflow_properties,
    prepare_and_train,
    run_evaluation,
    run_multi_process_training,
)
from tests.bundles.volumes import write_dicom_series, write_itk_volume

pytestmark = pytest.mark.slow
BRATS_LABELS = {0, 1, 2, 4}
REGIONS = ("tc", "wt", "et")
MODALITIES = ("t1", "t1ce", "t2", "flair")


@pytest.fixture(scope="module", params=CASES_3D, ids=lambda c: c.name)
def trained(request, tmp_path_factory) -> tuple[BundleCase, Path, Path]:
    """(case, dataset_dir, bundle_root) after preparing the synthetic volumes and training 1 epoch."""
    case: BundleCase = request.param
    data, bundle_root = prepare_and_train(case, tmp_path_factory.mktemp(case.name), max_epochs=1)
    return case, data, bundle_root


def _infer(case: BundleCase, bundle_root: Path, **overrides) -> None:
    run(
        config_file=case.config("inference.json"),
        bundle_root=str(bundle_root),
        progress=False,
        **({k: v for k, v in case.overrides.items() if k != "batch_size"} | overrides),
    )


def _assert_label_volume(path: Path, shape: tuple[int, ...], affine: np.ndarray) -> None:
    """A BraTS label volume (uint8, labels 0/1/2/4) with the given shape and affine."""
    image = nib.load(path)
    assert image.shape == shape, path.name
    np.testing.assert_allclose(image.affine, affine, atol=1e-4, err_msg=path.name)
    labels = np.asarray(image.dataobj)
    assert labels.dtype == np.uint8 and set(np.unique(labels).tolist()) <= BRATS_LABELS, path.name


def test_training_writes_loadable_checkpoints(trained):
    case, _, bundle_root = trained
    check_checkpoints(case, bundle_root, epochs=1)


@pytest.mark.parametrize(("workflow_type", "config"), [("train", "train.json"), ("infer", "inference.json")])
def test_workflow_properties(trained, workflow_type, config):
    check_workflow_properties(*trained, workflow_type, config)


def test_evaluate_writes_per_region_metrics(trained):
    case, data, bundle_root = trained
    out = bundle_root / "eval"
    metrics = run_evaluation(case, data, bundle_root, out)
    expected = {"test_mean_dice", *(f"test_{kind}_{r}" for kind in ("dice", "hd95") for r in REGIONS)}
    assert set(metrics) == expected
    for region in REGIONS:
        dice, hd95 = metrics[f"test_dice_{region}"], metrics[f"test_hd95_{region}"]
        assert math.isnan(dice) or 0.0 <= dice <= 1.0, (region, dice)
        assert math.isnan(hd95) or 0.0 <= hd95 < 32 * math.sqrt(3), (region, hd95)  # within the volume's diagonal
    testing = json.loads((data / "datalist.json").read_text())["testing"]
    for name in metrics:  # per case and summarised, with the number of cases each mean covers
        with open(out / f"{name}_raw.csv") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == len(testing), name
        assert {Path(r["filename"]).name for r in rows} == {Path(t["image"]).name for t in testing}
        with open(out / f"{name}_summary.csv") as f:
            assert "notnans" in next(csv.reader(f)), name


def test_ensemble_with_test_time_flips_evaluates_and_infers(trained, tmp_path):
    """Whole volumes by sliding window with test-time flips: an ensemble of the model twice scores as the model, and
    its inference writes BraTS label volumes in the inputs' geometry."""
    case, data, bundle_root = trained
    flips = {"tta_flip_axes": [0, [1, 2]]}
    single = run_evaluation(case, data, bundle_root, tmp_path / "single", **flips)
    models = [str(bundle_root / "models/model.pt")] * 2
    twice = run_evaluation(
        case, data, bundle_root, tmp_path / "twice", "ensemble_evaluate.json", ensemble_models=models, **flips
    )
    assert twice == pytest.approx(single, abs=1e-5, nan_ok=True)
    out = tmp_path / "predictions"
    run(
        config_file=case.config("inference.json", "ensemble_inference.json"),
        bundle_root=str(bundle_root),
        dataset_dir=str(data),
        output_dir=str(out),
        ensemble_models=models,
        progress=False,
        **{k: v for k, v in case.overrides.items() if k != "batch_size"},
        **flips,
    )
    for item in json.loads((data / "datalist.json").read_text())["testing"]:
        image = nib.load(data / item["image"])
        name = Path(item["image"]).name.replace(".nii.gz", "_seg.nii.gz")
        _assert_label_volume(out / name, image.shape[:3], image.affine)


def test_inference_on_test_split_keeps_geometry(trained):
    """Whole prepared volumes → ``<case>_seg.nii.gz`` BraTS labels with each input's shape and affine."""
    case, data, bundle_root = trained
    out = bundle_root / "predictions"
    _infer(case, bundle_root, dataset_dir=str(data), output_dir=str(out))
    testing = json.loads((data / "datalist.json").read_text())["testing"]
    assert len(list(out.glob("*_seg.nii.gz"))) == len(testing)
    for item in testing:
        image = nib.load(data / item["image"])
        name = Path(item["image"]).name.replace(".nii.gz", "_seg.nii.gz")
        _assert_label_volume(out / name, image.shape[:3], image.affine)


def test_bf16_channels_last_training_and_inference(trained, tmp_path):
    """The speed switches in 3-D: 1 epoch with bf16 autocast on the CPU and channels-last 3-D kernels (MILDNet also
    with gradient checkpointing), then inference with both: a finite model, label volumes in the inputs' geometry."""
    case, data, _ = trained
    # one level fewer than the case's widths: torch 2.13's bf16 Conv3d weight gradient on a 2×2×2 feature map reads
    # uninitialised memory (docs/performance.md), and 32³ crops through four poolings are 2³ at the bottleneck; with
    # freed memory reused this run's training turned NaN after the module's earlier runs had left NaN on the heap
    switches = {"amp": True, "amp_dtype": "bfloat16", "channels_last": True, "features": [4, 8, 8, 16]}
    bundle_root = tmp_path / "bundle"
    run(
        "training",
        config_file=case.config("train.json"),
        bundle_root=str(bundle_root),
        dataset_dir=str(data),
        max_epochs=1,
        progress=False,
        **(case.overrides | switches),
        **({"gradient_checkpointing": True} if case.name.startswith("mildnet") else {}),
    )
    state = torch.load(bundle_root / "models/model.pt", map_location="cpu", weights_only=True)
    assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())
    out = tmp_path / "predictions"
    _infer(case, bundle_root, dataset_dir=str(data), output_dir=str(out), **switches)
    for item in json.loads((data / "datalist.json").read_text())["testing"]:
        image = nib.load(data / item["image"])
        name = Path(item["image"]).name.replace(".nii.gz", "_seg.nii.gz")
        _assert_label_volume(out / name, image.shape[:3], image.affine)


def test_inference_reads_every_itk_format(trained, tmp_path):
    """Case folders of NRRD files (anisotropic spacing), MetaImage files (rotated axes) and DICOM series, with
    test-time flips: each output has the geometry MONAI's ITK reader gives the input, and is named after the case."""
    case, data, bundle_root = trained
    image = nib.load(data / json.loads((data / "datalist.json").read_text())["testing"][0]["image"])
    volume = np.asarray(image.dataobj)[..., :4]
    cases = tmp_path / "cases"
    swap_xy = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    for c, modality in enumerate(MODALITIES):
        channel = volume[..., c]
        write_itk_volume(channel, cases / "nrrdcase" / f"nrrdcase_{modality}.nrrd", (1.5, 1.0, 2.0), (10, -20, 5))
        write_itk_volume(channel[:, :, :20], cases / "mhacase" / f"{modality.upper()}.mha", direction=swap_xy)
        write_dicom_series(channel, cases / "dicomcase" / modality, (0.9, 0.8, 3.0), (-12, 30, 7), series=c + 1)
    out = tmp_path / "predictions"
    _infer(case, bundle_root, input_path=str(cases), output_dir=str(out), tta_flip_axes=[0])
    assert sorted(p.name for p in out.iterdir()) == [
        "dicomcase_seg.nii.gz",
        "mhacase_seg.nii.gz",
        "nrrdcase_seg.nii.gz",
    ]
    loader = LoadImage(reader="ITKReader", image_only=True)
    for name, source in {"nrrdcase": "nrrdcase_t1.nrrd", "mhacase": "T1.mha", "dicomcase": "t1"}.items():
        reference = loader(str(cases / name / source))
        _assert_label_volume(out / f"{name}_seg.nii.gz", tuple(reference.shape), reference.affine.numpy())


def test_inference_names_a_missing_modality(trained, tmp_path):
    case, _, bundle_root = trained
    (tmp_path / "incomplete").mkdir()
    for modality in MODALITIES[:3]:
        write_itk_volume(np.zeros((16, 16, 16)), tmp_path / "incomplete" / f"incomplete_{modality}.nrrd")
    with pytest.raises(RuntimeError) as error:  # monai.bundle reports the failing config expression, caused by:
        _infer(case, bundle_root, input_path=str(tmp_path), output_dir=str(tmp_path / "out"))
    cause = error.value.__cause__
    assert isinstance(cause, FileNotFoundError) and "incomplete: the case folder lacks modality flair" in str(cause)


def test_inference_skips_bad_volumes_and_writes_the_good_ones(trained, tmp_path):
    """A truncated file, a volume with 3 channels and a 2-D image are listed with their reason; the good case is
    segmented."""
    case, data, bundle_root = trained
    source = data / json.loads((data / "datalist.json").read_text())["testing"][0]["image"]
    image = nib.load(source)
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    shutil.copy(source, inputs / "good.nii.gz")
    truncated = source.read_bytes()
    (inputs / "truncated.nii.gz").write_bytes(truncated[: len(truncated) // 2])
    nib.save(nib.Nifti1Image(np.asarray(image.dataobj)[..., :3], image.affine), inputs / "three.nii.gz")
    nib.save(nib.Nifti1Image(np.zeros((16, 16), np.float32), np.eye(4)), inputs / "flat.nii.gz")
    out = tmp_path / "predictions"
    _infer(case, bundle_root, input_path=str(inputs), output_dir=str(out))
    _assert_label_volume(out / "good_seg.nii.gz", image.shape[:3], image.affine)
    with open(out / "skipped_inputs.csv", encoding="utf-8") as f:
        reasons = {Path(row["image"]).name: row["error"] for row in csv.DictReader(f)}
    assert sorted(reasons) == ["flat.nii.gz", "three.nii.gz", "truncated.nii.gz"]
    assert "cannot read image" in reasons["truncated.nii.gz"]
    assert "expected 4 channel(s), got 3" in reasons["three.nii.gz"]
    assert "expected a 3-D image" in reasons["flat.nii.gz"]


def test_training_names_labels_outside_brats_classes(trained, tmp_path):
    """Raw Decathlon labels (0-3) instead of prepared BraTS labels (0, 1, 2, 4) stop training at that file."""
    case, data, _ = trained
    broken = tmp_path / "data"
    shutil.copytree(data, broken)
    item = next(i for i in json.loads((broken / "datalist.json").read_text())["training"] if i["fold"] != 0)
    label = nib.load(broken / item["label"])
    nib.save(nib.Nifti1Image(np.full(label.shape, 3, np.uint8), label.affine), broken / item["label"])
    with pytest.raises(Exception) as caught:
        run(
            "training",
            config_file=case.config("train.json"),
            bundle_root=str(tmp_path / "bundle"),
            dataset_dir=str(broken),
            max_epochs=1,
            progress=False,
            **case.overrides,
        )
    error = input_error(caught.value)
    assert isinstance(error, InputFileError), caught.value
    assert str(broken / item["label"]) in str(
        error
    ) and "label values [3] outside the bundle's classes [0, 1, 2, 4]" in str(error)


def test_verify_net_in_out_and_ckpt_export(trained):
    case, _, bundle_root = trained
    check_verify_and_export(case, bundle_root)


def test_multi_process_training_on_cpu(trained, tmp_path):
    """multi_gpu_train.json under torchrun with 2 CPU processes (gloo) trains and checkpoints once."""
    case, data, _ = trained
    bundle_root = run_multi_process_training(case, data, tmp_path)
    assert sorted(p.name for p in (bundle_root / "models").glob("*.pt")) == ["last_checkpoint_epoch=1.pt", "model.pt"]
