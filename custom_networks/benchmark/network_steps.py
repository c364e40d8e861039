"""``network_steps``: each network against the machine's limits and against MONAI's ``BasicUNet``.

Each network of :data:`custom_networks.nets.registry.NETWORKS` in its paper (and 3-D bundle) configurations, and
MONAI's ``BasicUNet`` with the configuration's widths (32…512, the default of most networks, where it sets none), on
random input of batch 4 × C × 256 × 256 (2-D) or 1 × C × 96³ (3-D) (``--spatial_dims`` chooses; 2-D first); with
``--quick`` (only the 2-D networks unless ``--spatial_dims`` says otherwise) batch 2, at the smallest size each
takes (at least 32). Per network: parameters; FLOPs of a training step (forward and backward,
``torch.utils.flop_counter``; the optimiser step adds no matmul/convolution FLOPs) and of an inference forward; bytes
the operators of those passes read and write (:class:`~custom_networks.benchmark.measures.MemoryTrafficMode`: a
model that ignores caches); median seconds of a training step (forward, MSE loss, backward, Adam step) and of an
inference forward under ``torch.inference_mode()``; achieved GFLOP/s and their fraction of the fp32 matmul
reference, achieved GB/s and their fraction of the copy bandwidth (``machine_limits``); time ratios against the
BasicUNet of the same configuration and input; the peak memory of the warm-up training step and inference
(:class:`~custom_networks.benchmark.measures.PeakMemory`: resident memory above the process's before it on the CPU,
allocated memory on CUDA); for Res-CR-Net the ConvLSTM steps of a forward (max(H, W): each step one row and one
column position of the four scans, rows and columns in both directions, over the whole batch).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from monai.networks.nets import BasicUNet
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from custom_networks.benchmark.machine_limits import copy_gbytes_per_s, matmul_gflops
from custom_networks.benchmark.measures import MemoryTrafficMode, StepTimer
from custom_networks.benchmark.settings import BenchmarkSettings, Network, Row, log
from custom_networks.blocks.convlstm import ConvLSTM

__all__ = ["COLUMNS", "basic_unet", "network_input", "network_steps", "step_counts"]

BATCH = {2: 4, 3: 1}
SIZE = {2: 256, 3: 96}
QUICK_BATCH, QUICK_MIN_SIZE = 2, 32
BASIC_UNET_FEATURES = (32, 64, 128, 256, 512)

COLUMNS = [
    ("network", "Network"),
    ("input", "Input"),
    ("params", "Parameters"),
    ("flops_train", "FLOPs / training step"),
    ("train_s", "Training step s"),
    ("train_gflops", "Training GFLOP/s"),
    ("train_fraction", "of matmul"),
    ("train_bandwidth_fraction", "Training traffic of copy bandwidth"),
    ("train_vs_basicunet", "× BasicUNet"),
    ("train_peak_mib", "Training peak MiB"),
    ("infer_s", "Inference s"),
    ("infer_gflops", "Inference GFLOP/s"),
    ("infer_fraction", "of matmul"),
    ("infer_vs_basicunet", "× BasicUNet"),
    ("infer_peak_mib", "Inference peak MiB"),
    ("scan_steps", "ConvLSTM steps / forward"),
]


def basic_unet(network: Network) -> BasicUNet:
    """MONAI's BasicUNet with the widths of the configuration (``BASIC_UNET_FEATURES``, MILDNet's, MultiResUNet's and
    U-Net's default, where it sets none)."""
    config = network.config
    widths = config.features or BASIC_UNET_FEATURES
    return BasicUNet(config.spatial_dims, config.in_channels, config.out_channels, features=(*widths, widths[0]))


def network_input(network: Network, net: nn.Module, device: torch.device, quick: bool) -> torch.Tensor:
    """Random input of the paper shape (batch 4 × 256² in 2-D, 1 × 96³ in 3-D); with ``quick`` batch 2 at the
    smallest size the network takes (at least 32)."""
    dims = network.config.spatial_dims
    size = max(getattr(net, "multiple", 1), QUICK_MIN_SIZE) if quick else SIZE[dims]
    batch = QUICK_BATCH if quick else BATCH[dims]
    return torch.rand(batch, network.config.in_channels, *[size] * dims, device=device)


def scan_steps(net: nn.Module) -> Callable[[], int] | None:
    """For a network with ConvLSTM layers, a function returning how many recurrent steps (calls of their
    recurrent convolution, each over the whole batch, its scans and the other spatial axis) ran since; else None."""
    steps = 0

    def count(*_: Any) -> None:
        nonlocal steps
        steps += 1

    lstms = [m for m in net.modules() if isinstance(m, ConvLSTM)]
    for lstm in lstms:
        lstm.recurrent_conv.register_forward_hook(count)
    return (lambda: steps) if lstms else None


def step_counts(net: nn.Module, x: torch.Tensor, train: bool) -> dict[str, int]:
    """FLOPs (``torch.utils.flop_counter``) and bytes moved (:class:`MemoryTrafficMode`) of a forward pass and,
    with ``train``, its backward pass; for Res-CR-Net also the ConvLSTM scan steps of the forward pass."""
    steps = scan_steps(net)
    with FlopCounterMode(display=False) as flops, MemoryTrafficMode() as traffic:
        if train:
            net(x).float().square().mean().backward()
        else:
            with torch.no_grad():
                net(x)
    net.zero_grad(set_to_none=True)
    kind = "train" if train else "infer"
    counts = {f"flops_{kind}": flops.get_total_flops(), f"bytes_{kind}": traffic.bytes}
    if steps is not None and not train:
        counts["scan_steps"] = steps()
    return counts


def measure_network(
    name: str, model: nn.Module, x: torch.Tensor, out_channels: int, run: BenchmarkSettings, limits: tuple[float, float]
) -> Row:
    """Parameters, FLOPs, bytes, times and peak memory of one network, and their fractions of the machine's
    ``limits``: fp32 matmul GFLOP/s and copy GB/s."""
    log(f"[network_steps] {name}: input {tuple(x.shape)}")
    model = model.to(run.device)
    row = {"network": name, "input": list(x.shape), "params": sum(p.numel() for p in model.parameters())}
    row |= step_counts(model.train(), x, True) | step_counts(model.eval(), x, False)
    timer = StepTimer(model, x, out_channels)
    row |= timer.train(run.repeats) | timer.infer(run.repeats)
    row.pop("train_first_s"), row.pop("infer_first_s")
    for kind in ("train", "infer"):
        row[f"{kind}_gflops"] = row[f"flops_{kind}"] / row[f"{kind}_s"] / 1e9
        row[f"{kind}_fraction"] = row[f"{kind}_gflops"] / limits[0]
        row[f"{kind}_gbytes_per_s"] = row[f"bytes_{kind}"] / row[f"{kind}_s"] / 1e9
        row[f"{kind}_bandwidth_fraction"] = row[f"{kind}_gbytes_per_s"] / limits[1]
    log(
        f"[network_steps] {name}: training step {row['train_s']:.3g} s ({row['train_fraction']:.0%} of matmul),"
        f" inference {row['infer_s']:.3g} s ({row['infer_fraction']:.0%})"
    )
    return row


def network_steps(run: BenchmarkSettings) -> list[Row]:
    """Each network and its BasicUNet: FLOPs, bytes moved, training-step and inference time and peak memory,
    fractions of the matmul and memory-copy references."""
    limits = matmul_gflops(run), copy_gbytes_per_s(run)
    rows = []
    for network in run.configurations():
        torch.manual_seed(0)
        net = network.build()
        x = network_input(network, net, run.device, run.quick)
        out_channels = network.config.out_channels
        ours = measure_network(network.label, net, x, out_channels, run, limits)
        del net
        basic_name = f"BasicUNet (MONAI) for {network.label}"
        basic = measure_network(basic_name, basic_unet(network), x, out_channels, run, limits)
        for kind in ("train", "infer"):
            ours[f"{kind}_vs_basicunet"] = ours[f"{kind}_s"] / basic[f"{kind}_s"]
        rows += [ours, basic]
    return [{"section": "network_steps", **row} for row in rows]
