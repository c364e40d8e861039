"""Performance benchmark of the project's networks and bundles; prints one table per section.

    python scripts/benchmark.py [--device cpu|cuda] [--json out.json] [--quick] [--repeats N]
                                [--sections a,b] [--compile MILDNet,MSUNet|none] [--spatial_dims 2|3|2,3]
                                [--networks ResCRNet,MultiResUNet]

The machine comes first: torch's intra-op thread count (``torch.get_num_threads()``, set it with
``OMP_NUM_THREADS``; subprocesses inherit the environment and so the same count), the device and the versions. Then
each section (all by default, ``--sections`` to choose) runs and prints a table; ``--json`` writes the machine and
the rows so far (dicts, each naming its section) to a file after every section, with each section's wall seconds
and the machine's 1-minute load average at its end (above the thread count: something else was running). Timings
are wall-clock seconds (``time.perf_counter``; on CUDA after ``torch.cuda.synchronize()``), medians of
``--repeats`` runs (default 3) after an untimed warm-up call. ``--quick`` is the smoke mode for CI: small inputs,
tiny networks, one repeat; its figures only show that every path runs, they measure nothing. Numbers from a shared
or busy machine are not comparable either. ``docs/performance.md`` holds a full run and what it shows.

Sections:

``machine_limits``
    The reference limits the other sections are compared with: dense matrix multiplication throughput
    (``torch.mm`` of two n × n matrices, n = 4096, 256 with ``--quick``; 2n³ floating-point operations per product) in
    fp32 and, where the device runs it, bf16; and memory-copy bandwidth (``Tensor.copy_`` of a 256 MiB fp32 buffer, 4
    MiB with ``--quick``; bytes read plus bytes written per second). Medians after one untimed warm-up call.

``network_steps``
    Each network of ``scripts/network_table.py`` in its paper (and 3-D bundle) configuration, and MONAI's
    ``BasicUNet`` with the configuration's widths (32…512, the default of most networks, where it sets none), on
    random input of batch 4 × C × 256 × 256 (2-D) or 1 × C × 96³ (3-D) (``--spatial_dims`` chooses; 2-D first); with
    ``--quick`` (only the 2-D networks unless ``--spatial_dims`` says otherwise) batch 2, at the smallest size each
    takes (at least 32). Per network: parameters; FLOPs of a training step
    (forward and backward, ``torch.utils.flop_counter``; the optimiser step adds no matmul/convolution FLOPs) and of
    an inference forward; bytes the operators of those passes read and write (``measurement.MemoryTrafficMode``: a
    model that ignores caches); median seconds of a training step (forward, MSE loss, backward, Adam step) and of an
    inference forward under ``torch.inference_mode()``; achieved GFLOP/s and their fraction of the fp32 matmul
    reference, achieved GB/s and their fraction of the copy bandwidth; time ratios against the BasicUNet of the same
    configuration and input; the peak memory of the warm-up training step and inference (``measurement.PeakMemory``:
    resident memory above the process's before it on the CPU, allocated memory on CUDA); for Res-CR-Net the ConvLSTM
    steps of a forward (max(H, W): each step one row and one column position of the four scans, rows and columns
    in both directions, over the whole batch).

``optimisations``
    Each network of the chosen ranks (``--spatial_dims``) at the ``network_steps`` input in the settings the bundles
    switch (``amp``/``amp_dtype``, ``channels_last``, ``compile``, MILDNet's ``gradient_checkpointing``) and the
    inference contexts: fp32 baseline, inference under ``no_grad`` and with autograd on (against
    ``inference_mode``), channels-last kernels (``custom_networks.nets.to_channels_last``), bf16 autocast where the
    device multiplies bf16 (fp16 too on CUDA), both together, gradient checkpointing (MILDNet) and ``torch.compile``
    for the ``--compile`` networks (its first calls, which compile, reported apart), and glibc keeping the memory the
    process frees (``custom_networks.allocator.reuse_freed_memory``, the bundles' ``reuse_freed_memory``), alone and
    with channels-last; being process-wide, those two run after all other variants. Per variant: training-step and
    inference seconds, their speed-up over the baseline of the same run, peak memory of the training step and its
    ratio to the baseline's.

``data_pipeline``
    Each 2-D bundle's training transforms (``train#preprocessing`` of its ``train.json``) on a synthetic dataset in
    its raw layout (``custom_networks.data.synthesize`` with the options of its test case in ``tests/bundles/cases``,
    24 images at the bundle's ROI size, prepared with ``custom_networks.data.prepare``): images per second of a
    shuffled epoch through MONAI's ``DataLoader`` (worker start included) from a plain ``Dataset`` and from a
    ``CacheDataset`` (its one-off build timed apart), with no worker process and with the bundle's ``num_workers``;
    and the images per second of a training step of the bundle's network at its ROI and batch size, to show whether
    training waits for data (``loader_vs_step``: the bundle's own loader, cached with its workers, over the step).

``sliding_window_3d``
    One BraTS-sized volume (4 × 240 × 240 × 155, 1 mm) through the inference config of each 3-D bundle
    (``bundles/<name>/configs/inference.json``) and through the same config with ``network_def`` swapped for MONAI's
    ``SegResNet`` in the configuration of MONAI's BraTS tutorial (init_filters 16, blocks_down [1, 2, 2, 4],
    blocks_up [1, 1, 1]), so all networks share the bundles' sliding-window settings (ROI 96³, sw_batch_size 4,
    overlap 0.5, Gaussian blending). Per network, with randomly initialised weights:

    - ``run_seconds`` and ``peak_rss_mib``: ``python -m monai.bundle run`` of the whole inference config in a fresh
      process (Python start, imports, checkpoint loading, NIfTI reading, preprocessing, sliding window,
      postprocessing, NIfTI writing) on a synthetic 4-channel ``.nii.gz``; wall seconds of that process and its
      peak resident memory (``ru_maxrss`` from ``os.wait4``). The process is started by a small launcher without
      torch, since Linux counts the memory of the process that forks a child in the child's ``ru_maxrss``. The
      bundle's ``CheckpointLoader`` loads ``models/model.pt`` (this process's random weights) strictly, so a run
      that succeeds has run the intended network.
    - ``sw_seconds``: the config's ``sliding_window`` inferer alone, in this process after the config's
      ``initialize`` (glibc's reuse of freed memory is left on for the networks after, and switched off at the end of
      the section), on a (1, 4, 240, 240, 155) tensor under ``torch.inference_mode()`` (and autocast where the
      config's ``amp`` is on, as its evaluator does); ``sw_vs_segresnet`` is its ratio to SegResNet's. ``windows``
      counts the ROIs the network saw in one run, ``params`` its parameters; on CUDA ``cuda_peak_mib`` is
      ``torch.cuda.max_memory_allocated``.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import fire
import monai
import nibabel as nib
import numpy as np
import torch
from measurement import MemoryTrafficMode, PeakMemory, median_seconds, synchronize
from monai.bundle import ConfigParser
from monai.data import CacheDataset, DataLoader, Dataset
from monai.networks.nets import BasicUNet
from network_table import CONFIGS, Config, build
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from custom_networks.allocator import restore_default_allocation, reuse_freed_memory
from custom_networks.blocks.convlstm import ConvLSTM
from custom_networks.data import prepare, synthesize
from custom_networks.nets import MILDNet, to_channels_last

ROOT = Path(__file__).resolve().parents[1]
BUNDLES = ROOT / "bundles"

Row = dict[str, Any]


class Run(NamedTuple):
    """Settings every section runs with."""

    device: torch.device
    quick: bool
    repeats: int
    compile: tuple[str, ...] = ()  # class names of the networks whose torch.compile variant is measured
    spatial_dims: tuple[int, ...] = (2, 3)  # the ranks of the networks network_steps and optimisations measure
    networks: tuple[str, ...] = ()  # class names network_steps and optimisations measure; empty: all

    def configs(self, dims: Sequence[int]) -> list[Config]:
        """The configurations of ``scripts/network_table.py`` of these ranks and networks, 2-D first."""
        chosen = [
            c for c in CONFIGS if c.spatial_dims in dims and (not self.networks or c.network.__name__ in self.networks)
        ]
        return sorted(chosen, key=lambda c: c.spatial_dims)


Section = Callable[[Run], list[Row]]

# Starts a command with stdout/stderr to a log file, waits for it and prints its wall seconds, exit status and
# peak RSS as JSON. It imports nothing heavy: a child inherits the peak RSS of the process that forks it.
LAUNCHER = """
import json, os, subprocess, sys, time
with open(sys.argv[1], "w") as log:
    start = time.perf_counter()
    child = subprocess.Popen(sys.argv[2:], stdout=log, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "returncode": os.waitstatus_to_exitcode(status), "maxrss": usage.ru_maxrss}))
"""


def log(message: str) -> None:
    """A progress line, on stderr so that stdout holds the machine and the tables."""
    print(message, file=sys.stderr, flush=True)


def machine_info(run: Run) -> dict[str, Any]:
    """What the numbers depend on: versions, CPU, thread count, device, mode."""
    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "monai": monai.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "device": str(run.device),
        "quick": run.quick,
        "repeats": run.repeats,
        "compile": list(run.compile),
        "spatial_dims": list(run.spatial_dims),
        "networks": list(run.networks) or "all",
    }
    if run.device.type == "cuda":
        info["device_name"] = torch.cuda.get_device_name(run.device)
    return info


def format_table(rows: Sequence[Row], columns: Sequence[tuple[str, str]]) -> str:
    """A Markdown table of ``rows`` with the ``(key, header)`` columns; columns empty in every row are left out.

    Integers get thousands separators, floats three significant decimals, ``None`` a dash.
    """

    def cell(value: Any) -> str:
        if value is None:
            return "—"
        if isinstance(value, bool) or not isinstance(value, int | float):
            return str(value)
        if isinstance(value, int):
            return f"{value:,}"
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.1f}"

    columns = [(key, header) for key, header in columns if any(row.get(key) is not None for row in rows)]
    lines = [[header for _, header in columns], ["---"] * len(columns)]
    lines += [[cell(row.get(key)) for key, _ in columns] for row in rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


# -------------------------------------------------------------------------------------------------- machine_limits

MATMUL_SIZE, QUICK_MATMUL_SIZE = 4096, 256
COPY_MIB, QUICK_COPY_MIB = 256, 4


def bf16_matmul_supported(device: torch.device) -> bool:
    """Whether the device multiplies bf16 matrices (CUDA: compute capability ≥ 8.0; CPU: a bf16 ``torch.mm`` runs)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    try:
        torch.mm(torch.ones(2, 2, dtype=torch.bfloat16), torch.ones(2, 2, dtype=torch.bfloat16))
    except RuntimeError:
        return False
    return True


@functools.cache
def matmul_seconds(device: torch.device, n: int, dtype: torch.dtype, repeats: int) -> float:
    """Median seconds of one n × n by n × n ``torch.mm`` after a warm-up (measured once per process)."""
    a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
    torch.mm(a, b)
    return median_seconds(lambda: torch.mm(a, b), device, repeats)


def matmul_gflops(device: torch.device, quick: bool, repeats: int, dtype: torch.dtype = torch.float32) -> float:
    """The dense matmul reference: GFLOP/s of ``torch.mm`` (2n³ operations)."""
    n = QUICK_MATMUL_SIZE if quick else MATMUL_SIZE
    return 2 * n**3 / matmul_seconds(device, n, dtype, repeats) / 1e9


@functools.cache
def copy_seconds(device: torch.device, numel: int, repeats: int) -> float:
    """Median seconds of copying ``numel`` fp32 values into another buffer after a warm-up (once per process)."""
    source, target = torch.randn(numel, device=device), torch.empty(numel, device=device)
    target.copy_(source)
    return median_seconds(lambda: target.copy_(source), device, repeats)


def copy_numel(quick: bool) -> int:
    """fp32 elements of the memory-copy buffer."""
    return (QUICK_COPY_MIB if quick else COPY_MIB) * 2**20 // 4


def copy_gbytes_per_s(device: torch.device, quick: bool, repeats: int) -> float:
    """The memory-bandwidth reference: GB/s read plus written by ``Tensor.copy_``."""
    numel = copy_numel(quick)
    return 8 * numel / copy_seconds(device, numel, repeats) / 1e9


def machine_limits(run: Run) -> list[Row]:
    """Dense matmul FLOP/s (fp32, bf16 where supported) and memory-copy bandwidth of the device."""
    device, quick, repeats = run.device, run.quick, run.repeats
    n = QUICK_MATMUL_SIZE if quick else MATMUL_SIZE
    dtypes = [torch.float32] + ([torch.bfloat16] if bf16_matmul_supported(device) else [])
    rows = []
    for dtype in dtypes:
        gflops = matmul_gflops(device, quick, repeats, dtype)
        seconds = matmul_seconds(device, n, dtype, repeats)
        rows.append({"measure": f"matmul {str(dtype).removeprefix('torch.')}", "size": n, "seconds": seconds})
        rows[-1]["gflops"] = gflops
    numel = copy_numel(quick)
    rows.append(
        {
            "measure": "memory copy fp32",
            "size": numel,
            "seconds": copy_seconds(device, numel, repeats),
            "gbytes_per_s": copy_gbytes_per_s(device, quick, repeats),
        }
    )
    return [{"section": "machine_limits", **row} for row in rows]


MACHINE_LIMITS_COLUMNS = [
    ("measure", "Measure"),
    ("size", "Size (n or elements)"),
    ("seconds", "Seconds (median)"),
    ("gflops", "GFLOP/s"),
    ("gbytes_per_s", "GB/s"),
]


# ------------------------------------------------------------------------------------------------- network_steps

BATCH = {2: 4, 3: 1}
SIZE = {2: 256, 3: 96}
BASIC_UNET_FEATURES = (32, 64, 128, 256, 512)


def config_label(config: Config) -> str:
    """``MILDNet 2-D 3→1`` plus the widths where they differ from the constructor's default."""
    widths = "" if config.features is None else f" {config.features[0]}…{config.features[-1]}"
    return f"{config.network.__name__} {config.spatial_dims}-D {config.in_channels}→{config.out_channels}{widths}"


def basic_unet(config: Config) -> BasicUNet:
    """MONAI's BasicUNet with the widths of ``config`` (``BASIC_UNET_FEATURES``, MILDNet's, MultiResUNet's and
    U-Net's default, where it sets none)."""
    widths = config.features or BASIC_UNET_FEATURES
    return BasicUNet(config.spatial_dims, config.in_channels, config.out_channels, features=(*widths, widths[0]))


def network_input(config: Config, net: nn.Module, device: torch.device, quick: bool) -> torch.Tensor:
    """Random input of the paper shape (batch 4 × 256² in 2-D, 1 × 96³ in 3-D); with ``quick`` batch 2 at the
    smallest size the network takes (at least 32)."""
    size = max(getattr(net, "multiple", 1), 32) if quick else SIZE[config.spatial_dims]
    batch = 2 if quick else BATCH[config.spatial_dims]
    return torch.rand(batch, config.in_channels, *[size] * config.spatial_dims, device=device)


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


class StepTimer:
    """Times a network's training step (forward, MSE loss, backward, Adam step) and inference forward in one
    setting: autocast ``dtype`` (None: fp32), ``inference`` context (``inference_mode``, ``no_grad`` or ``autograd``
    for a plain forward). Each measure first runs one untimed warm-up call under :class:`PeakMemory` (its
    peak memory is reported), then the median of ``repeats`` timed calls."""

    CONTEXTS: dict[str, Callable[[], Any]] = {
        "inference_mode": torch.inference_mode,
        "no_grad": torch.no_grad,
        "autograd": torch.enable_grad,
    }

    def __init__(self, net: nn.Module, x: torch.Tensor, out_channels: int, dtype: torch.dtype | None = None) -> None:
        self.net, self.x, self.dtype = net, x, dtype
        self.target = torch.zeros(x.shape[0], out_channels, *x.shape[2:], device=x.device)
        self.optimizer = torch.optim.Adam(net.parameters(), lr=1e-4)

    def autocast(self) -> Any:
        return torch.autocast(self.x.device.type, dtype=self.dtype, enabled=self.dtype is not None)

    def train_step(self) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        with self.autocast():
            output = self.net(self.x)
        nn.functional.mse_loss(output.float(), self.target).backward()
        self.optimizer.step()

    def measure(self, kind: str, fn: Callable[[], Any], repeats: int) -> Row:
        """``<kind>_s``: median seconds; ``<kind>_first_s``, ``<kind>_peak_mib``: seconds and peak MiB of the
        warm-up call."""
        with PeakMemory(self.x.device) as peak:
            first = median_seconds(fn, self.x.device, 1)
        seconds = median_seconds(fn, self.x.device, repeats)
        return {f"{kind}_s": seconds, f"{kind}_first_s": first, f"{kind}_peak_mib": peak.mib}

    def train(self, repeats: int) -> Row:
        self.net.train()
        return self.measure("train", self.train_step, repeats)

    def infer(self, repeats: int, context: str = "inference_mode") -> Row:
        self.net.eval()

        def forward() -> None:
            with self.CONTEXTS[context](), self.autocast():
                self.net(self.x)

        return self.measure("infer", forward, repeats)


def network_steps(run: Run) -> list[Row]:
    """Each network and its BasicUNet: FLOPs, bytes moved, training-step and inference time and peak memory,
    fractions of the matmul and memory-copy references."""
    device, quick, repeats = run.device, run.quick, run.repeats
    reference = matmul_gflops(device, quick, repeats)
    bandwidth = copy_gbytes_per_s(device, quick, repeats)
    rows = []
    dims = run.spatial_dims
    for config in run.configs(dims):
        torch.manual_seed(0)
        net = build(config)
        x = network_input(config, net, device, quick)
        pair = [(config_label(config), net), (f"BasicUNet (MONAI) for {config_label(config)}", basic_unet(config))]
        measured = []
        for name, model in pair:
            log(f"[network_steps] {name}: input {tuple(x.shape)}")
            model = model.to(device)
            row = {"network": name, "input": list(x.shape), "params": sum(p.numel() for p in model.parameters())}
            row |= step_counts(model.train(), x, True) | step_counts(model.eval(), x, False)
            timer = StepTimer(model, x, config.out_channels)
            row |= timer.train(repeats) | timer.infer(repeats)
            row.pop("train_first_s"), row.pop("infer_first_s")
            for kind in ("train", "infer"):
                row[f"{kind}_gflops"] = row[f"flops_{kind}"] / row[f"{kind}_s"] / 1e9
                row[f"{kind}_fraction"] = row[f"{kind}_gflops"] / reference
                row[f"{kind}_gbytes_per_s"] = row[f"bytes_{kind}"] / row[f"{kind}_s"] / 1e9
                row[f"{kind}_bandwidth_fraction"] = row[f"{kind}_gbytes_per_s"] / bandwidth
            log(
                f"[network_steps] {name}: training step {row['train_s']:.3g} s ({row['train_fraction']:.0%} of matmul),"
                f" inference {row['infer_s']:.3g} s ({row['infer_fraction']:.0%})"
            )
            measured.append(row)
            del model, timer
        ours, basic = measured
        for kind in ("train", "infer"):
            ours[f"{kind}_vs_basicunet"] = ours[f"{kind}_s"] / basic[f"{kind}_s"]
        rows += measured
    return [{"section": "network_steps", **row} for row in rows]


NETWORK_STEPS_COLUMNS = [
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


# ------------------------------------------------------------------------------------------------- data_pipeline

BUNDLE_CASES = ROOT / "tests" / "bundles" / "cases"  # per bundle: its synthetic raw layout and tiny overrides
PIPELINE_IMAGES = 24


def bundles_2d() -> list[str]:
    """Names of the 2-D bundles (their test cases have no ``spatial_dims`` or 2)."""
    return sorted(
        path.stem
        for path in BUNDLE_CASES.glob("*.json")
        if json.loads(path.read_text(encoding="utf-8")).get("spatial_dims", 2) == 2
    )


def prepared_dataset(bundle: str, tmp: Path, quick: bool) -> tuple[Path, dict[str, Any]]:
    """A synthetic dataset in the bundle's raw layout, prepared as the bundle reads it, and the config overrides
    of the run: the layout and preparation options of the bundle's test case (``tests/bundles/cases``), at the
    bundle's ROI size and ``PIPELINE_IMAGES`` images; with ``quick`` the test case's few small images and
    tiny network."""
    case = json.loads((BUNDLE_CASES / f"{bundle}.json").read_text(encoding="utf-8"))
    config = json.loads((BUNDLES / bundle / "configs" / "train.json").read_text(encoding="utf-8"))
    synth = dict(case["synth_options"])
    if quick:
        overrides = dict(case["overrides"])
    else:
        synth |= {"count": PIPELINE_IMAGES, "size": max(config["roi_size"])}
        overrides = {}
    raw, data = tmp / bundle / "raw", tmp / bundle / "data"
    synthesize(case["dataset"], raw, seed=0, **synth)
    prepare(case["dataset"], raw, data, progress=False, verbose=False, **case["prepare_options"])
    return data, overrides


def pipeline_key(kind: str, workers: int, bundle_workers: int) -> str:
    """Row key of the images per second of ``kind`` (plain or cached) with no worker or the bundle's workers."""
    return f"{kind}_{'bundle_workers' if workers == bundle_workers else 'no_workers'}_images_per_s"


def epoch_seconds(dataset: Dataset, batch_size: int, workers: int, repeats: int, warmup: bool) -> tuple[float, int]:
    """Median seconds of one shuffled epoch of ``dataset`` through MONAI's ``DataLoader`` with ``workers`` worker
    processes (their start included, as in every epoch of the bundles), and the samples it yields."""
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=workers)
    samples = 0

    def epoch() -> None:
        nonlocal samples
        samples = sum(len(batch["image"]) for batch in loader)

    if warmup:
        epoch()
    return median_seconds(epoch, torch.device("cpu"), repeats), samples


def data_pipeline(run: Run) -> list[Row]:
    """Per 2-D bundle: images per second through its training transforms (``train#preprocessing``) without and
    with MONAI's ``CacheDataset``, with no worker process and with the bundle's ``num_workers``, against the images
    per second of a training step of the bundle's network at its ROI and batch size."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="benchmark_") as tmp:
        for bundle in bundles_2d():
            log(f"[data_pipeline] {bundle}: preparing a synthetic dataset ...")
            dataset_dir, overrides = prepared_dataset(bundle, Path(tmp), run.quick)
            overrides |= {"dataset_dir": str(dataset_dir), "device": f"$torch.device({str(run.device)!r})"}
            parser = parse_config(BUNDLES / bundle / "configs" / "train.json", overrides)
            data = parser.get_parsed_content("train#dataset#data")
            transform = parser.get_parsed_content("train#preprocessing")
            batch_size, bundle_workers = (
                parser.get_parsed_content("batch_size"),
                parser.get_parsed_content("num_workers"),
            )
            row: Row = {"bundle": bundle, "images": len(data), "batch_size": batch_size, "workers": bundle_workers}
            workers = sorted({0, bundle_workers})
            warmup = not run.quick
            for w in workers:
                seconds, samples = epoch_seconds(Dataset(data, transform), batch_size, w, run.repeats, warmup)
                row[pipeline_key("plain", w, bundle_workers)] = samples / seconds
            start = time.perf_counter()
            cached = CacheDataset(data, transform, cache_rate=1.0, num_workers=bundle_workers or None, progress=False)
            row["cache_build_s"] = time.perf_counter() - start
            for w in workers:
                seconds, samples = epoch_seconds(cached, batch_size, w, run.repeats, warmup)
                row[pipeline_key("cached", w, bundle_workers)] = samples / seconds
            row["samples_per_epoch"] = samples
            row["loader_images_per_s"] = row[pipeline_key("cached", bundle_workers, bundle_workers)]
            net = parser.get_parsed_content("network_def").to(run.device)
            roi = parser.get_parsed_content("roi_size")
            x = torch.rand(batch_size, parser.get_parsed_content("in_channels"), *roi, device=run.device)
            log(f"[data_pipeline] {bundle}: training step of {type(net).__name__} on {tuple(x.shape)} ...")
            step = StepTimer(net, x, parser.get_parsed_content("out_channels")).train(run.repeats)
            row["step_images_per_s"] = batch_size / step["train_s"]
            row["loader_vs_step"] = row["loader_images_per_s"] / row["step_images_per_s"]
            rows.append({"section": "data_pipeline", **row})
            del cached, net, parser
    return rows


DATA_PIPELINE_COLUMNS = [
    ("bundle", "Bundle"),
    ("images", "Training images"),
    ("samples_per_epoch", "Samples / epoch"),
    ("batch_size", "Batch"),
    ("workers", "Bundle workers"),
    ("plain_no_workers_images_per_s", "No cache, no workers img/s"),
    ("plain_bundle_workers_images_per_s", "No cache, bundle workers img/s"),
    ("cache_build_s", "Cache build s"),
    ("cached_no_workers_images_per_s", "Cached, no workers img/s"),
    ("cached_bundle_workers_images_per_s", "Cached, bundle workers img/s"),
    ("step_images_per_s", "Training step img/s"),
    ("loader_vs_step", "Bundle loader ÷ training step"),
]


# ------------------------------------------------------------------------------------------------- optimisations


def optimisation_variants(config: Config, run: Run) -> list[tuple[str, Callable[[], nn.Module], dict[str, Any]]]:
    """(name, network factory, :class:`StepTimer` settings) of every variant measured for ``config``; the first is
    the fp32 baseline. ``measure``: which of ``train`` / ``infer`` it changes; ``compile``: wrap in
    ``torch.compile``; ``reuse_freed_memory``: with glibc keeping freed memory (``custom_networks.allocator``)."""
    both = {"measure": ("train", "infer")}
    variants = [
        ("fp32 (baseline)", lambda: build(config), both),
        ("inference under no_grad", lambda: build(config), {"measure": ("infer",), "context": "no_grad"}),
        ("inference with autograd on", lambda: build(config), {"measure": ("infer",), "context": "autograd"}),
        ("channels-last", lambda: to_channels_last(build(config)), both),
    ]
    dtypes = [torch.bfloat16] if bf16_matmul_supported(run.device) else []
    dtypes += [torch.float16] if run.device.type == "cuda" else []
    for dtype in dtypes:
        name = f"{str(dtype).removeprefix('torch.').replace('bfloat16', 'bf16').replace('float16', 'fp16')} autocast"
        variants.append((name, lambda: build(config), {**both, "dtype": dtype}))
        variants.append((f"channels-last + {name}", lambda: to_channels_last(build(config)), {**both, "dtype": dtype}))
    if config.network is MILDNet:
        checkpointed = {"measure": ("train",)}
        variants.append(("gradient checkpointing", lambda: build(config, gradient_checkpointing=True), checkpointed))
    if config.network.__name__ in run.compile:
        variants.append(("torch.compile", lambda: build(config), {**both, "compile": True}))
    reused = {**both, "reuse_freed_memory": True}
    variants.append(("freed memory reused", lambda: build(config), reused))
    variants.append(("channels-last + freed memory reused", lambda: to_channels_last(build(config)), reused))
    return variants


def optimisations(run: Run) -> list[Row]:
    """For each network: training-step and inference time and peak memory of each optimisation the bundles can
    switch on, and their ratios to the fp32 baseline of the same run.

    glibc's reuse of freed memory is process-wide and not fully undone (``restore_default_allocation`` leaves glibc's
    mmap threshold fixed), so its variants run after every other variant of every network, and the rows are then put
    back in network order."""
    planned = [
        (config, *variant) for config in run.configs(run.spatial_dims) for variant in optimisation_variants(config, run)
    ]
    order = sorted(range(len(planned)), key=lambda i: bool(planned[i][3].get("reuse_freed_memory")))
    rows: dict[int, Row] = {}
    baselines: dict[str, Row] = {}
    for index in order:
        config, variant, factory, settings = planned[index]
        if settings.get("reuse_freed_memory"):
            reuse_freed_memory()
        torch.manual_seed(0)
        net = factory().to(run.device)
        x = network_input(config, net, run.device, run.quick)
        log(f"[optimisations] {config_label(config)}: {variant} ...")
        if settings.get("compile"):
            net = torch.compile(net)
        timer = StepTimer(net, x, config.out_channels, settings.get("dtype"))
        row: Row = {"network": config_label(config), "variant": variant, "input": list(x.shape)}
        if "train" in settings["measure"]:
            row |= timer.train(run.repeats)
        if "infer" in settings["measure"]:
            row |= timer.infer(run.repeats, settings.get("context", "inference_mode"))
        if not settings.get("compile"):  # the first call of a compiled network compiles it
            row = {key: value for key, value in row.items() if not key.endswith("_first_s")}
        baseline = baselines.setdefault(row["network"], row)
        for key in ("train_s", "infer_s"):
            if key in row:
                row[key.replace("_s", "_speedup")] = baseline[key] / row[key]
        if row.get("train_peak_mib") and baseline.get("train_peak_mib"):
            row["train_peak_ratio"] = row["train_peak_mib"] / baseline["train_peak_mib"]
        rows[index] = {"section": "optimisations", **row}
        del net, timer
    restore_default_allocation()
    return [rows[index] for index in sorted(rows)]


OPTIMISATIONS_COLUMNS = [
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


# ----------------------------------------------------------------------------------------------- sliding_window_3d

BUNDLES_3D = ["multiresunet3d_brats_mri", "mildnet3d_brats_mri"]
SEGRESNET = "SegResNet (MONAI)"
BRATS_SHAPE = (240, 240, 155)  # spatial size of a BraTS volume at 1 mm; 4 channels (T1, T1ce, T2, FLAIR)
QUICK_SHAPE = (48, 48, 32)
QUICK_OVERRIDES = {"features": [4, 8, 8, 16, 16], "roi_size": [32, 32, 32]}


def segresnet_def(quick: bool) -> dict[str, Any]:
    """``network_def`` of MONAI's SegResNet as in MONAI's BraTS tutorial (8 init filters with ``quick``)."""
    return {
        "_target_": "monai.networks.nets.SegResNet",
        "spatial_dims": "@spatial_dims",
        "in_channels": "@in_channels",
        "out_channels": "@out_channels",
        "init_filters": 8 if quick else 16,  # GroupNorm has 8 groups
        "blocks_down": [1, 2, 2, 4],
        "blocks_up": [1, 1, 1],
    }


def synthetic_brats(shape: Sequence[int], seed: int = 0) -> np.ndarray:
    """A brain-like 4-channel volume (spatial..., 4), float32: a noisy ellipsoid with a brighter blob, 0 outside."""
    rng = np.random.default_rng(seed)
    grid = np.meshgrid(*(np.linspace(-1, 1, n, dtype=np.float32) for n in shape), indexing="ij")
    radius = sum((g / r) ** 2 for g, r in zip(grid, (0.8, 0.9, 0.85), strict=True))
    blob = sum((g - c) ** 2 for g, c in zip(grid, (0.3, -0.2, 0.1), strict=True)) < 0.04
    brain = radius < 1
    channels = []
    for base, lesion in ((500, 1.1), (700, 1.8), (900, 1.5), (400, 1.6)):
        image = base * (1.2 - 0.4 * radius) * np.where(blob, lesion, 1.0)
        image = image + rng.normal(0, 0.05 * base, size=image.shape)
        channels.append(np.where(brain, np.clip(np.round(image), 0, None), 0).astype(np.float32))
    return np.stack(channels, axis=-1)


def normalized_tensor(volume: np.ndarray) -> torch.Tensor:
    """(1, C, spatial...) tensor of a channels-last ``volume``, z-scored on its nonzero voxels per channel like the
    bundles' ``NormalizeIntensityd(nonzero=True, channel_wise=True)``."""
    image = torch.from_numpy(np.moveaxis(volume, -1, 0).copy())
    for channel in image:
        mask = channel != 0
        values = channel[mask]
        channel[mask] = (values - values.mean()) / values.std()
    return image[None]


def parse_config(config_file: Path, overrides: dict[str, Any]) -> ConfigParser:
    """The bundle config with ``overrides``, as ``monai.bundle run`` builds it."""
    parser = ConfigParser()
    parser.read_config(str(config_file))
    parser.update(overrides)
    return parser


def run_bundle(config_file: Path, bundle_root: Path, overrides: dict[str, Any], log_file: Path) -> dict[str, Any]:
    """``python -m monai.bundle run`` of ``config_file`` in a fresh process: its wall seconds and peak RSS (MiB).

    Every override is passed as ``--key=<repr(value)>``, which ``fire`` turns back into the value.

    Raises:
        RuntimeError: the run failed; the message holds the end of its log.
    """
    command = [sys.executable, "-m", "monai.bundle", "run", "--config_file", str(config_file)]
    command += ["--bundle_root", str(bundle_root), *(f"--{key}={value!r}" for key, value in overrides.items())]
    launcher = subprocess.run(
        [sys.executable, "-c", LAUNCHER, str(log_file), *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
    )
    if launcher.returncode != 0:
        raise RuntimeError(f"launcher failed: {launcher.stderr}")
    result = json.loads(launcher.stdout)
    if result["returncode"] != 0:
        tail = log_file.read_text(errors="replace")[-4000:]
        raise RuntimeError(f"{' '.join(command)} exited with {result['returncode']}:\n{tail}")
    kib = 1 if sys.platform.startswith("linux") else 1024  # ru_maxrss is KiB on Linux, bytes on macOS
    return {"run_seconds": result["seconds"], "peak_rss_mib": result["maxrss"] / kib / 1024}


def time_sliding_window(
    parser: ConfigParser, image: torch.Tensor, device: torch.device, repeats: int, warmup: bool
) -> dict[str, Any]:
    """Median seconds of the config's ``sliding_window`` inferer on ``image`` after the config's ``initialize`` (as a
    bundle run; it switches ``reuse_freed_memory``), the windows per run and, on CUDA, the peak memory allocated."""
    parser.get_parsed_content("initialize")
    network: nn.Module = parser.get_parsed_content("network")
    inferer = parser.get_parsed_content("sliding_window")
    amp = bool(parser.get_parsed_content("amp")) and device.type == "cuda"
    network.eval()
    windows = 0

    def count(_: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        nonlocal windows
        windows += args[0].shape[0]

    hook = network.register_forward_pre_hook(count)
    image = image.to(parser.get_parsed_content("stitch_device"))

    def infer() -> torch.Tensor:
        with torch.inference_mode(), torch.autocast(device.type, enabled=amp):
            return inferer(image, network)

    if warmup:  # one window-sized batch initialises the kernels as well as a whole volume would
        window = torch.zeros(inferer.sw_batch_size, *image.shape[1:2], *inferer.roi_size, device=device)
        with torch.inference_mode(), torch.autocast(device.type, enabled=amp):
            network(window)
        synchronize(device)
        windows = 0
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    seconds = median_seconds(infer, device, repeats)
    hook.remove()
    return {
        "amp": amp,
        "windows": windows // repeats,
        "sw_seconds": seconds,
        "cuda_peak_mib": torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None,
    }


def sliding_window_3d(run: Run) -> list[Row]:
    """One BraTS-sized volume through each 3-D bundle's inference config and through SegResNet with the same
    sliding-window settings: full bundle run in a fresh process, then the sliding window alone in this process."""
    device, quick, repeats = run.device, run.quick, run.repeats
    shape = QUICK_SHAPE if quick else BRATS_SHAPE
    base = {
        "device": f"$torch.device({str(device)!r})",
        "amp": device.type == "cuda",
        "progress": False,
        "num_workers": 0,
        **(QUICK_OVERRIDES if quick else {}),
    }
    networks = [(name, BUNDLES / name / "configs" / "inference.json", base) for name in BUNDLES_3D]
    segresnet = {**base, "network_def": segresnet_def(quick)}
    networks.append((SEGRESNET, BUNDLES / BUNDLES_3D[0] / "configs" / "inference.json", segresnet))
    rows = []
    with tempfile.TemporaryDirectory(prefix="benchmark_") as tmp:
        volume = synthetic_brats(shape)
        volume_file = Path(tmp) / "BraTS-synthetic.nii.gz"
        log(f"[sliding_window_3d] writing a {volume.shape} volume to {volume_file}")
        nib.save(nib.Nifti1Image(volume, np.eye(4)), volume_file)
        image = normalized_tensor(volume)
        del volume
        for index, (name, config_file, overrides) in enumerate(networks):
            bundle_root = Path(tmp) / f"bundle{index}"
            (bundle_root / "models").mkdir(parents=True)
            output_dir = bundle_root / "out"
            overrides = {**overrides, "input_path": str(volume_file), "output_dir": str(output_dir)}
            torch.manual_seed(0)
            parser = parse_config(config_file, overrides)
            network = parser.get_parsed_content("network_def")
            torch.save({k: v.cpu() for k, v in network.state_dict().items()}, bundle_root / "models" / "model.pt")
            params = sum(p.numel() for p in network.parameters())
            network_class = type(network).__name__
            log(f"[sliding_window_3d] {name} ({network_class}, {params:,} parameters): bundle run ...")
            del network
            row = {
                "section": "sliding_window_3d",
                "network": name,
                "class": network_class,
                "params": params,
                "volume": [4, *shape],
                **{
                    key: parser.get_parsed_content(key)
                    for key in ("roi_size", "sw_batch_size", "overlap", "blend_mode")
                },
                "config_file": str(config_file.relative_to(ROOT)),
                "overrides": {k: v for k, v in overrides.items() if k not in ("input_path", "output_dir")},
            }
            row.update(run_bundle(config_file, bundle_root, overrides, Path(tmp) / f"run{index}.log"))
            outputs = sorted(output_dir.glob("*_seg.nii.gz"))
            if len(outputs) != 1 or (out_shape := nib.load(outputs[0]).shape) != shape:
                raise RuntimeError(f"{name}: expected one {shape} segmentation in {output_dir}, found {outputs}")
            seconds, rss = row["run_seconds"], row["peak_rss_mib"]
            log(f"[sliding_window_3d] {name}: bundle run {seconds:.1f} s, {rss:.0f} MiB; sliding window ...")
            row.update(time_sliding_window(parser, image, device, repeats, warmup=not quick))
            row["output_shape"] = list(out_shape)
            log(f"[sliding_window_3d] {name}: {row['windows']} windows, median {row['sw_seconds']:.2f} s")
            rows.append(row)
            del parser
            if device.type == "cuda":
                torch.cuda.empty_cache()
    restore_default_allocation()
    reference = next(row["sw_seconds"] for row in rows if row["network"] == SEGRESNET)
    for row in rows:
        row["sw_vs_segresnet"] = row["sw_seconds"] / reference
    return rows


SLIDING_WINDOW_3D_COLUMNS = [
    ("network", "Network"),
    ("params", "Parameters"),
    ("windows", "Windows"),
    ("sw_seconds", "Sliding window s (median)"),
    ("sw_vs_segresnet", "× SegResNet"),
    ("cuda_peak_mib", "CUDA peak MiB"),
    ("run_seconds", "Bundle run s"),
    ("peak_rss_mib", "Bundle run peak RSS MiB"),
]

# name -> (section function, table columns), in the order they run
SECTIONS: dict[str, tuple[Section, list[tuple[str, str]]]] = {
    "machine_limits": (machine_limits, MACHINE_LIMITS_COLUMNS),
    "network_steps": (network_steps, NETWORK_STEPS_COLUMNS),
    "optimisations": (optimisations, OPTIMISATIONS_COLUMNS),
    "data_pipeline": (data_pipeline, DATA_PIPELINE_COLUMNS),
    "sliding_window_3d": (sliding_window_3d, SLIDING_WINDOW_3D_COLUMNS),
}
COMPILED = ("MILDNet",)  # torch.compile takes minutes per network on a 2-core CPU, so one network by default


def main(
    device: str = "cpu",
    json: str | None = None,
    quick: bool = False,
    repeats: int | None = None,
    sections: str | Sequence[str] | None = None,
    compile: str | Sequence[str] | None = None,  # noqa: A002 - the name of the switch it measures
    spatial_dims: int | Sequence[int] | None = None,
    networks: str | Sequence[str] | None = None,
) -> None:
    """Print the machine, then run the sections and print a table for each.

    Args:
        device: ``cpu``, ``cuda`` or ``cuda:N``.
        json: optional path of a JSON file to write ``{"machine": ..., "results": [rows]}`` to; rewritten after
            every section, so an interrupted run keeps what it measured.
        quick: smoke mode for CI: small volume, tiny networks, no warm-up, one repeat unless ``repeats`` is given.
        repeats: timed runs per in-process measurement (default 3, 1 with ``quick``); their median is reported.
        sections: comma-separated names of the sections to run (default: all, in the order of ``SECTIONS``).
        compile: comma-separated class names of the networks whose ``torch.compile`` variant ``optimisations``
            measures (default ``MILDNet``, none with ``quick``; ``none`` for none).
        spatial_dims: the ranks of the networks ``network_steps`` and ``optimisations`` measure (2, 3 or both;
            default both, 2 with ``quick``).
        networks: comma-separated class names of the networks ``network_steps`` and ``optimisations`` measure
            (default: all of ``scripts/network_table.py``).
    """
    names = list(SECTIONS) if sections is None else _names(sections)
    if unknown := [name for name in names if name not in SECTIONS]:
        raise SystemExit(f"--sections: unknown {unknown}; choose from {list(SECTIONS)}.")
    if not re.fullmatch(r"cpu|cuda(:\d+)?", str(device)):
        raise SystemExit(f"--device must be cpu, cuda or cuda:N, got {device!r}.")
    torch_device = torch.device(device)
    if torch_device.type == "cuda":
        if not torch.cuda.is_available():
            raise SystemExit("--device cuda: CUDA is not available.")
        torch_device = torch.device("cuda", torch_device.index or 0)
    repeats = (1 if quick else 3) if repeats is None else int(repeats)
    if repeats < 1:
        raise SystemExit(f"--repeats must be at least 1, got {repeats}.")
    compiled = (() if quick else COMPILED) if compile is None else tuple(_names(compile))
    if spatial_dims is None:
        spatial_dims = (2,) if quick else (2, 3)
    dims = tuple(sorted({int(d) for d in ((spatial_dims,) if isinstance(spatial_dims, int) else spatial_dims)}))
    if not dims or not set(dims) <= {2, 3}:
        raise SystemExit(f"--spatial_dims must be 2, 3 or 2,3, got {spatial_dims!r}.")
    chosen = () if networks is None else tuple(_names(networks))
    if unknown := sorted(set(chosen) - {c.network.__name__ for c in CONFIGS}):
        raise SystemExit(f"--networks: unknown {unknown}; choose from {sorted({c.network.__name__ for c in CONFIGS})}.")
    run = Run(torch_device, bool(quick), repeats, tuple(name for name in compiled if name != "none"), dims, chosen)
    machine = machine_info(run)
    print(f"torch threads: {machine['torch_threads']}, device: {machine['device']}", flush=True)
    print(", ".join(f"{key}: {value}" for key, value in machine.items()), flush=True)
    results = []
    for name in names:
        section, columns = SECTIONS[name]
        start = time.perf_counter()
        rows = section(run)
        machine[f"{name}_seconds"] = time.perf_counter() - start
        machine[f"{name}_load_average"] = os.getloadavg()[0]  # 1-minute load at its end: other work on the machine
        results += rows
        print(f"\n## {name}\n\n{format_table(rows, columns)}", flush=True)
        if json is not None:
            write_json(Path(json), {"machine": machine, "results": results})


def _names(value: str | Sequence[str]) -> list[str]:
    """A comma-separated string (or what ``fire`` made of one: a tuple) as a list of names."""
    items = value.split(",") if isinstance(value, str) else value
    return [str(item).strip() for item in items if str(item).strip()]


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as indented JSON, creating the parent folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    fire.Fire(main)
