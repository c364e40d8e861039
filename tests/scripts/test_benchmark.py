"""scripts/benchmark.py --quick runs every section end to end and reports consistent numbers (no timing assertions)."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from monai.bundle import ConfigParser
from monai.data.utils import dense_patch_slices
from monai.inferers.utils import _get_scan_interval

from ..subprocesses import run_script

ROOT = Path(__file__).resolve().parents[2]
NETWORKS = ["multiresunet3d_brats_mri", "mildnet3d_brats_mri", "SegResNet (MONAI)"]


@pytest.mark.slow
def test_quick_benchmark(tmp_path):
    out = tmp_path / "out.json"
    result = run_script("scripts/benchmark.py", "--quick", "--json", out)
    assert result.stdout.startswith("torch threads: ")
    report = json.loads(out.read_text())
    assert report["machine"]["device"] == "cpu" and report["machine"]["torch_threads"] >= 1
    limits = {row["measure"]: row for row in report["results"] if row["section"] == "machine_limits"}
    assert (
        {"matmul float32", "memory copy fp32"}
        <= set(limits)
        <= {"matmul float32", "matmul bfloat16", "memory copy fp32"}
    )
    assert limits["matmul float32"]["gflops"] == pytest.approx(2 * 256**3 / limits["matmul float32"]["seconds"] / 1e9)
    assert limits["memory copy fp32"]["gbytes_per_s"] > 0
    bandwidth = limits["memory copy fp32"]["gbytes_per_s"]
    steps = [row for row in report["results"] if row["section"] == "network_steps"]
    assert len(steps) == 2 * 6 and all(row["network"].startswith("BasicUNet (MONAI) for ") for row in steps[1::2])
    for ours, basic in zip(steps[::2], steps[1::2], strict=True):
        assert basic["network"].endswith(ours["network"]) and basic["input"] == ours["input"]
        assert ours["flops_train"] > ours["flops_infer"] > 0 and ours["params"] > 0
        assert ours["train_vs_basicunet"] == pytest.approx(ours["train_s"] / basic["train_s"])
        assert ours["infer_fraction"] == pytest.approx(ours["infer_gflops"] / limits["matmul float32"]["gflops"])
        # every step at least reads its input and writes its output; training moves more than inference
        batch, channels, *spatial = ours["input"]
        assert ours["bytes_train"] > ours["bytes_infer"] > 4 * batch * channels * math.prod(spatial)
        assert ours["train_bandwidth_fraction"] == pytest.approx(
            ours["bytes_train"] / ours["train_s"] / 1e9 / bandwidth
        )
        assert ours["train_peak_mib"] > 0 and ours["infer_peak_mib"] > 0
    scans = {row["network"]: row.get("scan_steps") for row in steps[::2]}
    height, width = next(row["input"][2:] for row in steps if row["network"].startswith("ResCRNet"))
    # one ConvLSTM step per row (and column) position, for all four scans and the whole batch: not one per pixel
    assert scans.pop("ResCRNet 2-D 3→4") == max(height, width)
    assert set(scans.values()) == {None}
    optimised = [row for row in report["results"] if row["section"] == "optimisations"]
    networks = {row["network"] for row in optimised}
    assert networks == {row["network"] for row in steps[::2]}
    for network in networks:
        variants = {row["variant"]: row for row in optimised if row["network"] == network}
        baseline = variants["fp32 (baseline)"]
        assert baseline["train_speedup"] == baseline["infer_speedup"] == 1.0
        assert {"channels-last", "inference under no_grad", "inference with autograd on"} <= set(variants)
        assert variants["channels-last"]["train_speedup"] == pytest.approx(
            baseline["train_s"] / variants["channels-last"]["train_s"]
        )
        assert ("gradient checkpointing" in variants) == network.startswith("MILDNet")
        # the process-wide allocator variants come last in the network's rows, against the same baseline
        assert list(variants)[-2:] == ["freed memory reused", "channels-last + freed memory reused"]
        reused = variants["channels-last + freed memory reused"]
        assert reused["infer_speedup"] == pytest.approx(baseline["infer_s"] / reused["infer_s"])
    pipeline = [row for row in report["results"] if row["section"] == "data_pipeline"]
    assert {row["bundle"] for row in pipeline} == {
        path.stem for path in (ROOT / "tests" / "bundles" / "cases").glob("*.json") if "3d_" not in path.stem
    }
    for row in pipeline:
        assert row["samples_per_epoch"] >= row["images"] > 0 and row["cache_build_s"] > 0
        assert row["loader_vs_step"] == pytest.approx(row["loader_images_per_s"] / row["step_images_per_s"])
        assert row["cached_bundle_workers_images_per_s"] > 0 and row["plain_bundle_workers_images_per_s"] > 0
    rows = [row for row in report["results"] if row["section"] == "sliding_window_3d"]
    assert [row["network"] for row in rows] == NETWORKS
    table = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    for name in NETWORKS:
        assert any(line.startswith(f"| {name} |") for line in table), result.stdout

    for row in rows:
        assert row["sw_seconds"] > 0 and row["run_seconds"] > 0 and row["sw_vs_segresnet"] > 0
        assert row["peak_rss_mib"] > 50  # a Python process importing torch and MONAI
        assert row["output_shape"] == row["volume"][1:]
        spatial, roi = row["volume"][1:], row["roi_size"]
        interval = _get_scan_interval(spatial, roi, len(roi), [row["overlap"]] * len(roi))
        assert row["windows"] == len(dense_patch_slices(spatial, roi, interval)) >= 1
        parser = ConfigParser()
        parser.read_config(str(ROOT / row["config_file"]))
        parser.update(row["overrides"])
        network = parser.get_parsed_content("network_def")
        assert type(network).__name__ == row["class"]
        assert row["params"] == sum(p.numel() for p in network.parameters())
    assert rows[-1]["class"] == "SegResNet" and rows[-1]["sw_vs_segresnet"] == 1.0


def _quick_report(tmp_path: Path, *args: str) -> dict:
    """The JSON report of a ``--quick`` benchmark run with ``args``."""
    out = tmp_path / "report.json"
    run_script("scripts/benchmark.py", "--quick", *args, "--json", out)
    return json.loads(out.read_text())


def _refused(*args: str) -> str:
    """The error output of a benchmark run that must exit with an error."""
    result = subprocess.run(
        [sys.executable, "scripts/benchmark.py", *args], cwd=ROOT, capture_output=True, text=True, encoding="utf-8"
    )
    assert result.returncode != 0
    return result.stderr


def test_sections_are_chosen_by_name(tmp_path):
    out = tmp_path / "limits.json"
    run_script("scripts/benchmark.py", "--quick", "--sections", "machine_limits", "--json", out)
    report = json.loads(out.read_text())
    assert {row["section"] for row in report["results"]} == {"machine_limits"}
    assert report["machine"]["machine_limits_seconds"] > 0
    assert "warp_drive" in _refused("--sections", "machine_limits,warp_drive")


def test_networks_are_chosen_by_class_name(tmp_path):
    report = _quick_report(tmp_path, "--sections", "network_steps,optimisations", "--networks", "ResCRNet")
    assert report["machine"]["networks"] == ["ResCRNet"]
    networks = {row["network"] for row in report["results"]}
    assert networks == {"ResCRNet 2-D 3→4", "BasicUNet (MONAI) for ResCRNet 2-D 3→4"}
    assert {row["section"] for row in report["results"]} == {"network_steps", "optimisations"}
    assert "HAL9000" in _refused("--networks", "ResCRNet,HAL9000")


def test_optimisations_of_3d_networks(tmp_path):
    args = ("--sections", "optimisations", "--spatial_dims", "3", "--networks", "MultiResUNet")
    rows = _quick_report(tmp_path, *args)["results"]
    assert {row["network"] for row in rows} == {"MultiResUNet 3-D 4→1", "MultiResUNet 3-D 4→3"}
    for network in {row["network"] for row in rows}:
        variants = {row["variant"]: row for row in rows if row["network"] == network}
        assert variants["fp32 (baseline)"]["input"][2:] == [32, 32, 32]  # 3-D input
        channels_last = variants["channels-last"]
        assert channels_last["train_speedup"] == pytest.approx(
            variants["fp32 (baseline)"]["train_s"] / channels_last["train_s"]
        )
