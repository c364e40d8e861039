"""optimisations: the variants each network is measured in, and the section run through the script on U-Net."""

import json

import pytest
import torch

from custom_networks.benchmark.optimisations import optimisation_variants
from custom_networks.benchmark.settings import BenchmarkSettings
from tests.subprocesses import run_script

CPU = torch.device("cpu")
LAST = ["freed memory reused", "channels-last + freed memory reused"]  # process-wide: measured after all others


def _variants(name: str, run: BenchmarkSettings) -> dict:
    network = next(n for n in run.configurations() if n.name == name)
    return {variant.name: variant for variant in optimisation_variants(network, run)}


def test_variants_of_mildnet():
    variants = _variants("MILDNet", BenchmarkSettings(CPU, True, 1, compile=("MILDNet",), spatial_dims=(2,)))
    assert list(variants)[0] == "fp32 (baseline)" and list(variants)[-2:] == LAST
    assert {"inference under no_grad", "inference with autograd on", "channels-last", "torch.compile"} <= set(variants)
    checkpointed = variants["gradient checkpointing"]
    assert checkpointed.measure == ("train",)
    net = checkpointed.factory()
    assert any(getattr(module, "gradient_checkpointing", False) for module in net.modules())
    assert variants["torch.compile"].compile and variants["inference under no_grad"].context == "no_grad"
    assert all(variants[name].reuse_freed_memory for name in LAST)


def test_variants_of_rescrnet():
    variants = _variants("ResCRNet", BenchmarkSettings(CPU, True, 1, compile=("MILDNet",), spatial_dims=(2,)))
    assert "gradient checkpointing" not in variants and "torch.compile" not in variants
    assert list(variants)[-2:] == LAST


@pytest.mark.slow
def test_unet_through_the_script(tmp_path):
    out = tmp_path / "report.json"
    args = ("--quick", "--sections", "optimisations", "--networks", "UNet", "--json", out)
    result = run_script("scripts/benchmark.py", *args)
    report = json.loads(out.read_text())
    assert report["machine"]["networks"] == ["UNet"]
    rows = report["results"]
    assert {row["section"] for row in rows} == {"optimisations"}
    assert {row["network"] for row in rows} == {"UNet 2-D 1→1"}  # not ResidualUNet: the class name, exactly
    variants = {row["variant"]: row for row in rows}
    assert list(variants)[-2:] == LAST
    baseline = variants["fp32 (baseline)"]
    assert baseline["train_speedup"] == baseline["infer_speedup"] == baseline["train_peak_ratio"] == 1.0
    assert "train_s" not in variants["inference under no_grad"] and variants["inference under no_grad"]["infer_s"] > 0
    assert not any(key.endswith("_first_s") for row in rows for key in row)  # reported for torch.compile only
    assert all(row["train_s"] > 0 and row["train_peak_mib"] > 0 for row in rows if "train_s" in row)
    assert "| UNet 2-D 1→1 | fp32 (baseline) |" in result.stdout
