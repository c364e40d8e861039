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

import torch

from custom_networks.allocator import reuse_freed_memory
from custom_networks.benchmark.measures import PeakMemory, StepTimer, median_seconds
from custom_networks.benchmark.network_steps import network_input
from custom_networks.benchmark.settings import NETWORKS_MEASURED, BenchmarkSettings, Network, Row, log
from custom_networks.nets import to_channels_last

__all__ = ["COLUMNS", "SETTINGS", "freed_memory", "setting_measures"]

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

# runs setting_measures in a fresh interpreter: argv = label, reuse_freed_memory's kwargs (JSON or null), repeats,
# quick (1 or 0), device; prints its result as JSON
CHILD = (
    "import json, sys\n"
    "from custom_networks.benchmark.freed_memory import setting_measures\n"
    "label, options, repeats, quick, device = sys.argv[1:]\n"
    "print(json.dumps(setting_measures(label, json.loads(options), int(repeats), quick == '1', device)))\n"
)


def setting_measures(
    label: str, options: dict[str, Any] | None, repeats: int, quick: bool, device: str
) -> dict[str, Any]:
    """In this process, which must be fresh (the setting is process-wide): switch glibc as ``options`` say
    (:func:`~custom_networks.allocator.reuse_freed_memory`'s keyword arguments; None leaves it as it is), then the
    median training step of the network labelled ``label``, channels-last, and the peak memory of all its steps."""
    if options is not None:
        reuse_freed_memory(**options)
    network = next(network for network in NETWORKS_MEASURED if network.label == label)
    on = torch.device(device)
    torch.manual_seed(0)
    net = to_channels_last(network.build()).to(on)
    timer = StepTimer(net, network_input(network, net, on, quick), network.config.out_channels)
    net.train()
    with PeakMemory(on) as peak:
        timer.train_step()
        seconds = median_seconds(timer.train_step, on, repeats)
    return {"train_s": seconds, "train_peak_mib": peak.mib}


def measure_setting(network: Network, setting: str, run: BenchmarkSettings) -> Row:
    """Training step and peak memory of ``network`` in ``setting``, in a fresh process.

    Raises:
        RuntimeError: the process failed; the message holds the end of its output.
    """
    log(f"[freed_memory] {network.label}: {setting} ...")
    options = json.dumps(SETTINGS[setting])
    arguments = [network.label, options, str(run.repeats), str(int(run.quick)), str(run.device)]
    command = [sys.executable, "-c", CHILD, *arguments]
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
