"""The members of a model ensemble for MONAI's ``EnsembleEvaluator``: their checkpoint files (given one by one or as
the folders that hold them, e.g. the folds of a cross-validation), a copy of the bundle's network for each and the
handlers that load them."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from pathlib import Path

import torch
from monai.handlers import CheckpointLoader

from custom_networks.errors import BadValueError, MissingFileError

__all__ = ["MODEL_FILE", "ensemble_checkpoints", "ensemble_networks", "member_loaders"]

MODEL_FILE = "model.pt"  # a bundle's best model, in its models/
RUN_SETTINGS = "run.json"  # a cross-validation run's settings (custom_networks.experiments.runs)


def _models_in(folder: Path) -> list[Path]:
    """The model of ``folder`` itself (``model.pt``, or a bundle root's ``models/model.pt``), else every bundle
    root's below it (a cross-validation's ``runs/<network>``: its folds), sorted."""
    for own in (folder / MODEL_FILE, folder / "models" / MODEL_FILE):
        if own.is_file():
            return [own]
    found = sorted(folder.glob(f"**/models/{MODEL_FILE}"))
    networks = {_network_of(model.parent.parent) for model in found} - {None}
    if len(networks) > 1:
        raise BadValueError(
            f"{folder} holds the models of several networks ({', '.join(sorted(networks))}): give one network's "
            "folder, e.g. runs/<network>."
        )
    return found


def _network_of(run_root: Path) -> str | None:
    """The network a cross-validation run trained (its ``run.json``), None for another bundle root."""
    settings = run_root / RUN_SETTINGS
    return json.loads(settings.read_text(encoding="utf-8")).get("network") if settings.is_file() else None


def ensemble_checkpoints(models: str | Path | Sequence[str | Path], missing_ok: bool = False) -> list[str]:
    """The checkpoint files of an ensemble, in order.

    Args:
        models: checkpoint files and folders: a folder stands for its ``model.pt`` (or ``models/model.pt``), else for
            every ``models/model.pt`` below it, e.g. ``cross_validation/<bundle>/runs/<network>`` for the network's
            fold models. One path or a list.
        missing_ok: leave out what does not exist (the configs are parsed before they run) instead of raising.

    Raises:
        BadValueError: no models given.
        MissingFileError: a path that does not exist, or a folder without a model.
    """
    paths = [Path(models)] if isinstance(models, str | Path) else [Path(m) for m in models]
    if not paths and not missing_ok:
        raise BadValueError(
            "no models to ensemble: give their checkpoints or folders, e.g. --ensemble_models "
            "\"['cross_validation/<bundle>/runs/<network>']\" for the folds of a cross-validation."
        )
    files: list[Path] = []
    for path in paths:
        found = _models_in(path) if path.is_dir() else [path] if path.is_file() else []
        if not found and not missing_ok:
            what = "holds no model.pt (nor models/model.pt below it)" if path.is_dir() else "no such file or folder"
            raise MissingFileError(f"{path}: {what}; --ensemble_models lists trained models or folders of them.")
        files += found
    return [str(f) for f in dict.fromkeys(files)]


def ensemble_networks(network: torch.nn.Module, count: int) -> list[torch.nn.Module]:
    """``count`` independent copies of the bundle's ``network``, one per member, each to load its own weights."""
    return [copy.deepcopy(network) for _ in range(count)]


def member_loaders(
    checkpoints: Sequence[str], networks: Sequence[torch.nn.Module], map_location: torch.device | str | None = None
) -> list[CheckpointLoader]:
    """MONAI's ``CheckpointLoader`` of each member: ``checkpoints[i]`` into ``networks[i]`` when the evaluation
    starts."""
    if len(checkpoints) != len(networks):
        raise ValueError(f"{len(checkpoints)} checkpoints for {len(networks)} networks.")
    return [
        CheckpointLoader(load_path=path, load_dict={"model": network}, map_location=map_location)
        for path, network in zip(checkpoints, networks, strict=True)
    ]
