"""A real comparison end to end, through the command lines: ``scripts/cross_validate.py`` trains MILDNet and U-Net on
two folds of a tiny synthetic DSB-2018 copy with real ``monai.bundle run`` subprocesses and writes the report;
``visualize`` draws figures from it. The report's numbers are recomputed from ``results.csv`` with
NumPy/SciPy; an interrupted comparison resumes with only the missing run redone."""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import runpy
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import stats

from custom_networks.data import datalist_split, prepare, synthesize
from custom_networks.experiments import RunError, cross_validate, read_results, visualize
from custom_networks.nets import UNet
from tests.subprocesses import run_script

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
BUNDLE = "mildnet_dsb2018_nuclei"
NETWORKS = ["mildnet", "unet"]
FOLDS = [0, 1]
EPOCHS = 2
FEATURES = [4, 8, 16]
SUMMARY = [("Dice", "mean_dice", True), ("IoU", "mean_iou", True), ("HD95", "hausdorff95", False)]
OVERRIDES = {"features": FEATURES, "roi_size": [32, 32], "batch_size": 2, "num_workers": 0, "progress": False}
OVERRIDES["augment_prob"] = 0.0  # the MILDNet paper compares networks without augmentation


def _script(*args: str) -> subprocess.CompletedProcess:
    return run_script(*args, env={**os.environ, "OMP_NUM_THREADS": "1"})


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("cv_data")
    synthesize("dsb2018", tmp / "raw", seed=0, count=12, size=32)
    prepare("dsb2018", tmp / "raw", tmp / "data", progress=False, verbose=False)
    return tmp / "data"


@pytest.fixture(scope="module")
def report(data, tmp_path_factory) -> tuple[Path, str]:
    """(report folder, the command's log output) of the comparison run through ``scripts/cross_validate.py``."""
    out = tmp_path_factory.mktemp("cv") / "report"
    command = ["scripts/cross_validate.py", "--bundle", BUNDLE, "--dataset_dir", str(data)]
    command += ["--networks", ",".join(NETWORKS), "--folds", ",".join(map(str, FOLDS)), "--epochs", str(EPOCHS)]
    command += ["--output_dir", str(out)]
    command += [f"--{key}={value!r}" for key, value in OVERRIDES.items()]
    return out, _script(*command).stderr


def _test_cases(data: Path) -> list[str]:
    return [Path(item["image"]).name for item in datalist_split(data, "testing")]


def test_progress_and_layout(report):
    out, log = report
    for index, (fold, network) in enumerate(((f, n) for f in FOLDS for n in NETWORKS), start=1):
        assert f"run {index}/4: {network} fold {fold}" in log
        run = out / "runs" / network / f"fold{fold}"
        assert (run / "models" / "model.pt").is_file() and (run / "eval" / "metrics.csv").is_file()
        assert (run / "train.log").is_file() and (run / "evaluate.log").is_file() and (run / "run.json").is_file()
        assert not (run / "eval.partial").exists()


def test_results_has_one_row_per_network_fold_and_case(report, data):
    rows = read_results(report[0] / "results.csv")
    cases = _test_cases(data)
    assert len(rows) == len(NETWORKS) * len(FOLDS) * len(cases) == 16
    assert {(r["network"], r["fold"], r["case"]) for r in rows} == {
        (n, f, c) for n in NETWORKS for f in FOLDS for c in cases
    }
    assert {"mean_dice", "mean_iou", "hausdorff95", "precision", "recall", "f1"} <= set(rows[0])
    assert all(0 <= r["mean_dice"] <= 1 and 0 <= r["mean_iou"] <= 1 for r in rows if not math.isnan(r["mean_dice"]))


def test_swapped_network_is_trained_with_the_bundle_settings(report):
    """The U-Net runs got a ``network_def`` with the bundle's channels and ``@features``; MILDNet kept the bundle's."""
    unet = json.loads((report[0] / "runs/unet/fold0/run.json").read_text())
    assert unet["overrides"]["network_def"] == {
        "_target_": "custom_networks.nets.UNet",
        "spatial_dims": 2,
        "in_channels": 3,
        "out_channels": 1,
        "features": "@features",
    }
    assert "network_def" not in json.loads((report[0] / "runs/mildnet/fold0/run.json").read_text())["overrides"]
    network = UNet(2, 3, 1, features=FEATURES)
    network.load_state_dict(torch.load(report[0] / "runs/unet/fold1/models/model.pt", weights_only=True))


def _summary_csv(path: Path) -> dict[tuple[str, str], dict[str, str]]:
    with open(path, newline="") as f:
        return {(row["network"], row["metric"]): row for row in csv.DictReader(f)}


def test_summary_matches_numpy_and_scipy(report):
    """Every number of summary.csv and summary.md recomputed from results.csv: mean, sample std, relative
    improvement over U-Net and the paired t-test against the bundle's network (MILDNet) on (fold, case) pairs."""
    out = report[0]
    with open(out / "results.csv", newline="") as f:
        table = list(csv.DictReader(f))
    summary = _summary_csv(out / "summary.csv")
    markdown = (out / "summary.md").read_text()
    assert "Protocol, the same for every run: " in markdown and "`augment_prob` 0.0" in markdown
    assert len(summary) == len(NETWORKS) * 3
    for label, column, higher_is_better in SUMMARY:
        values = {n: {(r["fold"], r["case"]): float(r[column]) for r in table if r["network"] == n} for n in NETWORKS}
        finite = {n: np.array([v for v in values[n].values() if np.isfinite(v)]) for n in NETWORKS}
        for n in NETWORKS:
            row = summary[n, label]
            assert int(row["n"]) == finite[n].size
            assert float(row["mean"]) == pytest.approx(finite[n].mean(), rel=1e-12, nan_ok=True)
            assert float(row["std"]) == pytest.approx(finite[n].std(ddof=1), rel=1e-12, nan_ok=True)
            assert f"{finite[n].mean():.4f} ± {finite[n].std(ddof=1):.4f} ({finite[n].size})" in markdown
        gain = finite["mildnet"].mean() - finite["unet"].mean()
        improvement = 100 * (gain if higher_is_better else -gain) / finite["unet"].mean()
        assert float(summary["mildnet", label]["improvement"]) == pytest.approx(improvement, rel=1e-9, nan_ok=True)
        assert summary["unet", label]["improvement"] == ""
        pairs = [k for k in values["unet"] if np.isfinite(values["unet"][k]) and np.isfinite(values["mildnet"][k])]
        expected = stats.ttest_rel([values["unet"][k] for k in pairs], [values["mildnet"][k] for k in pairs]).pvalue
        assert int(summary["unet", label]["n_pairs"]) == len(pairs)
        assert float(summary["unet", label]["p_value"]) == pytest.approx(expected, rel=1e-9, nan_ok=True)
        assert summary["mildnet", label]["p_value"] == ""
        assert f"| {improvement:+.1f} |" in markdown
        assert f"{expected:.3g}" in markdown


def test_fold_ensembles_against_their_folds(report, data):
    """Each network's two fold models evaluated as one ensemble on every test case; ensembles.csv and summary.md
    recomputed from the per-case results of the folds and of the ensembles."""
    out = report[0]
    results = read_results(out / "results.csv")
    with open(out / "ensemble_results.csv", newline="") as f:
        ensemble_rows = list(csv.DictReader(f))
    assert {(r["network"], r["fold"], r["case"]) for r in ensemble_rows} == {
        (n, "ensemble", c) for n in NETWORKS for c in _test_cases(data)
    }
    with open(out / "ensembles.csv", newline="") as f:
        table = {(row["network"], row["metric"]): row for row in csv.DictReader(f)}
    markdown = (out / "summary.md").read_text()
    assert "## Fold ensembles" in markdown
    for network in NETWORKS:
        run = json.loads((out / "ensembles" / network / "run.json").read_text())
        assert run["overrides"]["ensemble_models"] == [
            str(out / "runs" / network / f"fold{fold}" / "models" / "model.pt") for fold in FOLDS
        ]
        assert "fold" not in run["overrides"]
        for label, column, _ in SUMMARY:
            row = table[network, label]
            folds = {
                f: {r["case"]: r[column] for r in results if r["network"] == network and r["fold"] == f} for f in FOLDS
            }
            own = {r["case"]: float(r[column]) for r in ensemble_rows if r["network"] == network}
            fold_means = [np.nanmean(list(v.values())) for v in folds.values()]
            assert float(row["folds_mean"]) == pytest.approx(np.mean(fold_means))
            assert float(row["ensemble"]) == pytest.approx(np.nanmean(list(own.values())), nan_ok=True)
            cases = [c for c in own if not math.isnan(own[c]) and all(not math.isnan(v[c]) for v in folds.values())]
            assert int(row["n"]) == len(cases)
            if len(cases) > 1:
                average = [np.mean([v[c] for v in folds.values()]) for c in cases]
                expected = stats.ttest_rel([own[c] for c in cases], average).pvalue
                assert float(row["p_value"]) == pytest.approx(expected, nan_ok=True)
            assert f"| {network} | {label} | fold 0: {fold_means[0]:.4f}; fold 1: {fold_means[1]:.4f} |" in markdown


def _check_png(path: Path, min_size: int = 200) -> None:
    image = np.asarray(Image.open(path).convert("RGB"))
    assert min(image.shape[:2]) >= min_size, f"{path.name}: {image.shape}"
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 20, f"{path.name} has almost no content"


def test_plots_and_training_curves(report):
    out = report[0]
    for name in ("boxplot_mean_iou.png", "boxplot_mean_dice.png", "boxplot_hausdorff95.png", "training_curves.png"):
        _check_png(out / name)
    with open(out / "training_curves.csv", newline="") as f:
        curves = list(csv.DictReader(f))
    assert [(r["network"], int(r["fold"]), int(r["epoch"])) for r in curves] == [
        (n, f, e) for f in FOLDS for n in NETWORKS for e in range(1, EPOCHS + 1)
    ]
    assert all(float(r["train_loss"]) > 0 and 0 <= float(r["val_mean_dice"]) <= 1 for r in curves)


def test_visualize(report, data, tmp_path):
    """Figures of two test cases, both networks side by side (in this process; the script only wraps it)."""
    runpy.run_path(str(ROOT / "scripts" / "visualize.py"))  # imports what it needs
    cases = _test_cases(data)[:2]
    written = visualize(report[0], cases=",".join(cases), output_dir=tmp_path)
    assert written == [tmp_path / f"{c.split('.')[0]}.png" for c in cases]
    for path in written:
        _check_png(path)


def test_failed_run_names_its_log(data, tmp_path):
    """A network built for one input channel meets the 3-channel images in the training subprocess."""
    with pytest.raises(RunError) as error:
        cross_validate(BUNDLE, data, "unet", 0, 1, tmp_path, **{**OVERRIDES, "in_channels": 1})
    log = tmp_path / "runs" / "unet" / "fold0" / "train.log"
    message = str(error.value)
    assert "training of unet fold 0 failed" in message and str(log) in message
    assert "1 channel" in message, message


def test_roi_size_a_network_cannot_take_stops_before_any_run(data, tmp_path):
    """MILDNet takes the 32² crops, MS U-Net needs multiples of 128: the comparison stops before MILDNet trains."""
    expected = r"msunet needs sizes that are multiples of 128 and the bundle's roi_size is \[32, 32\]: "
    expected += r"pass --roi_size \"\[128, 128\]\""
    with pytest.raises(ValueError, match=expected):
        cross_validate(BUNDLE, data, "mildnet,msunet", 0, 1, tmp_path, **OVERRIDES)
    assert not (tmp_path / "runs").exists()


def test_resume_redoes_only_the_missing_run(report, data, caplog):
    """Last in this module: changes the report. A comparison whose last run lost its evaluation is rerun: only that
    run is evaluated again (its training resumes from the finished checkpoint), the others are left untouched, and
    the report comes out the same. Other settings in the same folder are refused before anything runs."""
    out = report[0]
    runs = sorted((out / "runs").glob("*/fold*"))
    missing = out / "runs" / "unet" / "fold1"
    before = {p: p.stat().st_mtime_ns for run in runs for p in run.rglob("*") if p.is_file()}
    results = (out / "results.csv").read_text()
    shutil.rmtree(missing / "eval")

    with pytest.raises(ValueError, match="other settings"):
        cross_validate(BUNDLE, data, NETWORKS, FOLDS, EPOCHS + 1, out, **OVERRIDES)

    with caplog.at_level(logging.INFO, logger="custom_networks.experiments"):
        cross_validate(BUNDLE, data, NETWORKS, FOLDS, EPOCHS, out, **OVERRIDES)
    assert "run 4/4: unet fold 1" in caplog.text and "unet fold 1: resuming training" in caplog.text
    assert caplog.text.count("evaluated before, skipped") == 3 + len(NETWORKS)  # the others and the ensembles
    after = {p: p.stat().st_mtime_ns for run in runs for p in run.rglob("*") if p.is_file()}
    changed = {p.relative_to(out).as_posix() for p in after if before.get(p) != after[p]}
    assert changed and all(p.startswith("runs/unet/fold1/") for p in changed), changed
    assert all(before[p] == after[p] for p in before if p.is_relative_to(missing / "models")), "retrained"
    assert (missing / "eval" / "metrics.csv").is_file()
    assert "--resume=True" in (missing / "train.log").read_text()
    assert (out / "results.csv").read_text() == results
