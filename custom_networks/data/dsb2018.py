"""Data Science Bowl 2018 (stage 1 train): RGBA nucleus images with one 0/255 mask per nucleus."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from custom_networks.data.base import BinaryMaskConverter, Sample
from custom_networks.data.errors import DataPreparationError
from custom_networks.data.files import list_dirs, list_files, locate
from custom_networks.data.labels import union_of_masks

__all__ = ["Dsb2018"]


def _is_case(folder: Path) -> bool:
    return (folder / "images").is_dir()


class Dsb2018(BinaryMaskConverter):
    """DSB-2018: ``<id>/images/<id>.png`` (RGBA → RGB PNG, alpha dropped) and ``<id>/masks/*.png`` (one 0/255 mask
    per nucleus → their union as one 0/1 mask). ``instances`` in the datalist is the number of nuclei.

    Args:
        threshold: binarise instance masks at this value instead of requiring exactly 0/255.
    """

    name = "dsb2018"
    description = "Data Science Bowl 2018 nucleus segmentation (RGB, binary nucleus masks)"
    layout = "stage1_train/<id>/images/<id>.png and stage1_train/<id>/masks/*.png"
    classes = {0: "background", 1: "nucleus"}
    channel_names = ("R", "G", "B")

    def find(self, src: Path) -> list[Sample]:
        root = locate(src, lambda d: any(_is_case(c) for c in list_dirs(d)))
        if root is None:
            return []
        return [self._case(folder) for folder in list_dirs(root)]

    def _case(self, folder: Path) -> Sample:
        if not _is_case(folder):
            raise DataPreparationError("case folder has no images/ sub-folder", folder)
        images = list_files(folder / "images", (".png",))
        if len(images) != 1:
            raise DataPreparationError(f"expected one image in images/, found {len(images)}", folder / "images")
        masks_dir = folder / "masks"
        masks = list_files(masks_dir, (".png",)) if masks_dir.is_dir() else []
        if not masks:
            raise DataPreparationError("image has no label (masks/*.png missing or empty)", images[0])
        return Sample(
            name=folder.name,
            image=images[0],
            label=masks_dir,
            group=folder.name,
            extra={"case": folder.name, "instances": len(masks)},
            parts=tuple(masks),
        )

    def read_label(self, sample: Sample, shape: tuple[int, int]) -> np.ndarray:
        return union_of_masks(sample.parts, shape, self.threshold)
