"""Planning a comparison: runs per fold and network, with the overrides that reach each ``monai.bundle run``; bad
requests fail before anything is trained."""

from __future__ import annotations

import sys

import pytest

from custom_networks.data import prepare, synthesize
from custom_networks.experiments import cross_validate, plan_runs
from custom_networks.experiments.cross_validation import as_list
from custom_networks.zoo import bundles_root, find_bundle

BUNDLE = bundles_root() / "mildnet_dsb2018_nuclei"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("planning")
    synthesize("dsb2018", tmp / "raw", seed=0, count=12, size=32)
    prepare("dsb2018", tmp / "raw", tmp / "data", progress=False, verbose=False)
    return tmp / "data"


def test_runs_and_their_commands(data, tmp_path):
    runs = plan_runs(BUNDLE, data, ["mildnet", "unet"], [1, 0], tmp_path, {"max_epochs": 3, "features": [4, 8, 16]})
    assert [(r.network, r.fold) for r in runs] == [("mildnet", 1), ("unet", 1), ("mildnet", 0), ("unet", 0)]
    unet = runs[1]
    assert unet.root == tmp_path / "runs" / "unet" / "fold1"
    train = unet.command(evaluate=False, resume=True)
    assert train[:5] == [sys.executable, "-m", "monai.bundle", "run", "training"]
    assert train[train.index("--bundle_root") + 1] == str(unet.root)
    assert "--fold=1" in train and "--max_epochs=3" in train and "--resume=True" in train
    assert "--start_over=True" in unet.command(evaluate=False)  # what an attempt saved before its first checkpoint
    assert "--features=[4, 8, 16]" in train
    assert any(a.startswith("--network_def={'_target_': 'custom_networks.nets.UNet'") for a in train)
    evaluate = unet.command(evaluate=True)
    assert "training" not in evaluate and "evaluate.json" in evaluate[evaluate.index("--config_file") + 1]
    assert f"--output_dir={str(unet.root / 'eval.partial')!r}" in evaluate
    assert not any(a.startswith("--network_def") for a in runs[0].command(evaluate=False))


def test_bad_requests(data, tmp_path):
    with pytest.raises(ValueError, match=r"\['fold'\] are set per run"):
        cross_validate("mildnet_dsb2018_nuclei", data, "unet", 0, 1, tmp_path, fold=2)
    with pytest.raises(ValueError, match="unknown network 'vnet'"):
        cross_validate("mildnet_dsb2018_nuclei", data, "unet,vnet", 0, 1, tmp_path)
    with pytest.raises(ValueError, match="fold 7"):
        cross_validate("mildnet_dsb2018_nuclei", data, "unet", "0,7", 1, tmp_path)
    with pytest.raises(FileNotFoundError, match="mildnet_dsb2018_nuclei"):
        find_bundle("no_such_bundle")
    assert not any(tmp_path.iterdir())


def test_bundle_and_lists():
    assert find_bundle("mildnet_dsb2018_nuclei") == find_bundle(BUNDLE) == BUNDLE
    assert as_list("mildnet, unet") == ["mildnet", "unet"]
    assert as_list(("mildnet", "unet")) == ["mildnet", "unet"] and as_list(0) == [0]
