"""Class weights of the loss from the whole training split, as the MS U-Net paper weights its cross-entropy ("an
inverse of their ratio"), instead of from each batch."""

from __future__ import annotations

from pathlib import Path

import torch
from monai.transforms import LoadImage

from custom_networks.data.loading import datalist_split
from custom_networks.errors import BadValueError
from custom_networks.losses.bootstrapped_ce import inverse_count_weights

__all__ = ["CLASS_WEIGHTS", "class_weights"]

#: ``batch``: the loss weighs each batch by its own class ratio; ``dataset``: by the training split's.
CLASS_WEIGHTS = ("batch", "dataset")


def class_weights(source: str, dataset_dir: str | Path, fold: int, num_classes: int) -> list[float] | None:
    """The loss's ``class_weight``: None for ``source="batch"`` (the loss computes them per batch), else the inverse
    pixel ratio of the classes over the labels of the training split (every fold but ``fold``), read once.

    Raises:
        BadValueError: an unknown ``source``.
    """
    if source not in CLASS_WEIGHTS:
        raise BadValueError(f"class_weights must be one of {CLASS_WEIGHTS}, got {source!r}.")
    if source == "batch":
        return None
    load = LoadImage(image_only=True)
    counts = torch.zeros(num_classes, dtype=torch.float64)
    for item in datalist_split(dataset_dir, "training", fold):
        label = torch.as_tensor(load(item["label"])).flatten().long()
        counts += torch.bincount(label, minlength=num_classes)[:num_classes]
    return inverse_count_weights(counts).tolist()
