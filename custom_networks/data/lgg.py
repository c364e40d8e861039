"""LGG brain MRI (Buda et al. 2019, Kaggle "kaggle_3m"): 3-channel TIFF slices with 0/255 FLAIR-abnormality masks."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from custom_networks.data.base import BinaryMaskConverter, Sample, paired_samples
from custom_networks.data.errors import DataPreparationError
from custom_networks.data.files import list_dirs, locate

__all__ = ["Lgg"]

_MASK = "_mask"


def _is_patient(folder: Path) -> bool:
    return any(p.is_file() for p in folder.glob(f"*{_MASK}.tif"))


class Lgg(BinaryMaskConverter):
    """LGG: ``kaggle_3m/<patient>/<patient>_<n>.tif`` (256×256×3: pre-contrast, FLAIR, post-contrast → RGB PNG)
    + ``<patient>_<n>_mask.tif`` (0/255 → 0/1). Split by patient: all slices of a patient share a split and fold.

    Args:
        threshold: binarise masks at this value instead of requiring exactly 0/255.
    """

    name = "lgg"
    description = "LGG brain MRI FLAIR-abnormality segmentation (3 MR channels, binary masks), split by patient"
    layout = "kaggle_3m/<patient>/<patient>_<n>.tif and <patient>_<n>_mask.tif"
    classes = {0: "background", 1: "abnormality"}
    channel_names = ("pre-contrast", "FLAIR", "post-contrast")

    def find(self, src: Path) -> list[Sample]:
        root = locate(src, lambda d: any(_is_patient(c) for c in list_dirs(d)))
        if root is None:
            return []
        samples = []
        for patient in list_dirs(root):
            cases = paired_samples(
                patient,
                patient,
                label_suffix=_MASK,
                image_suffixes=(".tif", ".tiff"),
                label_suffixes=(".tif", ".tiff"),
                group=patient.name,
                extra={"patient": patient.name},
            )
            if not cases:
                raise DataPreparationError("patient folder holds no <patient>_<n>.tif slices", patient)
            samples += [dataclasses.replace(c, extra={**c.extra, "slice": _slice(c.name)}) for c in cases]
        return samples


def _slice(name: str) -> int:
    number = name.rsplit("_", 1)[-1]
    return int(number) if number.isdigit() else -1
