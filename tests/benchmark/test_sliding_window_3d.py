"""sliding_window_3d through the script on the quick volume: every 3-D bundle and SegResNet, windows counted by hand."""

import json

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from custom_networks.benchmark.bundle_configs import parse_config
from custom_networks.zoo import bundles_root
from tests.subprocesses import run_script

NETWORKS = {
    "mildnet3d_brats_mri": "MILDNet",
    "multiresunet3d_brats_mri": "MultiResUNet",
    "SegResNet (MONAI)": "SegResNet",
}


@pytest.mark.slow
def test_quick_sliding_window(tmp_path):
    out = tmp_path / "report.json"
    result = run_script("scripts/benchmark.py", "--quick", "--sections", "sliding_window_3d", "--json", out)
    rows = json.loads(out.read_text())["results"]
    assert {row["network"]: row["class"] for row in rows} == NETWORKS
    assert rows[-1]["network"] == "SegResNet (MONAI)" and rows[-1]["sw_vs_segresnet"] == 1.0
    assert rows[-1]["per_flop_vs_segresnet"] == 1.0
    table = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    for row in rows:
        assert any(line.startswith(f"| {row['network']} |") for line in table), result.stdout
        assert row["volume"] == [4, 48, 48, 32] and row["output_shape"] == [48, 48, 32]
        assert row["roi_size"] == [32, 32, 32] and row["overlap"] == 0.5
        # 32³ windows at half overlap step 16 voxels: 2 × 2 positions across 48 × 48, 1 along 32
        assert row["windows"] == 4
        assert row["sw_seconds"] > 0 and row["run_seconds"] > 0
        rate = row["windows"] * row["window_gflop"] / row["sw_seconds"]
        assert row["sw_gflop_per_s"] == pytest.approx(rate)
        assert row["per_flop_vs_segresnet"] == pytest.approx(rows[-1]["sw_gflop_per_s"] / rate)
        assert row["peak_rss_mib"] > 50  # a Python process importing torch and MONAI
        network = parse_config(
            bundles_root().resolve().parent / row["config_file"], row["overrides"]
        ).get_parsed_content("network_def")
        assert type(network).__name__ == row["class"]
        assert row["params"] == sum(p.numel() for p in network.parameters())
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            network(torch.zeros(1, 4, 32, 32, 32))
        assert row["window_gflop"] == pytest.approx(counter.get_total_flops() / 1e9)
