"""Performance benchmark of the project's networks and bundles; prints one table per section.

    python scripts/benchmark.py [--device cpu|cuda] [--json out.json] [--quick] [--repeats N]

The machine comes first: torch's intra-op thread count (``torch.get_num_threads()``, set it with
``OMP_NUM_THREADS``; subprocesses inherit the environment and so the same count), the device and the versions. Then
every section runs and prints a table; ``--json`` writes the machine and all rows (dicts, each naming its section)
to a file. Timings are wall-clock seconds (``time.perf_counter``; on CUDA after ``torch.cuda.synchronize()``). An
in-process timing is the median of ``--repeats`` runs (default 3) after an untimed warm-up pass of one batch of
windows. ``--quick`` is the
smoke mode for CI: a small volume, tiny networks, one repeat and no warm-up; its figures only show that every path
runs, they measure nothing. Numbers from a shared or busy machine are not comparable either.

Sections:

``machine_limits``
    The reference limits the other sections are compared with: dense matrix multiplication throughput
    (``torch.mm`` of two n × n matrices, n = 4096, 256 with ``--quick``; 2n³ floating-point operations per product) in
    fp32 and, where the device runs it, bf16; and memory-copy bandwidth (``Tensor.copy_`` of a 256 MiB fp32 buffer, 4
    MiB with ``--quick``; bytes read plus bytes written per second). Medians after one untimed warm-up call.

``network_steps``
    Each network of ``scripts/network_table.py`` in its paper (and 3-D bundle) configuration, and MONAI's
    ``BasicUNet`` with the configuration's widths (32…512, the default of most networks, where it sets none), on
    random input of batch 4 × C × 256 × 256 (2-D) or 1 × C × 96³ (3-D); with ``--quick`` only the 2-D networks,
    batch 2, at the smallest size each takes (at least 32). Per network: parameters; FLOPs of a training step
    (forward and backward, ``torch.utils.flop_counter``; the optimiser step adds no matmul/convolution FLOPs) and of
    an inference forward; median seconds of a training step (forward, MSE loss, backward, Adam step) and of an
    inference forward under ``torch.inference_mode()``, each after one untimed warm-up; achieved GFLOP/s and their
    fraction of the fp32 matmul reference of ``machine_limits``; time ratios against the BasicUNet of the same
    configuration and input; on CUDA the peak allocated memory of the training step.

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
    - ``sw_seconds``: the config's ``sliding_window`` inferer alone, in this process, on a (1, 4, 240, 240, 155)
      tensor under ``torch.inference_mode()`` (and autocast where the config's ``amp`` is on, as its evaluator
      does); ``sw_vs_segresnet`` is its ratio to SegResNet's. ``windows`` counts the ROIs the network saw in one
      run, ``params`` its parameters; on CUDA ``cuda_peak_mib`` is ``torch.cuda.max_memory_allocated``.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import fire
import monai
import nibabel as nib
import numpy as np
import torch
from monai.bundle import ConfigParser
from monai.networks.nets import BasicUNet
from network_table import CONFIGS, Config, build
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parents[1]
BUNDLES = ROOT / "bundles"

Row = dict[str, Any]
Section = Callable[[torch.device, bool, int], list[Row]]  # (device, quick, repeats) -> rows

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


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work, so that a timer read afterwards includes it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def machine_info(device: torch.device, quick: bool, repeats: int) -> dict[str, Any]:
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
        "device": str(device),
        "quick": quick,
        "repeats": repeats,
    }
    if device.type == "cuda":
        info["device_name"] = torch.cuda.get_device_name(device)
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


def median_seconds(fn: Callable[[], Any], device: torch.device, repeats: int) -> float:
    """Median wall seconds of ``repeats`` calls of ``fn``."""
    times = []
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


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


def machine_limits(device: torch.device, quick: bool, repeats: int) -> list[Row]:
    """Dense matmul FLOP/s (fp32, bf16 where supported) and memory-copy bandwidth of ``device``."""
    n = QUICK_MATMUL_SIZE if quick else MATMUL_SIZE
    dtypes = [torch.float32] + ([torch.bfloat16] if bf16_matmul_supported(device) else [])
    rows = []
    for dtype in dtypes:
        gflops = matmul_gflops(device, quick, repeats, dtype)
        rows.append({"measure": f"matmul {str(dtype).removeprefix('torch.')}", "size": n, "gflops": gflops})
        rows[-1]["seconds"] = matmul_seconds(device, n, dtype, repeats)
    numel = (QUICK_COPY_MIB if quick else COPY_MIB) * 2**20 // 4
    source, target = torch.randn(numel, device=device), torch.empty(numel, device=device)
    target.copy_(source)
    seconds = median_seconds(lambda: target.copy_(source), device, repeats)
    rows.append(
        {"measure": "memory copy fp32", "size": numel, "seconds": seconds, "gbytes_per_s": 8 * numel / seconds / 1e9}
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


def step_flops(net: nn.Module, x: torch.Tensor, train: bool) -> int:
    """FLOPs counted by PyTorch of a forward (and with ``train`` its backward) pass."""
    with FlopCounterMode(display=False) as counter:
        if train:
            net(x).float().square().mean().backward()
        else:
            with torch.no_grad():
                net(x)
    net.zero_grad(set_to_none=True)
    return counter.get_total_flops()


def time_network(
    net: nn.Module, x: torch.Tensor, out_channels: int, device: torch.device, quick: bool, repeats: int
) -> Row:
    """Training-step and inference seconds (medians after one warm-up unless ``quick``) and their FLOPs."""
    target = torch.zeros(x.shape[0], out_channels, *x.shape[2:], device=x.device)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-4)

    def train_step() -> None:
        optimizer.zero_grad(set_to_none=True)
        nn.functional.mse_loss(net(x), target).backward()
        optimizer.step()

    def infer() -> None:
        with torch.inference_mode():
            net(x)

    row: Row = {"flops_train": step_flops(net.train(), x, True), "flops_infer": step_flops(net.eval(), x, False)}
    net.train()
    if not quick:
        train_step()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    row["train_s"] = median_seconds(train_step, device, repeats)
    if device.type == "cuda":
        row["cuda_peak_mib"] = torch.cuda.max_memory_allocated(device) / 2**20
    net.eval()
    if not quick:
        infer()
    row["infer_s"] = median_seconds(infer, device, repeats)
    return row


def network_steps(device: torch.device, quick: bool, repeats: int) -> list[Row]:
    """Each network and its BasicUNet: FLOPs, training-step and inference time, fraction of the matmul reference."""
    reference = matmul_gflops(device, quick, repeats)
    rows = []
    for config in [c for c in CONFIGS if c.spatial_dims == 2] if quick else CONFIGS:
        torch.manual_seed(0)
        net = build(config)
        pair = [(config_label(config), net), (f"BasicUNet (MONAI) for {config_label(config)}", basic_unet(config))]
        size = max(getattr(net, "multiple", 1), 32) if quick else SIZE[config.spatial_dims]
        shape = (2 if quick else BATCH[config.spatial_dims], config.in_channels, *[size] * config.spatial_dims)
        measured = []
        for name, model in pair:
            log(f"[network_steps] {name}: input {shape}")
            model = model.to(device)
            row = {"network": name, "input": list(shape), "params": sum(p.numel() for p in model.parameters())}
            row |= time_network(model, torch.rand(shape, device=device), config.out_channels, device, quick, repeats)
            for kind in ("train", "infer"):
                row[f"{kind}_gflops"] = row[f"flops_{kind}"] / row[f"{kind}_s"] / 1e9
                row[f"{kind}_fraction"] = row[f"{kind}_gflops"] / reference
            measured.append(row)
            del model
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
    ("train_vs_basicunet", "× BasicUNet"),
    ("infer_s", "Inference s"),
    ("infer_gflops", "Inference GFLOP/s"),
    ("infer_fraction", "of matmul"),
    ("infer_vs_basicunet", "× BasicUNet"),
    ("cuda_peak_mib", "CUDA peak MiB"),
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
    """Median seconds of the config's ``sliding_window`` inferer on ``image``, the windows per run and, on CUDA,
    the peak memory allocated."""
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


def sliding_window_3d(device: torch.device, quick: bool, repeats: int) -> list[Row]:
    """One BraTS-sized volume through each 3-D bundle's inference config and through SegResNet with the same
    sliding-window settings: full bundle run in a fresh process, then the sliding window alone in this process."""
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

# name -> (section function, table columns); later sections are added here
SECTIONS: dict[str, tuple[Section, list[tuple[str, str]]]] = {
    "machine_limits": (machine_limits, MACHINE_LIMITS_COLUMNS),
    "network_steps": (network_steps, NETWORK_STEPS_COLUMNS),
    "sliding_window_3d": (sliding_window_3d, SLIDING_WINDOW_3D_COLUMNS),
}


def main(device: str = "cpu", json: str | None = None, quick: bool = False, repeats: int | None = None) -> None:
    """Print the machine, then run every section and print its table.

    Args:
        device: ``cpu``, ``cuda`` or ``cuda:N``.
        json: optional path of a JSON file to write ``{"machine": ..., "results": [rows]}`` to.
        quick: smoke mode for CI: small volume, tiny networks, no warm-up, one repeat unless ``repeats`` is given.
        repeats: timed runs per in-process measurement (default 3, 1 with ``quick``); their median is reported.
    """
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
    machine = machine_info(torch_device, quick, repeats)
    print(f"torch threads: {machine['torch_threads']}, device: {machine['device']}", flush=True)
    print(", ".join(f"{key}: {value}" for key, value in machine.items()), flush=True)
    results = []
    for name, (section, columns) in SECTIONS.items():
        rows = section(torch_device, quick, repeats)
        results += rows
        print(f"\n## {name}\n\n{format_table(rows, columns)}", flush=True)
    if json is not None:
        write_json(Path(json), {"machine": machine, "results": results})


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as indented JSON, creating the parent folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    fire.Fire(main)
