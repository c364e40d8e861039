"""``sliding_window_3d``: whole-volume 3-D inference, bundle against bundle and against MONAI's SegResNet.

One BraTS-sized volume (4 × 240 × 240 × 155, 1 mm; ``custom_networks.data.synthesize`` of one BraTS case, one NIfTI
file per modality) through the inference config of each 3-D bundle (``configs/inference.json`` of the bundles whose
``roi_size`` has three entries) and through the first one's config with ``network_def`` swapped for MONAI's
``SegResNet`` in the configuration of MONAI's BraTS tutorial (init_filters 16, blocks_down [1, 2, 2, 4], blocks_up
[1, 1, 1]), so all networks share the bundles' sliding-window settings (ROI 96³, sw_batch_size 4, overlap 0.5,
Gaussian blending). With ``--quick`` a 4 × 48 × 48 × 32 volume, 32³ windows and tiny widths. Per network, with
randomly initialised weights:

- ``run_seconds`` and ``peak_rss_mib``: ``python -m monai.bundle run`` of the whole inference config in a fresh
  process (Python start, imports, checkpoint loading, NIfTI reading, preprocessing, sliding window, postprocessing,
  NIfTI writing) on the synthetic case; wall seconds of that process and its peak resident memory (``ru_maxrss`` from
  ``os.wait4``). The process is started by a small launcher without torch, since Linux counts the memory of the
  process that forks a child in the child's ``ru_maxrss``. The bundle's ``CheckpointLoader`` loads ``models/model.pt``
  (this process's random weights) strictly, so a run that succeeds has run the intended network.
- ``sw_seconds``: the config's ``sliding_window`` inferer alone, in this process after the config's ``initialize``
  (glibc's reuse of freed memory is left on for the networks after, and switched off at the end of the section), on
  the case as a (1, 4, 240, 240, 155) tensor normalised by MONAI's ``NormalizeIntensity`` as the bundles' preprocessing
  does (``nonzero``, ``channel_wise``), under ``torch.inference_mode()`` (and autocast where the config's ``amp`` is
  on, as its evaluator does); ``sw_vs_segresnet`` is its ratio to SegResNet's. ``windows`` counts the ROIs the network
  saw in one run, ``params`` its parameters; on CUDA ``cuda_peak_mib`` is ``torch.cuda.max_memory_allocated``.
- ``window_gflop``: the network's forward over one window (``torch.utils.flop_counter.FlopCounterMode``, a
  multiply-add counted as two FLOPs), ``sw_gflop_per_s`` the sliding window's arithmetic rate (windows × FLOPs per
  window over ``sw_seconds``; blending and stitching count as time, not FLOPs) and ``per_flop_vs_segresnet`` its time
  per FLOP against SegResNet's: below 1, the network computes faster than SegResNet.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nibabel as nib
import torch
from monai.bundle import ConfigParser
from monai.transforms import LoadImage, NormalizeIntensity
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from custom_networks.allocator import restore_default_allocation
from custom_networks.benchmark.bundle_configs import bundles_of_rank, config_file, parse_config
from custom_networks.benchmark.measures import median_seconds, synchronize
from custom_networks.benchmark.settings import BenchmarkSettings, Row, log
from custom_networks.data import synthesize, volume_items
from custom_networks.zoo import bundles_root

__all__ = ["COLUMNS", "sliding_window_3d"]

SEGRESNET = "SegResNet (MONAI)"
BRATS_SHAPE = (240, 240, 155)  # spatial size of a BraTS volume at 1 mm; 4 channels (T1, T1ce, T2, FLAIR)
QUICK_SHAPE = (48, 48, 32)
QUICK_OVERRIDES = {"features": [4, 8, 8, 16, 16], "roi_size": [32, 32, 32]}

COLUMNS = [
    ("network", "Network"),
    ("params", "Parameters"),
    ("windows", "Windows"),
    ("sw_seconds", "Sliding window s (median)"),
    ("sw_vs_segresnet", "× SegResNet"),
    ("window_gflop", "GFLOP / window"),
    ("sw_gflop_per_s", "Sliding window GFLOP/s"),
    ("per_flop_vs_segresnet", "Time per FLOP × SegResNet"),
    ("cuda_peak_mib", "CUDA peak MiB"),
    ("run_seconds", "Bundle run s"),
    ("peak_rss_mib", "Bundle run peak RSS MiB"),
]

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


def synthetic_case(shape: Sequence[int], folder: Path) -> Path:
    """One synthetic BraTS case of this spatial shape (a folder with one NIfTI file per modality)."""
    raw = synthesize("brats", folder / "raw", count=1, size=shape[0], depth=shape[2], seed=0, layout="brats")
    return next(path for path in raw.iterdir() if path.is_dir())


def normalized_tensor(case: Path, modalities: Sequence[str]) -> torch.Tensor:
    """(1, C, spatial...) tensor of the case's ``modalities`` (found as the bundles find them), z-scored per channel
    on its nonzero voxels like the bundles' ``NormalizeIntensityd(nonzero=True, channel_wise=True)``."""
    files = volume_items(case, modalities)[0]["image"]
    image = LoadImage(image_only=True, ensure_channel_first=True)(files)
    return NormalizeIntensity(nonzero=True, channel_wise=True)(image).as_tensor()[None]


def run_bundle(config: Path, bundle_root: Path, overrides: dict[str, Any], log_file: Path) -> dict[str, Any]:
    """``python -m monai.bundle run`` of ``config`` in a fresh process: its wall seconds and peak RSS (MiB).

    Every override is passed as ``--key=<repr(value)>``, which ``fire`` turns back into the value.

    Raises:
        RuntimeError: the run failed; the message holds the end of its log.
    """
    command = [sys.executable, "-m", "monai.bundle", "run", "--config_file", str(config)]
    command += ["--bundle_root", str(bundle_root), *(f"--{key}={value!r}" for key, value in overrides.items())]
    launcher = subprocess.run(
        [sys.executable, "-c", LAUNCHER, str(log_file), *command],
        cwd=bundle_root,
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
    flops = window_flops(network, image.shape[1], inferer.roi_size, device)
    return {
        "amp": amp,
        "windows": windows // repeats,
        "sw_seconds": seconds,
        "window_gflop": flops / 1e9,
        "sw_gflop_per_s": windows // repeats * flops / seconds / 1e9,
        "cuda_peak_mib": torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None,
    }


def window_flops(network: nn.Module, channels: int, roi_size: Sequence[int], device: torch.device) -> int:
    """FLOPs of ``network``'s forward over one window of ``channels`` × ``roi_size`` (a multiply-add counts two)."""
    window = torch.zeros(1, channels, *roi_size, device=device)
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        network(window)
    return counter.get_total_flops()


def measure_network(
    name: str,
    config: Path,
    overrides: dict[str, Any],
    case: Path,
    image: torch.Tensor,
    folder: Path,
    run: BenchmarkSettings,
) -> Row:
    """The bundle run and the in-process sliding window of ``config`` with ``overrides`` on ``case`` (``image``
    in memory), working in ``folder``."""
    bundle_root, output_dir = folder / "bundle", folder / "out"
    (bundle_root / "models").mkdir(parents=True)
    overrides = {**overrides, "input_path": str(case), "output_dir": str(output_dir)}
    torch.manual_seed(0)
    parser = parse_config(config, overrides)
    network = parser.get_parsed_content("network_def")
    torch.save({k: v.cpu() for k, v in network.state_dict().items()}, bundle_root / "models" / "model.pt")
    params = sum(p.numel() for p in network.parameters())
    network_class = type(network).__name__
    log(f"[sliding_window_3d] {name} ({network_class}, {params:,} parameters): bundle run ...")
    del network
    shape = list(image.shape[2:])
    row = {
        "section": "sliding_window_3d",
        "network": name,
        "class": network_class,
        "params": params,
        "volume": list(image.shape[1:]),
        **{key: parser.get_parsed_content(key) for key in ("roi_size", "sw_batch_size", "overlap", "blend_mode")},
        "config_file": str(config.relative_to(bundles_root().resolve().parent)),  # bundles/<name>/configs/…
        "overrides": {k: v for k, v in overrides.items() if k not in ("input_path", "output_dir")},
    }
    row.update(run_bundle(config, bundle_root, overrides, folder / "run.log"))
    outputs = sorted(output_dir.glob("*_seg.nii.gz"))
    if len(outputs) != 1 or list(out_shape := nib.load(outputs[0]).shape) != shape:
        raise RuntimeError(f"{name}: expected one {shape} segmentation in {output_dir}, found {outputs}")
    log(f"[sliding_window_3d] {name}: bundle run {row['run_seconds']:.1f} s, {row['peak_rss_mib']:.0f} MiB; ...")
    row.update(time_sliding_window(parser, image, run.device, run.repeats, warmup=not run.quick))
    row["output_shape"] = list(out_shape)
    log(f"[sliding_window_3d] {name}: {row['windows']} windows, median {row['sw_seconds']:.2f} s")
    return row


def sliding_window_3d(run: BenchmarkSettings) -> list[Row]:
    """One BraTS-sized volume through each 3-D bundle's inference config and through SegResNet with the same
    sliding-window settings: full bundle run in a fresh process, then the sliding window alone in this process."""
    base = {
        "device": f"$torch.device({str(run.device)!r})",
        "amp": run.device.type == "cuda",
        "progress": False,
        "num_workers": 0,
        **(QUICK_OVERRIDES if run.quick else {}),
    }
    bundles = bundles_of_rank(spatial_dims=3, config="inference")
    networks = [(name, config_file(name, "inference"), base) for name in bundles]
    networks.append(
        (SEGRESNET, config_file(bundles[0], "inference"), {**base, "network_def": segresnet_def(run.quick)})
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="benchmark_") as tmp:
        shape = QUICK_SHAPE if run.quick else BRATS_SHAPE
        log(f"[sliding_window_3d] writing a synthetic BraTS case of {shape} voxels to {tmp}")
        case = synthetic_case(shape, Path(tmp))
        image = normalized_tensor(case, parse_config(networks[0][1]).get_parsed_content("modalities"))
        for index, (name, config, overrides) in enumerate(networks):
            rows.append(measure_network(name, config, overrides, case, image, Path(tmp) / f"network{index}", run))
            if run.device.type == "cuda":
                torch.cuda.empty_cache()
    restore_default_allocation()
    reference = next(row for row in rows if row["network"] == SEGRESNET)
    for row in rows:
        row["sw_vs_segresnet"] = row["sw_seconds"] / reference["sw_seconds"]
        row["per_flop_vs_segresnet"] = reference["sw_gflop_per_s"] / row["sw_gflop_per_s"]
    return rows
