"""The MONAI decathlon-style datalist: ``training`` items with ``fold``, ``testing`` items, paths relative."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from custom_networks.data.base import Converted, Converter, Sample
from custom_networks.data.errors import DataPreparationError
from custom_networks.data.splits import TEST

__all__ = ["DATALIST", "build_datalist", "write_json"]

DATALIST = "datalist.json"


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
