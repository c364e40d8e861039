"""The MONAI decathlon-style datalist: ``training`` items with ``fold``, ``testing`` items, paths relative; written
by ``prepare_data.py`` or given by the user."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from monai.data import load_decathlon_datalist

from custom_networks.data.base import Converted, Converter, Sample
from custom_networks.data.errors import DataPreparationError
from custom_networks.data.splits import TEST, assign_splits
from custom_networks.errors import BadValueError, MissingFileError

__all__ = ["DATALIST", "build_datalist", "datalist_file", "read_datalist", "write_json"]

DATALIST = "datalist.json"
#: Folds a user's datalist without ``fold`` keys is split into (fewer when it has fewer cases).
USER_FOLDS = 5


def build_datalist(
    converter: Converter,
    samples: Sequence[Sample],
    results: Sequence[Converted],
    folds: Sequence[int],
    root: Path,
    settings: Mapping[str, Any],
) -> dict[str, Any]:
    """The datalist of converted cases.

    Items are ``{"image", "label", "fold", **extra}`` (``fold`` only for training) with ``image``/``label``
    relative to ``root`` (the output folder), in case order. Top-level keys beside ``training``/``testing``
    describe the data (``labels``: value → class, ``modality``: channel → name) and the split ``settings``.
    """
    keys = {tuple(s.extra) for s in samples}
    if len(keys) != 1:
        raise DataPreparationError(f"cases carry different extra keys {sorted(keys)}; a batch needs the same keys")
    training, testing = [], []
    for sample, result, fold in zip(samples, results, folds, strict=True):
        item: dict[str, Any] = {
            "image": result.image.relative_to(root).as_posix(),
            "label": result.label.relative_to(root).as_posix(),
        }
        if fold == TEST:
            testing.append({**item, **sample.extra})
        else:
            training.append({**item, "fold": fold, **sample.extra})
    values = sorted({v for r in results for v in r.pixels} | set(converter.classes))
    return {
        "name": converter.name,
        "description": converter.description,
        "labels": {str(v): converter.classes.get(v, f"class_{v}") for v in values},
        "modality": {str(i): n for i, n in enumerate(converter.channel_names)},
        **settings,
        "numTraining": len(training),
        "numTest": len(testing),
        "training": training,
        "testing": testing,
    }


def write_json(data: Mapping[str, Any], path: Path) -> None:
    """Write ``data`` as indented UTF-8 JSON (deterministic: same data, same bytes)."""
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def datalist_file(dataset_dir: str | Path) -> Path:
    """The datalist of ``dataset_dir``: the path itself when it names a ``.json`` file (a user's own datalist), else
    ``dataset_dir/datalist.json`` (a prepared folder)."""
    path = Path(dataset_dir)
    return path if path.suffix.lower() == ".json" else path / DATALIST


def _items(path: Path, data: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    """The items of ``key`` with paths made absolute (MONAI's ``load_decathlon_datalist``); none when absent."""
    items = data.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, dict) and "image" in i for i in items if key != "test"):
        raise BadValueError(f"{path}: '{key}' must be a list of items with an 'image' key.")
    return load_decathlon_datalist(str(path), True, key, base_dir=str(path.parent)) if items else []


def _assign_folds(items: list[dict[str, Any]], first: int, path: Path) -> list[dict[str, Any]]:
    """``items`` with seeded folds ``first`` … ``USER_FOLDS - 1`` where none has a ``fold``; items sharing a
    ``patient`` (or ``group``) value land in one fold."""
    having = sum("fold" in item for item in items)
    if having == len(items):
        return items
    if having:
        raise BadValueError(f"{path}: {having} of {len(items)} training items have a 'fold'; give it to all or none.")
    groups = [str(item.get("patient", item.get("group", item["image"]))) for item in items]
    num_folds = min(USER_FOLDS - first, len(Counter(groups)))
    if num_folds < 1:
        return items
    folds = assign_splits(groups, seed=0, test_fraction=0.0, num_folds=num_folds)
    return [{**item, "fold": fold + first} for item, fold in zip(items, folds, strict=True)]


def read_datalist(path: Path) -> dict[str, list[dict[str, Any]]]:
    """The ``training`` items (each with its ``fold``) and ``testing`` items of a datalist file, paths absolute.

    Besides the datalists ``prepare_data.py`` writes, a user's own MONAI datalist is read as it is: training items
    without ``fold`` are spread over up to :data:`USER_FOLDS` seeded folds (whole patients), a ``validation`` list
    becomes fold 0 (its training items then fill folds 1 …), and decathlon's ``test`` list of image paths stands
    for ``testing``. Relative paths are relative to the file's folder.

    Raises:
        MissingFileError: no such file.
        BadValueError: not a JSON datalist, or ``fold`` on some training items only, or beside ``validation``.
    """
    if not path.is_file():
        raise MissingFileError(f"{path}: no such datalist.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadValueError(f"{path}: not a JSON datalist ({exc}).") from exc
    if not isinstance(data, dict):
        raise BadValueError(f"{path}: a datalist is a JSON object with 'training' (and 'testing') lists.")
    training, validation = _items(path, data, "training"), _items(path, data, "validation")
    if validation and any("fold" in item for item in training):
        raise BadValueError(f"{path}: its training items have folds and it has a 'validation' list; give one of them.")
    training = _assign_folds(training, 1 if validation else 0, path) + [{**item, "fold": 0} for item in validation]
    testing = _items(path, data, "testing") or _items(path, data, "test")
    return {"training": training, "testing": testing}
