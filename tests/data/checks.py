"""Checks shared by the data-preparation tests: datalist contract, files on disk, CLI runs, folder snapshots."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from monai.transforms import LoadImage

from custom_networks.data import Summary, prepare

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "prepare_data.py"

__all__ = [
    "ROOT",
    "SCRIPT",
    "check_datalist",
    "check_grouping",
    "leftovers",
    "load",
    "prepare_quietly",
    "run_cli",
    "snapshot",
]

_LOADER = LoadImage(image_only=True, ensure_channel_first=True)


def prepare_quietly(dataset: str, src: Path, dst: Path, **kwargs: Any) -> Summary:
    """``prepare`` without progress bar or printed summary."""
    return prepare(dataset, src, dst, progress=False, verbose=False, **kwargs)


def load(path: Path) -> np.ndarray:
    """An image as MONAI loads it, channel first."""
    return np.asarray(_LOADER(str(path)))


def check_datalist(
    dst: Path,
    *,
    cases: int,
    channels: int,
    label_values: Iterable[int],
    num_folds: int = 5,
    test_fraction: float = 0.3,
    extra_keys: Iterable[str] = ("case",),
    grouped: bool = False,
) -> dict[str, Any]:
    """Check the decathlon contract of ``dst/datalist.json`` and every file it names; return the datalist.

    ``grouped``: cases are split by group, so the test count only approximates ``test_fraction``.
    """
    datalist = json.loads((dst / "datalist.json").read_text())
    training, testing = datalist["training"], datalist["testing"]
    assert len(training) + len(testing) == cases
    assert datalist["numTraining"] == len(training) and datalist["numTest"] == len(testing)
    if not grouped:
        assert len(testing) == int(np.floor(test_fraction * cases + 0.5))
    else:
        assert 0 < len(testing) < cases
    assert sorted({item["fold"] for item in training}) == list(range(num_folds))
    for item in training:
        assert set(item) == {"image", "label", "fold", *extra_keys}, item
    for item in testing:
        assert set(item) == {"image", "label", *extra_keys}, item
    images = [item["image"] for item in training + testing]
    assert len(set(images)) == len(images), "a case appears twice"
    allowed = set(label_values)
    for item in training + testing:
        for key in ("image", "label"):
            assert not Path(item[key]).is_absolute() and (dst / item[key]).is_file(), item[key]
        image, label = load(dst / item["image"]), load(dst / item["label"])
        assert image.shape[0] == channels, (item["image"], image.shape)
        assert label.shape[0] == 1 and label.shape[1:] == image.shape[1:], (item["label"], label.shape, image.shape)
        assert set(np.unique(label).astype(int).tolist()) <= allowed, (item["label"], np.unique(label))
    return datalist


def check_grouping(datalist: dict[str, Any], key: str) -> None:
    """No ``key`` (patient) in both training and testing, and each training ``key`` in exactly one fold."""
    folds: dict[str, set[int]] = defaultdict(set)
    for item in datalist["training"]:
        folds[item[key]].add(item["fold"])
    assert all(len(f) == 1 for f in folds.values()), {k: f for k, f in folds.items() if len(f) > 1}
    assert not set(folds) & {item[key] for item in datalist["testing"]}


def snapshot(folder: Path) -> dict[str, str]:
    """Relative path → SHA-256 of every file below ``folder`` (empty when it does not exist)."""
    if not folder.exists():
        return {}
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def leftovers(dst: Path) -> list[str]:
    """Temporary or backup folders left beside ``dst``."""
    return [p.name for p in dst.parent.iterdir() if p.name.startswith(f".{dst.name}.")]


def run_cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``scripts/prepare_data.py`` in a subprocess."""
    command = [sys.executable, str(SCRIPT), *map(str, args)]
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=300
    )
