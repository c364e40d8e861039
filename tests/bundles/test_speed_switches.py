"""The bundles' speed switches (``amp`` with ``amp_dtype``, ``channels_last``, ``compile``, ``reuse_freed_memory``,
MILDNet's ``gradient_checkpointing``): wired into every bundle's engines, inferers, network and ``initialize``, and a
real CPU training and inference through ``monai.bundle`` with them on."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from monai.bundle import ConfigParser, create_workflow, run
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from custom_networks.inferers import AutocastInferer
from custom_networks.nets import is_channels_last
from tests.bundles.conftest import CASES, CASES_2D, BundleCase, infer_other_sizes, prepare_and_train
from tests.subprocesses import BLOCK_PAGES, SECOND_BLOCK_FAULTS, run_script

SWITCHES = ["amp_dtype", "channels_last", "compile", "reuse_freed_memory"]
FAST = {"amp": True, "amp_dtype": "bfloat16", "channels_last": True}
CHANNELS_LAST_BY_DEFAULT = ("rescrnet_", "multiresunet", "mildnet3d_")


def _parser(case: BundleCase, config: str, **overrides) -> ConfigParser:
    parser = ConfigParser()
    parser.read_config(case.config(config)[0])
    parser.update({k: v for k, v in case.overrides.items() if k != "batch_size"})
    parser.update(overrides)
    return parser


def _engines(config: str) -> dict[str, str]:
    """{engine id: id of the inferer it wraps}."""
    if config == "train.json":
        return {"train#trainer": "train#inferer#inferer", "validate#evaluator": "validate#inferer#inferer"}
    return {"evaluator": None}


@pytest.mark.parametrize("config", ["train.json", "inference.json"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_switch_defaults(case, config):
    """All off but ``reuse_freed_memory``, and channels-last on where the CPU benchmark measured it faster in training
    and inference (the Res-CR-Net, MultiResUNet and 3-D MILDNet bundles, docs/performance.md)."""
    mildnet = case.name.startswith("mildnet")
    names = SWITCHES + (["gradient_checkpointing"] if mildnet else [])
    parser = _parser(case, config)
    assert parser["amp"] == "$torch.cuda.is_available()"
    channels_last = case.name.startswith(CHANNELS_LAST_BY_DEFAULT)
    assert [parser[k] for k in names] == ["float16", channels_last, False, True] + [False] * mildnet
    network = parser.get_parsed_content("network", instantiate=True)
    assert is_channels_last(network) == channels_last
    assert ("gradient_checkpointing" in parser["network_def"]) == mildnet


@pytest.mark.parametrize("config", ["train.json", "inference.json"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_switches_reach_engines_inferers_and_network(case, config):
    """bf16 autocast around every engine's inferer on any device, MONAI's own amp only on CUDA, the channels-last
    network that the engines get, ``compile`` and ``gradient_checkpointing`` passed on."""
    mildnet = case.name.startswith("mildnet")
    extra = {"gradient_checkpointing": True} if mildnet else {}
    parser = _parser(case, config, **FAST, compile=True, device="$torch.device('cpu')", **extra)
    for engine, inner in _engines(config).items():
        assert parser.get_parsed_content(f"{engine}#amp") is False  # no MONAI autocast / GradScaler on the CPU
        assert parser.get_parsed_content(f"{engine}#amp_kwargs") == {"dtype": torch.bfloat16}
        assert parser.get_parsed_content(f"{engine}#compile") is True
        assert parser[f"{engine}#network"] == "@network"
        inferer = parser.get_parsed_content(f"{engine}#inferer")
        assert isinstance(inferer, AutocastInferer) and inferer.enabled and inferer.dtype == torch.bfloat16
        if inner is not None:  # train.json: the engines' inferers wrap the plain inferers nested in them
            assert inferer.inferer is parser.get_parsed_content(inner)
            assert not isinstance(inferer.inferer, AutocastInferer)
        else:  # inference.json: the "inferer" key (MONAI Label's) is the wrapper, around the bundle's inferer
            assert parser["inferer#_target_"] == "custom_networks.inferers.AutocastInferer"
    if config == "inference.json" and case.spatial_dims == 3:  # the benchmark reads the plain sliding window
        assert type(parser.get_parsed_content("sliding_window")).__name__ == "SlidingWindowInferer"
    network = parser.get_parsed_content("network")
    # Res-CR-Net's grouped dilated (atrous depthwise) kernels stay contiguous: see to_channels_last
    convs = [
        m
        for m in network.modules()
        if isinstance(m, torch.nn.Conv2d | torch.nn.Conv3d | torch.nn.ConvTranspose2d | torch.nn.ConvTranspose3d)
    ]
    kernels = [m.weight for m in convs if m.groups == 1 or max(m.dilation) == 1]
    fmt = torch.channels_last if case.spatial_dims == 2 else torch.channels_last_3d
    assert kernels and all(p.is_contiguous(memory_format=fmt) for p in kernels)
    if mildnet:
        flags = [m.gradient_checkpointing for m in network.modules() if hasattr(m, "gradient_checkpointing")]
        assert flags and all(flags)
    # on CUDA, MONAI's autocast and GradScaler join in (the expression only looks at the device's type)
    cuda = _parser(case, config, amp=True, device="$torch.device('cuda:0')")
    for engine in _engines(config):
        assert cuda.get_parsed_content(f"{engine}#amp") is True
        assert cuda.get_parsed_content(f"{engine}#amp_kwargs") == {"dtype": torch.float16}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_multi_gpu_network_takes_the_channels_last_switch(case):
    train = json.loads((case.root / "configs/train.json").read_text())
    multi = json.loads((case.root / "configs/multi_gpu_train.json").read_text())
    assert multi["network"]["module"] == train["network"]


REUSE_CALL = "$custom_networks.allocator.reuse_freed_memory(@reuse_freed_memory, @reuse_largest_block_mib)"

# A config's "initialize" run in a fresh interpreter, then the page faults of a 64 MiB block freed and allocated again
# (as in tests/test_allocator.py): none where the config made the process keep freed memory (every block, or blocks
# up to reuse_largest_block_mib: not this one).
INITIALIZE_THEN_REALLOCATE = (
    SECOND_BLOCK_FAULTS
    + """
import json, sys
from monai.bundle import ConfigParser
parser = ConfigParser()
parser.read_config(sys.argv[1:-2])
parser.update({"reuse_freed_memory": sys.argv[-2] == "True", "reuse_largest_block_mib": json.loads(sys.argv[-1])})
parser.get_parsed_content("initialize")
print(faults_of_second_block())
"""
)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_every_config_initializes_the_memory_reuse_first(case):
    """train.json, inference.json and the configs that replace train.json's ``initialize`` (evaluate.json,
    multi_gpu_train.json) switch glibc's reuse before anything else allocates."""
    for config in ("train.json", "inference.json", "evaluate.json", "multi_gpu_train.json"):
        assert json.loads((case.root / "configs" / config).read_text())["initialize"][0] == REUSE_CALL, config


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc and Linux's page-fault counts")
@pytest.mark.parametrize(("reuse", "largest_block_mib"), [(True, None), (False, None), (True, 32)])
@pytest.mark.parametrize("configs", [["train.json", "evaluate.json"], ["inference.json"]], ids="+".join)
def test_initialize_reuses_freed_memory_as_switched(configs, reuse, largest_block_mib):
    case = next(c for c in CASES_2D if c.name == "mildnet_dsb2018_nuclei")
    args = (*case.config(*configs), str(reuse), json.dumps(largest_block_mib))
    faults = int(run_script("-c", INITIALIZE_THEN_REALLOCATE, *args).stdout.split()[-1])
    kept = reuse and largest_block_mib is None  # the 64 MiB block is above a 32 MiB limit
    assert (faults < 0.05 * BLOCK_PAGES) if kept else (faults > 0.9 * BLOCK_PAGES), faults


def _scalars(log_dir: Path) -> dict[str, list[float]]:
    events = EventAccumulator(str(log_dir))
    events.Reload()
    return {tag: [e.value for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


@pytest.mark.slow
def test_bf16_channels_last_checkpointed_training_and_inference(tmp_path):
    """1 epoch of the DSB-2018 MILDNet bundle on the CPU with bf16 autocast, channels-last and gradient
    checkpointing: a model is saved, the logged loss and validation metrics are finite; inference with bf16 and
    channels-last writes masks of the inputs' sizes."""
    case = next(c for c in CASES_2D if c.name == "mildnet_dsb2018_nuclei")
    switches = {**FAST, "gradient_checkpointing": True}
    data, bundle_root = prepare_and_train(
        dataclasses.replace(case, overrides={**case.overrides, **switches}), tmp_path, max_epochs=1
    )
    state = torch.load(bundle_root / "models/model.pt", map_location="cpu", weights_only=True)
    assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())
    scalars = _scalars(bundle_root / "logs")
    assert {"train_loss", "val_mean_dice", "val_mean_iou"} <= set(scalars), scalars.keys()
    assert all(math.isfinite(v) for values in scalars.values() for v in values), scalars
    assert 0.0 <= scalars["val_mean_dice"][-1] <= 1.0
    last = torch.load(bundle_root / "models/last_checkpoint_epoch=1.pt", map_location="cpu", weights_only=True)
    assert math.isfinite(last["training_state"]["best_metric"])
    # the same seeded run in float32: the first loss (same weights, same batch) differs by bf16 rounding only
    reference_root = tmp_path / "float32"
    run(
        "training",
        config_file=case.config("train.json"),
        bundle_root=str(reference_root),
        dataset_dir=str(data),
        max_epochs=1,
        progress=False,
        **case.overrides,
    )
    loss, reference = scalars["train_loss"][0], _scalars(reference_root / "logs")["train_loss"][0]
    assert loss != reference and abs(loss - reference) < 0.05 * abs(reference), (loss, reference)

    for path, shape in infer_other_sizes(case, bundle_root, tmp_path, **FAST).items():
        mask = np.asarray(Image.open(path))
        assert mask.shape == shape and set(np.unique(mask).tolist()) <= {0, 255}


@pytest.mark.slow
def test_compiled_training(tmp_path):
    """1 epoch with ``compile=True`` (``torch.compile`` of the network in the trainer and the evaluator, inductor on
    the CPU) of the MultiResUNet Murphy-lab bundle; the checkpoint holds the plain network's keys."""
    case = next(c for c in CASES_2D if c.name == "multiresunet_murphy_nuclei")
    _, bundle_root = prepare_and_train(
        dataclasses.replace(case, overrides={**case.overrides, "compile": True}), tmp_path, max_epochs=1
    )
    state = torch.load(bundle_root / "models/model.pt", map_location="cpu", weights_only=True)
    assert state and not any(k.startswith("_orig_mod.") for k in state)
    assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())
    assert all(math.isfinite(v) for values in _scalars(bundle_root / "logs").values() for v in values)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_monai_finds_every_train_workflow_property(case, tmp_path):
    """The engines' wrappers keep MONAI's bundle convention: ``validate#evaluator#inferer`` is ``@validate#inferer``
    (the autocast wrapper around the bundle's inferer; an inline object there would fail MONAI's check).
    Inference configs are checked on trained bundles in ``test_bundles.py`` / ``test_bundles_3d.py``."""
    items = [{"image": f"{name}.png", "label": f"{name}.png", "fold": fold} for fold, name in enumerate("ab")]
    (tmp_path / "datalist.json").write_text(json.dumps({"training": items, "testing": items}))
    workflow = create_workflow(
        config_file=case.config("train.json"),
        workflow_type="train",
        bundle_root=str(tmp_path),
        dataset_dir=str(tmp_path),
        cache_rate=0.0,  # the check builds the datasets and loaders: nothing to load from the placeholder datalist
        num_workers=0,
    )
    assert workflow.check_properties() == []
