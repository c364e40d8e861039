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

from typing import Any

import torch

from custom_networks.allocator import reuse_freed_memory
from custom_networks.benchmark.measures import PeakMemory, StepTimer, add_ratios, in_fresh_process, median_seconds
from custom_networks.benchmark.network_steps import network_input
from custom_networks.benchmark.settings import NETWORKS_MEASURED, BenchmarkSettings, Row, log
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


def setting_measures(
    label: str, options: dict[str, Any] | None, repeats: int, quick: bool, device: torch.device
) -> dict[str, Any]:
    """In a fresh process (the setting is process-wide): switch glibc as ``options`` say
    (:func:`~custom_networks.allocator.reuse_freed_memory`'s keyword arguments; None leaves it as it is), then the
    median training step of the network labelled ``label``, channels-last, and the peak memory of all its steps."""
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
    return {"train_s": seconds, "train_peak_mib": peak.mib}


def freed_memory(run: BenchmarkSettings) -> list[Row]:
    """For each network: its training step and peak memory in each allocator setting, each in a fresh process, and
    their ratios to glibc's defaults."""
    rows = []
    for network in run.configurations():
        baseline = None
        for setting, options in SETTINGS.items():
            log(f"[freed_memory] {network.label}: {setting} ...")
            arguments = (network.label, options, run.repeats, run.quick, run.device)
            measures = in_fresh_process(setting_measures, *arguments)
            row = {"section": "freed_memory", "network": network.label, "setting": setting, **measures}
            baseline = baseline or row
            add_ratios(row, baseline)
            rows.append(row)
    return rows
