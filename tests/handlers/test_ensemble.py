"""The members of an ensemble: their checkpoints found from files and folders, and each loaded into its own network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from ignite.engine import Engine

from custom_networks.errors import BadValueError, MissingFileError
from custom_networks.handlers import ensemble_checkpoints, ensemble_networks, member_loaders


def _save_model(path: Path, value: float = 0.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(torch.nn.Linear(2, 1).state_dict() | {"bias": torch.tensor([value])}, path)
    return path


def _run(root: Path, network: str) -> Path:
    """A cross-validation run folder of ``network`` with its trained model."""
    root.mkdir(parents=True)
    (root / "run.json").write_text(json.dumps({"network": network}))
    return _save_model(root / "models" / "model.pt")


def test_files_and_folders(tmp_path):
    folds = [_run(tmp_path / "cv/runs/mildnet" / f"fold{k}", "mildnet") for k in (2, 0, 1)]
    _save_model(tmp_path / "cv/runs/mildnet/fold0/models/previous_20261206/model.pt")  # set aside: not a member
    single = _save_model(tmp_path / "other/model.pt")
    bundle_root = _save_model(tmp_path / "bundle/models/model.pt").parent.parent
    assert ensemble_checkpoints(str(tmp_path / "cv/runs/mildnet")) == [str(f) for f in sorted(folds)]
    assert ensemble_checkpoints([single, bundle_root, folds[0]]) == [
        str(single),
        str(bundle_root / "models/model.pt"),
        str(folds[0]),
    ]
    assert ensemble_checkpoints([folds[0], folds[0].parent.parent]) == [str(folds[0])]  # each model once


def test_mistakes_are_named(tmp_path):
    _run(tmp_path / "cv/runs/mildnet/fold0", "mildnet")
    _run(tmp_path / "cv/runs/unet/fold0", "unet")
    with pytest.raises(BadValueError, match="mildnet, unet"):
        ensemble_checkpoints(tmp_path / "cv")
    with pytest.raises(BadValueError, match="no models"):
        ensemble_checkpoints([])
    with pytest.raises(MissingFileError, match="no such file"):
        ensemble_checkpoints([tmp_path / "cv/runs/mildnet", tmp_path / "missing.pt"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(MissingFileError, match="holds no model.pt"):
        ensemble_checkpoints(tmp_path / "empty")
    # while the configs are parsed (before they run) nothing raises
    assert ensemble_checkpoints([tmp_path / "missing.pt", tmp_path / "empty"], missing_ok=True) == []
    assert ensemble_checkpoints([], missing_ok=True) == []


def test_each_member_loads_its_own_weights(tmp_path):
    paths = [str(_save_model(tmp_path / f"m{k}.pt", value=float(k))) for k in range(3)]
    network = torch.nn.Linear(2, 1)
    members = ensemble_networks(network, len(paths))
    assert len({id(m) for m in members} | {id(network)}) == 4
    engine = Engine(lambda engine, batch: None)
    for loader in member_loaders(paths, members, "cpu"):
        loader(engine)
    assert [m.bias.item() for m in members] == [0.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="2 checkpoints for 3 networks"):
        member_loaders(paths[:2], members)
