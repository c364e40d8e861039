"""``freed_memory``: the speed and the memory of glibc keeping freed memory (``custom_networks.allocator``).

Each network of the chosen ranks (``--spatial_dims``, ``--networks``) at the ``network_steps`` input, channels-last
(the bundles' fast layout), in three allocator settings: glibc's defaults, every freed block kept
(``reuse_freed_memory``, the bundles' default) and blocks up to 32 MiB kept (``reuse_largest_block_mib`` 32). The
settings are process-wide and glibc cannot fully undo them, so each runs in a fresh process: an untimed warm-up
training step (forward, MSE loss, backward, Adam step), then ``repeats`` timed ones. Per setting: the median training
step, the peak resident memory over all the steps above the process's resident size before them (its heap trimmed,
as :class:`.measures.PeakMemory` measures), and both against glibc's defaults of the same network.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from custom_networks.benchmark.settings import BenchmarkSettings, Network, Row, log

__all__ = ["COLUMNS", "SETTINGS", "freed_memory"]

COLUMNS = [
    ("network", "Network"),
    ("setting", "Freed memory"),
    ("train_s", "Training step s"),
    ("train_speedup", "Speed-up"),
    ("train_peak_mib", "Peak MiB (all steps)"),
    ("train_peak_ratio", "Peak ÷ glibc defaults"),
]

# setting -> keyword arguments of custom_networks.allocator.reuse_freed_memory (None: not called)
SETTINGS: dict[str, dict[str, Any] | None] = {
    "glibc defaults": None,
    "every block kept": {},
    "blocks up to 32 MiB kept": {"largest_block_mib": 32},
}

# One network in one setting in this fresh interpreter: argv = label, reuse_freed_memory's kwargs (JSON or null),
# repeats, quick, device; prints the row's measures as JSON.
STEPS = """
import json, sys
import torch
from custom_networks.allocator import reuse_freed_memory
from custom_networks.benchmark.measures import PeakMemory, StepTimer, median_seconds
from custom_networks.benchmark.network_steps import network_input
from custom_networks.benchmark.settings import NETWORKS_MEASURED
from custom_networks.nets import to_channels_last

label, options, repeats = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
quick, device = sys.argv[4] == "1", torch.device(sys.argv[5])
if options is not None:
    reuse_freed_memory(**options)
network = next(network for network in NETWORKS_MEASURED if network.label == label)
torch.manual_seed(0)
net = to_channels_last(network.build()).to(device)
timer = StepTimer(net, network_input(network, net, device, quick), network.config.out_channels)
net.train()
with PeakMemory(device) as peak:
    timer.train_step()
    seconds = median_seconds(timer.train_step, device, repeats)
print(json.dumps({"train_s": seconds, "train_peak_mib": peak.mib}))
"""


def measure_setting(network: Network, setting: str, run: BenchmarkSettings) -> Row:
    """Training step and peak memory of ``network`` in ``setting``, in a fresh process.

    Raises:
        RuntimeError: the process failed; the message holds the end of its output.
    """
    log(f"[freed_memory] {network.label}: {setting} ...")
    options = json.dumps(SETTINGS[setting])
    arguments = [network.label, options, str(run.repeats), str(int(run.quick)), str(run.device)]
    command = [sys.executable, "-c", STEPS, *arguments]
    result = subprocess.run(command, capture_output=True, text=True, encoding="utf-8")
    if result.returncode != 0:
        raise RuntimeError(f"{network.label}, {setting}: exited with {result.returncode}:\n{result.stderr[-4000:]}")
    measures = json.loads(result.stdout.strip().splitlines()[-1])
    return {"section": "freed_memory", "network": network.label, "setting": setting, **measures}


def freed_memory(run: BenchmarkSettings) -> list[Row]:
    """For each network: its training step and peak memory in each allocator setting, and their ratios to glibc's
    defaults."""
    rows = []
    for network in run.configurations():
        baseline = None
        for setting in SETTINGS:
            row = measure_setting(network, setting, run)
            baseline = baseline or row
            row["train_speedup"] = baseline["train_s"] / row["train_s"]
            if row["train_peak_mib"] and baseline["train_peak_mib"]:
                row["train_peak_ratio"] = row["train_peak_mib"] / baseline["train_peak_mib"]
            rows.append(row)
    return rows
