"""freed_memory through the script on U-Net: each allocator setting in its own process, ratios to glibc's defaults."""

import json
import sys

import pytest

from custom_networks.benchmark.freed_memory import SETTINGS
from tests.subprocesses import run_script


@pytest.mark.slow
def test_unet_through_the_script(tmp_path):
    out = tmp_path / "report.json"
    args = ("--quick", "--sections", "freed_memory", "--networks", "UNet", "--json", out)
    result = run_script("scripts/benchmark.py", *args)
    rows = json.loads(out.read_text())["results"]
    assert [(row["network"], row["setting"]) for row in rows] == [("UNet 2-D 1→1", setting) for setting in SETTINGS]
    defaults = rows[0]
    assert defaults["train_speedup"] == 1.0
    for row in rows:
        assert row["train_s"] > 0
        assert row["train_speedup"] == pytest.approx(defaults["train_s"] / row["train_s"])
        if sys.platform.startswith("linux"):  # the peak resident memory comes from /proc
            assert row["train_peak_mib"] > 0
            assert row["train_peak_ratio"] == pytest.approx(row["train_peak_mib"] / defaults["train_peak_mib"])
        assert f"| UNet 2-D 1→1 | {row['setting']} |" in result.stdout
