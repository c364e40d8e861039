"""Bundles under test: ``cases/<bundle>.json`` names the dataset a bundle reads and the overrides that shrink it.

Keys of a case file: ``dataset`` (a ``custom_networks.data`` dataset), ``synth_options`` and ``prepare_options``
(extra arguments of ``synthesize`` / ``prepare``), ``overrides`` (bundle config overrides for a tiny run: widths,
ROI, batch size, workers), ``in_channels`` / ``out_channels`` of the network, ``input_ext`` of its images and
``spatial_dims`` (2: tested by ``test_bundles.py``, 3: by ``test_bundles_3d.py``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch
from monai.bundle import ConfigParser, ckpt_export, create_workflow, run, verify_net_in_out
from PIL import Image

from custom_networks.data import prepare, synthesize
from custom_networks.zoo import bundles_root

BUNDLES = bundles_root()


@dataclass(frozen=True)
class BundleCase:
    """A bundle, the synthetic raw layout it is trained on and the overrides that shrink it."""

    name: str
    dataset: str
    in_channels: int
    out_channels: int
    input_ext: str = ".png"
    spatial_dims: int = 2
    synth_options: dict = field(default_factory=dict)
    prepare_options: dict = field(default_factory=dict)
    overrides: dict = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return BUNDLES / self.name

    def config(self, *names: str) -> list[str]:
        return [str(self.root / "configs" / n) for n in names]


CASES = [
    BundleCase(name=path.stem, **json.loads(path.read_text()))
    for path in sorted((Path(__file__).parent / "cases").glob("*.json"))
]
CASES_2D = [c for c in CASES if c.spatial_dims == 2]
CASES_3D = [c for c in CASES if c.spatial_dims == 3]


# multi_gpu_train.json is the same override for every bundle (bundle_layers/template.json): the multi-process run is
# tested once per network family and training-loader layout (a plain dataset, a patch sampler, repeated epochs; volumes)
MULTI_PROCESS_CASES = {
    "mildnet_dsb2018_nuclei",
    "mildnet_isbi2012_em",
    "msunet_lymphnode_histology",
    "multiresunet_murphy_nuclei",
    "rescrnet_em_organelles",
    "mildnet3d_brats_mri",
}


def run_multi_process_training(case: BundleCase, dataset_dir: Path, tmp_path: Path) -> Path:
    """Train one epoch with ``multi_gpu_train.json`` under ``torchrun --nproc_per_node=2`` (gloo on CPU) and check
    that it exits cleanly; returns the bundle root it wrote. Skips a case outside :data:`MULTI_PROCESS_CASES`.

    A worker occasionally aborts in native code at interpreter exit, after its work is done ("terminate called
    without an active exception", about 1 launch in 10-20 on this CPU machine; root cause open). Only that abort
    earns one relaunch in a fresh folder; any other failure fails at once.
    """
    if case.name not in MULTI_PROCESS_CASES:
        pytest.skip("multi_gpu_train.json is the same for every bundle: run for one bundle of each family")
    overrides = [f"--{k}={v!r}" for k, v in {**case.overrides, "max_epochs": 1, "progress": False}.items()]
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    configs = case.config("train.json", "multi_gpu_train.json")
    command += ["-m", "monai.bundle", "run", "training", "--config_file", repr(configs)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for attempt in range(2):
        bundle_root = tmp_path / f"attempt{attempt}"
        result = subprocess.run(
            [*command, "--bundle_root", str(bundle_root), "--dataset_dir", str(dataset_dir), *overrides],
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=300,
            env=env,
        )
        if result.returncode == 0 or "terminate called without an active exception" not in result.stderr:
            break
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return bundle_root


def bundle_command(case: BundleCase, bundle_root: Path, data: Path, *configs: str, **overrides) -> list[str]:
    """``python -m monai.bundle run`` of ``configs`` (``training`` for ``train.json`` alone) of the case's bundle with
    its tiny overrides, ``overrides`` on top."""
    command = [sys.executable, "-m", "monai.bundle", "run"]
    if configs == ("train.json",):
        command.append("training")
    command += ["--config_file", repr(case.config(*configs)), "--bundle_root", str(bundle_root)]
    command += ["--dataset_dir", str(data), "--progress", "False"]
    return command + [f"--{k}={v!r}" for k, v in {**case.overrides, **overrides}.items()]


ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1"}  # the same thread count in every run: identical arithmetic


def run_command(
    command: list[str], preexec_fn: Callable[[], None] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess:
    """``command`` run to its end with one thread, its output captured (not checked)."""
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
        env=ONE_THREAD,
        preexec_fn=preexec_fn,
    )


def run_until(command: list[str], marker: str, signum: int = signal.SIGKILL) -> subprocess.CompletedProcess:
    """Start ``command`` (one thread), send it ``signum`` as soon as ``marker`` appears in its output and wait for it
    to end; returns its exit status and output (stdout and stderr together)."""
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
        env=ONE_THREAD,
    )
    lines = []
    try:
        for line in process.stdout:
            lines.append(line)
            if marker in line:
                process.send_signal(signum)
                break
        lines.append(process.stdout.read())
    finally:
        process.wait(timeout=120)
        process.stdout.close()
    output = "".join(lines)
    assert marker in output, f"{marker!r} never appeared:\n{output[-3000:]}"
    return subprocess.CompletedProcess(command, process.returncode, output, "")


def last_line(output: str) -> str:
    """The last non-empty line of ``output``: where a bundle run names its fault."""
    return [line for line in output.splitlines() if line.strip()][-1]


def prepared_data(case: BundleCase, tmp: Path, count: int = 12, size: int = 48) -> Path:
    """``count`` synthetic ``size``-pixel cases of the case's raw layout in ``tmp/raw``, prepared into ``tmp/data``
    (returned)."""
    synthesize(case.dataset, tmp / "raw", seed=0, count=count, size=size)
    prepare(case.dataset, tmp / "raw", tmp / "data", progress=False, verbose=False)
    return tmp / "data"


def prepare_and_train(case: BundleCase, tmp: Path, max_epochs: int) -> tuple[Path, Path]:
    """Synthesize the case's raw layout in ``tmp``, prepare it and train ``max_epochs`` through ``monai.bundle``;
    returns (dataset_dir, bundle_root)."""
    synthesize(case.dataset, tmp / "raw", seed=0, **case.synth_options)
    prepare(case.dataset, tmp / "raw", tmp / "data", progress=False, verbose=False, **case.prepare_options)
    bundle_root = tmp / "bundle"
    run(
        "training",
        config_file=case.config("train.json"),
        meta_file=case.config("metadata.json")[0],
        bundle_root=str(bundle_root),
        dataset_dir=str(tmp / "data"),
        max_epochs=max_epochs,
        progress=False,
        **case.overrides,
    )
    return tmp / "data", bundle_root


def check_workflow_properties(case: BundleCase, data: Path, bundle_root: Path, workflow_type: str, config: str) -> None:
    """``monai.bundle`` finds every property its train / infer workflow requires."""
    workflow = create_workflow(
        config_file=case.config(config),
        workflow_type=workflow_type,
        bundle_root=str(bundle_root),
        dataset_dir=str(data),
    )
    assert workflow.check_properties() == []


def check_verify_and_export(case: BundleCase, bundle_root: Path) -> None:
    """``verify_net_in_out`` passes and ``ckpt_export`` writes a TorchScript model that maps an ROI to the outputs."""
    overrides = {k: v for k, v in case.overrides.items() if k == "features"}
    meta, infer = case.config("metadata.json", "inference.json")
    verify_net_in_out("network_def", meta_file=meta, config_file=infer, bundle_root=str(bundle_root), **overrides)
    ts = bundle_root / "models/model.ts"
    ckpt_export(
        "network_def",
        filepath=str(ts),
        ckpt_file=str(bundle_root / "models/model.pt"),
        meta_file=meta,
        config_file=infer,
        bundle_root=str(bundle_root),
        **overrides,
    )
    size = case.overrides["roi_size"]
    assert torch.jit.load(str(ts))(torch.rand(1, case.in_channels, *size)).shape == (1, case.out_channels, *size)


def check_checkpoints(case: BundleCase, bundle_root: Path, epochs: int) -> None:
    """``model.pt`` loads into the inference network; the last checkpoint holds the whole training state."""
    parser = ConfigParser()
    parser.read_config(case.config("inference.json")[0])
    parser.update(case.overrides)
    network = parser.get_parsed_content("network_def")
    network.load_state_dict(torch.load(bundle_root / "models/model.pt", map_location="cpu", weights_only=True))
    last = torch.load(bundle_root / f"models/last_checkpoint_epoch={epochs}.pt", map_location="cpu", weights_only=True)
    assert {"model", "optimizer", "trainer", "best_model_saver", "training_state"} <= set(last)
    assert last["trainer"]["iteration"] == epochs * last["trainer"]["epoch_length"]
    assert any((bundle_root / "logs").iterdir()), "no TensorBoard event file"


def run_evaluation(
    case: BundleCase, data: Path, bundle_root: Path, out: Path, *configs: str, **overrides
) -> dict[str, float]:
    """Evaluate the trained bundle on the test split into ``out`` (with extra ``configs`` on top of ``evaluate.json``,
    e.g. ``ensemble_evaluate.json``, and ``overrides``); returns ``metrics.csv`` as a dict."""
    run(
        config_file=case.config("train.json", "evaluate.json", *configs),
        bundle_root=str(bundle_root),
        dataset_dir=str(data),
        output_dir=str(out),
        progress=False,
        **case.overrides,
        **overrides,
    )
    with open(out / "metrics.csv") as f:
        return {name: float(value) for name, value in (line.strip().split(",") for line in f if line.strip())}


def infer_other_sizes(
    case: BundleCase, bundle_root: Path, tmp: Path, *configs: str, **overrides
) -> dict[Path, tuple[int, int]]:
    """Run the 2-D bundle's ``inference.json`` (with extra ``configs`` on top) with ``overrides`` on a wide (40×72) and
    a tall (72×40) random image of its input format; returns {mask the bundle should write: the shape it should
    have}."""
    inputs, out = tmp / "inputs", tmp / "predictions"
    inputs.mkdir()
    rng = np.random.default_rng(0)
    sizes = {f"wide{case.input_ext}": (40, 72), f"tall{case.input_ext}": (72, 40)}
    channels = (3,) if case.in_channels == 3 else ()
    for name, (h, w) in sizes.items():
        Image.fromarray(rng.integers(0, 255, (h, w, *channels), dtype=np.uint8)).save(inputs / name)
    run(
        config_file=case.config("inference.json", *configs),
        bundle_root=str(bundle_root),
        input_path=str(inputs),
        output_dir=str(out),
        **{k: v for k, v in case.overrides.items() if k != "batch_size"},
        **overrides,
    )
    return {out / name.replace(case.input_ext, "_seg.png"): shape for name, shape in sizes.items()}
