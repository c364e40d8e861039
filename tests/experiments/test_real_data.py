"""The real-data command: prepare → train → evaluate (→ external test) → results, on a synthetic copy of a raw layout
with a tiny protocol, and on the real DSB-2018 sample for one epoch when ../shared/data is present."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from custom_networks.data import synthesize
from custom_networks.experiments.real_data import (
    PROTOCOLS,
    RESULTS_END,
    RESULTS_START,
    SUMMARY_END,
    SUMMARY_START,
    RealDataProtocol,
    comparison_results,
    evaluation_metrics,
    metrics_table,
    publish_results,
    publish_summary,
    real_data,
)
from custom_networks.zoo import bundles_root, write_configs
from tests.subprocesses import ROOT

pytestmark = pytest.mark.slow

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
TINY = {"features": [4, 8, 16, 32, 64], "roi_size": [32, 32], "batch_size": 2, "num_workers": 0, "progress": False}


@pytest.fixture(scope="module")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("raw")
    synthesize("dsb2018", root / "dsb", count=12, size=48, seed=0)
    synthesize("dsb2018", root / "other_dsb", count=4, size=48, seed=1)
    return root


def test_prepares_trains_evaluates_and_reports(data_root: Path, tmp_path: Path):
    protocol = RealDataProtocol("dsb", "dsb2018", {**TINY, "max_epochs": 1}, external=("other_dsb", "dsb2018"))
    out = tmp_path / "out"
    results = real_data("mildnet_dsb2018_nuclei", data_root, out, protocol=protocol)
    assert results == json.loads((out / "results.json").read_text())
    metadata = bundles_root() / "mildnet_dsb2018_nuclei" / "configs" / "metadata.json"
    assert results["version"] == json.loads(metadata.read_text())["version"]
    assert results["split"] == {"train": 6, "validation": 2, "test": 4}  # 12 cases: 30 % test, 5 folds
    assert results["protocol"] == protocol.overrides and results["data"]["dataset"] == "dsb2018"
    dice = results["test"]["mean_dice"]
    assert dice["cases"] == 4 and 0 <= dice["mean"] <= 1 and "per_class" not in dice  # one class
    assert results["external_test"]["test"]["mean_dice"]["cases"] == 4  # all of the external set
    assert results["training"]["epochs"] == results["training"]["max_epochs"] == 1
    assert set(results["seconds"]) == {"train", "evaluate", "evaluate_external_eval"}
    markdown = (out / "results.md").read_text()
    assert f"| Dice | {dice['mean']:.3f} (4) | — |" in markdown and "## External test: all of `other_dsb`" in markdown
    # a second call reuses the prepared data and the evaluated run: nothing is trained again
    seconds = results["seconds"]
    assert real_data("mildnet_dsb2018_nuclei", data_root, out, protocol=protocol)["seconds"] == seconds


def test_metrics_mean_over_cases_and_per_class(tmp_path: Path):
    """evaluate.json's CSVs: the mean of each metric over the cases where it is defined, and per class."""
    (tmp_path / "metrics.csv").write_text("test_mean_dice,0.5\ntest_hausdorff95,2.0\n")
    (tmp_path / "test_mean_dice_raw.csv").write_text("filename,class0,class1,mean\na,0.2,0.6,0.4\nb,0.4,nan,0.4\n")
    (tmp_path / "test_hausdorff95_raw.csv").write_text("filename,class0,mean\na,nan,nan\nb,3.0,3.0\n")
    metrics = evaluation_metrics(tmp_path)
    assert metrics["mean_dice"] == {"mean": 0.4, "cases": 2, "per_class": {"class0": pytest.approx(0.3), "class1": 0.6}}
    assert metrics_table(metrics, ["membrane"])[2] == "| Dice | 0.400 (2) | membrane: 0.300, class1: 0.600 |"
    assert metrics["hausdorff95"] == {"mean": 3.0, "cases": 2}  # one class: no per-class entry; NaN left out


def test_scores_with_class_0_name_it(tmp_path: Path):
    """Res-CR-Net's Tanimoto coefficient and its Dice with class 0: rows after HD95, the first class named class 0."""
    (tmp_path / "metrics.csv").write_text("test_mean_dice,0.6\ntest_tanimoto,0.7\n")
    (tmp_path / "test_mean_dice_raw.csv").write_text("filename,class0,class1,mean\na,0.4,0.8,0.6\n")
    (tmp_path / "test_tanimoto_raw.csv").write_text("filename,class0,class1,class2,mean\na,0.9,0.7,0.5,0.7\n")
    rows = metrics_table(evaluation_metrics(tmp_path), ["membrane", "mitochondrion"])
    assert rows[2:] == [
        "| Dice | 0.600 (1) | membrane: 0.400, mitochondrion: 0.800 |",
        "| Tanimoto, class 0 included | 0.700 (1) | class 0: 0.900, membrane: 0.700, mitochondrion: 0.500 |",
    ]


def test_region_distances_make_one_hd95(tmp_path: Path):
    """The 3-D bundles' per-region HD95s (tumour core, whole tumour): their mean, each region as a class."""
    (tmp_path / "metrics.csv").write_text("test_mean_dice,0.5\ntest_hd95_tc,2.0\ntest_hd95_wt,4.0\n")
    (tmp_path / "test_mean_dice_raw.csv").write_text("filename,class0,class1,mean\na,0.4,0.6,0.5\n")
    (tmp_path / "test_hd95_tc_raw.csv").write_text("filename,class0,mean\na,2.0,2.0\n")
    (tmp_path / "test_hd95_wt_raw.csv").write_text("filename,class0,mean\na,4.0,4.0\n")
    metrics = evaluation_metrics(tmp_path)
    assert metrics["hausdorff95"] == {"mean": 3.0, "cases": 1, "per_class": {"tc": 2.0, "wt": 4.0}}
    assert metrics_table(metrics, ["TC", "WT"])[3] == "| HD95 (px) | 3.000 (1) | TC: 2.000, WT: 4.000 |"


def test_publish_writes_readme_and_metadata(tmp_path: Path):
    root = tmp_path / "bundles"
    published = "real_data_results.json"  # left out: the summary then has this test's bundle alone
    ignore = shutil.ignore_patterns("__pycache__", "models", "eval", "logs", published)
    shutil.copytree(bundles_root(), root, ignore=ignore)
    bundle = root / "mildnet_dsb2018_nuclei"
    readme = bundle / "docs" / "README.md"
    readme.write_text(f"# B\n## Results\n{RESULTS_START}\nold\n{RESULTS_END}\n## License\n")
    results = {
        "bundle": "mildnet_dsb2018_nuclei",
        "version": "0.8.0",
        "command": "python scripts/real_data.py mildnet_dsb2018_nuclei",
        "data": {"folder": "dsb", "dataset": "dsb2018"},
        "stand_in": "",
        "split": {"train": 56, "validation": 14, "test": 30},
        "protocol": {"max_epochs": 40},
        "seconds": {"train": 600.0, "evaluate": 60.0},
        "training": {"epochs": 25, "max_epochs": 40, "best_validation": 0.8, "best_epoch": 15},
        "test": {"mean_dice": {"mean": 0.81234, "cases": 30}, "hausdorff95": {"mean": 7.5, "cases": 29}},
    }
    out = tmp_path / "out"
    (out / "compare").mkdir(parents=True)
    (out / "compare" / "training_curves.png").write_bytes(b"png")
    (out / "compare" / "summary.csv").write_text(
        "network,metric,n,mean,std,improvement,p_value,n_pairs\n"
        "mildnet,Dice,90,0.8,0.1,5.0,0.01,90\nmildnet,HD95,88,7.0,2.0,10.0,0.2,87\n"
        "unet,Dice,90,0.76,0.2,,,\nunet,HD95,89,8.0,3.0,,,\n"
    )
    (out / "compare" / "ensembles.csv").write_text(
        "network,metric,folds,folds_mean,ensemble,n,p_value\n"
        "mildnet,Dice,fold 0: 0.7900; fold 1: 0.8100; fold 2: 0.8000,0.8,0.83,30,0.04\n"
    )
    results["comparison"] = {**comparison_results(out / "compare", (0, 1, 2)), "version": "0.8.0"}
    assert results["comparison"]["ensembles"] == [
        {"network": "mildnet", "metric": "Dice", "folds": "fold 0: 0.7900; fold 1: 0.8100; fold 2: 0.8000",
         "folds_mean": 0.8, "ensemble": 0.83, "n": 30, "p_value": 0.04},
    ]  # fmt: skip
    assert results["comparison"]["summary"][0] == {
        "network": "mildnet", "metric": "Dice", "n": 90, "mean": 0.8, "std": 0.1, "improvement": 5.0,
        "p_value": 0.01, "n_pairs": 90,
    }  # fmt: skip
    publish_results(results, bundle, out)
    text = readme.read_text()
    assert "\nold\n" not in text and text.startswith(f"# B\n## Results\n{RESULTS_START}\n- Data: `dsb`")
    assert (
        "### Test split" in text
        and "| Dice | 0.812 (30) | — |" in text
        and text.endswith(f"{RESULTS_END}\n## License\n")
    )
    assert "- Trained 25 of 40 epochs (early stopping); best validation Dice 0.800 at epoch 15\n" in text
    assert "### Against U-Net, cross-validated" in text and "on folds 0, 1, 2 in turn" in text
    assert "Measured with version" not in text  # the run's own version
    assert "| Network | Dice | HD95 | p Dice | p HD95 |" in text
    assert "| mildnet | 0.800 ± 0.100 (90) | 7.000 ± 2.000 (88) | 0.01 | 0.2 |" in text
    assert "| unet | 0.760 ± 0.200 (90) | 8.000 ± 3.000 (89) | — | — |" in text
    assert "| mildnet | Dice | fold 0: 0.7900; fold 1: 0.8100; fold 2: 0.8000 | 0.800 | 0.830 | 0.04 (30) |" in text
    assert "](real_data_training_curves.png)" in text
    assert (bundle / "docs" / "real_data_training_curves.png").read_bytes() == b"png"
    assert json.loads((bundle / "docs" / "real_data_results.json").read_text()) == results
    metadata = json.loads((bundle / "configs" / "metadata.json").read_text())
    assert metadata["eval_metrics"] == {"mean_dice": 0.8123, "hausdorff95": 7.5}
    assert write_configs(["mildnet_dsb2018_nuclei"], root, check=True) == {}

    top = tmp_path / "README.md"
    top.write_text(f"# Project\n{SUMMARY_START}\nold\n{SUMMARY_END}\nmore\n")
    publish_summary(root, top)
    assert top.read_text().splitlines()[2:5] == [
        "| Bundle | Data | Test cases | Dice | IoU | HD95 (px) | Training (min) | Cross-validated Dice vs U-Net |",
        "|---|---|---|---|---|---|---|---|",
        "| [mildnet_dsb2018_nuclei](bundles/mildnet_dsb2018_nuclei/docs/README.md#results) | `dsb` | 30 | 0.812 | "
        "n/a | 7.500 | 10.0 | mildnet 0.800 vs unet 0.760 (3 folds) |",
    ]
    assert top.read_text().endswith(f"{SUMMARY_END}\nmore\n")

    # a later version's run without a comparison keeps the published one and says which version measured it
    rerun = {key: value for key, value in results.items() if key != "comparison"}
    publish_results({**rerun, "version": "0.9.0"}, bundle, out)
    text = readme.read_text()
    assert "| mildnet | 0.800 ± 0.100 (90) | 7.000 ± 2.000 (88) | 0.01 | 0.2 |" in text
    assert "Measured with version 0.8.0 of the bundle, not this run's 0.9.0" in text
    kept = json.loads((bundle / "docs" / "real_data_results.json").read_text())
    assert kept["version"] == "0.9.0" and kept["comparison"] == results["comparison"]
    publish_summary(root, top)
    assert "| mildnet 0.800 vs unet 0.760 (3 folds, bundle version 0.8.0) |" in top.read_text()


def test_errors_name_what_is_wrong(tmp_path: Path):
    with pytest.raises(ValueError, match="mildnet_lgg_mri: no real-data protocol"):
        real_data("mildnet_lgg_mri", tmp_path)
    with pytest.raises(FileNotFoundError, match="dsb2018_stage1_train_subset: no such folder"):
        real_data("mildnet_dsb2018_nuclei", tmp_path)


@pytest.mark.skipif(not (SHARED / "dsb2018_stage1_train_subset").is_dir(), reason="no ../shared/data")
def test_one_epoch_on_the_real_dsb_sample(tmp_path: Path):
    """CI's real-data training: the real preparation and one epoch of the 2-D DSB bundle at tiny widths."""
    protocol = PROTOCOLS["mildnet_dsb2018_nuclei"]
    tiny = replace(protocol, overrides={**protocol.overrides, **TINY, "roi_size": [64, 64], "max_epochs": 1})
    results = real_data("mildnet_dsb2018_nuclei", SHARED, tmp_path, protocol=tiny)
    assert results["split"] == {"train": 56, "validation": 14, "test": 30}
    assert results["test"]["mean_dice"]["cases"] == 30 and 0 <= results["test"]["mean_dice"]["mean"] <= 1


def test_command_line_prints_the_results(data_root: Path, tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "scripts/real_data.py", "no_such_bundle", "--data_root", data_root],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    last = result.stderr.strip().splitlines()[-1]
    assert result.returncode == 1 and last.startswith("error: no_such_bundle: no real-data protocol"), result.stderr
