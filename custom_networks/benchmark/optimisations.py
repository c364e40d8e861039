"""``optimisations``: what each speed switch of the bundles changes.

Each network of the chosen ranks (``--spatial_dims``) at the ``network_steps`` input in the settings the bundles
switch (``amp``/``amp_dtype``, ``channels_last``, ``compile``, MILDNet's ``gradient_checkpointing``) and the
inference contexts: fp32 baseline, inference under ``no_grad`` and with autograd on (against ``inference_mode``),
channels-last kernels (``custom_networks.nets.to_channels_last``), bf16 autocast where the device multiplies bf16
(fp16 too on CUDA), both together, gradient checkpointing (MILDNet) and ``torch.compile`` for the ``--compile``
networks (its first calls, which compile, reported apart), and glibc keeping the memory the process frees
(``custom_networks.allocator.reuse_freed_memory``, the bundles' ``reuse_freed_memory``), alone and with channels-last;
being process-wide, those two run after all other variants. Per variant: training-step and inference seconds, their
speed-up over the baseline of the same run, peak memory of the training step and its ratio to the baseline's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import nn

from custom_networks.allocator import restore_default_allocation, reuse_freed_memory
from custom_networks.benchmark.machine_limits import bf16_matmul_supported
from custom_networks.benchmark.measures import StepTimer, add_ratios
from custom_networks.benchmark.network_steps import network_input
from custom_networks.benchmark.settings import BenchmarkSettings, Network, Row, log
from custom_networks.nets import to_channels_last
from custom_networks.nets.registry import NETWORKS

__all__ = ["COLUMNS", "Variant", "optimisation_variants", "optimisations"]

COLUMNS = [
    ("network", "Network"),
    ("variant", "Variant"),
    ("train_s", "Training step s"),
    ("train_speedup", "Training speed-up"),
    ("train_peak_mib", "Training peak MiB"),
    ("train_peak_ratio", "Peak ÷ baseline"),
    ("train_first_s", "First training step s"),
    ("infer_s", "Inference s"),
    ("infer_speedup", "Inference speed-up"),
    ("infer_first_s", "First inference s"),
]
BOTH = ("train", "infer")


class Variant(NamedTuple):
    """One setting a network is measured in.

    Args:
        name: the ``variant`` of its row.
        factory: builds the network in this setting.
        measure: which of ``train`` / ``infer`` it changes.
        dtype: autocast dtype, None for fp32.
        context: the inference context (:attr:`StepTimer.CONTEXTS`).
        compile: wrap the network in ``torch.compile``.
        reuse_freed_memory: with glibc keeping freed memory (``custom_networks.allocator``).
    """

    name: str
    factory: Callable[[], nn.Module]
    measure: tuple[str, ...] = BOTH
    dtype: torch.dtype | None = None
    context: str = "inference_mode"
    compile: bool = False
    reuse_freed_memory: bool = False


def _dtype_name(dtype: torch.dtype) -> str:
    return {torch.bfloat16: "bf16", torch.float16: "fp16"}[dtype]


def optimisation_variants(network: Network, run: BenchmarkSettings) -> list[Variant]:
    """Every variant measured for ``network``; the first is the fp32 baseline."""

    def channels_last() -> nn.Module:
        return to_channels_last(network.build())

    variants = [
        Variant("fp32 (baseline)", network.build),
        Variant("inference under no_grad", network.build, ("infer",), context="no_grad"),
        Variant("inference with autograd on", network.build, ("infer",), context="autograd"),
        Variant("channels-last", channels_last),
    ]
    dtypes = [torch.bfloat16] if bf16_matmul_supported(run.device) else []
    dtypes += [torch.float16] if run.device.type == "cuda" else []
    for dtype in dtypes:
        name = f"{_dtype_name(dtype)} autocast"
        variants.append(Variant(name, network.build, dtype=dtype))
        variants.append(Variant(f"channels-last + {name}", channels_last, dtype=dtype))
    if network.spec is NETWORKS["mildnet"]:
        checkpointed = Variant("gradient checkpointing", lambda: network.build(gradient_checkpointing=True), ("train",))
        variants.append(checkpointed)
    if network.name in run.compile:
        variants.append(Variant("torch.compile", network.build, compile=True))
    variants.append(Variant("freed memory reused", network.build, reuse_freed_memory=True))
    variants.append(Variant("channels-last + freed memory reused", channels_last, reuse_freed_memory=True))
    return variants


def measure_variant(network: Network, variant: Variant, run: BenchmarkSettings) -> Row:
    """Training-step and inference times and peak memory of ``network`` in ``variant``."""
    if variant.reuse_freed_memory:
        reuse_freed_memory()
    torch.manual_seed(0)
    net = variant.factory().to(run.device)
    x = network_input(network, net, run.device, run.quick)
    log(f"[optimisations] {network.label}: {variant.name} ...")
    if variant.compile:
        net = torch.compile(net)
    timer = StepTimer(net, x, network.config.out_channels, variant.dtype)
    row: Row = {"network": network.label, "variant": variant.name, "input": list(x.shape)}
    if "train" in variant.measure:
        row |= timer.train(run.repeats)
    if "infer" in variant.measure:
        row |= timer.infer(run.repeats, variant.context)
    if not variant.compile:  # the first call of a compiled network compiles it
        row = {key: value for key, value in row.items() if not key.endswith("_first_s")}
    return row


def optimisations(run: BenchmarkSettings) -> list[Row]:
    """For each network: training-step and inference time and peak memory of each optimisation the bundles can
    switch on, and their ratios to the fp32 baseline of the same run.

    glibc's reuse of freed memory is process-wide and not fully undone (``restore_default_allocation`` leaves glibc's
    mmap threshold fixed), so its variants run after every other variant of every network, and the rows are then put
    back in network order."""
    planned = [
        (network, variant) for network in run.configurations() for variant in optimisation_variants(network, run)
    ]
    order = sorted(range(len(planned)), key=lambda i: planned[i][1].reuse_freed_memory)
    rows: dict[int, Row] = {}
    baselines: dict[str, Row] = {}
    for index in order:
        row = measure_variant(*planned[index], run)
        add_ratios(row, baselines.setdefault(row["network"], row))
        rows[index] = {"section": "optimisations", **row}
    restore_default_allocation()
    return [rows[index] for index in sorted(rows)]
