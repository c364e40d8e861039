"""Reading a prepared ``datalist.json`` (or a plain folder of images) into the item lists bundles iterate over."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from monai.data import load_decathlon_datalist

from .datalist import DATALIST

__all__ = ["IMAGE_SUFFIXES", "datalist_split", "inference_items"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".nii", ".nii.gz", ".nrrd", ".mha", ".mhd")
SPLITS = ("training", "validation", "testing")


def _datalist_path(dataset_dir: str | Path) -> Path:
    path = Path(dataset_dir) / DATALIST
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: prepare the dataset first with "
            f"`python scripts/prepare_data.py <dataset> --src RAW_DIR --dst {dataset_dir}`."
        )
    return path


def datalist_split(dataset_dir: str | Path, split: str, fold: int = 0) -> list[dict[str, Any]]:
    """Items of one split of ``dataset_dir/datalist.json`` with absolute paths.

    Args:
        dataset_dir: folder written by ``scripts/prepare_data.py``.
        split: ``"training"`` (every fold but ``fold``), ``"validation"`` (fold ``fold``) or ``"testing"``.
        fold: the validation fold.

    Raises:
        FileNotFoundError: no datalist in ``dataset_dir``.
        ValueError: unknown split, or the split is empty.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}.")
    path = _datalist_path(dataset_dir)
    key = "testing" if split == "testing" else "training"
    items = load_decathlon_datalist(str(path), is_segmentation=True, data_list_key=key, base_dir=str(dataset_dir))
    if split == "training":
        items = [item for item in items if item.get("fold") != fold]
    elif split == "validation":
        items = [item for item in items if item.get("fold") == fold]
    if not items:
        folds = sorted({item.get("fold") for item in json.loads(path.read_text())["training"]})
        raise ValueError(f"the {split} split of {path} (fold {fold}) is empty; folds present: {folds}.")
    return items


def inference_items(input_path: str | Path) -> list[dict[str, str]]:
    """``[{"image": path}, ...]`` to run inference on.

    ``input_path`` is a prepared dataset folder (its ``testing`` split is used), a folder of images (every file with
    an image suffix, sorted) or a single image file.

    Raises:
        FileNotFoundError: ``input_path`` does not exist or holds no image.
    """
    path = Path(input_path)
    if (path / DATALIST).is_file():
        return [{"image": item["image"]} for item in datalist_split(path, "testing")]
    if path.is_file():
        return [{"image": str(path)}]
    if not path.is_dir():
        raise FileNotFoundError(f"inference input {path} does not exist.")
    images = sorted(p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(IMAGE_SUFFIXES))
    if not images:
        raise FileNotFoundError(f"no image ({', '.join(IMAGE_SUFFIXES)}) in {path}.")
    return [{"image": str(p)} for p in images]
